// prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME) under linux-5.17 (kernel-facts §8.5, §10,
// §12 S28): names split and merge like flags, compared by content; mmap and
// brk pass none; the name checks (length, characters), the argument checks,
// the walk (gaps ENOMEM at the end, file VMAs EBADF), EAGAIN at the limit.
// Run on the model and on the engine.

import { describe, expect, it } from "vitest";
import { EAGAIN, EBADF, EINVAL, ENOMEM, MAP_PRIVATE, PROT_READ } from "../../src/abi/constants.js";
import type { ProcessSim } from "../../src/types.js";
import { MEM_IMPLS, W, emptyImage, expectMemClean } from "./memutil.js";
import { NOREPLACE, P, PROT_RW, RA, RW, SHANON, layout, lin, p, prot, region, rw, seg, special } from "./util.js";

/** [start page, end page, name] of the region's VMAs */
const names = (proc: ProcessSim) => region(proc).map((v) => [(v.start - p(0)) / P, (v.end - p(0)) / P, v.anonName]);

for (const impl of MEM_IMPLS) {
  const kernel = (max_map_count?: number) => impl.create({ policy: "linux-5.17", ...(max_map_count ? { max_map_count } : {}) });
  const fresh = (max?: number): ProcessSim => kernel(max).createProcess(emptyImage());

  describe(`${impl.name}: anon VMA names`, () => {
    it("S28: a name splits; the same name on the rest merges (case 7); a new mmap next to it does not merge", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      expect(proc.setAnonName(p(0), 2 * P, "a")).toBe(0);
      expect(names(proc)).toEqual([[0, 2, "a"], [2, 4, null]]);
      expect(proc.setAnonName(p(2), 2 * P, "a")).toBe(0);
      expect(names(proc)).toEqual([[0, 4, "a"]]);
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      rw(proc, 4, 6);
      expect(names(proc)).toEqual([[0, 4, "a"], [4, 6, null]]);
      expectMemClean(proc.kernel);
    });

    it("names compare by content; a different name does not merge; null clears and re-merges", () => {
      const proc = fresh();
      rw(proc, 0, 6);
      expect(proc.setAnonName(p(0), 2 * P, "heap" + "-1")).toBe(0);
      expect(proc.setAnonName(p(2), 2 * P, ["heap", "1"].join("-"))).toBe(0);
      expect(proc.setAnonName(p(4), 2 * P, "heap-2")).toBe(0);
      expect(names(proc)).toEqual([[0, 4, "heap-1"], [4, 6, "heap-2"]]);
      expect(proc.setAnonName(p(0), 6 * P, null)).toBe(0);
      expect(names(proc)).toEqual([[0, 6, null]]);
      expectMemClean(proc.kernel);
    });

    it("names survive splits by mprotect and fork; a faulted named VMA keeps its anon_vma", () => {
      const proc = fresh();
      rw(proc, 0, 4);
      W(proc, 0);
      expect(proc.setAnonName(p(0), 4 * P, "x")).toBe(0);
      prot(proc, 1, 2, PROT_READ);
      expect(names(proc)).toEqual([[0, 1, "x"], [1, 2, "x"], [2, 4, "x"]]);
      expect(layout(proc)[1]).toEqual(seg(1, 2, RA, lin(1)));
      const child = proc.fork();
      expect(names(child)).toEqual([[0, 1, "x"], [1, 2, "x"], [2, 4, "x"]]);
      prot(proc, 1, 2, PROT_RW);
      expect(names(proc)).toEqual([[0, 4, "x"]]);
      expectMemClean(proc.kernel);
    });

    it("name checks: at most 79 characters, printable ASCII without \\ ` $ [ ]", () => {
      const proc = fresh();
      rw(proc, 0, 1);
      expect(proc.setAnonName(p(0), P, "n".repeat(79))).toBe(0);
      expect(proc.setAnonName(p(0), P, "n".repeat(80))).toBe(-EINVAL);
      for (const bad of ["a\\b", "a`b", "a$b", "a[b", "a]b", "a\nb", "a\x7fb", "é"]) {
        expect(proc.setAnonName(p(0), P, bad), JSON.stringify(bad)).toBe(-EINVAL);
      }
      expect(proc.setAnonName(p(0), P, " ~!@#%^&*()_+{}|:\"<>?-=;',./")).toBe(0);
      expect(names(proc)).toEqual([[0, 1, " ~!@#%^&*()_+{}|:\"<>?-=;',./"]]);
    });

    it("a bad name is EINVAL before any argument check", () => {
      const proc = fresh();
      expect(proc.setAnonName(p(0) + 1, P, "a$")).toBe(-EINVAL);
      expect(proc.setAnonName(p(0), 0, "a$")).toBe(-EINVAL);
    });

    it("the name is a C string: it ends at its first NUL; an empty name is a name, not null", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.setAnonName(p(0), P, "ab\0$$$")).toBe(0);
      expect(proc.setAnonName(p(1), P, "")).toBe(0);
      expect(names(proc)).toEqual([[0, 1, "ab"], [1, 2, ""]]);
    });

    it("argument checks: unaligned start EINVAL, length 0 is 0, a length rounding to 0 or an end that wraps EINVAL", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      expect(proc.setAnonName(p(0) + 1, P, "a")).toBe(-EINVAL);
      expect(proc.setAnonName(p(0), 0, "a")).toBe(0);
      expect(proc.setAnonName(p(9), 0, "a")).toBe(0);
      expect(proc.setAnonName(p(0), -1, "a")).toBe(-EINVAL);
      expect(proc.setAnonName(p(0), -2 * P, "a")).toBe(-EINVAL);
      expect(proc.setAnonName(p(0), 1, "a")).toBe(0); // rounded up to a page
      expect(names(proc)).toEqual([[0, 1, "a"], [1, 2, null]]);
    });

    it("gaps are ENOMEM at the end, the mapped parts named; a file VMA (also shared anonymous memory) is EBADF and stops the walk", () => {
      const proc = fresh();
      rw(proc, 0, 1);
      rw(proc, 2, 3);
      expect(proc.setAnonName(p(0), 4 * P, "g")).toBe(-ENOMEM);
      expect(names(proc)).toEqual([[0, 1, "g"], [2, 3, "g"]]);
      expect(proc.setAnonName(p(5), P, "g")).toBe(-ENOMEM);
      const f = proc.kernel.createFile("/tmp/f", 4);
      expect(proc.mmap(p(10), 2 * P, PROT_RW, MAP_PRIVATE | NOREPLACE, f, 0)).toBe(p(10));
      expect(proc.mmap(p(12), 2 * P, PROT_RW, SHANON | NOREPLACE, -1, 0)).toBe(p(12));
      rw(proc, 8, 10);
      expect(proc.setAnonName(p(8), 6 * P, "h")).toBe(-EBADF);
      expect(names(proc).slice(2)).toEqual([[8, 10, "h"], [10, 12, null], [12, 14, null]]);
      expect(proc.setAnonName(p(12), 2 * P, "h")).toBe(-EBADF);
    });

    it("at the map-count limit a split is EAGAIN", () => {
      const proc = fresh(1);
      rw(proc, 0, 4);
      expect(proc.setAnonName(p(1), P, "l")).toBe(-EAGAIN);
      expect(proc.setAnonName(p(0), 4 * P, "l")).toBe(0);
      expect(names(proc)).toEqual([[0, 4, "l"]]);
    });

    it("a special mapping without a file can be named as a whole, not in part (may_split: EINVAL)", () => {
      const proc = kernel().createProcess();
      const vdso = special(proc, "[vdso]");
      expect(proc.setAnonName(vdso.start, vdso.end - vdso.start, "v")).toBe(0);
      expect(special(proc, "[vdso]").anonName).toBe("v");
      expect(proc.setAnonName(vdso.start, P, "w")).toBe(-EINVAL);
    });

    it("mremap keeps the name; a moved unfaulted VMA merges only with a neighbour of the same name", () => {
      const proc = fresh();
      rw(proc, 0, 2);
      rw(proc, 10, 12);
      expect(proc.setAnonName(p(10), 2 * P, "m")).toBe(0);
      expect(proc.mremap(p(10), 2 * P, 2 * P, 3, p(2))).toBe(p(2));
      expect(names(proc)).toEqual([[0, 2, null], [2, 4, "m"]]);
      expect(proc.setAnonName(p(0), 2 * P, "m")).toBe(0);
      expect(names(proc)).toEqual([[0, 4, "m"]]);
      expectMemClean(proc.kernel);
    });
  });
}
