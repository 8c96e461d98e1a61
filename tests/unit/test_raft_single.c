/*
 * test_raft_single.c: the metadata quorum with a single voter (raft/quorum_*.c over the core)
 * in a real temp dir: it elects itself at open (a LeaderChange control record at the epoch
 * start, so the first data record sits at offset 1), bootstrap records from the first leader,
 * proposals in order with apply before done, replay on reopen (a new epoch and LeaderChange
 * each time), a torn tail, quorum-state, limits, and the offline path.
 */
#include "check_main.h"
#include "io.h"
#include "log_int.h"
#include "raft.h"
#include "raft_int.h"
#include "storage.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SEEN 512

/* Everything apply saw: one entry per record. */
struct seen {
	size_t count;
	size_t total; /* records applied, also past MAX_SEEN */
	int64_t offset[MAX_SEEN];
	char value[MAX_SEEN][32];
	int apply_calls;
	bool fail_next; /* make the next apply fail */
};

static enum sl_err rec_apply(void *ctx, int64_t base, const struct wire_bytes *values, size_t n,
                             char *err, size_t err_len)
{
	struct seen *s = ctx;
	if (s->fail_next) {
		s->fail_next = false;
		snprintf(err, err_len, "test rejects the batch at %lld", (long long)base);
		return SL_ECORRUPT;
	}
	s->apply_calls++;
	s->total += n;
	if (s->count + n > MAX_SEEN || values[0].len >= 32)
		return SL_OK; /* the limit tests: only counted */
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_lt(values[i].len, 32);
		s->offset[s->count] = base + (int64_t)i;
		memcpy(s->value[s->count], values[i].ptr, (size_t)values[i].len);
		s->value[s->count][values[i].len] = '\0';
		s->count++;
	}
	return SL_OK;
}

struct fixture {
	char dir[64];
	struct io_loop *loop;
	struct raft *r;
	struct seen seen;
};

