import { describe, expect, it } from "vitest";
import { unifiedDiff } from "../../src/report/diff.js";

const text = (...lines: string[]): string => lines.map((l) => l + "\n").join("");

/** Applies a unified diff to `a` (as patch(1) would, trusting the hunk ranges). */
function applyDiff(a: string, diff: string): string {
  const src = a === "" ? [] : a.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let pos = 0;
  const lines = diff.replace(/\n$/, "").split("\n").slice(2);
  for (let i = 0; i < lines.length; i++) {
    const m = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(lines[i]);
    if (m) {
      const start = m[2] === "0" ? Number(m[1]) : Number(m[1]) - 1;
      while (pos < start) out.push(src[pos++]);
      continue;
    }
    const kind = lines[i][0];
    const body = lines[i].slice(1);
    if (kind === " ") {
      expect(src[pos]).toBe(body);
      out.push(src[pos++]);
    } else if (kind === "-") {
      expect(src[pos]).toBe(body);
      pos++;
    } else {
      expect(kind).toBe("+");
      out.push(body);
    }
  }
  while (pos < src.length) out.push(src[pos++]);
  return out.length ? out.join("\n") + "\n" : "";
}

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a", "x\ny\n", "b", "x\ny\n")).toBe("");
    expect(unifiedDiff("a", "", "b", "")).toBe("");
  });

  it("prints a change with 3 lines of context, as diff -u does", () => {
    const a = text("1", "2", "3", "4", "5", "6", "7", "8", "9");
    const b = text("1", "2", "3", "4", "five", "6", "7", "8", "9");
    expect(unifiedDiff("kernel", a, "engine", b)).toBe(text(
      "--- kernel", "+++ engine", "@@ -2,7 +2,7 @@", " 2", " 3", " 4", "-5", "+five", " 6", " 7", " 8",
    ));
  });

  it("joins changes less than 7 lines apart into one hunk, splits the others", () => {
    const a = text(..."abcdefghijklmnopqrst".split(""));
    const b = text(..."aBcdefghIjklmnopqrsT".split(""));
    expect(unifiedDiff("a", a, "b", b)).toBe(text(
      "--- a", "+++ b",
      "@@ -1,12 +1,12 @@", " a", "-b", "+B", " c", " d", " e", " f", " g", " h", "-i", "+I", " j", " k", " l",
      "@@ -17,4 +17,4 @@", " q", " r", " s", "-t", "+T",
    ));
  });

  it("insertions into and deletions from an empty text", () => {
    expect(unifiedDiff("a", "", "b", text("x", "y"))).toBe(text("--- a", "+++ b", "@@ -0,0 +1,2 @@", "+x", "+y"));
    expect(unifiedDiff("a", text("x"), "b", "")).toBe(text("--- a", "+++ b", "@@ -1 +0,0 @@", "-x"));
    expect(unifiedDiff("a", text("x", "y"), "b", text("x", "new", "y"), { context: 0 })).toBe(
      text("--- a", "+++ b", "@@ -1,0 +2 @@", "+new"),
    );
  });

  it("marks a last line without a newline", () => {
    expect(unifiedDiff("a", "x\ny", "b", "x\ny\n")).toBe(
      text("--- a", "+++ b", "@@ -1,2 +1,2 @@", " x", "-y", "\\ No newline at end of file", "+y"),
    );
  });

  it("produces a minimal diff that applies, on random texts", () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let t = 0; t < 300; t++) {
      const lines = (n: number): string => Array.from({ length: n }, () => `l${rnd(5)}\n`).join("");
      const a = lines(rnd(25));
      const b = lines(rnd(25));
      const d = unifiedDiff("a", a, "b", b, { context: rnd(4) });
      expect(d === "").toBe(a === b);
      if (d !== "") expect(applyDiff(a, d)).toBe(b);
    }
  });
});
