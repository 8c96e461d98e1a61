/*
 * bench_storage.c: append throughput with the group-commit policy, fsyncs per second, and
 * read throughput from the page cache, through the partition log API (storage.h). Not a test.
 *
 * Append: `inflight` producers each append one RecordBatch (records of record_bytes, about
 * batch_kib KiB per batch) and wait until it is durable (acks=all: stor_log_wait_durable),
 * then append again; a flush round (fdatasync) covers every batch written while the previous
 * round ran, which is the group commit. Reported: MB/s of batch bytes made durable, flush
 * rounds per second, and appends per flush.
 * Read: the log just written (page cache), whole segments' batches located with
 * stor_log_read in 1 MiB steps and pread into a user buffer, as a copy path would.
 */
#include "bench.h"

#include "io.h"
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_STEP_BYTES (1u << 20)

struct ap_slot {
	struct bench_append *b;
	struct stor_append append;
	struct stor_durable_wait wait;
	uint8_t *batch;
};

struct bench_append {
	struct stor_log *log;
	size_t batch_len;
	uint64_t target_bytes;
	uint64_t started_bytes;
	uint64_t durable_bytes;
	uint64_t appends;
	bool failed;
};

static void slot_start(struct ap_slot *s);

static void slot_durable(struct stor_durable_wait *w, void *ctx)
{
	struct ap_slot *s = ctx;
	if (w->err != SL_OK) {
		s->b->failed = true;
		return;
	}
	s->b->durable_bytes += s->b->batch_len;
	slot_start(s);
}

static void slot_appended(struct stor_append *a, void *ctx)
{
	struct ap_slot *s = ctx;
	if (a->err != SL_OK) {
		s->b->failed = true;
		return;
	}
	s->b->appends++;
	enum sl_err e =
	        stor_log_wait_durable(s->b->log, &s->wait, a->last_offset + 1, slot_durable, s);
	if (e == SL_OK)
		slot_durable(&s->wait, s); /* already covered by a completed round */
	else if (e != SL_EAGAIN)
		s->b->failed = true;
}

static void slot_start(struct ap_slot *s)
{
	struct bench_append *b = s->b;
	if (b->failed || b->started_bytes >= b->target_bytes)
		return;
	b->started_bytes += b->batch_len;
	enum sl_err e = stor_log_append(b->log, &s->append, s->batch, b->batch_len, 0, sl_wall_ms(),
	                                slot_appended, s);
	if (e != SL_OK) {
		fprintf(stderr, "append: %s\n", sl_err_name(e));
		b->failed = true;
	}
}

/* One batch of at most batch_bytes (and as close to it as the estimate gets) made of
 * record_bytes values. */
