// The playground's URL fragment (src/web/url_state.ts): scripts of any text
// survive the round trip, base64url has no characters a URL must escape, and
// bad links say what was dropped.
import { describe, expect, it } from "vitest";
import { formatState, fromBase64Url, parseState, toBase64Url } from "../../src/web/url_state.js";

describe("the playground's URL state", () => {
  it("round-trips policies and a script with every kind of character", () => {
    const script = "# t\u00e4st \u2248 \ud83d\ude00\nmmap 0 2 rw\r\n\ttouch 0 write\n\n???>>>~~~";
    const hash = formatState({ policies: ["linux-5.17", "seed"], script });
    expect(hash).toMatch(/^#policy=linux-5\.17,seed&script=[A-Za-z0-9_-]+$/);
    expect(parseState(hash)).toEqual({ policies: ["linux-5.17", "seed"], script, problems: [] });
    // padding is optional; the bytes are UTF-8 (what Node's base64url gives)
    expect(toBase64Url(script)).toBe(Buffer.from(script, "utf8").toString("base64url"));
    expect(fromBase64Url(toBase64Url("ab") + "=")).toBe("ab");
    expect(fromBase64Url(Buffer.from("abcd").toString("base64"))).toBe("abcd");
  });

  it("takes all, drops unknown policies and repeats, and reports a script that is not base64url UTF-8", () => {
    expect(parseState("#policy=all").policies).toEqual([
      "linux-5.10", "linux-5.17", "seed-v2", "seed", "linux-6.1", "linux-6.12", "linux-6.18", "relocate-anon",
    ]);
    const s = parseState("#policy=seed,linux-9.9,seed&script=%%%");
    expect(s.policies).toEqual(["seed"]);
    expect(s.script).toBeNull();
    expect(s.problems).toEqual([expect.stringMatching(/^unknown policy 'linux-9\.9'/), "the script in the link is not base64url-encoded UTF-8"]);
    expect(parseState("#script=" + Buffer.from([0xff, 0xfe]).toString("base64url")).problems).toHaveLength(1);
    expect(parseState("")).toEqual({ policies: [], script: null, problems: [] });
  });
});
