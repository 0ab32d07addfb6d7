// A seeded generator of valid scenario scripts (docs/scenario-language.md) for
// differential and property tests. The scripts are built to exercise VMA
// merging hard: the operations are concentrated on a small, moving window of
// pages so that neighbours keep interacting (new mappings placed right before
// or after existing ones or into holes, protections and advice flipped on parts
// of mappings and back, pieces moved away and back with mremap, writes that
// create anon_vmas on one side of a boundary only, forks that turn anon_vmas
// into shared ones). A `dump` follows every operation so that an output shows
// the layout step by step, and the script ends with `count`.
//
// Deterministic: the same options give the same script (own PRNG, no
// Math.random). Every line parses (parseScript gives no EPARSE entry).

import { ARENA_PAGES, MAX_FILE_ID } from "./parse.js";
import type { OpName } from "./parse.js";

export interface GenerateOptions {
  /** PRNG seed; any number (its low 32 bits and its integer part are mixed in). */
  seed: number;
  /** Number of operations, not counting the `dump` after each, `echo` headers and the final `count`. */
  ops: number;
  /**
   * The op names that may appear (default: all of GENERATED_OPS); the others
   * never do. `mmap ... populate` needs "touch" (it faults pages in) and
   * `mmap ... locked` needs "mlock" and "touch".
   */
  allow?: readonly string[];
  /** Pages of the arena used, from page 0 (default 512; 16..262144). */
  arenaPages?: number;
  /**
   * Allow operations whose address the kernel chooses top-down (default true):
   * `mmap ... hint` and `mremap` with `maymove` or `dontunmap` but no `fixed`.
   * Where they land depends on the holes the process image leaves above the
   * arena (small moves often land OUTSIDE it, and the runner's image and the
   * engine's differ there); false keeps every generated address inside the
   * arena, for exact comparisons between implementations.
   */
  topDown?: boolean;
  /**
   * Which `madvise` advice may appear: "classic" (default) draws the
   * page-level advice from a short list (dontneed, free, willneed, cold,
   * populate_*, guard_*); "all" draws from every page-level advice of the
   * language, adding remove, pageout, dontneed_locked and collapse (whose
   * support differs between kernel releases). The flag advice are the same.
   */
  advice?: "classic" | "all";
  /**
   * A `dump` after every Nth operation (default 1) and after the last one;
   * only the dumps change, not the operations (keeps recordings small).
   */
  dumpEvery?: number;
}

/**
 * The ops the generator can emit. (`padvmas` and `exit` are never generated:
 * the first is slow and the second would end the script; `fork` is always
 * `fork parent`, at most twice per script, so the script stays linear.)
 */
export const GENERATED_OPS: readonly OpName[] = [
  "mmap", "munmap", "mprotect", "mremap", "touch", "touchn", "peek", "madvise", "mlock", "munlock",
  "mseal", "brk", "dumpheap", "fork", "repeat", "dump", "count", "echo",
];

/** Every op name of the language (for checking `allow`). */
const LANGUAGE_OPS: ReadonlySet<string> = new Set<string>([...GENERATED_OPS, "padvmas", "exit"]);

/** The most `fork parent` lines in one script. */
export const MAX_FORKS = 2;

/** Advice that change vm_flags, in opposite pairs (index ^ 1 is the opposite). */
const FLAG_ADVICE = [
  "random", "normal", "sequential", "normal", "dontfork", "dofork", "dontdump", "dodump",
  "wipeonfork", "keeponfork", "mergeable", "unmergeable", "hugepage", "nohugepage",
] as const;
/** Advice that do not change vm_flags. */
const PAGE_ADVICE = [
  "dontneed", "dontneed", "dontneed", "free", "willneed", "cold", "populate_read", "populate_write",
  "guard_install", "guard_remove",
] as const;

/** Every page-level advice of the language (the `advice: "all"` option). */
const ALL_PAGE_ADVICE = [
  "dontneed", "dontneed", "free", "willneed", "cold", "pageout", "remove", "populate_read",
  "populate_write", "dontneed_locked", "collapse", "guard_install", "guard_remove",
] as const;

