// Every real trace parses with zero unparsed lines, and its counts per kind
// agree with an independent parser: the totals below are what
// /work/shared/traces/summarize.py prints for the same files (run with
// python3; copied here so that the test stands alone). The fixtures are the
// first lines of real traces (test/fixtures/traces); the full traces are
// read from ../shared/traces when that folder exists.
import { describe, expect, it } from "vitest";
import { parseFile } from "../../src/trace/import.js";
import { FIXTURES, HAVE_SHARED, SHARED, collect, summarizeLike, tasksSeen, totals } from "./util.js";

type Fmt = "perf" | "strace" | "sidecar";
interface Case { file: string; format: Fmt; totals: string; processes: number; tasks: number; unfinished?: number }

const FIXTURE_CASES: Case[] = [
  {
    file: "jemalloc_python.head.perf.txt.gz", format: "perf", processes: 1, tasks: 1,
    totals: "brk=8, close=70, execve=6, fault_ifetch=105, fault_read=162, fault_write=2402, kfault_read=1, kfault_write=20, madvise=2, mmap=95, mprotect=15, munmap=5, open=2, openat=101, sched:sched_process_exec=3",
  },
  {
    file: "lua_make_j2.head.perf.txt.gz", format: "perf", processes: 9, tasks: 9,
    totals: "brk=87, clone3=4, clone3(child)=4, close=326, dup2=1, execve=13, fault_ifetch=554, fault_read=540, fault_write=3044, kfault_read=1, kfault_write=73, mmap=253, mprotect=47, munmap=14, openat=636, sched:sched_process_exec=10, task:task_newtask=8, vfork=4, vfork(child)=4",
  },
  {
    file: "node_alloc.head.perf.txt.gz", format: "perf", processes: 1, tasks: 7,
    totals: "brk=26, clone3=6, clone3(child)=6, close=35, execve=5, fault_ifetch=327, fault_read=290, fault_write=2042, kfault_write=6, madvise=24, mmap=86, mprotect=48, munmap=29, openat=54, sched:sched_process_exec=2, task:task_newtask=6",
  },
  { file: "lua_make_j2.head.mmap2.txt.gz", format: "sidecar", processes: 9, tasks: 9, totals: "COMM=11, FORK=9, MMAP2=460" },
  {
    file: "lua_make_j2.head.strace.gz", format: "strace", processes: 39, tasks: 39, unfinished: 6,
    totals: "brk=779, clone3=14, execve=69, exit_group=30, mmap=1215, mprotect=234, munmap=62, strace:exit=30, strace:signal=30, vfork=24, wait4=64",
  },
  {
    file: "glibc_malloc_8threads.head.strace.gz", format: "strace", processes: 1, tasks: 9, unfinished: 4,
    totals: "brk=3, clone3=8, execve=1, mmap=81, mprotect=901, munmap=21",
  },
];

