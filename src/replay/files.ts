// struct files of a replay: one per traced open (the kernel merges file VMAs
// only within one struct file: is_mergeable_vma() compares vm_file), or per
// path / per unknown descriptor when the trace did not show the open. A file
// grows to cover every page mapped from it, so that the trace's accesses
// never fall past its end (the real file had those pages).

import { PAGE_SIZE } from "../abi/constants.js";
import type { MmapEvent } from "../trace/events.js";
import type { KernelSim } from "../types.js";

export class ReplayFiles {
  private readonly ids = new Map<string, number>();
  /** mmaps whose descriptor no traced call opened and whose path the trace did not print */
  unknownFds = 0;

  constructor(private readonly kernel: KernelSim) {}

  /** The file identity for a file mmap, created or grown as needed. */
  forMmap(e: MmapEvent): number {
    let key: string;
    if (e.open !== null) key = `open:${e.open}`;
    else if (e.path !== null) key = `path:${e.path}`;
    else {
      this.unknownFds++;
      key = `fd:${e.pid}:${e.fd}`;
    }
    const pages = Math.ceil((e.off + e.len) / PAGE_SIZE);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.kernel.createFile(e.path ?? key, Math.max(pages, 1));
      this.ids.set(key, id);
    } else if (this.kernel.fileSizePages(id) < pages) {
      this.kernel.resizeFile(id, pages);
    }
    return id;
  }
}
