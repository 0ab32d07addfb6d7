// The scenario corpus (test/scenarios/corpus/NN-name.script) and its outputs
// recorded on Linux 6.18 (NN-name.linux-6.18.out, written by
// scripts/record-corpus.ts):
//   (a) always: every script has its recording, every recording its script,
//       every script starts with a header comment, and the TypeScript parser
//       agrees with the native runner on which lines are syntax errors;
//   (b) with a C compiler (and, for recordings with anon pgoffs and av=, as
//       root with the runner's BPF reader of the hidden anon state), for every
//       recording directory test/scenarios/corpus* whose host profile
//       (host-profile.json) matches the live one on everything that changes
//       output (release series, zero page, sysctls, rlimits, caps:
//       profileDifferences in src/kernel/profile.ts): re-running the native
//       runner reproduces every recording exactly (count numbers masked);
//       a directory recorded under another profile is skipped with the reason;
//   (c) with the native runner: 20 generated scripts (fixed seeds) run
//       without the runner failing (status 0).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { canRunNative, hiddenStateAvailable, imageIndependent, runOnKernel } from "../../src/kernel/native.js";
import { generateScript } from "../../src/scenario/generate.js";
import { readRecordingProfile } from "../../src/kernel/profile.js";
import { parseScript } from "../../src/scenario/parse.js";
import { corpusRecordingDirs, liveVsRecording, recordingsIn, rel } from "../helpers/host.js";

const CORPUS = fileURLToPath(new URL("./corpus/", import.meta.url));
const TAG = "linux-6.18";

const files = readdirSync(CORPUS);
const names = files.filter((f) => f.endsWith(".script")).map((f) => f.slice(0, -".script".length)).sort();
const script = (name: string): string => readFileSync(path.join(CORPUS, `${name}.script`), "utf8");
const recordingPath = (name: string): string => path.join(CORPUS, `${name}.${TAG}.out`);

/** Why the native comparisons cannot run here, or null when they can. */
function nativeUnavailable(needHiddenState: boolean): string | null {
  const native = canRunNative();
  if (!native.ok) return `the native runner cannot run here: ${native.reason}`;
  if (needHiddenState) {
    if (typeof process.getuid === "function" && process.getuid() !== 0) return "not running as root (anon lines would read `anon ?`)";
    if (!hiddenStateAvailable()) return "the runner's BPF reader of the hidden anon state is unavailable";
  }
  return null;
}

describe("scenario corpus: files", () => {
  it("has at least 70 scripts", () => {
    expect(names.length).toBeGreaterThanOrEqual(70);
  });

  it("states the host profile of every recording directory (host-profile.json)", () => {
    for (const dir of corpusRecordingDirs()) {
      for (const tag of recordingsIn(dir).keys()) expect(readRecordingProfile(dir, tag), `${rel(dir)} (${tag})`).not.toBeNull();
    }
  });

  it("has a recording for every script and a script for every recording", () => {
    const missing = names.filter((n) => !existsSync(recordingPath(n)));
    expect(missing, `scripts without ${TAG} recording`).toEqual([]);
    const orphans = files
      .filter((f) => f.endsWith(".out"))
      .filter((f) => !names.includes(f.replace(/\.linux-\d+\.\d+\.out$/, "")));
    expect(orphans, "recordings without a script").toEqual([]);
  });

  it("numbers scripts uniquely and starts each with a header comment", () => {
    const numbers = names.map((n) => /^(\d{2,3})-[a-z0-9-]+$/.exec(n)?.[1]);
    expect(numbers.filter((n) => n === undefined), "names not of the form NN-name").toEqual([]);
    expect(new Set(numbers).size).toBe(names.length);
    for (const n of names) expect(script(n).startsWith("# "), n).toBe(true);
  });

  for (const name of names) {
    it(`${name}: the parser and the recorded native output agree on the lines and on EPARSE`, () => {
      if (!existsSync(recordingPath(name))) return; // reported by the test above
      const entries = parseScript(script(name));
      const recorded = readFileSync(recordingPath(name), "utf8");
      // each entry's normalized text starts one output line, in order (dump
      // bodies, fork lines and results are in between)
      const lines = recorded.split("\n");
      let at = 0;
      for (const e of entries) {
        const prefix = e.text;
        while (at < lines.length && !(lines[at] === prefix || lines[at]!.startsWith(`${prefix} => `))) at++;
        expect(at, `line ${e.line} "${e.text}" not found in order in the recording`).toBeLessThan(lines.length);
        const eparse = lines[at]!.endsWith(` => EPARSE (line ${e.line})`);
        expect(eparse, `line ${e.line} "${e.text}": EPARSE in the recording vs the parser`).toBe(e.op === "EPARSE");
        at++;
      }
    });
  }
});

for (const dir of corpusRecordingDirs()) {
  for (const [tag, recordings] of recordingsIn(dir)) {
    describe(`scenario corpus: ${rel(dir)} (${tag}) reproduced on this kernel`, () => {
      // recordings without the hidden anon state (`anon ?`) need no BPF reader
      const hidden = [...recordings.values()].some((f) => / av=/.test(readFileSync(f, "utf8")));
      const why = nativeUnavailable(hidden) ?? liveVsRecording(dir, tag);
      if (why !== null) {
        console.log(`corpus re-run of ${rel(dir)} (${tag}) on the native runner skipped: ${why}`);
        it.skip(`re-run the ${recordings.size} scripts on the native runner (${why})`, () => {});
        return;
      }
      // a directory with its own scripts (corpus-6.18-nozp) runs those, the others the corpus's
      const scriptOf = (name: string): string =>
        existsSync(path.join(dir, `${name}.script`)) ? readFileSync(path.join(dir, `${name}.script`), "utf8") : script(name);
      for (const [name, file] of recordings) {
        it(name, () => {
          const { output } = runOnKernel(scriptOf(name));
          expect(imageIndependent(output)).toBe(imageIndependent(readFileSync(file, "utf8")));
        });
      }
    });
  }
}

describe("generated scripts on the native runner", () => {
  const why = nativeUnavailable(false);
  if (why !== null) {
    console.log(`generated scripts on the native runner skipped: ${why}`);
    it.skip(`run 20 generated scripts (${why})`, () => {});
    return;
  }
  // every 2nd keeps addresses inside the arena, every 4th uses only the VMA-layer ops
  const VMA_LAYER = ["mmap", "munmap", "mprotect", "brk", "dump", "dumpheap", "count", "echo"];
  const CASES = Array.from({ length: 20 }, (_, i) => ({
    seed: 1000 + i * 37,
    ops: 80,
    topDown: i % 2 === 0,
    ...(i % 4 === 3 ? { allow: VMA_LAYER } : {}),
  }));
  for (const opts of CASES) {
    it(`seed ${opts.seed}${opts.topDown ? "" : ", topDown false"}${opts.allow ? ", VMA-layer ops" : ""}`, () => {
      const s = generateScript(opts);
      const r = runOnKernel(s);
      expect(r.status, r.output.slice(-2000)).toBe(0);
      // the runner got to the end: the final count line is there
      expect(r.output).toMatch(/\ncount => process_vmas=\d+ arena_vmas=\d+ other_vmas=\d+ max_map_count=\d+\n$/);
      expect(r.output).not.toContain("EPARSE");
    });
  }
});
