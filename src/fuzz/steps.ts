// The fuzz script: one call per line on one of several tasks, the language in
// which `vmasim fuzz` generates its operations and prints a failure's minimal
// reproducer (`vmasim fuzz --replay FILE` runs one). It is the scenario
// language's calls (docs/scenario-language.md: pages relative to an arena,
// same words) plus what a scenario cannot say: several tasks (`fork`,
// `thread` = clone(CLONE_VM), `exit`, `exec`), anon names, mlockall and
// sysctl writes at any point. Grammar (docs/cli.md "vmasim fuzz"):
//
//   T mmap P N PROT anon|file F [shared] fixed|noreplace|hint
//   T munmap P N            T mprotect P N PROT
//   T mremap P OLDN NEWN [maymove] [fixed NEWP] [dontunmap] [relocate_anon] [must_relocate_anon]
//   T touch P read|write    T peek P
//   T madvise P N ADVICE    T mlock P N [onfault]    T munlock P N
//   T mlockall FLAGS        T munlockall             T mseal P N
//   T anon_name P N NAME|-  T brk DELTA
//   T fork | thread | exit | exec
//   T setrlimit as|data|stack|memlock CUR MAX   (pages or unlimited)
//   T capdrop ipc_lock|sys_admin|sys_resource
//   T sysctl KEY VALUE
//
// T picks the task: tasks[T mod live tasks] (so any subsequence of a script is
// again a valid script, which is what shrinking needs). Task 0 is the first
// process; fork and thread append a task; exit removes one (never the last:
// `skip`); at most MAX_TASKS tasks (`skip`). File F (0 or 1) is a file of
// FILE_PAGES[F] pages mapped at file page P (the mapping's own page).
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MREMAP_MAYMOVE, MREMAP_MUST_RELOCATE_ANON, MREMAP_RELOCATE_ANON,
  PAGE_SIZE,
} from "../abi/constants.js";
import { ConfigError } from "../config/config.js";
import { MADVICE, parseProt } from "../scenario/parse.js";
import type { Capability, KernelConfig, KernelSim, ProcessSim, RlimitResource } from "../types.js";
import { type Rand } from "./random.js";

/** The arena's first address (pages P are BASE + P * 4096). */
export const BASE = 0x10000000;
/** Pages of the arena the generator uses. */
export const WINDOW = 64;
/** Sizes of the two files, in pages. */
export const FILE_PAGES = [32, 64] as const;
/** The most tasks alive at once. */
export const MAX_TASKS = 8;

const RLIMITS: readonly RlimitResource[] = ["as", "data", "stack", "memlock"];
const CAPS: readonly Capability[] = ["ipc_lock", "sys_admin", "sys_resource"];
/** The sysctl words a step may write (the vm.* knobs of src/config/config.ts). */
export const FUZZ_SYSCTLS = [
  "max_map_count", "overcommit_memory", "overcommit_ratio", "overcommit_kbytes", "admin_reserve_kbytes", "user_reserve_kbytes",
] as const;
type FuzzSysctl = (typeof FUZZ_SYSCTLS)[number];

/** The tasks and files of one kernel while a fuzz script runs on it. */
export interface Tasks {
  kernel: KernelSim;
  tasks: ProcessSim[];
  files: number[];
}

/** A kernel's first process and the script's two files. */
export function startTasks(kernel: KernelSim): Tasks {
  const files = FILE_PAGES.map((n, i) => kernel.createFile(`/tmp/vmasim-fuzz${i}`, n));
  return { kernel, tasks: [kernel.createProcess()], files };
}

/** One parsed line: its text and what it does to a kernel's tasks (its result as text). */
export interface Step {
  text: string;
  /** the verb (mmap, fork, ...) */
  verb: string;
  run(t: Tasks): string;
}

export class StepParseError extends Error {
  constructor(readonly line: number, readonly text: string, why: string) {
    super(`line ${line}: ${why}: ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)}`);
    this.name = "StepParseError";
  }
}

const addr = (page: number) => BASE + page * PAGE_SIZE;

/** A page count or page number of the language: a decimal integer in [0, 2^20). */
function num(tok: string | undefined, what: string): number {
  if (tok === undefined || !/^[0-9]{1,7}$/.test(tok) || Number(tok) >= 1 << 20) throw new Error(`bad ${what} '${tok ?? ""}'`);
  return Number(tok);
}

