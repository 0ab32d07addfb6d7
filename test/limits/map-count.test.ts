// vm.max_map_count reached by every path that creates VMAs, on the engine and
// on the reference model (the knob, never the host's sysctl). The kernel's
// tests (v5.17, mm/mmap.c, mm/mprotect.c, mm/madvise.c, mm/mlock.c,
// mm/mremap.c, kernel/fork.c):
//   mmap, brk        do_mmap() / do_brk_flags(): map_count > max -> ENOMEM
//                    (so a process may reach max + 1)
//   mprotect split   split_vma(): map_count >= max -> ENOMEM
//   munmap split     __do_munmap(): a hole inside a VMA at map_count >= max -> ENOMEM
//   MAP_FIXED        over the middle of a VMA: the munmap's split -> ENOMEM
//   mremap           move_vma(): map_count >= max - 3 -> ENOMEM; a shrink that splits -> ENOMEM
//   madvise          madvise_update_vma()'s split -> ENOMEM, which
//                    madvise_vma_behavior() reports as EAGAIN
//   mlock            mlock_fixup()'s split -> ENOMEM
//   prctl anon name  the same split as madvise, made EAGAIN by madvise_vma_anon_name()
//   fork             dup_mmap() does not check: the child inherits the count
// After each refusal the layout is unchanged and the checkers pass.
//
// map-count/max-map-count-paths.script does the same at the default limit
// (65530) on the running kernel, with no sysctl written: padded by
// `padvmas`, recorded on Linux 6.18.44 (`vmasim kernel`). The engine under
// linux-6.18 reproduces the recording; with the native runner the kernel
// prints what the engine prints. (Not in test/limits/scripts/: the reference
// model takes minutes over 65530 VMAs.)
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { canRunNative, imageIndependent, runOnKernel } from "../../src/kernel/native.js";
import { runScenario } from "../../src/scenario/run.js";
import { EAGAIN, ENOMEM, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PAGE_SIZE } from "../../src/abi/constants.js";
import { checkAll } from "../../src/fuzz/lockstep.js";
import { createKernelSync } from "../../src/engine/index.js";
import { createModelKernel } from "../../src/model/index.js";
import type { KernelConfig, KernelSim, ProcessSim } from "../../src/types.js";

const P = PAGE_SIZE;
const BASE = 0x10000000;
const at = (page: number) => BASE + page * P;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const IMPLS: [string, (c: KernelConfig) => KernelSim][] = [["engine", createKernelSync], ["model", createModelKernel]];

