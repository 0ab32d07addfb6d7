// Command-line conventions: each command's own help, -V, `-` for standard
// input wherever a SCRIPT is taken, directories recursed in sorted order.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_HELP } from "../../src/cli/usage.js";
import { cli, tree } from "./helpers.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
const COMMANDS = ["run", "compare", "kernel", "diff", "fuzz-kernel", "fuzz", "host", "record", "list", "import", "replay", "gen", "report", "serve", "sweep", "worker"];

describe("help per command", () => {
  it("every command has its help; CMD --help, CMD -h and help CMD print it, not the global help", async () => {
    expect(Object.keys(COMMAND_HELP).sort()).toEqual([...COMMANDS].sort());
    const global = (await cli(["--help"])).stdout;
    for (const cmd of COMMANDS) {
      for (const argv of [[cmd, "--help"], [cmd, "-h"], ["help", cmd]]) {
        const r = await cli(argv);
        expect(r, argv.join(" ")).toEqual({ status: 0, stdout: COMMAND_HELP[cmd], stderr: "" });
      }
      expect(COMMAND_HELP[cmd]).toMatch(new RegExp(`^Usage: vmasim ${cmd}[ \n]`));
      expect(COMMAND_HELP[cmd]).not.toBe(global);
    }
  });

  it("every option a command accepts is in its help", async () => {
    for (const cmd of COMMANDS) {
      // an unknown option is refused with its name: so every --word of the help must be accepted
      for (const [, opt] of COMMAND_HELP[cmd].matchAll(/^ {2}(--[a-z-]+)/gm)) {
        const r = await cli([cmd, opt, "--help"]);
        expect(r.stderr, `${cmd} ${opt}`).not.toMatch(/unknown option/);
      }
    }
  });

  it("help of an unknown command is a usage error", async () => {
    expect(await cli(["help", "frob"])).toEqual({ status: 2, stdout: "", stderr: "vmasim: help: unknown command 'frob'\nTry 'vmasim --help'.\n" });
  });

  it("-V and --version print the package version", async () => {
    for (const flag of ["-V", "--version"]) expect(await cli([flag])).toEqual({ status: 0, stdout: `vmasim ${pkg.version}\n`, stderr: "" });
  });
});

describe("compare: - and directories", () => {
  it("- reads the script from standard input", async () => {
    const r = await cli(["compare", "--policy", "linux-5.17", "-"], "mmap 0 2 rw\nmmap 2 2 rw\ndump\n");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\n {2}<stdin> \| 1 vma, 1 merge\n/);
    expect((await cli(["compare", "-", "-"])).status).toBe(2);
  });

  it("directories are recursed, the scripts in sorted order, named by their path below the directory", async () => {
    const dir = tree({
      "b.script": "mmap 0 1 rw\n",
      "a/z.script": "mmap 0 1 rw\n",
      "a/deeper/y.script": "mmap 0 1 rw\n",
      "c/notes.txt": "not a script\n",
      "0.script": "mmap 0 1 rw\n",
    });
    const r = await cli(["compare", "--policy", "linux-5.17", "--format", "csv", dir]);
    expect(r.status).toBe(0);
    const names = r.stdout.split("\n").slice(1, -1).map((l) => l.split(",")[0]).filter((n) => n !== "(total)");
    expect(names).toEqual(["0", "a/deeper/y", "a/z", "b"]);
    // a file and a directory together: in the order given
    const both = await cli(["compare", "--policy", "linux-5.17", "--format", "csv", join(dir, "b.script"), join(dir, "a")]);
    expect(both.stdout.split("\n").slice(1, -1).map((l) => l.split(",")[0]).filter((n) => n !== "(total)")).toEqual(["b", "deeper/y", "z"]);
  });

  it("a directory without scripts is an error", async () => {
    const dir = tree({ "x/notes.txt": "" });
    expect(await cli(["compare", dir])).toMatchObject({ status: 2, stderr: `vmasim: no *.script files in '${dir}'\n` });
  });
});
