// `vmasim host` and the configuration options (--config FILE, --set KEY=VALUE)
// of run, compare, diff and fuzz-kernel, with a stand-in probe and kernel:
// what is printed, which configuration reaches the engine, and the errors.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main, type CliIo, type NativeRunner } from "../../src/cli/main.js";
import { CONFIG_KEYS } from "../../src/config/config.js";
import { createKernelSync } from "../../src/engine/index.js";
import { layoutOnly } from "../../src/kernel/native.js";
import { knobsFromJson, knobsOf, readRecordingProfile, type HostProfile } from "../../src/kernel/profile.js";
import { runScenario } from "../../src/scenario/run.js";
import type { KernelConfig } from "../../src/types.js";

const CORPUS = fileURLToPath(new URL("../scenarios/corpus/", import.meta.url));
/** A machine like the corpus's, without the zero page. */
const NOZP: HostProfile = { ...readRecordingProfile(CORPUS)!, zero_page: false };

const dir = mkdtempSync(join(tmpdir(), "vmasim-host-cli-"));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const SCRIPT = file("s.script", "mmap 0 2 rw\ntouch 0\ndump\ncount\n");

/** The CLI with the engine (every configuration it is created with is kept) and optional stand-ins. */
async function cli(argv: string[], extra: Partial<CliIo> = {}) {
  let stdout = "";
  let stderr = "";
  const configs: KernelConfig[] = [];
  const status = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    createKernel: (c) => {
      configs.push(c);
      return createKernelSync(c);
    },
    ...extra,
  });
  return { status, stdout, stderr, configs };
}

/** A "kernel" that is the engine under linux-5.17 at its defaults. */
const standIn: NativeRunner = {
  runOnKernel: (s) => {
    const r = runScenario(createKernelSync({ policy: "linux-5.17" }), s);
    return { output: r.output, status: r.status };
  },
  layoutOnly,
};

describe("vmasim host", () => {
  it("prints one `key value` line per knob, then the host facts and how each knob was found", async () => {
    const r = await cli(["host"], { probe: () => ({ ...NOZP, mmap_min_addr: null }) });
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, CONFIG_KEYS.length).map((l) => l.split(" ")[0])).toEqual([...CONFIG_KEYS]);
    expect(lines).toContain("zero_page 0");
    expect(lines).toContain("mmap_min_addr unknown");
    expect(lines).toContain("rlimit_as unlimited");
    expect(lines).toContain("policy linux-6.18");
    expect(lines).toContain(`release ${NOZP.host.release}`);
    expect(r.stdout).toContain("\nhow each knob was found:\n  zero_page: ");
  });

  it("--json prints the knobs and `host`; the file configures the engine as --config", async () => {
    const r = await cli(["host", "--json"], { probe: () => NOZP });
    const obj = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(obj)).toEqual([...CONFIG_KEYS, "host"]);
    expect(obj).toMatchObject({ zero_page: false, rlimit_as: "unlimited", host: { policy: "linux-6.18" } });
    expect(knobsFromJson(r.stdout, "json")).toEqual(knobsOf(NOZP));
    const run = await cli(["run", "--config", file("host.json", r.stdout), SCRIPT]);
    expect(run.status).toBe(0);
    expect(run.configs).toEqual([{ ...knobsOf(NOZP), policy: "linux-5.17" }]);
  });

  it("refuses arguments", async () => {
    const r = await cli(["host", "extra"], { probe: () => NOZP });
    expect(r).toMatchObject({ status: 2, stderr: "vmasim: host: unexpected argument 'extra'\nTry 'vmasim --help'.\n" });
  });
});

describe("--config and --set", () => {
  it("configure every policy of a side-by-side run; --set wins over --config, a later --set over an earlier one", async () => {
    const cfg = file("c.json", JSON.stringify({ max_map_count: 100, zero_page: true, rlimit_stack: "unlimited" }));
    const r = await cli(["run", "--policy", "linux-5.17,linux-6.18", "--set", "zero_page=0", "--config", cfg, "--set", "max_map_count=700", "--set", "max_map_count=900", SCRIPT]);
    expect(r.status).toBe(0);
    const want = { max_map_count: 900, zero_page: false, rlimit_stack: Infinity };
    expect(r.configs).toEqual([{ ...want, policy: "linux-5.17" }, { ...want, policy: "linux-6.18" }]);
    expect(r.stdout).toContain("max_map_count=900");
  });

  it("a configuration that leaves no room for the scenario's arena is a usage error", async () => {
    const r = await cli(["run", "--set", "max_map_count=7", SCRIPT]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^vmasim: the scenario's arena cannot be set up under this configuration: /);
  });

  it("configure every policy of compare", async () => {
    const r = await cli(["compare", "--policy", "linux-5.17,seed", "--set", "mmap_min_addr=8k", SCRIPT]);
    expect(r.status).toBe(0);
    expect(r.configs).toEqual([{ policy: "linux-5.17", mmap_min_addr: 8192 }, { policy: "seed", mmap_min_addr: 8192 }]);
  });

  it("name the key, the value or the file in their errors (exit 2)", async () => {
    const cases: [string[], string][] = [
      [["--set", "bogus=1"], "vmasim: --set bogus=1: unknown configuration key 'bogus' (known: zero_page, "],
      [["--set", "zero_page=2"], "vmasim: --set zero_page=2: zero_page must be true/false (or 1/0), not 2\n"],
      [["--set", "max_map_count"], "vmasim: --set takes KEY=VALUE, not 'max_map_count'\n"],
      [["--set", "overcommit_memory=3"], "vmasim: --set overcommit_memory=3: overcommit_memory must be in [0, 2], not 3\n"],
      [["--config", join(dir, "missing.json")], `vmasim: --config ${join(dir, "missing.json")}: cannot read it: no such file\n`],
      [["--config", file("bad.json", '{"max_map_count": -1}')], `vmasim: --config ${join(dir, "bad.json")}: max_map_count must be in [0, 2147483647], not -1\n`],
      [["--config", file("typo.json", '{"zero_pages": 0}')], `vmasim: --config ${join(dir, "typo.json")}: unknown configuration key 'zero_pages'`],
      [["--config", file("nojson.json", "zero_page=0")], `vmasim: --config ${join(dir, "nojson.json")}: not JSON: `],
    ];
    for (const [args, message] of cases) {
      const r = await cli(["run", ...args, SCRIPT]);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr.startsWith(message), `${r.stderr} should start with ${message}`).toBe(true);
      expect(r.configs).toEqual([]);
    }
  });
});

