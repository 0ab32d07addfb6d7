// The replay's HTML report (`vmasim report REPLAY.json -o report.html`,
// `vmasim replay TRACE --html FILE`): one self-contained page, inline CSS and
// inline SVG, no scripts and no external references, so it opens from disk
// anywhere. The table, the VMA count over time, the merge failures by reason,
// and the address space of the process with the most VMAs at its peak. Every
// string that came from the trace is escaped.

import type { ReplayReport } from "../replay/run.js";
import { tableRows } from "../replay/table.js";
import { addressMapSvg } from "./address_map.js";
import { anonVmaFill } from "./draw.js";
import { type LineSeries, barChart, lineChart } from "./chart.js";
import { escapeXml as esc } from "./escape.js";

const CSS = `
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1260px; }
h1 { font-size: 20px; margin-bottom: 4px; }
h2 { font-size: 16px; margin-top: 28px; border-bottom: 1px solid #ccc; padding-bottom: 3px; }
p.meta, p.note { color: #555; font-size: 13px; }
code { font-size: 12px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; }
th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.sub td:first-child { padding-left: 22px; color: #555; }
tr.timing td { color: #777; font-style: italic; }
details { margin: 8px 0; }
summary { cursor: pointer; font-size: 14px; }
.key { display: inline-block; width: 12px; height: 10px; border: 1px solid #333; margin: 0 4px 0 12px; }
ul.list { font-size: 12px; font-family: monospace; }
`;

function table(r: ReplayReport): string {
  const names = Object.keys(r.policies);
  const out = ["<table>", "<thead><tr><th></th>" + names.map((n) => `<th>${esc(n)}</th>`).join("") + "</tr></thead>", "<tbody>"];
  for (const row of tableRows(r)) {
    const cls = row.sub ? ' class="sub"' : row.timing ? ' class="timing"' : "";
    out.push(`<tr${cls}><td>${esc(row.label)}</td>` + row.cells.map((c) => `<td class="n">${esc(c)}</td>`).join("") + "</tr>");
  }
  out.push("</tbody>", "</table>");
  return out.join("\n");
}

/** The VMA count of each policy as steps: each bucket's peak held across the bucket. */
function countSeries(r: ReplayReport): LineSeries[] {
  return Object.entries(r.policies).map(([name, p]) => {
    const { bucketMs, peaks } = p.vmas.series;
    const points: [number, number][] = [];
    peaks.forEach((v, i) => points.push([i * bucketMs, v], [(i + 1) * bucketMs, v]));
    return { name, points };
  });
}

function failures(r: ReplayReport): string {
  const names = Object.keys(r.policies);
  const cols = Object.values(r.policies);
  const reasons = [...new Set(cols.flatMap((c) => Object.keys(c.merge.byReason)))].sort();
  const groups = reasons.map((k) => ({ label: k, values: cols.map((c) => c.merge.byReason[k] ?? 0) })).filter((g) => g.values.some((v) => v > 0));
  return barChart(groups, names);
}

function pictures(r: ReplayReport): string {
  const out: string[] = [];
  let first = true;
  // policies that left the same picture share it: drawn once (a page of 5 x 900 VMAs would be megabytes)
  const drawn = new Map<string, string>();
  for (const [name, p] of Object.entries(r.policies)) {
    const pp = p.vmas.peakProcess;
    if (pp === null) continue;
    const when = pp.timeMs === null ? `line ${pp.line}` : `line ${pp.line}, ${pp.timeMs} ms`;
    const avs = new Set(pp.vmas.map((v) => v.anonVma).filter((a) => a > 0)).size;
    const summary = `${name}: pid ${pp.pid}${pp.exe ? ` (${pp.exe})` : ""}, ${pp.mapCount} VMAs, ${avs} anon_vmas, at ${when}`;
    const key = JSON.stringify([pp.pid, pp.line, pp.vmas]);
    const same = drawn.get(key);
    if (same !== undefined) {
      out.push(`<p class="note">${esc(`${summary}: the same picture as ${same}.`)}</p>`);
      continue;
    }
    drawn.set(key, name);
    out.push(`<details${first ? " open" : ""}><summary>${esc(summary)}</summary>`);
    if (pp.omitted > 0) out.push(`<p class="note">${pp.omitted} VMAs above the first ${pp.vmas.length} are not drawn.</p>`);
    out.push(addressMapSvg(pp.vmas), "</details>");
    first = false;
  }
  if (out.length === 0) return `<p class="note">No process had a VMA.</p>`;
  return out.join("\n");
}

