// What every address-space picture draws the same way: the colour of an
// anon_vma and the bar of a VMA (its rect, its permissions inside, its
// tooltip). The playground's and the docs' picture (svg.ts, arena pages on a
// linear axis) and the replay report's (address_map.ts, a compressed address
// axis) lay their bars out differently, but draw each one here, so a VMA looks
// the same in both. Plain strings, no DOM and no node: imports: the browser
// bundle uses it too.

import { escapeXml, num } from "./escape.js";

export { escapeXml, num };

/** The fill of a VMA without an anon_vma: a file's, and plain anonymous memory's (not faulted yet). */
export const NO_ANON_VMA_FILE = "#c4c4c4";
export const NO_ANON_VMA_ANON = "#ececec";

/** #rrggbb of a colour given as hue (degrees), saturation and lightness (0..1). */
function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * c).toString(16).padStart(2, "0");
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/**
 * The fill of anon_vma number `av` (1, 2 ... in order of first appearance in
 * the picture; 0 for none). The hues step by the golden angle, so any two
 * neighbouring numbers differ and no fixed palette runs out: the report shows
 * ~35 anon_vmas, where an 8-colour palette would repeat every eighth; odd and
 * even numbers also differ in lightness. Hex, so every SVG tool reads it.
 */
export function anonVmaFill(av: number, file = false): string {
  if (av === 0) return file ? NO_ANON_VMA_FILE : NO_ANON_VMA_ANON;
  return hslHex(Math.round((av * 137.508) % 360), 0.62, av % 2 ? 0.56 : 0.68);
}

/** How a picture names anon_vma number `av`, with its root (anon_vma->root) when that is another one. */
export function anonVmaName(av: number, root = 0): string {
  if (av === 0) return "no anon_vma";
  return root && root !== av ? `av${av} root av${root}` : `av${av}`;
}

/** A VMA's tooltip: its range, perms, pgoff, anon_vma and whatever else the picture knows (size, name). */
export function vmaTooltip(range: string, perms: string, pgoff: string, anonVma: string, ...more: string[]): string {
  return [range, perms, `pgoff ${pgoff}`, anonVma, ...more.filter((m) => m !== "")].join(" ");
}

/** Where and how to draw one VMA's bar. */
export interface VmaBar {
  x: number;
  y: number;
  w: number;
  h: number;
  perms: string;
  fill: string;
  tooltip: string;
  /** the stroke attributes (default a thin dark outline) */
  stroke?: string;
  /** extra attributes on the rect (class, data-...), already escaped */
  attrs?: string;
}

/** Bars narrower than this have their perms only in the tooltip. */
export const PERMS_MIN_W = 34;

/** The SVG of a VMA's bar: the rect with its tooltip (<title>), and its perms inside when they fit. */
export function vmaBar(b: VmaBar): string[] {
  const stroke = b.stroke ?? `stroke="#333333" stroke-width="0.6"`;
  const out = [
    `<rect${b.attrs ? " " + b.attrs : ""} x="${num(b.x)}" y="${num(b.y)}" width="${num(b.w)}" height="${num(b.h)}" fill="${b.fill}" ${stroke}>`
    + `<title>${escapeXml(b.tooltip)}</title></rect>`,
  ];
  if (b.w >= PERMS_MIN_W) out.push(`<text x="${num(b.x + 3)}" y="${num(b.y + 14)}" pointer-events="none">${escapeXml(b.perms)}</text>`);
  return out;
}
