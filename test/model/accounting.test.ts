// mm counters (kernel-facts §1.3): vm_stat_account() classes through mmap,
// munmap, mprotect and brk; locked_vm with MAP_LOCKED; VM_ACCOUNT and
// VM_NORESERVE; the image's accounting; consistency under a random sequence.

import { describe, expect, it } from "vitest";
import {
  EEXIST, ENOMEM, MAP_FIXED, MAP_GROWSDOWN, MAP_LOCKED, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, PROT_EXEC,
  PROT_NONE, PROT_READ, PROT_WRITE, VM_ACCOUNT, VM_LOCKED,
} from "../../src/abi/constants.js";
import type { MmCounters, ProcessSim } from "../../src/types.js";
import { checkProcess } from "../../src/check/index.js";
import { IMPLS } from "../helpers/impls.js";
import { ANON, NOREPLACE, P, PROT_RW, RW, SHANON, expectClean, layout, lin, map, p, prot, seg } from "./util.js";

type Delta = Partial<Omit<MmCounters, "map_count">>;

/** Run fn and return how the page counters changed. */
function delta(proc: ProcessSim, fn: () => void): Required<Delta> {
  const a = proc.counters();
  fn();
  const b = proc.counters();
  return {
    total_vm: b.total_vm - a.total_vm,
    data_vm: b.data_vm - a.data_vm,
    exec_vm: b.exec_vm - a.exec_vm,
    stack_vm: b.stack_vm - a.stack_vm,
    locked_vm: b.locked_vm - a.locked_vm,
  };
}

const d = (x: Delta): Required<Delta> => ({ total_vm: 0, data_vm: 0, exec_vm: 0, stack_vm: 0, locked_vm: 0, ...x });

