// mm/mmap.c: is_mergeable_vma(), is_mergeable_anon_vma(), can_vma_merge_before(),
// can_vma_merge_after(), vma_merge() (v5.17; anon names compared like
// anon_vma_name_eq() of v5.17-final); and the anon_vma reuse of
// anon_vma_prepare(): anon_vma_compatible(), reusable_anon_vma(),
// find_mergeable_anon_vma().
//
// Every merge decision of the model goes through vma_merge() below; the parts
// that later policies change are looked up in the kernel's PolicyRules.

import { PAGE_SIZE, VM_EXEC, VM_READ, VM_SOFTDIRTY, VM_SPECIAL, VM_WRITE } from "../abi/constants.js";
import { __vma_adjust } from "./adjust.js";
import { anon_vma_chain_is_singular, type AnonVma } from "./anon_vma.js";
import type { KFile } from "./file.js";
import { vma_next, vma_pages, type Mempolicy, type MmStruct, type UffdCtx, type Vma } from "./mm.js";
import type { PolicyRules } from "./policy.js";

/** The attributes [addr, end) is about to have (the trailing arguments of the kernel's vma_merge()). */
export interface MergeAttrs {
  vm_flags: number;
  vm_flags_hi: number;
  anon_vma: AnonVma | null;
  file: KFile | null;
  /** pgoff of addr */
  pgoff: number;
  policy: Mempolicy | null;
  uffd_ctx: UffdCtx | null;
  anon_name: string | null;
}

/**
 * The attributes of a range that keeps vma's anon_vma, file, policy and uffd
 * context (mprotect, madvise, mlock, prctl, and mremap's copy_vma): only the
 * flags, the pgoff and the name vary between those callers.
 */
export function vma_attrs(vma: Vma, vm_flags: number, pgoff: number, anon_name: string | null, vm_flags_hi = vma.vm_flags_hi): MergeAttrs {
  return {
    vm_flags, vm_flags_hi, anon_vma: vma.anon_vma, file: vma.vm_file, pgoff,
    policy: vma.vm_policy, uffd_ctx: vma.vm_userfaultfd_ctx, anon_name,
  };
}

/** mpol_equal(): NULL == NULL; otherwise the same policy object (mbind is a later issue). */
export function mpol_equal(a: Mempolicy | null, b: Mempolicy | null): boolean {
  return a === b;
}

/** anon_vma_name_eq(): equal pointers, or both set with equal strings. */
export function anon_vma_name_eq(a: string | null, b: string | null): boolean {
  return a === b;
}

/**
 * is_mergeable_vma(): flags equal except VM_SOFTDIRTY, same struct file, no
 * vm_ops->close on the existing VMA, same userfaultfd ctx, same anon name.
 */
export function is_mergeable_vma(vma: Vma, a: MergeAttrs): boolean {
  if (((vma.vm_flags ^ a.vm_flags) & ~VM_SOFTDIRTY) !== 0) return false;
  if (vma.vm_flags_hi !== a.vm_flags_hi) return false;
  if (vma.vm_file !== a.file) return false;
  if (vma.vm_ops && vma.vm_ops.close) return false;
  if (vma.vm_userfaultfd_ctx !== a.uffd_ctx) return false;
  if (!anon_vma_name_eq(vma.anon_name, a.anon_name)) return false;
  return true;
}

/**
 * is_mergeable_anon_vma() of v5.17: either side without an anon_vma is fine as
 * long as the existing VMA `vma` (if given) has exactly one AVC — i.e. it is
 * not a fork child; and an empty chain is not singular, so a faulted range
 * cannot join an unfaulted neighbour — otherwise the anon_vmas must be equal.
 */
export function is_mergeable_anon_vma_v5_17(
  anon_vma1: AnonVma | null, anon_vma2: AnonVma | null, vma: Vma | null,
): boolean {
  if ((!anon_vma1 || !anon_vma2) && (!vma || anon_vma_chain_is_singular(vma))) return true;
  return anon_vma1 === anon_vma2;
}

/** can_vma_merge_before(): may the range sit directly in front of vma (vma starts where it ends)? */
export function can_vma_merge_before(rules: PolicyRules, vma: Vma, a: MergeAttrs, pgoff_end: number): boolean {
  return is_mergeable_vma(vma, a)
    && rules.is_mergeable_anon_vma(a.anon_vma, vma.anon_vma, vma)
    && vma.vm_pgoff === pgoff_end;
}

/** can_vma_merge_after(): may the range sit directly after vma (vma ends where it starts)? */
export function can_vma_merge_after(rules: PolicyRules, vma: Vma, a: MergeAttrs): boolean {
  return is_mergeable_vma(vma, a)
    && rules.is_mergeable_anon_vma(a.anon_vma, vma.anon_vma, vma)
    && vma.vm_pgoff + vma_pages(vma) === a.pgoff;
}

