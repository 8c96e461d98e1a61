/*
 * test_raft_snapshot.c: KRaft snapshot files (raft/snapshot.h): write/read round trips with
 * batch splitting (records and bytes), names, list/sort and .part clean-up, corrupt files
 * (missing footer, bad CRC, truncation, missing header, data after the footer, empty),
 * chunked transfer (read_at + part write + freeze == the original bytes), deletion, and the
 * bytes of bootstrap.checkpoint and the 0-0 bootstrap snapshot being exactly what
 * `sluice storage format` wrote before it used the shared writer.
 */
#include "check_main.h"
#include "snapshot.h"
#include "storage_int.h"

#include "metadata.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static char err[1024];

static void rm_dir(const char *d)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sl_snap_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	rm_dir(dir);
}

static void opts_init(struct raft_snapshot_opts *o, int32_t epoch)
{
	memset(o, 0, sizeof(*o));
	o->epoch = epoch;
	o->last_contained_timestamp = 1700000000123;
	o->append_time_ms = 1700000000999;
}

/* count framed NoOp-like values of `size` bytes each: frame header + filler. */
static struct wire_bytes *make_values(size_t count, size_t size, uint8_t **mem)
{
	struct wire_bytes *v = calloc(count, sizeof(*v));
	uint8_t *m = malloc(count * size);

	ck_assert(v != NULL && m != NULL);
	for (size_t i = 0; i < count; i++) {
		uint8_t *p = m + i * size;

		memset(p, (int)(i & 0xff), size);
		p[0] = 1;
		p[1] = (uint8_t)(i % 100);
		v[i] = (struct wire_bytes){p, (int32_t)size};
	}
	*mem = m;
	return v;
}

struct collected {
	size_t records;
	size_t batches;
	int64_t next_base;
	const struct wire_bytes *expect;
	size_t max_batch_records;
};

static enum sl_err check_values(void *ctx, int64_t base, const struct wire_bytes *vals, size_t n,
                                char *e, size_t e_len)
{
	struct collected *c = ctx;

	(void)e;
	(void)e_len;
	ck_assert_int_eq(base, c->next_base);
	ck_assert_uint_le(n, RAFT_BATCH_RECORDS_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct wire_bytes *x = &c->expect[c->records + i];

		ck_assert_int_eq(vals[i].len, x->len);
		ck_assert(memcmp(vals[i].ptr, x->ptr, (size_t)x->len) == 0);
	}
	c->records += n;
	c->batches++;
	c->next_base = base + (int64_t)n;
	c->max_batch_records = SL_MAX(c->max_batch_records, n);
	return SL_OK;
}

static int32_t seen_epoch;
static int64_t max_batch_bytes;

static enum sl_err batch_probe(void *ctx, const struct stor_batch_view *v, char *e, size_t e_len)
{
	(void)ctx;
	(void)e;
	(void)e_len;
	ck_assert_int_eq(v->h.partition_leader_epoch, seen_epoch);
	ck_assert_int_eq(v->h.attributes & STOR_BATCH_ATTR_COMPRESSION_MASK, 0);
	max_batch_bytes = SL_MAX(max_batch_bytes, (int64_t)v->size);
	return SL_OK;
}

static void path_of(char *out, size_t n, struct raft_snapshot_id id)
{
	ck_assert(raft_snapshot_path(out, n, dir, id));
}

START_TEST(write_read_roundtrip)
{
	struct raft_snapshot_opts o;
	uint8_t *mem;
	size_t count = 25000;
	struct wire_bytes *vals = make_values(count, 20, &mem);
	struct raft_snapshot_id id = {123456, 7};
	struct raft_snapshot_info info;
	struct collected c = {.next_base = 1, .expect = vals};
	char path[RAFT_SNAPSHOT_PATH_MAX];
	char want[RAFT_SNAPSHOT_PATH_MAX];

	opts_init(&o, 7);
	ck_assert_msg(raft_snapshot_write(dir, id, &o, vals, count, err, sizeof(err)) == SL_OK,
	              "%s", err);
	path_of(path, sizeof(path), id);
	snprintf(want, sizeof(want), "%s/00000000000000123456-0000000007.checkpoint", dir);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(access(path, R_OK), 0);
	ck_assert_msg(raft_snapshot_read(path, check_values, &c, &info, err, sizeof(err)) == SL_OK,
	              "%s", err);
	ck_assert_uint_eq(c.records, count);
	ck_assert_uint_eq(c.batches, 3);
	ck_assert_uint_eq(c.max_batch_records, RAFT_BATCH_RECORDS_MAX);
	ck_assert_int_eq(info.last_contained_timestamp, 1700000000123);
	ck_assert_int_eq(info.epoch, 7);
	ck_assert_int_eq(info.kraft_version, -1);
	ck_assert(!info.has_voters);
	ck_assert_int_eq(info.data_records, (int64_t)count);
	ck_assert_int_eq(info.next_offset, (int64_t)count + 2);
	seen_epoch = 7;
	ck_assert(raft_snapshot_read_batches(path, batch_probe, NULL, NULL, err, sizeof(err)) ==
	          SL_OK);
	free(vals);
	free(mem);
}
END_TEST

