/*
 * The real kernel's cost of random-access VMA operations among many VMAs, the
 * figures bench/scale.ts sets next to the engine's in the same run.
 *
 *   vma_scale mprotect N OPS   N one-page VMAs (every other page, so none merge);
 *                              OPS times: mprotect a random one R <-> RW
 *   vma_scale remap N OPS      the same VMAs; OPS times: munmap a random one and
 *                              map it again at the same address (MAP_FIXED_NOREPLACE)
 *   vma_scale matrix N OPS RUNS FORKS
 *                              bench/matrix.ts's table: every operation among N
 *                              background VMAs, at a fixed address and at random
 *                              ones (see matrix_main below); prints one line per
 *                              figure, "<op> <fixed|random> <ns per op>", each the
 *                              fastest of RUNS runs of OPS operations (FORKS forks)
 *
 * The random sequence is the same xorshift32 as bench/scale.ts (seed 1).
 * Times are this thread's CPU time (the kernel's work in its syscalls and
 * faults included), not wall time, but for the fork (wall time).
 * Prints one line: "<ns per op>". Exits 3 when the kernel refuses N VMAs
 * (vm.max_map_count): the caller reports the scale as out of reach.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PG 4096UL
#define BASE 0x100000000UL

static unsigned rng_state = 1;
static unsigned rnd(void) {
	unsigned s = rng_state;
	s ^= s << 13;
	s ^= s >> 17;
	s ^= s << 5;
	rng_state = s;
	return s;
}

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * The CPU time of this thread, the kernel's work for its syscalls and faults
 * included: what the figures count, so that time spent preempted on a shared
 * machine does not (the engine's side counts its process's CPU time too).
 */
static double cpu_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- the matrix (bench/matrix.ts has the same layout and operations) ---- */

/*
 * Background: N VMAs of 3 pages every 4 pages from BASE; VMA i is of class
 * i % 4: 0 never faulted, 1 its first page written, 2 and 3 the targets of
 * read and write faults (emptied again with MADV_DONTNEED, not timed).
 * Fixed-address operations use FIXED (below BASE), mremap moves go to and
 * back from SCRATCH, and the fork's 1,000 written VMAs sit at FORKSET.
 */
#define FIXED 0x10000000UL
#define SCRATCH 0x20000000UL
#define FORKSET 0x40000000UL
#define RW (PROT_READ | PROT_WRITE)
#define NOREPLACE (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)

static long mx_n, mx_ops, mx_runs;
static char **mx_addr; /* the operation's addresses, drawn before the timing */

static void die(const char *what) {
	perror(what);
	exit(1);
}

static void map_at(char *a, unsigned long len) {
	if (mmap(a, len, RW, NOREPLACE, -1, 0) != a) die("mmap");
}

static char *bg(long i) { return (char *)(BASE + 4 * (unsigned long)i * PG); }

/* OPS addresses: FIXED, or the first page of a random background VMA of class c. */
static void draw(int random, int c) {
	for (long k = 0; k < mx_ops; k++) mx_addr[k] = random ? bg(4 * (long)(rnd() % (mx_n / 4)) + c) : (char *)FIXED;
}

/* The fastest run: a run on a shared machine only gets slower when it is preempted. */
static double fastest(const double *xs, long n) {
	double m = xs[0];
	for (long i = 1; i < n; i++) if (xs[i] < m) m = xs[i];
	return m;
}

enum { PAIR, SPLIT, PROT, PROT_W, REMAP, REMAP_W, RFAULT, WFAULT };

/* One timed run of op at the drawn addresses: ns per syscall (per pair for PAIR). */
static double run_op(int op) {
	double t0 = cpu_ns();
	for (long k = 0; k < mx_ops; k++) {
		char *a = mx_addr[k];
		switch (op) {
		case PAIR:
			if (munmap(a, 3 * PG)) die("munmap");
			map_at(a, 3 * PG);
			break;
		case SPLIT:
			if (mprotect(a + PG, PG, PROT_READ) || mprotect(a + PG, PG, RW)) die("mprotect");
			break;
		case PROT:
		case PROT_W:
			if (mprotect(a, 3 * PG, PROT_READ) || mprotect(a, 3 * PG, RW)) die("mprotect");
			break;
		case REMAP:
		case REMAP_W:
			if (mremap(a, 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, (char *)SCRATCH) != (char *)SCRATCH) die("mremap");
			if (mremap((char *)SCRATCH, 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, a) != a) die("mremap");
			break;
		}
	}
	return (cpu_ns() - t0) / (op == PAIR ? mx_ops : 2 * mx_ops);
}

/*
 * Faults: OPS faults on pages never touched (or emptied), in rounds; between
 * rounds (not timed) MADV_DONTNEED empties them again. Fixed: the pages of a
 * 4096-page VMA at FIXED in order; random: the first page of distinct random
 * VMAs of class c (a shuffled list, as many per round as there are).
 */
static double run_faults(int random, int write, long *perm, long m, long run) {
	volatile char sink = 0;
	double spent = 0;
	long done = 0, next = run * mx_ops; /* random: each run goes on where the one before stopped */
	while (done < mx_ops) {
		long round = random ? m : 4096;
		if (round > mx_ops - done) round = mx_ops - done;
		long first = next;
		double t0 = cpu_ns();
		for (long k = 0; k < round; k++) {
			char *a = random ? bg(perm[next++ % m]) : (char *)FIXED + k * PG;
			if (write) *a = 1;
			else sink += *(volatile char *)a;
		}
		spent += cpu_ns() - t0;
		for (long k = first; k < next && random; k++)
			if (madvise(bg(perm[k % m]), PG, MADV_DONTNEED)) die("madvise");
		if (!random && madvise((char *)FIXED, 4096 * PG, MADV_DONTNEED)) die("madvise");
		done += round;
	}
	(void)sink;
	return spent / mx_ops;
}

