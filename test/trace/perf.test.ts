// The perf trace importer on the format's quirks (docs/trace-format.md,
// "Importing perf trace"), one small hand-checked excerpt each.
import { describe, expect, it } from "vitest";
import type { CloneEvent, MmapEvent, TraceEvent } from "../../src/trace/events.js";
import { faultAccess, faultPresent } from "../../src/trace/events.js";
import { CLONE_THREAD, CLONE_VFORK, CLONE_VM } from "../../src/trace/flags.js";
import { parsePerf } from "../../src/trace/perf.js";
import { collect } from "./util.js";

const parse = (text: string) => collect(parsePerf(text.split("\n")));
const only = <K extends TraceEvent["kind"]>(es: TraceEvent[], kind: K) => es.filter((e) => e.kind === kind) as Extract<TraceEvent, { kind: K }>[];

describe("perf trace quirks", () => {
  it("joins an interrupted call with its [continued] line of the same TID, across other tasks' lines", async () => {
    const es = await parse([
      "1073115.235 (         ): mallocthreads/3529 mmap(len: 8392704, flags: PRIVATE|ANONYMOUS|STACK)                 ...",
      "1073115.240 (         ): other/3530 exceptions:page_fault_user(address: 0x7f0000001000, ip: 4198400, error_code: 6)",
      "1073115.235 ( 0.015 ms): mallocthreads/3529  ... [continued]: mmap())                                             = 0x7f75ddb9f000",
    ].join("\n"));
    expect(es.map((e) => e.kind)).toEqual(["page_fault", "mmap"]);
    const m = es[1] as MmapEvent;
    expect(m).toMatchObject({
      line: 3, entryLine: 1, tid: 3529, time: 1073115235000, duration: 15000, addr: 0, len: 8392704, prot: 0,
      flags: 0x02 | 0x20 | 0x20000, fd: -1, off: 0, ret: 0x7f75ddb9f000, errno: null, unfinished: false, comm: "mallocthreads",
    });
  });

  it("reads comm names with spaces, '#' and '/', and the '?' timestamp", async () => {
    const es = await parse([
      "1.000 (         ): G1 Main Marker/4217 exceptions:page_fault_user(address: 0x1000, ip: 1, error_code: 4)",
      "2.000 (         ): GC Thread#0/4218 exceptions:page_fault_user(address: 0x2000, ip: 2, error_code: 7)",
      "3.000 (         ): kworker/1:2/12 exceptions:page_fault_user(address: 0x3000, ip: 3, error_code: 20)",
      "    ? (         ): C2 CompilerThr/4219  ... [continued]: execve())   = 0",
    ].join("\n"));
    expect(es.map((e) => e.kind !== "unparsed" && [e.comm, e.tid, e.time])).toEqual([
      ["G1 Main Marker", 4217, 1000000], ["GC Thread#0", 4218, 2000000], ["kworker/1:2", 12, 3000000], ["C2 CompilerThr", 4219, null],
    ]);
    const f = only(es, "page_fault");
    expect(f.map((e) => [faultAccess(e.errorCode), faultPresent(e.errorCode)])).toEqual([["read", false], ["write", true], ["exec", false]]);
  });

  it("reads omitted zero arguments as 0: mprotect PROT_NONE, brk(NULL), a fault at address 0, group_dead 0", async () => {
    const es = await parse([
      "1.000 ( 0.010 ms): t/5 mprotect(start: 0x7f0000000000, len: 4096)   = 0",
      "1.100 ( 0.010 ms): t/5 brk()   = 0x55edef0d6000",
      "1.200 (         ): t/5 exceptions:page_fault_user(ip: 140000, error_code: 4)",
      "1.300 (         ): t/5 sched:sched_process_exit(comm: \"t\", pid: 5 (t), prio: 120)",
      "1.400 (         ): t/5 exit()   = ?",
    ].join("\n"));
    expect(es[0]).toMatchObject({ kind: "mprotect", start: 0x7f0000000000, len: 4096, prot: 0, ret: 0 });
    expect(es[1]).toMatchObject({ kind: "brk", brk: 0, ret: 0x55edef0d6000 });
    expect(es[2]).toMatchObject({ kind: "page_fault", address: 0, ip: 140000, errorCode: 4 });
    expect(es[3]).toMatchObject({ kind: "sched_process_exit", groupDead: false });
    expect(es[4]).toMatchObject({ kind: "exit", status: 0, ret: null, unfinished: false });
  });

  it("decodes errors, kernel faults with a negative ip, and LOST lines", async () => {
    const es = await parse([
      "1.000 ( 0.010 ms): t/5 mmap(len: 1099511627776, prot: READ|WRITE, flags: PRIVATE|ANONYMOUS)   = -1 ENOMEM (Cannot allocate memory)",
      "1.100 (         ): t/5 exceptions:page_fault_kernel(address: 0x55edc2375424, ip: -2123025558, error_code: 2)",
      "LOST 3 events!",
    ].join("\n"));
    expect(es[0]).toMatchObject({ kind: "mmap", ret: -1, errno: "ENOMEM", len: 2 ** 40 });
    expect(es[1]).toMatchObject({ kind: "page_fault", user: false, ip: -2123025558, errorCode: 2, address: 0x55edc2375424 });
    expect(es[2]).toMatchObject({ kind: "lost", count: 3, line: 3 });
  });

  it("takes clone flags and the child from task_newtask; the child's clone returns nothing (clone) or 0 (clone3, vfork)", async () => {
    const es = await parse([
      "10.000 (         ): t/100 clone3(uargs: 0x7ffdcfa56df0, size: 88)      ...",
      "10.100 (         ): t/100 task:task_newtask(pid: 101 (t), comm: \"t\", clone_flags: 4001536)",
      "    ? (         ): t/101  ... [continued]: clone3())      = 0",
      "10.000 ( 0.225 ms): t/100  ... [continued]: clone3())      = 101",
      "11.000 (         ): t/101 clone(clone_flags: CHILD_CLEARTID|CHILD_SETTID|0x11, child_tidptr: 0x7f00)      ...",
      "11.100 (         ): t/101 task:task_newtask(pid: 102 (t), comm: \"t\", clone_flags: 18874368)",
      "    ? (         ): t/102  ... [continued]: clone())      = ",
      "11.000 ( 0.300 ms): t/101  ... [continued]: clone())      = 102 (t)",
      "12.000 (         ): sh/102 vfork()      ...",
      "12.100 (         ): sh/102 task:task_newtask(pid: 103 (sh), comm: \"sh\", clone_flags: 16640)",
      "    ? (         ): sh/103  ... [continued]: vfork())      = 0",
      "12.000 ( 0.513 ms): sh/102  ... [continued]: vfork())      = 103",
    ].join("\n"));
    const clones = only(es, "clone");
    expect(clones.map((c: CloneEvent) => [c.tid, c.pid, c.call, c.inChild, c.child, c.flags, c.ret])).toEqual([
      [101, 100, "clone3", true, null, null, 0],
      [100, 100, "clone3", false, 101, 0x3d0f00, 101],
      [102, 102, "clone", true, null, null, 0],
      [101, 100, "clone", false, 102, 0x1200000, 102],
      [103, 103, "vfork", true, null, null, 0],
      [102, 102, "vfork", false, 103, CLONE_VM | CLONE_VFORK, 103],
    ]);
    expect(only(es, "task_newtask").map((t) => [t.tid, t.child, (t.cloneFlags & CLONE_THREAD) !== 0])).toEqual([[100, 101, true], [101, 102, false], [102, 103, false]]);
  });

  it("flushes an interrupted entry that never got its result as unfinished, and calls pending at the end", async () => {
    const es = await parse([
      "1.000 (         ): t/5 munmap(addr: 0x7f0000000000, len: 4096)   ...",
      "1.100 ( 0.010 ms): t/5 brk()   = 0x1000000",
      "1.200 (         ): t/6 madvise(start: 0x7f0000000000, len_in: 8192, behavior: MADV_DONTNEED)   ...",
    ].join("\n"));
    expect(es.map((e) => [e.kind, e.line, "unfinished" in e && e.unfinished])).toEqual([["munmap", 1, true], ["brk", 2, false], ["madvise", 3, true]]);
    expect(es[2]).toMatchObject({ behavior: 4, len: 8192, ret: null });
  });

  it("resolves an mmap's fd to the traced open that made it, through dup, fork and close-on-exec", async () => {
    const es = await parse([
      "1.0 ( 0.01 ms): t/5 openat(dfd: CWD, filename: 0x1, flags: RDONLY|CLOEXEC)   = 3",
      "1.1 ( 0.01 ms): t/5 openat(dfd: CWD, filename: 0x2, flags: RDONLY)   = 4",
      "1.2 ( 0.01 ms): t/5 dup(fildes: 4)   = 7",
      "1.3 ( 0.01 ms): t/5 mmap(len: 4096, prot: READ, flags: PRIVATE, fd: 3)   = 0x7f0000000000",
      "1.4 ( 0.01 ms): t/5 mmap(len: 4096, prot: READ, flags: PRIVATE, fd: 7)   = 0x7f0000001000",
      "1.5 ( 0.01 ms): t/5 close(fd: 4)   = 0",
      "1.6 ( 0.01 ms): t/5 mmap(len: 4096, prot: READ, flags: PRIVATE, fd: 4)   = 0x7f0000002000",
      "1.7 (         ): t/5 task:task_newtask(pid: 6 (t), comm: \"t\", clone_flags: 18874368)",
      "1.8 (         ): t/6 sched:sched_process_exec(filename: \"/bin/x\", pid: 6 (x), old_pid: 6 (x))",
      "1.9 ( 0.01 ms): x/6 mmap(len: 4096, prot: READ, flags: PRIVATE, fd: 3)   = 0x7f0000003000",
      "2.0 ( 0.01 ms): x/6 mmap(len: 4096, prot: READ, flags: PRIVATE, fd: 7)   = 0x7f0000004000",
      "2.1 ( 0.01 ms): t/5 mmap(len: 4096, prot: READ, flags: PRIVATE, fd: 3)   = 0x7f0000005000",
    ].join("\n"));
    expect(only(es, "mmap").map((m) => [m.tid, m.fd, m.open])).toEqual([[5, 3, 1], [5, 7, 2], [5, 4, null], [6, 3, null], [6, 7, 2], [5, 3, 1]]);
    expect(only(es, "unmodelled").map((u) => u.name)).toEqual(["openat", "openat", "dup", "close"]);
  });

  it("decodes mremap, mlock*, mseal and prctl(PR_SET_VMA) anon names", async () => {
    const es = await parse([
      "1.0 ( 0.01 ms): t/5 mremap(addr: 0x7f5096243000, old_len: 200704, new_len: 299008, flags: MAYMOVE)   = 0x7f5095ab7000",
      "1.1 ( 0.01 ms): t/5 mlock2(start: 0x7f0000000000, len: 8192, flags: 1)   = 0",
      "1.2 ( 0.01 ms): t/5 mlockall(flags: CURRENT|FUTURE)   = 0",
      "1.3 ( 0.01 ms): t/5 munlockall()   = 0",
      "1.4 ( 0.01 ms): t/5 mseal(start: 0x7f0000000000, len: 4096)   = 0",
      "1.5 ( 0.01 ms): t/5 prctl(option: SET_VMA, arg3: 0x7f0000000000, arg4: 4096, arg5: 0x5555)   = 0",
      "1.6 ( 0.01 ms): t/5 prctl(option: SET_NAME, arg2: 0x7ffd0000)   = 0",
    ].join("\n"));
    expect(es[0]).toMatchObject({ kind: "mremap", addr: 0x7f5096243000, oldLen: 200704, newLen: 299008, flags: 1, newAddr: 0, ret: 0x7f5095ab7000 });
    expect(es[1]).toMatchObject({ kind: "mlock2", flags: 1, len: 8192 });
    expect(es[2]).toMatchObject({ kind: "mlockall", flags: 3 });
    expect(es[3]).toMatchObject({ kind: "munlockall" });
    expect(es[4]).toMatchObject({ kind: "mseal", flags: 0 });
    expect(es[5]).toMatchObject({ kind: "set_vma_anon_name", start: 0x7f0000000000, len: 4096, nameAddr: 0x5555, name: null });
    expect(es[6]).toMatchObject({ kind: "unmodelled", name: "prctl" });
  });
});
