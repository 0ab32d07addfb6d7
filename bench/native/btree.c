/*
 * A native wide-node B-tree VMA index: the third baseline of bench/scale.ts,
 * what any single-threaded index pays at random addresses among 10^5..10^6
 * VMAs (memory latency), next to the engine's and the kernel's figures.
 *
 * Written for this project from the description of the kernel's maple tree
 * (lib/maple_tree.c, 6.1+): a B+tree of 16-slot nodes keyed by address. A
 * leaf slot is one VMA: its vm_end (the pivot), its vm_start, its flags and
 * the free gap before it; an internal slot is a child: the child's last
 * pivot and the largest gap below it, so a search for free space skips
 * whole subtrees. Leaves are chained in address order; every node links to
 * its parent, so an update walks one path up.
 *
 *   btree mprotect N OPS [check]  N one-page VMAs on every other page (as
 *                                 bench/native/vma_scale.c maps them); OPS
 *                                 times: find_vma of a random one, flip its flags
 *   btree remap N OPS [check]     OPS times: find and erase a random VMA, then
 *                                 find the free range and insert it again
 *                                 (munmap + mmap MAP_FIXED_NOREPLACE)
 *   btree gap N OPS [check]       OPS times: erase a random VMA, search top-down
 *                                 for a 3-page free range (unmapped_area_topdown), insert a VMA there, erase
 *                                 it and insert the original again
 *
 * The sequence runs twice, the first time untimed (the warm-up bench/scale.ts
 * gives the engine before its runs over the same sequence).
 * The random VMAs are the same xorshift32 sequence (seed 1) as
 * bench/scale.ts and vma_scale.c (gap adds a VMA two pages below the first
 * and one two pages above the last, so that every VMA's hole is 3 pages). Prints "<ns per op> <nodes visited per op>".
 * With "check" every operation is followed by a full check of the tree
 * (order, pivots, gaps, fill, depth, parent links, the leaf chain) and every
 * find and gap search is compared with the expected answer; then every VMA
 * is erased and inserted again, each in a random order, checked after each
 * step (node merges and refills happen there). It prints
 * "ok" and the figures (meaningless then) or the first fault and exits 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define W 16          /* slots per node */
#define MIN_FILL 3    /* fewest slots in a node other than the root (the engine's MT_MIN too) */
#define PG 4096UL
#define BASE 0x100000000UL

struct node {
	struct node *parent;
	struct node *prev, *next; /* leaves: neighbours in address order */
	int n, leaf;
	uint64_t pivot[W]; /* leaf: vm_end; internal: the child's last vm_end */
	uint64_t gap[W];   /* leaf: free bytes before the VMA; internal: largest gap below */
	uint64_t val[W];   /* leaf: vm_start; internal: the child (a pointer) */
	uint8_t flags[W];  /* leaf: the VMA's protection */
};

static struct node *root;
static long nvmas;
static unsigned long visits;
static int checking;

#define CHILD(x, i) ((struct node *)(uintptr_t)(x)->val[i])

static struct node *node_new(int leaf) {
	struct node *x = calloc(1, sizeof *x);
	if (!x) { perror("calloc"); exit(1); }
	x->leaf = leaf;
	return x;
}

static uint64_t node_max_gap(const struct node *x) {
	uint64_t g = 0;
	for (int i = 0; i < x->n; i++) if (x->gap[i] > g) g = x->gap[i];
	return g;
}

static int slot_in_parent(const struct node *x) {
	const struct node *p = x->parent;
	for (int i = 0; i < p->n; i++) if (CHILD(p, i) == x) return i;
	fprintf(stderr, "node not in its parent\n");
	exit(1);
}

/* After x's slots changed: refresh its entry in each ancestor, stopping once one is unchanged. */
static void fix_up(struct node *x) {
	while (x->parent) {
		struct node *p = x->parent;
		int i = slot_in_parent(x);
		uint64_t pv = x->pivot[x->n - 1], g = node_max_gap(x);
		if (p->pivot[i] == pv && p->gap[i] == g) return;
		p->pivot[i] = pv;
		p->gap[i] = g;
		x = p;
	}
}

