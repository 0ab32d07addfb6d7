// What a generator knows of one mm's address space: which byte ranges are
// mapped (touching ranges coalesced; the kernel's VMA boundaries are not
// needed to keep the calls meaningful), and where the kernel would place a
// new mapping. Placement follows x86_64's top-down search,
// arch_get_unmapped_area_topdown() → vm_unmapped_area() (mm/mmap.c, 5.17
// to 6.18 alike): the highest free gap below mmap_base that fits, with the
// stack guard gap kept below a VM_GROWSDOWN stack (the generators' stacks are
// far above mmap_base, so no gap matters here).

export class AddressSpace {
  /** sorted, disjoint, non-touching [start, end) pairs: starts[i] < ends[i] < starts[i + 1] */
  private starts: number[] = [];
  private ends: number[] = [];

  constructor(private readonly mmapBase: number, private readonly floor: number) {}

  /** The first range whose end is above `addr`. */
  private after(addr: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid] <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether [start, end) is entirely unmapped. */
  isFree(start: number, end: number): boolean {
    const i = this.after(start);
    return i === this.starts.length || this.starts[i] >= end;
  }

  /** Whether [start, end) is entirely mapped. */
  isMapped(start: number, end: number): boolean {
    const i = this.after(start);
    return i < this.starts.length && this.starts[i] <= start && this.ends[i] >= end;
  }

  /** Marks [start, end) mapped. */
  map(start: number, end: number): void {
    const i = this.after(start - 1); // a range ending at start touches it
    let j = i;
    let s = start;
    let e = end;
    while (j < this.starts.length && this.starts[j] <= end) {
      s = Math.min(s, this.starts[j]);
      e = Math.max(e, this.ends[j]);
      j++;
    }
    this.starts.splice(i, j - i, s);
    this.ends.splice(i, j - i, e);
  }

  /** Marks [start, end) unmapped. */
  unmap(start: number, end: number): void {
    const i = this.after(start);
    let j = i;
    const keepS: number[] = [];
    const keepE: number[] = [];
    while (j < this.starts.length && this.starts[j] < end) {
      if (this.starts[j] < start) {
        keepS.push(this.starts[j]);
        keepE.push(start);
      }
      if (this.ends[j] > end) {
        keepS.push(end);
        keepE.push(this.ends[j]);
      }
      j++;
    }
    this.starts.splice(i, j - i, ...keepS);
    this.ends.splice(i, j - i, ...keepE);
  }

  /** The address the kernel gives an mmap of `len` bytes without a hint: the top of the highest gap below mmap_base. */
  topDown(len: number): number {
    let high = this.mmapBase;
    const k = this.after(high);
    if (k < this.starts.length && this.starts[k] < high) high = this.starts[k];
    for (let i = k - 1; i >= 0; i--) {
      if (high - this.ends[i] >= len) return high - len;
      high = this.starts[i];
    }
    if (high - this.floor >= len) return high - len;
    throw new Error("generator: no room below mmap_base");
  }

  /** A copy (fork's dup_mmap). */
  clone(): AddressSpace {
    const c = new AddressSpace(this.mmapBase, this.floor);
    c.starts = this.starts.slice();
    c.ends = this.ends.slice();
    return c;
  }

  /** Ranges mapped (for tests). */
  ranges(): [number, number][] {
    return this.starts.map((s, i) => [s, this.ends[i]]);
  }
}
