// The playground in headless Chromium, served by `vmasim serve` from the
// built dist/web: every bundled scenario opened from a link under every
// policy prints exactly what `vmasim run --policy P` prints, its merge trace
// what `run --trace` prints, its verdict what run prints on stderr; each dump's
// picture has one bar per VMA of the dump, with the dump's extents. Screenshots
// go to build/web-screenshots/; the first render after load is measured and
// printed (not asserted: the machine is shared).
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledScenarios } from "../../src/cli/bundled.js";
import { POLICIES } from "../../src/types.js";
import { MAX_DRAWN_VMAS } from "../../src/web/run.js";
import { formatState } from "../../src/web/url_state.js";
import { cli } from "../cli/helpers.js";
import { chromiumMissing, launchChromium } from "./chromium.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHOTS = join(ROOT, "build", "web-screenshots");
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** What the page shows, read from its DOM. */
interface Shown {
  outputs: Record<string, string>;
  /** SHA-256 of each trace */
  traces: Record<string, string>;
  verdicts: Record<string, string>;
  /** per dump figure: its script line, and per row (policy) its bars as [start, end, perms, pgoff] */
  dumps: { line: number; rows: Record<string, [number, number, string, number][]> }[];
}

/** What the page shows; with `traces`, each merge trace panel opened first (a trace is made when first opened). */
async function readPage(page: Page, traces: boolean): Promise<Shown> {
  if (traces) {
    await page.$$eval("details.trace", (ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = true)));
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>("pre.vmasim-trace")].every((p) => p.dataset.ready === "1"));
  }
  return page.evaluate(async () => {
    const byPolicy = (sel: string) =>
      Object.fromEntries([...document.querySelectorAll<HTMLElement>(sel)].map((e) => [e.dataset.policy!, e.textContent ?? ""]));
    // traces run to megabytes (vm.max_map_count scenarios): compared by hash
    const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
    const traces: Record<string, string> = {};
    for (const [p, t] of Object.entries(byPolicy("pre.vmasim-trace"))) traces[p] = hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(t)));
    const bars = (g: Element) =>
      [...g.querySelectorAll<SVGRectElement>("rect.vma")].map((r) => [Number(r.dataset.start), Number(r.dataset.end), r.dataset.perms!, Number(r.dataset.pgoff)]);
    return {
      outputs: byPolicy("pre.vmasim-output"),
      traces,
      verdicts: byPolicy("pre.vmasim-verdict"),
      dumps: [...document.querySelectorAll<HTMLElement>("#dumps figure")].map((f) => ({
        line: Number(f.dataset.line),
        rows: Object.fromEntries([...f.querySelectorAll("g.row")].map((g) => [(g as HTMLElement).dataset.label!, bars(g)])),
      })),
    } as Shown;
  }) as Promise<Shown>;
}

/** The VMAs each dump of a run's output lists, as [start, end, perms, pgoff], dump by dump. */
function dumpsOf(output: string): [number, number, string, number][][] {
  const out: [number, number, string, number][][] = [];
  let cur: [number, number, string, number][] | null = null;
  for (const line of output.split("\n")) {
    if (/^dump( full)?$/.test(line)) out.push((cur = []));
    else if (cur && /^ {2}\d+ \d+ /.test(line)) {
      const [s, e, perms, , pgoff] = line.trim().split(/\s+/);
      cur.push([Number(s), Number(e), perms, Number(pgoff)]);
    } else cur = null;
  }
  return out;
}

