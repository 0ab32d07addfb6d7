// `vmasim record`: its errors (with stand-ins for the machine: no perf, perf
// not permitted, a missing command, existing outputs), and a real recording of
// a small C program where perf works (root, or perf_event_paranoid -1).
//
// The recording is checked with regular expressions on the perf text and the
// side-band; the full parser check comes with the trace importer (src/trace,
// `vmasim import`).
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { cmdRecord, type RecordIo } from "../../src/cli/record.js";
import { configFromJson } from "../../src/config/config.js";
import { probeHost } from "../../src/kernel/host.js";
import { findProgram, notPermittedReason, perfArgs, sideBandFilter, thisHost, TraceSummarizer, type RecordHost } from "../../src/trace/record.js";

const dir = mkdtempSync(join(tmpdir(), "vmasim-record-"));

/** A directory holding a fake `perf` (a shell script printing `stderr` and exiting with `status`). */
function fakePerf(stderr: string, status: number): string {
  const d = mkdtempSync(join(dir, "bin-"));
  const p = join(d, "perf");
  writeFileSync(p, `#!/bin/sh\nprintf '%s\\n' '${stderr.replace(/'/g, "'\\''")}' >&2\nexit ${status}\n`);
  chmodSync(p, 0o755);
  return d;
}

const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";
const probe = () => probeHost({
  readFile: () => null, runnerAvailable: () => ({ ok: false, reason: "stand-in" }), runScript: () => "",
  bpfAvailable: () => false, release: () => "6.18.44", uid: () => 0,
});

async function rec(args: string[], host: RecordHost) {
  let stdout = "";
  let stderr = "";
  const io: RecordIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, probe, host };
  const status = await cmdRecord(args, io);
  return { status, stdout, stderr };
}

