// The kernel's configuration as vmasim models it (KernelConfig in
// src/types.ts): boot options, sysctls and the resource limits a new process
// starts with. One table says, for every knob, its default, its type and what
// values the kernel accepts; the engine, the reference model, the CLI's
// `--set KEY=VALUE` / `--config FILE.json` and the host probe all go through it.
//
// Defaults are the stock configuration of the machines the corpus was
// recorded on: a root process (CAP_IPC_LOCK, CAP_SYS_ADMIN) on a 24 GiB x86_64
// host without swap, heuristic overcommit, with the zero page.

import { DEFAULT_MAX_MAP_COUNT, STACK_GUARD_GAP_PAGES } from "../abi/constants.js";
import type { KernelConfig, Policy } from "../types.js";

/** The knobs of KernelConfig (everything but the policy). */
export type ConfigKey = Exclude<keyof KernelConfig, "policy">;

/** A KernelConfig with every knob set. */
export type ResolvedConfig = { policy: Policy } & { [K in ConfigKey]-?: NonNullable<KernelConfig[K]> };

type Kind = "bool" | "count" | "bytes" | "rlimit" | "mode";

interface KnobSpec {
  kind: Kind;
  default: number | boolean;
  /** inclusive bounds for numbers (rlimits: bytes, Infinity = RLIM_INFINITY) */
  min?: number;
  max?: number;
  /** one line for `--help` and docs */
  what: string;
}

const U32_MAX = 2 ** 32 - 1;
/** User addresses and sizes stay below 2^53 in vmasim (exact as JS numbers). */
const BYTES_MAX = 2 ** 53;

/** Every knob, in the order `vmasim host` prints them. */
export const KNOBS: Readonly<Record<ConfigKey, KnobSpec>> = {
  zero_page: { kind: "bool", default: true, what: "read faults of private anonymous memory map the shared zero page (0: allocate a page and an anon_vma, as with pvm_no_zero_page=1 or mm_forbids_zeropage())" },
  max_map_count: { kind: "count", default: DEFAULT_MAX_MAP_COUNT, min: 0, max: 2 ** 31 - 1, what: "vm.max_map_count" },
  mmap_min_addr: { kind: "bytes", default: 65536, min: 0, max: BYTES_MAX, what: "vm.mmap_min_addr, bytes" },
  stack_guard_gap_pages: { kind: "count", default: STACK_GUARD_GAP_PAGES, min: 0, max: 2 ** 35, what: "stack_guard_gap boot option, pages" },
  overcommit_memory: { kind: "mode", default: 0, min: 0, max: 2, what: "vm.overcommit_memory: 0 heuristic, 1 always, 2 strict (never)" },
  overcommit_ratio: { kind: "count", default: 50, min: 0, max: 2 ** 31 - 1, what: "vm.overcommit_ratio, percent of RAM in CommitLimit (mode 2, when overcommit_kbytes is 0)" },
  overcommit_kbytes: { kind: "count", default: 0, min: 0, max: BYTES_MAX, what: "vm.overcommit_kbytes: CommitLimit's RAM part in KiB (mode 2; 0 = use overcommit_ratio)" },
  admin_reserve_kbytes: { kind: "count", default: 8192, min: 0, max: BYTES_MAX, what: "vm.admin_reserve_kbytes (mode 2: kept back from a process without CAP_SYS_ADMIN)" },
  user_reserve_kbytes: { kind: "count", default: 131072, min: 0, max: BYTES_MAX, what: "vm.user_reserve_kbytes (mode 2: at most total_vm/32 kept back from each process)" },
  totalram_pages: { kind: "count", default: 6291456, min: 1, max: 2 ** 40, what: "the machine's RAM in pages (totalram_pages(); 24 GiB by default)" },
  total_swap_pages: { kind: "count", default: 0, min: 0, max: 2 ** 40, what: "the machine's swap in pages" },
  ignore_rlimit_data: { kind: "bool", default: false, what: "ignore_rlimit_data boot option: RLIMIT_DATA only warns" },
  rlimit_as: { kind: "rlimit", default: Infinity, what: "RLIMIT_AS of a new process, bytes (soft = hard)" },
  rlimit_data: { kind: "rlimit", default: Infinity, what: "RLIMIT_DATA of a new process, bytes (soft = hard)" },
  rlimit_stack: { kind: "rlimit", default: 8 * 1024 * 1024, what: "RLIMIT_STACK of a new process, bytes (soft; hard unlimited); mmap_base and the stack gap follow it" },
  rlimit_memlock: { kind: "rlimit", default: 8 * 1024 * 1024, what: "RLIMIT_MEMLOCK of a new process, bytes (soft = hard)" },
  cap_ipc_lock: { kind: "bool", default: true, what: "processes have CAP_IPC_LOCK (mlock ignores RLIMIT_MEMLOCK)" },
  cap_sys_admin: { kind: "bool", default: true, what: "processes have CAP_SYS_ADMIN (strict overcommit keeps no admin reserve from them)" },
  cap_sys_resource: { kind: "bool", default: true, what: "processes have CAP_SYS_RESOURCE (setrlimit may raise hard limits)" },
};

export const CONFIG_KEYS = Object.keys(KNOBS) as ConfigKey[];

