// Resource limits and capabilities at each place the kernel checks them, on
// every implementation (the reference model, the engine's release and debug
// builds) under linux-5.17, and on the engine under linux-6.18 (the same
// rules; 6.x moved brk's memlock check into check_brk_limits() and renamed
// mlock_future_check() mlock_future_ok(), with the same results):
//   getrlimit/setrlimit (do_prlimit) and their inheritance;
//   may_expand_vm (RLIMIT_AS; RLIMIT_DATA with the Valgrind exception and
//   ignore_rlimit_data); check_data_rlimit (brk);
//   can_do_mlock / mlock_future_check (RLIMIT_MEMLOCK, CAP_IPC_LOCK) in mmap,
//   mlock, mlock2, mlockall, mremap, brk and stack growth;
//   acct_stack_growth (RLIMIT_STACK) and mmap_base() at process creation/exec.
import { describe, expect, it } from "vitest";
import {
  EAGAIN, EINVAL, ENOMEM, EPERM, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_LOCKED, MAP_PRIVATE, MAP_SHARED,
  MCL_CURRENT, MCL_FUTURE, MLOCK_ONFAULT, PROT_READ, PROT_WRITE, TASK_SIZE,
} from "../../src/abi/constants.js";
import { createKernelSync } from "../../src/engine/index.js";
import { mmapBase } from "../../src/image.js";
import type { KernelConfig, KernelSim, Policy, ProcessSim } from "../../src/types.js";
import { IMPLS } from "../helpers/impls.js";

const P = 4096;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const NOREPLACE = ANON | MAP_FIXED_NOREPLACE;
const RW = PROT_READ | PROT_WRITE;
/** A free region far from the default image. */
const BASE = 0x200000000;
const at = (page: number): number => BASE + page * P;
const SIGSEGV = 11;
const STACK_TOP = 0x7ffffffff000;
const MIB = 1024 * 1024;

interface Target {
  name: string;
  policy: Policy;
  create(config: KernelConfig): KernelSim;
}

const TARGETS: Target[] = [
  ...IMPLS.map((i) => ({ name: i.name, policy: "linux-5.17" as Policy, create: i.create })),
  { name: "engine", policy: "linux-6.18", create: (c: KernelConfig) => createKernelSync(c) },
];