/** Protections, weighted towards rw so that neighbours often match. */
const PROTS = ["rw", "rw", "rw", "rw", "r", "r", "rwx", "none"] as const;

/** Temp files used by file mappings (a few, so that mappings of one file meet). */
const FILES = 3;

/** splitmix32: a well-mixed 32-bit state from any seed (never 0 for xorshift). */
function mixSeed(seed: number): number {
  let z = (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32) ^ 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  return z === 0 ? 0x6d2b79f5 : z;
}

/** xorshift128 (Marsaglia), seeded through splitmix32. */
class Rng {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: number) {
    this.x = mixSeed(seed);
    this.y = mixSeed(this.x + 1);
    this.z = mixSeed(this.y + 2);
    this.w = mixSeed(this.z + 3);
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (this.x ^ (this.x << 11)) >>> 0;
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** An integer in [0, n) (n >= 1). */
  below(n: number): number {
    return Math.floor((this.next() / 2 ** 32) * n);
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** true with probability p. */
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }

  /** One key of `weights`, with probability proportional to its weight. */
  weighted<K extends string>(weights: ReadonlyArray<readonly [K, number]>): K {
    let total = 0;
    for (const [, w] of weights) total += w;
    let r = (this.next() / 2 ** 32) * total;
    for (const [k, w] of weights) {
      if (r < w) return k;
      r -= w;
    }
    return weights[weights.length - 1]![0];
  }
}

/** Relative frequency of each generated op (before `allow` filtering). */
const WEIGHTS: ReadonlyArray<readonly [OpName, number]> = [
  ["mmap", 24], ["munmap", 7], ["mprotect", 16], ["mremap", 10], ["touch", 9], ["touchn", 3],
  ["peek", 2], ["madvise", 10], ["mlock", 4], ["munlock", 3], ["mseal", 0.4], ["brk", 3],
  ["fork", 1.2], ["repeat", 1.5],
];

/**
 * A rough shadow of the arena (which pages the script has mapped), used only to
 * aim operations at mapped memory and at the edges of mappings. It follows the
 * ops as if they succeeded; it need not be exact: a wrong guess only makes an
 * op fail or miss, which is still a valid scenario.
 */
class Shadow {
  readonly mapped: Uint8Array;

  constructor(readonly pages: number) {
    this.mapped = new Uint8Array(pages);
  }

  set(p: number, n: number, v: 0 | 1): void {
    for (let i = Math.max(0, p); i < Math.min(this.pages, p + n); i++) this.mapped[i] = v;
  }

  anyMapped(p: number, n: number): boolean {
    for (let i = p; i < p + n && i < this.pages; i++) if (this.mapped[i]) return true;
    return false;
  }

  /** Mapped pages in [lo, hi). */
  mappedIn(lo: number, hi: number): number[] {
    const r: number[] = [];
    for (let i = Math.max(0, lo); i < Math.min(this.pages, hi); i++) if (this.mapped[i]) r.push(i);
    return r;
  }

  /** Edges in [lo, hi): pages just after the end or just before the start of a mapped run. */
  edgesIn(lo: number, hi: number): number[] {
    const r: number[] = [];
    for (let i = Math.max(0, lo); i < Math.min(this.pages, hi); i++) {
      if (this.mapped[i]) continue;
      if ((i > 0 && this.mapped[i - 1]) || (i + 1 < this.pages && this.mapped[i + 1])) r.push(i);
    }
    return r;
  }
}

class Generator {
  private readonly rng: Rng;
  private readonly allowed: Set<string>;
  private readonly weights: ReadonlyArray<readonly [OpName, number]>;
  private readonly shadow: Shadow;
  private readonly lines: string[] = [];
  /** Start of the hot window and its size (pages). */
  private winBase = 0;
  private readonly winSize: number;
  private forks = 0;
  private brkTop = 0;

