/*
 * test_log.c: the partition log and the log manager on both io backends (loop index 0 =
 * uring, 1 = sync): append / read as file ranges, LogAppendTime stamping, rolling by size and
 * time, timestamp lookups, truncation, retention and DeleteRecords, epochs, checkpoints in
 * Kafka's text formats, clean and unclean reopen, partition dirs, and going offline on a
 * failed write.
 */
#include "log_test_util.h"

#include <errno.h>
#include <fcntl.h>

struct fix {
	struct io_loop *loop;
	char dir[128];
	struct stor_log_manager *m;
	struct sl_buf b;
};

static void fix_open(struct fix *f, int i, const struct stor_log_config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->loop = lt_loop(i);
	lt_tmpdir(f->dir, sizeof(f->dir));
	const char *dirs[] = {f->dir};
	lt_manager(f->loop, dirs, 1, cfg, &f->m, NULL);
	sl_buf_init(&f->b, 1 << 20);
}

static void fix_reopen(struct fix *f, bool clean, const struct stor_log_config *cfg,
                       struct stor_startup_report *rep)
{
	char err[256] = "";
	if (clean)
		ck_assert_msg(stor_log_manager_close(f->m, true, err, sizeof(err)) == SL_OK, "%s",
		              err);
	else
		(void)stor_log_manager_close(f->m, false, NULL, 0);
	const char *dirs[] = {f->dir};
	lt_manager(f->loop, dirs, 1, cfg, &f->m, rep);
}

static void fix_close(struct fix *f)
{
	(void)stor_log_manager_close(f->m, false, NULL, 0);
	io_loop_destroy(f->loop);
	sl_buf_free(&f->b);
	lt_rmtree(f->dir);
}

static struct stor_log *fix_create(struct fix *f, const char *topic, int32_t p)
{
	struct stor_log *log = NULL;
	char err[256] = "";
	ck_assert_msg(stor_log_manager_create(f->m, topic, p, NULL, &log, err, sizeof(err)) ==
	                      SL_OK,
	              "%s", err);
	return log;
}

static int64_t fix_append(struct fix *f, struct stor_log *log, int records, int64_t ts, int vlen,
                          int32_t epoch)
{
	lt_batch(&f->b, records, ts, vlen, (uint8_t)records);
	int64_t base = -1, last = -1;
	ck_assert_int_eq(lt_append(f->loop, log, &f->b, epoch, ts, &base, &last), SL_OK);
	ck_assert_int_eq(last - base + 1, records);
	return base;
}

/* Parses every batch of a read result; returns the count; checks CRCs and offsets. */
static int check_range(const struct stor_read_result *r, int64_t *first_base, int32_t epoch)
{
	uint8_t *p = lt_pread_range(&r->range);
	size_t at = 0;
	int n = 0;
	int64_t next = -1;
	while (at < r->range.len) {
		struct stor_batch_view v;
		size_t used = 0;
		ck_assert_int_eq(stor_batch_parse(p + at, r->range.len - at, &v, &used), SL_OK);
		if (n == 0 && first_base != NULL)
			*first_base = v.h.base_offset;
		if (next >= 0)
			ck_assert_int_eq(v.h.base_offset, next);
		if (epoch >= 0)
			ck_assert_int_eq(v.h.partition_leader_epoch, epoch);
		next = v.h.base_offset + v.h.last_offset_delta + 1;
		at += used;
		n++;
	}
	if (n > 0)
		ck_assert_int_eq(next, r->next_offset);
	free(p);
	return n;
}

START_TEST(t_append_read)
{
	struct fix f;
	fix_open(&f, _i, NULL);
	struct stor_log *log = fix_create(&f, "my.topic_a-b", 3);
	char path[1200];
	snprintf(path, sizeof(path), "%s/my.topic_a-b-3/00000000000000000000.log", f.dir);
	ck_assert(lt_exists(path));
	for (int k = 0; k < 5; k++)
		ck_assert_int_eq(fix_append(&f, log, 3, 1000 + k, 100, 7), k * 3);
	struct stor_read_result r;
	int64_t fb = -1;
	ck_assert_int_eq(stor_log_read(log, 0, 1 << 20, -1, &r), SL_OK);
	ck_assert_int_eq(check_range(&r, &fb, 7), 5);
	ck_assert_int_eq(fb, 0);
	ck_assert_int_eq(r.next_offset, 15);
	/* Offset inside a batch: the whole batch containing it. */
	ck_assert_int_eq(stor_log_read(log, 4, 1 << 20, -1, &r), SL_OK);
	ck_assert_int_eq(check_range(&r, &fb, 7), 4);
	ck_assert_int_eq(fb, 3);
	/* max_bytes smaller than one batch: still the first whole batch (Kafka). */
	ck_assert_int_eq(stor_log_read(log, 0, 1, -1, &r), SL_OK);
	ck_assert_int_eq(check_range(&r, NULL, 7), 1);
	ck_assert_int_eq(r.next_offset, 3);
	/* max_bytes of two and a half batches: two. */
	uint64_t one = r.range.len;
	ck_assert_int_eq(stor_log_read(log, 0, one * 5 / 2, -1, &r), SL_OK);
	ck_assert_int_eq(check_range(&r, NULL, 7), 2);
	/* A high-watermark bound. */
	ck_assert_int_eq(stor_log_read(log, 0, 1 << 20, 6, &r), SL_OK);
	ck_assert_int_eq(check_range(&r, NULL, 7), 2);
	ck_assert_int_eq(stor_log_read(log, 6, 1 << 20, 6, &r), SL_OK);
	ck_assert_uint_eq(r.range.len, 0);
	/* At the end: empty; beyond: out of range. */
	ck_assert_int_eq(stor_log_read(log, 15, 1 << 20, -1, &r), SL_OK);
	ck_assert_uint_eq(r.range.len, 0);
	ck_assert_int_eq(stor_log_read(log, 16, 1 << 20, -1, &r), SL_ENOENT);
	/* A bad batch is refused without a callback. */
	struct stor_append a = {0};
	struct lt_done d = {0};
	ck_assert_int_eq(stor_log_append(log, &a, f.b.data, f.b.len - 1, 7, 0, lt_append_done, &d),
	                 SL_EMALFORMED);
	f.b.data[16] = 1;
	ck_assert_int_eq(stor_log_append(log, &a, f.b.data, f.b.len, 7, 0, lt_append_done, &d),
	                 SL_EMALFORMED);
	ck_assert_int_eq(d.calls, 0);
	fix_close(&f);
}
END_TEST

