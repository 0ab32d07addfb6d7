// vmasim as a library under Node: everything in library.ts plus probeHost,
// which reads this machine's /proc and runs the native scenario runner, and
// the writer of generated traces (files, gzip, backpressure).

export * from "./library.js";
export { probeHost } from "./kernel/host.js";
export { writeChunks, writeGenerated } from "./gen/write.js";
