// Comparing scenario outputs of different runs: count's image-dependent
// numbers masked and av= numbers compared up to renaming.
import { imageIndependent } from "../../src/kernel/native.js";

/** `av=A/R` numbers renamed in order of first appearance (A before R), so outputs compare up to renaming. */
export function renumberAnonVmas(output: string): string {
  const names = new Map<string, number>();
  const name = (n: string): number => {
    let v = names.get(n);
    if (v === undefined) names.set(n, (v = names.size + 1));
    return v;
  };
  return output.replace(/ av=(\d+)\/(\d+)/g, (_m, a: string, r: string) => {
    const na = name(a);
    return ` av=${na}/${name(r)}`;
  });
}

/** An output as lines, image numbers masked and anon_vmas renumbered. */
export const normalizeOutput = (out: string): string[] => renumberAnonVmas(imageIndependent(out)).split("\n");
