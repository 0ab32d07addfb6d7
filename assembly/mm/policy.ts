// Kernel policies (docs/architecture.md §2): the switch points where the
// modelled kernels differ. The host sets them once per kernel (kernel_policy
// in index.ts, from src/engine/policy.ts). Rules code tests a switch, never a
// policy name, so a new policy is a new combination of switch values (plus a
// new value where a rule really is new).

import { VM_MAYBE_GUARD } from "../abi/constants";

/** is_mergeable_anon_vma(): which anon_vma pairs may merge. */
export const ANON_MERGE_5_17: u32 = 0; // identical, or one side none and the VMA's chain singular
export const ANON_MERGE_SEED_V2: u32 = 1; // + different ones when EXCL(first argument), as posted
export const ANON_MERGE_SEED: u32 = 2; // + different ones when EXCL(the anon_vma whose pages move)
export const ANON_MERGE_6_16: u32 = 3; // one side none unless a fork child (879bca0a2c4f), or identical
export let anon_merge: u32 = ANON_MERGE_5_17;

/** What a merge does to the pages that change VMA. */
export const MERGE_PAGES_KEEP: u32 = 0; // nothing: the anon_vmas were identical (5.17)
export const MERGE_PAGES_RECONNECT_V2: u32 = 1; // reconnect_pages() of each removed VMA, leaking a reference (seed-v2)
export const MERGE_PAGES_EXACT: u32 = 2; // every page that changes anon_vma, cases 4 and 5 included (seed)
export let merge_pages: u32 = MERGE_PAGES_KEEP;

/** mremap: the pgoff of a moved faulted anonymous VMA and its pages' index. */
export const MOVE_PGOFF_KEEP: u32 = 0; // the old pgoff goes along (5.17)
export const MOVE_PGOFF_SEED_V2: u32 = 1; // update_faulted_pgoff(): the whole source VMA re-indexed at copy_vma
export const MOVE_PGOFF_EXACT: u32 = 2; // the destination's pgoff; each moved PTE's page re-indexed and re-pointed
export let move_pgoff: u32 = MOVE_PGOFF_KEEP;

/**
 * mremap's MREMAP_RELOCATE_ANON (8) and MREMAP_MUST_RELOCATE_ANON (16), the
 * 2025 proposal (never merged, docs/policies.md "relocate-anon"): 0 = unknown
 * flags (EINVAL), 1 = accepted, a faulted exclusive VMA is relocated.
 */
export const RELOCATE_ANON_NONE: u32 = 0;
export const RELOCATE_ANON_2025: u32 = 1;
export let relocate_anon: u32 = RELOCATE_ANON_NONE;

/**
 * The stable (LTS) line's backports that mainline at kver does not have:
 * 0 = mainline; 1 = the 6.1.y / 6.12.y lines as Debian ships them (6.1.192,
 * 6.12.118): MREMAP_DONTUNMAP splits a locked VMA first, resets the kept
 * unfaulted VMA's pgoff and keeps the destination apart from that source
 * (mremap.ts); 6.1.y's MADV_REMOVE takes VM_MAYWRITE (madvise.ts); 2 = the
 * 5.10.y line as Debian ships it (5.10.262): MADV_REMOVE's VM_MAYWRITE only
 * (its mremap.c has none of the DONTUNMAP changes). Set only by the
 * linux-5.10, linux-6.1 and linux-6.12 policies; `vmasim bisect` walks
 * mainline (0).
 */
export const STABLE_NONE: u32 = 0;
export const STABLE_LTS: u32 = 1;
export const STABLE_5_10: u32 = 2;
export let stable_backports: u32 = STABLE_NONE;

/**
 * The kernel release whose interfaces and remaining rules apply, as
 * major*100+minor (517, 618): mseal, newer madvise advice, mremap growth
 * merging, multi-VMA moves, anon_vma reuse accounting, ...
 */
export let kver: u32 = 517;

/** VM_STICKY (6.19, in 6.18.y): flags merges and anon_vma reuse ignore, OR-ed into a merge's result; none before. */
export function vm_sticky(): u64 {
  return kver >= 618 ? VM_MAYBE_GUARD : 0;
}

export function set_policy(release: u32, anon: u32, pages: u32, pgoff: u32, relocate: u32, stable: u32): void {
  kver = release;
  stable_backports = stable;
  anon_merge = anon;
  merge_pages = pages;
  move_pgoff = pgoff;
  relocate_anon = relocate;
}
