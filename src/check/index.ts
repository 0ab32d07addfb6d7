// The invariant checker (docs/architecture.md §3.5).
export { checkProcess, expectedCounters, vmStatKind, type VmStatKind } from "./invariants.js";
export { checkKernel, mmViews, rmapWalkAnon, type MmView, type RmapHit } from "./memory.js";