/* Appends queued while a write is in flight go out together: one io_writev per group (at most
 * LOG_WRITE_IOV_MAX batches), callbacks in offset order, every byte where it belongs. */
#define GROUP_APPENDS 200
struct group_ctx {
	int calls;
	int64_t next_base;
	bool in_order;
};

static void group_done(struct stor_append *a, void *ctx)
{
	struct group_ctx *g = ctx;
	if (a->err != SL_OK || a->base_offset != g->next_base)
		g->in_order = false;
	g->next_base = a->last_offset + 1;
	g->calls++;
}

START_TEST(t_group_writes)
{
	struct fix f;
	fix_open(&f, _i, NULL);
	struct stor_log *log = fix_create(&f, "grp", 0);
	static struct stor_append a[GROUP_APPENDS];
	static struct sl_buf bufs[GROUP_APPENDS];
	memset(a, 0, sizeof(a));
	struct group_ctx g = {.in_order = true};
	for (int i = 0; i < GROUP_APPENDS; i++) {
		sl_buf_init(&bufs[i], 1 << 16);
		int records = 1 + i % 5;
		lt_batch(&bufs[i], records, 1000 + i, 50 + i, (uint8_t)i);
		ck_assert_int_eq(stor_log_append(log, &a[i], bufs[i].data, bufs[i].len, 3, 1000 + i,
		                                 group_done, &g),
		                 SL_OK);
	}
	ck_assert_int_eq(g.calls, 0); /* never from inside the call */
	lt_run_until(f.loop, &g.calls, GROUP_APPENDS);
	ck_assert(g.in_order);
	struct stor_log_state st;
	stor_log_get_state(log, &st);
	ck_assert_uint_eq(st.appends, GROUP_APPENDS);
	/* The first append is written alone; the rest queue behind it in groups of <= 64. */
	ck_assert_uint_le(st.write_calls, 1 + (GROUP_APPENDS + 63) / 64);
	ck_assert_int_eq(st.written_offset, g.next_base);
	/* Read everything back: each batch intact (CRC), in order, with its own fill byte. */
	struct stor_read_result r;
	ck_assert_int_eq(stor_log_read(log, 0, 64 << 20, -1, &r), SL_OK);
	uint8_t *p = lt_pread_range(&r.range);
	size_t at = 0;
	for (int i = 0; i < GROUP_APPENDS; i++) {
		struct stor_batch_view v;
		size_t used = 0;
		ck_assert_int_eq(stor_batch_parse(p + at, r.range.len - at, &v, &used), SL_OK);
		ck_assert_int_eq(v.h.base_offset, a[i].base_offset);
		ck_assert_int_eq(v.h.record_count, 1 + i % 5);
		ck_assert_uint_eq(used, bufs[i].len);
		/* A record ends with its value then a header count of 0: the value's last byte is
		 * this append's fill byte. */
		ck_assert_int_eq(v.records[v.records_len - 1], 0);
		ck_assert_int_eq(v.records[v.records_len - 2], (uint8_t)i);
		at += used;
	}
	ck_assert_uint_eq(at, r.range.len);
	free(p);
	for (int i = 0; i < GROUP_APPENDS; i++)
		sl_buf_free(&bufs[i]);
	fix_close(&f);
}
END_TEST

/* A segment file whose 20-digit name is beyond int64 (or so high that offsets would overflow)
 * makes the partition refuse to open, naming the file; nothing is guessed or truncated. */
START_TEST(t_segment_name_out_of_range)
{
	struct fix f;
	fix_open(&f, _i, NULL);
	(void)fix_create(&f, "nm", 0);
	char err[512] = "";
	ck_assert_int_eq(stor_log_manager_close(f.m, true, err, sizeof(err)), SL_OK);
	f.m = NULL;
	char path[1024];
	snprintf(path, sizeof(path), "%s/nm-0/99999999999999999999.log", f.dir);
	FILE *fp = fopen(path, "w");
	ck_assert(fp != NULL);
	fclose(fp);
	struct stor_log_manager_opts o;
	stor_log_manager_opts_init(&o);
	const char *dirs[] = {f.dir};
	o.log_dirs = dirs;
	o.log_dir_count = 1;
	o.start_timer = false;
	struct stor_log_manager *m = NULL;
	ck_assert_int_eq(stor_log_manager_open(f.loop, &o, &m, NULL, err, sizeof(err)),
	                 SL_ECORRUPT);
	ck_assert_msg(strstr(err, "99999999999999999999.log") != NULL, "%s", err);
	ck_assert_int_eq(unlink(path), 0);
	lt_manager(f.loop, dirs, 1, NULL, &f.m, NULL);
	fix_close(&f);
}
END_TEST

