// The batch entry point runs the same syscalls as the direct calls, with the
// same results and the same final state.
import { describe, expect, it } from "vitest";
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PAGE_SIZE } from "../../src/abi/constants.js";
import { createKernelSync, type Process } from "../../src/engine/index.js";

const B = 0x10000000, P = PAGE_SIZE, ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;

type Cmd = Parameters<Process["batch"]>[0][number];
const cmds: Cmd[] = [
  ["mmap", B, 8 * P, 3, ANON, 0, 0],
  ["touch", B, 1],
  ["touch", B + P, 0],
  ["mprotect", B + 2 * P, P, 1],
  ["mremap", B + 4 * P, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, B + 20 * P],
  ["madvise", B, P, 4],
  ["mlock", B + 6 * P, P, 0],
  ["munlock", B + 6 * P, P],
  ["munmap", B + 7 * P, P],
  ["brk", 0],
  ["touch", 0x10, 1],
  ["mmap", B, P, 3, ANON, 0, 0],
];

function direct(p: Process, c: Cmd): number {
  const [op, a = 0, b = 0, d = 0, e = 0, f = 0, g = 0] = c;
  switch (op) {
    case "mmap": return p.mmap(a, b, d, e, f === 0 ? -1 : f, g);
    case "munmap": return p.munmap(a, b);
    case "mprotect": return p.mprotect(a, b, d);
    case "brk": return p.brk(a);
    case "mremap": return p.mremap(a, b, d, e, f);
    case "madvise": return p.madvise(a, b, d);
    case "touch": return p.touch(a, b !== 0);
    case "mlock": return p.mlock(a, b, d);
    case "munlock": return p.munlock(a, b);
  }
}

describe("engine batch", () => {
  it("gives the results and state of the direct calls", () => {
    const k1 = createKernelSync({ policy: "linux-5.17" });
    const k2 = createKernelSync({ policy: "linux-5.17" });
    const p1 = k1.createProcess(), p2 = k2.createProcess();
    const batched = p1.batch(cmds);
    const one = cmds.map((c) => direct(p2, c));
    expect(batched).toEqual(one);
    expect(batched[10]).toBe(11); // SIGSEGV
    expect(batched[11]).toBe(-17); // EEXIST
    expect(p1.vmas()).toEqual(p2.vmas());
    expect(p1.memory()).toEqual(p2.memory());
    expect(k1.memory()).toEqual(k2.memory());
  });

  it("splits long batches over the command buffer", () => {
    const k = createKernelSync({ policy: "linux-5.17" });
    const p = k.createProcess();
    const many: Cmd[] = [];
    for (let i = 0; i < 10_000; i++) many.push(["mmap", B + 2 * i * P, P, 3, ANON, 0, 0]);
    const r = p.batch(many);
    expect(r).toHaveLength(10_000);
    expect(r.every((x, i) => x === B + 2 * i * P)).toBe(true);
    expect(p.counters().map_count).toBe(k.createProcess().counters().map_count + 10_000);
  });
});
