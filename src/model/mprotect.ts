// mprotect(2): mm/mprotect.c do_mprotect_pkey() (pkey = -1), mprotect_fixup();
// include/linux/mman.h arch_validate_prot() (generic, used by x86) (v5.17).
//
// Decisions: no protection keys (mprotect clears the pkey bits 32..35 of
// vm_flags and sets pkey 0); personality without READ_IMPLIES_EXEC; no
// VM_GROWSUP on x86; arch_has_pfn_modify_check() (L1TF) PROT_NONE walk of
// VM_PFNMAP/VM_MIXEDMAP VMAs always passes; no vm_ops->mprotect.
//
// Memory layer: when a VMA's flags really change, change_protection() gives
// every present PTE of [start, end) the new vm_page_prot (pte_modify()): a
// private mapping's is read-only (COW; v5.17 has no "keep exclusive anonymous
// pages writable" optimisation, which came in 5.19), a shared one's is
// writable iff VM_WRITE (no write notification on tmpfs). A private
// VM_LOCKED VMA becoming writable is then populated (populate_vma_page_range():
// write faults break COW at once).

import {
  EACCES, EINVAL, ENOMEM, PAGE_SIZE, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP, PROT_READ, PROT_SEM,
  PROT_WRITE, VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_HUGETLB, VM_LOCKED, VM_NORESERVE, VM_READ, VM_SHARED, VM_WRITE,
} from "../abi/constants.js";
import { may_expand_vm, security_vm_enough_memory_mm, vm_stat_account, vm_unacct_memory } from "./accounting.js";
import { vma_attrs, vma_merge } from "./merge.js";
import { calc_vm_prot_bits } from "./mmap.js";
import { find_vma, type MmStruct, type Vma } from "./mm.js";
import { populate_vma_page_range } from "./gup.js";
import { vm_page_prot_writable } from "./memory.js";
import { ptes_in_range } from "./pgtable.js";
import { split_vma } from "./split.js";
import { U64_MASK, addUlong, num, offsetInPageUlong, pageAlignUlong } from "./uapi.js";

const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
/** VM_PKEY_BIT0..3 live in vm_flags bits 32..35: bits 0..3 of the high word. */
const ARCH_VM_PKEY_FLAGS_HI = 0xf;

/** arch_validate_prot(): only READ, WRITE, EXEC and SEM are known. */
function arch_validate_prot(prot: bigint): boolean {
  return (prot & ~BigInt(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) & U64_MASK) === 0n;
}

/** SYSCALL mprotect(start, len, prot) -> do_mprotect_pkey(start, len, prot, -1): 0 or -errno. */
export function sys_mprotect(mm: MmStruct, startB: bigint, lenB: bigint, protB: bigint): number {
  const growsMask = BigInt(PROT_GROWSDOWN | PROT_GROWSUP);
  const grows = Number(protB & growsMask);
  protB &= ~growsMask & U64_MASK;
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL; // can't be both

  if (offsetInPageUlong(startB)) return -EINVAL;
  if (lenB === 0n) return 0;
  lenB = pageAlignUlong(lenB);
  const endB = addUlong(startB, lenB);
  if (endB <= startB) return -ENOMEM;
  if (!arch_validate_prot(protB)) return -EINVAL;

  const prot = Number(protB);
  let start = num(startB);
  const end = num(endB);

  let vma = find_vma(mm, start);
  if (!vma) return -ENOMEM;
  let prev = vma.vm_prev;
  if (grows & PROT_GROWSDOWN) {
    if (vma.vm_start >= end) return -ENOMEM;
    start = vma.vm_start;
    if (!(vma.vm_flags & VM_GROWSDOWN)) return -EINVAL;
  } else {
    if (vma.vm_start > start) return -ENOMEM;
    // PROT_GROWSUP would extend end to vma.vm_end, but needs a VM_GROWSUP VMA: none on x86.
    if (grows & PROT_GROWSUP) return -EINVAL;
  }
  if (start > vma.vm_start) prev = vma;

  const pprev = { vma: prev };
  for (let nstart = start; ;) {
    // Here vma.vm_start <= nstart < vma.vm_end.
    // Each call passes r/w/x explicitly: those not passed are cleared, the rest of vm_flags is kept.
    const newflags = (calc_vm_prot_bits(prot) | (vma.vm_flags & ~VM_ACCESS_FLAGS)) >>> 0;
    const newflags_hi = (vma.vm_flags_hi & ~ARCH_VM_PKEY_FLAGS_HI) >>> 0;

    // newflags >> 4 puts VM_MAY* where VM_* are: every requested access needs its MAY bit.
    if ((newflags & ~(newflags >>> 4)) & VM_ACCESS_FLAGS) return -EACCES;

    const tmp = Math.min(vma.vm_end, end);
    const err = mprotect_fixup(mm, vma, pprev, nstart, tmp, newflags, newflags_hi);
    if (err) return err;

    nstart = tmp;
    const p = pprev.vma!;
    if (nstart < p.vm_end) nstart = p.vm_end;
    if (nstart >= end) return 0;

    const next = p.vm_next;
    if (!next || next.vm_start !== nstart) return -ENOMEM; // a hole: earlier VMAs stay changed
    vma = next;
  }
}

