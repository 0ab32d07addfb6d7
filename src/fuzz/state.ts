// The observable state of a kernel as canonical text, for lock-step
// comparisons of two implementations (engine and reference model): `vmasim
// fuzz` and the property tests (test/property/harness.ts).
import type { KernelSim, ProcessSim } from "../types.js";

/** One process's VMA layer: every VMA with every field, the mm counters and the layout. */
export function vmaState(p: ProcessSim): string[] {
  const vmas = p.vmas().map((v) => [
    v.start.toString(16), v.end.toString(16), v.flags.toString(16), v.flagsHi, v.pgoff.toString(16), v.file,
    v.anonVma, v.anonVmaRoot, v.anonName, v.special,
  ].join(" "));
  const c = p.counters(), l = p.layout();
  return [...vmas,
    `map_count=${c.map_count} total_vm=${c.total_vm} data_vm=${c.data_vm} exec_vm=${c.exec_vm} stack_vm=${c.stack_vm} locked_vm=${c.locked_vm}`,
    `mmap_base=${l.mmap_base} start_brk=${l.start_brk} brk=${l.brk} start_stack=${l.start_stack}`];
}

/** Every live process's mm counters (the cheap comparison made after every step). */
export function countersState(k: KernelSim): string {
  let out = "";
  for (const q of k.processes()) {
    const c = q.counters();
    out += `pid ${q.pid} ${c.map_count} ${c.total_vm} ${c.data_vm} ${c.exec_vm} ${c.stack_vm} ${c.locked_vm}\n`;
  }
  return out;
}

/** The VMA layer of every live process (cheap: no page tables, no pages). */
export function vmaLayerState(k: KernelSim): string {
  const out: string[] = [];
  for (const q of k.processes()) out.push(`pid ${q.pid}`, ...vmaState(q));
  return out.join("\n");
}

/**
 * The whole observable state of a kernel in a canonical text form (field order
 * fixed): every live process's VMAs, counters, layout, anon_vma chains, PTEs,
 * page tables and usage, then the kernel's pages and anon_vmas.
 */
export function kernelState(k: KernelSim): string {
  const out: string[] = [];
  for (const q of k.processes()) {
    out.push(`pid ${q.pid}`, ...vmaState(q));
    const m = q.memory();
    out.push(`mm ${m.mm} rss ${m.rssAnon}/${m.rssFile} pgtables ${m.pgtablesAccounted}: ${m.pgtables.map((t) => `${t.level}@${t.addr.toString(16)}`).join(" ")}`);
    for (const c of m.chains) if (c.chain.length) out.push(`chain ${c.start.toString(16)}: ${c.chain.join(" ")}`);
    for (const t of m.ptes) out.push(`pte ${t.addr.toString(16)} ${t.page}${t.write ? " w" : ""}`);
    out.push(`usage ${q.usage().map((u) => `${u.rss}/${u.anon}/${u.locked}`).join(" ")}`);
  }
  const km = k.memory();
  for (const pg of km.pages) out.push(`page ${pg.id} ${pg.anon ? "anon" : "file"} ${pg.mapping} ${pg.index} map=${pg.mapcount} ref=${pg.refcount} c=${pg.content}`);
  for (const av of km.anonVmas) {
    out.push(`av ${av.id} root=${av.root} parent=${av.parent} ref=${av.refcount} degree=${av.degree}: ${av.avcs.map((a) => `${a.mm}:${a.start.toString(16)}:${a.pgoff}`).join(" ")}`);
  }
  return out.join("\n");
}

/** The first line where two states differ, side by side. */
export function stateDiff(a: string, b: string): string {
  const al = a.split("\n"), bl = b.split("\n");
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `  model:  ${al[i] ?? "(none)"}\n  engine: ${bl[i] ?? "(none)"}`;
  }
  return "";
}
