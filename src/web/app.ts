// The playground page (web/index.html): a script editor with the bundled
// scenarios, the script run under the chosen policies side by side, each
// policy's output exactly as `vmasim run --policy P` prints it, its merge
// trace and checker verdict, and the address-space picture after the chosen
// line and at every `dump`. The state lives in the URL's fragment
// (url_state.ts); opening a link with a script runs it at once.

import { loadEngine } from "../engine/load.js";
import { addressSpaceSvg, type DiagramRow } from "../report/svg.js";
import { POLICIES, type Policy } from "../types.js";
import { runPolicy, type PolicyRun } from "./run.js";
import { formatState, parseState } from "./url_state.js";

/** One bundled scenario (scenarios.json, written by scripts/build.mjs from scenarios/). */
interface Scenario {
  name: string;
  title: string;
  text: string;
}

/** What the page exposes for tests and for curious users (window.vmasimPlayground). */
interface PlaygroundInfo {
  /** ms from navigation start to the end of the first render of results */
  firstRender: number | null;
  /** how many runs finished (every policy's output rendered) */
  runs: number;
  /** the last run's results by policy */
  results: PolicyRun[];
}

const DEFAULT_POLICIES: Policy[] = ["linux-5.17", "seed"];
const info: PlaygroundInfo = { firstRender: null, runs: 0, results: [] };
(window as unknown as { vmasimPlayground: PlaygroundInfo }).vmasimPlayground = info;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const editor = $<HTMLTextAreaElement>("script");
const picker = $<HTMLSelectElement>("scenario");
const policyBox = $<HTMLFieldSetElement>("policies");
const status = $<HTMLSpanElement>("status");
const stepInput = $<HTMLInputElement>("step");
const stepLabel = $<HTMLSpanElement>("step-label");

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

for (const p of POLICIES) {
  const label = el("label");
  label.append(el("input", { type: "checkbox", value: p }), ` ${p}`);
  policyBox.append(label);
}
const checkboxes = () => [...policyBox.querySelectorAll<HTMLInputElement>("input[type=checkbox]")];
const chosenPolicies = () => checkboxes().filter((c) => c.checked).map((c) => c.value as Policy);
const choosePolicies = (ps: readonly Policy[]) => checkboxes().forEach((c) => (c.checked = ps.includes(c.value as Policy)));

let scenarios: Scenario[] = [];
/** what the last link asked for that the page could not do (unknown policies ...), shown beside the run's status */
let notice = "";
let results: PolicyRun[] = [];

/** The rows of the picture after step `i` (the i-th line that ran), one per policy. */
function rowsAt(i: number): DiagramRow[] {
  return results.map((r) => {
    const s = r.steps[Math.min(i, r.steps.length - 1)];
    const label = s?.notDrawn ? `${r.policy} (${s.notDrawn} VMAs, not drawn)` : r.policy;
    return { label, vmas: s?.vmas ?? [], pages: s?.pages ?? [] };
  });
}

const scriptLine = (line: number) => (editor.value.split("\n")[line - 1] ?? "").trim();

/** Redraws the stepped picture at the slider's step. */
function drawStep(): void {
  const steps = results[0]?.steps ?? [];
  const i = Number(stepInput.value);
  const s = steps[i];
  stepLabel.textContent = s ? `after line ${s.line}: ${scriptLine(s.line)}` : "nothing ran";
  $("picture").innerHTML = s ? addressSpaceSvg(rowsAt(i), "", { differences: true }) : "";
  $("picture").dataset.line = s ? String(s.line) : "";
}

