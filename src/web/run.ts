// One script under one policy, as the playground shows it: the text
// `vmasim run --policy P` prints (stdout), the same with the merge trace
// (`run --trace`), the checker's verdict and the parse errors (its stderr),
// and a picture's worth of state after every line. No DOM: the browser test
// and Node can both call it.

import { createKernel } from "../engine/simulator.js";
import type { MergeEvent } from "../engine/merge_trace.js";
import { formatMergeEvent } from "../engine/merge_trace.js";
import { ScenarioChecker, formatVerdict } from "../cli/checker.js";
import { formatParseErrors } from "../cli/diagnostics.js";
import { arenaPages, arenaVmas, PageHistory, type DiagramPage, type DiagramVma } from "../report/svg.js";
import { ARENA_PAGES } from "../scenario/parse.js";
import { runScenario } from "../scenario/run.js";
import type { Policy } from "../types.js";

/** The state after one script line that ran. */
export interface StepState {
  /** its line number in the script */
  line: number;
  /** the line was a `dump` (the picture the playground lists) */
  dump: boolean;
  vmas: DiagramVma[];
  pages: DiagramPage[];
  /** the process's VMA count when it was too many to draw (vmas and pages then empty), else 0 */
  notDrawn: number;
}

/** Above this many VMAs (vm.max_map_count experiments) a step is not drawn: snapshots would cost more than the run. */
export const MAX_DRAWN_VMAS = 2000;

export interface PolicyRun {
  policy: Policy;
  /** exactly what `vmasim run --policy P SCRIPT` prints on stdout */
  output: string;
  /** exactly what `vmasim run --trace --policy P SCRIPT` prints on stdout; null unless asked for (it can be long and slow) */
  traced: string | null;
  /** what run prints on stderr: the parse errors, then the checker's verdict */
  stderr: string;
  /** the exit status run gives (without --keep-going) */
  status: number;
  steps: StepState[];
  /** an error that stopped the run (the scenario's arena could not be set up ...), else null */
  error: string | null;
}

/** The name run reports a script from the editor under. */
export const EDITOR_NAME = "script";

/**
 * Runs `script` under `policy` with the checker after the script, as `vmasim
 * run` does by default; with `trace`, also as `run --trace` (the page asks
 * for the trace only when it is opened: it can be tens of thousands of lines).
 */
export async function runPolicy(policy: Policy, script: string, trace = false): Promise<PolicyRun> {
  const kernel = await createKernel({ policy });
  if (trace) kernel.traceMerges();
  const checker = new ScenarioChecker(kernel, false);
  const history = new PageHistory();
  const events: MergeEvent[][] = [];
  const steps: StepState[] = [];
  let base = 0;
  try {
    const r = runScenario(kernel, script, {
      onStart: (_p, arenaBase) => {
        base = arenaBase;
        checker.start(arenaBase);
        if (trace) kernel.takeMergeEvents(); // the arena's own setup is not the script's
      },
      onStep: (p, e) => {
        if (trace) events.push(kernel.takeMergeEvents());
        checker.step(e.line);
        const count = p.counters().map_count;
        const dump = e.op === "dump";
        if (count > MAX_DRAWN_VMAS) {
          steps.push({ line: e.line, dump, vmas: [], pages: [], notDrawn: count });
          return;
        }
        const memory = kernel.memory();
        steps.push({
          line: e.line,
          dump,
          vmas: arenaVmas(p, base, ARENA_PAGES),
          pages: arenaPages(p, memory, base, ARENA_PAGES, history.update(memory)),
          notDrawn: 0,
        });
      },
    });
    const failure = checker.finish();
    // addresses in the trace as arena pages, like the script's (src/cli/main.ts runInEngine)
    const page = (a: number) => (a >= base && a <= base + ARENA_PAGES * 4096 ? String((a - base) / 4096) : "0x" + a.toString(16));
    const traced = !trace ? null : r.steps.map((s, i) => {
      const lines = [...s.output];
      for (const ev of events[i] ?? []) {
        const text = formatMergeEvent(ev, page);
        lines.push(...text.split("\n").map((l) => (l ? `    # ${l}` : "    #")));
      }
      return lines.map((l) => l + "\n").join("");
    }).join("");
    const parseStatus = r.parseErrors.length && r.status === 2 ? 2 : r.status;
    return {
      policy,
      output: r.output,
      traced,
      stderr: formatParseErrors(EDITOR_NAME, r.parseErrors) + formatVerdict(failure, "", false),
      status: parseStatus !== 0 ? parseStatus : failure ? 1 : 0,
      steps,
      error: null,
    };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { policy, output: "", traced: trace ? "" : null, stderr: `vmasim: ${message}\n`, status: 70, steps, error: message };
  }
}
