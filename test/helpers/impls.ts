// The implementations of the kernel rules that implementation-agnostic tests
// run against. Every test written against KernelSim loops over IMPLS: the
// TypeScript reference model, and the wasm engine in its debug build
// (assertions and bounds checks on) and its release build.
import type { KernelConfig, KernelSim } from "../../src/types.js";
import { createModelKernel } from "../../src/model/index.js";
import { createKernelSync } from "../../src/engine/index.js";

export interface Impl {
  name: string;
  create(config: KernelConfig): KernelSim;
}

export const IMPLS: Impl[] = [
  { name: "model", create: (c) => createModelKernel(c) },
  { name: "engine", create: (c) => createKernelSync(c, { build: "release" }) },
  { name: "engine-debug", create: (c) => createKernelSync(c, { build: "debug" }) },
];
