// The policy of the commands that compare the engine with the running kernel
// (diff, fuzz-kernel): the kernel's own, i.e. the policy nearest to its
// release (nearestPolicy, src/kernel/host.ts); the host profile's when one was
// probed, else the release of os.release().

import { release } from "node:os";
import { nearestPolicy } from "../kernel/host.js";
import type { HostProfile } from "../kernel/profile.js";
import type { Policy } from "../types.js";

/** The last resort when the release says nothing (not Linux): the newest release vmasim models. */
const FALLBACK: Policy = "linux-6.18";

/** The policy to use and why, for the stderr line. */
export function kernelPolicy(given: Policy | null, profile: HostProfile | null, osRelease: string = release()): { policy: Policy; why: string } {
  if (given !== null) return { policy: given, why: "--policy" };
  if (profile?.host.policy) return { policy: profile.host.policy, why: `nearest to the host's Linux ${profile.host.release ?? "?"}` };
  const p = nearestPolicy(osRelease);
  if (p !== null) return { policy: p, why: `nearest to Linux ${osRelease}` };
  return { policy: FALLBACK, why: `release '${osRelease}' not recognised` };
}