static void tmpdir(char *out, size_t len)
{
	snprintf(out, len, "/tmp/sl_raft_test_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(out));
}

static void rmtree(const char *dir)
{
	char cmd[128];
	ck_assert(strncmp(dir, "/tmp/sl_raft_test_", 18) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* bootstrap.checkpoint: a SnapshotHeader-like control batch, then one data batch of n values
 * "boot<i>", then a footer control batch. */
static void write_bootstrap(const char *dir, int n)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	struct stor_batch_params p;
	stor_batch_params_init(&p, 1000);
	enum stor_control_type t = STOR_CONTROL_SNAPSHOT_HEADER;
	static const uint8_t hv[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	const uint8_t *vals[1] = {hv};
	size_t lens[1] = {sizeof(hv)};
	ck_assert_int_eq(stor_batch_build_control(&b, &p, &t, vals, lens, 1), SL_OK);
	char text[16][16];
	struct stor_record_in recs[16];
	ck_assert_int_le(n, 16);
	for (int i = 0; i < n; i++) {
		int len = snprintf(text[i], sizeof(text[i]), "boot%d", i);
		recs[i] = (struct stor_record_in){.value = (const uint8_t *)text[i],
		                                  .value_len = len};
	}
	p.base_offset = 1;
	ck_assert_int_eq(stor_batch_build(&b, &p, recs, (size_t)n), SL_OK);
	p.base_offset = 1 + n;
	t = STOR_CONTROL_SNAPSHOT_FOOTER;
	ck_assert_int_eq(stor_batch_build_control(&b, &p, &t, vals, lens, 1), SL_OK);
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, STOR_BOOTSTRAP_CHECKPOINT_NAME);
	char err[256];
	ck_assert_msg(stor_checkpoint_write(path, b.data, b.len, err, sizeof(err)) == SL_OK, "%s",
	              err);
	sl_buf_free(&b);
}

static enum sl_err fx_open(struct fixture *f)
{
	memset(&f->seen, 0, sizeof(f->seen));
	struct raft_opts o = {
	        .loop = f->loop,
	        .metadata_dir = f->dir,
	        .node_id = 3,
	        .apply = rec_apply,
	        .apply_ctx = &f->seen,
	};
	char err[512] = "";
	enum sl_err e = raft_open(&o, &f->r, err, sizeof(err));
	if (e != SL_OK)
		ck_assert_msg(err[0] != '\0', "raft_open failed without a message");
	return e;
}

static void fx_init(struct fixture *f, enum io_backend backend, int boot_records)
{
	memset(f, 0, sizeof(*f));
	tmpdir(f->dir, sizeof(f->dir));
	struct io_loop_opts lo = {.backend = backend, .queue_depth = 64};
	char err[256];
	ck_assert_msg(io_loop_create(&lo, &f->loop, err, sizeof(err)) == SL_OK, "%s", err);
	if (boot_records > 0)
		write_bootstrap(f->dir, boot_records);
}

static void fx_fini(struct fixture *f)
{
	raft_close(f->r);
	f->r = NULL;
	io_loop_destroy(f->loop);
	rmtree(f->dir);
}

/* ---- proposals ---- */

struct prop_result {
	int calls;
	enum sl_err err;
	int64_t last_offset;
	size_t seen_at_done; /* records apply had seen when done ran */
	struct seen *seen;
	int order;    /* global completion index */
	int *counter; /* shared completion counter */
};

static void prop_done(void *ctx, enum sl_err err, int64_t last_offset)
{
	struct prop_result *p = ctx;
	p->calls++;
	p->err = err;
	p->last_offset = last_offset;
	p->seen_at_done = p->seen != NULL ? p->seen->count : 0;
	p->order = (*p->counter)++;
}

static void run_until(struct io_loop *loop, const int *counter, int want)
{
	int64_t deadline = sl_mono_ms() + 20000;
	while (*counter < want) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out");
		(void)io_loop_run_once(loop, 50);
	}
}

/* Proposes batch i with i % 3 + 1 values "p<i>.<j>". */
static void propose_one(struct fixture *f, int i, struct prop_result *res, int *counter)
{
	char text[3][16];
	struct wire_bytes v[3];
	int n = i % 3 + 1;
	for (int j = 0; j < n; j++) {
		int len = snprintf(text[j], sizeof(text[j]), "p%d.%d", i, j);
		v[j] = (struct wire_bytes){(const uint8_t *)text[j], len};
	}
	*res = (struct prop_result){.seen = &f->seen, .counter = counter, .order = -1};
	ck_assert_int_eq(raft_propose(f->r, v, (size_t)n, prop_done, res), SL_OK);
}

/* Records were applied in order, the bootstrap ones from offset 1 (0: the LeaderChange). */
static void check_sequence(const struct seen *s, int boot, int props)
{
	size_t k = 0;
	for (int i = 0; i < boot; i++, k++) {
		char want[16];
		snprintf(want, sizeof(want), "boot%d", i);
		ck_assert_int_eq(s->offset[k], (int64_t)k + 1);
		ck_assert_str_eq(s->value[k], want);
	}
	for (int i = 0; i < props; i++) {
		for (int j = 0; j < i % 3 + 1; j++, k++) {
			char want[16];
			snprintf(want, sizeof(want), "p%d.%d", i, j);
			ck_assert_int_eq(s->offset[k], (int64_t)k + 1);
			ck_assert_str_eq(s->value[k], want);
		}
	}
	ck_assert_uint_eq(s->count, k);
}

static int64_t records_of(int props)
{
	int64_t n = 0;
	for (int i = 0; i < props; i++)
		n += i % 3 + 1;
	return n;
}

START_TEST(test_bootstrap_propose_replay)
{
	static const enum io_backend backends[] = {IO_BACKEND_SYNC, IO_BACKEND_URING};
	struct fixture f;
	fx_init(&f, backends[_i], 3);
	ck_assert_int_eq(fx_open(&f), SL_OK);
	ck_assert_int_eq(f.seen.apply_calls, 1);
	check_sequence(&f.seen, 3, 0);
	ck_assert_int_eq(raft_end_offset(f.r), 4);
	ck_assert_int_eq(raft_epoch(f.r), 1);
	ck_assert_int_eq(raft_leader_id(f.r), 3);
	ck_assert(!raft_busy(f.r));

	enum { N = 40 };
	struct prop_result res[N];
	int counter = 0;
	for (int i = 0; i < N; i++)
		propose_one(&f, i, &res[i], &counter);
	ck_assert(raft_busy(f.r));
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(res[i].calls, 0); /* never before the loop runs */
	run_until(f.loop, &counter, N);
	int64_t last = 3;
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(res[i].calls, 1);
		ck_assert_int_eq(res[i].err, SL_OK);
		ck_assert_int_eq(res[i].order, i); /* strictly in order */
		ck_assert_int_eq(res[i].last_offset, last + i % 3 + 1);
		/* apply ran for this batch (and not for later ones) before done */
		ck_assert_int_eq((int64_t)res[i].seen_at_done,
		                 res[i].last_offset); /* - LeaderChange */
		last = res[i].last_offset;
	}
	check_sequence(&f.seen, 3, N);
	ck_assert_int_eq(raft_end_offset(f.r), 4 + records_of(N));
	raft_close(f.r);

	/* Reopen: no second bootstrap, the same records at the same offsets, a new epoch whose
	 * LeaderChange takes the next offset. */
	ck_assert_int_eq(fx_open(&f), SL_OK);
	check_sequence(&f.seen, 3, N);
	ck_assert_int_eq(f.seen.apply_calls, 1 + N);
	ck_assert_int_eq(raft_epoch(f.r), 2);
	ck_assert_int_eq(raft_end_offset(f.r), 5 + records_of(N));
	/* And new proposals continue after the end. */
	counter = 0;
	propose_one(&f, N, &res[0], &counter);
	run_until(f.loop, &counter, 1);
	ck_assert_int_eq(res[0].last_offset, 5 + records_of(N + 1) - 1);
	fx_fini(&f);
}
END_TEST

