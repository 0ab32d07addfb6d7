// A small deterministic PRNG for tests (mulberry32): the same seed gives the
// same sequence in every run, so a failing seed can be replayed.

/** Uniform numbers in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Whole numbers: r(n) is in [0, n). */
export function mulberry32Int(seed: number): (n: number) => number {
  const u = mulberry32(seed);
  return (n) => Math.floor(u() * n);
}
