// State readers for the host: fixed-size records written into one growable
// output buffer (the host reads them through views; src/engine/abi.ts has the
// layouts). Every reader returns the buffer's address, with the record count
// as a u32 at +0 and the records from +16; 0 when memory ran out.

import { File, file_by_id, file_max_id } from "./fs/file";
import { pagecache_first } from "./fs/pagecache";
import { raw_alloc } from "./lib/alloc";
import { record_is_live, record_is_retired } from "./lib/pool";
import { Page, PG_ANON } from "./mm/page";
import { PgTable, PTE_PRESENT, PTE_SPECIAL, PTE_WRITE, child, entry_ptr, pte_page } from "./mm/pgtable";
import { mm_list } from "./mm/mm";
import { vma_usage } from "./mm/memory";
import { Mm } from "./mm/types";
import { AnonVma, Avc, anon_vmas_leaked, interval_tree_first, interval_tree_next } from "./rmap/anon_vma";
import { rmap_walk_anon_count } from "./rmap/rmap";
import { vma_first, vma_next } from "./mm/vma_tree";

let buf: usize = 0;
let cap: usize = 0;
let count: u32 = 0;
let at: usize = 0;

/** Start a snapshot of at most `records` records of `size` bytes. False: out of memory. */
function begin(records: usize, size: usize): bool {
  const need: usize = 16 + records * size;
  if (need > cap) {
    let c = cap == 0 ? <usize>65536 : cap;
    while (c < need) c <<= 1;
    const b = raw_alloc(c);
    if (b == 0) return false;
    buf = b;
    cap = c;
  }
  count = 0;
  at = buf + 16;
  return true;
}

function finish(): usize {
  store<u32>(buf, count);
  return buf;
}

// @ts-ignore: decorator
@inline function anon_vma_id(p: usize): u32 {
  // a page may point to a freed anon_vma: its id if the record was retired (never reused), else 0xffffffff
  return record_is_live(p) || record_is_retired(p) ? changetype<AnonVma>(p).id : 0xffffffff;
}

// ---- VMAs ------------------------------------------------------------------------

/**
 * VMAs, 64 bytes each: +0 vm_start f64, +8 vm_end f64, +16 vm_pgoff f64,
 * +24 flags lo u32, +28 flags hi u32, +32 file id, +36 anon_vma id,
 * +40 anon_vma root id, +44 anon name, +48 special, +52 vm_ops.
 */
export function snapshot_vmas(mm: Mm): usize {
  if (!begin(mm.map_count, 64)) return 0;
  let v = vma_first(mm);
  while (v) {
    store<f64>(at, <f64>v.vm_start, 0);
    store<f64>(at, <f64>v.vm_end, 8);
    store<f64>(at, <f64>v.vm_pgoff, 16);
    store<u32>(at, <u32>v.vm_flags, 24);
    store<u32>(at, <u32>(v.vm_flags >> 32), 28);
    store<u32>(at, v.vm_file ? v.vm_file!.id : 0, 32);
    const av = changetype<AnonVma | null>(v.anon_vma);
    store<u32>(at, av ? av.id : 0, 36);
    store<u32>(at, av ? av.root!.id : 0, 40);
    store<u32>(at, v.anon_name, 44);
    store<u32>(at, <u32>v.special, 48);
    store<u32>(at, v.vm_ops, 52);
    at += 64;
    count++;
    v = vma_next(v);
  }
  return finish();
}

/**
 * Where each VMA's anon_vma and its root live, 8 bytes each (u32 record
 * addresses, 0 = none), in VMA order. The pool hands out the most recently
 * freed record first, as SLUB's per-CPU freelist does with anon_vma objects
 * (mm/slub.c), so a new anon_vma may take a freed one's address: the kernel
 * runner's BPF reader numbers anon_vmas by address, and so does the
 * scenario runner with these.
 */
export function snapshot_anon_vma_addrs(mm: Mm): usize {
  if (!begin(mm.map_count, 8)) return 0;
  let v = vma_first(mm);
  while (v) {
    const av = changetype<AnonVma | null>(v.anon_vma);
    store<u32>(at, av ? <u32>changetype<usize>(av) : 0, 0);
    store<u32>(at, av ? <u32>changetype<usize>(av.root) : 0, 4);
    at += 8;
    count++;
    v = vma_next(v);
  }
  return finish();
}

/** Per-VMA usage, 24 bytes each: rss, anon, locked (f64, pages), in VMA order. */
export function snapshot_usage(mm: Mm): usize {
  if (!begin(mm.map_count, 24)) return 0;
  let v = vma_first(mm);
  while (v) {
    vma_usage(v, at);
    at += 24;
    count++;
    v = vma_next(v);
  }
  return finish();
}