  constructor(private readonly opts: Required<GenerateOptions>) {
    this.rng = new Rng(opts.seed);
    this.allowed = new Set(opts.allow);
    this.weights = WEIGHTS.filter(([k]) => this.allowed.has(k));
    this.shadow = new Shadow(opts.arenaPages);
    this.winSize = Math.max(8, Math.min(48, opts.arenaPages));
    this.moveWindow();
  }

  private has(op: string): boolean {
    return this.allowed.has(op);
  }

  private emit(line: string): void {
    this.lines.push(line);
  }

  private moveWindow(): void {
    this.winBase = this.rng.below(this.opts.arenaPages - this.winSize + 1);
  }

  /** A page count: mostly small. */
  private count(max = 8): number {
    const r = this.rng.below(100);
    const n = r < 45 ? this.rng.int(1, 2) : r < 85 ? this.rng.int(3, 6) : this.rng.int(7, 16);
    return Math.min(n, max);
  }

  /** Clamp [p, p+n) into the used part of the arena. */
  private clamp(p: number, n: number): [number, number] {
    const pages = this.opts.arenaPages;
    const len = Math.max(1, Math.min(n, pages));
    return [Math.max(0, Math.min(p, pages - len)), len];
  }

  /** A page in the window, or (rarely) anywhere in the used part of the arena. */
  private anyPage(): number {
    if (this.rng.chance(0.06)) return this.rng.below(this.opts.arenaPages);
    return this.winBase + this.rng.below(this.winSize);
  }

  /** A mapped page of the window if there is one (most of the time), else any page. */
  private mappedPage(): number {
    if (this.rng.chance(0.85)) {
      const m = this.shadow.mappedIn(this.winBase, this.winBase + this.winSize);
      if (m.length) return this.rng.pick(m);
    }
    return this.anyPage();
  }

  /** A range starting on a mapped page, mostly inside the mapped run. */
  private mappedRange(max = 8): [number, number] {
    const p = this.mappedPage();
    let n = this.count(max);
    if (this.rng.chance(0.7)) {
      let run = 0;
      while (p + run < this.opts.arenaPages && this.shadow.mapped[p + run] && run < n) run++;
      if (run > 0) n = this.rng.int(1, run);
    }
    return this.clamp(p, n);
  }

  /** Where to map: next to a mapping, into a hole, over a mapping, or anywhere. */
  private mmapTarget(): [number, number] {
    const n = this.count();
    const r = this.rng.below(100);
    if (r < 55) {
      const edges = this.shadow.edgesIn(this.winBase, this.winBase + this.winSize);
      if (edges.length) {
        const e = this.rng.pick(edges);
        const m = this.shadow.mapped;
        const before = e + 1 < this.opts.arenaPages && m[e + 1] === 1;
        // mostly no longer than the free run, so that a noreplace mmap fits
        const fit = this.rng.chance(0.85);
        if (before && (!(e > 0 && m[e - 1] === 1) || this.rng.chance(0.5))) {
          // end at e: placed right before a mapping
          let free = 1;
          while (e - free >= 0 && !m[e - free]) free++;
          const len = fit ? Math.min(n, free) : n;
          return this.clamp(e - len + 1, len);
        }
        // start at e: placed right after a mapping
        let free = 1;
        while (e + free < this.opts.arenaPages && !m[e + free]) free++;
        return this.clamp(e, fit ? Math.min(n, free) : n);
      }
    }
    if (r < 70) return this.mappedRange(n);
    return this.clamp(this.anyPage(), n);
  }

  private prot(): string {
    return this.rng.pick(PROTS);
  }

  // ---- one generator per op ----------------------------------------------

