// vmasim as a library in a browser (package.json's `browser` condition):
// everything in library.ts. probeHost needs a Linux host's /proc and a C
// compiler, so here it only says so; its type is Node's, so code written
// for both type-checks the same.

import type { probeHost as nodeProbeHost } from "./kernel/host.js";

export * from "./library.js";

export const probeHost: typeof nodeProbeHost = () => {
  throw new Error("vmasim: probeHost reads a Linux host's /proc and needs Node; it is not available in a browser");
};

import type { writeChunks as nodeWriteChunks, writeGenerated as nodeWriteGenerated } from "./gen/write.js";

// The writer of generated traces writes Node streams and files; in a browser,
// generate() / generateChunks() (library.ts) give the text itself.
export const writeChunks: typeof nodeWriteChunks = () =>
  Promise.reject(new Error("vmasim: writeChunks writes Node streams; in a browser, iterate generateChunks() instead"));
export const writeGenerated: typeof nodeWriteGenerated = () =>
  Promise.reject(new Error("vmasim: writeGenerated writes files and needs Node; in a browser, iterate generateChunks() instead"));
