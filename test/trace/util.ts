// Helpers of the trace importer tests: where the traces are, and counting
// events the way /work/shared/traces/summarize.py counts them, so that its
// printed totals can be compared with ours.

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TraceEvent } from "../../src/trace/events.js";
import { faultAccess } from "../../src/trace/events.js";

export const FIXTURES = fileURLToPath(new URL("../fixtures/traces/", import.meta.url));
/** The full real traces, outside the repository; tests using them skip when absent. */
export const SHARED = fileURLToPath(new URL("../../../shared/traces/", import.meta.url));
export const HAVE_SHARED = existsSync(SHARED + "lua_make_j2.perf.txt.gz");

export async function collect(gen: AsyncIterable<TraceEvent>): Promise<TraceEvent[]> {
  const out: TraceEvent[] = [];
  for await (const e of gen) out.push(e);
  return out;
}

/** "brk=8, close=70" (summarize.py's totals line) → a map. */
export function totals(s: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of s.split(", ")) {
    const [k, v] = part.split("=");
    out[k] = Number(v);
  }
  return out;
}

/**
 * Our events counted under summarize.py's names. Events summarize.py does not
 * print (the exec/new-task events derived from strace) are left out; calls
 * cut off by the end of the file go under unfinished_at_eof (exit and
 * exit_group excepted, as summarize.py does).
 */
export function summarizeLike(events: TraceEvent[], format: "perf" | "strace" | "sidecar"): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (k: string) => (out[k] = (out[k] ?? 0) + 1);
  for (const e of events) {
    switch (e.kind) {
      case "unparsed": add("unparsed_lines"); break;
      case "page_fault": {
        const a = faultAccess(e.errorCode);
        add(e.user ? (a === "exec" ? "fault_ifetch" : `fault_${a}`) : a === "write" ? "kfault_write" : "kfault_read");
        break;
      }
      case "task_newtask": if (format === "perf") add("task:task_newtask"); break;
      case "sched_process_exec": if (format === "perf") add("sched:sched_process_exec"); break;
      case "sched_process_exit": add(format === "perf" ? "sched:sched_process_exit" : "strace:exit"); break;
      case "perf_mmap2": add("MMAP2"); break;
      case "perf_fork": add("FORK"); break;
      case "perf_exit": add("EXIT"); break;
      case "perf_comm": add("COMM"); break;
      case "lost": add("LOST_events"); break;
      default: {
        const name = e.kind === "clone" ? e.call + (e.inChild ? "(child)" : "")
          : e.kind === "unmodelled" ? (format === "strace" && /^SIG/.test(e.name) ? "strace:signal" : e.name)
          : e.kind === "set_vma_anon_name" ? "prctl" : e.kind;
        if (e.unfinished && e.kind !== "exit" && e.kind !== "exit_group") add("unfinished_at_eof");
        else add(name);
      }
    }
  }
  return out;
}

/** Processes and tasks seen (lost/unparsed records excluded). */
export function tasksSeen(events: TraceEvent[]): { processes: number; tasks: number } {
  const pids = new Set<number>();
  const tids = new Set<number>();
  for (const e of events) {
    if (e.kind === "unparsed" || e.kind === "lost") continue;
    pids.add(e.pid);
    tids.add(e.tid);
  }
  return { processes: pids.size, tasks: tids.size };
}
