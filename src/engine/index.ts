// The wasm engine: a KernelSim/ProcessSim implementation running the core.
export {
  createKernel, createKernelSync, EngineOutOfMemoryError, EnginePoisonedError, NotModelledAccessError, Process, Simulator,
  type SimulatorOptions,
} from "./simulator.js";
export { type EngineBuild, type WasmSource, loadEngine, wasmPath } from "./load.js";
/** The typed batch format (docs/batch.md): the stride and the op codes. */
export { BATCH_STRIDE, OP as BATCH_OP } from "./abi.js";
export {
  type MergeCaller, type MergeEvent, type MergeReason, type MergeRes, type MergeSide, type MergeStats, type PgoffEvent,
  type VmaMergeEvent, formatFtrace, formatMergeEvent, mergeSideText,
} from "./merge_trace.js";
export {
  KERNEL_POLICIES, KERNEL_RELEASES, POLICY_SWITCHES, type PolicySwitches, kernelSwitches, releaseName,
} from "./policy.js";
