// 6.7 (c4608d1bf7c6, "mm: mmap: map MAP_STACK to VM_NOHUGEPAGE"): a MAP_STACK
// mapping gets VM_NOHUGEPAGE, so a thread stack made read-write by mprotect no
// longer merges with the read-write anonymous VMA next to it. Seen on the real
// 6.18.44 (smaps "nh") and in the side-band of the shared thread traces.
import { describe, expect, it } from "vitest";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_STACK, PROT_READ, PROT_WRITE, VM_NOHUGEPAGE } from "../../src/abi/constants.js";
import { createKernelSync } from "../../src/engine/index.js";
import type { Policy } from "../../src/types.js";

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function stackNextToHeap(policy: Policy, build: "release" | "debug") {
  const p = createKernelSync({ policy }, { build }).createProcess();
  const a = p.mmap(0, 8 * P, PROT_READ, ANON, -1, 0);
  expect(p.mmap(a, 4 * P, RW, ANON | MAP_FIXED, -1, 0)).toBe(a);
  expect(p.mmap(a + 4 * P, 4 * P, RW, ANON | MAP_FIXED | MAP_STACK, -1, 0)).toBe(a + 4 * P);
  return p.vmas().filter((v) => v.start >= a && v.end <= a + 8 * P);
}

for (const build of ["release", "debug"] as const) {
  describe(`MAP_STACK (${build})`, () => {
    it("linux-6.18: VM_NOHUGEPAGE, and no merge with the plain neighbour", () => {
      const vmas = stackNextToHeap("linux-6.18", build);
      expect(vmas).toHaveLength(2);
      expect(vmas[1]!.flags & VM_NOHUGEPAGE).toBe(VM_NOHUGEPAGE);
      expect(vmas[0]!.flags & VM_NOHUGEPAGE).toBe(0);
    });

    it("linux-5.17 (before 6.7): no flag, the two merge", () => {
      const vmas = stackNextToHeap("linux-5.17", build);
      expect(vmas).toHaveLength(1);
      expect(vmas[0]!.flags & VM_NOHUGEPAGE).toBe(0);
    });
  });
}