START_TEST(t_log_append_time_and_limits)
{
	struct fix f;
	fix_open(&f, _i, NULL);
	struct sl_props props = {0};
	ck_assert_int_eq(sl_props_set(&props, "message.timestamp.type", "LogAppendTime"), SL_OK);
	ck_assert_int_eq(sl_props_set(&props, "max.message.bytes", "500"), SL_OK);
	char err[256];
	ck_assert_int_eq(stor_log_manager_set_topic_config(f.m, "lat", &props, err, sizeof(err)),
	                 SL_OK);
	struct stor_log *log = fix_create(&f, "lat", 0);
	lt_batch(&f.b, 2, 1111, 10, 1);
	int64_t base;
	ck_assert_int_eq(lt_append(f.loop, log, &f.b, 2, 987654321, &base, NULL), SL_OK);
	struct stor_read_result r;
	ck_assert_int_eq(stor_log_read(log, 0, 1 << 20, -1, &r), SL_OK);
	uint8_t *p = lt_pread_range(&r.range);
	struct stor_batch_view v;
	size_t used;
	ck_assert_int_eq(stor_batch_parse(p, r.range.len, &v, &used), SL_OK); /* CRC recomputed */
	ck_assert_int_eq(v.h.max_timestamp, 987654321);
	ck_assert(v.h.attributes & STOR_BATCH_ATTR_LOG_APPEND_TIME);
	ck_assert_int_eq(v.h.base_timestamp, 1111);
	free(p);
	lt_batch(&f.b, 1, 1, 600, 1);
	struct stor_append a = {0};
	struct lt_done d = {0};
	ck_assert_int_eq(stor_log_append(log, &a, f.b.data, f.b.len, 2, 0, lt_append_done, &d),
	                 SL_ETOOBIG);
	/* Bad and unknown config values. */
	ck_assert_int_eq(sl_props_set(&props, "segment.bytes", "abc"), SL_OK);
	ck_assert_int_eq(stor_log_manager_set_topic_config(f.m, "lat", &props, err, sizeof(err)),
	                 SL_EINVAL);
	sl_props_free(&props);
	struct sl_props p2 = {0};
	ck_assert_int_eq(sl_props_set(&p2, "no.such.key", "1"), SL_OK);
	ck_assert_int_eq(stor_log_manager_set_topic_config(f.m, "lat", &p2, err, sizeof(err)),
	                 SL_ENOENT);
	sl_props_free(&p2);
	fix_close(&f);
}
END_TEST

START_TEST(t_roll)
{
	struct stor_log_config cfg;
	stor_log_config_init(&cfg);
	cfg.segment_bytes = 1000;
	cfg.index_interval_bytes = 100;
	cfg.segment_ms = 60000;
	struct fix f;
	fix_open(&f, _i, &cfg);
	struct stor_log *log = fix_create(&f, "roll", 0);
	for (int k = 0; k < 30; k++)
		fix_append(&f, log, 2, 1000, 60, 1);
	struct stor_log_state st;
	stor_log_get_state(log, &st);
	ck_assert_uint_gt(st.segment_count, 3);
	ck_assert_int_eq(st.end_offset, 60);
	for (uint32_t s = 0; s < st.segment_count; s++) {
		struct log_seg *seg = log->segs[s];
		char path[1200];
		stor_segment_path(path, sizeof(path), log->dir, seg->s.base_offset, "log");
		ck_assert(lt_exists(path));
		ck_assert_uint_le(seg->s.size_bytes, 1000);
	}
	/* Every offset reads back from the right batch; chained reads cover the log. */
	for (int64_t o = 0; o < 60; o++) {
		struct stor_read_result r;
		int64_t fb;
		ck_assert_int_eq(stor_log_read(log, o, 300, -1, &r), SL_OK);
		ck_assert_int_ge(check_range(&r, &fb, 1), 1);
		ck_assert_int_eq(fb, o - o % 2);
	}
	/* segment.ms: a batch 60 s after the segment's first append rolls. */
	uint32_t before = st.segment_count;
	struct log_seg *act = stor_log_active(log);
	lt_batch(&f.b, 1, 5, 1, 1);
	ck_assert_int_eq(
	        lt_append(f.loop, log, &f.b, 1, act->s.first_append_ms + 60000, NULL, NULL), SL_OK);
	stor_log_get_state(log, &st);
	ck_assert_uint_eq(st.segment_count, before + 1);
	ck_assert_int_eq(stor_log_active(log)->s.base_offset, 60);
	fix_close(&f);
}
END_TEST

START_TEST(t_timestamp)
{
	struct fix f;
	fix_open(&f, _i, NULL);
	struct stor_log *log = fix_create(&f, "ts", 0);
	fix_append(&f, log, 2, 1000, 10, 0);
	fix_append(&f, log, 2, 2000, 10, 0);
	fix_append(&f, log, 2, 3000, 10, 0);
	int64_t off;
	bool found;
	ck_assert_int_eq(stor_log_find_timestamp(log, 1500, &off, &found), SL_OK);
	ck_assert(found);
	ck_assert_int_eq(off, 2);
	ck_assert_int_eq(stor_log_find_timestamp(log, 0, &off, &found), SL_OK);
	ck_assert_int_eq(off, 0);
	ck_assert_int_eq(stor_log_find_timestamp(log, 3000, &off, &found), SL_OK);
	ck_assert_int_eq(off, 4);
	ck_assert_int_eq(stor_log_find_timestamp(log, 3001, &off, &found), SL_OK);
	ck_assert(!found);
	ck_assert_int_eq(stor_log_find_timestamp(log, STOR_TIMESTAMP_LATEST, &off, &found), SL_OK);
	ck_assert_int_eq(off, 6);
	ck_assert_int_eq(stor_log_find_timestamp(log, STOR_TIMESTAMP_EARLIEST, &off, &found),
	                 SL_OK);
	ck_assert_int_eq(off, 0);
	fix_close(&f);
}
END_TEST

