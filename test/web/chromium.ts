// Headless Chromium for the browser tests: Debian's package (.ci/run installs
// it), driven by playwright-core, whose own browser download is not used.
// CHROMIUM=/path overrides where it is. Tests skip, saying why, only when it is absent.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const CANDIDATES = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => !!p);

/** The Chromium executable, or null. */
export const CHROMIUM = CANDIDATES.find((p) => existsSync(p)) ?? null;

/** Why the browser tests cannot run here, or null when they can. */
export const chromiumMissing: string | null = CHROMIUM
  ? null
  : `no Chromium (looked for ${CANDIDATES.join(", ")}; apt-get install chromium, or set CHROMIUM)`;

if (chromiumMissing) console.log(`browser tests skipped: ${chromiumMissing}`);

/** A headless Chromium (no sandbox: CI runs as root, where Chromium's sandbox refuses to start). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM!, headless: true, args: ["--no-sandbox"] });
}
