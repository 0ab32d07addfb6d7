// seed-v2's documented defects (docs/policies.md "seed-v2: the series as
// posted", rules 1-3 and D6), as the checker reports them: `vmasim fuzz
// --policy seed-v2` passes when every failure class it finds is one of these.
// A class is matched by the checker's first complaint (lockstep.ts
// normalize(): numbers are N); a divergence between engine and model, a crash
// or any other complaint is never a documented defect.
import type { Policy } from "../types.js";

export interface Defect {
  /** the name printed in the report, with its place in docs/policies.md */
  name: string;
  /** failure signatures this defect produces */
  signatures: RegExp[];
}

export const SEED_V2_DEFECTS: readonly Defect[] = [
  {
    // rule 2 / D6: page_get_anon_vma() takes a reference per re-pointed page and never drops it
    name: "leaked anon_vma references (rule 2, D6)",
    signatures: [
      /^checker: anon_vma N: refcount N, expected N$/,
      /^checker: N anon_vma\(s\) live but linked to no VMA: leaked$/,
    ],
  },
  {
    // rule 3: update_faulted_pgoff() indexes the pages from vm_start, not from the moved range
    name: "mremap re-indexes pages relative to the whole VMA (rule 3)",
    signatures: [/^checker: mm N PTE N: anon page N has index N, the VMA's linear index is N$/],
  },
  {
    // rule 1: the both-sides test checks prev's anon_vma while next's pages move;
    // rule 2: boundary moves re-point nothing; D3: a freed anon_vma gets no reference
    name: "pages left on an anon_vma the VMA does not link (rules 1-2, D3)",
    signatures: [
      /^checker: mm N PTE N: anon page N is not found by an rmap walk from anon_vma N$/,
      /^checker: page N \(anon\): mapping points to a freed anon_vma$/,
      // the same, once the anon_vma's record is gone (src/check/memory.ts names it by number)
      /^checker: page N \(anon\): mapping points to anon_vma N, which is not live$/,
    ],
  },
];

/** The documented defect a failure class of `policy` is, or null (every class of the other policies is a bug). */
export function documentedDefect(policy: Policy, signature: string): string | null {
  if (policy !== "seed-v2") return null;
  return SEED_V2_DEFECTS.find((d) => d.signatures.some((re) => re.test(signature)))?.name ?? null;
}
