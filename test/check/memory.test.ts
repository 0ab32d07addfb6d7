// src/check/memory.ts: checkKernel() finds nothing wrong in real states and
// catches deliberately corrupted snapshots (fake KernelSim / ProcessSim
// objects built from a real model run, then edited).

import { describe, expect, it } from "vitest";
import { MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from "../../src/abi/constants.js";
import { checkKernel, rmapWalkAnon } from "../../src/check/index.js";
import { createModelKernel } from "../../src/model/index.js";
import type {
  KernelMemorySnapshot, KernelSim, MemorySnapshot, MmCounters, MmLayout, ProcessSim, VmaSnapshot, VmaUsage,
} from "../../src/types.js";
import { MEM_IMPLS, emptyImage } from "../model/memutil.js";

const P = 4096;
const X = 0x10000000;
const p = (n: number) => X + n * P;
const RW = PROT_READ | PROT_WRITE;
const ANON = 0x22;

interface ProcSnap {
  pid: number;
  vmas: VmaSnapshot[];
  memory: MemorySnapshot;
  usage: VmaUsage[];
  counters: MmCounters;
  layout: MmLayout;
}
interface KSnap {
  procs: ProcSnap[];
  mem: KernelMemorySnapshot;
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function snapshot(k: KernelSim): KSnap {
  return {
    procs: k.processes().map((q) => ({
      pid: q.pid, vmas: q.vmas(), memory: q.memory(), usage: q.usage(), counters: q.counters(), layout: q.layout(),
    })),
    mem: k.memory(),
  };
}

/** A kernel whose snapshots are exactly `s` (copied on every read). */
function fake(s: KSnap): KernelSim {
  const no = () => {
    throw new Error("fake");
  };
  const kernel = {
    policy: "linux-5.17",
    createFile: no, resizeFile: no, fileSizePages: no, filePath: no, setMaxMapCount: no, maxMapCount: no, createProcess: no,
    processes: () => procs,
    memory: () => clone(s.mem),
  } as unknown as KernelSim;
  // Only the snapshot methods exist; every syscall of ProcessSim is missing (cast).
  const procs = s.procs.map((ps) => ({
    kernel, pid: ps.pid, exited: false, touch: no, peek: no,
    vmas: () => clone(ps.vmas),
    usage: () => clone(ps.usage),
    counters: () => clone(ps.counters),
    layout: () => clone(ps.layout),
    memory: () => clone(ps.memory),
  }) as unknown as ProcessSim);
  return kernel;
}

/**
 * A real state with a bit of everything: a parent (pid 1, mm 1) with an
 * anonymous VMA [p0, p4) — pages at p0 (COW-shared with the child), p1 (its
 * own after the child's COW), the zero page at p2 — and a shared file mapping
 * [p10, p12) with one page-cache page at p10; a fork child (pid 2, mm 2) and a
 * thread of the parent (pid 3).
 */
function base(): KSnap {
  const k = createModelKernel({ policy: "linux-5.17" });
  const proc = k.createProcess(emptyImage());
  expect(proc.mmap(p(0), 4 * P, RW, ANON | 0x100000, -1, 0)).toBe(p(0));
  const f = k.createFile("/tmp/f", 4);
  expect(proc.mmap(p(10), 2 * P, RW, MAP_SHARED | 0x100000, f, 0)).toBe(p(10));
  proc.touch(p(0), true);
  proc.touch(p(1), true);
  proc.touch(p(2), false);
  proc.touch(p(10), true);
  const child = proc.fork();
  child.touch(p(1), true);
  proc.cloneVm();
  expect(checkKernel(k)).toEqual([]);
  return snapshot(k);
}

const check = (s: KSnap) => checkKernel(fake(s));
/** The violations after `edit`, which must include one matching each pattern. */
function expectViolations(edit: (s: KSnap) => void, ...patterns: RegExp[]): string[] {
  const s = base();
  edit(s);
  const out = check(s);
  expect(out.length, "some violation").toBeGreaterThan(0);
  for (const re of patterns) expect(out.some((l) => re.test(l)), `${re} in\n${out.join("\n")}`).toBe(true);
  return out;
}

describe("checkKernel on fake snapshots", () => {
  it("the base state is consistent, and so is its fake", () => {
    const s = base();
    expect(s.procs.map((q) => [q.pid, q.memory.mm])).toEqual([[1, 1], [2, 2], [3, 1]]);
    expect(check(s)).toEqual([]);
  });

  it("1: an anonymous page whose index does not match the VMA's linear index", () => {
    expectViolations((s) => {
      s.mem.pages.find((pg) => pg.id === 1)!.index += 1;
    }, /anon page 1 has index/, /not found by an rmap walk/);
  });

  it("1: a page whose anon_vma has no AVC for the VMA mapping it", () => {
    expectViolations((s) => {
      const av1 = s.mem.anonVmas.find((a) => a.id === 1)!;
      av1.avcs = av1.avcs.filter((a) => a.mm !== 2); // the child's VMA is no longer in anon_vma 1
    }, /mm 2 PTE 0x10000000: anon page 1 is not found by an rmap walk from anon_vma 1/, /anon_vma 1 of its chain has no AVC/);
  });

  it("1: a page-cache page in a VMA of another file, or at the wrong index", () => {
    expectViolations((s) => {
      const pg = s.mem.pages.find((x) => !x.anon)!;
      pg.mapping += 7;
    }, /page-cache page \d+ of file \d+ in a VMA of file/);
    expectViolations((s) => {
      s.mem.pages.find((x) => !x.anon)!.index = 3;
    }, /the VMA maps file page 0 there/);
  });

  it("1: PTEs outside every VMA, mapping freed pages, the zero page writable, a shared anonymous page writable", () => {
    expectViolations((s) => {
      s.procs[1].memory.ptes.push({ addr: p(20), page: 1, write: false });
    }, /mm 2 PTE 0x10014000: outside every VMA/);
    expectViolations((s) => {
      s.procs[1].memory.ptes[0].page = 99;
    }, /maps page 99, which is not live/);
    expectViolations((s) => {
      for (const q of [s.procs[0], s.procs[2]]) q.memory.ptes.find((e) => e.page === 0)!.write = true;
    }, /the zero page mapped writable/);
    expectViolations((s) => {
      for (const q of [s.procs[0], s.procs[2]]) q.memory.ptes.find((e) => e.addr === p(0))!.write = true;
    }, /anon page 1 is writable with mapcount 2/);
  });

  it("2: mapcount and refcount recounted from the PTEs (+1 for the page cache)", () => {
    expectViolations((s) => {
      s.mem.pages.find((pg) => pg.id === 1)!.mapcount = 1;
    }, /page 1 \(anon\): mapcount 1 but 2 PTEs map it/);
    expectViolations((s) => {
      const pg = s.mem.pages.find((x) => !x.anon)!;
      pg.refcount = pg.mapcount;
    }, /refcount 1, expected 2 \(mapcount \+ the page cache\)/);
  });

  it("3: a page pointing to an anon_vma that is not live", () => {
    expectViolations((s) => {
      s.mem.pages.find((pg) => pg.id === 1)!.mapping = 42;
    }, /mapping points to anon_vma 42, which is not live/);
  });

  it("4: refcount and degree recomputed", () => {
    expectViolations((s) => {
      s.mem.anonVmas.find((a) => a.id === 1)!.refcount = 1;
    }, /anon_vma 1: refcount 1, expected 2/);
    expectViolations((s) => {
      s.mem.anonVmas.find((a) => a.id === 1)!.degree = 2;
    }, /anon_vma 1: degree 2, expected 3/);
    expectViolations((s) => {
      s.mem.anonVmas.find((a) => a.id === 2)!.parent = 2;
    }, /anon_vma 2: root 1 and parent 2 disagree/);
  });

  it("5: chains — own anon_vma missing, listed twice, a dead entry, the oldest entry's root, vmas() disagreeing", () => {
    const child = (s: KSnap) => s.procs[1].memory.chains.find((c) => c.start === p(0))!;
    expectViolations((s) => {
      child(s).chain = [1];
    }, /its anon_vma 2 is not in its chain/);
    expectViolations((s) => {
      child(s).chain = [2, 1, 1];
    }, /lists an anon_vma twice/);
    expectViolations((s) => {
      child(s).chain = [2, 1, 77];
    }, /chain lists anon_vma 77, which is not live/);
    expectViolations((s) => {
      s.procs[1].vmas.find((v) => v.start === p(0))!.anonVmaRoot = 2;
    }, /anonVmaRoot 2, but anon_vma 2's root is 1/);
    expectViolations((s) => {
      s.procs[1].vmas.find((v) => v.start === p(0))!.anonVma = 0;
    }, /vmas\(\) says anon_vma 0, memory\(\) says 2/);
  });

  it("5: a stale AVC key, an AVC of no VMA, an AVC of a dead mm", () => {
    expectViolations((s) => {
      s.mem.anonVmas.find((a) => a.id === 2)!.avcs[0].pgoff += 1;
    }, /is stale: the VMA is/);
    expectViolations((s) => {
      s.mem.anonVmas.find((a) => a.id === 2)!.avcs.push({ mm: 2, start: p(30), end: p(31), pgoff: 0 });
    }, /belongs to no VMA/);
    expectViolations((s) => {
      s.mem.anonVmas.find((a) => a.id === 2)!.avcs.push({ mm: 9, start: p(0), end: p(4), pgoff: p(0) / P });
    }, /belongs to no live mm/);
  });

  it("6: page tables — a missing PTE table, the accounting, alignment, a table without the one above", () => {
    expectViolations((s) => {
      s.procs[1].memory.pgtables = s.procs[1].memory.pgtables.filter((t) => t.level !== 1);
    }, /mm 2 PTE 0x10000000: its PTE table is not listed/, /accounting says 3 tables, 2 are listed/);
    expectViolations((s) => {
      s.procs[1].memory.pgtablesAccounted = 4;
    }, /accounting says 4 tables, 3 are listed/);
    expectViolations((s) => {
      const m = s.procs[1].memory;
      m.pgtables.push({ level: 1, addr: p(1) });
      m.pgtablesAccounted++;
    }, /PTE table at 0x10001000 is not aligned/);
    expectViolations((s) => {
      const m = s.procs[1].memory;
      m.pgtables.push({ level: 2, addr: 2 ** 40 });
      m.pgtablesAccounted++;
    }, /PMD table at 0x10000000000 has no PUD table above it/);
  });

  it("7 and 8: RSS counters and usage() recounted", () => {
    expectViolations((s) => {
      s.procs[1].memory.rssAnon = 3;
    }, /MM_ANONPAGES is 3, 2 PTEs map anonymous pages/);
    expectViolations((s) => {
      s.procs[1].memory.rssFile = 1;
    }, /file RSS is 1, 0 PTEs map page-cache pages/);
    expectViolations((s) => {
      s.procs[1].usage[0] = { rss: 1, anon: 1, locked: 0 };
    }, /usage \{"rss":1,"anon":1,"locked":0\}, expected \{"rss":2,"anon":2,"locked":0\}/);
  });

  it("tasks sharing an mm must report the same snapshot", () => {
    expectViolations((s) => {
      s.procs[2].memory.rssAnon = 7;
    }, /pid 3: its snapshot of mm 1 differs from pid 1's/);
  });

  it("rmapWalkAnon lists where an anonymous page may be mapped", () => {
    const s = base();
    const avs = new Map(s.mem.anonVmas.map((a) => [a.id, a]));
    const pg = s.mem.pages.find((x) => x.id === 1)!;
    expect(rmapWalkAnon(pg, avs)).toEqual([
      { mm: 1, start: p(0), end: p(4), addr: p(0) },
      { mm: 2, start: p(0), end: p(4), addr: p(0) },
    ]);
    expect(rmapWalkAnon({ ...pg, mapping: 99 }, avs)).toEqual([]);
  });
});

// The checker on real states of every implementation, after a random mix of operations.
for (const impl of MEM_IMPLS) {
  describe(`${impl.name}: checkKernel stays clean over random operations`, () => {
    it("mmap / munmap / mprotect / touch / fork / exit / brk / file mappings", () => {
      let seed = 12345;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const k = impl.create({ policy: "linux-5.17" });
      const f = k.createFile("/tmp/f", 24);
      const procs: ProcessSim[] = [k.createProcess()];
      for (let step = 0; step < 400; step++) {
        const live = k.processes();
        const proc = live[rnd(live.length)];
        const a = rnd(32);
        const n = 1 + rnd(6);
        switch (rnd(10)) {
          case 0:
            proc.mmap(p(a), n * P, [RW, PROT_READ, 0, 7][rnd(4)], ANON | 0x10, -1, 0);
            break;
          case 1:
            proc.mmap(p(a), n * P, [RW, PROT_READ][rnd(2)], [MAP_PRIVATE, MAP_SHARED][rnd(2)] | 0x10, f, rnd(20) * P);
            break;
          case 2:
            proc.munmap(p(a), n * P);
            break;
          case 3:
            proc.mprotect(p(a), n * P, [RW, PROT_READ, 0, 7][rnd(4)]);
            break;
          case 4:
          case 5:
          case 6:
            proc.touch(p(a), rnd(3) > 0);
            break;
          case 7:
            if (live.length < 6) procs.push(proc.fork());
            break;
          case 8:
            if (live.length > 1) proc.exit();
            break;
          default:
            if (rnd(2)) k.resizeFile(f, 8 + rnd(20));
            else proc.brk(proc.layout().start_brk + rnd(8) * P);
        }
        const out = checkKernel(k);
        expect(out, `step ${step}`).toEqual([]);
      }
    });
  });
}
