// Reading a recording's host-profile sidecar from disk (Node). The browser
// bundle uses sidecar_file.browser.ts, which has no file system to read.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** The first of `names` that exists in `dir`: its path and text, or null. */
export function readFirstFile(dir: string, names: readonly string[]): { file: string; text: string } | null {
  const file = names.map((f) => path.join(dir, f)).find((f) => existsSync(f));
  return file === undefined ? null : { file, text: readFileSync(file, "utf8") };
}
