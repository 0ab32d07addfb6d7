// The operation matrix of the performance issue: every operation among 10^2
// to 10^6 VMAs already in the process, at a fixed address and at random
// addresses, in the engine through the per-call API and through the typed
// batch (`Process.runBatch`), and in the real kernel of this machine
// (`vma_scale matrix`, bench/native/vma_scale.c: the same layout and
// operations in C, one run per scale). bench/run.ts runs it and reports it.
//
// The process (both sides): N background VMAs of 3 pages every 4 pages from
// BASE; VMA i is of class i % 4: 0 never faulted, 1 its first page written,
// 2 and 3 the targets of read and write faults. Fixed-address operations work
// on a VMA at FIXED (below the background, so the index's leftmost path),
// random ones on the first page of a random background VMA of the right class.
// Operations (ns per syscall unless said):
//   mmap+munmap pair            per pair: a 3-page VMA unmapped and mapped again
//   mprotect split + re-merge   the middle page R, then RW again
//   mprotect R<->RW             the whole VMA, unfaulted or with a written page
//   mremap move                 the VMA to a free range (SCRATCH) and back, unfaulted or written
//   read fault, write fault     pages never touched; emptied again between rounds
//                               with MADV_DONTNEED (not timed)
//   10,000 adjacent mmaps       one page each at rising addresses, each written
//                               (they merge into one VMA); per mmap+write; fixed only
//   fork+exit                   with 1,000 written 1-page VMAs (FORKSET) besides the
//                               background; per fork and child exit; no address (the
//                               engine forks fewer times from 10^5 VMAs on: each copies them all)
// Times are CPU time (see cpuNs) but for the fork's (wall time).
// Each figure is the fastest of RUNS runs (each the mean of OPS operations,
// the engine's per-call and batch runs taking turns): on a shared machine a
// run only gets slower when it is preempted.
// The per-call figure reads each command from the same Float64Array the batch
// gets (a few ns of the figure), so both execute the same command list.
// The kernel refuses more VMAs than vm.max_map_count (65530 by default, never
// raised here): those scales have no kernel figure.

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type * as Lib from "../src/index.js";
import type { Process } from "../src/index.js";
import { nativeProgram } from "./native.js";

const PG = 4096;
const BASE = 0x100000000;
const FIXED = 0x10000000;
const SCRATCH = 0x20000000;
const FORKSET = 0x40000000;
const RW = 3;
const PROT_READ = 1;
const NOREPLACE = 0x02 | 0x20 | 0x100000; // MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE
const MREMAP_MOVE = 1 | 2; // MREMAP_MAYMOVE | MREMAP_FIXED
const MADV_DONTNEED = 4;
const STRIDE = 8;

export const MATRIX_OPS = {
  pair: "mmap+munmap pair (3 pages, per pair)",
  split: "mprotect split + re-merge",
  mprotect_unfaulted: "mprotect R<->RW, unfaulted VMA",
  mprotect_written: "mprotect R<->RW, written VMA",
  mremap_unfaulted: "mremap move, unfaulted VMA",
  mremap_written: "mremap move, written VMA",
  read_fault: "read fault",
  write_fault: "write fault",
  adjacent: "10,000 adjacent 1-page mmaps + a write each (per mmap)",
  fork: "fork+exit, 1,000 written VMAs besides the background",
} as const;
export type MatrixOp = keyof typeof MATRIX_OPS;

export interface MatrixRow {
  op: MatrixOp;
  /** "none" for fork (no address) */
  mode: "fixed" | "random" | "none";
  /** background VMAs in the process */
  scale: number;
  call_ns: number;
  /** null for fork (the batch has no fork) */
  batch_ns: number | null;
  /** null above vm.max_map_count or without a C compiler */
  kernel_ns: number | null;
}

export interface MatrixOptions { scales: number[]; ops: number; runs: number; forks: number }

/** The op's name in `comparisons`: label and address mode (`random` in the name for random addresses). */
export function matrixName(r: { op: MatrixOp; mode: MatrixRow["mode"] }): string {
  return r.mode === "none" ? MATRIX_OPS[r.op] : `${MATRIX_OPS[r.op]}, ${r.mode} address`;
}

/**
 * The process's CPU time in ns (process.cpuUsage(), user and system): what
 * the figures count, on both sides (the C program: its thread's CPU time), so
 * that time spent preempted on a shared machine does not. Fork alone is
 * wall time on both sides (the child's exit is the child's CPU time).
 */
