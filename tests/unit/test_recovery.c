/* test_recovery.c: crash-recovery suite for the segment layer (reliability.md §3.3, I15/I16):
 * random tail garbage on the log and its indexes (1,000 iterations), the last batch torn at
 * every byte with zero / random / old-data fill, every bit of a closed segment flipped (100%
 * detection), bit flips in the index files (never a wrong answer), each side file deleted or
 * corrupted, an index pointing past EOF, empty segments, an interrupted roll, misplaced
 * batches. Seed: SLUICE_TEST_SEED (printed in failure messages). */
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

#define MAX_BATCHES 128
#define EPOCH 3

static const struct stor_segment_limits lim = {
        .segment_bytes = 1 << 20, .index_interval_bytes = 200, .max_batch_bytes = 1 << 20};

static void setup(void)
{
	seg_fixture_setup("recovery", 0xc0ffee1234ULL);
	sl_log_set_level(SL_LOG_OFF);
}

/* The batches written, as the test expects them back. */
struct model {
	size_t count;
	uint64_t pos[MAX_BATCHES + 1]; /* pos[count] = end */
	int64_t last[MAX_BATCHES];
	struct sl_buf bytes;
};

static void build(struct sl_buf *out, int64_t base, int nrec, int64_t ts, uint8_t fill)
{
	struct stor_record_in recs[4];
	uint8_t val[24];
	memset(val, fill, sizeof(val));
	for (int i = 0; i < nrec; i++)
		recs[i] = (struct stor_record_in){
		        .timestamp_delta = i, .value = val, .value_len = 4 + i * 5};
	struct stor_batch_params p;
	stor_batch_params_init(&p, ts);
	p.base_offset = base;
	p.max_timestamp = ts + nrec - 1;
	p.partition_leader_epoch = EPOCH;
	ck_assert_int_eq(stor_batch_build(out, &p, recs, (size_t)nrec), SL_OK);
}

/* Creates segment `base` in root with n batches (1..4 records), the model of its bytes. */
static void make_segment(struct stor_segment *seg, struct model *m, int64_t base, size_t n)
{
	char err[512];
	ck_assert_int_eq(stor_segment_create(seg, root, base, &lim, err, sizeof(err)), SL_OK);
	m->count = 0;
	sl_buf_init(&m->bytes, 1 << 20);
	for (size_t i = 0; i < n; i++) {
		size_t at = m->bytes.len;
		int nrec = 1 + (int)(rnd() % 4);
		build(&m->bytes, seg->next_offset, nrec, 5000 + (int64_t)i * 7, (uint8_t)i);
		size_t len = m->bytes.len - at;
		ck_assert_int_eq(pwrite(seg->log_fd, m->bytes.data + at, len, (off_t)at),
		                 (ssize_t)len);
		m->pos[i] = at;
		m->last[i] = seg->next_offset + nrec - 1;
		stor_segment_note_append(seg, (uint32_t)len, seg->next_offset, m->last[i],
		                         5000 + (int64_t)i * 7 + nrec - 1, 1);
		m->count++;
	}
	m->pos[m->count] = m->bytes.len;
}

