// Hostile arguments through the library API (issue 13), on every
// implementation (the reference model, the engine's release and debug builds)
// under linux-5.17, and on the engine under linux-6.18.
//
// Where the kernel would see the value (any integer: C converts it to an
// unsigned long, src/types.ts), the expected result is the kernel's errno. The
// values marked "6.18" were checked on Linux 6.18 with a small C program
// making the raw syscalls; the rest follow the v5.17 sources named per row.
// Where JS cannot express a C value (NaN, Infinity, fractions, strings,
// BigInt, undefined) the call throws a TypeError or RangeError naming the call
// and the argument, with the same words from the engine and the model
// (src/abi/args.ts). After all of it the checker passes and the process works.
import { describe, expect, it } from "vitest";
import {
  EFAULT, EINVAL, ENOMEM, ENOSYS, EPERM, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MCL_CURRENT, MCL_ONFAULT,
  MREMAP_FIXED, MREMAP_MAYMOVE, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_SEM, PROT_WRITE,
} from "../../src/abi/constants.js";
import { checkKernel } from "../../src/check/index.js";
import { createKernelSync } from "../../src/engine/index.js";
import { KernelDisposedError, type KernelConfig, type KernelSim, type Policy, type ProcessSim } from "../../src/types.js";
import { IMPLS } from "../helpers/impls.js";

const P = 4096;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;
/** A 4-page read-write VMA every case may use (far from the default image). */
const M = 0x200000000;
const SIGSEGV = 11;
const T47 = 2 ** 47, T53 = 2 ** 53, T64 = 2 ** 64;

/** What a case expects: a result, "address" (any page-aligned user address), or the error class thrown. */
type Expect = number | "address" | typeof TypeError | typeof RangeError;
interface Case { name: string; call: (p: ProcessSim) => number; expect: Expect | { "5.17": Expect; "6.18": Expect } }

