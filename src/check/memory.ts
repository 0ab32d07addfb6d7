// Invariants of the memory layer, checked on state snapshots of a whole
// kernel (KernelSim.processes / memory, ProcessSim.vmas / memory / usage), so
// that they apply to any implementation. Each violation is one
// human-readable line; [] means OK. Address spaces shared by several tasks
// (threads) are checked once, and every task on an mm must report the same
// snapshot of it.
//
// Checked (kernel-facts §1.4-1.5, §5, §6; docs/architecture.md §3.5):
// 1. rmap: for every present PTE mapping an anonymous page P at address A in
//    VMA V of mm M, P's anon_vma has an AVC for (M, V) — with V's range and
//    pgoff — and V.pgoff + (A - V.start) / 4096 == P.index, i.e. an rmap walk
//    from P finds (M, A); for a page-cache page, the same index rule and
//    P.mapping == V's file. Every PTE lies in a VMA; the zero page only in
//    private anonymous memory and never writable; a writable PTE needs
//    VM_WRITE, and maps either an anonymous page mapped nowhere else or a
//    page-cache page of a shared mapping (COW isolation).
// 2. Every live page's mapcount equals the PTEs mapping it across all mms; its
//    refcount equals its mapcount, plus 1 for a page-cache page (the cache's
//    reference); a live page has a reference.
// 3. No page points to an anon_vma that is not live, and no anon_vma lives
//    unlinked from every VMA (a leak), where the snapshot counts them.
// 4. anon_vma counters recomputed from the snapshot (v5.17):
//      refcount(X) = [X's tree is non-empty]
//                  + (X is a root ? live anon_vmas Y != X with Y.root == X : 0)
//    (1 from anon_vma_alloc(), dropped by unlink_anon_vmas() when the tree
//    empties; a pin on the root per anon_vma anon_vma_fork() created);
//      degree(X)   = VMAs whose own anon_vma is X
//                  + live anon_vmas Y != X with Y.parent == X and a non-empty tree
//                  + [X.parent == X and X's tree is non-empty]
//    (traced through anon_vma_alloc() = 1 — the self-parent link of a root, or
//    the child VMA of an anon_vma_fork() child —, __anon_vma_prepare() and
//    anon_vma_clone() +1 for the VMA taking it, anon_vma_fork() +1 on the
//    parent, unlink_anon_vmas() -1 on the parent of each emptied tree and -1
//    on the VMA's own anon_vma). Roots: root == itself iff parent == itself.
// 5. anon_vma chains: a VMA has an anon_vma iff its chain is non-empty; its
//    anon_vma is in its chain; every anon_vma in the chain is live, once, and
//    has an AVC for the VMA with its current range and pgoff; the oldest
//    entry's root is the root of the VMA's anon_vma; VmaSnapshot's anonVma /
//    anonVmaRoot agree. Conversely every AVC belongs to a VMA of a live mm with
//    exactly that range and pgoff, whose chain lists the anon_vma.
// 6. Page tables: each listed once, aligned to its span, under listed tables;
//    every present PTE's PTE, PMD and PUD tables are listed;
//    pgtablesAccounted == the number of tables.
// 7. RSS counters equal the present PTEs mapping anonymous / page-cache pages.
// 8. usage(): rss / anon per VMA recomputed from the PTEs; locked by the
//    smaps PSS rule for VM_LOCKED VMAs, 0 otherwise.

import { PAGE_SIZE, VM_LOCKED, VM_SHARED, VM_WRITE } from "../abi/constants.js";
import type {
  AnonVmaSnapshot, KernelMemorySnapshot, KernelSim, MemorySnapshot, PageSnapshot, VmaSnapshot, VmaUsage,
} from "../types.js";

const PMD_SPAN = 2 ** 21;
const PUD_SPAN = 2 ** 30;
const PGD_SPAN = 2 ** 39;
/** span of the table at each level (1 PTE table, 2 PMD table, 3 PUD table) */
const SPAN: Record<number, number> = { 1: PMD_SPAN, 2: PUD_SPAN, 3: PGD_SPAN };
const LEVEL_NAME: Record<number, string> = { 1: "PTE", 2: "PMD", 3: "PUD" };

function hex(n: number): string {
  return "0x" + n.toString(16);
}

const down = (a: number, span: number): number => a - (a % span);

