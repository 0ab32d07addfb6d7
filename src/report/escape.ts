// Text from a trace (file names, comm names) goes into HTML and SVG escaped:
// a path may hold any byte the kernel allows, including < & " and '.

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** A coordinate: integers as they are, others with 1 decimal (stable output, small files). */
export function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

/** One colour per policy, in the report's column order (colour-blind-safe Tableau 10 hues). */
export const SERIES_COLOURS = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#9c755f", "#edc948"];
