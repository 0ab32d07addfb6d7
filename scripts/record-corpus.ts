// Records the scenario corpus on the running kernel:
//
//   npx tsx scripts/record-corpus.ts [--check] [--scripts DIR] [--out DIR] [NAME...]
//
// For every test/scenarios/corpus/NN-name.script (or every NAME.script of the
// --scripts directory, e.g. test/scenarios/generated; or only those whose name
// contains one of the NAME arguments) it runs the native runner
// (native/scenario-runner.c, through src/kernel/native.ts) and writes the
// runner's stdout, unchanged, to NN-name.linux-MAJOR.MINOR.out, MAJOR.MINOR
// being the running kernel's (e.g. linux-6.18), in the scripts' directory or
// in the --out DIR (for recordings under another configuration of the same
// kernel, or beside another set of scripts).
// Beside them it writes host-profile.json, the host profile the recordings
// were made under (src/kernel/host.ts, as `vmasim host --json` prints it):
// the tests compare a recording with the live kernel only where the live
// profile matches it, and configure the engine from it. Recording only some
// scripts into a directory whose profile differs from the live one on a knob
// that changes output is refused (the directory would mix two configurations).
//
// It refuses to record (exit 2) unless the anon lines can be complete: it must
// run as root and the runner's BPF reader of the hidden anon state (vm_pgoff,
// anon_vma) must work; otherwise every anon line would read `anon ?` and no
// line (anon, file or shmem) would carry `av=`.
//
// --check re-runs everything and compares with the recorded files instead of
// writing them; the process_vmas=/other_vmas= numbers of `count` lines are
// masked (imageIndependent). Exit 1 on any difference or missing recording.
// It first says how the live profile differs from the recorded one, if it does.
//
// Both modes also lint the outputs for a known source of non-determinism (a
// warning, not an error): the runner numbers anon_vmas by kernel address, so
// an anon_vma freed after it was shown and a new one allocated at the same
// address (slab reuse) would show the OLD number. A number that reappears in a
// dump after being absent from the previous dump is reported.

import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { probeHost } from "../src/kernel/host.js";
import { canRunNative, hiddenStateAvailable, imageIndependent, runOnKernel } from "../src/kernel/native.js";
import { SIDECAR, profileDifferences, profileToJson, readRecordingProfile } from "../src/kernel/profile.js";

const CORPUS = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "scenarios", "corpus");

/** `linux-MAJOR.MINOR` of the running kernel, or null when os.release() does not start with it. */
export function kernelTag(release: string = os.release()): string | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? `linux-${m[1]}.${m[2]}` : null;
}

/** The corpus script names (without `.script`), sorted. */
export function corpusNames(dir: string = CORPUS): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".script"))
    .map((f) => f.slice(0, -".script".length))
    .sort();
}

/**
 * Lint: anon_vma numbers that reappear in a dump after being absent from the
 * previous dump of the output (possible slab address reuse, see the header).
 * Returns one message per suspicious number.
 */
export function avReuseWarnings(output: string): string[] {
  const warnings: string[] = [];
  const lines = output.split("\n");
  const seen = new Set<string>();
  let previous = new Set<string>();
  let current: Set<string> | null = null;
  let currentStart = 0;
  const close = (): void => {
    if (current === null) return;
    for (const n of current) {
      if (seen.has(n) && !previous.has(n)) {
        warnings.push(`av number ${n} reappears in the dump at output line ${currentStart + 1} after being absent from the previous dump`);
      }
    }
    for (const n of current) seen.add(n);
    previous = current;
    current = null;
  };
  lines.forEach((line, i) => {
    if (line === "dump" || line === "dump full") {
      close();
      current = new Set();
      currentStart = i;
      return;
    }
    if (current === null) return;
    const m = / av=(\d+)\/(\d+)/.exec(line);
    if (m) {
      current.add(m[1]!);
      current.add(m[2]!);
    } else if (/^ {2}\(\d+ vmas\)$/.test(line)) {
      close();
    }
  });
  close();
  return warnings;
}

/** The first differing line of two texts, as a short report, or null when equal. */
export function firstDifference(expected: string, actual: string): string | null {
  if (expected === actual) return null;
  const a = expected.split("\n");
  const b = actual.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `line ${i + 1}:\n    recorded: ${a[i] === undefined ? "(end of file)" : JSON.stringify(a[i])}\n    now:      ${b[i] === undefined ? "(end of output)" : JSON.stringify(b[i])}`;
    }
  }
  return "outputs differ";
}

