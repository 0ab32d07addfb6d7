// An address-space diagram as SVG: one row per address space (a scenario under
// a policy), its VMAs as bars on a page axis, each labelled with its
// permissions and vm_pgoff and coloured by its anon_vma. Plain text in, plain
// text out (no DOM), deterministic: the same rows give the same bytes, so the
// docs picture, the HTML report and a web page can all use it.
//
// With DiagramOptions (the playground, src/web/) the picture also marks the
// resident pages of each row (DiagramRow.pages), names anon_vma roots shared
// by several anon_vmas, outlines what differs between the rows, and gives
// every bar data- attributes (its extent in arena pages) for tests and tools.
// Without options the bytes are those of the plain diagram.
//
// The bars and their colours are draw.ts's, the same as the replay report's
// address map (address_map.ts); only the axis differs.

import { vmaPerms } from "../maps.js";
import type { KernelMemorySnapshot, ProcessSim } from "../types.js";
import { anonVmaFill, anonVmaName, escapeXml as esc, num as n, vmaBar, vmaTooltip } from "./draw.js";

/** One VMA on the page axis; start, end and pgoff in pages. */
export interface DiagramVma {
  start: number;
  end: number;
  /** `rw-p` ... */
  perms: string;
  pgoff: number;
  /** anon_vma identity, 0 for none: VMAs that share one share a colour */
  anonVma: number;
  /** the root of its anon_vma's tree (anon_vma->root), when known: a fork's anon_vmas share their parent's */
  anonVmaRoot?: number;
  /** a file's VMA (set only then): without an anon_vma it is a darker grey than anonymous memory's */
  file?: boolean;
}

/** A resident page of the arena: what its present PTE maps. */
export interface DiagramPage {
  /** arena page number */
  page: number;
  /** an anonymous page, a page of a file (page cache), or the shared zero page */
  kind: "anon" | "file" | "zero";
  /** mapped by more than one PTE (after fork: copy-on-write shared until written) */
  shared: boolean;
  /**
   * page->mapping changed since the page was faulted in: the seed policies'
   * re-pointing (seed-v2 reconnect_pages()), or, from 6.1 on, a write fault
   * reusing an exclusive page (folio_move_anon_rmap() in do_wp_page(), mm/memory.c)
   */
  repointed: boolean;
  /** page->index changed since the page was faulted in (seed-v2 update_faulted_pgoff(), seed's re-index, relocate-anon's moves) */
  reindexed: boolean;
}

export interface DiagramRow {
  label: string;
  vmas: DiagramVma[];
  /** the resident pages, drawn only by the annotated diagram (DiagramOptions) */
  pages?: DiagramPage[];
}

/** The annotated diagram's choices. */
export interface DiagramOptions {
  /** outline the VMAs and pages that are not the same in every row (default true) */
  differences?: boolean;
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
    anonVmaRoot: v.anonVmaRoot,
    ...(v.file ? { file: true } : {}),
  }));
}

/**
 * The resident pages of the arena: each present PTE of `process` in it, with
 * its struct page from `memory` (the kernel's). `rewritten` says which page
 * identities the policy re-pointed or re-indexed (PageHistory tracks them).
 */
export function arenaPages(
  process: ProcessSim, memory: KernelMemorySnapshot, arenaBase: number, arenaPages: number,
  rewritten: ReadonlyMap<number, { repointed: boolean; reindexed: boolean }> = new Map(),
): DiagramPage[] {
  const byId = new Map(memory.pages.map((p) => [p.id, p]));
  const hi = arenaBase + arenaPages * PAGE;
  const out: DiagramPage[] = [];
  for (const pte of process.memory().ptes) {
    if (pte.addr < arenaBase || pte.addr >= hi) continue;
    const page = (pte.addr - arenaBase) / PAGE;
    const p = byId.get(pte.page);
    const r = rewritten.get(pte.page);
    out.push({
      page,
      kind: pte.page === 0 || !p ? "zero" : p.anon ? "anon" : "file",
      shared: p ? p.mapcount > 1 : false,
      repointed: r?.repointed ?? false,
      reindexed: r?.reindexed ?? false,
    });
  }
  return out;
}

/**
 * Which pages were rewritten: fed the kernel's pages after every step, it
 * remembers each page's first page->mapping and page->index and reports the
 * pages whose mapping or index changed since. Under linux-5.17 neither
 * changes once set (its do_wp_page() reuses a page without moving it; 5.19
 * brought page_move_anon_rmap() back to that path); the seed policies and
 * relocate-anon rewrite pages when VMAs merge or move.
 */
export class PageHistory {
  private first = new Map<number, { mapping: number; index: number }>();
  private changed = new Map<number, { repointed: boolean; reindexed: boolean }>();

