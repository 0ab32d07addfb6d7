// The gate scripts on real kernels: test/bisect/recordings/linux-X.Y/ holds
// what the native runner printed for each test/bisect/gates script on Debian's
// 5.10, 6.1 and 6.12 (under qemu) and on the 6.18 host. The engine as mainline
// at that release, configured as the recording machine, must print the same,
// so a gate's release is the real kernels' and not only the engine's.
// Masked: the image-dependent `count` numbers, and the fill line of
// 612-mmap-fixed-charge (how many 64-page mappings fit under the commit limit
// depends on what the whole machine has committed).
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createKernelSync } from "../../src/engine/index.js";
import { imageIndependent, layoutOnly } from "../../src/kernel/native.js";
import { engineConfig, readRecordingProfile } from "../../src/kernel/profile.js";
import { runScenario } from "../../src/scenario/run.js";
import { parseRelease } from "../../src/bisect/bisect.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const GATES = path.join(HERE, "gates");
const RECORDINGS = path.join(HERE, "recordings");

/** The kernels compared (5.10 layout-only: no BPF iterator before 5.12). */
const COMPARED = ["5.10", "6.1", "6.12", "6.18"];

const mask = (s: string): string => imageIndependent(s).replace(/^(repeat \d+ \d+ 64 mmap @ 64 rw => ok )x\d+, then i=\d+ \(page \d+\)/m, "$1(fill)");

describe("gate scripts recorded on real kernels", () => {
  it("5.10, 6.1, 6.12 and 6.18 each have a host profile, and every recording is of a gate script", () => {
    const scripts = new Set(readdirSync(GATES).filter((f) => f.endsWith(".script")).map((f) => f.slice(0, -".script".length)));
    const dirs = readdirSync(RECORDINGS).filter((d) => d.startsWith("linux-")).sort();
    expect(dirs).toEqual(["linux-5.10", "linux-6.1", "linux-6.12", "linux-6.18"]);
    for (const dir of dirs) {
      expect(readRecordingProfile(path.join(RECORDINGS, dir)), dir).not.toBeNull();
      const outs = readdirSync(path.join(RECORDINGS, dir)).filter((f) => f.endsWith(".out"));
      expect(outs.length, dir).toBeGreaterThan(10);
      for (const f of outs) expect(scripts.has(f.replace(/\.linux-.*$/, "")), `${dir}/${f}`).toBe(true);
    }
  });

  for (const version of COMPARED) {
    const dir = path.join(RECORDINGS, `linux-${version}`);
    const profile = readRecordingProfile(dir)!;
    const release = parseRelease(version)!;
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".out")).sort()) {
      const name = file.replace(/\.linux-.*$/, "");
      it(`${name} on ${version}: the engine at ${version} prints what the kernel printed`, () => {
        const script = readFileSync(path.join(GATES, `${name}.script`), "utf8");
        const engine = runScenario(createKernelSync(engineConfig(profile, "linux-6.18"), { release }), script).output;
        const norm = release < 512 ? (s: string) => layoutOnly(mask(s)) : mask;
        expect(norm(engine)).toBe(norm(readFileSync(path.join(dir, file), "utf8")));
      });
    }
  }
});
