// The image a traced exec produced, rebuilt from the side-band's exec-time
// PERF_RECORD_MMAP2 records: binfmt_elf's load_elf_binary() (fs/binfmt_elf.c,
// 6.18) first maps a whole ELF image, then maps each segment MAP_FIXED over
// it, so the records overlap; the VMAs exec left are what remains when each
// record is laid over the earlier ones, in order. The records also name the
// stack (setup_arg_pages, whose pgoff is its temporary position) and the
// special mappings [vdso]/[vvar] (map_vdso(), arch/x86/entry/vdso/vma.c).

import {
  PAGE_SIZE, VM_ACCOUNT, VM_DONTDUMP, VM_DONTEXPAND, VM_EXEC, VM_IO, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE,
  VM_PFNMAP, VM_READ, VM_SHARED, VM_STACK_FLAGS, VM_WRITE,
} from "../abi/constants.js";
import type { PerfMmap2Event } from "../trace/events.js";
import type { ImageVma, ProcessImage } from "../types.js";

const MAY = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

/** True for the side-band's names of mappings without a file. */
export function isAnonName(name: string): boolean {
  return name === "//anon" || name.startsWith("[") || name.startsWith("/dev/zero") || name.startsWith("/anon_hugepage");
}

/** vm_flags of a mapping with this prot (PROT_* bits equal VM_READ/WRITE/EXEC), as do_mmap() sets them. */
export function vmFlagsOf(prot: number, shared: boolean): number {
  let f = (prot & 7) | MAY;
  if (shared) f |= VM_SHARED | VM_MAYSHARE;
  // private writable memory is charged to the commit (accountable_mapping())
  else if (prot & VM_WRITE) f |= VM_ACCOUNT;
  return f;
}

function imageVma(r: PerfMmap2Event, fileIndex: (name: string) => number): ImageVma {
  const start = r.addr;
  const end = r.addr + r.len;
  const pgoff = Math.floor(r.pgoff / PAGE_SIZE);
  if (r.filename === "[stack]") return { start, end, flags: VM_STACK_FLAGS, pgoff, fileIndex: -1 };
  if (r.filename === "[vdso]") return { start, end, flags: VM_READ | VM_EXEC | MAY | VM_DONTEXPAND, pgoff: 0, fileIndex: -1, special: "[vdso]" };
  if (r.filename.startsWith("[vvar")) {
    // [vvar] and (since 6.14) [vvar_vclock]: the engine knows one kind of vvar
    return { start, end, flags: VM_READ | VM_MAYREAD | VM_IO | VM_DONTDUMP | VM_PFNMAP | VM_DONTEXPAND, pgoff: 0, fileIndex: -1, special: "[vvar]" };
  }
  const anon = isAnonName(r.filename);
  return { start, end, flags: vmFlagsOf(r.prot, r.shared), pgoff: anon ? start / PAGE_SIZE : pgoff, fileIndex: anon ? -1 : fileIndex(r.filename) };
}

/** Lays `v` over `vmas` (sorted, disjoint): what it covers is cut away, as a MAP_FIXED mapping unmaps it. */
function overlay(vmas: ImageVma[], v: ImageVma): ImageVma[] {
  const out: ImageVma[] = [];
  for (const o of vmas) {
    if (o.end <= v.start || o.start >= v.end) {
      out.push(o);
      continue;
    }
    if (o.start < v.start) out.push({ ...o, end: v.start });
    if (o.end > v.end) {
      const shift = (v.end - o.start) / PAGE_SIZE;
      out.push({ ...o, start: v.end, pgoff: o.pgoff + shift });
    }
  }
  out.push(v);
  return out.sort((a, b) => a.start - b.start);
}

/**
 * The process image of an exec from its records (in trace order). mmap_base
 * is the top of the highest mapping below the stack (the interpreter and
 * [vdso] are placed top-down from it); start_brk is `brk` when the trace
 * showed it (the first brk() of the new image returns it), else the end of
 * the executable's last mapping.
 */
export function execImage(records: PerfMmap2Event[], exe: string | null, brk: number | null): ProcessImage {
  const files: { path: string; sizePages: number }[] = [];
  const index = new Map<string, number>();
  const fileIndex = (name: string): number => {
    let i = index.get(name);
    if (i === undefined) {
      i = files.length;
      index.set(name, i);
      files.push({ path: name, sizePages: 0 });
    }
    return i;
  };
  let vmas: ImageVma[] = [];
  for (const r of records) vmas = overlay(vmas, imageVma(r, fileIndex));
  for (const v of vmas) {
    if (v.fileIndex < 0) continue;
    const f = files[v.fileIndex];
    f.sizePages = Math.max(f.sizePages, v.pgoff + (v.end - v.start) / PAGE_SIZE);
  }
  const stack = vmas.find((v) => v.flags === VM_STACK_FLAGS && v.fileIndex < 0 && !v.special);
  let mmapBase = 0;
  for (const v of vmas) if (v !== stack && v.end > mmapBase) mmapBase = v.end;
  let exeEnd = 0;
  for (const r of records) if (exe !== null && r.filename === exe) exeEnd = Math.max(exeEnd, r.addr + r.len);
  return {
    files,
    vmas,
    mmap_base: mmapBase,
    start_brk: brk ?? exeEnd,
    start_stack: stack ? stack.end - PAGE_SIZE : 0,
  };
}
