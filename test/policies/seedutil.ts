// Helpers for the policy tests: a short text form of VMA layouts, a summary
// of what the checkers say (grouped by kind of breakage), and a process
// wrapper that runs the checkers after every call and remembers the first
// call after which they fail.

import { PAGE_SIZE, VM_DONTCOPY, VM_DONTDUMP, VM_EXEC } from "../../src/abi/constants.js";
import { checkKernel, checkProcess } from "../../src/check/index.js";
import type { KernelSim, PageRewriteStats, ProcessSim } from "../../src/types.js";
import { RW, X, REGION_END } from "../model/util.js";

/** A named address outside the test region (a top-down mmap result), for rows(). */
export interface Anchor {
  name: string;
  addr: number;
}

const FLAG_NAMES: [number, string][] = [[VM_DONTDUMP, "dontdump"], [VM_DONTCOPY, "dontfork"], [VM_EXEC, "exec"]];

/** An address as pN (page N of the test region) or anchor±pages. */
function addrName(a: number, anchors: Anchor[]): string {
  if (a >= X && a <= REGION_END && (a - X) % PAGE_SIZE === 0) return `p${(a - X) / PAGE_SIZE}`;
  for (const an of anchors) {
    const d = (a - an.addr) / PAGE_SIZE;
    if (Number.isInteger(d) && Math.abs(d) <= 64) return d === 0 ? an.name : `${an.name}${d > 0 ? "+" : ""}${d}`;
  }
  return `0x${a.toString(16)}`;
}

/**
 * One VMA per string: `p0-p4 av1 pg=p0` (pg=pN: the pgoff of a fresh VMA at
 * pN, i.e. lin(pN)), plus the flags that differ from RW (`+dontdump`).
 * anon_vma identities are the kernel's (allocation order from 1).
 */
export function rows(proc: ProcessSim, anchors: Anchor[] = []): string[] {
  return proc.vmas().map((v) => {
    const diff = (v.flags ^ RW) >>> 0;
    let flags = "";
    let rest = diff;
    for (const [bit, name] of FLAG_NAMES) {
      if (diff & bit) {
        flags += ` ${v.flags & bit ? "+" : "-"}${name}`;
        rest &= ~bit;
      }
    }
    if (rest) flags += ` flags^0x${(rest >>> 0).toString(16)}`;
    return `${addrName(v.start, anchors)}-${addrName(v.end, anchors)} ${v.anonVma ? `av${v.anonVma}` : "none"} pg=${addrName(v.pgoff * PAGE_SIZE, anchors)}${flags}`;
  });
}

/**
 * What the checkers (checkKernel + checkProcess of every process) report, as
 * short sorted lines; [] when everything holds:
 *   `mm1 p2: index`        a PTE's anon page has another index than the VMA's linear index
 *   `mm1 p2: unreachable`  an rmap walk from the page's anon_vma does not find this PTE
 *   `page 3: freed av2`    a page's mapping is an anon_vma that was freed (dangling)
 *   `av2: refcount +1`     an anon_vma holds references nothing accounts for (leaked)
 * and any other violation verbatim.
 */
export function verdict(k: KernelSim, anchors: Anchor[] = []): string[] {
  const lines = [...checkKernel(k)];
  for (const p of k.processes()) for (const v of checkProcess(p)) lines.push(`pid ${p.pid}: ${v}`);
  const out = lines.map((l) => {
    let m = /^mm (\d+) PTE (0x[0-9a-f]+): anon page \d+ has index/.exec(l);
    if (m) return `mm${m[1]} ${addrName(parseInt(m[2], 16), anchors)}: index`;
    m = /^mm (\d+) PTE (0x[0-9a-f]+): anon page \d+ is not found by an rmap walk/.exec(l);
    if (m) return `mm${m[1]} ${addrName(parseInt(m[2], 16), anchors)}: unreachable`;
    m = /^page (\d+) \(anon\): mapping points to anon_vma (\d+), which is not live/.exec(l);
    if (m) return `page ${m[1]}: freed av${m[2]}`;
    m = /^anon_vma (\d+): refcount (\d+), expected (\d+)$/.exec(l);
    if (m && Number(m[2]) > Number(m[3])) return `av${m[1]}: refcount +${Number(m[2]) - Number(m[3])}`;
    return l;
  });
  return [...new Set(out)].sort();
}

export const NO_STATS: PageRewriteStats = { pagesReindexed: 0, pagesRepointed: 0, anonVmaRefsLeaked: 0, debugVmWarnings: 0 };

/**
 * The kernel's pageRewrites(). An implementation without it rewrites no pages,
 * which is right under linux-5.17 only: for the other policies it says so.
 */
export function stats(k: KernelSim): PageRewriteStats | string {
  if (k.pageRewrites) return k.pageRewrites();
  return k.policy === "linux-5.17" ? NO_STATS : "no pageRewrites()";
}

/** Where the checkers first failed while a scenario ran. */
export interface Watch {
  calls: number;
  /** `<call> #<n>: <first verdict line>`, or null while everything holds */
  firstBreak: string | null;
}

const CALLS = new Set([
  "mmap", "munmap", "mprotect", "brk", "mremap", "madvise", "mlock", "munlock", "mlockall", "munlockall",
  "setAnonName", "mseal", "touch", "peek", "fork", "cloneVm", "exit", "exec",
]);

/**
 * proc, with the checkers run after every call (children of fork / cloneVm
 * are watched too); the first failure is recorded in w.
 */
export function watch(k: KernelSim, proc: ProcessSim, w: Watch, anchors: Anchor[] = []): ProcessSim {
  return new Proxy(proc, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== "function") return v;
      const fn = v as (...a: unknown[]) => unknown;
      if (!CALLS.has(String(prop))) return fn.bind(target);
      return (...args: unknown[]) => {
        const r = fn.apply(target, args);
        w.calls++;
        if (!w.firstBreak) {
          const bad = verdict(k, anchors);
          if (bad.length) w.firstBreak = `${String(prop)} #${w.calls}: ${bad[0]}`;
        }
        return prop === "fork" || prop === "cloneVm" ? watch(k, r as ProcessSim, w, anchors) : r;
      };
    },
  });
}
