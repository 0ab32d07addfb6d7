// `vmasim gen build`: a `make -j` build. make (the launcher) grows its heap
// with brk while it reads makefiles and runs up to `pids` jobs at once; a job
// is make forking a shell, the shell (after ld.so mapped libc) vforking the
// tool (cc1, as or ld: each execs with its own libraries), the tool growing
// its heap with brk, mapping its inputs read-only and reading them, taking a
// large buffer with mmap, and ld writing its output through a shared file
// mapping; then the tool and the shell exit. The events of the running jobs
// interleave.

import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from "../abi/constants.js";
import type { Task } from "./emit.js";
import { SHELL, type Worker, Workload } from "./workload.js";
import {
  EXEC_EVENTS, type Elf, FORK_EVENTS, LIBC, PAGE, PF_READ, PF_WRITE, type Proc, type Program, World, program,
} from "./world.js";

const RW = PROT_READ | PROT_WRITE;

const lib = (name: string, text: number, bss: number): Elf => ({
  path: `/usr/lib/x86_64-linux-gnu/${name}`, head: Math.max(1, text >> 4), text, rodata: Math.max(1, text >> 2), data: 2, relro: 1, bss,
});
const LIBZ = lib("libz.so.1", 0x14, 0);
const LIBZSTD = lib("libzstd.so.1", 0x80, 0);
const LIBGMP = lib("libgmp.so.10", 0x70, 0);
const LIBMPFR = lib("libmpfr.so.6", 0x60, 0);
const LIBMPC = lib("libmpc.so.3", 0x10, 0);
const LIBBFD = lib("libbfd-2.40-system.so", 0x120, 3);
const LIBCTF = lib("libctf.so.0", 0x20, 1);

const MAKE = program("/usr/bin/make", 0x30, [LIBC]);
const TOOLS: readonly Program[] = [
  program("/usr/libexec/gcc/x86_64-linux-gnu/12/cc1", 0x1800, [LIBMPC, LIBMPFR, LIBGMP, LIBZSTD, LIBZ, LIBC]),
  program("/usr/bin/x86_64-linux-gnu-as", 0x90, [LIBBFD, LIBZ, LIBC]),
  program("/usr/bin/x86_64-linux-gnu-ld.bfd", 0xa0, [LIBBFD, LIBCTF, LIBZ, LIBC]),
];
/** distinct sources and objects: the replay makes one struct file per path, so they are bounded */
const FILES = 256;

/** One step of a job: its events (plus any growth of the exit cost) and what it does. */
interface Action { cost: number; run(): void }

class Job implements Worker {
  done = false;
  private readonly actions: Action[] = [];
  private next = 0;
  private sh: Proc | null = null;
  private tool: Proc | null = null;

  constructor(readonly world: World, readonly make: Proc) {
    const w = world;
    const r = w.r;
    const tool = TOOLS[r(3) === 0 ? 1 + r(2) : 0];
    const add = (cost: number, run: () => void) => this.actions.push({ cost, run });
    add(FORK_EVENTS + EXEC_EVENTS + 2, () => {
      this.sh = w.fork(make);
      w.exec(this.sh, SHELL);
    });
    add(World.libraryEvents(LIBC), () => w.loadLibrary(this.sh!, LIBC));
    add(FORK_EVENTS + EXEC_EVENTS + 2, () => {
      this.tool = w.vfork(this.sh!);
      w.exec(this.tool, tool);
    });
    for (const l of tool.libs) add(World.libraryEvents(l), () => w.loadLibrary(this.tool!, l));
    // malloc's heap: brk steps, each followed by writes to the new pages
    for (let i = 1 + r(6); i > 0; i--) {
      const pages = 1 + r(33);
      add(1, () => w.setBrk(this.tool!, this.tool!.task, this.tool!.brk + pages * PAGE));
      for (let k = Math.min(pages, 1 + r(4)); k > 0; k--) add(1, () => this.fault(this.tool!.brk - k * PAGE, PF_WRITE));
    }
    // inputs mapped read-only and read
    for (let i = 1 + r(3); i > 0; i--) this.mapped(`/src/f${r(FILES)}.${tool === TOOLS[2] ? "o" : "c"}`, 1 + r(48), PROT_READ, MAP_PRIVATE, 4);
    // a large malloc: its own anonymous mapping
    if (r(2) === 0) this.mapped(null, 33 + r(256), RW, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    // ld writes its output through a shared mapping of the file
    if (tool === TOOLS[2]) this.mapped(`/build/out${r(FILES)}`, 8 + r(128), RW, MAP_SHARED, 5);
    // brk shrinks at free() of the heap's top
    add(1, () => w.setBrk(this.tool!, this.tool!.task, this.tool!.startBrk + Math.max(PAGE, (this.tool!.brk - this.tool!.startBrk) >> 1)));
    // the exits are paid for by the exit cost they remove
    add(0, () => {
      w.exit(this.tool!);
      this.tool = null;
    });
    add(0, () => {
      w.exit(this.sh!);
      this.sh = null;
      this.done = true;
    });
  }

  private get task(): Task {
    return this.tool!.task;
  }

  private fault(addr: number, code: number): void {
    const t = this.tool!;
    this.world.out.fault(t.task, t.comm, addr, this.world.ip(t), code);
  }

  /** An mmap of `pages`, accesses to some of them, and the munmap. */
  private mapped(path: string | null, pages: number, prot: number, flags: number, fd: number): void {
    const r = this.world.r;
    let at = 0;
    const len = pages * PAGE;
    this.actions.push({
      cost: 1,
      run: () => {
        const t = this.tool!;
        at = t.space.topDown(len);
        t.space.map(at, at + len);
        this.world.out.mmap(this.task, t.comm, 0, len, prot, flags, fd, 0, path, at);
      },
    });
    const code = prot & PROT_WRITE ? PF_WRITE : PF_READ;
    for (let k = Math.min(pages, 1 + r(8)); k > 0; k--) {
      const page = r(pages);
      this.actions.push({ cost: 1, run: () => this.fault(at + page * PAGE + r(PAGE), code) });
    }
    this.actions.push({
      cost: 1,
      run: () => {
        this.tool!.space.unmap(at, at + len);
        this.world.out.munmap(this.task, this.tool!.comm, at, len, 0);
      },
    });
  }

  exitCost(): number {
    return (this.sh ? this.sh.exitCost : 0) + (this.tool ? this.tool.exitCost : 0);
  }

  finish(): void {
    if (this.tool) this.world.exit(this.tool);
    if (this.sh) this.world.exit(this.sh);
  }

  get proc(): Proc {
    return this.tool ?? this.sh ?? this.make;
  }

  step(budget: number): boolean {
    const a = this.actions[this.next];
    if (a.cost > budget) return false;
    this.next++;
    a.run();
    return true;
  }
}

export class BuildWorkload extends Workload {
  private libc = false;

  constructor(world: World, pids: number) {
    super(world, MAKE, pids);
  }

  startWorker(budget: number): boolean {
    const w = this.world;
    const make = this.launcher;
    if (!this.libc) {
      if (budget < World.libraryEvents(LIBC)) return false;
      w.loadLibrary(make, LIBC);
      this.libc = true;
      return true;
    }
    // make reads makefiles: its heap grows now and then
    if (w.r(8) === 0) {
      w.setBrk(make, make.task, make.brk + (1 + w.r(8)) * PAGE);
      return true;
    }
    const job = new Job(w, make);
    this.workers.push(job);
    if (job.step(budget)) return true;
    this.workers.pop();
    return false;
  }
}