describe.skipIf(chromiumMissing)("the playground in Chromium", () => {
  let server: ChildProcess;
  let base = "";
  let browser: Browser;
  let page: Page;

  /** Opens `hash` in a fresh document (a new query string forces a load) and waits for its first run. */
  let loads = 0;
  async function open(hash: string): Promise<number> {
    await page.goto(`${base}/?load=${++loads}${hash}`);
    await page.waitForFunction(() => document.body.dataset.runs === "1" || document.body.dataset.error, null, { timeout: 60_000 });
    const error = await page.evaluate(() => document.body.dataset.error);
    if (error) throw new Error(error);
    return page.evaluate(() => (window as unknown as { vmasimPlayground: { firstRender: number } }).vmasimPlayground.firstRender);
  }

  beforeAll(async () => {
    readFileSync(join(ROOT, "dist/web/index.html")); // npm test builds it first
    mkdirSync(SHOTS, { recursive: true });
    server = spawn(process.execPath, [join(ROOT, "dist/cli.js"), "serve", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    base = await new Promise<string>((resolve, reject) => {
      let text = "";
      server.stdout!.on("data", (c) => {
        text += c;
        const m = /http:\/\/127\.0\.0\.1:\d+/.exec(text);
        if (m) resolve(m[0]);
      });
      server.on("exit", (status) => reject(new Error(`vmasim serve exited ${status}: ${text}`)));
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGINT");
      await exited;
    }
  });

  it("lists the bundled scenarios vmasim list names, and the first render after load with one is measured", async () => {
    const first = await open("");
    const options = await page.$$eval("#scenario option", (os) => os.map((o) => (o as HTMLOptionElement).value).filter((v) => v !== ""));
    expect(options).toEqual(bundledScenarios().map((s) => s.name));
    expect(await page.$eval("#scenario", (s) => (s as HTMLSelectElement).value)).toBe("default");
    const s05 = readFileSync(join(ROOT, "scenarios/spec-12/S05-hole-between-two-anon-vmas.script"), "utf8");
    const link = await open(formatState({ policies: ["linux-5.17", "seed"], script: s05 }));
    console.log(
      `playground first render after load (ms from navigation start): @default under linux-5.17,seed ${first.toFixed(0)} ms;` +
      ` a link to @S05 under linux-5.17,seed ${link.toFixed(0)} ms (the issue asks < 200 ms; not asserted)`,
    );
    expect(await page.$eval("#scenario", (s) => (s as HTMLSelectElement).value)).toBe("spec-12/S05-hole-between-two-anon-vmas");
  });

  it("runs every bundled scenario from a link under every policy: the CLI's output, trace and verdict; a bar per VMA of each dump", async () => {
    let tracesCompared = 0;
    for (const s of bundledScenarios()) {
      const script = readFileSync(s.path, "utf8");
      // the browser runs the link while the CLI runs here
      const opened = open(formatState({ policies: [...POLICIES], script }));
      const runs = [];
      for (const policy of POLICIES) runs.push(await cli(["run", "--trace", "--policy", policy, s.path]));
      await opened;
      // the traces are compared where they are short: @default and S35 make 65530 VMAs, tens of thousands of
      // trace lines per policy, which would cost the suite more time than they add (the same code prints them)
      const traceLines = runs.reduce((n, r) => n + (r.stdout.match(/^ {4}#/gm)?.length ?? 0), 0);
      const withTraces = traceLines <= 5000;
      const shown = await readPage(page, withTraces);
      expect(Object.keys(shown.outputs)).toEqual([...POLICIES]);
      for (const [k, policy] of POLICIES.entries()) {
        const traced = runs[k];
        // run's output is run --trace's without the trace lines (each starts "    #")
        const run = { stdout: traced.stdout.replace(/^ {4}#.*\n/gm, ""), stderr: traced.stderr };
        const what = `@${s.name} under ${policy}`;
        expect(shown.outputs[policy], what).toBe(run.stdout);
        if (withTraces) {
          expect(shown.traces[policy], what).toBe(sha256(traced.stdout));
          tracesCompared++;
        }
        expect(shown.verdicts[policy], what).toBe(run.stderr.replaceAll(`${s.path}:`, "script:"));
        const dumps = dumpsOf(run.stdout);
        expect(shown.dumps.length, what).toBe(dumps.length);
        dumps.forEach((vmas, i) => {
          const label = Object.keys(shown.dumps[i].rows).find((l) => l === policy || l.startsWith(`${policy} (`))!;
          if (label !== policy) expect(vmas.length, `${what}, dump ${i + 1} not drawn`).toBeGreaterThan(MAX_DRAWN_VMAS);
          else expect(shown.dumps[i].rows[label], `${what}, dump ${i + 1}`).toEqual(vmas);
        });
      }
    }
    // all but the two long ones (test/web/run.test.ts compares @default's in Node)
    expect(tracesCompared).toBe((bundledScenarios().length - 2) * POLICIES.length);
  });

  it("steps through the script line by line, redrawing the picture; outlines what differs between policies", async () => {
    const s34 = readFileSync(join(ROOT, "scenarios/spec-12/S34-case-6-three-anon-vmas.script"), "utf8");
    await open(formatState({ policies: ["linux-5.17", "seed-v2", "seed"], script: s34 }));
    const picture = () => page.$eval("#picture", (p) => ({
      line: Number((p as HTMLElement).dataset.line),
      bars: [...p.querySelectorAll<SVGRectElement>("g.row")].map((g) => g.querySelectorAll("rect.vma").length),
      differs: p.querySelectorAll("[data-differs]").length,
    }));
    const last = await picture();
    // after the last line (a dump): linux-5.17 keeps three VMAs, the seed policies merge them into one
    expect(last.bars).toEqual([3, 1, 1]);
    expect(last.differs).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, "s34-three-policies.png") });
    await page.click("#prev");
    const before = await picture();
    expect(before.line).toBeLessThan(last.line);
    // back to the first line that ran: one VMA, the same under every policy
    await page.$eval("#step", (s) => {
      (s as HTMLInputElement).value = "0";
      s.dispatchEvent(new Event("input"));
    });
    const first = await picture();
    expect(first.line).toBe(s34.split("\n").findIndex((l) => /^\s*mmap/.test(l)) + 1);
    expect(first.bars).toEqual([1, 1, 1]);
    expect(first.differs).toBe(0);
  });

  it("marks resident pages: a fork's COW-shared page, pages seed re-pointed; screenshots of the page", async () => {
    const marks = () => page.$$eval("#picture g.row", (gs) =>
      gs.map((g) => [...g.querySelectorAll<SVGRectElement>("rect.page")].map((r) => `${r.dataset.page}:${r.dataset.mark}`)));
    // S15: page 0 faulted, then fork: the child's PTE maps the parent's page, COW-shared
    const s15 = readFileSync(join(ROOT, "scenarios/spec-12/S15-forked-child-new-neighbour.script"), "utf8");
    await open(formatState({ policies: ["linux-5.17", "seed"], script: s15 }));
    expect(await marks()).toEqual([["0:ac"], ["0:ac"]]);
    // S17: the child faults pages 0 and 3 after fork; seed merges the VMAs and re-points page 3 to the merged anon_vma
    const s17 = readFileSync(join(ROOT, "scenarios/spec-12/S17-child-faulted-after-fork.script"), "utf8");
    await open(formatState({ policies: ["linux-5.17", "seed"], script: s17 }));
    expect(await marks()).toEqual([["0:a", "3:a"], ["0:a", "3:ap"]]);
    await page.screenshot({ path: join(SHOTS, "s17-fork.png") });
    await open("");
    await page.screenshot({ path: join(SHOTS, "default.png") });
    console.log(`playground screenshots: ${SHOTS}/{default,s34-three-policies,s17-fork}.png`);
  });
});
