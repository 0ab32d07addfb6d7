// The seeded scenario generator (src/scenario/generate.ts): determinism, the
// `allow` filter, syntax of every generated line, the shape of the scripts
// (a dump after every op, a final count, ranges inside the used part of the
// arena) and the op mix over many seeds.
import { describe, expect, it } from "vitest";
import { GENERATED_OPS, MAX_FORKS, generateScript } from "../../src/scenario/generate.js";
import type { GenerateOptions } from "../../src/scenario/generate.js";
import { ARENA_PAGES, MADVICE, parseScript, repeatIteration } from "../../src/scenario/parse.js";
import type { Op, ScriptEntry } from "../../src/scenario/parse.js";

/** The allow list the VMA-layer property test uses. */
const VMA_LAYER = ["mmap", "munmap", "mprotect", "brk", "dump", "dumpheap", "count", "echo"] as const;
const SEEDS = Array.from({ length: 200 }, (_, i) => i * 7919 + 3);

function parse(script: string): ScriptEntry[] {
  return parseScript(script);
}

/** The ops of a script, every iteration of a repeat expanded (and checked to parse). */
function expanded(entries: ScriptEntry[]): Op[] {
  const out: Op[] = [];
  for (const e of entries) {
    expect(e.op, `line ${e.line} "${e.text}"`).not.toBe("EPARSE");
    if (e.op === "EPARSE") continue;
    out.push(e);
    if (e.op === "repeat") {
      for (let i = 0; i < e.count; i++) {
        const it = repeatIteration(e, i);
        expect(it.op, `${e.text} iteration ${i}`).not.toBe("EPARSE");
        expect(it.op, `${e.text} iteration ${i}`).not.toBe("ERANGE_ARENA");
        if (typeof it.op !== "string") out.push(it.op);
      }
    }
  }
  return out;
}

/** [first, end) page ranges an op names in the arena (brk and ops without pages: none). */
function ranges(op: Op): Array<[number, number]> {
  switch (op.op) {
    case "mmap": case "munmap": case "mprotect": case "touchn": case "madvise": case "mlock":
    case "munlock": case "mseal":
      return [[op.page, op.page + op.pages]];
    case "touch": case "peek":
      return [[op.page, op.page + 1]];
    case "mremap":
      return op.fixedPage === null
        ? [[op.page, op.page + op.oldPages]]
        : [[op.page, op.page + op.oldPages], [op.fixedPage, op.fixedPage + op.newPages]];
    default:
      return [];
  }
}

const NOT_OPERATIONS = new Set(["dump", "dumpheap", "echo", "count"]);

