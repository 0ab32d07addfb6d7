// The names the README's library section promises exist in the library's entry.
import { describe, expect, it } from "vitest";
import * as lib from "../../src/index.js";

describe("the library's exports", () => {
  it("has every function the README names", () => {
    for (const name of [
      "createKernel", "createModelKernel", "runScenario", "renderMaps", "checkProcess", "checkKernel", "formatFtrace",
    ] as const) expect(typeof lib[name], name).toBe("function");
    expect(typeof lib.abi.PROT_READ).toBe("number");
    expect(typeof lib.Process.prototype.batch).toBe("function");
    for (const m of ["mergeStats", "traceMerges", "takeMergeEvents"] as const) expect(typeof lib.Simulator.prototype[m], m).toBe("function");
  });

  it("checkKernel and checkProcess work on the engine and on the model", async () => {
    for (const kernel of [await lib.createKernel({ policy: "linux-5.17" }), lib.createModelKernel({ policy: "linux-5.17" })]) {
      const p = kernel.createProcess();
      const a = p.mmap(0, 8192, lib.abi.PROT_READ | lib.abi.PROT_WRITE, lib.abi.MAP_PRIVATE | lib.abi.MAP_ANONYMOUS, -1, 0);
      expect(a).toBeGreaterThan(0);
      p.touch(a, true);
      p.fork();
      expect(lib.checkKernel(kernel)).toEqual([]);
      expect(lib.checkProcess(p)).toEqual([]);
    }
  });
});
