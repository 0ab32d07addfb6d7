// Capturing a real workload's memory-management trace with perf, in the
// format of the project's fixture traces (see docs/recording.md):
//
//   NAME.perf.txt.gz   `perf trace` text of the whole process tree: the memory
//                      syscalls with arguments and results, user page faults
//                      and kernel-mode faults on user addresses (with
//                      error_code), task:task_newtask, sched:sched_process_exec,
//                      sched:sched_process_exit; -T absolute times, --sort-events
//   NAME.mmap2.txt.gz  the side-band of the same run: an outer `perf record`
//                      of a dummy event with -d keeps the kernel's
//                      PERF_RECORD_MMAP2/FORK/EXIT/COMM records (perf_event_mmap()
//                      reports every VMA made by exec, mmap, mprotect and brk as it
//                      stands after merging); `perf script` prints them and only
//                      the workload's process tree is kept
//   NAME.strace.gz     (optional) `strace -f -tt -y` of a second, separate run
//
// perf itself exits 0 whatever the workload did, so the workload's exit status
// is read back from the trace: the exit_group() (or the last exit()) of the
// root's thread group.

import { spawn } from "node:child_process";
import { accessSync, constants, createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, basename } from "node:path";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { createGzip } from "node:zlib";

/** Every syscall that changes an address space, creates or ends a task, or makes an fd a file mmap can use. */
export const TRACED_SYSCALLS = [
  "mmap", "munmap", "mremap", "mprotect", "pkey_mprotect", "brk", "madvise", "process_madvise",
  "mlock", "mlock2", "munlock", "mlockall", "munlockall", "mbind", "prctl",
  "clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group",
  "open", "openat", "close", "close_range", "dup", "dup2", "dup3", "memfd_create", "shmat", "shmdt",
] as const;

/** The tracepoints beside the syscalls. */
export const TRACEPOINTS = [
  "exceptions:page_fault_user", "exceptions:page_fault_kernel", "task:task_newtask",
  "sched:sched_process_exec", "sched:sched_process_exit",
] as const;

/** Ring buffer pages per CPU for perf trace: a page-fault storm must not lose events. */
const TRACE_MMAP_PAGES = 8192;

/** What the strace run traces (strace's syscall classes). */
const STRACE_FILTER = "%memory,%process,prctl";

/**
 * perf prepends its own exec path to PATH; the workload is started through
 * env with the caller's PATH, so its PATH search is the one it would make
 * untraced (the fixture traces start the same way).
 */
export const ENV_PROGRAM = "/usr/bin/env";

/** The output files of a recording named `name` (a path prefix). */
export function outputFiles(name: string) {
  return {
    perf: `${name}.perf.txt.gz`,
    mmap2: `${name}.mmap2.txt.gz`,
    host: `${name}.host.json`,
    strace: `${name}.strace.gz`,
  };
}

/** An error of the recording that is the user's to fix; the message says how. */
export class RecordError extends Error {}

/** The machine a recording runs on (tests stand in for it). */
export interface RecordHost {
  /** PATH: where perf, strace and the command are looked up */
  path: string;
  /** root, or CAP_SYS_ADMIN / CAP_PERFMON in the effective set */
  privileged: boolean;
  /** /proc/sys/kernel/perf_event_paranoid (null: unreadable) */
  paranoid: number | null;
}

/** CAP_SYS_ADMIN (21) and CAP_PERFMON (38) of include/uapi/linux/capability.h. */
const PERF_CAPS = (1n << 21n) | (1n << 38n);

/** This machine. */
export function thisHost(): RecordHost {
  let privileged = typeof process.geteuid === "function" && process.geteuid() === 0;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m && (BigInt("0x" + m[1]) & PERF_CAPS) !== 0n) privileged = true;
  } catch {
    // not Linux: the paranoid check below decides
  }
  let paranoid: number | null = null;
  try {
    const t = readFileSync("/proc/sys/kernel/perf_event_paranoid", "utf8").trim();
    if (/^-?\d+$/.test(t)) paranoid = Number(t);
  } catch {
    paranoid = null;
  }
  return { path: process.env.PATH ?? "", privileged, paranoid };
}

/** `name` as execvp() would find it on `path` (a name with a slash is taken as is), or null. */
export function findProgram(name: string, path: string): string | null {
  const runnable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes("/")) return runnable(name) ? name : null;
  for (const dir of path.split(delimiter)) {
    const p = join(dir === "" ? "." : dir, name);
    if (runnable(p)) return p;
  }
  return null;
}

