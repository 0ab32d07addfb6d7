// The scripts named by compare's arguments: files as given, `-` for standard
// input, and the *.script files under a directory, recursively, in sorted
// order (by their path below it, so a directory's scripts stay together).

import { readdir, stat } from "node:fs/promises";
import { basename, join, relative } from "node:path";

export interface NamedScript {
  /** the path to read, or - */
  path: string;
  /** the row name: the path below the directory given (or the file's name), without .script */
  name: string;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.name.endsWith(".script")) out.push(p);
  }
  return out;
}

/** The scripts of `args`; `missing` builds the error for an argument that names nothing. */
export async function scriptPaths(args: readonly string[], missing: (msg: string) => Error): Promise<NamedScript[]> {
  const out: NamedScript[] = [];
  for (const a of args) {
    if (a === "-") {
      out.push({ path: "-", name: "<stdin>" });
      continue;
    }
    let st;
    try {
      st = await stat(a);
    } catch {
      throw missing(`cannot read script '${a}': no such file`);
    }
    if (st.isDirectory()) {
      const paths = (await walk(a)).map((p) => relative(a, p)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      if (!paths.length) throw missing(`no *.script files in '${a}'`);
      out.push(...paths.map((p) => ({ path: join(a, p), name: p.replace(/\.script$/, "") })));
    } else {
      out.push({ path: a, name: basename(a).replace(/\.script$/, "") });
    }
  }
  return out;
}