static void copy_slots(struct node *to, int at, struct node *from, int start, int count) {
	memmove(&to->pivot[at], &from->pivot[start], count * sizeof to->pivot[0]);
	memmove(&to->gap[at], &from->gap[start], count * sizeof to->gap[0]);
	memmove(&to->val[at], &from->val[start], count * sizeof to->val[0]);
	memmove(&to->flags[at], &from->flags[start], count * sizeof to->flags[0]);
	if (!to->leaf) for (int i = 0; i < count; i++) CHILD(to, at + i)->parent = to;
}

static void set_child_slot(struct node *p, int i, struct node *c) {
	p->pivot[i] = c->pivot[c->n - 1];
	p->gap[i] = node_max_gap(c);
	p->val[i] = (uint64_t)(uintptr_t)c;
	p->flags[i] = 0;
	c->parent = p;
}

/* Put child c into parent p after slot i (p may be full: then it splits, up to a new root). */
static void insert_child(struct node *p, int i, struct node *c) {
	if (p->n < W) {
		copy_slots(p, i + 2, p, i + 1, p->n - i - 1);
		p->n++;
		set_child_slot(p, i + 1, c);
		fix_up(p);
		return;
	}
	/* split p in the middle, then insert into the half that holds slot i + 1 */
	struct node *q = node_new(0);
	int half = i + 1 == W ? W - 2 : W / 2; /* appending: a run at rising addresses fills nodes to W - 2 */
	copy_slots(q, 0, p, half, W - half);
	q->n = W - half;
	p->n = half;
	struct node *into = i + 1 <= half ? p : q;
	int at = i + 1 <= half ? i + 1 : i + 1 - half;
	copy_slots(into, at + 1, into, at, into->n - at);
	into->n++;
	set_child_slot(into, at, c);
	if (!p->parent) {
		struct node *r = node_new(0);
		set_child_slot(r, 0, p);
		r->n = 1;
		root = r;
	}
	int pi = slot_in_parent(p);
	struct node *pp = p->parent;
	pp->pivot[pi] = p->pivot[p->n - 1];
	pp->gap[pi] = node_max_gap(p);
	insert_child(pp, pi, q);
}

/* The leaf that holds, or would hold, the first VMA with vm_end > addr, and that slot (x->n: past every VMA). */
static struct node *descend(uint64_t addr, int *slot) {
	struct node *x = root;
	for (;;) {
		visits++;
		int i = 0;
		while (i < x->n - 1 && x->pivot[i] <= addr) i++;
		if (x->leaf) {
			if (x->pivot[i] <= addr) i = x->n;
			*slot = i;
			return x;
		}
		x = CHILD(x, i);
	}
}

/* find_vma(): the first VMA with vm_end > addr, as its leaf and slot; NULL when none. */
static struct node *find_vma(uint64_t addr, int *slot) {
	struct node *x = descend(addr, slot);
	if (*slot == x->n) return NULL; /* only in the last leaf: addr is past every VMA */
	return x;
}

static uint64_t prev_end(struct node *x, int i) {
	if (i > 0) return x->pivot[i - 1];
	return x->prev ? x->prev->pivot[x->prev->n - 1] : 0;
}

/* The gap of the VMA after slot i of x (its successor) changed: set it and fix the path. */
static void set_next_gap(struct node *x, int i, uint64_t end) {
	if (i + 1 < x->n) {
		x->gap[i + 1] = x->val[i + 1] - end;
		return; /* x itself is fixed by the caller */
	}
	struct node *nx = x->next;
	if (!nx) return;
	nx->gap[0] = nx->val[0] - end;
	fix_up(nx);
}

