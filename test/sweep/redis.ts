// A real redis-server for the queue tests (Debian's package; .ci/run installs
// it): on a free port of 127.0.0.1, with a temporary folder, no persistence.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Why the queue tests cannot run here, or null. */
export const redisMissing: string | null = spawnSync("redis-server", ["--version"]).error
  ? "redis-server is not installed (Debian's redis-server package; .ci/run installs it as root)"
  : null;

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export interface Redis {
  url: string;
  stop(): void;
}

/** A redis-server answering PING, and how to stop it (its folder removed). */
export async function startRedis(): Promise<Redis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "vmasim-redis-"));
  const proc: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await until("redis-server", () => spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).stdout?.trim() === "PONG", 10_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop() {
      proc.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
