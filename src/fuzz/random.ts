// Seeded randomness shared by `vmasim fuzz` and the property tests
// (test/property/): a small PRNG and the random kernel configurations the
// runs draw from their seeds. No Math.random anywhere: a seed fixes a run.
import type { KernelConfig } from "../types.js";

/** A deterministic random source: r(n) is in [0, n). xorshift32, seeded. */
export type Rand = (n: number) => number;

export function rng(seed: number): Rand {
  let s = (seed * 2654435761) >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s % n;
  };
}

/** FNV-1a over `S:i`: the seed of episode i of a run with seed S (a uint32), independent of what ran before. */
export function subSeed(seed: number, index: number): number {
  let h = 0x811c9dc5;
  for (const c of `${seed}:${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/**
 * The randomised knobs of one run (src/config/config.ts KNOBS): the zero page,
 * overcommit and RLIMIT_MEMLOCK without CAP_IPC_LOCK; the tests spread it over
 * their fixed choices (policy, max_map_count). RLIMIT_AS/DATA and the sysctl
 * and setrlimit words have property tests of their own (rlimits.test.ts,
 * overcommit.test.ts); `vmasim fuzz` changes them as steps.
 */
export function randomConfig(r: Rand): Partial<KernelConfig> {
  const c: Partial<KernelConfig> = {
    zero_page: r(2) === 0, // about half the runs without the zero page
  };
  // a quarter of the runs under strict overcommit with a CommitLimit that a
  // busy script reaches (the default image alone charges about 60 pages)
  if (r(4) === 0) {
    c.overcommit_memory = 2;
    c.totalram_pages = 1024 + r(8192);
    c.overcommit_ratio = 50 + r(100);
    c.cap_sys_admin = r(2) === 0;
  } else if (r(3) === 0) {
    c.overcommit_memory = 1;
  }
  // a quarter without CAP_IPC_LOCK, RLIMIT_MEMLOCK between 0 and 63 pages
  if (r(4) === 0) {
    c.cap_ipc_lock = false;
    c.rlimit_memlock = 4096 * r(64);
  }
  return c;
}

/** randomConfig() drawn from a run's seed, with a stream of its own (the script's generator is not disturbed). */
export function seedConfig(seed: number): Partial<KernelConfig> {
  return randomConfig(rng(0x2545f491 ^ seed));
}

/** The knobs of a config other than the policy, as `key=value` (for test names and failure reports). */
export function describeConfig(config: Partial<KernelConfig>): string {
  return Object.entries(config)
    .filter(([k, v]) => k !== "policy" && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "boolean" ? (v ? 1 : 0) : String(v)}`)
    .join(", ");
}
