// Resource limits and capabilities of the model's tasks: the rlimits of the
// thread group's signal_struct (include/linux/sched/signal.h rlimit(),
// rlimit_max()), the task's capabilities (capable()), and do_prlimit()
// (kernel/sys.c) behind setrlimit; 5.17 and 6.x alike.
//
// The rules read the limits of `current`, the task making the call
// (KernelModel.current, set by ProcessModel on each entry), never the mm's:
// two tasks sharing an mm (cloneVm) share their limits anyway, as a thread
// group shares its signal_struct; capabilities are per task (capset(2)
// changes only the caller's cred), copied by fork and cloneVm. fork copies
// the limits (copy_signal()), exec keeps them.

import { EINVAL, EPERM } from "../abi/constants.js";
import type { ResolvedConfig } from "../config/config.js";
import type { Capability, Rlimit, RlimitResource } from "../types.js";
import type { MmStruct } from "./mm.js";

const RESOURCES: readonly RlimitResource[] = ["as", "data", "stack", "memlock"];
const CAPS: readonly Capability[] = ["ipc_lock", "sys_admin", "sys_resource"];

/** signal_struct: the limits of a thread group. */
export interface SignalStruct {
  rlim: Record<RlimitResource, Rlimit>;
}

/** What a task carries beyond its mm: its thread group's limits and its own capabilities. */
export class TaskCred {
  constructor(
    readonly signal: SignalStruct,
    readonly caps: Set<Capability>,
  ) {}

  /** A new process: KernelConfig's rlimit_* (soft = hard; RLIMIT_STACK's hard limit unlimited) and cap_*. */
  static initial(cfg: ResolvedConfig): TaskCred {
    const caps = new Set<Capability>();
    if (cfg.cap_ipc_lock) caps.add("ipc_lock");
    if (cfg.cap_sys_admin) caps.add("sys_admin");
    if (cfg.cap_sys_resource) caps.add("sys_resource");
    return new TaskCred({
      rlim: {
        as: { cur: cfg.rlimit_as, max: cfg.rlimit_as },
        data: { cur: cfg.rlimit_data, max: cfg.rlimit_data },
        stack: { cur: cfg.rlimit_stack, max: Infinity },
        memlock: { cur: cfg.rlimit_memlock, max: cfg.rlimit_memlock },
      },
    }, caps);
  }

  /** copy_process(): CLONE_THREAD (cloneVm) shares signal_struct, fork copies it; the cred is copied either way. */
  copy(shareSignal: boolean): TaskCred {
    const signal = shareSignal ? this.signal : {
      rlim: {
        as: { ...this.signal.rlim.as }, data: { ...this.signal.rlim.data },
        stack: { ...this.signal.rlim.stack }, memlock: { ...this.signal.rlim.memlock },
      },
    };
    return new TaskCred(signal, new Set(this.caps));
  }
}

function resource(r: RlimitResource): RlimitResource {
  if (!RESOURCES.includes(r)) throw new TypeError(`unknown resource '${String(r)}' (known: ${RESOURCES.join(", ")})`);
  return r;
}

export function checkCapability(c: Capability): Capability {
  if (!CAPS.includes(c)) throw new TypeError(`unknown capability '${String(c)}' (known: ${CAPS.join(", ")})`);
  return c;
}

/** rlimit(): current's soft limit, bytes (Infinity = RLIM_INFINITY). */
export function rlimit(mm: MmStruct, r: RlimitResource): number {
  return mm.kernel.current.signal.rlim[r].cur;
}

/** rlimit_max(): current's hard limit. */
export function rlimit_max(mm: MmStruct, r: RlimitResource): number {
  return mm.kernel.current.signal.rlim[r].max;
}

/** capable(): does current hold the capability? */
export function capable(mm: MmStruct, c: Capability): boolean {
  return mm.kernel.current.caps.has(c);
}

/** getrlimit(2) */
export function do_getrlimit(task: TaskCred, r: RlimitResource): Rlimit {
  return { ...task.signal.rlim[resource(r)] };
}

/** setrlimit(2) -> do_prlimit(): EINVAL if cur > max; EPERM raising max without CAP_SYS_RESOURCE. */
export function do_setrlimit(task: TaskCred, r: RlimitResource, cur: number, max: number): number {
  const old = task.signal.rlim[resource(r)];
  for (const v of [cur, max]) {
    if (v !== Infinity && !(Number.isInteger(v) && v >= 0)) throw new TypeError(`rlimit must be a non-negative integer or Infinity: ${v}`);
  }
  if (cur > max) return -EINVAL;
  if (max > old.max && !task.caps.has("sys_resource")) return -EPERM;
  old.cur = cur;
  old.max = max;
  return 0;
}
