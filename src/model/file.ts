// struct file and the vm_operations_struct tables the model knows about.
//   include/linux/fs.h struct file (identity, f_mode), mm/shmem.c
//   shmem_zero_setup() (v5.17), mm/mmap.c special_mapping_vmops (v5.17).
//
// Decision: every file created with createFile() behaves like a regular file
// on tmpfs opened O_RDWR: f_op->mmap exists, no f_op->mmap_supported_flags
// (MAP_SHARED_VALIDATE accepts only LEGACY_MAP_MASK), its vm_ops (shmem_vm_ops)
// have no ->close, its get_unmapped_area behaves like the mm's (no huge pages),
// no file size check at mmap time (the kernel has none), not hugetlbfs.
//
// Memory layer: a KFile is also its inode's address_space — `i_pages` is the
// page cache (see shmem.ts). `f_count` counts the references the model tracks:
// the one of whoever created the file (the test's open file descriptor, the
// exec'ing loader) and one per VMA (get_file()/fput()). Only a shmem object of
// a shared anonymous mapping is ever released: it has no descriptor and no
// name, so when its last VMA goes, shmem_evict_inode() frees its pages. A
// regular file's inode (and its page cache) outlives its descriptors, as a
// tmpfs file that is still linked does.

import type { Vma } from "./mm.js";
import type { Page } from "./page.js";
import { EINVAL } from "../abi/constants.js";

export const FMODE_READ = 0x1;
export const FMODE_WRITE = 0x2;

/** One open struct file. `id` is its identity in snapshots (VmaSnapshot.file). */
export interface KFile {
  readonly id: number;
  path: string;
  sizePages: number;
  f_mode: number;
  /** A shmem object created by shmem_zero_setup() for MAP_SHARED|MAP_ANONYMOUS. */
  readonly shmemZero: boolean;
  /** struct file f_count (see the header for what is counted). */
  f_count: number;
  /** The page cache (mapping->i_pages): page index -> page. */
  readonly i_pages: Map<number, Page>;
}

/** The parts of struct vm_operations_struct that change VMA-layer and fault behaviour. */
export interface VmOperations {
  readonly name: string;
  /** vm_ops->close is set: is_mergeable_vma() refuses such a VMA. */
  readonly close: boolean;
  /** vm_ops->may_split(): 0 or -errno; absent = splitting allowed. */
  may_split?(vma: Vma, addr: number): number;
  /** vm_ops->fault is the page cache's (shmem_fault); false: the model cannot fault this VMA in. */
  readonly shmem_fault: boolean;
  /** vm_ops->map_pages (filemap_map_pages) is set: read faults do fault-around. */
  readonly map_pages: boolean;
}

/** vm_ops installed by a regular (tmpfs) file's ->mmap and by shmem_zero_setup(). */
export const SHMEM_VM_OPS: VmOperations = { name: "shmem_vm_ops", close: false, shmem_fault: true, map_pages: true };

/** special_mapping_vmops ([vdso], [vvar]): has ->close and forbids splitting. */
export const SPECIAL_MAPPING_VMOPS: VmOperations = {
  name: "special_mapping_vmops",
  close: true,
  may_split: () => -EINVAL, // special_mapping_split()
  // special_mapping_fault() / vvar_fault() map kernel pages or PFNs: not modelled (fault.ts).
  shmem_fault: false,
  map_pages: false,
};

/** The path /proc/pid/maps shows for a shared anonymous mapping. */
export const SHMEM_ZERO_PATH = "/dev/zero (deleted)";

/** f_op->mmap (call_mmap): what a file's ->mmap does to the new VMA. */
export function call_mmap(file: KFile, vma: Vma): number {
  vma.vm_ops = SHMEM_VM_OPS;
  void file;
  return 0;
}
