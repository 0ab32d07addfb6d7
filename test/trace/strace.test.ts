// The strace importer on the format's quirks, and the side-band importer.
import { describe, expect, it } from "vitest";
import type { TraceEvent } from "../../src/trace/events.js";
import { CLONE_THREAD, CLONE_VFORK, CLONE_VM } from "../../src/trace/flags.js";
import { parseSidecar } from "../../src/trace/sidecar.js";
import { parseStrace, splitArgs } from "../../src/trace/strace.js";
import { collect } from "./util.js";

const parse = (text: string) => collect(parseStrace(text.split("\n")));
const only = <K extends TraceEvent["kind"]>(es: TraceEvent[], kind: K) => es.filter((e) => e.kind === kind) as Extract<TraceEvent, { kind: K }>[];

describe("strace quirks", () => {
  it("joins <unfinished ...> and <... resumed> by TID, args split across the two lines", async () => {
    const es = await parse([
      "3706  05:05:57.993608 mmap(NULL, 134217728, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0 <unfinished ...>",
      "3705  05:05:57.993650 munmap(0x7f1666a00000, 23068672 <unfinished ...>",
      "3706  05:05:57.993687 <... mmap resumed>) = 0x7f166ea00000",
      "3705  05:05:57.993700 <... munmap resumed>) = 0",
    ].join("\n"));
    expect(es.map((e) => e.kind)).toEqual(["mmap", "munmap"]);
    expect(es[0]).toMatchObject({
      tid: 3706, line: 3, entryLine: 1, time: (5 * 3600 + 5 * 60 + 57) * 1e9 + 993608000, addr: 0, len: 134217728, prot: 0,
      flags: 0x02 | 0x20 | 0x4000, fd: -1, ret: 0x7f166ea00000,
    });
    expect(es[1]).toMatchObject({ tid: 3705, addr: 0x7f1666a00000, len: 23068672, ret: 0, entryLine: 2 });
  });

  it("reads -y fd paths in arguments (file mmaps are self-describing)", async () => {
    const es = await parse("3878  05:06:09.338899 mmap(0x7feef2806000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc, v2.so>, 0x26000) = 0x7feef2806000");
    expect(es[0]).toMatchObject({ kind: "mmap", fd: 3, path: "/usr/lib/x86_64-linux-gnu/libc, v2.so", off: 0x26000, prot: 5, flags: 0x812, open: null });
    expect(splitArgs('"a,b", {x=1, y=[2, 3]}, 4</p,q>, 5')).toEqual(['"a,b"', "{x=1, y=[2, 3]}", "4</p,q>", "5"]);
  });

  it("derives task_newtask from clone3/vfork (even when the child speaks first), exec from execve = 0, and exits", async () => {
    const es = await parse([
      "3878  05:06:09.338176 execve(\"/usr/bin/make\", [\"make\"], 0x7ffd /* 40 vars */) = 0",
      "3878  05:06:09.340203 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7feef2776000, stack_size=0x9000}, 88 <unfinished ...>",
      "3879  05:06:09.342106 execve(\"/bin/sh\", [\"/bin/sh\"], 0x55ef /* 43 vars */ <unfinished ...>",
      "3878  05:06:09.342181 <... clone3 resumed>) = 3879",
      "3879  05:06:09.342289 <... execve resumed>) = 0",
      "3879  05:06:09.343084 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0} => {parent_tid=[3880]}, 88) = 3880",
      "3880  05:06:09.343100 exit(0)   = ?",
      "3880  05:06:09.343101 +++ exited with 0 +++",
      "3879  05:06:09.343200 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=3885} ---",
      "3879  05:06:09.343300 exit_group(1 <unfinished ...>",
      "3879  05:06:09.343400 <... exit_group resumed>) = ?",
      "3879  05:06:09.343401 +++ killed by SIGSEGV (core dumped) +++",
      "3878  05:06:09.343500 vfork() = 3881",
    ].join("\n"));
    expect(only(es, "task_newtask").map((t) => [t.line, t.tid, t.child, t.cloneFlags])).toEqual([
      [3, 3878, 3879, CLONE_VM | CLONE_VFORK], [6, 3879, 3880, 0x10000 | 0x800 | 0x400 | 0x200 | 0x100 | 0x40000], [13, 3878, 3881, CLONE_VM | CLONE_VFORK],
    ]);
    expect(only(es, "clone").map((c) => [c.tid, c.call, c.child, c.flags !== null && (c.flags & CLONE_THREAD) !== 0])).toEqual([
      [3878, "clone3", 3879, false], [3879, "clone3", 3880, true], [3878, "vfork", 3881, false],
    ]);
    expect(only(es, "sched_process_exec").map((e) => [e.tid, e.filename])).toEqual([[3878, "/usr/bin/make"], [3879, "/bin/sh"]]);
    expect(es.find((e) => e.kind === "exit")).toMatchObject({ tid: 3880, pid: 3879, status: 0 });
    expect(es.find((e) => e.kind === "exit_group")).toMatchObject({ status: 1, ret: null, unfinished: false, entryLine: 10 });
    expect(only(es, "sched_process_exit").map((e) => [e.tid, e.groupDead, e.exitCode, e.signal])).toEqual([[3880, false, 0, null], [3879, true, null, "SIGSEGV"]]);
    expect(only(es, "unmodelled").map((e) => e.name)).toEqual(["SIGCHLD"]);
  });

  it("reads [pid N] prefixes and lines without a pid (one task traced)", async () => {
    const es = await parse([
      "05:00:00.000001 brk(NULL) = 0x1000",
      "[pid  4242] 05:00:00.000002 munmap(0x7f0000000000, 4096) = 0",
      "4243 05:00:00.000003 mprotect(0x7f0000000000, 4096, PROT_READ) = -1 ENOMEM (Cannot allocate memory)",
    ].join("\n"));
    expect(es.map((e) => e.kind !== "unparsed" && [e.kind, e.tid])).toEqual([["brk", 0], ["munmap", 4242], ["mprotect", 4243]]);
    expect(es[2]).toMatchObject({ errno: "ENOMEM", ret: -1 });
  });

  it("decodes madvise, mremap, prctl(PR_SET_VMA) with a name, mlock2", async () => {
    const es = await parse([
      "1 05:00:00.1 madvise(0x7f15de510000, 27455488, MADV_DONTNEED) = 0",
      "1 05:00:00.2 mremap(0x7faf4027b000, 200704, 299008, MREMAP_MAYMOVE) = 0x7faf40232000",
      "1 05:00:00.3 prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0x7f0000000000, 8192, \"my heap\") = 0",
      "1 05:00:00.4 mlock2(0x7f0000000000, 4096, MLOCK_ONFAULT) = 0",
    ].join("\n"));
    expect(es[0]).toMatchObject({ kind: "madvise", behavior: 4, len: 27455488 });
    expect(es[1]).toMatchObject({ kind: "mremap", flags: 1, newLen: 299008, ret: 0x7faf40232000 });
    expect(es[2]).toMatchObject({ kind: "set_vma_anon_name", name: "my heap", nameAddr: null, len: 8192 });
    expect(es[3]).toMatchObject({ kind: "mlock2", flags: 1 });
  });
});

