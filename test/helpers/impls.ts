// The implementations of the kernel rules that implementation-agnostic tests
// run against. Every test written against KernelSim should loop over IMPLS.
import type { KernelConfig, KernelSim } from "../../src/types.js";
import { createModelKernel } from "../../src/model/index.js";

export interface Impl {
  name: string;
  create(config: KernelConfig): KernelSim;
}

export const IMPLS: Impl[] = [
  { name: "model", create: (c) => createModelKernel(c) },
];
