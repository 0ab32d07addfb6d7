// The README's examples work: every ```ts block type-checks (tsc), is transpiled (esbuild),
// run with "vmasim" resolved to this package's build (dist/), and, when a
// ```text block follows it, must print exactly that;
// the command lines that need no root nor kernel run from dist/cli.js.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { transformSync } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { POLICIES } from "../../src/types.js";

const ROOT = resolve(import.meta.dirname, "../..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const CLI = join(ROOT, "dist/cli.js");

interface Block { lang: string; code: string; line: number }

/** The fenced blocks of a Markdown text, in order. */
function blocks(md: string): Block[] {
  const out: Block[] = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m; (m = re.exec(md)); ) out.push({ lang: m[1], code: m[2], line: md.slice(0, m.index).split("\n").length });
  return out;
}

let project = "";
beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/index.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
  // a project that has vmasim installed: node_modules/vmasim -> this package
  project = mkdtempSync(join(tmpdir(), "vmasim-readme-"));
  mkdirSync(join(project, "node_modules"));
  symlinkSync(ROOT, join(project, "node_modules/vmasim"), "dir");
  writeFileSync(join(project, "package.json"), '{ "type": "module" }\n');
});

describe("README", () => {
  const all = blocks(README);
  const ts = all.map((b, i) => ({ b, next: all[i + 1] })).filter(({ b }) => b.lang === "ts");

  it("has TypeScript examples, and they type-check against the package's declarations", () => {
    expect(ts.length).toBeGreaterThan(0);
    const files = ts.map(({ b }) => {
      const f = join(project, `check-${b.line}.ts`);
      writeFileSync(f, `${b.code}\nexport {};\n`);
      return f;
    });
    const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", "--module", "nodenext",
      "--moduleResolution", "nodenext", "--target", "es2022", "--types", "node", "--typeRoots", join(ROOT, "node_modules/@types"), ...files],
    { cwd: project, encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  });

  for (const { b, next } of ts) {
    it(`the ts block at line ${b.line} runs${next?.lang === "text" ? " and prints what the README shows" : ""}`, () => {
      const js = transformSync(b.code, { loader: "ts", format: "esm", target: "node20" }).code;
      const file = join(project, `block-${b.line}.mjs`);
      writeFileSync(file, js);
      const r = spawnSync(process.execPath, [file], { cwd: project, encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      if (next?.lang === "text") expect(r.stdout).toBe(next.code);
    });
  }

  const vmasim = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: project, encoding: "utf8" });

  it("vmasim run @default runs the tour cleanly", () => {
    const r = vmasim("run", "@default");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}\(\d+ vmas\)$/m);
    expect(r.stderr).toContain("checker: clean");
  });

  it("vmasim compare @spec-12 --format json gives the documented records", () => {
    const j = JSON.parse(execFileSync(process.execPath, [CLI, "compare", "@spec-12", "--format", "json"], { encoding: "utf8" }));
    expect(j.policies.length).toBe(POLICIES.length);
    expect(j.records.some((r: { script: string }) => r.script.startsWith("S35-"))).toBe(true);
  });

  it("vmasim list names the bundled scenarios, and host --json parses", () => {
    const list = vmasim("list");
    expect(list.status).toBe(0);
    expect(list.stdout).toContain("@default");
    const host = vmasim("host", "--json");
    expect(host.status).toBe(0);
    expect(typeof JSON.parse(host.stdout)).toBe("object");
  });

  it("every vmasim command in the command list has a help of its own", () => {
    const cmds = new Set([...README.matchAll(/^vmasim ([a-z-]+)/gm)].map((m) => m[1]));
    expect(cmds.size).toBeGreaterThan(5);
    for (const c of cmds) {
      const r = vmasim(c, "--help");
      expect(r.status, c).toBe(0);
      expect(r.stdout, c).toMatch(new RegExp(`^Usage: vmasim ${c}\\b`));
    }
  });
});
