// The async form of a push parser (PerfParser, SidecarParser): lines in, the
// events each line completes out, with no await per event.
import type { LineSource, TraceEvent } from "./events.js";

/** A parser fed one line at a time, appending the events it completes to `out`. */
export interface PushParser {
  line(text: string, out: TraceEvent[]): void;
  /** the events still held when the input ends (optional) */
  end?(out: TraceEvent[]): void;
}

/** Feeds every line of `lines` to `parser` and yields its events in order. */
export async function* pushParse(parser: PushParser, lines: LineSource): AsyncGenerator<TraceEvent> {
  const out: TraceEvent[] = [];
  for await (const text of lines) {
    parser.line(text, out);
    if (out.length) {
      yield* out;
      out.length = 0;
    }
  }
  parser.end?.(out);
  yield* out;
}
