// What an import saw: events by kind, faults by access, unmodelled events by
// name, unparsed lines (the first few kept), processes and threads.

import { EVENT_KINDS, type TraceEvent, type UnparsedRecord, faultAccess, faultPresent } from "./events.js";

/** A fault's row in the summary ("user write present"); the rows are few, so they are made once. */
const FAULT_KEYS = new Map<number, string>();
function faultKey(user: boolean, errorCode: number): string {
  const cached = errorCode >= 0 && errorCode < 1 << 20 && Number.isInteger(errorCode);
  const k = errorCode * 2 + (user ? 1 : 0);
  let key = cached ? FAULT_KEYS.get(k) : undefined;
  if (key === undefined) {
    key = `${user ? "user" : "kernel"} ${faultAccess(errorCode)}${faultPresent(errorCode) ? " present" : ""}`;
    if (cached) FAULT_KEYS.set(k, key);
  }
  return key;
}

export class TraceSummary {
  private readonly kindCounts = new Map<string, number>();
  readonly unmodelled = new Map<string, number>();
  private readonly faultCounts = new Map<string, number>();
  // page faults (nearly every event) are counted here and moved into the maps when read
  private pendingFaults = 0;
  private readonly pendingByKey = new Map<string, number>();
  private lastKey = "";
  private lastKeyCount = 0;
  private lastPid = NaN;
  private lastTid = NaN;
  readonly firstUnparsed: UnparsedRecord[] = [];
  unparsed = 0;
  /** mmaps of an fd no traced call opened. */
  unknownFd = 0;
  readonly pids = new Set<number>();
  readonly tids = new Set<number>();

  constructor(private readonly keep = 5) {}

  /** Events by kind. */
  get kinds(): Map<string, number> {
    this.settle();
    return this.kindCounts;
  }

  /** Page faults by access ("user write present"). */
  get faults(): Map<string, number> {
    this.settle();
    return this.faultCounts;
  }

  add(e: TraceEvent): void {
    if (e.kind === "page_fault") {
      // the common case without a map update per event
      this.pendingFaults++;
      if (e.pid !== this.lastPid) this.pids.add((this.lastPid = e.pid));
      if (e.tid !== this.lastTid) this.tids.add((this.lastTid = e.tid));
      const key = faultKey(e.user, e.errorCode);
      if (key !== this.lastKey) {
        if (this.lastKeyCount) this.pendingByKey.set(this.lastKey, (this.pendingByKey.get(this.lastKey) ?? 0) + this.lastKeyCount);
        this.lastKey = key;
        this.lastKeyCount = 0;
      }
      this.lastKeyCount++;
      return;
    }
    this.kindCounts.set(e.kind, (this.kindCounts.get(e.kind) ?? 0) + 1);
    if (e.kind === "unparsed") {
      this.unparsed++;
      if (this.firstUnparsed.length < this.keep) this.firstUnparsed.push(e);
      return;
    }
    if (e.kind !== "lost") {
      this.pids.add((this.lastPid = e.pid));
      this.tids.add((this.lastTid = e.tid));
    }
    if (e.kind === "unmodelled") this.unmodelled.set(e.name, (this.unmodelled.get(e.name) ?? 0) + 1);
    if (e.kind === "mmap" && e.fd >= 0 && (e.flags & 0x20) === 0 && e.open === null && e.path === null) this.unknownFd++;
  }

  /** Moves the pending fault counts into the maps. */
  private settle(): void {
    if (this.lastKeyCount) {
      this.pendingByKey.set(this.lastKey, (this.pendingByKey.get(this.lastKey) ?? 0) + this.lastKeyCount);
      this.lastKeyCount = 0;
      this.lastKey = "";
    }
    if (this.pendingFaults === 0) return;
    this.kindCounts.set("page_fault", (this.kindCounts.get("page_fault") ?? 0) + this.pendingFaults);
    this.pendingFaults = 0;
    for (const [k, v] of this.pendingByKey) this.faultCounts.set(k, (this.faultCounts.get(k) ?? 0) + v);
    this.pendingByKey.clear();
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
