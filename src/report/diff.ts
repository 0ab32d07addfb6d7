// A small unified diff (the `diff -u` format) of two texts, line by line:
// Myers' O(ND) shortest edit script, then hunks with `context` lines around
// each change, headers and hunk ranges as GNU diff prints them.

const NO_NEWLINE = "\n\\ No newline at end of file";

/**
 * Splits a text into lines. A last line without its newline carries the
 * `\ No newline at end of file` marker, so that it differs from the same line
 * with a newline and prints as diff prints it.
 */
function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  else lines[lines.length - 1] += NO_NEWLINE;
  return lines;
}

type Edit = { kind: " " | "-" | "+"; a: number; b: number };

/**
 * The shortest edit script turning `a` into `b` (Myers 1986), as a list of
 * kept (" "), deleted ("-") and inserted ("+") lines with their indices.
 */
function editScript(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let done = false;
  for (let d = 0; d <= max && !done; d++) {
    // keep the diagonals the walk back reads at this step: k in [-d-1, d+1]
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        done = true;
        break;
      }
    }
  }
  // walk the trace back from (n, m)
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d];
    const at = (k: number): number => vd[k + d + 1];
    const k = x - y;
    let prevK: number;
    if (d === 0) prevK = 0;
    else prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      edits.push({ kind: " ", a: x, b: y });
    }
    if (d > 0) {
      if (x === prevX) edits.push({ kind: "+", a: x, b: prevY });
      else edits.push({ kind: "-", a: prevX, b: y });
    }
    x = prevX;
    y = prevY;
  }
  return edits.reverse();
}

/** `l,s` of a hunk header, as GNU diff prints it. */
function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}

export interface DiffOptions {
  /** Lines of context around each change (default 3). */
  context?: number;
}

/**
 * The unified diff of `a` (labelled `labelA`) and `b` (`labelB`), or "" when
 * the texts are equal. Every line of the result ends in a newline.
 */
export function unifiedDiff(labelA: string, a: string, labelB: string, b: string, opts: DiffOptions = {}): string {
  if (a === b) return "";
  const context = opts.context ?? 3;
  const A = splitLines(a);
  const B = splitLines(b);
  const edits = editScript(A, B);
  const out: string[] = [`--- ${labelA}`, `+++ ${labelB}`];
  const changed = (e: Edit): boolean => e.kind !== " ";
  let i = 0;
  while (i < edits.length) {
    if (!changed(edits[i])) {
      i++;
      continue;
    }
    // a hunk: from `context` lines before this change to `context` lines after the
    // last change that is at most 2*context kept lines away from the next one
    const first = Math.max(0, i - context);
    let end = i;
    let j = i;
    while (j < edits.length) {
      if (changed(edits[j])) {
        end = j;
        j++;
        continue;
      }
      let k = j;
      while (k < edits.length && !changed(edits[k])) k++;
      if (k < edits.length && k - j <= 2 * context) {
        j = k;
        continue;
      }
      break;
    }
    const last = Math.min(edits.length - 1, end + context);
    const hunk = edits.slice(first, last + 1);
    const aStart = hunk[0].a;
    const bStart = hunk[0].b;
    let aCount = 0;
    let bCount = 0;
    for (const e of hunk) {
      if (e.kind !== "+") aCount++;
      if (e.kind !== "-") bCount++;
    }
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const e of hunk) out.push(e.kind + (e.kind === "+" ? B[e.b] : A[e.a]));
    i = last + 1;
  }
  return out.join("\n") + "\n";
}