/** The snapshots of one address space. */
export interface MmView {
  mm: number;
  /** pids of the live tasks using it */
  pids: number[];
  vmas: VmaSnapshot[];
  memory: MemorySnapshot;
  usage: VmaUsage[];
}

/** One place an anonymous page may be mapped, as rmap_walk_anon() finds it. */
export interface RmapHit {
  mm: number;
  /** the VMA range of the AVC */
  start: number;
  end: number;
  /** vma_address(page, vma) */
  addr: number;
}

/**
 * rmap_walk_anon() on snapshots: the (mm, address) pairs where an anonymous
 * page may be mapped — one per AVC of its anon_vma whose pgoff interval holds
 * page.index. [] if the anon_vma is not live.
 */
export function rmapWalkAnon(page: PageSnapshot, anonVmas: Map<number, AnonVmaSnapshot>): RmapHit[] {
  const av = anonVmas.get(page.mapping);
  if (!page.anon || !av) return [];
  const out: RmapHit[] = [];
  for (const avc of av.avcs) {
    const pages = (avc.end - avc.start) / PAGE_SIZE;
    if (page.index < avc.pgoff || page.index >= avc.pgoff + pages) continue;
    out.push({ mm: avc.mm, start: avc.start, end: avc.end, addr: avc.start + (page.index - avc.pgoff) * PAGE_SIZE });
  }
  return out;
}

/** The VMA containing addr (vmas sorted), or undefined. */
function vmaAt(vmas: VmaSnapshot[], addr: number): VmaSnapshot | undefined {
  let lo = 0;
  let hi = vmas.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = vmas[mid];
    if (addr < v.start) hi = mid - 1;
    else if (addr >= v.end) lo = mid + 1;
    else return v;
  }
  return undefined;
}

/** Gather one view per live mm (the first task's snapshots), reporting tasks that disagree about a shared mm. */
export function mmViews(k: KernelSim, out: string[]): MmView[] {
  const views = new Map<number, MmView>();
  for (const p of k.processes()) {
    const memory = p.memory();
    const seen = views.get(memory.mm);
    if (seen) {
      seen.pids.push(p.pid);
      if (JSON.stringify(memory) !== JSON.stringify(seen.memory) || JSON.stringify(p.vmas()) !== JSON.stringify(seen.vmas)) {
        out.push(`pid ${p.pid}: its snapshot of mm ${memory.mm} differs from pid ${seen.pids[0]}'s`);
      }
      continue;
    }
    views.set(memory.mm, { mm: memory.mm, pids: [p.pid], vmas: p.vmas(), memory, usage: p.usage() });
  }
  return [...views.values()];
}

/** smaps "Locked" of one VMA from its pages (see smaps.ts in the model), in pages. */
function lockedPages(pages: PageSnapshot[]): number {
  const full = PAGE_SIZE * 4096;
  let pss = 0;
  for (const pg of pages) pss += pg.refcount === 1 || pg.mapcount < 2 ? full : Math.floor(full / pg.mapcount);
  return Math.floor(Math.floor(Math.floor(pss / 4096) / 1024) / 4);
}

