/*
 * test_base_varint.c: unsigned LEB128 encode/decode with strict bounds, zig-zag, and the
 * big-endian load/store helpers.
 */
#include "base.h"
#include "check_main.h"

#include <string.h>

static void roundtrip(uint64_t v, size_t want_len)
{
	uint8_t buf[SL_UVARINT_MAX_BYTES + 2];
	memset(buf, 0xee, sizeof(buf));
	size_t n = sl_uvarint_put(buf, v);
	ck_assert_uint_eq(n, want_len);
	ck_assert_uint_eq(sl_uvarint_len(v), want_len);
	ck_assert_uint_eq(buf[n], 0xee); /* nothing written past the encoding */
	uint64_t out = ~v;
	ck_assert_uint_eq(sl_uvarint_get(buf, n, SL_UVARINT_MAX_BYTES, &out), n);
	ck_assert_uint_eq(out, v);
	/* Extra trailing bytes are not consumed. */
	ck_assert_uint_eq(sl_uvarint_get(buf, sizeof(buf), SL_UVARINT_MAX_BYTES, &out), n);
	/* Every truncation fails. */
	for (size_t k = 0; k < n; k++)
		ck_assert_uint_eq(sl_uvarint_get(buf, k, SL_UVARINT_MAX_BYTES, &out), 0);
	if (v <= UINT32_MAX) {
		ck_assert_uint_eq(sl_uvarint_get(buf, n, 5, &out), n);
		ck_assert_uint_eq(out, v);
	} else {
		ck_assert_uint_eq(sl_uvarint_get(buf, n, 5, &out), 0);
	}
}

START_TEST(test_uvarint_roundtrip)
{
	roundtrip(0, 1);
	roundtrip(1, 1);
	roundtrip(127, 1);
	roundtrip(128, 2);
	roundtrip(300, 2);
	roundtrip(16383, 2);
	roundtrip(16384, 3);
	roundtrip((1u << 21) - 1, 3);
	roundtrip(1u << 21, 4);
	roundtrip((1u << 28) - 1, 4);
	roundtrip(1u << 28, 5);
	roundtrip(UINT32_MAX, 5);
	roundtrip((uint64_t)UINT32_MAX + 1, 5);
	roundtrip((1ull << 35) - 1, 5);
	roundtrip(1ull << 35, 6);
	roundtrip(1ull << 63, 10);
	roundtrip(UINT64_MAX, 10);
	for (int bit = 0; bit < 64; bit++) {
		uint64_t v = 1ull << bit;
		roundtrip(v, (size_t)bit / 7 + 1);
		roundtrip(v - 1, v - 1 == 0 ? 1 : (size_t)(bit - 1) / 7 + 1);
	}
}
END_TEST

