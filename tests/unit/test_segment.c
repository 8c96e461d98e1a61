/* test_segment.c: the segment layer (storage/segment*.c, offset_index.c, time_index.c):
 * names, create, appends and Kafka's index rules, lookups by offset and timestamp (checked
 * against brute force), sealing and reopening, truncation, room checks, deletion, directory
 * clean-up. Crash cases are in test_recovery.c. Seed: SLUICE_TEST_SEED. */
#include "batch.h"
#include "check_main.h"
#include "seg_test_util.h"
#include "stor_int.h"
#include "storage.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BATCHES 512
#define MAX_RECS 8

static const struct stor_segment_limits lim = {
        .segment_bytes = 1 << 20, .index_interval_bytes = 256, .max_batch_bytes = 1 << 20};

static void setup(void)
{
	seg_fixture_setup("segment", 0x5e6d1234abcdULL);
}

/* What the test appended, batch by batch. */
struct model {
	size_t count;
	uint64_t pos[MAX_BATCHES];
	uint32_t size[MAX_BATCHES];
	int64_t base[MAX_BATCHES];
	int64_t last[MAX_BATCHES];
	int64_t max_ts[MAX_BATCHES];
	int64_t rec_ts[MAX_BATCHES][MAX_RECS];
	int nrec[MAX_BATCHES];
};

/* Builds a batch of nrec records with the given record timestamps into out. */
static void build(struct sl_buf *out, int64_t base, int nrec, const int64_t *ts, int16_t attrs)
{
	struct stor_record_in recs[MAX_RECS];
	static const uint8_t val[] = "some value bytes for the record";
	int64_t mx = ts[0];
	for (int i = 0; i < nrec; i++) {
		recs[i] = (struct stor_record_in){.timestamp_delta = ts[i] - ts[0],
		                                  .value = val,
		                                  .value_len = (int32_t)(i * 3 % 30)};
		mx = SL_MAX(mx, ts[i]);
	}
	struct stor_batch_params p;
	stor_batch_params_init(&p, ts[0]);
	p.base_offset = base;
	p.max_timestamp = mx;
	p.partition_leader_epoch = 3;
	p.attributes = attrs;
	ck_assert_int_eq(stor_batch_build(out, &p, recs, (size_t)nrec), SL_OK);
}

/* Appends one batch (written with pwrite, recorded with note_append). gap: offsets skipped
 * before it (as compaction leaves). */
static void append(struct stor_segment *seg, struct model *m, int nrec, const int64_t *ts,
                   int64_t gap)
{
	ck_assert_uint_lt(m->count, MAX_BATCHES);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	int64_t base = seg->next_offset + gap;
	build(&b, base, nrec, ts, 0);
	ck_assert(stor_segment_has_room(seg, (uint32_t)b.len, base + nrec - 1));
	ck_assert_int_eq(pwrite(seg->log_fd, b.data, b.len, (off_t)seg->size_bytes),
	                 (ssize_t)b.len);
	size_t i = m->count++;
	m->pos[i] = seg->size_bytes;
	m->size[i] = (uint32_t)b.len;
	m->base[i] = base;
	m->last[i] = base + nrec - 1;
	m->nrec[i] = nrec;
	m->max_ts[i] = ts[0];
	for (int r = 0; r < nrec; r++) {
		m->rec_ts[i][r] = ts[r];
		m->max_ts[i] = SL_MAX(m->max_ts[i], ts[r]);
	}
	stor_segment_note_append(seg, (uint32_t)b.len, base, base + nrec - 1, m->max_ts[i], 77);
	stor_segment_check_invariants(seg);
	sl_buf_free(&b);
}

/* n batches of 1..MAX_RECS records, random-ish timestamps (not monotonic). */
static void fill(struct stor_segment *seg, struct model *m, size_t n, bool gaps)
{
	for (size_t i = 0; i < n; i++) {
		int nrec = 1 + (int)(rnd() % MAX_RECS);
		int64_t ts[MAX_RECS];
		for (int r = 0; r < nrec; r++)
			ts[r] = 1000000 + (int64_t)(m->count * 10) + (int64_t)(rnd() % 40) - 20;
		append(seg, m, nrec, ts, gaps && rnd() % 4 == 0 ? (int64_t)(rnd() % 5) : 0);
	}
}