describe("generateScript", () => {
  it("is deterministic for a seed, and different seeds give different scripts", () => {
    const a = generateScript({ seed: 1234, ops: 60 });
    generateScript({ seed: 99, ops: 60 }); // no state shared between calls
    expect(generateScript({ seed: 1234, ops: 60 })).toBe(a);
    const scripts = new Set(SEEDS.slice(0, 50).map((seed) => generateScript({ seed, ops: 30 })));
    expect(scripts.size).toBe(50);
  });

  it("produces exactly `ops` operations, a dump after each, and a final count", () => {
    for (const seed of SEEDS.slice(0, 60)) {
      for (const ops of [0, 1, 17, 80]) {
        const entries = parse(generateScript({ seed, ops }));
        expect(entries.at(-1)?.op).toBe("count");
        const operations = entries.filter((e) => !NOT_OPERATIONS.has(e.op));
        expect(operations).toHaveLength(ops);
        entries.forEach((e, i) => {
          if (NOT_OPERATIONS.has(e.op)) return;
          // the next entry is the dump, or a dumpheap right after brk and then the dump
          const next = entries[i + 1]?.op === "dumpheap" && e.op === "brk" ? entries[i + 2] : entries[i + 1];
          expect(next?.op, `after line ${e.line} "${e.text}"`).toBe("dump");
        });
      }
    }
  });

  it("emits lines that all parse, with every range inside the used part of the arena", () => {
    for (const arenaPages of [16, 64, 512, 4096, ARENA_PAGES]) {
      for (const seed of SEEDS.slice(0, 40)) {
        const script = generateScript({ seed, ops: 60, arenaPages });
        const entries = parse(script);
        // every non-blank, non-comment line is an entry
        const lines = script.split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
        expect(entries).toHaveLength(lines.length);
        for (const op of expanded(entries)) {
          for (const [lo, hi] of ranges(op)) {
            expect(lo, `${op.text} (arenaPages ${arenaPages})`).toBeGreaterThanOrEqual(0);
            expect(hi, `${op.text} (arenaPages ${arenaPages})`).toBeLessThanOrEqual(arenaPages);
          }
        }
      }
    }
  });

  it("never emits an op outside `allow` (the VMA-layer list)", () => {
    const allowed = new Set<string>(VMA_LAYER);
    const seen = new Set<string>();
    for (const seed of SEEDS) {
      for (const op of expanded(parse(generateScript({ seed, ops: 50, allow: VMA_LAYER })))) {
        expect(allowed.has(op.op), `${op.text} (seed ${seed})`).toBe(true);
        seen.add(op.op);
      }
    }
    // and it still uses what it is allowed to use
    expect([...seen].sort()).toEqual([...VMA_LAYER].sort());
  });

  it("honours other allow lists, including one without dump/count", () => {
    const cases: Array<readonly string[]> = [
      ["mprotect"],
      ["mmap", "touch"],
      ["mremap", "mmap", "dump"],
      ["fork", "mmap", "madvise", "repeat", "count"],
      ["dump", "count"],
      [],
    ];
    for (const allow of cases) {
      for (const seed of SEEDS.slice(0, 30)) {
        const entries = parse(generateScript({ seed, ops: 25, allow }));
        for (const op of expanded(entries)) expect(allow, `${op.text}`).toContain(op.op);
        // a repeat only repeats allowed ops
        for (const e of entries) if (e.op === "repeat") expect(allow).toContain(e.body[0]);
      }
    }
  });

  it("with topDown: false, never lets the kernel choose an address", () => {
    let mremaps = 0;
    let withTopDown = 0;
    for (const seed of SEEDS) {
      for (const op of expanded(parse(generateScript({ seed, ops: 60, topDown: false })))) {
        if (op.op === "mmap") expect(op.placement, op.text).not.toBe("hint");
        if (op.op === "mremap") {
          mremaps++;
          expect(op.fixedPage !== null || (!op.maymove && !op.dontunmap), op.text).toBe(true);
        }
      }
      // the default does use them
      const all = expanded(parse(generateScript({ seed, ops: 60 })));
      if (all.some((o) => (o.op === "mmap" && o.placement === "hint") || (o.op === "mremap" && o.fixedPage === null && (o.maymove || o.dontunmap)))) withTopDown++;
    }
    expect(mremaps).toBeGreaterThan(100);
    expect(withTopDown).toBeGreaterThan(100);
  });

  it("forks only with `fork parent`, at most MAX_FORKS times", () => {
    let total = 0;
    for (const seed of SEEDS) {
      const forks = parse(generateScript({ seed, ops: 120 })).filter((e) => e.op === "fork");
      expect(forks.length).toBeLessThanOrEqual(MAX_FORKS);
      for (const f of forks) expect(f.op === "fork" && f.mode).toBe("parent");
      total += forks.length;
    }
    expect(total).toBeGreaterThan(0);
  });

  it("concentrates operations on a small window of pages", () => {
    // the median distance between consecutive operations' first pages stays small
    const gaps: number[] = [];
    for (const seed of SEEDS.slice(0, 50)) {
      let last = -1;
      for (const op of expanded(parse(generateScript({ seed, ops: 60, arenaPages: 4096 })))) {
        const r = ranges(op)[0];
        if (!r) continue;
        if (last >= 0) gaps.push(Math.abs(r[0] - last));
        last = r[0];
      }
    }
    gaps.sort((a, b) => a - b);
    expect(gaps[Math.floor(gaps.length / 2)]).toBeLessThanOrEqual(24);
  });

  it("covers every generated op and the options of each over 200 seeds", () => {
    const ops = new Set<string>();
    const features = new Set<string>();
    for (const seed of SEEDS) {
      for (const e of expanded(parse(generateScript({ seed, ops: 60 })))) {
        ops.add(e.op);
        switch (e.op) {
          case "mmap":
            features.add(`mmap:${e.placement}`);
            features.add(e.file ? (e.shared ? "mmap:file-shared" : "mmap:file-private") : e.shared ? "mmap:shmem" : "mmap:anon");
            if (e.noreserve) features.add("mmap:noreserve");
            if (e.populate) features.add("mmap:populate");
            if (e.locked) features.add("mmap:locked");
            if (/ anon( |$)/.test(e.text)) features.add("mmap:anon-keyword");
            break;
          case "mremap":
            if (e.maymove) features.add("mremap:maymove");
            if (e.fixedPage !== null) features.add("mremap:fixed");
            if (e.dontunmap) features.add("mremap:dontunmap");
            if (e.newPages < e.oldPages) features.add("mremap:shrink");
            if (e.newPages > e.oldPages) features.add("mremap:grow");
            break;
          case "madvise":
            features.add(`madvise:${Object.keys(MADVICE).find((k) => MADVICE[k] === e.advice)}`);
            break;
          case "mlock":
            features.add(e.onfault ? "mlock:onfault" : "mlock:plain");
            break;
          case "touch": case "touchn":
            features.add(`${e.op}:${e.write ? "write" : "read"}`);
            break;
          case "brk":
            features.add(e.delta < 0 ? "brk:negative" : "brk:non-negative");
            break;
        }
      }
    }
    expect([...ops].sort()).toEqual([...GENERATED_OPS].sort());
    const wanted = [
      "mmap:noreplace", "mmap:fixed", "mmap:hint", "mmap:anon", "mmap:anon-keyword", "mmap:shmem",
      "mmap:file-private", "mmap:file-shared", "mmap:noreserve", "mmap:populate", "mmap:locked",
      "mremap:maymove", "mremap:fixed", "mremap:dontunmap", "mremap:shrink", "mremap:grow",
      "mlock:plain", "mlock:onfault", "touch:write", "touch:read", "touchn:write", "touchn:read",
      "brk:negative", "brk:non-negative",
      ...["normal", "random", "sequential", "dontfork", "dofork", "dontdump", "dodump", "wipeonfork",
        "keeponfork", "mergeable", "unmergeable", "hugepage", "nohugepage", "dontneed"].map((a) => `madvise:${a}`),
    ];
    for (const f of wanted) expect(features, f).toContain(f);
  });

  it("rejects invalid options", () => {
    const bad: GenerateOptions[] = [
      { seed: 1, ops: -1 },
      { seed: 1, ops: 1.5 },
      { seed: Number.NaN, ops: 1 },
      { seed: 1, ops: 1, arenaPages: 8 },
      { seed: 1, ops: 1, arenaPages: ARENA_PAGES + 1 },
      { seed: 1, ops: 1, allow: ["mmap", "mmapp"] },
      { seed: 1, ops: 1, dumpEvery: 0 },
      { seed: 1, ops: 1, dumpEvery: 2.5 },
      { seed: 1, ops: 1, advice: "most" as "all" },
    ];
    for (const o of bad) expect(() => generateScript(o), JSON.stringify(o)).toThrow(RangeError);
  });

  it("dumpEvery N keeps the operations and dumps after every Nth one and after the last", () => {
    for (const seed of [5, 77, 1601]) {
      const every = generateScript({ seed, ops: 41, topDown: false });
      const sparse = generateScript({ seed, ops: 41, topDown: false, dumpEvery: 4 });
      const ops = (s: string): string[] => s.split("\n").filter((l) => l !== "" && !l.startsWith("#") && l !== "dump");
      expect(ops(sparse)).toEqual(ops(every));
      const lines = sparse.split("\n");
      expect(lines.filter((l) => l === "dump")).toHaveLength(Math.ceil(41 / 4));
      expect(lines.slice(-3)).toEqual(["dump", "count", ""]);
      expect(lines[0]).toContain("dumpEvery=4");
    }
  });

  it("advice 'all' adds remove, pageout, dontneed_locked and collapse; the defaults are unchanged", () => {
    // the default options give the same script as naming the defaults
    expect(generateScript({ seed: 9, ops: 80, advice: "classic", dumpEvery: 1 })).toBe(generateScript({ seed: 9, ops: 80 }));
    const advice = (opts: Partial<GenerateOptions>): Set<string> => {
      const seen = new Set<string>();
      for (const seed of SEEDS.slice(0, 120)) {
        for (const line of generateScript({ seed, ops: 80, ...opts }).split("\n")) {
          const m = /^madvise \d+ \d+ (\w+)$/.exec(line);
          if (m) seen.add(m[1]!);
        }
      }
      return seen;
    };
    const all = advice({ advice: "all" });
    for (const a of ["remove", "pageout", "dontneed_locked", "collapse", "populate_read", "guard_install"]) expect(all, a).toContain(a);
    for (const a of all) expect(Object.hasOwn(MADVICE, a), a).toBe(true);
    const classic = advice({});
    for (const a of ["remove", "pageout", "dontneed_locked", "collapse"]) expect(classic, a).not.toContain(a);
  });
});