/** anon_vma chains, 16 bytes per entry: +0 vm_start f64, +8 anon_vma id u32; VMA order, newest first. */
export function snapshot_chains(mm: Mm): usize {
  let n: usize = 0;
  let v = vma_first(mm);
  while (v) {
    let a = changetype<Avc | null>(v.anon_vma_chain);
    while (a) { n++; a = a.same_vma_next; }
    v = vma_next(v);
  }
  if (!begin(n, 16)) return 0;
  v = vma_first(mm);
  while (v) {
    let a = changetype<Avc | null>(v.anon_vma_chain);
    while (a) {
      store<f64>(at, <f64>v.vm_start, 0);
      store<u32>(at, a.anon_vma!.id, 8);
      at += 16;
      count++;
      a = a.same_vma_next;
    }
    v = vma_next(v);
  }
  return finish();
}

// ---- page tables -------------------------------------------------------------------

function count_tables(t: PgTable): usize {
  let n: usize = 0;
  if (t.level == 1) return 0;
  for (let i: u32 = 0; i < 512; i++) {
    const c = child(t, i);
    if (c) n += 1 + count_tables(c);
  }
  return n;
}

function walk_tables(t: PgTable): void {
  if (t.level == 1) return;
  for (let i: u32 = 0; i < 512; i++) {
    const c = child(t, i);
    if (!c) continue;
    store<f64>(at, <f64>c.addr, 0);
    store<u32>(at, c.level, 8);
    at += 16;
    count++;
    walk_tables(c);
  }
}

/** Page-table pages below the PGD, 16 bytes each: +0 first address f64, +8 level u32. */
export function snapshot_pgtables(mm: Mm): usize {
  const pgd = changetype<PgTable>(mm.pgd);
  if (!begin(count_tables(pgd), 16)) return 0;
  walk_tables(pgd);
  return finish();
}

function count_ptes(t: PgTable): usize {
  let n: usize = 0;
  for (let i: u32 = 0; i < 512; i++) {
    if (t.level == 1) {
      if (load<u64>(entry_ptr(t, i)) & PTE_PRESENT) n++;
    } else {
      const c = child(t, i);
      if (c) n += count_ptes(c);
    }
  }
  return n;
}

function walk_ptes(t: PgTable): void {
  for (let i: u32 = 0; i < 512; i++) {
    if (t.level == 1) {
      const pte = load<u64>(entry_ptr(t, i));
      if (!(pte & PTE_PRESENT)) continue;
      store<f64>(at, <f64>(t.addr + (<u64>i << 12)), 0);
      store<u32>(at, (pte & PTE_SPECIAL) ? 0 : changetype<Page>(pte_page(pte)).id, 8);
      store<u32>(at, (pte & PTE_WRITE) ? 1 : 0, 12);
      at += 16;
      count++;
    } else {
      const c = child(t, i);
      if (c) walk_ptes(c);
    }
  }
}

/** Present PTEs by address, 16 bytes each: +0 address f64, +8 page id u32 (0: zero page), +12 writable u32. */
export function snapshot_ptes(mm: Mm): usize {
  const pgd = changetype<PgTable>(mm.pgd);
  if (!begin(count_ptes(pgd), 16)) return 0;
  walk_ptes(pgd);
  return finish();
}

// ---- kernel-wide: pages and anon_vmas --------------------------------------------------

function write_page(p: Page): void {
  store<u32>(at, p.id, 0);
  store<u32>(at, p.flags, 4);
  store<u32>(at, (p.flags & PG_ANON) ? anon_vma_id(p.mapping) : changetype<File>(p.mapping).id, 8);
  store<i32>(at, p.mapcount, 12);
  store<i32>(at, p.refcount, 16);
  store<u32>(at, p.content, 20);
  store<f64>(at, <f64>p.index, 24);
  at += 32;
  count++;
}

function pages_in(t: PgTable, emit: bool): usize {
  let n: usize = 0;
  for (let i: u32 = 0; i < 512; i++) {
    if (t.level == 1) {
      const pte = load<u64>(entry_ptr(t, i));
      if ((pte & PTE_PRESENT) && !(pte & PTE_SPECIAL)) {
        n++;
        if (emit) write_page(changetype<Page>(pte_page(pte)));
      }
    } else {
      const c = child(t, i);
      if (c) n += pages_in(c, emit);
    }
  }
  return n;
}

/**
 * Every live page, reached through the page tables of every mm and the page
 * caches (a page is listed once per place it is found; the host dedupes by
 * id). 32 bytes each: +0 id u32, +4 flags u32 (1 anon, 2 in a page cache),
 * +8 mapping id u32 (anon_vma id, 0xffffffff for a freed one; or file id),
 * +12 mapcount i32, +16 refcount i32, +20 content u32, +24 index f64.
 */
