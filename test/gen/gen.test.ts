// vmasim gen (src/gen/): deterministic per seed, exactly N events with every
// process ended, the same text NativeWriter writes, produced lazily, and
// valid: every kind replays under every policy with nothing unmodelled,
// nothing disagreeing and the checker clean (seed-v2: its documented defects
// only); the adversarial kind's ENOMEM results are the engine's own.
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createKernel } from "../../src/engine/simulator.js";
import { documentedDefect } from "../../src/fuzz/defects.js";
import { GEN_KINDS, GenError, generate, generateChunks } from "../../src/gen/generate.js";
import { Replayer } from "../../src/replay/replayer.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { NativeWriter, parseNative } from "../../src/trace/native.js";
import { POLICIES } from "../../src/types.js";

const text = (kind: string, events: number, seed: number, extra = {}) => [...generateChunks(kind, { events, seed, ...extra })].join("");
const events = (t: string) => t.split("\n").filter((l) => l !== "" && !l.startsWith("#") && !l.startsWith("vmasim-trace"));

describe("vmasim gen: the file", () => {
  it("is byte-identical for a seed, and another seed gives another trace", () => {
    for (const kind of GEN_KINDS) {
      const a = text(kind, 3000, 7);
      expect(text(kind, 3000, 7), kind).toBe(a);
      expect(text(kind, 3000, 8), kind).not.toBe(a);
      expect([...generate(kind, { events: 3000, seed: 7 })].join("\n") + "\n").toBe(a);
    }
  });

  it("has exactly N events, and every process started has exited at the end", async () => {
    for (const kind of GEN_KINDS) {
      for (const n of [17, 18, 40, 333, 2500]) {
        const t = text(kind, n, n);
        expect(t.startsWith("vmasim-trace 1\n# vmasim gen ")).toBe(true);
        expect(events(t).length, `${kind} ${n}`).toBe(n);
        const live = new Set<number>();
        for await (const e of parseNative(t.split("\n"), { strict: true })) {
          if (e.kind === "perf_comm" || e.kind === "task_newtask") live.add(e.kind === "task_newtask" && e.cloneFlags & 0x10000 ? -1 : e.kind === "task_newtask" ? e.child : e.pid);
          if (e.kind === "sched_process_exit" && e.groupDead) live.delete(e.pid);
        }
        live.delete(-1);
        expect([...live], `${kind} ${n}`).toEqual([]);
        expect(events(t).at(-1), `${kind} ${n}`).toMatch(/^sched_process_exit \d+ \d+ 1000 .*group_dead=1/);
      }
    }
  });

  it("is what NativeWriter writes for the events it reads as", async () => {
    for (const kind of GEN_KINDS) {
      const t = text(kind, 4000, 3);
      const w = new NativeWriter([t.split("\n")[1].slice(2)]);
      let again = "";
      for await (const e of parseNative(t.split("\n"), { strict: true })) again += w.write(e);
      expect(again, kind).toBe(t);
    }
  });

  it("is made as it is read: the first chunk of 10^9 events comes at once", () => {
    const it = generateChunks("build", { events: 1e9, seed: 1 });
    const first = it.next();
    expect(first.done).toBe(false);
    expect(events(first.value as string).length).toBeLessThan(10000);
    it.return(undefined);
  });

  it("refuses bad options with the option's name", () => {
    expect(() => generateChunks("frob", { events: 100, seed: 1 })).toThrow(new GenError("unknown kind 'frob' (one of allocator, server, build, adversarial)"));
    expect(() => generateChunks("server", { events: 16, seed: 1 })).toThrow(/events must be a whole number of at least 17/);
    expect(() => generateChunks("server", { events: 100, seed: 2 ** 32 })).toThrow(/seed must be/);
    expect(() => generateChunks("build", { events: 100, seed: 1, pids: 0 })).toThrow(/pids must be/);
  });
});

/** A replay's complaint in the form documentedDefect() matches (lockstep.ts normalize(): numbers are N). */
const signature = (m: string) => "checker: " + m.replace(/^after event \d+: /, "").replace(/0x[0-9a-f]+|\d+/g, "N");

