// struct file and the vm_operations_struct tables the model knows about.
//   include/linux/fs.h struct file (identity, f_mode), mm/shmem.c
//   shmem_zero_setup() (v5.17), mm/mmap.c special_mapping_vmops (v5.17).
//
// Decision: every file created with createFile() behaves like a regular file
// on tmpfs opened O_RDWR: f_op->mmap exists, no f_op->mmap_supported_flags
// (MAP_SHARED_VALIDATE accepts only LEGACY_MAP_MASK), its vm_ops (shmem_vm_ops)
// have no ->close, its get_unmapped_area behaves like the mm's (no huge pages),
// no file size check at mmap time (the kernel has none), not hugetlbfs.

import type { Vma } from "./mm.js";
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
}

/** The parts of struct vm_operations_struct that change VMA-layer behaviour. */
export interface VmOperations {
  readonly name: string;
  /** vm_ops->close is set: is_mergeable_vma() refuses such a VMA. */
  readonly close: boolean;
  /** vm_ops->may_split(): 0 or -errno; absent = splitting allowed. */
  may_split?(vma: Vma, addr: number): number;
}

/** vm_ops installed by a regular (tmpfs) file's ->mmap and by shmem_zero_setup(). */
export const SHMEM_VM_OPS: VmOperations = { name: "shmem_vm_ops", close: false };

/** special_mapping_vmops ([vdso], [vvar]): has ->close and forbids splitting. */
export const SPECIAL_MAPPING_VMOPS: VmOperations = {
  name: "special_mapping_vmops",
  close: true,
  may_split: () => -EINVAL, // special_mapping_split()
};

/** The path /proc/pid/maps shows for a shared anonymous mapping. */
export const SHMEM_ZERO_PATH = "/dev/zero (deleted)";

/** f_op->mmap (call_mmap): what a file's ->mmap does to the new VMA. */
export function call_mmap(file: KFile, vma: Vma): number {
  vma.vm_ops = SHMEM_VM_OPS;
  void file;
  return 0;
}
