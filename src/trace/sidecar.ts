// Importer of the perf side-band file (`perf script --show-mmap-events
// --show-task-events`): PERF_RECORD_MMAP2 / FORK / EXIT / COMM. Each record
// carries PID/TID, so the thread group needs no inference here.

import type { EventBase, LineSource, ParseOptions, TraceEvent, UnparsedRecord } from "./events.js";
import { TraceParseError } from "./events.js";
import { pushParse } from "./push_parse.js";
import { decimalToInt } from "./perf.js";
import { PROT_EXEC, PROT_READ, PROT_WRITE } from "../abi/constants.js";

// "  COMM  TID [CPU]  SEC.NS: PERF_RECORD_NAME REST" (COMM may contain spaces)
const HEAD = /^\s*(.*?)\s+(\d+)\s+\[(-?\d+)\]\s+(\d+\.\d+): PERF_RECORD_(\w+)(.*)$/s;
// " PID/TID: [0xSTART(0xLEN) @ PGOFF MAJ:MIN INO GEN]: rwxp NAME"
const MMAP2 = /^ (\d+)\/(\d+): \[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ (0x[0-9a-f]+|\d+) ([0-9a-f]+):([0-9a-f]+) (\d+) (\d+)\]: ([r-])([w-])([x-])([ps]) (.*)$/s;
const TASK = /^\((\d+):(\d+)\):\((\d+):(\d+)\)$/;
const COMM = /^( exec)?: (.*):(\d+)\/(\d+)$/s;

/** A side-band parser fed one line at a time: `line()` appends the line's event (if any) to `out`. */
export class SidecarParser {
  private lineNo = 0;

  constructor(private readonly opts: ParseOptions = {}) {}

  private unparsed(text: string, reason: string): UnparsedRecord {
    if (this.opts.strict) throw new TraceParseError(this.lineNo, text, reason);
    return { kind: "unparsed", line: this.lineNo, text, reason };
  }

  line(text: string, out: TraceEvent[]): void {
    const lineNo = ++this.lineNo;
    if (text.trim() === "" || text.startsWith("#")) return;
    const m = HEAD.exec(text);
    if (m === null) {
      out.push(this.unparsed(text, "not a side-band record"));
      return;
    }
    const [, comm, headTid, , secs, rec, rest] = m;
    const time = decimalToInt(secs, 9);
    const base = (pid: number, tid: number): EventBase => ({ line: lineNo, time, pid, tid, comm });
    if (rec === "MMAP2") {
      const r = MMAP2.exec(rest);
      if (r === null) {
        out.push(this.unparsed(text, "bad PERF_RECORD_MMAP2"));
        return;
      }
      const pgoff = r[5].startsWith("0x") ? parseInt(r[5].slice(2), 16) : Number(r[5]);
      out.push({
        ...base(Number(r[1]), Number(r[2])), kind: "perf_mmap2", addr: parseInt(r[3], 16), len: parseInt(r[4], 16), pgoff,
        maj: parseInt(r[6], 16), min: parseInt(r[7], 16), ino: Number(r[8]), inoGeneration: Number(r[9]),
        prot: (r[10] === "r" ? PROT_READ : 0) | (r[11] === "w" ? PROT_WRITE : 0) | (r[12] === "x" ? PROT_EXEC : 0),
        shared: r[13] === "s", filename: r[14],
      });
    } else if (rec === "FORK" || rec === "EXIT") {
      const r = TASK.exec(rest);
      if (r === null) {
        out.push(this.unparsed(text, `bad PERF_RECORD_${rec}`));
        return;
      }
      out.push({ ...base(Number(r[1]), Number(r[2])), kind: rec === "FORK" ? "perf_fork" : "perf_exit", ppid: Number(r[3]), ptid: Number(r[4]) });
    } else if (rec === "COMM") {
      const r = COMM.exec(rest);
      if (r === null) {
        out.push(this.unparsed(text, "bad PERF_RECORD_COMM"));
        return;
      }
      out.push({ ...base(Number(r[3]), Number(r[4])), comm: r[2], kind: "perf_comm", exec: r[1] !== undefined });
    } else {
      const tid = Number(headTid);
      out.push({
        ...base(tid, tid), kind: "unmodelled", name: `PERF_RECORD_${rec}`, args: rest.trim(),
        entryLine: null, duration: null, ret: null, errno: null, unfinished: false,
      });
    }
  }
}

/** Parses a side-band file into perf_mmap2 / perf_fork / perf_exit / perf_comm events. */
export function parseSidecar(lines: LineSource, opts: ParseOptions = {}): AsyncGenerator<TraceEvent> {
  return pushParse(new SidecarParser(opts), lines);
}
