// What every generator is: a launcher process that starts `pids` workers
// (fork + exec), workers that act one step at a time, and an end that
// exits every process. The driver (generate.ts) gives each step a budget:
// the events left once every live process's exit is paid for, so that the
// trace has exactly the number of events asked for and ends cleanly.

import { EXEC_EVENTS, FORK_EVENTS, PF_EXEC, type Program, type Proc, World, program } from "./world.js";

/** A worker process: one step at a time. */
export interface Worker {
  readonly proc: Proc;
  /** events this worker's exit takes */
  exitCost(): number;
  /** Emits at least one event and at most `budget` (events plus any growth of exitCost()); false when it cannot. */
  step(budget: number): boolean;
  /** true when the worker has finished (it exited: build jobs) */
  done?: boolean;
  /** Ends the worker's processes (default: its process exits). */
  finish?(): void;
}

export abstract class Workload {
  readonly launcher: Proc;
  readonly workers: Worker[] = [];

  constructor(readonly world: World, launcherProgram: Program, readonly pids: number) {
    this.launcher = world.newRoot("sh");
    world.exec(this.launcher, launcherProgram);
  }

  /** Events the exit of every live process takes. */
  endCost(): number {
    let n = this.launcher.exitCost;
    for (const w of this.workers) n += w.exitCost();
    return n;
  }

  /** Starts a worker (fork + exec of its program, then its own set-up); the workload says what it costs. */
  abstract startWorker(budget: number): boolean;

  /** One step: a new worker while fewer than `pids` run, else a random worker's step; a filler when nothing fits. */
  step(budget: number): void {
    const r = this.world.r;
    if (this.workers.length < this.pids && this.startWorker(budget)) return;
    if (this.workers.length > 0) {
      const w = this.workers[r(this.workers.length)];
      if (w.step(budget)) {
        if (w.done) this.workers.splice(this.workers.indexOf(w), 1);
        return;
      }
    }
    this.filler();
  }

  /** One harmless event: an instruction fetch in the launcher's text (a file page, always there). */
  filler(): void {
    const p = this.launcher;
    const ip = this.world.ip(p);
    this.world.out.fault(p.task, p.comm, ip, ip, PF_EXEC);
  }

  /** Every process exits: the workers, then the launcher. */
  finish(): void {
    for (const w of this.workers) {
      if (w.finish) w.finish();
      else this.world.exit(w.proc);
    }
    this.workers.length = 0;
    this.world.exit(this.launcher);
  }
}

/** fork + exec of `prog` by `parent`: the events it takes, and the new process. */
export const SPAWN_EVENTS = FORK_EVENTS + EXEC_EVENTS;
export function spawn(world: World, parent: Proc, prog: Program): Proc {
  const child = world.fork(parent);
  world.exec(child, prog);
  return child;
}

export const SHELL = program("/usr/bin/dash", 0x14, []);