START_TEST(test_files_on_disk)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_AUTO, 2);
	ck_assert_int_eq(fx_open(&f), SL_OK);
	char path[512];
	snprintf(path, sizeof(path), "%s/__cluster_metadata-0/quorum-state", f.dir);
	FILE *fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	char text[256] = "";
	ck_assert_ptr_nonnull(fgets(text, sizeof(text), fp));
	fclose(fp);
	ck_assert_str_eq(text, "{\"clusterId\":\"\",\"leaderId\":3,\"leaderEpoch\":1,\"votedId\":3,"
	                       "\"appliedOffset\":0,\"currentVoters\":[{\"voterId\":3}],"
	                       "\"data_version\":0}");
	char pdir[256];
	snprintf(pdir, sizeof(pdir), "%s/__cluster_metadata-0", f.dir);
	struct sl_uuid id;
	char err[256];
	ck_assert_int_eq(stor_partition_metadata_read(pdir, &id, err, sizeof(err)), SL_OK);
	ck_assert(sl_uuid_eq(&id, &SL_UUID_METADATA));
	/* The first segment: the LeaderChange control batch at offset 0, then one uncompressed
	 * batch at offset 1, epoch 1, 2 records. */
	snprintf(path, sizeof(path), "%s/00000000000000000000.log", pdir);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	uint8_t buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	ck_assert_int_gt(n, STOR_BATCH_HEADER_BYTES);
	struct stor_batch_view v;
	size_t used;
	ck_assert_int_eq(stor_batch_parse(buf, (size_t)n, &v, &used), SL_OK);
	ck_assert_int_eq(v.h.base_offset, 0);
	ck_assert(stor_batch_is_control(&v));
	ck_assert_int_eq(v.h.record_count, 1);
	size_t first = used;
	ck_assert_int_eq(stor_batch_parse(buf + first, (size_t)n - first, &v, &used), SL_OK);
	ck_assert_uint_eq(first + used, (size_t)n);
	ck_assert_int_eq(v.h.base_offset, 1);
	ck_assert_int_eq(v.h.partition_leader_epoch, 1);
	ck_assert_int_eq(v.h.record_count, 2);
	ck_assert_int_eq(v.h.producer_id, -1);
	ck_assert(!stor_batch_is_control(&v));
	fx_fini(&f);
}
END_TEST

