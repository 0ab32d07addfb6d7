// `vmasim record [-o NAME] [--strace] [--force] -- CMD ARGS...`: a perf
// capture of a real workload (src/trace/record.ts), the host profile beside
// it, and a one-paragraph summary. The command prints its own errors: exit
// status 2 for them, else the recorded command's exit status.

import { basename } from "node:path";
import { hostProfile } from "../kernel/host.js";
import { profileToJson, type HostProfile } from "../kernel/profile.js";
import { RecordError, record, type RecordHost } from "../trace/record.js";

interface Writer {
  write(s: string): unknown;
}

export interface RecordIo {
  stdout: Writer;
  stderr: Writer;
  /** the host probe (default: this machine, src/kernel/host.ts) */
  probe?: () => HostProfile;
  /** the machine perf runs on (default: this one) */
  host?: RecordHost;
}

export const RECORD_USAGE = "vmasim record [-o NAME] [--strace] [--force] -- CMD [ARGS...]";

interface RecordArgs {
  name: string | null;
  strace: boolean;
  force: boolean;
  help: boolean;
  command: string[];
}

class UsageError extends Error {}

/** Options up to `--` or the first word that is not one; the rest is the command, untouched. */
function parseRecordArgs(args: readonly string[]): RecordArgs {
  const out: RecordArgs = { name: null, strace: false, force: false, help: false, command: [] };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (a === "-o" || a === "--output") {
      if (i + 1 >= args.length) throw new UsageError(`record: option '${a}' needs a value`);
      out.name = args[++i]!;
    } else if (a.startsWith("--output=")) out.name = a.slice("--output=".length);
    else if (a === "--strace") out.strace = true;
    else if (a === "--force") out.force = true;
    else if (a === "-h" || a === "--help") out.help = true;
    else if (a.startsWith("-")) throw new UsageError(`record: unknown option '${a}'`);
    else break;
  }
  out.command = args.slice(i);
  if (out.name === "") throw new UsageError("record: -o needs a non-empty NAME");
  return out;
}

function describeStatus(status: number | null, signal: string | null): string {
  if (signal) return `was killed by ${signal}`;
  return status === null ? "ended without an exit call (killed by a signal)" : `exited with status ${status}`;
}

export async function cmdRecord(args: readonly string[], io: RecordIo): Promise<number> {
  let a: RecordArgs;
  try {
    a = parseRecordArgs(args);
  } catch (e) {
    io.stderr.write(`vmasim: ${(e as Error).message}\nusage: ${RECORD_USAGE}\n`);
    return 2;
  }
  if (a.help) {
    io.stdout.write(`usage: ${RECORD_USAGE}\n(see vmasim --help and docs/recording.md)\n`);
    return 0;
  }
  if (a.command.length === 0) {
    io.stderr.write(`vmasim: record: missing the command to record\nusage: ${RECORD_USAGE}\n`);
    return 2;
  }
  const name = a.name ?? basename(a.command[0]!);
  try {
    const r = await record({
      name,
      command: a.command,
      strace: a.strace,
      force: a.force,
      hostJson: () => profileToJson((io.probe ?? hostProfile)()),
      stderr: (s) => io.stderr.write(s),
      host: io.host,
    });
    const t = r.trace;
    const calls = ["mmap", "munmap", "mprotect", "mremap", "brk", "madvise"]
      .filter((c) => t.syscalls[c]).map((c) => `${c} ${t.syscalls[c]}`).join(", ");
    io.stdout.write(
      `recorded ${a.command.join(" ")}: root pid ${t.rootPid}, ${t.tasks} task${t.tasks === 1 ? "" : "s"}, ` +
      `${t.events} events (${calls || "no memory syscalls"}; ${t.faults} faults), ${r.sideRecords} side-band records\n`,
    );
    for (const f of r.files) io.stdout.write(`  ${f}\n`);
    if (t.lost) io.stderr.write(`vmasim: record: perf lost events (${t.lost} LOST lines in the trace): the trace is incomplete\n`);
    let status = t.exitStatus ?? 1;
    if (t.exitStatus !== 0) io.stderr.write(`vmasim: record: the command ${describeStatus(t.exitStatus, null)}; the trace is kept\n`);
    if (a.strace && (r.straceStatus !== 0 || r.straceSignal)) {
      io.stderr.write(`vmasim: record: under strace, the command ${describeStatus(r.straceStatus, r.straceSignal)}\n`);
      if (status === 0) status = r.straceStatus ?? 1;
    }
    return status;
  } catch (e) {
    if (e instanceof RecordError) {
      io.stderr.write(`vmasim: record: ${e.message.replace(/^record: /, "")}\n`);
      return 2;
    }
    throw e;
  }
}
