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
  /**
   * stable-line backports mainline at the release lacks: 0 = mainline, 1 = the
   * 6.1.y / 6.12.y lines as Debian ships them, 2 = the 5.10.y line as Debian
   * ships it (assembly/mm/policy.ts stable_backports)
   */
  stable: number;
}

/**
 * The mainline releases a kernel policy can stand for, oldest first, as
 * major*100+minor: 5.10 .. 5.19, 6.0 .. 6.18. `vmasim bisect` walks them.
 */
export const KERNEL_RELEASES: readonly number[] = [
  ...Array.from({ length: 10 }, (_, i) => 510 + i),
  ...Array.from({ length: 19 }, (_, i) => 600 + i),
];

/** "5.10", "6.1": a release number as the kernel names it. */
export function releaseName(release: number): string {
  return `${Math.floor(release / 100)}.${release % 100}`;
}

/**
 * Mainline's switches at a release: the anon_vma merge rule changed in 6.16
 * (879bca0a2c4f); everything else a release changed is gated on `release`
 * inside the rules.
 */
export function kernelSwitches(release: number): PolicySwitches {
  if (!KERNEL_RELEASES.includes(release)) {
    throw new RangeError(`no modelled kernel release ${String(release)} (modelled: ${releaseName(KERNEL_RELEASES[0]!)} .. ${releaseName(KERNEL_RELEASES[KERNEL_RELEASES.length - 1]!)})`);
  }
  return { release, anonMerge: release >= 616 ? 3 : 0, mergePages: 0, movePgoff: 0, relocateAnon: 0, stable: 0 };
}

export const POLICY_SWITCHES: Record<Policy, PolicySwitches> = {
  // the LTS lines as Debian ships them: mainline at the release plus the stable backports
  "linux-5.10": { ...kernelSwitches(POLICY_RELEASE["linux-5.10"]), stable: 2 },
  "linux-5.17": kernelSwitches(POLICY_RELEASE["linux-5.17"]),
  "seed-v2": { release: POLICY_RELEASE["seed-v2"], anonMerge: 1, mergePages: 1, movePgoff: 1, relocateAnon: 0, stable: 0 },
  "seed": { release: POLICY_RELEASE.seed, anonMerge: 2, mergePages: 2, movePgoff: 2, relocateAnon: 0, stable: 0 },
  "linux-6.1": { ...kernelSwitches(POLICY_RELEASE["linux-6.1"]), stable: 1 },
  "linux-6.12": { ...kernelSwitches(POLICY_RELEASE["linux-6.12"]), stable: 1 },
  "linux-6.18": kernelSwitches(POLICY_RELEASE["linux-6.18"]),
  "relocate-anon": { release: POLICY_RELEASE["relocate-anon"], anonMerge: 3, mergePages: 0, movePgoff: 0, relocateAnon: 1, stable: 0 },
};

/** The mainline kernel policies (each one mainline at its release), oldest first. */
export const KERNEL_POLICIES: readonly Policy[] = (Object.keys(POLICY_SWITCHES) as Policy[])
  .filter((p) => p.startsWith("linux-"))
  .sort((a, b) => POLICY_SWITCHES[a].release - POLICY_SWITCHES[b].release);