static void insert_vma(uint64_t start, uint64_t end, uint8_t flags) {
	int i;
	struct node *x = descend(start, &i);
	uint64_t before = prev_end(x, i);
	if (x->n == W) {
		struct node *q = node_new(1);
		int half = i == W ? W - 2 : W / 2; /* appending: a run at rising addresses fills nodes to W - 2 */
		copy_slots(q, 0, x, half, W - half);
		q->n = W - half;
		x->n = half;
		q->next = x->next;
		if (q->next) q->next->prev = q;
		q->prev = x;
		x->next = q;
		if (!x->parent) {
			struct node *r = node_new(0);
			set_child_slot(r, 0, x);
			r->n = 1;
			root = r;
		}
		int pi = slot_in_parent(x);
		x->parent->pivot[pi] = x->pivot[x->n - 1];
		x->parent->gap[pi] = node_max_gap(x);
		insert_child(x->parent, pi, q);
		if (i > half) { x = q; i -= half; }
	}
	copy_slots(x, i + 1, x, i, x->n - i);
	x->n++;
	x->pivot[i] = end;
	x->val[i] = start;
	x->gap[i] = start - before;
	x->flags[i] = flags;
	set_next_gap(x, i, end);
	fix_up(x);
	nvmas++;
}

static void remove_child(struct node *p, int i);

/* x (not the root) fell below MIN_FILL: join it with a sibling, or even the two out. */
static void rebalance(struct node *x) {
	struct node *p = x->parent;
	int i = slot_in_parent(x);
	int li = i > 0 ? i - 1 : i;
	struct node *l = CHILD(p, li), *r = CHILD(p, li + 1);
	if (l->n + r->n <= W) {
		copy_slots(l, l->n, r, 0, r->n);
		l->n += r->n;
		if (l->leaf) {
			l->next = r->next;
			if (r->next) r->next->prev = l;
		}
		p->pivot[li] = l->pivot[l->n - 1];
		p->gap[li] = node_max_gap(l);
		free(r);
		remove_child(p, li + 1);
		return;
	}
	int total = l->n + r->n, want = total / 2;
	if (l->n > want) {
		int k = l->n - want;
		copy_slots(r, k, r, 0, r->n);
		copy_slots(r, 0, l, want, k);
		r->n += k;
		l->n = want;
	} else {
		int k = want - l->n;
		copy_slots(l, l->n, r, 0, k);
		l->n = want;
		copy_slots(r, 0, r, k, r->n - k);
		r->n -= k;
	}
	p->pivot[li] = l->pivot[l->n - 1];
	p->gap[li] = node_max_gap(l);
	p->pivot[li + 1] = r->pivot[r->n - 1];
	p->gap[li + 1] = node_max_gap(r);
	fix_up(p);
}

static void remove_child(struct node *p, int i) {
	copy_slots(p, i, p, i + 1, p->n - i - 1);
	p->n--;
	if (!p->parent) {
		if (p->n == 1) { /* the root has one child: it becomes the root */
			root = CHILD(p, 0);
			root->parent = NULL;
			free(p);
		}
		return;
	}
	if (p->n < MIN_FILL) rebalance(p);
	else fix_up(p);
}

/* munmap of a whole VMA: its successor's gap grows over the freed range. */
static void erase_vma(struct node *x, int i) {
	uint64_t before = prev_end(x, i);
	set_next_gap(x, i, before);
	copy_slots(x, i, x, i + 1, x->n - i - 1);
	x->n--;
	nvmas--;
	if (x->n == 0 && !x->parent) return; /* an empty tree: the root leaf stays */
	if (x->parent && x->n < MIN_FILL) rebalance(x);
	else fix_up(x);
}

/*
 * unmapped_area_topdown(): the highest start of a free range of len bytes
 * inside [low, high), or 0. Free ranges are the gaps before each VMA (the
 * space above the last VMA is not searched: callers bound high by it).
 * Children are visited from the highest; one whose largest gap is too
 * small, or whose addresses lie outside the limits, is skipped whole.
 */
static uint64_t gap_search(struct node *x, uint64_t lo_bound, uint64_t len, uint64_t low, uint64_t high) {
	visits++;
	for (int i = x->n - 1; i >= 0; i--) {
		uint64_t below = i > 0 ? x->pivot[i - 1] : lo_bound; /* every gap of slot i lies above this */
		if (x->gap[i] < len || below >= high) continue;
		if (x->pivot[i] <= low) return 0; /* this slot and every lower one end below low */
		if (x->leaf) {
			uint64_t gs = x->val[i] - x->gap[i], ge = x->val[i];
			if (ge > high) ge = high;
			if (gs < low) gs = low;
			if (ge >= gs + len) return ge - len;
		} else {
			uint64_t a = gap_search(CHILD(x, i), below, len, low, high);
			if (a) return a;
		}
	}
	return 0;
}

