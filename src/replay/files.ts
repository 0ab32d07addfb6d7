// struct files of a replay: one per traced open (the kernel merges file VMAs
// only within one struct file: is_mergeable_vma() compares vm_file), or per
// path / per unknown descriptor when the trace did not show the open. A file
// grows to cover every page mapped from it, so that the trace's accesses
// never fall past its end (the real file had those pages).

import { PAGE_SIZE } from "../abi/constants.js";
import type { MmapEvent } from "../trace/events.js";
import type { KernelSim } from "../types.js";

export class ReplayFiles {
  /** by the traced open, by path, by pid and descriptor: one map each (no key string built per mmap) */
  private readonly byOpen = new Map<number, number>();
  private readonly byPath = new Map<string, number>();
  private readonly byFd = new Map<number, Map<number, number>>();
  /** mmaps whose descriptor no traced call opened and whose path the trace did not print */
  unknownFds = 0;

  constructor(private readonly kernel: KernelSim) {}

  /** The file identity for a file mmap, created or grown as needed. */
  forMmap(e: MmapEvent): number {
    let ids: Map<number, number> | Map<string, number>;
    let k: number | string;
    if (e.open !== null) {
      ids = this.byOpen;
      k = e.open;
    } else if (e.path !== null) {
      ids = this.byPath;
      k = e.path;
    } else {
      this.unknownFds++;
      ids = this.byFd.get(e.pid) ?? this.byFd.set(e.pid, new Map()).get(e.pid)!;
      k = e.fd;
    }
    const pages = Math.ceil((e.off + e.len) / PAGE_SIZE);
    let id = (ids as Map<number | string, number>).get(k);
    if (id === undefined) {
      // the file's name: its path, else how it was known
      const name = e.path ?? (e.open !== null ? `open:${e.open}` : `fd:${e.pid}:${e.fd}`);
      id = this.kernel.createFile(name, Math.max(pages, 1));
      (ids as Map<number | string, number>).set(k, id);
    } else if (this.kernel.fileSizePages(id) < pages) {
      this.kernel.resizeFile(id, pages);
    }
    return id;
  }
}
