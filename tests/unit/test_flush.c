/*
 * test_flush.c: the group-commit flush scheduler on both io backends: many appends over
 * several partitions share few fdatasync rounds, waiters are released in order and only once
 * their offset is durable, flush.messages / flush.ms keep Kafka's meaning for data nobody
 * waits for, a roll makes the next round cover the old segment too, and a failed fdatasync
 * takes the log offline (never retried).
 */
#include "log_test_util.h"

#define PARTS 4
#define PER_PART 150

struct req {
	struct stor_append a;
	struct stor_durable_wait w;
	struct sl_buf b;
	struct stor_log *log;
	int appended;
	int durable;
	enum sl_err err;
	int64_t durable_seen; /* the log's durable offset when the waiter ran */
};

static int g_durable_calls;

static void req_durable(struct stor_durable_wait *w, void *ctx)
{
	struct req *r = ctx;
	r->durable++;
	r->err = w->err;
	struct stor_log_state st;
	stor_log_get_state(r->log, &st);
	r->durable_seen = st.durable_offset;
	g_durable_calls++;
}

/* acks=all: once written, wait for durability. */
static void req_appended(struct stor_append *a, void *ctx)
{
	struct req *r = ctx;
	r->appended++;
	ck_assert_int_eq(a->err, SL_OK);
	enum sl_err e = stor_log_wait_durable(r->log, &r->w, a->last_offset + 1, req_durable, r);
	if (e == SL_OK) { /* already durable */
		r->w.err = SL_OK;
		req_durable(&r->w, r);
	} else
		ck_assert_int_eq(e, SL_EAGAIN);
}

static void open_mgr(int i, struct io_loop **loop, char *dir, size_t dlen,
                     struct stor_log_manager **m, const struct stor_log_config *cfg)
{
	*loop = lt_loop(i);
	lt_tmpdir(dir, dlen);
	const char *dirs[] = {dir};
	lt_manager(*loop, dirs, 1, cfg, m, NULL);
}

START_TEST(t_group_commit)
{
	struct io_loop *loop;
	char dir[128];
	struct stor_log_manager *m;
	open_mgr(_i, &loop, dir, sizeof(dir), &m, NULL);
	struct stor_log *logs[PARTS];
	char err[256];
	for (int p = 0; p < PARTS; p++)
		ck_assert_int_eq(
		        stor_log_manager_create(m, "gc", p, NULL, &logs[p], err, sizeof(err)),
		        SL_OK);
	static struct req reqs[PARTS * PER_PART];
	memset(reqs, 0, sizeof(reqs));
	g_durable_calls = 0;
	/* Submit in waves while the loop runs, so appends overlap rounds in flight. */
	for (int k = 0; k < PARTS * PER_PART; k++) {
		struct req *r = &reqs[k];
		r->log = logs[k % PARTS];
		sl_buf_init(&r->b, 1 << 16);
		lt_batch(&r->b, 1 + k % 3, 1000, 200, (uint8_t)k);
		ck_assert_int_eq(stor_log_append(r->log, &r->a, r->b.data, r->b.len, 1, 1000,
		                                 req_appended, r),
		                 SL_OK);
		if (k % 37 == 0)
			(void)io_loop_run_once(loop, 0);
	}
	lt_run_until(loop, &g_durable_calls, PARTS * PER_PART);
	for (int k = 0; k < PARTS * PER_PART; k++) {
		ck_assert_int_eq(reqs[k].appended, 1);
		ck_assert_int_eq(reqs[k].durable, 1);
		ck_assert_int_eq(reqs[k].err, SL_OK);
		ck_assert_int_ge(reqs[k].durable_seen, reqs[k].a.last_offset + 1);
		sl_buf_free(&reqs[k].b);
	}
	uint64_t rounds = 0;
	for (int p = 0; p < PARTS; p++) {
		struct stor_log_state st;
		stor_log_get_state(logs[p], &st);
		ck_assert_int_eq(st.durable_offset, st.end_offset);
		struct log_seg *act = stor_log_active(logs[p]);
		ck_assert_uint_eq(act->durable_bytes, act->s.size_bytes);
		rounds += stor_log_flush_rounds(logs[p]);
		stor_log_check_invariants(logs[p]);
	}
	/* Group commit: far fewer fdatasync rounds than acks=all appends. */
	ck_assert_uint_ge(rounds, PARTS);
	ck_assert_msg(rounds * 3 <= PARTS * PER_PART, "rounds %llu", (unsigned long long)rounds);
	ck_assert_int_eq(stor_log_manager_close(m, true, err, sizeof(err)), SL_OK);
	io_loop_destroy(loop);
	lt_rmtree(dir);
}
END_TEST

