/*
 * bench_startup.c: how long the log manager takes to open a node's logs (issue 3: "measure
 * start-up time with 1,000 partitions and with one 10 GiB log").
 *
 * The data is written once with the real append path (stor_log_append, 1 MiB batches, a final
 * fdatasync round per log, then a clean close that writes the checkpoints). Then
 * stor_log_manager_open is timed in three states, each with a warm page cache and, when the
 * process may write /proc/sys/vm/drop_caches (root), a cold one:
 *   clean    after a clean shutdown: checkpoints and .kafka_cleanshutdown present;
 *   unclean  the marker removed: segments at or after the recovery point (from
 *            recovery-point-offset-checkpoint) are scanned, i.e. the active segment;
 *   full     marker and recovery-point-offset-checkpoint removed: every segment is scanned.
 * Every open is followed by a clean close, which restores the files for the next state.
 */
#include "bench.h"
#include "io.h"
#include "storage.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SU_INFLIGHT 16
#define SU_BATCH_BYTES (1u << 20)

struct su_writer {
	struct io_loop *loop;
	struct stor_log *log;
	struct stor_append ap[SU_INFLIGHT];
	uint8_t *buf[SU_INFLIGHT];
	struct sl_buf batch;
	int outstanding;
	bool failed;
};

static void su_appended(struct stor_append *a, void *ctx)
{
	struct su_writer *w = ctx;
	if (a->err != SL_OK)
		w->failed = true;
	w->outstanding--;
}

static void su_durable(struct stor_durable_wait *dw, void *ctx)
{
	struct su_writer *w = ctx;
	if (dw->err != SL_OK)
		w->failed = true;
	w->outstanding--;
}

static void su_run(struct su_writer *w, int until)
{
	while (w->outstanding > until)
		(void)io_loop_run_once(w->loop, 100);
}

/* Appends about `bytes` (to the nearest whole batch, at least one) to w->log in 1 MiB batches,
 * SU_INFLIGHT at a time, then waits until durable. */
static int su_fill(struct su_writer *w, uint64_t bytes)
{
	uint64_t written = 0;
	unsigned slot = 0;
	while ((written == 0 || written + w->batch.len / 2 < bytes) && !w->failed) {
		su_run(w, SU_INFLIGHT - 1);
		/* Slots are reused round-robin; with at most SU_INFLIGHT - 1 outstanding and
		 * completions in offset order, the oldest slot is free. */
		memcpy(w->buf[slot], w->batch.data, w->batch.len);
		w->outstanding++;
		if (stor_log_append(w->log, &w->ap[slot], w->buf[slot], w->batch.len, 0,
		                    sl_wall_ms(), su_appended, w) != SL_OK) {
			w->outstanding--;
			return -1;
		}
		written += w->batch.len;
		slot = (slot + 1) % SU_INFLIGHT;
	}
	su_run(w, 0);
	struct stor_log_state st;
	stor_log_get_state(w->log, &st);
	struct stor_durable_wait dw;
	w->outstanding++;
	enum sl_err e = stor_log_wait_durable(w->log, &dw, st.end_offset, su_durable, w);
	if (e == SL_OK)
		w->outstanding--;
	else if (e != SL_EAGAIN)
		return -1;
	su_run(w, 0);
	return w->failed ? -1 : 0;
}

static int su_batch(struct sl_buf *out)
{
	static uint8_t value[1000];
	memset(value, 'v', sizeof(value));
	size_t count = SU_BATCH_BYTES / (sizeof(value) + 16);
	struct stor_record_in *recs = calloc(count, sizeof(*recs));
	if (recs == NULL)
		return -1;
	for (size_t i = 0; i < count; i++)
		recs[i] = (struct stor_record_in){.value = value, .value_len = sizeof(value)};
	struct stor_batch_params p;
	stor_batch_params_init(&p, sl_wall_ms());
	enum sl_err e = stor_batch_build(out, &p, recs, count);
	free(recs);
	return e == SL_OK ? 0 : -1;
}

static enum sl_err su_manager(struct io_loop *loop, const char *dir, struct stor_log_manager **m,
                              struct stor_startup_report *rep)
{
	char err[256] = "";
	struct stor_log_manager_opts mo;
	stor_log_manager_opts_init(&mo);
	const char *dirs[1] = {dir};
	mo.log_dirs = dirs;
	mo.log_dir_count = 1;
	mo.start_timer = false;
	enum sl_err e = stor_log_manager_open(loop, &mo, m, rep, err, sizeof(err));
	if (e != SL_OK)
		fprintf(stderr, "open %s: %s\n", dir, err);
	return e;
}

