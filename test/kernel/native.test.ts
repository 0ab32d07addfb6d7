// The native scenario runner (native/scenario-runner.c) against the real,
// running kernel: the recorded example scenarios (layout-only and exact
// comparisons, where the live host profile matches the recordings':
// test/fixtures/scenarios/host-profile.linux-6.18.json) and exact-output
// tests of the runner's own behaviour.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERRNO_NAMES } from "../../src/abi/constants.js";
import {
  RUNNER_FAILED_STATUS, buildNativeRunner, canRunNative, hiddenStateAvailable, imageIndependent, kernelRelease,
  layoutOnly, nativeRunnerPath, runOnKernel,
} from "../../src/kernel/native.js";
import { liveVsRecording } from "../helpers/host.js";

const native = canRunNative();
const release = kernelRelease();
const noNative = !native.ok;
const FIXTURES = fileURLToPath(new URL("../fixtures/scenarios/", import.meta.url));
if (noNative) console.log(`native runner tests skipped: ${native.reason}`);
const hidden = native.ok && hiddenStateAvailable();
if (native.ok && !hidden) {
  console.log("hidden anon state tests skipped: the runner's BPF iterator needs root, /sys/kernel/btf/vmlinux and kernel >= 6.1");
}

const SHARED = fileURLToPath(new URL("../../../shared/scenarios/", import.meta.url));

/**
 * The example scenario names, each read from the repo's copy when present,
 * else from ../shared. Only those recorded with the zero page (a
 * .linux-6.18.out, as this host runs): ../shared's 20-read-faults has only a
 * zero-page-less recording (test/scenarios/corpus-6.18-nozp; its zero-page
 * counterpart is corpus/78-read-faults-zero-page).
 */
function scenarioFile(name: string): string {
  const mine = path.join(FIXTURES, name);
  return existsSync(mine) ? mine : path.join(SHARED, name);
}
const scenarioNames = [
  ...new Set(
    [FIXTURES, SHARED]
      .filter((d) => existsSync(d))
      .flatMap((d) => readdirSync(d))
      .filter((f) => f.endsWith(".script"))
      .map((f) => f.slice(0, -".script".length)),
  ),
].filter((name) => existsSync(scenarioFile(`${name}.linux-6.18.out`))).sort();

// the 6.18 recordings are compared with this kernel only under their host profile
const unlike618 = noNative ? null : liveVsRecording(FIXTURES, "linux-6.18");
const on618 = unlike618 === null;
if (!noNative && !on618) console.log(`recorded 6.18 scenario comparisons skipped: ${unlike618}`);

/** Run the lines as a script without the hidden anon state (anon lines read `anon ?`);
 * output as an array of lines (the final empty one removed). */
function run(...lines: string[]): { lines: string[]; status: number } {
  const r = runOnKernel(lines.join("\n") + "\n", { hiddenState: false });
  expect(r.output.endsWith("\n")).toBe(true);
  return { lines: r.output.slice(0, -1).split("\n"), status: r.status };
}