/** brk's delta: a signed decimal page count. */
function signed(tok: string | undefined): number {
  if (tok === undefined || !/^[+-]?[0-9]{1,7}$/.test(tok)) throw new Error(`bad delta '${tok ?? ""}'`);
  return Number(tok);
}

function prot(tok: string | undefined): number {
  const p = tok === undefined ? null : parseProt(tok);
  if (p === null) throw new Error(`bad protection '${tok ?? ""}'`);
  return p;
}

/** An rlimit value in pages, or unlimited. */
function limit(tok: string | undefined): number {
  return tok === "unlimited" ? Infinity : num(tok, "limit") * PAGE_SIZE;
}

function task(t: Tasks, sel: number): ProcessSim {
  return t.tasks[sel % t.tasks.length]!;
}

/** A call's return value as text: a number, or how it threw. */
function call(fn: () => number | void): string {
  try {
    const r = fn();
    return r === undefined ? "ok" : String(r);
  } catch (e) {
    return `threw ${(e as Error).message}`;
  }
}

/** The step of one line (its task selector already split off). */
function parseVerb(sel: number, verb: string, a: string[], text: string): Step {
  const done = (n: number) => {
    if (a.length !== n) throw new Error(`${verb} takes ${n} argument(s), got ${a.length}`);
  };
  const mk = (run: (p: ProcessSim, t: Tasks) => string): Step => ({ text, verb, run: (t) => run(task(t, sel), t) });
  switch (verb) {
    case "mmap": {
      const page = num(a[0], "page"), n = num(a[1], "page count"), pr = prot(a[2]);
      let i = 3, file = -1;
      if (a[i] === "file") { file = num(a[i + 1], "file"); if (file >= FILE_PAGES.length) throw new Error(`no file ${file}`); i += 2; }
      else if (a[i] === "anon") i++;
      else throw new Error("mmap needs anon or file F");
      const shared = a[i] === "shared";
      if (shared) i++;
      const place = a[i] === "fixed" ? MAP_FIXED : a[i] === "noreplace" ? MAP_FIXED_NOREPLACE : a[i] === "hint" ? 0 : -1;
      if (place < 0) throw new Error("mmap needs fixed, noreplace or hint");
      done(i + 1);
      const flags = (shared ? MAP_SHARED : MAP_PRIVATE) | (file < 0 ? MAP_ANONYMOUS : 0) | place;
      return mk((p, t) => call(() => p.mmap(addr(page), n * PAGE_SIZE, pr, flags, file < 0 ? -1 : t.files[file]!, file < 0 ? 0 : page * PAGE_SIZE)));
    }
    case "munmap": case "munlock": case "mseal": {
      done(2);
      const page = num(a[0], "page"), n = num(a[1], "page count");
      if (verb === "munmap") return mk((p) => call(() => p.munmap(addr(page), n * PAGE_SIZE)));
      if (verb === "munlock") return mk((p) => call(() => p.munlock(addr(page), n * PAGE_SIZE)));
      return mk((p) => call(() => p.mseal(addr(page), n * PAGE_SIZE, 0)));
    }
    case "mprotect": {
      done(3);
      const page = num(a[0], "page"), n = num(a[1], "page count"), pr = prot(a[2]);
      return mk((p) => call(() => p.mprotect(addr(page), n * PAGE_SIZE, pr)));
    }
    case "mremap": {
      const page = num(a[0], "page"), oldn = num(a[1], "page count"), newn = num(a[2], "page count");
      let flags = 0, to = 0, i = 3;
      if (a[i] === "maymove") { flags |= 1; i++; }
      if (a[i] === "fixed") { flags |= 3; to = addr(num(a[i + 1], "page")); i += 2; }
      if (a[i] === "dontunmap") { flags |= 5; i++; }
      // the 2025 proposal's flags, as the scenario language says them: both imply MREMAP_MAYMOVE
      if (a[i] === "relocate_anon") { flags |= MREMAP_MAYMOVE | MREMAP_RELOCATE_ANON; i++; }
      if (a[i] === "must_relocate_anon") { flags |= MREMAP_MAYMOVE | MREMAP_MUST_RELOCATE_ANON; i++; }
      done(i);
      return mk((p) => call(() => p.mremap(addr(page), oldn * PAGE_SIZE, newn * PAGE_SIZE, flags, to)));
    }
    case "touch": {
      done(2);
      const page = num(a[0], "page");
      if (a[1] !== "read" && a[1] !== "write") throw new Error("touch needs read or write");
      const write = a[1] === "write";
      return mk((p) => call(() => p.touch(addr(page), write)));
    }
    case "peek": {
      done(1);
      const page = num(a[0], "page");
      return mk((p) => call(() => p.peek(addr(page))));
    }
    case "madvise": {
      done(3);
      const page = num(a[0], "page"), n = num(a[1], "page count"), adv = MADVICE[a[2]!];
      if (adv === undefined || !Object.hasOwn(MADVICE, a[2]!)) throw new Error(`bad advice '${a[2]}'`);
      return mk((p) => call(() => p.madvise(addr(page), n * PAGE_SIZE, adv)));
    }
    case "mlock": {
      const page = num(a[0], "page"), n = num(a[1], "page count");
      const onfault = a[2] === "onfault";
      done(onfault ? 3 : 2);
      return mk((p) => call(() => p.mlock(addr(page), n * PAGE_SIZE, onfault ? 1 : 0)));
    }
    case "mlockall": {
      done(1);
      const f = num(a[0], "flags");
      return mk((p) => call(() => p.mlockall(f)));
    }
    case "munlockall": done(0); return mk((p) => call(() => p.munlockall()));
    case "anon_name": {
      done(3);
      const page = num(a[0], "page"), n = num(a[1], "page count");
      const name = a[2] === "-" ? null : a[2]!;
      return mk((p) => call(() => p.setAnonName(addr(page), n * PAGE_SIZE, name)));
    }
    case "brk": {
      done(1);
      const d = signed(a[0]);
      return mk((p) => call(() => p.brk(p.layout().start_brk + d * PAGE_SIZE)));
    }
    case "fork": case "thread":
      done(0);
      return mk((p, t) => {
        if (t.tasks.length >= MAX_TASKS) return "skip";
        try {
          t.tasks.push(verb === "fork" ? p.fork() : p.cloneVm());
          return "ok";
        } catch (e) {
          return `threw ${(e as Error).message}`;
        }
      });
    case "exit":
      done(0);
      return mk((p, t) => {
        if (t.tasks.length === 1) return "skip";
        t.tasks.splice(t.tasks.indexOf(p), 1);
        return call(() => p.exit());
      });
    case "exec": done(0); return mk((p) => call(() => p.exec()));
    case "setrlimit": {
      done(3);
      const res = a[0] as RlimitResource;
      if (!RLIMITS.includes(res)) throw new Error(`bad resource '${a[0]}'`);
      const cur = limit(a[1]), max = limit(a[2]);
      return mk((p) => call(() => p.setrlimit(res, cur, max)));
    }
    case "capdrop": {
      done(1);
      const cap = a[0] as Capability;
      if (!CAPS.includes(cap)) throw new Error(`bad capability '${a[0]}'`);
      return mk((p) => call(() => p.capDrop(cap)));
    }
    case "sysctl": {
      done(2);
      const key = a[0] as FuzzSysctl;
      if (!FUZZ_SYSCTLS.includes(key)) throw new Error(`bad sysctl '${a[0]}'`);
      const v = num(a[1], "value");
      // overcommit_ratio and _kbytes clear each other (mm/util.c, overcommit_*_handler)
      const change: Partial<KernelConfig> = { [key]: v };
      if (key === "overcommit_ratio") change.overcommit_kbytes = 0;
      if (key === "overcommit_kbytes") change.overcommit_ratio = 0;
      return { text, verb, run: (t) => {
        try {
          t.kernel.configure(change);
          return "ok";
        } catch (e) {
          if (e instanceof ConfigError) return "EINVAL";
          return `threw ${(e as Error).message}`;
        }
      } };
    }
    default:
      throw new Error(`unknown call '${verb}'`);
  }
}

