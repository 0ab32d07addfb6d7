// A task's resource limits and capabilities on the engine's host side. The
// limits live in the thread group's signal_struct (include/linux/sched/
// signal.h): copied by fork (copy_signal), shared by the threads of cloneVm(),
// kept by exec. Capabilities live in each task's cred (copied at clone, also
// for threads: capset(2) changes only the calling thread). setrlimit() is
// do_prlimit() (kernel/sys.c, 5.17 and 6.x alike). The core reads them as
// `current` (assembly/mm/rlimit.ts), loaded before each call by Simulator.

import { EINVAL, EPERM } from "../abi/constants.js";
import type { ResolvedConfig } from "../config/config.js";
import type { Capability, Rlimit, RlimitResource } from "../types.js";

export const RLIMIT_RESOURCES: readonly RlimitResource[] = ["as", "data", "stack", "memlock"];
export const CAPABILITIES: readonly Capability[] = ["ipc_lock", "sys_admin", "sys_resource"];

/** The bits of task_current()'s caps argument (assembly/mm/rlimit.ts CAP_*). */
const CAP_BIT: Readonly<Record<Capability, number>> = { ipc_lock: 1, sys_admin: 2, sys_resource: 4 };

/** signal_struct->rlim of the modelled resources. */
export type SignalLimits = Record<RlimitResource, Rlimit>;

export class Task {
  constructor(
    /** shared by the tasks of a thread group */
    readonly signal: SignalLimits,
    /** this task's capabilities, CAP_BIT bits */
    public caps: number,
  ) {}

  /** The limits of a new process (KernelConfig rlimit_*: soft = hard, but RLIMIT_STACK's hard limit is unlimited). */
  static initial(cfg: ResolvedConfig): Task {
    const signal: SignalLimits = {
      as: { cur: cfg.rlimit_as, max: cfg.rlimit_as },
      data: { cur: cfg.rlimit_data, max: cfg.rlimit_data },
      stack: { cur: cfg.rlimit_stack, max: Infinity },
      memlock: { cur: cfg.rlimit_memlock, max: cfg.rlimit_memlock },
    };
    const caps = (cfg.cap_ipc_lock ? CAP_BIT.ipc_lock : 0) | (cfg.cap_sys_admin ? CAP_BIT.sys_admin : 0)
      | (cfg.cap_sys_resource ? CAP_BIT.sys_resource : 0);
    return new Task(signal, caps);
  }

  /** fork(): a copy of both; cloneVm(): the same signal_struct, a copy of the cred. */
  clone(thread: boolean): Task {
    if (thread) return new Task(this.signal, this.caps);
    const signal = {} as SignalLimits;
    for (const r of RLIMIT_RESOURCES) signal[r] = { ...this.signal[r] };
    return new Task(signal, this.caps);
  }

  capable(cap: Capability): boolean {
    return (this.caps & capBit(cap)) !== 0;
  }

  drop(cap: Capability): void {
    this.caps &= ~capBit(cap);
  }

  getrlimit(resource: RlimitResource): Rlimit {
    return { ...this.signal[checkResource(resource)] };
  }

  /** do_prlimit(): EINVAL for cur > max, EPERM for a higher hard limit without CAP_SYS_RESOURCE. */
  setrlimit(resource: RlimitResource, cur: number, max: number): number {
    const old = this.signal[checkResource(resource)];
    checkLimit("cur", cur);
    checkLimit("max", max);
    if (cur > max) return -EINVAL;
    if (max > old.max && !this.capable("sys_resource")) return -EPERM;
    old.cur = cur;
    old.max = max;
    return 0;
  }

  /** The arguments of the core's task_current(): soft and hard limits (-1 = RLIM_INFINITY), then the caps. */
  coreArgs(): number[] {
    const out: number[] = [];
    for (const r of RLIMIT_RESOURCES) {
      const l = this.signal[r];
      out.push(l.cur === Infinity ? -1 : l.cur, l.max === Infinity ? -1 : l.max);
    }
    out.push(this.caps);
    return out;
  }
}

function capBit(cap: Capability): number {
  const b = CAP_BIT[cap];
  if (b === undefined) throw new TypeError(`unknown capability '${String(cap)}' (known: ${CAPABILITIES.join(", ")})`);
  return b;
}

function checkResource(r: RlimitResource): RlimitResource {
  if (!RLIMIT_RESOURCES.includes(r)) throw new TypeError(`unknown resource '${String(r)}' (known: ${RLIMIT_RESOURCES.join(", ")})`);
  return r;
}

/** rlim_t is unsigned: a byte count or RLIM_INFINITY. */
function checkLimit(name: string, v: number): void {
  if (v !== Infinity && !(Number.isInteger(v) && v >= 0)) throw new TypeError(`rlimit ${name} must be a non-negative integer or Infinity: ${v}`);
}