static size_t model_batch_of(const struct model *m, int64_t offset)
{
	for (size_t i = 0; i < m->count; i++) {
		if (m->last[i] >= offset)
			return i;
	}
	return m->count;
}

/* Every offset from base-1 to next+1 maps to the model's batch. */
static void check_offsets(const struct stor_segment *seg, const struct model *m)
{
	int64_t next = m->count ? m->last[m->count - 1] + 1 : seg->base_offset;
	ck_assert_int_eq(seg->next_offset, next);
	uint64_t end = m->count ? m->pos[m->count - 1] + m->size[m->count - 1] : 0;
	ck_assert_uint_eq(seg->size_bytes, end);
	for (int64_t o = seg->base_offset - 1; o <= seg->next_offset + 1; o++) {
		uint64_t pos = 0;
		ck_assert_int_eq(stor_segment_find_offset(seg, o, &pos), SL_OK);
		size_t i = model_batch_of(m, o);
		uint64_t want = i < m->count ? m->pos[i] : end;
		ck_assert_msg(pos == want,
		              "offset %" PRId64 ": position %" PRIu64 " want %" PRIu64
		              " (seed %" PRIu64 ")",
		              o, pos, want, seed);
	}
}

/* Batch- and record-level timestamp lookups agree with brute force. */
static void check_timestamps(const struct stor_segment *seg, const struct model *m)
{
	struct sl_buf scratch;
	sl_buf_init(&scratch, 1 << 20);
	int64_t lo = 1000000 - 30, hi = 1000000 + (int64_t)m->count * 10 + 30;
	for (int64_t ts = lo; ts <= hi; ts++) {
		size_t want = m->count;
		for (size_t i = 0; i < m->count && want == m->count; i++) {
			if (m->max_ts[i] >= ts)
				want = i;
		}
		struct stor_time_lookup hit;
		ck_assert_int_eq(stor_segment_lookup_timestamp(seg, ts, seg->size_bytes, &hit),
		                 SL_OK);
		ck_assert_msg(hit.found == (want < m->count), "ts %" PRId64 " seed %" PRIu64, ts,
		              seed);
		int64_t off = -5;
		bool found = false;
		ck_assert_int_eq(stor_segment_find_timestamp(seg, ts, &off, &found), SL_OK);
		ck_assert(found == hit.found);
		if (!hit.found)
			continue;
		ck_assert_uint_eq(hit.position, m->pos[want]);
		ck_assert_int_eq(hit.base_offset, m->base[want]);
		ck_assert_int_eq(off, m->base[want]);
		int r = 0;
		while (m->rec_ts[want][r] < ts)
			r++;
		ck_assert_int_eq(stor_segment_refine_timestamp(seg, &hit, ts, &scratch, &off),
		                 SL_OK);
		ck_assert_int_eq(off, m->base[want] + r);
	}
	sl_buf_free(&scratch);
}

