// Every error path of kernel-facts §10 for mmap, munmap, mprotect and brk
// that the VMA layer can reach, in the kernel's order of checks, and the
// max_map_count limits with their off-by-one (§3.2, S36).

import { describe, expect, it } from "vitest";
import {
  EACCES, EAGAIN, EBADF, EEXIST, EINVAL, ENOMEM, EOVERFLOW, EPERM, MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN,
  MAP_HUGETLB, MAP_LOCKED, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_SYNC, PROT_EXEC, PROT_GROWSDOWN,
  PROT_GROWSUP, PROT_READ, PROT_SEM, PROT_WRITE, TASK_SIZE, VM_ACCOUNT, VM_GROWSDOWN, VM_WRITE,
} from "../../src/abi/constants.js";
import { defaultImage } from "../../src/image.js";
import { KernelModel, ProcessModel } from "../../src/model/index.js";
import type { ProcessSim } from "../../src/types.js";
import { IMPLS } from "../helpers/impls.js";
import {
  ANON, NONE, NOREPLACE, P, PROT_RW, R, RA, RW, SHANON, expectClean, layout, lin, none, p, prot, ro, rw, seg,
  special,
} from "./util.js";

/** EOPNOTSUPP (not in src/abi/constants.ts yet). */
const EOPNOTSUPP = 95;