START_TEST(test_uvarint_known_bytes)
{
	uint8_t buf[SL_UVARINT_MAX_BYTES];
	ck_assert_uint_eq(sl_uvarint_put(buf, 300), 2);
	ck_assert_uint_eq(buf[0], 0xac);
	ck_assert_uint_eq(buf[1], 0x02);
	ck_assert_uint_eq(sl_uvarint_put(buf, UINT32_MAX), 5);
	static const uint8_t u32max[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
	ck_assert_mem_eq(buf, u32max, 5);
	ck_assert_uint_eq(sl_uvarint_put(buf, UINT64_MAX), 10);
	for (int i = 0; i < 9; i++)
		ck_assert_uint_eq(buf[i], 0xff);
	ck_assert_uint_eq(buf[9], 0x01);
}
END_TEST

START_TEST(test_uvarint_rejects)
{
	uint64_t out = 42;
	/* Empty input. */
	ck_assert_uint_eq(sl_uvarint_get((const uint8_t *)"", 0, 10, &out), 0);
	/* Continuation bit on the last allowed byte (too long). */
	static const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
	ck_assert_uint_eq(sl_uvarint_get(six, sizeof(six), 5, &out), 0);
	ck_assert_uint_eq(sl_uvarint_get(six, sizeof(six), 10, &out), 6);
	ck_assert_uint_eq(out, 1ull << 35);
	/* 11 bytes never decode. */
	static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	                                 0x80, 0x80, 0x80, 0x80, 0x00};
	ck_assert_uint_eq(sl_uvarint_get(eleven, sizeof(eleven), 10, &out), 0);
	ck_assert_uint_eq(sl_uvarint_get(eleven, sizeof(eleven), 20, &out), 0);
	/* Overflow past 64 bits in the 10th byte. */
	static const uint8_t over64[] = {0xff, 0xff, 0xff, 0xff, 0xff,
	                                 0xff, 0xff, 0xff, 0xff, 0x02};
	ck_assert_uint_eq(sl_uvarint_get(over64, sizeof(over64), 10, &out), 0);
	static const uint8_t over64b[] = {0x80, 0x80, 0x80, 0x80, 0x80,
	                                  0x80, 0x80, 0x80, 0x80, 0x7f};
	ck_assert_uint_eq(sl_uvarint_get(over64b, sizeof(over64b), 10, &out), 0);
	/* 5-byte values must fit in 32 bits: 0x10 in the 5th byte is bit 32. */
	static const uint8_t over32[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
	ck_assert_uint_eq(sl_uvarint_get(over32, sizeof(over32), 5, &out), 0);
	ck_assert_uint_eq(sl_uvarint_get(over32, sizeof(over32), 10, &out), 5);
	ck_assert_uint_eq(out, 0x1ffffffffull);
	static const uint8_t top32[] = {0x80, 0x80, 0x80, 0x80, 0x70};
	ck_assert_uint_eq(sl_uvarint_get(top32, sizeof(top32), 5, &out), 0);
	/* Smaller limits: max_bytes 2 accepts 14 bits and nothing longer. */
	static const uint8_t three[] = {0x80, 0x80, 0x01};
	ck_assert_uint_eq(sl_uvarint_get(three, sizeof(three), 2, &out), 0);
	ck_assert_uint_eq(sl_uvarint_get(three, sizeof(three), 3, &out), 3);
	ck_assert_uint_eq(out, 1u << 14);
	ck_assert_uint_eq(sl_uvarint_get(three, sizeof(three), 0, &out), 0);
	/* Truncated: continuation set and input ends. */
	static const uint8_t trunc[] = {0x81};
	ck_assert_uint_eq(sl_uvarint_get(trunc, sizeof(trunc), 10, &out), 0);
	/* Non-minimal encodings are accepted (Kafka's decoder does too). */
	static const uint8_t padded[] = {0x81, 0x80, 0x00};
	ck_assert_uint_eq(sl_uvarint_get(padded, sizeof(padded), 5, &out), 3);
	ck_assert_uint_eq(out, 1);
}
END_TEST

START_TEST(test_zigzag)
{
	ck_assert_uint_eq(sl_zigzag32(0), 0);
	ck_assert_uint_eq(sl_zigzag32(-1), 1);
	ck_assert_uint_eq(sl_zigzag32(1), 2);
	ck_assert_uint_eq(sl_zigzag32(-2), 3);
	ck_assert_uint_eq(sl_zigzag32(INT32_MAX), UINT32_MAX - 1);
	ck_assert_uint_eq(sl_zigzag32(INT32_MIN), UINT32_MAX);
	ck_assert_uint_eq(sl_zigzag64(INT64_MIN), UINT64_MAX);
	ck_assert_uint_eq(sl_zigzag64(INT64_MAX), UINT64_MAX - 1);
	static const int64_t vals[] = {0,         1,         -1,        63,
	                               -64,       64,        -65,       INT32_MAX,
	                               INT32_MIN, INT64_MAX, INT64_MIN, 1234567890123ll};
	for (size_t i = 0; i < SL_ARRAY_LEN(vals); i++) {
		ck_assert_int_eq(sl_unzigzag64(sl_zigzag64(vals[i])), vals[i]);
		if (vals[i] >= INT32_MIN && vals[i] <= INT32_MAX)
			ck_assert_int_eq(sl_unzigzag32(sl_zigzag32((int32_t)vals[i])), vals[i]);
	}
	/* -64 fits one byte, -65 needs two (Kafka varint sizes). */
	ck_assert_uint_eq(sl_uvarint_len(sl_zigzag64(-64)), 1);
	ck_assert_uint_eq(sl_uvarint_len(sl_zigzag64(-65)), 2);
}
END_TEST

START_TEST(test_big_endian)
{
	uint8_t b[8];
	sl_store_be16(b, 0x1234);
	ck_assert_uint_eq(b[0], 0x12);
	ck_assert_uint_eq(b[1], 0x34);
	ck_assert_uint_eq(sl_load_be16(b), 0x1234);
	sl_store_be32(b, 0xdeadbeef);
	static const uint8_t be32[] = {0xde, 0xad, 0xbe, 0xef};
	ck_assert_mem_eq(b, be32, 4);
	ck_assert_uint_eq(sl_load_be32(b), 0xdeadbeef);
	sl_store_be64(b, 0x0102030405060708ull);
	static const uint8_t be64[] = {1, 2, 3, 4, 5, 6, 7, 8};
	ck_assert_mem_eq(b, be64, 8);
	ck_assert_uint_eq(sl_load_be64(b), 0x0102030405060708ull);
	sl_store_be64(b, UINT64_MAX);
	ck_assert_uint_eq(sl_load_be64(b), UINT64_MAX);
	sl_store_be16(b, 0xff00);
	ck_assert_uint_eq(sl_load_be16(b), 0xff00);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("base_varint");
	TCase *tc = tcase_create("varint");
	tcase_add_test(tc, test_uvarint_roundtrip);
	tcase_add_test(tc, test_uvarint_known_bytes);
	tcase_add_test(tc, test_uvarint_rejects);
	tcase_add_test(tc, test_zigzag);
	tcase_add_test(tc, test_big_endian);
	suite_add_tcase(s, tc);
	return s;
}
