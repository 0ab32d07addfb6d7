// Readable text for library users: VMAs as /proc/pid/maps shows them, plus
// what maps hides (vm_pgoff in pages, the anon_vma) and the vm_flags by the
// two-letter names of /proc/pid/smaps' VmFlags line (show_smap_vma_flags() in
// fs/proc/task_mmu.c, v5.17). Addresses in hex, as the kernel prints them.

import * as F from "./abi/constants.js";
import { vmaPerms } from "./maps.js";
import type { VmaSnapshot } from "./types.js";

/** vm_flags bits 0..31 and their VmFlags mnemonics, in smaps' order. */
const VM_FLAG_NAMES: readonly [number, string][] = [
  [F.VM_READ, "rd"], [F.VM_WRITE, "wr"], [F.VM_EXEC, "ex"], [F.VM_SHARED, "sh"], [F.VM_MAYREAD, "mr"],
  [F.VM_MAYWRITE, "mw"], [F.VM_MAYEXEC, "me"], [F.VM_MAYSHARE, "ms"], [F.VM_GROWSDOWN, "gd"], [F.VM_PFNMAP, "pf"],
  [F.VM_LOCKED, "lo"], [F.VM_IO, "io"], [F.VM_SEQ_READ, "sr"], [F.VM_RAND_READ, "rr"], [F.VM_DONTCOPY, "dc"],
  [F.VM_DONTEXPAND, "de"], [F.VM_LOCKONFAULT, "lf"], [F.VM_ACCOUNT, "ac"], [F.VM_NORESERVE, "nr"], [F.VM_HUGETLB, "ht"],
  [F.VM_SYNC, "sf"], [F.VM_WIPEONFORK, "wf"], [F.VM_DONTDUMP, "dd"], [F.VM_SOFTDIRTY, "sd"], [F.VM_MIXEDMAP, "mm"],
  [F.VM_HUGEPAGE, "hg"], [F.VM_NOHUGEPAGE, "nh"], [F.VM_MERGEABLE, "mg"], [F.VM_UFFD_MISSING, "um"], [F.VM_UFFD_WP, "uw"],
];

/** The VmFlags line of smaps for vm_flags bits 0..31: `rd wr mr mw me ac`. */
export function vmFlagNames(flags: number): string {
  return VM_FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name).join(" ");
}

/**
 * One line per VMA: `start-end perms pgoff anon_vma flags`, e.g.
 * `7ffff7ff8000-7ffff7ffa000 rw-p pgoff=0x7ffff7ff8 anon_vma=3 rd wr mr mw me ac`
 * (anon_vma=- when there is none; a named or special VMA ends with its name).
 */
export function formatVmas(vmas: readonly VmaSnapshot[]): string {
  return vmas.map((v) => {
    const name = v.special ?? (v.anonName !== null ? `[anon:${v.anonName}]` : v.file ? `file=${v.file}` : "");
    return `${v.start.toString(16)}-${v.end.toString(16)} ${vmaPerms(v.flags)} pgoff=0x${v.pgoff.toString(16)} ` +
      `anon_vma=${v.anonVma || "-"} ${vmFlagNames(v.flags >>> 0)}${name ? ` ${name}` : ""}`;
  }).join("\n");
}
