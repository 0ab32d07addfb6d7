// Scenario scripts aimed at the series' merges (docs/policies.md): the
// general generator (src/scenario/generate.ts) rarely puts two faulted VMAs
// with different anon_vmas next to each other with continuous pgoffs, so
// these scripts work in a window of a few dozen pages with the ingredients
// of the §12 scenarios: small anonymous (and some private file) mappings
// placed next to each other, many write faults, DONTDUMP / DODUMP and
// protection flips on parts of mappings (different anon_vmas, then cases 4-8),
// mremap moves of faulted pieces within the window (whole and partial,
// sometimes DONTUNMAP), munmaps and up to two forks whose children stay.
// A rough shadow of the mapped pages aims most operations at mapped memory.
// Deterministic per seed.
import { rng } from "./process-steps.js";

export function seedScript(seed: number, ops: number, window = 24): string {
  const r = rng(seed);
  const lines = [`# seed-series script: seed=${seed} ops=${ops} window=${window}`];
  const mapped = new Uint8Array(window + 8);
  const set = (p: number, n: number, v: number) => { for (let i = p; i < Math.min(p + n, mapped.length); i++) mapped[i] = v; };
  const free = (p: number, n: number) => { for (let i = p; i < p + n; i++) if (mapped[i]) return false; return true; };
  /** a mapped page (or any page when nothing is mapped) */
  const mappedPage = () => {
    const m: number[] = [];
    mapped.forEach((v, i) => { if (v && i < window) m.push(i); });
    return m.length && r(100) < 90 ? m[r(m.length)] : r(window);
  };
  let forks = 0;
  for (let i = 0; i < ops; i++) {
    const k = r(100);
    const n = 1 + r(4);
    if (k < 20) {
      // next to an existing mapping more often than not
      let p = r(window);
      if (r(100) < 60) { const q = mappedPage(); p = r(2) ? q + 1 : Math.max(0, q - n); }
      const file = r(100) < 12;
      const fixed = r(100) < 20;
      lines.push(`mmap ${p} ${n} rw${file ? ` file 0 ${p}` : ""} ${fixed ? "fixed" : "noreplace"}`);
      if (fixed || free(p, n)) set(p, n, 1);
    } else if (k < 52) {
      lines.push(r(100) < 85 ? `touch ${mappedPage()} write` : `touch ${mappedPage()} read`);
    } else if (k < 67) {
      lines.push(`madvise ${mappedPage()} ${n} ${r(2) ? "dontdump" : "dodump"}`);
    } else if (k < 73) {
      lines.push(`mprotect ${mappedPage()} ${n} ${["rw", "rw", "r", "rwx"][r(4)]}`);
    } else if (k < 90) {
      const p = mappedPage();
      let to = r(window);
      if (r(100) < 50) { const q = mappedPage(); to = r(2) ? q + 1 : Math.max(0, q - n); }
      if (to < p + n && p < to + n) to = p + n; // no overlap
      const dontunmap = r(100) < 12;
      lines.push(`mremap ${p} ${n} ${n} fixed ${to}${dontunmap ? " dontunmap" : ""}`);
      if (!dontunmap) set(p, n, 0);
      set(to, n, 1);
    } else if (k < 96) {
      const p = mappedPage();
      lines.push(`munmap ${p} ${n}`);
      set(p, n, 0);
    } else if (forks < 2) {
      forks++;
      lines.push("fork parent");
    } else {
      lines.push(`madvise ${mappedPage()} ${n} dontneed`);
    }
  }
  return lines.join("\n");
}
