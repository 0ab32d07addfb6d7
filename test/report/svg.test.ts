// The address-space diagram (src/report/svg.ts): well-formed XML, the same
// bytes for the same runs, and docs/address-space.svg is what
// `npm run docs:picture` makes from the engine today.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { addressSpaceSvg, arenaPages, arenaVmas, PageHistory, type DiagramRow } from "../../src/report/svg.js";
import { runScenario } from "../../src/scenario/run.js";
import type { Policy } from "../../src/types.js";

const ROOT = resolve(import.meta.dirname, "../..");

/** Checks tags nest and close, attributes are quoted, and text has no bare < or &; throws on the first fault. */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m;
  let seen = 0;
  while ((m = re.exec(xml))) {
    seen = re.lastIndex;
    if (m[5] !== undefined) {
      if (/&(?!amp;|lt;|gt;|quot;|#\d+;)/.test(m[5])) throw new Error(`bare & in ${m[5]}`);
      continue;
    }
    if (m[1]) {
      if (stack.pop() !== m[2]) throw new Error(`</${m[2]}> closes nothing open`);
    } else if (!m[4]) stack.push(m[2]);
  }
  if (seen !== xml.length) throw new Error(`not XML at ${seen}: ${xml.slice(seen, seen + 40)}`);
  if (stack.length) throw new Error(`unclosed <${stack.join(">, <")}>`);
}

function s34Rows(): DiagramRow[] {
  const text = readFileSync(join(ROOT, "scenarios/spec-12/S34-case-6-three-anon-vmas.script"), "utf8");
  return (["linux-5.17", "seed"] as Policy[]).map((policy) => {
    const r = runScenario(createKernelSync({ policy }), text);
    return { label: policy, vmas: arenaVmas(r.process, r.arenaBase, 3) };
  });
}

describe("address-space SVG", () => {
  it("draws each VMA of a real run, coloured by anon_vma", () => {
    const rows = s34Rows();
    expect(rows[0].vmas.map((v) => [v.start, v.end, v.perms, v.pgoff])).toEqual([[0, 1, "rw-p", 0], [1, 2, "rw-p", 1], [2, 3, "rw-p", 2]]);
    expect(new Set(rows[0].vmas.map((v) => v.anonVma)).size).toBe(3);
    expect(rows[1].vmas.map((v) => [v.start, v.end])).toEqual([[0, 3]]);
    const svg = addressSpaceSvg(rows, "S34 <a & b>");
    assertWellFormed(svg);
    expect(svg).toContain("S34 &lt;a &amp; b&gt;");
    expect(svg.match(/<rect [^>]*stroke=/g)).toHaveLength(4);
    expect(new Set(svg.match(/fill="#[0-9a-f]{6}" stroke/g)).size).toBe(3);
    expect(svg).toMatch(/pgoff 2 av3/);
  });

  it("is deterministic, and docs/address-space.svg is up to date (npm run docs:picture)", () => {
    const a = addressSpaceSvg(s34Rows(), "S34 after its last line: three faulted pages, three anon_vmas");
    expect(addressSpaceSvg(s34Rows(), "S34 after its last line: three faulted pages, three anon_vmas")).toBe(a);
    expect(readFileSync(join(ROOT, "docs/address-space.svg"), "utf8")).toBe(a);
  });

  it("annotated: resident pages, the anon_vma root of a fork, what differs, the empty stretches of the arena cut out", () => {
    // S17 under linux-5.17 and seed, with the pages each policy left and which ones it re-pointed
    const text = readFileSync(join(ROOT, "scenarios/spec-12/S17-child-faulted-after-fork.script"), "utf8");
    const rows: DiagramRow[] = (["linux-5.17", "seed"] as Policy[]).map((policy) => {
      const k = createKernelSync({ policy });
      const history = new PageHistory();
      let changed = history.update(k.memory());
      const r = runScenario(k, text, { onStep: () => void (changed = history.update(k.memory())) });
      return { label: policy, vmas: arenaVmas(r.process, r.arenaBase, 8), pages: arenaPages(r.process, k.memory(), r.arenaBase, 8, changed) };
    });
    expect(rows[0].pages!.map((p) => [p.page, p.kind, p.repointed])).toEqual([[0, "anon", false], [3, "anon", false]]);
    expect(rows[1].pages!.map((p) => [p.page, p.kind, p.repointed])).toEqual([[0, "anon", false], [3, "anon", true]]);
    const svg = addressSpaceSvg(rows, "S17", { differences: true });
    assertWellFormed(svg);
    expect(addressSpaceSvg(rows, "S17", { differences: true })).toBe(svg);
    expect([...svg.matchAll(/<rect class="vma" data-start="(\d+)" data-end="(\d+)"/g)].map((m) => [+m[1], +m[2]])).toEqual([[0, 3], [3, 5], [0, 5]]);
    expect([...svg.matchAll(/data-mark="(\w+)"/g)].map((m) => m[1])).toEqual(["a", "a", "a", "ap"]);
    // every VMA differs between the two rows (three against one); page 3 differs (re-pointed), page 0 does not
    expect(svg.match(/<rect class="vma"[^>]*data-differs/g)).toHaveLength(3);
    expect([...svg.matchAll(/data-page="(\d)"[^>]*data-differs/g)].map((m) => m[1])).toEqual(["3", "3"]);
    expect(addressSpaceSvg(rows, "S17", { differences: false })).not.toContain("data-differs");
    // a fork's anon_vma names its root
    const fork = { label: "child", vmas: [{ start: 0, end: 2, perms: "rw-p", pgoff: 0, anonVma: 7, anonVmaRoot: 3 }] };
    expect(addressSpaceSvg([fork], "", {})).toContain("pgoff 0 av1 root av2");
    // VMAs 1000 pages apart: the gap is cut out (a break mark), both bars stay drawn to scale
    const far = { label: "far", vmas: [{ start: 0, end: 2, perms: "rw-p", pgoff: 0, anonVma: 0 }, { start: 1000, end: 1001, perms: "r--p", pgoff: 1000, anonVma: 0 }] };
    const cut = addressSpaceSvg([far], "", {});
    expect(Number(/width="(\d+)"/.exec(cut)![1])).toBeLessThan(1000);
    expect(cut).toContain("\u2248");
    const widths = [...cut.matchAll(/<rect class="vma"[^>]* width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths[0]).toBe(2 * widths[1]);
  });

  it("rejects what is not well-formed (the checker can fail)", () => {
    expect(() => assertWellFormed("<svg><g></svg>")).toThrow();
    expect(() => assertWellFormed("<svg><text>a & b</text></svg>")).toThrow(/bare &/);
  });
});