for (const impl of IMPLS) {
  const kernel = () => impl.create({ policy: "linux-5.17" });
  const fresh = () => kernel().createProcess();
  /** Set vm.max_map_count to the process's current map_count (+ delta). */
  const limitAt = (proc: ProcessSim, delta = 0) => proc.kernel.setMaxMapCount(proc.counters().map_count + delta);

  describe(`${impl.name}: mmap errors`, () => {
    it("offset not page aligned -> EINVAL, checked first (before fd and len)", () => {
      const proc = fresh();
      expect(proc.mmap(0, P, PROT_READ, MAP_PRIVATE, 424242, 1)).toBe(-EINVAL);
      expect(proc.mmap(0, 0, PROT_READ, ANON, -1, 100)).toBe(-EINVAL);
    });

    it("invalid fd without MAP_ANONYMOUS -> EBADF, before the len check", () => {
      const proc = fresh();
      expect(proc.mmap(0, P, PROT_READ, MAP_PRIVATE, 424242, 0)).toBe(-EBADF);
      expect(proc.mmap(0, 0, PROT_READ, MAP_PRIVATE, -1, 0)).toBe(-EBADF);
    });

    it("len == 0 -> EINVAL", () => {
      expect(fresh().mmap(0, 0, PROT_READ, ANON, -1, 0)).toBe(-EINVAL);
    });

    it("PAGE_ALIGN(len) wrapping to 0 -> ENOMEM; a huge aligned len -> ENOMEM from get_unmapped_area", () => {
      const proc = fresh();
      expect(proc.mmap(0, -1, PROT_READ, ANON, -1, 0)).toBe(-ENOMEM); // 2^64 - 1
      expect(proc.mmap(0, -4095, PROT_READ, ANON, -1, 0)).toBe(-ENOMEM); // 2^64 - 4095
      expect(proc.mmap(0, -4096, PROT_READ, ANON, -1, 0)).toBe(-ENOMEM); // 2^64 - 4096, no wrap
      expect(proc.mmap(0, TASK_SIZE + P, PROT_READ, ANON, -1, 0)).toBe(-ENOMEM);
      expectClean(proc);
    });

    it("file offset + len beyond MAX_LFS_FILESIZE -> EOVERFLOW; anonymous mappings ignore the offset", () => {
      const k = kernel();
      const f = k.createFile("/tmp/big", 4);
      const proc = k.createProcess();
      expect(proc.mmap(p(0), P, PROT_READ, MAP_PRIVATE | NOREPLACE, f, 2 ** 63)).toBe(-EOVERFLOW);
      expect(proc.mmap(p(0), P, PROT_READ, MAP_PRIVATE | NOREPLACE, f, 2 ** 63 - P)).toBe(-EOVERFLOW);
      expect(proc.mmap(p(0), P, PROT_READ, MAP_PRIVATE | NOREPLACE, f, 2 ** 63 - 2 * P)).toBe(p(0));
      expect(layout(proc)).toEqual([seg(0, 1, R, 2 ** 51 - 2)]);
      expect(proc.mmap(p(4), P, PROT_READ, ANON | NOREPLACE, -1, 2 ** 63)).toBe(p(4));
      expect(layout(proc)[1]).toEqual(seg(4, 5, R, lin(4)));
      expectClean(proc);
    });

    it("invalid map type -> EINVAL (anonymous: neither, MAP_SHARED_VALIDATE, 4..15; file: neither)", () => {
      const k = kernel();
      const f = k.createFile("/tmp/t", 4);
      const proc = k.createProcess();
      for (const type of [0, MAP_SHARED_VALIDATE, 4, 7, 15]) {
        expect(proc.mmap(0, P, PROT_READ, type | MAP_ANONYMOUS, -1, 0), `type ${type}`).toBe(-EINVAL);
      }
      expect(proc.mmap(0, P, PROT_READ, 0, f, 0)).toBe(-EINVAL);
      // For a file both bits = MAP_SHARED_VALIDATE, which is a valid shared mapping.
      expect(proc.mmap(p(0), P, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED, f, 0)).toBe(p(0));
      expectClean(proc);
    });

    it("MAP_SHARED_VALIDATE with a flag the file does not support -> EOPNOTSUPP; plain MAP_SHARED ignores it", () => {
      const k = kernel();
      const f = k.createFile("/tmp/v", 4);
      const proc = k.createProcess();
      expect(proc.mmap(p(0), P, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED | MAP_SYNC, f, 0)).toBe(-EOPNOTSUPP);
      // MAP_FIXED_NOREPLACE is not in 5.17's LEGACY_MAP_MASK either (EEXIST is checked before).
      expect(proc.mmap(p(0), P, PROT_READ, MAP_SHARED_VALIDATE | NOREPLACE, f, 0)).toBe(-EOPNOTSUPP);
      expect(proc.mmap(p(0), P, PROT_READ, MAP_SHARED | NOREPLACE | 0x800000, f, 0)).toBe(p(0));
      expect(proc.mmap(p(0), P, PROT_READ, MAP_SHARED_VALIDATE | NOREPLACE, f, 0)).toBe(-EEXIST);
      expectClean(proc);
    });

    it("MAP_FIXED with an unaligned address -> EINVAL; beyond TASK_SIZE wins over misalignment", () => {
      const proc = fresh();
      expect(proc.mmap(p(0) + 1, P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-EINVAL);
      expect(proc.mmap(p(0) + 1, P, PROT_READ, ANON | NOREPLACE, -1, 0)).toBe(-EINVAL);
      expect(proc.mmap(TASK_SIZE - P + 1, P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-ENOMEM);
      expect(layout(proc)).toEqual([]);
    });

    it("MAP_FIXED range beyond TASK_SIZE -> ENOMEM; up to TASK_SIZE is fine", () => {
      const proc = fresh();
      expect(proc.mmap(TASK_SIZE - P, 2 * P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-ENOMEM);
      expect(proc.mmap(TASK_SIZE, P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-ENOMEM);
      expect(proc.mmap(2 ** 60, P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-ENOMEM);
      const stack = proc.vmas()[proc.vmas().length - 1];
      expect(stack.end).toBe(TASK_SIZE);
      expect(proc.mmap(stack.start - P, P, PROT_READ, ANON | NOREPLACE, -1, 0)).toBe(stack.start - P);
      expectClean(proc);
    });

    it("MAP_FIXED_NOREPLACE over any part of an existing VMA -> EEXIST, nothing changes", () => {
      const proc = fresh();
      rw(proc, 2, 4);
      const before = proc.vmas();
      expect(proc.mmap(p(1), 2 * P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(-EEXIST);
      expect(proc.mmap(p(3), 2 * P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(-EEXIST);
      expect(proc.mmap(p(0), 8 * P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(-EEXIST);
      expect(proc.vmas()).toEqual(before);
    });

    it("address below mmap_min_addr with MAP_FIXED -> EPERM; a low hint is raised to mmap_min_addr", () => {
      const proc = fresh();
      expect(proc.mmap(0x1000, P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-EPERM);
      expect(proc.mmap(0xf000, 2 * P, PROT_READ, ANON | NOREPLACE, -1, 0)).toBe(-EPERM);
      expect(proc.mmap(0x1000, P, PROT_READ, ANON, -1, 0)).toBe(0x10000);
      expect(proc.mmap(0x10000 + P, P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(0x11000);
      expectClean(proc);
    });

    it("an EPERM from get_unmapped_area comes before the map-type EINVAL; EEXIST too", () => {
      const proc = fresh();
      expect(proc.mmap(0x1000, P, PROT_READ, MAP_FIXED | MAP_ANONYMOUS, -1, 0)).toBe(-EPERM);
      rw(proc, 0, 1);
      expect(proc.mmap(p(0), P, PROT_READ, NOREPLACE | MAP_ANONYMOUS, -1, 0)).toBe(-EEXIST);
      expect(proc.mmap(p(1), P, PROT_READ, NOREPLACE | MAP_ANONYMOUS, -1, 0)).toBe(-EINVAL);
    });

    it("MAP_GROWSDOWN on a shared anonymous or any file mapping -> EINVAL", () => {
      const k = kernel();
      const f = k.createFile("/tmp/g", 4);
      const proc = k.createProcess();
      expect(proc.mmap(p(0), P, PROT_RW, SHANON | MAP_GROWSDOWN | NOREPLACE, -1, 0)).toBe(-EINVAL);
      expect(proc.mmap(p(0), P, PROT_RW, MAP_PRIVATE | MAP_GROWSDOWN | NOREPLACE, f, 0)).toBe(-EINVAL);
      expect(proc.mmap(p(0), P, PROT_RW, MAP_SHARED | MAP_GROWSDOWN | NOREPLACE, f, 0)).toBe(-EINVAL);
      expect(proc.mmap(p(0), P, PROT_RW, ANON | MAP_GROWSDOWN | NOREPLACE, -1, 0)).toBe(p(0));
      expect(layout(proc)).toEqual([seg(0, 1, (RW | VM_GROWSDOWN) >>> 0, lin(0))]);
      expectClean(proc);
    });

    it("MAP_HUGETLB on a regular file -> EINVAL", () => {
      const k = kernel();
      const f = k.createFile("/tmp/h", 4);
      expect(k.createProcess().mmap(0, P, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, f, 0)).toBe(-EINVAL);
    });

    it("no free range large enough -> ENOMEM", () => {
      const proc = fresh();
      // Larger than every gap, below TASK_SIZE.
      expect(proc.mmap(0, 0x700000000000, PROT_READ, ANON, -1, 0)).toBe(-ENOMEM);
      expect(proc.mmap(0, TASK_SIZE, PROT_READ, ANON, -1, 0)).toBe(-ENOMEM);
      expectClean(proc);
    });

    it("max_map_count: mmap may reach max + 1 (check is map_count > max), then ENOMEM", () => {
      const proc = fresh();
      limitAt(proc, 1);
      rw(proc, 0, 1); // count = max
      none(proc, 2, 3); // count = max + 1: allowed, 'map_count > max' was false
      const count = proc.counters().map_count;
      expect(count).toBe(proc.kernel.maxMapCount() + 1);
      expect(proc.mmap(p(4), P, PROT_READ, ANON | NOREPLACE, -1, 0)).toBe(-ENOMEM);
      // checked before placement and merging: a mapping that would merge, or would be EEXIST, fails too
      expect(proc.mmap(p(1), P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(-ENOMEM);
      expect(proc.mmap(p(0), P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(-ENOMEM);
      expect(proc.counters().map_count).toBe(count);
      expectClean(proc);
    });

    it("MAP_FIXED over the middle of a VMA at the limit -> ENOMEM (the unmap needs a split), no change", () => {
      const proc = fresh();
      rw(proc, 0, 6);
      limitAt(proc);
      const before = proc.vmas();
      expect(proc.mmap(p(2), 2 * P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-ENOMEM);
      expect(proc.vmas()).toEqual(before);
      // over the head: no split before the limit check of munmap -> fine
      expect(proc.mmap(p(0), 2 * P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(p(0));
      expect(layout(proc)).toEqual([seg(0, 2, R, lin(0)), seg(2, 6, RW, lin(2))]);
      expectClean(proc);
    });

    it("MAP_FIXED over part of [vdso] -> ENOMEM (special mappings refuse to split)", () => {
      const proc = fresh();
      const vdso = special(proc, "[vdso]");
      const before = proc.vmas();
      expect(proc.mmap(vdso.start, P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-ENOMEM);
      expect(proc.vmas()).toEqual(before);
    });
  });

  describe(`${impl.name}: munmap errors`, () => {
    it("unaligned start, len == 0, start beyond TASK_SIZE, len beyond TASK_SIZE - start -> EINVAL", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      const before = proc.vmas();
      expect(proc.munmap(p(0) + 1, P)).toBe(-EINVAL);
      expect(proc.munmap(p(0), 0)).toBe(-EINVAL);
      expect(proc.munmap(TASK_SIZE + P, P)).toBe(-EINVAL);
      expect(proc.munmap(TASK_SIZE, P)).toBe(-EINVAL);
      expect(proc.munmap(p(0), TASK_SIZE)).toBe(-EINVAL);
      expect(proc.munmap(p(0), -1)).toBe(-EINVAL);
      expect(proc.vmas()).toEqual(before);
    });

    it("unmapping an unmapped range succeeds (0); an unaligned len is rounded up", () => {
      const proc = fresh();
      expect(proc.munmap(p(0), 10 * P)).toBe(0);
      rw(proc, 0, 4);
      expect(proc.munmap(p(1), 1)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(2, 4, RW, lin(2))]);
      expect(proc.munmap(p(0), TASK_SIZE - p(0))).toBe(0); // everything from p0 up, including the stack
      expect(proc.vmas().every((v) => v.end <= p(0))).toBe(true);
      expectClean(proc);
    });

    it("at the limit: a hole inside one VMA -> ENOMEM; head and tail trims and whole VMAs succeed", () => {
      const proc = fresh();
      rw(proc, 0, 8);
      ro(proc, 10, 12);
      limitAt(proc);
      const before = proc.vmas();
      expect(proc.munmap(p(3), P)).toBe(-ENOMEM);
      expect(proc.vmas()).toEqual(before);
      expect(proc.munmap(p(0), P)).toBe(0); // head
      expect(proc.munmap(p(7), P)).toBe(0); // tail
      expect(proc.munmap(p(10), 2 * P)).toBe(0); // whole VMA
      expect(layout(proc)).toEqual([seg(1, 7, RW, lin(1))]);
      expect(proc.counters().map_count).toBe(proc.kernel.maxMapCount() - 1);
      expectClean(proc);
    });

    it("at the limit: a range crossing two VMAs splits both (transiently max + 1) and succeeds", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      ro(proc, 4, 8);
      limitAt(proc);
      expect(proc.munmap(p(2), 4 * P)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(6, 8, R, lin(6))]);
      expect(proc.counters().map_count).toBe(proc.kernel.maxMapCount());
      expectClean(proc);
    });

    it("partial munmap of [vdso] -> EINVAL (may_split); the whole of it can be unmapped", () => {
      const proc = fresh();
      const vdso = special(proc, "[vdso]");
      const before = proc.vmas();
      expect(proc.munmap(vdso.start, P)).toBe(-EINVAL);
      expect(proc.vmas()).toEqual(before);
      expect(proc.munmap(vdso.start, vdso.end - vdso.start)).toBe(0);
      expect(proc.vmas().some((v) => v.special === "[vdso]")).toBe(false);
      expectClean(proc);
    });
  });

  describe(`${impl.name}: mprotect errors`, () => {
    it("PROT_GROWSDOWN|PROT_GROWSUP, unaligned start, unknown prot bits -> EINVAL", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.mprotect(p(0), P, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP)).toBe(-EINVAL);
      expect(proc.mprotect(p(0) + 8, P, PROT_READ)).toBe(-EINVAL);
      expect(proc.mprotect(p(0), P, 0x10)).toBe(-EINVAL);
      expect(proc.mprotect(p(0), P, PROT_READ | 0x80000000)).toBe(-EINVAL);
      expect(proc.mprotect(p(0), P, PROT_READ | PROT_SEM)).toBe(0); // PROT_SEM is accepted and ignored
      expect(layout(proc)).toEqual([seg(0, 1, RA, lin(0)), seg(1, 2, RW, lin(1))]);
    });

    it("len == 0 -> 0 before the prot check; the alignment check comes first", () => {
      const proc = fresh();
      expect(proc.mprotect(p(0), 0, 0x10)).toBe(0);
      expect(proc.mprotect(p(0) + 1, 0, PROT_READ)).toBe(-EINVAL);
      expect(proc.mprotect(0x1000, 0, PROT_READ)).toBe(0);
    });

    it("range wrapping around -> ENOMEM (also before the prot check)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.mprotect(p(0), -P, PROT_READ)).toBe(-ENOMEM);
      expect(proc.mprotect(p(0), -1, PROT_READ)).toBe(-ENOMEM); // PAGE_ALIGN wraps to 0: end == start
      expect(proc.mprotect(p(0), -P, 0x10)).toBe(-ENOMEM);
    });

    it("start not mapped -> ENOMEM", () => {
      const proc = fresh();
      rw(proc, 2, 4);
      expect(proc.mprotect(p(0), P, PROT_READ)).toBe(-ENOMEM); // gap, VMA above
      expect(proc.mprotect(p(1), 2 * P, PROT_READ)).toBe(-ENOMEM); // starts in the gap
      expect(proc.mprotect(TASK_SIZE, P, PROT_READ)).toBe(-ENOMEM); // nothing at or above TASK_SIZE
      expect(layout(proc)).toEqual([seg(2, 4, RW, lin(2))]);
    });

    it("a hole inside the range -> ENOMEM after changing the VMAs before it", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      ro(proc, 3, 5);
      expect(proc.mprotect(p(0), 5 * P, PROT_READ)).toBe(-ENOMEM);
      expect(layout(proc)).toEqual([seg(0, 2, RA, lin(0)), seg(3, 5, R, lin(3))]);
      expectClean(proc);
    });

    it("access beyond VM_MAY* -> EACCES ([vvar] has no VM_MAYWRITE), after changing earlier VMAs", () => {
      const proc = fresh();
      const vvar = special(proc, "[vvar]");
      const before = proc.vmas();
      expect(proc.mprotect(vvar.start, P, PROT_RW)).toBe(-EACCES);
      expect(proc.mprotect(vvar.start, P, PROT_EXEC)).toBe(-EACCES);
      expect(proc.vmas()).toEqual(before);
      // an anonymous R VMA right below [vvar]: it is changed, then [vvar] refuses
      const a = vvar.start - 2 * P;
      expect(proc.mmap(a, 2 * P, PROT_READ, ANON | NOREPLACE, -1, 0)).toBe(a);
      expect(proc.mprotect(a, 3 * P, PROT_RW)).toBe(-EACCES);
      const below = proc.vmas().find((v) => v.start === a)!;
      expect(below.flags).toBe(RW);
      expect(special(proc, "[vvar]")).toEqual(vvar);
      expectClean(proc);
    });

    it("PROT_GROWSDOWN needs a VM_GROWSDOWN VMA (EINVAL) and extends the start to it; PROT_GROWSUP -> EINVAL", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.mprotect(p(1), P, PROT_READ | PROT_GROWSDOWN)).toBe(-EINVAL);
      expect(proc.mprotect(p(1), P, PROT_READ | PROT_GROWSUP)).toBe(-EINVAL);
      expect(proc.mprotect(p(3), P, PROT_READ | PROT_GROWSUP)).toBe(-ENOMEM); // unmapped start first
      expect(proc.mmap(p(4), 4 * P, PROT_RW, ANON | MAP_GROWSDOWN | NOREPLACE, -1, 0)).toBe(p(4));
      expect(proc.mprotect(p(6), P, PROT_READ | PROT_GROWSDOWN)).toBe(0);
      const GD = (RW | VM_GROWSDOWN) >>> 0;
      expect(layout(proc)).toEqual([
        seg(0, 2, RW, lin(0)), seg(4, 7, (GD & ~VM_WRITE) >>> 0, lin(4)), seg(7, 8, GD, lin(7)),
      ]);
      expect((layout(proc)[1].flags & VM_ACCOUNT) !== 0).toBe(true);
      expectClean(proc);
    });

    it("a split at the limit -> ENOMEM; no split needed (whole VMA, or a merge) -> fine", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      ro(proc, 4, 8);
      limitAt(proc);
      const before = proc.vmas();
      expect(proc.mprotect(p(1), P, PROT_READ)).toBe(-ENOMEM); // middle: two splits
      expect(proc.mprotect(p(0), P, PROT_READ)).toBe(-ENOMEM); // head without a mergeable prev: one split
      expect(proc.vmas()).toEqual(before);
      expect(proc.mprotect(p(4), 2 * P, PROT_RW)).toBe(0); // case 5: head of N joins P, no split
      expect(layout(proc)).toEqual([seg(0, 6, RW, lin(0)), seg(6, 8, R, lin(6))]);
      expect(proc.mprotect(p(6), 2 * P, PROT_EXEC)).toBe(0); // whole VMA
      expectClean(proc);
    });

    it("a split of a special mapping -> EINVAL (may_split); the whole of it can be changed", () => {
      const proc = fresh();
      const vdso = special(proc, "[vdso]");
      expect(proc.mprotect(vdso.start, P, PROT_READ)).toBe(-EINVAL);
      expect(special(proc, "[vdso]")).toEqual(vdso);
      expect(proc.mprotect(vdso.start, vdso.end - vdso.start, PROT_READ)).toBe(0);
      expect(special(proc, "[vdso]")).toMatchObject({ start: vdso.start, end: vdso.end });
      expectClean(proc);
    });

    it("one below the limit: the first split succeeds, the second fails -> ENOMEM with the split left", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      limitAt(proc, 1);
      expect(proc.mprotect(p(1), P, PROT_READ)).toBe(-ENOMEM);
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(1, 4, RW, lin(1))]);
      expectClean(proc);
    });
  });

  describe(`${impl.name}: brk failures return the old break`, () => {
    it("below start_brk (brk(0) included) -> old break, nothing changes", () => {
      const proc = fresh();
      const H = proc.layout().start_brk;
      expect(proc.brk(H + 3 * P)).toBe(H + 3 * P);
      const before = proc.vmas();
      expect(proc.brk(0)).toBe(H + 3 * P);
      expect(proc.brk(H - P)).toBe(H + 3 * P);
      expect(proc.brk(-1)).toBe(H + 3 * P);
      expect(proc.brk(TASK_SIZE + P)).toBe(H + 3 * P);
      expect(proc.vmas()).toEqual(before);
      expect(proc.layout().brk).toBe(H + 3 * P);
    });

    it("growing to within one page of the next VMA -> old break", () => {
      const proc = fresh();
      const H = proc.layout().start_brk;
      expect(proc.mmap(H + 4 * P, P, PROT_READ, ANON | NOREPLACE, -1, 0)).toBe(H + 4 * P);
      expect(proc.brk(H + 3 * P)).toBe(H + 3 * P);
      expect(proc.brk(H + 3 * P + 1)).toBe(H + 3 * P);
      expect(proc.brk(H + 4 * P)).toBe(H + 3 * P);
      expectClean(proc);
    });

    it("a new heap VMA when map_count > max -> old break; at map_count == max it is allowed", () => {
      const proc = fresh();
      const H = proc.layout().start_brk;
      limitAt(proc, -1);
      expect(proc.brk(H + P)).toBe(H);
      limitAt(proc);
      expect(proc.brk(H + P)).toBe(H + P);
      expect(proc.counters().map_count).toBe(proc.kernel.maxMapCount() + 1);
      expectClean(proc);
    });

    it("a heap below mmap_min_addr cannot grow (get_unmapped_area -> EPERM)", () => {
      const img = defaultImage();
      img.start_brk = 0x8000;
      const proc = kernel().createProcess(img);
      expect(proc.brk(0x9000)).toBe(0x8000);
      expect(proc.vmas().filter((v) => v.start < 0x10000)).toEqual([]);
    });

    it("a shrink whose unmap would split a VMA at the limit -> old break, brk restored", () => {
      const proc = fresh();
      const H = proc.layout().start_brk;
      expect(proc.brk(H + 2 * P)).toBe(H + 2 * P);
      // A mapping right after the heap merges with it (same flags, continuous pgoff).
      expect(proc.mmap(H + 2 * P, 2 * P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(H + 2 * P);
      const heap = proc.vmas().find((v) => v.start === H)!;
      expect(heap.end).toBe(H + 4 * P);
      limitAt(proc);
      expect(proc.brk(H + P)).toBe(H + 2 * P); // munmap [H+P, H+2P) is strictly inside the VMA
      expect(proc.layout().brk).toBe(H + 2 * P);
      expect(proc.vmas().find((v) => v.start === H)).toEqual(heap);
      expectClean(proc);
    });
  });
}

// ---------------------------------------------------------------------------
// Limits that the KernelSim interface cannot set yet (RLIMIT_AS, RLIMIT_DATA,
// RLIMIT_MEMLOCK are infinite by default): their error paths, on the model.

describe("model internals: resource limits", () => {
  const fresh = () => new KernelModel({ policy: "linux-5.17" }).createProcess() as ProcessModel;

  it("RLIMIT_AS: mmap beyond it -> ENOMEM; MAP_FIXED may reuse the pages it replaces", () => {
    const proc = fresh();
    proc.mm.rlimit.as = (proc.mm.total_vm + 4) * P;
    rw(proc, 0, 4);
    expect(proc.mmap(p(4), P, PROT_READ, ANON | NOREPLACE, -1, 0)).toBe(-ENOMEM);
    expect(proc.mmap(p(3), 2 * P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-ENOMEM);
    expect(proc.mmap(p(2), 2 * P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(p(2));
    expectClean(proc);
  });

  it("RLIMIT_MEMLOCK: 0 -> MAP_LOCKED is EPERM; too small -> EAGAIN", () => {
    const proc = fresh();
    proc.mm.rlimit.memlock = 0;
    expect(proc.mmap(p(0), P, PROT_RW, ANON | MAP_LOCKED | NOREPLACE, -1, 0)).toBe(-EPERM);
    proc.mm.rlimit.memlock = 2 * P;
    expect(proc.mmap(p(0), 3 * P, PROT_RW, ANON | MAP_LOCKED | NOREPLACE, -1, 0)).toBe(-EAGAIN);
    expect(proc.mmap(p(0), 2 * P, PROT_RW, ANON | MAP_LOCKED | NOREPLACE, -1, 0)).toBe(p(0));
    expect(proc.mmap(p(2), P, PROT_RW, ANON | MAP_LOCKED | NOREPLACE, -1, 0)).toBe(-EAGAIN);
    expect(proc.mmap(p(2), P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(p(2));
    expectClean(proc);
  });

  it("RLIMIT_DATA: writable private mappings, mprotect to writable and brk are limited; R is not", () => {
    const proc = fresh();
    proc.mm.rlimit.data = (proc.mm.data_vm + 2) * P;
    expect(proc.mmap(p(0), 3 * P, PROT_RW, ANON | NOREPLACE, -1, 0)).toBe(-ENOMEM);
    ro(proc, 0, 3);
    expect(proc.mprotect(p(0), 3 * P, PROT_RW)).toBe(-ENOMEM);
    expect(layout(proc)).toEqual([seg(0, 3, R, lin(0))]);
    prot(proc, 0, 2, PROT_RW);
    const H = proc.layout().start_brk;
    expect(proc.brk(H + P)).toBe(H);
    expectClean(proc);
  });
});