export function checkKernel(k: KernelSim): string[] {
  const out: string[] = [];
  const views = mmViews(k, out);
  const km: KernelMemorySnapshot = k.memory();
  const allAnonVmas = k.anonVmasLive?.();
  if (allAnonVmas !== undefined && allAnonVmas > km.anonVmas.length) {
    out.push(`${allAnonVmas - km.anonVmas.length} anon_vma(s) live but linked to no VMA: leaked`);
  }

  const pages = new Map<number, PageSnapshot>();
  for (const pg of km.pages) {
    if (pages.has(pg.id)) out.push(`page ${pg.id} is listed twice`);
    if (!(pg.id > 0)) out.push(`page ${pg.id}: a live page has an id > 0 (0 is the zero page)`);
    pages.set(pg.id, pg);
  }
  const anonVmas = new Map<number, AnonVmaSnapshot>();
  for (const av of km.anonVmas) {
    if (anonVmas.has(av.id)) out.push(`anon_vma ${av.id} is listed twice`);
    anonVmas.set(av.id, av);
  }

  const mapped = new Map<number, number>(); // page id -> PTEs mapping it
  const liveMms = new Set(views.map((v) => v.mm));

  for (const view of views) checkMm(view, pages, anonVmas, mapped, out);

  // 2, 3: pages
  for (const pg of km.pages) {
    const n = mapped.get(pg.id) ?? 0;
    const name = `page ${pg.id}${pg.anon ? " (anon)" : ` (file ${pg.mapping})`}`;
    if (pg.mapcount !== n) out.push(`${name}: mapcount ${pg.mapcount} but ${n} PTEs map it`);
    const want = pg.mapcount + (pg.anon ? 0 : 1);
    if (pg.refcount !== want) out.push(`${name}: refcount ${pg.refcount}, expected ${want} (mapcount${pg.anon ? "" : " + the page cache"})`);
    if (pg.refcount < 1) out.push(`${name}: live with no reference`);
    if (pg.anon && !anonVmas.has(pg.mapping)) {
      // the engine gives a freed anon_vma the id 0xffffffff (a dangling page->mapping)
      out.push(`${name}: mapping points to ${pg.mapping === 0xffffffff ? "a freed anon_vma" : `anon_vma ${pg.mapping}, which is not live`}`);
    }
    if (!Number.isInteger(pg.content) || pg.content < 0 || pg.content > 255) out.push(`${name}: content ${pg.content} is not a byte`);
  }

  // 4, 5 (AVC side): anon_vmas
  const ownUsers = new Map<number, number>(); // anon_vma id -> VMAs using it as their own
  for (const view of views) {
    for (const c of view.memory.chains) if (c.anonVma) ownUsers.set(c.anonVma, (ownUsers.get(c.anonVma) ?? 0) + 1);
  }
  const pinsOnRoot = new Map<number, number>(); // root id -> live descendants
  const activeChildren = new Map<number, number>(); // parent id -> live children with a non-empty tree
  for (const y of km.anonVmas) {
    if (y.root !== y.id) pinsOnRoot.set(y.root, (pinsOnRoot.get(y.root) ?? 0) + 1);
    if (y.parent !== y.id && y.avcs.length > 0) activeChildren.set(y.parent, (activeChildren.get(y.parent) ?? 0) + 1);
  }
  for (const av of km.anonVmas) {
    const name = `anon_vma ${av.id}`;
    const root = anonVmas.get(av.root);
    const parent = anonVmas.get(av.parent);
    if (!root) out.push(`${name}: root ${av.root} is not live`);
    if (!parent) out.push(`${name}: parent ${av.parent} is not live`);
    if ((av.root === av.id) !== (av.parent === av.id)) out.push(`${name}: root ${av.root} and parent ${av.parent} disagree on whether it is a root`);
    if (root && root.root !== root.id) out.push(`${name}: its root ${root.id} is not a root`);
    if (parent && root && parent.root !== av.root) out.push(`${name}: its parent ${parent.id} has root ${parent.root}, not ${av.root}`);

    const nonEmpty = av.avcs.length > 0;
    let wantRef = nonEmpty ? 1 : 0;
    if (av.root === av.id) wantRef += pinsOnRoot.get(av.id) ?? 0;
    if (av.refcount !== wantRef) out.push(`${name}: refcount ${av.refcount}, expected ${wantRef}`);

    let wantDegree = ownUsers.get(av.id) ?? 0;
    wantDegree += activeChildren.get(av.id) ?? 0;
    if (av.parent === av.id && nonEmpty) wantDegree += 1;
    if (av.degree !== wantDegree) out.push(`${name}: degree ${av.degree}, expected ${wantDegree}`);

    const seen = new Set<string>();
    for (const avc of av.avcs) {
      const where = `${name}: AVC (mm ${avc.mm}, [${hex(avc.start)}, ${hex(avc.end)}) pgoff ${avc.pgoff})`;
      const key = `${avc.mm}:${avc.start}`;
      if (seen.has(key)) out.push(`${where} is in the tree twice`);
      seen.add(key);
      if (!liveMms.has(avc.mm)) {
        out.push(`${where} belongs to no live mm`);
        continue;
      }
      const view = views.find((v) => v.mm === avc.mm)!;
      const i = view.memory.chains.findIndex((c) => c.start === avc.start);
      const vma = view.vmas.find((v) => v.start === avc.start);
      if (i < 0 || !vma) {
        out.push(`${where} belongs to no VMA`);
        continue;
      }
      if (vma.end !== avc.end || vma.pgoff !== avc.pgoff) out.push(`${where} is stale: the VMA is [${hex(vma.start)}, ${hex(vma.end)}) pgoff ${vma.pgoff}`);
      if (!view.memory.chains[i].chain.includes(av.id)) out.push(`${where}: the VMA's chain does not list anon_vma ${av.id}`);
    }
  }
  return out;
}

