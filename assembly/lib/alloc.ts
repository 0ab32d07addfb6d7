// Memory for the core's records: a bump allocator over wasm linear memory.
//
// The core is built with `--runtime stub` and never uses `new`: every record
// lives in a pool (lib/pool.ts) whose chunks come from here. Chunks are never
// returned; records are recycled by the pools. When linear memory cannot grow
// any more (the 4 GiB wasm32 ceiling, or the host's limit) raw_alloc returns 0
// and the caller reports a clean "engine out of memory" instead of trapping.

let top: usize = 0;
/** ceiling on linear memory in 64 KiB pages (the host may lower it; 65536 = 4 GiB) */
let limit_pages: i32 = 65536;

/** Lower (or restore) the ceiling on linear memory, in 64 KiB pages. */
export function set_memory_limit(pages: i32): void {
  limit_pages = pages;
}

/**
 * Zeroed memory of `size` bytes, 16-byte aligned, or 0 when memory is exhausted.
 * Nothing ever writes above `top` (everything is handed out here, and never
 * twice), and wasm memory starts and grows zeroed, so what is handed out is
 * zero already and is not cleared again.
 */
export function raw_alloc(size: usize): usize {
  if (top == 0) top = (__heap_base + 15) & ~(<usize>15);
  const p = (top + 15) & ~(<usize>15);
  const end = p + size;
  if (end < p) return 0;
  const have = (<usize>memory.size()) << 16;
  if (end > have) {
    const pages = <i32>((end - have + 0xffff) >> 16);
    if (memory.size() + pages > limit_pages) return 0;
    // Grow by a quarter at least: every memory.grow costs the host a new
    // ArrayBuffer and the JS engine a GC (growing a chunk at a time was a
    // third of the time of building 10^6 VMAs). Near the cap, exactly.
    let more = memory.size() >> 2;
    if (more < pages || memory.size() + more > limit_pages) more = pages;
    if (memory.grow(more) < 0 && memory.grow(pages) < 0) return 0;
  }
  top = end;
  if (!ASC_NO_ASSERT) for (let a = p; a < end; a++) assert(load<u8>(a) == 0, "raw_alloc: memory above top was written");
  return p;
}

/** Bytes of linear memory handed out so far (for statistics). */
export function raw_allocated(): usize {
  return top == 0 ? 0 : top - ((__heap_base + 15) & ~(<usize>15));
}