/* ---- the check mode: the whole tree after every operation ---- */

static void fail(const char *what) {
	fprintf(stderr, "btree check failed: %s\n", what);
	exit(1);
}

static struct node *chk_prev_leaf;
static uint64_t chk_prev_end;
static long chk_count;

/* Checks x's subtree; returns its depth (leaves 1). */
static int check_node(struct node *x, struct node *parent, uint64_t *max_gap) {
	if (x->parent != parent) fail("parent link");
	if (x->n < 1 || x->n > W) fail("slot count out of range");
	if (parent && x->n < MIN_FILL) fail("node under-filled");
	if (!parent && !x->leaf && x->n < 2) fail("root with one child");
	uint64_t g = 0;
	int depth = -1;
	for (int i = 0; i < x->n; i++) {
		if (i > 0 && x->pivot[i] <= x->pivot[i - 1]) fail("pivots not ascending");
		if (x->gap[i] > g) g = x->gap[i];
		if (x->leaf) {
			if (x->val[i] >= x->pivot[i]) fail("empty VMA");
			if (x->val[i] < chk_prev_end) fail("VMAs overlap or out of order");
			if (x->gap[i] != x->val[i] - chk_prev_end) fail("wrong gap");
			chk_prev_end = x->pivot[i];
			chk_count++;
		} else {
			uint64_t cg;
			int d = check_node(CHILD(x, i), x, &cg);
			if (depth >= 0 && d != depth) fail("leaves at different depths");
			depth = d;
			if (x->pivot[i] != CHILD(x, i)->pivot[CHILD(x, i)->n - 1]) fail("internal pivot is not the child's last");
			if (x->gap[i] != cg) fail("internal gap is not the child's largest");
		}
	}
	if (x->leaf) {
		if (x->prev != chk_prev_leaf) fail("leaf chain: prev");
		if (chk_prev_leaf && chk_prev_leaf->next != x) fail("leaf chain: next");
		chk_prev_leaf = x;
		depth = 0;
	}
	*max_gap = g;
	return depth + 1;
}

static void check_tree(void) {
	uint64_t g;
	chk_prev_leaf = NULL;
	chk_prev_end = 0;
	chk_count = 0;
	if (root->n == 0) {
		if (nvmas != 0 || !root->leaf) fail("empty root");
		return;
	}
	check_node(root, NULL, &g);
	if (chk_prev_leaf->next) fail("leaf chain: last");
	if (chk_count != nvmas) fail("VMA count");
}

static void expect_vma(struct node *x, int i, uint64_t start) {
	if (!checking) return;
	if (!x || x->val[i] != start) fail("find_vma gave the wrong VMA");
}

/* One pass of the operation over the drawn VMAs (the figure's work). */
static void run_ops(int op, const unsigned *idx, long ops, uint64_t low, uint64_t top) {
	for (long k = 0; k < ops; k++) {
		uint64_t a = BASE + 2 * (uint64_t)idx[k] * PG;
		int i;
		struct node *x = find_vma(a, &i);
		expect_vma(x, i, a);
		if (op == 0) {
			x->flags[i] ^= 2; /* PROT_WRITE */
		} else if (op == 1) {
			erase_vma(x, i);
			if (checking) check_tree();
			/* mmap(MAP_FIXED_NOREPLACE): the range must be free, then the VMA goes in */
			struct node *y = find_vma(a, &i);
			if (y && y->val[i] < a + PG) fail("the freed range is not free");
			insert_vma(a, a + PG, 3);
		} else {
			erase_vma(x, i);
			uint64_t at = gap_search(root, 0, 3 * PG, low, top);
			/* the freed VMA leaves the only 3-page hole: its page and the free page on each side */
			if (checking && at != a - PG) fail("gap search gave the wrong range");
			insert_vma(at, at + PG, 3);
			x = find_vma(at, &i);
			expect_vma(x, i, at);
			erase_vma(x, i);
			insert_vma(a, a + PG, 3);
		}
		if (checking) check_tree();
	}
}