START_TEST(t_truncate_and_epochs)
{
	struct stor_log_config cfg;
	stor_log_config_init(&cfg);
	cfg.segment_bytes = 400;
	struct fix f;
	fix_open(&f, _i, &cfg);
	struct stor_log *log = fix_create(&f, "tr", 0);
	for (int k = 0; k < 10; k++)
		fix_append(&f, log, 2, 1000, 30, k < 4 ? 1 : 3);
	int32_t ep;
	int64_t eo;
	stor_log_end_offset_for_epoch(log, 1, &ep, &eo);
	ck_assert_int_eq(ep, 1);
	ck_assert_int_eq(eo, 8);
	stor_log_end_offset_for_epoch(log, 2, &ep, &eo);
	ck_assert_int_eq(ep, 1);
	ck_assert_int_eq(eo, 8);
	stor_log_end_offset_for_epoch(log, 3, &ep, &eo);
	ck_assert_int_eq(ep, 3);
	ck_assert_int_eq(eo, 20);
	stor_log_end_offset_for_epoch(log, 4, &ep, &eo);
	ck_assert_int_eq(ep, -1);
	char path[1200], text[256] = "";
	snprintf(path, sizeof(path), "%s/leader-epoch-checkpoint", log->dir);
	FILE *fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	size_t n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	ck_assert_str_eq(text, "0\n2\n1 0\n3 8\n");
	/* Truncate inside a batch: the whole batch goes. */
	ck_assert_int_eq(stor_log_truncate(log, 7), SL_OK);
	struct stor_log_state st;
	stor_log_get_state(log, &st);
	ck_assert_int_eq(st.end_offset, 6);
	ck_assert_int_eq(st.written_offset, 6);
	ck_assert_int_le(st.durable_offset, 6);
	stor_log_end_offset_for_epoch(log, 3, &ep, &eo);
	ck_assert_int_eq(ep, -1); /* the epoch-3 entry started at 8: dropped */
	ck_assert_int_eq(fix_append(&f, log, 2, 1000, 30, 5), 6);
	struct stor_read_result r;
	int64_t fb;
	ck_assert_int_eq(stor_log_read(log, 6, 1 << 20, -1, &r), SL_OK);
	ck_assert_int_eq(check_range(&r, &fb, 5), 1);
	/* Truncating below the log start restarts the log there. */
	ck_assert_int_eq(stor_log_advance_start_offset(log, 4), SL_OK);
	ck_assert_int_eq(stor_log_truncate(log, 2), SL_OK);
	stor_log_get_state(log, &st);
	ck_assert_int_eq(st.log_start_offset, 2);
	ck_assert_int_eq(st.end_offset, 2);
	ck_assert_uint_eq(st.segment_count, 1);
	ck_assert_int_eq(fix_append(&f, log, 1, 1000, 30, 6), 2);
	fix_close(&f);
}
END_TEST

/* A replica installing a snapshot beyond its end: every segment goes, the log restarts empty
 * at the snapshot's end offset with no epochs, and survives a reopen. */
START_TEST(t_truncate_fully)
{
	struct stor_log_config cfg;
	stor_log_config_init(&cfg);
	cfg.segment_bytes = 400;
	struct fix f;
	fix_open(&f, _i, &cfg);
	struct stor_log *log = fix_create(&f, "tf", 0);
	for (int k = 0; k < 6; k++)
		fix_append(&f, log, 2, 1000, 30, 1);
	ck_assert_int_eq(stor_log_truncate_fully(log, -1), SL_EINVAL);
	ck_assert_int_eq(stor_log_truncate_fully(log, 100), SL_OK);
	struct stor_log_state st;
	stor_log_get_state(log, &st);
	ck_assert_int_eq(st.log_start_offset, 100);
	ck_assert_int_eq(st.end_offset, 100);
	ck_assert_int_eq(st.durable_offset, 100);
	ck_assert_uint_eq(st.segment_count, 1);
	int32_t ep;
	int64_t eo;
	stor_log_end_offset_for_epoch(log, 1, &ep, &eo);
	ck_assert_int_eq(ep, -1);
	struct stor_read_result r;
	ck_assert_int_eq(stor_log_read(log, 0, 1 << 20, -1, &r), SL_ENOENT);
	ck_assert_int_eq(fix_append(&f, log, 2, 1000, 30, 4), 100);
	fix_close(&f);
}
END_TEST

START_TEST(t_retention)
{
	struct stor_log_config cfg;
	stor_log_config_init(&cfg);
	cfg.segment_bytes = 500;
	cfg.file_delete_delay_ms = 0;
	struct fix f;
	fix_open(&f, _i, &cfg);
	struct stor_log *log = fix_create(&f, "ret", 0);
	int64_t now = sl_wall_ms();
	for (int k = 0; k < 20; k++)
		fix_append(&f, log, 1, now - 10 * 86400000ll + k, 100, 0);
	for (int k = 0; k < 20; k++)
		fix_append(&f, log, 1, now, 100, 0);
	struct stor_log_state st;
	stor_log_get_state(log, &st);
	uint32_t segs = st.segment_count;
	/* Nothing durable yet: retention may not delete anything. */
	uint32_t del = 0;
	ck_assert_int_eq(stor_log_apply_retention(log, now, -1, &del), SL_OK);
	ck_assert_uint_eq(del, 0);
	ck_assert_int_eq(lt_durable(f.loop, log, 40), SL_OK);
	struct log_seg *first = log->segs[0];
	char path[1200];
	stor_segment_path(path, sizeof(path), log->dir, first->s.base_offset, "log");
	/* retention.ms (7 days by default): the 10-day-old segments go. */
	ck_assert_int_eq(stor_log_apply_retention(log, now, -1, &del), SL_OK);
	ck_assert_uint_gt(del, 0);
	ck_assert(!lt_exists(path));
	stor_log_get_state(log, &st);
	ck_assert_uint_eq(st.segment_count, segs - del);
	ck_assert_int_gt(st.log_start_offset, 0);
	ck_assert_int_le(st.log_start_offset, 20);
	struct stor_read_result r;
	ck_assert_int_eq(stor_log_read(log, 0, 100, -1, &r), SL_ENOENT);
	/* retention.bytes: keep at most ~1000 bytes (never the active segment). */
	log->cfg.retention_bytes = 1000;
	ck_assert_int_eq(stor_log_apply_retention(log, now, -1, &del), SL_OK);
	stor_log_get_state(log, &st);
	ck_assert_uint_le(st.size_bytes - stor_log_active(log)->s.size_bytes, 1000);
	/* A high watermark bound protects what is above it. */
	log->cfg.retention_bytes = 0;
	ck_assert_int_eq(stor_log_apply_retention(log, now, st.log_start_offset, &del), SL_OK);
	ck_assert_uint_eq(del, 0);
	/* DeleteRecords. */
	ck_assert_int_eq(stor_log_advance_start_offset(log, 41), SL_EINVAL);
	ck_assert_int_eq(stor_log_advance_start_offset(log, 39), SL_OK);
	ck_assert_int_eq(stor_log_read(log, 38, 100, -1, &r), SL_ENOENT);
	ck_assert_int_eq(stor_log_read(log, 39, 100, -1, &r), SL_OK);
	ck_assert_int_eq(check_range(&r, NULL, 0), 1);
	log->cfg.retention_bytes = -1;
	ck_assert_int_eq(stor_log_apply_retention(log, now, -1, &del), SL_OK);
	stor_log_get_state(log, &st);
	ck_assert_uint_eq(st.segment_count, 1);
	ck_assert_int_eq(st.log_start_offset, 39);
	fix_close(&f);
}
END_TEST