function kernelAtLeast(major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

describe("layoutOnly", () => {
  it("drops the anon pgoff and av= (file and shmem lines too) but keeps everything else", () => {
    const out = [
      "dump",
      "  0 4 rw-p anon 0 av=-",
      "  4 8 rw-p anon 100 av=1/1",
      "  8 12 rw-p anon ?",
      "  12 14 rw-s shmem 3",
      "  14 16 r--p file2 7",
      "  16 20 rw-p anon 16 av=2/1 rss=1 anon=1 locked=0 flags=rd,wr",
      "  20 22 rw-p file1 4 av=3/3 rss=2 anon=1 locked=0 flags=rd,wr",
      "  22 24 rw-s shmem 0 av=-",
      "  24 26 r--p file0 12 av=-",
      "  (9 vmas)",
      "echo   4 8 rw-p anon 100 av=1/1",
      "count => process_vmas=22 arena_vmas=9 other_vmas=13 max_map_count=65530",
      "count total => process_vmas=40 max_map_count=65530",
      "",
    ].join("\n");
    expect(layoutOnly(out)).toBe([
      "dump",
      "  0 4 rw-p anon ?",
      "  4 8 rw-p anon ?",
      "  8 12 rw-p anon ?",
      "  12 14 rw-s shmem 3",
      "  14 16 r--p file2 7",
      "  16 20 rw-p anon ? rss=1 anon=1 locked=0 flags=rd,wr",
      "  20 22 rw-p file1 4 rss=2 anon=1 locked=0 flags=rd,wr",
      "  22 24 rw-s shmem 0",
      "  24 26 r--p file0 12",
      "  (9 vmas)",
      "echo   4 8 rw-p anon 100 av=1/1",
      "count => process_vmas=* arena_vmas=9 other_vmas=* max_map_count=65530",
      "count total => process_vmas=* max_map_count=65530",
      "",
    ].join("\n"));
  });

  it("makes a 6.18 recording and its 5.10 (anon ?) recording equal where the layouts agree", () => {
    const read = (f: string) => readFileSync(scenarioFile(f), "utf8");
    expect(layoutOnly(read("10-mprotect-split-merge.linux-6.18.out")))
      .toBe(layoutOnly(read("10-mprotect-split-merge.linux-5.10.out")));
  });
});

describe("runner source", () => {
  it("names exactly the errnos of ERRNO_NAMES (so both runners print the same names)", () => {
    const src = readFileSync(fileURLToPath(new URL("../../native/scenario-runner.c", import.meta.url)), "utf8");
    const table = /errno_names\[\] = \{([\s\S]*?)\n\};/.exec(src);
    expect(table).not.toBeNull();
    const pairs = [...table![1]!.matchAll(/\{ (\d+), "(E[A-Z0-9]+)" \}/g)].map((m) => [Number(m[1]), m[2]]);
    const expected = Object.entries(ERRNO_NAMES).map(([n, name]) => [Number(n), name]);
    expect(pairs.sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(expected.sort((a, b) => Number(a[0]) - Number(b[0])));
  });
});

describe("building the runner", () => {
  function withCC<T>(cc: string | undefined, f: () => T): T {
    const saved = process.env.CC;
    if (cc === undefined) delete process.env.CC;
    else process.env.CC = cc;
    try {
      return f();
    } finally {
      if (saved === undefined) delete process.env.CC;
      else process.env.CC = saved;
    }
  }

  it("throws a clear error when there is no C compiler", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "vmasim-build-"));
    try {
      const src = path.join(dir, "t.c");
      writeFileSync(src, "int main(void) { return 0; }\n");
      expect(() => withCC("/nonexistent/vmasim-cc", () => buildNativeRunner(src, path.join(dir, "out", "t"))))
        .toThrow("no C compiler found: install gcc or set CC");
      expect(existsSync(path.join(dir, "out", "t"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(noNative)("builds when missing or stale, reports compiler errors, and keeps a fresh binary", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "vmasim-build-"));
    try {
      const src = path.join(dir, "t.c");
      const bin = path.join(dir, "out", "t");
      writeFileSync(src, "int main(void) { return 7; }\n");
      expect(withCC(undefined, () => buildNativeRunner(src, bin))).toBe(bin);
      expect(spawnSync(bin).status).toBe(7);
      // A fresh binary is reused: even a missing compiler does not matter then.
      expect(withCC("/nonexistent/vmasim-cc", () => buildNativeRunner(src, bin))).toBe(bin);
      // A newer source is rebuilt, and its compile error is reported.
      writeFileSync(src, "int main(void) { return syntax error; }\n");
      utimesSync(src, new Date(), new Date(Date.now() + 10_000));
      expect(() => withCC(undefined, () => buildNativeRunner(src, bin))).toThrow(/building .*t\.c with cc failed:[\s\S]*error/);
      expect(readdirSync(path.join(dir, "out"))).toEqual(["t"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("recorded scenarios on the running kernel (layout only)", () => {
  it("has the four example scenarios, each with its recordings", () => {
    expect(scenarioNames).toEqual(expect.arrayContaining([
      "01-adjacent-anon-unfaulted",
      "06-mremap-faulted-after-neighbour",
      "10-mprotect-split-merge",
      "15-fork-child-continues",
    ]));
    for (const name of scenarioNames) {
      for (const k of ["linux-5.10", "linux-6.1", "linux-6.18"]) expect(existsSync(scenarioFile(`${name}.${k}.out`)), `${name}.${k}.out`).toBe(true);
    }
  });

  for (const name of scenarioNames) {
    it.skipIf(noNative || !on618)(`${name} matches its linux-6.18 recording`, () => {
      const script = readFileSync(scenarioFile(`${name}.script`), "utf8");
      const recorded = readFileSync(scenarioFile(`${name}.linux-6.18.out`), "utf8");
      const actual = runOnKernel(script);
      expect(actual.status).toBe(0);
      expect(layoutOnly(actual.output)).toBe(layoutOnly(recorded));
    });
  }
});

describe("hidden anon state (BPF iterator)", () => {
  for (const name of scenarioNames) {
    it.skipIf(!hidden || !on618)(`${name} matches its linux-6.18 recording byte for byte (but the image counts)`, () => {
      const script = readFileSync(scenarioFile(`${name}.script`), "utf8");
      const recorded = readFileSync(scenarioFile(`${name}.linux-6.18.out`), "utf8");
      const actual = runOnKernel(script);
      expect(actual.status).toBe(0);
      expect(imageIndependent(actual.output)).toBe(imageIndependent(recorded));
    });
  }

  const script = [
    "mmap 0 4 rw", "touch 1", "mmap 4 4 rw", "dump",
    "mremap 0 4 4 fixed 100", "mmap 200 2 rw", "touch 200", "dump",
    "fork", "dump",
    "mmap 104 4 rw", "touch 104", "dump full",
    "fork parent", "brk 2", "dumpheap",
    "mmap 300 1 rw anon shared", "mmap 301 1 rw file 2 7", "touch 301", "dump",
  ].join("\n") + "\n";

  it.skipIf(!hidden)("prints anon pgoff and av=A/R (on file and shmem lines too) numbered by first appearance, inherited across fork", () => {
    const r = runOnKernel(script);
    expect(r.output).toBe([
      "mmap 0 4 rw => ok",
      "touch 1 => ok",
      "mmap 4 4 rw => ok",
      "dump",
      "  0 8 rw-p anon 0 av=1/1",
      "  (1 vmas)",
      "mremap 0 4 4 fixed 100 => ok @100",
      "mmap 200 2 rw => ok",
      "touch 200 => ok",
      "dump",
      "  4 8 rw-p anon 4 av=1/1",
      "  100 104 rw-p anon 0 av=1/1", // moved faulted VMA keeps its pgoff
      "  200 202 rw-p anon 200 av=2/2",
      "  (3 vmas)",
      "fork => child continues (parent waits)",
      "dump",
      "  4 8 rw-p anon 4 av=3/1",
      "  100 104 rw-p anon 0 av=4/1",
      "  200 202 rw-p anon 200 av=5/2",
      "  (3 vmas)",
      "mmap 104 4 rw => ok",
      "touch 104 => ok",
      "dump full",
      "  4 8 rw-p anon 4 av=3/1 rss=0 anon=0 locked=0 flags=rd,wr,mr,mw,me,ac",
      "  100 104 rw-p anon 0 av=4/1 rss=1 anon=1 locked=0 flags=rd,wr,mr,mw,me,ac",
      "  104 108 rw-p anon 104 av=6/6 rss=1 anon=1 locked=0 flags=rd,wr,mr,mw,me,ac",
      "  200 202 rw-p anon 200 av=5/2 rss=1 anon=1 locked=0 flags=rd,wr,mr,mw,me,ac",
      "  (4 vmas)",
      "fork parent => parent continues (child parked)",
      "brk 2 => ok",
      "dumpheap",
      "  0 2 rw-p anon 0 av=-",
      "  (1 vmas)",
      "mmap 300 1 rw anon shared => ok",
      "mmap 301 1 rw file 2 7 => ok",
      "touch 301 => ok",
      "dump",
      "  4 8 rw-p anon 4 av=3/1",
      "  100 104 rw-p anon 0 av=4/1",
      "  104 108 rw-p anon 104 av=6/6",
      "  200 202 rw-p anon 200 av=5/2",
      "  300 301 rw-s shmem 0 av=-",
      "  301 302 rw-p file2 7 av=7/7", // the COW fault gave the private file mapping an anon_vma
      "  (6 vmas)",
      "",
    ].join("\n"));
    expect(r.status).toBe(0);
  });

  it.skipIf(noNative)("hiddenState: false prints the same layout with anon ?", () => {
    const plain = runOnKernel(script, { hiddenState: false }).output;
    expect(plain).not.toMatch(/ av=/);
    expect(plain).toMatch(/^ {2}100 104 rw-p anon \?$/m);
    expect(plain).toBe(layoutOnly(runOnKernel(script).output));
  });
});

describe.skipIf(noNative)("native runner", () => {
  it("builds once and reuses an up-to-date binary", () => {
    const a = nativeRunnerPath();
    expect(a.endsWith(path.join("build", "native", "scenario-runner"))).toBe(true);
    expect(nativeRunnerPath()).toBe(a);
  });

  it("prints EPARSE with the line number and goes on with the next line (exit status 2)", () => {
    const r = run(
      "# comment line",
      "mmap 0 4 rw",
      "",
      "bogus 1 2",
      "mmap 0x10 4 rq",
      "mmap 8 4 rw fixed hint",
      "mmap 8 4 rw anon anon",
      "munmap -1 1",
      "touch 3 read write",
      "dump extra",
      "exit 300",
      "repeat 2 0 1 dump",
      "  mmap   010  4\trw   # trailing comment",
      "dump",
    );
    expect(r.lines).toEqual([
      "mmap 0 4 rw => ok",
      "bogus 1 2 => EPARSE (line 4)",
      "mmap 16 4 rq => EPARSE (line 5)",
      "mmap 8 4 rw fixed hint => EPARSE (line 6)",
      "mmap 8 4 rw anon anon => EPARSE (line 7)",
      "munmap -1 1 => EPARSE (line 8)",
      "touch 3 read write => EPARSE (line 9)",
      "dump extra => EPARSE (line 10)",
      "exit 300 => EPARSE (line 11)",
      "repeat 2 0 1 dump => EPARSE (line 12)",
      "mmap 8 4 rw => ok",
      "dump",
      "  0 4 rw-p anon ?",
      "  8 12 rw-p anon ?",
      "  (2 vmas)",
    ]);
    expect(r.status).toBe(2);
  });

  it("never crashes on malformed input", () => {
    const long = "x".repeat(100_000);
    const r = run(
      "\u0000\u0001 garbage",
      long,
      Array.from({ length: 40 }, () => "1").join(" "),
      "mmap 99999999999999999999 1 rw",
      "mmap 0x 1 rw",
      "mmap 1 2 rw file 64 0",
      "mmap 1 2 rw file 1",
      "mremap 1 2 3 fixed",
      "madvise 0 1 0x1ffffffff",
      "touchn 0",
      "\u00e9t\u00e9 5",
      "mmap 0 1 rw",
    );
    expect(r.lines).toEqual([
      "\u0001 garbage => EPARSE (line 1)",
      `${long} => EPARSE (line 2)`,
      `${Array.from({ length: 40 }, () => "1").join(" ")} => EPARSE (line 3)`,
      "mmap 99999999999999999999 1 rw => EPARSE (line 4)",
      "mmap 0x 1 rw => EPARSE (line 5)",
      "mmap 1 2 rw file 64 0 => EPARSE (line 6)",
      "mmap 1 2 rw file 1 => EPARSE (line 7)",
      "mremap 1 2 3 fixed => EPARSE (line 8)",
      "madvise 0 1 8589934591 => EPARSE (line 9)",
      "touchn 0 => EPARSE (line 10)",
      "\u00e9t\u00e9 5 => EPARSE (line 11)",
      "mmap 0 1 rw => ok",
    ]);
    expect(r.status).toBe(2);
  });

  it("reads a script from a path, and fails clearly on a missing one", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "vmasim-native-"));
    try {
      const file = path.join(dir, "s.script");
      writeFileSync(file, "mmap 0 1 rw\necho no newline at the end");
      const ok = spawnSync(nativeRunnerPath(), [file], { encoding: "utf8" });
      expect(ok.stdout).toBe("mmap 0 1 rw => ok\necho no newline at the end\n");
      expect(ok.status).toBe(0);
      const missing = spawnSync(nativeRunnerPath(), [path.join(dir, "nope")], { encoding: "utf8" });
      expect(missing.status).toBe(RUNNER_FAILED_STATUS);
      expect(missing.stdout).toBe("");
      expect(missing.stderr).toBe("scenario-runner: fatal: cannot open the script: ENOENT\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses ranges outside the arena with ERANGE_ARENA, without a syscall", () => {
    const r = run(
      "mmap 262143 2 rw",
      "mmap 262143 1 rw",
      "mremap 262143 1 1 fixed 262144",
      "mremap 262143 1 3 fixed 262142",
      "mremap 262143 1 2 fixed 262142",
      "munmap 0 262145",
      "touch 262144",
      "peek 262144",
      "touchn 262140 5",
      "mprotect 9223372036854775807 1 r",
      "padvmas 1000000 262140",
      "dump",
    );
    expect(r.lines).toEqual([
      "mmap 262143 2 rw => ERANGE_ARENA",
      "mmap 262143 1 rw => ok",
      "mremap 262143 1 1 fixed 262144 => ERANGE_ARENA",
      "mremap 262143 1 3 fixed 262142 => ERANGE_ARENA",
      "mremap 262143 1 2 fixed 262142 => EINVAL", // inside the arena: the kernel answers
      "munmap 0 262145 => ERANGE_ARENA",
      "touch 262144 => ERANGE_ARENA",
      "peek 262144 => ERANGE_ARENA",
      "touchn 262140 5 => ERANGE_ARENA",
      "mprotect 9223372036854775807 1 r => ERANGE_ARENA",
      "padvmas 1000000 262140 => ERANGE_ARENA", // after padding 262140 and 262142
      "dump",
      "  262140 262141 r--p anon ?",
      "  262142 262143 r--p anon ?",
      "  262143 262144 rw-p anon ?",
      "  (3 vmas)",
    ]);
    expect(r.status).toBe(0);
  });

  it("runs repeat: ok xN, the failing iteration, and @ in any position", () => {
    const r = run(
      "repeat 4 100 2 mmap @ 1 rw",
      "mmap 112 1 rw",
      "repeat 5 110 1 mmap @ 1 r",
      "repeat 3 200 1 touch @",
      "repeat 2 0 0x10 mmap 300 1 rw file @ @",
      "repeat 3 104 -2 munmap @ 1",
      "repeat 0 0 1 touch @",
      "repeat 2 63 1 mmap 500 1 rw file @ 0",
      "repeat 3 1 -1 mmap @ 1 rw",
      "repeat 3 0 1 mmap 400 1 rw file @ 0 fixed",
      "repeat 2 0 1 fork",
      "repeat 2 0 1 mmap @ 1 bad",
      "repeat -1 0 1 touch @",
      "repeat 2 @ 1 touch @",
      "repeat 16777217 0 0 touch 0",
      "dump",
    );
    expect(r.lines).toEqual([
      "repeat 4 100 2 mmap @ 1 rw => ok x4",
      "mmap 112 1 rw => ok",
      "repeat 5 110 1 mmap @ 1 r => ok x2, then i=2 (page 112): EEXIST",
      "repeat 3 200 1 touch @ => ok x0, then i=0 (page 200): SIGSEGV at 200",
      "repeat 2 0 16 mmap 300 1 rw file @ @ => ok x1, then i=1 (page 16): EEXIST",
      "repeat 3 104 -2 munmap @ 1 => ok x3",
      "repeat 0 0 1 touch @ => ok x0",
      "repeat 2 63 1 mmap 500 1 rw file @ 0 => ok x1, then i=1 (page 64): EPARSE (line 8)",
      "repeat 3 1 -1 mmap @ 1 rw => ok x2, then i=2 (page -1): ERANGE_ARENA",
      "repeat 3 0 1 mmap 400 1 rw file @ 0 fixed => ok x3",
      "repeat 2 0 1 fork => EPARSE (line 11)",
      "repeat 2 0 1 mmap @ 1 bad => EPARSE (line 12)",
      "repeat -1 0 1 touch @ => EPARSE (line 13)",
      "repeat 2 @ 1 touch @ => EPARSE (line 14)",
      "repeat 16777217 0 0 touch 0 => EPARSE (line 15)",
      "dump",
      "  0 2 rw-p anon ?",
      "  106 107 rw-p anon ?",
      "  110 112 r--p anon ?",
      "  112 113 rw-p anon ?",
      "  300 301 rw-p file0 0",
      "  400 401 rw-p file2 0",
      "  500 501 rw-p file63 0",
      "  (7 vmas)",
    ]);
    expect(r.status).toBe(2);
  });

  it("touch/touchn/peek report SIGSEGV on unmapped and PROT_NONE pages and SIGBUS past EOF", () => {
    const r = run(
      "touch 5",
      "peek 5",
      "mmap 20 2 none",
      "touch 21",
      "touch 21 read",
      "peek 20",
      "mmap 30 1 r",
      "touch 30",
      "touch 30 read",
      "mmap 40 4 rw",
      "munmap 42 1",
      "touchn 40 4",
      "touchn 40 2 read",
      "mmap 50 1 rw file 0 0 shared",
      "mremap 50 1 2",
      "touchn 50 2",
      "peek 51",
    );
    expect(r.lines).toEqual([
      "touch 5 => SIGSEGV at 5",
      "peek 5 => SIGSEGV at 5",
      "mmap 20 2 none => ok",
      "touch 21 => SIGSEGV at 21",
      "touch 21 read => SIGSEGV at 21",
      "peek 20 => SIGSEGV at 20",
      "mmap 30 1 r => ok",
      "touch 30 => SIGSEGV at 30",
      "touch 30 read => ok",
      "mmap 40 4 rw => ok",
      "munmap 42 1 => ok",
      "touchn 40 4 => SIGSEGV at 42",
      "touchn 40 2 read => ok",
      "mmap 50 1 rw file 0 0 shared => ok",
      "mremap 50 1 2 => ok @50",
      "touchn 50 2 => SIGBUS at 51",
      "peek 51 => SIGBUS at 51",
    ]);
  });

  it("peek shows the byte written by touch; a read touch does not change it", () => {
    const r = run("mmap 0 1 rw", "peek 0", "touch 0", "peek 0", "touch 0 read", "peek 0", "touch 0 write", "peek 0");
    expect(r.lines).toEqual([
      "mmap 0 1 rw => ok",
      "peek 0 => ok 0",
      "touch 0 => ok",
      "peek 0 => ok 1",
      "touch 0 read => ok",
      "peek 0 => ok 1",
      "touch 0 write => ok",
      "peek 0 => ok 2",
    ]);
  });

  it("mremap prints ok @P (in place, fixed, dontunmap) and errnos", () => {
    const r = run(
      "mmap 0 4 rw",
      "touch 0",
      "mremap 0 4 4 fixed 100",
      "mremap 100 4 2",
      "mremap 100 2 4",
      "mremap 100 4 4 dontunmap fixed 200",
      "mmap 104 1 r",
      "mremap 100 4 8",
      "mremap 300 1 1",
      "peek 200",
      "peek 100",
      "mremap 200 4 8 maymove",
      "dump",
    );
    expect(r.lines).toEqual([
      "mmap 0 4 rw => ok",
      "touch 0 => ok",
      "mremap 0 4 4 fixed 100 => ok @100",
      "mremap 100 4 2 => ok @100",
      "mremap 100 2 4 => ok @100",
      "mremap 100 4 4 dontunmap fixed 200 => ok @200",
      "mmap 104 1 r => ok",
      "mremap 100 4 8 => ENOMEM",
      "mremap 300 1 1 => EFAULT",
      "peek 200 => ok 1",
      "peek 100 => ok 0",
      "mremap 200 4 8 maymove => ok @200",
      "dump",
      "  100 104 rw-p anon ?",
      "  104 105 r--p anon ?",
      "  200 208 rw-p anon ?",
      "  (3 vmas)",
    ]);
  });

  it("mremap relocate_anon / must_relocate_anon reach the kernel (MREMAP_RELOCATE_ANON was never merged: EINVAL)", () => {
    const r = run(
      "mmap 0 2 rw",
      "touch 0",
      "mmap 10 2 rw",
      "touch 10",
      "mremap 10 2 2 fixed 2 relocate_anon",
      "mremap 10 2 2 fixed 2 must_relocate_anon",
      "mremap 10 2 4 relocate_anon",
      "mremap 10 2 2 relocate_anon relocate_anon",
    );
    expect(r.lines).toEqual([
      "mmap 0 2 rw => ok",
      "touch 0 => ok",
      "mmap 10 2 rw => ok",
      "touch 10 => ok",
      "mremap 10 2 2 fixed 2 relocate_anon => EINVAL",
      "mremap 10 2 2 fixed 2 must_relocate_anon => EINVAL",
      "mremap 10 2 4 relocate_anon => EINVAL",
      "mremap 10 2 2 relocate_anon relocate_anon => EPARSE (line 8)",
    ]);
  });

  it("mremap maymove that must move prints ok @P or ok @OUTSIDE_ARENA", () => {
    const r = run("mmap 0 4 rw", "mmap 4 1 r", "mremap 0 4 8 maymove", "dump");
    expect(r.lines[2]).toMatch(/^mremap 0 4 8 maymove => ok @(\d+|OUTSIDE_ARENA)$/);
    expect(r.lines[2]).not.toBe("mremap 0 4 8 maymove => ok @0");
    const moved = /@(\d+)$/.exec(r.lines[2]!);
    const expectedDump = moved
      ? ["  4 5 r--p anon ?", `  ${moved[1]} ${Number(moved[1]) + 8} rw-p anon ?`].sort((a, b) => parseInt(a.trim()) - parseInt(b.trim()))
      : ["  4 5 r--p anon ?"];
    expect(r.lines.slice(3)).toEqual(["dump", ...expectedDump, `  (${expectedDump.length} vmas)`]);
  });

  it("mmap hint: ok @P at a free hint, another address when the hint is taken", () => {
    const r = run("mmap 500 4 rw hint", "mmap 500 4 rw hint", "mmap 600 2 r noreplace", "mmap 600 1 rw fixed", "dump");
    expect(r.lines[0]).toBe("mmap 500 4 rw hint => ok @500");
    expect(r.lines[1]).toMatch(/^mmap 500 4 rw hint => ok @(\d+|OUTSIDE_ARENA)$/);
    expect(r.lines[1]).not.toBe("mmap 500 4 rw hint => ok @500");
    expect(r.lines.slice(2, 4)).toEqual(["mmap 600 2 r noreplace => ok", "mmap 600 1 rw fixed => ok"]);
    expect(r.lines).toContain("  500 504 rw-p anon ?");
    expect(r.lines).toContain("  600 601 rw-p anon ?");
    expect(r.lines).toContain("  601 602 r--p anon ?");
  });

  it("dump full: rss= anon= locked= in pages and VmFlags without sd; file and shmem kinds", () => {
    const r = run(
      "mmap 0 4 rw",
      "touchn 0 2",
      "mmap 10 4 rw locked",
      "mmap 20 2 r",
      "mmap 30 4 rw anon shared populate",
      "mlock 30 2 onfault",
      "mmap 40 2 r file 3 5",
      "touch 40 read",
      "mmap 50 2 rw file 3 0 shared",
      "touch 51",
      "mmap 60 2 rwx file 4 0",
      "touch 60",
      "madvise 60 2 dontdump",
      "dump full",
    );
    expect(r.lines.slice(13)).toEqual([
      "dump full",
      "  0 4 rw-p anon ? rss=2 anon=2 locked=0 flags=rd,wr,mr,mw,me,ac",
      "  10 14 rw-p anon ? rss=4 anon=4 locked=4 flags=rd,wr,mr,mw,me,lo,ac",
      "  20 22 r--p anon ? rss=0 anon=0 locked=0 flags=rd,mr,mw,me",
      "  30 32 rw-s shmem 0 rss=2 anon=0 locked=2 flags=rd,wr,sh,mr,mw,me,ms,lo,lf",
      "  32 34 rw-s shmem 2 rss=2 anon=0 locked=0 flags=rd,wr,sh,mr,mw,me,ms",
      "  40 42 r--p file3 5 rss=1 anon=0 locked=0 flags=rd,mr,mw,me",
      "  50 52 rw-s file3 0 rss=1 anon=0 locked=0 flags=rd,wr,sh,mr,mw,me,ms",
      "  60 62 rwxp file4 0 rss=1 anon=1 locked=0 flags=rd,wr,ex,mr,mw,me,ac,dd",
      "  (8 vmas)",
    ]);
  });

  it("count: process_vmas = arena_vmas + other_vmas, max_map_count from /proc", () => {
    const r = run("mmap 0 1 rw", "mmap 2 1 rw", "count", "count total", "count bogus");
    const mmc = readFileSync("/proc/sys/vm/max_map_count", "utf8").trim();
    const m = /^count => process_vmas=(\d+) arena_vmas=2 other_vmas=(\d+) max_map_count=(\d+)$/.exec(r.lines[2]!);
    expect(m).not.toBeNull();
    const [total, other] = [Number(m![1]), Number(m![2])];
    expect(total).toBe(2 + other);
    expect(m![3]).toBe(mmc);
    expect(r.lines[3]).toBe(`count total => process_vmas=${total} max_map_count=${mmc}`);
    expect(r.lines[4]).toBe("count bogus => EPARSE (line 5)");
  });

  it("padvmas adds 1-page VMAs at P, P+2, ... until the process has TARGET VMAs", () => {
    const r = run("padvmas 100 1000", "count", "padvmas 5 0", "count total", "dump");
    expect(r.lines[0]).toBe("padvmas 100 1000 => ok");
    const m = /^count => process_vmas=100 arena_vmas=(\d+) other_vmas=(\d+) max_map_count=\d+$/.exec(r.lines[1]!);
    expect(m).not.toBeNull();
    const added = Number(m![1]);
    expect(added + Number(m![2])).toBe(100);
    expect(r.lines[2]).toBe("padvmas 5 0 => ok");
    expect(r.lines[3]).toMatch(/^count total => process_vmas=100 max_map_count=\d+$/);
    const pads = Array.from({ length: added }, (_, i) => `  ${1000 + 2 * i} ${1001 + 2 * i} r--p anon ?`);
    expect(r.lines.slice(4)).toEqual(["dump", ...pads, `  (${added} vmas)`]);
  });

  it("padvmas counts again when a pad merged with a neighbour", () => {
    // 1001 is r-- anon: the pads at 1000 and 1002 merge with it into one VMA, so
    // the first round falls short by two and a second round adds 1004 and beyond.
    const r = run("mmap 1001 1 r", "padvmas 100 1000", "count", "dump");
    expect(r.lines[1]).toBe("padvmas 100 1000 => ok");
    const m = /^count => process_vmas=100 arena_vmas=(\d+) other_vmas=\d+ max_map_count=\d+$/.exec(r.lines[2]!);
    expect(m).not.toBeNull();
    const n = Number(m![1]);
    const pads = Array.from({ length: n - 1 }, (_, i) => `  ${1004 + 2 * i} ${1005 + 2 * i} r--p anon ?`);
    expect(r.lines.slice(3)).toEqual(["dump", "  1000 1003 r--p anon ?", ...pads, `  (${n} vmas)`]);
  });

  it(`mseal on this kernel (${release})`, () => {
    const r = run("mmap 0 4 rw", "mseal 0 4", "munmap 0 4", "mprotect 0 1 r", "mseal 100 1", "dump full");
    if (kernelAtLeast(6, 10)) {
      expect(r.lines).toEqual([
        "mmap 0 4 rw => ok",
        "mseal 0 4 => ok",
        "munmap 0 4 => EPERM",
        "mprotect 0 1 r => EPERM",
        "mseal 100 1 => ENOMEM",
        "dump full",
        "  0 4 rw-p anon ? rss=0 anon=0 locked=0 flags=rd,wr,mr,mw,me,ac,sl",
        "  (1 vmas)",
      ]);
    } else {
      expect(r.lines.slice(0, 5)).toEqual([
        "mmap 0 4 rw => ok",
        "mseal 0 4 => ENOSYS",
        "munmap 0 4 => ok",
        "mprotect 0 1 r => ENOMEM",
        "mseal 100 1 => ENOSYS",
      ]);
    }
  });

  it("brk moves the break relative to its initial page-aligned start; dumpheap shows [heap]", () => {
    const r = run(
      "dumpheap",
      "brk 4",
      "dumpheap",
      "brk 2",
      "dumpheap",
      "brk -1",
      "brk 0",
      "dumpheap",
      "brk 3",
      "touch 2",
      "peek 2",
      "dumpheap extra",
    );
    expect(r.lines).toEqual([
      "dumpheap",
      "  (0 vmas)",
      "brk 4 => ok",
      "dumpheap",
      "  0 4 rw-p anon ?",
      "  (1 vmas)",
      "brk 2 => ok",
      "dumpheap",
      "  0 2 rw-p anon ?",
      "  (1 vmas)",
      "brk -1 => ENOMEM",
      "brk 0 => ok",
      "dumpheap",
      "  (0 vmas)",
      "brk 3 => ok",
      "touch 2 => SIGSEGV at 2", // arena page 2 is not the heap
      "peek 2 => SIGSEGV at 2",
      "dumpheap extra => EPARSE (line 12)",
    ]);
  });

  it("madvise accepts the advice names and numbers", () => {
    const r = run(
      "mmap 0 8 rw",
      "touchn 0 8",
      "madvise 0 8 dontneed",
      "peek 0",
      "madvise 0 2 dontfork",
      "madvise 0 8 4",
      "madvise 0 8 12345",
      "madvise 100 1 willneed",
      "madvise 0 1 guard_install",
      "touch 0",
      "madvise 0 1 guard_remove",
      "touch 0",
      "dump",
    );
    expect(r.lines).toEqual([
      "mmap 0 8 rw => ok",
      "touchn 0 8 => ok",
      "madvise 0 8 dontneed => ok",
      "peek 0 => ok 0",
      "madvise 0 2 dontfork => ok",
      "madvise 0 8 4 => ok",
      "madvise 0 8 12345 => EINVAL",
      "madvise 100 1 willneed => ENOMEM",
      ...(kernelAtLeast(6, 13)
        ? ["madvise 0 1 guard_install => ok", "touch 0 => SIGSEGV at 0", "madvise 0 1 guard_remove => ok", "touch 0 => ok"]
        : ["madvise 0 1 guard_install => EINVAL", "touch 0 => ok", "madvise 0 1 guard_remove => EINVAL", "touch 0 => ok"]),
      "dump",
      "  0 2 rw-p anon ?",
      "  2 8 rw-p anon ?",
      "  (2 vmas)",
    ]);
  });

  it("mlock, mlock onfault and munlock split and re-merge", () => {
    const r = run("mmap 0 4 rw", "mlock 1 1", "mlock 2 1 onfault", "mlock 10 1", "dump full", "munlock 0 4", "dump");
    expect(r.lines).toEqual([
      "mmap 0 4 rw => ok",
      "mlock 1 1 => ok",
      "mlock 2 1 onfault => ok",
      "mlock 10 1 => ENOMEM",
      "dump full",
      "  0 1 rw-p anon ? rss=0 anon=0 locked=0 flags=rd,wr,mr,mw,me,ac",
      "  1 2 rw-p anon ? rss=1 anon=1 locked=1 flags=rd,wr,mr,mw,me,lo,ac",
      "  2 3 rw-p anon ? rss=0 anon=0 locked=0 flags=rd,wr,mr,mw,me,lo,lf,ac",
      "  3 4 rw-p anon ? rss=0 anon=0 locked=0 flags=rd,wr,mr,mw,me,ac",
      "  (4 vmas)",
      "munlock 0 4 => ok",
      "dump",
      "  0 4 rw-p anon ?",
      "  (1 vmas)",
    ]);
  });

  it("fork parent: the parent continues, its writes are copies, the parked child is ended at exit", () => {
    const r = run(
      "mmap 0 2 rw",
      "touch 0",
      "fork parent",
      "touch 0",
      "peek 0",
      "peek 1",
      "fork parent",
      "dump",
    );
    expect(r.lines).toEqual([
      "mmap 0 2 rw => ok",
      "touch 0 => ok",
      "fork parent => parent continues (child parked)",
      "touch 0 => ok",
      "peek 0 => ok 2",
      "peek 1 => ok 0",
      "fork parent => parent continues (child parked)",
      "dump",
      "  0 2 rw-p anon ?",
      "  (1 vmas)",
    ]);
    expect(r.status).toBe(0);
  });

  it("fork / fork child: the child runs the rest, the parent exits with its status", () => {
    const a = run("mmap 0 1 rw", "touch 0", "fork", "peek 0", "touch 0", "peek 0", "exit 5", "echo not reached");
    expect(a.lines).toEqual([
      "mmap 0 1 rw => ok",
      "touch 0 => ok",
      "fork => child continues (parent waits)",
      "peek 0 => ok 1",
      "touch 0 => ok",
      "peek 0 => ok 2",
      "exit 5 => ok",
    ]);
    expect(a.status).toBe(5);
    const b = run("nonsense", "fork child", "fork parent", "fork", "echo nested");
    expect(b.lines).toEqual([
      "nonsense => EPARSE (line 1)",
      "fork child => child continues (parent waits)",
      "fork parent => parent continues (child parked)",
      "fork => child continues (parent waits)",
      "echo nested",
    ]);
    expect(b.status).toBe(2);
    const c = run("fork sideways", "exit");
    expect(c.lines).toEqual(["fork sideways => EPARSE (line 1)", "exit => ok"]);
    expect(c.status).toBe(0);
  });

  it("echo prints the rest of the line as written; a bare echo prints echo", () => {
    const r = run("echo   a  0x10\tb   # comment", "echo", "echo#x");
    expect(r.lines).toEqual(["echo a  0x10\tb", "echo", "echo"]);
  });
});
