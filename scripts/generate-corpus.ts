// Writes the generated scenario set test/scenarios/generated/gNNN.script:
//
//   npx tsx scripts/generate-corpus.ts [--check] [--out DIR]
//
// Each script comes from src/scenario/generate.ts generateScript with fixed
// options (generatedOptions below): seed 1600 + i, 30..60 operations, every
// address inside the arena (topDown false, so that layouts are comparable
// between kernels and the engine), every kind of madvise advice, and one of a
// few `allow` sets in turn so that each script leans on some operations
// (madvise, mremap, mlock/mseal, brk, fork). The output is a pure function of
// the index: running it again gives the same files (--check compares instead
// of writing; exit 1 on any difference).

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { GENERATED_OPS, generateScript } from "../src/scenario/generate.js";
import type { GenerateOptions } from "../src/scenario/generate.js";

export const GENERATED_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "scenarios", "generated");

/** How many scripts the set holds. */
export const GENERATED_COUNT = 320;

const SHOW = ["dump", "count", "echo"] as const;

/** The allow sets, used in turn (script i uses ALLOW_SETS[i % length]). */
export const ALLOW_SETS: ReadonlyArray<{ name: string; ops: readonly string[] }> = [
  { name: "all", ops: GENERATED_OPS },
  { name: "madvise", ops: ["mmap", "munmap", "mprotect", "madvise", "touch", "touchn", "peek", "mlock", "munlock", "fork", "repeat", ...SHOW] },
  { name: "mremap", ops: ["mmap", "munmap", "mprotect", "mremap", "touch", "touchn", "madvise", "fork", ...SHOW] },
  { name: "lock-seal", ops: ["mmap", "munmap", "mprotect", "mlock", "munlock", "mseal", "mremap", "touch", "madvise", ...SHOW] },
  { name: "heap", ops: ["mmap", "munmap", "mprotect", "brk", "dumpheap", "touch", "madvise", "mremap", ...SHOW] },
  { name: "fork", ops: ["mmap", "munmap", "mprotect", "mremap", "touch", "touchn", "madvise", "fork", "mseal", ...SHOW] },
  { name: "vma-layer", ops: ["mmap", "munmap", "mprotect", "brk", "dumpheap", ...SHOW] },
  { name: "all", ops: GENERATED_OPS },
];

/** The generateScript options of script i (0-based). */
export function generatedOptions(i: number): GenerateOptions {
  return {
    seed: 1600 + i,
    ops: 30 + ((i * 7) % 31),
    allow: ALLOW_SETS[i % ALLOW_SETS.length]!.ops,
    topDown: false,
    advice: "all",
    dumpEvery: 4,
  };
}

/** The file name of script i: g000.script ... */
export function generatedName(i: number): string {
  return `g${String(i).padStart(3, "0")}`;
}

/** The text of script i. */
export function generatedScript(i: number): string {
  return generateScript(generatedOptions(i));
}

function main(argv: string[]): void {
  const check = argv.includes("--check");
  const outAt = argv.indexOf("--out");
  const dir = outAt >= 0 && argv[outAt + 1] !== undefined ? path.resolve(argv[outAt + 1]!) : GENERATED_DIR;
  const bad = argv.filter((a, i) => a !== "--check" && (outAt < 0 || (i !== outAt && i !== outAt + 1)));
  if (bad.length || (outAt >= 0 && argv[outAt + 1] === undefined)) {
    console.error("usage: generate-corpus.ts [--check] [--out DIR]");
    process.exit(2);
  }
  if (!check) mkdirSync(dir, { recursive: true });
  let differ = 0;
  for (let i = 0; i < GENERATED_COUNT; i++) {
    const file = path.join(dir, `${generatedName(i)}.script`);
    const text = generatedScript(i);
    if (check) {
      if (!existsSync(file) || readFileSync(file, "utf8") !== text) {
        differ++;
        console.log(`DIFF ${path.basename(file)}`);
      }
    } else {
      writeFileSync(file, text);
    }
  }
  if (check) {
    const extra = existsSync(dir) ? readdirSync(dir).filter((f) => /^g\d+\.script$/.test(f) && Number(f.slice(1, -7)) >= GENERATED_COUNT) : [];
    for (const f of extra) console.log(`EXTRA ${f}`);
    differ += extra.length;
    console.log(`${GENERATED_COUNT - differ} of ${GENERATED_COUNT} scripts match the generator`);
    if (differ) process.exit(1);
  } else {
    console.log(`wrote ${GENERATED_COUNT} scripts to ${dir}`);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
