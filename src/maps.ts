// /proc/pid/maps of a simulated process, in the exact text the kernel prints
// (fs/proc/task_mmu.c, show_map_vma() and show_vma_header_prefix() in v5.17):
//
//   %08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu <pad to column 73> NAME
//
// The header is followed by one space; when the VMA has a name, seq_pad()
// first fills the line up to 72 characters (seq_setwidth(m, 25 + 6 *
// sizeof(void *) - 1)), then writes one space and the name. A VMA without a
// name keeps the header's trailing space.
//
// After the mm's VMAs the kernel shows x86_64's gate area, the [vsyscall]
// page (m_next() -> get_gate_vma(); not a VMA of the mm, not in map_count).
// The simulated kernels are x86_64 with the default
// CONFIG_LEGACY_VSYSCALL_XONLY, so it is shown, execute-only.

import { VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE } from "./abi/constants.js";
import type { MmLayout, ProcessSim, VmaSnapshot } from "./types.js";

/** The column seq_pad() fills to before the name (then one space). */
const NAME_PAD = 25 + 6 * 8 - 1;

/** Path of the shmem file of a shared anonymous mapping (shmem_zero_setup), as the kernel shows it. */
export const SHMEM_ZERO_PATH = "/dev/zero (deleted)";

/**
 * Device numbers shown for a file: files on the internal shmem mount (memfd,
 * shared anonymous memory, SysV shm) show 00:01, every other file fe:00 (the
 * root file system of a typical virtio disk). The simulation has no devices;
 * these keep the text realistic and stable.
 */
function fileDevice(path: string): string {
  return path.startsWith("/memfd:") || path.startsWith("/dev/zero") || path.startsWith("/SYSV") ? "00:01" : "fe:00";
}

/** `%0Nx` for a non-negative number up to 2^53. */
function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** The four permission characters of /proc/pid/maps (`rw-p`, `r-xs` ...). */
export function vmaPerms(flags: number): string {
  return (
    (flags & VM_READ ? "r" : "-") +
    (flags & VM_WRITE ? "w" : "-") +
    (flags & VM_EXEC ? "x" : "-") +
    (flags & VM_MAYSHARE ? "s" : "p")
  );
}

/** Whether /proc/pid/maps labels the VMA `[heap]` (anonymous, overlapping [start_brk, brk]). */
export function isHeapVma(v: VmaSnapshot, layout: MmLayout): boolean {
  return v.file === 0 && v.special === null && v.start <= layout.brk && v.end >= layout.start_brk;
}

/** Whether /proc/pid/maps labels the VMA `[stack]` (it contains start_stack; is_stack()). */
function isStackVma(v: VmaSnapshot, layout: MmLayout): boolean {
  return v.start <= layout.start_stack && v.end >= layout.start_stack;
}

/** The name column of one VMA, or "" for none, in show_map_vma()'s order of precedence. */
function vmaName(p: ProcessSim, v: VmaSnapshot, layout: MmLayout): string {
  return vmaNameOf(p.kernel.filePath.bind(p.kernel), v, layout);
}

/** vmaName() with the file paths from `filePath` (for a VMA copied out of a process that may be gone). */
export function vmaNameOf(filePath: (file: number) => string, v: VmaSnapshot, layout: MmLayout): string {
  if (v.file !== 0) return filePath(v.file);
  if (v.special !== null) return v.special;
  if (isHeapVma(v, layout)) return "[heap]";
  if (isStackVma(v, layout)) return "[stack]";
  if (v.anonName !== null) return `[anon:${v.anonName}]`;
  return "";
}

/** A header (which ends in a space) and its name, padded as seq_pad() does. */
function withName(header: string, name: string): string {
  if (name === "") return header;
  return (header.length < NAME_PAD ? header.padEnd(NAME_PAD, " ") : header) + " " + name;
}

/** One line of /proc/pid/maps, without its newline. */
export function mapsLine(p: ProcessSim, v: VmaSnapshot, layout: MmLayout = p.layout()): string {
  const name = vmaName(p, v, layout);
  const file = v.file !== 0;
  const offset = file ? v.pgoff * 4096 : 0;
  const dev = file ? fileDevice(name) : "00:00";
  const ino = file ? v.file : 0;
  return withName(`${hex(v.start, 8)}-${hex(v.end, 8)} ${vmaPerms(v.flags)} ${hex(offset, 8)} ${dev} ${ino} `, name);
}

/**
 * The line of the x86_64 gate area (vsyscall page at 0xffffffffff600000,
 * VM_EXEC only with vsyscall=xonly), which /proc/pid/maps shows last.
 */
export const GATE_AREA_LINE = withName("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 ", "[vsyscall]");

/** The number of lines of /proc/pid/maps: the VMAs and the gate area. */
export function mapsLineCount(p: ProcessSim): number {
  return p.vmas().length + 1;
}

/** The whole /proc/pid/maps text of a process (one line per VMA, then the gate area). */
export function renderMaps(p: ProcessSim): string {
  const layout = p.layout();
  let out = "";
  for (const v of p.vmas()) out += mapsLine(p, v, layout) + "\n";
  return out + GATE_AREA_LINE + "\n";
}

/**
 * The VmFlags mnemonics of /proc/pid/smaps by vm_flags bit (fs/proc/task_mmu.c
 * show_smap_vma_flags, x86_64): printed in bit order. "gu" (VM_MAYBE_GUARD)
 * and "sl" (VM_SEALED) only occur under 6.x policies.
 */
const VMFLAG_MNEMONICS: Readonly<Record<number, string>> = {
  0: "rd", 1: "wr", 2: "ex", 3: "sh", 4: "mr", 5: "mw", 6: "me", 7: "ms", 8: "gd", 9: "um", 10: "pf", 11: "gu",
  12: "uw", 13: "lo", 14: "io", 15: "sr", 16: "rr", 17: "dc", 18: "de", 19: "lf", 20: "ac", 21: "nr",
  22: "ht", 23: "sf", 24: "ar", 25: "wf", 26: "dd", 27: "sd", 28: "mm", 29: "hg", 30: "nh", 31: "mg",
  37: "ui", 63: "sl",
};

/** VM_LOCKONFAULT's bit: "lf" only since 6.2 (8614d6c5eda0); before, a set bit without a mnemonic prints "??". */
const LOCKONFAULT_BIT = 19;

/** smaps VmFlags of a VMA, in the kernel's order, as kernel `release` (major*100+minor) prints them. */
export function smapsVmFlags(v: VmaSnapshot, release = 618): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    const word = bit < 32 ? v.flags : v.flagsHi;
    if (!((word >>> (bit & 31)) & 1) || !VMFLAG_MNEMONICS[bit]) continue;
    out.push(bit === LOCKONFAULT_BIT && release < 602 ? "??" : VMFLAG_MNEMONICS[bit]);
  }
  return out;
}
