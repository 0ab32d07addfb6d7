// The reference model dressed as the kernel a Replayer drives, so that `vmasim
// fuzz --gen` can replay one generated trace on the engine and on the model in
// lock step. The replay needs, beyond the per-call API both implement
// (KernelSim), the engine's merge tracing and counters: the model has neither
// (its merges are not traced), so the three calls answer "no merge events"
// and the model's own page rewrites. Faults are applied one event at a time
// (Replayer.apply()): the typed batch is the engine's only.
import type { Simulator } from "../engine/simulator.js";
import type { MergeStats } from "../engine/merge_trace.js";
import { createModelKernel } from "../model/index.js";
import type { KernelConfig, KernelSim } from "../types.js";

export function modelForReplay(config: KernelConfig): { kernel: Simulator; model: KernelSim } {
  const model = createModelKernel(config);
  const extra: Record<string, unknown> = {
    traceMerges(): void {},
    takeMergeEvents(): [] {
      return [];
    },
    mergeStats(): MergeStats {
      const r = model.pageRewrites?.() ?? { pagesReindexed: 0, pagesRepointed: 0, anonVmaRefsLeaked: 0, debugVmWarnings: 0 };
      return {
        attempts: 0, merged: 0, byCase: [], failed: {}, bothRefused: 0, anonVmasCreated: 0, anonVmasFreed: 0,
        pgoffUpdated: 0, pgoffKept: 0, mapCountRefused: 0, ...r,
      };
    },
  };
  const kernel = new Proxy(model, {
    get(t, k) {
      if (typeof k === "string" && k in extra) return extra[k];
      const v = Reflect.get(t, k, t) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  }) as unknown as Simulator;
  return { kernel, model };
}