/**
 * Why perf may not trace here, or null. Tracepoints and other tasks' syscalls
 * need root (or CAP_PERFMON) unless kernel.perf_event_paranoid is -1
 * (perf_event_open(2); the tracepoints also need a readable tracefs).
 */
export function notPermittedReason(host: RecordHost): string | null {
  if (host.privileged) return null;
  if (host.paranoid !== null && host.paranoid <= -1) return null;
  const level = host.paranoid === null ? "unreadable" : String(host.paranoid);
  return `perf is not permitted to trace syscalls and tracepoints here: not root, and kernel.perf_event_paranoid is ${level} ` +
    "(it must be -1 for an unprivileged user). Run vmasim record as root (e.g. with sudo), or have an administrator run " +
    "`sysctl kernel.perf_event_paranoid=-1` and make /sys/kernel/tracing readable";
}

/** perf's own messages that mean "not allowed" (perf_event_open EACCES/EPERM, tracefs permissions). */
const PERMISSION_TEXT = /No permission|Permission denied|not permitted|perf_event_paranoid|Access to performance monitoring/i;

/** The perf command line: an outer perf record of the side-band around a perf trace of the command. */
export function perfArgs(sideData: string, traceText: string, command: readonly string[], path: string): string[] {
  return [
    "record", "-q", "-e", "dummy:u", "-d", "-o", sideData, "--",
    "perf", "trace", "-T", "--sort-events", "-m", String(TRACE_MMAP_PAGES),
    "-e", TRACED_SYSCALLS.join(","), ...TRACEPOINTS.flatMap((t) => ["-e", t]),
    "-o", traceText, "--", ENV_PROGRAM, `PATH=${path}`, ...command,
  ];
}

/** The perf script command line that prints the side-band records with ns times. */
export function sideBandArgs(sideData: string): string[] {
  return ["script", "-i", sideData, "--ns", "--show-mmap-events", "--show-task-events"];
}

/** The strace command line of the separate run. */
export function straceArgs(out: string, command: readonly string[]): string[] {
  return ["-f", "--seccomp-bpf", "-tt", "-y", "-e", `trace=${STRACE_FILTER}`, "-o", out, "--", ...command];
}

/** An event line of perf trace text: TS or ?, (DUR), COMM/TID, the event. */
const EVENT_LINE = /^\s*(?:\d+\.\d+|\?) \(\s*(?:\d+\.\d+ ms)?\s*\): (.*?)\/(\d+) (.*)$/;

/** CLONE_THREAD of include/uapi/linux/sched.h: the new task joins the thread group. */
const CLONE_THREAD = 0x10000;

/** What the perf trace text says about the workload. */
export interface TraceSummary {
  /** lines, and event lines among them */
  lines: number;
  events: number;
  /** the TID of the first event: the workload's root process */
  rootPid: number | null;
  /** tasks seen (by TID, or announced by task_newtask) */
  tasks: number;
  /** the exit status of the root's thread group (exit_group, else the last exit); null: none (killed by a signal) */
  exitStatus: number | null;
  /** "LOST n events!" lines: the ring buffer overflowed */
  lost: number;
  /** counts of the memory syscalls */
  syscalls: Record<string, number>;
  faults: number;
}

/** Reads the exit status and a few counts from perf trace text (time-sorted, as written). */
export class TraceSummarizer {
  private s: TraceSummary = { lines: 0, events: 0, rootPid: null, tasks: 0, exitStatus: null, lost: 0, syscalls: {}, faults: 0 };
  private group = new Set<number>();
  private seen = new Set<number>();
  private groupExit: number | null = null;
  private lastExit: number | null = null;

