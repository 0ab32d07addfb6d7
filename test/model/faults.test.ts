// Page faults (kernel-facts §6.1): every
// path with its exact page / PTE / anon_vma / page-table state. The processes
// start from an empty image, so identities start at 1 in each test: mm 1,
// anon_vma 1, page 1, file 1.

import { describe, expect, it } from "vitest";
import {
  MAP_ANONYMOUS, MAP_GROWSDOWN, MAP_LOCKED, MAP_NONBLOCK, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ,
  PROT_WRITE, SIGBUS, SIGSEGV, TASK_SIZE,
} from "../../src/abi/constants.js";
import type { KernelSim, ProcessSim } from "../../src/types.js";
import {
  MEM_IMPLS, Rd, W, anonVma, av, chainAt, emptyImage, expectMemClean, page, pageAt, pteAt, tables, vmaAt,
} from "./memutil.js";
import { ANON, NOREPLACE, P, PROT_RW, X, lin, none, p, prot, ro, rw } from "./util.js";

const PRIV = MAP_PRIVATE | NOREPLACE;
const SHARED = MAP_SHARED | NOREPLACE;

for (const impl of MEM_IMPLS) {
  const setup = (): { k: KernelSim; proc: ProcessSim } => {
    const k = impl.create({ policy: "linux-5.17" });
    return { k, proc: k.createProcess(emptyImage()) };
  };
  /** mmap n pages of `file` at page a, file page offset off. */
  const fmap = (proc: ProcessSim, a: number, n: number, pr: number, flags: number, file: number, off = 0) =>
    expect(proc.mmap(p(a), n * P, pr, flags, file, off * P), `file mmap at p${a}`).toBe(p(a));

  describe(`${impl.name}: faults in private anonymous memory`, () => {
    it("a read maps the zero page: read-only special PTE, no page, no anon_vma, no RSS", () => {
      const { k, proc } = setup();
      rw(proc, 0, 4);
      Rd(proc, 1);
      const m = proc.memory();
      expect(m.mm).toBe(1);
      expect(m.ptes).toEqual([{ addr: p(1), page: 0, write: false }]);
      expect(m.rssAnon).toBe(0);
      expect(m.rssFile).toBe(0);
      expect(tables(proc)).toEqual([`1:0x${X.toString(16)}`, "2:0x0", "3:0x0"]);
      expect(m.pgtablesAccounted).toBe(3);
      expect(k.memory()).toEqual({ pages: [], anonVmas: [] });
      expect(av(proc, 0)).toBe(0);
      expect(proc.peek(p(1))).toBe(0);
      expect(proc.usage()).toEqual([{ rss: 0, anon: 0, locked: 0 }]);
      expectMemClean(k);
    });

    it("a write: anon_vma_prepare (new root), a new zeroed page with the linear index, writable PTE, MM_ANONPAGES", () => {
      const { k, proc } = setup();
      rw(proc, 0, 4);
      W(proc, 2);
      expect(vmaAt(proc, 0)).toMatchObject({ anonVma: 1, anonVmaRoot: 1 });
      expect(chainAt(proc, 0)).toEqual([1]);
      expect(k.memory().pages).toEqual([{ id: 1, anon: true, mapping: 1, index: lin(2), mapcount: 1, refcount: 1, content: 1 }]);
      expect(k.memory().anonVmas).toEqual([
        { id: 1, root: 1, parent: 1, refcount: 1, degree: 2, avcs: [{ mm: 1, start: p(0), end: p(4), pgoff: lin(0) }] },
      ]);
      expect(proc.memory().ptes).toEqual([{ addr: p(2), page: 1, write: true }]);
      expect(proc.memory().rssAnon).toBe(1);
      expect(proc.peek(p(2))).toBe(1);
      W(proc, 2); // no fault: the PTE is writable
      expect(proc.peek(p(2))).toBe(2);
      expect(k.memory().pages.map((pg) => pg.id)).toEqual([1]);
      expect(proc.usage()).toEqual([{ rss: 1, anon: 1, locked: 0 }]);
      expectMemClean(k);
    });

    it("a write to a zero-page PTE copies (wp_page_copy): a new zeroed page replaces the zero page", () => {
      const { k, proc } = setup();
      rw(proc, 0, 2);
      Rd(proc, 1);
      W(proc, 1);
      expect(proc.memory().ptes).toEqual([{ addr: p(1), page: 1, write: true }]);
      expect(page(k, 1)).toMatchObject({ anon: true, mapping: 1, index: lin(1), mapcount: 1, refcount: 1, content: 1 });
      expect(proc.memory().rssAnon).toBe(1);
      expectMemClean(k);
    });

    it("a write-only mapping is readable (the zero page) and writable", () => {
      const { k, proc } = setup();
      expect(proc.mmap(p(0), P, PROT_WRITE, ANON | NOREPLACE, -1, 0)).toBe(p(0));
      expect(proc.peek(p(0))).toBe(0);
      expect(pteAt(proc, 0)).toEqual({ addr: p(0), page: 0, write: false });
      W(proc, 0);
      expect(proc.peek(p(0))).toBe(1);
      expectMemClean(k);
    });

    it("SIGSEGV: no VMA, a write to a read-only VMA, any access to PROT_NONE, a kernel address — and nothing changes", () => {
      const { k, proc } = setup();
      ro(proc, 0, 1);
      none(proc, 2, 3);
      expect(proc.touch(p(100), true)).toBe(SIGSEGV);
      expect(proc.touch(p(100), false)).toBe(SIGSEGV);
      expect(proc.peek(p(100))).toBe(-SIGSEGV);
      expect(proc.touch(p(0), true)).toBe(SIGSEGV);
      expect(proc.touch(p(2), false)).toBe(SIGSEGV);
      expect(proc.touch(p(2), true)).toBe(SIGSEGV);
      expect(proc.touch(TASK_SIZE, false)).toBe(SIGSEGV);
      expect(proc.touch(-1, true)).toBe(SIGSEGV);
      expect(proc.memory().ptes).toEqual([]);
      expect(proc.memory().pgtables).toEqual([]);
      expect(k.memory()).toEqual({ pages: [], anonVmas: [] });
      Rd(proc, 0); // reading the read-only VMA is fine
      expect(pteAt(proc, 0)).toEqual({ addr: p(0), page: 0, write: false });
      expectMemClean(k);
    });

    it("a byte wraps at 256; peek reads without changing anything", () => {
      const { proc } = setup();
      rw(proc, 0, 1);
      for (let i = 0; i < 256; i++) W(proc, 0);
      expect(proc.peek(p(0))).toBe(0);
      W(proc, 0);
      expect(proc.peek(p(0))).toBe(1);
      expect(proc.peek(p(0) + 123)).toBe(1); // any byte of the page: vmasim keeps one per page
    });
  });

  describe(`${impl.name}: faults in file mappings (tmpfs files; shared anonymous memory is shmem)`, () => {
    it("a private read maps the page-cache page read-only (created zero-filled), MM_SHMEMPAGES", () => {
      const { k, proc } = setup();
      const f = k.createFile("/tmp/f", 8);
      expect(f).toBe(1);
      fmap(proc, 0, 8, PROT_READ, PRIV, f);
      Rd(proc, 5);
      expect(proc.memory().ptes).toEqual([{ addr: p(5), page: 1, write: false }]);
      expect(k.memory().pages).toEqual([{ id: 1, anon: false, mapping: f, index: 5, mapcount: 1, refcount: 2, content: 0 }]);
      expect(proc.memory().rssFile).toBe(1);
      expect(proc.memory().rssAnon).toBe(0);
      expect(av(proc, 0)).toBe(0);
      expect(proc.usage()).toEqual([{ rss: 1, anon: 0, locked: 0 }]);
      expectMemClean(k);
    });

    it("fault-around maps the cached pages of the 16-page window (clipped to the VMA start) in one fault", () => {
      const { k, proc } = setup();
      const f = k.createFile("/tmp/f", 64);
      fmap(proc, 0, 32, PROT_READ, PRIV, f); // A: fills the page cache
      for (let i = 0; i < 20; i++) Rd(proc, i);
      expect(k.memory().pages.length).toBe(20);
      // B maps the same file at p100; the window of p107 starts at p96, clipped to p100 (index 0),
      // so it covers indexes 0..15 = p100..p115.
      fmap(proc, 100, 32, PROT_READ, PRIV, f);
      Rd(proc, 107);
      const inB = proc.memory().ptes.filter((e) => e.addr >= p(100));
      expect(inB.map((e) => e.addr)).toEqual(Array.from({ length: 16 }, (_, i) => p(100 + i)));
      expect(inB.every((e) => !e.write)).toBe(true);
      expect(k.memory().pages.length).toBe(20); // nothing new
      expect(page(k, inB[7].page)).toMatchObject({ index: 7, mapcount: 2, refcount: 3 });
      // A read of p117 (index 17): its window starts at p112 (index 12) and ends at index 27;
      // of it only 16..19 are cached and not yet mapped.
      Rd(proc, 117);
      expect(proc.memory().ptes.filter((e) => e.addr >= p(116)).map((e) => e.addr)).toEqual([p(116), p(117), p(118), p(119)]);
      expectMemClean(k);
    });

    it("fault-around stays inside the PTE table and the VMA; an uncached faulting page is created after it", () => {
      const { k, proc } = setup();
      const f = k.createFile("/tmp/f", 64);
      fmap(proc, 490, 40, PROT_READ, PRIV, f); // [p490, p530): crosses the PTE table boundary at p512
      for (let i = 490; i < 530; i++) Rd(proc, i);
      const pages = k.memory().pages.length;
      fmap(proc, 600, 3, PROT_READ, PRIV, f, 18); // file pages 18..20, all cached; VMA of 3 pages
      fmap(proc, 700, 30, PROT_READ, PRIV, f, 0); // file pages 0..29, all cached
      Rd(proc, 601);
      expect(proc.memory().ptes.filter((e) => e.addr >= p(600) && e.addr < p(603)).length).toBe(3);
      // p710: window p704..p719 (indexes 4..19)
      Rd(proc, 710);
      expect(proc.memory().ptes.filter((e) => e.addr >= p(700)).map((e) => e.addr))
        .toEqual(Array.from({ length: 16 }, (_, i) => p(704 + i)));
      expect(k.memory().pages.length).toBe(pages);
      // A mapping over a PTE table boundary (p1024): the window of p1022 starts at p1008, is
      // clipped to the VMA start p1010 (index 0) and ends with the table at p1023 (index 13).
      fmap(proc, 1010, 30, PROT_READ, PRIV, f, 0);
      Rd(proc, 1022);
      expect(proc.memory().ptes.filter((e) => e.addr >= p(1010)).map((e) => e.addr))
        .toEqual(Array.from({ length: 14 }, (_, i) => p(1010 + i)));
      expectMemClean(k);
    });

    it("a read beyond EOF raises SIGBUS: no PTE, no page, no PTE table — but __handle_mm_fault's PUD and PMD tables", () => {
      const { k, proc } = setup();
      const f = k.createFile("/tmp/f", 4);
      fmap(proc, 0, 8, PROT_READ, PRIV, f);
      expect(proc.touch(p(5), false)).toBe(SIGBUS);
      expect(proc.peek(p(5))).toBe(-SIGBUS);
      expect(proc.memory().ptes).toEqual([]);
      expect(tables(proc)).toEqual(["2:0x0", "3:0x0"]);
      expect(proc.memory().pgtablesAccounted).toBe(2);
      expect(k.memory().pages).toEqual([]);
      Rd(proc, 3);
      expect(pteAt(proc, 3)).toMatchObject({ page: 1 });
    });

    it("a private write with no PTE (do_cow_fault): the copy page takes its id before the page-cache page", () => {
      const { k, proc } = setup();
      const f = k.createFile("/tmp/f", 8);
      fmap(proc, 0, 8, PROT_RW, PRIV, f);
      W(proc, 3);
      expect(av(proc, 0)).toBe(1);
      expect(k.memory().pages).toEqual([
        { id: 1, anon: true, mapping: 1, index: 3, mapcount: 1, refcount: 1, content: 1 },
        { id: 2, anon: false, mapping: f, index: 3, mapcount: 0, refcount: 1, content: 0 },
      ]);
      expect(proc.memory().ptes).toEqual([{ addr: p(3), page: 1, write: true }]);
      expect(proc.memory().rssAnon).toBe(1);
      expect(proc.memory().rssFile).toBe(0);
      // a shared mapping of the file still sees the file's byte
      fmap(proc, 20, 8, PROT_READ, SHARED, f);
      expect(proc.peek(p(23))).toBe(0);
      expectMemClean(k);
    });

    it("a private write beyond EOF: SIGBUS after anon_vma_prepare and the copy page's id are spent", () => {
      const { k, proc } = setup();
      const f = k.createFile("/tmp/f", 2);
      fmap(proc, 0, 4, PROT_RW, PRIV, f);
      expect(proc.touch(p(3), true)).toBe(SIGBUS);
      expect(av(proc, 0)).toBe(1); // the anon_vma stays
      expect(k.memory().pages).toEqual([]);
      expect(proc.memory().ptes).toEqual([]);
      expect(tables(proc)).toEqual(["2:0x0", "3:0x0"]);
      W(proc, 0);
      expect(k.memory().pages.map((pg) => pg.id)).toEqual([2, 3]); // page 1 was the failed copy
      expectMemClean(k);
    });

    it("a private write to a read-mapped page-cache page copies it (file RSS moves to anon RSS)", () => {
      const { k, proc } = setup();
      const f = k.createFile("/tmp/f", 8);
      fmap(proc, 20, 8, PROT_RW, SHARED, f);
      W(proc, 21); // the file's byte at index 1 becomes 1
      fmap(proc, 0, 8, PROT_RW, PRIV, f);
      Rd(proc, 1); // fault-around maps the cached index 1 read-only
      const cache = pageAt(proc, 1);
      expect(cache).toMatchObject({ anon: false, index: 1, mapcount: 2, refcount: 3, content: 1 });
      expect(proc.memory().rssFile).toBe(2);
      W(proc, 1);
      const copy = pageAt(proc, 1);
      expect(copy).toMatchObject({ anon: true, mapping: av(proc, 0), index: 1, mapcount: 1, refcount: 1, content: 2 });
      expect(page(k, cache.id)).toMatchObject({ mapcount: 1, refcount: 2, content: 1 });
      expect(proc.memory().rssFile).toBe(1);
      expect(proc.memory().rssAnon).toBe(1);
      expect(proc.peek(p(21))).toBe(1); // the shared mapping still sees the file
      expectMemClean(k);
    });

    it("shared mappings: a write maps the page-cache page writable; a read maps it writable iff VM_WRITE", () => {
      const { k, proc } = setup();
      const f = k.createFile("/tmp/f", 8);
      fmap(proc, 0, 4, PROT_RW, SHARED, f);
      W(proc, 0);
      expect(pteAt(proc, 0)).toEqual({ addr: p(0), page: 1, write: true });
      expect(page(k, 1)).toEqual({ id: 1, anon: false, mapping: f, index: 0, mapcount: 1, refcount: 2, content: 1 });
      Rd(proc, 2);
      expect(pteAt(proc, 2)).toMatchObject({ write: true });
      fmap(proc, 10, 4, PROT_READ, SHARED, f);
      Rd(proc, 12); // fault-around maps index 0 too
      expect(pteAt(proc, 10)).toEqual({ addr: p(10), page: 1, write: false });
      expect(pteAt(proc, 12)).toMatchObject({ write: false });
      expect(proc.touch(p(12), true)).toBe(SIGSEGV);
      expect(proc.peek(p(10))).toBe(1);
      expect(av(proc, 0)).toBe(0); // shared mappings never get an anon_vma
      expect(proc.memory().rssFile).toBe(4);
      expectMemClean(k);
    });

    it("shared anonymous memory is a shmem object: pages are shared with a fork child and freed with the last VMA", () => {
      const { k, proc } = setup();
      expect(proc.mmap(p(0), 2 * P, PROT_RW, MAP_SHARED | MAP_ANONYMOUS | NOREPLACE, -1, 0)).toBe(p(0));
      const shm = vmaAt(proc, 0).file;
      W(proc, 0);
      expect(page(k, 1)).toEqual({ id: 1, anon: false, mapping: shm, index: 0, mapcount: 1, refcount: 2, content: 1 });
      const child = proc.fork();
      expect(child.memory().ptes).toEqual([]); // no anon_vma: copy_page_range skipped
      W(child, 0);
      expect(proc.peek(p(0))).toBe(2);
      expect(page(k, 1)).toMatchObject({ mapcount: 2, refcount: 3 });
      expect(child.munmap(p(0), 2 * P)).toBe(0);
      expect(page(k, 1)).toMatchObject({ mapcount: 1, refcount: 2 });
      expect(proc.munmap(p(0), 2 * P)).toBe(0);
      expect(k.memory().pages).toEqual([]); // shmem_evict_inode()
      expectMemClean(k);
    });

    it("shrinking a file unmaps the pages beyond the new end, private COW copies included", () => {
      const { k, proc } = setup();
      const f = k.createFile("/tmp/f", 8);
      fmap(proc, 0, 8, PROT_RW, SHARED, f);
      fmap(proc, 10, 8, PROT_RW, PRIV, f);
      W(proc, 6);
      W(proc, 1);
      W(proc, 16); // a private copy of index 6
      Rd(proc, 17); // index 7, created
      expect(proc.memory().ptes.map((e) => e.addr)).toEqual([p(1), p(6), p(16), p(17)]);
      k.resizeFile(f, 4);
      expect(proc.memory().ptes.map((e) => e.addr)).toEqual([p(1)]);
      expect(k.memory().pages).toEqual([{ id: 2, anon: false, mapping: f, index: 1, mapcount: 1, refcount: 2, content: 1 }]);
      expect(proc.touch(p(6), false)).toBe(SIGBUS);
      expect(proc.touch(p(16), true)).toBe(SIGBUS);
      expectMemClean(k);
    });
  });

  describe(`${impl.name}: write faults on present read-only PTEs (do_wp_page)`, () => {
    it("COW after fork: the child copies into its own anon_vma; the parent then reuses its page in place", () => {
      const { k, proc } = setup();
      rw(proc, 0, 2);
      W(proc, 0);
      const child = proc.fork();
      expect(pteAt(proc, 0)).toEqual({ addr: p(0), page: 1, write: false });
      expect(pteAt(child, 0)).toEqual({ addr: p(0), page: 1, write: false });
      expect(page(k, 1)).toMatchObject({ mapcount: 2, refcount: 2 });
      W(child, 0);
      expect(pteAt(child, 0)).toEqual({ addr: p(0), page: 2, write: true });
      expect(page(k, 2)).toEqual({ id: 2, anon: true, mapping: av(child, 0), index: lin(0), mapcount: 1, refcount: 1, content: 2 });
      expect(av(child, 0)).toBe(2);
      expect(page(k, 1)).toMatchObject({ mapping: 1, mapcount: 1, refcount: 1, content: 1 });
      W(proc, 0); // refcount 1: reuse, no copy
      expect(pteAt(proc, 0)).toEqual({ addr: p(0), page: 1, write: true });
      expect(proc.peek(p(0))).toBe(2);
      expect(child.peek(p(0))).toBe(2);
      expect(k.memory().pages.map((pg) => pg.id)).toEqual([1, 2]);
      expectMemClean(k);
    });

    it("reuse keeps page->mapping: a child's write to a page created by its (exited) parent", () => {
      const { k, proc } = setup();
      rw(proc, 0, 1);
      W(proc, 0);
      const child = proc.fork();
      proc.exit();
      expect(page(k, 1)).toMatchObject({ mapping: 1, mapcount: 1, refcount: 1 });
      W(child, 0);
      expect(pteAt(child, 0)).toEqual({ addr: p(0), page: 1, write: true });
      expect(page(k, 1)).toMatchObject({ mapping: 1, content: 2 }); // still the parent's anon_vma
      expect(av(child, 0)).toBe(2);
      expect(anonVma(k, 1).avcs).toEqual([{ mm: 2, start: p(0), end: p(1), pgoff: lin(0) }]);
      expectMemClean(k);
    });

    it("mprotect re-protects present PTEs: private ones stay read-only after PROT_WRITE returns; shared ones follow VM_WRITE", () => {
      const { k, proc } = setup();
      rw(proc, 0, 2);
      W(proc, 0);
      prot(proc, 0, 2, PROT_READ);
      expect(pteAt(proc, 0)).toMatchObject({ page: 1, write: false });
      prot(proc, 0, 2, PROT_RW);
      expect(pteAt(proc, 0)).toMatchObject({ page: 1, write: false });
      W(proc, 0); // do_wp_page reuses the exclusive page
      expect(pteAt(proc, 0)).toEqual({ addr: p(0), page: 1, write: true });
      prot(proc, 0, 2, PROT_RW); // no flag change: PTEs untouched
      expect(pteAt(proc, 0)).toMatchObject({ write: true });

      const f = k.createFile("/tmp/f", 4);
      fmap(proc, 10, 4, PROT_RW, SHARED, f);
      W(proc, 10);
      prot(proc, 10, 14, PROT_READ);
      expect(pteAt(proc, 10)).toMatchObject({ write: false });
      expect(proc.touch(p(10), true)).toBe(SIGSEGV);
      prot(proc, 10, 14, PROT_RW);
      expect(pteAt(proc, 10)).toMatchObject({ write: true });
      expect(proc.memory().ptes.length).toBe(2);
      expectMemClean(k);
    });
  });

  describe(`${impl.name}: stack growth (expand_downwards)`, () => {
    const growsdown = (proc: ProcessSim, a: number, n = 1, pr = PROT_RW) =>
      expect(proc.mmap(p(a), n * P, pr, ANON | MAP_GROWSDOWN | NOREPLACE, -1, 0)).toBe(p(a));

    it("an access below a VM_GROWSDOWN VMA grows it: start and pgoff move down, anon_vma first, counters", () => {
      const { k, proc } = setup();
      growsdown(proc, 1000);
      const before = proc.counters();
      W(proc, 998);
      expect(vmaAt(proc, 998)).toMatchObject({ start: p(998), end: p(1001), pgoff: lin(998), anonVma: 1 });
      expect(proc.counters()).toMatchObject({ total_vm: before.total_vm + 2, stack_vm: before.stack_vm + 2 });
      expect(anonVma(k, 1).avcs).toEqual([{ mm: 1, start: p(998), end: p(1001), pgoff: lin(998) }]);
      expect(pageAt(proc, 998)).toMatchObject({ index: lin(998), mapping: 1 });
      Rd(proc, 990); // a read grows it too
      expect(vmaAt(proc, 990)).toMatchObject({ start: p(990), pgoff: lin(990) });
      expect(pteAt(proc, 990)).toMatchObject({ page: 0 });
      expectMemClean(k);
    });

    it("the guard gap to an accessible previous VMA; none to a PROT_NONE or a stack one", () => {
      const { k, proc } = setup();
      rw(proc, 0, 1);
      growsdown(proc, 300);
      expect(proc.touch(p(256), true)).toBe(SIGSEGV); // 255 pages above prev: inside the 256-page gap
      expect(av(proc, 300)).toBe(0); // refused before anon_vma_prepare
      W(proc, 257);
      expect(vmaAt(proc, 257).start).toBe(p(257));

      none(proc, 400, 401);
      growsdown(proc, 500);
      W(proc, 401);
      expect(vmaAt(proc, 401)).toMatchObject({ start: p(401), end: p(501) });

      growsdown(proc, 600);
      growsdown(proc, 700);
      W(proc, 601);
      expect(vmaAt(proc, 601)).toMatchObject({ start: p(601), end: p(701) });
      expectMemClean(k);
    });

    it("RLIMIT_STACK (8 MiB) on the new size; the refused growth still leaves an anon_vma", () => {
      const { k, proc } = setup();
      growsdown(proc, 3000);
      expect(proc.touch(p(3000 - 2048), false)).toBe(SIGSEGV); // 2049 pages > 8 MiB
      expect(vmaAt(proc, 3000)).toMatchObject({ start: p(3000), anonVma: 1 });
      W(proc, 3000 - 2047); // exactly 8 MiB
      expect(vmaAt(proc, 3000).start).toBe(p(3000 - 2047));
      expectMemClean(k);
    });

    it("mmap_min_addr; a VMA without VM_GROWSDOWN is not grown; a read-only stack grows, then refuses the write", () => {
      const { k, proc } = setup();
      expect(proc.mmap(0x11000, P, PROT_RW, ANON | MAP_GROWSDOWN | NOREPLACE, -1, 0)).toBe(0x11000);
      expect(proc.touch(0xf000, true)).toBe(SIGSEGV);
      expect(proc.touch(0x10000, true)).toBe(0);
      expect(proc.vmas()[0]).toMatchObject({ start: 0x10000, end: 0x12000 });

      rw(proc, 10, 11);
      expect(proc.touch(p(9), true)).toBe(SIGSEGV);

      growsdown(proc, 2000, 1, PROT_READ);
      expect(proc.touch(p(1999), true)).toBe(SIGSEGV);
      expect(vmaAt(proc, 1999).start).toBe(p(1999));
      expectMemClean(k);
    });

    it("the default image's stack grows down", () => {
      const k = impl.create({ policy: "linux-5.17" });
      const proc = k.createProcess();
      const stack = proc.vmas()[proc.vmas().length - 1];
      const before = proc.counters();
      expect(proc.touch(stack.start - 2 * P, true)).toBe(0);
      const after = proc.vmas()[proc.vmas().length - 1];
      expect(after).toMatchObject({ start: stack.start - 2 * P, end: stack.end, pgoff: stack.pgoff - 2, anonVma: stack.anonVma });
      expect(proc.counters()).toMatchObject({ total_vm: before.total_vm + 2, stack_vm: before.stack_vm + 2 });
      expectMemClean(k);
    });
  });

  describe(`${impl.name}: population (mm_populate / populate_vma_page_range)`, () => {
    it("MAP_POPULATE: write faults for a private writable mapping, read faults otherwise; MAP_NONBLOCK cancels it", () => {
      const { k, proc } = setup();
      expect(proc.mmap(p(0), 3 * P, PROT_RW, ANON | MAP_POPULATE | NOREPLACE, -1, 0)).toBe(p(0));
      expect(proc.memory().ptes).toEqual([0, 1, 2].map((i) => ({ addr: p(i), page: i + 1, write: true })));
      expect(av(proc, 0)).toBe(1);
      expect(proc.mmap(p(10), 2 * P, PROT_READ, ANON | MAP_POPULATE | NOREPLACE, -1, 0)).toBe(p(10));
      expect(proc.memory().ptes.filter((e) => e.addr >= p(10)).map((e) => e.page)).toEqual([0, 0]);
      expect(proc.mmap(p(20), 2 * P, PROT_RW, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE | NOREPLACE, -1, 0)).toBe(p(20));
      expect(proc.memory().ptes.filter((e) => e.addr >= p(20)).map((e) => e.write)).toEqual([true, true]); // shmem pages, read faults
      expect(k.memory().pages.filter((pg) => !pg.anon).map((pg) => pg.index)).toEqual([0, 1]);
      expect(proc.mmap(p(30), 2 * P, PROT_RW, ANON | MAP_POPULATE | MAP_NONBLOCK | NOREPLACE, -1, 0)).toBe(p(30));
      expect(proc.memory().ptes.filter((e) => e.addr >= p(30))).toEqual([]);
      expectMemClean(k);
    });

    it("MAP_POPULATE of a private file mapping stops at EOF (SIGBUS ends the VMA); PROT_NONE is skipped", () => {
      const { k, proc } = setup();
      const f = k.createFile("/tmp/f", 2);
      fmap(proc, 0, 4, PROT_RW, MAP_PRIVATE | MAP_POPULATE | NOREPLACE, f);
      expect(proc.memory().ptes.map((e) => [e.addr, e.write])).toEqual([[p(0), true], [p(1), true]]);
      expect(k.memory().pages.map((pg) => pg.anon)).toEqual([true, false, true, false]); // copy, cache, copy, cache
      expect(proc.mmap(p(10), 2 * P, PROT_NONE, ANON | MAP_LOCKED | NOREPLACE, -1, 0)).toBe(p(10));
      expect(proc.memory().ptes.filter((e) => e.addr >= p(10))).toEqual([]);
      expectMemClean(k);
    });

    it("mprotect making a private VM_LOCKED VMA writable populates it with write faults", () => {
      const { k, proc } = setup();
      expect(proc.mmap(p(0), 2 * P, PROT_READ, ANON | MAP_LOCKED | NOREPLACE, -1, 0)).toBe(p(0));
      expect(proc.memory().ptes.map((e) => e.page)).toEqual([0, 0]); // read faults: the zero page
      prot(proc, 0, 2, PROT_RW);
      expect(proc.memory().ptes).toEqual([{ addr: p(0), page: 1, write: true }, { addr: p(1), page: 2, write: true }]);
      expectMemClean(k);
    });
  });

  describe(`${impl.name}: tasks sharing an mm, usage()`, () => {
    it("cloneVm shares the mm; the mm lives until its last task exits", () => {
      const { k, proc } = setup();
      rw(proc, 0, 2);
      const t = proc.cloneVm();
      expect(t.pid).toBe(proc.pid + 1);
      W(t, 0);
      expect(proc.peek(p(0))).toBe(1);
      expect(t.memory()).toEqual(proc.memory());
      expect(k.processes().map((q) => q.pid)).toEqual([proc.pid, t.pid]);
      t.exit();
      expect(t.exited).toBe(true);
      expect(() => t.touch(p(0), true)).toThrow();
      expect(k.processes().map((q) => q.pid)).toEqual([proc.pid]);
      expect(k.memory().pages.length).toBe(1);
      expectMemClean(k);
      proc.exit();
      expect(k.processes()).toEqual([]);
      expect(k.memory()).toEqual({ pages: [], anonVmas: [] });
    });

    it("usage(): rss and anon per VMA; Locked is the proportional share of a VM_LOCKED VMA", () => {
      const { k, proc } = setup();
      rw(proc, 10, 14);
      W(proc, 10);
      W(proc, 11);
      Rd(proc, 12); // the zero page is not resident
      expect(proc.usage()).toEqual([{ rss: 2, anon: 2, locked: 0 }]);
      // MAP_LOCKED populates the whole range with write faults
      expect(proc.mmap(p(0), 4 * P, PROT_RW, ANON | MAP_LOCKED | NOREPLACE, -1, 0)).toBe(p(0));
      expect(proc.usage()[0]).toEqual({ rss: 4, anon: 4, locked: 4 });
      const child = proc.fork(); // every page now mapped twice: half of each
      expect(proc.usage()[0]).toEqual({ rss: 4, anon: 4, locked: 2 });
      expect(child.usage()[0]).toEqual({ rss: 4, anon: 4, locked: 0 }); // the child's VMA is not VM_LOCKED
      W(proc, 0);
      W(proc, 1); // two private copies: 2 + 2 * 1/2 = 3 pages
      expect(proc.usage()[0]).toEqual({ rss: 4, anon: 4, locked: 3 });
      expectMemClean(k);
    });
  });
}
