// `vmasim worker --queue redis://HOST:PORT[/DB] [--concurrency N] [--keep-running]`:
// takes sweep jobs from the queue (src/sweep/queue.ts, docs/sweep.md) until it
// stays empty, or for good with --keep-running.

import { parseArgs } from "node:util";
import { defaultWorkers } from "../sweep/pool.js";
import { defaultCacheDir, parseRedisUrl, runWorker } from "../sweep/queue.js";
import type { CliIo } from "./main.js";
import { countOption } from "./sweep.js";
import { COMMAND_HELP } from "./usage.js";

function usage(io: CliIo, msg: string): number {
  io.stderr.write(`vmasim: worker: ${msg}\nTry 'vmasim worker --help'.\n`);
  return 2;
}

export async function cmdWorker(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: false, strict: true,
      options: {
        queue: { type: "string" }, concurrency: { type: "string" }, "keep-running": { type: "boolean" },
        idle: { type: "string" }, "lock-seconds": { type: "string" }, cache: { type: "string" }, help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    io.stdout.write(COMMAND_HELP.worker!);
    return 0;
  }
  if (values.queue === undefined) return usage(io, "missing --queue redis://HOST:PORT[/DB]");
  const addr = parseRedisUrl(values.queue);
  if (typeof addr === "string") return usage(io, `--queue: ${addr}`);
  const concurrency = countOption(values.concurrency, "--concurrency", 1);
  if (typeof concurrency === "string") return usage(io, concurrency);
  const idle = countOption(values.idle, "--idle", 0);
  if (typeof idle === "string") return usage(io, idle);
  const lock = countOption(values["lock-seconds"], "--lock-seconds", 1);
  if (typeof lock === "string") return usage(io, lock);
  if (values["keep-running"] && idle !== undefined) return usage(io, "--keep-running and --idle exclude each other");
  try {
    const r = await runWorker(addr, {
      concurrency: concurrency ?? defaultWorkers(),
      idleSeconds: values["keep-running"] ? null : (idle ?? 5),
      lockSeconds: lock ?? 30,
      cacheDir: values.cache ?? defaultCacheDir(),
      log: (l) => io.stderr.write(`${l}\n`),
    });
    io.stderr.write(`worker: ${r.jobs} job${r.jobs === 1 ? "" : "s"} done (failed attempts not counted); the queue is empty\n`);
    return 0;
  } catch (e) {
    io.stderr.write(`vmasim: worker: ${(e as Error).message}\n`);
    return 2;
  }
}
