import { describe, expect, it } from "vitest";
import { addressMapSvg } from "../../src/report/address_map.js";
import { anonVmaFill, anonVmaName, vmaBar, vmaTooltip } from "../../src/report/draw.js";
import { addressSpaceSvg } from "../../src/report/svg.js";

/** [r, g, b] of #rrggbb */
const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

describe("draw.ts: what both address-space pictures share", () => {
  it("gives the ~35 anon_vmas of a real report distinct colours, neighbours clearly apart", () => {
    const fills = Array.from({ length: 40 }, (_, i) => anonVmaFill(i + 1));
    for (const f of fills) expect(f).toMatch(/^#[0-9a-f]{6}$/);
    expect(new Set(fills).size).toBe(40);
    // neighbouring numbers (often neighbouring VMAs) differ a lot: RGB distance well above a shade's
    for (let i = 1; i < fills.length; i++) {
      const [a, b] = [rgb(fills[i - 1]), rgb(fills[i])];
      expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeGreaterThan(80);
    }
    // none is the grey of "no anon_vma"
    expect(fills).not.toContain(anonVmaFill(0, false));
    expect(fills).not.toContain(anonVmaFill(0, true));
    expect(anonVmaFill(0, true)).not.toBe(anonVmaFill(0, false));
  });

  it("draws a bar: rect, escaped tooltip, perms only when they fit", () => {
    const wide = vmaBar({ x: 1.25, y: 2, w: 40, h: 22, perms: "rw-p", fill: anonVmaFill(1), tooltip: vmaTooltip("a-b", "rw-p", "0", anonVmaName(1, 2), "<x & y>") });
    expect(wide).toHaveLength(2);
    expect(wide[0]).toContain(`x="1.3"`);
    expect(wide[0]).toContain("<title>a-b rw-p pgoff 0 av1 root av2 &lt;x &amp; y&gt;</title>");
    expect(wide[1]).toContain(">rw-p</text>");
    expect(vmaBar({ x: 0, y: 0, w: 8, h: 22, perms: "rw-p", fill: "#ffffff", tooltip: "t" })).toHaveLength(1);
    expect(anonVmaName(0)).toBe("no anon_vma");
    expect(anonVmaName(3, 3)).toBe("av3");
  });

  it("colours anon_vma number N alike in the playground's picture and the report's map", () => {
    const page = addressSpaceSvg([{ label: "p", vmas: [{ start: 0, end: 2, perms: "rw-p", pgoff: 0, anonVma: 9 }, { start: 2, end: 3, perms: "r--p", pgoff: 2, anonVma: 4 }] }], "", {});
    const map = addressMapSvg([
      { start: "0x7f0000000000", end: "0x7f0000002000", perms: "rw-p", pgoff: 0, anonVma: 1, name: "" },
      { start: "0x7f0000002000", end: "0x7f0000003000", perms: "r--p", pgoff: 2, anonVma: 2, name: "" },
    ]);
    // and a file's VMA without an anon_vma is the darker grey in both
    const fileRow = addressSpaceSvg([{ label: "f", vmas: [{ start: 0, end: 1, perms: "r--p", pgoff: 0, anonVma: 0, file: true }] }], "", {});
    const fileMap = addressMapSvg([{ start: "0x7f0000000000", end: "0x7f0000001000", perms: "r--p", pgoff: 0, anonVma: 0, name: "/usr/lib/libc.so.6" }]);
    for (const svg of [fileRow, fileMap]) expect(svg).toContain(`fill="${anonVmaFill(0, true)}"`);
    for (const av of [1, 2]) {
      const fill = `fill="${anonVmaFill(av)}" stroke="#333333" stroke-width="0.6"><title>`;
      expect(page).toContain(fill);
      expect(map).toContain(fill);
    }
  });
});
