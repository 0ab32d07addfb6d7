// Per-VMA memory usage as /proc/pid/smaps reports it: fs/proc/task_mmu.c
// smaps_pte_entry(), smaps_account(), smaps_page_accumulate() and the
// "Rss:", "Anonymous:", "Locked:" lines of __show_smap() (v5.17).
//
// Rss counts the present PTEs that map a normal page (vm_normal_page(): not
// the zero page); Anonymous those of them that are anonymous; Locked, for a
// VM_LOCKED VMA, the proportional set size: each resident page adds
// (PAGE_SIZE << PSS_SHIFT) / mapcount (the full amount when page_count() is 1
// or the mapcount below 2), the sum is shifted down by PSS_SHIFT (bytes) and
// printed in kB (>> 10); vmasim reports it in whole pages (kB / 4).

import { PAGE_SIZE, VM_LOCKED } from "../abi/constants.js";
import type { VmaUsage } from "../types.js";
import type { Vma } from "./mm.js";
import { ptes_in_range } from "./pgtable.js";

const PSS_SHIFT = 12;

/** smaps for one VMA. */
export function smap_usage(vma: Vma): VmaUsage {
  let rss = 0;
  let anon = 0;
  let pss_locked = 0;
  const locked = (vma.vm_flags & VM_LOCKED) !== 0;
  for (const { pte } of ptes_in_range(vma.vm_mm, vma.vm_start, vma.vm_end)) {
    const page = pte.page;
    if (!page) continue;
    rss++;
    if (page.anon) anon++;
    if (!locked) continue;
    const full = PAGE_SIZE * 2 ** PSS_SHIFT;
    if (page.refcount === 1 || page.mapcount < 2) pss_locked += full;
    else pss_locked += Math.floor(full / page.mapcount);
  }
  const lockedKb = Math.floor(Math.floor(pss_locked / 2 ** PSS_SHIFT) / 1024);
  return { rss, anon, locked: Math.floor(lockedKb / 4) };
}
