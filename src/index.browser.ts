// vmasim as a library in a browser (package.json's `browser` condition):
// everything in library.ts. probeHost needs a Linux host's /proc and a C
// compiler, so here it only says so; its type is Node's, so code written
// for both type-checks the same.

import type { probeHost as nodeProbeHost } from "./kernel/host.js";

export * from "./library.js";

export const probeHost: typeof nodeProbeHost = () => {
  throw new Error("vmasim: probeHost reads a Linux host's /proc and needs Node; it is not available in a browser");
};