  private genMmap(): void {
    const [p, n] = this.mmapTarget();
    const parts = [`mmap ${p} ${n} ${this.prot()}`];
    const kind = this.rng.below(100);
    let foff = -1;
    if (kind < 18) {
      const id = this.rng.below(Math.min(FILES, MAX_FILE_ID + 1));
      // an offset that follows the page number keeps neighbouring mappings of one file continuous
      foff = this.rng.chance(0.75) ? Math.max(0, p - this.winBase) : this.rng.below(32);
      parts.push(`file ${id} ${foff}`);
      if (this.rng.chance(0.4)) parts.push("shared");
    } else if (kind < 26) {
      parts.push(this.rng.chance(0.5) ? "anon shared" : "shared");
    } else if (kind < 34) {
      parts.push("anon");
    }
    const placement = this.rng.below(100);
    const fixedOverlap = this.shadow.anyMapped(p, n);
    if (placement < 22) parts.push("fixed");
    else if (placement < 30 && this.opts.topDown) parts.push("hint");
    else if (placement < 38) parts.push("noreplace");
    if (this.rng.chance(0.1)) parts.push("noreserve");
    // populate and locked fault pages in: only when faults (touch) and mlock are allowed too
    if (this.rng.chance(0.06) && this.has("touch")) parts.push("populate");
    if (this.rng.chance(0.04) && this.has("mlock") && this.has("touch")) parts.push("locked");
    // option keywords may come in any order: shuffle the tail sometimes
    if (this.rng.chance(0.2) && parts.length > 2) {
      const head = parts[0]!;
      const tail = parts.slice(1);
      for (let i = tail.length - 1; i > 0; i--) {
        const j = this.rng.below(i + 1);
        [tail[i], tail[j]] = [tail[j]!, tail[i]!];
      }
      parts.length = 0;
      parts.push(head, ...tail);
    }
    this.emit(parts.join(" "));
    const placementWord = parts.includes("fixed") ? "fixed" : parts.includes("hint") ? "hint" : "noreplace";
    if (placementWord === "fixed" || !fixedOverlap) this.shadow.set(p, n, 1);
  }

  private genMunmap(): void {
    const [p, n] = this.rng.chance(0.8) ? this.mappedRange() : this.clamp(this.anyPage(), this.count());
    this.emit(`munmap ${p} ${n}`);
    this.shadow.set(p, n, 0);
  }

  private genMprotect(): void {
    const [p, n] = this.mappedRange();
    this.emit(`mprotect ${p} ${n} ${this.prot()}`);
  }

  private genMremap(): void {
    const [p, oldN] = this.mappedRange();
    const r = this.rng.below(100);
    const pages = this.opts.arenaPages;
    if (r < 45) {
      // move (fixed), often back next to where the data came from
      const newN = this.rng.chance(0.75) ? oldN : this.count();
      let to: number;
      const edges = this.shadow.edgesIn(this.winBase, this.winBase + this.winSize);
      if (edges.length && this.rng.chance(0.6)) to = this.rng.pick(edges);
      else to = this.anyPage();
      to = Math.max(0, Math.min(to, pages - newN));
      const dontunmap = newN === oldN && this.rng.chance(0.2);
      this.emit(`mremap ${p} ${oldN} ${newN} fixed ${to}${dontunmap ? " dontunmap" : ""}`);
      if (to + newN <= p || to >= p + oldN) {
        if (!dontunmap) this.shadow.set(p, oldN, 0);
        this.shadow.set(to, newN, 1);
      }
    } else if (r < 70) {
      // grow or shrink in place, maybe allowed to move
      const newN = Math.max(1, oldN + this.rng.int(-3, 4));
      const maymove = this.opts.topDown && this.rng.chance(0.4);
      this.emit(`mremap ${p} ${oldN} ${newN}${maymove ? " maymove" : ""}`);
      if (newN < oldN) this.shadow.set(p + newN, oldN - newN, 0);
      else if (!this.shadow.anyMapped(p + oldN, newN - oldN)) this.shadow.set(p, newN, 1);
      else if (maymove) this.shadow.set(p, oldN, 0);
    } else if (r < 85 && this.opts.topDown) {
      // dontunmap without fixed: the kernel chooses the destination
      this.emit(`mremap ${p} ${oldN} ${oldN} dontunmap`);
    } else if (!this.opts.topDown) {
      // grow in place only
      const newN = oldN + this.rng.int(1, 8);
      this.emit(`mremap ${p} ${oldN} ${newN}`);
      if (!this.shadow.anyMapped(p + oldN, newN - oldN)) this.shadow.set(p, newN, 1);
    } else {
      const newN = oldN + this.rng.int(1, 8);
      this.emit(`mremap ${p} ${oldN} ${newN} maymove`);
      if (this.shadow.anyMapped(p + oldN, newN - oldN)) this.shadow.set(p, oldN, 0);
      else this.shadow.set(p, newN, 1);
    }
  }

