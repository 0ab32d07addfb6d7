// The perf importer's hand scanner (src/trace/perf.ts PerfParser.scan,
// scanFault) against its regular expressions, and the whole import of the
// bundled trace against a golden digest taken with the importer before the
// scanner existed (regular expressions, readline, one await per line).

import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { TraceEvent } from "../../src/trace/events.js";
import { mergeSidecarBatches, parseFileBatches } from "../../src/trace/import.js";
import { readLines } from "../../src/trace/lines.js";
import { NativeWriter } from "../../src/trace/native.js";
import { PerfParser } from "../../src/trace/perf.js";
import { FIXTURES } from "./util.js";

const BUNDLED = fileURLToPath(new URL("../../traces/jemalloc_python", import.meta.url));

function parseAll(lines: string[], scanning: boolean): TraceEvent[] {
  const p = new PerfParser({}, scanning);
  const out: TraceEvent[] = [];
  for (const l of lines) p.line(l, out);
  p.end(out);
  return out;
}

// lines in and around the shapes the scanner takes: each must give what the expressions give
const EDGE = [
  "1069322.275 (         ): env/3487 exceptions:page_fault_kernel(address: 0x55edc2375424, ip: -2123025558, error_code: 2)",
  "1069322.397 (         ): env/3487 exceptions:page_fault_user(address: 0x7f1d7edaab70, ip: 139764659039088, error_code: 20)",
  "1.200 (         ): t/5 exceptions:page_fault_user(ip: 140000, error_code: 4)",
  "1.200 (         ): t/5 exceptions:page_fault_user(address: 0x1000)",
  "1.200 (         ): t/5 exceptions:page_fault_user()",
  "1.200 (         ): t/5 exceptions:page_fault_user(address: 0x1000, )",
  "1.200 (         ): t/5 exceptions:page_fault_user(error_code: 4, address: 0x1000)", // another order
  "1.200 (         ): t/5 exceptions:page_fault_user(address: 0xABC, ip: 1, error_code: 4)", // upper-case hex
  "1.200 (         ): t/5 exceptions:page_fault_user(address: 0x7fffffffffffffff, ip: 1, error_code: 4)", // beyond 13 hex digits
  "1.200 (         ): t/5 exceptions:page_fault_user(address: 0x1000, ip: -, error_code: 4)",
  "1.200 (         ): t/5 exceptions:page_fault_user(address: 0x1000, ip: 1, error_code: 4) ",
  "1.200 (         ): t/5 exceptions:page_fault_userx(address: 0x1000)",
  "\t1.200 (         ): t/5 exceptions:page_fault_user(address: 0x1000, ip: 1, error_code: 4)", // a tab: the expressions' path
  "1.200 (\t): t/5 exceptions:page_fault_user(address: 0x1000, ip: 1, error_code: 4)",
  "    ? (         ): t/5 exceptions:page_fault_user(address: 0x1000, ip: 1, error_code: 4)",
  "1.2 ( 0.5 ms): t/5 exceptions:page_fault_user(address: 0x1000, ip: 1, error_code: 4)",
  "1.2 ( 0.5 s): t/5 exceptions:page_fault_user(address: 0x1000, ip: 1, error_code: 4)",
  "1.2345678 (         ): t/5 exceptions:page_fault_user(address: 0x1000, ip: 1, error_code: 4)", // more than 6 decimals
  "12345678901234567.2 (         ): t/5 exceptions:page_fault_user(address: 0x1000, ip: 1, error_code: 4)", // beyond 15 digits
  "1. (         ): t/5 exceptions:page_fault_user(address: 0x1000)",
  "1.000 (         ): G1 Main Marker/4217 exceptions:page_fault_user(address: 0x1000, ip: 1, error_code: 4)",
  "3.000 (         ): kworker/1:2/12 exceptions:page_fault_user(address: 0x3000, ip: 3, error_code: 20)",
  "3.000 (         ): a/7 b(/12 exceptions:page_fault_user(address: 0x3000, ip: 3, error_code: 20)", // a '/7 b(' in the comm
  "3.000 (         ): a/7x/12 exceptions:page_fault_user(address: 0x3000, ip: 3, error_code: 20)",
  "3.000 (         ): a/12345678901234567 exceptions:page_fault_user(address: 0x3000)", // a TID beyond 15 digits
  "3.000 (         ): noslash exceptions:page_fault_user(address: 0x3000)",
  "1069322.484 ( 0.011 ms): env/3487 brk()                                                                 = 0x55edef0d6000",
  "1073115.235 (         ): m/3529 mmap(len: 8392704, flags: PRIVATE|ANONYMOUS|STACK)                 ...",
  "1073115.235 ( 0.015 ms): m/3529  ... [continued]: mmap())                                             = 0x7f75ddb9f000",
  "         ? (         ): env/3487  ... [continued]: execve())                                           = 0",
  "1069322.368 (         ): env/3487 sched:sched_process_exec(filename: \"/usr/bin/env\", pid: 3487 (env), old_pid: 3487 (env))",
  "",
  "   ",
  "LOST 12 events!",
  "garbage",
];

describe("perf scanner", () => {
  it("gives the regular expressions' events on lines in and around its shapes", () => {
    for (const l of EDGE) expect(parseAll([l], true), l).toEqual(parseAll([l], false));
    expect(parseAll(EDGE, true)).toEqual(parseAll(EDGE, false));
  });

  it("gives the regular expressions' events on every line of the fixtures", async () => {
    for (const f of ["lua_make_j2.head.perf.txt.gz", "node_alloc.head.perf.txt.gz", "jemalloc_python.head.perf.txt.gz"]) {
      const lines: string[] = [];
      for await (const l of readLines(FIXTURES + f)) lines.push(l);
      expect(parseAll(lines, true), f).toEqual(parseAll(lines, false));
    }
  });

  it("imports the bundled trace as the importer before it did (golden digests of the native text)", async () => {
    const digest = async (batches: AsyncIterable<TraceEvent[]>) => {
      const h = createHash("sha256");
      const w = new NativeWriter([]);
      let n = 0;
      for await (const b of batches) {
        for (const e of b) h.update(w.write(e));
        n += b.length;
      }
      return [n, h.digest("hex")];
    };
    expect(await digest(parseFileBatches(`${BUNDLED}.perf.txt.gz`, "perf")))
      .toEqual([86570, "8bc2dc0f860bed8ca5cfad8bba486b581e53b334fa9d440d54a0e705cd95ea31"]);
    expect(await digest(mergeSidecarBatches(parseFileBatches(`${BUNDLED}.perf.txt.gz`, "perf"), parseFileBatches(`${BUNDLED}.mmap2.txt.gz`, "sidecar"))))
      .toEqual([86857, "37fd7c272e6acdc8a0e1134c2f43707651ca49e1e44cad31c7ceee8453499ad5"]);
  });
});