function render(): void {
  const cols = $("columns");
  cols.replaceChildren();
  for (const r of results) {
    const col = el("section", { class: "policy", "data-policy": r.policy });
    col.append(el("h2", {}, r.policy));
    col.append(el("pre", { class: "vmasim-verdict" + (r.status === 0 ? "" : " bad"), "data-policy": r.policy }, r.stderr));
    col.append(el("pre", { class: "vmasim-output", "data-policy": r.policy }, r.output));
    // the trace is made when first opened (a second run, with tracing on: the engine is deterministic)
    const trace = el("details", { class: "trace" });
    const pre = el("pre", { class: "vmasim-trace", "data-policy": r.policy });
    trace.append(el("summary", {}, "merge trace (vmasim run --trace)"), pre);
    const script = editor.value;
    trace.addEventListener("toggle", () => {
      if (!trace.open || pre.dataset.ready) return;
      pre.textContent = "tracing...";
      void runPolicy(r.policy, script, true).then((t) => {
        pre.textContent = t.traced;
        pre.dataset.ready = "1";
      });
    });
    col.append(trace);
    cols.append(col);
  }
  const steps = results[0]?.steps ?? [];
  stepInput.max = String(Math.max(0, steps.length - 1));
  stepInput.value = stepInput.max;
  drawStep();
  const dumps = $("dumps");
  dumps.replaceChildren();
  steps.forEach((s, i) => {
    if (!s.dump) return;
    const fig = el("figure", { "data-line": String(s.line) });
    fig.append(el("figcaption", {}, `line ${s.line}: ${scriptLine(s.line)}`));
    const pic = el("div", { class: "picture" });
    pic.innerHTML = addressSpaceSvg(rowsAt(i), "", { differences: true });
    fig.append(pic);
    fig.addEventListener("click", () => {
      stepInput.value = String(i);
      drawStep();
    });
    dumps.append(fig);
  });
  $("dumps-heading").hidden = dumps.childElementCount === 0;
}

/** Runs the editor's script under the chosen policies and shows the results. */
async function run(): Promise<void> {
  const policies = chosenPolicies();
  const script = editor.value;
  history.replaceState(null, "", formatState({ policies, script }));
  status.textContent = "running...";
  const t0 = performance.now();
  const out: PolicyRun[] = [];
  for (const p of policies) out.push(await runPolicy(p, script));
  results = out;
  info.results = out;
  render();
  const ms = performance.now() - t0;
  const ran = policies.length ? `ran under ${policies.length} polic${policies.length === 1 ? "y" : "ies"} in ${ms.toFixed(0)} ms` : "choose a policy";
  status.textContent = notice ? `${notice}; ${ran}` : ran;
  notice = "";
  info.runs++;
  if (info.firstRender === null) info.firstRender = performance.now();
  document.body.dataset.runs = String(info.runs);
}

/** Shows the state of the URL's fragment; false when it has no script. */
function fromUrl(): boolean {
  const s = parseState(location.hash);
  notice = s.problems.join("; ");
  if (s.script === null) return false;
  editor.value = s.script;
  picker.value = scenarios.find((x) => x.text === s.script)?.name ?? "";
  choosePolicies(s.policies.length ? s.policies : DEFAULT_POLICIES);
  return true;
}

function pick(name: string): void {
  const s = scenarios.find((x) => x.name === name);
  if (s) editor.value = s.text;
}

async function start(): Promise<void> {
  const engine = loadEngine(); // fetch and compile the engine while the scenarios arrive
  scenarios = (await (await fetch(new URL("./scenarios.json", import.meta.url))).json()) as Scenario[];
  for (const s of scenarios) picker.append(el("option", { value: s.name }, `@${s.name}${s.title ? ` \u2014 ${s.title}` : ""}`));
  await engine;
  if (!fromUrl()) {
    picker.value = "default";
    pick("default");
    choosePolicies(DEFAULT_POLICIES);
  }
  picker.addEventListener("change", () => {
    pick(picker.value);
    void run();
  });
  $("run").addEventListener("click", () => void run());
  editor.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void run();
  });
  policyBox.addEventListener("change", () => void run());
  stepInput.addEventListener("input", drawStep);
  $("prev").addEventListener("click", () => {
    stepInput.value = String(Math.max(0, Number(stepInput.value) - 1));
    drawStep();
  });
  $("next").addEventListener("click", () => {
    stepInput.value = String(Math.min(Number(stepInput.max), Number(stepInput.value) + 1));
    drawStep();
  });
  window.addEventListener("hashchange", () => {
    if (location.hash !== formatState({ policies: chosenPolicies(), script: editor.value }) && fromUrl()) void run();
  });
  await run();
}

start().catch((e: unknown) => {
  status.textContent = `vmasim: ${e instanceof Error ? e.message : String(e)}`;
  document.body.dataset.error = status.textContent;
});
