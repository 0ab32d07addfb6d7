// A --policy argument: "all", or policy names separated by commas (repeats
// dropped, order kept). Shared by the commands that run several policies.

import { POLICIES, type Policy } from "../types.js";

/** The policies named by `arg`, or the reason it names none. */
export function policiesOf(arg: string): Policy[] | string {
  if (arg === "all") return [...POLICIES];
  const out: Policy[] = [];
  for (const p of arg.split(",")) {
    if (!(POLICIES as readonly string[]).includes(p)) return `unknown policy '${p}' (policies: all, ${POLICIES.join(", ")})`;
    if (!out.includes(p as Policy)) out.push(p as Policy);
  }
  return out;
}