static unsigned rng_state = 1;
static unsigned rnd(void) {
	unsigned s = rng_state;
	s ^= s << 13;
	s ^= s >> 17;
	s ^= s << 5;
	rng_state = s;
	return s;
}

/* This thread's CPU time: time spent preempted on a shared machine does not count (nor on the engine's side). */
static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "check") != 0 && strcmp(argv[4], "corrupt") != 0)) {
		fprintf(stderr, "usage: %s mprotect|remap|gap N OPS [check]\n", argv[0]);
		return 2;
	}
	long n = atol(argv[2]), ops = atol(argv[3]);
	checking = argc == 5;
	/* "corrupt" (for the checker's own test): one wrong gap high in the tree must be reported */
	int corrupt = checking && strcmp(argv[4], "corrupt") == 0;
	int op = strcmp(argv[1], "mprotect") == 0 ? 0 : strcmp(argv[1], "remap") == 0 ? 1 : strcmp(argv[1], "gap") == 0 ? 2 : -1;
	if (n < 2 || ops <= 0 || op < 0) return 2;
	root = node_new(1);
	/* gap: a VMA on each side, two pages away, so the first and last VMAs also leave a 3-page hole */
	if (op == 2) insert_vma(BASE - 2 * PG, BASE - PG, 3);
	for (long i = 0; i < n; i++) {
		uint64_t a = BASE + 2 * i * PG;
		insert_vma(a, a + PG, 3);
		if (checking) check_tree();
	}
	if (op == 2) insert_vma(BASE + 2 * n * PG, BASE + (2 * n + 1) * PG, 3);
	if (corrupt) {
		root->gap[root->n - 1] += PG;
		check_tree();
	}
	unsigned *idx = malloc(ops * sizeof *idx);
	if (!idx) return 1;
	for (long i = 0; i < ops; i++) idx[i] = rnd() % n;
	uint64_t low = BASE - PG, top = BASE + 2 * n * PG; /* gap: the free range between the sentinels */
	/* a warm-up pass over the same sequence (what bench/scale.ts gives the engine), then the timed one */
	run_ops(op, idx, ops, low, top);
	unsigned long v0 = visits;
	double t0 = now_ns();
	run_ops(op, idx, ops, low, top);
	double t1 = now_ns();
	if (checking) {
		/* every slot's find, and a gap search that must fail */
		for (long j = 0; j < n; j++) {
			int i;
			struct node *x = find_vma(BASE + 2 * j * PG + PG / 2, &i);
			expect_vma(x, i, BASE + 2 * j * PG);
		}
		int i;
		if (find_vma(BASE + 2 * n * PG + (op == 2 ? 2 * PG : 0), &i)) fail("find_vma past the last VMA");
		if (gap_search(root, 0, 2 * PG, low, top) != 0) fail("a 2-page gap where there is none");
		/* every VMA erased, then inserted again, each in a random order */
		uint64_t *order = malloc(n * sizeof *order);
		if (!order) return 1;
		for (long j = 0; j < n; j++) order[j] = BASE + 2 * j * PG;
		for (int pass = 0; pass < 2; pass++) {
			for (long j = n - 1; j > 0; j--) {
				long r = rnd() % (j + 1);
				uint64_t t = order[j]; order[j] = order[r]; order[r] = t;
			}
			for (long j = 0; j < n; j++) {
				struct node *x = find_vma(order[j], &i);
				if (pass == 0) {
					expect_vma(x, i, order[j]);
					erase_vma(x, i);
				} else {
					if (x && x->val[i] < order[j] + PG) fail("the range to insert is not free");
					insert_vma(order[j], order[j] + PG, 3);
				}
				check_tree();
			}
		}
		printf("ok ");
	}
	printf("%.1f %.2f\n", (t1 - t0) / ops, (double)(visits - v0) / ops);
	return 0;
}