START_TEST(t_policy)
{
	struct io_loop *loop;
	char dir[128], err[256];
	struct stor_log_manager *m;
	open_mgr(_i, &loop, dir, sizeof(dir), &m, NULL);
	struct stor_log *def, *msgs, *ms;
	ck_assert_int_eq(stor_log_manager_create(m, "def", 0, NULL, &def, err, sizeof(err)), SL_OK);
	struct sl_props p = {0};
	ck_assert_int_eq(sl_props_set(&p, "flush.messages", "10"), SL_OK);
	ck_assert_int_eq(stor_log_manager_set_topic_config(m, "msgs", &p, err, sizeof(err)), SL_OK);
	sl_props_free(&p);
	struct sl_props q = {0};
	ck_assert_int_eq(sl_props_set(&q, "flush.ms", "1000"), SL_OK);
	ck_assert_int_eq(stor_log_manager_set_topic_config(m, "ms", &q, err, sizeof(err)), SL_OK);
	sl_props_free(&q);
	ck_assert_int_eq(stor_log_manager_create(m, "msgs", 0, NULL, &msgs, err, sizeof(err)),
	                 SL_OK);
	ck_assert_int_eq(stor_log_manager_create(m, "ms", 0, NULL, &ms, err, sizeof(err)), SL_OK);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	for (int k = 0; k < 4; k++) {
		lt_batch(&b, 3, 1, 10, 1);
		ck_assert_int_eq(lt_append(loop, def, &b, 0, 1, NULL, NULL), SL_OK);
		lt_batch(&b, 3, 1, 10, 1);
		ck_assert_int_eq(lt_append(loop, msgs, &b, 0, 1, NULL, NULL), SL_OK);
		lt_batch(&b, 3, 1, 10, 1);
		ck_assert_int_eq(lt_append(loop, ms, &b, 0, 1, NULL, NULL), SL_OK);
	}
	lt_run_idle(loop);
	struct stor_log_state st;
	/* Kafka's default: nothing is flushed by policy. */
	stor_log_get_state(def, &st);
	ck_assert_int_eq(st.durable_offset, 0);
	ck_assert_uint_eq(stor_log_flush_rounds(def), 0);
	/* flush.messages=10: a round ran after the 4th batch (12 messages). */
	stor_log_get_state(msgs, &st);
	ck_assert_int_eq(st.durable_offset, 12);
	/* flush.ms: nothing until the scheduler tick finds the interval passed. */
	stor_log_get_state(ms, &st);
	ck_assert_int_eq(st.durable_offset, 0);
	stor_log_manager_tick(m, ms->last_flush_ms + 500);
	lt_run_idle(loop);
	stor_log_get_state(ms, &st);
	ck_assert_int_eq(st.durable_offset, 0);
	stor_log_manager_tick(m, ms->last_flush_ms + 1000);
	lt_run_idle(loop);
	stor_log_get_state(ms, &st);
	ck_assert_int_eq(st.durable_offset, 12);
	stor_log_get_state(def, &st);
	ck_assert_int_eq(st.durable_offset, 0);
	/* An explicit flush. */
	stor_log_flush(def);
	lt_run_idle(loop);
	stor_log_get_state(def, &st);
	ck_assert_int_eq(st.durable_offset, 12);
	sl_buf_free(&b);
	ck_assert_int_eq(stor_log_manager_close(m, true, err, sizeof(err)), SL_OK);
	io_loop_destroy(loop);
	lt_rmtree(dir);
}
END_TEST