/* Wall time: the child's exit is the child's CPU time, and the parent waits for it. */
static double run_fork(long forks) {
	double t0 = now_ns();
	for (long i = 0; i < forks; i++) {
		pid_t c = fork();
		if (c < 0) die("fork");
		if (c == 0) _exit(0);
		waitpid(c, NULL, 0);
	}
	return (now_ns() - t0) / forks;
}

/* 10,000 one-page mmaps at rising adjacent addresses, each written (they merge into one VMA); unmapped untimed. */
static double run_adjacent(void) {
	double t0 = cpu_ns();
	for (long k = 0; k < 10000; k++) {
		char *a = (char *)FIXED + k * PG;
		map_at(a, PG);
		*a = 1;
	}
	double t = (cpu_ns() - t0) / 10000;
	if (munmap((char *)FIXED, 10000 * PG)) die("munmap");
	return t;
}

static const char *const op_names[] = { "pair", "split", "mprotect_unfaulted", "mprotect_written", "mremap_unfaulted", "mremap_written" };

static int matrix_main(long n, long ops, long runs, long forks) {
	mx_n = n;
	mx_ops = ops;
	mx_runs = runs;
	mx_addr = malloc(ops * sizeof *mx_addr);
	double *t = malloc(runs * sizeof *t);
	long *perm = malloc((n / 4) * sizeof *perm);
	if (!mx_addr || !t || !perm || n < 4) return 1;
	for (long i = 0; i < n; i++) {
		char *a = bg(i);
		if (mmap(a, 3 * PG, RW, NOREPLACE, -1, 0) != a) {
			if (errno == ENOMEM) return 3;
			die("mmap");
		}
		if (i % 4 == 1) *a = 1;
	}
	for (int random = 0; random < 2; random++) {
		const char *mode = random ? "random" : "fixed";
		for (int op = PAIR; op <= REMAP_W; op++) {
			int written = op == PROT_W || op == REMAP_W;
			if (!random) {
				map_at((char *)FIXED, 3 * PG);
				if (written) *(char *)FIXED = 1;
			}
			/* random: new addresses for every run (a run finds in the cache only what the operations leave there) */
			draw(random, written ? 1 : 0);
			run_op(op); /* warm-up */
			for (long r = 0; r < runs; r++) {
				if (random) draw(1, written ? 1 : 0);
				t[r] = run_op(op);
			}
			if (!random && munmap((char *)FIXED, 3 * PG)) die("munmap");
			printf("%s %s %.1f\n", op_names[op], mode, fastest(t, runs));
		}
		for (int write = 0; write < 2; write++) {
			long m = n / 4;
			for (long i = 0; i < m; i++) perm[i] = 4 * i + 2 + write;
			for (long i = m - 1; i > 0; i--) {
				long j = rnd() % (i + 1), x = perm[i];
				perm[i] = perm[j];
				perm[j] = x;
			}
			if (!random) map_at((char *)FIXED, 4096 * PG);
			run_faults(random, write, perm, m, 0); /* warm-up */
			for (long r = 0; r < runs; r++) t[r] = run_faults(random, write, perm, m, r + 1);
			if (!random && munmap((char *)FIXED, 4096 * PG)) die("munmap");
			printf("%s %s %.1f\n", write ? "write_fault" : "read_fault", mode, fastest(t, runs));
		}
	}
	for (long r = 0; r < runs; r++) t[r] = run_adjacent();
	printf("adjacent fixed %.1f\n", fastest(t, runs));
	for (int i = 0; i < 1000; i++) {
		char *a = (char *)FORKSET + 2 * i * PG;
		map_at(a, PG);
		*a = 1;
	}
	for (long r = 0; r < runs; r++) t[r] = run_fork(forks);
	printf("fork fixed %.1f\n", fastest(t, runs));
	return 0;
}

int main(int argc, char **argv) {
	if (argc == 6 && strcmp(argv[1], "matrix") == 0) return matrix_main(atol(argv[2]), atol(argv[3]), atol(argv[4]), atol(argv[5]));
	if (argc != 4) {
		fprintf(stderr, "usage: %s mprotect|remap N OPS\n", argv[0]);
		return 2;
	}
	long n = atol(argv[2]), ops = atol(argv[3]);
	if (n <= 0 || ops <= 0) return 2;
	int remap = strcmp(argv[1], "remap") == 0;
	if (!remap && strcmp(argv[1], "mprotect") != 0) return 2;
	unsigned char *rw = calloc(n, 1);
	unsigned *idx = malloc(ops * sizeof *idx);
	if (!rw || !idx) return 1;
	for (long i = 0; i < n; i++) {
		char *a = (char *)(BASE + 2 * i * PG);
		if (mmap(a, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != a) {
			if (errno == ENOMEM) return 3;
			perror("mmap");
			return 1;
		}
		rw[i] = 1;
	}
	for (long i = 0; i < ops; i++) idx[i] = rnd() % n;
	double t0 = cpu_ns();
	for (long i = 0; i < ops; i++) {
		char *a = (char *)(BASE + 2 * (unsigned long)idx[i] * PG);
		if (remap) {
			if (munmap(a, PG) || mmap(a, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != a) {
				perror("munmap/mmap");
				return 1;
			}
		} else {
			rw[idx[i]] ^= 1;
			if (mprotect(a, PG, rw[idx[i]] ? PROT_READ | PROT_WRITE : PROT_READ)) {
				perror("mprotect");
				return 1;
			}
		}
	}
	double t1 = cpu_ns();
	printf("%.1f\n", (t1 - t0) / ops);
	return 0;
}
