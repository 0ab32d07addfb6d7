import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { bundledScenarios, expandBundled, formatBundledList, packageRoot, resolveBundled } from "../../src/cli/bundled.js";
import { main } from "../../src/cli/main.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const SPEC = join(ROOT, "scenarios", "spec-12");

async function cli(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { status, stdout, stderr };
}

describe("bundled scenarios by name", () => {
  it("finds the package root of the clone", () => {
    expect(packageRoot()).toBe(ROOT);
  });

  it("lists every *.script under scenarios/ with its first comment line", () => {
    const list = bundledScenarios();
    expect(list[0]).toEqual({
      name: "default", path: join(ROOT, "scenarios", "default.script"),
      title: "vmasim: a guided tour of how Linux merges and splits VMAs.",
    });
    expect(list.find((s) => s.name === "spec-12/S05-hole-between-two-anon-vmas")?.title)
      .toBe("S5: a hole filled between two faulted VMAs: 5.17 case 2, the seeds case 1");
    expect(list.every((s) => s.path.endsWith(`${s.name}.script`))).toBe(true);
  });

  it("resolves full names, folders, file names, S-numbers and unique prefixes", () => {
    expect(resolveBundled("@default")).toBe(join(ROOT, "scenarios", "default.script"));
    expect(resolveBundled("@spec-12")).toBe(SPEC);
    const s05 = join(SPEC, "S05-hole-between-two-anon-vmas.script");
    for (const ref of ["@spec-12/S05-hole-between-two-anon-vmas", "@S05-hole-between-two-anon-vmas", "@S05", "@S5", "@s05", "@S05-hole"]) {
      expect(resolveBundled(ref)).toBe(s05);
    }
    // S12 is a number of its own, not a prefix of S12r
    expect(resolveBundled("@S12")).toBe(join(SPEC, "S12-mremap-faulted-next-to-faulted.script"));
    expect(resolveBundled("@S12r")).toBe(join(SPEC, "S12r-relocate-anon.script"));
  });

  it("refuses ambiguous and unknown names, saying which", () => {
    expect(() => resolveBundled("@S3")).toThrow(/'@S3' names 8 bundled scenarios \(@spec-12\/S31-dontunmap, .*\): give more of the name/);
    expect(() => resolveBundled("@nope")).toThrow("no bundled scenario '@nope' (vmasim list shows them)");
  });

  it("expands only @NAME arguments", () => {
    expect(expandBundled(["--policy", "seed", "@S5", "x.script", "-", "./@S5"])).toEqual([
      "--policy", "seed", join(SPEC, "S05-hole-between-two-anon-vmas.script"), "x.script", "-", "./@S5",
    ]);
    expect(expandBundled(["@nope", "--help"])).toEqual(["@nope", "--help"]);
  });

  it("vmasim list prints each name with its title", async () => {
    const r = await cli("list");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(formatBundledList());
    expect(r.stdout).toMatch(/^@default {2,}vmasim: a guided tour of how Linux merges and splits VMAs\.$/m);
    expect(r.stdout).toMatch(/^@spec-12\/S35-max-map-count {2,}S35: /m);
    expect(r.stdout).toContain(`\n${bundledScenarios().length} scenarios. vmasim run @NAME`);
  });

  it("vmasim list takes no arguments", async () => {
    const r = await cli("list", "spec-12");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("list: unexpected argument 'spec-12'");
  });

  it("vmasim run @default prints the reviewed output of scenarios/default.script", async () => {
    const r = await cli("run", "@default");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, "test", "fixtures", "default-script.out"), "utf8"));
  });

  it("vmasim compare @spec-12 runs the folder, run @S05 one script", async () => {
    const c = await cli("compare", "--policy", "linux-5.17", "@spec-12");
    expect(c.status).toBe(0);
    expect(c.stdout).toContain("S05-hole-between-two-anon-vmas");
    expect(c.stdout).toContain("S38-anon-vma-reuse");
    const r = await cli("run", "@S05");
    const direct = await cli("run", join(SPEC, "S05-hole-between-two-anon-vmas.script"));
    expect(r).toEqual(direct);
  });

  it("an unknown name is an error with status 2", async () => {
    const r = await cli("run", "@S3");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^vmasim: '@S3' names 8 bundled scenarios/);
  });
});