START_TEST(t_reopen_clean_and_unclean)
{
	struct stor_log_config cfg;
	stor_log_config_init(&cfg);
	cfg.segment_bytes = 2000;
	struct fix f;
	fix_open(&f, _i, &cfg);
	struct stor_log *log = fix_create(&f, "re", 1);
	for (int k = 0; k < 40; k++)
		fix_append(&f, log, 2, 1000 + k, 50, 4);
	struct stor_startup_report rep;
	fix_reopen(&f, true, &cfg, &rep);
	ck_assert(rep.clean_shutdown);
	ck_assert_uint_eq(rep.partitions, 1);
	ck_assert_uint_eq(rep.segments_recovered, 0);
	char path[1200];
	snprintf(path, sizeof(path), "%s/.kafka_cleanshutdown", f.dir);
	ck_assert(!lt_exists(path)); /* removed at start-up */
	snprintf(path, sizeof(path), "%s/recovery-point-offset-checkpoint", f.dir);
	char text[256] = "";
	FILE *fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	size_t n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	ck_assert_str_eq(text, "0\n1\nre 1 80\n");
	log = stor_log_manager_get(f.m, "re", 1);
	ck_assert_ptr_nonnull(log);
	struct stor_log_state st;
	stor_log_get_state(log, &st);
	ck_assert_int_eq(st.end_offset, 80);
	ck_assert_int_eq(st.durable_offset, 80);
	/* Unclean: garbage after the last batch is cut by recovery. */
	fix_append(&f, log, 2, 5000, 50, 4);
	ck_assert_int_eq(lt_durable(f.loop, log, 82), SL_OK);
	struct log_seg *act = stor_log_active(log);
	stor_segment_path(path, sizeof(path), log->dir, act->s.base_offset, "log");
	fix_reopen(&f, false, &cfg, &rep);
	int fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "garbage-garbage-garbage", 23), 23);
	close(fd);
	fix_reopen(&f, false, &cfg, &rep);
	ck_assert(!rep.clean_shutdown);
	ck_assert_uint_ge(rep.segments_recovered, 1);
	ck_assert_uint_eq(rep.bytes_truncated, 23);
	log = stor_log_manager_get(f.m, "re", 1);
	stor_log_get_state(log, &st);
	ck_assert_int_eq(st.end_offset, 82);
	for (int64_t o = 0; o < 82; o += 7) {
		struct stor_read_result r;
		int64_t fb;
		ck_assert_int_eq(stor_log_read(log, o, 1 << 20, -1, &r), SL_OK);
		ck_assert_int_ge(check_range(&r, &fb, 4), 1);
		ck_assert_int_eq(fb, o - o % 2);
	}
	fix_close(&f);
}
END_TEST

START_TEST(t_manager_dirs)
{
	struct io_loop *loop = lt_loop(_i);
	char d1[128], d2[128];
	lt_tmpdir(d1, sizeof(d1));
	lt_tmpdir(d2, sizeof(d2));
	const char *dirs[] = {d1, d2};
	struct stor_log_manager *m;
	lt_manager(loop, dirs, 2, NULL, &m, NULL);
	static const char *const topics[] = {"a.b", "c_d-e", "x-1", "plain"};
	struct sl_uuid id;
	ck_assert_int_eq(sl_uuid_random(&id), SL_OK);
	char err[256];
	for (size_t t = 0; t < 4; t++)
		for (int32_t p = 0; p < 3; p++) {
			struct stor_log *log;
			ck_assert_int_eq(stor_log_manager_create(m, topics[t], p, &id, &log, err,
			                                         sizeof(err)),
			                 SL_OK);
		}
	ck_assert_uint_eq(stor_log_manager_count(m), 12);
	struct stor_log *log = stor_log_manager_get(m, "c_d-e", 2);
	ck_assert_ptr_nonnull(log);
	struct sl_uuid back;
	ck_assert_int_eq(stor_partition_metadata_read(log->dir, &back, err, sizeof(err)), SL_OK);
	ck_assert(sl_uuid_eq(&id, &back));
	struct stor_log *again;
	ck_assert_int_eq(stor_log_manager_create(m, "c_d-e", 2, NULL, &again, err, sizeof(err)),
	                 SL_OK);
	ck_assert_ptr_eq(again, log);
	ck_assert_int_eq(stor_log_manager_create(m, "", 2, NULL, &again, err, sizeof(err)),
	                 SL_EINVAL);
	/* Leftovers. */
	char path[1200];
	snprintf(path, sizeof(path), "%s/00000000000000000000.index.tmp", log->dir);
	FILE *fp = fopen(path, "w");
	fclose(fp);
	snprintf(path, sizeof(path), "%s/old-0.abc-delete", d1);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(stor_log_manager_delete(m, "x-1", 1, err, sizeof(err)), SL_OK);
	ck_assert_ptr_null(stor_log_manager_get(m, "x-1", 1));
	ck_assert_int_eq(stor_log_manager_close(m, true, err, sizeof(err)), SL_OK);
	struct stor_startup_report rep;
	lt_manager(loop, dirs, 2, NULL, &m, &rep);
	ck_assert_uint_eq(rep.partitions, 11);
	ck_assert_uint_ge(rep.leftovers_removed, 2);
	ck_assert(!lt_exists(path));
	ck_assert_ptr_null(stor_log_manager_get(m, "x-1", 1));
	for (size_t t = 0; t < 4; t++)
		for (int32_t p = 0; p < 3; p++)
			ck_assert((stor_log_manager_get(m, topics[t], p) != NULL) ==
			          (t != 2 || p != 1));
	(void)stor_log_manager_close(m, false, NULL, 0);
	io_loop_destroy(loop);
	lt_rmtree(d1);
	lt_rmtree(d2);
}
END_TEST

