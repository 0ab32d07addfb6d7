// A host profile: the value of every KernelConfig knob on some machine (the
// running one, probed by host.ts, or the one a recording was made on, read from
// the `host-profile.json` sidecar of its directory), plus informational facts
// (release, THP mode, root, BPF reader, commit charge). A knob or fact nobody
// could establish is null in memory and "unknown" in JSON: never guessed.
//
// profileDifferences() says whether two profiles give the same scenario
// output, so that a recording is compared with the live kernel only when the
// live machine is configured as the recording machine was.

import { readFirstFile } from "./sidecar_file.js";
import { CONFIG_KEYS, ConfigError, checkValue, configFromJson, formatValue, type ConfigKey } from "../config/config.js";
import { POLICIES, type KernelConfig, type Policy } from "../types.js";

export type KnobValue = number | boolean;

/** Some knobs of KernelConfig (booleans as booleans: every entrance checks values with checkValue). */
export type Knobs = Partial<Omit<KernelConfig, "policy">>;

/** Every knob of KernelConfig; null when unknown. */
export type ProfileKnobs = { [K in ConfigKey]: KnobValue | null };

/** What the profile says beyond the knobs (null: unknown). */
export interface HostFacts {
  /** `uname -r` */
  release: string | null;
  /** the policy nearest to the release (nearestPolicy) */
  policy: Policy | null;
  /** /sys/kernel/mm/transparent_hugepage/enabled, the bracketed choice */
  thp: string | null;
  /** running as uid 0 */
  root: boolean | null;
  /** the runner's BPF reader of vm_pgoff/anon_vma works (`anon X av=A/R` lines) */
  bpf: boolean | null;
  /** Committed_AS and CommitLimit of /proc/meminfo, in pages (headroom for overcommit scenarios) */
  committed_as_pages: number | null;
  commit_limit_pages: number | null;
  /** how each knob was found (or why it is unknown) */
  found: Record<ConfigKey, string>;
  /** where the profile comes from, for sidecars written by hand or for another machine */
  note?: string;
}

export type HostProfile = ProfileKnobs & { host: HostFacts };

const FACTS: readonly (keyof HostFacts)[] = ["release", "policy", "thp", "root", "bpf", "committed_as_pages", "commit_limit_pages"];

/** The sidecar of a recording directory. */
export const SIDECAR = "host-profile.json";

