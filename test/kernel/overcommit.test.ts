// Overcommit on the REAL kernel: scripts that switch vm.overcommit_memory
// and set a strict limit from the live /proc/meminfo, run by the native runner
// and by the engine configured to match; both must print the same. The host's
// sysctls are restored after every run (runOnKernel, src/kernel/sysctl.ts);
// the strict limit always leaves the rest of the machine several GiB of
// headroom. Needs root (writing /proc/sys/vm) and the native runner.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { canRunNative, runOnKernel } from "../../src/kernel/native.js";
import { withHostSysctls } from "../../src/kernel/sysctl.js";
import { runScenario } from "../../src/scenario/run.js";
import type { KernelConfig } from "../../src/types.js";

const native = canRunNative();
const root = process.getuid?.() === 0;
const skip = !native.ok ? `native runner unavailable: ${native.reason}` : !root ? "not root: cannot write /proc/sys/vm" : null;
if (skip) console.log(`overcommit on the real kernel: skipped (${skip})`);

const GiB_KB = 1024 * 1024;
const KEYS = ["overcommit_memory", "overcommit_ratio", "overcommit_kbytes"];

function meminfoKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync("/proc/meminfo", "utf8"));
  if (!m) throw new Error(`no ${field} in /proc/meminfo`);
  return Number(m[1]);
}

function hostSysctls(): Record<string, string> {
  return Object.fromEntries(KEYS.map((k) => [k, readFileSync(`/proc/sys/vm/${k}`, "utf8").trim()]));
}

/** The script on the kernel (its sysctls restored, checked) and on the engine; both outputs. */
function both(script: string, config: Partial<KernelConfig>): { kernel: string; engine: string } {
  const before = hostSysctls();
  const kernel = runOnKernel(script, { hiddenState: false }).output;
  expect(hostSysctls()).toEqual(before);
  const engine = runScenario(createKernelSync({ policy: "linux-6.18", ...config }), script).output;
  return { kernel, engine };
}

describe.skipIf(skip !== null)("overcommit on the running kernel", () => {
  const machine = (): Partial<KernelConfig> => ({
    totalram_pages: meminfoKb("MemTotal") / 4,
    total_swap_pages: meminfoKb("SwapTotal") / 4,
  });

  it("mode 1 grants a heap larger than RAM + swap, mode 0 refuses it and grants a small one", () => {
    const cfg = machine();
    // 256 MiB more than RAM + swap, in pages; never touched
    const big = cfg.totalram_pages! + cfg.total_swap_pages! + 65536;
    const script = [
      "sysctl overcommit_memory 1", `brk ${big}`, "brk 0",
      "sysctl overcommit_memory 0", `brk ${big}`, "brk 16384", "mmap 0 16 rw", "brk 0",
    ].join("\n") + "\n";
    const { kernel, engine } = both(script, cfg);
    expect(kernel).toBe([
      "sysctl overcommit_memory 1 => ok", `brk ${big} => ok`, "brk 0 => ok",
      "sysctl overcommit_memory 0 => ok", `brk ${big} => ENOMEM`, "brk 16384 => ok", "mmap 0 16 rw => ok", "brk 0 => ok", "",
    ].join("\n"));
    expect(engine).toBe(kernel);
  });

  it("the host's values come back even when the run throws, ratio and kbytes in the right order", () => {
    const before = hostSysctls();
    expect(() => withHostSysctls(KEYS, () => {
      // the runner's own sysctl restoring is not involved: this is the outer guard
      const out = runOnKernel("sysctl overcommit_memory 1\n", { hiddenState: false }).output;
      expect(out).toBe("sysctl overcommit_memory 1 => ok\n");
      expect(hostSysctls()).toEqual(before);
      // write what a crashing run could leave behind, then fail
      for (const [k, v] of [["overcommit_kbytes", "1048576"], ["overcommit_memory", "1"]]) {
        writeFileSync(`/proc/sys/vm/${k}`, `${v}\n`);
      }
      throw new Error("a run that failed");
    })).toThrow("a run that failed");
    expect(hostSysctls()).toEqual(before);
  });

  it("a bad mode is EINVAL and changes nothing", () => {
    const { kernel, engine } = both("sysctl overcommit_memory 3\nsysctl overcommit_memory -1\n", machine());
    expect(kernel).toBe("sysctl overcommit_memory 3 => EINVAL\nsysctl overcommit_memory -1 => EINVAL\n");
    expect(engine).toBe(kernel);
  });

  it("mode 2 with a limit several GiB above Committed_AS: above the headroom is refused, a small heap passes, a fork that doubles a large heap fails", () => {
    const committedKb = meminfoKb("Committed_AS");
    // the headroom left to the machine stays above 1 GiB throughout (see below)
    const headroomKb = Math.max(6 * GiB_KB, 3 * committedKb);
    const limitKb = committedKb + headroomKb;
    const limitPages = Math.floor(limitKb / 4);
    const above = limitPages + 262144; // 1 GiB more than the whole limit
    // 60% of the limit: passes while Committed_AS < 40% of it; fork would charge it twice.
    // The machine keeps 0.4 * headroom - 0.6 * committed >= 1.2 GiB meanwhile.
    const large = Math.floor(limitPages * 0.6);
    const script = [
      `sysctl overcommit_kbytes ${limitKb}`, "sysctl overcommit_memory 2",
      `brk ${above}`, "brk 16384", "mmap 0 16 rw", `brk ${large}`, "fork", "brk 0", "fork parent",
      "sysctl overcommit_memory 0",
    ].join("\n") + "\n";
    const { kernel, engine } = both(script, machine());
    expect(kernel).toBe([
      `sysctl overcommit_kbytes ${limitKb} => ok`, "sysctl overcommit_memory 2 => ok",
      `brk ${above} => ENOMEM`, "brk 16384 => ok", "mmap 0 16 rw => ok", `brk ${large} => ok`, "fork => ENOMEM", "brk 0 => ok",
      "fork parent => parent continues (child parked)", "sysctl overcommit_memory 0 => ok", "",
    ].join("\n"));
    expect(engine).toBe(kernel);
  });
});
