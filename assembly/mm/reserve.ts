// Reserving records before an operation changes anything, so that no
// operation stops half-way for lack of wasm memory. When a reservation fails
// the engine is out of memory: `engine_oom` is set, the operation returns
// -ENOMEM without having changed state, and the host reports the condition as
// an engine resource error (not as the kernel's ENOMEM).

import { file_reserve } from "../fs/file";
import { vma_reserve } from "./types";

export let engine_oom: bool = false;

export function reserve(vmas: u32, files: u32): bool {
  if (vma_reserve(vmas) && (files == 0 || file_reserve(files))) return true;
  engine_oom = true;
  return false;
}

/** Record that an allocation inside an operation failed. */
export function engine_oom_set(): void {
  engine_oom = true;
}

/** Read and clear the out-of-memory flag. */
export function take_engine_oom(): bool {
  const r = engine_oom;
  engine_oom = false;
  return r;
}

export function engine_is_oom(): bool {
  return engine_oom;
}
