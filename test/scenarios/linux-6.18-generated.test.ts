// The engine under linux-6.18 against the generated scripts as recorded on
// this machine's Linux 6.18 (generated-6.18, release build), configured from
// the directory's host-profile.json; the corpus and the examples are
// linux-6.18.test.ts. Differences only as listed in
// linux-6.18-generated-known.json (kernel-proof.ts).
import { fileURLToPath } from "node:url";
import { proveRecordings } from "./kernel-proof.js";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

proveRecordings("linux-6.18", "linux-6.18", [
  { name: "generated", recordings: here("./generated-6.18/"), scripts: here("./generated/"), builds: ["release"], atLeast: 320 },
], here("./linux-6.18-generated-known.json"));