for (const impl of IMPLS) {
  describe(`${impl.name}: accounting`, () => {
    const kernel = () => impl.create({ policy: "linux-5.17" });
    const fresh = () => kernel().createProcess();

    it("the default image is accounted like exec leaves it", () => {
      const proc = fresh();
      expect(proc.counters()).toEqual({ map_count: 19, total_vm: 589, data_vm: 18, exec_vm: 387, stack_vm: 33, locked_vm: 0 });
      expectClean(proc);
    });

    it("mmap: each protection / type lands in exactly one class (or none) besides total_vm", () => {
      const k = kernel();
      const f = k.createFile("/tmp/acct", 64);
      const proc = k.createProcess();
      const cases: [string, () => void, Required<Delta>][] = [
        ["private RW", () => map(proc, 0, 2, PROT_RW), d({ total_vm: 2, data_vm: 2 })],
        ["private R", () => map(proc, 3, 5, PROT_READ), d({ total_vm: 2 })],
        ["private NONE", () => map(proc, 6, 8, PROT_NONE), d({ total_vm: 2 })],
        ["private RX", () => map(proc, 9, 11, PROT_READ | PROT_EXEC), d({ total_vm: 2, exec_vm: 2 })],
        ["private RWX", () => map(proc, 12, 14, PROT_RW | PROT_EXEC), d({ total_vm: 2, data_vm: 2 })],
        ["private X", () => map(proc, 15, 17, PROT_EXEC), d({ total_vm: 2, exec_vm: 2 })],
        ["shared anon RW", () => map(proc, 18, 20, PROT_RW, SHANON), d({ total_vm: 2 })],
        ["growsdown RW", () => map(proc, 21, 23, PROT_RW, ANON | MAP_GROWSDOWN), d({ total_vm: 2, stack_vm: 2 })],
        ["growsdown RX", () => map(proc, 24, 26, PROT_READ | PROT_EXEC, ANON | MAP_GROWSDOWN), d({ total_vm: 2, stack_vm: 2 })],
        ["noreserve RW", () => map(proc, 27, 29, PROT_RW, ANON | MAP_NORESERVE), d({ total_vm: 2, data_vm: 2 })],
        ["private file RW", () => expect(proc.mmap(p(30), 2 * P, PROT_RW, MAP_PRIVATE | NOREPLACE, f, 0)).toBe(p(30)), d({ total_vm: 2, data_vm: 2 })],
        ["shared file RW", () => expect(proc.mmap(p(33), 2 * P, PROT_RW, MAP_SHARED | NOREPLACE, f, 0)).toBe(p(33)), d({ total_vm: 2 })],
        ["shared file RX", () => expect(proc.mmap(p(36), 2 * P, PROT_READ | PROT_EXEC, MAP_SHARED | NOREPLACE, f, 0)).toBe(p(36)), d({ total_vm: 2, exec_vm: 2 })],
      ];
      for (const [name, fn, want] of cases) expect(delta(proc, fn), name).toEqual(want);
      expectClean(proc);
    });

    it("VM_ACCOUNT: private writable only, not with MAP_NORESERVE nor shared; MAP_POPULATE changes nothing", () => {
      const proc = fresh();
      map(proc, 0, 1, PROT_RW);
      map(proc, 2, 3, PROT_RW, ANON | MAP_NORESERVE);
      map(proc, 4, 5, PROT_RW, SHANON);
      map(proc, 6, 7, PROT_READ);
      map(proc, 8, 9, PROT_RW, ANON | MAP_POPULATE);
      const acct = layout(proc).map((s) => (s.flags & VM_ACCOUNT) !== 0);
      expect(acct).toEqual([true, false, false, false, true]);
      expect(layout(proc)[4]).toEqual(seg(8, 9, RW, lin(8)));
    });

    it("munmap subtracts from the class of each removed piece", () => {
      const proc = fresh();
      map(proc, 0, 4, PROT_RW);
      map(proc, 4, 8, PROT_READ | PROT_EXEC);
      expect(delta(proc, () => expect(proc.munmap(p(2), 4 * P)).toBe(0))).toEqual(d({ total_vm: -4, data_vm: -2, exec_vm: -2 }));
      expect(delta(proc, () => expect(proc.munmap(p(0), 10 * P)).toBe(0))).toEqual(d({ total_vm: -4, data_vm: -2, exec_vm: -2 }));
      expectClean(proc);
    });

    it("mprotect moves the changed pages between classes (old flags out, new flags in)", () => {
      const proc = fresh();
      map(proc, 0, 4, PROT_RW);
      expect(delta(proc, () => prot(proc, 0, 2, PROT_READ))).toEqual(d({ data_vm: -2 }));
      expect(delta(proc, () => prot(proc, 0, 1, PROT_READ | PROT_EXEC))).toEqual(d({ exec_vm: 1 }));
      expect(delta(proc, () => prot(proc, 2, 4, PROT_READ | PROT_EXEC))).toEqual(d({ data_vm: -2, exec_vm: 2 }));
      expect(delta(proc, () => prot(proc, 0, 4, PROT_RW))).toEqual(d({ data_vm: 4, exec_vm: -3 }));
      expect(layout(proc)).toEqual([seg(0, 4, RW, lin(0))]);
      expectClean(proc);
    });

    it("MAP_LOCKED: VM_LOCKED and locked_vm; no merge with unlocked neighbours; munmap unlocks the pieces", () => {
      const proc = fresh();
      map(proc, 0, 2, PROT_RW);
      expect(delta(proc, () => map(proc, 2, 6, PROT_RW, ANON | MAP_LOCKED))).toEqual(d({ total_vm: 4, data_vm: 4, locked_vm: 4 }));
      const LRW = (RW | VM_LOCKED) >>> 0;
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 6, LRW, lin(2))]);
      map(proc, 6, 7, PROT_RW, ANON | MAP_LOCKED); // merges with the locked one (case 2)
      expect(layout(proc)[1]).toEqual(seg(2, 7, LRW, lin(2)));
      expect(delta(proc, () => expect(proc.munmap(p(3), 2 * P)).toBe(0))).toEqual(d({ total_vm: -2, data_vm: -2, locked_vm: -2 }));
      expect(layout(proc)).toEqual([seg(0, 2, RW, lin(0)), seg(2, 3, LRW, lin(2)), seg(5, 7, LRW, lin(5))]);
      expect(delta(proc, () => prot(proc, 2, 3, PROT_READ))).toEqual(d({ data_vm: -1 }));
      expect(proc.counters().locked_vm).toBe(3);
      expect(delta(proc, () => expect(proc.mmap(p(5), 2 * P, PROT_RW, ANON | MAP_FIXED, -1, 0)).toBe(p(5))))
        .toEqual(d({ locked_vm: -2 }));
      expectClean(proc);
    });

    it("brk: heap pages are data; shrinking gives them back", () => {
      const proc = fresh();
      const H = proc.layout().start_brk;
      expect(delta(proc, () => expect(proc.brk(H + 5 * P + 1)).toBe(H + 5 * P + 1))).toEqual(d({ total_vm: 6, data_vm: 6 }));
      expect(delta(proc, () => expect(proc.brk(H + P)).toBe(H + P))).toEqual(d({ total_vm: -5, data_vm: -5 }));
      expect(delta(proc, () => expect(proc.brk(H + P - 1)).toBe(H + P - 1))).toEqual(d({}));
      expectClean(proc);
    });

    it("MAP_FIXED replacing a mapping accounts the removed and the new pages", () => {
      const proc = fresh();
      map(proc, 0, 6, PROT_RW);
      expect(delta(proc, () => expect(proc.mmap(p(1), 4 * P, PROT_READ | PROT_EXEC, ANON | MAP_FIXED, -1, 0)).toBe(p(1))))
        .toEqual(d({ data_vm: -4, exec_vm: 4 }));
      expectClean(proc);
    });

    it("counters stay consistent with the VMAs over a random sequence of mmap/munmap/mprotect/brk", () => {
      const k = kernel();
      const f = k.createFile("/tmp/rand", 256);
      const proc = k.createProcess();
      let seed = 12345;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return (seed >>> 8) % n;
      };
      const prots = [PROT_NONE, PROT_READ, PROT_RW, PROT_READ | PROT_EXEC, PROT_WRITE];
      const H = proc.layout().start_brk;
      for (let i = 0; i < 2000; i++) {
        const a = rnd(64);
        const n = 1 + rnd(8);
        switch (rnd(7)) {
          case 0:
          case 1: {
            const flags = [ANON, ANON | MAP_LOCKED, SHANON, MAP_PRIVATE, MAP_SHARED, ANON | MAP_GROWSDOWN][rnd(6)];
            const fixed = rnd(3) === 0 ? MAP_FIXED : NOREPLACE;
            const isFile = (flags & 0x20) === 0;
            const r = proc.mmap(p(a), n * P, prots[rnd(prots.length)], flags | fixed, isFile ? f : -1, isFile ? rnd(64) * P : 0);
            expect([p(a), -EEXIST]).toContain(r);
            break;
          }
          case 2:
            expect(proc.munmap(p(a), n * P)).toBe(0);
            break;
          case 3:
          case 4: {
            const r = proc.mprotect(p(a), n * P, prots[rnd(prots.length)]);
            expect([0, -ENOMEM]).toContain(r); // ENOMEM: a hole in the range
            break;
          }
          case 5:
            proc.brk(H + rnd(16) * P + rnd(2) * 7);
            break;
          default: {
            const r = proc.mmap(0, n * P, prots[rnd(prots.length)], ANON, -1, 0);
            expect(r).toBeGreaterThan(0);
            break;
          }
        }
        expect(checkProcess(proc), `after op ${i}`).toEqual([]);
      }
      expectClean(proc);
    });
  });
}
