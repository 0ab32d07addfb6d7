// The engine under linux-6.12 against everything recorded on Debian's Linux
// 6.12 (the 6.12 LTS line with its stable backports) under qemu: every
// corpus script (corpus-6.12, release and debug builds) and every generated
// script (generated-6.12, release build) is reproduced byte for byte,
// configured from each directory's host-profile.json. Differences only as
// listed in linux-6.12-known.json (kernel-proof.ts).
import { fileURLToPath } from "node:url";
import { proveRecordings } from "./kernel-proof.js";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

proveRecordings("linux-6.12", "linux-6.12", [
  { name: "corpus", recordings: here("./corpus-6.12/"), scripts: here("./corpus/"), builds: ["release", "debug"], atLeast: 78 },
  { name: "generated", recordings: here("./generated-6.12/"), scripts: here("./generated/"), builds: ["release"], atLeast: 320 },
], here("./linux-6.12-known.json"));
