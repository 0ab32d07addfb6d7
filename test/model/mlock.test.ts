// mlock(2) / mlock2(2) / munlock(2) / mlockall(2) / munlockall(2) under
// linux-5.17 (kernel-facts §8.2, §10, §12 S24): the range rounding, the holes, the
// merge/split and locked_vm, the populate and its POSIX errors, ONFAULT,
// VM_SPECIAL VMAs left alone, mlockall's def_flags. Run on the model and on
// the engine.

import { describe, expect, it } from "vitest";
import {
  EINVAL, ENOMEM, MAP_SHARED, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT, VM_LOCKED, VM_LOCKONFAULT,
} from "../../src/abi/constants.js";
import type { ProcessSim } from "../../src/types.js";
import { MEM_IMPLS, W, emptyImage, expectMemClean, pteAt } from "./memutil.js";
import { NONE, NOREPLACE, P, PROT_RW, R, RW, layout, lin, none, p, region, ro, rw, seg, special } from "./util.js";

const L = VM_LOCKED;
const LOF = VM_LOCKED | VM_LOCKONFAULT;
const lk = (f: number) => (f | VM_LOCKED) >>> 0;
const lkof = (f: number) => (f | LOF) >>> 0;

for (const impl of MEM_IMPLS) {
  const kernel = (max_map_count?: number) => impl.create({ policy: "linux-5.17", ...(max_map_count ? { max_map_count } : {}) });
  const fresh = (max?: number): ProcessSim => kernel(max).createProcess(emptyImage());

  describe(`${impl.name}: mlock / munlock`, () => {
    it("S24: mlock of a middle page splits, munlock re-merges (case 6); the start is rounded down", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      for (let n = 0; n < 4; n++) W(proc, n);
      expect(proc.mlock(p(1), P, 0)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(1, 2, lk(RW), lin(1)), seg(2, 4, RW, lin(2))]);
      expect(proc.counters().locked_vm).toBe(1);
      expect(proc.usage().find((_, i) => proc.vmas()[i].start === p(1))?.locked).toBe(1);
      expect(proc.munlock(p(1), P)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expect(proc.counters().locked_vm).toBe(0);
      expect(proc.mlock(p(1) + 100, 10, 0)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 1, RW, lin(0)), seg(1, 2, lk(RW), lin(1)), seg(2, 4, RW, lin(2))]);
      // length rounding includes the start's offset: [p1 + 4000, + 200) touches p1 and p2
      expect(proc.munlock(p(1) + 4000, 200)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expectMemClean(proc.kernel);
    });

    it("mlock populates: write faults in private writable memory, read faults (zero page) in read-only memory", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      ro(proc, 4, 6);
      expect(proc.mlock(p(0), 2 * P, 0)).toBe(0);
      expect(proc.mlock(p(4), 2 * P, 0)).toBe(0);
      expect([0, 1].map((n) => pteAt(proc, n)?.write)).toEqual([true, true]);
      expect([4, 5].map((n) => pteAt(proc, n))).toEqual([{ addr: p(4), page: 0, write: false }, { addr: p(5), page: 0, write: false }]);
      expect(proc.counters().locked_vm).toBe(4);
      expect(proc.memory().rssAnon).toBe(2);
      expectMemClean(proc.kernel);
    });

    it("MLOCK_ONFAULT sets VM_LOCKONFAULT and faults nothing; a later mlock() clears it and populates", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.mlock(p(0), 2 * P, MLOCK_ONFAULT)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 2, lkof(RW), lin(0))]);
      expect(proc.memory().ptes).toEqual([]);
      expect(proc.counters().locked_vm).toBe(2);
      expect(proc.mlock(p(0), 2 * P, 0)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 2, lk(RW), lin(0))]);
      expect(proc.memory().ptes.length).toBe(2);
      expect(proc.counters().locked_vm).toBe(2);
      expectMemClean(proc.kernel);
    });

    it("mlock2 flags other than MLOCK_ONFAULT are EINVAL (the flags are a C int)", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.mlock(p(0), P, 2)).toBe(-EINVAL);
      expect(proc.mlock(p(0), P, -1)).toBe(-EINVAL);
      expect(proc.mlock(p(0), P, 2 ** 32)).toBe(0); // int 0
      expect(layout(proc)).toEqual([seg(0, 1, lk(RW), lin(0)), seg(1, 2, RW, lin(1))]);
    });

    it("mlock of PROT_NONE: the flag is set and counted, the populate fails: ENOMEM (EFAULT mapped by POSIX)", () => {
      const proc = fresh();
      none(proc, 0, 2);
      expect(proc.mlock(p(0), 2 * P, 0)).toBe(-ENOMEM);
      expect(layout(proc)).toEqual([seg(0, 2, lk(NONE), lin(0))]);
      expect(proc.counters().locked_vm).toBe(2);
      expectMemClean(proc.kernel);
    });

    it("mlock2(MLOCK_ONFAULT) of PROT_NONE is ENOMEM too: v5.17's gup still checks the VMA (FOLL_MLOCK)", () => {
      const proc = fresh();
      none(proc, 0, 2);
      expect(proc.mlock(p(0), 2 * P, MLOCK_ONFAULT)).toBe(-ENOMEM);
      expect(layout(proc)).toEqual([seg(0, 2, lkof(NONE), lin(0))]);
      expect(proc.counters().locked_vm).toBe(2);
    });

    it("holes: an unmapped start and a hole inside are ENOMEM; VMAs before the hole stay locked", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 3, 5);
      expect(proc.mlock(p(2), 2 * P, 0)).toBe(-ENOMEM);
      expect(proc.mlock(p(10), P, 0)).toBe(-ENOMEM);
      expect(proc.mlock(p(0), 5 * P, 0)).toBe(-ENOMEM);
      expect(layout(proc)).toEqual([seg(0, 2, lk(RW), lin(0)), seg(3, 5, RW, lin(3))]);
      expect(proc.memory().ptes).toEqual([]); // the populate never ran
      expect(proc.munlock(p(0), 5 * P)).toBe(-ENOMEM);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(3, 5, RW, lin(3))]);
      expectMemClean(proc.kernel);
    });

    it("length 0 and a length that wraps to 0 are no-ops; an end that wraps is EINVAL", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.mlock(p(0), 0, 0)).toBe(0);
      expect(proc.mlock(p(0), -1, 0)).toBe(0);
      expect(proc.mlock(p(0), -2 * P, 0)).toBe(-EINVAL);
      expect(proc.munlock(p(0), -2 * P)).toBe(-EINVAL);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0))]);
    });

    it("a split at the map-count limit is ENOMEM", () => {
      const proc = fresh(1);
      rw(proc, 0, 4);
      expect(proc.mlock(p(1), P, 0)).toBe(-ENOMEM);
      expect(proc.mlock(p(0), 4 * P, 0)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 4, lk(RW), lin(0))]);
    });

    it("VM_SPECIAL VMAs are left alone: no flag, not counted", () => {
      const proc = kernel().createProcess();
      const vvar = special(proc, "[vvar]");
      expect(proc.mlock(vvar.start, vvar.end - vvar.start, 0)).toBe(0);
      expect(special(proc, "[vvar]").flags & L).toBe(0);
      expect(proc.counters().locked_vm).toBe(0);
    });

    it("shared mappings are populated with read faults", () => {
      const proc = fresh();
      const f = proc.kernel.createFile("/tmp/f", 2);
      expect(proc.mmap(p(0), 2 * P, PROT_RW, MAP_SHARED | NOREPLACE, f, 0)).toBe(p(0));
      expect(proc.mlock(p(0), 2 * P, 0)).toBe(0);
      expect([0, 1].map((n) => pteAt(proc, n)?.write)).toEqual([true, true]); // shared writable: vm_page_prot is
      expect(proc.memory().rssFile).toBe(2);
      expectMemClean(proc.kernel);
    });
  });

  describe(`${impl.name}: mlockall / munlockall`, () => {
    it("flag checks: 0, unknown bits and MCL_ONFAULT alone are EINVAL", () => {
      const proc = fresh();
      for (const f of [0, 8, MCL_ONFAULT, -1]) expect(proc.mlockall(f), `flags ${f}`).toBe(-EINVAL);
    });

    it("MCL_CURRENT locks and populates every VMA; munlockall unlocks them and re-merges nothing it did not split", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      ro(proc, 4, 6);
      none(proc, 8, 9);
      expect(proc.mlockall(MCL_CURRENT)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 2, lk(RW), lin(0)), seg(4, 6, lk(R), lin(4)), seg(8, 9, lk(NONE), lin(8))]);
      expect(proc.counters().locked_vm).toBe(5);
      expect([0, 1, 4, 5].map((n) => pteAt(proc, n) !== undefined)).toEqual([true, true, true, true]);
      // the future is not locked
      rw(proc, 10, 11);
      expect(region(proc).at(-1)!.flags & L).toBe(0);
      expect(proc.munlockall()).toBe(0);
      expect(region(proc).map((v) => v.flags & LOF)).toEqual([0, 0, 0, 0]);
      expect(proc.counters().locked_vm).toBe(0);
      expectMemClean(proc.kernel);
    });

    it("MCL_CURRENT with the default image: special mappings stay unlocked; the counters agree", () => {
      const proc = kernel().createProcess();
      expect(proc.mlockall(MCL_CURRENT)).toBe(0);
      expect(special(proc, "[vdso]").flags & L).toBe(0);
      expect(special(proc, "[vvar]").flags & L).toBe(0);
      expect(proc.vmas().filter((v) => v.special === null).every((v) => v.flags & L)).toBe(true);
      expectMemClean(proc.kernel);
    });

    it("MCL_FUTURE puts VM_LOCKED in def_flags: new mappings are locked and populated", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.mlockall(MCL_FUTURE)).toBe(0);
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0))]);
      rw(proc, 4, 6);
      expect(layout(proc, p(4))).toEqual([seg(4, 6, lk(RW), lin(4))]);
      expect([4, 5].map((n) => pteAt(proc, n)?.write)).toEqual([true, true]);
      expect(proc.counters().locked_vm).toBe(2);
      expect(proc.munlockall()).toBe(0);
      rw(proc, 8, 10);
      expect(region(proc).map((v) => v.flags & L)).toEqual([0, 0, 0]);
      expectMemClean(proc.kernel);
    });

    it("MCL_FUTURE | MCL_ONFAULT: new mappings get VM_LOCKONFAULT and are not populated", () => {
      const proc = fresh();
      expect(proc.mlockall(MCL_FUTURE | MCL_ONFAULT)).toBe(0);
      rw(proc, 0, 2);
      expect(layout(proc)).toEqual([seg(0, 2, lkof(RW), lin(0))]);
      expect(proc.memory().ptes).toEqual([]);
      expect(proc.mlockall(MCL_CURRENT | MCL_ONFAULT)).toBe(0);
      expect(proc.memory().ptes).toEqual([]);
    });
  });
}
