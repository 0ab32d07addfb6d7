import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main, type CliIo, type NativeRunner } from "../../src/cli/main.js";
import { layoutOnly } from "../../src/kernel/native.js";
import { renderMaps } from "../../src/maps.js";
import { runScenario } from "../../src/scenario/run.js";
import { IMPLS } from "../helpers/impls.js";
import { POLICIES } from "../../src/types.js";

const FIXTURES = new URL("../fixtures/scenarios/", import.meta.url);
const fixturePath = (name: string): string => new URL(name, FIXTURES).pathname;
const fixture = (name: string): string => readFileSync(fixturePath(name), "utf8");
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const tmp = mkdtempSync(join(tmpdir(), "vmasim-cli-"));
function scriptFile(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

for (const impl of IMPLS) {
  /** Runs main with the implementation injected and captured streams. */
  async function cli(argv: string[], extra: Partial<CliIo> = {}): Promise<Run> {
    let stdout = "";
    let stderr = "";
    const io: CliIo = {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      createKernel: (config) => impl.create(config),
      ...extra,
    };
    const status = await main(argv, io);
    return { status, stdout, stderr };
  }

  describe(`vmasim CLI with ${impl.name}`, () => {
    describe("run", () => {
      it("prints the scenario's output, as recorded on a real kernel", async () => {
        const r = await cli(["run", fixturePath("10-mprotect-split-merge.script")]);
        expect(r).toEqual({ status: 0, stdout: fixture("10-mprotect-split-merge.linux-6.18.out"), stderr: "checker: clean\n" });
      });

      it("reads the script from standard input with -", async () => {
        const r = await cli(["run", "-"], { readStdin: async () => "mmap 0 2 rw\ndump\n" });
        expect(r).toEqual({ status: 0, stdout: "mmap 0 2 rw => ok\ndump\n  0 2 rw-p anon 0 av=-\n  (1 vmas)\n", stderr: "checker: clean\n" });
      });

      const S5 = "mmap 0 2 rw\nmmap 3 2 rw\ntouch 0\ntouch 3\nmmap 2 1 rw\ndump\n";
      if (impl.name === "model") {
        it("--trace, --stats and compare need an implementation that reports merges", async () => {
          const r = await cli(["run", "--trace", "-"], { readStdin: async () => S5 });
          expect(r).toEqual({ status: 2, stdout: "", stderr: "vmasim: this kernel implementation does not report merges (--trace)\n" });
          const c = await cli(["compare", "--policy", "linux-5.17", scriptFile("s5.script", S5)]);
          expect(c).toEqual({ status: 2, stdout: "", stderr: "vmasim: compare: this kernel implementation does not report merges\n" });
        });
      } else {
        it("several policies: side by side, the rows that differ marked !", async () => {
          const r = await cli(["run", "--policy", "linux-5.17,seed", "-"], { readStdin: async () => S5 });
          expect(r.status).toBe(0);
          expect(r.stderr).toBe("checker (linux-5.17): clean\nchecker (seed): clean\n");
          const rows = r.stdout.split("\n");
          expect(rows[0]).toMatch(/^ {2}linux-5\.17 +\| seed$/);
          expect(rows).toContain("  mmap 2 1 rw => ok        | mmap 2 1 rw => ok");
          expect(rows).toContain("!   0 3 rw-p anon 0 av=1/1 |   0 5 rw-p anon 0 av=1/1");
          expect(rows.filter((l) => l.startsWith("!"))).toHaveLength(3);
        });

        it("compare: one row per script, ! where policies differ, the checker's complaints, then the counters", async () => {
          const dir = mkdtempSync(join(tmp, "cmp-"));
          writeFileSync(join(dir, "a-plain.script"), "mmap 0 2 rw\nmmap 2 2 rw\ndump\n");
          writeFileSync(join(dir, "b-s5.script"), S5);
          writeFileSync(join(dir, "notes.txt"), "not a script\n");
          const all = await cli(["compare", dir]);
          expect(all.status).toBe(0);
          expect(all.stdout.split("\n")[0]).toBe(`vmasim compare: 2 scripts under ${POLICIES.join(", ")}`);
          // the series' five (the rows below name them, whatever other kernels `all` has)
          const r = await cli(["compare", "--policy", "linux-5.17,seed-v2,seed,linux-6.18,relocate-anon", dir]);
          expect(r.stderr).toBe("");
          expect(r.status).toBe(0);
          const rows = r.stdout.split("\n").slice(2); // after the title and a blank line
          expect(r.stdout.split("\n")[0]).toBe("vmasim compare: 2 scripts under linux-5.17, seed-v2, seed, linux-6.18, relocate-anon");
          expect(rows[0]).toMatch(/^ {2}script +\| linux-5\.17 +\| seed-v2 +\| seed +\| linux-6\.18 +\| relocate-anon$/);
          expect(rows[2]).toMatch(/^ {2}a-plain +\| 1 vma, 1 merge +\| 1 vma, 1 merge +\| 1 vma, 1 merge +\| 1 vma, 1 merge +\| 1 vma, 1 merge$/);
          expect(rows[3]).toMatch(/^! b-s5 +\| 2 vmas, 1 merge +\| 1 vma, 1 merge, 1 rp, CHECK@5 +\| 1 vma, 1 merge, 1 rp +\| 2 vmas, 1 merge +\| 2 vmas, 1 merge$/);
          expect(r.stdout).toMatch(/\nInvariant checker:\n {2}b-s5 under seed-v2, line 5: anon_vma \d+: refcount 1, expected 0\n/);
          expect(r.stdout).toMatch(/\n {2}merged +2 \(1\) +2 \(1\) +2 \(1\) +2 \(1\) +2 \(1\)\n/);
          const two = await cli(["compare", "--policy", "linux-5.17,seed", join(dir, "b-s5.script")]);
          expect(two.stdout.split("\n")[4]).toMatch(/^! b-s5 +\| 2 vmas, 1 merge +\| 1 vma, 1 merge, 1 rp$/);
          // --format csv|json: one schema (src/cli/compare_schema.ts, docs/cli.md), checked in test/cli/compare-schema.test.ts
          const csv = await cli(["compare", "--format", "csv", "--policy", "linux-5.17,seed-v2", join(dir, "b-s5.script")]);
          const csvLines = csv.stdout.split("\n");
          expect(csvLines[0]).toMatch(/^script,policy,vmas,attempts,merges,case_1,/);
          expect(csvLines[1]).toMatch(/^b-s5,linux-5\.17,2,3,1,.*,,$/);
          expect(csvLines[2]).toContain(`,5,"${/Invariant checker:\n {2}b-s5 under seed-v2, line 5: (.*)\n/.exec(r.stdout)![1]}"`);
          expect(csvLines[3]).toMatch(/^\(total\),linux-5\.17,,3,1,/);
          expect(csvLines[4]).toMatch(/^\(total\),seed-v2,,3,1,.*,,1 script failed the checker$/);
          const json = JSON.parse((await cli(["compare", "--format", "json", "--policy", "seed", join(dir, "b-s5.script")])).stdout) as {
            policies: string[]; records: Record<string, unknown>[];
          };
          expect(json.policies).toEqual(["seed"]);
          expect(json.records[0]).toMatchObject({ script: "b-s5", policy: "seed", vmas: 1, merges: 1, pages_repointed: 1, check_line: null });
          expect(json.records[0].by_case).toMatchObject({ 1: 1, 8: 0 });
          expect(json.records[1]).toMatchObject({ script: "(total)", policy: "seed", merges: 1, pages_repointed: 1 });
          expect((await cli(["compare", "--format", "xml", dir])).status).toBe(2);
          expect((await cli(["compare"])).status).toBe(2);
          expect(await cli(["compare", join(tmp, "nowhere")])).toMatchObject({ status: 2, stderr: expect.stringMatching(/cannot read script/) });
        });

        it("--policy all runs every policy; a policy listed twice is a usage error", async () => {
          const r = await cli(["run", "--policy", "all", "-"], { readStdin: async () => "mmap 0 1 r\n" });
          expect(r.stdout.split("\n")[0].split("|").map((c) => c.trim())).toEqual([...POLICIES]);
          const twice = await cli(["run", "--policy", "seed,seed", "-"], { readStdin: async () => "" });
          expect(twice.status).toBe(2);
          expect(twice.stderr).toMatch(/a policy is listed twice in 'seed,seed'/);
        });

        it("--trace prints each merge attempt after its line; --ftrace the series' events; --stats the counters", async () => {
          const t = await cli(["run", "--policy", "seed", "--trace", "-"], { readStdin: async () => S5 });
          expect(t.stdout).toContain("mmap 2 1 rw => ok\n    # merge pid=1 mmap [2, 3) case 1 prev=ok next=ok both=ok-different-anon_vma\n");
          const f = await cli(["run", "--policy", "linux-5.17", "--ftrace", "-"], { readStdin: async () => S5 });
          expect(f.stdout).toMatch(/mmap 2 1 rw => ok\n {4}# vmasim-1 \[000\] \.{5} 3\.000000: vm_av_merge: merged=1 predecessor=AV_MERGE_NULL successor=AV_MERGE_NULL predecessor_with_successor=AV_MERGE_FAILED same_count=0 diff_count=0 failed_count=1\n/);
          const s = await cli(["run", "--policy", "linux-5.17,seed", "--stats", "-"], { readStdin: async () => S5 });
          expect(s.stdout).toMatch(/\nmerge attempts +3 +3\n/);
          expect(s.stdout).toMatch(/\n {2}case 1 +0 +1\n/);
          expect(s.stdout).toMatch(/\npages re-pointed +0 +1\n/);
          const both = await cli(["run", "--trace", "--ftrace", "-"], { readStdin: async () => S5 });
          expect(both.status).toBe(2);
        });
      }

      it("accepts --policy with a known policy", async () => {
        const r = await cli(["run", "--policy", "linux-5.17", "-"], { readStdin: async () => "mmap 0 1 r\n" });
        expect(r).toEqual({ status: 0, stdout: "mmap 0 1 r => ok\n", stderr: "checker: clean\n" });
        const eq = await cli(["run", "--policy=linux-5.17", "-"], { readStdin: async () => "mmap 0 1 r\n" });
        expect(eq.status).toBe(0);
      });

      it("--maps prints /proc/pid/maps of the process after the output", async () => {
        const script = "mmap 0 4 rw\nbrk 2\n";
        const r = await cli(["run", "--maps", "-"], { readStdin: async () => script });
        const expected = runScenario(impl.create({ policy: "linux-5.17" }), script);
        expect(r.status).toBe(0);
        expect(r.stdout).toBe(expected.output + renderMaps(expected.process));
        expect(r.stdout).toMatch(/^mmap 0 4 rw => ok\nbrk 2 => ok\n[0-9a-f]{8,}-/);
        expect(r.stdout).toContain("[heap]\n");
        expect(r.stdout).toContain("/memfd:vmasim-arena (deleted)\n");
        expect(r.stdout).toMatch(/\[stack\]\nffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 +\[vsyscall\]\n$/);
      });

      it("exits 2 when a line gave EPARSE, after running the whole script, and says why on stderr", async () => {
        const path = scriptFile("bad.script", "mmap 0 1 rw\nmmap 1 1 rw sideways\nmunmap 0 1\n");
        const r = await cli(["run", path]);
        expect(r).toEqual({
          status: 2,
          stdout: "mmap 0 1 rw => ok\nmmap 1 1 rw sideways => EPARSE (line 2)\nmunmap 0 1 => ok\n",
          stderr: `${path}:2: mmap: unknown keyword 'sideways'\nchecker: clean\n`,
        });
        // --keep-going: the same output and diagnostics, exit 0
        expect(await cli(["run", "--keep-going", path])).toEqual({ ...r, status: 0 });
      });

      it("runs the memory layer's ops: touch, dump full", async () => {
        const r = await cli(["run", scriptFile("touch.script", "mmap 0 1 rw\n\ntouch 0\ndump full\n")]);
        expect(r).toEqual({
          status: 0,
          stderr: "checker: clean\n",
          stdout: [
            "mmap 0 1 rw => ok",
            "touch 0 => ok",
            "dump full",
            "  0 1 rw-p anon 0 av=1/1 rss=1 anon=1 locked=0 flags=rd,wr,mr,mw,me,ac",
            "  (1 vmas)",
            "",
          ].join("\n"),
        });
      });

      it("rejects an unknown policy, listing the known ones", async () => {
        const r = await cli(["run", "--policy", "linux-9.9", fixturePath("01-adjacent-anon-unfaulted.script")]);
        expect(r.status).toBe(2);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(`vmasim: unknown policy 'linux-9.9' (policies: ${POLICIES.join(", ")})\nTry 'vmasim --help'.\n`);
      });

      it("usage errors: unknown option, missing value, missing or extra SCRIPT", async () => {
        expect(await cli(["run", "--frob", "x"])).toEqual({ status: 2, stdout: "", stderr: "vmasim: run: unknown option '--frob'\nTry 'vmasim --help'.\n" });
        expect(await cli(["run", "-z", "x"])).toMatchObject({ status: 2, stderr: "vmasim: run: unknown option '-z'\nTry 'vmasim --help'.\n" });
        expect(await cli(["run", "x", "--policy"])).toMatchObject({ status: 2, stderr: "vmasim: run: option '--policy' needs a value\nTry 'vmasim --help'.\n" });
        expect(await cli(["run"])).toMatchObject({ status: 2, stderr: "vmasim: run: missing SCRIPT (a file, or - for standard input)\nTry 'vmasim --help'.\n" });
        expect(await cli(["run", "a", "b"])).toMatchObject({ status: 2, stderr: "vmasim: run: unexpected argument 'b'\nTry 'vmasim --help'.\n" });
      });

      it("a missing or unreadable script file", async () => {
        const missing = join(tmp, "no-such.script");
        expect(await cli(["run", missing])).toEqual({ status: 2, stdout: "", stderr: `vmasim: cannot read script '${missing}': no such file\n` });
        expect(await cli(["run", tmp])).toEqual({ status: 2, stdout: "", stderr: `vmasim: cannot read script '${tmp}': is a directory\n` });
      });

      it("a kernel factory that fails is an internal error (exit 70)", async () => {
        const r = await cli(["run", "-"], {
          readStdin: async () => "dump\n",
          createKernel: () => {
            throw new Error("no wasm");
          },
        });
        expect(r.status).toBe(70);
        expect(r.stderr).toMatch(/^vmasim: internal error: Error: no wasm\n/);
      });
    });

    describe("help, version, commands", () => {
      it("--help, -h and help print the usage on stdout", async () => {
        for (const argv of [["--help"], ["-h"], ["help"]]) {
          const r = await cli(argv);
          expect(r.status).toBe(0);
          expect(r.stderr).toBe("");
          expect(r.stdout).toContain("vmasim run [--policy P[,P...]] [--trace | --ftrace] [--stats] [--maps]\n");
          expect(r.stdout).toContain("vmasim diff [--policy P] [--layout] SCRIPT");
          expect(r.stdout).toContain(`one of: ${POLICIES.join(", ")}`);
        }
      });

      it("--version prints package.json's version", async () => {
        expect(await cli(["--version"])).toEqual({ status: 0, stdout: `vmasim ${pkg.version}\n`, stderr: "" });
      });

      it("no command, an unknown command or option", async () => {
        expect(await cli([])).toEqual({ status: 2, stdout: "", stderr: "vmasim: missing command\nTry 'vmasim --help'.\n" });
        expect(await cli(["frob"])).toEqual({ status: 2, stdout: "", stderr: "vmasim: unknown command 'frob'\nTry 'vmasim --help'.\n" });
        expect(await cli(["--frob"])).toEqual({ status: 2, stdout: "", stderr: "vmasim: unknown option '--frob'\nTry 'vmasim --help'.\n" });
      });
    });

    describe("kernel and diff (with a stand-in for the native runner)", () => {
      /** A native runner that "prints" a recorded output. */
      const recorded = (output: string, status = 0): NativeRunner & { scripts: string[] } => {
        const scripts: string[] = [];
        return {
          scripts,
          runOnKernel: (script: string) => {
            scripts.push(script);
            return { output, status };
          },
          layoutOnly,
        };
      };

      it("kernel prints the native runner's output and exits with its status", async () => {
        const native = recorded("mmap 0 1 rw => ok\n", 0);
        const path = scriptFile("k.script", "mmap 0 1 rw\n");
        expect(await cli(["kernel", path], { native })).toEqual({ status: 0, stdout: "mmap 0 1 rw => ok\n", stderr: "" });
        expect(native.scripts).toEqual(["mmap 0 1 rw\n"]);
        expect(await cli(["kernel", path], { native: recorded("x => EPARSE (line 1)\n", 2) })).toMatchObject({ status: 2 });
      });

      it("kernel: a failing native runner is reported (exit 2)", async () => {
        const native: NativeRunner = {
          runOnKernel: () => {
            throw new Error("no C compiler found: install gcc or set CC");
          },
          layoutOnly,
        };
        expect(await cli(["kernel", scriptFile("k2.script", "dump\n")], { native })).toEqual({
          status: 2, stdout: "", stderr: "vmasim: cannot run the script on the kernel: no C compiler found: install gcc or set CC\n",
        });
      });

      it("diff: identical outputs (image-dependent counts aside) say that they agree, exit 0", async () => {
        // recorded on 6.18 with process_vmas=22 other_vmas=13: the engine's image differs
        const native = recorded(fixture("01-adjacent-anon-unfaulted.linux-6.18.out"));
        const r = await cli(["diff", "--policy", "linux-5.17", fixturePath("01-adjacent-anon-unfaulted.script")], { native });
        const lines = fixture("01-adjacent-anon-unfaulted.linux-6.18.out").split("\n").length - 1;
        expect(r).toEqual({
          status: 0, stdout: `kernel and engine agree (policy linux-5.17, ${lines} lines)\n`, stderr: "diff: engine policy linux-5.17 (--policy)\n",
        });
      });

      it("diff: a unified diff of kernel (---) against engine (+++), exit 1", async () => {
        const kernelOut = fixture("10-mprotect-split-merge.linux-6.18.out").replace("  100 110 rw-p anon 100 av=-\n  (2 vmas)", "  100 105 rw-p anon 100 av=-\n  105 110 rw-p anon 105 av=-\n  (3 vmas)");
        const r = await cli(["diff", "--policy", "linux-5.17", fixturePath("10-mprotect-split-merge.script")], { native: recorded(kernelOut) });
        expect(r.status).toBe(1);
        expect(r.stderr).toBe("diff: engine policy linux-5.17 (--policy)\n");
        expect(r.stdout).toBe([
          "--- kernel",
          "+++ engine --policy linux-5.17",
          "@@ -42,9 +42,8 @@",
          " mprotect 100 10 rw => ok",
          " dump",
          "   0 16 r--p anon 0 av=-",
          "-  100 105 rw-p anon 100 av=-",
          "-  105 110 rw-p anon 105 av=-",
          "-  (3 vmas)",
          "+  100 110 rw-p anon 100 av=-",
          "+  (2 vmas)",
          " echo == mprotect over a range with a hole -> ENOMEM (partially applied)",
          " mmap 200 4 rw => ok",
          " mmap 208 4 rw => ok",
          "",
        ].join("\n"));
      });

      it("diff --layout ignores anon pgoffs and av= (a kernel runner without BPF prints anon ?)", async () => {
        const native = recorded(fixture("10-mprotect-split-merge.linux-5.10.out"));
        const script = fixturePath("10-mprotect-split-merge.script");
        const full = await cli(["diff", "--policy", "linux-5.17", script], { native });
        expect(full.status).toBe(1);
        expect(full.stdout).toContain("-  0 4 rw-p anon ?\n");
        expect(full.stdout).toContain("+  0 4 rw-p anon 0 av=-\n");
        expect(full.stderr).toBe("diff: engine policy linux-5.17 (--policy)\nvmasim: the kernel runner could not read anon pgoffs and anon_vmas here (`anon ?`): try --layout\n");
        const layout = await cli(["diff", "--policy", "linux-5.17", "--layout", script], { native });
        expect(layout).toMatchObject({ status: 0, stdout: expect.stringMatching(/^kernel and engine agree \(policy linux-5\.17, layout only, \d+ lines\)\n$/) });
      });

      it("diff --layout still shows layout differences", async () => {
        const native = recorded("mmap 0 4 rw => ok\ndump\n  0 4 r--p anon ?\n  (1 vmas)\n");
        const r = await cli(["diff", "--policy", "linux-5.17", "--layout", "-"], { native, readStdin: async () => "mmap 0 4 rw\ndump\n" });
        expect(r).toEqual({
          status: 1,
          stderr: "diff: engine policy linux-5.17 (--policy)\n",
          stdout: [
            "--- kernel, layout only",
            "+++ engine --policy linux-5.17, layout only",
            "@@ -1,4 +1,4 @@",
            " mmap 0 4 rw => ok",
            " dump",
            "-  0 4 r--p anon ?",
            "+  0 4 rw-p anon ?",
            "   (1 vmas)",
            "",
          ].join("\n"),
        });
        expect(native.scripts).toEqual(["mmap 0 4 rw\ndump\n"]);
      });

      it("diff exits 2 when the script has EPARSE lines, and checks the engine first", async () => {
        const native = recorded("bogus => EPARSE (line 1)\n", 2);
        expect(await cli(["diff", "--policy", "linux-5.17", "-"], { native, readStdin: async () => "bogus\n" })).toEqual({
          status: 2, stdout: "kernel and engine agree (policy linux-5.17, 1 line)\n", stderr: "diff: engine policy linux-5.17 (--policy)\n<stdin>:1: unknown op 'bogus'\n",
        });
      });
    });
  });
}