static void path_of(char *out, size_t len, int64_t base, const char *ext)
{
	stor_segment_path(out, len, root, base, ext);
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void append_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* Reads a whole file into buf (resetting it). */
static void read_file(const char *path, struct sl_buf *buf)
{
	sl_buf_reset(buf);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	uint8_t chunk[4096];
	ssize_t k;
	while ((k = read(fd, chunk, sizeof(chunk))) > 0)
		sl_buf_append(buf, chunk, (size_t)k);
	close(fd);
	ck_assert_int_eq(sl_buf_err(buf), SL_OK);
}

static void random_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* The open segment holds exactly the model's first `count` batches. */
static void check_matches(const struct stor_segment *seg, const struct model *m, size_t count)
{
	ck_assert_msg(seg->size_bytes == m->pos[count],
	              "size %" PRIu64 " want %" PRIu64 " (seed %" PRIu64 ")", seg->size_bytes,
	              m->pos[count], seed);
	ck_assert_int_eq(seg->next_offset, count ? m->last[count - 1] + 1 : seg->base_offset);
	struct sl_buf got;
	sl_buf_init(&got, 1 << 20);
	read_file(seg->log_path, &got);
	ck_assert_uint_eq(got.len, m->pos[count]);
	ck_assert(got.len == 0 || memcmp(got.data, m->bytes.data, got.len) == 0);
	sl_buf_free(&got);
	for (size_t i = 0; i < count; i++) {
		uint64_t pos = 0;
		ck_assert_int_eq(stor_segment_find_offset(seg, m->last[i], &pos), SL_OK);
		ck_assert_uint_eq(pos, m->pos[i]);
	}
	uint64_t bad = 0;
	char err[512];
	struct stor_verify_bounds b = {EPOCH, EPOCH};
	ck_assert_msg(stor_segment_verify(seg, &b, &bad, err, sizeof(err)) == SL_OK, "%s", err);
	stor_segment_check_invariants(seg);
}

static uint64_t size_of(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* 1,000 iterations: garbage on the active segment + index (recover), or on a closed
 * segment's indexes (trusted open rebuilds) or its log (refused, never truncated). */
START_TEST(test_tail_garbage)
{
	char err[512], lp[256], ip[256], tp[256];
	uint8_t junk[1024];
	for (int it = 0; it < 1000; it++) {
		struct stor_segment seg;
		struct model m;
		int64_t base = (int64_t)it * 1000;
		make_segment(&seg, &m, base, 50 + rnd() % 50);
		path_of(lp, sizeof(lp), base, "log");
		path_of(ip, sizeof(ip), base, "index");
		path_of(tp, sizeof(tp), base, "timeindex");
		int mode = it % 4; /* 0,1: crash of the active segment; 2: closed, bad index;
		                      3: closed, bad log */
		if (mode >= 2)
			ck_assert_int_eq(stor_segment_write_indexes(&seg, err, sizeof(err)), SL_OK);
		stor_segment_close(&seg);
		size_t n = 1 + rnd() % 1024;
		random_bytes(junk, n);
		if (mode != 2)
			append_file(lp, junk, n);
		if (mode != 3) {
			append_file(ip, junk, 1 + rnd() % n);
			append_file(tp, junk + 3, rnd() % (n - 1 + 1));
		}
		struct stor_recovery_report rep;
		enum sl_err e =
		        stor_segment_open(&seg, root, base, mode < 2, &lim, &rep, err, sizeof(err));
		if (mode == 3) {
			char want[64];
			snprintf(want, sizeof(want), "at byte %zu", m.bytes.len);
			ck_assert_msg(e == SL_ECORRUPT, "it %d seed %" PRIu64, it, seed);
			ck_assert_ptr_nonnull(strstr(err, lp));
			ck_assert_msg(strstr(err, want) != NULL, "%s", err);
			ck_assert_uint_eq(size_of(lp), m.bytes.len + n);
			ck_assert_int_eq(stor_segment_open(&seg, root, base, true, &lim, &rep, err,
			                                   sizeof(err)),
			                 SL_OK);
		} else {
			ck_assert_msg(e == SL_OK, "it %d seed %" PRIu64 ": %s", it, seed, err);
			ck_assert(mode != 2 || rep.index_rebuilt || rep.timeindex_rebuilt);
		}
		ck_assert_uint_eq(rep.bytes_truncated, mode == 2 ? 0 : n);
		check_matches(&seg, &m, m.count);
		ck_assert_int_eq(stor_segment_delete(&seg), SL_OK);
		sl_buf_free(&m.bytes);
	}
}
END_TEST

/* The last batch cut at every byte, the rest zeros / random / absent / an old batch. */
START_TEST(test_torn_last_batch)
{
	struct stor_segment seg;
	struct model m;
	char err[512], lp[256];
	make_segment(&seg, &m, 0, 5);
	stor_segment_close(&seg);
	path_of(lp, sizeof(lp), 0, "log");
	uint64_t start = m.pos[4], size = m.pos[5] - m.pos[4];
	ck_assert_uint_le(size, 512);
	struct sl_buf old;
	sl_buf_init(&old, 1 << 20);
	build(&old, m.last[3] + 1, (int)(m.last[4] - m.last[3]), 4444, 0xAB); /* same offsets */
	ck_assert_uint_eq(old.len, size);
	uint8_t fillb[4096];
	size_t cases = 0;
	for (uint64_t cut = 0; cut < size; cut++) {
		for (int fill = 0; fill < 4; fill++) {
			write_file(lp, m.bytes.data, start + cut);
			size_t n = (size_t)(size - cut) + (fill == 1 ? 512 : 0);
			if (fill == 1)
				memset(fillb, 0, n);
			else if (fill == 2)
				random_bytes(fillb, n);
			else if (fill == 3)
				memcpy(fillb, old.data + cut, n);
			if (fill != 0)
				append_file(lp, fillb, n);
			struct stor_recovery_report rep;
			ck_assert_msg(stor_segment_open(&seg, root, 0, true, &lim, &rep, err,
			                                sizeof(err)) == SL_OK,
			              "cut %" PRIu64 " fill %d: %s", cut, fill, err);
			/* The fill may recreate a whole valid batch (the original's last bytes are
			 * zeros; old data shares a prefix): then it is kept. */
			uint8_t region[512];
			memcpy(region, m.bytes.data + start, cut);
			if (fill != 0)
				memcpy(region + cut, fillb, size - cut);
			bool whole =
			        fill != 0 && (memcmp(region, m.bytes.data + start, size) == 0 ||
			                      memcmp(region, old.data, size) == 0);
			if (whole) {
				ck_assert_int_eq(seg.next_offset, m.last[4] + 1);
				ck_assert_uint_eq(seg.size_bytes, m.pos[5]);
			} else {
				ck_assert_msg(seg.size_bytes == start,
				              "cut %" PRIu64 " fill %d seed %" PRIu64, cut, fill,
				              seed);
				ck_assert_uint_eq(rep.bytes_truncated, cut + (fill ? n : 0));
				check_matches(&seg, &m, 4);
			}
			stor_segment_close(&seg);
			cases++;
		}
	}
	ck_assert_uint_eq(cases, size * 4);
	sl_buf_free(&old);
	sl_buf_free(&m.bytes);
}
END_TEST

/* Flips every bit of a closed segment's .log: a trusted open or verify must report it,
 * naming the file and a byte offset, and the file must not be truncated. */
START_TEST(test_bit_flip_closed_segment)
{
	struct stor_segment seg;
	struct model m;
	char err[512], lp[256], ip[256], tp[256];
	make_segment(&seg, &m, 300, 6);
	ck_assert_int_eq(stor_segment_write_indexes(&seg, err, sizeof(err)), SL_OK);
	stor_segment_close(&seg);
	path_of(lp, sizeof(lp), 300, "log");
	path_of(ip, sizeof(ip), 300, "index");
	path_of(tp, sizeof(tp), 300, "timeindex");
	struct sl_buf idx, tidx, flipped;
	sl_buf_init(&idx, 1 << 20);
	sl_buf_init(&tidx, 1 << 20);
	sl_buf_init(&flipped, 1 << 20);
	read_file(ip, &idx);
	read_file(tp, &tidx);
	size_t bits = m.bytes.len * 8, at_open = 0, by_verify = 0, unbounded = 0, epoch_bits = 0;
	struct stor_verify_bounds bounds = {EPOCH, EPOCH};
	for (size_t bit = 0; bit < bits; bit++) {
		sl_buf_reset(&flipped);
		sl_buf_append(&flipped, m.bytes.data, m.bytes.len);
		flipped.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		write_file(lp, flipped.data, flipped.len);
		write_file(ip, idx.data, idx.len);
		write_file(tp, tidx.data, tidx.len);
		enum sl_err e =
		        stor_segment_open(&seg, root, 300, false, &lim, NULL, err, sizeof(err));
		if (e == SL_ECORRUPT) {
			ck_assert_msg(strstr(err, lp) != NULL, "bit %zu: %s", bit, err);
			ck_assert_ptr_nonnull(strstr(err, "at byte "));
			at_open++;
		} else {
			ck_assert_msg(e == SL_OK, "bit %zu: %s", bit, err);
			uint64_t bad = 0;
			bool in_epoch = false;
			for (size_t b = 0; b < m.count; b++)
				in_epoch |= bit / 8 >= m.pos[b] + 12 && bit / 8 < m.pos[b] + 16;
			epoch_bits += in_epoch;
			enum sl_err u = stor_segment_verify(&seg, NULL, &bad, err, sizeof(err));
			unbounded += u == SL_ECORRUPT;
			ck_assert_msg(u == SL_ECORRUPT || in_epoch,
			              "bit %zu (byte %zu) not detected without bounds; batches at "
			              "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			              " %" PRIu64,
			              bit, bit / 8, m.pos[0], m.pos[1], m.pos[2], m.pos[3],
			              m.pos[4], m.pos[5]);
			e = stor_segment_verify(&seg, &bounds, &bad, err, sizeof(err));
			ck_assert_msg(e == SL_ECORRUPT, "bit %zu (byte %zu) not detected", bit,
			              bit / 8);
			ck_assert_ptr_nonnull(strstr(err, lp));
			ck_assert_ptr_nonnull(strstr(err, "at byte "));
			ck_assert_uint_le(bad, m.bytes.len);
			by_verify++;
			stor_segment_close(&seg);
		}
		ck_assert_uint_eq(size_of(lp), m.bytes.len); /* never truncated */
	}
	ck_assert_uint_eq(at_open + by_verify, bits); /* 100% detection */
	ck_assert_uint_gt(at_open, 0);
	ck_assert_uint_gt(by_verify, 0);
	ck_assert_uint_ge(unbounded + epoch_bits, by_verify);
	sl_buf_free(&idx);
	sl_buf_free(&tidx);
	sl_buf_free(&flipped);
	sl_buf_free(&m.bytes);
}
END_TEST

/* Every lookup answer is right or SL_ECORRUPT, never a wrong position. */
static void check_no_wrong_answer(const struct stor_segment *seg, const struct model *m, size_t bit)
{
	for (size_t i = 0; i < m->count; i++) {
		int64_t first = i ? m->last[i - 1] + 1 : seg->base_offset;
		for (int64_t o = first; o <= m->last[i]; o++) {
			uint64_t pos = 0;
			enum sl_err e = stor_segment_find_offset(seg, o, &pos);
			ck_assert_msg(e == SL_ECORRUPT || (e == SL_OK && pos == m->pos[i]),
			              "index bit %zu: offset %" PRId64 " -> %" PRIu64, bit, o, pos);
		}
		struct stor_time_lookup hit;
		enum sl_err e = stor_segment_lookup_timestamp(seg, 5000 + (int64_t)i * 7,
		                                              seg->size_bytes, &hit);
		ck_assert_msg(e == SL_ECORRUPT ||
		                      (e == SL_OK && hit.found && hit.position == m->pos[i]),
		              "index bit %zu: ts lookup %zu", bit, i);
	}
}

/* Bit flips in a closed segment's index files: open succeeds (indexes are derived data);
 * lookups are right or refuse; a rebuilt index gives exact answers. */
START_TEST(test_bit_flip_index_files)
{
	struct stor_segment seg;
	struct model m;
	char err[512], lp[256], ip[256], tp[256];
	struct stor_segment_limits dense = lim;
	make_segment(&seg, &m, 0, 40);
	ck_assert_int_eq(stor_segment_write_indexes(&seg, err, sizeof(err)), SL_OK);
	stor_segment_close(&seg);
	path_of(lp, sizeof(lp), 0, "log");
	path_of(ip, sizeof(ip), 0, "index");
	path_of(tp, sizeof(tp), 0, "timeindex");
	struct sl_buf files[2], flipped;
	sl_buf_init(&files[0], 1 << 20);
	sl_buf_init(&files[1], 1 << 20);
	sl_buf_init(&flipped, 1 << 20);
	read_file(ip, &files[0]);
	read_file(tp, &files[1]);
	ck_assert_uint_gt(files[0].len, 16);
	ck_assert_uint_gt(files[1].len, 16);
	size_t rebuilt = 0;
	for (int f = 0; f < 2; f++) {
		for (size_t bit = 0; bit < files[f].len * 8; bit++) {
			sl_buf_reset(&flipped);
			sl_buf_append(&flipped, files[f].data, files[f].len);
			flipped.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			write_file(ip, f == 0 ? flipped.data : files[0].data, files[0].len);
			write_file(tp, f == 1 ? flipped.data : files[1].data, files[1].len);
			struct stor_recovery_report rep;
			ck_assert_msg(stor_segment_open(&seg, root, 0, false, &dense, &rep, err,
			                                sizeof(err)) == SL_OK,
			              "file %d bit %zu: %s", f, bit, err);
			rebuilt += rep.index_rebuilt || rep.timeindex_rebuilt;
			ck_assert_uint_eq(seg.size_bytes, m.bytes.len);
			ck_assert_int_eq(seg.next_offset, m.last[m.count - 1] + 1);
			check_no_wrong_answer(&seg, &m, bit);
			stor_segment_close(&seg);
		}
	}
	ck_assert_uint_gt(rebuilt, 0);
	ck_assert_uint_eq(size_of(lp), m.bytes.len);
	sl_buf_free(&files[0]);
	sl_buf_free(&files[1]);
	sl_buf_free(&flipped);
	sl_buf_free(&m.bytes);
}
END_TEST

/* Each side file deleted or corrupted; trusted open rebuilds it, answers stay exact, and the
 * next open finds clean files. */
START_TEST(test_side_files)
{
	struct stor_segment seg;
	struct model m;
	char err[512], ip[256], tp[256];
	make_segment(&seg, &m, 10, 60);
	ck_assert_int_eq(stor_segment_write_indexes(&seg, err, sizeof(err)), SL_OK);
	stor_segment_close(&seg);
	path_of(ip, sizeof(ip), 10, "index");
	path_of(tp, sizeof(tp), 10, "timeindex");
	struct sl_buf idx, tidx;
	sl_buf_init(&idx, 1 << 20);
	sl_buf_init(&tidx, 1 << 20);
	read_file(ip, &idx);
	read_file(tp, &tidx);
	uint8_t e8[8], e12[12], zeros[36] = {0};
	/* Expected rebuilt flags per case: offset index, time index (-1: either). */
	static const int want[9][2] = {{1, 0}, {0, 1},  {1, 0}, {0, 1}, {1, 0},
	                               {1, 1}, {-1, 1}, {1, 0}, {1, 1}};
	for (int c = 0; c < 9; c++) {
		write_file(ip, idx.data, idx.len);
		write_file(tp, tidx.data, tidx.len);
		switch (c) {
		case 0:
			unlink(ip);
			break;
		case 1:
			unlink(tp);
			break;
		case 2:
			write_file(ip, idx.data, 5);
			break; /* not a multiple of 8 */
		case 3:
			write_file(tp, zeros, 36);
			break;
		case 4: /* past EOF */
			sl_store_be32(e8, 100000);
			sl_store_be32(e8 + 4, (uint32_t)m.bytes.len + 100);
			append_file(ip, e8, 8);
			break;
		case 5: /* the last entry points inside a batch */
			sl_store_be32(idx.data + idx.len - 4,
			              sl_load_be32(idx.data + idx.len - 4) + 1);
			write_file(ip, idx.data, idx.len);
			sl_store_be32(idx.data + idx.len - 4,
			              sl_load_be32(idx.data + idx.len - 4) - 1);
			break;
		case 6: /* a stale time entry beyond any batch */
			sl_store_be64(e12, 1u << 30);
			sl_store_be32(e12 + 8, 59);
			append_file(tp, e12, 12);
			break;
		case 7: /* decreasing entries */
			write_file(ip, idx.data + 8, 8);
			append_file(ip, idx.data, 8);
			break;
		case 8: /* both missing */
			unlink(ip);
			unlink(tp);
			break;
		}
		struct stor_recovery_report rep;
		ck_assert_msg(stor_segment_open(&seg, root, 10, false, &lim, &rep, err,
		                                sizeof(err)) == SL_OK,
		              "case %d: %s", c, err);
		ck_assert_msg(want[c][0] < 0 || rep.index_rebuilt == (want[c][0] == 1), "case %d",
		              c);
		ck_assert_msg(rep.timeindex_rebuilt == (want[c][1] == 1), "case %d", c);
		ck_assert(rep.indexes_written);
		check_matches(&seg, &m, m.count);
		stor_segment_close(&seg);
		ck_assert_int_eq(
		        stor_segment_open(&seg, root, 10, false, &lim, &rep, err, sizeof(err)),
		        SL_OK);
		ck_assert_msg(!rep.index_rebuilt && !rep.timeindex_rebuilt && !rep.indexes_written,
		              "case %d: second open rebuilt", c);
		check_matches(&seg, &m, m.count);
		stor_segment_close(&seg);
	}
	sl_buf_free(&idx);
	sl_buf_free(&tidx);
	sl_buf_free(&m.bytes);
}
END_TEST

START_TEST(test_empty_and_zero_tail)
{
	struct stor_segment seg;
	struct model m;
	char err[512], lp[256], ip[256], tp[256];
	ck_assert_int_eq(stor_segment_create(&seg, root, 5, &lim, err, sizeof(err)), SL_OK);
	stor_segment_close(&seg);
	path_of(lp, sizeof(lp), 5, "log");
	path_of(ip, sizeof(ip), 5, "index");
	path_of(tp, sizeof(tp), 5, "timeindex");
	for (int mode = 0; mode < 4; mode++) {
		if (mode >= 2) {
			unlink(ip);
			unlink(tp);
		}
		struct stor_recovery_report rep;
		ck_assert_int_eq(
		        stor_segment_open(&seg, root, 5, mode % 2, &lim, &rep, err, sizeof(err)),
		        SL_OK);
		ck_assert_int_eq(seg.next_offset, 5);
		ck_assert_uint_eq(seg.size_bytes, 0);
		ck_assert_int_eq(seg.max_timestamp, -1);
		ck_assert_uint_eq(size_of(ip), 0);
		ck_assert_uint_eq(size_of(tp), 0);
		stor_segment_close(&seg);
	}
	/* Garbage in an empty active segment: truncated to nothing. */
	uint8_t junk[700];
	random_bytes(junk, sizeof(junk));
	append_file(lp, junk, sizeof(junk));
	ck_assert_int_eq(stor_segment_open(&seg, root, 5, true, &lim, NULL, err, sizeof(err)),
	                 SL_OK);
	ck_assert_uint_eq(seg.size_bytes, 0);
	ck_assert_uint_eq(size_of(lp), 0);
	ck_assert_int_eq(stor_segment_delete(&seg), SL_OK);
	/* A zero-filled preallocated tail after valid batches. */
	make_segment(&seg, &m, 5, 20);
	stor_segment_close(&seg);
	uint8_t zeros[4096] = {0};
	append_file(lp, zeros, sizeof(zeros));
	struct stor_recovery_report rep;
	ck_assert_int_eq(stor_segment_open(&seg, root, 5, true, &lim, &rep, err, sizeof(err)),
	                 SL_OK);
	ck_assert_uint_eq(rep.bytes_truncated, sizeof(zeros));
	ck_assert_uint_eq(rep.batches_valid, 20);
	check_matches(&seg, &m, 20);
	stor_segment_close(&seg);
	sl_buf_free(&m.bytes);
}
END_TEST

/* A roll cut short: A's index write left a .tmp and A.index empty, B has only its .log, an
 * orphaned index of a deleted segment remains. */
START_TEST(test_interrupted_roll)
{
	struct stor_segment a, b;
	struct model m;
	char err[512], p[256];
	make_segment(&a, &m, 0, 30);
	int64_t next = a.next_offset;
	stor_segment_close(&a); /* crash before A's indexes were written */
	path_of(p, sizeof(p), 0, "index.tmp");
	write_file(p, "partial", 7);
	ck_assert_int_eq(stor_segment_create(&b, root, next, &lim, err, sizeof(err)), SL_OK);
	stor_segment_close(&b);
	path_of(p, sizeof(p), next, "index");
	unlink(p);
	path_of(p, sizeof(p), next, "timeindex");
	unlink(p);
	path_of(p, sizeof(p), 999999, "index");
	write_file(p, "x", 1);
	size_t removed = 0, swaps = 0;
	ck_assert_int_eq(stor_segment_dir_cleanup(root, &removed, &swaps, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(removed, 2);
	ck_assert_uint_eq(swaps, 0);
	struct stor_recovery_report rep;
	ck_assert_int_eq(stor_segment_open(&a, root, 0, false, &lim, &rep, err, sizeof(err)),
	                 SL_OK);
	ck_assert(rep.indexes_written);
	ck_assert_uint_eq(rep.batches_valid, 30); /* empty index: the whole tail was checked */
	check_matches(&a, &m, 30);
	ck_assert_int_eq(stor_segment_open(&b, root, next, true, &lim, &rep, err, sizeof(err)),
	                 SL_OK);
	ck_assert_int_eq(b.next_offset, next);
	ck_assert(rep.indexes_written);
	path_of(p, sizeof(p), next, "timeindex");
	ck_assert_uint_eq(size_of(p), 0);
	stor_segment_close(&a);
	stor_segment_close(&b);
	sl_buf_free(&m.bytes);
}
END_TEST

/* Whole CRC-valid batches with the wrong offsets are corruption, not a torn tail: a stale
 * copy of an earlier batch, and a file whose name does not match its batches. */
START_TEST(test_misplaced_batches)
{
	struct stor_segment seg;
	struct model m;
	char err[512], lp[256];
	make_segment(&seg, &m, 0, 10);
	stor_segment_close(&seg);
	path_of(lp, sizeof(lp), 0, "log");
	append_file(lp, m.bytes.data, m.pos[1]); /* batch 0 again */
	for (int recover = 0; recover < 2; recover++) {
		ck_assert_int_eq(
		        stor_segment_open(&seg, root, 0, recover, &lim, NULL, err, sizeof(err)),
		        SL_ECORRUPT);
		char want[64];
		snprintf(want, sizeof(want), "at byte %zu", m.bytes.len);
		ck_assert_msg(strstr(err, want) != NULL && strstr(err, lp) != NULL, "%s", err);
		ck_assert_uint_eq(size_of(lp), m.bytes.len + m.pos[1]);
	}
	/* Batches 0.. stored under the name of segment 100. */
	char other[256];
	path_of(other, sizeof(other), 100, "log");
	write_file(other, m.bytes.data, m.bytes.len);
	for (int recover = 0; recover < 2; recover++) {
		ck_assert_int_eq(
		        stor_segment_open(&seg, root, 100, recover, &lim, NULL, err, sizeof(err)),
		        SL_ECORRUPT);
		ck_assert_ptr_nonnull(strstr(err, "at byte 0"));
		ck_assert_uint_eq(size_of(other), m.bytes.len);
	}
	sl_buf_free(&m.bytes);
}
END_TEST

/* A whole CRC-valid batch whose baseOffset (outside the CRC) is so large that base +
 * lastOffsetDelta overflows int64: corruption (not a torn tail, not a crash), in both modes. */
START_TEST(test_offset_overflow)
{
	struct stor_segment seg;
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	build(&b, 0, 4, 5000, 1);
	size_t first = b.len;
	build(&b, 4, 4, 6000, 2);
	sl_store_be64(b.data + first, (uint64_t)(INT64_MAX - 1)); /* lastOffsetDelta is 3 */
	char lp[256], err[512];
	path_of(lp, sizeof(lp), 0, "log");
	write_file(lp, b.data, b.len);
	for (int recover = 1; recover >= 0; recover--) {
		ck_assert_int_eq(
		        stor_segment_open(&seg, root, 0, recover, &lim, NULL, err, sizeof(err)),
		        SL_ECORRUPT);
		char want[64];
		snprintf(want, sizeof(want), "at byte %zu", first);
		ck_assert_msg(strstr(err, want) != NULL, "%s", err);
		ck_assert_uint_eq(size_of(lp), b.len); /* not truncated */
	}
	/* A batch whose last offset would be INT64_MAX cannot be stored either (next_offset). */
	sl_store_be64(b.data + first, (uint64_t)(INT64_MAX - 3));
	write_file(lp, b.data, b.len);
	ck_assert_int_eq(stor_segment_open(&seg, root, 0, true, &lim, NULL, err, sizeof(err)),
	                 SL_ECORRUPT);
	ck_assert_uint_eq(size_of(lp), b.len);
	sl_buf_free(&b);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("recovery");
	TCase *tc = tcase_create("recovery");
	tcase_add_checked_fixture(tc, setup, seg_fixture_teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_tail_garbage);
	tcase_add_test(tc, test_torn_last_batch);
	tcase_add_test(tc, test_bit_flip_closed_segment);
	tcase_add_test(tc, test_bit_flip_index_files);
	tcase_add_test(tc, test_side_files);
	tcase_add_test(tc, test_empty_and_zero_tail);
	tcase_add_test(tc, test_interrupted_roll);
	tcase_add_test(tc, test_misplaced_batches);
	tcase_add_test(tc, test_offset_overflow);
	suite_add_tcase(s, tc);
	return s;
}