const SHARED_CASES: Case[] = [
  {
    file: "glibc_malloc_8threads.perf.txt.gz", format: "perf", processes: 1, tasks: 9,
    totals: "brk=72, clone3=8, clone3(child)=8, close=20, execve=2, exit=8, exit_group=1, fault_ifetch=42, fault_read=44, fault_write=371698, kfault_read=2, kfault_write=6, madvise=88, mmap=422, mprotect=2673, munmap=659, openat=33, sched:sched_process_exec=2, sched:sched_process_exit=9, task:task_newtask=8",
  },
  {
    file: "jemalloc_python.perf.txt.gz", format: "perf", processes: 1, tasks: 1,
    totals: "brk=8, close=70, execve=6, exit_group=1, fault_ifetch=115, fault_read=306, fault_write=85542, kfault_read=1, kfault_write=20, madvise=23, mmap=227, mprotect=15, munmap=129, open=2, openat=101, sched:sched_process_exec=3, sched:sched_process_exit=1",
  },
  {
    file: "lua_make_j2.perf.txt.gz", format: "perf", processes: 115, tasks: 115,
    totals: "brk=2442, clone3=40, clone3(child)=40, close=5553, dup=119, dup2=22, execve=221, exit_group=115, fault_ifetch=13521, fault_read=11814, fault_write=122334, kfault_read=54, kfault_write=1131, mmap=4443, mprotect=911, mremap=1, munmap=354, openat=10513, sched:sched_process_exec=116, sched:sched_process_exit=115, task:task_newtask=114, vfork=74, vfork(child)=74",
  },
  {
    file: "node_alloc.perf.txt.gz", format: "perf", processes: 1, tasks: 7,
    totals: "brk=548, clone3=6, clone3(child)=6, close=46, execve=5, exit=5, exit_group=1, fault_ifetch=399, fault_read=314, fault_write=154755, kfault_write=6, madvise=1328, mmap=1540, mprotect=2072, munmap=2638, openat=55, sched:sched_process_exec=2, sched:sched_process_exit=7, task:task_newtask=6",
  },
  {
    file: "python_glibc_nozp.perf.txt.gz", format: "perf", processes: 1, tasks: 1,
    totals: "brk=351, close=48, execve=5, exit_group=1, fault_ifetch=83, fault_read=96, fault_write=70520, kfault_read=1, kfault_write=21, mmap=200, mprotect=9, munmap=154, openat=68, sched:sched_process_exec=2, sched:sched_process_exit=1",
  },
  { file: "glibc_malloc_8threads.mmap2.txt.gz", format: "sidecar", processes: 1, tasks: 9, totals: "COMM=3, EXIT=9, FORK=9, MMAP2=3183" },
  { file: "jemalloc_python.mmap2.txt.gz", format: "sidecar", processes: 1, tasks: 1, totals: "COMM=4, EXIT=1, FORK=1, MMAP2=281" },
  { file: "lua_make_j2.mmap2.txt.gz", format: "sidecar", processes: 115, tasks: 115, totals: "COMM=117, EXIT=115, FORK=115, MMAP2=8336" },
  { file: "node_alloc.mmap2.txt.gz", format: "sidecar", processes: 1, tasks: 7, totals: "COMM=3, EXIT=7, FORK=7, MMAP2=4077" },
  { file: "python_glibc_nozp.mmap2.txt.gz", format: "sidecar", processes: 1, tasks: 1, totals: "COMM=3, EXIT=1, FORK=1, MMAP2=570" },
  {
    file: "glibc_malloc_8threads.strace.gz", format: "strace", processes: 1, tasks: 9,
    totals: "brk=81, clone3=8, execve=1, exit=8, exit_group=1, madvise=80, mmap=343, mprotect=2590, munmap=559, strace:exit=9",
  },
  {
    file: "jemalloc_python.strace.gz", format: "strace", processes: 1, tasks: 1,
    totals: "brk=5, execve=2, exit_group=1, madvise=21, mmap=202, mprotect=12, munmap=123, strace:exit=1",
  },
  {
    file: "lua_make_j2.strace.gz", format: "strace", processes: 115, tasks: 115,
    totals: "brk=2475, clone3=40, execve=217, exit_group=115, mmap=4422, mprotect=908, mremap=1, munmap=353, strace:exit=115, strace:signal=106, vfork=74, wait4=224",
  },
  {
    file: "node_alloc.strace.gz", format: "strace", processes: 1, tasks: 7,
    totals: "brk=558, clone3=6, execve=1, exit=5, exit_group=1, madvise=1302, mmap=1502, mprotect=1900, munmap=2600, strace:exit=7",
  },
];

async function check(dir: string, c: Case): Promise<void> {
  const events = await collect(parseFile(dir + c.file, c.format));
  const got = summarizeLike(events, c.format);
  const want = totals(c.totals);
  if (c.unfinished) want.unfinished_at_eof = c.unfinished;
  expect(got.unparsed_lines ?? 0).toBe(0);
  expect(got).toEqual(want);
  expect(tasksSeen(events)).toEqual({ processes: c.processes, tasks: c.tasks });
}

describe("real trace excerpts (test/fixtures/traces) agree with summarize.py", () => {
  for (const c of FIXTURE_CASES) it(c.file, () => check(FIXTURES, c));
});

describe.skipIf(!HAVE_SHARED)("full real traces (../shared/traces) agree with summarize.py", () => {
  if (!HAVE_SHARED) console.log(`skipped: the full traces are not at ${SHARED}`);
  for (const c of SHARED_CASES) it(c.file, () => check(SHARED, c), 60_000);
});
