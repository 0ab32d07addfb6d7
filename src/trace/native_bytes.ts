// The native format as bytes, for `vmasim import`: page faults (nearly every
// event of a real trace) are written digit by digit into a large buffer, with
// no string per event; every other event, and a fault whose line is not the
// plain form (a comm to announce, a number that is not a safe integer), is
// NativeWriter's text (native.ts), so the output is NativeWriter's byte for
// byte (test/trace/import-fast.test.ts checks it).

import type { PageFaultEvent, TraceEvent } from "./events.js";
import { NativeWriter } from "./native.js";

/** Where the bytes go: a chunk of whole lines at a time; may wait (backpressure). */
export type ChunkSink = (chunk: Buffer) => void | Promise<void>;

/** Buffer size: large writes, few of them. */
const CHUNK = 1 << 20;
/** The longest plain fault line: 10 + 5 numbers of at most 17 characters + keys. */
const FAULT_ROOM = 160;

const PAGE_FAULT = Buffer.from("page_fault ");
const ADDRESS = Buffer.from(" address=0x");
const IP = Buffer.from(" ip=");
const ERROR_CODE = Buffer.from(" error_code=");
const USER = Buffer.from(" user=1");

export class NativeByteWriter {
  private readonly text: NativeWriter;
  /** What NativeWriter knows: the comm last written per task (its rule, kept alongside). */
  private readonly comms = new Map<number, string | null>();
  private started = false;
  // the last task plain() looked up, and its comm in `comms`
  private lastTid = NaN;
  private lastComm: string | null = null;
  private buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;

  constructor(comment: string[], private readonly sink: ChunkSink) {
    this.text = new NativeWriter(comment);
  }

  /** Appends one event; resolves when the sink took what was full (or at once). */
  write(e: TraceEvent): void | Promise<void> {
    if (this.started && e.kind === "page_fault" && this.plain(e)) {
      if (this.pos + FAULT_ROOM > this.buf.length) {
        const w = this.flush();
        this.fault(e);
        return w;
      }
      this.fault(e);
      return;
    }
    this.started = true;
    if (e.kind !== "unparsed") {
      const prev = this.comms.has(e.tid) ? this.comms.get(e.tid) : null;
      if (e.comm !== prev) {
        this.comms.set(e.tid, e.comm);
        this.lastTid = NaN;
      }
    }
    return this.string(this.text.write(e));
  }

  /** Writes out what is buffered. */
  flush(): void | Promise<void> {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
    return this.sink(chunk);
  }

  /** A fault NativeWriter would write with no comm and numbers as plain digits. */
  private plain(e: PageFaultEvent): boolean {
    if (e.tid !== this.lastTid) {
      this.lastTid = e.tid;
      this.lastComm = this.comms.has(e.tid) ? this.comms.get(e.tid)! : null;
    }
    return e.comm === this.lastComm && safe(e.line) && (e.time === null || safe(e.time)) && safe(e.pid) && safe(e.tid)
      && safe(e.address) && e.address >= 0 && safe(e.ip) && safe(e.errorCode);
  }

  /** `page_fault LINE TIME PID[/TID] address=0x.. ip=.. error_code=.. user=1` (fields equal to 0 or false left out). */
  private fault(e: PageFaultEvent): void {
    const b = this.buf;
    let p = this.pos;
    p = put(b, p, PAGE_FAULT);
    p = dec(b, p, e.line);
    b[p++] = 0x20;
    if (e.time === null) b[p++] = 0x2d;
    else p = dec(b, p, e.time);
    b[p++] = 0x20;
    if (e.pid !== e.tid) {
      p = dec(b, p, e.pid);
      b[p++] = 0x2f;
    }
    p = dec(b, p, e.tid);
    if (e.address !== 0) {
      p = put(b, p, ADDRESS);
      p = hex(b, p, e.address);
    }
    if (e.ip !== 0) {
      p = put(b, p, IP);
      p = dec(b, p, e.ip);
    }
    if (e.errorCode !== 0) {
      p = put(b, p, ERROR_CODE);
      p = dec(b, p, e.errorCode);
    }
    if (e.user) p = put(b, p, USER);
    b[p++] = 0x0a;
    this.pos = p;
  }

