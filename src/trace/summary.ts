// What an import saw: events by kind, faults by access, unmodelled events by
// name, unparsed lines (the first few kept), processes and threads.

import { EVENT_KINDS, type TraceEvent, type UnparsedRecord, faultAccess, faultPresent } from "./events.js";

export class TraceSummary {
  readonly kinds = new Map<string, number>();
  readonly unmodelled = new Map<string, number>();
  readonly faults = new Map<string, number>();
  readonly firstUnparsed: UnparsedRecord[] = [];
  unparsed = 0;
  /** mmaps of an fd no traced call opened. */
  unknownFd = 0;
  readonly pids = new Set<number>();
  readonly tids = new Set<number>();

  constructor(private readonly keep = 5) {}

  add(e: TraceEvent): void {
    this.kinds.set(e.kind, (this.kinds.get(e.kind) ?? 0) + 1);
    if (e.kind === "unparsed") {
      this.unparsed++;
      if (this.firstUnparsed.length < this.keep) this.firstUnparsed.push(e);
      return;
    }
    if (e.kind !== "lost") {
      this.pids.add(e.pid);
      this.tids.add(e.tid);
    }
    if (e.kind === "unmodelled") this.unmodelled.set(e.name, (this.unmodelled.get(e.name) ?? 0) + 1);
    if (e.kind === "page_fault") {
      const key = `${e.user ? "user" : "kernel"} ${faultAccess(e.errorCode)}${faultPresent(e.errorCode) ? " present" : ""}`;
      this.faults.set(key, (this.faults.get(key) ?? 0) + 1);
    }
    if (e.kind === "mmap" && e.fd >= 0 && (e.flags & 0x20) === 0 && e.open === null && e.path === null) this.unknownFd++;
  }

  count(kind: string): number {
    return this.kinds.get(kind) ?? 0;
  }

  /** The summary as text (deterministic: kinds in EVENT_KINDS order, names sorted). */
  format(): string {
    const total = [...this.kinds.values()].reduce((a, b) => a + b, 0);
    let s = `events: ${total}\n`;
    for (const k of EVENT_KINDS) if (this.kinds.has(k)) s += `  ${k.padEnd(20)} ${this.kinds.get(k)}\n`;
    if (this.faults.size) {
      s += "page faults by access:\n";
      for (const [k, v] of [...this.faults].sort((a, b) => a[0].localeCompare(b[0]))) s += `  ${k.padEnd(20)} ${v}\n`;
    }
    if (this.unmodelled.size) {
      s += "unmodelled by name:\n";
      for (const [k, v] of [...this.unmodelled].sort((a, b) => a[0].localeCompare(b[0]))) s += `  ${k.padEnd(20)} ${v}\n`;
    }
    if (this.unknownFd) s += `mmaps of an fd no traced call opened: ${this.unknownFd}\n`;
    s += `unparsed lines: ${this.unparsed}\n`;
    for (const u of this.firstUnparsed) s += `  line ${u.line}: ${u.reason}: ${u.text.length > 120 ? u.text.slice(0, 120) + "..." : u.text}\n`;
    s += `processes: ${this.pids.size}, threads: ${this.tids.size}\n`;
    return s;
  }
}
