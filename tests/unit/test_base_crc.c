/*
 * test_base_crc.c: CRC32C known vectors (RFC 3720 B.4 and the "check" value), hardware ==
 * software on every length 0..1024 at every alignment, and chaining.
 * Random data comes from a seeded xorshift; set SL_TEST_SEED to reproduce a failure.
 */
#include "base.h"
#include "check_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static void rng_seed(void)
{
	const char *s = getenv("SL_TEST_SEED");
	rng_state = s != NULL ? strtoull(s, NULL, 0) : 0x9e3779b97f4a7c15ull;
	if (rng_state == 0)
		rng_state = 1;
}

static uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next();
}

/* Bit-at-a-time reference, independent of both implementations under test. */
static uint32_t crc_ref(uint32_t crc, const uint8_t *p, size_t n)
{
	uint32_t c = ~crc;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

struct vector {
	const char *name;
	uint8_t data[48];
	size_t len;
	uint32_t crc;
};

static void check_vector(const uint8_t *data, size_t len, uint32_t want, const char *name)
{
	ck_assert_msg(sl_crc32c(0, data, len) == want, "%s: crc %08x want %08x", name,
	              sl_crc32c(0, data, len), want);
	ck_assert_msg(sl_crc32c_sw(0, data, len) == want, "%s: sw crc %08x want %08x", name,
	              sl_crc32c_sw(0, data, len), want);
	ck_assert_uint_eq(crc_ref(0, data, len), want);
}

START_TEST(test_check_value)
{
	check_vector((const uint8_t *)"123456789", 9, 0xE3069283u, "123456789");
	check_vector((const uint8_t *)"", 0, 0, "empty");
	check_vector((const uint8_t *)"a", 1, 0xC1D04330u, "a");
	const char *fox = "The quick brown fox jumps over the lazy dog";
	check_vector((const uint8_t *)fox, strlen(fox), 0x22620404u, "fox");
}
END_TEST

START_TEST(test_rfc3720_vectors)
{
	uint8_t buf[48];
	memset(buf, 0, 32);
	check_vector(buf, 32, 0x8A9136AAu, "zeros");
	memset(buf, 0xff, 32);
	check_vector(buf, 32, 0x62A8AB43u, "ones");
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	check_vector(buf, 32, 0x46DD794Eu, "ascending");
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	check_vector(buf, 32, 0x113FDB5Cu, "descending");
	/* iSCSI SCSI Read (10) command PDU. */
	static const uint8_t pdu[48] = {
	        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
	        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	check_vector(pdu, sizeof(pdu), 0xD9963A56u, "iscsi pdu");
}
END_TEST

START_TEST(test_negative_detects_change)
{
	uint8_t buf[64];
	memset(buf, 0x5a, sizeof(buf));
	uint32_t base = sl_crc32c(0, buf, sizeof(buf));
	/* Every single-bit flip changes the CRC (CRCs detect all 1-bit errors). */
	for (size_t i = 0; i < sizeof(buf) * 8; i++) {
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		ck_assert_uint_ne(sl_crc32c(0, buf, sizeof(buf)), base);
		ck_assert_uint_ne(sl_crc32c_sw(0, buf, sizeof(buf)), base);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	ck_assert_uint_eq(sl_crc32c(0, buf, sizeof(buf)), base);
	ck_assert_uint_ne(sl_crc32c(0, "123456788", 9), 0xE3069283u);
	ck_assert_uint_ne(sl_crc32c(1, "123456789", 9), 0xE3069283u);
}
END_TEST

START_TEST(test_hw_matches_sw_all_lengths)
{
	rng_seed();
	uint64_t seed = rng_state;
	enum { MAXLEN = 1024, PAD = 16 };
	uint8_t *buf = malloc(MAXLEN + PAD);
	ck_assert_ptr_nonnull(buf);
	fill_random(buf, MAXLEN + PAD);
	for (size_t off = 0; off < PAD; off++) {
		for (size_t len = 0; len <= MAXLEN; len++) {
			uint32_t seedcrc = (uint32_t)rng_next();
			uint32_t hw = sl_crc32c(seedcrc, buf + off, len);
			uint32_t sw = sl_crc32c_sw(seedcrc, buf + off, len);
			ck_assert_msg(hw == sw, "seed %llu off %zu len %zu: hw %08x sw %08x",
			              (unsigned long long)seed, off, len, hw, sw);
			if (len <= 300 || len % 97 == 0)
				ck_assert_uint_eq(sw, crc_ref(seedcrc, buf + off, len));
		}
	}
	free(buf);
}
END_TEST

START_TEST(test_chaining)
{
	rng_seed();
	uint8_t buf[1000];
	fill_random(buf, sizeof(buf));
	uint32_t whole = sl_crc32c(0, buf, sizeof(buf));
	for (size_t split = 0; split <= sizeof(buf); split += 37) {
		uint32_t c = sl_crc32c(0, buf, split);
		c = sl_crc32c(c, buf + split, sizeof(buf) - split);
		ck_assert_uint_eq(c, whole);
		uint32_t s = sl_crc32c_sw(0, buf, split);
		s = sl_crc32c_sw(s, buf + split, sizeof(buf) - split);
		ck_assert_uint_eq(s, whole);
	}
	/* Byte-at-a-time chaining equals one call. */
	uint32_t c = 0;
	for (size_t i = 0; i < 9; i++)
		c = sl_crc32c(c, &"123456789"[i], 1);
	ck_assert_uint_eq(c, 0xE3069283u);
	/* A zero-length update leaves the CRC unchanged. */
	ck_assert_uint_eq(sl_crc32c(whole, buf, 0), whole);
	ck_assert_uint_eq(sl_crc32c_sw(whole, NULL, 0), whole);
}
END_TEST

START_TEST(test_hw_detection)
{
#if defined(__x86_64__)
	/* Every x86-64 machine we build on has SSE4.2; the answer must match the compiler's. */
	ck_assert(sl_crc32c_hw_available() == (bool)__builtin_cpu_supports("sse4.2"));
#else
	ck_assert(!sl_crc32c_hw_available());
#endif
	printf("crc32c hardware path: %s\n", sl_crc32c_hw_available() ? "sse4.2" : "software");
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("base_crc");
	TCase *tc = tcase_create("crc32c");
	tcase_add_test(tc, test_check_value);
	tcase_add_test(tc, test_rfc3720_vectors);
	tcase_add_test(tc, test_negative_detects_change);
	tcase_add_test(tc, test_hw_matches_sw_all_lengths);
	tcase_add_test(tc, test_chaining);
	tcase_add_test(tc, test_hw_detection);
	suite_add_tcase(s, tc);
	return s;
}
