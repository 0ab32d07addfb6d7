// The address-space picture of the HTML report: one process's VMAs as bars
// along the address axis, coloured by anon_vma. A real address space runs
// from 0x55... (the binary, the heap) to 0x7fff... (the stack) with a few
// hundred VMAs in it, mostly a few pages each, and terabytes of nothing in
// between; drawn to scale, nothing would be visible. So the axis is
// compressed: each VMA's width grows with the logarithm of its size, a gap of
// at most SMALL_GAP_PAGES is a thin space, and a larger gap is drawn as a
// break (a zigzag, its size in its tooltip). The strip wraps into rows, each
// starting with its address. Every bar has a tooltip (<title>): range, perms,
// pgoff, anon_vma, name. The bars and their colours are draw.ts's, the same
// as the playground's picture (svg.ts).

import type { PictureVma } from "../replay/peak_process.js";
import { anonVmaFill, anonVmaName, escapeXml as esc, num, vmaBar, vmaTooltip } from "./draw.js";

const PAGE = 4096;
/** Gaps up to this many pages (guard pages, alignment holes) are a thin space; larger ones a break. */
export const SMALL_GAP_PAGES = 16;
const ROW_H = 44;
/** px per character of the 9 px monospace name labels */
const CHAR_W = 5.5;
const BAR_H = 22;
const BREAK_W = 14;
const SPACE_W = 3;

/** A bar's width in px for a VMA of `pages` pages: 4 px for one page, +5 px each time the size doubles. */
export function barWidth(pages: number): number {
  return Math.min(140, 4 + 5 * Math.log2(Math.max(1, pages)));
}

function size(bytes: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (bytes >= 1024 && i < u.length - 1) {
    bytes /= 1024;
    i++;
  }
  return `${Number.isInteger(bytes) ? bytes : bytes.toFixed(1)} ${u[i]}`;
}

type Item = { kind: "vma"; v: PictureVma; start: number; end: number; w: number } | { kind: "gap"; bytes: number; w: number; big: boolean };

/** The items along the axis: VMAs, and the gaps between them. */
export function axisItems(vmas: readonly PictureVma[]): Item[] {
  const out: Item[] = [];
  let prevEnd: number | null = null;
  for (const v of vmas) {
    const start = Number(v.start);
    const end = Number(v.end);
    if (prevEnd !== null && start > prevEnd) {
      const big = start - prevEnd > SMALL_GAP_PAGES * PAGE;
      out.push({ kind: "gap", bytes: start - prevEnd, w: big ? BREAK_W : SPACE_W, big });
    }
    out.push({ kind: "vma", v, start, end, w: barWidth((end - start) / PAGE) });
    prevEnd = end;
  }
  return out;
}

/** The short name of a VMA under its bar: a file's base name, [heap], [anon:NAME] ...; "" for plain anonymous memory. */
function shortName(name: string): string {
  return name.startsWith("[") ? name : name.slice(name.lastIndexOf("/") + 1);
}

/** Runs of neighbouring VMAs in a row with one name (a library's segments), each labelled once. */
function nameRuns(items: [Item, number][]): { name: string; x: number; w: number }[] {
  const runs: { name: string; x: number; w: number }[] = [];
  let cur: { name: string; x: number; w: number } | null = null;
  for (const [it, x] of items) {
    const name = it.kind === "vma" ? shortName(it.v.name) : null;
    if (name !== null && cur !== null && name === cur.name && it.kind === "vma") {
      cur.w = x + it.w - cur.x;
      continue;
    }
    if (it.kind === "gap" && !it.big && cur !== null) continue; // a guard page does not end a run
    cur = name ? { name, x, w: it.w } : null;
    if (cur) runs.push(cur);
  }
  return runs;
}

/** The SVG of one address space, `width` px wide, its rows wrapped at that width. */
export function addressMapSvg(vmas: readonly PictureVma[], width = 1200): string {
  const labelW = 118;
  const pw = width - labelW - 8;
  // flow the items into rows
  const rows: { addr: number; items: [Item, number][] }[] = [];
  let x = pw + 1;
  for (const it of axisItems(vmas)) {
    if (x + it.w > pw) {
      if (it.kind === "gap") continue; // a row never starts with a gap: the row's address says where it is
      rows.push({ addr: it.start, items: [] });
      x = 0;
    }
    rows[rows.length - 1].items.push([it, x]);
    x += it.w;
  }
  const top = 8;
  const height = top + Math.max(1, rows.length) * ROW_H + 8;
  const out: string[] = [
    `<svg class="map" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="10" role="img">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (rows.length === 0) out.push(`<text x="8" y="${top + 16}">no VMAs</text>`);
  rows.forEach((r, ri) => {
    const y = top + ri * ROW_H;
    out.push(`<text x="4" y="${y + 15}">0x${r.addr.toString(16).padStart(12, "0")}</text>`);
    for (const [it, at] of r.items) {
      const x0 = labelW + at;
      if (it.kind === "gap") {
        if (!it.big) continue;
        // a break: two zigzags across the axis line
        const m = y + BAR_H / 2;
        out.push(`<g stroke="#777777" fill="none"><title>${esc(`gap of ${size(it.bytes)}`)}</title>`
          + `<rect x="${num(x0)}" y="${y}" width="${it.w}" height="${BAR_H}" stroke="none" fill="#ffffff"/>`
          + `<path d="M${num(x0 + 2)} ${m - 8} l4 4 l-4 4 l4 4 l-4 4 M${num(x0 + 8)} ${m - 8} l4 4 l-4 4 l4 4 l-4 4"/></g>`);
        continue;
      }
      const v = it.v;
      const file = v.name !== "" && !v.name.startsWith("[");
      const tip = vmaTooltip(`${v.start}-${v.end}`, v.perms, `0x${v.pgoff.toString(16)}`, anonVmaName(v.anonVma), size(it.end - it.start), v.name);
      out.push(...vmaBar({ x: x0, y, w: it.w, h: BAR_H, perms: v.perms, fill: anonVmaFill(v.anonVma, file), tooltip: tip }));
    }
    for (const run of nameRuns(r.items)) {
      const room = Math.floor(run.w / CHAR_W);
      if (room < 3) continue;
      const label = run.name.length <= room ? run.name : run.name.slice(0, room - 1) + "…";
      out.push(`<text x="${num(labelW + run.x)}" y="${y + BAR_H + 11}" font-size="9" fill="#444444">${esc(label)}</text>`);
    }
  });
  out.push("</svg>");
  return out.join("\n");
}
