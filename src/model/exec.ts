// The state right after execve: fs/exec.c (bprm_mm_init, setup_arg_pages),
// fs/binfmt_elf.c (vm_mmap of the segments, set_brk), arch/x86/mm/mmap.c
// arch_pick_mmap_layout(), arch/x86/entry/vdso/vma.c map_vdso() (v5.17) —
// not re-executed step by step: the ProcessImage describes the result and its
// VMAs are linked as they are, without merging (like insert_vm_struct()).
//
// Decisions: image pgoffs are taken literally (the stack keeps the pgoff of
// its temporary exec-time position); image flags too, plus VM_SOFTDIRTY, which
// every VMA exec creates has (mmap_region(), do_brk_flags(),
// __install_special_mapping() and __bprm_mm_init() all set it); every image
// file becomes a new struct file (one id each, in image order); special
// mappings get special_mapping_vmops.
//
// Memory layer: a VMA marked `faulted` was written during exec (argument
// pages, relocations, .data/.bss). Once every image VMA is linked, each
// faulted one gets an anon_vma by anon_vma_prepare(), in image order — so a
// RELRO VMA and the writable data VMA after it share one anon_vma through
// find_mergeable_anon_vma(), as they do in the kernel, where they are the two
// halves of one VMA split by ld.so's mprotect(). Decision: no pages and no page
// tables are created for them (the page contents exec wrote would only add
// RSS that no rule reads; it keeps page ids starting with the test's own
// faults). The new mm has one user.

import { PAGE_SIZE, TASK_SIZE, VM_ACCOUNT, VM_LOCKED, VM_SOFTDIRTY } from "../abi/constants.js";
import type { ProcessImage } from "../types.js";
import { vm_acct_memory, vm_stat_account } from "./accounting.js";
import { anon_vma_prepare } from "./anon_vma.js";
import { SHMEM_VM_OPS, SPECIAL_MAPPING_VMOPS } from "./file.js";
import { find_vma_links, vm_area_alloc, vma_link, vma_pages, type MmStruct, type Vma } from "./mm.js";
import { get_file } from "./shmem.js";

/** PAGE_ALIGN(TASK_SIZE / 3): the bottom-up (legacy) mmap base without randomisation. */
export const TASK_UNMAPPED_BASE = Math.ceil(Math.floor(TASK_SIZE / 3) / PAGE_SIZE) * PAGE_SIZE;

/** Build the mm of a freshly exec'ed process from an image. Throws on a malformed image. */
export function exec_image(mm: MmStruct, image: ProcessImage): void {
  mm.task_size = TASK_SIZE;
  mm.mmap_base = image.mmap_base;
  mm.mmap_legacy_base = TASK_UNMAPPED_BASE;
  mm.def_flags = 0;
  mm.start_brk = image.start_brk;
  mm.brk = image.start_brk;
  mm.start_stack = image.start_stack;
  // start_data/end_data only matter for a finite RLIMIT_DATA in brk(); left 0.

  const files = image.files.map((f) => mm.kernel.newFile(f.path, f.sizePages, false));

  const faulted: Vma[] = [];
  for (const iv of image.vmas) {
    if (iv.start % PAGE_SIZE || iv.end % PAGE_SIZE || iv.start >= iv.end || iv.end > TASK_SIZE) {
      throw new Error(`image VMA [${iv.start.toString(16)}, ${iv.end.toString(16)}) is not a valid range`);
    }
    const vma = vm_area_alloc(mm);
    vma.vm_start = iv.start;
    vma.vm_end = iv.end;
    vma.vm_flags = (iv.flags | VM_SOFTDIRTY) >>> 0;
    vma.vm_pgoff = iv.pgoff;
    if (iv.special !== undefined) {
      vma.vm_ops = SPECIAL_MAPPING_VMOPS;
      vma.special = iv.special;
    } else if (iv.fileIndex >= 0) {
      const file = files[iv.fileIndex];
      if (!file) throw new Error(`image VMA refers to missing file ${iv.fileIndex}`);
      vma.vm_file = get_file(file);
      vma.vm_ops = SHMEM_VM_OPS;
    }

    const links = find_vma_links(mm, vma.vm_start, vma.vm_end);
    if (links.overlap) throw new Error(`image VMA at ${iv.start.toString(16)} overlaps another`);
    vma_link(mm, vma, links.prev);

    const pages = vma_pages(vma);
    vm_stat_account(mm, vma.vm_flags, pages);
    if (vma.vm_flags & VM_LOCKED) mm.locked_vm += pages;
    // charged without the overcommit check (docs/configuration.md: the image is never refused)
    if (vma.vm_flags & VM_ACCOUNT) vm_acct_memory(mm.kernel, pages);
    if (iv.faulted) faulted.push(vma);
  }

  for (const vma of faulted) anon_vma_prepare(vma);
}
