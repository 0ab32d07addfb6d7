// What the host adds to each syscall: bytes allocated on the JS heap per call
// and the share of time spent in garbage collection on a fault-heavy run.
//
//   node --expose-gc --max-semi-space-size=512 --import tsx bench/host-cost.ts [--calls N]
//
// Bytes per call: with a young generation larger than what the loop allocates,
// no scavenge runs during it, so the growth of heapUsed is what the calls
// allocated. GC share: the cost of the collections v8.GCProfiler reports during a
// write-fault loop, over its wall time (run it without --max-semi-space-size). Figures for this machine only.

import { performance } from "node:perf_hooks";
import { GCProfiler } from "node:v8";
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from "../src/abi/constants.js";
import { createKernelSync, type Process } from "../src/engine/index.js";

const args = process.argv.slice(2);
const callsAt = args.indexOf("--calls");
const CALLS = callsAt >= 0 ? Number(args[callsAt + 1]) : 200_000;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc (see the header)");
let sink = 0;

/** Average heap growth per call of `op` over `n` calls (after a warm-up, so JIT code is not counted). */
function bytesPerCall(n: number, op: (i: number) => void): number {
  for (let i = 0; i < 20_000; i++) op(i);
  gc!();
  const h0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) op(i);
  const h1 = process.memoryUsage().heapUsed;
  return (h1 - h0) / n;
}

function fresh(): Process {
  return createKernelSync({ policy: "linux-5.17" }).createProcess();
}

const rows: [string, number][] = [];
{
  const p = fresh();
  rows.push(["mmap+munmap pair (2 calls)", 2 * bytesPerCall(CALLS / 2, () => {
    const a = p.mmap(0, PAGE_SIZE, RW, ANON, -1, 0);
    sink += p.munmap(a, PAGE_SIZE);
  }) / 2]);
}
{
  const p = fresh();
  const a = p.mmap(0, 3 * PAGE_SIZE, RW, ANON, -1, 0);
  rows.push(["mprotect", bytesPerCall(CALLS, (i) => { sink += p.mprotect(a + PAGE_SIZE, PAGE_SIZE, i & 1 ? RW : PROT_READ); })]);
}
{
  const p = fresh();
  const a = p.mmap(0, PAGE_SIZE, RW, ANON, -1, 0);
  rows.push(["touch (already mapped)", bytesPerCall(CALLS, () => { sink += p.touch(a, true); })]);
}
{
  const p = fresh();
  rows.push(["munmap of nothing (an error-free no-op)", bytesPerCall(CALLS, () => { sink += p.munmap(0x10000000, PAGE_SIZE); })]);
}
{
  const p = fresh();
  rows.push(["mprotect with EINVAL (unaligned)", bytesPerCall(CALLS, () => { sink += p.mprotect(1, PAGE_SIZE, 0); })]);
}

/** Write faults on fresh pages, a 4096-page region unmapped and mapped again when full. */
function faultLoop(p: Process): () => void {
  const region = 4096 * PAGE_SIZE;
  let a = p.mmap(0, region, RW, ANON, -1, 0);
  let next = 0;
  return () => {
    if (next === 4096) {
      p.munmap(a, region);
      a = p.mmap(0, region, RW, ANON, -1, 0);
      next = 0;
    }
    sink += p.touch(a + next++ * PAGE_SIZE, true);
  };
}
rows.push(["write fault on a fresh page", bytesPerCall(CALLS, faultLoop(fresh()))]);

/** GC time (v8.GCProfiler) over wall time for `n` write faults. */
function gcShare(n: number): { gcMs: number; wallMs: number; collections: number } {
  const op = faultLoop(fresh());
  for (let i = 0; i < 20_000; i++) op();
  const prof = new GCProfiler();
  prof.start();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) op();
  const wallMs = performance.now() - t0;
  const stats = prof.stop()?.statistics ?? [];
  return { gcMs: stats.reduce((s, e) => s + e.cost, 0) / 1000, wallMs, collections: stats.length };
}

for (const [name, b] of rows) console.log(`${name.padEnd(42)} ${b.toFixed(1).padStart(8)} bytes/call`);
const g = gcShare(CALLS * 5);
console.log(`${"write faults: GC share of wall time".padEnd(42)} ${(100 * g.gcMs / g.wallMs).toFixed(2).padStart(8)} % (${g.collections} collections, ${CALLS * 5} faults, ${(g.wallMs * 1e6 / (CALLS * 5)).toFixed(0)} ns/fault)`);
console.error(`(sink ${sink})`);
