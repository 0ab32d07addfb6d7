// A one-byte user access and the page fault it may raise:
//   arch/x86/mm/fault.c do_user_addr_fault(), access_error() (v5.17; read on
//   5.15, identical here). The hardware part — does the present PTE allow the
//   access? — is the model's: a PTE allows a read when its VMA is accessible
//   (a PROT_NONE VMA's PTEs are PROT_NONE, i.e. not present to the MMU) and a
//   write when it is writable.
//
// Order: find_vma(); below the VMA found, only a VM_GROWSDOWN VMA may be
// expanded (expand_stack(), before access_error(), so even a refused access
// can grow the stack); then access_error(): a write needs VM_WRITE, a read
// needs any of VM_READ | VM_WRITE | VM_EXEC (a write-only mapping is
// readable); then handle_mm_fault(). No protection keys.
//
// Content: a write access is `*p = *p + 1` on the page mapped once the fault
// is resolved; a read returns the page's byte (0 for the zero page).

import { SIGBUS, SIGSEGV, VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE } from "../abi/constants.js";
import { handle_mm_fault } from "./memory.js";
import { find_vma, vma_is_accessible, type MmStruct, type Vma } from "./mm.js";
import { pte_lookup } from "./pgtable.js";
import { expand_stack } from "./stack.js";

/** access_error(): true if the VMA does not allow the access at all. */
function access_error(write: boolean, vma: Vma): boolean {
  if (write) return !(vma.vm_flags & VM_WRITE);
  return !(vma.vm_flags & (VM_READ | VM_WRITE | VM_EXEC));
}

/** do_user_addr_fault(): 0, or the signal the fault raises. */
export function do_user_addr_fault(mm: MmStruct, address: number, write: boolean): number {
  const vma = find_vma(mm, address);
  if (!vma) return SIGSEGV; // bad_area
  if (vma.vm_start > address) {
    if (!(vma.vm_flags & VM_GROWSDOWN)) return SIGSEGV;
    if (expand_stack(vma, address)) return SIGSEGV;
  }
  if (access_error(write, vma)) return SIGSEGV; // bad_area_access_error
  const r = handle_mm_fault(vma, address, write);
  return r === "SIGBUS" ? SIGBUS : 0;
}

/** Does the MMU let the access through without a fault? */
function pte_allows(mm: MmStruct, address: number, write: boolean): boolean {
  const pte = pte_lookup(mm, address - (address % 4096));
  if (!pte) return false;
  const vma = find_vma(mm, address)!;
  if (!vma_is_accessible(vma)) return false;
  return !write || pte.write;
}

/**
 * One user access at addr: resolve the fault if the MMU raises one, then read
 * or increment the byte. Returns the byte read (a write returns the new one),
 * or -signal.
 */
export function user_access(mm: MmStruct, address: number, write: boolean): number {
  if (!pte_allows(mm, address, write)) {
    const sig = do_user_addr_fault(mm, address, write);
    if (sig) return -sig;
  }
  const pte = pte_lookup(mm, address - (address % 4096));
  if (!pte || (write && !pte.write)) throw new Error(`user_access: fault at 0x${address.toString(16)} left no usable PTE (BUG)`);
  if (!write) return pte.page ? pte.page.content : 0;
  const page = pte.page!;
  page.content = (page.content + 1) & 0xff;
  return page.content;
}
