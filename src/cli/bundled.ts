// The scenarios shipped with vmasim (scenarios/ of the package), reachable by
// name: `@default`, `@spec-12` (the directory), `@spec-12/S05-hole-between-two-anon-vmas`
// or a shorter unique form (`@S05`, `@S05-hole`). Names are resolved against the
// package root found from this module's own URL, so they work the same from a
// clone (src/cli, dist/) and from an installed package (node_modules/vmasim/dist).

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** A bundled name that names nothing, or more than one scenario. */
export class BundledNameError extends Error {}

/** One bundled scenario script. */
export interface BundledScenario {
  /** Its name without `@`: the path under scenarios/ without `.script`, with `/`. */
  name: string;
  /** Its absolute path. */
  path: string;
  /** Its first comment line, without `#` (empty when it has none). */
  title: string;
}

/** The folder of vmasim's package.json above this module (the clone or node_modules/vmasim). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, "package.json");
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, "utf8")) as { name?: string };
      if (pkg.name === "vmasim") return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find vmasim's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The folder of the bundled scenarios. */
export function scenariosDir(): string {
  return join(packageRoot(), "scenarios");
}

/** The bundled scenarios, sorted by name (folders recursed). */
export function bundledScenarios(): BundledScenario[] {
  const top = scenariosDir();
  const out: BundledScenario[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(".script")) {
        const name = relative(top, p).split(sep).join("/").replace(/\.script$/, "");
        out.push({ name, path: p, title: firstComment(readFileSync(p, "utf8")) });
      }
    }
  };
  walk(top);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function firstComment(text: string): string {
  const m = /^[ \t]*#[ \t]*(.*?)[ \t]*$/m.exec(text);
  return m ? m[1] : "";
}

/** The folders under scenarios/ that hold scripts: their names (`spec-12`) and paths. */
function bundledDirs(scripts: BundledScenario[]): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const s of scripts) {
    const parts = s.name.split("/");
    // the script's path less its last i name components
    let dir = s.path;
    for (let i = parts.length - 1; i >= 1; i--) {
      dir = dirname(dir);
      dirs.set(parts.slice(0, i).join("/"), dir);
    }
  }
  return dirs;
}

const base = (name: string): string => name.slice(name.lastIndexOf("/") + 1);

/** A file name's number, up to the first `-`, lower case, without leading zeros: S05 and S5 are `s5`. */
const number = (name: string): string => name.split("-")[0].toLowerCase().replace(/^([a-z]*)0+(?=\d)/, "$1");

/**
 * The path of the bundled scenario or folder `ref` names (`@` included).
 * Tried in order, the first rule that finds exactly one wins: the full name
 * of a script or folder; a script's file name (`S05-hole-between-two-anon-vmas`);
 * its number, the file name up to the first `-` (`S05` or `S5`, `S12r`); a prefix of
 * the full name or the file name. Letter case is ignored after the first rule.
 */
export function resolveBundled(ref: string): string {
  const want = ref.replace(/^@/, "");
  const scripts = bundledScenarios();
  const dirs = bundledDirs(scripts);
  const exact = scripts.find((s) => s.name === want);
  if (exact) return exact.path;
  const dir = dirs.get(want.replace(/\/+$/, ""));
  if (dir !== undefined) return dir;
  const w = want.toLowerCase();
  const rules: ((s: BundledScenario) => boolean)[] = [
    (s) => s.name.toLowerCase() === w || base(s.name).toLowerCase() === w,
    (s) => number(base(s.name)) === number(w),
    (s) => s.name.toLowerCase().startsWith(w) || base(s.name).toLowerCase().startsWith(w),
  ];
  for (const rule of rules) {
    const hits = scripts.filter(rule);
    if (hits.length === 1) return hits[0].path;
    if (hits.length > 1) {
      const shown = hits.slice(0, 8).map((s) => `@${s.name}`).join(", ");
      throw new BundledNameError(`'${ref}' names ${hits.length} bundled scenarios (${shown}${hits.length > 8 ? ", ..." : ""}): give more of the name`);
    }
  }
  throw new BundledNameError(`no bundled scenario '${ref}' (vmasim list shows them)`);
}

/**
 * The arguments of a command that takes scripts, with each `@NAME` replaced
 * by the path it names (a file literally called `@x` is given as `./@x`).
 */
export function expandBundled(args: string[]): string[] {
  if (args.includes("-h") || args.includes("--help")) return args; // help needs no scenario
  return args.map((a) => (a.length > 1 && a.startsWith("@") ? resolveBundled(a) : a));
}

/** `vmasim list`: every bundled scenario with its first comment line. */
export function formatBundledList(scripts: BundledScenario[] = bundledScenarios()): string {
  const w = Math.max(...scripts.map((s) => s.name.length + 1));
  let out = "";
  for (const s of scripts) out += `${`@${s.name}`.padEnd(w)}  ${s.title}`.trimEnd() + "\n";
  const dirs = [...bundledDirs(scripts).keys()].map((d) => `@${d}`);
  out += `\n${scripts.length} scenarios. vmasim run @NAME runs one (a unique part of the name will do, e.g. @S05)`;
  out += dirs.length ? `; vmasim compare ${dirs.join(" ")} runs a folder.\n` : ".\n";
  return out;
}