// `x as never`: values the TypeScript signature rejects, as a JS caller could pass them
const CASES: Case[] = [
  // mmap: do_mmap() and get_unmapped_area() (mm/mmap.c)
  { name: "mmap len 0", call: (p) => p.mmap(0, 0, RW, ANON, -1, 0), expect: -EINVAL },
  { name: "mmap len -1 (PAGE_ALIGN wraps to 0; 6.18)", call: (p) => p.mmap(0, -1, RW, ANON, -1, 0), expect: -ENOMEM },
  { name: "mmap len -4096 (6.18)", call: (p) => p.mmap(0, -4096, RW, ANON, -1, 0), expect: -ENOMEM },
  { name: "mmap len 2^47 (6.18)", call: (p) => p.mmap(0, T47, RW, ANON, -1, 0), expect: -ENOMEM },
  { name: "mmap len 2^53 (6.18)", call: (p) => p.mmap(0, T53, RW, ANON, -1, 0), expect: -ENOMEM },
  { name: "mmap len 2^64 (saturates at 2^64-1)", call: (p) => p.mmap(0, T64, RW, ANON, -1, 0), expect: -ENOMEM },
  { name: "mmap len -2^70 (saturates at -2^63)", call: (p) => p.mmap(0, -(2 ** 70), RW, ANON, -1, 0), expect: -ENOMEM },
  { name: "mmap MAP_FIXED at 2^64-1: IS_ERR_VALUE, EPERM (6.18)", call: (p) => p.mmap(-1, P, RW, ANON | MAP_FIXED, -1, 0), expect: -EPERM },
  { name: "mmap MAP_FIXED at 2^64 (saturates: the same)", call: (p) => p.mmap(T64, P, RW, ANON | MAP_FIXED, -1, 0), expect: -EPERM },
  { name: "mmap MAP_FIXED at -4096 (6.18)", call: (p) => p.mmap(-4096, P, RW, ANON | MAP_FIXED, -1, 0), expect: -ENOMEM },
  { name: "mmap MAP_FIXED at 2^63 (6.18)", call: (p) => p.mmap(2 ** 63, P, RW, ANON | MAP_FIXED, -1, 0), expect: -ENOMEM },
  { name: "mmap MAP_FIXED at 2^53", call: (p) => p.mmap(T53, P, RW, ANON | MAP_FIXED, -1, 0), expect: -ENOMEM },
  { name: "mmap MAP_FIXED at 2^47 (6.18)", call: (p) => p.mmap(T47, P, RW, ANON | MAP_FIXED, -1, 0), expect: -ENOMEM },
  { name: "mmap MAP_FIXED unaligned (6.18)", call: (p) => p.mmap(M + 4 * P + 1, P, RW, ANON | MAP_FIXED, -1, 0), expect: -EINVAL },
  { name: "mmap unaligned hint is only a hint (6.18)", call: (p) => p.mmap(M + 8 * P + 1, P, RW, ANON, -1, 0), expect: "address" },
  { name: "mmap hint 2^53 is only a hint", call: (p) => p.mmap(T53, P, RW, ANON, -1, 0), expect: "address" },
  { name: "mmap addr -0 is 0", call: (p) => p.mmap(-0, P, RW, ANON, -1, 0), expect: "address" },
  { name: "mmap unknown prot bit is ignored (6.18)", call: (p) => p.mmap(0, P, 0x80 | RW, ANON, -1, 0), expect: "address" },
  { name: "mmap unknown flag bit is ignored (6.18)", call: (p) => p.mmap(0, P, RW, ANON | 0x40000000, -1, 0), expect: "address" },
  { name: "mmap flag bit 32 is ignored (6.18)", call: (p) => p.mmap(0, P, RW, ANON + 2 ** 32, -1, 0), expect: "address" },
  { name: "mmap without a mapping type (6.18)", call: (p) => p.mmap(0, P, RW, MAP_ANONYMOUS, -1, 0), expect: -EINVAL },
  { name: "mmap unaligned offset (6.18)", call: (p) => p.mmap(0, P, RW, ANON, -1, 1), expect: -EINVAL },
  { name: "mmap len 1.5", call: (p) => p.mmap(0, 1.5, RW, ANON, -1, 0), expect: RangeError },
  { name: "mmap len NaN", call: (p) => p.mmap(0, NaN, RW, ANON, -1, 0), expect: RangeError },
  { name: "mmap len Infinity", call: (p) => p.mmap(0, Infinity, RW, ANON, -1, 0), expect: RangeError },
  { name: "mmap addr -Infinity", call: (p) => p.mmap(-Infinity, P, RW, ANON, -1, 0), expect: RangeError },
  { name: "mmap len as a string", call: (p) => p.mmap(0, "4096" as never, RW, ANON, -1, 0), expect: TypeError },
  { name: "mmap len as a BigInt", call: (p) => p.mmap(0, 4096n as never, RW, ANON, -1, 0), expect: TypeError },
  { name: "mmap prot undefined", call: (p) => p.mmap(0, P, undefined as never, ANON, -1, 0), expect: TypeError },
  { name: "mmap flags null", call: (p) => p.mmap(0, P, RW, null as never, -1, 0), expect: TypeError },
  { name: "mmap file NaN", call: (p) => p.mmap(0, P, RW, ANON, NaN, 0), expect: RangeError },
  { name: "mmap off as an object", call: (p) => p.mmap(0, P, RW, ANON, -1, {} as never), expect: TypeError },

  // mprotect: do_mprotect_pkey() (mm/mprotect.c)
  { name: "mprotect unknown prot bit 0x80 (6.18)", call: (p) => p.mprotect(M, P, 0x80), expect: -EINVAL },
  { name: "mprotect unknown prot bit 0x10 (6.18)", call: (p) => p.mprotect(M, P, 0x10), expect: -EINVAL },
  { name: "mprotect PROT_SEM is accepted (6.18)", call: (p) => p.mprotect(M, P, PROT_SEM | RW), expect: 0 },
  { name: "mprotect GROWSDOWN|GROWSUP (6.18)", call: (p) => p.mprotect(M, P, PROT_GROWSDOWN | PROT_GROWSUP | PROT_READ), expect: -EINVAL },
  { name: "mprotect prot -1 (every bit)", call: (p) => p.mprotect(M, P, -1), expect: -EINVAL },
  { name: "mprotect len 0 (6.18)", call: (p) => p.mprotect(M, 0, PROT_READ), expect: 0 },
  { name: "mprotect len -1 (6.18)", call: (p) => p.mprotect(M, -1, PROT_READ), expect: -ENOMEM },
  { name: "mprotect len 2^64", call: (p) => p.mprotect(M, T64, PROT_READ), expect: -ENOMEM },
  { name: "mprotect at -4096 (6.18)", call: (p) => p.mprotect(-4096, P, PROT_READ), expect: -ENOMEM },
  { name: "mprotect at 2^53", call: (p) => p.mprotect(T53, P, PROT_READ), expect: -ENOMEM },
  { name: "mprotect unaligned (6.18)", call: (p) => p.mprotect(M + 1, P, PROT_READ), expect: -EINVAL },
  { name: "mprotect prot 2^32+1: prot is an unsigned long (6.18)", call: (p) => p.mprotect(M, P, 2 ** 32 + 1), expect: -EINVAL },
  { name: "mprotect prot -2^32+1 (high bits set)", call: (p) => p.mprotect(M, P, -(2 ** 32) + 1), expect: -EINVAL },
  { name: "mprotect len 0 returns before the prot check", call: (p) => p.mprotect(M, 0, 2 ** 32), expect: 0 },
  { name: "mprotect prot 0.5", call: (p) => p.mprotect(M, P, 0.5), expect: RangeError },

  // munmap: __do_munmap() (mm/mmap.c)
  { name: "munmap len 0 (6.18)", call: (p) => p.munmap(M, 0), expect: -EINVAL },
  { name: "munmap len -1 (6.18)", call: (p) => p.munmap(M, -1), expect: -EINVAL },
  { name: "munmap len 2^64", call: (p) => p.munmap(M, T64), expect: -EINVAL },
  { name: "munmap at 2^47 (6.18)", call: (p) => p.munmap(T47, P), expect: -EINVAL },
  { name: "munmap at -4096 (6.18)", call: (p) => p.munmap(-4096, P), expect: -EINVAL },
  { name: "munmap unaligned (6.18)", call: (p) => p.munmap(M + 1, P), expect: -EINVAL },
  { name: "munmap of nothing", call: (p) => p.munmap(M + 64 * P, P), expect: 0 },
  { name: "munmap addr undefined", call: (p) => p.munmap(undefined as never, P), expect: TypeError },

  // madvise: do_madvise() (mm/madvise.c); advice is an int
  { name: "madvise unknown advice 1000 (6.18)", call: (p) => p.madvise(M, P, 1000), expect: -EINVAL },
  { name: "madvise advice -1 (6.18)", call: (p) => p.madvise(M, P, -1), expect: -EINVAL },
  { name: "madvise advice 2^32+4: the int is 4 (6.18)", call: (p) => p.madvise(M, P, 2 ** 32 + 4), expect: 0 },
  { name: "madvise len -1 (6.18)", call: (p) => p.madvise(M, -1, 4), expect: -EINVAL },
  { name: "madvise len 0 (6.18)", call: (p) => p.madvise(M, 0, 4), expect: 0 },
  { name: "madvise unaligned (6.18)", call: (p) => p.madvise(M + 1, P, 4), expect: -EINVAL },
  { name: "madvise advice NaN", call: (p) => p.madvise(M, P, NaN), expect: RangeError },

  // mlock2 / mlockall: unknown flags (mm/mlock.c)
  { name: "mlock2 unknown flag (6.18)", call: (p) => p.mlock(M, P, 2), expect: -EINVAL },
  { name: "mlock len 2^53 (no such range)", call: (p) => p.mlock(M, T53, 0), expect: -ENOMEM },
  { name: "mlockall 0 (6.18)", call: (p) => p.mlockall(0), expect: -EINVAL },
  { name: "mlockall unknown flag (6.18)", call: (p) => p.mlockall(8 | MCL_CURRENT), expect: -EINVAL },
  { name: "mlockall MCL_ONFAULT alone (6.18)", call: (p) => p.mlockall(MCL_ONFAULT), expect: -EINVAL },
  { name: "munlock len -1: PAGE_ALIGN wraps to 0, nothing to do (6.18)", call: (p) => p.munlock(M, -1), expect: 0 },
  { name: "mlock2 flags 2^32: the int is 0 (6.18)", call: (p) => p.mlock(M, P, 2 ** 32), expect: 0 },
  { name: "mlockall flags 2^32+1: the int is MCL_CURRENT (6.18)", call: (p) => p.mlockall(2 ** 32 + 1), expect: 0 },

  // mremap (mm/mremap.c)
  { name: "mremap unknown flag (6.18)", call: (p) => p.mremap(M, P, P, 0x80, 0), expect: -EINVAL },
  { name: "mremap flags 2^32: flags is an unsigned long (6.18)", call: (p) => p.mremap(M, P, P, 2 ** 32, 0), expect: -EINVAL },
  { name: "mremap newLen 0 (6.18)", call: (p) => p.mremap(M, P, 0, 0, 0), expect: -EINVAL },
  { name: "mremap newLen -1 (6.18)", call: (p) => p.mremap(M, P, -1, MREMAP_MAYMOVE, 0), expect: -EINVAL },
  { name: "mremap oldLen -1 (6.18)", call: (p) => p.mremap(M, -1, P, MREMAP_MAYMOVE, 0), expect: -EINVAL },
  { name: "mremap at -4096: no VMA (6.18; 5.17's sign quirk)", call: (p) => p.mremap(-4096, P, P, MREMAP_MAYMOVE, 0), expect: { "5.17": EFAULT, "6.18": -EFAULT } },
  { name: "mremap MREMAP_FIXED to -4096 (6.18)", call: (p) => p.mremap(M, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, -4096), expect: -EINVAL },
  { name: "mremap MREMAP_FIXED to 2^47 (6.18)", call: (p) => p.mremap(M, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, T47), expect: -EINVAL },
  { name: "mremap newAddr Infinity", call: (p) => p.mremap(M, P, P, 0, Infinity), expect: RangeError },

  // brk: a failed brk returns the old break (mm/mmap.c)
  { name: "brk(-1) fails: the old break", call: (p) => p.brk(-1) - p.brk(0), expect: 0 },
  { name: "brk(2^64) fails: the old break", call: (p) => p.brk(T64) - p.brk(0), expect: 0 },
  { name: "brk(NaN)", call: (p) => p.brk(NaN), expect: RangeError },

  // mseal: ENOSYS before 6.10; 6.18 checks flags and the length (mm/mseal.c)
  { name: "mseal unknown flag (6.18)", call: (p) => p.mseal(M, P, 1), expect: { "5.17": -ENOSYS, "6.18": -EINVAL } },
  { name: "mseal len -1 (6.18)", call: (p) => p.mseal(M, -1, 0), expect: { "5.17": -ENOSYS, "6.18": -EINVAL } },
  { name: "mseal flags as a string", call: (p) => p.mseal(M, P, "0" as never), expect: TypeError },

  // user accesses: a kernel address is SIGSEGV (the model's fault path; the engine's user_access)
  { name: "touch at 2^47", call: (p) => p.touch(T47, true), expect: SIGSEGV },
  { name: "touch at -1", call: (p) => p.touch(-1, false), expect: SIGSEGV },
  { name: "touch at 2^64", call: (p) => p.touch(T64, true), expect: SIGSEGV },
  { name: "peek at 2^53", call: (p) => p.peek(T53), expect: -SIGSEGV },
  { name: "touch at NaN", call: (p) => p.touch(NaN, true), expect: RangeError },
  { name: "peek at a BigInt", call: (p) => p.peek(BigInt(M) as never), expect: TypeError },

  // setAnonName (prctl PR_SET_VMA_ANON_NAME, kernel/sys.c)
  { name: "setAnonName len -1", call: (p) => p.setAnonName(M, -1, "x"), expect: -EINVAL },
  { name: "setAnonName addr fractional", call: (p) => p.setAnonName(M + 0.5, P, "x"), expect: RangeError },
  { name: "setAnonName name as a number", call: (p) => p.setAnonName(M, P, 5 as never), expect: TypeError },
  { name: "setAnonName name undefined", call: (p) => p.setAnonName(M, P, undefined as never), expect: TypeError },
];

