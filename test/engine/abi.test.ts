// The host's and the core's copies of the ABI must agree.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as host from "../../src/abi/constants.js";
import { CMD_CAPACITY, CMD_SLOTS, OP, SNAP_RECORD_SIZE } from "../../src/engine/abi.js";
import { createKernelSync } from "../../src/engine/index.js";

const coreSource = readFileSync(new URL("../../assembly/abi/constants.ts", import.meta.url), "utf8");

function coreConstants(): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const line of coreSource.split("\n")) {
    const r = /^export const (\w+): [ui]\d+ = (0x[0-9a-f]+|\d+);/.exec(line);
    if (r) m.set(r[1], BigInt(r[2]));
  }
  return m;
}

describe("ABI constants", () => {
  const core = coreConstants();
  it("parses a meaningful number of core constants", () => {
    expect(core.size).toBeGreaterThan(60);
  });
  for (const [name, value] of Object.entries(host)) {
    if (typeof value !== "number") continue;
    if (!core.has(name)) continue;
    it(`${name} agrees`, () => {
      expect(BigInt(value)).toBe(core.get(name));
    });
  }
  it("every errno and VM_ flag of the host exists in the core", () => {
    const missing = Object.keys(host).filter((n) => /^(E[A-Z]+|VM_[A-Z_]+|MAP_[A-Z_]+|PROT_[A-Z]+)$/.test(n)
      && !["VM_NONE", "VM_STACK_FLAGS", "VM_SPECIAL", "VM_STACK", "VM_DATA_DEFAULT_FLAGS", "PROT_NONE", "ERRNO_NAMES"].includes(n)
      && !core.has(n));
    expect(missing).toEqual([]);
  });
  it("batch and snapshot layouts match the wasm exports", () => {
    const k = createKernelSync({ policy: "linux-5.17" });
    const g = (n: string) => (k.core as unknown as Record<string, WebAssembly.Global>)[n].value as number;
    expect(g("CMD_SLOTS")).toBe(CMD_SLOTS);
    expect(g("CMD_CAPACITY")).toBe(CMD_CAPACITY);
    expect(g("SNAP_RECORD_SIZE")).toBe(SNAP_RECORD_SIZE);
    expect(g("OP_MMAP")).toBe(OP.mmap);
    expect(g("OP_MUNMAP")).toBe(OP.munmap);
    expect(g("OP_MPROTECT")).toBe(OP.mprotect);
    expect(g("OP_BRK")).toBe(OP.brk);
    for (const [name, code] of Object.entries(OP)) expect(g(`OP_${name.toUpperCase()}`)).toBe(code);
  });
});
