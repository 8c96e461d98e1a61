/*
 * bench_zerocopy.c: broker CPU per MB for file ranges sent through net/ (splice, sendfile,
 * copy) on each io backend. Not a test: numbers only.
 *
 * One process serves a page-cached file as responses of 1 MiB file ranges (plus an 8-byte
 * memory header each) over loopback TCP; a forked child pipelines the requests and drains the
 * responses. The server's CPU (getrusage RUSAGE_SELF: the loop thread plus io_uring's worker
 * threads, which belong to the process) is measured from the first request to the last byte
 * handed to the kernel; the child's CPU is not counted. On loopback there is no NIC DMA to
 * save, so the figure of merit is CPU per byte, not bandwidth (machine-limits.md).
 */
#include "bench.h"

#include "io.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define ZC_RANGE_BYTES (1u << 20)
#define ZC_HEADER_BYTES 8
#define ZC_PASSES 4 /* times the file is sent per run */

struct zc_run {
	int file;
	unsigned ranges_in_file;
	unsigned requests;
	unsigned released;
};

static void zc_release(struct net_request *req, void *ctx)
{
	(void)req;
	struct zc_run *r = ctx;
	r->released++;
}

static void zc_dispatch(struct net_request *req, void *ctx)
{
	struct zc_run *r = ctx;
	if (req->frame_len != 4) {
		net_respond_close(req, "bad bench request");
		return;
	}
	uint32_t idx = sl_load_be32(req->frame);
	req->release = zc_release;
	req->release_ctx = r;
	sl_buf_put_be32(req->resp, idx);
	sl_buf_put_be32(req->resp, ZC_RANGE_BYTES);
	uint64_t off = (uint64_t)(idx % r->ranges_in_file) * ZC_RANGE_BYTES;
	if (net_resp_add_file(req, r->file, off, ZC_RANGE_BYTES) != SL_OK) {
		net_respond_close(req, "add_file failed");
		return;
	}
	net_respond(req);
}

/* The client: sends every request at once (tiny frames), then drains. Exits 0 when it got
 * every byte. */
static void zc_client(uint16_t port, unsigned requests)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons(port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		_exit(2);
	uint8_t *req = malloc((size_t)requests * 8);
	for (unsigned i = 0; i < requests; i++) {
		sl_store_be32(req + i * 8, 4);
		sl_store_be32(req + i * 8 + 4, i);
	}
	if (bench_write_all(fd, req, (size_t)requests * 8) != 0)
		_exit(3);
	uint64_t want = (uint64_t)requests * (4 + ZC_HEADER_BYTES + ZC_RANGE_BYTES);
	uint64_t got = 0;
	static uint8_t buf[1 << 20];
	while (got < want) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			_exit(4);
		got += (uint64_t)n;
	}
	_exit(0);
}

