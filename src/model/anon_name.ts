// prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, start, len, name) (new in 5.17):
// kernel/sys.c prctl_set_vma(), is_valid_name_char(); mm/util.c
// strndup_user(); mm/madvise.c madvise_set_anon_name(),
// madvise_vma_anon_name() (v5.17 final: names are struct anon_vma_name,
// compared by content — anon_vma_name_eq()).
//
// The name reaches the kernel as a C string: it ends at its first NUL byte;
// with its NUL it must fit in ANON_VMA_NAME_MAX_LEN (80) bytes (so at most 79
// characters), every byte printable ASCII 0x20..0x7e except \ ` $ [ ]
// (EINVAL otherwise; a non-ASCII character is bytes >= 0x80: EINVAL). An
// empty string is a name (shown as "[anon:]"), unlike null, which clears.
// The walk is madvise's (gaps skipped, ENOMEM at the end); a file VMA is
// EBADF; the name goes through madvise_update_vma() like a flag change,
// ENOMEM (the map-count limit) becoming EAGAIN.

import { ANON_VMA_NAME_MAX_LEN, EAGAIN, EBADF, EINVAL, ENOMEM } from "../abi/constants.js";
import { madvise_update_vma, madvise_walk_vmas } from "./madvise.js";
import type { MmStruct } from "./mm.js";
import { addUlong, num, offsetInPageUlong, pageAlignUlong } from "./uapi.js";

const INVALID_CHARS = "\\`$[]";

/** is_valid_name_char(): printable ASCII, none of ANON_VMA_NAME_INVALID_CHARS. */
function is_valid_name_char(ch: number): boolean {
  return ch > 0x1f && ch < 0x7f && !INVALID_CHARS.includes(String.fromCharCode(ch));
}

/**
 * prctl_set_vma(PR_SET_VMA_ANON_NAME, start, len, name): copy and check the
 * name (strndup_user() with ANON_VMA_NAME_MAX_LEN), then
 * madvise_set_anon_name(). 0 or -errno.
 */
export function prctl_set_vma_anon_name(mm: MmStruct, start: bigint, len_in: bigint, name: string | null): number {
  let anon_name: string | null = null;
  if (name !== null) {
    const bytes = new TextEncoder().encode(name);
    const nul = bytes.indexOf(0);
    const str = nul >= 0 ? bytes.subarray(0, nul) : bytes;
    // strnlen_user() counts the NUL: a string that does not end within 80 bytes is -EINVAL.
    if (str.length + 1 > ANON_VMA_NAME_MAX_LEN) return -EINVAL;
    for (const ch of str) if (!is_valid_name_char(ch)) return -EINVAL;
    anon_name = String.fromCharCode(...str);
  }
  return madvise_set_anon_name(mm, start, len_in, anon_name);
}

/** madvise_set_anon_name(mm, start, len_in, anon_name): madvise's argument checks and walk. */
export function madvise_set_anon_name(mm: MmStruct, start: bigint, len_in: bigint, anon_name: string | null): number {
  if (offsetInPageUlong(start)) return -EINVAL;
  const len = pageAlignUlong(len_in);
  // Check to see whether len was rounded up from small -ve to zero.
  if (len_in !== 0n && len === 0n) return -EINVAL;
  const end = addUlong(start, len);
  if (end < start) return -EINVAL;
  if (end === start) return 0;

  return madvise_walk_vmas(mm, num(start), num(end), (vma, prev, s, e) => {
    // madvise_vma_anon_name(): only anonymous mappings can be named.
    if (vma.vm_file) return -EBADF;
    const error = madvise_update_vma(vma, prev, s, e, vma.vm_flags, anon_name);
    // madvise() returns EAGAIN if kernel resources, such as slab, are temporarily unavailable.
    return error === -ENOMEM ? -EAGAIN : error;
  });
}