/* Creates `partitions` logs of `bytes` each under dir and closes cleanly. */
static int su_build(struct io_loop *loop, const char *dir, unsigned partitions, uint64_t bytes)
{
	struct stor_log_manager *m = NULL;
	if (su_manager(loop, dir, &m, NULL) != SL_OK)
		return -1;
	struct su_writer w = {.loop = loop};
	sl_buf_init(&w.batch, 2 * SU_BATCH_BYTES);
	int rc = su_batch(&w.batch);
	for (unsigned i = 0; i < SU_INFLIGHT && rc == 0; i++)
		if ((w.buf[i] = malloc(w.batch.len)) == NULL)
			rc = -1;
	char err[256] = "";
	for (unsigned p = 0; p < partitions && rc == 0; p++) {
		if (stor_log_manager_create(m, "startup", (int32_t)p, NULL, &w.log, err,
		                            sizeof(err)) != SL_OK) {
			fprintf(stderr, "create: %s\n", err);
			rc = -1;
			break;
		}
		rc = su_fill(&w, bytes);
	}
	if (stor_log_manager_close(m, true, err, sizeof(err)) != SL_OK) {
		fprintf(stderr, "close: %s\n", err);
		rc = -1;
	}
	for (unsigned i = 0; i < SU_INFLIGHT; i++)
		free(w.buf[i]);
	sl_buf_free(&w.batch);
	return rc;
}

static bool su_drop_caches(void)
{
	sync();
	FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
	if (f == NULL)
		return false;
	bool ok = fputs("3\n", f) >= 0;
	return fclose(f) == 0 && ok;
}

/* One timed open in `state` (0 clean, 1 unclean, 2 full); prints a row; -1 on failure. */
static int su_measure(struct io_loop *loop, const char *dir, int state, bool cold,
                      const char *label)
{
	static const char *const names[] = {"clean", "unclean", "full-scan"};
	char path[PATH_MAX + 64];
	if (state >= 1) {
		snprintf(path, sizeof(path), "%s/.kafka_cleanshutdown", dir);
		(void)unlink(path);
	}
	if (state == 2) {
		snprintf(path, sizeof(path), "%s/%s", dir, STOR_RECOVERY_POINT_CHECKPOINT_NAME);
		(void)unlink(path);
	}
	if (cold && !su_drop_caches())
		return 1; /* not root: no cold numbers */
	struct stor_startup_report rep = {0};
	struct stor_log_manager *m = NULL;
	struct bench_usage t0, t1;
	bench_usage_now(&t0);
	if (su_manager(loop, dir, &m, &rep) != SL_OK)
		return -1;
	bench_usage_now(&t1);
	char err[256] = "";
	if (stor_log_manager_close(m, true, err, sizeof(err)) != SL_OK) {
		fprintf(stderr, "close: %s\n", err);
		return -1;
	}
	printf("%-22s %-9s %-5s %10.1f %10.1f %10u %9u %12.1f\n", label, names[state],
	       cold ? "cold" : "warm", (double)(t1.wall_ns - t0.wall_ns) / 1e6,
	       (double)(t1.cpu_ns - t0.cpu_ns) / 1e6, rep.partitions, rep.segments_recovered,
	       (double)rep.bytes_scanned / (1 << 20));
	return 0;
}

static int su_case(const struct bench_opts *o, const char *label, unsigned partitions,
                   uint64_t bytes)
{
	char dir[PATH_MAX / 2];
	snprintf(dir, sizeof(dir), "%s/startup-%u-%llu", o->dir, partitions,
	         (unsigned long long)bytes);
	struct io_loop_opts lo = {.backend = IO_BACKEND_AUTO};
	struct io_loop *loop = NULL;
	char err[256];
	if (io_loop_create(&lo, &loop, err, sizeof(err)) != SL_OK) {
		fprintf(stderr, "io: %s\n", err);
		return -1;
	}
	struct bench_usage t0, t1;
	bench_usage_now(&t0);
	int rc = su_build(loop, dir, partitions, bytes);
	bench_usage_now(&t1);
	if (rc == 0)
		fprintf(stderr, "# %s: wrote %llu MiB in %.1f s\n", label,
		        (unsigned long long)(bytes * partitions >> 20),
		        (double)(t1.wall_ns - t0.wall_ns) / 1e9);
	for (int state = 0; state < 3 && rc == 0; state++)
		for (int cold = 0; cold < 2 && rc == 0; cold++)
			rc = su_measure(loop, dir, state, cold, label) < 0 ? -1 : 0;
	io_loop_destroy(loop);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}

int bench_startup(const struct bench_opts *o)
{
	printf("# log manager start-up; data written with the real append path (1 MiB batches)\n");
	printf("%-22s %-9s %-5s %10s %10s %10s %9s %12s\n", "case", "state", "cache", "wall_ms",
	       "cpu_ms", "partitions", "recovered", "scanned_MiB");
	fflush(stdout);
	uint64_t mib = 1u << 20;
	if (su_case(o, "1000 partitions x 1 MiB", 1000, mib) != 0)
		return 1;
	fflush(stdout);
	char label[64];
	snprintf(label, sizeof(label), "1 partition x %u GiB", o->startup_gib);
	if (su_case(o, label, 1, (uint64_t)o->startup_gib * 1024 * mib) != 0)
		return 1;
	return 0;
}