  /** NativeWriter's text, into the buffer (or on its own when it is larger). */
  private string(s: string): void | Promise<void> {
    if (s.length === 0) return;
    const room = this.buf.length - this.pos;
    // a UTF-8 byte count is at most 3 per UTF-16 unit
    if (s.length * 3 <= room || Buffer.byteLength(s) <= room) {
      this.pos += this.buf.write(s, this.pos);
      return;
    }
    const w = this.flush();
    const bytes = Buffer.from(s, "utf8");
    if (bytes.length <= this.buf.length) {
      this.pos = bytes.copy(this.buf, 0);
      return w;
    }
    if (w === undefined) return this.sink(bytes);
    return w.then(() => this.sink(bytes));
  }
}

/** Number.isSafeInteger(), cheaper here. */
function safe(n: number): boolean {
  return n <= Number.MAX_SAFE_INTEGER && n >= -Number.MAX_SAFE_INTEGER && Math.floor(n) === n;
}

/** Copies a short constant (a loop beats Buffer.copy's native call at this size). */
function put(b: Buffer, p: number, word: Buffer): number {
  for (let i = 0; i < word.length; i++) b[p + i] = word[i];
  return p + word.length;
}

/** A safe integer in decimal (String(n)); returns the position after it. */
function dec(b: Buffer, p: number, n: number): number {
  if (n < 0) {
    b[p++] = 0x2d;
    n = -n;
  }
  if (n < 1e8) return small(b, p, n);
  // two halves of 8 digits or less: integer arithmetic on each
  const hi = Math.floor(n / 1e8);
  p = dec(b, p, hi);
  let lo = n - hi * 1e8;
  for (let i = p + 6; i >= p; i -= 2) {
    const q = (lo / 100) | 0;
    const r = (lo - q * 100) << 1;
    b[i] = PAIRS[r];
    b[i + 1] = PAIRS[r + 1];
    lo = q;
  }
  return p + 8;
}

/** "00" to "99": two digits per division. */
const PAIRS = Buffer.from(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0")).join(""));

/** 0 <= n < 10^8 in decimal. */
function small(b: Buffer, p: number, n: number): number {
  const len = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : 8;
  let i = p + len;
  while (n >= 100) {
    const q = (n / 100) | 0;
    const r = (n - q * 100) << 1;
    b[--i] = PAIRS[r + 1];
    b[--i] = PAIRS[r];
    n = q;
  }
  if (n >= 10) {
    b[--i] = PAIRS[(n << 1) + 1];
    b[--i] = PAIRS[n << 1];
  } else {
    b[--i] = 0x30 + n;
  }
  return p + len;
}

const HEX = Buffer.from("0123456789abcdef");

/** A non-negative safe integer in lower-case hex (n.toString(16)). */
function hex(b: Buffer, p: number, n: number): number {
  // 24 bits at a time: bit operations stay within 32
  const hi = Math.floor(n / 0x1000000);
  let lo = n - hi * 0x1000000;
  if (hi === 0) return hexSmall(b, p, lo);
  p = hex(b, p, hi);
  for (let i = p + 5; i >= p; i--) {
    b[i] = HEX[lo & 15];
    lo >>>= 4;
  }
  return p + 6;
}

/** 0 <= n < 2^24 in hex. */
function hexSmall(b: Buffer, p: number, n: number): number {
  let len = 1;
  for (let t = n >>> 4; t !== 0; t >>>= 4) len++;
  for (let i = p + len - 1; i >= p; i--) {
    b[i] = HEX[n & 15];
    n >>>= 4;
  }
  return p + len;
}
