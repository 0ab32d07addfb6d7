// The native B-tree baseline (bench/native/btree.c) checks itself: in its
// check mode every operation is followed by a walk of the whole tree (order,
// pivots, per-child gaps, fill, depth, parent links, leaf chain), every find
// and gap search is compared with the expected VMA or range, and every VMA is
// erased and inserted again in random orders. A fault exits 1 with its name.
import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { nativeProgram } from "../../bench/native.js";

const hasCc = spawnSync(process.env.CC ?? "cc", ["--version"]).error === undefined;
if (!hasCc) console.log("skipped: no C compiler (cc or $CC) to build bench/native/btree.c");

describe.skipIf(!hasCc)("bench/native/btree.c check mode", () => {
  const bin = hasCc ? nativeProgram("btree") : null;
  for (const op of ["mprotect", "remap", "gap"]) {
    // 2: a root leaf; 17: two leaves; 3,000: three levels, splits, merges and refills
    for (const n of [2, 17, 100, 3000]) {
      it(`${op} among ${n} VMAs`, () => {
        expect(bin).not.toBeNull();
        const out = execFileSync(bin!, [op, String(n), "2000", "check"], { encoding: "utf8" }).trim();
        expect(out).toMatch(/^ok \d+(\.\d+)? \d+(\.\d+)?$/);
      });
    }
  }

  it("reports a wrong gap (the check can fail): one slot of the root off by a page", () => {
    for (const n of ["17", "3000"]) {
      const r = spawnSync(bin!, ["mprotect", n, "10", "corrupt"], { encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/internal gap is not the child.s largest/);
    }
    // and a leaf root: its own gap is wrong
    const r = spawnSync(bin!, ["mprotect", "2", "10", "corrupt"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/wrong gap/);
  });
});
