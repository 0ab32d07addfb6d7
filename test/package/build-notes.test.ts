import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script without declarations
import { withoutNotes } from "../../scripts/build-notes.mjs";

const info = `INFO AS210: Expression is never 'null'.
    :
 44 │ const mm = m!;
    │            ~
    └─ in assembly/mm/mm.ts(44,14)
`;
const warning = `WARNING AS201: Conversion from type 'i64' to 'i32' will require an explicit cast.
    :
 12 │ let x: i32 = y;
    │              ~
    └─ in assembly/x.ts(12,14)
`;
const error = `ERROR TS2304: Cannot find name 'foo'.
    :
  3 │ foo();
    │ ~~~
    └─ in assembly/y.ts(3,1)

FAILURE 1 parse error(s)
`;

describe("the quiet build's filter of compiler output", () => {
  it("drops INFO diagnostics with their source excerpt, and the converge note", () => {
    expect(withoutNotes(`${info}\n${info}\nLast converge was suboptimal.\n`)).toBe("");
  });

  it("keeps warnings and errors whole, around the notes", () => {
    expect(withoutNotes(`${info}\n${warning}\n${info}\nLast converge was suboptimal.\n${error}`)).toBe(`${warning}\n${error}`);
  });
});
