/*
 * test_batch_validate.c: stor_batch_validate (batch_validate.c), the Produce-path check:
 * each Kafka rule maps to its own problem and error.
 */
#include "batch.h"
#include "check_main.h"

#include <string.h>

#define MIB (1024u * 1024u)

static void reseal(uint8_t *b, size_t size)
{
	sl_store_be32(b + 8, (uint32_t)(size - STOR_BATCH_LOG_OVERHEAD));
	uint32_t crc =
	        sl_crc32c(0, b + STOR_BATCH_ATTRIBUTES_OFFSET, size - STOR_BATCH_ATTRIBUTES_OFFSET);
	sl_store_be32(b + STOR_BATCH_CRC_OFFSET, crc);
}

static const uint8_t val[] = "v";

/* Three small records (key NULL, value "v", no headers: 8 bytes each with the length,
 * offsetDelta at byte 3 of each record) under a producer, uncompressed unless codec says otherwise.
 */
static size_t build3(struct sl_buf *b, int codec, int16_t extra_attrs)
{
	struct stor_record_in recs[3];
	memset(recs, 0, sizeof(recs));
	for (int i = 0; i < 3; i++) {
		recs[i].value = val;
		recs[i].value_len = 1;
		recs[i].timestamp_delta = i == 1 ? 50 : 0;
	}
	struct stor_batch_params p;
	stor_batch_params_init(&p, 1000);
	p.attributes = (int16_t)(codec | extra_attrs);
	p.producer_id = 5;
	p.producer_epoch = 0;
	p.base_sequence = 0;
	sl_buf_reset(b);
	ck_assert_int_eq(stor_batch_build(b, &p, recs, 3), SL_OK);
	return b->len;
}

struct vres {
	enum sl_err err;
	struct stor_validate_info info;
	struct stor_batch_view v;
	size_t used;
};

static struct vres run(const uint8_t *p, size_t n, bool client, size_t cap)
{
	static struct sl_buf scratch;
	if (scratch.max_bytes == 0)
		sl_buf_init(&scratch, 64 * MIB);
	struct vres r;
	memset(&r, 0, sizeof(r));
	const struct stor_validate_opts opts = {cap, client};
	r.err = stor_batch_validate(p, n, &opts, &scratch, &r.v, &r.used, &r.info);
	ck_assert_int_eq(r.err == SL_OK, r.info.problem == STOR_PROBLEM_NONE);
	ck_assert_ptr_nonnull(stor_batch_problem_name(r.info.problem));
	return r;
}

#define EXPECT(p, n, client, e, pr)                            \
	do {                                                   \
		struct vres r_ = run((p), (n), (client), MIB); \
		ck_assert_int_eq(r_.err, (e));                 \
		ck_assert_int_eq(r_.info.problem, (pr));       \
	} while (0)

START_TEST(test_valid_and_info)
{
	struct sl_buf b;
	sl_buf_init(&b, MIB);
	size_t size = build3(&b, 0, 0);
	/* A second batch behind the first: only the first is consumed. */
	uint8_t copy[256];
	ck_assert_uint_le(size, sizeof(copy));
	memcpy(copy, b.data, size);
	sl_buf_append(&b, copy, size);
	struct vres r = run(b.data, b.len, true, MIB);
	ck_assert_int_eq(r.err, SL_OK);
	ck_assert_uint_eq(r.used, size);
	ck_assert_int_eq(r.info.record_index, -1);
	ck_assert_int_eq(r.info.max_timestamp, 1050);
	ck_assert_uint_eq(r.info.records_bytes, 3 * 8);
	ck_assert_int_eq(r.v.h.record_count, 3);
	/* The cap applies to an uncompressed records area too. */
	r = run(b.data, size, true, 3 * 8 - 1);
	ck_assert_int_eq(r.err, SL_ETOOBIG);
	ck_assert_int_eq(r.info.problem, STOR_PROBLEM_TOO_BIG);
	sl_buf_free(&b);
}
END_TEST

