// `vmasim host` and the configuration options of the other commands:
// the host profile as text or JSON, `--config FILE.json` / `--set KEY=VALUE`
// into engine knobs, and the engine configuration of the commands that
// compare with the live kernel (diff, fuzz-kernel): the probe's knobs, with
// --config and --set on top.

import { readFileSync } from "node:fs";
import { CONFIG_KEYS, ConfigError, describeNonDefault, formatValue, parseSetting, type ConfigKey } from "../config/config.js";
import { knobsFromJson, knobsOf, profileToJson, unknownKnobs, type HostProfile, type Knobs } from "../kernel/profile.js";

export type { Knobs };

/** The profile as `vmasim host` prints it: `key value` per knob, the host facts, how each knob was found. */
export function formatProfile(p: HostProfile): string {
  const show = (v: unknown) => (v === null || v === undefined ? "unknown" : typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  let out = "";
  for (const k of CONFIG_KEYS) out += `${k} ${p[k] === null ? "unknown" : formatValue(p[k]!)}\n`;
  const h = p.host;
  out += "\n";
  out += `release ${show(h.release)}\n`;
  out += `policy ${show(h.policy)}\n`;
  out += `thp ${show(h.thp)}\n`;
  out += `root ${show(h.root)}\n`;
  out += `bpf ${show(h.bpf)}\n`;
  out += `committed_as_pages ${show(h.committed_as_pages)}\n`;
  out += `commit_limit_pages ${show(h.commit_limit_pages)}\n`;
  if (h.note) out += `note ${h.note}\n`;
  out += "\nhow each knob was found:\n";
  for (const k of CONFIG_KEYS) out += `  ${k}: ${h.found[k]}\n`;
  return out;
}

/** `vmasim host --json`: configToJson's form of the knobs ("unknown" where unknown) plus `host`. */
export const profileJson = profileToJson;

/**
 * The knobs of `--config FILE` (each in turn) and then `--set KEY=VALUE`
 * (each in turn): a later value wins, --set over --config.
 */
export function knobsFromArgs(configFiles: readonly string[], sets: readonly string[]): Knobs {
  const out: Partial<Record<ConfigKey, number | boolean>> = {};
  for (const file of configFiles) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ConfigError(`--config ${file}: cannot read it${code === "ENOENT" ? ": no such file" : `: ${(e as Error).message}`}`);
    }
    Object.assign(out, knobsFromJson(text, `--config ${file}`));
  }
  for (const s of sets) {
    try {
      const [k, v] = parseSetting(s);
      out[k] = v;
    } catch (e) {
      throw e instanceof ConfigError && !e.message.startsWith("--set") ? new ConfigError(`--set ${s}: ${e.message}`) : e;
    }
  }
  return out as Knobs;
}

/**
 * The engine knobs of a command that compares with the live kernel: the
 * probe's (when there is a probe), then the options'. Returns the knobs and
 * the line that says so (null without a probe).
 */
export function knobsFromHost(probe: HostProfile | null, options: Knobs): { knobs: Knobs; message: string | null } {
  if (probe === null) return { knobs: options, message: null };
  const knobs = { ...knobsOf(probe), ...options };
  const nonDefault = describeNonDefault(knobs as Partial<Record<ConfigKey, number | boolean>>);
  const unknown = unknownKnobs(probe).filter((k) => options[k] === undefined);
  const by = Object.keys(options).length ? " and --config/--set" : "";
  let message = `engine configured from the host${by}: ${nonDefault.length ? nonDefault.join(" ") : "the default configuration"}`;
  if (unknown.length) message += ` (unknown on the host, default kept: ${unknown.join(", ")})`;
  return { knobs, message };
}
