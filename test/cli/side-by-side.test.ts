// run --policy A,B: side by side when it fits (or stdout is not a terminal and
// no --width), stacked when it does not (each differing version once); colour on a terminal unless NO_COLOR
// or --color=never, and with --color=always anywhere.
import { describe, expect, it } from "vitest";
import { sideBySide, sideBySideWidth } from "../../src/cli/side_by_side.js";
import { terminalOf } from "../../src/cli/terminal.js";
import { cli } from "./helpers.js";

const COLS = [
  { policy: "linux-5.17", steps: [["mmap 0 1", "[0,1) rw av=1"], ["same line"]] },
  { policy: "seed", steps: [["mmap 0 1", "[0,1) rw av=2"], ["same line"]] },
];
const ESC = "\x1b[";
// two faulted VMAs with a hole between them: linux-5.17 and seed end differently
const S5 = "mmap 0 2 rw\nmmap 3 2 rw\ntouch 0\ntouch 3\nmmap 2 1 rw\ndump\n";
const usage = (m: string) => new Error(m);

describe("run --policy A,B layout", () => {
  it("stays side by side when no width is given, and fits the width by stacking", () => {
    const wide = sideBySide(COLS);
    expect(wide).toContain("! [0,1) rw av=1 | [0,1) rw av=2\n");
    expect(sideBySide(COLS, { width: sideBySideWidth(COLS), color: false })).toBe(wide);
    const narrow = sideBySide(COLS, { width: 20, color: false });
    expect(narrow).toContain("\n  mmap 0 1\n! linux-5.17 | [0,1) rw av=1\n! seed       | [0,1) rw av=2\n  same line\n");
    expect(narrow).not.toContain(ESC);
  });

  it("stacked, names the policies that print the same version together, shorter versions without blank rows", () => {
    const cols = [
      { policy: "a", steps: [["dump", "0 3 av=1", "(1 vmas)"]] },
      { policy: "b", steps: [["dump", "0 1 av=1", "1 3 av=2", "(2 vmas)"]] },
      { policy: "c", steps: [["dump", "0 3 av=1", "(1 vmas)"]] },
    ];
    expect(sideBySide(cols, { width: 20, color: false }).split("\n").slice(3).join("\n")).toBe(
      "  dump\n! a, c | 0 3 av=1\n!      | (1 vmas)\n! b    | 0 1 av=1\n!      | 1 3 av=2\n!      | (2 vmas)\n",
    );
  });

  it("colours the differing cells and the mark, not the rows that agree", () => {
    const c = sideBySide(COLS, { width: undefined, color: true });
    expect(c).toContain(`${ESC}1;31m!${ESC}0m [0,1) rw av=1 | ${ESC}33m[0,1) rw av=2${ESC}0m\n`);
    expect(c).toContain("  same line     | same line\n");
    const s = sideBySide(COLS, { width: 20, color: true });
    expect(s).toContain(`${ESC}33m[0,1) rw av=2${ESC}0m`);
  });

  it("decides from --color, NO_COLOR, whether stdout is a terminal, and its width", () => {
    const tty = { isTTY: true, columns: 100 };
    expect(terminalOf(tty, {}, undefined, undefined, usage)).toEqual({ width: 100, color: true });
    expect(terminalOf(tty, { NO_COLOR: "1" }, undefined, undefined, usage)).toEqual({ width: 100, color: false });
    expect(terminalOf(tty, { NO_COLOR: "" }, undefined, undefined, usage).color).toBe(true);
    expect(terminalOf(tty, { NO_COLOR: "1" }, "always", undefined, usage).color).toBe(true);
    expect(terminalOf(tty, {}, "never", "60", usage)).toEqual({ width: 60, color: false });
    expect(terminalOf({}, {}, undefined, undefined, usage)).toEqual({ width: undefined, color: false });
    expect(terminalOf({}, {}, "always", "90", usage)).toEqual({ width: 90, color: true });
    expect(() => terminalOf({}, {}, "sometimes", undefined, usage)).toThrow(/--color must be auto, always or never/);
    expect(() => terminalOf({}, {}, undefined, "wide", usage)).toThrow(/--width must be/);
  });

  it("vmasim run --policy LIST fits 100 columns with --width 100, colours a terminal", async () => {
    const piped = await cli(["run", "--policy", "all", "--trace", "@default"]);
    const widest = Math.max(...piped.stdout.split("\n").map((l) => l.length));
    expect(widest).toBeGreaterThan(100);
    // the five policies of the series' comparison (an explicit list: the
    // rows below name them, whatever other kernels `all` includes)
    const r = await cli(["run", "--policy", "linux-5.17,seed-v2,seed,linux-6.18,relocate-anon", "--width", "100", "-"], S5);
    expect(r.stdout).toMatch(/too wide to fit 100 columns side by side/);
    // a run of differing rows once per version, with the policies that print it
    expect(r.stdout).toContain("! linux-5.17, linux-6.18, relocate-anon |   0 3 rw-p anon 0 av=1/1\n" +
      "!                                       |   3 5 rw-p anon 3 av=2/2\n");
    expect(r.stdout).toContain("! seed-v2, seed                         |   0 5 rw-p anon 0 av=1/1\n");
    expect(r.stdout).not.toContain(ESC);
    const bad = await cli(["run", "--policy", "all", "--color", "maybe", "@default"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/run: --color must be auto, always or never/);
    let out = "";
    const tty = await cli(["run", "--policy", "linux-5.17,seed", "-"], S5, {
      stdout: { write: (s: string) => (out += s), isTTY: true, columns: 1000 },
    });
    expect(tty.status).toBeLessThan(2);
    expect(out).toContain(ESC);
  });
});
