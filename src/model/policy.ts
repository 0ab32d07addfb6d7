// Kernel policies (docs/architecture.md §2, docs/policies.md): the switch
// points where the modelled kernels differ. The kernel object holds one
// PolicyRules; the rules code calls through it instead of testing the policy
// name. The seed policies' rules themselves are in seed.ts.
//
//   switch point                 called from                      linux-5.17   seed-v2                      seed
//   is_mergeable_anon_vma        can_vma_merge_before/after       5.17 rows    + EXCL(range's)              + EXCL(range's)
//   is_mergeable_anon_vma_both   vma_merge() cases 1, 6           5.17 rows    + EXCL(prev's) (as posted)   + EXCL(next's)
//   merge_pages                  __vma_adjust(), anon_vma_merge() nothing      reconnect_pages() of each    re-point every page that
//                                                                              removed VMA, leaking refs    changes VMA (4, 5 too)
//   move_pgoff                   copy_vma(), faulted anon VMA     keep         update_faulted_pgoff()       new_addr >> 12 if exclusive
//   move_pages                   move_vma() after the PTEs moved  nothing      nothing                      re-index / re-point moved pages
//
// The other kernels (linux-5.10, 6.1, 6.12, 6.18) and relocate-anon have no
// model rules: the engine has them, checked against recordings of each kernel.

import type { Policy } from "../types.js";
import type { AnonVma } from "./anon_vma.js";
import { is_mergeable_anon_vma_v5_17 } from "./merge.js";
import type { Vma } from "./mm.js";
import {
  anon_vma_exclusive, anon_vma_merge_debug_check, can_update_faulted_pgoff, move_pages_exact, reconnect_pages,
  repoint_pages, update_faulted_pgoff,
} from "./seed.js";

export interface PolicyRules {
  readonly name: Policy;
  /**
   * is_mergeable_anon_vma(range's anon_vma, neighbour's anon_vma, neighbour)
   * of the prev and next tests: may the range join the neighbour?
   */
  is_mergeable_anon_vma(anon_vma1: AnonVma | null, anon_vma2: AnonVma | null, vma: Vma): boolean;
  /** The both-sides test of cases 1 and 6: may prev absorb next as well? */
  is_mergeable_anon_vma_both(prev: Vma, next: Vma): boolean;
  /**
   * __vma_adjust() hands the addresses [start, end) of `from` to `to`:
   * `removed` when `from` is removed (cases 1, 6, 7, 8; called from
   * anon_vma_merge() before from's anon_vma links go), else a boundary move
   * (case 5: head of next to prev; case 4: tail of prev to next), called once
   * both VMAs have their new ranges. What happens to the pages there.
   */
  merge_pages(to: Vma, from: Vma, start: number, end: number, removed: boolean): void;
  /**
   * copy_vma() of a faulted anonymous VMA moving [old_addr, old_addr +
   * old_len) to new_addr: the new VMA's pgoff if the policy changes it (and
   * whatever it does to pages at that point), or null for v5.17's pgoff.
   */
  move_pgoff(vma: Vma, old_addr: number, old_len: number, new_addr: number): number | null;
  /**
   * move_vma(), right after move_page_tables() moved len bytes of PTEs to
   * new_addr in new_vma, from a VMA whose anon_vma was src_anon_vma;
   * pgoff_updated: move_pgoff() gave a pgoff. What happens to the moved pages.
   */
  move_pages(new_vma: Vma, new_addr: number, len: number, src_anon_vma: AnonVma | null, pgoff_updated: boolean): void;
}

/**
 * is_mergeable_anon_vma() with the series' third rule: two different
 * anon_vmas merge when the first argument is exclusive (EXCL).
 */
export function is_mergeable_anon_vma_seed(anon_vma1: AnonVma | null, anon_vma2: AnonVma | null, vma: Vma | null): boolean {
  if (is_mergeable_anon_vma_v5_17(anon_vma1, anon_vma2, vma)) return true;
  return anon_vma1 !== null && anon_vma2 !== null && anon_vma_exclusive(anon_vma1);
}

export const LINUX_5_17: PolicyRules = {
  name: "linux-5.17",
  is_mergeable_anon_vma: (a1, a2, vma) => is_mergeable_anon_vma_v5_17(a1, a2, vma),
  is_mergeable_anon_vma_both: (prev, next) => is_mergeable_anon_vma_v5_17(prev.anon_vma, next.anon_vma, null),
  merge_pages: () => {}, // the anon_vmas were identical (or one side had none): every page stays valid
  move_pgoff: () => null,
  move_pages: () => {},
};

/** The four patches as posted, defects included (docs/policies.md "seed-v2"). */
export const SEED_V2: PolicyRules = {
  name: "seed-v2",
  is_mergeable_anon_vma: (a1, a2, vma) => is_mergeable_anon_vma_seed(a1, a2, vma),
  // as posted: (prev->anon_vma, next->anon_vma, NULL), so EXCL(prev's) — but next's pages move
  is_mergeable_anon_vma_both: (prev, next) => is_mergeable_anon_vma_seed(prev.anon_vma, next.anon_vma, null),
  merge_pages: (to, from, _start, _end, removed) => {
    if (!removed) {
      // boundary moves (cases 4, 5) re-point nothing; __vma_adjust's VM_WARN_ON
      // about two anon_vmas, which the series keeps (kernel-facts §11.5 issue 5), fires
      if (to.anon_vma && from.anon_vma && to.anon_vma !== from.anon_vma) to.vm_mm.kernel.page_rewrites.debugVmWarnings++;
      return;
    }
    anon_vma_merge_debug_check(to, from);
    reconnect_pages(to, from);
  },
  move_pgoff: (vma, _old_addr, _old_len, new_addr) => update_faulted_pgoff(vma, new_addr),
  move_pages: () => {}, // the moved PTEs' pages keep their mapping
};

/** The series as intended (docs/policies.md "seed"). */
export const SEED: PolicyRules = {
  name: "seed",
  is_mergeable_anon_vma: (a1, a2, vma) => is_mergeable_anon_vma_seed(a1, a2, vma),
  // the anon_vma whose pages move is next's (v3's argument order)
  is_mergeable_anon_vma_both: (prev, next) => is_mergeable_anon_vma_seed(next.anon_vma, prev.anon_vma, null),
  merge_pages: (to, from, start, end) => repoint_pages(to, from, start, end),
  move_pgoff: (vma, old_addr, old_len, new_addr) => can_update_faulted_pgoff(vma, old_addr, old_len, new_addr),
  move_pages: (new_vma, new_addr, len, src_anon_vma, pgoff_updated) =>
    move_pages_exact(new_vma, new_addr, len, src_anon_vma, pgoff_updated),
};

export function policyRules(policy: Policy): PolicyRules {
  switch (policy) {
    case "linux-5.17":
      return LINUX_5_17;
    case "seed-v2":
      return SEED_V2;
    case "seed":
      return SEED;
    default:
      // the other kernels (linux-5.10, 6.1, 6.12, 6.18) and relocate-anon: the engine only
      throw new Error(`the reference model has no rules for ${String(policy)} (it models linux-5.17, seed-v2 and seed)`);
  }
}
