// The wasm memory cap (SimulatorOptions.memoryLimitBytes) reached by a script
// and by a replay: a clean error naming the operation (and the script line),
// never a trap; the statistics so far stay readable and the simulator stays
// usable (unmapping frees records). test/engine/internal.test.ts covers the
// library call itself.
import { describe, expect, it } from "vitest";
import { EngineOutOfMemoryError, createKernelSync } from "../../src/engine/index.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { Replayer } from "../../src/replay/replayer.js";
import { runScenario, ScenarioAbortedError } from "../../src/scenario/run.js";
import { cli, tree } from "../cli/helpers.js";
import { join } from "node:path";

const CAP = 8 << 20;
const capped = () => createKernelSync({ policy: "linux-5.17", max_map_count: 1 << 30 }, { memoryLimitBytes: CAP });
const SCRIPT = "mmap 0 1 rw\ntouch 0\nrepeat 200000 2 2 mmap @ 1 rw\ncount\n";

describe("the wasm memory cap", () => {
  it("a script: ScenarioAbortedError at the line, naming the call; output and statistics so far readable", () => {
    const k = capped();
    let err: unknown = null;
    let base = 0;
    try {
      runScenario(k, SCRIPT, { onStart: (_p, b) => (base = b) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioAbortedError);
    const a = err as ScenarioAbortedError;
    expect(a.line).toBe(3);
    expect(a.error).toBeInstanceOf(EngineOutOfMemoryError);
    expect(a.message).toBe("line 3 (repeat 200000 2 2 mmap @ 1 rw): vmasim engine out of memory during mmap (wasm linear memory cannot grow further)");
    expect(a.output).toBe("mmap 0 1 rw => ok\ntouch 0 => ok\n");
    const stats = k.stats();
    expect(stats.memoryBytes).toBeLessThanOrEqual(CAP);
    expect(stats.vmas).toBeGreaterThan(10_000);
    const [p] = k.processes();
    expect(p!.counters().map_count).toBe(stats.vmas);
    expect(p!.checkInternal()).toBe(0);
    // still usable: free some records, map again
    // (a snapshot of 60,000 VMAs would need memory too: vmas() is refused the same way)
    expect(() => p!.vmas()).toThrow(EngineOutOfMemoryError);
    const from = base + 2 * 4096, to = base + 4002 * 4096; // the repeat's pages 2, 4, ... 4000
    expect(p!.munmap(from, to - from)).toBe(0);
    expect(p!.counters().map_count).toBe(stats.vmas - 2000);
    expect(p!.mmap(from, 4096, 3, 0x22 | 0x100000, -1, 0)).toBe(from);
    expect(k.rmapCheck()).toBe(0);
  });

  it("vmasim run: the output so far on stdout, the line and the call on stderr, status 1", async () => {
    const dir = tree({ "big.script": SCRIPT });
    const r = await cli(["run", join(dir, "big.script")], "", {
      createKernel: (c) => createKernelSync({ ...c, max_map_count: 1 << 30 }, { memoryLimitBytes: CAP }),
    });
    expect(r).toEqual({
      status: 1,
      stdout: "mmap 0 1 rw => ok\ntouch 0 => ok\n",
      stderr: "vmasim: line 3 (repeat 200000 2 2 mmap @ 1 rw): vmasim engine out of memory during mmap (wasm linear memory cannot grow further)\n",
    });
  });

  it("a replay: EngineOutOfMemoryError from apply(); finish() still gives the statistics so far", () => {
    const k = capped();
    const rp = new Replayer(k);
    const base = { time: 0, pid: 5, tid: 5, comm: "x", entryLine: null, duration: null, errno: null, unfinished: false };
    rp.apply({ ...base, kind: "sched_process_exec", line: 1, filename: "/bin/x", oldPid: 5 } as TraceEvent);
    let applied = 0;
    let err: unknown = null;
    for (let i = 0; i < 200_000 && err === null; i++) {
      const addr = 0x10000000 + i * 8192;
      try {
        rp.apply({ ...base, kind: "mmap", line: i + 2, addr, len: 4096, prot: 3, flags: 0x32, fd: -1, off: 0, open: null, path: null, ret: addr } as TraceEvent);
        applied++;
      } catch (e) {
        err = e;
      }
    }
    expect(err).toBeInstanceOf(EngineOutOfMemoryError);
    expect((err as Error).message).toMatch(/^vmasim engine out of memory during mmap /);
    const r = rp.finish();
    expect(r.vmas.peak).toBeGreaterThanOrEqual(applied);
    expect(r.vmas.final).toBe(r.vmas.peak);
    expect(k.processes()[0]!.checkInternal()).toBe(0);
  });
});