START_TEST(test_epoch_from_quorum_state)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_AUTO, 1);
	char path[256];
	snprintf(path, sizeof(path), "%s/__cluster_metadata-0", f.dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/__cluster_metadata-0/quorum-state", f.dir);
	const char *qs =
	        "{\"clusterId\":\"\",\"leaderId\":3,\"leaderEpoch\": 7,\"votedId\":-1,"
	        "\"appliedOffset\":0,\"currentVoters\":[{\"voterId\":3}],\"data_version\":0}";
	char err[256];
	ck_assert_int_eq(stor_file_write_atomic(path, qs, strlen(qs), err, sizeof(err)), SL_OK);
	ck_assert_int_eq(fx_open(&f), SL_OK);
	ck_assert_int_eq(raft_epoch(f.r), 8); /* a single voter elects itself in a new epoch */
	raft_close(f.r);
	f.r = NULL;
	/* A quorum-state without a usable epoch stops start-up. */
	const char *bad = "{\"leaderId\":3,\"leaderEpoch\":\"x\"}";
	ck_assert_int_eq(stor_file_write_atomic(path, bad, strlen(bad), err, sizeof(err)), SL_OK);
	ck_assert_int_eq(fx_open(&f), SL_ECORRUPT);
	ck_assert_ptr_null(f.r);
	fx_fini(&f);
}
END_TEST

START_TEST(test_missing_bootstrap)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_AUTO, 0);
	f.r = NULL;
	ck_assert_int_eq(fx_open(&f), SL_ENOENT);
	ck_assert_ptr_null(f.r);
	fx_fini(&f);
}
END_TEST

START_TEST(test_replay_error_stops_open)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_AUTO, 2);
	ck_assert_int_eq(fx_open(&f), SL_OK);
	raft_close(f.r);
	f.r = NULL;
	struct raft_opts o = {.loop = f.loop,
	                      .metadata_dir = f.dir,
	                      .node_id = 3,
	                      .apply = rec_apply,
	                      .apply_ctx = &f.seen};
	memset(&f.seen, 0, sizeof(f.seen));
	f.seen.fail_next = true;
	char err[512] = "";
	ck_assert_int_eq(raft_open(&o, &f.r, err, sizeof(err)), SL_ECORRUPT);
	ck_assert_ptr_null(f.r);
	ck_assert_ptr_nonnull(strstr(err, "test rejects the batch at 1"));
	fx_fini(&f);
}
END_TEST

/* Truncates the active segment to `keep` bytes (a torn tail after a crash). */
static off_t segment_size(const char *dir)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/__cluster_metadata-0/00000000000000000000.log", dir);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

static void segment_truncate(const char *dir, off_t keep)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/__cluster_metadata-0/00000000000000000000.log", dir);
	ck_assert_int_eq(truncate(path, keep), 0);
}

