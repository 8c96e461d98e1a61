/*
 * test_log_model.c: model-based test of the partition log on both io backends. Each seed runs
 * random appends (one at a time and several in flight), rolls by size and by time, truncations,
 * DeleteRecords + retention, flushes and clean / unclean reopens against an in-memory model
 * (the list of stamped batches, the log start and end offsets), and after every step checks
 * the log's offsets and that chained reads from the log start return exactly the model's
 * bytes. 200 seeds per backend by default; SLUICE_TEST_SEED=<n> replays one seed; the seed
 * is printed on failure.
 */
#include "log_test_util.h"

#define SEEDS 200
#define OPS 70
#define MAX_BATCHES 2048
#define INFLIGHT 6

struct mbatch {
	int64_t base;
	int64_t last;
	uint8_t *bytes;
	size_t len;
};

struct model {
	struct mbatch b[MAX_BATCHES];
	size_t n;
	int64_t lso;
	int64_t end;
};

static uint64_t g_rng;
static uint64_t g_seed;

static uint32_t rnd(uint32_t n)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return n == 0 ? 0 : (uint32_t)(g_rng % n);
}

#define MCHECK(c, ...)                                                        \
	ck_assert_msg((c), "seed %llu (SLUICE_TEST_SEED=%llu to replay): %s", \
	              (unsigned long long)g_seed, (unsigned long long)g_seed, #c)

struct world {
	struct io_loop *loop;
	char dir[128];
	struct stor_log_manager *m;
	struct stor_log *log;
	struct stor_log_config cfg;
	struct model md;
	struct sl_buf bufs[INFLIGHT];
	struct stor_append ap[INFLIGHT];
	int order[INFLIGHT];
	int done_count;
	int64_t now;
};

static void model_push(struct model *md, const uint8_t *p, size_t len, int64_t base, int64_t last)
{
	MCHECK(md->n < MAX_BATCHES);
	MCHECK(base == md->end);
	struct mbatch *b = &md->b[md->n++];
	b->base = base;
	b->last = last;
	b->len = len;
	b->bytes = malloc(len);
	memcpy(b->bytes, p, len);
	md->end = last + 1;
}

static void model_drop_front(struct model *md, int64_t lso)
{
	size_t k = 0;
	while (k < md->n && md->b[k].last < lso)
		free(md->b[k++].bytes);
	memmove(md->b, md->b + k, (md->n - k) * sizeof(md->b[0]));
	md->n -= k;
	md->lso = lso;
}

static void model_clear(struct model *md)
{
	for (size_t i = 0; i < md->n; i++)
		free(md->b[i].bytes);
	md->n = 0;
}

static void world_reopen(struct world *w, bool clean)
{
	char err[256] = "";
	if (clean) {
		enum sl_err e = stor_log_manager_close(w->m, true, err, sizeof(err));
		MCHECK(e == SL_OK);
	} else {
		MCHECK(stor_log_manager_write_checkpoints(w->m, err, sizeof(err)) == SL_OK);
		(void)stor_log_manager_close(w->m, false, NULL, 0);
	}
	const char *dirs[] = {w->dir};
	struct stor_startup_report rep;
	lt_manager(w->loop, dirs, 1, &w->cfg, &w->m, &rep);
	MCHECK(rep.clean_shutdown == clean);
	MCHECK(rep.partitions == 1);
	w->log = stor_log_manager_get(w->m, "model.t-x", 0);
	MCHECK(w->log != NULL);
}

/* Compares the whole log with the model through chained reads. */
static void verify(struct world *w)
{
	struct stor_log_state st;
	stor_log_get_state(w->log, &st);
	stor_log_check_invariants(w->log);
	MCHECK(st.end_offset == w->md.end);
	MCHECK(st.written_offset == w->md.end);
	MCHECK(st.log_start_offset == w->md.lso);
	int64_t off = w->md.lso;
	size_t k = 0;
	while (off < w->md.end) {
		struct stor_read_result r;
		uint64_t max = 1 + rnd(3000);
		MCHECK(stor_log_read(w->log, off, max, -1, &r) == SL_OK);
		MCHECK(r.range.len > 0);
		uint8_t *p = lt_pread_range(&r.range);
		size_t at = 0;
		int nb = 0;
		while (at < r.range.len) {
			MCHECK(k < w->md.n);
			const struct mbatch *b = &w->md.b[k++];
			MCHECK(at + b->len <= r.range.len);
			MCHECK(memcmp(p + at, b->bytes, b->len) == 0);
			at += b->len;
			nb++;
			off = b->last + 1;
		}
		MCHECK(nb == 1 || r.range.len <= max);
		MCHECK(r.next_offset == off);
		free(p);
	}
	MCHECK(k == w->md.n);
	struct stor_read_result r;
	MCHECK(stor_log_read(w->log, w->md.end + 1, 100, -1, &r) == SL_ENOENT);
	if (w->md.lso > 0)
		MCHECK(stor_log_read(w->log, w->md.lso - 1, 100, -1, &r) == SL_ENOENT);
}

static void build(struct world *w, int slot)
{
	lt_batch(&w->bufs[slot], 1 + (int)rnd(5), (int64_t)rnd(1000000), (int)rnd(200),
	         (uint8_t)rnd(256));
}

static void op_append(struct world *w, int64_t now)
{
	build(w, 0);
	int64_t base, last;
	MCHECK(lt_append(w->loop, w->log, &w->bufs[0], 0, now, &base, &last) == SL_OK);
	model_push(&w->md, w->bufs[0].data, w->bufs[0].len, base, last);
}

static void concurrent_done(struct stor_append *a, void *ctx)
{
	struct world *w = ctx;
	MCHECK(a->err == SL_OK);
	w->order[w->done_count++] = (int)(a - w->ap);
}

static void op_append_many(struct world *w)
{
	int n = 2 + (int)rnd(INFLIGHT - 1);
	w->done_count = 0;
	for (int i = 0; i < n; i++) {
		build(w, i);
		memset(&w->ap[i], 0, sizeof(w->ap[i]));
		MCHECK(stor_log_append(w->log, &w->ap[i], w->bufs[i].data, w->bufs[i].len, 0,
		                       w->now, concurrent_done, w) == SL_OK);
	}
	lt_run_until(w->loop, &w->done_count, n);
	for (int i = 0; i < n; i++) {
		MCHECK(w->order[i] == i); /* callbacks in offset order */
		model_push(&w->md, w->bufs[i].data, w->bufs[i].len, w->ap[i].base_offset,
		           w->ap[i].last_offset);
	}
}

static void op_truncate(struct world *w)
{
	int64_t span = w->md.end + 3;
	int64_t off = (int64_t)rnd((uint32_t)span);
	MCHECK(stor_log_truncate(w->log, off) == SL_OK);
	if (off >= w->md.end)
		return;
	if (off < w->md.lso) {
		model_clear(&w->md);
		w->md.lso = w->md.end = off;
		return;
	}
	size_t k = 0;
	while (k < w->md.n && w->md.b[k].last < off)
		k++;
	MCHECK(k < w->md.n);
	int64_t cut = w->md.b[k].base;
	if (cut < w->md.lso) {
		model_clear(&w->md);
		w->md.lso = w->md.end = off;
		return;
	}
	for (size_t i = k; i < w->md.n; i++)
		free(w->md.b[i].bytes);
	w->md.n = k;
	w->md.end = cut;
}

static void op_retention(struct world *w)
{
	if (rnd(2) == 0) {
		int64_t to = w->md.lso + (int64_t)rnd((uint32_t)(w->md.end - w->md.lso + 1));
		MCHECK(stor_log_advance_start_offset(w->log, to) == SL_OK);
		model_drop_front(&w->md, to);
	}
	if (rnd(2) == 0)
		MCHECK(lt_durable(w->loop, w->log, w->md.end) == SL_OK);
	w->log->cfg.retention_bytes = rnd(2) ? -1 : (int64_t)rnd(4000);
	w->log->cfg.retention_ms = rnd(2) ? 7ll * 86400000 : (int64_t)rnd(1000000);
	struct stor_log_state st;
	stor_log_get_state(w->log, &st);
	uint32_t del;
	MCHECK(stor_log_apply_retention(w->log, 1000000, -1, &del) == SL_OK);
	struct stor_log_state after;
	stor_log_get_state(w->log, &after);
	MCHECK(after.log_start_offset >= w->md.lso);
	MCHECK(after.log_start_offset <= SL_MAX(w->md.lso, st.durable_offset));
	MCHECK(del == 0 || after.log_start_offset > w->md.lso ||
	       after.segment_count < st.segment_count);
	if (after.log_start_offset > w->md.lso) {
		/* Whole segments go: the new start is a batch boundary of the model. */
		bool boundary = false;
		for (size_t i = 0; i < w->md.n; i++)
			boundary = boundary || w->md.b[i].base == after.log_start_offset;
		MCHECK(boundary || after.log_start_offset == w->md.end);
	}
	model_drop_front(&w->md, after.log_start_offset);
	w->log->cfg.retention_bytes = -1;
	w->log->cfg.retention_ms = 7ll * 86400000;
}

static void run_seed(int backend, uint64_t seed)
{
	g_seed = seed;
	g_rng = seed * 0x9E3779B97F4A7C15ull + 1;
	struct world *w = calloc(1, sizeof(*w));
	w->loop = lt_loop(backend);
	lt_tmpdir(w->dir, sizeof(w->dir));
	stor_log_config_init(&w->cfg);
	w->cfg.segment_bytes = 300 + rnd(3000);
	w->cfg.index_interval_bytes = 1 + rnd(600);
	w->cfg.file_delete_delay_ms = 0;
	for (int i = 0; i < INFLIGHT; i++)
		sl_buf_init(&w->bufs[i], 1 << 16);
	const char *dirs[] = {w->dir};
	lt_manager(w->loop, dirs, 1, &w->cfg, &w->m, NULL);
	char err[256];
	MCHECK(stor_log_manager_create(w->m, "model.t-x", 0, NULL, &w->log, err, sizeof(err)) ==
	       SL_OK);
	w->now = 1000;
	for (int op = 0; op < OPS; op++) {
		uint32_t r = rnd(100);
		if (r < 50) {
			op_append(w, w->now);
		} else if (r < 62) {
			op_append_many(w);
		} else if (r < 70) {
			op_truncate(w);
		} else if (r < 78) {
			op_retention(w);
		} else if (r < 84) {
			MCHECK(lt_durable(w->loop, w->log, w->md.end) == SL_OK);
		} else if (r < 89) {
			struct log_seg *act = stor_log_active(w->log);
			int64_t t = act->s.first_append_ms >= 0 ? act->s.first_append_ms : w->now;
			w->now = t + w->cfg.segment_ms;
			op_append(w, w->now);
		} else if (r < 94) {
			world_reopen(w, true);
		} else {
			world_reopen(w, false);
		}
		verify(w);
	}
	(void)stor_log_manager_close(w->m, false, NULL, 0);
	io_loop_destroy(w->loop);
	for (int i = 0; i < INFLIGHT; i++)
		sl_buf_free(&w->bufs[i]);
	model_clear(&w->md);
	lt_rmtree(w->dir);
	free(w);
}

START_TEST(t_model)
{
	const char *env = getenv("SLUICE_TEST_SEED");
	sl_log_set_level(SL_LOG_ERROR);
	if (env != NULL) {
		run_seed(_i, strtoull(env, NULL, 10));
		return;
	}
	for (uint64_t seed = 1; seed <= SEEDS; seed++)
		run_seed(_i, seed);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("log_model");
	TCase *tc = tcase_create("model");
	tcase_set_timeout(tc, 280);
	tcase_add_loop_test(tc, t_model, 0, LT_BACKEND_COUNT);
	suite_add_tcase(s, tc);
	return s;
}