export function snapshot_pages(): usize {
  let n: usize = 0;
  let mm = mm_list;
  while (mm) {
    n += pages_in(changetype<PgTable>(mm.pgd), false);
    mm = mm.mm_next;
  }
  const maxf = file_max_id();
  for (let id: u32 = 1; id <= maxf; id++) {
    const f = file_by_id(id);
    if (!f) continue;
    let e = pagecache_first(f);
    while (e) { n++; e = e.file_next; }
  }
  if (!begin(n, 32)) return 0;
  mm = mm_list;
  while (mm) {
    pages_in(changetype<PgTable>(mm.pgd), true);
    mm = mm.mm_next;
  }
  for (let id: u32 = 1; id <= maxf; id++) {
    const f = file_by_id(id);
    if (!f) continue;
    let e = pagecache_first(f);
    while (e) { write_page(e.page!); e = e.file_next; }
  }
  return finish();
}

function emit_anon_vma(av: AnonVma, emit: bool): usize {
  let n: usize = 1;
  if (emit) {
    store<u32>(at, av.id, 0);
    store<u32>(at, av.root!.id, 4);
    store<u32>(at, av.parent!.id, 8);
    store<i32>(at, av.refcount, 12);
    store<i32>(at, av.degree, 16);
    store<u32>(at, 0, 20); // 0: an anon_vma record (1: one of its AVCs)
    at += 48;
    count++;
  }
  let a = interval_tree_first(av);
  while (a) {
    n++;
    if (emit) {
      const v = a.vma!;
      store<u32>(at, av.id, 0);
      store<u32>(at, v.vm_mm!.id, 4);
      store<u32>(at, 0, 8);
      store<u32>(at, 1, 20);
      store<f64>(at, <f64>v.vm_start, 24);
      store<f64>(at, <f64>v.vm_end, 32);
      store<f64>(at, <f64>a.start, 40);
      at += 48;
      count++;
    }
    a = interval_tree_next(a);
  }
  return n;
}

/**
 * Every live anon_vma, reached through the VMAs' chains and their roots and
 * parents (a live anon_vma is in use by some chain or pinned as a root);
 * listed once per place it is found (the host dedupes by id), each followed
 * by its AVCs in tree order. 48 bytes each:
 *   anon_vma: +0 id, +4 root id, +8 parent id, +12 refcount i32, +16 degree i32, +20 kind 0
 *   AVC:      +0 anon_vma id, +4 mm id, +20 kind 1, +24 vm_start f64, +32 vm_end f64, +40 key (pgoff) f64
 */
export function snapshot_anon_vmas(): usize {
  for (let pass = 0; pass < 2; pass++) {
    const emit = pass == 1;
    let n: usize = 0;
    let mm = mm_list;
    while (mm) {
      let v = vma_first(mm);
      while (v) {
        let a = changetype<Avc | null>(v.anon_vma_chain);
        while (a) {
          let av: AnonVma | null = a.anon_vma;
          // the anon_vma, then its ancestors (a root may have an empty tree)
          while (av) {
            n += emit_anon_vma(av, emit);
            av = av.parent == av ? null : av.parent;
          }
          a = a.same_vma_next;
        }
        v = vma_next(v);
      }
      mm = mm.mm_next;
    }
    // seed-v2's leaked anon_vmas may be linked to no VMA (the host drops duplicates)
    let l = anon_vmas_leaked();
    while (l) {
      n += emit_anon_vma(l, emit);
      if (l.root != l) n += emit_anon_vma(l.root!, emit);
      l = l.leaked_next;
    }
    if (!emit && !begin(n, 48)) return 0;
  }
  return finish();
}


// ---- the rmap check ----------------------------------------------------------------

let rmap_bad: u32 = 0;

function rmap_check_table(t: PgTable): void {
  for (let i: u32 = 0; i < 512; i++) {
    if (t.level == 1) {
      const pte = load<u64>(entry_ptr(t, i));
      if (!(pte & PTE_PRESENT) || (pte & PTE_SPECIAL)) continue;
      const p = changetype<Page>(pte_page(pte));
      // the walk must find every mapping of an anonymous page (only live anon_vmas can be walked)
      if ((p.flags & PG_ANON) && (!record_is_live(p.mapping) || rmap_walk_anon_count(p) != <u32>p.mapcount)) rmap_bad++;
    } else {
      const c = child(t, i);
      if (c) rmap_check_table(c);
    }
  }
}

/**
 * For every mapped anonymous page of every mm: rmap_walk_anon finds exactly
 * page_mapcount() mappings. Returns the number of PTEs whose page fails
 * (each mapping of a failing page counts): 0 when the rmap is complete.
 */
export function rmap_check(): u32 {
  rmap_bad = 0;
  let mm = mm_list;
  while (mm) {
    rmap_check_table(changetype<PgTable>(mm.pgd));
    mm = mm.mm_next;
  }
  return rmap_bad;
}
