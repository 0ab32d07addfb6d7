// The fast path of the perf trace importer: a page-fault line read straight
// from its bytes, with no string and no regular expression. Nearly every line
// of a real trace is one (glibc_malloc_8threads: 371,792 of 376,822), e.g.
//   1073108.212 (         ): env/3529 exceptions:page_fault_user(address: 0x7f9192610b70, ip: 140263202818928, error_code: 20)
// It accepts only a strict subset of what PerfParser.line() reads as a fault,
// the subset on which both give the same event: ASCII, spaces only, a comm
// without '/', numbers short enough to be exact in a double whichever way
// they are read. Any other line goes to PerfParser.line() as text (its error
// messages and `unparsed` records stay as they are).

/** The fields of one fault line (filled in place: no object per line). */
export class FaultFields {
  time: number | null = null;
  commStart = 0;
  commEnd = 0;
  tid = 0;
  address = 0;
  ip = 0;
  errorCode = 0;
  user = false;
}

const SPACE = 0x20;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

// decimal digits a double holds exactly whichever way they are summed (< 2^53)
const MAX_DEC = 15;
// hex digits of an exact double (13 * 4 = 52 bits)
const MAX_HEX = 13;
// integer digits of a perf time in s or ms, times 10^6, still below 2^53
const MAX_SECONDS = 9;

const USER = Buffer.from("exceptions:page_fault_user(");
const KERNEL = Buffer.from("exceptions:page_fault_kernel(");
const ADDRESS = Buffer.from("address: 0x");
const IP = Buffer.from("ip: ");
const ERROR_CODE = Buffer.from("error_code: ");
const MS = Buffer.from(" ms");

/** Whether `word` is at buf[pos..] (before `end`). */
function at(buf: Buffer, pos: number, end: number, word: Buffer): boolean {
  const n = word.length;
  if (pos + n > end) return false;
  for (let i = 0; i < n; i++) if (buf[pos + i] !== word[i]) return false;
  return true;
}

/**
 * Reads one line buf[start, end) as a page fault into `f`; false when the
 * line is anything else or outside the subset (then nothing in `f` counts).
 */
export function scanFault(buf: Buffer, start: number, end: number, f: FaultFields): boolean {
  let p = start;
  while (p < end && buf[p] === SPACE) p++;
  // the time: "?" or SECONDS.FRACTION, in µs (decimalToInt(s, 6))
  let c = buf[p];
  if (c === 0x3f) {
    f.time = null;
    p++;
  } else {
    const t = decimal6(buf, p, end);
    if (t < 0) return false;
    f.time = scratchValue;
    p = t;
  }
  if (p + 2 > end || buf[p] !== SPACE || buf[p + 1] !== 0x28) return false;
  p += 2;
  while (p < end && buf[p] === SPACE) p++;
  c = buf[p];
  if (c >= ZERO && c <= NINE) {
    // a duration: not kept for a fault, but it must be well formed
    const t = decimal6(buf, p, end);
    if (t < 0 || !at(buf, t, end, MS)) return false;
    p = t + MS.length;
    while (p < end && buf[p] === SPACE) p++;
  }
  if (p + 3 > end || buf[p] !== 0x29 || buf[p + 1] !== 0x3a || buf[p + 2] !== SPACE) return false;
  p += 3;
  // COMM/TID: printable ASCII without '/', then the only '/'
  f.commStart = p;
  for (; p < end; p++) {
    c = buf[p];
    if (c === 0x2f) break;
    if (c < SPACE || c > 0x7e) return false;
  }
  f.commEnd = p;
  p++;
  let tid = 0;
  const tidStart = p;
  for (; p < end && (c = buf[p]) >= ZERO && c <= NINE; p++) tid = tid * 10 + (c - ZERO);
  if (p === tidStart || p - tidStart > MAX_DEC || p >= end || buf[p] !== SPACE) return false;
  f.tid = tid;
  p++;
  if (at(buf, p, end, USER)) {
    f.user = true;
    p += USER.length;
  } else if (at(buf, p, end, KERNEL)) {
    f.user = false;
    p += KERNEL.length;
  } else {
    return false;
  }
  // perf leaves out the fields that are 0; each one is followed by ", " or the ')'
  f.address = 0;
  f.ip = 0;
  f.errorCode = 0;
  if (at(buf, p, end, ADDRESS)) {
    p += ADDRESS.length;
    let n = 0;
    const s = p;
    for (; p < end; p++) {
      c = buf[p];
      if (c >= ZERO && c <= NINE) n = n * 16 + (c - ZERO);
      else if (c >= 0x61 && c <= 0x66) n = n * 16 + (c - 0x57);
      else break;
    }
    if (p === s || p - s > MAX_HEX) return false;
    f.address = n;
    p = separator(buf, p, end);
    if (p < 0) return false;
  }
  if (at(buf, p, end, IP)) {
    p += IP.length;
    const neg = buf[p] === 0x2d;
    if (neg) p++;
    const s = p;
    let n = 0;
    for (; p < end && (c = buf[p]) >= ZERO && c <= NINE; p++) n = n * 10 + (c - ZERO);
    if (p === s || p - s > MAX_DEC) return false;
    f.ip = neg ? -n : n;
    p = separator(buf, p, end);
    if (p < 0) return false;
  }
  if (at(buf, p, end, ERROR_CODE)) {
    p += ERROR_CODE.length;
    const s = p;
    let n = 0;
    for (; p < end && (c = buf[p]) >= ZERO && c <= NINE; p++) n = n * 10 + (c - ZERO);
    if (p === s || p - s > MAX_DEC) return false;
    f.errorCode = n;
  }
  return p + 1 === end && buf[p] === 0x29;
}

/** After a field: ", " (skipped) or a ')' (left for the caller); -1 otherwise. */
function separator(buf: Buffer, p: number, end: number): number {
  if (p + 2 <= end && buf[p] === 0x2c && buf[p + 1] === SPACE) return p + 2;
  return p < end && buf[p] === 0x29 ? p : -1;
}

/** decimal6()'s value (a second result without an object). */
let scratchValue = 0;

/**
 * "SECONDS.FRACTION" at buf[p..] as an integer count of 10^-6 units, the
 * fraction cut (not rounded) to 6 digits as decimalToInt() does, into
 * scratchValue; returns the position after it, or -1.
 */
function decimal6(buf: Buffer, p: number, end: number): number {
  let int = 0;
  const s = p;
  let c = 0;
  for (; p < end && (c = buf[p]) >= ZERO && c <= NINE; p++) int = int * 10 + (c - ZERO);
  if (p === s || p - s > MAX_SECONDS || p >= end || buf[p] !== DOT) return -1;
  p++;
  const fs = p;
  let frac = 0;
  for (; p < end && (c = buf[p]) >= ZERO && c <= NINE; p++) if (p - fs < 6) frac = frac * 10 + (c - ZERO);
  const digits = p - fs;
  if (digits === 0) return -1;
  for (let k = digits; k < 6; k++) frac *= 10;
  scratchValue = int * 1e6 + frac;
  return p;
}