/**
 * vma_merge(mm, prev, addr, end, attrs): can [addr, end), about to get `attrs`,
 * be absorbed into prev and/or the VMA after it? Returns the VMA now covering
 * [addr, end), or null (nothing changed). The eight cases (P = prev, N = the
 * VMA after prev, X = the one after N, A = [addr, end)):
 *   new range (mmap, brk):     1: P A N -> P     2: P A -> P      3: A N -> N
 *   existing range (mprotect): 4: tail of P joins N   5: head of N joins P
 *                              6: P A=N X -> P   7: P A=N -> P   8: A=N X -> X
 * When prev and next are each mergeable but not with each other (their
 * anon_vmas differ), 5.17 merges with prev only; it never falls back to next.
 * The anon_vma tests (prev, next, and both sides: is_mergeable_anon_vma(
 * prev->anon_vma, next->anon_vma, NULL) in 5.17) are the policy's.
 */
export function vma_merge(mm: MmStruct, prev: Vma | null, addr: number, end: number, a: MergeAttrs): Vma | null {
  const rules = mm.kernel.rules;
  const pglen = (end - addr) / PAGE_SIZE;

  if (a.vm_flags & VM_SPECIAL) return null;

  let next = vma_next(mm, prev);
  let area = next;
  if (area && area.vm_end === end) next = next!.vm_next; // cases 6, 7, 8

  // Can it merge with the predecessor?
  if (prev && prev.vm_end === addr && mpol_equal(prev.vm_policy, a.policy) && can_vma_merge_after(rules, prev, a)) {
    // ... and with the successor as well?
    let err: number;
    if (next && end === next.vm_start && mpol_equal(a.policy, next.vm_policy)
      && can_vma_merge_before(rules, next, a, a.pgoff + pglen)
      && rules.is_mergeable_anon_vma_both(prev, next)) {
      // cases 1, 6
      err = __vma_adjust(prev, prev.vm_start, next.vm_end, prev.vm_pgoff, null, prev);
    } else {
      // cases 2, 5, 7
      err = __vma_adjust(prev, prev.vm_start, end, prev.vm_pgoff, null, prev);
    }
    if (err) return null;
    return prev;
  }

  // Can it merge in front of the successor?
  if (next && end === next.vm_start && mpol_equal(a.policy, next.vm_policy)
    && can_vma_merge_before(rules, next, a, a.pgoff + pglen)) {
    let err: number;
    if (prev && addr < prev.vm_end) {
      // case 4
      err = __vma_adjust(prev, prev.vm_start, addr, prev.vm_pgoff, null, next);
    } else {
      // cases 3, 8 (in case 3 area === next; in case 8 area is removed and next grows down over it)
      err = __vma_adjust(area!, addr, next.vm_end, next.vm_pgoff - pglen, null, next);
      area = next;
    }
    if (err) return null;
    return area;
  }

  return null;
}

/**
 * anon_vma_compatible(a, b): could a and b (a directly below b) have been one
 * VMA split by mprotect? Adjacent, same policy and file, flags equal except
 * VM_READ / VM_WRITE / VM_EXEC / VM_SOFTDIRTY, pgoff continuous. (Anon names
 * and userfaultfd contexts are not compared.)
 */
export function anon_vma_compatible(a: Vma, b: Vma): boolean {
  return a.vm_end === b.vm_start
    && mpol_equal(a.vm_policy, b.vm_policy)
    && a.vm_file === b.vm_file
    && ((a.vm_flags ^ b.vm_flags) & ~(VM_READ | VM_WRITE | VM_EXEC | VM_SOFTDIRTY)) === 0
    && a.vm_flags_hi === b.vm_flags_hi
    && b.vm_pgoff === a.vm_pgoff + (b.vm_start - a.vm_start) / PAGE_SIZE;
}

/** reusable_anon_vma(old, a, b): old's anon_vma, if a and b are compatible and old is not a fork child (singular chain). */
function reusable_anon_vma(old: Vma, a: Vma, b: Vma): AnonVma | null {
  if (anon_vma_compatible(a, b)) {
    const anon_vma = old.anon_vma;
    if (anon_vma && anon_vma_chain_is_singular(old)) return anon_vma;
  }
  return null;
}

/** find_mergeable_anon_vma(vma): a neighbour's anon_vma vma may share — the next VMA's first, then the previous one's. */
export function find_mergeable_anon_vma(vma: Vma): AnonVma | null {
  if (vma.vm_next) {
    const anon_vma = reusable_anon_vma(vma.vm_next, vma, vma.vm_next);
    if (anon_vma) return anon_vma;
  }
  if (vma.vm_prev) return reusable_anon_vma(vma.vm_prev, vma.vm_prev, vma);
  return null;
}
