// The series' "pages not shared with another process" test (kernel-facts §11.2):
// EXCL(av) = av is a root anon_vma and rbt_no_children(av).

import { AnonVma, interval_tree_first, interval_tree_next } from "./anon_vma";

/**
 * rbt_no_children(av) (seed, mm/rmap.c): true when av has degree <= 1 or no
 * VMA in its tree uses another anon_vma as its own (no forked child, no
 * reuser). The whole tree is walked, as the patch does.
 */
function rbt_no_children(av: AnonVma): bool {
  if (av.degree <= 1) return true;
  let n = interval_tree_first(av);
  while (n) {
    if (n.vma!.anon_vma != changetype<usize>(av)) return false;
    n = interval_tree_next(n);
  }
  return true;
}

/** EXCL(av): av exists, is its own root, and no other process's VMA hangs in its tree. */
export function anon_vma_exclusive(av: AnonVma | null): bool {
  return av != null && av.root == av && rbt_no_children(av);
}