/** A bad configuration value or key: the message names the key and says what is accepted. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function isKey(k: string): k is ConfigKey {
  return Object.prototype.hasOwnProperty.call(KNOBS, k);
}

function unknownKey(k: string): ConfigError {
  return new ConfigError(`unknown configuration key '${k}' (known: ${CONFIG_KEYS.join(", ")})`);
}

/** Checks one value against its knob; returns it normalised (booleans as booleans). */
export function checkValue(key: string, value: unknown): number | boolean {
  if (!isKey(key)) throw unknownKey(key);
  const spec = KNOBS[key];
  if (spec.kind === "bool") {
    if (typeof value === "boolean") return value;
    if (value === 0 || value === 1) return value === 1;
    throw new ConfigError(`${key} must be true/false (or 1/0), not ${JSON.stringify(value)}`);
  }
  if (spec.kind === "rlimit" && value === Infinity) return Infinity;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new ConfigError(`${key} must be an integer${spec.kind === "rlimit" ? " or unlimited" : ""}, not ${JSON.stringify(value)}`);
  }
  const min = spec.min ?? 0;
  const max = spec.max ?? BYTES_MAX;
  if (value < min || value > max) throw new ConfigError(`${key} must be in [${min}, ${max}], not ${value}`);
  return value;
}

/** Every knob set: the given ones checked, the rest at their defaults. */
export function resolveConfig(config: KernelConfig): ResolvedConfig {
  const out: Record<string, unknown> = { policy: config.policy };
  for (const k of CONFIG_KEYS) {
    const v = (config as unknown as Record<string, unknown>)[k];
    out[k] = v === undefined ? KNOBS[k].default : checkValue(k, v);
  }
  for (const k of Object.keys(config)) if (k !== "policy" && !isKey(k)) throw unknownKey(k);
  return out as ResolvedConfig;
}

/** A partial change (a sysctl write), checked; unknown keys and the policy are refused. */
export function checkChange(change: Partial<KernelConfig>): Partial<Record<ConfigKey, number | boolean>> {
  const out: Partial<Record<ConfigKey, number | boolean>> = {};
  for (const [k, v] of Object.entries(change)) {
    if (k === "policy") throw new ConfigError("the policy of a kernel cannot change; create another kernel");
    if (v === undefined) continue;
    out[k as ConfigKey] = checkValue(k, v);
  }
  return out;
}

/** A value as text (`--set`, `vmasim host`): booleans 1/0, RLIM_INFINITY `unlimited`. */
export function formatValue(v: number | boolean): string {
  if (typeof v === "boolean") return v ? "1" : "0";
  return v === Infinity ? "unlimited" : String(v);
}

/** Parses the text of one value (`--set KEY=VALUE`): C integers, 1/0, true/false, unlimited/inf/-1 for rlimits. */
export function parseValue(key: string, text: string): number | boolean {
  if (!isKey(key)) throw unknownKey(key);
  const t = text.trim().toLowerCase();
  const spec = KNOBS[key];
  if (spec.kind === "bool" && (t === "true" || t === "false")) return t === "true";
  if (spec.kind === "rlimit" && (t === "unlimited" || t === "inf" || t === "infinity" || t === "-1")) return Infinity;
  const m = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)([kmg])?$/.exec(t);
  if (!m) throw new ConfigError(`${key}=${text}: not a number${spec.kind === "bool" ? " (use 1/0 or true/false)" : ""}`);
  let n = m[1]!.startsWith("0x") ? parseInt(m[1]!.slice(2), 16) : m[1]!.length > 1 && m[1]!.startsWith("0") ? parseInt(m[1]!, 8) : Number(m[1]);
  if (m[2]) {
    if (spec.kind !== "bytes" && spec.kind !== "rlimit") throw new ConfigError(`${key}=${text}: a size suffix fits only byte values`);
    n *= m[2] === "k" ? 1024 : m[2] === "m" ? 1024 ** 2 : 1024 ** 3;
  }
  return checkValue(key, n);
}

/** `KEY=VALUE` of `--set`. */
export function parseSetting(arg: string): [ConfigKey, number | boolean] {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new ConfigError(`--set takes KEY=VALUE, not '${arg}'`);
  const key = arg.slice(0, eq).trim();
  return [key as ConfigKey, parseValue(key, arg.slice(eq + 1))];
}

/**
 * The knobs of a configuration file (`--config FILE.json`, or the JSON of
 * `vmasim host --json`): an object whose keys are KernelConfig's; rlimits may
 * be "unlimited"; a `host` object (what the probe saw beyond the knobs) is
 * informational and ignored.
 */
export function configFromJson(text: string, where = "configuration"): Partial<Record<ConfigKey, number | boolean>> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${where}: not JSON: ${(e as Error).message}`);
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new ConfigError(`${where}: expected a JSON object of configuration keys`);
  const out: Partial<Record<ConfigKey, number | boolean>> = {};
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (k === "host" || k === "policy") continue;
    if (!isKey(k)) throw new ConfigError(`${where}: ${unknownKey(k).message}`);
    const value = typeof v === "string" ? parseValue(k, v) : checkValue(k, v);
    out[k] = value;
  }
  return out;
}

/** A configuration as JSON-ready values (Infinity as "unlimited"). */
export function configToJson(config: Partial<Record<ConfigKey, number | boolean>>): Record<string, number | boolean | string> {
  const out: Record<string, number | boolean | string> = {};
  for (const k of CONFIG_KEYS) {
    const v = config[k];
    if (v !== undefined) out[k] = v === Infinity ? "unlimited" : v;
  }
  return out;
}

/** The knobs that differ from the defaults, as `KEY=VALUE` words (for headers and messages). */
export function describeNonDefault(config: Partial<Record<ConfigKey, number | boolean>>): string[] {
  const out: string[] = [];
  for (const k of CONFIG_KEYS) {
    const v = config[k];
    if (v !== undefined && v !== KNOBS[k].default) out.push(`${k}=${formatValue(v)}`);
  }
  return out;
}