function refuse(why: string): never {
  console.error(`record-corpus: refusing to run: ${why}`);
  process.exit(2);
}

function main(argv: string[]): void {
  const check = argv.includes("--check");
  const valued = (flag: string): string | null => {
    const at = argv.indexOf(flag);
    if (at < 0) return null;
    if (argv[at + 1] === undefined) refuse(`${flag} needs a directory`);
    return path.resolve(argv[at + 1]!);
  };
  const scriptsDir = valued("--scripts") ?? CORPUS;
  const outDir = valued("--out") ?? scriptsDir;
  const skip = new Set<number>();
  for (const flag of ["--out", "--scripts"]) {
    const at = argv.indexOf(flag);
    if (at >= 0) skip.add(at).add(at + 1);
  }
  const filters = argv.filter((a, i) => a !== "--check" && !skip.has(i));
  const unknown = filters.filter((a) => a.startsWith("-"));
  if (unknown.length) refuse(`unknown option ${unknown[0]} (usage: record-corpus.ts [--check] [--scripts DIR] [--out DIR] [NAME...])`);
  if (!existsSync(scriptsDir)) refuse(`no such directory: ${scriptsDir}`);
  if (!existsSync(outDir)) refuse(`no such directory: ${outDir}`);

  const tag = kernelTag();
  if (tag === null) refuse(`cannot read the kernel version from os.release() = ${JSON.stringify(os.release())}`);
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    refuse("not running as root: the runner's BPF reader of vm_pgoff/anon_vma needs root, and without it every anon line reads `anon ?`");
  }
  const native = canRunNative();
  if (!native.ok) refuse(`the native runner cannot run here: ${native.reason}`);
  if (!hiddenStateAvailable()) {
    refuse("the runner's BPF iterator (hidden anon state) is unavailable here (it needs root, /sys/kernel/btf/vmlinux and kernel >= 6.1): anon lines would be incomplete");
  }

  let names = corpusNames(scriptsDir);
  if (filters.length) names = names.filter((n) => filters.some((f) => n.includes(f)));
  if (names.length === 0) refuse(`no script matches ${filters.join(" ")} in ${scriptsDir}`);

  const live = probeHost();
  const recorded = readRecordingProfile(outDir);
  const differences = recorded === null ? [] : profileDifferences(live, recorded);
  if (differences.length) {
    const what = `the live host is configured unlike the machine that recorded ${outDir}: ${differences.join("; ")}`;
    if (check) console.warn(`WARNING ${what}`);
    else if (filters.length) refuse(`${what}; record every script, or restore the configuration`);
  }

  let failures = 0;
  let warnings = 0;
  for (const name of names) {
    const script = readFileSync(path.join(scriptsDir, `${name}.script`), "utf8");
    const outFile = path.join(outDir, `${name}.${tag}.out`);
    const started = Date.now();
    const { output, status } = runOnKernel(script);
    const ms = Date.now() - started;
    for (const w of avReuseWarnings(output)) {
      warnings++;
      console.warn(`WARNING ${name}: ${w}`);
    }
    const info = `status ${status}, ${output.split("\n").length - 1} lines, ${ms} ms`;
    if (check) {
      if (!existsSync(outFile)) {
        failures++;
        console.log(`MISSING ${name}: no ${path.basename(outFile)}`);
        continue;
      }
      const diff = firstDifference(imageIndependent(readFileSync(outFile, "utf8")), imageIndependent(output));
      if (diff !== null) {
        failures++;
        console.log(`DIFF    ${name} (${info}): ${diff}`);
      } else {
        console.log(`same    ${name} (${info})`);
      }
    } else {
      writeFileSync(outFile, output);
      console.log(`wrote   ${path.basename(outFile)} (${info})`);
    }
  }
  if (!check) {
    live.host.note = `recorded by scripts/record-corpus.ts on ${new Date().toISOString().slice(0, 10)}`;
    writeFileSync(path.join(outDir, SIDECAR), profileToJson(live));
    console.log(`wrote   ${SIDECAR}`);
  }
  const what = check ? `${names.length - failures} of ${names.length} outputs reproduced` : `${names.length} outputs recorded`;
  console.log(`${what} on ${os.release()} (${tag})${warnings ? `, ${warnings} warning(s)` : ""}`);
  if (failures) process.exit(1);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
