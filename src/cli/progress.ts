// Progress of long commands on stderr: on a terminal, one line rewritten in
// place; in a pipe or a file, nothing, unless VMASIM_PROGRESS asks for plain
// lines (a soak under nohup has no terminal but still wants to be watched).

import type { Writer } from "./main.js";

export interface Progress {
  /** Shows `text` in place of the previous progress line. */
  update(text: string): void;
  /** Clears the line (before the command's own output). */
  done(): void;
}

const SILENT: Progress = { update: () => {}, done: () => {} };

/** Seconds between two plain progress lines when VMASIM_PROGRESS is `lines`. */
export const PLAIN_INTERVAL_S = 10;

/**
 * How progress goes to a stream that is not a terminal, from VMASIM_PROGRESS:
 * unset, empty or `off`: none; `lines`: a line every PLAIN_INTERVAL_S seconds;
 * a positive number: a line every that many seconds. Anything else is NaN
 * (the caller says so: a typo must not silence a soak's progress).
 */
export function plainInterval(value: string | undefined): number {
  if (value === undefined || value === "" || value === "off") return 0;
  if (value === "lines") return PLAIN_INTERVAL_S;
  const s = Number(value);
  return /^\d+(\.\d+)?$/.test(value) && s > 0 ? s : NaN;
}

/**
 * A progress line on `stream`: rewritten in place on a TTY (`isTTY`); as
 * plain lines at most every `interval` seconds elsewhere when VMASIM_PROGRESS
 * asks for them (see plainInterval); else one that prints nothing.
 */
export function progressOn(
  stream: Writer & { isTTY?: boolean },
  env: Record<string, string | undefined> = process.env,
  now: () => number = () => performance.now(),
): Progress {
  if (stream.isTTY !== true) {
    let interval = plainInterval(env.VMASIM_PROGRESS);
    if (Number.isNaN(interval)) {
      stream.write(`vmasim: VMASIM_PROGRESS=${JSON.stringify(env.VMASIM_PROGRESS)} is not "lines", "off" or a number of seconds: using "lines"\n`);
      interval = PLAIN_INTERVAL_S;
    }
    return plainProgress(stream, interval, now);
  }
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

/** Plain lines, the first at the first update, then at most one per `intervalS` seconds. */
function plainProgress(stream: Writer, intervalS: number, now: () => number): Progress {
  if (intervalS <= 0) return SILENT;
  let last = -Infinity;
  return {
    update(text) {
      const t = now();
      if (t - last < intervalS * 1000) return;
      last = t;
      stream.write(`${text}\n`);
    },
    done() {},
  };
}
