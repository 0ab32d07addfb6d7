// What the host adds to each syscall: bytes allocated on the JS heap per call
// and the share of time spent in garbage collection on a fault-heavy run.
//
//   npm run build && node --expose-gc --min-semi-space-size=512 --max-semi-space-size=512 --import tsx bench/host-cost.ts \
//     [--calls N] [--lib DIST/index.js]
//
// Bytes per call: with a young generation fixed larger than what the loop
// allocates (the semi-space flags), no scavenge runs during it, so the growth
// of heapUsed is what the calls allocated. GC share: the cost of the collections v8.GCProfiler reports during a
// write-fault loop, over its wall time (run it without --max-semi-space-size). Where a per-call syscall's
// time goes: typed batch, the bare wasm export and Process side by side (breakdown()). Figures for this machine only.

import { performance } from "node:perf_hooks";
import { GCProfiler } from "node:v8";
import { pathToFileURL } from "node:url";
import type * as Lib from "../src/index.js";

const args = process.argv.slice(2);
// the built library (what users run; `npm run build` first), or another build of it given with --lib
const libAt = args.indexOf("--lib");
const lib = (await import(libAt >= 0 ? pathToFileURL(args[libAt + 1]).href : "../dist/index.js")) as typeof Lib;
const { createKernelSync } = lib;
const { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } = lib.abi;
type Process = Lib.Process;
const callsAt = args.indexOf("--calls");
const CALLS = callsAt >= 0 ? Number(args[callsAt + 1]) : 1_000_000;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc (see the header)");
let sink = 0;

/**
 * Average heap growth per call of `loop(n)`, which makes n calls (after a
 * warm-up, so compiled code is not counted). Each loop is its own function so
 * that its calls are monomorphic, as in a replay's or an embedder's loop.
 */
function bytesPerCall(n: number, loop: (n: number) => void): number {
  loop(200_000);
  gc!();
  const h0 = process.memoryUsage().heapUsed;
  loop(n);
  const h1 = process.memoryUsage().heapUsed;
  return (h1 - h0) / n;
}

// One kernel for every row, as an embedder or a replay has: calls into one
// wasm instance. (With several instances alive, V8's call into wasm is
// polymorphic and boxes; the last row measures that case.)
const kernel = createKernelSync({ policy: "linux-5.17" });
function fresh(): Process {
  return kernel.createProcess();
}

/**
 * Where a per-call syscall's time goes: the same operation through the typed
 * batch (the core and the batch's dispatch), through the wasm export called
 * straight from JS (adds the JS-to-wasm call), and through Process (adds the
 * host's checks: the task's limits loaded, the arguments integers, the
 * result looked at). ns of CPU time per call, the fastest of 15 runs of
 * 20,000 calls. With `kernels` > 1 the same loops run on that many kernels in
 * turn first: V8 then calls the exports through a wrapper it cannot inline
 * (a replay has one kernel per policy; the tests and the fuzzer have many).
 */
function breakdown(kernels: number): [string, number, number, number][] {
  const N = 20_000;
  interface Setup { p: Process; core: Lib.KernelSim & { core: Record<string, (...a: number[]) => number> }; mm: number; a: number; b: number; batches: Float64Array[]; res: Float64Array }
  const make = (): Setup => {
    const k = createKernelSync({ policy: "linux-5.17" });
    const p = k.createProcess();
    const a = p.mmap(0, 3 * PAGE_SIZE, RW, ANON, -1, 0);
    const b = p.mmap(0, PAGE_SIZE, RW, ANON, -1, 0);
    p.touch(b, true);
    const { BATCH_OP: OP, BATCH_STRIDE: S } = lib;
    const mk = (f: (buf: Float64Array, o: number, i: number) => void) => {
      const buf = new Float64Array(N * S);
      for (let i = 0; i < N; i++) f(buf, i * S, i);
      return buf;
    };
    const batches = [
      mk((c, o, i) => { c[o] = OP.mprotect; c[o + 2] = a; c[o + 3] = 3 * PAGE_SIZE; c[o + 4] = i & 1 ? RW : PROT_READ; }),
      mk((c, o) => { c[o] = OP.touch; c[o + 2] = b; c[o + 3] = 0; }),
    ];
    return { p, core: k as never, mm: p.mm, a, b, batches, res: new Float64Array(N) };
  };
  const loops: [string, (s: Setup) => void, (s: Setup) => void, (s: Setup) => void][] = [
    ["mprotect R<->RW of a 3-page VMA",
      (s) => s.p.runBatch(s.batches[0], s.res),
      (s) => { const c = s.core.core, mm = s.mm, a = s.a, len = 3 * PAGE_SIZE; let acc = 0; for (let i = 0; i < N; i++) acc += c.mprotect(mm, a, len, i & 1 ? RW : PROT_READ); sink ^= acc; },
      (s) => { const p = s.p, a = s.a, len = 3 * PAGE_SIZE; let acc = 0; for (let i = 0; i < N; i++) acc += p.mprotect(a, len, i & 1 ? RW : PROT_READ); sink ^= acc; }],
    ["read of a mapped page (touch)",
      (s) => s.p.runBatch(s.batches[1], s.res),
      (s) => { const c = s.core.core, mm = s.mm, b = s.b; let acc = 0; for (let i = 0; i < N; i++) acc += c.touch(mm, b, 0); sink ^= acc; },
      (s) => { const p = s.p, b = s.b; let acc = 0; for (let i = 0; i < N; i++) acc += p.touch(b, false); sink ^= acc; }],
  ];
  const sets = Array.from({ length: kernels }, make);
  const fastest = (f: (s: Setup) => void, s: Setup) => {
    let best = Infinity;
    for (let r = 0; r < 15; r++) {
      const c0 = process.cpuUsage();
      f(s);
      const c = process.cpuUsage(c0);
      best = Math.min(best, ((c.user + c.system) * 1000) / N);
    }
    return best;
  };
  return loops.map(([name, batch, raw, call]) => {
    for (const s of sets) for (let r = 0; r < 20; r++) { batch(s); raw(s); call(s); }
    const s = sets[0];
    return [name, fastest(batch, s), fastest(raw, s), fastest(call, s)];
  });
}