START_TEST(test_torn_tail)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_AUTO, 2);
	ck_assert_int_eq(fx_open(&f), SL_OK);
	struct prop_result res[6];
	int counter = 0;
	for (int i = 0; i < 5; i++)
		propose_one(&f, i, &res[i], &counter);
	run_until(f.loop, &counter, 5);
	off_t acked = segment_size(f.dir);
	/* A sixth batch, then half of it is torn off as if the crash came mid-write. */
	propose_one(&f, 5, &res[5], &counter);
	run_until(f.loop, &counter, 6);
	off_t full = segment_size(f.dir);
	ck_assert_int_gt(full, acked);
	raft_close(f.r);
	f.r = NULL;
	segment_truncate(f.dir, acked + (full - acked) / 2);

	ck_assert_int_eq(fx_open(&f), SL_OK);
	check_sequence(&f.seen, 2, 5); /* everything before the torn batch survives */
	/* + the LeaderChange records of epochs 1 and 2 */
	ck_assert_int_eq(raft_end_offset(f.r), 4 + records_of(5));
	/* The log continues where the complete prefix ends. */
	counter = 0;
	propose_one(&f, 5, &res[0], &counter);
	run_until(f.loop, &counter, 1);
	ck_assert_int_eq(res[0].err, SL_OK);
	ck_assert_int_eq(res[0].last_offset, 4 + records_of(6) - 1);
	int64_t last = res[0].last_offset;
	raft_close(f.r);
	ck_assert_int_eq(fx_open(&f), SL_OK);
	/* Replay: the records before the torn batch at their offsets, then the sixth batch after
	 * epoch 2's LeaderChange. */
	ck_assert_uint_eq(f.seen.count, (size_t)(2 + records_of(6)));
	ck_assert_int_eq(f.seen.offset[f.seen.count - 1], last);
	ck_assert_str_eq(f.seen.value[f.seen.count - 1], "p5.2");
	fx_fini(&f);
}
END_TEST

static void never_done(void *ctx, enum sl_err err, int64_t last_offset)
{
	(void)ctx;
	(void)err;
	(void)last_offset;
	ck_abort_msg("done must not run for a rejected proposal");
}

START_TEST(test_limits)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_AUTO, 1);
	ck_assert_int_eq(fx_open(&f), SL_OK);
	struct wire_bytes one = {(const uint8_t *)"x", 1};
	ck_assert_int_eq(raft_propose(f.r, &one, 0, never_done, NULL), SL_EINVAL);
	size_t many = RAFT_BATCH_RECORDS_MAX + 1;
	struct wire_bytes *vals = calloc(many, sizeof(*vals));
	ck_assert_ptr_nonnull(vals);
	for (size_t i = 0; i < many; i++)
		vals[i] = one;
	ck_assert_int_eq(raft_propose(f.r, vals, many, never_done, NULL), SL_EINVAL);
	/* Exactly the record limit is fine. */
	int counter = 0;
	struct prop_result res = {.counter = &counter};
	ck_assert_int_eq(raft_propose(f.r, vals, RAFT_BATCH_RECORDS_MAX, prop_done, &res), SL_OK);
	run_until(f.loop, &counter, 1);
	ck_assert_int_eq(res.last_offset, RAFT_BATCH_RECORDS_MAX + 1);
	free(vals);
	/* Over the byte limit. */
	size_t big_len = RAFT_BATCH_BYTES_MAX / 2;
	uint8_t *big = calloc(1, big_len);
	ck_assert_ptr_nonnull(big);
	struct wire_bytes two[2] = {{big, (int32_t)big_len}, {big, (int32_t)big_len}};
	ck_assert_int_eq(raft_propose(f.r, two, 2, never_done, NULL), SL_EINVAL);
	/* A null value is not a record value. */
	struct wire_bytes null_val = {NULL, -1};
	ck_assert_int_eq(raft_propose(f.r, &null_val, 1, never_done, NULL), SL_EINVAL);
	/* Half the limit is fine. */
	res = (struct prop_result){.counter = &counter};
	ck_assert_int_eq(raft_propose(f.r, two, 1, prop_done, &res), SL_OK);
	run_until(f.loop, &counter, 2);
	ck_assert_int_eq(res.err, SL_OK);
	free(big);
	ck_assert_uint_eq(f.seen.total, 1 + RAFT_BATCH_RECORDS_MAX + 1);
	fx_fini(&f);
}
END_TEST

