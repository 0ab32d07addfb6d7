/*
 * The real kernel's cost of the operations bench/run.ts measures in the
 * engine, so both figures come from the same run on the same machine.
 *
 *   mmap_pair N   N times: mmap(NULL, 4 KiB, RW, private|anon) + munmap
 *   split N       N times: mprotect the middle page of a 3-page VMA to R, then back to RW
 *
 * Prints one line: "<ns per iteration>".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: %s mmap_pair|split N\n", argv[0]);
		return 2;
	}
	long n = atol(argv[2]);
	if (n <= 0) return 2;
	double t0, t1;
	if (strcmp(argv[1], "mmap_pair") == 0) {
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED || munmap(p, 4096)) { perror("mmap/munmap"); return 1; }
		}
		t1 = now_ns();
	} else if (strcmp(argv[1], "split") == 0) {
		char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) { perror("mmap"); return 1; }
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			if (mprotect(p + 4096, 4096, PROT_READ) || mprotect(p + 4096, 4096, PROT_READ | PROT_WRITE)) {
				perror("mprotect");
				return 1;
			}
		}
		t1 = now_ns();
	} else {
		fprintf(stderr, "unknown benchmark %s\n", argv[1]);
		return 2;
	}
	printf("%.1f\n", (t1 - t0) / n);
	return 0;
}
