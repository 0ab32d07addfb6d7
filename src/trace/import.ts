// One entry point for the importers: detect a file's format, parse it, and
// interleave a perf trace with its side-band file by time.

import { type ParseOptions, type TraceEvent, TraceParseError } from "./events.js";
import { headLines, type LineDamage, type ReadCounter, readByteLineBatches, readLineBatches, readLines } from "./lines.js";
import { NATIVE_MAGIC, NativeParser } from "./native.js";
import { PerfParser } from "./perf.js";
import { SidecarParser } from "./sidecar.js";
import { parseStrace } from "./strace.js";

export type TraceFormat = "perf" | "strace" | "native" | "sidecar";

const PERF_LINE = /^\s*(\?|\d+\.\d+) \(\s*(?:\d+\.\d+ ms)?\s*\): /;
const STRACE_LINE = /^(?:\[pid\s+\d+\] |\d+\s+)?(?:\d\d:\d\d:\d\d(?:\.\d+)? |\d+\.\d+ )?[a-z_0-9]+\(/;

/** The format of a trace from its first lines, or null. */
export function detectFormat(head: string[]): TraceFormat | null {
  const lines = head.filter((l) => l.trim() !== "");
  if (lines.length === 0) return null;
  if (lines[0] === NATIVE_MAGIC) return "native";
  if (lines[0].startsWith("# side-band") || lines.some((l) => /\bPERF_RECORD_\w+/.test(l) && !PERF_LINE.test(l))) return "sidecar";
  const body = lines.filter((l) => !l.startsWith("#"));
  if (body.some((l) => PERF_LINE.test(l))) return "perf";
  if (body.some((l) => STRACE_LINE.test(l))) return "strace";
  return null;
}

/** The format of a file, or null; a file too damaged to tell is an error that says where. */
export async function detectFile(path: string): Promise<TraceFormat | null> {
  let damage: LineDamage | null = null;
  const format = detectFormat(await headLines(path, 20, (d) => (damage ??= d)));
  if (format === null && damage !== null) {
    const d: LineDamage = damage;
    throw new Error(`cannot tell the format of '${path}': line ${d.line}: ${d.reason}`);
  }
  return format;
}

/** Events per batch of a format parsed one event at a time (strace). */
const BATCH_EVENTS = 4096;

/**
 * The events of one file in a given format (`counter`: the file's bytes read
 * so far), in batches: a perf trace as its lines are read, as bytes (a batch
 * per chunk), a side-band file or a native trace as its lines are read (a
 * batch per chunk of text), strace BATCH_EVENTS at a time. Damage to
 * the file (a corrupt or truncated gzip stream, a last line without a line
 * end: lines.ts) comes after the events as `unparsed` records with its line,
 * or with `strict` as a TraceParseError.
 */
export async function* parseFileBatches(path: string, format: TraceFormat, opts: ParseOptions = {}, counter?: ReadCounter): AsyncGenerator<TraceEvent[]> {
  const damage: LineDamage[] = [];
  const onDamage = (d: LineDamage) => damage.push(d);
  if (format === "perf") {
    // bytes: the parser reads most lines without making a string of them
    const parser = new PerfParser(opts);
    for await (const { buf, bounds } of readByteLineBatches(path, onDamage, counter)) {
      const out: TraceEvent[] = [];
      try {
        for (let k = 0; k < bounds.length; k += 2) parser.bytes(buf, bounds[k], bounds[k + 1], out);
      } catch (e) {
        // --strict: the events before the bad line are out first, as they would be one by one
        if (out.length) yield out;
        throw e;
      }
      if (out.length) yield out;
    }
    const out: TraceEvent[] = [];
    try {
      parser.end(out);
    } catch (e) {
      if (out.length) yield out;
      throw e;
    }
    if (out.length) yield out;
  } else if (format !== "strace") {
    const parser = format === "native" ? new NativeParser(opts) : new SidecarParser(opts);
    for await (const lines of readLineBatches(path, onDamage, counter)) {
      const out: TraceEvent[] = [];
      try {
        for (const text of lines) parser.line(text, out);
      } catch (e) {
        // --strict: the events before the bad line are out first, as they would be one by one
        if (out.length) yield out;
        throw e;
      }
      if (out.length) yield out;
    }
  } else {
    const lines = readLines(path, onDamage, counter);
    let out: TraceEvent[] = [];
    try {
      for await (const e of parseStrace(lines, opts)) {
        out.push(e);
        if (out.length >= BATCH_EVENTS) {
          yield out;
          out = [];
        }
      }
    } catch (e) {
      if (out.length) yield out;
      throw e;
    }
    if (out.length) yield out;
  }
  const out: TraceEvent[] = [];
  for (const d of damage) {
    if (opts.strict) throw new TraceParseError(d.line, d.text, d.reason);
    out.push({ kind: "unparsed", line: d.line, text: d.text, reason: d.reason });
  }
  if (out.length) yield out;
}

/** The events of one file in a given format, one at a time (parseFileBatches() flattened). */
export async function* parseFile(path: string, format: TraceFormat, opts: ParseOptions = {}, counter?: ReadCounter): AsyncGenerator<TraceEvent> {
  for await (const batch of parseFileBatches(path, format, opts, counter)) yield* batch;
}

/** perf trace times have µs resolution: a printed time may be up to this many ns early. */
const PERF_TIME_SLACK = 999;

/** When an event takes effect: a call at its return (entry + duration), anything else at its time. */
function effectTime(e: TraceEvent): number | null {
  if (e.kind === "unparsed" || e.time === null) return null;
  return "duration" in e && e.duration !== null ? e.time + e.duration : e.time;
}

/**
 * Interleaves the main events with side-band events by effect time (a
 * side-band record goes before a main event of the same time: the kernel
 * emits PERF_RECORD_MMAP2 during the call). perf trace prints µs, cut from
 * the ns of the side-band's clock, so a main event's true time may be up to
 * 999 ns after its printed one: a side-band record goes before the first
 * main event whose microsecond reaches it (without this, 5 of the 200
 * MMAP2 records of python_glibc_nozp would follow their mmap by 112-209 ns).
 * Events without a time keep their place after the previous one. Side-band `unparsed` reasons are
 * prefixed with "side-band: " since their line numbers are the side-band file's.
 * Batches in, batches out (a batch of the main events with the side-band
 * events that go between them).
 */
export async function* mergeSidecarBatches(main: AsyncIterable<TraceEvent[]>, side: AsyncIterable<TraceEvent[]>): AsyncGenerator<TraceEvent[]> {
  const si = side[Symbol.asyncIterator]();
  let sb: TraceEvent[] = [];
  let sj = 0;
  let sideDone = false;
  /** Whether a side-band event is left (the next batch is read when this one is used up). */
  const more = async (): Promise<boolean> => {
    while (sj >= sb.length && !sideDone) {
      const r = await si.next();
      if (r.done) sideDone = true;
      else {
        sb = r.value;
        sj = 0;
      }
    }
    return sj < sb.length;
  };
  let lastSide = -Infinity;
  const tag = (e: TraceEvent): TraceEvent => (e.kind === "unparsed" ? { ...e, reason: `side-band: ${e.reason}` } : e);
  let clock = -Infinity;
  try {
    for await (const batch of main) {
      const out: TraceEvent[] = [];
      for (const e of batch) {
        const t = effectTime(e);
        if (t !== null) clock = Math.max(clock, t + PERF_TIME_SLACK);
        while (sj < sb.length || (!sideDone && await more())) {
          const s = sb[sj];
          const key = effectTime(s) ?? lastSide;
          if (key > clock) break;
          lastSide = key;
          out.push(tag(s));
          sj++;
        }
        out.push(e);
      }
      if (out.length) yield out;
    }
    const out: TraceEvent[] = [];
    while (await more()) out.push(tag(sb[sj++]));
    if (out.length) yield out;
  } finally {
    // a consumer that stops early: the side-band file is closed too
    if (!sideDone) await si.return?.();
  }
}

/** mergeSidecar() of single events (mergeSidecarBatches() flattened). */
export async function* mergeSidecar(main: AsyncIterable<TraceEvent>, side: AsyncIterable<TraceEvent>): AsyncGenerator<TraceEvent> {
  async function* one(xs: AsyncIterable<TraceEvent>): AsyncGenerator<TraceEvent[]> {
    for await (const x of xs) yield [x];
  }
  for await (const batch of mergeSidecarBatches(one(main), one(side))) yield* batch;
}
