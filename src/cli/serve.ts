// `vmasim serve [--port N]`: the playground (dist/web/, a static site built
// by `npm run build`) served on 127.0.0.1 for local use, until interrupted.
// Files only, no server-side code: the page runs the engine itself.

import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { CliIo } from "./main.js";
import { COMMAND_HELP } from "./usage.js";

const DEFAULT_PORT = 8080;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** The built site: dist/web beside dist/cli.js, or the clone's dist/web when run from src/. */
export function siteDir(): string | null {
  for (const u of [new URL("./web/", import.meta.url), new URL("../../dist/web/", import.meta.url)]) {
    const dir = fileURLToPath(u);
    if (existsSync(join(dir, "index.html"))) return dir;
  }
  return null;
}

/** The file of `dir` a request path names, or null (outside the site, or not a file). */
export function siteFile(dir: string, urlPath: string): string | null {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath.split(/[?#]/)[0]);
  } catch {
    return null;
  }
  if (rel.includes("\0")) return null;
  const file = normalize(join(dir, rel.endsWith("/") ? rel + "index.html" : rel));
  if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) return null;
  return existsSync(file) && statSync(file).isFile() ? file : null;
}

/** An HTTP server of the files under `dir`. */
export function siteServer(dir: string): Server {
  return createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    const file = siteFile(dir, req.url ?? "/");
    if (!file) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, {
      "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
      "Content-Length": body.length,
      "Cache-Control": "no-cache",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  });
}

function usage(io: CliIo, msg: string): number {
  io.stderr.write(`vmasim: serve: ${msg}\nTry 'vmasim serve --help'.\n`);
  return 2;
}

/** Serves until SIGINT or SIGTERM (or `stop` aborts); prints the URL on stdout once listening. */
export async function cmdServe(args: string[], io: CliIo, stop?: AbortSignal): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, strict: true, options: { port: { type: "string" }, help: { type: "boolean", short: "h" } } }));
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  if (values.help) {
    io.stdout.write(COMMAND_HELP.serve);
    return 0;
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!/^\d+$/.test(values.port ?? "0") || !Number.isInteger(port) || port > 65535) {
    return usage(io, `--port needs a port number 0-65535 (0: any free port), not '${values.port}'`);
  }
  const dir = siteDir();
  if (!dir) {
    io.stderr.write("vmasim: serve: the playground is not built (dist/web/index.html); run `npm run build`\n");
    return 2;
  }
  const server = siteServer(dir);
  const listening = await new Promise<Error | null>((resolve) => {
    server.once("error", resolve);
    server.listen(port, "127.0.0.1", () => resolve(null));
  });
  if (listening) {
    const why = (listening as NodeJS.ErrnoException).code === "EADDRINUSE" ? `port ${port} is in use (--port 0 picks a free one)` : listening.message;
    io.stderr.write(`vmasim: serve: ${why}\n`);
    return 2;
  }
  const addr = server.address();
  const actual = typeof addr === "object" && addr ? addr.port : port;
  io.stdout.write(`vmasim: the playground is at http://127.0.0.1:${actual}/ (Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
    stop?.addEventListener("abort", done, { once: true });
  });
  return 0;
}