  update(memory: KernelMemorySnapshot): ReadonlyMap<number, { repointed: boolean; reindexed: boolean }> {
    const live = new Set<number>();
    for (const p of memory.pages) {
      live.add(p.id);
      const f = this.first.get(p.id);
      if (!f) {
        this.first.set(p.id, { mapping: p.mapping, index: p.index });
        continue;
      }
      const c = this.changed.get(p.id) ?? { repointed: false, reindexed: false };
      const next = { repointed: c.repointed || p.mapping !== f.mapping, reindexed: c.reindexed || p.index !== f.index };
      if (next.repointed || next.reindexed) this.changed.set(p.id, next);
    }
    // a freed page's identity is never reused, but forget it to stay small
    for (const id of [...this.first.keys()]) if (!live.has(id)) {
      this.first.delete(id);
      this.changed.delete(id);
    }
    return new Map(this.changed);
  }
}

/** The SVG document of `rows`, with an optional title; `options` gives the annotated diagram. */
export function addressSpaceSvg(rows: readonly DiagramRow[], title = "", options?: DiagramOptions): string {
  if (options) return annotatedSvg(rows, title, options);
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
      const av = avs.get(v.anonVma) ?? 0;
      const label = `pgoff ${n(v.pgoff)} ${anonVmaName(av)}`;
      out.push(...vmaBar({ x, y: y + 6, w, h: 32, perms: v.perms, fill: anonVmaFill(av, v.file), tooltip: vmaTooltip(`[${v.start}, ${v.end})`, v.perms, n(v.pgoff), anonVmaName(av)) }));
      out.push(`<text x="${n(x + 3)}" y="${y + 52}" font-size="10">${esc(label)}</text>`);
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

const vmaKey = (v: DiagramVma) => `${v.start}:${v.end}:${v.perms}:${v.pgoff}`;
const pageKey = (p: DiagramPage) => `${p.page}:${p.kind}:${p.shared}:${p.repointed}:${p.reindexed}`;
/** The page marker's letters: a(non), f(ile), z(ero); c when COW-shared; p re-pointed, i re-indexed. */
const pageLetters = (p: DiagramPage) =>
  (p.kind === "anon" ? "a" : p.kind === "file" ? "f" : "z") + (p.shared ? "c" : "") + (p.repointed ? "p" : "") + (p.reindexed ? "i" : "");
const DIFF = "#d00000";

/** A run of arena pages drawn to scale; the gaps between segments are drawn as a fixed-width break. */
interface Segment {
  from: number;
  to: number;
  x: number;
}

const GAP_W = 28;

/**
 * The page axis: the pages any row has a VMA or resident page on, gaps of
 * more than two pages collapsed to a break, so that VMAs hundreds of pages
 * apart still fit (a script's arena is 1 GiB).
 */
function axisSegments(rows: readonly DiagramRow[], x0: number, unit: (pages: number) => number): { segs: Segment[]; unit: number; end: number } {
  const spans = rows.flatMap((r) => [...r.vmas.map((v) => [v.start, v.end]), ...(r.pages ?? []).map((p) => [p.page, p.page + 1])]);
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const runs: [number, number][] = [];
  for (const [a, b] of spans) {
    const last = runs[runs.length - 1];
    if (last && a <= last[1] + 2) last[1] = Math.max(last[1], b);
    else runs.push([a, b]);
  }
  if (runs.length === 0) runs.push([0, 1]);
  // page 0 is drawn when the first run starts near it
  if (runs[0][0] <= 2) runs[0][0] = 0;
  const u = unit(runs.reduce((t, [a, b]) => t + b - a, 0));
  const segs: Segment[] = [];
  let x = x0 + (runs[0][0] > 0 ? GAP_W : 0);
  for (const [a, b] of runs) {
    segs.push({ from: a, to: b, x });
    x += (b - a) * u + GAP_W;
  }
  return { segs, unit: u, end: x - GAP_W };
}

/**
 * The annotated diagram: the plain one's bars, plus a marker per resident
 * page, the anon_vma root when it is not the anon_vma itself, red dashed
 * outlines on what not every row has, data- attributes on each bar, and a
 * page axis with the long empty stretches cut out.
 */
function annotatedSvg(rows: readonly DiagramRow[], title: string, options: DiagramOptions): string {
  const labelW = 16 + Math.ceil(7.5 * Math.max(0, ...rows.map((r) => r.label.length)));
  const { segs, unit, end } = axisSegments(rows, labelW, (pages) => Math.max(14, Math.min(80, Math.floor(760 / pages))));
  /** the x of the left edge of arena page p (p inside or at the end of a segment) */
  const xOf = (p: number) => {
    const s = segs.find((g) => p >= g.from && p <= g.to) ?? segs[segs.length - 1];
    return s.x + (p - s.from) * unit;
  };
  const top = title ? 40 : 16;
  const rowH = 78;
  const differs = options.differences !== false && rows.length > 1;
  const legend = [
    "arena pages (\u2248: pages left out); colour: anon_vma (grey: none); pages: a anon, f file, z zero page,",
    `c COW-shared, p re-pointed (page->mapping changed), i re-indexed (page->index changed)${differs ? ";" : ""}`,
    ...(differs ? ["red dashes: not the same under every policy"] : []),
  ];
  // monospace at font-size 10 is 6 px a character
  const width = Math.max(end + 24, title ? 16 + Math.ceil(title.length * 8.5) : 0, 16 + 6 * Math.max(...legend.map((l) => l.length)));
  const axisY = top + rows.length * rowH + 6;
  const height = axisY + 30 + 14 * legend.length;
  const avs = new Map<number, number>();
  const number = (id: number) => {
    if (id && !avs.has(id)) avs.set(id, avs.size + 1);
    return avs.get(id) ?? 0;
  };
  for (const r of rows) for (const v of r.vmas) number(v.anonVma);
  // what differs: a VMA or page that not every row has exactly so
  const count = (keys: string[][]) => {
    const m = new Map<string, number>();
    for (const ks of keys) for (const k of new Set(ks)) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const vmaCount = count(rows.map((r) => r.vmas.map(vmaKey)));
  const pageCount = count(rows.map((r) => (r.pages ?? []).map(pageKey)));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="12" class="vmasim-diagram">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (title) out.push(`<text x="8" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`);
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<g class="row" data-label="${esc(r.label)}">`);
    out.push(`<text x="8" y="${y + 30}">${esc(r.label)}</text>`);
    for (const v of r.vmas) {
      const x = xOf(v.start);
      const w = xOf(v.end) - x;
      const av = avs.get(v.anonVma) ?? 0;
      const odd = differs && vmaCount.get(vmaKey(v)) !== rows.length;
      const stroke = odd ? `stroke="${DIFF}" stroke-width="3" stroke-dasharray="6 3"` : undefined;
      // labels only where they fit; the bar's title (a tooltip) always has them
      const avName = anonVmaName(av, v.anonVmaRoot ? number(v.anonVmaRoot) : 0);
      const label = `pgoff ${n(v.pgoff)} ${avName}`;
      out.push(...vmaBar({
        attrs: `class="vma" data-start="${v.start}" data-end="${v.end}" data-perms="${esc(v.perms)}" data-pgoff="${v.pgoff}" data-anon-vma="${av}"${odd ? ` data-differs="1"` : ""}`,
        x, y: y + 6, w, h: 40, perms: v.perms, fill: anonVmaFill(av, v.file), stroke,
        tooltip: vmaTooltip(`[${v.start}, ${v.end})`, v.perms, n(v.pgoff), avName),
      }));
      const short = av ? `av${av}` : "";
      const shown = w >= 6 * label.length + 4 ? label : w >= 6 * short.length + 4 ? short : "";
      if (shown) out.push(`<text x="${n(x + 3)}" y="${y + 60}" font-size="10">${esc(shown)}</text>`);
    }
    for (const p of r.pages ?? []) {
      const x = xOf(p.page) + 2;
      const odd = differs && pageCount.get(pageKey(p)) !== rows.length;
      const letters = pageLetters(p);
      const w = Math.max(4, Math.min(unit - 4, 6 + 7 * letters.length));
      out.push(
        `<rect class="page" data-page="${p.page}" data-kind="${p.kind}" data-mark="${letters}"${odd ? ` data-differs="1"` : ""} x="${n(x)}" y="${y + 26}" width="${n(w)}" height="16" rx="3"` +
        ` fill="#ffffff" stroke="${odd ? DIFF : "#333333"}"${odd ? ` stroke-width="2"` : ""}/>`,
      );
      if (w >= 6 + 7 * letters.length) out.push(`<text x="${n(x + 3)}" y="${y + 38}" font-size="11">${letters}</text>`);
    }
    out.push("</g>");
  });
  // the axis: a line per segment, a tick per page when there is room (else at the ends), a break between segments
  const every = unit >= 24 ? 1 : unit >= 12 ? 5 : 10;
  for (const [k, g] of segs.entries()) {
    const x1 = xOf(g.from);
    const x2 = g.x + (g.to - g.from) * unit;
    out.push(`<line x1="${n(x1)}" y1="${axisY}" x2="${n(x2)}" y2="${axisY}" stroke="#333333"/>`);
    for (let p = g.from; p <= g.to; p++) {
      if (p !== g.from && p !== g.to && p % every !== 0) continue;
      const x = g.x + (p - g.from) * unit;
      out.push(`<line x1="${n(x)}" y1="${axisY}" x2="${n(x)}" y2="${axisY + 5}" stroke="#333333"/>`);
      out.push(`<text x="${n(x)}" y="${axisY + 18}" text-anchor="middle" font-size="10">${p}</text>`);
    }
    if (k > 0 || g.from > 0) out.push(`<text x="${n(g.x - GAP_W / 2)}" y="${axisY + 4}" text-anchor="middle" font-size="12">\u2248</text>`);
  }
  legend.forEach((l, i) => out.push(`<text x="8" y="${axisY + 36 + 14 * i}" font-size="10">${esc(l)}</text>`));
  out.push("</svg>");
  return out.join("\n") + "\n";
}