/* A done callback that proposes the next batch (the controller does this). */
struct chain {
	struct raft *r;
	int remaining;
	int completed;
	int64_t last;
};

static void chain_done(void *ctx, enum sl_err err, int64_t last_offset)
{
	struct chain *c = ctx;
	ck_assert_int_eq(err, SL_OK);
	ck_assert_int_gt(last_offset, c->last);
	c->last = last_offset;
	c->completed++;
	if (c->remaining-- > 0) {
		struct wire_bytes v = {(const uint8_t *)"chain", 5};
		ck_assert_int_eq(raft_propose(c->r, &v, 1, chain_done, c), SL_OK);
	}
}

START_TEST(test_propose_from_done)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_AUTO, 1);
	ck_assert_int_eq(fx_open(&f), SL_OK);
	struct chain c = {.r = f.r, .remaining = 9, .last = 0};
	struct wire_bytes v = {(const uint8_t *)"chain", 5};
	ck_assert_int_eq(raft_propose(f.r, &v, 1, chain_done, &c), SL_OK);
	run_until(f.loop, &c.completed, 10);
	ck_assert_int_eq(c.last, 11);
	ck_assert_int_eq(f.seen.count, 11);
	fx_fini(&f);
}
END_TEST

START_TEST(test_offline_fails_pending)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_AUTO, 1);
	ck_assert_int_eq(fx_open(&f), SL_OK);
	struct prop_result res[3];
	int counter = 0;
	for (int i = 0; i < 3; i++)
		propose_one(&f, i, &res[i], &counter);
	stor_log_set_offline(f.r->log, SL_EIO, "test");
	run_until(f.loop, &counter, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(res[i].calls, 1);
		ck_assert_int_eq(res[i].err, SL_EIO);
		ck_assert_int_eq(res[i].order, i);
	}
	struct wire_bytes v = {(const uint8_t *)"x", 1};
	ck_assert_int_eq(raft_propose(f.r, &v, 1, never_done, NULL), SL_EIO);
	int64_t deadline = sl_mono_ms() + 10000;
	while (raft_busy(f.r)) {
		ck_assert(sl_mono_ms() < deadline);
		(void)io_loop_run_once(f.loop, 50);
	}
	ck_assert_int_eq(f.seen.count, 1); /* nothing of the failed proposals was applied */
	fx_fini(&f);
}
END_TEST

START_TEST(test_apply_failure_takes_log_offline)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_AUTO, 1);
	ck_assert_int_eq(fx_open(&f), SL_OK);
	struct prop_result res[2];
	int counter = 0;
	propose_one(&f, 0, &res[0], &counter);
	propose_one(&f, 1, &res[1], &counter);
	f.seen.fail_next = true;
	run_until(f.loop, &counter, 2);
	ck_assert_int_eq(res[0].err, SL_EIO);
	ck_assert_int_eq(res[1].err, SL_EIO);
	struct wire_bytes v = {(const uint8_t *)"x", 1};
	ck_assert_int_eq(raft_propose(f.r, &v, 1, never_done, NULL), SL_EIO);
	fx_fini(&f);
}
END_TEST

/* ---- snapshots ---- */

/* raft_image_records_fn over the recorder: every value seen so far (the "image"). */
static enum sl_err seen_records(void *ctx, struct sl_arena *arena, struct wire_bytes **values,
                                size_t *count)
{
	struct seen *s = ctx;
	struct wire_bytes *v = sl_arena_calloc(arena, s->count + 1, sizeof(*v));
	if (v == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < s->count; i++)
		v[i] = (struct wire_bytes){(const uint8_t *)s->value[i],
		                           (int32_t)strlen(s->value[i])};
	*values = v;
	*count = s->count;
	return SL_OK;
}