/* Kafka 4 accepts only magic 2 (INVALID_RECORD); codecs 5-7 are unknown. */
START_TEST(test_magic_and_codec)
{
	struct sl_buf b;
	sl_buf_init(&b, MIB);
	size_t size = build3(&b, 0, 0);
	for (uint8_t magic = 0; magic < 2; magic++) {
		b.data[16] = magic;
		EXPECT(b.data, size, true, SL_EUNSUPPORTED, STOR_PROBLEM_MAGIC);
		EXPECT(b.data, size, false, SL_EUNSUPPORTED, STOR_PROBLEM_MAGIC);
	}
	b.data[16] = 3;
	EXPECT(b.data, size, true, SL_EUNSUPPORTED, STOR_PROBLEM_MAGIC);
	b.data[16] = 2;
	for (int codec = 5; codec <= 7; codec++) {
		b.data[22] = (uint8_t)codec;
		reseal(b.data, size);
		EXPECT(b.data, size, false, SL_EUNSUPPORTED, STOR_PROBLEM_COMPRESSION);
	}
	sl_buf_free(&b);
}
END_TEST

/* Length and CRC problems are CORRUPT_MESSAGE material. */
START_TEST(test_frame_problems)
{
	struct sl_buf b;
	sl_buf_init(&b, MIB);
	size_t size = build3(&b, 0, 0);
	for (size_t n = 0; n < size; n++)
		EXPECT(b.data, n, true, SL_ECORRUPT, STOR_PROBLEM_TRUNCATED);
	EXPECT(NULL, 0, true, SL_ECORRUPT, STOR_PROBLEM_TRUNCATED);
	sl_store_be32(b.data + 8, 48);
	EXPECT(b.data, size, true, SL_ECORRUPT, STOR_PROBLEM_TRUNCATED);
	sl_store_be32(b.data + 8, (uint32_t)-5);
	EXPECT(b.data, size, true, SL_ECORRUPT, STOR_PROBLEM_TRUNCATED);
	reseal(b.data, size);
	for (size_t i = STOR_BATCH_CRC_OFFSET; i < size; i++) {
		b.data[i] ^= 0x80;
		EXPECT(b.data, size, false, SL_ECORRUPT, STOR_PROBLEM_CRC);
		b.data[i] ^= 0x80;
	}
	EXPECT(b.data, size, true, SL_OK, STOR_PROBLEM_NONE);
	sl_buf_free(&b);
}
END_TEST

/* The declared count must match the records present, compressed or not. */
START_TEST(test_count_mismatch)
{
	static const int codecs[] = {0, STOR_COMPRESSION_GZIP, STOR_COMPRESSION_ZSTD};
	struct sl_buf b;
	sl_buf_init(&b, MIB);
	size_t size = build3(&b, codecs[_i], 0);
	static const int32_t counts[] = {1, 2, 4, 1000, INT32_MAX};
	for (size_t k = 0; k < SL_ARRAY_LEN(counts); k++) {
		sl_store_be32(b.data + 57, (uint32_t)counts[k]);
		sl_store_be32(b.data + 23, (uint32_t)(counts[k] - 1));
		reseal(b.data, size);
		EXPECT(b.data, size, false, SL_EMALFORMED, STOR_PROBLEM_COUNT);
		/* Client rules see the same problem (lastOffsetDelta consistent with it). */
		EXPECT(b.data, size, true, SL_EMALFORMED,
		       counts[k] < 3 ? STOR_PROBLEM_COUNT
		                     : (counts[k] > 3 ? STOR_PROBLEM_COUNT : STOR_PROBLEM_NONE));
	}
	/* Count 0: allowed in the log (a compacted-away batch needs no records only when the
	 * area is empty), never from a client. */
	sl_store_be32(b.data + 57, 0);
	sl_store_be32(b.data + 23, 0);
	reseal(b.data, size);
	EXPECT(b.data, size, true, SL_EMALFORMED, STOR_PROBLEM_COUNT);
	EXPECT(b.data, size, false, SL_EMALFORMED, STOR_PROBLEM_COUNT);
	/* Negative count or lastOffsetDelta. */
	sl_store_be32(b.data + 57, (uint32_t)-1);
	reseal(b.data, size);
	EXPECT(b.data, size, false, SL_EMALFORMED, STOR_PROBLEM_COUNT);
	sl_store_be32(b.data + 57, 3);
	sl_store_be32(b.data + 23, (uint32_t)-1);
	reseal(b.data, size);
	EXPECT(b.data, size, false, SL_EMALFORMED, STOR_PROBLEM_COUNT);
	sl_store_be32(b.data + 23, 2);
	reseal(b.data, size);
	EXPECT(b.data, size, true, SL_OK, STOR_PROBLEM_NONE);
	sl_buf_free(&b);
}
END_TEST