describe("side-band (PERF_RECORD_*) importer", () => {
  it("reads MMAP2 (hex start/len, pgoff, dev, inode, prot+flags, name with spaces), FORK, EXIT, COMM", async () => {
    const es = await collect(parseSidecar([
      "# side-band records of the process tree rooted at pid 3733",
      "            perf  3731 [-01]  1083.854891022: PERF_RECORD_FORK(3733:3733):(3731:3731)",
      "             env  3733 [-01]  1083.867064751: PERF_RECORD_COMM exec: env:3733/3733",
      "     GC Thread#0  3448 [-01]  1064.313868220: PERF_RECORD_MMAP2 3446/3448: [0x7f4e11200000(0x98000000) @ 0x7f4e11200000 00:00 0 0]: rw-p //anon",
      "             cc1  3740 [-01]  1083.931871692: PERF_RECORD_MMAP2 3740/3740: [0x400000(0x231000) @ 0 fe:00 270392 0]: r-xs /tmp/my file",
      "             cc1  3741 [-01]  1084.617313071: PERF_RECORD_EXIT(3741:3741):(3739:3739)",
    ]));
    expect(es[0]).toMatchObject({ kind: "perf_fork", pid: 3733, tid: 3733, ppid: 3731, ptid: 3731, time: 1083854891022, line: 2 });
    expect(es[1]).toMatchObject({ kind: "perf_comm", comm: "env", exec: true });
    expect(es[2]).toMatchObject({
      kind: "perf_mmap2", pid: 3446, tid: 3448, comm: "GC Thread#0", addr: 0x7f4e11200000, len: 0x98000000, pgoff: 0x7f4e11200000,
      maj: 0, min: 0, ino: 0, prot: 3, shared: false, filename: "//anon",
    });
    expect(es[3]).toMatchObject({ maj: 0xfe, min: 0, ino: 270392, prot: 5, shared: true, filename: "/tmp/my file", pgoff: 0 });
    expect(es[4]).toMatchObject({ kind: "perf_exit", tid: 3741, ppid: 3739 });
  });
});
