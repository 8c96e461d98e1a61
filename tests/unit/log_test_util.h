/*
 * log_test_util.h: helpers shared by the partition-log test suites (test_log.c,
 * test_log_model.c, test_flush.c, test_powerloss.c): a loop per backend, a temp log dir, batch
 * building, synchronous append / durable waits that run the loop with a deadline, and reading
 * file ranges back. Each suite includes it once (static functions).
 */
#ifndef SL_LOG_TEST_UTIL_H
#define SL_LOG_TEST_UTIL_H

#include "check_main.h"
#include "io.h"
#include "log_int.h"
#include "storage.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const enum io_backend lt_backends[] = {IO_BACKEND_URING, IO_BACKEND_SYNC};
#define LT_BACKEND_COUNT 2

static inline struct io_loop *lt_loop(int i)
{
	struct io_loop_opts o = {.backend = lt_backends[i], .queue_depth = 256};
	struct io_loop *loop = NULL;
	char err[256];
	ck_assert_msg(io_loop_create(&o, &loop, err, sizeof(err)) == SL_OK, "%s", err);
	return loop;
}

static inline void lt_tmpdir(char *out, size_t len)
{
	snprintf(out, len, "/tmp/sl_log_test_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(out));
}

static inline void lt_rmtree(const char *dir)
{
	char cmd[600];
	ck_assert(strncmp(dir, "/tmp/sl_log_test_", 17) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A batch of `records` records with timestamps ts, values of value_len bytes of `fill`. */
static inline void lt_batch(struct sl_buf *out, int records, int64_t ts, int value_len,
                            uint8_t fill)
{
	static uint8_t val[8192];
	ck_assert_int_le(value_len, (int)sizeof(val));
	memset(val, fill, (size_t)value_len);
	struct stor_record_in recs[64];
	ck_assert_int_le(records, 64);
	for (int i = 0; i < records; i++)
		recs[i] = (struct stor_record_in){.value = val, .value_len = value_len};
	struct stor_batch_params p;
	stor_batch_params_init(&p, ts);
	sl_buf_reset(out);
	ck_assert_int_eq(stor_batch_build(out, &p, recs, (size_t)records), SL_OK);
}

static inline void lt_run_until(struct io_loop *loop, const int *flag, int want)
{
	int64_t deadline = sl_mono_ms() + 20000;
	while (*flag < want) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out waiting for the io loop");
		(void)io_loop_run_once(loop, 50);
	}
}

static inline void lt_run_idle(struct io_loop *loop)
{
	int64_t deadline = sl_mono_ms() + 20000;
	while (io_loop_pending(loop) > 0) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out draining the io loop");
		(void)io_loop_run_once(loop, 50);
	}
}

struct lt_done {
	int calls;
	enum sl_err err;
};

static inline void lt_append_done(struct stor_append *a, void *ctx)
{
	struct lt_done *d = ctx;
	d->calls++;
	d->err = a->err;
}

static inline void lt_durable_done(struct stor_durable_wait *w, void *ctx)
{
	struct lt_done *d = ctx;
	d->calls++;
	d->err = w->err;
}

/* Appends and runs the loop until written. Returns the callback's error. */
static inline enum sl_err lt_append(struct io_loop *loop, struct stor_log *log, struct sl_buf *b,
                                    int32_t epoch, int64_t now_ms, int64_t *base, int64_t *last)
{
	struct stor_append a = {0};
	struct lt_done d = {0};
	enum sl_err e =
	        stor_log_append(log, &a, b->data, b->len, epoch, now_ms, lt_append_done, &d);
	if (e != SL_OK)
		return e;
	lt_run_until(loop, &d.calls, 1);
	if (base != NULL)
		*base = a.base_offset;
	if (last != NULL)
		*last = a.last_offset;
	stor_log_check_invariants(log);
	return d.err;
}

static inline enum sl_err lt_durable(struct io_loop *loop, struct stor_log *log, int64_t offset)
{
	struct stor_durable_wait w;
	struct lt_done d = {0};
	enum sl_err e = stor_log_wait_durable(log, &w, offset, lt_durable_done, &d);
	if (e != SL_EAGAIN)
		return e;
	lt_run_until(loop, &d.calls, 1);
	return d.err;
}

/* Reads a file range into a malloc'd buffer. */
static inline uint8_t *lt_pread_range(const struct stor_file_range *r)
{
	uint8_t *p = malloc(r->len + 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pread(r->fd, p, r->len, (off_t)r->position), (ssize_t)r->len);
	return p;
}

static inline bool lt_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static inline void lt_manager(struct io_loop *loop, const char *const *dirs, size_t n,
                              const struct stor_log_config *defaults, struct stor_log_manager **out,
                              struct stor_startup_report *rep)
{
	struct stor_log_manager_opts o;
	stor_log_manager_opts_init(&o);
	o.log_dirs = dirs;
	o.log_dir_count = n;
	o.start_timer = false;
	if (defaults != NULL)
		o.defaults = *defaults;
	char err[512] = "";
	enum sl_err e = stor_log_manager_open(loop, &o, out, rep, err, sizeof(err));
	ck_assert_msg(e == SL_OK, "manager open: %s %s", sl_err_name(e), err);
}

#endif
