/*
 * The real kernel's cost of random-access VMA operations among many VMAs, the
 * figures bench/scale.ts sets next to the engine's in the same run.
 *
 *   vma_scale mprotect N OPS   N one-page VMAs (every other page, so none merge);
 *                              OPS times: mprotect a random one R <-> RW
 *   vma_scale remap N OPS      the same VMAs; OPS times: munmap a random one and
 *                              map it again at the same address (MAP_FIXED_NOREPLACE)
 *
 * The random sequence is the same xorshift32 as bench/scale.ts (seed 1).
 * Prints one line: "<ns per op>". Exits 3 when the kernel refuses N VMAs
 * (vm.max_map_count): the caller reports the scale as out of reach.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

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

int main(int argc, char **argv) {
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
	double t0 = now_ns();
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
	double t1 = now_ns();
	printf("%.1f\n", (t1 - t0) / ops);
	return 0;
}
