// The engine's switch values for each named policy (assembly/mm/policy.ts
// defines the switches). A new policy is one more row.
import { POLICY_RELEASE, type Policy } from "../types.js";

export interface PolicySwitches {
  /** kernel release as major*100+minor */
  release: number;
  /** is_mergeable_anon_vma rule: 0 = 5.17, 1 = seed-v2, 2 = seed, 3 = 6.16+ */
  anonMerge: number;
  /** pages of a merge: 0 = untouched, 1 = seed-v2 reconnect_pages, 2 = exact re-pointing */
  mergePages: number;
  /** mremap of a faulted anon VMA: 0 = keep pgoff, 1 = seed-v2 update_faulted_pgoff, 2 = exact per PTE */
  movePgoff: number;
  /** mremap MREMAP_RELOCATE_ANON / MREMAP_MUST_RELOCATE_ANON: 0 = unknown flags (EINVAL), 1 = the 2025 proposal */
  relocateAnon: number;
}

export const POLICY_SWITCHES: Record<Policy, PolicySwitches> = {
  "linux-5.17": { release: POLICY_RELEASE["linux-5.17"], anonMerge: 0, mergePages: 0, movePgoff: 0, relocateAnon: 0 },
  "seed-v2": { release: POLICY_RELEASE["seed-v2"], anonMerge: 1, mergePages: 1, movePgoff: 1, relocateAnon: 0 },
  "seed": { release: POLICY_RELEASE.seed, anonMerge: 2, mergePages: 2, movePgoff: 2, relocateAnon: 0 },
  "linux-6.18": { release: POLICY_RELEASE["linux-6.18"], anonMerge: 3, mergePages: 0, movePgoff: 0, relocateAnon: 0 },
  "relocate-anon": { release: POLICY_RELEASE["relocate-anon"], anonMerge: 3, mergePages: 0, movePgoff: 0, relocateAnon: 1 },
};
