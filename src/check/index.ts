// The invariant checker (ARCHITECTURE.md "check/").
export { checkProcess, expectedCounters, vmStatKind, type VmStatKind } from "./invariants.js";
export { checkKernel, mmViews, rmapWalkAnon, type MmView, type RmapHit } from "./memory.js";
