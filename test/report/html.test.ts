// The replay's HTML report: one well-formed, self-contained page (no scripts,
// no external references), every trace string escaped, the table, the charts
// and the address-space picture present; and its drawing parts on their own.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReplayReport } from "../../src/replay/run.js";
import { replayTrace } from "../../src/replay/run.js";
import { SMALL_GAP_PAGES, addressMapSvg, axisItems, barWidth } from "../../src/report/address_map.js";
import { barChart, lineChart, ticks } from "../../src/report/chart.js";
import { anonVmaFill } from "../../src/report/draw.js";
import { escapeXml } from "../../src/report/escape.js";
import { replayHtml } from "../../src/report/html.js";

const DIR = new URL("../fixtures/traces/", import.meta.url).pathname;

/** Elements HTML closes by itself (the only ones the report may leave unclosed). */
const VOID = new Set(["meta", "br", "hr", "img", "input", "link"]);

/** Checks that every tag is closed in order; returns the element names seen, or throws at the first mismatch. */
function checkBalanced(html: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  const body = html.replace(/^<!DOCTYPE html>\n/, "");
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    if (close) {
      const top = stack.pop();
      if (top !== name) throw new Error(`</${name}> closes <${top}> at offset ${m.index}`);
    } else {
      seen.push(name);
      if (!selfClose && !VOID.has(name)) stack.push(name);
    }
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(" ")}`);
  // no stray < or & outside tags and entities
  const text = body.replace(/<(\/?)([a-zA-Z][\w-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g, "");
  expect(text).not.toMatch(/<|&(?!(amp|lt|gt|quot|#39);)/);
  return seen;
}

describe("the report of a real excerpt", () => {
  let report: ReplayReport;
  let html: string;
  const NASTY = `/opt/<script>alert("x")</script>&'lib'.so`;
  beforeAll(async () => {
    report = await replayTrace({ trace: join(DIR, "lua_make_j2.head.perf.txt.gz"), policies: ["linux-5.17", "seed", "linux-6.18"] });
    // a file name can hold anything: put markup in one, in the trace's name and a reason
    report.trace = `trace<&>"'.perf.txt.gz`;
    report.policies.seed.vmas.peakProcess!.vmas[0].name = NASTY;
    report.policies.seed.vmas.peakProcess!.exe = NASTY;
    report.unparsedLines = [`7: bad: <b>&amp;</b>`];
    html = replayHtml(report);
  });

  it("is well-formed: every element closed in order, text escaped", () => {
    expect(html.startsWith("<!DOCTYPE html>\n<html")).toBe(true);
    const tags = checkBalanced(html);
    expect(tags.filter((t) => t === "table").length).toBe(1);
    // line chart + bar chart, and one picture per policy, a picture that another policy left too drawn once
    const pictures = Object.values(report.policies).map((p) => p.vmas.peakProcess!);
    const distinct = new Set(pictures.map((pp) => JSON.stringify([pp.pid, pp.line, pp.vmas]))).size;
    expect(distinct).toBe(2); // linux-5.17 and linux-6.18 agree here; seed's has the renamed file
    expect(tags.filter((t) => t === "svg").length).toBe(2 + distinct);
    expect(tags.filter((t) => t === "details").length).toBe(distinct);
    expect(html).toMatch(/linux-6\.18: pid \d+ \([^)]*\), \d+ VMAs, \d+ anon_vmas, at line \d+, [\d.]+ ms: the same picture as linux-5\.17\./);
  });

  it("is self-contained: no scripts, no external references", () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/\b(src|href|xlink:href)=/i);
    expect(html).not.toMatch(/(https?|ftp|file):|\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
    expect(html).not.toMatch(/\bon[a-z]+=/i); // no event handlers either
  });

  it("escapes every string from the trace", () => {
    expect(html).not.toContain("<script>");
    expect(html).not.toContain(NASTY);
    expect(html).toContain(escapeXml(NASTY));
    expect(html).toContain("trace&lt;&amp;&gt;&quot;&#39;.perf.txt.gz");
    expect(html).toContain("7: bad: &lt;b&gt;&amp;amp;&lt;/b&gt;");
  });

  it("has the table's figures, the charts' data and no NaN", () => {
    expect(html).toMatch(/<tr><td>merge attempts<\/td><td class="n">331<\/td><td class="n">331<\/td><td class="n">331<\/td><\/tr>/);
    expect(html).toMatch(/<tr><td>side-band agreed<\/td>(<td class="n">331\/331<\/td>){3}<\/tr>/);
    expect(html).toContain("engine time / linux-5.17");
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
    // the VMA line of each policy, and a bar per policy for each failure reason
    expect(html.match(/<path d="M[^"]*" fill="none" stroke="#[0-9a-f]{6}" stroke-width=/g)!.length).toBe(3);
    const reasons = Object.keys(report.policies.seed.merge.byReason).length;
    expect(html.match(/<rect x="\d+" y="\d+" width="[\d.]+" height="9" fill="#/g)!.length).toBe(3 * reasons);
  });

  it("draws every VMA of the busiest process, with its range in a tooltip", () => {
    const pp = report.policies["linux-6.18"].vmas.peakProcess!;
    const svg = addressMapSvg(pp.vmas);
    expect(svg.match(/<rect [^>]*stroke-width="0.6"><title>/g)!.length).toBe(pp.vmas.length);
    for (const v of pp.vmas) expect(svg).toContain(`<title>${v.start}-${v.end} ${v.perms} `);
  });

  it("is the same page for the same report", () => {
    expect(replayHtml(report)).toBe(html);
  });
});

describe("address map", () => {
  const vma = (start: number, end: number, anonVma = 0, name = "") => ({
    start: "0x" + start.toString(16), end: "0x" + end.toString(16), perms: "rw-p", pgoff: 0, anonVma, name,
  });

  it("collapses large gaps into breaks, keeps small ones as spaces, adjacent VMAs touch", () => {
    const P = 4096;
    const items = axisItems([
      vma(0x555500000000, 0x555500000000 + 4 * P), vma(0x555500000000 + 4 * P, 0x555500000000 + 8 * P),
      vma(0x555500000000 + 9 * P, 0x555500000000 + 10 * P), // a guard page's gap
      vma(0x7ffff0000000, 0x7ffff0000000 + 33 * P), // terabytes away
    ]);
    expect(items.map((i) => (i.kind === "gap" ? (i.big ? "break" : "space") : "vma"))).toEqual(["vma", "vma", "space", "vma", "break", "vma"]);
    const gap = items[4];
    expect(gap.kind === "gap" && gap.bytes).toBe(0x7ffff0000000 - (0x555500000000 + 10 * P));
    expect(SMALL_GAP_PAGES).toBeGreaterThanOrEqual(1);
  });

  it("widths grow with the logarithm of the size, so a page and a gigabyte both show", () => {
    expect(barWidth(1)).toBe(4);
    expect(barWidth(2)).toBe(9);
    expect(barWidth(1 << 18)).toBeLessThanOrEqual(140);
    expect(barWidth(1 << 18)).toBeGreaterThan(barWidth(1 << 10));
  });

  it("wraps into rows, each labelled with its first address; anon_vmas coloured, names under their run", () => {
    const P = 4096;
    // libc's three segments, 64 pages each, then many one-page VMAs with a page between them
    const B = 0x7f0000000000;
    const libc = [0, 1, 2].map((i) => vma(B + i * 64 * P, B + (i + 1) * 64 * P, 0, "/usr/lib/libc.so.6"));
    const many = [...libc, ...Array.from({ length: 300 }, (_, i) => vma(B + (200 + i * 2) * P, B + (201 + i * 2) * P, i % 3))];
    const svg = addressMapSvg(many, 600);
    const rows = svg.match(/<text x="4" y="\d+">0x[0-9a-f]{12}<\/text>/g)!;
    expect(rows.length).toBeGreaterThan(1);
    expect(rows[0]).toContain("0x7f0000000000");
    // the anon_vmas in draw.ts's colours (hex since the pictures share draw.ts)
    expect(svg).toContain(`fill="${anonVmaFill(1)}"`);
    expect(svg).toContain(`fill="${anonVmaFill(2)}"`);
    expect(svg).toContain(">libc.so.6<");
  });
});

describe("charts", () => {
  it("ticks are round and cover the maximum", () => {
    expect(ticks(0)).toEqual([0]);
    expect(ticks(78)).toEqual([0, 20, 40, 60, 80]);
    expect(ticks(2500)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    expect(ticks(0.7).at(-1)).toBeGreaterThanOrEqual(0.7);
  });

  it("draw empty input without NaN", () => {
    expect(lineChart([{ name: "a", points: [] }], { xLabel: "x", yLabel: "y" })).not.toMatch(/NaN|Infinity/);
    const bars = barChart([], ["a", "b"]);
    expect(bars).toContain("no failed merges");
    expect(bars).not.toMatch(/NaN|Infinity/);
  });
});
