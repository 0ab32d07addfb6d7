import { describe, expect, it } from "vitest";
import { VM_MAYREAD, VM_MAYSHARE, VM_READ, VM_SHARED, VM_WRITE } from "../../src/abi/constants.js";
import { GATE_AREA_LINE, mapsLine, mapsLineCount, renderMaps, SHMEM_ZERO_PATH, vmaPerms } from "../../src/maps.js";
import { ARENA_MEMFD_PATH, runScenario, tempFilePath } from "../../src/scenario/run.js";
import type { KernelSim, ProcessSim, VmaSnapshot } from "../../src/types.js";
import { IMPLS } from "../helpers/impls.js";

/** A maps line with a name: the name starts at column 73 (0-based), after the padded header. */
const named = (header: string, name: string): string => `${header} `.padEnd(73, " ") + name;

/** The file identities of a process, by path. */
function inodes(k: KernelSim, p: ProcessSim): Map<string, number> {
  return new Map(p.vmas().filter((v) => v.file !== 0).map((v) => [k.filePath(v.file), v.file]));
}

for (const impl of IMPLS) {
  describe(`/proc/pid/maps on ${impl.name}`, () => {
    it("of the default image, exactly", () => {
      const k = impl.create({ policy: "linux-5.17" });
      const p = k.createProcess();
      const ino = inodes(k, p);
      const bin = `fe:00 ${ino.get("/usr/bin/vmasim-runner")}`;
      const libc = `fe:00 ${ino.get("/usr/lib/x86_64-linux-gnu/libc.so.6")}`;
      const ld = `fe:00 ${ino.get("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")}`;
      const BIN = "/usr/bin/vmasim-runner";
      const LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6";
      const LD = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2";
      expect(renderMaps(p)).toBe([
        named(`555555554000-555555556000 r--p 00000000 ${bin}`, BIN),
        named(`555555556000-55555555b000 r-xp 00002000 ${bin}`, BIN),
        named(`55555555b000-55555555d000 r--p 00007000 ${bin}`, BIN),
        named(`55555555d000-55555555e000 r--p 00008000 ${bin}`, BIN),
        named(`55555555e000-55555555f000 rw-p 00009000 ${bin}`, BIN),
        named(`7ffff7d8a000-7ffff7db0000 r--p 00000000 ${libc}`, LIBC),
        named(`7ffff7db0000-7ffff7f05000 r-xp 00026000 ${libc}`, LIBC),
        named(`7ffff7f05000-7ffff7f5b000 r--p 0017b000 ${libc}`, LIBC),
        named(`7ffff7f5b000-7ffff7f5f000 r--p 001d0000 ${libc}`, LIBC),
        named(`7ffff7f5f000-7ffff7f61000 rw-p 001d4000 ${libc}`, LIBC),
        "7ffff7f61000-7ffff7f6e000 rw-p 00000000 00:00 0 ",
        "7ffff7fc1000-7ffff7fc5000 r--p 00000000 00:00 0                          [vvar]",
        "7ffff7fc5000-7ffff7fc7000 r-xp 00000000 00:00 0                          [vdso]",
        named(`7ffff7fc7000-7ffff7fc8000 r--p 00000000 ${ld}`, LD),
        named(`7ffff7fc8000-7ffff7fef000 r-xp 00001000 ${ld}`, LD),
        named(`7ffff7fef000-7ffff7ffa000 r--p 00028000 ${ld}`, LD),
        named(`7ffff7ffb000-7ffff7ffd000 r--p 00034000 ${ld}`, LD),
        named(`7ffff7ffd000-7ffff7fff000 rw-p 00036000 ${ld}`, LD),
        "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]",
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
        "",
      ].join("\n"));
    });

    it("of a scenario's process: arena guards, anon, shmem, temp file, heap", () => {
      const k = impl.create({ policy: "linux-5.17" });
      const r = runScenario(k, "mmap 0 4 rw\nmmap 10 2 rw shared\nmmap 20 2 r file 3 1\nbrk 3\n");
      const p = r.process;
      const ino = inodes(k, p);
      const hex = (a: number): string => a.toString(16).padStart(8, "0");
      const at = (page: number): string => hex(r.arenaBase + page * 4096);
      const lines = renderMaps(p).split("\n");
      const heapStart = p.layout().start_brk;
      const memfd = `00:01 ${ino.get(ARENA_MEMFD_PATH)}`;
      expect(lines).toContain(named(`${hex(heapStart)}-${hex(heapStart + 3 * 4096)} rw-p 00000000 00:00 0`, "[heap]"));
      expect(lines).toContain(named(`${at(-1)}-${at(0)} r--s 00000000 ${memfd}`, ARENA_MEMFD_PATH));
      expect(lines).toContain(`${at(0)}-${at(4)} rw-p 00000000 00:00 0 `);
      expect(lines).toContain(named(`${at(10)}-${at(12)} rw-s 00000000 00:01 ${ino.get(SHMEM_ZERO_PATH)}`, SHMEM_ZERO_PATH));
      expect(lines).toContain(named(`${at(20)}-${at(22)} r--p 00001000 fe:00 ${ino.get(tempFilePath(3))}`, tempFilePath(3)));
      expect(lines).toContain(named(`${at(262144)}-${at(262145)} r--s 00000000 ${memfd}`, ARENA_MEMFD_PATH));
      expect(lines.slice(-2)).toEqual([GATE_AREA_LINE, ""]);
      expect(lines).toHaveLength(p.vmas().length + 2);
      expect(mapsLineCount(p)).toBe(p.vmas().length + 1);
    });

    it("names anonymous VMAs [anon:NAME], after [heap] and [stack]", () => {
      const k = impl.create({ policy: "linux-5.17" });
      const p = k.createProcess();
      const layout = p.layout();
      const anon = p.vmas().find((v) => v.file === 0 && v.special === null && v.start < layout.start_stack - 0x100000)!;
      expect(mapsLine(p, { ...anon, anonName: "arena" })).toBe(
        named(`${anon.start.toString(16)}-${anon.end.toString(16)} rw-p 00000000 00:00 0`, "[anon:arena]"),
      );
      const stack = p.vmas().at(-1)!;
      expect(mapsLine(p, { ...stack, anonName: "x" })).toMatch(/ \[stack\]$/);
      const heap: VmaSnapshot = { ...anon, start: layout.start_brk, end: layout.start_brk + 4096, anonName: "x" };
      expect(mapsLine(p, heap, { ...layout, brk: layout.start_brk + 4096 })).toMatch(/ \[heap\]$/);
    });
  });
}