START_TEST(batches_under_8_mib)
{
	struct raft_snapshot_opts o;
	uint8_t *mem;
	size_t count = 20;
	struct wire_bytes *vals = make_values(count, 1u << 20, &mem);
	struct raft_snapshot_id id = {20, 3};
	struct collected c = {.next_base = 1, .expect = vals};
	char path[RAFT_SNAPSHOT_PATH_MAX];
	struct sl_buf b;
	struct wire_bytes huge = {mem, (int32_t)(RAFT_BATCH_BYTES_MAX)};

	opts_init(&o, 3);
	ck_assert(raft_snapshot_write(dir, id, &o, vals, count, err, sizeof(err)) == SL_OK);
	path_of(path, sizeof(path), id);
	ck_assert(raft_snapshot_read(path, check_values, &c, NULL, err, sizeof(err)) == SL_OK);
	ck_assert_uint_eq(c.records, count);
	ck_assert_uint_ge(c.batches, 3);
	seen_epoch = 3;
	max_batch_bytes = 0;
	ck_assert(raft_snapshot_read_batches(path, batch_probe, NULL, NULL, err, sizeof(err)) ==
	          SL_OK);
	ck_assert_int_le(max_batch_bytes, RAFT_BATCH_BYTES_MAX);
	ck_assert_int_gt(max_batch_bytes, 6 << 20);
	/* One value that cannot fit any batch. */
	sl_buf_init(&b, 64u << 20);
	ck_assert_int_eq(raft_snapshot_build(&b, &o, &huge, 1), SL_EINVAL);
	ck_assert_uint_eq(b.len, 0);
	sl_buf_free(&b);
	free(vals);
	free(mem);
}
END_TEST

START_TEST(snapshot_names)
{
	struct raft_snapshot_id id;

	ck_assert(raft_snapshot_parse_name("00000000000000000042-0000000003.checkpoint", &id));
	ck_assert_int_eq(id.end_offset, 42);
	ck_assert_int_eq(id.epoch, 3);
	ck_assert(raft_snapshot_parse_name("09223372036854775807-2147483647.checkpoint", &id));
	ck_assert_int_eq(id.end_offset, INT64_MAX);
	ck_assert(!raft_snapshot_parse_name("09223372036854775808-0000000000.checkpoint", &id));
	ck_assert(!raft_snapshot_parse_name("00000000000000000000-2147483648.checkpoint", &id));
	ck_assert(
	        !raft_snapshot_parse_name("00000000000000000042-0000000003.checkpoint.part", &id));
	ck_assert(!raft_snapshot_parse_name("0000000000000000042-0000000003.checkpoint", &id));
	ck_assert(!raft_snapshot_parse_name("0000000000000000004a-0000000003.checkpoint", &id));
	ck_assert(!raft_snapshot_parse_name("00000000000000000042_0000000003.checkpoint", &id));
	ck_assert(!raft_snapshot_parse_name("bootstrap.checkpoint", &id));
}
END_TEST

static void touch(const char *name)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs("x", f);
	fclose(f);
}