/* A deleted partition's file ranges handed out before the delete (a Fetch response queued in
 * net) stay readable until file.delete.delay.ms has passed; then the fds are closed. */
START_TEST(t_delete_keeps_ranges_readable)
{
	struct fix f;
	fix_open(&f, _i, NULL);
	struct stor_log *log = fix_create(&f, "gone", 0);
	fix_append(&f, log, 4, 1000, 200, 1);
	ck_assert_int_eq(lt_durable(f.loop, log, 4), SL_OK);
	struct stor_read_result r;
	ck_assert_int_eq(stor_log_read(log, 0, 1 << 20, -1, &r), SL_OK);
	uint8_t *before = lt_pread_range(&r.range);
	char err[256] = "";
	ck_assert_int_eq(stor_log_manager_delete(f.m, "gone", 0, err, sizeof(err)), SL_OK);
	ck_assert_ptr_null(stor_log_manager_get(f.m, "gone", 0));
	char path[400];
	snprintf(path, sizeof(path), "%s/gone-0", f.dir);
	ck_assert(!lt_exists(path));
	/* Still the same bytes through the fd handed out before. */
	uint8_t *after = lt_pread_range(&r.range);
	ck_assert_mem_eq(before, after, r.range.len);
	free(after);
	/* A tick before the delay keeps it open; one after closes it. */
	stor_log_manager_tick(f.m, sl_wall_ms());
	ck_assert_int_ne(fcntl(r.range.fd, F_GETFD), -1);
	stor_log_manager_tick(f.m, sl_wall_ms() + 60001);
	ck_assert_int_eq(fcntl(r.range.fd, F_GETFD), -1);
	free(before);
	fix_close(&f);
}
END_TEST

/* The partition limit is checked before anything is created: a refused partition leaves no
 * directory behind for the next start-up to find. */
