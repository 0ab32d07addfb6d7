// The JS side of the syscall boundary, shared by the engine and the reference
// model so that both reject the same arguments with the same words.
//
// A syscall argument is a JS number holding an integer. What the kernel would
// see is its C conversion to `unsigned long` (src/types.ts): negative numbers
// are two's complement, numbers at or above 2^64 saturate at 2^64 - 1, numbers
// below -2^63 saturate at -2^63 (no 64-bit register holds them either); the
// kernel then answers with its errno. What no register can hold is refused
// here, naming the call and the argument:
//   - not a number at all (a string, a BigInt, undefined, null, an object): TypeError;
//   - a number that is not an integer (NaN, +-Infinity, 1.5): RangeError.
// -0 is the integer 0. BigInt is refused rather than converted: the engine
// carries arguments as f64, so a BigInt above 2^53 could not be passed exactly,
// and user addresses (below 2^47) never need one.

/** Throws unless `x` is an integer number (see the header); allocation-free when it is. */
export function checkArg(call: string, name: string, x: unknown): void {
  if (!Number.isInteger(x)) throw argError(call, name, x);
}

/** The error for an argument checkArg() refuses. */
export function argError(call: string, name: string, x: unknown): Error {
  if (typeof x !== "number") {
    const what = typeof x === "bigint" ? `the BigInt ${String(x)}n (pass a number)`
      : x === null ? "null" : typeof x === "string" ? `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x)}` : typeof x;
    return new TypeError(`${call}: argument ${name} must be an integer number, got ${what}`);
  }
  return new RangeError(`${call}: argument ${name} must be an integer, got ${x}`);
}

/** Throws unless `x` is a string or null (a C string argument, or NULL). */
export function checkNameArg(call: string, name: string, x: unknown): void {
  if (x !== null && typeof x !== "string") throw new TypeError(`${call}: argument ${name} must be a string or null, got ${typeof x}`);
}

/** The lowest value a 64-bit register holds as a signed number: numbers below it saturate to it. */
export const I64_MIN = -(2 ** 63);