describe("maps line format", () => {
  const vma = (over: Partial<VmaSnapshot>): VmaSnapshot => ({
    start: 0x10000, end: 0x11000, flags: VM_READ | VM_MAYREAD, flagsHi: 0, pgoff: 0, file: 0, anonVma: 0,
    anonVmaRoot: 0, anonName: null, special: null, ...over,
  });
  const proc = (path: string): ProcessSim => ({
    kernel: { filePath: () => path } as unknown as KernelSim,
    layout: () => ({ mmap_base: 0, task_size: 0, start_brk: 0x5000000, brk: 0x5000000, start_stack: 0x7000000 }),
  }) as unknown as ProcessSim;

  it("prints addresses with at least 8 hex digits, offsets in bytes", () => {
    expect(mapsLine(proc("/f"), vma({ file: 3, pgoff: 0x12345 }))).toBe(named("00010000-00011000 r--p 12345000 fe:00 3", "/f"));
    expect(mapsLine(proc("/f"), vma({}))).toBe("00010000-00011000 r--p 00000000 00:00 0 ");
  });

  it("pads the widest header the simulation can produce to column 73 too", () => {
    const line = mapsLine(proc("/big"), vma({ start: 0x7fff00000000, end: 0x7fff00001000, file: 9007199254740991, pgoff: 2 ** 41 - 1 }));
    expect(line).toBe("7fff00000000-7fff00001000 r--p 1ffffffffff000 fe:00 9007199254740991     /big");
    expect(line.indexOf("/big")).toBe(73);
  });

  it("perms: r w x, then s for VM_MAYSHARE else p", () => {
    expect(vmaPerms(VM_READ | VM_WRITE)).toBe("rw-p");
    expect(vmaPerms(0)).toBe("---p");
    expect(vmaPerms(VM_READ | VM_MAYSHARE)).toBe("r--s");
    expect(vmaPerms(VM_READ | VM_MAYSHARE | VM_SHARED | 4)).toBe("r-xs");
    // a read-only MAP_SHARED mapping of a file opened read-only has VM_MAYSHARE without VM_SHARED
    expect(vmaPerms(VM_READ | VM_SHARED)).toBe("r--p");
  });
});
