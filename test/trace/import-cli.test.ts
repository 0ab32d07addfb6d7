// `vmasim import`: the native file it writes reads back to the importer's
// events, its summary, and its exit status (0 clean, 1 unparsed lines, 2 on
// a usage error or with --strict).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { mergeSidecar, parseFile } from "../../src/trace/import.js";
import { FIXTURES, collect } from "./util.js";

const dir = mkdtempSync(join(tmpdir(), "vmasim-import-"));

async function cli(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { status, stdout, stderr };
}

describe("vmasim import", () => {
  it("converts a perf trace with its side-band file; the output reads back to the same events; summary on stderr", async () => {
    const out = join(dir, "lua.vt.gz");
    const perf = FIXTURES + "lua_make_j2.head.perf.txt.gz";
    const side = FIXTURES + "lua_make_j2.head.mmap2.txt.gz";
    const r = await cli(["import", perf, "--sidecar", side, "-o", out]);
    expect(r.stderr).toMatch(/^events: \d+\n/);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("  mmap                 253\n");
    expect(r.stderr).toContain("  perf_mmap2           460\n");
    expect(r.stderr).toContain("  task_newtask         8\n");
    expect(r.stderr).toContain("unmodelled by name:\n  close                326\n  dup2                 1\n  openat               636\n");
    expect(r.stderr).toContain("  user write present   ");
    expect(r.stderr).toContain("unparsed lines: 0\n");
    expect(r.stderr).toContain("processes: 9, threads: 9\n");
    expect(readFileSync(out).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const want = await collect(mergeSidecar(parseFile(perf, "perf"), parseFile(side, "sidecar")));
    expect(await collect(parseFile(out, "native"))).toEqual(want);
    // native in, native out: the same file
    const again = join(dir, "again.vt");
    expect((await cli(["import", out, "-o", again])).status).toBe(0);
    expect(await collect(parseFile(again, "native"))).toEqual(want);
  });

  it("detects strace and writes to stdout with -o -", async () => {
    const r = await cli(["import", FIXTURES + "glibc_malloc_8threads.head.strace.gz", "-o", "-"]);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith("vmasim-trace 1\n# imported from ")).toBe(true);
    expect(r.stderr).toContain("processes: 1, threads: 9\n");
  });

  it("counts unparsed lines, lists the first with their line numbers, exits 1; --strict stops at the first, exit 2", async () => {
    const bad = join(dir, "bad.perf.txt");
    const good = "1069322.784 ( 0.020 ms): env/3487 mmap(len: 8192, prot: READ|WRITE, flags: PRIVATE|ANONYMOUS)   = 0x7f1d7ed86000";
    writeFileSync(bad, [good, "garbage one", good, "1069322.784 ( 0.020 ms): env/3487 mmap(len: 81", good].join("\n") + "\n");
    const r = await cli(["import", bad, "-o", join(dir, "bad.vt")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unparsed lines: 2\n  line 2: not a perf trace line: garbage one\n  line 4: unknown event: ");
    const s = await cli(["import", bad, "--strict", "-o", join(dir, "bad2.vt")]);
    expect(s.status).toBe(2);
    expect(s.stderr).toContain("vmasim: import: --strict: line 2: not a perf trace line: garbage one\n");
  });

  it("usage errors exit 2", async () => {
    expect((await cli(["import"])).status).toBe(2);
    expect((await cli(["import", FIXTURES + "jemalloc_python.head.perf.txt.gz"])).stderr).toContain("missing -o OUT");
    expect((await cli(["import", "x", "--format", "ktrace", "-o", "y"])).status).toBe(2);
    const side = await cli(["import", FIXTURES + "lua_make_j2.head.mmap2.txt.gz", "-o", join(dir, "s.vt")]);
    expect(side.status).toBe(2);
    expect(side.stderr).toContain("side-band file: give it with --sidecar");
    expect((await cli(["import", join(dir, "nonexistent"), "-o", join(dir, "n.vt")])).stderr).toContain("cannot read");
    const h = await cli(["import", "--help"]);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain("vmasim import IN");
  });
});

describe("vmasim import output errors", () => {
  it("an output that cannot be created exits 2", async () => {
    const r = await cli(["import", FIXTURES + "jemalloc_python.head.perf.txt.gz", "-o", join(dir, "no/such/dir/x.vt")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cannot write");
  });
});
