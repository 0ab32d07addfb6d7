// Address spaces across processes: fork's dup_mmap() (kernel/fork.c) and the
// teardown exit_mmap() (mm/mmap.c), v5.17.

import { VM_ACCOUNT, VM_DONTCOPY, VM_HUGETLB, VM_LOCKED, VM_LOCKONFAULT, VM_MAYBE_GUARD, VM_MIXEDMAP, VM_NOHUGEPAGE, VM_PFNMAP, VM_WIPEONFORK } from "../abi/constants";
import { get_file } from "../fs/file";
import { anon_vma_fork } from "../rmap/anon_vma";
import { security_vm_enough_memory_mm } from "./commit";
import { copy_page_range } from "./memory";
import { mm_list_del, mm_new_empty, vm_stat_account } from "./mm";
import { remove_vma_list, unmap_region } from "./munmap";
import { pgd_free } from "./pgtable";
import { engine_oom_set } from "./reserve";
import { Mm, Vma, mm_free, mm_reserve, vm_area_alloc, vm_area_free, vma_pages, vma_reserve } from "./types";
import { detached_next, set_detached_next, vma_first, vma_link_sorted, vma_next, vma_tree_destroy } from "./vma_tree";
import { mt_reserve_bulk } from "./mt_node";

/**
 * dup_mmap(): the child's mm, a copy of the parent's VMAs (never merged)
 * with their anon_vmas forked and their PTEs copied copy-on-write, each
 * VM_ACCOUNT one charged again. NULL when the engine ran out of memory
 * (engine_oom set) or the charge was refused (fork's ENOMEM); the partial
 * child is torn down either way.
 */
export function dup_mmap(oldmm: Mm): Mm | null {
  if (!mm_reserve(1)) {
    engine_oom_set();
    return null;
  }
  const m = mm_new_empty();
  if (!m) {
    engine_oom_set();
    return null;
  }
  const mm = m;
  // the byte copy of the mm, then mm_init's resets
  mm.mmap_base = oldmm.mmap_base;
  mm.mmap_legacy_base = oldmm.mmap_legacy_base;
  mm.task_size = oldmm.task_size;
  mm.start_brk = oldmm.start_brk;
  mm.brk = oldmm.brk;
  mm.start_stack = oldmm.start_stack;
  mm.total_vm = oldmm.total_vm;
  mm.data_vm = oldmm.data_vm;
  mm.exec_vm = oldmm.exec_vm;
  mm.stack_vm = oldmm.stack_vm;
  mm.locked_vm = 0;
  mm.def_flags = oldmm.def_flags & VM_NOHUGEPAGE;

  // the copies form a detached_next chain, linked into the index in one
  // bulk build at the end (vma_link_sorted): nothing below looks them up
  let head: Vma | null = null;
  let tail: Vma | null = null;
  let copied: u32 = 0;
  let mpnt = vma_first(oldmm);
  while (mpnt) {
    if (mpnt.vm_flags & VM_DONTCOPY) {
      vm_stat_account(mm, mpnt.vm_flags, -<i64>vma_pages(mpnt));
      mpnt = vma_next(mpnt);
      continue;
    }
    // the parent's mm is charged (sic in the kernel): its total_vm sets the user reserve
    if ((mpnt.vm_flags & VM_ACCOUNT) && security_vm_enough_memory_mm(oldmm, vma_pages(mpnt))) {
      // the kernel's ENOMEM, not the engine's: the partial child goes, giving back its charges
      teardown(mm, head);
      return null;
    }
    if (!vma_reserve(1)) return fork_failed(mm, head);
    const tmp = vm_area_alloc(mm);
    tmp.vm_start = mpnt.vm_start;
    tmp.vm_end = mpnt.vm_end;
    tmp.vm_pgoff = mpnt.vm_pgoff;
    tmp.vm_flags = mpnt.vm_flags;
    tmp.vm_ops = mpnt.vm_ops;
    tmp.anon_name = mpnt.anon_name;
    tmp.vm_policy = mpnt.vm_policy;
    tmp.vm_userfaultfd_ctx = mpnt.vm_userfaultfd_ctx;
    tmp.special = mpnt.special;
    tmp.may_have_ptes = mpnt.may_have_ptes;
    if (mpnt.vm_flags & VM_WIPEONFORK) {
      // the child gets fresh, empty memory here
      tmp.anon_vma = 0;
    } else if (!anon_vma_fork(tmp, mpnt)) {
      // nothing was linked: only the record to release
      vm_area_free(tmp);
      return fork_failed(mm, head);
    }
    tmp.vm_flags &= ~(VM_LOCKED | VM_LOCKONFAULT);
    tmp.vm_file = mpnt.vm_file;
    if (tmp.vm_file) get_file(tmp.vm_file!);
    tmp.vm_mm = mm;
    if (tail) set_detached_next(tail, tmp);
    else head = tmp;
    tail = tmp;
    copied++;
    if (!(tmp.vm_flags & VM_WIPEONFORK)
        && ((mpnt.vm_flags & (VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP | VM_MAYBE_GUARD)) || mpnt.anon_vma)) {
      // vma_needs_copy() (mm/memory.c): 6.18.y also copies on VM_MAYBE_GUARD, the
      // guard markers of a VMA without anon_vma (set only from 6.18 on)
      if (!copy_page_range(tmp, mpnt)) return fork_failed(mm, head);
    }
    mpnt = vma_next(mpnt);
  }
  if (!mt_reserve_bulk(copied)) return fork_failed(mm, head);
  vma_link_sorted(mm, head, copied);
  return mm;
}

/** The engine ran out of memory: the partial child (its VMAs the chain `copied`) goes. */
function fork_failed(mm: Mm, copied: Vma | null): Mm | null {
  engine_oom_set();
  teardown(mm, copied);
  return null;
}

/** mmput() of the partial child of a failed dup_mmap, whose copies are still the detached chain `copied`. */
function teardown(mm: Mm, copied: Vma | null): void {
  if (--mm.mm_users == 0) exit_mmap_chain(mm, copied);
}

/** mmput(): drop one user; the last one tears the mm down. */
export function mmput(mm: Mm): void {
  if (--mm.mm_users == 0) exit_mmap(mm);
}

/**
 * exit_mmap(): unmap everything, free every page table and VMA, and the mm.
 */
export function exit_mmap(mm: Mm): void {
  exit_mmap_chain(mm, null);
}

/** exit_mmap() of an mm that also owns a detached_next chain of VMAs never linked (a failed dup_mmap's). */
function exit_mmap_chain(mm: Mm, chain: Vma | null): void {
  // the index goes at once (__mt_destroy); its VMAs, in address order, form the private list
  let head = vma_tree_destroy(mm);
  if (!head) head = chain;
  else if (!ASC_NO_ASSERT) assert(!chain, "exit_mmap: both linked and unlinked VMAs");
  // munlock everything
  let v = head;
  while (v) {
    if (v.vm_flags & VM_LOCKED) v.vm_flags &= ~(VM_LOCKED | VM_LOCKONFAULT);
    v = detached_next(v);
  }
  mm.locked_vm = 0;
  unmap_region(mm, head, 0, 0, 0, 0xffffffffffffffff);
  remove_vma_list(mm, head);
  pgd_free(mm);
  mm_list_del(mm);
  mm_free(mm);
}