interface Target { name: string; policy: Policy; release: "5.17" | "6.18"; create(config: KernelConfig): KernelSim }
const TARGETS: Target[] = [
  ...IMPLS.map((i) => ({ name: i.name, policy: "linux-5.17" as Policy, release: "5.17" as const, create: i.create })),
  { name: "engine", policy: "linux-6.18", release: "6.18", create: (c: KernelConfig) => createKernelSync(c) },
];

function setUp(t: Target): { k: KernelSim; p: ProcessSim } {
  const k = t.create({ policy: t.policy });
  const p = k.createProcess();
  expect(p.mmap(M, 4 * P, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(M);
  return { k, p };
}

/** The outcome of a call: its result, or the error's class and message. */
function outcome(f: () => number): number | string {
  try {
    return f();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

for (const t of TARGETS) {
  describe(`hostile API arguments on ${t.name} (${t.policy})`, () => {
    it.each(CASES.map((c) => [c.name, c] as const))("%s", (_, c) => {
      const { k, p } = setUp(t);
      const want = typeof c.expect === "object" ? c.expect[t.release] : c.expect;
      if (typeof want === "function") {
        expect(() => c.call(p)).toThrow(want);
        // the error names the call and the argument
        expect(() => c.call(p)).toThrow(/^[a-zA-Z]+: argument [a-zA-Z]+ must be (an integer|a string or null)/);
      } else if (want === "address") {
        const r = c.call(p);
        expect(r % P === 0 && r > 0 && r < T47, `0x${r.toString(16)}`).toBe(true);
      } else {
        expect(c.call(p)).toBe(want);
      }
      expect(checkKernel(k)).toEqual([]);
      // still usable: the region is there and a new mapping works
      expect(p.touch(M, true)).toBe(0);
      expect(p.mmap(M + 32 * P, P, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(M + 32 * P);
    });

    it("a process used after it exited throws, and the kernel goes on", () => {
      const { k, p } = setUp(t);
      const q = k.createProcess();
      p.exit();
      expect(p.exited).toBe(true);
      for (const f of [() => p.mmap(0, P, RW, ANON, -1, 0), () => p.munmap(M, P), () => p.touch(M, true), () => p.vmas(), () => p.fork(), () => p.exit()]) {
        expect(f).toThrow(/process \d+ has exited/);
      }
      expect(q.mmap(M, P, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(M);
      expect(checkKernel(k)).toEqual([]);
    });

    it("a kernel used after dispose() throws KernelDisposedError, from the kernel and its processes", () => {
      const { k, p } = setUp(t);
      k.dispose!();
      k.dispose!(); // twice is fine
      for (const f of [() => p.mmap(0, P, RW, ANON, -1, 0), () => p.touch(M, true), () => p.vmas(), () => k.createProcess(), () => k.memory(), () => k.createFile("/x", 1)]) {
        expect(f).toThrow(KernelDisposedError);
      }
    });
  });
}

describe("the engine and the model refuse the same arguments with the same words", () => {
  const model = IMPLS.find((i) => i.name === "model")!;
  const engine = IMPLS.find((i) => i.name === "engine")!;
  it.each(CASES.filter((c) => typeof c.expect === "function").map((c) => [c.name, c] as const))("%s", (_, c) => {
    const a = setUp({ name: "model", policy: "linux-5.17", release: "5.17", create: model.create });
    const b = setUp({ name: "engine", policy: "linux-5.17", release: "5.17", create: engine.create });
    expect(outcome(() => c.call(b.p))).toBe(outcome(() => c.call(a.p)));
  });
});
