// The processes of a generated trace and the events of their lives: exec
// (with the side-band records of the image binfmt_elf laid out), fork,
// vfork, threads, ld.so's mappings of a shared library, brk, exit. Every
// generator builds on these; each process's address space is tracked
// (space.ts) so that its calls are meaningful.

import { MAP_ANONYMOUS, MAP_DENYWRITE, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE } from "../abi/constants.js";
import { type Emitter, type Task } from "./emit.js";
import { AddressSpace } from "./space.js";

export const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;

/** x86 page-fault error codes (X86_PF_USER | X86_PF_WRITE | X86_PF_PROT | X86_PF_INSTR) */
export const PF_READ = 0x4;
export const PF_WRITE = 0x6;
/** a write to a present page: copy-on-write after fork */
export const PF_COW = 0x7;
export const PF_EXEC = 0x14;

/** clone flags (include/uapi/linux/sched.h), the exit signal left out as task_newtask prints them */
const CLONE_VM = 0x100;
const CLONE_VFORK = 0x4000;
/** glibc's fork(): CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID */
export const FORK_FLAGS = 0x1200000;
/** vfork() and posix_spawn() */
export const VFORK_FLAGS = CLONE_VM | CLONE_VFORK;
/** glibc's pthread_create(): VM FS FILES SIGHAND THREAD SYSVSEM SETTLS PARENT_SETTID CHILD_CLEARTID */
export const THREAD_FLAGS = 0x3d0f00;

/** Where exec puts things with ASLR off (setarch -R), as the default image does (src/image.ts). */
const BIN = 0x555555554000;
const STACK_START = 0x7ffffffde000;
const STACK_END = 0x7ffffffff000;
/** the top of ld.so: mmap_base for an 8 MiB stack */
const MMAP_BASE = 0x7ffff7fff000;
/** mappings placed top-down stay above the heap's region */
const FLOOR = 0x560000000000;

/** An ELF object's segments, in pages: headers (r--), text (r-x), rodata (r--), data (rw-, `relro` of it made r-- by ld.so), bss (anonymous). */
export interface Elf {
  path: string;
  head: number;
  text: number;
  rodata: number;
  data: number;
  relro: number;
  bss: number;
}

