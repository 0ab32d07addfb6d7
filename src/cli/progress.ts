// Progress of long commands on stderr: one line rewritten in place, only when
// stderr is a terminal (nothing in pipes, files or tests).

import type { Writer } from "./main.js";

export interface Progress {
  /** Shows `text` in place of the previous progress line. */
  update(text: string): void;
  /** Clears the line (before the command's own output). */
  done(): void;
}

const SILENT: Progress = { update: () => {}, done: () => {} };

/** A progress line on `stream` if it is a TTY (`isTTY`), else one that prints nothing. */
export function progressOn(stream: Writer & { isTTY?: boolean }): Progress {
  if (stream.isTTY !== true) return SILENT;
  let shown = false;
  return {
    update(text) {
      // \r back to column 0, ESC[K erases the rest of the old line
      stream.write(`\r${text}\x1b[K`);
      shown = true;
    },
    done() {
      if (shown) stream.write("\r\x1b[K");
      shown = false;
    },
  };
}
