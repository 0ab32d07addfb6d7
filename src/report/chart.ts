// Charts of the HTML report as inline SVG text: a line chart (the VMA count
// over time, one line per policy) and grouped horizontal bars (merge failures
// by reason, one bar per policy). Plain strings, deterministic, no scripts:
// the same data give the same bytes.

import { SERIES_COLOURS, escapeXml as esc, num } from "./escape.js";

export interface LineSeries {
  name: string;
  /** points in x order */
  points: [number, number][];
}

/** Tick values for [0, max]: 4-8 steps of 1, 2 or 5 times a power of ten. */
export function ticks(max: number): number[] {
  if (!(max > 0)) return [0];
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  if (out[out.length - 1] < max) out.push(out[out.length - 1] + step);
  return out;
}

const fmtTick = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));

function legend(names: string[], x: number, y: number): string[] {
  const out: string[] = [];
  let at = x;
  names.forEach((n, i) => {
    out.push(`<rect x="${at}" y="${y - 9}" width="14" height="10" fill="${SERIES_COLOURS[i % SERIES_COLOURS.length]}"/>`);
    out.push(`<text x="${at + 18}" y="${y}">${esc(n)}</text>`);
    at += 18 + 7 * n.length + 18;
  });
  return out;
}

/**
 * Lines over a shared x axis. Where policies agree their lines coincide, so
 * each is drawn thinner than the one before: all stay visible on top of each
 * other.
 */
export function lineChart(series: readonly LineSeries[], opts: { xLabel: string; yLabel: string; width?: number; height?: number }): string {
  const width = opts.width ?? 900;
  const height = opts.height ?? 320;
  const left = 56, right = 16, top = 30, bottom = 44;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xt = ticks(Math.max(0, ...xs));
  const yt = ticks(Math.max(0, ...ys));
  const xMax = xt[xt.length - 1] || 1;
  const yMax = yt[yt.length - 1] || 1;
  const pw = width - left - right;
  const ph = height - top - bottom;
  const X = (x: number) => left + (x / xMax) * pw;
  const Y = (y: number) => top + ph - (y / yMax) * ph;
  const out: string[] = [
    `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  for (const v of yt) {
    out.push(`<line x1="${left}" y1="${num(Y(v))}" x2="${left + pw}" y2="${num(Y(v))}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${left - 6}" y="${num(Y(v) + 4)}" text-anchor="end">${fmtTick(v)}</text>`);
  }
  for (const v of xt) {
    out.push(`<line x1="${num(X(v))}" y1="${top + ph}" x2="${num(X(v))}" y2="${top + ph + 5}" stroke="#333333"/>`);
    out.push(`<text x="${num(X(v))}" y="${top + ph + 18}" text-anchor="middle">${fmtTick(v)}</text>`);
  }
  out.push(`<line x1="${left}" y1="${top + ph}" x2="${left + pw}" y2="${top + ph}" stroke="#333333"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + ph}" stroke="#333333"/>`);
  out.push(`<text x="${left + pw / 2}" y="${height - 8}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  out.push(`<text x="12" y="${top + ph / 2}" text-anchor="middle" transform="rotate(-90 12 ${top + ph / 2})">${esc(opts.yLabel)}</text>`);
  const n = series.length;
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const w = n > 1 ? 1.5 + (4.5 * (n - 1 - i)) / (n - 1) : 2;
    const d = s.points.map(([x, y], k) => `${k ? "L" : "M"}${num(X(x))} ${num(Y(y))}`).join(" ");
    out.push(`<path d="${d}" fill="none" stroke="${SERIES_COLOURS[i % SERIES_COLOURS.length]}" stroke-width="${num(w)}" stroke-linejoin="round"><title>${esc(s.name)}</title></path>`);
  });
  out.push(...legend(series.map((s) => s.name), left, 16));
  out.push("</svg>");
  return out.join("\n");
}

export interface BarGroup {
  label: string;
  /** one value per series, in the series' order */
  values: number[];
}

/** Grouped horizontal bars: a group per label, a bar per series, each with its value written after it. */
export function barChart(groups: readonly BarGroup[], seriesNames: readonly string[], opts: { width?: number } = {}): string {
  const width = opts.width ?? 900;
  const labelW = 12 + 7 * Math.max(8, ...groups.map((g) => g.label.length));
  const barH = 11;
  const groupH = seriesNames.length * barH + 12;
  const top = 28;
  const height = top + Math.max(1, groups.length) * groupH + 8;
  const max = Math.max(1, ...groups.flatMap((g) => g.values));
  const pw = width - labelW - 70;
  const out: string[] = [
    `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...legend([...seriesNames], labelW, 16),
  ];
  if (groups.length === 0) out.push(`<text x="${labelW}" y="${top + 14}">no failed merges</text>`);
  groups.forEach((g, gi) => {
    const y0 = top + gi * groupH;
    out.push(`<text x="${labelW - 8}" y="${y0 + (seriesNames.length * barH) / 2 + 4}" text-anchor="end">${esc(g.label)}</text>`);
    g.values.forEach((v, si) => {
      const y = y0 + si * barH;
      const w = (v / max) * pw;
      out.push(`<rect x="${labelW}" y="${y}" width="${num(w)}" height="${barH - 2}" fill="${SERIES_COLOURS[si % SERIES_COLOURS.length]}"><title>${esc(`${seriesNames[si]}: ${v}`)}</title></rect>`);
      out.push(`<text x="${num(labelW + w + 4)}" y="${y + barH - 3}" font-size="9">${v}</text>`);
    });
  });
  out.push("</svg>");
  return out.join("\n");
}