/** The known knobs of a profile, as a configuration (unknown ones are left out: the default applies). */
export function knobsOf(p: ProfileKnobs): Knobs {
  const out: Partial<Record<ConfigKey, KnobValue>> = {};
  for (const k of CONFIG_KEYS) {
    const v = p[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  return out as Knobs;
}

/** The engine configuration of a policy on the machine of profile `p`. */
export function engineConfig(p: ProfileKnobs, policy: Policy): KernelConfig {
  return { policy, ...knobsOf(p) };
}

/** The knobs no one established. */
export function unknownKnobs(p: ProfileKnobs): ConfigKey[] {
  return CONFIG_KEYS.filter((k) => p[k] === null || p[k] === undefined);
}

/** A profile as JSON text: the knobs (configToJson's form, "unknown" where unknown), then `host`. */
export function profileToJson(p: HostProfile): string {
  const out: Record<string, unknown> = {};
  for (const k of CONFIG_KEYS) {
    const v = p[k];
    out[k] = v === null ? "unknown" : v === Infinity ? "unlimited" : v;
  }
  const host: Record<string, unknown> = {};
  for (const f of FACTS) host[f] = p.host[f] ?? "unknown";
  if (p.host.note !== undefined) host.note = p.host.note;
  host.found = Object.fromEntries(CONFIG_KEYS.map((k) => [k, p.host.found[k] ?? "unknown"]));
  out.host = host;
  return JSON.stringify(out, null, 2) + "\n";
}

/**
 * The knobs of a configuration file (`--config FILE.json`): configFromJson,
 * except that a knob written "unknown" (in a profile) is left out.
 */
export function knobsFromJson(text: string, where: string): Knobs {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${where}: not JSON: ${(e as Error).message}`);
  }
  if (obj !== null && typeof obj === "object" && !Array.isArray(obj)) {
    obj = Object.fromEntries(Object.entries(obj as Record<string, unknown>).filter(([, v]) => v !== "unknown"));
  }
  try {
    return configFromJson(JSON.stringify(obj), where) as Knobs;
  } catch (e) {
    // configFromJson names the file for unknown keys, not for bad values
    if (e instanceof ConfigError && !e.message.startsWith(`${where}: `)) throw new ConfigError(`${where}: ${e.message}`);
    throw e;
  }
}

/** A profile from its JSON (profileToJson's form); a knob that is missing or "unknown" is unknown. */
export function profileFromJson(text: string, where: string): HostProfile {
  const knobs = knobsFromJson(text, where);
  const obj = JSON.parse(text) as Record<string, unknown>;
  const h = (obj.host ?? {}) as Record<string, unknown>;
  const fact = <T>(k: string, ok: (v: unknown) => boolean): T | null => (ok(h[k]) ? (h[k] as T) : null);
  const isNum = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  const foundIn = (h.found ?? {}) as Record<string, unknown>;
  const found = {} as Record<ConfigKey, string>;
  const p = {} as ProfileKnobs;
  for (const k of CONFIG_KEYS) {
    p[k] = (knobs[k] as KnobValue | undefined) ?? null;
    found[k] = typeof foundIn[k] === "string" ? (foundIn[k] as string) : "unknown";
  }
  const policy = fact<string>("policy", (v) => typeof v === "string" && (POLICIES as readonly string[]).includes(v));
  return {
    ...p,
    host: {
      release: fact<string>("release", (v) => typeof v === "string" && v !== "unknown"),
      policy: policy as Policy | null,
      thp: fact<string>("thp", (v) => typeof v === "string" && v !== "unknown"),
      root: fact<boolean>("root", (v) => typeof v === "boolean"),
      bpf: fact<boolean>("bpf", (v) => typeof v === "boolean"),
      committed_as_pages: fact<number>("committed_as_pages", isNum),
      commit_limit_pages: fact<number>("commit_limit_pages", isNum),
      found,
      ...(typeof h.note === "string" ? { note: h.note } : {}),
    },
  };
}

/**
 * The profile of the recordings of `tag` (e.g. "linux-6.18") in `dir`:
 * `host-profile.TAG.json` when the directory holds recordings of several
 * kernels, else `host-profile.json`; null when there is neither.
 */
export function readRecordingProfile(dir: string, tag?: string): HostProfile | null {
  const found = readFirstFile(dir, [...(tag ? [`host-profile.${tag}.json`] : []), SIDECAR]);
  return found === null ? null : profileFromJson(found.text, found.file);
}

/**
 * Knobs that change scenario output whatever the overcommit mode:
 *  - zero_page: a read fault maps the zero page or allocates a page and an anon_vma (rss=, av=, merges);
 *  - max_map_count: printed by `count`, and the ENOMEM of the VMA limit;
 *  - mmap_min_addr, stack_guard_gap_pages: where mappings are refused;
 *  - overcommit_memory: which accounting check runs (__vm_enough_memory, mm/util.c);
 *  - ignore_rlimit_data, rlimits, caps: which mappings, mlocks and stack growths are refused
 *    (and, CAP_SYS_RESOURCE, whether setrlimit may raise a hard limit),
 *    and RLIMIT_STACK also places mmap_base (mmap_base(), mm/util.c); RLIMIT_MEMLOCK
 *    only without CAP_IPC_LOCK (can_do_mlock() and do_mlock() in mm/mlock.c,
 *    mlock_future_ok() in mm/mmap.c let the capability pass whatever the limit).
 */
export const OUTPUT_KNOBS: readonly ConfigKey[] = [
  "zero_page", "max_map_count", "mmap_min_addr", "stack_guard_gap_pages", "overcommit_memory", "ignore_rlimit_data",
  "rlimit_as", "rlimit_data", "rlimit_stack", "rlimit_memlock", "cap_ipc_lock", "cap_sys_admin", "cap_sys_resource",
];

/**
 * Knobs that change output only under strict overcommit (mode 2): they make
 * up CommitLimit (vm_commit_limit(), mm/util.c) and the reserves kept back
 * from it. In modes 0 and 1 the RAM and swap totals bound only a single
 * mapping larger than RAM + swap (mode 0), which no recording makes.
 */
export const STRICT_OVERCOMMIT_KNOBS: readonly ConfigKey[] = [
  "overcommit_ratio", "overcommit_kbytes", "admin_reserve_kbytes", "user_reserve_kbytes", "totalram_pages", "total_swap_pages",
];

/** `MAJOR.MINOR` of a release, or null. */
export function releaseSeries(release: string | null): string | null {
  const m = release === null ? null : /^(\d+)\.(\d+)/.exec(release);
  return m ? `${m[1]}.${m[2]}` : null;
}

const show = (v: KnobValue | null | undefined) => (v === null || v === undefined ? "unknown" : formatValue(v));

/**
 * Why the scenario output of machine `a` may differ from that of machine `b`:
 * one line per knob that changes output and differs (or is unknown on either
 * side), and the release series; [] when outputs are comparable. Names are
 * `a` and `b` in the messages (e.g. "live", "recording").
 */
export function profileDifferences(a: HostProfile, b: HostProfile, names: [string, string] = ["live", "recording"]): string[] {
  const out: string[] = [];
  const [na, nb] = names;
  const sa = releaseSeries(a.host.release);
  const sb = releaseSeries(b.host.release);
  if (sa === null || sb === null || sa !== sb) out.push(`release: ${na} ${a.host.release ?? "unknown"}, ${nb} ${b.host.release ?? "unknown"}`);
  const strict = a.overcommit_memory === 2 || b.overcommit_memory === 2;
  const ipcLock = a.cap_ipc_lock === true && b.cap_ipc_lock === true;
  for (const k of [...OUTPUT_KNOBS, ...(strict ? STRICT_OVERCOMMIT_KNOBS : [])]) {
    if (k === "rlimit_memlock" && ipcLock) continue;
    const va = a[k];
    const vb = b[k];
    if (va === null || vb === null || va === undefined || vb === undefined || va !== vb) out.push(`${k}: ${na} ${show(va)}, ${nb} ${show(vb)}`);
  }
  return out;
}

/**
 * Whether a recording made under `recorded` may be compared with the live
 * kernel of profile `live`: null when it may, else the reason to skip.
 */
export function recordingSkipReason(live: HostProfile, recorded: HostProfile | null, what: string): string | null {
  if (recorded === null) return `${what} states no host profile (no ${SIDECAR})`;
  const d = profileDifferences(live, recorded);
  return d.length === 0 ? null : `the live host is configured unlike the machine that recorded ${what}: ${d.join("; ")}`;
}

/** Checks a knob value read from a machine (a ConfigError names the key and where it came from). */
export function checkedKnob(key: ConfigKey, value: KnobValue, where: string): KnobValue {
  try {
    return checkValue(key, value);
  } catch (e) {
    throw new ConfigError(`${where}: ${(e as Error).message}`);
  }
}
