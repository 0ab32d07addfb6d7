/*
 * The real kernel's cost of the operations bench/run.ts measures in the
 * engine, so both figures come from the same run on the same machine.
 *
 *   mmap_pair N   N times: mmap(NULL, 4 KiB, RW, private|anon) + munmap
 *   split N       N times: mprotect the middle page of a 3-page VMA to R, then back to RW
 *   mremap N      N moves of a faulted 1-page VMA (MREMAP_MAYMOVE|FIXED), back and forth
 *   fault N       N write faults on fresh anonymous pages (mmap'ed 4096 pages at a time)
 *   fork N        N times: fork a process with 1,000 faulted 1-page VMAs; the child exits at
 *                 once and is reaped (the figure includes the child's exit and the wait)
 *
 * Times are the thread's CPU time (the kernel's work included), the fork's wall time.
 * Prints one line: "<ns per iteration>".
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Wall time: the fork's figure (the child's exit is the child's CPU time, and the parent waits for it). */
static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* This thread's CPU time, the kernel's work in its syscalls and faults included: time spent preempted does not count. */
static double cpu_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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
		t0 = cpu_ns();
		for (long i = 0; i < n; i++) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED || munmap(p, 4096)) { perror("mmap/munmap"); return 1; }
		}
		t1 = cpu_ns();
	} else if (strcmp(argv[1], "split") == 0) {
		char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) { perror("mmap"); return 1; }
		t0 = cpu_ns();
		for (long i = 0; i < n; i++) {
			if (mprotect(p + 4096, 4096, PROT_READ) || mprotect(p + 4096, 4096, PROT_READ | PROT_WRITE)) {
				perror("mprotect");
				return 1;
			}
		}
		t1 = cpu_ns();
	} else if (strcmp(argv[1], "mremap") == 0) {
		char *area = mmap(NULL, 16 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (area == MAP_FAILED) { perror("mmap"); return 1; }
		char *a = area + 4096, *b = area + 10 * 4096;
		munmap(a, 4096);
		munmap(b, 4096);
		char *p = mmap(a, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED) { perror("mmap"); return 1; }
		*p = 1;
		t0 = cpu_ns();
		for (long i = 0; i < n; i++) {
			char *to = (i & 1) ? a : b, *from = (i & 1) ? b : a;
			if (mremap(from, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED) { perror("mremap"); return 1; }
		}
		t1 = cpu_ns();
	} else if (strcmp(argv[1], "fault") == 0) {
		const long chunk = 4096;
		double spent = 0;
		for (long done = 0; done < n; done += chunk) {
			char *p = mmap(NULL, chunk * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED) { perror("mmap"); return 1; }
			double a = cpu_ns();
			for (long i = 0; i < chunk; i++) p[i * 4096] = 1;
			spent += cpu_ns() - a;
			munmap(p, chunk * 4096);
		}
		t0 = 0;
		t1 = spent * n / ((n + chunk - 1) / chunk * chunk);
	} else if (strcmp(argv[1], "fork") == 0) {
		/* 1,000 VMAs of one page each, every other page, all written */
		char *base = mmap(NULL, 2000 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (base == MAP_FAILED) { perror("mmap"); return 1; }
		for (int i = 0; i < 1000; i++) {
			char *p = mmap(base + 2 * i * 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (p == MAP_FAILED) { perror("mmap"); return 1; }
			*p = 1;
		}
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			pid_t c = fork();
			if (c < 0) { perror("fork"); return 1; }
			if (c == 0) _exit(0);
			waitpid(c, NULL, 0);
		}
		t1 = now_ns();
	} else {
		fprintf(stderr, "unknown benchmark %s\n", argv[1]);
		return 2;
	}
	printf("%.1f\n", (t1 - t0) / n);
	return 0;
}