  line(text: string): void {
    this.s.lines++;
    if (/LOST \d+ events!/.test(text)) this.s.lost++;
    const m = EVENT_LINE.exec(text);
    if (!m) return;
    this.s.events++;
    const tid = Number(m[2]);
    const event = m[3]!;
    if (this.s.rootPid === null) {
      this.s.rootPid = tid;
      this.group.add(tid);
    }
    this.seen.add(tid);
    if (event.startsWith("exceptions:page_fault_")) {
      this.s.faults++;
      return;
    }
    const nt = /^task:task_newtask\(pid: (\d+).*clone_flags: (\d+)/.exec(event);
    if (nt) {
      this.seen.add(Number(nt[1]));
      if (this.group.has(tid) && (Number(nt[2]) & CLONE_THREAD) !== 0) this.group.add(Number(nt[1]));
      return;
    }
    // a completed call, or an interrupted entry: count each call once, at its entry
    const call = /^([a-z_0-9]+)\((.*)$/.exec(event);
    if (!call) return;
    const name = call[1]!;
    this.s.syscalls[name] = (this.s.syscalls[name] ?? 0) + 1;
    if ((name === "exit_group" || name === "exit") && this.group.has(tid)) {
      // 0 is not printed: `exit_group()` is status 0; exit() and exit_group() keep the low byte (kernel/exit.c, 6.18)
      const code = /error_code: (-?\d+)/.exec(call[2]!);
      const status = code ? Number(code[1]) & 0xff : 0;
      if (name === "exit_group") this.groupExit ??= status;
      else this.lastExit = status;
    }
  }

  summary(): TraceSummary {
    return { ...this.s, tasks: this.seen.size, exitStatus: this.groupExit ?? this.lastExit };
  }
}

/** Runs a program; its stderr is passed on to `stderr` and kept (the last 64 KiB). */
function run(program: string, args: readonly string[], stderr: (s: string) => void): Promise<{ status: number | null; signal: string | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["inherit", "inherit", "pipe"] });
    let err = "";
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      stderr(chunk);
      err = (err + chunk).slice(-65536);
    });
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, err }));
  });
}

/** Gzips `from` into `to`, feeding each line to `onLine` on the way. */
async function gzipFile(from: string, to: string, onLine?: (line: string) => void): Promise<void> {
  let rest = "";
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (onLine) {
        const text = rest + chunk.toString("latin1");
        const lines = text.split("\n");
        rest = lines.pop()!;
        for (const l of lines) onLine(l);
      }
      done(null, chunk);
    },
    flush(done) {
      if (onLine && rest !== "") onLine(rest);
      done();
    },
  });
  await pipeline(createReadStream(from), tap, createGzip(), createWriteStream(to));
}

/** PERF_RECORD_FORK(pid:tid):(ppid:ptid), PERF_RECORD_EXIT(pid:tid), MMAP/MMAP2 pid/tid:, COMM [exec]: comm:pid/tid */
const SIDE_FORK = /PERF_RECORD_FORK\((\d+):\d+\):\((\d+):\d+\)/;
const SIDE_PID = [/PERF_RECORD_MMAP2? (\d+)\/\d+:/, /PERF_RECORD_EXIT\((\d+):\d+\)/, /PERF_RECORD_COMM(?: exec)?: .*:(\d+)\/\d+\s*$/];

/**
 * Keeps the side-band records of the process tree rooted at `root` (perf's own
 * records and other processes' go): a FORK is kept when its parent or child
 * is in the tree, and adds the child; the other records when their pid is.
 */
export function sideBandFilter(root: number): { header: string; line(line: string): string | null } {
  const keep = new Set([root]);
  return {
    header: `# side-band records of the process tree rooted at pid ${root}\n` +
      "# columns: comm tid [cpu] time(s): PERF_RECORD_*; MMAP2 = [start(len) @ pgoff maj:min ino ino_gen]: prot+flags name\n",
    line(line: string): string | null {
      const f = SIDE_FORK.exec(line);
      if (f) {
        const pid = Number(f[1]);
        if (!keep.has(pid) && !keep.has(Number(f[2]))) return null;
        keep.add(pid);
        return line;
      }
      for (const rx of SIDE_PID) {
        const m = rx.exec(line);
        if (m) return keep.has(Number(m[1])) ? line : null;
      }
      return null;
    },
  };
}

/** Runs `perf script` on the side-band data and writes the workload's records, gzipped, to `to`. */
async function writeSideBand(perf: string, sideData: string, root: number, to: string, stderr: (s: string) => void): Promise<number> {
  const child = spawn(perf, sideBandArgs(sideData), { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (c: string) => (err = (err + c).slice(-65536)));
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status) => resolve(status));
  });
  const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  let records = 0;
  async function* filtered() {
    const buffer: string[] = [];
    const kept = sideBandFilter(root);
    yield kept.header;
    for await (const line of lines) {
      const out = kept.line(line);
      if (out !== null) {
        records++;
        buffer.push(out + "\n");
        if (buffer.length >= 1024) yield buffer.splice(0).join("");
      }
    }
    if (buffer.length) yield buffer.join("");
  }
  await pipeline(filtered, createGzip(), createWriteStream(to));
  const status = await closed;
  if (status !== 0) {
    stderr(err);
    throw new RecordError(`perf script could not read the side-band (status ${status}): ${lastLine(err)}`);
  }
  return records;
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n").filter((l) => l.trim() !== "");
  return lines.length ? lines[lines.length - 1]!.trim() : "no message";
}

