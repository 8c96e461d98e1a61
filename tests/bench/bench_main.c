/*
 * bench_main.c: sluice_bench_storage: storage and send-path benchmarks (not tests).
 *
 *   sluice_bench_storage zerocopy [--dir D] [--file-mib 256] [--runs 5]
 *   sluice_bench_storage append   [--dir D] [--total-mib 256] [--inflight N] [--runs 5]
 *                                 [--record-bytes N] [--batch-kib N]
 *
 * tests/bench/storage_bench.sh runs both beside fio's baseline and prints the ratios.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

void bench_usage_now(struct bench_usage *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	out->wall_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	out->cpu_ns = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	              ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

double bench_median(double *v, int n)
{
	SL_ASSERT(n > 0);
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int bench_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int bench_make_cached_file(const char *path, uint64_t bytes)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return -1;
	}
	static uint8_t buf[1 << 20];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31u);
	for (uint64_t done = 0; done < bytes; done += sizeof(buf)) {
		if (bench_write_all(fd, buf, (size_t)SL_MIN(sizeof(buf), bytes - done)) != 0) {
			fprintf(stderr, "write %s: %s\n", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	for (uint64_t done = 0; done < bytes; done += sizeof(buf)) /* warm the cache */
		if (pread(fd, buf, sizeof(buf), (off_t)done) < 0)
			break;
	return fd;
}

static unsigned arg_uint(const char *name, const char *v)
{
	char *end = NULL;
	unsigned long x = strtoul(v != NULL ? v : "", &end, 10);
	if (v == NULL || *v == '\0' || *end != '\0' || x == 0 || x > 1u << 30) {
		fprintf(stderr, "bad value for %s\n", name);
		exit(2);
	}
	return (unsigned)x;
}

int main(int argc, char **argv)
{
	struct bench_opts o = {.dir = "/var/tmp",
	                       .file_mib = 256,
	                       .total_mib = 256,
	                       .inflight = 0,
	                       .runs = 5,
	                       .startup_gib = 10};
	if (argc < 2) {
		fprintf(stderr,
		        "usage: %s zerocopy|append|startup [--dir D] [--file-mib N] "
		        "[--total-mib N] [--inflight N] [--runs N] [--record-bytes N] "
		        "[--batch-kib N] [--startup-gib N]\n",
		        argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(k, "--dir") == 0 && v != NULL)
			o.dir = v;
		else if (strcmp(k, "--file-mib") == 0)
			o.file_mib = arg_uint(k, v);
		else if (strcmp(k, "--total-mib") == 0)
			o.total_mib = arg_uint(k, v);
		else if (strcmp(k, "--inflight") == 0)
			o.inflight = arg_uint(k, v);
		else if (strcmp(k, "--runs") == 0)
			o.runs = (int)SL_MIN(arg_uint(k, v), BENCH_RUNS_MAX);
		else if (strcmp(k, "--record-bytes") == 0)
			o.record_bytes = arg_uint(k, v);
		else if (strcmp(k, "--batch-kib") == 0)
			o.batch_kib = arg_uint(k, v);
		else if (strcmp(k, "--startup-gib") == 0)
			o.startup_gib = arg_uint(k, v);
		else {
			fprintf(stderr, "unknown option %s\n", k);
			return 2;
		}
	}
	sl_log_set_level(SL_LOG_WARN);
	if (strcmp(argv[1], "zerocopy") == 0)
		return bench_zerocopy(&o);
	if (strcmp(argv[1], "append") == 0)
		return bench_append_read(&o);
	if (strcmp(argv[1], "startup") == 0)
		return bench_startup(&o);
	fprintf(stderr, "unknown benchmark %s\n", argv[1]);
	return 2;
}
