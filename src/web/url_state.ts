// The playground's state in the URL's fragment, so that a scenario can be
// shared as a link: `#policy=linux-5.17,seed&script=<base64url of the UTF-8 script>`.
// No DOM (TextEncoder and btoa exist in browsers and in Node).

import { POLICIES, type Policy } from "../types.js";

export interface PageState {
  policies: Policy[];
  /** null when the fragment has no script */
  script: string | null;
}

/** base64url (RFC 4648 section 5) of the UTF-8 bytes of `text`, without padding. */
export function toBase64Url(text: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The text whose UTF-8 bytes `b64` (base64url, padding optional) encodes; throws on bad input. */
export function fromBase64Url(b64: string): string {
  const std = b64.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(std + "=".repeat((4 - (std.length % 4)) % 4));
  return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** The fragment (with its `#`) for a state. */
export function formatState(s: PageState): string {
  const parts = [`policy=${s.policies.join(",")}`];
  if (s.script !== null) parts.push(`script=${toBase64Url(s.script)}`);
  return "#" + parts.join("&");
}

/**
 * The state a fragment names. Unknown policies and keys are left out (a link
 * made by a later vmasim still opens); `problems` says what was dropped.
 */
export function parseState(hash: string): PageState & { problems: string[] } {
  const problems: string[] = [];
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const policies: Policy[] = [];
  for (const p of (params.get("policy") ?? "").split(",").map((x) => x.trim()).filter((x) => x !== "")) {
    if (p === "all") policies.push(...POLICIES.filter((q) => !policies.includes(q)));
    else if (!(POLICIES as readonly string[]).includes(p)) problems.push(`unknown policy '${p}' (policies: ${POLICIES.join(", ")})`);
    else if (!policies.includes(p as Policy)) policies.push(p as Policy);
  }
  let script: string | null = null;
  const raw = params.get("script");
  if (raw !== null) {
    try {
      script = fromBase64Url(raw);
    } catch {
      problems.push("the script in the link is not base64url-encoded UTF-8");
    }
  }
  return { policies, script, problems };
}
