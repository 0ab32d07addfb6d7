// Invariants of one process's address space, checked on a state snapshot only
// (ProcessSim.vmas / counters / layout), so that they apply to any
// implementation. Each violation is one human-readable line; [] means OK.
//
// Checked: every VMA page aligned with start < end and end <= task_size;
// VMAs sorted and non-overlapping; map_count = number of VMAs; the counters
// recomputed from the VMA flags (mm/mmap.c vm_stat_account(): total_vm = all
// pages, then exec_vm / stack_vm / data_vm by the first matching class;
// locked_vm >= pages of VM_LOCKED VMAs). Not checked (on purpose): that a file
// VMA's pgoff range lies within its file, since files may shrink after mmap.
//
// locked_vm is a lower bound, not an equality: v5.17's MREMAP_DONTUNMAP
// clears VM_LOCKED on the whole old VMA without touching locked_vm ("because
// we won't unmap we don't need to touch locked_vm", mm/mremap.c move_vma), so
// a process that moves part of a locked VMA that way keeps those pages
// counted for good.

import { PAGE_SIZE, VM_EXEC, VM_LOCKED, VM_SHARED, VM_STACK, VM_WRITE } from "../abi/constants.js";
import type { MmCounters, ProcessSim, VmaSnapshot } from "../types.js";

/** Which vm_stat_account() counter besides total_vm a VMA with these flags is charged to. */
export type VmStatKind = "exec" | "stack" | "data" | "none";

export function vmStatKind(flags: number): VmStatKind {
  if ((flags & (VM_EXEC | VM_WRITE | VM_STACK)) === VM_EXEC) return "exec";
  if ((flags & VM_STACK) === VM_STACK) return "stack";
  if ((flags & (VM_WRITE | VM_SHARED | VM_STACK)) === VM_WRITE) return "data";
  return "none";
}

/** The counters (except map_count) implied by a list of VMAs. */
export function expectedCounters(vmas: VmaSnapshot[]): Omit<MmCounters, "map_count"> {
  const c = { total_vm: 0, data_vm: 0, exec_vm: 0, stack_vm: 0, locked_vm: 0 };
  for (const v of vmas) {
    const pages = (v.end - v.start) / PAGE_SIZE;
    c.total_vm += pages;
    const kind = vmStatKind(v.flags);
    if (kind === "exec") c.exec_vm += pages;
    else if (kind === "stack") c.stack_vm += pages;
    else if (kind === "data") c.data_vm += pages;
    if (v.flags & VM_LOCKED) c.locked_vm += pages;
  }
  return c;
}

function hex(n: number): string {
  return "0x" + n.toString(16);
}

function describe(v: VmaSnapshot): string {
  return `[${hex(v.start)}, ${hex(v.end)})`;
}

export function checkProcess(p: ProcessSim): string[] {
  const out: string[] = [];
  const vmas = p.vmas();
  const counters = p.counters();
  const layout = p.layout();

  for (let i = 0; i < vmas.length; i++) {
    const v = vmas[i];
    const name = `VMA #${i} ${describe(v)}`;
    if (!Number.isInteger(v.start) || !Number.isInteger(v.end)) out.push(`${name}: bounds are not integers`);
    if (v.start % PAGE_SIZE !== 0) out.push(`${name}: start is not page aligned`);
    if (v.end % PAGE_SIZE !== 0) out.push(`${name}: end is not page aligned`);
    if (!(v.start < v.end)) out.push(`${name}: start is not below end`);
    if (v.start < 0) out.push(`${name}: start is negative`);
    if (v.end > layout.task_size) out.push(`${name}: end is above task_size ${hex(layout.task_size)}`);
    if (!Number.isInteger(v.pgoff) || v.pgoff < 0) out.push(`${name}: pgoff ${v.pgoff} is not a page index`);
    if (!Number.isInteger(v.flags) || v.flags < 0 || v.flags > 0xffffffff) out.push(`${name}: flags ${v.flags} is not an unsigned 32-bit word`);
    if (i > 0) {
      const prev = vmas[i - 1];
      if (v.start < prev.start) out.push(`${name}: not sorted (follows ${describe(prev)})`);
      else if (v.start < prev.end) out.push(`${name}: overlaps ${describe(prev)}`);
    }
  }

  if (counters.map_count !== vmas.length) {
    out.push(`map_count is ${counters.map_count} but there are ${vmas.length} VMAs`);
  }

  const expected = expectedCounters(vmas);
  for (const key of ["total_vm", "data_vm", "exec_vm", "stack_vm"] as const) {
    if (counters[key] !== expected[key]) {
      out.push(`${key} is ${counters[key]} but the VMAs add up to ${expected[key]}`);
    }
  }
  if (counters.locked_vm < expected.locked_vm) {
    out.push(`locked_vm is ${counters.locked_vm} but the VM_LOCKED VMAs add up to ${expected.locked_vm}`);
  }
  return out;
}