export interface RecordOptions {
  /** path prefix of the output files */
  name: string;
  /** the command and its arguments */
  command: readonly string[];
  /** also make a separate strace run */
  strace?: boolean;
  /** overwrite existing output files */
  force?: boolean;
  /** the host profile JSON (vmasim host --json) of this machine */
  hostJson: () => string;
  /** perf's, strace's and the workload's stderr */
  stderr: (s: string) => void;
  host?: RecordHost;
}

export interface RecordResult {
  files: string[];
  trace: TraceSummary;
  /** side-band records kept */
  sideRecords: number;
  /** the strace run's exit status (null: not run, or killed by a signal) */
  straceStatus: number | null;
  straceSignal: string | null;
}

/** Checks everything that can be checked before running; returns perf's and strace's paths. */
export function preflight(o: RecordOptions, host: RecordHost): { perf: string; strace: string | null; command: string } {
  if (o.command.length === 0) throw new RecordError("record: missing the command to record (vmasim record [-o NAME] -- CMD ARGS...)");
  const perf = findProgram("perf", host.path);
  if (perf === null) {
    throw new RecordError("perf is not installed (not found on PATH): install Debian's linux-perf package (apt-get install linux-perf)");
  }
  let strace: string | null = null;
  if (o.strace) {
    strace = findProgram("strace", host.path);
    if (strace === null) throw new RecordError("strace is not installed (not found on PATH): install Debian's strace package (apt-get install strace)");
  }
  const why = notPermittedReason(host);
  if (why !== null) throw new RecordError(why);
  const command = findProgram(o.command[0]!, host.path);
  if (command === null) throw new RecordError(`command not found: ${o.command[0]}`);
  const dir = dirname(o.name);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new RecordError(`cannot write ${o.name}.*: no directory '${dir}'`);
  const files = outputFiles(o.name);
  // the strace file belongs to the set even without --strace: a stale one would not be of this run
  const existing = Object.values(files).filter((f) => existsSync(f));
  if (existing.length && !o.force) {
    throw new RecordError(`output file${existing.length > 1 ? "s" : ""} already exist${existing.length > 1 ? "" : "s"}: ${existing.join(", ")} (use --force to overwrite, or -o another NAME)`);
  }
  return { perf, strace, command };
}

/** Records `o.command`: see the file comment. */
export async function record(o: RecordOptions): Promise<RecordResult> {
  const host = o.host ?? thisHost();
  const { perf, strace } = preflight(o, host);
  const files = outputFiles(o.name);
  // the host as it is when the recording is made
  const hostJson = o.hostJson();
  // perf's working files next to the outputs: a trace can be larger than /tmp
  const work = mkdtempSync(join(dirname(o.name), `.${basename(o.name)}.record-`));
  try {
    const sideData = join(work, "side.data");
    const traceText = join(work, "perf.txt");
    const r = await run(perf, perfArgs(sideData, traceText, o.command, host.path), o.stderr);
    if (r.status !== 0 || !existsSync(traceText)) {
      const why = lastLine(r.err);
      if (PERMISSION_TEXT.test(r.err)) {
        throw new RecordError(`perf is not permitted to trace here: ${why}. Run vmasim record as root (e.g. with sudo), or have an administrator set kernel.perf_event_paranoid=-1 and make /sys/kernel/tracing readable`);
      }
      throw new RecordError(`perf failed (${r.signal ? `signal ${r.signal}` : `status ${r.status}`}): ${why}`);
    }
    const summarizer = new TraceSummarizer();
    await gzipFile(traceText, files.perf, (l) => summarizer.line(l));
    const trace = summarizer.summary();
    if (trace.rootPid === null) throw new RecordError(`perf trace recorded no events of the command (${files.perf} is empty)`);
    const sideRecords = await writeSideBand(perf, sideData, trace.rootPid, files.mmap2, o.stderr);
    writeFileSync(files.host, hostJson);
    const written = [files.perf, files.mmap2, files.host];
    let straceStatus: number | null = null;
    let straceSignal: string | null = null;
    if (existsSync(files.strace)) rmSync(files.strace);
    if (strace !== null) {
      const text = join(work, "strace.txt");
      const s = await run(strace, straceArgs(text, o.command), o.stderr);
      if (!existsSync(text)) throw new RecordError(`strace failed (status ${s.status}): ${lastLine(s.err)}`);
      await gzipFile(text, files.strace);
      written.push(files.strace);
      straceStatus = s.status;
      straceSignal = s.signal;
    }
    return { files: written, trace, sideRecords, straceStatus, straceSignal };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