static bool exists(const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

START_TEST(list_sort_and_cleanup)
{
	struct raft_snapshot_opts o;
	const struct raft_snapshot_id ids[] = {{500, 2}, {100, 1}, {500, 1}, {0, 0}, {20000, 9}};
	struct raft_snapshot_id *got;
	size_t n;

	opts_init(&o, 0);
	for (size_t i = 0; i < SL_ARRAY_LEN(ids); i++)
		ck_assert(raft_snapshot_write(dir, ids[i], &o, NULL, 0, err, sizeof(err)) == SL_OK);
	touch("00000000000000000700-0000000003.checkpoint.part");
	touch("00000000000000000050-0000000001.checkpoint.deleted");
	touch("00000000000000000000.log");
	touch("quorum-state");
	ck_assert_int_eq(raft_snapshot_list(dir, false, &got, &n, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert(exists("00000000000000000700-0000000003.checkpoint.part"));
	free(got);
	ck_assert_int_eq(raft_snapshot_list(dir, true, &got, &n, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(got[0].end_offset, 0);
	ck_assert_int_eq(got[1].end_offset, 100);
	ck_assert(got[2].end_offset == 500 && got[2].epoch == 1);
	ck_assert(got[3].end_offset == 500 && got[3].epoch == 2);
	ck_assert_int_eq(got[4].end_offset, 20000);
	ck_assert(!exists("00000000000000000700-0000000003.checkpoint.part"));
	ck_assert(!exists("00000000000000000050-0000000001.checkpoint.deleted"));
	ck_assert(exists("00000000000000000000.log"));
	free(got);
	ck_assert_int_eq(raft_snapshot_delete(dir, ids[0], err, sizeof(err)), SL_OK);
	ck_assert_int_eq(raft_snapshot_delete(dir, ids[0], err, sizeof(err)), SL_ENOENT);
	ck_assert_int_eq(raft_snapshot_list(dir, true, &got, &n, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(n, 4);
	free(got);
	ck_assert_int_eq(
	        raft_snapshot_list("/nonexistent/sl_snap", true, &got, &n, err, sizeof(err)),
	        SL_ENOENT);
	ck_assert_ptr_null(got);
}
END_TEST

/* Writes a small snapshot and returns its bytes (malloc'd) and path. */
static uint8_t *small_snapshot(char *path, size_t path_len, size_t *len)
{
	struct raft_snapshot_opts o;
	uint8_t *mem;
	struct wire_bytes *vals = make_values(30, 50, &mem);
	struct raft_snapshot_id id = {31, 2};
	struct stat st;
	uint8_t *bytes;
	FILE *f;

	opts_init(&o, 2);
	ck_assert(raft_snapshot_write(dir, id, &o, vals, 30, err, sizeof(err)) == SL_OK);
	free(vals);
	free(mem);
	ck_assert(raft_snapshot_path(path, path_len, dir, id));
	ck_assert_int_eq(stat(path, &st), 0);
	bytes = malloc((size_t)st.st_size);
	f = fopen(path, "rb");
	ck_assert_uint_eq(fread(bytes, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*len = (size_t)st.st_size;
	return bytes;
}

static void put_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void expect_corrupt(const char *path, const char *what)
{
	err[0] = '\0';
	ck_assert_int_eq(raft_snapshot_read_batches(path, NULL, NULL, NULL, err, sizeof(err)),
	                 SL_ECORRUPT);
	ck_assert_msg(strstr(err, what) != NULL, "err '%s' lacks '%s'", err, what);
	ck_assert_msg(strstr(err, path) != NULL, "err '%s' does not name the file", err);
}

/* Size of the last batch (the footer) of a snapshot's bytes. */
static size_t footer_size(const uint8_t *p, size_t n)
{
	size_t pos = 0, sz = 0;

	while (pos < n) {
		ck_assert_int_eq(stor_batch_peek_size(p + pos, n - pos, &sz), SL_OK);
		pos += sz;
	}
	return sz;
}

START_TEST(corrupt_files)
{
	char path[RAFT_SNAPSHOT_PATH_MAX], bad[RAFT_SNAPSHOT_PATH_MAX + 16];
	size_t n;
	uint8_t *b = small_snapshot(path, sizeof(path), &n);
	uint8_t *copy = malloc(n * 2);
	size_t fs = footer_size(b, n);

	snprintf(bad, sizeof(bad), "%s/bad.checkpoint", dir);
	/* Missing footer. */
	put_file(bad, b, n - fs);
	expect_corrupt(bad, "no SnapshotFooter");
	/* Bad CRC: flip a byte inside the data batch. */
	memcpy(copy, b, n);
	copy[n / 2] ^= 0x5a;
	put_file(bad, copy, n);
	expect_corrupt(bad, "CRC mismatch");
	/* Truncated inside a batch, and inside a batch's length prefix. */
	put_file(bad, b, n - fs / 2);
	expect_corrupt(bad, "truncated");
	put_file(bad, b, n - fs + 5);
	expect_corrupt(bad, "truncated");
	/* Data after the footer (the footer batch again). */
	memcpy(copy, b, n);
	memcpy(copy + n, b + n - fs, fs);
	put_file(bad, copy, n + fs);
	expect_corrupt(bad, "after the SnapshotFooter");
	/* No header: the file without its first batch. */
	{
		size_t hs;

		ck_assert_int_eq(stor_batch_peek_size(b, n, &hs), SL_OK);
		put_file(bad, b + hs, n - hs);
		expect_corrupt(bad, "expected 0");
	}
	/* Empty file; absent file. */
	put_file(bad, b, 0);
	expect_corrupt(bad, "empty file");
	snprintf(bad, sizeof(bad), "%s/absent.checkpoint", dir);
	ck_assert_int_eq(raft_snapshot_read_batches(bad, NULL, NULL, NULL, err, sizeof(err)),
	                 SL_ENOENT);
	/* The original still reads. */
	ck_assert_int_eq(raft_snapshot_read_batches(path, NULL, NULL, NULL, err, sizeof(err)),
	                 SL_OK);
	free(copy);
	free(b);
}
END_TEST

/* A data batch where the header should be: "does not start with a SnapshotHeader". */
START_TEST(data_first_is_corrupt)
{
	struct sl_buf b;
	struct stor_batch_params p;
	struct stor_record_in r = {.value = (const uint8_t *)"\x01\x14\x00\x00", .value_len = 4};
	char bad[RAFT_SNAPSHOT_PATH_MAX];

	sl_buf_init(&b, 1 << 20);
	stor_batch_params_init(&p, 5);
	ck_assert_int_eq(stor_batch_build(&b, &p, &r, 1), SL_OK);
	snprintf(bad, sizeof(bad), "%s/x.checkpoint", dir);
	put_file(bad, b.data, b.len);
	expect_corrupt(bad, "does not start with a SnapshotHeader");
	sl_buf_free(&b);
}
END_TEST

START_TEST(chunked_transfer)
{
	char path[RAFT_SNAPSHOT_PATH_MAX], dst[300], copy_path[RAFT_SNAPSHOT_PATH_MAX];
	size_t n, got;
	uint8_t *b = small_snapshot(path, sizeof(path), &n);
	struct raft_snapshot_id id = {31, 2};
	struct raft_snapshot_file f;
	struct raft_snapshot_part part;
	struct raft_snapshot_info info;
	uint8_t chunk[333];
	int64_t pos = 0;
	size_t flen;
	uint8_t *again;

	snprintf(dst, sizeof(dst), "%s/follower", dir);
	ck_assert_int_eq(mkdir(dst, 0755), 0);
	ck_assert_int_eq(raft_snapshot_open(dir, id, &f, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(f.size, (int64_t)n);
	ck_assert_int_eq(raft_snapshot_part_open(&part, dst, id, err, sizeof(err)), SL_OK);
	while (pos < f.size) {
		ck_assert_int_eq(raft_snapshot_read_at(&f, pos, chunk, sizeof(chunk), &got), SL_OK);
		ck_assert_uint_gt(got, 0);
		ck_assert_int_eq(
		        raft_snapshot_part_write_at(&part, pos, chunk, got, err, sizeof(err)),
		        SL_OK);
		pos += (int64_t)got;
	}
	ck_assert_int_eq(raft_snapshot_read_at(&f, f.size, chunk, sizeof(chunk), &got), SL_OK);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(raft_snapshot_read_at(&f, f.size + 1, chunk, sizeof(chunk), &got),
	                 SL_EINVAL);
	ck_assert_int_eq(raft_snapshot_read_at(&f, -1, chunk, sizeof(chunk), &got), SL_EINVAL);
	/* A chunk at the wrong position is refused. */
	ck_assert_int_eq(raft_snapshot_part_write_at(&part, 5, chunk, 1, err, sizeof(err)),
	                 SL_EINVAL);
	raft_snapshot_close(&f);
	ck_assert_int_eq(raft_snapshot_part_freeze(&part, &info, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(part.fd, -1);
	ck_assert_int_eq(info.size, (int64_t)n);
	ck_assert_int_eq(info.data_records, 30);
	ck_assert(raft_snapshot_path(copy_path, sizeof(copy_path), dst, id));
	{
		FILE *fp = fopen(copy_path, "rb");

		ck_assert_ptr_nonnull(fp);
		again = malloc(n + 1);
		flen = fread(again, 1, n + 1, fp);
		fclose(fp);
	}
	ck_assert_uint_eq(flen, n);
	ck_assert(memcmp(again, b, n) == 0);
	ck_assert_int_eq(access(part.path, F_OK), -1); /* .part renamed away */
	free(again);
	/* A download that stops short does not freeze, and its .part is removed. */
	id.end_offset = 99;
	ck_assert_int_eq(raft_snapshot_part_open(&part, dst, id, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(raft_snapshot_part_write_at(&part, 0, b, n - 10, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(raft_snapshot_part_freeze(&part, NULL, err, sizeof(err)), SL_ECORRUPT);
	ck_assert_int_eq(access(part.path, F_OK), -1);
	ck_assert(raft_snapshot_path(copy_path, sizeof(copy_path), dst, id));
	ck_assert_int_eq(access(copy_path, F_OK), -1);
	/* Abort removes the .part. */
	ck_assert_int_eq(raft_snapshot_part_open(&part, dst, id, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(access(part.path, F_OK), 0);
	raft_snapshot_part_abort(&part);
	ck_assert_int_eq(access(part.path, F_OK), -1);
	/* Serving an absent snapshot: SNAPSHOT_NOT_FOUND. */
	ck_assert_int_eq(raft_snapshot_open(dir, id, &f, err, sizeof(err)), SL_ENOENT);
	free(b);
}
END_TEST

/* ---- bootstrap files: the bytes `storage format` wrote before the shared writer ------------ */

/* The previous tools_bootstrap_build / tools_snapshot_build, kept as the reference. */
static void ref_control(struct sl_buf *out, int64_t base, int64_t now,
                        const enum stor_control_type *types, struct sl_buf *msgs, size_t count)
{
	const uint8_t *vals[4];
	size_t lens[4];
	struct stor_batch_params p;

	for (size_t i = 0; i < count; i++) {
		vals[i] = msgs[i].data;
		lens[i] = msgs[i].len;
	}
	stor_batch_params_init(&p, now);
	p.base_offset = base;
	ck_assert_int_eq(stor_batch_build_control(out, &p, types, vals, lens, count), SL_OK);
}

static void ref_footer(struct sl_buf *out, int64_t base, int64_t now)
{
	struct sl_buf m;
	struct wire_snapshot_footer_record footer = {0};
	enum stor_control_type t = STOR_CONTROL_SNAPSHOT_FOOTER;

	sl_buf_init(&m, 1024);
	wire_snapshot_footer_record_encode(&m, 0, &footer);
	ref_control(out, base, now, &t, &m, 1);
	sl_buf_free(&m);
}

static void ref_bootstrap(struct sl_buf *out, const char *const *names, const int16_t *levels,
                          size_t n, int64_t now)
{
	struct sl_buf hm, vals[4];
	struct stor_record_in recs[4];
	struct wire_snapshot_header_record h = {0, 0};
	enum stor_control_type t = STOR_CONTROL_SNAPSHOT_HEADER;
	struct stor_batch_params p;

	sl_buf_init(&hm, 1024);
	wire_snapshot_header_record_encode(&hm, 0, &h);
	ref_control(out, 0, now, &t, &hm, 1);
	sl_buf_free(&hm);
	for (size_t i = 0; i < n; i++) {
		struct meta_feature_level_record r = {wire_str_c(names[i]), levels[i]};

		sl_buf_init(&vals[i], 1024);
		meta_frame_put(&vals[i], META_REC_FEATURE_LEVEL, 0);
		meta_feature_level_record_encode(&vals[i], 0, &r);
		memset(&recs[i], 0, sizeof(recs[i]));
		recs[i].value = vals[i].data;
		recs[i].value_len = (int32_t)vals[i].len;
	}
	stor_batch_params_init(&p, now);
	p.base_offset = 1;
	ck_assert_int_eq(stor_batch_build(out, &p, recs, n), SL_OK);
	for (size_t i = 0; i < n; i++)
		sl_buf_free(&vals[i]);
	ref_footer(out, 1 + (int64_t)n, now);
}

START_TEST(bootstrap_checkpoint_bytes_unchanged)
{
	const struct tools_release mv = {"3.9-IV0", 21, true};
	struct tools_features f;
	const char *names[] = {"metadata.version", "group.version", "transaction.version"};
	const int16_t levels[] = {21, 1, 2};
	struct sl_buf got, want;
	const int64_t now = 1712345678901;

	memset(&f, 0, sizeof(f));
	f.mv = &mv;
	f.level[0] = 1; /* group.version */
	f.level[1] = 1; /* kraft.version: never written into bootstrap.checkpoint */
	f.level[2] = 2; /* transaction.version */
	sl_buf_init(&got, 1 << 20);
	sl_buf_init(&want, 1 << 20);
	ck_assert_int_eq(tools_bootstrap_build(&got, &f, now), SL_OK);
	ref_bootstrap(&want, names, levels, 3, now);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert(memcmp(got.data, want.data, got.len) == 0);
	/* metadata.version only. */
	f.level[0] = 0;
	f.level[2] = 0;
	sl_buf_reset(&got);
	sl_buf_reset(&want);
	ck_assert_int_eq(tools_bootstrap_build(&got, &f, now), SL_OK);
	ref_bootstrap(&want, names, levels, 1, now);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert(memcmp(got.data, want.data, got.len) == 0);
	/* And it reads back as a snapshot. */
	{
		char path[300];

		snprintf(path, sizeof(path), "%s/bootstrap.checkpoint", dir);
		put_file(path, got.data, got.len);
		ck_assert_int_eq(
		        raft_snapshot_read_batches(path, NULL, NULL, NULL, err, sizeof(err)),
		        SL_OK);
	}
	sl_buf_free(&got);
	sl_buf_free(&want);
}
END_TEST

START_TEST(bootstrap_snapshot_bytes_unchanged)
{
	struct tools_voters dv;
	struct sl_buf got, want, m[3];
	const int64_t now = 1712345678901;
	struct wire_snapshot_header_record h = {0, now};
	struct wire_kraft_version_record kv = {0, 1};
	struct wire_voters_record_voter voters[2];
	struct wire_voters_record_endpoint eps[2];
	struct wire_voters_record vr = {0, 2, voters};
	const enum stor_control_type types[3] = {STOR_CONTROL_SNAPSHOT_HEADER,
	                                         STOR_CONTROL_KRAFT_VERSION,
	                                         STOR_CONTROL_KRAFT_VOTERS};
	struct raft_snapshot_info info;
	char path[RAFT_SNAPSHOT_PATH_MAX];

	memset(&dv, 0, sizeof(dv));
	ck_assert_int_eq(tools_voters_parse("1@localhost:9093:b3Zdc2qMS_uYPHxH3Kq0vw,"
	                                    "2@[::1]:9094:9ZvVvG1gRk6fLfJpwA2yTg",
	                                    &dv),
	                 -1);
	for (size_t i = 0; i < 2; i++) {
		eps[i] = (struct wire_voters_record_endpoint){
		        wire_str_c("CONTROLLER"), wire_str_c(dv.v[i].host), dv.v[i].port};
		voters[i] = (struct wire_voters_record_voter){
		        dv.v[i].id, dv.v[i].dir, 1, &eps[i], {0, 1}};
	}
	for (size_t i = 0; i < 3; i++)
		sl_buf_init(&m[i], 1 << 20);
	wire_snapshot_header_record_encode(&m[0], 0, &h);
	wire_kraft_version_record_encode(&m[1], 0, &kv);
	wire_voters_record_encode(&m[2], 0, &vr);
	sl_buf_init(&want, 1 << 20);
	ref_control(&want, 0, now, types, m, 3);
	ref_footer(&want, 3, now);
	sl_buf_init(&got, 1 << 20);
	ck_assert_int_eq(tools_snapshot_build(&got, &dv, "CONTROLLER", 1, now), SL_OK);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert(memcmp(got.data, want.data, got.len) == 0);
	snprintf(path, sizeof(path), "%s/%s", dir, STOR_BOOTSTRAP_SNAPSHOT_NAME);
	put_file(path, got.data, got.len);
	ck_assert_int_eq(raft_snapshot_read_batches(path, NULL, NULL, &info, err, sizeof(err)),
	                 SL_OK);
	ck_assert_int_eq(info.kraft_version, 1);
	ck_assert(info.has_voters);
	ck_assert_int_eq(info.last_contained_timestamp, now);
	ck_assert_int_eq(info.data_records, 0);
	ck_assert_int_eq(info.next_offset, 4);
	for (size_t i = 0; i < 3; i++)
		sl_buf_free(&m[i]);
	sl_buf_free(&got);
	sl_buf_free(&want);
}
END_TEST

/* Image -> records -> snapshot file -> replay gives the same topics. */
static enum sl_err replay_into(void *ctx, int64_t base, const struct wire_bytes *vals, size_t n,
                               char *e, size_t e_len)
{
	(void)base;
	for (size_t i = 0; i < n; i++) {
		enum sl_err r = meta_delta_apply(ctx, vals[i].ptr, (size_t)vals[i].len, e, e_len);

		if (r != SL_OK)
			return r;
	}
	return SL_OK;
}

START_TEST(image_through_snapshot_file)
{
	struct meta_image *empty = meta_image_create_empty(), *img, *back;
	struct meta_delta *d;
	struct sl_arena arena;
	struct sl_buf rec;
	struct wire_bytes *vals;
	size_t count;
	struct raft_snapshot_opts o;
	struct raft_snapshot_id id = {1000, 4};
	char path[RAFT_SNAPSHOT_PATH_MAX];
	char name[32];

	sl_arena_init(&arena, 1 << 16, 64u << 20);
	sl_buf_init(&rec, 1 << 16);
	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	for (int i = 0; i < 300; i++) {
		struct meta_topic_record t;

		meta_topic_record_init(&t);
		snprintf(name, sizeof(name), "topic-%03d", i);
		t.name = wire_str_c(name);
		memset(t.topic_id.b, 0, 16);
		t.topic_id.b[0] = 0x40;
		t.topic_id.b[15] = (uint8_t)i;
		t.topic_id.b[14] = (uint8_t)(i >> 8);
		sl_buf_reset(&rec);
		meta_frame_put(&rec, META_REC_TOPIC, 0);
		meta_topic_record_encode(&rec, 0, &t);
		ck_assert_int_eq(meta_delta_apply(d, rec.data, rec.len, err, sizeof(err)), SL_OK);
	}
	img = meta_delta_publish(d, 999);
	ck_assert_int_eq(meta_image_to_records(img, &arena, &vals, &count), SL_OK);
	opts_init(&o, 4);
	ck_assert(raft_snapshot_write(dir, id, &o, vals, count, err, sizeof(err)) == SL_OK);
	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	path_of(path, sizeof(path), id);
	ck_assert_msg(raft_snapshot_read(path, replay_into, d, NULL, err, sizeof(err)) == SL_OK,
	              "%s", err);
	back = meta_delta_publish(d, 999);
	ck_assert_uint_eq(meta_image_topic_count(back), 300);
	ck_assert_ptr_nonnull(meta_image_topic(back, "topic-123", 9));
	meta_image_unref(back);
	meta_image_unref(img);
	meta_image_unref(empty);
	sl_buf_free(&rec);
	sl_arena_free(&arena);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("raft_snapshot");
	TCase *tc = tcase_create("snapshot");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, write_read_roundtrip);
	tcase_add_test(tc, batches_under_8_mib);
	tcase_add_test(tc, snapshot_names);
	tcase_add_test(tc, list_sort_and_cleanup);
	tcase_add_test(tc, corrupt_files);
	tcase_add_test(tc, data_first_is_corrupt);
	tcase_add_test(tc, chunked_transfer);
	tcase_add_test(tc, bootstrap_checkpoint_bytes_unchanged);
	tcase_add_test(tc, bootstrap_snapshot_bytes_unchanged);
	tcase_add_test(tc, image_through_snapshot_file);
	suite_add_tcase(s, tc);
	return s;
}
