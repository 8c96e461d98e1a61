/* test_batch.c: RecordBatch v2 build/parse (storage/batch). */
#include "batch.h"
#include "check_main.h"

#include <string.h>

/* Re-seals a batch after a test edits it, so only the edited field is wrong. */
static void reseal(uint8_t *b, size_t size)
{
	uint32_t crc =
	        sl_crc32c(0, b + STOR_BATCH_ATTRIBUTES_OFFSET, size - STOR_BATCH_ATTRIBUTES_OFFSET);
	sl_store_be32(b + STOR_BATCH_CRC_OFFSET, crc);
}

static const uint8_t k1[] = "key-1";
static const uint8_t v1[] = "value-one";
static const uint8_t hk[] = "hdr";
static const uint8_t hv[] = "hv";

/* Three records: key+value+2 headers, null key + empty value, key + null value. */
static size_t build_sample(struct sl_buf *b, int64_t base_offset)
{
	static const struct stor_header_in hdrs[2] = {
	        {hk, 3, hv, 2},
	        {hk, 3, NULL, 0},
	};
	struct stor_record_in recs[3];
	memset(recs, 0, sizeof(recs));
	recs[0] = (struct stor_record_in){0, k1, 5, v1, 9, hdrs, 2};
	recs[1] = (struct stor_record_in){-5, NULL, 0, v1, 0, NULL, 0};
	recs[2] = (struct stor_record_in){1000000, k1, 5, NULL, 0, NULL, 0};
	struct stor_batch_params p;
	stor_batch_params_init(&p, 1700000000000);
	p.base_offset = base_offset;
	p.partition_leader_epoch = 7;
	p.max_timestamp = 1700000001000;
	size_t start = b->len;
	ck_assert_int_eq(stor_batch_build(b, &p, recs, 3), SL_OK);
	return b->len - start;
}