  private genTouch(): void {
    const p = this.mappedPage();
    const mode = this.rng.below(100);
    this.emit(mode < 70 ? `touch ${p}` : mode < 85 ? `touch ${p} write` : `touch ${p} read`);
  }

  private genTouchn(): void {
    const [p, n] = this.mappedRange();
    this.emit(`touchn ${p} ${n}${this.rng.chance(0.25) ? " read" : ""}`);
  }

  private genPeek(): void {
    this.emit(`peek ${this.mappedPage()}`);
  }

  private genMadvise(): void {
    const [p, n] = this.mappedRange();
    const pageAdvice = this.opts.advice === "all" ? ALL_PAGE_ADVICE : PAGE_ADVICE;
    const advice = this.rng.chance(0.72) ? this.rng.pick(FLAG_ADVICE) : this.rng.pick(pageAdvice);
    this.emit(`madvise ${p} ${n} ${advice}`);
  }

  private genMlock(): void {
    const [p, n] = this.mappedRange();
    this.emit(`mlock ${p} ${n}${this.rng.chance(0.35) ? " onfault" : ""}`);
  }

  private genMunlock(): void {
    const [p, n] = this.mappedRange();
    this.emit(`munlock ${p} ${n}`);
  }

  private genMseal(): void {
    const [p, n] = this.mappedRange(2);
    this.emit(`mseal ${p} ${n}`);
  }

  private genBrk(): void {
    const r = this.rng.below(100);
    if (r < 8) this.brkTop = -this.rng.int(1, 2);
    else if (r < 30) this.brkTop = Math.max(0, this.brkTop - this.rng.int(1, 4));
    else this.brkTop = Math.max(0, this.brkTop) + this.rng.int(1, 6);
    this.emit(`brk ${this.brkTop}`);
    if (this.brkTop < 0) this.brkTop = 0;
    if (this.has("dumpheap") && this.rng.chance(0.6)) this.emit("dumpheap");
  }

  private genFork(): boolean {
    if (this.forks >= MAX_FORKS) return false;
    this.forks++;
    this.emit("fork parent");
    return true;
  }

  private genRepeat(): boolean {
    const inner = (["mprotect", "touch", "munmap", "madvise", "mmap"] as const).filter((o) => this.has(o));
    if (inner.length === 0) return false;
    const op = this.rng.pick(inner);
    const count = this.rng.int(2, 6);
    const step = this.rng.pick([1, 2, 2, 3]);
    const [start] = this.clamp(this.mappedPage(), count * step);
    let body: string;
    switch (op) {
      case "mprotect": body = `mprotect @ 1 ${this.prot()}`; break;
      case "touch": body = "touch @"; break;
      case "munmap": body = "munmap @ 1"; break;
      case "madvise": body = `madvise @ 1 ${this.rng.pick(FLAG_ADVICE)}`; break;
      case "mmap": body = `mmap @ 1 ${this.prot()}${this.rng.chance(0.5) ? " fixed" : ""}`; break;
    }
    this.emit(`repeat ${count} ${start} ${step} ${body}`);
    if (op === "munmap") for (let i = 0; i < count; i++) this.shadow.set(start + i * step, 1, 0);
    if (op === "mmap") for (let i = 0; i < count; i++) this.shadow.set(start + i * step, 1, 1);
    return true;
  }