/* One timed run; fills MB/s and CPU microseconds per MB (MB = 10^6 bytes). */
static int zc_run_once(enum io_backend backend, enum net_zero_copy mode, int file,
                       unsigned ranges_in_file, unsigned requests, double *mbps, double *cpu_us_mb)
{
	struct io_loop_opts lo = {.backend = backend};
	struct io_loop *loop = NULL;
	char err[256];
	if (io_loop_create(&lo, &loop, err, sizeof(err)) != SL_OK) {
		fprintf(stderr, "io_loop_create: %s\n", err);
		return -1;
	}
	struct zc_run run = {.file = file, .ranges_in_file = ranges_in_file, .requests = requests};
	struct net_server_opts o = {
	        .request_max_bytes = 1024,
	        .max_connections = 4,
	        .send_buffer_bytes = -1,
	        .recv_buffer_bytes = -1,
	        .zero_copy = mode,
	        .dispatch = zc_dispatch,
	        .dispatch_ctx = &run,
	};
	struct net_server *srv = NULL;
	uint16_t port = 0;
	if (net_server_create(loop, &o, &srv) != SL_OK ||
	    net_server_listen(srv, "BENCH", false, "127.0.0.1", 0, &port, err, sizeof(err)) !=
	            SL_OK) {
		fprintf(stderr, "server: %s\n", err);
		return -1;
	}
	pid_t child = fork();
	if (child == 0)
		zc_client(port, requests);
	struct bench_usage u0, u1;
	bool started = false;
	while (run.released < requests) {
		io_loop_run_once(loop, 100);
		struct net_server_stats st;
		net_server_stats(srv, &st);
		if (!started && st.requests > 0) {
			bench_usage_now(&u0); /* from the first request on */
			started = true;
		}
		int status;
		if (waitpid(child, &status, WNOHANG) == child) {
			child = -1;
			if (run.released < requests) {
				fprintf(stderr, "client exited early (status %d)\n", status);
				break;
			}
		}
	}
	bench_usage_now(&u1);
	int status = 0;
	if (child > 0)
		waitpid(child, &status, 0);
	net_server_stop(srv);
	while (!net_server_stopped(srv))
		io_loop_run_once(loop, 10);
	net_server_destroy(srv);
	io_loop_destroy(loop);
	if (run.released < requests || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	double bytes = (double)requests * ZC_RANGE_BYTES;
	double secs = (double)(u1.wall_ns - u0.wall_ns) / 1e9;
	double cpu_us = (double)(u1.cpu_ns - u0.cpu_ns) / 1e3;
	*mbps = bytes / 1e6 / secs;
	*cpu_us_mb = cpu_us / (bytes / 1e6);
	return 0;
}

int bench_zerocopy(const struct bench_opts *opts)
{
	signal(SIGPIPE, SIG_IGN);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/zerocopy.data", opts->dir);
	uint64_t file_bytes = (uint64_t)opts->file_mib << 20;
	int file = bench_make_cached_file(path, file_bytes);
	if (file < 0)
		return 1;
	unsigned ranges = (unsigned)(file_bytes / ZC_RANGE_BYTES);
	unsigned requests = ranges * ZC_PASSES; /* long enough for stable CPU figures */
	static const struct {
		enum io_backend backend;
		enum net_zero_copy mode;
	} combos[] = {
	        {IO_BACKEND_URING, NET_ZC_SPLICE}, {IO_BACKEND_URING, NET_ZC_COPY},
	        {IO_BACKEND_SYNC, NET_ZC_SPLICE},  {IO_BACKEND_SYNC, NET_ZC_SENDFILE},
	        {IO_BACKEND_SYNC, NET_ZC_COPY},
	};
	printf("# zero-copy: %u MiB page-cached file sent %d times per run in 1 MiB ranges over "
	       "loopback TCP; broker CPU per MB; median of %d\n",
	       opts->file_mib, ZC_PASSES, opts->runs);
	printf("%-6s %-9s %10s %14s\n", "io", "mode", "MB/s", "cpu_us_per_MB");
	for (size_t c = 0; c < SL_ARRAY_LEN(combos); c++) {
		double mbps[BENCH_RUNS_MAX], cpu[BENCH_RUNS_MAX];
		int ok = 0;
		for (int r = 0; r < opts->runs; r++) {
			if (zc_run_once(combos[c].backend, combos[c].mode, file, ranges, requests,
			                &mbps[ok], &cpu[ok]) == 0)
				ok++;
		}
		if (ok == 0) {
			printf("%-6s %-9s failed\n", io_backend_name(combos[c].backend),
			       net_zero_copy_name(combos[c].mode));
			continue;
		}
		printf("%-6s %-9s %10.0f %14.1f\n", io_backend_name(combos[c].backend),
		       net_zero_copy_name(combos[c].mode), bench_median(mbps, ok),
		       bench_median(cpu, ok));
		fflush(stdout);
	}
	close(file);
	unlink(path);
	return 0;
}