START_TEST(test_round_trip)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	size_t size = build_sample(&b, 42);
	struct stor_batch_view v;
	size_t used = 0;
	ck_assert_int_eq(stor_batch_parse(b.data, b.len, &v, &used), SL_OK);
	ck_assert_uint_eq(used, size);
	ck_assert_int_eq(v.h.base_offset, 42);
	ck_assert_int_eq(v.h.batch_length, (int32_t)(size - 12));
	ck_assert_int_eq(v.h.partition_leader_epoch, 7);
	ck_assert_int_eq(v.h.magic, 2);
	ck_assert_int_eq(v.h.attributes, 0);
	ck_assert_int_eq(v.h.last_offset_delta, 2);
	ck_assert_int_eq(v.h.base_timestamp, 1700000000000);
	ck_assert_int_eq(v.h.max_timestamp, 1700000001000);
	ck_assert_int_eq(v.h.producer_id, -1);
	ck_assert_int_eq(v.h.producer_epoch, -1);
	ck_assert_int_eq(v.h.base_sequence, -1);
	ck_assert_int_eq(v.h.record_count, 3);
	ck_assert(!stor_batch_is_control(&v));

	struct stor_record_iter it;
	struct stor_record r;
	stor_record_iter_init(&it, &v);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(r.offset_delta, 0);
	ck_assert_int_eq(r.timestamp_delta, 0);
	ck_assert_int_eq(r.key_len, 5);
	ck_assert_mem_eq(r.key, k1, 5);
	ck_assert_int_eq(r.value_len, 9);
	ck_assert_mem_eq(r.value, v1, 9);
	ck_assert_uint_eq(r.header_count, 2);
	struct stor_header_iter hi;
	struct stor_header h;
	stor_header_iter_init(&hi, &r);
	ck_assert_int_eq(stor_header_next(&hi, &h), SL_OK);
	ck_assert_int_eq(h.key_len, 3);
	ck_assert_mem_eq(h.key, hk, 3);
	ck_assert_int_eq(h.value_len, 2);
	ck_assert_mem_eq(h.value, hv, 2);
	ck_assert_int_eq(stor_header_next(&hi, &h), SL_OK);
	ck_assert_ptr_null(h.value);
	ck_assert_int_eq(h.value_len, -1);
	ck_assert_int_eq(stor_header_next(&hi, &h), SL_ENOENT);

	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(r.offset_delta, 1);
	ck_assert_int_eq(r.timestamp_delta, -5);
	ck_assert_ptr_null(r.key);
	ck_assert_int_eq(r.key_len, -1);
	ck_assert_int_eq(r.value_len, 0);
	ck_assert_ptr_nonnull(r.value);

	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(r.offset_delta, 2);
	ck_assert_int_eq(r.timestamp_delta, 1000000);
	ck_assert_ptr_null(r.value);
	ck_assert_int_eq(r.value_len, -1);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_ENOENT);
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_two_batches_and_control)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	size_t first = build_sample(&b, 0);
	const uint8_t body[] = {0, 0, 0};
	const uint8_t *vals[2] = {body, body};
	size_t lens[2] = {3, 1};
	enum stor_control_type types[2] = {STOR_CONTROL_SNAPSHOT_HEADER, STOR_CONTROL_KRAFT_VOTERS};
	struct stor_batch_params p;
	stor_batch_params_init(&p, 5);
	p.base_offset = 3;
	ck_assert_int_eq(stor_batch_build_control(&b, &p, types, vals, lens, 2), SL_OK);

	struct stor_batch_view v;
	size_t used = 0;
	ck_assert_int_eq(stor_batch_parse(b.data, b.len, &v, &used), SL_OK);
	ck_assert_uint_eq(used, first);
	ck_assert_int_eq(stor_batch_parse(b.data + used, b.len - used, &v, &used), SL_OK);
	ck_assert_uint_eq(used, b.len - first);
	ck_assert(stor_batch_is_control(&v));
	ck_assert_int_eq(v.h.base_offset, 3);
	ck_assert_int_eq(v.h.last_offset_delta, 1);
	struct stor_record_iter it;
	struct stor_record r;
	int16_t type = -1;
	stor_record_iter_init(&it, &v);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(stor_control_key_parse(&r, &type), SL_OK);
	ck_assert_int_eq(type, STOR_CONTROL_SNAPSHOT_HEADER);
	ck_assert_int_eq(r.value_len, 3);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(stor_control_key_parse(&r, &type), SL_OK);
	ck_assert_int_eq(type, STOR_CONTROL_KRAFT_VOTERS);
	ck_assert_int_eq(r.value_len, 1);
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_crc_mismatch)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	size_t size = build_sample(&b, 0);
	struct stor_batch_view v;
	size_t used;
	/* Any flipped bit in the CRC-covered range or in the CRC itself is detected. */
	for (size_t i = STOR_BATCH_CRC_OFFSET; i < size; i++) {
		b.data[i] ^= 0x01;
		ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_ECORRUPT);
		b.data[i] ^= 0x01;
	}
	ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_OK);
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_truncated_everywhere)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	size_t size = build_sample(&b, 0);
	struct stor_batch_view v;
	size_t used;
	for (size_t n = 0; n < size; n++)
		ck_assert_int_eq(stor_batch_parse(b.data, n, &v, &used), SL_EMALFORMED);
	size_t peek = 0;
	ck_assert_int_eq(stor_batch_peek_size(b.data, 11, &peek), SL_EAGAIN);
	ck_assert_int_eq(stor_batch_peek_size(b.data, 12, &peek), SL_OK);
	ck_assert_uint_eq(peek, size);
	/* A batch whose length field is cut short (records truncated, CRC recomputed). */
	for (size_t cut = 1; cut < size - STOR_BATCH_HEADER_BYTES; cut++) {
		uint8_t copy[512];
		ck_assert_uint_le(size, sizeof(copy));
		memcpy(copy, b.data, size);
		size_t n = size - cut;
		sl_store_be32(copy + 8, (uint32_t)(n - 12));
		reseal(copy, n);
		ck_assert_int_eq(stor_batch_parse(copy, n, &v, &used), SL_EMALFORMED);
	}
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_count_mismatch)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	size_t size = build_sample(&b, 0);
	struct stor_batch_view v;
	size_t used;
	int32_t counts[] = {0, 2, 4, 1000, -1, INT32_MAX};
	for (size_t i = 0; i < SL_ARRAY_LEN(counts); i++) {
		sl_store_be32(b.data + 57, (uint32_t)counts[i]);
		reseal(b.data, size);
		ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_EMALFORMED);
	}
	sl_store_be32(b.data + 57, 3);
	reseal(b.data, size);
	ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_OK);
	/* A record length that points past the batch. */
	b.data[STOR_BATCH_HEADER_BYTES] = 0x7e; /* zig-zag 63 */
	reseal(b.data, size);
	ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_EMALFORMED);
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_magic_and_compression_rejected)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	size_t size = build_sample(&b, 0);
	struct stor_batch_view v;
	size_t used;
	b.data[16] = 1;
	ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_EUNSUPPORTED);
	b.data[16] = 0;
	ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_EUNSUPPORTED);
	b.data[16] = 2;
	b.data[22] |= 0x01; /* gzip */
	reseal(b.data, size);
	ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_EUNSUPPORTED);
	/* batchLength smaller than a header. */
	sl_store_be32(b.data + 8, 10);
	ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_EMALFORMED);
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_build_errors_leave_buffer)
{
	struct sl_buf b;
	sl_buf_init(&b, 100);
	struct stor_batch_params p;
	stor_batch_params_init(&p, 0);
	struct stor_record_in r;
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(stor_batch_build(&b, &p, &r, 0), SL_EINVAL);
	for (int16_t codec = 5; codec <= 7; codec++) {
		p.attributes = codec;
		ck_assert_int_eq(stor_batch_build(&b, &p, &r, 1), SL_EINVAL);
	}
	p.attributes = 0;
	r.value = v1;
	r.value_len = -3;
	ck_assert_int_eq(stor_batch_build(&b, &p, &r, 1), SL_EINVAL);
	r.value_len = 9;
	ck_assert_int_eq(stor_batch_build(&b, &p, &r, 1), SL_OK);
	size_t len = b.len;
	uint8_t big[200];
	memset(big, 'x', sizeof(big));
	r.value = big;
	r.value_len = (int32_t)sizeof(big);
	ck_assert_int_eq(stor_batch_build(&b, &p, &r, 1), SL_ENOMEM);
	ck_assert_uint_eq(b.len, len);
	ck_assert(!b.failed);
	sl_buf_free(&b);
}
END_TEST

