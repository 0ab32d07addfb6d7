// Splitting a VMA in two: __split_vma() and split_vma() (mm/mmap.c, v5.17).

import { EINVAL, ENOMEM, PAGE_SHIFT } from "../abi/constants";
import { get_file } from "../fs/file";
import { anon_vma_clone, anon_vma_interval_tree_post_update_vma, anon_vma_interval_tree_pre_update_vma } from "../rmap/anon_vma";
import { engine_oom_set } from "./reserve";
import { map_count_refused, sysctl_max_map_count } from "./sysctl";
import { Mm, Vma, VM_OPS_SPECIAL, vm_area_alloc, vm_area_free } from "./types";
import { vma_bounds_changed, vma_link, vma_prev } from "./vma_tree";

/**
 * __split_vma(): cut vma at addr. With new_below the new VMA is the lower
 * part [vm_start, addr) and the original struct keeps the upper part;
 * otherwise the original keeps the lower part. Returns 0 or -errno.
 * Requires one reserved VMA record.
 */
export function __split_vma(mm: Mm, vma: Vma, addr: u64, new_below: bool): i64 {
  // vm_ops->may_split: special mappings refuse (special_mapping_split)
  if (vma.vm_ops == VM_OPS_SPECIAL) return -EINVAL;
  const nv = vm_area_alloc(mm);
  // vm_area_dup(): every attribute
  nv.vm_start = vma.vm_start;
  nv.vm_end = vma.vm_end;
  nv.vm_pgoff = vma.vm_pgoff;
  nv.vm_flags = vma.vm_flags;
  nv.vm_file = vma.vm_file;
  nv.vm_ops = vma.vm_ops;
  nv.anon_vma = vma.anon_vma;
  nv.anon_name = vma.anon_name;
  nv.vm_policy = vma.vm_policy;
  nv.vm_userfaultfd_ctx = vma.vm_userfaultfd_ctx;
  nv.special = vma.special;
  nv.may_have_ptes = vma.may_have_ptes;
  const delta = (addr - vma.vm_start) >> PAGE_SHIFT;
  if (new_below) nv.vm_end = addr;
  else {
    nv.vm_start = addr;
    nv.vm_pgoff += delta;
  }
  // the new VMA joins every anon_vma of the old one, with its own range
  if (!anon_vma_clone(nv, vma)) {
    vm_area_free(nv);
    engine_oom_set();
    return -ENOMEM;
  }
  if (nv.vm_file) get_file(nv.vm_file!);
  // vma_adjust(vma, ..., insert = nv)
  anon_vma_interval_tree_pre_update_vma(vma);
  if (new_below) {
    vma.vm_start = addr;
    vma.vm_pgoff += delta;
  } else {
    vma.vm_end = addr;
  }
  anon_vma_interval_tree_post_update_vma(vma);
  vma_bounds_changed(mm, vma);
  vma_link(mm, nv, new_below ? vma_prev(vma) : vma);
  return 0;
}

/** split_vma(): __split_vma with the map-count limit (map_count >= max fails). */
export function split_vma(mm: Mm, vma: Vma, addr: u64, new_below: bool): i64 {
  if (mm.map_count >= sysctl_max_map_count) return map_count_refused();
  return __split_vma(mm, vma, addr, new_below);
}