/** Checks 1 (PTE side), 5 (chain side), 6, 7, 8 on one mm; counts PTEs per page into `mapped`. */
function checkMm(
  view: MmView, pages: Map<number, PageSnapshot>, anonVmas: Map<number, AnonVmaSnapshot>,
  mapped: Map<number, number>, out: string[],
): void {
  const m = view.memory;
  const mmName = `mm ${m.mm}`;
  const vmas = view.vmas;

  // 5: chains
  if (m.chains.length !== vmas.length) out.push(`${mmName}: ${m.chains.length} chains for ${vmas.length} VMAs`);
  for (let i = 0; i < Math.min(m.chains.length, vmas.length); i++) {
    const c = m.chains[i];
    const v = vmas[i];
    const name = `${mmName} VMA [${hex(v.start)}, ${hex(v.end)})`;
    if (c.start !== v.start || c.end !== v.end) {
      out.push(`${mmName}: chain #${i} is for [${hex(c.start)}, ${hex(c.end)}), not the VMA [${hex(v.start)}, ${hex(v.end)})`);
      continue;
    }
    if (c.anonVma !== v.anonVma) out.push(`${name}: vmas() says anon_vma ${v.anonVma}, memory() says ${c.anonVma}`);
    if ((c.anonVma !== 0) !== (c.chain.length > 0)) out.push(`${name}: anon_vma ${c.anonVma} with a chain of ${c.chain.length}`);
    if (c.anonVma && !c.chain.includes(c.anonVma)) out.push(`${name}: its anon_vma ${c.anonVma} is not in its chain [${c.chain.join(", ")}]`);
    if (new Set(c.chain).size !== c.chain.length) out.push(`${name}: chain [${c.chain.join(", ")}] lists an anon_vma twice`);
    const own = anonVmas.get(c.anonVma);
    if (c.anonVma && !own) out.push(`${name}: its anon_vma ${c.anonVma} is not live`);
    if (own && v.anonVmaRoot !== own.root) out.push(`${name}: anonVmaRoot ${v.anonVmaRoot}, but anon_vma ${own.id}'s root is ${own.root}`);
    if (!c.anonVma && v.anonVmaRoot) out.push(`${name}: anonVmaRoot ${v.anonVmaRoot} without an anon_vma`);
    for (const id of c.chain) {
      const av = anonVmas.get(id);
      if (!av) {
        out.push(`${name}: chain lists anon_vma ${id}, which is not live`);
        continue;
      }
      if (!av.avcs.some((a) => a.mm === m.mm && a.start === v.start && a.end === v.end && a.pgoff === v.pgoff)) {
        out.push(`${name}: anon_vma ${id} of its chain has no AVC for it with its range and pgoff ${v.pgoff}`);
      }
    }
    if (own && c.chain.length) {
      const oldest = anonVmas.get(c.chain[c.chain.length - 1]);
      if (oldest && oldest.root !== own.root) out.push(`${name}: oldest chain entry ${oldest.id} has root ${oldest.root}, its anon_vma's root is ${own.root}`);
    }
  }

  // 6: page tables
  const tables = new Set<string>();
  for (const t of m.pgtables) {
    const key = `${t.level}:${t.addr}`;
    const span = SPAN[t.level];
    if (!span) {
      out.push(`${mmName}: page table of unknown level ${t.level}`);
      continue;
    }
    if (tables.has(key)) out.push(`${mmName}: ${LEVEL_NAME[t.level]} table at ${hex(t.addr)} listed twice`);
    tables.add(key);
    if (t.addr % span !== 0) out.push(`${mmName}: ${LEVEL_NAME[t.level]} table at ${hex(t.addr)} is not aligned to its span`);
  }
  for (const t of m.pgtables) {
    for (let up = t.level + 1; up <= 3; up++) {
      if (!tables.has(`${up}:${down(t.addr, SPAN[up])}`)) {
        out.push(`${mmName}: ${LEVEL_NAME[t.level]} table at ${hex(t.addr)} has no ${LEVEL_NAME[up]} table above it`);
      }
    }
  }
  if (m.pgtablesAccounted !== m.pgtables.length) {
    out.push(`${mmName}: page-table accounting says ${m.pgtablesAccounted} tables, ${m.pgtables.length} are listed`);
  }

  // 1, 6, 7: PTEs
  let rssAnon = 0;
  let rssFile = 0;
  const perVma = new Map<VmaSnapshot, PageSnapshot[]>();
  let lastAddr = -1;
  for (const pte of m.ptes) {
    const at = `${mmName} PTE ${hex(pte.addr)}`;
    if (pte.addr % PAGE_SIZE !== 0) out.push(`${at}: not page aligned`);
    if (pte.addr <= lastAddr) out.push(`${at}: PTEs not sorted or listed twice`);
    lastAddr = pte.addr;
    for (const level of [1, 2, 3]) {
      if (!tables.has(`${level}:${down(pte.addr, SPAN[level])}`)) out.push(`${at}: its ${LEVEL_NAME[level]} table is not listed`);
    }
    const v = vmaAt(vmas, pte.addr);
    if (!v) {
      out.push(`${at}: outside every VMA`);
      continue;
    }
    if (pte.write && !(v.flags & VM_WRITE)) out.push(`${at}: writable in a VMA without VM_WRITE`);
    const index = v.pgoff + (pte.addr - v.start) / PAGE_SIZE;
    if (pte.page === 0) {
      if (pte.write) out.push(`${at}: the zero page mapped writable`);
      if (v.file !== 0 || v.special !== null) out.push(`${at}: the zero page outside private anonymous memory`);
      continue;
    }
    const pg = pages.get(pte.page);
    if (!pg) {
      out.push(`${at}: maps page ${pte.page}, which is not live`);
      continue;
    }
    mapped.set(pg.id, (mapped.get(pg.id) ?? 0) + 1);
    let list = perVma.get(v);
    if (!list) perVma.set(v, (list = []));
    list.push(pg);
    if (pg.anon) {
      rssAnon++;
      // 1: the rmap invariant
      if (pg.index !== index) out.push(`${at}: anon page ${pg.id} has index ${pg.index}, the VMA's linear index is ${index}`);
      const hits = rmapWalkAnon(pg, anonVmas);
      if (anonVmas.has(pg.mapping) && !hits.some((h) => h.mm === m.mm && h.start === v.start && h.end === v.end && h.addr === pte.addr)) {
        out.push(`${at}: anon page ${pg.id} is not found by an rmap walk from anon_vma ${pg.mapping}`);
      }
      if (pte.write && pg.mapcount !== 1) out.push(`${at}: anon page ${pg.id} is writable with mapcount ${pg.mapcount}`);
    } else {
      rssFile++;
      if (pg.mapping !== v.file) out.push(`${at}: page-cache page ${pg.id} of file ${pg.mapping} in a VMA of file ${v.file}`);
      if (pg.index !== index) out.push(`${at}: page-cache page ${pg.id} has index ${pg.index}, the VMA maps file page ${index} there`);
      if (pte.write && !(v.flags & VM_SHARED)) out.push(`${at}: page-cache page ${pg.id} writable in a private mapping`);
    }
  }
  if (m.rssAnon !== rssAnon) out.push(`${mmName}: MM_ANONPAGES is ${m.rssAnon}, ${rssAnon} PTEs map anonymous pages`);
  if (m.rssFile !== rssFile) out.push(`${mmName}: file RSS is ${m.rssFile}, ${rssFile} PTEs map page-cache pages`);

  // 8: usage()
  if (view.usage.length !== vmas.length) {
    out.push(`${mmName}: usage() has ${view.usage.length} entries for ${vmas.length} VMAs`);
    return;
  }
  vmas.forEach((v, i) => {
    const u = view.usage[i];
    const list = perVma.get(v) ?? [];
    const want = {
      rss: list.length,
      anon: list.filter((pg) => pg.anon).length,
      locked: v.flags & VM_LOCKED ? lockedPages(list) : 0,
    };
    if (u.rss !== want.rss || u.anon !== want.anon || u.locked !== want.locked) {
      out.push(`${mmName} VMA [${hex(v.start)}, ${hex(v.end)}): usage ${JSON.stringify(u)}, expected ${JSON.stringify(want)}`);
    }
  });
}