/**
 * mprotect_fixup(vma, pprev, start, end, newflags): give [start, end) of vma
 * the new flags — by vma_merge() with a neighbour, else by splitting vma.
 * Sets pprev.vma to the VMA that now covers [start, end). 0 or -errno.
 */
export function mprotect_fixup(
  mm: MmStruct, vma: Vma, pprev: { vma: Vma | null }, start: number, end: number,
  newflags: number, newflags_hi: number,
): number {
  const oldflags = vma.vm_flags;
  const nrpages = (end - start) / PAGE_SIZE;
  let charged = 0;

  if (newflags === oldflags && newflags_hi === vma.vm_flags_hi) {
    pprev.vma = vma;
    return 0;
  }

  // Making a private mapping writable increases the commit; making it
  // unwritable again cannot reduce it, so VM_ACCOUNT is never removed here.
  if (newflags & VM_WRITE) {
    if (!may_expand_vm(mm, newflags, nrpages) && may_expand_vm(mm, oldflags, nrpages)) return -ENOMEM;
    if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
      charged = nrpages;
      if (security_vm_enough_memory_mm(mm, charged)) return -ENOMEM;
      newflags = (newflags | VM_ACCOUNT) >>> 0;
    }
  }

  // First try to merge with the previous and/or next VMA.
  const pgoff = vma.vm_pgoff + (start - vma.vm_start) / PAGE_SIZE;
  const merged = vma_merge(mm, pprev.vma, start, end, vma_attrs(vma, newflags, pgoff, vma.anon_name, newflags_hi));
  if (merged) {
    pprev.vma = merged;
    vma = merged;
  } else {
    pprev.vma = vma;
    if (start !== vma.vm_start) {
      const err = split_vma(mm, vma, start, true);
      if (err) {
        vm_unacct_memory(mm, charged);
        return err;
      }
    }
    if (end !== vma.vm_end) {
      const err = split_vma(mm, vma, end, false);
      if (err) {
        vm_unacct_memory(mm, charged);
        return err;
      }
    }
  }

  vma.vm_flags = newflags;
  vma.vm_flags_hi = newflags_hi;
  change_protection(vma, start, end);
  // Private VM_LOCKED VMA becoming writable: trigger COW to avoid major faults on access.
  if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) === VM_LOCKED && (newflags & VM_WRITE)) {
    populate_vma_page_range(vma, start, end);
  }

  vm_stat_account(mm, oldflags, -nrpages);
  vm_stat_account(mm, newflags, nrpages);
  return 0;
}

/** change_protection(vma, start, end, vma->vm_page_prot): re-protect the present PTEs of [start, end). */
export function change_protection(vma: Vma, start: number, end: number): void {
  const write = vm_page_prot_writable(vma);
  for (const { pte } of ptes_in_range(vma.vm_mm, start, end)) pte.write = write;
}
