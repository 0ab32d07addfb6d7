// An address-space diagram as SVG: one row per address space (a scenario under
// a policy), its VMAs as bars on a page axis, each labelled with its
// permissions and vm_pgoff and coloured by its anon_vma. Plain text in, plain
// text out (no DOM), deterministic: the same rows give the same bytes, so the
// docs picture, the HTML report and a web page can all use it.

import { vmaPerms } from "../maps.js";
import type { ProcessSim } from "../types.js";

/** One VMA on the page axis; start, end and pgoff in pages. */
export interface DiagramVma {
  start: number;
  end: number;
  /** `rw-p` ... */
  perms: string;
  pgoff: number;
  /** anon_vma identity, 0 for none: VMAs that share one share a colour */
  anonVma: number;
}

export interface DiagramRow {
  label: string;
  vmas: DiagramVma[];
}

const PAGE = 4096;

/**
 * The VMAs of a scenario's process inside its arena, in arena pages; the
 * pgoff of an anonymous VMA is made arena-relative too, as `dump` prints it.
 */
export function arenaVmas(process: ProcessSim, arenaBase: number, arenaPages: number): DiagramVma[] {
  const lo = arenaBase;
  const hi = arenaBase + arenaPages * PAGE;
  return process.vmas().filter((v) => v.start >= lo && v.end <= hi).map((v) => ({
    start: (v.start - lo) / PAGE,
    end: (v.end - lo) / PAGE,
    perms: vmaPerms(v.flags),
    pgoff: v.file ? v.pgoff : v.pgoff - lo / PAGE,
    anonVma: v.anonVma,
  }));
}

/** Fill colours for anon_vmas in order of first appearance; grey for none. */
const COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"];
const NONE = "#d0d0d0";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** The SVG document of `rows`, with an optional title. */
export function addressSpaceSvg(rows: readonly DiagramRow[], title = ""): string {
  const pages = Math.max(1, ...rows.flatMap((r) => r.vmas.map((v) => v.end)));
  const labelW = 8 + 7 * Math.max(0, ...rows.map((r) => r.label.length));
  const unit = Math.max(24, Math.min(80, Math.floor(640 / pages)));
  const top = title ? 40 : 16;
  const rowH = 64;
  const width = Math.max(labelW + pages * unit + 24, title ? 16 + Math.ceil(title.length * 8.5) : 0);
  const axisY = top + rows.length * rowH + 6;
  const height = axisY + 44;
  // the anon_vmas, numbered av1, av2 ... in order of first appearance in the figure
  const avs = new Map<number, number>();
  for (const r of rows) for (const v of r.vmas) if (v.anonVma && !avs.has(v.anonVma)) avs.set(v.anonVma, avs.size + 1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (title) out.push(`<text x="8" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`);
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<text x="8" y="${y + 26}">${esc(r.label)}</text>`);
    for (const v of r.vmas) {
      const x = labelW + v.start * unit;
      const w = (v.end - v.start) * unit;
      const av = avs.get(v.anonVma);
      const fill = av ? COLOURS[(av - 1) % COLOURS.length] : NONE;
      out.push(`<rect x="${n(x)}" y="${y + 6}" width="${n(w)}" height="32" fill="${fill}" stroke="#333333"/>`);
      out.push(`<text x="${n(x + 4)}" y="${y + 26}">${esc(v.perms)}</text>`);
      out.push(`<text x="${n(x + 4)}" y="${y + 52}" font-size="10">pgoff ${n(v.pgoff)} ${av ? `av${av}` : "no anon_vma"}</text>`);
    }
  });
  // the page axis: a tick per page when there is room, else every 10 pages
  const step = unit >= 20 ? 1 : 10;
  out.push(`<line x1="${labelW}" y1="${axisY}" x2="${labelW + pages * unit}" y2="${axisY}" stroke="#333333"/>`);
  for (let p = 0; p <= pages; p += step) {
    const x = labelW + p * unit;
    out.push(`<line x1="${x}" y1="${axisY}" x2="${x}" y2="${axisY + 5}" stroke="#333333"/>`);
    out.push(`<text x="${x}" y="${axisY + 18}" text-anchor="middle" font-size="10">${p}</text>`);
  }
  out.push(`<text x="${labelW}" y="${axisY + 36}" font-size="10">arena pages; colour: anon_vma (grey: none)</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}
