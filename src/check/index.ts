// The invariant checker (ARCHITECTURE.md "check/").
export { checkProcess, expectedCounters, vmStatKind, type VmStatKind } from "./invariants.js";