START_TEST(t_partition_limit_creates_nothing)
{
	struct io_loop *loop = lt_loop(_i);
	char dir[128], err[256] = "", path[400];
	lt_tmpdir(dir, sizeof(dir));
	const char *dirs[] = {dir};
	struct stor_log_manager_opts o;
	stor_log_manager_opts_init(&o);
	o.log_dirs = dirs;
	o.log_dir_count = 1;
	o.start_timer = false;
	o.max_partitions = 2;
	struct stor_log_manager *m = NULL;
	ck_assert_int_eq(stor_log_manager_open(loop, &o, &m, NULL, err, sizeof(err)), SL_OK);
	struct stor_log *log;
	ck_assert_int_eq(stor_log_manager_create(m, "lim", 0, NULL, &log, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(stor_log_manager_create(m, "lim", 1, NULL, &log, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(stor_log_manager_create(m, "lim", 2, NULL, &log, err, sizeof(err)),
	                 SL_ELIMIT);
	ck_assert_msg(strstr(err, "limit 2") != NULL, "%s", err);
	snprintf(path, sizeof(path), "%s/lim-2", dir);
	ck_assert(!lt_exists(path));
	/* An existing partition is still returned at the limit. */
	ck_assert_int_eq(stor_log_manager_create(m, "lim", 1, NULL, &log, err, sizeof(err)), SL_OK);
	(void)stor_log_manager_close(m, false, NULL, 0);
	io_loop_destroy(loop);
	lt_rmtree(dir);
}
END_TEST

START_TEST(t_checkpoint_formats)
{
	char dir[128], path[256], err[256];
	lt_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/recovery-point-offset-checkpoint", dir);
	struct stor_tp_offset e[2] = {{"a.b-c", 3, 100}, {"x", 0, 0}};
	ck_assert_int_eq(stor_offset_checkpoint_write(path, e, 2, err, sizeof(err)), SL_OK);
	char text[256] = "";
	FILE *fp = fopen(path, "r");
	size_t n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	ck_assert_str_eq(text, "0\n2\na.b-c 3 100\nx 0 0\n");
	struct stor_tp_offset *back;
	size_t cnt;
	ck_assert_int_eq(stor_offset_checkpoint_read(path, &back, &cnt, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(cnt, 2);
	ck_assert_str_eq(back[0].topic, "a.b-c");
	ck_assert_int_eq(back[0].partition, 3);
	ck_assert_int_eq(back[0].offset, 100);
	free(back);
	static const char *const bad[] = {"1\n0\n",      "0\n2\na 1 2\n",     "0\n1\na x 2\n",
	                                  "0\n1\na 1\n", "0\n0\nextra 1 1\n", "",
	                                  "0\n-1\n"};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		fp = fopen(path, "w");
		fputs(bad[i], fp);
		fclose(fp);
		ck_assert_int_eq(stor_offset_checkpoint_read(path, &back, &cnt, err, sizeof(err)),
		                 SL_ECORRUPT);
	}
	/* A count the file cannot hold is refused at the count, before any allocation for it. */
	fp = fopen(path, "w");
	fputs("0\n9999999\na 1 2\n", fp);
	fclose(fp);
	ck_assert_int_eq(stor_offset_checkpoint_read(path, &back, &cnt, err, sizeof(err)),
	                 SL_ECORRUPT);
	ck_assert_msg(strstr(err, "bad entry count") != NULL, "%s", err);
	snprintf(path, sizeof(path), "%s/leader-epoch-checkpoint", dir);
	struct stor_epoch_entry ee[2] = {{0, 0}, {5, 77}}, eb[4];
	ck_assert_int_eq(stor_epoch_checkpoint_write(path, ee, 2, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(stor_epoch_checkpoint_read(path, eb, 4, &cnt, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(cnt, 2);
	ck_assert_int_eq(eb[1].epoch, 5);
	ck_assert_int_eq(eb[1].start_offset, 77);
	ck_assert_int_eq(stor_epoch_checkpoint_read(path, eb, 1, &cnt, err, sizeof(err)),
	                 SL_ECORRUPT);
	struct sl_uuid u = SL_UUID_METADATA, ub;
	ck_assert_int_eq(stor_partition_metadata_write(dir, &u, err, sizeof(err)), SL_OK);
	snprintf(path, sizeof(path), "%s/partition.metadata", dir);
	fp = fopen(path, "r");
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	ck_assert_str_eq(text, "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n");
	ck_assert_int_eq(stor_partition_metadata_read(dir, &ub, err, sizeof(err)), SL_OK);
	ck_assert(sl_uuid_eq(&u, &ub));
	char topic[256];
	int32_t p;
	ck_assert_int_eq(stor_parse_partition_dir("my-topic.v2-12", topic, sizeof(topic), &p),
	                 SL_OK);
	ck_assert_str_eq(topic, "my-topic.v2");
	ck_assert_int_eq(p, 12);
	ck_assert_int_eq(stor_parse_partition_dir("nodash", topic, sizeof(topic), &p), SL_EINVAL);
	ck_assert_int_eq(stor_parse_partition_dir("-1", topic, sizeof(topic), &p), SL_EINVAL);
	ck_assert_int_eq(stor_parse_partition_dir("t-x1", topic, sizeof(topic), &p), SL_EINVAL);
	ck_assert_int_eq(stor_parse_partition_dir("t-1-delete", topic, sizeof(topic), &p),
	                 SL_EINVAL);
	lt_rmtree(dir);
}
END_TEST

START_TEST(t_offline_on_write_error)
{
	struct fix f;
	fix_open(&f, _i, NULL);
	struct stor_log *log = fix_create(&f, "off", 0);
	fix_append(&f, log, 1, 1, 10, 0);
	/* Make the segment fd read-only: the next pwrite fails with EBADF. */
	struct log_seg *act = stor_log_active(log);
	int ro = open(act->s.log_path, O_RDONLY);
	ck_assert_int_ge(ro, 0);
	ck_assert_int_ge(dup2(ro, act->s.log_fd), 0);
	close(ro);
	struct stor_durable_wait w;
	struct lt_done dw = {0};
	ck_assert_int_eq(stor_log_wait_durable(log, &w, 2, lt_durable_done, &dw), SL_EAGAIN);
	lt_batch(&f.b, 1, 1, 10, 1);
	struct stor_append a = {0};
	struct lt_done d = {0};
	ck_assert_int_eq(stor_log_append(log, &a, f.b.data, f.b.len, 0, 0, lt_append_done, &d),
	                 SL_OK);
	lt_run_until(f.loop, &d.calls, 1);
	ck_assert_int_eq(d.err, SL_EIO);
	ck_assert(stor_log_offline(log));
	ck_assert_int_eq(dw.calls, 1);
	ck_assert_int_eq(dw.err, SL_EIO);
	ck_assert_int_eq(stor_log_append(log, &a, f.b.data, f.b.len, 0, 0, lt_append_done, &d),
	                 SL_EIO);
	struct stor_read_result r;
	ck_assert_int_eq(stor_log_read(log, 0, 100, -1, &r), SL_EIO);
	ck_assert_int_eq(stor_log_wait_durable(log, &w, 1, lt_durable_done, &dw), SL_EIO);
	char err[256];
	ck_assert_int_ne(stor_log_manager_close(f.m, true, err, sizeof(err)), SL_OK);
	f.m = NULL;
	io_loop_destroy(f.loop);
	sl_buf_free(&f.b);
	lt_rmtree(f.dir);
}
END_TEST

/* Truncation lowers the recovery point on disk before anything is appended at the cut: with
 * the old (higher) checkpoint a crash would make the next start trust the truncated segment's
 * unsynced new tail (and refuse to open when that tail is torn). */
START_TEST(t_truncate_lowers_recovery_point)
{
	struct stor_log_config cfg;
	stor_log_config_init(&cfg);
	cfg.segment_bytes = 1000;
	cfg.index_interval_bytes = 100;
	struct fix f;
	fix_open(&f, _i, &cfg);
	struct stor_log *log = fix_create(&f, "trp", 0);
	for (int k = 0; k < 30; k++)
		fix_append(&f, log, 2, 1000 + k, 60, 1);
	ck_assert_uint_ge(log->seg_count, 3);
	ck_assert_int_eq(lt_durable(f.loop, log, 60), SL_OK);
	char err[256] = "";
	ck_assert_int_eq(stor_log_manager_write_checkpoints(f.m, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(stor_log_truncate(log, 4), SL_OK);
	ck_assert_uint_eq(log->seg_count, 1);
	for (int k = 0; log->seg_count < 3; k++) {
		ck_assert_int_lt(k, 100);
		fix_append(&f, log, 2, 2000 + k, 60, 1); /* written, never waited for */
	}
	ck_assert_int_le(stor_log_active(log)->s.base_offset, 60);
	char seg0[1200];
	stor_segment_path(seg0, sizeof(seg0), log->dir, 0, "log");
	uint64_t dropped = 0;
	stor_log_manager_test_power_loss(f.m, &dropped);
	f.m = NULL;
	ck_assert_uint_gt(dropped, 0);
	/* The file size reached the disk, the last page's data did not: zeros. */
	static const uint8_t zeros[200];
	int fd = open(seg0, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
	close(fd);
	const char *dirs[] = {f.dir};
	struct stor_startup_report rep;
	lt_manager(f.loop, dirs, 1, &cfg, &f.m, &rep);
	ck_assert_uint_eq(rep.bytes_truncated, sizeof(zeros));
	log = stor_log_manager_get(f.m, "trp", 0);
	struct stor_log_state st;
	stor_log_get_state(log, &st);
	ck_assert_int_eq(st.end_offset, 4); /* a prefix: nothing after the lost tail survives */
	ck_assert_uint_eq(st.segment_count, 1);
	fix_close(&f);
}
END_TEST

/* Recovery that cuts a segment deletes every later segment, even one that cannot be opened
 * (here a whole, CRC-valid batch with the wrong offsets): left behind, it would collide with
 * the next roll and resurrect stale offsets at the next start. */
START_TEST(t_recovery_deletes_unopenable_later_segments)
{
	struct stor_log_config cfg;
	stor_log_config_init(&cfg);
	cfg.segment_bytes = 1000;
	cfg.index_interval_bytes = 100;
	struct fix f;
	fix_open(&f, _i, &cfg);
	struct stor_log *log = fix_create(&f, "dl", 0);
	for (int k = 0; k < 30; k++)
		fix_append(&f, log, 2, 1000 + k, 60, 1);
	size_t nseg = log->seg_count;
	ck_assert_uint_ge(nseg, 3);
	int64_t bases[64];
	for (size_t s = 0; s < nseg; s++)
		bases[s] = log->segs[s]->s.base_offset;
	char dir[1100];
	snprintf(dir, sizeof(dir), "%s", log->dir);
	char err[256] = "";
	ck_assert_int_eq(stor_log_manager_close(f.m, true, err, sizeof(err)), SL_OK);
	f.m = NULL;
	char p0[1200], p1[1200];
	stor_segment_path(p0, sizeof(p0), dir, bases[0], "log");
	stor_segment_path(p1, sizeof(p1), dir, bases[1], "log");
	/* Segment 0 loses 10 bytes of its last batch; segment 1 starts with segment 0's first
	 * batch (offsets below its base: opening it fails with SL_ECORRUPT). */
	uint8_t first[4096];
	int fd = open(p0, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, first, 12, 0), 12);
	size_t blen = 12 + sl_load_be32(first + 8);
	ck_assert_uint_le(blen, sizeof(first));
	ck_assert_int_eq(pread(fd, first, blen, 0), (ssize_t)blen);
	struct stat sb;
	ck_assert_int_eq(fstat(fd, &sb), 0);
	ck_assert_int_eq(ftruncate(fd, sb.st_size - 10), 0);
	close(fd);
	fd = open(p1, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, first, blen, 0), (ssize_t)blen);
	close(fd);
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s", f.dir, STOR_RECOVERY_POINT_CHECKPOINT_NAME);
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/%s", f.dir, STOR_CLEAN_SHUTDOWN_NAME);
	ck_assert_int_eq(unlink(path), 0);
	const char *dirs[] = {f.dir};
	lt_manager(f.loop, dirs, 1, &cfg, &f.m, NULL);
	log = stor_log_manager_get(f.m, "dl", 0);
	ck_assert_uint_eq(log->seg_count, 1);
	for (size_t s = 1; s < nseg; s++) {
		static const char *const exts[] = {"log", "index", "timeindex"};
		for (int x = 0; x < 3; x++) {
			stor_segment_path(path, sizeof(path), dir, bases[s], exts[x]);
			ck_assert_msg(!lt_exists(path), "%s survived", path);
		}
	}
	/* Appending through the old segment boundaries rolls cleanly. */
	for (int k = 0; k < 30; k++)
		fix_append(&f, log, 2, 3000 + k, 60, 1);
	ck_assert(!stor_log_offline(log));
	fix_close(&f);
}
END_TEST

/* A batch length read from disk never stretches a read past the written bytes. */
START_TEST(t_read_checks_batch_length)
{
	struct fix f;
	fix_open(&f, _i, NULL);
	struct stor_log *log = fix_create(&f, "rl", 0);
	for (int k = 0; k < 3; k++)
		fix_append(&f, log, 2, 1000 + k, 60, 1);
	struct log_seg *act = stor_log_active(log);
	int fd = open(act->s.log_path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	uint8_t len[4];
	sl_store_be32(len, 0x7ffff000u);
	ck_assert_int_eq(pwrite(fd, len, sizeof(len), 8), 4);
	close(fd);
	struct stor_read_result r;
	enum sl_err e = stor_log_read(log, 0, 100, -1, &r);
	ck_assert_msg(e == SL_EIO, "%s: range %llu+%llu, %llu bytes written", sl_err_name(e),
	              (unsigned long long)r.range.position, (unsigned long long)r.range.len,
	              (unsigned long long)act->written_bytes);
	ck_assert(stor_log_offline(log));
	fix_close(&f);
}
END_TEST

/* An unclean close with appends in flight waits for them (their callbacks run) instead of
 * freeing the log under the io loop. */
START_TEST(t_unclean_close_in_flight)
{
	struct fix f;
	fix_open(&f, _i, NULL);
	struct stor_log *log = fix_create(&f, "uc", 0);
	struct stor_append a[4] = {0};
	struct lt_done d = {0};
	lt_batch(&f.b, 2, 1000, 60, 1);
	for (int k = 0; k < 4; k++)
		ck_assert_int_eq(
		        stor_log_append(log, &a[k], f.b.data, f.b.len, 1, 1000, lt_append_done, &d),
		        SL_OK);
	struct stor_durable_wait w;
	struct lt_done dw = {0};
	ck_assert_int_eq(stor_log_wait_durable(log, &w, 2, lt_durable_done, &dw), SL_EAGAIN);
	(void)stor_log_manager_close(f.m, false, NULL, 0);
	f.m = NULL;
	ck_assert_int_eq(d.calls, 4);
	ck_assert_int_eq(dw.calls, 1);
	lt_run_idle(f.loop);
	ck_assert_int_eq(d.calls, 4);
	fix_close(&f);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, t_append_read, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_delete_keeps_ranges_readable, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_partition_limit_creates_nothing, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_log_append_time_and_limits, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_roll, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_timestamp, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_truncate_and_epochs, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_truncate_fully, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_retention, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_reopen_clean_and_unclean, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_manager_dirs, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_checkpoint_formats, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_offline_on_write_error, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_group_writes, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_segment_name_out_of_range, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_truncate_lowers_recovery_point, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_recovery_deletes_unopenable_later_segments, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_read_checks_batch_length, 0, LT_BACKEND_COUNT);
	tcase_add_loop_test(tc, t_unclean_close_in_flight, 0, LT_BACKEND_COUNT);
	suite_add_tcase(s, tc);
	return s;
}