describe("vmasim gen: every kind replays cleanly under every policy", () => {
  for (const kind of GEN_KINDS) {
    it(kind, async () => {
      const max = kind === "adversarial" ? { maxMapCount: 1000 } : {};
      const t = text(kind, 20000, 11, max);
      const parsed: TraceEvent[] = [];
      for await (const e of parseNative(t.split("\n"), { strict: true })) parsed.push(e);
      for (const policy of POLICIES) {
        const kernel = await createKernel({ policy, max_map_count: 1000 });
        const r = new Replayer(kernel, { checkEvery: 10000 });
        for (const e of parsed) r.apply(e);
        const res = r.finish();
        const where = `${kind} under ${policy}`;
        expect(r.ignored, where).toEqual({});
        expect(res.disagreements, where).toEqual([]);
        expect(res.unknownPid, where).toEqual({});
        expect(res.unfinished, where).toEqual({});
        expect(res.silentChildren, where).toEqual([]);
        expect(res.placement.differed, where).toBe(0);
        expect(res.faults.signalled + res.faults.notModelled, where).toBe(0);
        expect(res.vmas.final, where).toBe(0);
        const undocumented = res.checker.messages.filter((m) => documentedDefect(policy, signature(m)) === null);
        expect(undocumented, where).toEqual([]);
        if (policy !== "seed-v2") expect(res.checker.errors, where).toBe(0);
        if (kind === "adversarial") {
          expect(Object.keys(res.failedCalls).sort(), where).toEqual(["mmap", "mprotect", "munmap"]);
          // the mmap at max_map_count succeeds and the next is refused: do_mmap() checks map_count > max
          expect(res.vmas.headroom?.mapCount, where).toBe(1001);
        } else {
          expect(res.failedCalls, where).toEqual({});
        }
      }
    }, 60000);
  }
});

describe("vmasim gen --pids: several workers at once replay as cleanly", () => {
  it("allocator, server and adversarial with 3 processes, build with -j8", async () => {
    for (const [kind, pids] of [["allocator", 3], ["server", 3], ["build", 8], ["adversarial", 3]] as const) {
      const max = kind === "adversarial" ? { maxMapCount: 300 } : {};
      const t = text(kind, 8000, 21, { pids, ...max });
      const r = new Replayer(await createKernel({ policy: "seed", max_map_count: 300 }), { checkEvery: 4000 });
      for await (const e of parseNative(t.split("\n"), { strict: true })) r.apply(e);
      const res = r.finish();
      expect(res.disagreements, kind).toEqual([]);
      expect(res.checker.errors, kind).toBe(0);
      expect(res.faults.signalled, kind).toBe(0);
      expect(res.processes.exits, kind).toBe(res.processes.forks + res.processes.vmClones + 1);
      // the launcher and its workers at once
      if (kind !== "build") expect(res.processes.forks, kind).toBeGreaterThanOrEqual(pids);
    }
  }, 60000);
});

describe("vmasim gen adversarial: the calls it says fail, fail in the engine", () => {
  it("every ENOMEM is the engine's, and changes nothing", async () => {
    const t = text("adversarial", 12000, 5, { maxMapCount: 500 });
    const kernel = await createKernel({ policy: "linux-5.17", max_map_count: 500 });
    const r = new Replayer(kernel);
    let refused = 0;
    for await (const e of parseNative(t.split("\n"), { strict: true })) {
      if ("errno" in e && e.errno !== null) {
        expect(e.errno).toBe("ENOMEM");
        // the fragmenting process: the one with the most VMAs
        const p = kernel.processes().reduce((a, b) => (a.counters().map_count >= b.counters().map_count ? a : b));
        const before = p.counters().map_count;
        const got = e.kind === "mprotect" ? p.mprotect(e.start, e.len, e.prot)
          : e.kind === "munmap" ? p.munmap(e.addr, e.len)
            : e.kind === "mmap" ? p.mmap(e.addr, e.len, e.prot, e.flags, -1, 0) : 0;
        expect(got, `${e.kind}@${e.line}`).toBe(-12);
        expect(p.counters().map_count).toBe(before);
        expect(before).toBeGreaterThanOrEqual(500);
        refused++;
      }
      r.apply(e);
    }
    expect(refused).toBeGreaterThan(100);
    expect(r.finish().disagreements).toEqual([]);
  });
});