describe("vmasim record: errors", () => {
  it("says which Debian package to install when perf is missing", async () => {
    const empty = mkdtempSync(join(dir, "empty-"));
    const r = await rec(["-o", join(dir, "a"), "--", "/bin/true"], { path: empty, privileged: true, paranoid: 2 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/perf is not installed.*linux-perf/);
    expect(existsSync(join(dir, "a.perf.txt.gz"))).toBe(false);
  });

  it("refuses without root when perf_event_paranoid forbids tracing, and says what to do", async () => {
    const bin = fakePerf("", 0);
    const r = await rec(["-o", join(dir, "b"), "--", "/bin/true"], { path: `${bin}:${SYSTEM_PATH}`, privileged: false, paranoid: 2 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not permitted.*not root, and kernel\.perf_event_paranoid is 2/);
    expect(r.stderr).toMatch(/as root.*perf_event_paranoid=-1/);
    // paranoid -1 lets an unprivileged user trace; root may always
    expect(notPermittedReason({ path: "", privileged: false, paranoid: -1 })).toBeNull();
    expect(notPermittedReason({ path: "", privileged: true, paranoid: 3 })).toBeNull();
  });

  it("reports perf's own permission error as not permitted", async () => {
    const bin = fakePerf("Error:\tNo permissions to read /sys/kernel/tracing/events/exceptions/page_fault_user", 129);
    const r = await rec(["-o", join(dir, "c"), "--", "/bin/true"], { path: `${bin}:${SYSTEM_PATH}`, privileged: true, paranoid: 2 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/vmasim: record: perf is not permitted to trace here: Error:\s+No permissions to read .*page_fault_user\. Run vmasim record as root/);
    expect(existsSync(join(dir, "c.perf.txt.gz"))).toBe(false);
  });

  it("reports another perf failure with perf's message", async () => {
    const bin = fakePerf("perf: unknown event", 1);
    const r = await rec(["-o", join(dir, "d"), "--", "/bin/true"], { path: `${bin}:${SYSTEM_PATH}`, privileged: true, paranoid: 2 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("perf failed (status 1): perf: unknown event");
  });

  it("reports a command that is not found, before running perf", async () => {
    const bin = fakePerf("should not run", 1);
    const r = await rec(["-o", join(dir, "e"), "--", "no-such-command-xyz", "-v"], { path: `${bin}:${SYSTEM_PATH}`, privileged: true, paranoid: 2 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("vmasim: record: command not found: no-such-command-xyz\n");
  });

  it("refuses to overwrite existing output files unless --force", async () => {
    const bin = fakePerf("perf ran", 1);
    const name = join(dir, "f");
    writeFileSync(`${name}.mmap2.txt.gz`, "old");
    writeFileSync(`${name}.strace.gz`, "old");
    const host = { path: `${bin}:${SYSTEM_PATH}`, privileged: true, paranoid: 2 };
    const r = await rec(["-o", name, "--", "/bin/true"], host);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`output files already exist: ${name}.mmap2.txt.gz, ${name}.strace.gz (use --force`);
    expect(readFileSync(`${name}.mmap2.txt.gz`, "utf8")).toBe("old");
    // with --force it goes on (to the fake perf, which fails)
    const f = await rec(["--force", "-o", name, "--", "/bin/true"], host);
    expect(f.stderr).toContain("perf failed (status 1): perf ran");
  });

  it("gives usage errors for a missing command and an unknown option", async () => {
    const host = thisHost();
    expect((await rec(["-o", join(dir, "g")], host)).stderr).toMatch(/missing the command to record\nusage: vmasim record/);
    expect((await rec(["--bogus", "--", "true"], host)).stderr).toMatch(/unknown option '--bogus'/);
    expect((await rec(["-o"], host)).stderr).toMatch(/option '-o' needs a value/);
  });
});

describe("vmasim record: perf command line and trace reading", () => {
  it("runs perf trace inside perf record with the fixture traces' options", () => {
    const a = perfArgs("S", "T", ["prog", "x"], "/bin");
    expect(a.slice(0, 8)).toEqual(["record", "-q", "-e", "dummy:u", "-d", "-o", "S", "--"]);
    const t = a.slice(8).join(" ");
    expect(t).toMatch(/^perf trace -T --sort-events -m 8192 -e mmap,munmap,mremap,mprotect,.*,shmdt /);
    for (const e of ["exceptions:page_fault_user", "exceptions:page_fault_kernel", "task:task_newtask", "sched:sched_process_exec", "sched:sched_process_exit"]) {
      expect(t).toContain(`-e ${e} `);
    }
    expect(t).toMatch(/-o T -- \/usr\/bin\/env PATH=\/bin prog x$/);
  });

  it("reads the exit status of the root's thread group from the trace", () => {
    const lines = (s: string) => {
      const t = new TraceSummarizer();
      for (const l of s.trim().split("\n")) t.line(l);
      return t.summary();
    };
    const base = `     1.000 (         ): env/10 sched:sched_process_exec(filename: "/usr/bin/env", pid: 10 (env), old_pid: 10 (env))
     1.100 (         ): a/10 task:task_newtask(pid: 11 (a), comm: "a", clone_flags: 4001536)
     1.200 (         ): a/10 task:task_newtask(pid: 12 (a), comm: "a", clone_flags: 18874368)
     1.300 (         ): a/12 exit_group(error_code: 9)                                 = ?`;
    // a forked child's exit is not the workload's
    expect(lines(base).exitStatus).toBeNull();
    // a thread's exit_group ends the group with its code
    expect(lines(`${base}\n     1.400 (         ): a/11 exit_group(error_code: 3)     = ?`).exitStatus).toBe(3);
    // 0 is not printed
    expect(lines(`${base}\n     1.400 (         ): a/10 exit_group()     = ?`)).toMatchObject({ exitStatus: 0, rootPid: 10, tasks: 3 });
  });

  it("keeps the side-band of the workload's process tree only", () => {
    const f = sideBandFilter(10);
    const kept = [
      "            perf  9 [-01]  1.0: PERF_RECORD_FORK(10:10):(9:9)",
      "            perf  9 [-01]  1.0: PERF_RECORD_MMAP2 9/9: [0x1000(0x1000) @ 0 00:00 0 0]: r--p /usr/bin/perf",
      "             env 10 [-01]  1.1: PERF_RECORD_COMM exec: env:10/10",
      "               a 10 [-01]  1.2: PERF_RECORD_FORK(11:11):(10:10)",
      "               a 11 [-01]  1.3: PERF_RECORD_MMAP2 11/11: [0x2000(0x1000) @ 0x2000 00:00 0 0]: rw-p //anon",
      "               a 11 [-01]  1.4: PERF_RECORD_EXIT(11:11):(10:10)",
      "            perf  9 [-01]  1.5: PERF_RECORD_EXIT(9:9):(8:8)",
    ].map((l) => f.line(l));
    expect(kept.map((l) => l !== null)).toEqual([true, false, true, true, true, true, false]);
    expect(f.header).toMatch(/^# side-band records of the process tree rooted at pid 10\n# columns: /);
  });
});

// --- a real recording -------------------------------------------------------

const host = thisHost();
const perfPath = findProgram("perf", host.path);
const cc = findProgram("cc", host.path);
const skip = perfPath === null ? "perf is not installed (Debian: linux-perf)"
  : notPermittedReason(host) ?? (cc === null ? "no C compiler (cc) to build the workload" : null);
if (skip) console.log(`vmasim record live tests skipped: ${skip}`);

/** The workload: an anonymous mmap of 5 pages, a write fault, mprotect, a fork whose child writes (COW) and exits 0, munmap; exit 0 or argv[1]. */
const PROGRAM = String.raw`
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char *a = mmap(0, 5 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) return 100;
  a[0] = 1;
  if (mprotect(a + 4096, 4096, PROT_READ)) return 101;
  pid_t p = fork();
  if (p == 0) { a[0] = 2; _exit(0); }
  waitpid(p, 0, 0);
  munmap(a, 5 * 4096);
  return argc > 1 ? atoi(argv[1]) : 0;
}
`;

describe.skipIf(skip !== null)("vmasim record on this machine", () => {
  const prog = join(dir, "vmaprog");
  if (skip === null) {
    writeFileSync(`${prog}.c`, PROGRAM);
    execFileSync(cc!, ["-O0", "-o", prog, `${prog}.c`]);
  }

  it("records the program's syscalls, faults, fork and exits, its side-band and the host profile", async () => {
    const name = join(dir, "rec");
    let stdout = "";
    let stderr = "";
    const status = await main(["record", "-o", name, "--", prog], {
      stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) },
    });
    expect(stderr).not.toMatch(/vmasim:/);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^recorded .*vmaprog: root pid \d+, 2 tasks, /);
    for (const suffix of [".perf.txt.gz", ".mmap2.txt.gz", ".host.json"]) expect(statSync(name + suffix).size).toBeGreaterThan(0);
    expect(existsSync(`${name}.strace.gz`)).toBe(false);

    const perf = gunzipSync(readFileSync(`${name}.perf.txt.gz`)).toString("utf8");
    const line = (re: string) => {
      const m = new RegExp(re, "m").exec(perf);
      expect(m, re).not.toBeNull();
      return m!;
    };
    const ev = "^\\s*\\d+\\.\\d+ \\(\\s*(?:\\d+\\.\\d+ ms)?\\s*\\): ";
    // the root execs env, then the program (same pid)
    const exec = line(`${ev}vmaprog/(\\d+) sched:sched_process_exec\\(filename: "${prog}", pid: (\\d+) `);
    const tid = exec[1]!;
    const first = /^.*?\/(\d+) /m.exec(perf)!;
    expect(first[1]).toBe(tid);
    const mmap = line(`${ev}vmaprog/${tid} mmap\\(len: 20480, prot: READ\\|WRITE, flags: PRIVATE\\|ANONYMOUS\\)\\s+= (0x[0-9a-f]+)$`);
    const addr = BigInt(mmap[1]!);
    const hex = (a: bigint) => "0x" + a.toString(16);
    line(`${ev}vmaprog/${tid} exceptions:page_fault_user\\(address: ${hex(addr)}, ip: \\d+, error_code: 6\\)`);
    line(`${ev}vmaprog/${tid} mprotect\\(start: ${hex(addr + 4096n)}, len: 4096, prot: READ\\)\\s+= 0$`);
    // fork: CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID (0x1200000) without CLONE_VM
    const fork = line(`${ev}vmaprog/${tid} task:task_newtask\\(pid: (\\d+) \\(vmaprog\\), comm: "vmaprog", clone_flags: 18874368\\)`);
    const child = fork[1]!;
    // the child's write to the page it shares with its parent: a protection (COW) fault
    line(`${ev}vmaprog/${child} exceptions:page_fault_user\\(address: ${hex(addr)}, ip: \\d+, error_code: 7\\)`);
    line(`${ev}vmaprog/${child} sched:sched_process_exit\\(comm: "vmaprog", pid: ${child} \\(vmaprog\\), prio: \\d+, group_dead: 1\\)`);
    line(`${ev}vmaprog/${tid} munmap\\(addr: ${hex(addr)}, len: 20480\\)\\s+= 0$`);
    line(`${ev}vmaprog/${tid} exit_group\\(\\)\\s+= \\?$`);
    line(`${ev}vmaprog/${tid} sched:sched_process_exit\\(comm: "vmaprog", pid: ${tid} \\(vmaprog\\), prio: \\d+, group_dead: 1\\)`);
    expect(perf).not.toMatch(/LOST \d+ events/);

    const side = gunzipSync(readFileSync(`${name}.mmap2.txt.gz`)).toString("utf8");
    expect(side).toMatch(new RegExp(`^# side-band records of the process tree rooted at pid ${tid}\n`));
    // the binary's mappings made at exec, the mmap as a VMA, the fork and both exits
    const binary = side.match(new RegExp(`PERF_RECORD_MMAP2 ${tid}/${tid}: \\[0x[0-9a-f]+\\(0x[0-9a-f]+\\) @ 0x[0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \\d+ \\d+\\]: r..p ${prog}$`, "gm"));
    expect(binary?.length ?? 0).toBeGreaterThanOrEqual(3);
    // the mmap as the VMA it became: perf_event_mmap() reports it after merging, so it may be larger
    const anon = [...side.matchAll(new RegExp(`PERF_RECORD_MMAP2 ${tid}/${tid}: \\[(0x[0-9a-f]+)\\((0x[0-9a-f]+)\\) @ (0x[0-9a-f]+) 00:00 0 0\\]: rw-p //anon$`, "gm"))]
      .map((m) => ({ start: BigInt(m[1]!), end: BigInt(m[1]!) + BigInt(m[2]!), pgoff: BigInt(m[3]!) }));
    expect(anon.some((v) => v.start <= addr && v.end >= addr + 0x5000n && v.pgoff === v.start)).toBe(true);
    // mprotect splits one page off, at the pgoff linear in the address of an anonymous VMA
    expect(side).toContain(`PERF_RECORD_MMAP2 ${tid}/${tid}: [${hex(addr + 4096n)}(0x1000) @ ${hex(addr + 4096n)} 00:00 0 0]: r--p //anon`);
    expect(side).toContain(`PERF_RECORD_FORK(${child}:${child}):(${tid}:${tid})`);
    expect(side).toContain(`PERF_RECORD_EXIT(${child}:${child}):(${tid}:${tid})`);
    // perf's own records are left out
    expect(side).not.toMatch(/PERF_RECORD_MMAP2 \d+\/\d+: .* \/usr\/bin\/perf$/m);

    // the host profile: vmasim host --json; its known knobs are a configuration
    const hostJson = JSON.parse(readFileSync(`${name}.host.json`, "utf8")) as Record<string, unknown>;
    const known = Object.fromEntries(Object.entries(hostJson).filter(([, v]) => v !== "unknown"));
    expect(Object.keys(configFromJson(JSON.stringify(known), "host.json"))).toContain("zero_page");
    expect(hostJson.host).toMatchObject({ root: process.geteuid?.() === 0 });
  }, 120_000);

  it("keeps the trace of a failing command and exits with its status", async () => {
    const name = join(dir, "fail");
    let stdout = "";
    let stderr = "";
    const status = await main(["record", "-o", name, "--", prog, "3"], {
      stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) },
    });
    expect(status).toBe(3);
    expect(stderr).toContain("vmasim: record: the command exited with status 3; the trace is kept");
    const perf = gunzipSync(readFileSync(`${name}.perf.txt.gz`)).toString("utf8");
    expect(perf).toMatch(/vmaprog\/\d+ exit_group\(error_code: 3\)\s+= \?$/m);
    expect(statSync(`${name}.mmap2.txt.gz`).size).toBeGreaterThan(0);
    expect(stdout).toContain(`${name}.host.json`);
  }, 120_000);

  const strace = findProgram("strace", host.path);
  if (strace === null) console.log("vmasim record --strace test skipped: strace is not installed (Debian: strace)");
  it.skipIf(strace === null)("--strace adds a separate strace -f -tt -y run", async () => {
    const name = join(dir, "st");
    let stdout = "";
    let stderr = "";
    const status = await main(["record", "--strace", "-o", name, "--", prog, "4"], {
      stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) },
    });
    expect(status).toBe(4);
    expect(stderr).toContain("vmasim: record: under strace, the command exited with status 4");
    const st = gunzipSync(readFileSync(`${name}.strace.gz`)).toString("utf8");
    expect(st).toMatch(/^\d+ +\d\d:\d\d:\d\d\.\d{6} execve\(".*vmaprog", \["[^"]*"(?:\.\.\.)?, "4"\]/m);
    expect(st).toMatch(/^\d+ +\d\d:\d\d:\d\d\.\d{6} mmap\(NULL, 20480, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x[0-9a-f]+$/m);
    // -y: file descriptors with their paths
    expect(st).toMatch(/mmap\(NULL, \d+, PROT_READ, MAP_PRIVATE\|MAP_DENYWRITE, 3<\/[^>]*libc[^>]*>, 0\)/);
    expect(st).toMatch(/^\d+ +\d\d:\d\d:\d\d\.\d{6} \+\+\+ exited with 4 \+\+\+$/m);
    expect(stdout).toContain(`${name}.strace.gz`);
  }, 120_000);
});
