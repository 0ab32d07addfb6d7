import { main } from "./src/cli/main.ts";
const t0 = Date.now();
const st = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
console.error("status", st, Date.now() - t0, "ms");
