// The default process image: what a small dynamically linked x86_64 program
// looks like right after execve with ASLR off (setarch -R): the binary's four
// segments plus relro, the (empty) heap start, libc, [vvar], [vdso], ld.so and
// the stack. Top-down placement starts at mmap_base = TASK_SIZE - 128 MiB
// (kernel-facts §4.1: an 8 MiB stack limit gives a gap clamped to 128 MiB).

import {
  TASK_SIZE, VM_ACCOUNT, VM_DONTDUMP, VM_DONTEXPAND, VM_EXEC, VM_IO, VM_MAYEXEC, VM_MAYREAD,
  VM_MAYWRITE, VM_PFNMAP, VM_READ, VM_STACK_FLAGS, VM_WRITE,
} from "./abi/constants.js";
import type { ImageVma, ProcessImage } from "./types.js";

const MAY = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
const R = VM_READ | MAY;
const RX = VM_READ | VM_EXEC | MAY;
const RW = VM_READ | VM_WRITE | MAY | VM_ACCOUNT;
/** read-only after relro mprotect: keeps VM_ACCOUNT from when it was writable */
const R_RELRO = VM_READ | MAY | VM_ACCOUNT;

const P = 0x1000;

function seg(start: number, pages: number, flags: number, fileIndex: number, pgoff: number, faulted = false): ImageVma {
  return { start, end: start + pages * P, flags, pgoff, fileIndex, faulted };
}

/** A fresh copy of the default image (callers may modify it). */
export function defaultImage(): ProcessImage {
  const bin = 0x555555554000;
  const libc = 0x7ffff7d8a000;
  const ld = 0x7ffff7fc7000;
  const stackTop = 0x7ffffffff000;
  const stackStart = 0x7ffffffde000;
  const vmas: ImageVma[] = [
    // the program: /usr/bin/vmasim-runner
    seg(bin, 2, R, 0, 0),
    seg(bin + 2 * P, 5, RX, 0, 2),
    seg(bin + 7 * P, 2, R, 0, 7),
    seg(bin + 9 * P, 1, R_RELRO, 0, 8, true),
    seg(bin + 10 * P, 1, RW, 0, 9, true),
    // libc.so.6
    seg(libc, 0x26, R, 1, 0),
    seg(libc + 0x26 * P, 0x155, RX, 1, 0x26),
    seg(libc + 0x17b * P, 0x56, R, 1, 0x17b),
    seg(libc + 0x1d1 * P, 4, R_RELRO, 1, 0x1d0, true),
    seg(libc + 0x1d5 * P, 2, RW, 1, 0x1d4, true),
    // libc's .bss tail: anonymous
    seg(libc + 0x1d7 * P, 0xd, RW, -1, (libc + 0x1d7 * P) / P, true),
    // vvar and vdso: special mappings (VM_DONTEXPAND, vm_ops->close)
    { start: 0x7ffff7fc1000, end: 0x7ffff7fc5000, flags: VM_READ | VM_MAYREAD | VM_IO | VM_DONTDUMP | VM_PFNMAP | VM_DONTEXPAND, pgoff: 0, fileIndex: -1, special: "[vvar]" },
    { start: 0x7ffff7fc5000, end: ld, flags: RX | VM_DONTEXPAND, pgoff: 0, fileIndex: -1, special: "[vdso]" },
    // ld-linux-x86-64.so.2
    seg(ld, 1, R, 2, 0),
    seg(ld + 1 * P, 0x27, RX, 2, 1),
    seg(ld + 0x28 * P, 0xb, R, 2, 0x28),
    seg(ld + 0x34 * P, 2, R_RELRO, 2, 0x34, true),
    seg(ld + 0x36 * P, 2, RW, 2, 0x36, true),
    // the stack: pgoff is that of its temporary position at exec (kernel-facts §9.3)
    { start: stackStart, end: stackTop, flags: VM_STACK_FLAGS, pgoff: (TASK_SIZE - P) / P, fileIndex: -1, faulted: true },
  ];
  return {
    files: [
      { path: "/usr/bin/vmasim-runner", sizePages: 10 },
      { path: "/usr/lib/x86_64-linux-gnu/libc.so.6", sizePages: 0x1d6 },
      { path: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", sizePages: 0x38 },
    ],
    vmas,
    mmap_base: 0x7ffff7fff000,
    start_brk: bin + 11 * P,
    start_stack: stackTop - 0x1000,
  };
}
