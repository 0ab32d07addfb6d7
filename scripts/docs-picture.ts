// npm run docs:picture: docs/address-space.svg, the README's diagram, from
// real runs of a bundled scenario (S34: three anon_vmas side by side) under
// linux-5.17, which keeps them apart, and seed, which merges them.
import { readFileSync, writeFileSync } from "node:fs";
import { createKernel } from "../src/engine/index.js";
import { addressSpaceSvg, arenaVmas, type DiagramRow } from "../src/report/svg.js";
import { runScenario } from "../src/scenario/run.js";
import type { Policy } from "../src/types.js";

const SCRIPT = "scenarios/spec-12/S34-case-6-three-anon-vmas.script";
const text = readFileSync(SCRIPT, "utf8");
const rows: DiagramRow[] = [];
for (const policy of ["linux-5.17", "seed"] as Policy[]) {
  const r = runScenario(await createKernel({ policy }), text);
  rows.push({ label: policy, vmas: arenaVmas(r.process, r.arenaBase, 3) });
}
writeFileSync("docs/address-space.svg", addressSpaceSvg(rows, "S34 after its last line: three faulted pages, three anon_vmas"));
console.log("docs/address-space.svg");
