// The adversarial kind at vm.max_map_count, per policy: how many VMAs its mm
// held at the limit, how many calls the trace says were refused, and the
// first of them tried on the engine. A replay never applies a failed call (it
// changed nothing in the kernel that made the trace), so whether the engine
// refuses it too is asked of a second engine replayed up to that call: the
// call goes to the process with the most VMAs (the one at the limit), and
// must return -ENOMEM and leave its map_count as it was (the refusals come
// before any change: do_mmap(), split_vma() and the munmap of a hole check
// map_count first, mm/mmap.c and mm/vma.c).

import { createKernel, type Process } from "../engine/simulator.js";
import type { Knobs } from "../kernel/profile.js";
import type { ReplayResult } from "../replay/replayer.js";
import { Replayer } from "../replay/replayer.js";
import type { TraceEvent } from "../trace/events.js";
import type { KernelConfig, Policy } from "../types.js";
import { DEFAULT_MAX_MAP_COUNT } from "./generate.js";
import { type GenSource, genEventBatches } from "./source.js";

export interface FirstRefusal {
  /** the event (the trace's LINE) and the call as the trace shows it */
  event: number;
  call: string;
  /** the engine's result (-12: ENOMEM) */
  engine: number;
  /** the mm's map_count before and after the engine's call */
  mapCount: number;
  mapCountAfter: number;
}

export interface LimitReport {
  maxMapCount: number;
  /** the mm's map_count at its closest approach to the limit (max_map_count + 1: the last mmap do_mmap() lets through) */
  vmasAtLimit: number | null;
  /** calls the trace says failed, all kinds */
  refused: number;
  firstRefused: FirstRefusal | null;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The refused call on the engine's process: its result. */
function tryCall(p: Process, e: TraceEvent): { call: string; got: number } | null {
  switch (e.kind) {
    case "mmap": return { call: `mmap(${hex(e.addr)}, ${hex(e.len)}, ${e.prot}, ${hex(e.flags)})`, got: p.mmap(e.addr, e.len, e.prot, e.flags, -1, 0) };
    case "mprotect": return { call: `mprotect(${hex(e.start)}, ${hex(e.len)}, ${e.prot})`, got: p.mprotect(e.start, e.len, e.prot) };
    case "munmap": return { call: `munmap(${hex(e.addr)}, ${hex(e.len)})`, got: p.munmap(e.addr, e.len) };
    default: return null;
  }
}

/** The first refused call of a generated trace, tried on an engine of `policy` replayed up to it. */
export async function firstRefusal(s: GenSource, knobs: Knobs, policy: Policy): Promise<FirstRefusal | null> {
  const kernel = await createKernel({ ...knobs, policy } as KernelConfig);
  const r = new Replayer(kernel);
  for await (const batch of genEventBatches(s)) {
    const i = batch.findIndex((e) => "errno" in e && e.errno !== null);
    if (i < 0) {
      r.applyBatch(batch);
      continue;
    }
    r.applyBatch(batch.slice(0, i));
    const e = batch[i];
    // the process at the limit: the one with the most VMAs
    const p = kernel.processes().reduce((a, b) => (a.counters().map_count >= b.counters().map_count ? a : b));
    const mapCount = p.counters().map_count;
    const t = tryCall(p, e);
    if (t === null) return null;
    return { event: e.line, call: t.call, engine: t.got, mapCount, mapCountAfter: p.counters().map_count };
  }
  return null;
}

/** The limit report of one policy's replay of an adversarial trace. */
export async function limitReport(s: GenSource, knobs: Knobs, policy: Policy, res: ReplayResult): Promise<LimitReport> {
  const max = typeof knobs.max_map_count === "number" ? knobs.max_map_count : DEFAULT_MAX_MAP_COUNT;
  return {
    maxMapCount: max,
    vmasAtLimit: res.vmas.headroom?.mapCount ?? null,
    refused: Object.values(res.failedCalls).reduce((a, b) => a + b, 0),
    firstRefused: await firstRefusal(s, knobs, policy),
  };
}