static enum sl_err fx_open_snap(struct fixture *f)
{
	memset(&f->seen, 0, sizeof(f->seen));
	struct raft_opts o = {
	        .loop = f->loop,
	        .metadata_dir = f->dir,
	        .node_id = 3,
	        .apply = rec_apply,
	        .apply_ctx = &f->seen,
	        .image_records = seen_records,
	        .snapshot_ctx = &f->seen,
	};
	char err[512] = "";
	return raft_open(&o, &f->r, err, sizeof(err));
}

static size_t snapshot_files(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls %s/__cluster_metadata-0/*.checkpoint 2>/dev/null | wc -l",
	         dir);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	unsigned n = 0;
	ck_assert_int_eq(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

/* A snapshot of the applied state, then more proposals: a reopen loads the snapshot and replays
 * only the tail, ending with the same state; retention keeps the newest two snapshots. */
START_TEST(test_snapshot_restart_and_retention)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_AUTO, 2);
	ck_assert_int_eq(fx_open_snap(&f), SL_OK);
	struct prop_result res[12];
	int counter = 0;
	for (int i = 0; i < 4; i++)
		propose_one(&f, i, &res[i], &counter);
	run_until(f.loop, &counter, 4);
	ck_assert_int_eq(raft_snapshot_end(f.r), -1);
	ck_assert_int_eq(raft_snapshot_now(f.r), SL_OK);
	int64_t snap1 = raft_snapshot_end(f.r);
	ck_assert_int_eq(snap1, raft_end_offset(f.r));
	for (int i = 4; i < 6; i++)
		propose_one(&f, i, &res[i], &counter);
	run_until(f.loop, &counter, 6);
	raft_close(f.r);
	f.r = NULL;

	/* Reopen: the snapshot gives the first 2 + records_of(4) values in one apply call (its
	 * data batch), the log tail the two later batches. */
	ck_assert_int_eq(fx_open_snap(&f), SL_OK);
	ck_assert_int_eq(raft_snapshot_end(f.r), snap1);
	ck_assert_uint_eq(f.seen.count, (size_t)(2 + records_of(6)));
	ck_assert_str_eq(f.seen.value[0], "boot0");
	ck_assert_str_eq(f.seen.value[f.seen.count - 1], "p5.2");
	ck_assert_int_eq(f.seen.apply_calls, 1 + 2);

	/* Two more snapshots: only the newest two files stay. */
	for (int k = 0; k < 2; k++) {
		propose_one(&f, 6 + k, &res[6 + k], &counter);
		run_until(f.loop, &counter, 7 + k);
		ck_assert_int_eq(raft_snapshot_now(f.r), SL_OK);
	}
	ck_assert_uint_eq(snapshot_files(f.dir), 2);
	ck_assert_int_gt(raft_snapshot_end(f.r), snap1);
	fx_fini(&f);
}
END_TEST

/* ---- DescribeQuorum v2 `nodes` ---- */

/* Asks f->r DescribeQuorum v2 for __cluster_metadata-0 and decodes the answer into *resp
 * (arrays in arena). */
static void describe_v2(struct fixture *f, struct sl_arena *arena, struct sl_buf *out,
                        struct wire_describe_quorum_response *resp)
{
	struct wire_describe_quorum_request_partition_data part;
	wire_describe_quorum_request_partition_data_init(&part);
	struct wire_describe_quorum_request_topic_data topic;
	wire_describe_quorum_request_topic_data_init(&topic);
	topic.topic_name = wire_str_c("__cluster_metadata");
	topic.partitions = &part;
	topic.partitions_count = 1;
	struct wire_describe_quorum_request req;
	wire_describe_quorum_request_init(&req);
	req.topics = &topic;
	req.topics_count = 1;
	struct sl_buf in;
	sl_buf_init(&in, 4096);
	wire_describe_quorum_request_encode(&in, 2, &req);
	struct wire_reader rd;
	wire_reader_init(&rd, in.data, in.len, arena);
	ck_assert_int_eq(raft_handle_rpc(f->r, 55, 2, &rd, out, NULL, NULL), SL_OK);
	sl_buf_free(&in);
	wire_reader_init(&rd, out->data, out->len, arena);
	ck_assert_int_eq(wire_describe_quorum_response_decode(&rd, 2, resp), SL_OK);
	ck_assert(wire_reader_done(&rd));
}

