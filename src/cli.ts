// Executable entry of the `vmasim` command (the build adds the #! banner and
// bundles it as dist/cli.js). Everything else is in src/cli/main.ts.
import { main } from "./cli/main.js";

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    process.stderr.write(`vmasim: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