START_TEST(t_roll_flushes_old_segment)
{
	struct stor_log_config cfg;
	stor_log_config_init(&cfg);
	cfg.segment_bytes = 600;
	struct io_loop *loop;
	char dir[128], err[256];
	struct stor_log_manager *m;
	open_mgr(_i, &loop, dir, sizeof(dir), &m, &cfg);
	struct stor_log *log;
	ck_assert_int_eq(stor_log_manager_create(m, "r", 0, NULL, &log, err, sizeof(err)), SL_OK);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	for (int k = 0; k < 12; k++) {
		lt_batch(&b, 1, 1, 100, 1);
		ck_assert_int_eq(lt_append(loop, log, &b, 0, 1, NULL, NULL), SL_OK);
	}
	ck_assert_uint_ge(log->seg_count, 3);
	for (size_t s = 0; s < log->seg_count; s++)
		ck_assert_uint_eq(log->segs[s]->durable_bytes, 0);
	ck_assert_int_eq(lt_durable(loop, log, 12), SL_OK);
	for (size_t s = 0; s < log->seg_count; s++)
		ck_assert_uint_eq(log->segs[s]->durable_bytes, log->segs[s]->s.size_bytes);
	ck_assert_uint_eq(stor_log_flush_rounds(log), 1);
	/* Already durable: no callback, SL_OK. */
	struct stor_durable_wait w;
	struct lt_done d = {0};
	ck_assert_int_eq(stor_log_wait_durable(log, &w, 12, lt_durable_done, &d), SL_OK);
	ck_assert_int_eq(d.calls, 0);
	sl_buf_free(&b);
	ck_assert_int_eq(stor_log_manager_close(m, true, err, sizeof(err)), SL_OK);
	io_loop_destroy(loop);
	lt_rmtree(dir);
}
END_TEST

START_TEST(t_fsync_failure)
{
	struct io_loop *loop;
	char dir[128], err[256];
	struct stor_log_manager *m;
	open_mgr(_i, &loop, dir, sizeof(dir), &m, NULL);
	struct stor_log *log;
	ck_assert_int_eq(stor_log_manager_create(m, "f", 0, NULL, &log, err, sizeof(err)), SL_OK);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	lt_batch(&b, 2, 1, 10, 1);
	ck_assert_int_eq(lt_append(loop, log, &b, 0, 1, NULL, NULL), SL_OK);
	/* Replace the segment fd by a pipe: writes would still work on a pipe but fdatasync fails
	 * with EINVAL, a real failed fsync. */
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	struct log_seg *act = stor_log_active(log);
	int saved = dup(act->s.log_fd);
	ck_assert_int_ge(dup2(pfd[1], act->s.log_fd), 0);
	struct stor_durable_wait w1, w2;
	struct lt_done d1 = {0}, d2 = {0};
	ck_assert_int_eq(stor_log_wait_durable(log, &w1, 1, lt_durable_done, &d1), SL_EAGAIN);
	ck_assert_int_eq(stor_log_wait_durable(log, &w2, 5, lt_durable_done, &d2), SL_EAGAIN);
	lt_run_until(loop, &d1.calls, 1);
	lt_run_until(loop, &d2.calls, 1);
	ck_assert_int_eq(d1.err, SL_EIO);
	ck_assert_int_eq(d2.err, SL_EIO);
	ck_assert(stor_log_offline(log));
	struct stor_log_state st;
	stor_log_get_state(log, &st);
	ck_assert_int_eq(st.durable_offset, 0);
	ck_assert_uint_eq(stor_log_flush_rounds(log), 0);
	struct stor_append a = {0};
	struct lt_done da = {0};
	ck_assert_int_eq(stor_log_append(log, &a, b.data, b.len, 0, 0, lt_append_done, &da),
	                 SL_EIO);
	ck_assert_int_eq(stor_log_wait_durable(log, &w1, 1, lt_durable_done, &d1), SL_EIO);
	ck_assert_int_eq(dup2(saved, act->s.log_fd), act->s.log_fd);
	close(saved);
	close(pfd[0]);
	close(pfd[1]);
	sl_buf_free(&b);
	ck_assert_int_eq(stor_log_manager_close(m, true, err, sizeof(err)), SL_EIO);
	io_loop_destroy(loop);
	lt_rmtree(dir);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("flush");
	TCase *tc = tcase_create("flush");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, t_group_commit, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_policy, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_roll_flushes_old_segment, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_fsync_failure, 0, LT_BACKEND_COUNT);
	suite_add_tcase(s, tc);
	return s;
}
