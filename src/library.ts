// vmasim as a library, the part that runs anywhere (Node and browsers):
// `createKernel` starts a simulated kernel (one wasm instance) under a policy;
// its processes take syscalls and report their state. The reference model,
// the scenario runner, the checker and the /proc/pid/maps renderer are
// exported too, so embedders can build on them. index.ts (Node) and
// index.browser.ts (the `browser` export condition) add the host probe.

export * from "./types.js";
export * as abi from "./abi/constants.js";
export {
  createKernel, createKernelSync, EngineOutOfMemoryError, EnginePoisonedError, Process, Simulator,
  type SimulatorOptions, loadEngine, type WasmSource, wasmPath, type MergeEvent, type MergeReason, type MergeStats, formatFtrace, formatMergeEvent, mergeSideText,
  POLICY_SWITCHES, BATCH_STRIDE, BATCH_OP, NotModelledAccessError,
} from "./engine/index.js";
export { createModelKernel } from "./model/index.js";
export { defaultImage, mmapBase } from "./image.js";
export { checkKernel, checkProcess } from "./check/index.js";
export { renderMaps } from "./maps.js";
export { formatVmas, vmFlagNames } from "./format.js";
export { parseScript } from "./scenario/parse.js";
export { NotModelledError, runScenario, type ScenarioOptions, type ScenarioResult } from "./scenario/run.js";
export {
  CONFIG_KEYS, ConfigError, KNOBS, type ConfigKey, type ResolvedConfig, configFromJson, configToJson, parseSetting, resolveConfig,
} from "./config/config.js";
export {
  type HostFacts, type HostProfile, engineConfig, profileDifferences, profileFromJson, profileToJson, readRecordingProfile,
} from "./kernel/profile.js";
export {
  addressSpaceSvg, arenaPages, arenaVmas, PageHistory, type DiagramOptions, type DiagramPage, type DiagramRow, type DiagramVma,
} from "./report/svg.js";
export {
  GEN_KINDS, GenError, type GenKind, type GenOptions, genCommand, generate, generateChunks,
} from "./gen/generate.js";