static int build_batch(unsigned record_bytes, size_t batch_bytes, struct sl_buf *out)
{
	size_t count = SL_MAX((size_t)1, batch_bytes / (record_bytes + 16));
	struct stor_record_in *recs = calloc(count, sizeof(*recs));
	uint8_t *value = malloc(record_bytes);
	if (recs == NULL || value == NULL) {
		free(recs);
		free(value);
		return -1;
	}
	for (unsigned i = 0; i < record_bytes; i++)
		value[i] = (uint8_t)('a' + i % 26);
	for (size_t i = 0; i < count; i++) {
		recs[i].value = value;
		recs[i].value_len = (int32_t)record_bytes;
	}
	struct stor_batch_params p;
	stor_batch_params_init(&p, sl_wall_ms());
	enum sl_err e = SL_OK;
	for (;;) { /* shrink until it fits (max.message.bytes is about 1 MiB) */
		sl_buf_reset(out);
		e = stor_batch_build(out, &p, recs, count);
		if (e != SL_OK || out->len <= batch_bytes || count == 1)
			break;
		count = SL_MAX((size_t)1, count * batch_bytes / out->len);
	}
	free(recs);
	free(value);
	return e == SL_OK ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

struct ap_result {
	double mbps;
	double fsyncs_per_s;
	double appends_per_fsync;
	double read_mbps;
};

static enum sl_err open_log(struct io_loop *loop, const char *dir, struct stor_log_manager **m,
                            struct stor_log **log)
{
	char err[256];
	struct stor_log_manager_opts mo;
	stor_log_manager_opts_init(&mo);
	const char *dirs[1] = {dir};
	mo.log_dirs = dirs;
	mo.log_dir_count = 1;
	mo.start_timer = false;
	enum sl_err e = stor_log_manager_open(loop, &mo, m, NULL, err, sizeof(err));
	if (e == SL_OK)
		e = stor_log_manager_create(*m, "bench", 0, NULL, log, err, sizeof(err));
	if (e != SL_OK)
		fprintf(stderr, "log: %s\n", err);
	return e;
}

/* Reads the whole log through stor_log_read + pread. MB/s, or -1. */
static double read_back(struct stor_log *log, uint64_t expect_bytes)
{
	static uint8_t buf[READ_STEP_BYTES + (64u << 10)];
	struct bench_usage t0, t1;
	bench_usage_now(&t0);
	int64_t offset = 0;
	uint64_t total = 0;
	for (;;) {
		struct stor_read_result r;
		if (stor_log_read(log, offset, READ_STEP_BYTES, -1, &r) != SL_OK)
			break;
		if (r.range.len == 0)
			break;
		for (uint64_t done = 0; done < r.range.len;) {
			size_t n = (size_t)SL_MIN(r.range.len - done, (uint64_t)sizeof(buf));
			ssize_t got = pread(r.range.fd, buf, n, (off_t)(r.range.position + done));
			if (got <= 0)
				return -1;
			done += (uint64_t)got;
		}
		total += r.range.len;
		offset = r.next_offset;
	}
	bench_usage_now(&t1);
	if (total < expect_bytes)
		return -1;
	return (double)total / 1e6 / ((double)(t1.wall_ns - t0.wall_ns) / 1e9);
}

/* Appends in flight: --inflight, or enough that a flush round (which covers about half of
 * them: the other half arrive while it runs) spans >= 1 MiB, fio's sync pattern. */
static unsigned inflight_for(const struct bench_opts *o, unsigned batch_kib)
{
	if (o->inflight != 0)
		return o->inflight;
	return SL_MAX(8u, 2 * 1024 / batch_kib);
}

static int append_run(const struct bench_opts *o, unsigned record_bytes, unsigned batch_kib,
                      int run, struct ap_result *res)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/append-%u-%u-%d", o->dir, record_bytes, batch_kib, run);
	struct io_loop_opts lo = {.backend = IO_BACKEND_AUTO};
	struct io_loop *loop = NULL;
	char err[256];
	if (io_loop_create(&lo, &loop, err, sizeof(err)) != SL_OK)
		return -1;
	struct stor_log_manager *m = NULL;
	struct bench_append b = {.target_bytes = (uint64_t)o->total_mib << 20};
	struct sl_buf batch;
	sl_buf_init(&batch, 64u << 20);
	unsigned inflight = inflight_for(o, batch_kib);
	struct ap_slot *slots = calloc(inflight, sizeof(*slots));
	int rc = -1;
	if (stor_mkdirs(dir, err, sizeof(err)) != SL_OK ||
	    open_log(loop, dir, &m, &b.log) != SL_OK ||
	    build_batch(record_bytes, (size_t)batch_kib << 10, &batch) != 0 || slots == NULL)
		goto out;
	b.batch_len = batch.len;
	for (unsigned i = 0; i < inflight; i++) {
		slots[i].b = &b;
		slots[i].batch = malloc(batch.len);
		memcpy(slots[i].batch, batch.data, batch.len);
	}
	uint64_t rounds0 = stor_log_flush_rounds(b.log);
	struct bench_usage t0, t1;
	bench_usage_now(&t0);
	for (unsigned i = 0; i < inflight; i++)
		slot_start(&slots[i]);
	while (!b.failed && b.durable_bytes < b.started_bytes)
		io_loop_run_once(loop, 100);
	bench_usage_now(&t1);
	if (b.failed)
		goto out;
	double secs = (double)(t1.wall_ns - t0.wall_ns) / 1e9;
	uint64_t rounds = stor_log_flush_rounds(b.log) - rounds0;
	res->mbps = (double)b.durable_bytes / 1e6 / secs;
	res->fsyncs_per_s = (double)rounds / secs;
	res->appends_per_fsync = rounds > 0 ? (double)b.appends / (double)rounds : 0;
	res->read_mbps = read_back(b.log, b.durable_bytes);
	rc = res->read_mbps > 0 ? 0 : -1;
out:
	if (m != NULL)
		(void)stor_log_manager_close(m, false, err, sizeof(err));
	io_loop_destroy(loop);
	for (unsigned i = 0; slots != NULL && i < inflight; i++)
		free(slots[i].batch);
	free(slots);
	sl_buf_free(&batch);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

int bench_append_read(const struct bench_opts *o)
{
	static const unsigned records_default[] = {100, 1024};
	static const unsigned batches_default[] = {16, 64, 256, 1024};
	unsigned records[2], batches[4];
	size_t nr = 0, nb = 0;
	if (o->record_bytes != 0)
		records[nr++] = o->record_bytes;
	else
		for (; nr < 2; nr++)
			records[nr] = records_default[nr];
	if (o->batch_kib != 0)
		batches[nb++] = o->batch_kib;
	else
		for (; nb < 4; nb++)
			batches[nb] = batches_default[nb];
	printf("# append (group commit, acks=all: every append waits until durable), %u MiB per "
	       "run, median of %d\n",
	       o->total_mib, o->runs);
	printf("%-7s %-9s %8s %10s %10s %14s %12s\n", "record", "batch_KiB", "inflight", "MB/s",
	       "fsyncs/s", "appends/fsync", "read_MB/s");
	for (size_t i = 0; i < nr; i++) {
		for (size_t j = 0; j < nb; j++) {
			double mbps[BENCH_RUNS_MAX], fps[BENCH_RUNS_MAX], apf[BENCH_RUNS_MAX],
			        rd[BENCH_RUNS_MAX];
			int ok = 0;
			for (int r = 0; r < o->runs; r++) {
				struct ap_result res;
				if (append_run(o, records[i], batches[j], r, &res) != 0)
					continue;
				mbps[ok] = res.mbps;
				fps[ok] = res.fsyncs_per_s;
				apf[ok] = res.appends_per_fsync;
				rd[ok] = res.read_mbps;
				ok++;
			}
			if (ok == 0) {
				printf("%-7u %-9u failed\n", records[i], batches[j]);
				continue;
			}
			printf("%-7u %-9u %8u %10.0f %10.0f %14.1f %12.0f\n", records[i],
			       batches[j], inflight_for(o, batches[j]), bench_median(mbps, ok),
			       bench_median(fps, ok), bench_median(apf, ok), bench_median(rd, ok));
			fflush(stdout);
		}
	}
	return 0;
}