  /** Emits one operation; false when the chosen op could not be generated (try again). */
  private step(): boolean {
    const op = this.rng.weighted(this.weights);
    switch (op) {
      case "mmap": this.genMmap(); return true;
      case "munmap": this.genMunmap(); return true;
      case "mprotect": this.genMprotect(); return true;
      case "mremap": this.genMremap(); return true;
      case "touch": this.genTouch(); return true;
      case "touchn": this.genTouchn(); return true;
      case "peek": this.genPeek(); return true;
      case "madvise": this.genMadvise(); return true;
      case "mlock": this.genMlock(); return true;
      case "munlock": this.genMunlock(); return true;
      case "mseal": this.genMseal(); return true;
      case "brk": this.genBrk(); return true;
      case "fork": return this.genFork();
      case "repeat": return this.genRepeat();
      default: return false;
    }
  }

  run(): string {
    const o = this.opts;
    const extra = `${o.advice === "all" ? " advice=all" : ""}${o.dumpEvery !== 1 ? ` dumpEvery=${o.dumpEvery}` : ""}`;
    this.emit(`# generated by vmasim generateScript: seed=${o.seed} ops=${o.ops} arenaPages=${o.arenaPages}${o.topDown ? "" : " topDown=false"}${extra}`);
    if (o.allow.length !== GENERATED_OPS.length || GENERATED_OPS.some((g) => !this.allowed.has(g))) {
      this.emit(`# allow: ${[...this.allowed].filter((a) => LANGUAGE_OPS.has(a)).sort().join(" ")}`);
    }
    // only `dump`/`dumpheap`/`count`/`echo` allowed (or nothing): no operation can be generated
    const canStep = this.weights.length > 0;
    let done = 0;
    let guard = 0;
    let echoed = -1;
    while (done < o.ops && canStep) {
      if (++guard > o.ops * 50 + 100) break; // failing picks are retried: never loop forever
      if (this.has("echo") && done % 10 === 0 && echoed !== done) {
        echoed = done;
        this.emit(`echo == step ${done + 1}`);
      }
      if (this.rng.chance(0.08)) this.moveWindow();
      if (!this.step()) continue;
      done++;
      if (this.has("dump") && done % o.dumpEvery === 0) this.emit("dump");
    }
    // the last operation is always followed by a dump
    if (this.has("dump") && (!canStep || done % o.dumpEvery !== 0)) this.emit("dump");
    if (this.has("count")) this.emit("count");
    return this.lines.join("\n") + "\n";
  }
}

/**
 * A scenario script of `ops` operations chosen pseudo-randomly from `seed`
 * (see the module comment). Throws on invalid options: a non-integer or
 * negative `ops`, an `arenaPages` outside 16..262144, an `allow` entry that
 * is not an op name of the language, a `dumpEvery` below 1 or an unknown `advice`.
 */
export function generateScript(opts: GenerateOptions): string {
  if (!Number.isFinite(opts.seed)) throw new RangeError(`generateScript: seed must be a finite number, got ${opts.seed}`);
  if (!Number.isInteger(opts.ops) || opts.ops < 0) throw new RangeError(`generateScript: ops must be an integer >= 0, got ${opts.ops}`);
  const arenaPages = opts.arenaPages ?? 512;
  if (!Number.isInteger(arenaPages) || arenaPages < 16 || arenaPages > ARENA_PAGES) {
    throw new RangeError(`generateScript: arenaPages must be an integer in 16..${ARENA_PAGES}, got ${arenaPages}`);
  }
  const allow = opts.allow ?? GENERATED_OPS;
  for (const a of allow) {
    if (!LANGUAGE_OPS.has(a)) throw new RangeError(`generateScript: '${a}' in allow is not an op of the scenario language`);
  }
  const dumpEvery = opts.dumpEvery ?? 1;
  if (!Number.isInteger(dumpEvery) || dumpEvery < 1) throw new RangeError(`generateScript: dumpEvery must be an integer >= 1, got ${dumpEvery}`);
  const advice = opts.advice ?? "classic";
  if (advice !== "classic" && advice !== "all") throw new RangeError(`generateScript: advice must be "classic" or "all", got ${String(advice)}`);
  return new Generator({ seed: opts.seed, ops: opts.ops, allow, arenaPages, topDown: opts.topDown ?? true, advice, dumpEvery }).run();
}