/** A process with rw VMAs [0,8) and r [10,12), its kernel's limit at its map_count + delta. */
function atLimit(create: (c: KernelConfig) => KernelSim, delta = 0): { k: KernelSim; p: ProcessSim } {
  const k = create({ policy: "linux-5.17" });
  const p = k.createProcess();
  expect(p.mmap(at(0), 8 * P, 3, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(at(0));
  expect(p.mmap(at(10), 2 * P, 1, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(at(10));
  k.configure({ max_map_count: p.counters().map_count + delta });
  return { k, p };
}

/** Runs `fn`, expects `errno` and no change to the layout; the checkers pass. */
function refused(k: KernelSim, p: ProcessSim, errno: number, fn: () => number): void {
  const before = JSON.stringify(p.vmas());
  expect(fn()).toBe(-errno);
  expect(JSON.stringify(p.vmas())).toBe(before);
  expect(checkAll(k)).toEqual([]);
}

for (const [name, create] of IMPLS) {
  describe(`${name}: vm.max_map_count reached by every path that creates VMAs`, () => {
    it("mmap reaches max + 1, then ENOMEM; brk too", () => {
      const { k, p } = atLimit(create);
      expect(p.mmap(at(20), P, 1, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(at(20)); // map_count > max was false
      expect(p.counters().map_count).toBe(k.maxMapCount() + 1);
      refused(k, p, ENOMEM, () => p.mmap(at(22), P, 1, ANON | MAP_FIXED_NOREPLACE, -1, 0));
      const brk = p.layout().brk;
      expect(p.brk(brk + P)).toBe(brk); // brk(2) answers the old break
      expect(checkAll(k)).toEqual([]);
    });

    it("mprotect of a VMA's middle: ENOMEM (split_vma); of a whole VMA: fine", () => {
      const { k, p } = atLimit(create);
      refused(k, p, ENOMEM, () => p.mprotect(at(2), P, 1));
      expect(p.mprotect(at(10), 2 * P, 3)).toBe(0);
    });

    it("munmap of a hole inside a VMA and MAP_FIXED over its middle: ENOMEM; a trim: fine", () => {
      const { k, p } = atLimit(create);
      refused(k, p, ENOMEM, () => p.munmap(at(2), P));
      refused(k, p, ENOMEM, () => p.mmap(at(2), P, 1, ANON | MAP_FIXED, -1, 0));
      expect(p.munmap(at(7), P)).toBe(0);
    });

    it("mremap: a move needs 3 VMAs of room (ENOMEM); a shrink that splits: ENOMEM", () => {
      const { k, p } = atLimit(create, 2);
      refused(k, p, ENOMEM, () => p.mremap(at(10), 2 * P, 2 * P, 3, at(30)));
      const t = atLimit(create);
      refused(t.k, t.p, ENOMEM, () => t.p.mremap(at(2), 2 * P, P, 0, 0)); // unmaps [3, 4) inside [0, 8)
    });

    it("madvise that splits: EAGAIN (the ENOMEM of the split, as madvise reports it)", () => {
      const { k, p } = atLimit(create);
      refused(k, p, EAGAIN, () => p.madvise(at(2), P, 10 /* MADV_DONTFORK */));
      expect(p.madvise(at(0), 8 * P, 10)).toBe(0);
    });

    it("mlock of a VMA's middle: ENOMEM; an anon name there: EAGAIN (madvise_vma_anon_name)", () => {
      const { k, p } = atLimit(create);
      refused(k, p, ENOMEM, () => p.mlock(at(2), P, 0));
      refused(k, p, EAGAIN, () => p.setAnonName(at(2), P, "x"));
      expect(p.mlock(at(0), 8 * P, 0)).toBe(0);
    });

    it("fork does not check: the child inherits the count and is refused from then on", () => {
      const { k, p } = atLimit(create, -3);
      const c = p.fork();
      expect(c.counters().map_count).toBe(p.counters().map_count);
      refused(k, c, ENOMEM, () => c.mmap(at(40), P, 1, ANON | MAP_FIXED_NOREPLACE, -1, 0));
    });
  });
}

describe("vm.max_map_count at the default limit, against the running kernel", () => {
  const script = readFileSync(new URL("./map-count/max-map-count-paths.script", import.meta.url), "utf8");
  const recording = readFileSync(new URL("./map-count/max-map-count-paths.linux-6.18.out", import.meta.url), "utf8");
  const engine = () => runScenario(createKernelSync({ policy: "linux-6.18" }), script).output;

  it("the engine under linux-6.18 prints the 6.18 recording", () => {
    expect(imageIndependent(engine())).toBe(imageIndependent(recording));
    expect(recording).toContain("madvise 2 1 dontfork => EAGAIN\n");
  });

  const native = canRunNative();
  const hostMax = (() => {
    try {
      return Number(readFileSync("/proc/sys/vm/max_map_count", "utf8"));
    } catch {
      return NaN;
    }
  })();
  const why = !native.ok ? native.reason : hostMax !== 65530 ? `this host's vm.max_map_count is ${hostMax}, not the default 65530` : null;
  if (why) console.log(`max-map-count-paths on the real kernel skipped: ${why}`);
  it.skipIf(why !== null)("the running kernel prints what the engine prints", () => {
    expect(imageIndependent(runOnKernel(script).output)).toBe(imageIndependent(engine()));
  });
});