describe("vmasim gen: the command", async () => {
  const { cli, tree } = await import("../cli/helpers.js");

  it("writes the trace to stdout, or gzipped to FILE with its host profile; replay reads both", async () => {
    const out = await cli(["gen", "server", "--events", "500", "--seed", "4"]);
    expect(out).toEqual({ status: 0, stdout: text("server", 500, 4), stderr: "" });
    const dir = tree({});
    const file = `${dir}/adv.vt.gz`;
    const r = await cli(["gen", "adversarial", "--events", "3000", "--seed", "2", "--max-map-count", "200", "-o", file]);
    expect(r).toEqual({ status: 0, stdout: "", stderr: `vmasim: gen: wrote ${dir}/adv.vt.host.json (max_map_count 200, read by vmasim replay)\n` });
    expect(JSON.parse(readFileSync(`${dir}/adv.vt.host.json`, "utf8"))).toEqual({ max_map_count: 200 });
    expect(gunzipSync(readFileSync(file)).toString()).toBe(text("adversarial", 3000, 2, { maxMapCount: 200 }));
    const rep = await cli(["replay", file, "--policy", "linux-5.17", "--json"]);
    expect(rep.status).toBe(0);
    const j = JSON.parse(rep.stdout);
    expect(j.events).toBe(3000);
    expect(j.policies["linux-5.17"].disagreed).toEqual({});
    expect(j.policies["linux-5.17"].vmas.headroom.mapCount).toBe(201);
  });

  it("usage errors exit 2 with the reason", async () => {
    expect(await cli(["gen", "server", "--seed", "1"])).toMatchObject({ status: 2, stderr: "vmasim: gen: missing --events N\nTry 'vmasim gen --help'.\n" });
    expect((await cli(["gen", "server", "--events", "1e3", "--seed", "1"])).stderr).toMatch(/--events must be a whole number, not '1e3'/);
    expect((await cli(["gen", "frob", "--events", "100", "--seed", "1"])).stderr).toMatch(/unknown kind 'frob'/);
    expect((await cli(["gen", "build", "--events", "100", "--seed", "1", "--max-map-count", "100"])).stderr).toMatch(/for the adversarial kind/);
    expect(await cli(["gen", "build", "--events", "100", "--seed", "1", "-o", "/nonexistent/x.vt"])).toMatchObject({ status: 2, stderr: "vmasim: gen: cannot write '/nonexistent/x.vt': ENOENT\n" });
  });
});

describe("vmasim gen: the library", () => {
  it("exports generate, generateChunks, writeGenerated and writeChunks", async () => {
    const lib = await import("../../src/index.js");
    for (const f of ["generate", "generateChunks", "writeGenerated", "writeChunks", "genCommand"] as const) expect(typeof lib[f], f).toBe("function");
    expect(lib.GEN_KINDS).toEqual(["allocator", "server", "build", "adversarial"]);
  });

  it("writeChunks stops at the stream's error (EPIPE: the reader of the pipe has gone)", async () => {
    const { writeChunks } = await import("../../src/gen/write.js");
    const sink = Object.assign(new EventEmitter(), {
      writes: 0,
      write(this: EventEmitter & { writes: number }) {
        // the write succeeds; its error comes on a later tick, as a pipe's does
        if (++this.writes === 3) process.nextTick(() => this.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" })));
        return true;
      },
    });
    await expect(writeChunks(generateChunks("server", { events: 1e9, seed: 1 }), sink)).rejects.toMatchObject({ code: "EPIPE" });
    expect(sink.writes).toBeLessThan(40);
  });

  it("writeChunks waits for 'drain' whenever write() says the stream is full", async () => {
    const { writeChunks } = await import("../../src/gen/write.js");
    // a stream that is full after every write and drains a tick later
    let full = false;
    let drained: (() => void) | undefined;
    let read = "";
    const sink = {
      write(c: string) {
        expect(full, "a write before 'drain'").toBe(false);
        read += c;
        full = true;
        setImmediate(() => {
          full = false;
          drained?.();
        });
        return false;
      },
      once(_: "drain", f: () => void) {
        drained = () => {
          drained = undefined;
          f();
        };
      },
    };
    await writeChunks(generateChunks("allocator", { events: 5000, seed: 9 }, 64), sink);
    expect(read).toBe(text("allocator", 5000, 9));
  });
});