function lists(r: ReplayReport): string {
  const out: string[] = [];
  const unmodelled = Object.entries(r.unmodelled).map(([k, n]) => `${k} ${n}`).join(", ");
  out.push(`<p class="note">Not modelled: ${esc(unmodelled || "none")}. Unparsed lines: ${r.unparsed}.</p>`);
  if (r.unparsedLines.length) out.push('<ul class="list">' + r.unparsedLines.map((l) => `<li>${esc(l)}</li>`).join("") + "</ul>");
  const ref = r.policies["linux-6.18"];
  if (ref && ref.sidecar.disagreementsTotal > 0) {
    out.push(`<p class="note">Side-band disagreements under linux-6.18 (${ref.sidecar.disagreementsTotal}):</p>`);
    out.push('<ul class="list">' + ref.sidecar.disagreements.map((d) =>
      `<li>${esc(`side-band line ${d.line} pid ${d.pid} after ${d.cause}: record ${d.record}; engine ${d.engine}`)}</li>`).join("") + "</ul>");
  }
  return out.join("\n");
}

/** The whole page. */
export function replayHtml(r: ReplayReport): string {
  const names = Object.keys(r.policies);
  const bucket = names.length ? r.policies[names[0]].vmas.series.bucketMs : 0;
  const meta = [`${r.events} events, ${r.unparsed} unparsed`];
  if (r.sidecarFile) meta.push(`side-band ${r.sidecarFile}`);
  if (r.hostProfile) meta.push(`configured as ${r.hostProfile}`);
  const knobs = Object.entries(r.config).map(([k, v]) => `${k}=${v}`).join(" ");
  if (knobs) meta.push(`knobs: ${knobs}`);
  const seed = r.policies["seed"];
  const figure = seed
    ? `Under seed, ${seed.merge.enabledBySeries} merges succeed only because of the series and ${seed.merge.refusedShared} are still refused because the anon_vma or the pages are shared (the cover letter's figure, refused / (enabled + refused): its own is 0% on jemalloc, 2.7% on redis, 1.2% on a kernel compile).`
    : "The cover letter's figure needs the seed policy.";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>${esc(`vmasim replay: ${r.trace}`)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(`vmasim replay: ${r.trace}`)}</h1>
<p class="meta">${esc(meta.join("; "))}</p>
<h2>Merges and VMAs per policy</h2>
${table(r)}
<p class="note">${esc(figure)} Engine seconds are wall-clock time and noisy; their ratio to linux-5.17 is the emulated cost of each policy.</p>
<h2>VMA count over time</h2>
<p class="note">The sum of map_count over the live processes; each point is the highest count within a bucket of ${esc(String(bucket))} ms of trace time (at most 500 buckets; the peak is never lost).</p>
${lineChart(countSeries(r), { xLabel: "trace time (ms)", yLabel: "VMAs" })}
<h2>Failed merges by reason</h2>
${failures(r)}
<h2>The process with the most VMAs, at its peak</h2>
<p class="note">VMAs in address order, each as wide as the logarithm of its size; a zigzag is a gap of more than 16 pages, left out. Colour: the anon_vma<span class="key" style="background:${anonVmaFill(1, false)}"></span><span class="key" style="background:${anonVmaFill(2, false)}"></span>... (VMAs of one colour share an anon_vma); file without anon_vma<span class="key" style="background:${anonVmaFill(0, true)}"></span>; anonymous without<span class="key" style="background:${anonVmaFill(0, false)}"></span>. Hover a bar for its range, permissions, pgoff and name.</p>
${pictures(r)}
<h2>Events not applied</h2>
${lists(r)}
</body>
</html>
`;
}
