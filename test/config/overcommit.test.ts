// Overcommit and the commit charge, site by site (docs/configuration.md
// "Overcommit and the commit charge"): what each operation charges to
// Committed_AS and gives back, and where each overcommit mode refuses, on the
// reference model and both engine builds. Under linux-6.18 (engine only) the
// 6.5 mprotect rule and the 6.12 MAP_FIXED order are checked too.
import { describe, expect, it } from "vitest";
import {
  ENOMEM, MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED,
  MREMAP_MAYMOVE, PROT_READ, PROT_WRITE, SIGSEGV, VM_ACCOUNT, VM_GROWSDOWN,
} from "../../src/abi/constants.js";
import { type KernelConfig, type KernelSim, type Policy, type ProcessSim, SyscallError } from "../../src/types.js";
import { IMPLS } from "../helpers/impls.js";

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** Committed_AS as the sum of the VM_ACCOUNT VMAs of the live processes (what every site must keep equal). */
function accountedPages(k: KernelSim): number {
  let n = 0;
  for (const p of k.processes()) for (const v of p.vmas()) if (v.flags & VM_ACCOUNT) n += (v.end - v.start) / P;
  return n;
}

function committed(k: KernelSim): number {
  const c = k.meminfo!().committedAs;
  expect(c).toBe(accountedPages(k));
  return c;
}

/** Each implementation under each policy it runs. */
const CASES: { name: string; policy: Policy; create: (c: KernelConfig) => KernelSim }[] = [];
for (const impl of IMPLS) {
  for (const policy of ["linux-5.17", "linux-6.18"] as const) {
    if (impl.name === "model" && policy === "linux-6.18") continue;
    CASES.push({ name: `${impl.name} ${policy}`, policy, create: impl.create });
  }
}

