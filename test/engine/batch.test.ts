// The batch entry point runs the same syscalls as the direct calls, with the
// same results and the same final state.
import { describe, expect, it } from "vitest";
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PAGE_SIZE } from "../../src/abi/constants.js";
import { BATCH_OP, BATCH_STRIDE, createKernelSync, type Process } from "../../src/engine/index.js";
import { checkKernel } from "../../src/check/index.js";

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

  /** The tuples as the typed format: [op, 0, arg1..arg6]. */
  function encode(list: Cmd[]): Float64Array {
    const buf = new Float64Array(list.length * BATCH_STRIDE);
    list.forEach(([op, ...args], i) => {
      buf[i * BATCH_STRIDE] = BATCH_OP[op];
      args.forEach((a, k) => (buf[i * BATCH_STRIDE + 2 + k] = a));
    });
    return buf;
  }

  it("runs the typed format with the results of the direct calls", () => {
    const k1 = createKernelSync({ policy: "linux-5.17" });
    const k2 = createKernelSync({ policy: "linux-5.17" });
    const p1 = k1.createProcess(), p2 = k2.createProcess();
    const results = new Float64Array(cmds.length + 3).fill(-99);
    expect(p1.runBatch(encode(cmds), results, cmds.length)).toBe(cmds.length);
    expect([...results]).toEqual([...cmds.map((c) => direct(p2, c)), -99, -99, -99]);
    expect(p1.memory()).toEqual(p2.memory());
    expect(k1.memory()).toEqual(k2.memory());
  });

  it("refuses an unknown op or a non-integer argument at its index, after running the commands before it", () => {
    const k = createKernelSync({ policy: "linux-5.17" });
    const p = k.createProcess();
    const good: Cmd[] = [["mmap", B, P, 3, ANON, 0, 0], ["touch", B, 1]];
    for (const [slot, value, error] of [[0, 99, RangeError], [3, 1.5, RangeError], [2, NaN, RangeError], [3, Infinity, RangeError]] as const) {
      const buf = encode([...good, ["munmap", B, P]]);
      buf[2 * BATCH_STRIDE + slot] = value;
      const res = new Float64Array(3);
      let caught: unknown;
      try {
        p.runBatch(buf, res);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(error);
      expect((caught as Error).message).toMatch(slot === 0 ? /unknown op 99 at command 2/ : /batch command 2 \(munmap\)/);
      expect((caught as { completed: number }).completed).toBe(2);
      expect(res[1]).toBe(0); // the touch ran
      expect(p.munmap(B, P)).toBe(0); // and the process is usable
    }
    expect(checkKernel(k)).toEqual([]);
  });

  it("refuses bad buffers and counts with a RangeError or TypeError", () => {
    const p = createKernelSync({ policy: "linux-5.17" }).createProcess();
    const buf = encode(cmds);
    expect(() => p.runBatch(buf, new Float64Array(1))).toThrow(RangeError);
    expect(() => p.runBatch(buf, new Float64Array(cmds.length), -1)).toThrow(RangeError);
    expect(() => p.runBatch(buf, new Float64Array(cmds.length), cmds.length + 1)).toThrow(RangeError);
    expect(() => p.runBatch([] as unknown as Float64Array, new Float64Array(1))).toThrow(TypeError);
    expect(p.runBatch(buf, new Float64Array(cmds.length), 0)).toBe(0);
  });

  it("names the command of a bad tuple and keeps the results so far on the error", () => {
    const p = createKernelSync({ policy: "linux-5.17" }).createProcess();
    expect(() => p.batch([["mmap", B, P, 3, ANON, 0, 0], ["munmap", B, "4096" as unknown as number]])).toThrow(/batch command 1 \(munmap\): argument len must be an integer number, got the string "4096"/);
    expect(() => p.batch([["nope" as "mmap", 0]])).toThrow(/unknown op 'nope' at index 0/);
  });

  it("drains the merge-event ring during a long traced batch", () => {
    const k = createKernelSync({ policy: "linux-5.17" });
    const p = k.createProcess();
    k.traceMerges(8192);
    const many: Cmd[] = [];
    // each mprotect pair splits and re-merges: 2 events per command at least
    for (let i = 0; i < 20_000; i++) many.push(["mprotect", B + P, P, i & 1 ? 3 : 1]);
    expect(p.mmap(B, 3 * P, 3, ANON, -1, 0)).toBe(B);
    const res = new Float64Array(many.length);
    p.runBatch(encode(many), res);
    expect(res.every((r) => r === 0)).toBe(true);
    expect(k.takeMergeEvents().length).toBeGreaterThan(20_000);
  });

  it("gives the per-call results for hostile integers (2^47, 2^53, 2^64, negative, high flag bits)", () => {
    const hostile: Cmd[] = [
      ["mmap", B, 4 * P, 3, ANON, 0, 0],
      ["mmap", 0, -1, 3, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0],
      ["mmap", 0, 2 ** 64, 3, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0],
      ["mmap", 0, -(2 ** 70), 3, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0],
      ["mmap", -1, P, 3, MAP_PRIVATE | MAP_ANONYMOUS | 0x10, 0, 0],
      ["mmap", 0, P, 3 + 2 ** 32, MAP_PRIVATE | MAP_ANONYMOUS + 2 ** 32, -1, 0],
      ["mmap", 0, P, 3, MAP_PRIVATE | MAP_ANONYMOUS, 2 ** 32, 0],
      ["mprotect", B, P, 2 ** 32 + 1],
      ["mprotect", B, P, -(2 ** 32) + 1],
      ["mprotect", B, 2 ** 53, 1],
      ["mremap", B, P, P, 2 ** 32, 0],
      ["mremap", -4096, P, P, MREMAP_MAYMOVE, 0],
      ["madvise", B, P, 2 ** 32 + 4],
      ["madvise", B, -1, 4],
      ["munmap", 2 ** 47, P],
      ["munmap", -4096, P],
      ["mlock", B, P, 2 ** 32],
      ["munlock", B, -1],
      ["touch", -1, 1],
      ["touch", 2 ** 64, 0],
      ["brk", -1],
    ];
    const p1 = createKernelSync({ policy: "linux-5.17" }).createProcess();
    const p2 = createKernelSync({ policy: "linux-5.17" }).createProcess();
    const res = new Float64Array(hostile.length);
    p1.runBatch(encode(hostile), res);
    expect([...res]).toEqual(hostile.map((c) => direct(p2, c)));
    expect(p1.vmas()).toEqual(p2.vmas());
  });
});
