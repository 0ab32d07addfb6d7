// Faulting a range in on behalf of the kernel: mm/gup.c __mm_populate(),
// populate_vma_page_range(), __get_user_pages() with check_vma_flags(),
// follow_page_mask() (reduced to "is the PTE there with the access?") and
// faultin_page() (v5.17; read on 5.15, identical here).
//
// Used by mmap(MAP_POPULATE / MAP_LOCKED, or with mlockall's VM_LOCKED in
// def_flags) through vm_mmap_pgoff(), by mprotect_fixup() for a private
// VM_LOCKED VMA becoming writable, by brk() under mlockall(MCL_FUTURE), by
// mlock() / mlockall() and a VM_LOCKED mremap (mlock.ts, mremap.ts), and by
// MADV_POPULATE_READ / _WRITE (madvise.ts).
//
// populate_vma_page_range(): write faults for private writable VMAs (to break
// COW), read faults otherwise; FOLL_FORCE for any accessible VMA (so a
// write-only or exec-only VMA is read-faulted); nothing is faulted in a
// VM_LOCKONFAULT VMA — but v5.17 still walks it with FOLL_MLOCK (without
// FOLL_POPULATE), so check_vma_flags() applies there too: a PROT_NONE
// VM_LOCKONFAULT VMA is -EFAULT, as mlock2(MLOCK_ONFAULT) of it reports
// (the early "return nr_pages" for VM_LOCKONFAULT is 5.18's). A page whose
// PTE already allows the access is skipped (the zero page counts for a
// read). The faults go to handle_mm_fault() directly: no access_error(), no
// stack expansion. An error (VM_IO/VM_PFNMAP, a PROT_NONE VMA, a SIGBUS
// beyond EOF) ends the VMA; __mm_populate() with ignore_errors
// (mm_populate()) goes on with the next VMA.
//
// __mm_populate() skips the special mappings, whose pages the model does not
// have ([vdso]; [vvar] is VM_IO | VM_PFNMAP and skipped by the kernel too), so
// that mlockall(MCL_CURRENT) and mlock() over them work.
//
// faultin_vma_page_range() (MADV_POPULATE_READ / _WRITE): no FOLL_FORCE, and
// an incompatible VMA is -EINVAL instead of -EFAULT.

import { EFAULT, EINVAL, PAGE_SIZE, VM_IO, VM_LOCKONFAULT, VM_MAYREAD, VM_PFNMAP, VM_READ, VM_SHARED, VM_WRITE } from "../abi/constants.js";
import { handle_mm_fault, is_cow_mapping } from "./memory.js";
import { find_vma, vma_is_accessible, type MmStruct, type Vma } from "./mm.js";
import { pte_lookup } from "./pgtable.js";

/** check_vma_flags(): 0 or -EFAULT. */
function check_vma_flags(vma: Vma, write: boolean, force: boolean): number {
  const f = vma.vm_flags;
  if (f & (VM_IO | VM_PFNMAP)) return -EFAULT;
  if (write) {
    if (!(f & VM_WRITE)) {
      if (!force) return -EFAULT;
      if (!is_cow_mapping(f)) return -EFAULT;
    }
  } else if (!(f & VM_READ)) {
    if (!force) return -EFAULT;
    if (!(f & VM_MAYREAD)) return -EFAULT;
  }
  return 0;
}

/**
 * __get_user_pages() over [start, end) of one VMA: fault in every page whose
 * PTE does not yet allow the access. The number of pages done, or -EFAULT
 * if the first one fails.
 */
export function get_user_pages_range(vma: Vma, start: number, end: number, write: boolean, force: boolean): number {
  const err = check_vma_flags(vma, write, force);
  if (err) return err;
  let done = 0;
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    const pte = pte_lookup(vma.vm_mm, addr);
    if (!pte || (write && !pte.write)) {
      // faultin_page(): VM_FAULT_SIGBUS becomes -EFAULT
      if (handle_mm_fault(vma, addr, write)) return done > 0 ? done : -EFAULT;
    }
    done++;
  }
  return done;
}

/** populate_vma_page_range(vma, start, end): pages done or -errno. */
export function populate_vma_page_range(vma: Vma, start: number, end: number): number {
  const nr_pages = (end - start) / PAGE_SIZE;
  const write = (vma.vm_flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
  const force = vma_is_accessible(vma);
  if (vma.vm_flags & VM_LOCKONFAULT) {
    // FOLL_MLOCK without FOLL_POPULATE: __get_user_pages() checks the VMA,
    // then faultin_page() answers -ENOENT for every missing page (skipped):
    // nothing is faulted in.
    const err = check_vma_flags(vma, write, force);
    return err ? err : nr_pages;
  }
  return get_user_pages_range(vma, start, end, write, force);
}

/**
 * faultin_vma_page_range(vma, start, end, write) (MADV_POPULATE_*): FOLL_WRITE
 * as asked, no FOLL_FORCE; an incompatible VMA is -EINVAL. Pages done, or
 * -EFAULT when the first page's fault fails (SIGBUS / SIGSEGV).
 */
export function faultin_vma_page_range(vma: Vma, start: number, end: number, write: boolean): number {
  if (check_vma_flags(vma, write, false)) return -EINVAL;
  return get_user_pages_range(vma, start, end, write, false);
}

/** __mm_populate(start, len, ignore_errors): fault in [start, start + len) VMA by VMA. 0 or -errno. */
export function __mm_populate(mm: MmStruct, start: number, len: number, ignore_errors: boolean): number {
  const end = start + len;
  let vma: Vma | null = null;
  for (let nstart = start, nend = start; nstart < end; nstart = nend) {
    vma = vma === null ? find_vma(mm, nstart) : nstart >= vma.vm_end ? vma.vm_next : vma;
    if (!vma || vma.vm_start >= end) break;
    nend = Math.min(end, vma.vm_end);
    if (vma.vm_flags & (VM_IO | VM_PFNMAP)) continue;
    // Decision: a special mapping's pages ([vdso]) are not modelled, so it is
    // left unpopulated (the kernel maps the vDSO's pages here, successfully).
    if (vma.vm_ops && !vma.vm_ops.shmem_fault) continue;
    if (nstart < vma.vm_start) nstart = vma.vm_start;
    const ret = populate_vma_page_range(vma, nstart, nend);
    if (ret < 0) {
      if (ignore_errors) continue; // at the next VMA
      return ret;
    }
    nend = nstart + ret * PAGE_SIZE;
  }
  return 0;
}

/** mm_populate(): __mm_populate() ignoring errors. */
export function mm_populate(mm: MmStruct, start: number, len: number): void {
  __mm_populate(mm, start, len, true);
}
