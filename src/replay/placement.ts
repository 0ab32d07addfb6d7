// Where the engine would have put a mapping the kernel placed itself: the
// x86_64 top-down search of arch_get_unmapped_area_topdown()
// (arch/x86/kernel/sys_x86_64.c, 6.18) over the engine's VMAs, without
// changing them: the hint if the range is free, else the highest gap below
// mmap_base that fits. Randomisation is off in the engine, so a difference
// from the traced address is expected and only counted.

import { PAGE_SIZE, VM_GROWSDOWN } from "../abi/constants.js";
import type { VmaSnapshot } from "../types.js";

function gapStart(v: VmaSnapshot, guard: number): number {
  return v.flags & VM_GROWSDOWN ? Math.max(0, v.start - guard) : v.start;
}

/** The address the engine's search gives for `len` bytes with `hint`, or -1 when nothing fits. */
export function enginePlacement(vmas: VmaSnapshot[], hint: number, len: number, mmapBase: number, minAddr: number, guard: number): number {
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (hint) {
    const a = Math.floor(hint / PAGE_SIZE) * PAGE_SIZE;
    if (a >= minAddr && vmas.every((v) => v.end <= a || gapStart(v, guard) >= a + len)) return a;
  }
  // from the top: the gaps between the VMAs below mmap_base, highest first
  let top = mmapBase;
  for (let i = vmas.length - 1; i >= 0; i--) {
    const v = vmas[i];
    if (v.end < top && top - v.end >= len) return top - len;
    top = Math.min(top, gapStart(v, guard));
  }
  return top - minAddr >= len ? top - len : -1;
}
