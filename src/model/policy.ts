// Kernel policies (ARCHITECTURE.md "Policies"): the switch points where the
// modelled kernels differ. The kernel object holds one PolicyRules; the rules
// code calls through it instead of testing the policy name. Later policies
// (seed-v2, seed, linux-6.18) add their own entries and, where needed, new
// switch points (mremap pgoff update, page re-pointing on merge, ...).

import type { Policy } from "../types.js";
import type { Vma } from "./mm.js";
import { is_mergeable_anon_vma_v5_17 } from "./merge.js";
import type { AnonVma } from "./anon_vma.js";

export interface PolicyRules {
  readonly name: Policy;
  /** is_mergeable_anon_vma(range's anon_vma, neighbour's anon_vma, neighbour or null for the both-sides test) */
  is_mergeable_anon_vma(anon_vma1: AnonVma | null, anon_vma2: AnonVma | null, vma: Vma | null): boolean;
}

export const LINUX_5_17: PolicyRules = {
  name: "linux-5.17",
  is_mergeable_anon_vma: is_mergeable_anon_vma_v5_17,
};

export function policyRules(policy: Policy): PolicyRules {
  switch (policy) {
    case "linux-5.17":
      return LINUX_5_17;
    default:
      throw new Error(`unknown policy: ${String(policy)}`);
  }
}