describe.each(CASES)("$name", ({ policy, create }) => {
  // no user reserve unless a test sets one: the limits below are then exact
  const kernel = (c: Partial<KernelConfig> = {}): { k: KernelSim; p: ProcessSim } => {
    const k = create({ policy, user_reserve_kbytes: 0, ...c });
    return { k, p: k.createProcess() };
  };
  const is618 = policy === "linux-6.18";
  /** The start of a free range of n pages with a free page on either side. */
  const freeRange = (p: ProcessSim, n: number): number => {
    const a = p.mmap(0, (n + 2) * P, PROT_READ, ANON, -1, 0);
    expect(p.munmap(a, (n + 2) * P)).toBe(0);
    return a + P;
  };

  it("mmap charges private writable memory only; munmap gives it back", () => {
    const { k, p } = kernel();
    const c0 = committed(k);
    const a = p.mmap(0, 10 * P, RW, ANON, -1, 0);
    expect(committed(k)).toBe(c0 + 10);
    p.mmap(0, 10 * P, PROT_READ, ANON, -1, 0);
    p.mmap(0, 10 * P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    p.mmap(0, 10 * P, RW, ANON | MAP_NORESERVE, -1, 0);
    expect(committed(k)).toBe(c0 + 10);
    expect(p.munmap(a + 2 * P, 3 * P)).toBe(0);
    expect(committed(k)).toBe(c0 + 7);
  });

  it("mode 2 ignores MAP_NORESERVE", () => {
    const { k, p } = kernel({ overcommit_memory: 2 });
    const c0 = committed(k);
    p.mmap(0, 10 * P, RW, ANON | MAP_NORESERVE, -1, 0);
    expect(committed(k)).toBe(c0 + 10);
  });

  it("mode 0 refuses one request larger than RAM + swap, nothing smaller", () => {
    const { k, p } = kernel({ overcommit_memory: 0, totalram_pages: 1000, total_swap_pages: 24 });
    const c0 = committed(k);
    expect(p.mmap(0, 1025 * P, RW, ANON, -1, 0)).toBe(-ENOMEM);
    expect(committed(k)).toBe(c0);
    expect(p.mmap(0, 1024 * P, RW, ANON, -1, 0)).toBeGreaterThan(0);
    expect(p.mmap(0, 1024 * P, RW, ANON, -1, 0)).toBeGreaterThan(0);
    expect(p.mmap(0, 5000 * P, RW, ANON | MAP_NORESERVE, -1, 0)).toBeGreaterThan(0);
    expect(committed(k)).toBe(c0 + 2048);
  });

  it("mode 1 never refuses", () => {
    const { k, p } = kernel({ overcommit_memory: 1, totalram_pages: 1000 });
    expect(p.mmap(0, 100000 * P, RW, ANON, -1, 0)).toBeGreaterThan(0);
    expect(committed(k)).toBeGreaterThan(100000);
  });

  it("mode 2: a request passes while Committed_AS with it stays below CommitLimit less the reserves", () => {
    // no CAP_SYS_ADMIN: the admin reserve counts; the user reserve is min(total_vm/32, user_reserve_kbytes)
    const { k, p } = kernel({
      overcommit_memory: 2, overcommit_kbytes: 40000, admin_reserve_kbytes: 400, user_reserve_kbytes: 200, cap_sys_admin: false,
    });
    expect(k.meminfo!().commitLimit).toBe(10000);
    const totalVm = p.counters().total_vm;
    const allowed = 10000 - 100 - Math.min(Math.floor(totalVm / 32), 50);
    const room = allowed - committed(k);
    expect(p.mmap(0, room * P, RW, ANON, -1, 0)).toBe(-ENOMEM);
    const a = p.mmap(0, (room - 1) * P, RW, ANON, -1, 0);
    expect(a).toBeGreaterThan(0);
    expect(committed(k)).toBe(allowed - 1);
    // full now: even a read-only mapping passes (not charged), a page of writable memory does not
    expect(p.mmap(0, P, PROT_READ, ANON, -1, 0)).toBeGreaterThan(0);
    expect(p.mmap(0, P, RW, ANON, -1, 0)).toBe(-ENOMEM);
  });

  it("mode 2: the admin reserve follows the calling task's CAP_SYS_ADMIN (cap_vm_enough_memory), not the mm's", () => {
    const { k, p } = kernel({ overcommit_memory: 2, overcommit_kbytes: 40000, admin_reserve_kbytes: 400 });
    const room = 10000 - committed(k);
    // with the capability the whole limit is there; leave 50 pages, less than the 100-page admin reserve
    expect(p.mmap(0, (room - 51) * P, RW, ANON, -1, 0)).toBeGreaterThan(0);
    const thread = p.cloneVm(); // same mm, its own credentials
    thread.capDrop("sys_admin");
    expect(thread.mmap(0, 10 * P, RW, ANON, -1, 0)).toBe(-ENOMEM);
    expect(p.mmap(0, 10 * P, RW, ANON, -1, 0)).toBeGreaterThan(0);
    expect(thread.capable("sys_admin")).toBe(false);
    expect(p.capable("sys_admin")).toBe(true);
  });

  it("mode 2: the ratio of RAM plus swap, with CAP_SYS_ADMIN no admin reserve", () => {
    const { k } = kernel({ overcommit_memory: 2, overcommit_ratio: 30, totalram_pages: 10000, total_swap_pages: 7 });
    expect(k.meminfo!().commitLimit).toBe(3007);
    k.configure({ overcommit_kbytes: 400 });
    expect(k.meminfo!().commitLimit).toBe(107);
  });

  it("a sysctl write does not re-check what is committed; later requests see it", () => {
    const { k, p } = kernel();
    p.mmap(0, 500 * P, RW, ANON, -1, 0);
    const c = committed(k);
    k.configure({ overcommit_memory: 2, overcommit_kbytes: 4 });
    expect(committed(k)).toBe(c);
    expect(p.mmap(0, P, RW, ANON, -1, 0)).toBe(-ENOMEM);
    k.configure({ overcommit_memory: 0 });
    expect(p.mmap(0, P, RW, ANON, -1, 0)).toBeGreaterThan(0);
  });

  it("mprotect to writable charges what was not charged; back to read-only keeps or drops it by release", () => {
    const { k, p } = kernel();
    const c0 = committed(k);
    const a = p.mmap(0, 8 * P, PROT_READ, ANON, -1, 0);
    expect(p.mprotect(a + 2 * P, 4 * P, RW)).toBe(0);
    expect(committed(k)).toBe(c0 + 4);
    expect(p.mprotect(a, 8 * P, RW)).toBe(0);
    expect(committed(k)).toBe(c0 + 8);
    expect(p.mprotect(a, 8 * P, PROT_READ)).toBe(0);
    // 5.17 keeps VM_ACCOUNT; 6.5+ drops it from an unfaulted anonymous VMA
    expect(committed(k)).toBe(is618 ? c0 : c0 + 8);
    const b = p.mmap(0, 4 * P, RW, ANON, -1, 0);
    expect(p.touch(b, true)).toBe(0);
    expect(p.mprotect(b, 4 * P, PROT_READ)).toBe(0);
    expect(committed(k)).toBe(is618 ? c0 + 4 : c0 + 12);
  });

  it("mprotect to writable is refused under mode 2 without headroom", () => {
    const { k, p } = kernel();
    const a = p.mmap(0, 8 * P, PROT_READ, ANON, -1, 0);
    const c = committed(k);
    k.configure({ overcommit_memory: 2, overcommit_kbytes: 4 * (c + 4) });
    expect(p.mprotect(a, 8 * P, RW)).toBe(-ENOMEM);
    expect(p.mprotect(a, 2 * P, RW)).toBe(0);
    expect(committed(k)).toBe(c + 2);
  });

  it("brk charges growth and gives back shrinking", () => {
    const { k, p } = kernel();
    const c0 = committed(k);
    const base = p.layout().start_brk;
    expect(p.brk(base + 20 * P)).toBe(base + 20 * P);
    expect(committed(k)).toBe(c0 + 20);
    expect(p.brk(base + 5 * P)).toBe(base + 5 * P);
    expect(committed(k)).toBe(c0 + 5);
    k.configure({ overcommit_memory: 2, overcommit_kbytes: 4 * (c0 + 10) });
    expect(p.brk(base + 50 * P)).toBe(base + 5 * P);
    expect(committed(k)).toBe(c0 + 5);
  });

  it("mremap: growth in place and moves charge the growth, DONTUNMAP all of the new range, shrinking gives back", () => {
    const { k, p } = kernel();
    const c0 = committed(k);
    const a = p.mmap(freeRange(p, 7), 4 * P, RW, ANON | MAP_FIXED, -1, 0);
    expect(p.mremap(a, 4 * P, 6 * P, 0, 0)).toBe(a);
    expect(committed(k)).toBe(c0 + 6);
    p.mmap(a + 6 * P, P, PROT_READ, ANON | MAP_FIXED, -1, 0); // blocks growth in place
    const b = p.mremap(a, 6 * P, 9 * P, MREMAP_MAYMOVE, 0);
    expect(b).not.toBe(a);
    expect(committed(k)).toBe(c0 + 9);
    const d = p.mremap(b, 9 * P, 9 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    expect(d).toBeGreaterThan(0);
    expect(committed(k)).toBe(c0 + 18);
    expect(p.mremap(d, 9 * P, 3 * P, 0, 0)).toBe(d);
    expect(committed(k)).toBe(c0 + 12);
    // a move of part of a VMA keeps the charge of the pieces left behind
    const e = p.mremap(b + 3 * P, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, b + 100 * P);
    expect(e).toBe(b + 100 * P);
    expect(committed(k)).toBe(c0 + 12);
  });

  it("mremap growth is refused under mode 2 without headroom", () => {
    const { k, p } = kernel();
    const a = p.mmap(0, 4 * P, RW, ANON, -1, 0);
    const c = committed(k);
    k.configure({ overcommit_memory: 2, overcommit_kbytes: 4 * (c + 3) });
    expect(p.mremap(a, 4 * P, 8 * P, MREMAP_MAYMOVE, 0)).toBe(-ENOMEM);
    expect(p.mremap(a, 4 * P, 5 * P, MREMAP_MAYMOVE, 0)).toBeGreaterThan(0);
    expect(committed(k)).toBe(c + 1);
  });

  it("mode 2 at the limit refuses even a move that charges nothing; a read-only one is not asked", () => {
    const { k, p } = kernel();
    const a = p.mmap(0, 4 * P, RW, ANON, -1, 0);
    const r = p.mmap(0, 4 * P, PROT_READ, ANON, -1, 0);
    const dst = freeRange(p, 8);
    k.configure({ overcommit_memory: 2, overcommit_kbytes: 4 * committed(k) });
    expect(p.mremap(a, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, dst)).toBe(-ENOMEM);
    expect(p.mremap(r, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, dst)).toBe(dst);
    k.configure({ overcommit_memory: 0 });
    expect(p.mremap(a, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 4 * P)).toBe(dst + 4 * P);
  });

  it("stack growth charges; refused it is a SIGSEGV", () => {
    const { k, p } = kernel();
    const stack = p.vmas().find((v) => v.flags & VM_GROWSDOWN)!;
    const c0 = committed(k);
    expect(p.touch(stack.start - 3 * P, true)).toBe(0);
    expect(committed(k)).toBe(c0 + 3);
    k.configure({ overcommit_memory: 2, overcommit_kbytes: 4 * (c0 + 3) });
    expect(p.touch(stack.start - 10 * P, true)).toBe(SIGSEGV);
    expect(committed(k)).toBe(c0 + 3);
  });

  it("fork charges each VM_ACCOUNT VMA again, exit gives it back; refused, fork fails with ENOMEM", () => {
    const { k, p } = kernel();
    p.mmap(0, 10 * P, RW, ANON, -1, 0);
    const c = committed(k);
    const child = p.fork();
    expect(committed(k)).toBe(2 * c);
    child.exit();
    expect(committed(k)).toBe(c);
    k.configure({ overcommit_memory: 2, overcommit_kbytes: 4 * (c + c / 2) });
    let err: unknown = null;
    try {
      p.fork();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as SyscallError).errno).toBe(ENOMEM);
    expect(k.processes().length).toBe(1);
    expect(committed(k)).toBe(c);
  });

  it("exec gives back the old image's charge and charges the new one", () => {
    const { k, p } = kernel();
    const c0 = committed(k);
    p.mmap(0, 10 * P, RW, ANON, -1, 0);
    p.exec();
    expect(committed(k)).toBe(c0);
  });

  it("MAP_FIXED over charged memory under mode 2: 5.17 unmaps first, 6.12+ charges only the new pages first", () => {
    const { k, p } = kernel();
    const a = p.mmap(freeRange(p, 12), 10 * P, RW, ANON | MAP_FIXED, -1, 0);
    const c = committed(k);
    k.configure({ overcommit_memory: 2, overcommit_kbytes: 4 * (c + 2) });
    // replacing 10 charged pages with 12: 5.17 asks for 12 after giving back 10; 6.12 asks for 2
    expect(p.mmap(a, 12 * P, RW, ANON | MAP_FIXED, -1, 0)).toBe(-ENOMEM);
    if (is618) {
      // refused before anything changed: the old mapping stays
      expect(p.vmas().some((v) => v.start === a && v.end === a + 10 * P)).toBe(true);
      expect(committed(k)).toBe(c);
      expect(p.mmap(a, 11 * P, RW, ANON | MAP_FIXED, -1, 0)).toBe(a);
      expect(committed(k)).toBe(c + 1);
    } else {
      // the unmap came first and is not undone
      expect(p.vmas().some((v) => v.start <= a && v.end > a)).toBe(false);
      expect(committed(k)).toBe(c - 10);
    }
  });
});
