// A process with many VMAs or many resident pages in the engine, with the
// memory it takes (issue 13's limits; README "Fuzzing and the soak"):
//   npx tsx scripts/big-process.ts vmas 1000000     1-page VMAs, not adjacent
//   npx tsx scripts/big-process.ts pages 10000000   one VMA, every page written
// Prints the engine's statistics (wasm memory in use), the counters, the
// host process's RSS and the time taken. test/limits/big-process.test.ts runs
// both at 10^6.
import { createKernelSync } from "../src/engine/index.js";
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PAGE_SIZE } from "../src/abi/constants.js";

/** What one big process cost: the engine's statistics and counters, and the time. */
export interface BigProcess {
  what: "vmas" | "pages";
  n: number;
  /** linear memory's size (what the host holds, growth slack included) */
  wasmBytes: number;
  /** bytes the engine handed out to its records (lib/alloc.ts raw_allocated) */
  allocatedBytes: number;
  vmas: number;
  pages: number;
  seconds: number;
}

const BASE = 0x100000000;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;

export function bigProcess(what: "vmas" | "pages", n: number): BigProcess {
  const t0 = performance.now();
  // overcommit 1: a 40 GB mapping is not refused by the heuristic; the map count allows n VMAs
  const k = createKernelSync({ policy: "linux-6.18", max_map_count: n + 1000, overcommit_memory: 1 });
  const p = k.createProcess();
  if (what === "vmas") {
    for (let i = 0; i < n; i++) {
      if (p.mmap(BASE + 2 * i * PAGE_SIZE, PAGE_SIZE, 3, ANON, -1, 0) !== BASE + 2 * i * PAGE_SIZE) throw new Error(`mmap ${i} failed`);
    }
  } else {
    if (p.mmap(BASE, n * PAGE_SIZE, 3, ANON, -1, 0) !== BASE) throw new Error("mmap failed");
    for (let i = 0; i < n; i++) if (p.touch(BASE + i * PAGE_SIZE, true) !== 0) throw new Error(`touch ${i} failed`);
  }
  const s = k.stats();
  if (p.checkInternal() !== 0) throw new Error("the engine's tree check failed");
  return { what, n, wasmBytes: s.memoryBytes, allocatedBytes: s.bytesAllocated, vmas: s.vmas, pages: s.pages, seconds: (performance.now() - t0) / 1000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const what = process.argv[2] === "pages" ? "pages" : "vmas";
  const n = Number(process.argv[3] ?? 1_000_000);
  const r = bigProcess(what, n);
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  const per = what === "vmas" ? "VMA" : "page";
  console.log(`${r.what} ${r.n}: ${r.vmas} VMAs, ${r.pages} pages; wasm memory ${mib(r.wasmBytes)} MiB ` +
    `(${(r.wasmBytes / n).toFixed(0)} bytes per ${per}; records ${(r.allocatedBytes / n).toFixed(1)} bytes per ${per}); host RSS ${mib(process.memoryUsage().rss)} MiB; ${r.seconds.toFixed(1)} s`);
}
