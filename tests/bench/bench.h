/*
 * bench.h: shared pieces of the storage benchmark program (sluice_bench_storage). Benchmarks
 * are not tests: they print numbers and are never part of the unit or integration labels.
 */
#ifndef SL_BENCH_H
#define SL_BENCH_H

#include "base.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_RUNS_MAX 15

struct bench_opts {
	const char *dir;       /* scratch directory on the disk under test */
	unsigned file_mib;     /* zerocopy: size of the page-cached file */
	unsigned total_mib;    /* append: bytes appended per run */
	unsigned inflight;     /* append: appends in flight (producers' pipelining) */
	int runs;              /* median of this many runs (<= BENCH_RUNS_MAX) */
	unsigned record_bytes; /* append: 0 = the default matrix (100 B and 1 KiB) */
	unsigned batch_kib;    /* append: 0 = the default matrix (16 KiB .. 1 MiB) */
	unsigned startup_gib;  /* startup: size of the single large log (default 10) */
};

/* Wall clock and process CPU (user + system, every thread) in nanoseconds. */
struct bench_usage {
	int64_t wall_ns;
	int64_t cpu_ns;
};
void bench_usage_now(struct bench_usage *out);

/* Median of v[0..n) (sorts v). */
double bench_median(double *v, int n);

/* Creates path with `bytes` of data and reads it back once so it sits in the page cache.
 * Returns an open read-only fd, or -1 (message on stderr). */
int bench_make_cached_file(const char *path, uint64_t bytes);

/* write(2) until done; 0 or -1. */
int bench_write_all(int fd, const void *p, size_t n);

int bench_zerocopy(const struct bench_opts *opts);
int bench_append_read(const struct bench_opts *opts);
int bench_startup(const struct bench_opts *opts);

#endif
