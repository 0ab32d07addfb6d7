// The generated script set and its recordings (test/scenarios/generated/,
// generated-*/, corpus-6.12/): the scripts are what scripts/generate-corpus.ts
// makes, every script has a recording in each generated-* directory, and
// every recording directory says where it came from (README.md) and under
// which configuration (host-profile.json).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { GENERATED_COUNT, generatedName, generatedScript } from "../../scripts/generate-corpus.js";
import { readRecordingProfile } from "../../src/kernel/profile.js";
import { parseScript } from "../../src/scenario/parse.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GENERATED = path.join(HERE, "generated");
const scripts = readdirSync(GENERATED).filter((f) => f.endsWith(".script")).sort();
const recordingDirs = readdirSync(HERE).filter((d) => /^generated-\d+\.\d+$/.test(d)).sort();

describe("the generated script set", () => {
  it(`holds the ${GENERATED_COUNT} scripts g000 .. g${GENERATED_COUNT - 1}, each of which parses`, () => {
    expect(scripts).toEqual(Array.from({ length: GENERATED_COUNT }, (_, i) => `${generatedName(i)}.script`));
    for (const f of scripts) {
      const bad = parseScript(readFileSync(path.join(GENERATED, f), "utf8")).filter((e) => e.op === "EPARSE");
      expect(bad, f).toEqual([]);
    }
  });

  it("regenerating gives the same files (a sample, one of each allow set)", () => {
    for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 100, 319]) {
      expect(readFileSync(path.join(GENERATED, `${generatedName(i)}.script`), "utf8"), generatedName(i)).toBe(generatedScript(i));
    }
  });

  it("has a README that says how to regenerate", () => {
    expect(readFileSync(path.join(GENERATED, "README.md"), "utf8")).toContain("scripts/generate-corpus.ts");
  });
});

describe("recordings of the generated set", () => {
  it("exist for 5.10, 6.1, 6.12 and 6.18", () => {
    expect(recordingDirs).toEqual(expect.arrayContaining(["generated-5.10", "generated-6.1", "generated-6.12", "generated-6.18"]));
  });

  for (const dir of recordingDirs) {
    it(`${dir}: one recording per script and nothing else, a README.md and a host-profile.json`, () => {
      const tag = `linux-${dir.slice("generated-".length)}`;
      const full = path.join(HERE, dir);
      const outs = readdirSync(full).filter((f) => f.endsWith(".out")).sort();
      expect(outs).toEqual(scripts.map((s) => `${s.slice(0, -".script".length)}.${tag}.out`));
      for (const f of outs) expect(readFileSync(path.join(full, f), "utf8").length, f).toBeGreaterThan(0);
      expect(existsSync(path.join(full, "README.md")), "README.md").toBe(true);
      expect(readRecordingProfile(full), "host-profile.json").not.toBeNull();
    });
  }
});

describe("corpus-6.12", () => {
  it("records every corpus script on 6.12, with README.md and host-profile.json", () => {
    const corpus = readdirSync(path.join(HERE, "corpus")).filter((f) => f.endsWith(".script")).sort();
    const full = path.join(HERE, "corpus-6.12");
    const outs = readdirSync(full).filter((f) => f.endsWith(".out")).sort();
    expect(outs).toEqual(corpus.map((s) => `${s.slice(0, -".script".length)}.linux-6.12.out`));
    expect(existsSync(path.join(full, "README.md"))).toBe(true);
    expect(readRecordingProfile(full)).not.toBeNull();
  });
});
