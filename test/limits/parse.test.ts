// The scenario words `setrlimit RES CUR [MAX]` and `capdrop CAP`: parsing,
// their results in the engine's runner, and the generator never emitting them.
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { GENERATED_OPS, generateScript } from "../../src/scenario/generate.js";
import { parseLine } from "../../src/scenario/parse.js";
import { runScenario } from "../../src/scenario/run.js";

describe("setrlimit / capdrop: parsing", () => {
  it("reads a resource, a soft limit and an optional hard one (default: the soft one)", () => {
    expect(parseLine("setrlimit memlock 0x4000", 1)).toEqual({ op: "setrlimit", line: 1, text: "setrlimit memlock 16384", resource: "memlock", cur: 16384, max: 16384 });
    expect(parseLine("setrlimit as 0 unlimited", 2)).toMatchObject({ op: "setrlimit", resource: "as", cur: 0, max: Infinity });
    expect(parseLine("setrlimit stack unlimited", 3)).toMatchObject({ resource: "stack", cur: Infinity, max: Infinity });
    expect(parseLine("capdrop ipc_lock", 4)).toEqual({ op: "capdrop", line: 4, text: "capdrop ipc_lock", cap: "ipc_lock" });
  });

  it("bad words, numbers and arity are EPARSE; neither may be repeated", () => {
    for (const bad of [
      "setrlimit", "setrlimit as", "setrlimit nofile 1", "setrlimit as -1", "setrlimit as 1 2 3", "setrlimit as inf",
      "capdrop", "capdrop chown", "capdrop ipc_lock sys_admin", "repeat 2 0 1 setrlimit as @", "repeat 2 0 1 capdrop ipc_lock",
    ]) {
      expect(parseLine(bad, 1)?.op, bad).toBe("EPARSE");
    }
  });

  it("the generator never emits them", () => {
    expect(GENERATED_OPS).not.toContain("setrlimit");
    expect(GENERATED_OPS).not.toContain("capdrop");
    for (let seed = 1; seed <= 20; seed++) expect(generateScript({ seed, ops: 200 })).not.toMatch(/^(setrlimit|capdrop)\b/m);
  });
});

describe("setrlimit / capdrop: the engine's runner", () => {
  it("prints ok or the errno, and the limits apply to the script's process and a forked child", () => {
    const out = runScenario(createKernelSync({ policy: "linux-6.18" }), [
      "setrlimit memlock 0x2000 0x1000",
      "setrlimit memlock 0x2000",
      "capdrop sys_resource",
      "setrlimit memlock 0x2000 0x3000",
      "capdrop ipc_lock",
      "mmap 0 4 rw locked",
      "fork",
      "mmap 0 2 rw locked fixed",
    ].join("\n")).output;
    expect(out).toBe([
      "setrlimit memlock 8192 4096 => EINVAL",
      "setrlimit memlock 8192 => ok",
      "capdrop sys_resource => ok",
      "setrlimit memlock 8192 12288 => EPERM",
      "capdrop ipc_lock => ok",
      "mmap 0 4 rw locked => EAGAIN",
      "fork => child continues (parent waits)",
      "mmap 0 2 rw locked fixed => ok",
      "",
    ].join("\n"));
  });
});