/** One line's step, or null for a blank or comment line; StepParseError when it is not a step. */
export function parseStep(raw: string, line: number): Step | null {
  const text = raw.replace(/#.*$/, "").trim();
  if (text === "") return null;
  const tok = text.split(/\s+/);
  try {
    if (tok.length > 12) throw new Error("too many words");
    if (!/^[0-9]{1,4}$/.test(tok[0]!)) throw new Error("a line starts with a task number");
    return parseVerb(Number(tok[0]), tok[1] ?? "", tok.slice(2), text);
  } catch (e) {
    throw new StepParseError(line, raw, (e as Error).message);
  }
}

/** The steps of lines (blank and comment lines dropped). */
export function parseSteps(lines: readonly string[]): Step[] {
  const out: Step[] = [];
  lines.forEach((l, i) => {
    const s = parseStep(l, i + 1);
    if (s) out.push(s);
  });
  return out;
}

/** Whether every line parses (the shrinker's filter on candidate scripts). */
export function stepsParse(lines: readonly string[]): boolean {
  try {
    parseSteps(lines);
    return true;
  } catch {
    return false;
  }
}

const PROTS = ["rw", "rw", "rw", "r", "rwx", "none"] as const;
const ADVICE = [
  "dontneed", "dontneed", "free", "remove", "willneed", "cold", "pageout", "populate_read", "populate_write",
  "dontfork", "dofork", "dontdump", "dodump", "wipeonfork", "keeponfork", "mergeable", "unmergeable",
  "random", "normal", "sequential", "hugepage", "nohugepage", "guard_install", "guard_remove", "dontneed_locked",
] as const;

/** What the generator may use beyond the calls every policy has. */
export interface GenerateOptions {
  /** mremap's MREMAP_RELOCATE_ANON / MREMAP_MUST_RELOCATE_ANON (the relocate-anon policy only; others answer EINVAL) */
  relocateAnon?: boolean;
}

/** One random line (t: the task selector). */
function randomLine(r: Rand, opts: GenerateOptions): string {
  const t = r(1000);
  const pg = r(WINDOW), n = 1 + r(6);
  const k = r(1000);
  const line = (s: string) => `${t} ${s}`;
  if (k < 200) {
    const file = r(4);
    const what = file < 2 ? "anon" : `file ${file - 2}`;
    const shared = r(4) === 0 ? " shared" : "";
    const place = ["fixed", "noreplace", "noreplace", "hint"][r(4)]!;
    return line(`mmap ${pg} ${n} ${PROTS[r(PROTS.length)]} ${what}${shared} ${place}`);
  }
  if (k < 270) return line(`munmap ${pg} ${n}`);
  if (k < 350) return line(`mprotect ${pg} ${n} ${PROTS[r(PROTS.length)]}`);
  if (k < 400) {
    const flags = [["maymove"], [], ["fixed", String(r(WINDOW))], ["maymove", "fixed", String(r(WINDOW))], ["fixed", String(r(WINDOW)), "dontunmap"], ["maymove"]][r(6)]!;
    // the extra draw only where the flags exist, so the other policies' sequences stay as they were
    const relocate = opts.relocateAnon ? [["relocate_anon"], ["must_relocate_anon"], ["relocate_anon", "must_relocate_anon"], []][r(4)]! : [];
    return line(["mremap", pg, n, r(3) === 0 ? n : 1 + r(8), ...flags, ...relocate].join(" "));
  }
  if (k < 640) return line(`touch ${pg} ${r(3) ? "write" : "read"}`);
  if (k < 680) return line(`peek ${pg}`);
  if (k < 760) return line(`madvise ${pg} ${n} ${ADVICE[r(ADVICE.length)]}`);
  if (k < 790) return line(`mlock ${pg} ${n}${r(2) ? " onfault" : ""}`);
  if (k < 810) return line(`munlock ${pg} ${n}`);
  if (k < 830) return line(`anon_name ${pg} ${n} ${["-", "heap", "arena"][r(3)]}`);
  if (k < 845) return line(`brk ${r(12) - 2}`);
  if (k < 880) return line("fork");
  if (k < 900) return line("thread");
  if (k < 935) return line("exit");
  if (k < 945) return line("exec");
  if (k < 952) return line(`mlockall ${1 + r(7)}`);
  if (k < 958) return line("munlockall");
  if (k < 961) return line(`mseal ${pg} ${n}`);
  if (k < 975) {
    const res = RLIMITS[r(RLIMITS.length)]!;
    const cur = r(3) === 0 ? "unlimited" : String(r(4096));
    const max = r(2) ? "unlimited" : cur;
    return line(`setrlimit ${res} ${cur} ${max}`);
  }
  if (k < 980) return line(`capdrop ${CAPS[r(CAPS.length)]}`);
  const key = FUZZ_SYSCTLS[r(FUZZ_SYSCTLS.length)]!;
  const value = key === "max_map_count" ? 40 + r(200) : key === "overcommit_memory" ? r(3) : key === "overcommit_ratio" ? r(200) : r(65536);
  return line(`sysctl ${key} ${value}`);
}

/** `count` random lines from r (deterministic for r's seed). */
export function generateSteps(r: Rand, count: number, opts: GenerateOptions = {}): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(randomLine(r, opts));
  return out;
}
