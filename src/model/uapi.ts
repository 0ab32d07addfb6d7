// The syscall boundary of the model: how a JS number argument becomes the
// kernel's `unsigned long` (arch/x86/entry: every register is 64-bit), and the
// page arithmetic the syscalls do on those values before they are known to be
// small (PAGE_ALIGN, offset_in_page, wrap-around checks).
//
// Rule: a syscall argument is converted to an exact unsigned 64-bit BigInt
// (negative numbers wrap, as a C caller passing -1 would), the checks that can
// involve wrap-around are done in BigInt, and only then are values turned into
// plain numbers. Values above 2^53 become approximate numbers, which is safe
// because from then on they are only compared against addresses below
// TASK_SIZE (2^47), where the comparison result is exact.

import { I64_MIN } from "../abi/args.js";
import { PAGE_SIZE } from "../abi/constants.js";

/** errno values the model needs that are not (yet) in src/abi/constants.ts. */
export const EOPNOTSUPP = 95;

export const U64_MASK = (1n << 64n) - 1n;
const PAGE_MASK_B = ~BigInt(PAGE_SIZE - 1) & U64_MASK;

/**
 * C conversion of a syscall argument to `unsigned long` (the rule of
 * src/types.ts): negative numbers wrap, numbers at or above 2^64 (what a JS
 * literal 0xffffffffffffffff rounds to) saturate at 2^64 - 1, numbers below
 * -2^63 at -2^63 (as the engine's i64.trunc_sat does). Callers check the
 * argument with src/abi/args.ts checkArg() first, for its error message.
 */
export function ulong(x: number): bigint {
  if (!Number.isInteger(x)) throw new TypeError(`syscall argument is not an integer: ${x}`);
  if (x >= 2 ** 64) return U64_MASK;
  if (x < I64_MIN) return 1n << 63n;
  return BigInt.asUintN(64, BigInt(x));
}

/** PAGE_ALIGN() on an unsigned long: may wrap to 0. */
export function pageAlignUlong(x: bigint): bigint {
  return (x + BigInt(PAGE_SIZE - 1)) & PAGE_MASK_B;
}

/** x & PAGE_MASK on an unsigned long. */
export function pageMaskUlong(x: bigint): bigint {
  return x & PAGE_MASK_B;
}

/** offset_in_page() on an unsigned long. */
export function offsetInPageUlong(x: bigint): boolean {
  return (x & BigInt(PAGE_SIZE - 1)) !== 0n;
}

/** Unsigned addition modulo 2^64. */
export function addUlong(a: bigint, b: bigint): bigint {
  return (a + b) & U64_MASK;
}

/** Low 32 bits of an unsigned long, as an unsigned number (for flag words). */
export function low32(x: bigint): number {
  return Number(x & 0xffffffffn);
}

/** A number for an unsigned long (exact below 2^53, see the file header). */
export function num(x: bigint): number {
  return Number(x);
}

/** PAGE_ALIGN() on a number known to be far below 2^53. */
export function pageAlign(x: number): number {
  return Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
}

/** x & PAGE_MASK on a number (exact below 2^53; approximate above, see header). */
export function pageDown(x: number): number {
  return x - (x % PAGE_SIZE);
}

/** offset_in_page() on a number known to be below 2^53. */
export function offsetInPage(x: number): boolean {
  return x % PAGE_SIZE !== 0;
}

/** The kernel's IS_ERR_VALUE() for the model's results: a negative number is -errno. */
export function isErr(x: number): boolean {
  return x < 0;
}