/* Sets record i's offsetDelta (one-byte zig-zag varint) in a build3 batch. */
static void set_delta(uint8_t *b, int i, int32_t delta)
{
	b[STOR_BATCH_HEADER_BYTES + 8 * i + 3] = (uint8_t)sl_zigzag32(delta);
}

/* Client batches need offset deltas 0..n-1 and lastOffsetDelta n-1 (LogValidator); log
 * batches need them increasing and within lastOffsetDelta (compaction leaves gaps). */
START_TEST(test_offset_deltas)
{
	struct sl_buf b;
	sl_buf_init(&b, MIB);
	size_t size = build3(&b, 0, 0);
	set_delta(b.data, 1, 2);
	set_delta(b.data, 2, 1);
	reseal(b.data, size);
	struct vres r = run(b.data, size, true, MIB);
	ck_assert_int_eq(r.err, SL_EMALFORMED);
	ck_assert_int_eq(r.info.problem, STOR_PROBLEM_OFFSETS);
	ck_assert_int_eq(r.info.record_index, 1);
	r = run(b.data, size, false, MIB);
	ck_assert_int_eq(r.info.problem, STOR_PROBLEM_OFFSETS);
	ck_assert_int_eq(r.info.record_index, 2);
	/* 0, 2, 3 with lastOffsetDelta 3: a compacted batch in the log, not from a client. */
	set_delta(b.data, 1, 2);
	set_delta(b.data, 2, 3);
	sl_store_be32(b.data + 23, 3);
	reseal(b.data, size);
	EXPECT(b.data, size, false, SL_OK, STOR_PROBLEM_NONE);
	EXPECT(b.data, size, true, SL_EMALFORMED, STOR_PROBLEM_OFFSETS);
	/* A delta past lastOffsetDelta, a repeated delta, a negative first delta. */
	sl_store_be32(b.data + 23, 2);
	reseal(b.data, size);
	EXPECT(b.data, size, false, SL_EMALFORMED, STOR_PROBLEM_OFFSETS);
	set_delta(b.data, 2, 2);
	reseal(b.data, size);
	EXPECT(b.data, size, false, SL_EMALFORMED, STOR_PROBLEM_OFFSETS);
	set_delta(b.data, 0, -1);
	set_delta(b.data, 1, 1);
	set_delta(b.data, 2, 2);
	reseal(b.data, size);
	EXPECT(b.data, size, false, SL_EMALFORMED, STOR_PROBLEM_OFFSETS);
	set_delta(b.data, 0, 0);
	reseal(b.data, size);
	EXPECT(b.data, size, true, SL_OK, STOR_PROBLEM_NONE);
	/* Offset rules hold inside a compressed batch too (Kafka's "Inner record ... does not
	 * have incremental offsets"): build one from a patched records area. */
	set_delta(b.data, 2, 7);
	struct sl_buf z;
	sl_buf_init(&z, MIB);
	sl_buf_append(&z, b.data, STOR_BATCH_HEADER_BYTES);
	z.data[22] = STOR_COMPRESSION_LZ4;
	ck_assert_int_eq(stor_compress(STOR_COMPRESSION_LZ4, 0, b.data + STOR_BATCH_HEADER_BYTES,
	                               size - STOR_BATCH_HEADER_BYTES, &z),
	                 SL_OK);
	reseal(z.data, z.len);
	r = run(z.data, z.len, true, MIB);
	ck_assert_int_eq(r.info.problem, STOR_PROBLEM_OFFSETS);
	ck_assert_int_eq(r.info.record_index, 2);
	sl_buf_free(&z);
	sl_buf_free(&b);
}
END_TEST

