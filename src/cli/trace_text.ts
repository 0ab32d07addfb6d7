// The lines of `run --trace` are the library's (src/engine/merge_trace.ts
// formatMergeEvent, one vocabulary: vmasim's reason names); `--ftrace` keeps
// the series' own format (formatFtrace). One implementation, named here as the
// CLI uses it.

export { mergeSideText as sideText, formatMergeEvent as traceLine } from "../engine/merge_trace.js";