for (const t of TARGETS) {
  const kernel = (extra: Partial<KernelConfig> = {}): KernelSim => t.create({ policy: t.policy, ...extra });
  const proc = (extra: Partial<KernelConfig> = {}): ProcessSim => kernel(extra).createProcess();
  /** A process without CAP_IPC_LOCK whose RLIMIT_MEMLOCK is `pages`. */
  const unprivileged = (pages: number): ProcessSim => {
    const p = proc({ cap_ipc_lock: false });
    expect(p.setrlimit("memlock", pages * P, pages * P)).toBe(0);
    return p;
  };

  describe(`resource limits on ${t.name} (${t.policy})`, () => {
    describe("getrlimit / setrlimit (do_prlimit)", () => {
      it("a new process starts with the configured limits (RLIMIT_STACK's hard limit unlimited)", () => {
        const p = proc({ rlimit_as: 1 << 30, rlimit_data: 1 << 29, rlimit_stack: 1 << 24, rlimit_memlock: 1 << 16 });
        expect(p.getrlimit("as")).toEqual({ cur: 1 << 30, max: 1 << 30 });
        expect(p.getrlimit("data")).toEqual({ cur: 1 << 29, max: 1 << 29 });
        expect(p.getrlimit("stack")).toEqual({ cur: 1 << 24, max: Infinity });
        expect(p.getrlimit("memlock")).toEqual({ cur: 1 << 16, max: 1 << 16 });
        const d = proc();
        expect(d.getrlimit("as")).toEqual({ cur: Infinity, max: Infinity });
        expect(d.getrlimit("memlock")).toEqual({ cur: 8 * MIB, max: 8 * MIB });
        expect(d.capable("ipc_lock") && d.capable("sys_admin") && d.capable("sys_resource")).toBe(true);
      });

      it("EINVAL when cur > max; EPERM raising max without CAP_SYS_RESOURCE; lowering is always allowed", () => {
        const p = proc();
        expect(p.setrlimit("data", 2 * P, P)).toBe(-EINVAL);
        expect(p.setrlimit("data", P, 2 * P)).toBe(0);
        expect(p.setrlimit("data", 4 * P, 4 * P)).toBe(0); // CAP_SYS_RESOURCE raises it
        p.capDrop("sys_resource");
        expect(p.capable("sys_resource")).toBe(false);
        expect(p.setrlimit("data", 4 * P, 5 * P)).toBe(-EPERM);
        expect(p.setrlimit("data", 4 * P, 4 * P)).toBe(0);
        expect(p.setrlimit("data", P, 3 * P)).toBe(0);
        expect(p.setrlimit("data", 3 * P, 3 * P)).toBe(0); // the soft limit up to the hard one
        expect(p.getrlimit("data")).toEqual({ cur: 3 * P, max: 3 * P });
        expect(p.setrlimit("data", Infinity, Infinity)).toBe(-EPERM);
        expect(() => p.setrlimit("data", -1, 0)).toThrow(TypeError);
      });

      it("fork copies the limits and capabilities; a thread (cloneVm) shares the limits, not the capabilities; exec keeps them", () => {
        const p = proc();
        expect(p.setrlimit("as", 1 << 40, 1 << 40)).toBe(0);
        const child = p.fork();
        const thread = p.cloneVm();
        expect(child.setrlimit("as", 1 << 39, 1 << 39)).toBe(0);
        expect(p.getrlimit("as").cur).toBe(1 << 40);
        expect(thread.setrlimit("as", 1 << 38, 1 << 38)).toBe(0);
        expect(p.getrlimit("as").cur).toBe(1 << 38);
        thread.capDrop("ipc_lock");
        expect(thread.capable("ipc_lock")).toBe(false);
        expect(p.capable("ipc_lock")).toBe(true);
        p.capDrop("sys_admin");
        const grandchild = p.fork();
        expect(grandchild.capable("sys_admin")).toBe(false);
        expect(grandchild.getrlimit("as").cur).toBe(1 << 38);
        grandchild.exec();
        expect(grandchild.getrlimit("as").cur).toBe(1 << 38);
        expect(grandchild.capable("sys_admin")).toBe(false);
      });

      it("each call checks the limits of the task making it", () => {
        const p = proc({ cap_ipc_lock: false });
        const child = p.fork();
        expect(child.setrlimit("memlock", 0, 0)).toBe(0);
        expect(p.mmap(at(0), P, RW, NOREPLACE | MAP_LOCKED, -1, 0)).toBe(at(0));
        expect(child.mmap(at(0), P, RW, NOREPLACE | MAP_LOCKED, -1, 0)).toBe(-EPERM);
        expect(p.mmap(at(1), P, RW, NOREPLACE | MAP_LOCKED, -1, 0)).toBe(at(1));
      });
    });

    describe("RLIMIT_AS (may_expand_vm)", () => {
      it("mmap, MAP_FIXED over own pages, mremap growth and brk stop at the limit (pages, rounded down)", () => {
        const p = proc();
        const used = p.counters().total_vm;
        expect(p.setrlimit("as", (used + 4) * P + 123, Infinity)).toBe(0);
        expect(p.mmap(at(0), 5 * P, PROT_READ, NOREPLACE, -1, 0)).toBe(-ENOMEM);
        expect(p.mmap(at(0), 3 * P, PROT_READ, NOREPLACE, -1, 0)).toBe(at(0));
        expect(p.mmap(at(2), 2 * P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(at(2)); // one page replaced
        expect(p.mmap(at(2), 3 * P, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(-ENOMEM);
        expect(p.mremap(at(0), 4 * P, 5 * P, 0, 0)).toBe(-ENOMEM);
        const brk = p.layout().brk;
        expect(p.brk(brk + P)).toBe(brk);
        expect(p.munmap(at(0), P)).toBe(0);
        expect(p.brk(brk + P)).toBe(brk + P);
      });
    });

    describe("RLIMIT_DATA (may_expand_vm, check_data_rlimit)", () => {
      it("counts private writable mappings only; mprotect to writable is checked", () => {
        const p = proc();
        const used = p.counters().data_vm;
        expect(p.setrlimit("data", (used + 2) * P, (used + 2) * P)).toBe(0);
        expect(p.mmap(at(0), 3 * P, RW, NOREPLACE, -1, 0)).toBe(-ENOMEM);
        expect(p.mmap(at(0), 3 * P, PROT_READ, NOREPLACE, -1, 0)).toBe(at(0));
        expect(p.mmap(at(4), 3 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)).toBe(at(4));
        expect(p.mprotect(at(0), 3 * P, RW)).toBe(-ENOMEM);
        expect(p.mprotect(at(0), 2 * P, RW)).toBe(0);
      });

      it("Valgrind's exception: a zero soft limit under a larger hard limit counts the hard one", () => {
        const p = proc();
        const used = p.counters().data_vm;
        expect(p.setrlimit("data", 0, (used + 2) * P)).toBe(0);
        expect(p.mmap(at(0), 2 * P, RW, NOREPLACE, -1, 0)).toBe(at(0));
        expect(p.mmap(at(2), P, RW, NOREPLACE, -1, 0)).toBe(-ENOMEM);
        expect(p.setrlimit("data", P, (used + 2) * P)).toBe(0);
        expect(p.mmap(at(3), P, RW, NOREPLACE, -1, 0)).toBe(-ENOMEM);
      });

      it("ignore_rlimit_data only warns", () => {
        const p = proc({ ignore_rlimit_data: true });
        expect(p.setrlimit("data", 0, 0)).toBe(0);
        expect(p.mmap(at(0), 4 * P, RW, NOREPLACE, -1, 0)).toBe(at(0));
      });

      it("brk: check_data_rlimit on the break (bytes, not pages), then may_expand_vm on data_vm", () => {
        const p = proc({ ignore_rlimit_data: true });
        const start = p.layout().start_brk;
        expect(p.setrlimit("data", 2 * P + 100, Infinity)).toBe(0);
        expect(p.brk(start + 2 * P + 100)).toBe(start + 2 * P + 100);
        expect(p.brk(start + 2 * P + 101)).toBe(start + 2 * P + 100); // ignore_rlimit_data does not apply here
        expect(p.brk(start)).toBe(start);

        const q = proc();
        const s = q.layout().start_brk;
        const used = q.counters().data_vm;
        expect(q.setrlimit("data", (used + 3) * P, Infinity)).toBe(0);
        expect(q.brk(s + 3 * P)).toBe(s + 3 * P);
        expect(q.brk(s + 3 * P + 1)).toBe(s + 3 * P); // a fourth heap page: data_vm over the limit
      });
    });

    describe("RLIMIT_MEMLOCK and CAP_IPC_LOCK", () => {
      it("with CAP_IPC_LOCK the limit is ignored everywhere, even a zero one", () => {
        const p = proc({ rlimit_memlock: 0 });
        expect(p.mmap(at(0), 4 * P, RW, NOREPLACE | MAP_LOCKED, -1, 0)).toBe(at(0));
        expect(p.mmap(at(4), 4 * P, RW, NOREPLACE, -1, 0)).toBe(at(4));
        expect(p.mlock(at(4), 4 * P, 0)).toBe(0);
        expect(p.mremap(at(0), 8 * P, 12 * P, 0, 0)).toBe(at(0));
        expect(p.mlockall(MCL_CURRENT | MCL_FUTURE)).toBe(0);
        expect(p.counters().locked_vm).toBeGreaterThan(12);
      });

      it("a zero limit without the capability: EPERM from mlock, mlock2, mlockall and MAP_LOCKED", () => {
        const p = unprivileged(0);
        expect(p.mmap(at(0), P, RW, NOREPLACE, -1, 0)).toBe(at(0));
        expect(p.mlock(at(0), P, 0)).toBe(-EPERM);
        expect(p.mlock(at(0), P, MLOCK_ONFAULT)).toBe(-EPERM);
        expect(p.mlock(at(0), P, 0x10)).toBe(-EINVAL); // mlock2's flags are checked first
        expect(p.mlockall(MCL_FUTURE)).toBe(-EPERM);
        expect(p.mlockall(0)).toBe(-EINVAL);
        expect(p.mmap(at(1), P, RW, NOREPLACE | MAP_LOCKED, -1, 0)).toBe(-EPERM);
      });

      it("mlock: ENOMEM beyond the limit; pages of the range already locked are not counted twice", () => {
        const p = unprivileged(4);
        expect(p.mmap(at(0), 8 * P, RW, NOREPLACE, -1, 0)).toBe(at(0));
        expect(p.mlock(at(0), 5 * P, 0)).toBe(-ENOMEM);
        expect(p.mlock(at(0), 3 * P, MLOCK_ONFAULT)).toBe(0);
        expect(p.mlock(at(2), 2 * P, 0)).toBe(0); // 3 + 2 - 1 already locked = 4
        expect(p.mlock(at(4), P, 0)).toBe(-ENOMEM);
        expect(p.counters().locked_vm).toBe(4);
        expect(p.munlock(at(0), 8 * P)).toBe(0);
        expect(p.mlock(at(4), 4 * P, 0)).toBe(0);
      });

      it("MAP_LOCKED and mlockall(MCL_FUTURE) mappings: EAGAIN beyond the limit", () => {
        const p = unprivileged(4);
        expect(p.mmap(at(0), 5 * P, RW, NOREPLACE | MAP_LOCKED, -1, 0)).toBe(-EAGAIN);
        expect(p.mmap(at(0), 3 * P, RW, NOREPLACE | MAP_LOCKED, -1, 0)).toBe(at(0));
        expect(p.mlockall(MCL_FUTURE)).toBe(0);
        expect(p.mmap(at(4), 2 * P, RW, NOREPLACE, -1, 0)).toBe(-EAGAIN);
        expect(p.mmap(at(4), P, RW, NOREPLACE, -1, 0)).toBe(at(4));
        expect(p.counters().locked_vm).toBe(4);
      });

      it("mremap growing a locked VMA: EAGAIN beyond the limit, before RLIMIT_AS", () => {
        const p = unprivileged(4);
        expect(p.mmap(at(0), 3 * P, RW, NOREPLACE | MAP_LOCKED, -1, 0)).toBe(at(0));
        const used = p.counters().total_vm;
        expect(p.setrlimit("as", used * P, Infinity)).toBe(0);
        expect(p.mremap(at(0), 3 * P, 5 * P, 0, 0)).toBe(-EAGAIN);
        expect(p.mremap(at(0), 3 * P, 4 * P, 0, 0)).toBe(-ENOMEM);
        expect(p.setrlimit("as", Infinity, Infinity)).toBe(0);
        expect(p.mremap(at(0), 3 * P, 4 * P, 0, 0)).toBe(at(0));
      });

      it("mlockall(MCL_CURRENT): ENOMEM when total_vm exceeds the limit; brk under MCL_FUTURE stops at it", () => {
        const p = unprivileged(4);
        expect(p.mlockall(MCL_CURRENT)).toBe(-ENOMEM);
        const total = p.counters().total_vm;
        expect(p.setrlimit("memlock", (total + 2) * P, (total + 2) * P)).toBe(0);
        expect(p.mlockall(MCL_CURRENT | MCL_FUTURE)).toBe(0);
        const locked = p.counters().locked_vm;
        const limit = total + 2;
        const brk = p.layout().brk;
        expect(p.brk(brk + (limit - locked + 1) * P)).toBe(brk);
        expect(p.brk(brk + (limit - locked) * P)).toBe(brk + (limit - locked) * P);
        expect(p.counters().locked_vm).toBe(limit);
      });
    });

    describe("RLIMIT_STACK and stack growth (acct_stack_growth)", () => {
      it("the stack grows to RLIMIT_STACK and no further", () => {
        const p = proc();
        expect(p.setrlimit("stack", 64 * P, Infinity)).toBe(0);
        expect(p.touch(STACK_TOP - 64 * P, true)).toBe(0);
        expect(p.touch(STACK_TOP - 65 * P, true)).toBe(SIGSEGV);
      });

      it("RLIMIT_AS also limits it, and RLIMIT_MEMLOCK a locked stack without CAP_IPC_LOCK", () => {
        const p = proc();
        const total = p.counters().total_vm;
        expect(p.setrlimit("as", (total + 2) * P, Infinity)).toBe(0);
        const stackStart = p.vmas().at(-1)!.start;
        expect(p.touch(stackStart - 2 * P, true)).toBe(0);
        expect(p.touch(stackStart - 3 * P, true)).toBe(SIGSEGV);

        const q = unprivileged(1 << 20);
        expect(q.mlockall(MCL_CURRENT)).toBe(0);
        const locked = q.counters().locked_vm;
        expect(q.setrlimit("memlock", (locked + 1) * P, (locked + 1) * P)).toBe(0);
        const s = q.vmas().at(-1)!.start;
        expect(q.touch(s - P, true)).toBe(0);
        expect(q.touch(s - 2 * P, true)).toBe(SIGSEGV);
      });
      it("a MAP_GROWSDOWN mapping made after mlockall(MCL_FUTURE) is locked: its growth stops at RLIMIT_MEMLOCK", () => {
        const p = unprivileged(6);
        expect(p.mlockall(MCL_FUTURE)).toBe(0);
        expect(p.mmap(at(100), 4 * P, RW, NOREPLACE | MAP_GROWSDOWN, -1, 0)).toBe(at(100));
        expect(p.counters().locked_vm).toBe(4);
        expect(p.touch(at(98), true)).toBe(0);
        expect(p.counters().locked_vm).toBe(6);
        expect(p.touch(at(97), true)).toBe(SIGSEGV);
        p.capDrop("sys_resource");
        expect(p.setrlimit("memlock", 7 * P, 7 * P)).toBe(-EPERM);
      });
    });

    describe("mmap_base follows RLIMIT_STACK (mmap_base() at exec)", () => {
      it("8 MiB and anything up to 127 MiB keep TASK_SIZE - 128 MiB; more moves it down, clamped at 5/6 of TASK_SIZE", () => {
        expect(proc().layout().mmap_base).toBe(0x7ffff7fff000);
        expect(proc({ rlimit_stack: 100 * MIB }).layout().mmap_base).toBe(0x7ffff7fff000);
        expect(proc({ rlimit_stack: 1024 * MIB }).layout().mmap_base).toBe(TASK_SIZE - 1025 * MIB);
        const gapMax = Math.floor(TASK_SIZE / 6) * 5;
        expect(proc({ rlimit_stack: Infinity }).layout().mmap_base).toBe(Math.ceil((TASK_SIZE - gapMax) / P) * P);
        expect(mmapBase(1024 * MIB + 1)).toBe(TASK_SIZE - 1025 * MIB); // PAGE_ALIGN rounds up
        expect(mmapBase(1024 * MIB + P + 1)).toBe(TASK_SIZE - 1025 * MIB - P);
      });

      it("exec lays out the new image for the task's RLIMIT_STACK; the image's libraries move with mmap_base", () => {
        const p = proc();
        const before = p.vmas();
        expect(p.setrlimit("stack", 1024 * MIB, Infinity)).toBe(0);
        expect(p.layout().mmap_base).toBe(0x7ffff7fff000); // only exec recomputes it
        p.exec();
        expect(p.layout().mmap_base).toBe(TASK_SIZE - 1025 * MIB);
        const after = p.vmas();
        expect(after.length).toBe(before.length);
        const shift = TASK_SIZE - 1025 * MIB - 0x7ffff7fff000;
        for (let i = 0; i < before.length; i++) {
          const moved = before[i]!.start >= 0x7ff000000000 && before[i]!.start < 0x7ffffff00000;
          expect(after[i]!.start - before[i]!.start).toBe(moved ? shift : 0);
        }
        // a hint-less mmap lands right below the libraries, as before
        expect(p.mmap(0, P, PROT_READ, ANON, -1, 0)).toBeLessThan(TASK_SIZE - 1025 * MIB);
      });
    });
  });
}