/* parse_header checks the frame only: it accepts compressed batches parse refuses, and
 * rejects codec 5-7, bad magic, CRC and truncation the same way parse does. */
START_TEST(test_parse_header)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	size_t size = build_sample(&b, 9);
	struct stor_batch_view v;
	size_t used = 0;
	ck_assert_int_eq(stor_batch_parse_header(b.data, b.len, &v, &used), SL_OK);
	ck_assert_uint_eq(used, size);
	ck_assert_int_eq(v.h.base_offset, 9);
	ck_assert_int_eq(stor_batch_compression(&v), STOR_COMPRESSION_NONE);
	ck_assert_ptr_eq(v.records, b.data + STOR_BATCH_HEADER_BYTES);
	ck_assert_uint_eq(v.records_len, size - STOR_BATCH_HEADER_BYTES);
	for (int codec = 1; codec <= 7; codec++) {
		b.data[22] = (uint8_t)((b.data[22] & ~STOR_BATCH_ATTR_COMPRESSION_MASK) | codec);
		reseal(b.data, size);
		ck_assert_int_eq(stor_batch_parse_header(b.data, size, &v, &used),
		                 codec <= STOR_COMPRESSION_MAX ? SL_OK : SL_EUNSUPPORTED);
		ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_EUNSUPPORTED);
	}
	b.data[22] &= (uint8_t)~STOR_BATCH_ATTR_COMPRESSION_MASK;
	reseal(b.data, size);
	for (size_t n = 0; n < size; n++)
		ck_assert_int_eq(stor_batch_parse_header(b.data, n, &v, &used), SL_EMALFORMED);
	b.data[40] ^= 0x10;
	ck_assert_int_eq(stor_batch_parse_header(b.data, size, &v, &used), SL_ECORRUPT);
	b.data[40] ^= 0x10;
	b.data[16] = 1;
	ck_assert_int_eq(stor_batch_parse_header(b.data, size, &v, &used), SL_EUNSUPPORTED);
	b.data[16] = 2;
	/* The frame check does not walk the records: a wrong count passes it. */
	sl_store_be32(b.data + 57, 4);
	reseal(b.data, size);
	ck_assert_int_eq(stor_batch_parse_header(b.data, size, &v, &used), SL_OK);
	ck_assert_int_eq(stor_batch_parse(b.data, size, &v, &used), SL_EMALFORMED);
	sl_store_be32(b.data + 57, (uint32_t)-1);
	reseal(b.data, size);
	ck_assert_int_eq(stor_batch_parse_header(b.data, size, &v, &used), SL_EMALFORMED);
	sl_buf_free(&b);
}
END_TEST

/* The raw iterator walks a records area held outside any batch. */
START_TEST(test_raw_iterator)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	size_t size = build_sample(&b, 0);
	const uint8_t *area = b.data + STOR_BATCH_HEADER_BYTES;
	size_t len = size - STOR_BATCH_HEADER_BYTES;
	struct stor_record_iter it;
	struct stor_record r;
	stor_record_iter_init_raw(&it, area, len, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
		ck_assert_int_eq(r.offset_delta, i);
	}
	ck_assert_int_eq(stor_record_next(&it, &r), SL_ENOENT);
	ck_assert_uint_eq(it.left, 0);
	/* A count larger than the area runs out of bytes: SL_EMALFORMED, never a read past. */
	stor_record_iter_init_raw(&it, area, len, 4);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_EMALFORMED);
	stor_record_iter_init_raw(&it, NULL, 0, 1);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_EMALFORMED);
	sl_buf_free(&b);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_two_batches_and_control);
	tcase_add_test(tc, test_crc_mismatch);
	tcase_add_test(tc, test_truncated_everywhere);
	tcase_add_test(tc, test_count_mismatch);
	tcase_add_test(tc, test_magic_and_compression_rejected);
	tcase_add_test(tc, test_build_errors_leave_buffer);
	tcase_add_test(tc, test_parse_header);
	tcase_add_test(tc, test_raw_iterator);
	suite_add_tcase(s, tc);
	return s;
}