/* Recomputes Kafka's index rule from the model and compares with the segment. */
static void check_index_rule(const struct stor_segment *seg, const struct model *m)
{
	size_t oi = 0, ti = 0;
	uint64_t since = 0;
	int64_t run_max = -1, run_off = -1, last_t = -1;
	for (size_t i = 0; i < m->count; i++) {
		if (m->max_ts[i] > run_max) {
			run_max = m->max_ts[i];
			run_off = m->last[i];
		}
		if (since > seg->index_interval_bytes) {
			ck_assert_uint_lt(oi, seg->oidx_count);
			ck_assert_uint_eq(seg->oidx[oi].position, m->pos[i]);
			ck_assert_int_eq(seg->base_offset + seg->oidx[oi].relative_offset,
			                 m->last[i]);
			oi++;
			if (run_max > last_t) {
				ck_assert_uint_lt(ti, seg->tidx_count);
				ck_assert_int_eq(seg->tidx[ti].timestamp, run_max);
				ck_assert_int_eq(seg->base_offset + seg->tidx[ti].relative_offset,
				                 run_off);
				last_t = run_max;
				ti++;
			}
			since = 0;
		}
		since += m->size[i];
	}
	ck_assert_uint_eq(oi, seg->oidx_count);
	ck_assert_uint_eq(ti, seg->tidx_count);
	ck_assert_int_eq(seg->max_timestamp, run_max);
	ck_assert_int_eq(seg->max_timestamp_offset, run_off);
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

START_TEST(test_path)
{
	char p[256];
	stor_segment_path(p, sizeof(p), "/d/t-0", 42, "log");
	ck_assert_str_eq(p, "/d/t-0/00000000000000000042.log");
	stor_segment_path(p, sizeof(p), "/d", INT64_MAX, ".timeindex");
	ck_assert_str_eq(p, "/d/09223372036854775807.timeindex");
}
END_TEST

START_TEST(test_create_and_exists)
{
	struct stor_segment seg;
	char err[512];
	ck_assert_int_eq(stor_segment_create(&seg, root, 100, &lim, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(seg.next_offset, 100);
	ck_assert_uint_eq(seg.size_bytes, 0);
	ck_assert_int_eq(seg.max_timestamp, -1);
	ck_assert(!seg.read_only);
	char p[256];
	stor_segment_path(p, sizeof(p), root, 100, "index");
	ck_assert_uint_eq(file_size(p), 0);
	stor_segment_path(p, sizeof(p), root, 100, "timeindex");
	ck_assert_uint_eq(file_size(p), 0);
	struct stor_segment again;
	ck_assert_int_eq(stor_segment_create(&again, root, 100, &lim, err, sizeof(err)), SL_EEXIST);
	ck_assert_ptr_nonnull(strstr(err, "00000000000000000100.log"));
	ck_assert_int_eq(stor_segment_create(&again, root, -1, &lim, err, sizeof(err)), SL_EINVAL);
	stor_segment_close(&seg);
}
END_TEST

START_TEST(test_append_lookup_seal_reopen)
{
	static struct model m;
	memset(&m, 0, sizeof(m));
	struct stor_segment seg;
	char err[512];
	ck_assert_int_eq(stor_segment_create(&seg, root, 1000, &lim, err, sizeof(err)), SL_OK);
	fill(&seg, &m, 200, true);
	ck_assert_uint_gt(seg.oidx_count, 20);
	ck_assert_uint_gt(seg.tidx_count, 5);
	check_index_rule(&seg, &m);
	check_offsets(&seg, &m);
	check_timestamps(&seg, &m);
	ck_assert_int_eq(seg.first_append_ms, 77);
	uint64_t bad = 1;
	ck_assert_int_eq(stor_segment_verify(&seg, NULL, &bad, err, sizeof(err)), SL_OK);

	ck_assert_int_eq(stor_segment_write_indexes(&seg, err, sizeof(err)), SL_OK);
	ck_assert(seg.read_only);
	ck_assert(!stor_segment_has_room(&seg, 100, seg.next_offset));
	/* A sealed index ends at the last batch. */
	ck_assert_uint_eq(seg.oidx[seg.oidx_count - 1].position, m.pos[m.count - 1]);
	ck_assert_int_eq(seg.tidx[seg.tidx_count - 1].timestamp, seg.max_timestamp);
	char p[256];
	stor_segment_path(p, sizeof(p), root, 1000, "index");
	ck_assert_uint_eq(file_size(p), seg.oidx_count * 8);
	stor_segment_path(p, sizeof(p), root, 1000, "timeindex");
	ck_assert_uint_eq(file_size(p), seg.tidx_count * 12);
	ck_assert_int_eq(stor_segment_verify(&seg, NULL, &bad, err, sizeof(err)), SL_OK);
	struct stor_segment sealed = seg;
	size_t ocount = seg.oidx_count, tcount = seg.tidx_count;
	struct stor_offset_entry *o = malloc(ocount * sizeof(*o));
	memcpy(o, seg.oidx, ocount * sizeof(*o));
	stor_segment_close(&seg);

	for (int mode = 0; mode < 2; mode++) {
		struct stor_recovery_report rep;
		ck_assert_int_eq(stor_segment_open(&seg, root, 1000, mode == 1, &lim, &rep, err,
		                                   sizeof(err)),
		                 SL_OK);
		ck_assert_uint_eq(seg.size_bytes, sealed.size_bytes);
		ck_assert_int_eq(seg.next_offset, sealed.next_offset);
		ck_assert_int_eq(seg.max_timestamp, sealed.max_timestamp);
		ck_assert_int_eq(seg.max_timestamp_offset, sealed.max_timestamp_offset);
		ck_assert_int_eq(seg.first_append_ms, m.max_ts[0]);
		ck_assert(!seg.read_only);
		ck_assert_uint_eq(rep.bytes_truncated, 0);
		if (mode == 0) {
			/* Trusted open: only the tail after the last entry is read. */
			ck_assert(!rep.index_rebuilt && !rep.timeindex_rebuilt);
			ck_assert(!rep.indexes_written);
			ck_assert_uint_eq(rep.batches_valid, 1);
			ck_assert_uint_eq(seg.oidx_count, ocount);
			ck_assert_uint_eq(seg.tidx_count, tcount);
			ck_assert_mem_eq(seg.oidx, o, ocount * sizeof(*o));
		} else {
			ck_assert(rep.index_rebuilt && rep.timeindex_rebuilt);
			ck_assert_uint_eq(rep.batches_valid, m.count);
			check_index_rule(&seg, &m);
		}
		check_offsets(&seg, &m);
		check_timestamps(&seg, &m);
		ck_assert_int_eq(stor_segment_verify(&seg, NULL, &bad, err, sizeof(err)), SL_OK);
		/* Writable after open: appends continue. */
		fill(&seg, &m, 3, false);
		check_offsets(&seg, &m);
		ck_assert_int_eq(stor_segment_truncate(&seg, m.base[m.count - 3]), SL_OK);
		m.count -= 3;
		stor_segment_close(&seg);
	}
	free(o);
}
END_TEST

START_TEST(test_truncate)
{
	static struct model m;
	memset(&m, 0, sizeof(m));
	struct stor_segment seg;
	char err[512];
	ck_assert_int_eq(stor_segment_create(&seg, root, 0, &lim, err, sizeof(err)), SL_OK);
	fill(&seg, &m, 120, true);
	ck_assert_int_eq(stor_segment_write_indexes(&seg, err, sizeof(err)), SL_OK);
	/* Inside a batch: refused. */
	size_t k = 0;
	while (m.nrec[k] < 2)
		k++;
	ck_assert_int_eq(stor_segment_truncate(&seg, m.base[k] + 1), SL_EINVAL);
	/* Beyond the end: no-op. */
	ck_assert_int_eq(stor_segment_truncate(&seg, seg.next_offset + 5), SL_OK);
	ck_assert(seg.read_only);
	for (size_t cut = 100; cut >= 8 && cut <= 100; cut -= 23) {
		ck_assert_int_eq(stor_segment_truncate(&seg, m.base[cut]), SL_OK);
		m.count = cut;
		ck_assert(!seg.read_only);
		ck_assert_uint_eq(file_size(seg.log_path), m.pos[cut]);
		/* The sealed segment's final time entry may survive: verify checks every entry
		 * names its batch instead of recomputing the append-time rule. */
		uint64_t bad0 = 0;
		ck_assert_int_eq(stor_segment_verify(&seg, NULL, &bad0, err, sizeof(err)), SL_OK);
		check_offsets(&seg, &m);
		check_timestamps(&seg, &m);
		fill(&seg, &m, 7, false);
		check_offsets(&seg, &m);
		m.count = cut + 7;
		/* Reopen trusted: the rewritten index files agree with the log. */
		stor_segment_close(&seg);
		struct stor_recovery_report rep;
		ck_assert_int_eq(
		        stor_segment_open(&seg, root, 0, false, &lim, &rep, err, sizeof(err)),
		        SL_OK);
		check_offsets(&seg, &m);
		check_timestamps(&seg, &m);
		uint64_t bad = 0;
		ck_assert_int_eq(stor_segment_verify(&seg, NULL, &bad, err, sizeof(err)), SL_OK);
	}
	ck_assert_int_eq(stor_segment_truncate(&seg, 0), SL_OK);
	m.count = 0;
	check_offsets(&seg, &m);
	ck_assert_int_eq(seg.max_timestamp, -1);
	ck_assert_int_eq(seg.first_append_ms, -1);
	ck_assert_uint_eq(file_size(seg.log_path), 0);
	stor_segment_close(&seg);
}
END_TEST

START_TEST(test_has_room)
{
	struct stor_segment_limits small = lim;
	small.segment_bytes = 1000;
	struct stor_segment seg;
	char err[512];
	ck_assert_int_eq(stor_segment_create(&seg, root, 10, &small, err, sizeof(err)), SL_OK);
	/* An empty segment takes one batch even larger than segment.bytes. */
	ck_assert(stor_segment_has_room(&seg, 5000, 10));
	ck_assert(!stor_segment_has_room(&seg, 100, 9)); /* below the base */
	ck_assert(stor_segment_has_room(&seg, 100, 10 + (int64_t)INT32_MAX));
	ck_assert(!stor_segment_has_room(&seg, 100, 11 + (int64_t)INT32_MAX));
	stor_segment_note_append(&seg, 900, 10, 19, 5, 1);
	ck_assert(stor_segment_has_room(&seg, 100, 20));
	ck_assert(!stor_segment_has_room(&seg, 101, 20));
	stor_segment_close(&seg);

	/* The index cap: interval 0 indexes every batch; a 24-byte index file holds 2. */
	struct stor_segment_limits tiny = lim;
	tiny.index_interval_bytes = 0;
	tiny.index_bytes_max = 48;
	ck_assert_int_eq(stor_segment_create(&seg, root, 50, &tiny, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(seg.index_entries_max, 4);
	int64_t off = 50;
	while (stor_segment_has_room(&seg, 70, off)) {
		stor_segment_note_append(&seg, 70, off, off, off, 1);
		off++;
	}
	/* 4 batches: the first is not indexed, 3 entries, 1 slot kept for sealing. */
	ck_assert_int_eq(off, 54);
	ck_assert_uint_eq(seg.oidx_count, 3);
	stor_segment_close(&seg);
}
END_TEST

/* Record-level timestamp lookup inside real compressed batches (gzip, snappy, lz4, zstd), as
 * Kafka answers ListOffsets by time: not just the batch's base offset. */
START_TEST(test_refine_compressed)
{
	for (int16_t codec = 1; codec <= 4; codec++) {
		struct stor_segment seg;
		char err[512];
		ck_assert_int_eq(
		        stor_segment_create(&seg, root, 10 * codec, &lim, err, sizeof(err)), SL_OK);
		int64_t ts[5] = {100, 200, 300, 400, 500};
		struct sl_buf b;
		sl_buf_init(&b, 1 << 20);
		build(&b, 10 * codec, 5, ts, codec);
		ck_assert_int_eq(sl_load_be16(b.data + STOR_BATCH_ATTRIBUTES_OFFSET) & 7, codec);
		ck_assert_int_eq(pwrite(seg.log_fd, b.data, b.len, 0), (ssize_t)b.len);
		stor_segment_note_append(&seg, (uint32_t)b.len, 10 * codec, 10 * codec + 4, 500, 1);
		struct sl_buf scratch;
		sl_buf_init(&scratch, 1 << 20);
		struct stor_time_lookup hit;
		int64_t want[][2] = {{50, 0}, {100, 0}, {250, 2}, {300, 2}, {401, 4}, {500, 4}};
		for (size_t i = 0; i < SL_ARRAY_LEN(want); i++) {
			int64_t off = -1;
			ck_assert_int_eq(stor_segment_lookup_timestamp(&seg, want[i][0],
			                                               seg.size_bytes, &hit),
			                 SL_OK);
			ck_assert(hit.found);
			ck_assert_int_eq(stor_segment_refine_timestamp(&seg, &hit, want[i][0],
			                                               &scratch, &off),
			                 SL_OK);
			ck_assert_msg(off == 10 * codec + want[i][1],
			              "codec %d ts %lld: offset %lld", codec, (long long)want[i][0],
			              (long long)off);
		}
		sl_buf_free(&scratch);
		sl_buf_free(&b);
		ck_assert_int_eq(stor_segment_delete(&seg), SL_OK);
	}
}
END_TEST

/* Timestamps come from disk: base + delta past int64 must not overflow (UB); it saturates. */
START_TEST(test_refine_timestamp_overflow)
{
	struct stor_segment seg;
	char err[512];
	ck_assert_int_eq(stor_segment_create(&seg, root, 700, &lim, err, sizeof(err)), SL_OK);
	static const uint8_t val[] = "v";
	struct stor_record_in recs[2] = {{.timestamp_delta = 0, .value = val, .value_len = 1},
	                                 {.timestamp_delta = 100, .value = val, .value_len = 1}};
	struct stor_batch_params p;
	stor_batch_params_init(&p, INT64_MAX - 10);
	p.base_offset = 700;
	p.max_timestamp = INT64_MAX;
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	ck_assert_int_eq(stor_batch_build(&b, &p, recs, 2), SL_OK);
	ck_assert_int_eq(pwrite(seg.log_fd, b.data, b.len, 0), (ssize_t)b.len);
	stor_segment_note_append(&seg, (uint32_t)b.len, 700, 701, INT64_MAX, 1);
	struct sl_buf scratch;
	sl_buf_init(&scratch, 1 << 16);
	struct stor_time_lookup hit;
	ck_assert_int_eq(stor_segment_lookup_timestamp(&seg, INT64_MAX - 5, seg.size_bytes, &hit),
	                 SL_OK);
	ck_assert(hit.found);
	int64_t off = -1;
	ck_assert_int_eq(stor_segment_refine_timestamp(&seg, &hit, INT64_MAX - 5, &scratch, &off),
	                 SL_OK);
	ck_assert_int_eq(off, 701);
	sl_buf_free(&scratch);
	sl_buf_free(&b);
	ck_assert_int_eq(stor_segment_delete(&seg), SL_OK);
}
END_TEST

/* Compressed and log-append-time batches in the refinement. */
START_TEST(test_refine_attributes)
{
	struct stor_segment seg;
	char err[512];
	ck_assert_int_eq(stor_segment_create(&seg, root, 0, &lim, err, sizeof(err)), SL_OK);
	int64_t ts[3] = {100, 200, 300};
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	build(&b, 0, 3, ts, STOR_BATCH_ATTR_LOG_APPEND_TIME);
	size_t first = b.len;
	build(&b, 3, 3, ts, 0);
	/* Mark the second batch gzip (compression 1) and re-seal its CRC. */
	uint8_t *p = b.data + first;
	size_t n = b.len - first;
	sl_store_be16(p + STOR_BATCH_ATTRIBUTES_OFFSET, 1);
	sl_store_be32(p + STOR_BATCH_CRC_OFFSET, sl_crc32c(0, p + 21, n - 21));
	ck_assert_int_eq(pwrite(seg.log_fd, b.data, b.len, 0), (ssize_t)b.len);
	stor_segment_note_append(&seg, (uint32_t)first, 0, 2, 300, 1);
	stor_segment_note_append(&seg, (uint32_t)n, 3, 5, 300, 1);
	struct sl_buf scratch;
	sl_buf_init(&scratch, 1 << 20);
	struct stor_time_lookup hit;
	int64_t off = -1;
	ck_assert_int_eq(stor_segment_lookup_timestamp(&seg, 250, seg.size_bytes, &hit), SL_OK);
	ck_assert(hit.found);
	ck_assert_int_eq(hit.base_offset, 0);
	ck_assert_int_eq(stor_segment_refine_timestamp(&seg, &hit, 250, &scratch, &off), SL_OK);
	ck_assert_int_eq(off, 0);
	/* Only the second batch is before end_position? No: bound the scan to the first. */
	ck_assert_int_eq(stor_segment_lookup_timestamp(&seg, 301, seg.size_bytes, &hit), SL_OK);
	ck_assert(!hit.found);
	hit = (struct stor_time_lookup){.found = true,
	                                .position = first,
	                                .batch_bytes = (uint32_t)n,
	                                .base_offset = 3,
	                                .last_offset = 5,
	                                .attributes = 1};
	/* Attribute bits say gzip but the records are not a gzip stream: corrupt, not a guess. */
	ck_assert_int_eq(stor_segment_refine_timestamp(&seg, &hit, 150, &scratch, &off),
	                 SL_ECORRUPT);
	/* end_position hides batches that are not written yet. */
	ck_assert_int_eq(stor_segment_lookup_timestamp(&seg, 100, 0, &hit), SL_OK);
	ck_assert(!hit.found);
	/* A scratch buffer too small for the batch. */
	struct sl_buf small;
	sl_buf_init(&small, 16);
	ck_assert_int_eq(stor_segment_lookup_timestamp(&seg, 100, seg.size_bytes, &hit), SL_OK);
	hit.attributes = 0;
	ck_assert_int_eq(stor_segment_refine_timestamp(&seg, &hit, 100, &small, &off), SL_ETOOBIG);
	sl_buf_free(&small);
	sl_buf_free(&scratch);
	sl_buf_free(&b);
	stor_segment_close(&seg);
}
END_TEST

START_TEST(test_delete)
{
	static struct model m;
	memset(&m, 0, sizeof(m));
	struct stor_segment seg;
	char err[512];
	ck_assert_int_eq(stor_segment_create(&seg, root, 7, &lim, err, sizeof(err)), SL_OK);
	fill(&seg, &m, 5, false);
	ck_assert_int_eq(stor_segment_write_indexes(&seg, err, sizeof(err)), SL_OK);
	char p[3][256];
	stor_segment_path(p[0], sizeof(p[0]), root, 7, "log");
	stor_segment_path(p[1], sizeof(p[1]), root, 7, "index");
	stor_segment_path(p[2], sizeof(p[2]), root, 7, "timeindex");
	for (int i = 0; i < 3; i++)
		ck_assert(exists(p[i]));
	ck_assert_int_eq(stor_segment_delete(&seg), SL_OK);
	for (int i = 0; i < 3; i++)
		ck_assert(!exists(p[i]));
	ck_assert_int_eq(seg.log_fd, -1);
	ck_assert_int_eq(stor_segment_open(&seg, root, 7, false, &lim, NULL, err, sizeof(err)),
	                 SL_ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "00000000000000000007.log"));
}
END_TEST

static void touch(const char *name)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
}

static bool present(const char *name)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, name);
	return exists(p);
}

START_TEST(test_dir_cleanup)
{
	const char *junk[] = {
	        "00000000000000000000.index.tmp",   "leader-epoch-checkpoint.tmp",
	        "00000000000000000000.log.cleaned", "00000000000000000005.log.deleted",
	        "00000000000000000009.index",       "00000000000000000009.timeindex"};
	const char *keep[] = {"00000000000000000000.log",       "00000000000000000000.index",
	                      "00000000000000000000.timeindex", "00000000000000000020.log",
	                      "00000000000000000030.log.swap",  "partition.metadata",
	                      "leader-epoch-checkpoint",        "0000000000000000009.index"};
	for (size_t i = 0; i < SL_ARRAY_LEN(junk); i++)
		touch(junk[i]);
	for (size_t i = 0; i < SL_ARRAY_LEN(keep); i++)
		touch(keep[i]);
	size_t removed = 0, swaps = 0;
	char err[512];
	ck_assert_int_eq(stor_segment_dir_cleanup(root, &removed, &swaps, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(removed, SL_ARRAY_LEN(junk));
	ck_assert_uint_eq(swaps, 1);
	for (size_t i = 0; i < SL_ARRAY_LEN(junk); i++)
		ck_assert_msg(!present(junk[i]), "%s left", junk[i]);
	for (size_t i = 0; i < SL_ARRAY_LEN(keep); i++)
		ck_assert_msg(present(keep[i]), "%s removed", keep[i]);
	ck_assert_int_eq(
	        stor_segment_dir_cleanup("/nonexistent-sl", &removed, &swaps, err, sizeof(err)),
	        SL_ENOENT);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("segment");
	TCase *tc = tcase_create("segment");
	tcase_add_checked_fixture(tc, setup, seg_fixture_teardown);
	tcase_add_test(tc, test_path);
	tcase_add_test(tc, test_create_and_exists);
	tcase_add_test(tc, test_append_lookup_seal_reopen);
	tcase_add_test(tc, test_truncate);
	tcase_add_test(tc, test_has_room);
	tcase_add_test(tc, test_refine_attributes);
	tcase_add_test(tc, test_refine_compressed);
	tcase_add_test(tc, test_refine_timestamp_overflow);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_dir_cleanup);
	suite_add_tcase(s, tc);
	return s;
}
