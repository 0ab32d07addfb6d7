// The CLI in-process with the wasm engine and captured streams, for the tests
// of test/cli/ that need no stand-in kernel.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { main, type CliIo } from "../../src/cli/main.js";
import { createKernelSync } from "../../src/engine/index.js";

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `vmasim argv` with the engine; `stdin` is what `-` reads. */
export async function cli(argv: string[], stdin = "", extra: Partial<CliIo> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    readStdin: async () => stdin,
    createKernel: (c) => createKernelSync(c),
    ...extra,
  });
  return { status, stdout, stderr };
}

/** A fresh temporary directory with `files` (relative path -> text) written into it. */
export function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "vmasim-cli-"));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}
