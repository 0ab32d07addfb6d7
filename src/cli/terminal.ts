// How output meets a terminal: the width to fit and whether to colour, from
// --width, --color=never|always|auto, NO_COLOR (https://no-color.org: set and
// not empty turns colour off unless --color=always asks for it) and whether
// stdout is a terminal. Only the layout of `run --policy A,B` uses it.

/** What a command knows of its standard output. */
export interface OutputStream {
  isTTY?: boolean;
  /** the terminal's width in columns, when it is one */
  columns?: number;
}

export interface Terminal {
  /** the width to fit, or undefined: do not fit (a pipe or a file, no --width) */
  width: number | undefined;
  color: boolean;
}

/** The terminal from the options' text values (undefined when not given); `usage` makes the error of a bad value. */
export function terminalOf(
  out: OutputStream, env: Record<string, string | undefined>, color: string | undefined, width: string | undefined, usage: (m: string) => Error,
): Terminal {
  const when = color ?? "auto";
  if (when !== "auto" && when !== "always" && when !== "never") throw usage(`--color must be auto, always or never, not '${when}'`);
  let w: number | undefined;
  if (width !== undefined) {
    w = Number(width);
    if (!/^\d+$/.test(width) || w < 20) throw usage(`--width must be a number of columns, at least 20, not '${width}'`);
  } else if (out.isTTY) {
    w = out.columns && out.columns > 0 ? out.columns : 80;
  }
  const on = when === "always" || (when === "auto" && !!out.isTTY && !env.NO_COLOR);
  return { width: w, color: on };
}

/** SGR colours used for differences. */
export const paint = {
  mark: (s: string) => `\x1b[1;31m${s}\x1b[0m`,
  differs: (s: string) => `\x1b[33m${s}\x1b[0m`,
  policy: (s: string) => `\x1b[1m${s}\x1b[0m`,
};
