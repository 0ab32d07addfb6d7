// The host profile of a qemu guest recorded by scripts/qemu-record.sh:
//
//   npx tsx scripts/qemu-profile.ts DATA_LOG "NOTE" > DIR/host-profile.json
//
// DATA_LOG is the guest's data port (format in scripts/qemu-init.c): /init
// copies the files the host probe reads (/proc/cmdline, /proc/meminfo,
// /proc/sys/vm/*, its own /proc/self/limits and status, which the runner
// inherits) and runs the zero-page experiment; this runs the probe of
// src/kernel/host.ts on them, so that a guest's profile is found exactly as
// the host's is. The BPF reader counts as working when the recordings show
// `av=` on anon lines. Exit 1 when the log holds no guest configuration.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { probeHost, type HostReader } from "../src/kernel/host.js";
import { profileToJson, type HostProfile } from "../src/kernel/profile.js";

const MARK = "@@vmasim-qemu@@ ";

/** What the guest reported: its release, its files, the zero-page experiment's output, whether BPF worked. */
export interface GuestReport {
  release: string | null;
  files: Map<string, string>;
  zeroPage: { status: string; output: string } | null;
  bpf: boolean;
}

/** Parses the guest's data log. */
export function parseGuestLog(log: string): GuestReport {
  const out: GuestReport = { release: null, files: new Map(), zeroPage: null, bpf: false };
  let file: string | null = null;
  let zp: { status: string; output: string } | null = null;
  let body: string[] = [];
  let inRecording = false;
  for (const line of log.split("\n")) {
    if (line.startsWith(MARK)) {
      const [word, ...rest] = line.slice(MARK.length).split(" ");
      const arg = rest.join(" ");
      if (word === "uname") out.release = arg;
      else if (word === "file") [file, body] = [arg, []];
      else if (word === "file-end" && file !== null) {
        out.files.set(file, body.join("\n") + "\n");
        file = null;
      } else if (word === "zero-page") [zp, body] = [{ status: /status=(\S+)/.exec(arg)?.[1] ?? "?", output: "" }, []];
      else if (word === "zero-page-end" && zp !== null) {
        zp.output = body.length ? body.join("\n") + "\n" : "";
        out.zeroPage = zp;
        zp = null;
      } else if (word === "begin") inRecording = true;
      else if (word === "end") inRecording = false;
      continue;
    }
    if (file !== null || zp !== null) body.push(line);
    else if (inRecording && /^ {2}\S+ \S+ \S{4} anon \S+ av=/.test(line)) out.bpf = true;
  }
  return out;
}

/** The profile of the guest that wrote `log` (null when it reported no configuration). */
export function guestProfile(log: string, note: string): HostProfile | null {
  const g = parseGuestLog(log);
  if (g.files.size === 0 || g.release === null) return null;
  const reader: HostReader = {
    readFile: (p) => g.files.get(p) ?? null,
    runScript: () => {
      if (g.zeroPage === null) throw new Error("the guest ran no zero-page experiment");
      return g.zeroPage.output;
    },
    runnerAvailable: () => (g.zeroPage === null || g.zeroPage.status !== "0"
      ? { ok: false, reason: `the guest's zero-page experiment ${g.zeroPage === null ? "is missing" : `exited with status ${g.zeroPage.status}`}` }
      : { ok: true }),
    bpfAvailable: () => g.bpf,
    release: () => g.release!,
    uid: () => 0, // /init runs everything as root
  };
  const p = probeHost(reader);
  p.host.note = note;
  return p;
}

function main(argv: string[]): void {
  const [logFile, note] = argv;
  if (logFile === undefined) {
    console.error("usage: qemu-profile.ts DATA_LOG [NOTE]");
    process.exit(2);
  }
  const p = guestProfile(readFileSync(logFile, "utf8"), note ?? "a qemu guest of scripts/qemu-record.sh");
  if (p === null) {
    console.error(`qemu-profile: ${logFile} holds no guest configuration (an /init older than scripts/qemu-init.c's profile report?)`);
    process.exit(1);
  }
  process.stdout.write(profileToJson(p));
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
