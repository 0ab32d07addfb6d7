// The `sysctl KEY VALUE` word: parsing, the engine runner's KernelSim.configure
// (with the ratio/kbytes coupling of the kernel's handlers), a refused fork,
// what the host-sysctl guard saves, and that the generator never emits it.
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { sysctlsWritten } from "../../src/kernel/sysctl.js";
import { createModelKernel } from "../../src/model/index.js";
import { generateScript } from "../../src/scenario/generate.js";
import { parseScript } from "../../src/scenario/parse.js";
import { runScenario } from "../../src/scenario/run.js";
import type { KernelSim } from "../../src/types.js";

describe("sysctl: parsing", () => {
  it("takes a known vm key and a C integer, normalized", () => {
    const [e] = parseScript("sysctl overcommit_kbytes 0x400");
    expect(e).toMatchObject({ op: "sysctl", key: "overcommit_kbytes", value: 1024n, text: "sysctl overcommit_kbytes 1024" });
    const [n] = parseScript("sysctl overcommit_ratio -5");
    expect(n).toMatchObject({ op: "sysctl", value: -5n });
  });

  it("refuses other keys, missing or extra arguments, and repeat", () => {
    for (const line of [
      "sysctl swappiness 10", "sysctl overcommit_memory", "sysctl overcommit_memory 1 2", "sysctl overcommit_memory x",
      "repeat 2 0 1 sysctl overcommit_memory @",
    ]) {
      expect(parseScript(line)[0]!.op, line).toBe("EPARSE");
    }
  });
});

describe.each([
  ["model", (): KernelSim => createModelKernel({ policy: "linux-5.17" })],
  ["engine", (): KernelSim => createKernelSync({ policy: "linux-5.17" })],
] as const)("sysctl: the %s runner", (_name, make) => {
  it("changes the kernel's knobs; a value the knob refuses is EINVAL", () => {
    const k = make();
    const r = runScenario(k, [
      "sysctl overcommit_ratio 70", "sysctl overcommit_memory 3", "sysctl max_map_count -1", "sysctl mmap_min_addr 8192",
      "sysctl user_reserve_kbytes 0",
    ].join("\n"));
    expect(r.output).toBe([
      "sysctl overcommit_ratio 70 => ok", "sysctl overcommit_memory 3 => EINVAL", "sysctl max_map_count -1 => EINVAL",
      "sysctl mmap_min_addr 8192 => ok", "sysctl user_reserve_kbytes 0 => ok", "",
    ].join("\n"));
    expect(k.config()).toMatchObject({ overcommit_ratio: 70, overcommit_memory: 0, mmap_min_addr: 8192, user_reserve_kbytes: 0 });
  });

  it("writing overcommit_kbytes clears overcommit_ratio and the other way round", () => {
    const k = make();
    runScenario(k, "sysctl overcommit_kbytes 4096");
    expect(k.config()).toMatchObject({ overcommit_kbytes: 4096, overcommit_ratio: 0 });
    runScenario(k, "sysctl overcommit_ratio 60");
    expect(k.config()).toMatchObject({ overcommit_kbytes: 0, overcommit_ratio: 60 });
  });

  it("mode 2 without headroom: mmap and fork print ENOMEM, the parent goes on", () => {
    // what the script's process charges before its first line: its image
    const probe = make();
    probe.createProcess();
    const limitKb = 4 * (probe.meminfo!().committedAs + 100);
    const k = make();
    const r = runScenario(k, [
      `sysctl overcommit_kbytes ${limitKb}`, "sysctl user_reserve_kbytes 0", "sysctl overcommit_memory 2",
      "mmap 0 60 rw", "mmap 100 60 rw", "fork", "munmap 0 60", "fork parent",
    ].join("\n"));
    expect(r.output.split("\n").slice(3)).toEqual([
      "mmap 0 60 rw => ok", "mmap 100 60 rw => ENOMEM", "fork => ENOMEM", "munmap 0 60 => ok",
      "fork parent => parent continues (child parked)", "",
    ]);
  });
});

describe("sysctl: around native runs", () => {
  it("the host keys a script writes, ratio and kbytes together", () => {
    expect(sysctlsWritten("mmap 0 1 rw\n")).toEqual([]);
    expect(sysctlsWritten("sysctl overcommit_memory 1\nsysctl overcommit_ratio 10\nsysctl max_map_count 100\n").sort()).toEqual(
      ["max_map_count", "overcommit_kbytes", "overcommit_memory", "overcommit_ratio"],
    );
  });

  it("the random script generator never writes a sysctl", () => {
    for (let seed = 1; seed <= 50; seed++) {
      expect(generateScript({ seed, ops: 60 })).not.toMatch(/^sysctl/m);
    }
  });
});
