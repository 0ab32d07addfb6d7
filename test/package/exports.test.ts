// The names the README's library section promises exist in the library's entry.
import { describe, expect, it } from "vitest";
import * as lib from "../../src/index.js";

describe("the library's exports", () => {
  it("has every function the README names", () => {
    for (const name of [
      "createKernel", "createModelKernel", "runScenario", "renderMaps", "checkProcess", "checkKernel", "formatFtrace", "formatVmas", "vmFlagNames",
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

describe("formatVmas", () => {
  it("prints hex ranges, perms, pgoff, anon_vma and smaps' VmFlags names", () => {
    const v = { start: 0x7f0000001000, end: 0x7f0000003000, flags: 0x100073, flagsHi: 0, pgoff: 0x7f0000001, file: 0, anonVma: 4,
      anonVmaRoot: 4, anonName: null, special: null };
    expect(lib.formatVmas([v, { ...v, anonVma: 0, flags: 0x8000008d, anonName: "heap2" }])).toBe(
      "7f0000001000-7f0000003000 rw-p pgoff=0x7f0000001 anon_vma=4 rd wr mr mw me ac\n" +
      "7f0000001000-7f0000003000 r-xs pgoff=0x7f0000001 anon_vma=- rd ex sh ms mg [anon:heap2]",
    );
  });
});