describe("diff and fuzz-kernel configure the engine from the host", () => {
  it("diff: the probe's knobs, said on stderr; --set on top", async () => {
    const r = await cli(["diff", "--layout", "--policy", "linux-5.17", SCRIPT], { native: standIn, probe: () => NOZP });
    expect(r.configs).toEqual([{ ...knobsOf(NOZP), policy: "linux-5.17" }]);
    expect(r.stderr).toMatch(/^engine configured from the host: zero_page=0 mmap_min_addr=4096 .*\ndiff: engine policy linux-5\.17 \(--policy\)\n$/);
    const s = await cli(["diff", "--layout", "--policy", "linux-5.17", "--set", "zero_page=1", SCRIPT], { native: standIn, probe: () => NOZP });
    expect(s.configs[0]!.zero_page).toBe(true);
    expect(s.stderr).toMatch(/^engine configured from the host and --config\/--set: mmap_min_addr=4096 /);
  });

  it("says which knobs the host left unknown", async () => {
    const r = await cli(["diff", "--layout", SCRIPT], { native: standIn, probe: () => ({ ...NOZP, zero_page: null }) });
    expect(r.configs[0]).not.toHaveProperty("zero_page");
    expect(r.stderr).toContain("(unknown on the host, default kept: zero_page)\n");
  });

  it("a stand-in kernel without a probe: the options only, only the policy said", async () => {
    const r = await cli(["diff", "--layout", "--policy", "linux-5.17", "--set", "max_map_count=1000", SCRIPT], { native: standIn });
    expect(r.configs).toEqual([{ policy: "linux-5.17", max_map_count: 1000 }]);
    expect(r.stderr).toBe("diff: engine policy linux-5.17 (--policy)\n");
  });

  it("diff and fuzz-kernel default to the kernel's own policy: the profile's nearest policy, said on stderr", async () => {
    const p517: HostProfile = { ...NOZP, host: { ...NOZP.host, release: "5.15.0", policy: "linux-5.17" } };
    const r = await cli(["diff", "--layout", SCRIPT], { native: standIn, probe: () => p517 });
    expect(r.configs.map((c) => c.policy)).toEqual(["linux-5.17"]);
    expect(r.stderr).toContain("diff: engine policy linux-5.17 (nearest to the host's Linux 5.15.0)\n");
    const p618: HostProfile = { ...NOZP, host: { ...NOZP.host, release: "6.18.44", policy: "linux-6.18" } };
    const f = await cli(["fuzz-kernel", "--seed", "1", "--count", "2", "--ops", "4", "--layout"], { native: standIn, probe: () => p618 });
    expect([...new Set(f.configs.map((c) => c.policy))]).toEqual(["linux-6.18"]);
    expect(f.stderr).toContain("fuzz-kernel: engine policy linux-6.18 (nearest to the host's Linux 6.18.44)\n");
  });

  it("fuzz-kernel: every engine run gets the probe's knobs", async () => {
    const r = await cli(["fuzz-kernel", "--seed", "1", "--count", "3", "--ops", "5", "--policy", "linux-5.17", "--layout"], { native: standIn, probe: () => NOZP });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^engine configured from the host: zero_page=0 /);
    expect(r.configs.length).toBe(3);
    for (const c of r.configs) expect(c).toEqual({ ...knobsOf(NOZP), policy: "linux-5.17" });
  });
});

it("--help lists the host command and the configuration options", async () => {
  const r = await cli(["--help"]);
  expect(r.stdout).toContain("vmasim host [--json]");
  expect(r.stdout).toContain("--set KEY=VALUE");
  expect(r.stdout).toContain("--config FILE.json");
  expect(readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8")).toContain("vmasim host");
});

it("kernelPolicy: --policy, else the profile's nearest policy, else the release's", async () => {
  const { kernelPolicy } = await import("../../src/cli/defaults.js");
  expect(kernelPolicy("seed", NOZP, "6.18.44")).toEqual({ policy: "seed", why: "--policy" });
  expect(kernelPolicy(null, null, "6.18.44-generic")).toEqual({ policy: "linux-6.18", why: "nearest to Linux 6.18.44-generic" });
  expect(kernelPolicy(null, null, "5.10.0")).toEqual({ policy: "linux-5.10", why: "nearest to Linux 5.10.0" });
  expect(kernelPolicy(null, null, "5.15.0")).toEqual({ policy: "linux-5.17", why: "nearest to Linux 5.15.0" });
  expect(kernelPolicy(null, null, "Darwin")).toEqual({ policy: "linux-6.18", why: "release 'Darwin' not recognised" });
});