export function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** xorshift32: the draws of random VMAs (deterministic, seed 1). */
function rng(): () => number {
  let s = 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

/** A command list: the typed batch's format, also what the per-call path executes. */
class Cmds {
  buf: Float64Array;
  n = 0;
  constructor(capacity: number) { this.buf = new Float64Array(capacity * STRIDE); }
  add(op: number, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0): void {
    const b = this.n++ * STRIDE;
    this.buf[b] = op;
    this.buf[b + 2] = a1; this.buf[b + 3] = a2; this.buf[b + 4] = a3;
    this.buf[b + 5] = a4; this.buf[b + 6] = a5; this.buf[b + 7] = a6;
  }
}

/** One timed part and its untimed reset (faults: MADV_DONTNEED). */
interface Round { timed: Cmds; reset: Cmds | null }

export function runMatrix(lib: typeof Lib, o: MatrixOptions, log: (line: string) => void = () => {}): { rows: MatrixRow[]; notes: string[] } {
  const OP = lib.BATCH_OP;
  const bg = (i: number) => BASE + 4 * i * PG;

  /** Executes cmds one call at a time, the results into res. */
  function perCall(p: Process, c: Float64Array, n: number, res: Float64Array): void {
    for (let i = 0; i < n; i++) {
      const b = i * STRIDE;
      let r: number;
      switch (c[b]) {
        case OP.mmap: r = p.mmap(c[b + 2], c[b + 3], c[b + 4], c[b + 5], -1, 0); break;
        case OP.munmap: r = p.munmap(c[b + 2], c[b + 3]); break;
        case OP.mprotect: r = p.mprotect(c[b + 2], c[b + 3], c[b + 4]); break;
        case OP.mremap: r = p.mremap(c[b + 2], c[b + 3], c[b + 4], c[b + 5], c[b + 6]); break;
        case OP.madvise: r = p.madvise(c[b + 2], c[b + 3], c[b + 4]); break;
        case OP.touch: r = p.touch(c[b + 2], c[b + 3] !== 0); break;
        default: throw new Error(`matrix: op ${c[b]}`);
      }
      res[i] = r;
    }
  }

  function check(what: string, c: Cmds, res: Float64Array): void {
    for (let i = 0; i < c.n; i++) {
      const op = c.buf[i * STRIDE];
      const want = op === OP.mmap ? c.buf[i * STRIDE + 2] : op === OP.mremap ? c.buf[i * STRIDE + 6] : 0;
      if (res[i] !== want) throw new Error(`matrix: ${what}: command ${i} (op ${op}) gave ${res[i]}, not ${want}`);
    }
  }

  /** ns per counted op of the rounds, through the per-call API or the batch. */
  function timeRounds(p: Process, what: string, rounds: Round[], counted: number, batch: boolean): number {
    let spent = 0;
    for (const { timed, reset } of rounds) {
      const res = new Float64Array(timed.n);
      const t0 = cpuNs();
      if (batch) p.runBatch(timed.buf, res, timed.n);
      else perCall(p, timed.buf, timed.n, res);
      spent += cpuNs() - t0;
      check(what, timed, res);
      if (reset) {
        const rr = new Float64Array(reset.n);
        p.runBatch(reset.buf, rr, reset.n);
        check(`${what} (reset)`, reset, rr);
      }
    }
    return spent / counted;
  }

  // the fastest run: each run is the mean of many operations, and on a shared
  // machine a run that was preempted only gets slower (the C side does the same)
  const fastest = (xs: number[]) => Math.min(...xs);

  /**
   * The fastest per-call and batch figures, taking turns after one warm-up
   * each. `rounds(r)` gives run r's commands (0: the warm-up): random
   * addresses are drawn again for every run, so that a run finds in the cache
   * only what the operations themselves leave there.
   */
  function measure(p: Process, what: string, rounds: (run: number) => Round[], counted: number): [number, number] {
    timeRounds(p, what, rounds(0), counted, false);
    timeRounds(p, what, rounds(0), counted, true);
    const call: number[] = [];
    const batch: number[] = [];
    for (let r = 1; r <= o.runs; r++) {
      const rs = rounds(r);
      call.push(timeRounds(p, what, rs, counted, false));
      batch.push(timeRounds(p, what, rs, counted, true));
    }
    return [fastest(call), fastest(batch)];
  }

  /**
   * Every op through perCall before anything is timed, on two throwaway
   * kernels: otherwise the first timed runs of an op pay for V8 compiling the
   * loop again with the op's feedback (its background compile counts in
   * cpuNs), and the second kernel's exports deoptimise a loop that had seen
   * only the first's. A replay or an embedder's loop runs warm.
   */
  function warmPerCall(): void {
    for (let kernel = 0; kernel < 2; kernel++) {
      const k = lib.createKernelSync({ policy: "linux-5.17" });
      const p = k.createProcess();
      const c = new Cmds(7 * 512);
      for (let i = 0; i < 512; i++) {
        const a = FIXED + 8 * i * PG;
        c.add(OP.mmap, a, 3 * PG, RW, NOREPLACE);
        c.add(OP.touch, a, 1);
        c.add(OP.touch, a + PG, 0);
        c.add(OP.mprotect, a + PG, PG, PROT_READ);
        c.add(OP.madvise, a, 3 * PG, MADV_DONTNEED);
        c.add(OP.mremap, a, 3 * PG, 3 * PG, MREMAP_MOVE, SCRATCH);
        c.add(OP.munmap, SCRATCH, 3 * PG);
      }
      const res = new Float64Array(c.n);
      for (let r = 0; r < 40; r++) perCall(p, c.buf, c.n, res);
      k.dispose?.();
    }
  }
  warmPerCall();

  const kernelBin = nativeProgram("vma_scale");
  const maxMapCount = existsSync("/proc/sys/vm/max_map_count") ? Number(readFileSync("/proc/sys/vm/max_map_count", "utf8")) : 65530;
  const notes: string[] = [];
  if (!kernelBin) notes.push("no kernel figures: bench/native/vma_scale.c could not be built");
  const rows: MatrixRow[] = [];

  for (const n of o.scales) {
    if (n < 4 || n % 4 !== 0) throw new Error(`matrix: a scale must be a multiple of 4, got ${n}`);
    // the kernel's figures first (its own process; one run per scale)
    const kernel = new Map<string, number>();
    if (kernelBin && n + 1100 <= maxMapCount) {
      const out = execFileSync(kernelBin, ["matrix", String(n), String(o.ops), String(o.runs), String(o.forks)], { encoding: "utf8", maxBuffer: 1 << 20 });
      for (const line of out.trim().split("\n")) {
        const [op, mode, ns] = line.split(" ");
        kernel.set(`${op} ${mode}`, Number(ns));
      }
    } else if (kernelBin) {
      notes.push(`${n} VMAs: no kernel figure (above vm.max_map_count ${maxMapCount}; never raised here)`);
    }

    const k = lib.createKernelSync({ policy: "linux-5.17", max_map_count: 1 << 30 });
    const p = k.createProcess();
    const build = new Cmds(n + n / 4);
    for (let i = 0; i < n; i++) {
      build.add(OP.mmap, bg(i), 3 * PG, RW, NOREPLACE);
      if (i % 4 === 1) build.add(OP.touch, bg(i), 1);
    }
    const bres = new Float64Array(build.n);
    p.runBatch(build.buf, bres, build.n);
    check(`building ${n} VMAs`, build, bres);
    const rnd = rng();
    const pick = (c: number) => bg(4 * (rnd() % (n / 4)) + c);
    const setup = (cmds: Cmds) => {
      const r = new Float64Array(cmds.n);
      p.runBatch(cmds.buf, r, cmds.n);
      check("setup", cmds, r);
    };
    const fixedVma = (written: boolean) => {
      const c = new Cmds(2);
      c.add(OP.mmap, FIXED, 3 * PG, RW, NOREPLACE);
      if (written) c.add(OP.touch, FIXED, 1);
      setup(c);
    };
    const unmapFixed = (pages: number) => {
      const c = new Cmds(1);
      c.add(OP.munmap, FIXED, pages * PG);
      setup(c);
    };
    const record = (op: MatrixOp, mode: MatrixRow["mode"], call: number, batch: number | null, kernelKey: string) => {
      const row: MatrixRow = { op, mode, scale: n, call_ns: call, batch_ns: batch, kernel_ns: kernel.get(kernelKey) ?? null };
      rows.push(row);
      const f = (x: number | null) => (x === null ? "-" : x.toFixed(0));
      log(`${String(n).padStart(8)}  ${matrixName(row).padEnd(70)} ${f(row.call_ns).padStart(9)} ${f(row.batch_ns).padStart(9)} ${f(row.kernel_ns).padStart(9)}`);
    };

    for (const mode of ["fixed", "random"] as const) {
      const random = mode === "random";
      for (const op of ["pair", "split", "mprotect_unfaulted", "mprotect_written", "mremap_unfaulted", "mremap_written"] as const) {
        const written = op === "mprotect_written" || op === "mremap_written";
        if (!random) fixedVma(written);
        const commands = (): Round[] => {
          const c = new Cmds(2 * o.ops);
          for (let i = 0; i < o.ops; i++) {
            const a = random ? pick(written ? 1 : 0) : FIXED;
            if (op === "pair") { c.add(OP.munmap, a, 3 * PG); c.add(OP.mmap, a, 3 * PG, RW, NOREPLACE); }
            else if (op === "split") { c.add(OP.mprotect, a + PG, PG, PROT_READ); c.add(OP.mprotect, a + PG, PG, RW); }
            else if (op === "mprotect_unfaulted" || op === "mprotect_written") { c.add(OP.mprotect, a, 3 * PG, PROT_READ); c.add(OP.mprotect, a, 3 * PG, RW); }
            else { c.add(OP.mremap, a, 3 * PG, 3 * PG, MREMAP_MOVE, SCRATCH); c.add(OP.mremap, SCRATCH, 3 * PG, 3 * PG, MREMAP_MOVE, a); }
          }
          return [{ timed: c, reset: null }];
        };
        const fixedRounds = random ? null : commands();
        const [call, batch] = measure(p, `${op} ${mode} at ${n}`, () => fixedRounds ?? commands(), op === "pair" ? o.ops : 2 * o.ops);
        if (!random) unmapFixed(3);
        record(op, mode, call, batch, `${op} ${mode}`);
      }
      for (const write of [0, 1]) {
        // rounds of faults on distinct pages, each followed by MADV_DONTNEED of
        // those pages; random: the first pages of the VMAs of the class in a
        // shuffled order, each run going on where the one before stopped
        const m = random ? n / 4 : 4096;
        const order = Array.from({ length: n / 4 }, (_, i) => 4 * i + 2 + write);
        for (let i = order.length - 1; i > 0; i--) {
          const j = rnd() % (i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        const rounds = (run: number): Round[] => {
          const out: Round[] = [];
          let next = run * o.ops;
          for (let done = 0; done < o.ops;) {
            const len = Math.min(m, o.ops - done);
            const timed = new Cmds(len);
            const reset = new Cmds(random ? len : 1);
            for (let i = 0; i < len; i++) {
              const a = random ? bg(order[next++ % m]) : FIXED + i * PG;
              timed.add(OP.touch, a, write);
              if (random) reset.add(OP.madvise, a, PG, MADV_DONTNEED);
            }
            if (!random) reset.add(OP.madvise, FIXED, 4096 * PG, MADV_DONTNEED);
            out.push({ timed, reset });
            done += len;
          }
          return out;
        };
        if (!random) {
          const c = new Cmds(1);
          c.add(OP.mmap, FIXED, 4096 * PG, RW, NOREPLACE);
          setup(c);
        }
        const op = write ? "write_fault" : "read_fault";
        const [call, batch] = measure(p, `${op} ${mode} at ${n}`, rounds, o.ops);
        if (!random) unmapFixed(4096);
        record(op, mode, call, batch, `${op} ${mode}`);
      }
    }

    {
      const timed = new Cmds(20_000);
      for (let i = 0; i < 10_000; i++) { timed.add(OP.mmap, FIXED + i * PG, PG, RW, NOREPLACE); timed.add(OP.touch, FIXED + i * PG, 1); }
      const reset = new Cmds(1);
      reset.add(OP.munmap, FIXED, 10_000 * PG);
      const [call, batch] = measure(p, `adjacent at ${n}`, () => [{ timed, reset }], 10_000);
      record("adjacent", "fixed", call, batch, "adjacent fixed");
    }

    {
      const c = new Cmds(2000);
      for (let i = 0; i < 1000; i++) { c.add(OP.mmap, FORKSET + 2 * i * PG, PG, RW, NOREPLACE); c.add(OP.touch, FORKSET + 2 * i * PG, 1); }
      setup(c);
      // a fork copies every VMA: fewer of them from 10^5 VMAs on
      const forks = Math.max(1, Math.round(o.forks * Math.min(1, 1e4 / n)));
      const forkRun = () => {
        let spent = 0;
        for (let i = 0; i < forks; i++) {
          const t0 = process.hrtime.bigint();
          p.fork().exit();
          spent += Number(process.hrtime.bigint() - t0);
        }
        return spent / forks;
      };
      const times = Array.from({ length: o.runs }, forkRun);
      record("fork", "none", fastest(times), null, "fork fixed");
    }
    if (p.checkInternal() !== 0) throw new Error(`matrix: the engine's internal check failed at ${n} VMAs`);
    k.dispose?.();
  }
  return { rows, notes };
}
