// The per-call syscalls allocate nothing on the JS heap (no closure, no
// context, no boxed number), also once the kernel has switched between
// tasks: counted as garbage collections during 2.1 million calls, which
// would need about 100 MB at 48 bytes a call (the context a closure in
// Simulator.setCurrent made V8 allocate on every call after a task switch).
// The loops are compiled before they are counted; no timing is looked at.
import { GCProfiler } from "node:v8";
import { expect, it } from "vitest";
import { type Process, createKernelSync } from "../../src/engine/index.js";

const PAGE = 4096;
const ANON = 0x22, RW = 3;

it("per-call syscalls allocate nothing, also after a task switch", () => {
  const k = createKernelSync({ policy: "linux-5.17" });
  // the same loop on two processes in turn, the first compiled before the second ever ran
  const loop = (p: Process, a: number, n: number) => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc = (acc + p.munmap(0x20000000, PAGE) + p.mprotect(a, 3 * PAGE, i & 1 ? RW : 1) + p.touch(0x30000000, false)) | 0;
    }
    return acc;
  };
  const counts: number[] = [];
  for (let task = 0; task < 2; task++) {
    const p = k.createProcess();
    const a = p.mmap(0x10000000, 3 * PAGE, RW, ANON | 0x100000, -1, 0);
    expect(a).toBe(0x10000000);
    loop(p, a, 200_000);
    const prof = new GCProfiler();
    prof.start();
    const acc = loop(p, a, 700_000);
    counts.push(prof.stop()?.statistics.length ?? 0);
    expect(acc).toBe((700_000 * 11) | 0); // each touch of the unmapped page: SIGSEGV (11)
  }
  // with the closure context back in setCurrent: [0, 24]
  for (const c of counts) expect(c).toBeLessThanOrEqual(1);
});
