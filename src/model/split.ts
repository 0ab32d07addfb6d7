// mm/mmap.c: __split_vma(), split_vma() (v5.17).

import { ENOMEM, PAGE_SIZE } from "../abi/constants.js";
import { vma_adjust } from "./adjust.js";
import { anon_vma_clone, unlink_anon_vmas } from "./anon_vma.js";
import { vm_area_dup, type MmStruct, type Vma } from "./mm.js";
import { fput, get_file } from "./shmem.js";

/**
 * __split_vma(mm, vma, addr, new_below): split vma at addr without a
 * map_count check. new_below = 1: a new VMA takes [vm_start, addr) and the
 * original struct keeps the upper part; new_below = 0: the original keeps
 * [vm_start, addr) and the new VMA takes the rest. 0 or -errno.
 */
export function __split_vma(mm: MmStruct, vma: Vma, addr: number, new_below: boolean): number {
  if (vma.vm_ops && vma.vm_ops.may_split) {
    const err = vma.vm_ops.may_split(vma, addr);
    if (err) return err;
  }

  const nw = vm_area_dup(vma);
  if (new_below) {
    nw.vm_end = addr;
  } else {
    nw.vm_start = addr;
    nw.vm_pgoff += (addr - vma.vm_start) / PAGE_SIZE;
  }
  // vma_dup_policy(): the policy pointer was copied by vm_area_dup().
  // anon_vma_clone(): nw->anon_vma was copied, so no reuse: nw joins all of
  // vma's anon_vmas and its anon_vma gets degree++.
  const err = anon_vma_clone(nw, vma);
  if (err) return err;
  if (nw.vm_file) get_file(nw.vm_file);
  // vm_ops->open(): none of the modelled vm_ops has one.

  const err2 = new_below
    ? vma_adjust(vma, addr, vma.vm_end, vma.vm_pgoff + (addr - nw.vm_start) / PAGE_SIZE, nw)
    : vma_adjust(vma, vma.vm_start, addr, vma.vm_pgoff, nw);
  if (err2) {
    if (nw.vm_file) fput(nw.vm_file);
    unlink_anon_vmas(nw);
    return err2;
  }
  void mm;
  return 0;
}

/** split_vma(): __split_vma() refused once map_count has reached vm.max_map_count. */
export function split_vma(mm: MmStruct, vma: Vma, addr: number, new_below: boolean): number {
  if (mm.map_count >= mm.kernel.sysctl_max_map_count) return -ENOMEM;
  return __split_vma(mm, vma, addr, new_below);
}
