// compare --format json|csv: one schema (src/cli/compare_schema.ts), the same
// records in both, the totals included, merges by the kernel's case numbers
// 1-8, every field documented in docs/cli.md.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, type CompareRecord } from "../../src/cli/compare_schema.js";
import { cli, tree } from "./helpers.js";

const S5 = "mmap 0 2 rw\nmmap 3 2 rw\ntouch 0\ntouch 3\nmmap 2 1 rw\ndump\n";
// case 1 under linux-5.17 needs unfaulted neighbours; case 2 (prev only), case 3 (next only)
const CASES = "mmap 0 2 rw\nmmap 4 2 rw\nmmap 2 2 rw\nmmap 10 2 rw\nmmap 8 2 rw\nmmap 20 2 rw\nmmap 22 2 rw\ndump\n";

/** CSV (no quoted newlines in these outputs) as records of strings. */
function parseCsv(text: string): Record<string, string>[] {
  const split = (line: string): string[] => {
    const out: string[] = [];
    let cur = "";
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quoted && c === '"' && line[i + 1] === '"') cur += c, i++;
      else if (c === '"') quoted = !quoted;
      else if (c === "," && !quoted) out.push(cur), (cur = "");
      else cur += c;
    }
    out.push(cur);
    return out;
  };
  const [head, ...rows] = text.trimEnd().split("\n").map(split);
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

/** A JSON record flattened as the CSV flattens it, values as CSV prints them. */
function flatten(r: CompareRecord): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === "by_case" || k === "failed") {
      for (const [sub, n] of Object.entries(v as Record<string, number>)) out[`${k === "by_case" ? "case" : "failed"}_${sub}`] = String(n);
    } else {
      out[k] = v === null ? "" : String(v);
    }
  }
  return out;
}

describe("compare --format json|csv", async () => {
  const dir = tree({ "a-cases.script": CASES, "b-s5.script": S5 });
  const args = ["compare", "--policy", "linux-5.17,seed-v2", dir];
  const json = JSON.parse((await cli([...args, "--format", "json"])).stdout) as { policies: string[]; records: CompareRecord[] };
  const csvText = (await cli([...args, "--format", "csv"])).stdout;
  const csv = parseCsv(csvText);

  it("the same records, field by field, in both formats, totals included", () => {
    expect(csvText.split("\n")[0]).toBe(CSV_COLUMNS.join(","));
    expect(json.records.map(flatten)).toEqual(csv);
    expect(json.records.map((r) => `${r.script}/${r.policy}`)).toEqual([
      "a-cases/linux-5.17", "a-cases/seed-v2", "b-s5/linux-5.17", "b-s5/seed-v2", "(total)/linux-5.17", "(total)/seed-v2",
    ]);
    for (const r of json.records) expect(Object.keys(flatten(r))).toEqual(CSV_COLUMNS);
  });

  it("by_case is keyed by the kernel's case numbers 1-8", () => {
    const a = json.records[0];
    expect(Object.keys(a.by_case)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
    expect(a.by_case).toMatchObject({ 1: 1, 2: 1, 3: 1 });
    expect(a.merges).toBe(3);
  });

  it("totals are the sums of the scripts; the checker's failures counted", () => {
    for (const policy of ["linux-5.17", "seed-v2"]) {
      const scripts = json.records.filter((r) => r.policy === policy && r.script !== "(total)");
      const total = json.records.find((r) => r.policy === policy && r.script === "(total)")!;
      expect(total.merges).toBe(scripts.reduce((n, r) => n + r.merges, 0));
      expect(total.attempts).toBe(scripts.reduce((n, r) => n + r.attempts, 0));
      expect(total.vmas).toBeNull();
      expect(total.check_line).toBeNull();
    }
    const s5 = json.records.find((r) => r.script === "b-s5" && r.policy === "seed-v2")!;
    expect(s5.check_line).toBe(5);
    expect(s5.check_problem).toMatch(/^anon_vma \d+: refcount 1, expected 0$/);
    expect(json.records.at(-1)!.check_problem).toBe("1 script failed the checker");
  });

  it("docs/cli.md documents every field", () => {
    const doc = readFileSync(new URL("../../docs/cli.md", import.meta.url), "utf8");
    const fields = [...Object.keys(json.records[0]), "case_N", "failed_REASON"];
    for (const f of fields) expect(doc, f).toContain(`\`${f}\``);
  });
});