export const LD_SO: Elf = { path: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", head: 1, text: 0x27, rodata: 0xb, data: 4, relro: 2, bss: 0 };
export const LIBC: Elf = { path: "/usr/lib/x86_64-linux-gnu/libc.so.6", head: 0x26, text: 0x155, rodata: 0x56, data: 6, relro: 4, bss: 0xd };

/** A program: its executable and the libraries ld.so maps for it. */
export interface Program {
  comm: string;
  exe: Elf;
  libs: readonly Elf[];
}

export function program(path: string, text: number, libs: readonly Elf[]): Program {
  const comm = path.slice(path.lastIndexOf("/") + 1).slice(0, 15);
  return { comm, exe: { path, head: 2, text, rodata: Math.max(2, text >> 2), data: 2, relro: 1, bss: 0 }, libs };
}

const span = (e: Elf) => e.head + e.text + e.rodata + e.data;

/** One thread group: its address space as the generator knows it. */
export class Proc {
  comm: string;
  /** thread ids besides the leader's */
  threads: number[] = [];
  space = new AddressSpace(MMAP_BASE, FLOOR);
  brk = 0;
  startBrk = 0;
  /** the executable's text, for fault ips and harmless faults */
  text = BIN;
  textPages = 1;
  constructor(readonly pid: number, comm: string) {
    this.comm = comm;
  }
  get task(): Task {
    return { pid: this.pid, tid: this.pid };
  }
  /** events its exit takes: each thread's exit and sched_process_exit, then the group's */
  get exitCost(): number {
    return 2 * this.threads.length + 2;
  }
}

/** The events of an exec, and what exec leaves: used by cost checks. */
export const EXEC_EVENTS = 15;
export const FORK_EVENTS = 3;

export class World {
  private nextPid = 1000;
  constructor(readonly out: Emitter, readonly r: (n: number) => number) {}

  /** An instruction pointer in p's text. */
  ip(p: Proc): number {
    return p.text + this.r(p.textPages) * PAGE + this.r(PAGE);
  }

  /** A new process with no mm yet (the launcher, before its exec). */
  newRoot(comm: string): Proc {
    return new Proc(this.nextPid++, comm);
  }

  /**
   * execve(): PERF_RECORD_COMM exec, the image's PERF_RECORD_MMAP2 records
   * (the executable's four segments and ld.so's, [vvar], [vdso], [stack]:
   * load_elf_binary() in fs/binfmt_elf.c and map_vdso()),
   * sched_process_exec, the execve return, and ld.so's brk(NULL), whose
   * result is start_brk. EXEC_EVENTS events.
   */
  exec(p: Proc, prog: Program): void {
    const t = p.task;
    p.comm = prog.comm;
    const o = this.out;
    o.commExec(t, p.comm);
    p.space = new AddressSpace(MMAP_BASE, FLOOR);
    let at = BIN;
    const seg = (e: Elf, base: number) => {
      let off = 0;
      for (const [pages, prot] of [[e.head, PROT_READ], [e.text, PROT_READ | PROT_EXEC], [e.rodata, PROT_READ], [e.data, RW]] as const) {
        o.mmap2(t, p.comm, base + off * PAGE, pages * PAGE, off * PAGE, prot, e.path);
        off += pages;
      }
      p.space.map(base, base + off * PAGE);
      return base + off * PAGE;
    };
    const exeEnd = seg(prog.exe, at);
    p.text = BIN + prog.exe.head * PAGE;
    p.textPages = prog.exe.text;
    at = MMAP_BASE - span(LD_SO) * PAGE;
    seg(LD_SO, at);
    // [vvar] (4 pages) and [vdso] (2 pages) just below ld.so
    o.mmap2(t, p.comm, at - 6 * PAGE, 4 * PAGE, 0, PROT_READ, "[vvar]");
    o.mmap2(t, p.comm, at - 2 * PAGE, 2 * PAGE, 0, PROT_READ | PROT_EXEC, "[vdso]");
    p.space.map(at - 6 * PAGE, at);
    o.mmap2(t, p.comm, STACK_START, STACK_END - STACK_START, STACK_START, RW, "[stack]");
    p.space.map(STACK_START, STACK_END);
    o.processExec(t, p.comm, prog.exe.path);
    o.execve(t, p.comm, prog.exe.path);
    p.startBrk = p.brk = exeEnd;
    o.brk(t, p.comm, 0, p.brk);
  }

  /** fork(): task_newtask and clone's two returns (FORK_EVENTS); the child's mm is a copy. */
  fork(parent: Proc): Proc {
    const child = new Proc(this.nextPid++, parent.comm);
    child.space = parent.space.clone();
    child.brk = parent.brk;
    child.startBrk = parent.startBrk;
    child.text = parent.text;
    child.textPages = parent.textPages;
    this.out.newtask(parent.task, parent.comm, child.pid, FORK_FLAGS);
    this.out.clone(parent.task, parent.comm, "clone", child.pid, FORK_FLAGS);
    this.out.clone(child.task, child.comm, "clone", null, 0);
    return child;
  }

  /** vfork(): a child sharing the parent's mm until it execs (which the caller does next). FORK_EVENTS. */
  vfork(parent: Proc): Proc {
    const child = new Proc(this.nextPid++, parent.comm);
    this.out.newtask(parent.task, parent.comm, child.pid, VFORK_FLAGS);
    this.out.clone(parent.task, parent.comm, "vfork", child.pid, VFORK_FLAGS);
    this.out.clone(child.task, child.comm, "vfork", null, 0);
    return child;
  }

  /** pthread_create(): a thread of p (clone3 with CLONE_THREAD). FORK_EVENTS. */
  thread(p: Proc): Task {
    const tid = this.nextPid++;
    p.threads.push(tid);
    const t = { pid: p.pid, tid };
    this.out.newtask(p.task, p.comm, tid, THREAD_FLAGS);
    this.out.clone(p.task, p.comm, "clone3", tid, THREAD_FLAGS);
    this.out.clone(t, p.comm, "clone3", null, 0);
    return t;
  }

  /** The end of p: each thread exits, then the group (p.exitCost events). */
  exit(p: Proc): void {
    for (const tid of p.threads) {
      const t = { pid: p.pid, tid };
      this.out.exitCall(t, p.comm, false);
      this.out.processExit(t, p.comm, false);
      this.out.forget(tid);
    }
    p.threads = [];
    this.out.exitCall(p.task, p.comm, true);
    this.out.processExit(p.task, p.comm, true);
    this.out.forget(p.pid);
  }

  /** Events libraryEvents(lib) takes. */
  static libraryEvents(lib: Elf): number {
    return 4 + (lib.bss ? 1 : 0) + (lib.relro ? 1 : 0);
  }

  /**
   * ld.so maps a library as glibc's _dl_map_segments() does: the whole span
   * read-only where the kernel chooses, then each segment MAP_FIXED over it
   * from the file, the bss anonymous, and later the relro part of the data
   * read-only (_dl_protect_relro()). Returns the library's base.
   */
  loadLibrary(p: Proc, lib: Elf): number {
    const t = p.task;
    const o = this.out;
    const total = (span(lib) + lib.bss) * PAGE;
    const base = p.space.topDown(total);
    p.space.map(base, base + total);
    const fd = 3;
    o.mmap(t, p.comm, 0, total, PROT_READ, MAP_PRIVATE | MAP_DENYWRITE, fd, 0, lib.path, base);
    let off = lib.head;
    for (const [pages, prot] of [[lib.text, PROT_READ | PROT_EXEC], [lib.rodata, PROT_READ], [lib.data, RW]] as const) {
      o.mmap(t, p.comm, base + off * PAGE, pages * PAGE, prot, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, fd, off * PAGE, lib.path, base + off * PAGE);
      off += pages;
    }
    if (lib.bss) {
      const a = base + off * PAGE;
      o.mmap(t, p.comm, a, lib.bss * PAGE, RW, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0, null, a);
    }
    if (lib.relro) {
      o.mprotect(t, p.comm, base + (span(lib) - lib.data) * PAGE, lib.relro * PAGE, PROT_READ, 0);
    }
    return base;
  }

  /** brk(addr) that succeeds: the heap grows or shrinks to `addr` (page aligned here). */
  setBrk(p: Proc, tid: Task, addr: number): void {
    if (addr > p.brk) p.space.map(p.brk, addr);
    else if (addr < p.brk) p.space.unmap(addr, p.brk);
    p.brk = addr;
    this.out.brk(tid, p.comm, addr, addr);
  }
}