START_TEST(test_describe_quorum_nodes)
{
	struct fixture f;
	fx_init(&f, IO_BACKEND_SYNC, 1);
	struct raft_opts o = {.loop = f.loop,
	                      .metadata_dir = f.dir,
	                      .node_id = 3,
	                      .apply = rec_apply,
	                      .apply_ctx = &f.seen,
	                      .voter_count = 1,
	                      .listener_name = "CTRL"};
	o.voters[0] = (struct raft_voter){.id = 3, .host = "127.0.0.9", .port = 19093};
	char err[512] = "";
	ck_assert_msg(raft_open(&o, &f.r, err, sizeof(err)) == SL_OK, "%s", err);
	struct sl_arena arena;
	sl_arena_init(&arena, 4096, 1 << 20);
	struct sl_buf out;
	sl_buf_init(&out, 1 << 16);
	struct wire_describe_quorum_response resp;
	describe_v2(&f, &arena, &out, &resp);
	ck_assert_int_eq(resp.error_code, 0);
	ck_assert_int_eq(resp.topics_count, 1);
	ck_assert_int_eq(resp.topics[0].partitions[0].error_code, 0);
	ck_assert_int_eq(resp.topics[0].partitions[0].leader_id, 3);
	ck_assert_int_eq(resp.topics[0].partitions[0].current_voters_count, 1);
	ck_assert_int_eq(resp.nodes_count, 1);
	ck_assert_int_eq(resp.nodes[0].node_id, 3);
	ck_assert_int_eq(resp.nodes[0].listeners_count, 1);
	ck_assert(wire_str_eq(resp.nodes[0].listeners[0].name, "CTRL"));
	ck_assert(wire_str_eq(resp.nodes[0].listeners[0].host, "127.0.0.9"));
	ck_assert_uint_eq(resp.nodes[0].listeners[0].port, 19093);
	raft_close(f.r);
	f.r = NULL;

	/* Reopened without a listener name: "CONTROLLER". */
	o.listener_name[0] = '\0';
	ck_assert_msg(raft_open(&o, &f.r, err, sizeof(err)) == SL_OK, "%s", err);
	sl_buf_reset(&out);
	sl_arena_reset(&arena);
	describe_v2(&f, &arena, &out, &resp);
	ck_assert_int_eq(resp.nodes_count, 1);
	ck_assert(wire_str_eq(resp.nodes[0].listeners[0].name, "CONTROLLER"));
	sl_buf_free(&out);
	sl_arena_free(&arena);
	fx_fini(&f);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("raft_single");
	TCase *tc = tcase_create("single_voter");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bootstrap_propose_replay, 0, 2);
	tcase_add_test(tc, test_files_on_disk);
	tcase_add_test(tc, test_epoch_from_quorum_state);
	tcase_add_test(tc, test_missing_bootstrap);
	tcase_add_test(tc, test_replay_error_stops_open);
	tcase_add_test(tc, test_torn_tail);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_propose_from_done);
	tcase_add_test(tc, test_offline_fails_pending);
	tcase_add_test(tc, test_apply_failure_takes_log_offline);
	tcase_add_test(tc, test_snapshot_restart_and_retention);
	tcase_add_test(tc, test_describe_quorum_nodes);
	suite_add_tcase(s, tc);
	return s;
}
