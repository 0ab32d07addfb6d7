// The wasm engine: a KernelSim/ProcessSim implementation running the core.
export {
  createKernel, createKernelSync, EngineOutOfMemoryError, EnginePoisonedError, NotModelledAccessError, Process, Simulator,
  type SimulatorOptions,
} from "./simulator.js";
export { type EngineBuild, wasmPath } from "./load.js";