// first, before the rows below give the host's methods other feedback
const split: [number, [string, number, number, number][]][] = [[1, breakdown(1)], [8, breakdown(8)]];

const rows: [string, number][] = [];
{
  const p = fresh();
  rows.push(["mmap+munmap pair (per call)", bytesPerCall(CALLS, (n) => {
    const P = PAGE_SIZE, rw = RW, anon = ANON;
    let acc = 0;
    for (let i = 0; i < n; i += 2) {
      const a = p.mmap(0, P, rw, anon, -1, 0);
      acc = (acc + p.munmap(a, P)) | 0;
    }
    sink ^= acc;
  })]);
}
{
  const p = fresh();
  const a = p.mmap(0, 3 * PAGE_SIZE, RW, ANON, -1, 0);
  rows.push(["mprotect split + re-merge", bytesPerCall(CALLS, (n) => {
    const P = PAGE_SIZE, rw = RW, r = PROT_READ;
    let acc = 0;
    for (let i = 0; i < n; i++) acc = (acc + p.mprotect(a + P, P, i & 1 ? rw : r)) | 0;
    sink ^= acc;
  })]);
}
{
  const p = fresh();
  const a = p.mmap(0, PAGE_SIZE, RW, ANON, -1, 0);
  rows.push(["touch of a mapped page", bytesPerCall(CALLS, (n) => {
    let acc = 0;
    for (let i = 0; i < n; i++) acc = (acc + p.touch(a, true)) | 0;
    sink ^= acc;
  })]);
}
{
  const p = fresh();
  rows.push(["munmap of an empty range", bytesPerCall(CALLS, (n) => {
    const P = PAGE_SIZE;
    let acc = 0;
    for (let i = 0; i < n; i++) acc = (acc + p.munmap(0x10000000, P)) | 0;
    sink ^= acc;
  })]);
}
{
  const p = fresh();
  rows.push(["mprotect failing with EINVAL", bytesPerCall(CALLS, (n) => {
    const P = PAGE_SIZE;
    let acc = 0;
    for (let i = 0; i < n; i++) acc = (acc + p.mprotect(1, P, 0)) | 0;
    sink ^= acc;
  })]);
}

/** Write faults on fresh pages, a 4096-page region unmapped and mapped again when full. */
function faultLoop(p: Process): (n: number) => void {
  const region = 4096 * PAGE_SIZE;
  let a = p.mmap(0, region, RW, ANON, -1, 0);
  let next = 0;
  const P = PAGE_SIZE, rw = RW, anon = ANON;
  return (n) => {
    // locals only: the loop's own variables must not be what allocates
    let acc = 0, base = a, k = next;
    for (let i = 0; i < n; i++) {
      if (k === 4096) {
        p.munmap(base, region);
        base = p.mmap(0, region, rw, anon, -1, 0);
        k = 0;
      }
      acc = (acc + p.touch(base + k++ * P, true)) | 0;
    }
    a = base;
    next = k;
    sink ^= acc;
  };
}
rows.push(["write fault on a fresh page", bytesPerCall(CALLS, faultLoop(fresh()))]);
{
  // the same calls on processes of three kernels in turn
  const ps = [fresh(), createKernelSync({ policy: "linux-5.17" }).createProcess(), createKernelSync({ policy: "seed" }).createProcess()];
  rows.push(["munmap of an empty range, 3 kernels alive", bytesPerCall(CALLS, (n) => {
    const P = PAGE_SIZE;
    let acc = 0;
    for (let i = 0; i < n; i++) acc = (acc + ps[i % 3].munmap(0x10000000, P)) | 0;
    sink ^= acc;
  })]);
}

/** GC time (v8.GCProfiler) over wall time for `n` write faults. */
function gcShare(n: number): { gcMs: number; wallMs: number; collections: number } {
  const loop = faultLoop(fresh());
  loop(200_000);
  const prof = new GCProfiler();
  prof.start();
  const t0 = performance.now();
  loop(n);
  const wallMs = performance.now() - t0;
  const stats = prof.stop()?.statistics ?? [];
  return { gcMs: stats.reduce((s, e) => s + e.cost, 0) / 1000, wallMs, collections: stats.length };
}


for (const [name, b] of rows) console.log(`${name.padEnd(42)} ${b.toFixed(1).padStart(8)} bytes/call`);
const g = gcShare(CALLS * 5);
console.log(`${"write faults: GC share of wall time".padEnd(42)} ${(100 * g.gcMs / g.wallMs).toFixed(2).padStart(8)} % (${g.collections} collections, ${CALLS * 5} faults, ${(g.wallMs * 1e6 / (CALLS * 5)).toFixed(0)} ns/fault)`);
console.log(`\nns of CPU time per call: typed batch / the wasm export from JS / Process (the difference: JS-to-wasm call, host checks)`);
for (const [kernels, rs] of split) {
  for (const [name, batch, raw, call] of rs) {
    console.log(`${`${name}, ${kernels} kernel${kernels > 1 ? "s" : ""}`.padEnd(42)} ${batch.toFixed(1).padStart(6)} ${raw.toFixed(1).padStart(6)} ${call.toFixed(1).padStart(6)}   (+${(raw - batch).toFixed(1)}, +${(call - raw).toFixed(1)})`);
  }
}
console.error(`(sink ${sink})`);