/* Producer fields under client rules. */
START_TEST(test_producer_fields)
{
	struct sl_buf b;
	sl_buf_init(&b, MIB);
	size_t size = build3(&b, 0, 0);
	sl_store_be32(b.data + 53, (uint32_t)-1); /* producer 5, baseSequence -1 */
	reseal(b.data, size);
	EXPECT(b.data, size, true, SL_EMALFORMED, STOR_PROBLEM_PRODUCER);
	EXPECT(b.data, size, false, SL_OK, STOR_PROBLEM_NONE);
	sl_store_be64(b.data + 43, (uint64_t)-1); /* no producer at all: fine */
	reseal(b.data, size);
	EXPECT(b.data, size, true, SL_OK, STOR_PROBLEM_NONE);
	size = build3(&b, 0, STOR_BATCH_ATTR_TRANSACTIONAL);
	EXPECT(b.data, size, true, SL_OK, STOR_PROBLEM_NONE);
	sl_store_be64(b.data + 43, (uint64_t)-1); /* transactional without a producer */
	reseal(b.data, size);
	EXPECT(b.data, size, true, SL_EMALFORMED, STOR_PROBLEM_PRODUCER);
	sl_buf_free(&b);
}
END_TEST

static size_t build_control_key(struct sl_buf *b, const uint8_t *key, int32_t key_len)
{
	struct stor_record_in r;
	memset(&r, 0, sizeof(r));
	r.key = key;
	r.key_len = key_len;
	r.value = val;
	r.value_len = 1;
	struct stor_batch_params p;
	stor_batch_params_init(&p, 0);
	p.attributes = STOR_BATCH_ATTR_CONTROL | STOR_COMPRESSION_SNAPPY;
	sl_buf_reset(b);
	ck_assert_int_eq(stor_batch_build(b, &p, &r, 1), SL_OK);
	return b->len;
}

/* Control keys as Kafka's ControlRecordType.parseTypeId reads them. */
START_TEST(test_control_keys)
{
	struct sl_buf b;
	sl_buf_init(&b, MIB);
	static const uint8_t ok0[] = {0, 0, 0, 1}, v1[] = {0, 1, 0, 9, 7, 7},
	                     neg[] = {0xff, 0xff, 0, 1};
	size_t size = build_control_key(&b, ok0, 4);
	EXPECT(b.data, size, false, SL_OK, STOR_PROBLEM_NONE);
	EXPECT(b.data, size, true, SL_EMALFORMED, STOR_PROBLEM_CONTROL);
	size = build_control_key(&b, v1, 6); /* newer version, longer key: tolerated */
	EXPECT(b.data, size, false, SL_OK, STOR_PROBLEM_NONE);
	size = build_control_key(&b, ok0, 3);
	EXPECT(b.data, size, false, SL_EMALFORMED, STOR_PROBLEM_CONTROL);
	size = build_control_key(&b, neg, 4);
	EXPECT(b.data, size, false, SL_EMALFORMED, STOR_PROBLEM_CONTROL);
	size = build_control_key(&b, NULL, 0);
	EXPECT(b.data, size, false, SL_EMALFORMED, STOR_PROBLEM_CONTROL);
	sl_buf_free(&b);
}
END_TEST

/* Bad record structure is INVALID_RECORD with the record's index. */
START_TEST(test_record_structure)
{
	struct sl_buf b;
	sl_buf_init(&b, MIB);
	size_t size = build3(&b, 0, 0);
	/* rec1: length, attributes, timestampDelta, offsetDelta, key -1, value 1, 'v', 0 */
	uint8_t *rec1 = b.data + STOR_BATCH_HEADER_BYTES + 8;
	rec1[7] = (uint8_t)sl_zigzag32(-1); /* header count -1 */
	reseal(b.data, size);
	struct vres r = run(b.data, size, true, MIB);
	ck_assert_int_eq(r.err, SL_EMALFORMED);
	ck_assert_int_eq(r.info.problem, STOR_PROBLEM_RECORD);
	ck_assert_int_eq(r.info.record_index, 1);
	rec1[7] = 0;
	rec1[5] = (uint8_t)sl_zigzag32(5); /* value longer than the record */
	reseal(b.data, size);
	EXPECT(b.data, size, true, SL_EMALFORMED, STOR_PROBLEM_RECORD);
	rec1[5] = (uint8_t)sl_zigzag32(1);
	rec1[4] = (uint8_t)sl_zigzag32(-2); /* key length -2 */
	reseal(b.data, size);
	EXPECT(b.data, size, true, SL_EMALFORMED, STOR_PROBLEM_RECORD);
	rec1[4] = 1;
	rec1[0] = (uint8_t)sl_zigzag32(6); /* record shorter than its fields */
	reseal(b.data, size);
	EXPECT(b.data, size, true, SL_EMALFORMED, STOR_PROBLEM_RECORD);
	rec1[0] = (uint8_t)sl_zigzag32(7);
	reseal(b.data, size);
	EXPECT(b.data, size, true, SL_OK, STOR_PROBLEM_NONE);
	/* One byte too many after the last record. */
	sl_buf_put_u8(&b, 0);
	reseal(b.data, b.len);
	EXPECT(b.data, b.len, true, SL_EMALFORMED, STOR_PROBLEM_COUNT);
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_timestamp_overflow)
{
	struct sl_buf b;
	sl_buf_init(&b, MIB);
	size_t size = build3(&b, 0, 0);
	sl_store_be64(b.data + 27, (uint64_t)(INT64_MAX - 10)); /* record 1 has delta 50 */
	reseal(b.data, size);
	struct vres r = run(b.data, size, true, MIB);
	ck_assert_int_eq(r.err, SL_EMALFORMED);
	ck_assert_int_eq(r.info.problem, STOR_PROBLEM_TIMESTAMP);
	ck_assert_int_eq(r.info.record_index, 1);
	sl_store_be64(b.data + 27, (uint64_t)(INT64_MAX - 50));
	reseal(b.data, size);
	r = run(b.data, size, true, MIB);
	ck_assert_int_eq(r.err, SL_OK);
	ck_assert_int_eq(r.info.max_timestamp, INT64_MAX);
	sl_buf_free(&b);
}
END_TEST

/* An undecodable compressed area is CORRUPT_MESSAGE; over the cap is TOO_BIG. */
START_TEST(test_decompress_problems)
{
	static const int codecs[] = {STOR_COMPRESSION_GZIP, STOR_COMPRESSION_SNAPPY,
	                             STOR_COMPRESSION_LZ4, STOR_COMPRESSION_ZSTD};
	struct sl_buf b;
	sl_buf_init(&b, MIB);
	size_t size = build3(&b, codecs[_i], 0);
	EXPECT(b.data, size, true, SL_OK, STOR_PROBLEM_NONE);
	struct vres r = run(b.data, size, true, 3 * 8 - 1);
	ck_assert_int_eq(r.err, SL_ETOOBIG);
	ck_assert_int_eq(r.info.problem, STOR_PROBLEM_TOO_BIG);
	memset(b.data + STOR_BATCH_HEADER_BYTES, 0xee, size - STOR_BATCH_HEADER_BYTES);
	reseal(b.data, size);
	r = run(b.data, size, true, MIB);
	ck_assert(r.err == SL_ECORRUPT || r.err == SL_ETOOBIG);
	ck_assert(r.info.problem == STOR_PROBLEM_DECOMPRESS ||
	          r.info.problem == STOR_PROBLEM_TOO_BIG);
	/* Empty compressed area. */
	reseal(b.data, STOR_BATCH_HEADER_BYTES);
	EXPECT(b.data, STOR_BATCH_HEADER_BYTES, true, SL_ECORRUPT, STOR_PROBLEM_DECOMPRESS);
	sl_buf_free(&b);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("batch_validate");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_valid_and_info);
	tcase_add_test(tc, test_magic_and_codec);
	tcase_add_test(tc, test_frame_problems);
	tcase_add_loop_test(tc, test_count_mismatch, 0, 3);
	tcase_add_test(tc, test_offset_deltas);
	tcase_add_test(tc, test_producer_fields);
	tcase_add_test(tc, test_control_keys);
	tcase_add_test(tc, test_record_structure);
	tcase_add_test(tc, test_timestamp_overflow);
	tcase_add_loop_test(tc, test_decompress_problems, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}
