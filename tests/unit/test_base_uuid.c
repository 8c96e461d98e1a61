/*
 * test_base_uuid.c: Kafka Uuid text form (unpadded base64url), strict parsing, the reserved
 * range and random generation.
 */
#include "base.h"
#include "check_main.h"

#include <string.h>

static struct sl_uuid uuid_of(uint64_t msb, uint64_t lsb)
{
	struct sl_uuid u;
	sl_store_be64(u.b, msb);
	sl_store_be64(u.b + 8, lsb);
	return u;
}

static void expect_str(const struct sl_uuid *u, const char *want)
{
	char s[SL_UUID_STR_LEN + 1];
	memset(s, 'x', sizeof(s));
	sl_uuid_to_str(u, s);
	ck_assert_str_eq(s, want);
	struct sl_uuid back;
	ck_assert_int_eq(sl_uuid_parse(want, strlen(want), &back), SL_OK);
	ck_assert(sl_uuid_eq(&back, u));
}

START_TEST(test_known_strings)
{
	expect_str(&SL_UUID_ZERO, "AAAAAAAAAAAAAAAAAAAAAA");
	expect_str(&SL_UUID_METADATA, "AAAAAAAAAAAAAAAAAAAAAQ");
	struct sl_uuid m = uuid_of(0, 1);
	ck_assert(sl_uuid_eq(&m, &SL_UUID_METADATA));
	struct sl_uuid ones = uuid_of(UINT64_MAX, UINT64_MAX);
	expect_str(&ones, "_____________________w");
	/* java.util.UUID 123e4567-e89b-12d3-a456-426614174000 as a Kafka Uuid. */
	struct sl_uuid j = uuid_of(0x123e4567e89b12d3ull, 0xa456426614174000ull);
	expect_str(&j, "Ej5FZ-ibEtOkVkJmFBdAAA");
	struct sl_uuid two = uuid_of(0, 2);
	expect_str(&two, "AAAAAAAAAAAAAAAAAAAAAg");
	struct sl_uuid three = uuid_of(0, 3);
	expect_str(&three, "AAAAAAAAAAAAAAAAAAAAAw");
	struct sl_uuid top = uuid_of(1ull << 63, 0);
	expect_str(&top, "gAAAAAAAAAAAAAAAAAAAAA");
}
END_TEST

START_TEST(test_parse_rejects)
{
	struct sl_uuid u = uuid_of(7, 7);
	struct sl_uuid before = u;
	/* Wrong lengths. */
	ck_assert_int_eq(sl_uuid_parse("", 0, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAA", 21, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAAAA", 23, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAAA==", 24, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse(NULL, 22, &u), SL_EINVAL);
	/* Standard base64 symbols, padding, spaces, NUL, high bytes. */
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAA+A", 22, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAA/A", 22, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAA=A", 22, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse(" AAAAAAAAAAAAAAAAAAAAA", 22, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAA\0AAAAAAAAAAA", 22, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAA\xc3\xa9"
	                               "AAAAAAAAAA",
	                               22, &u),
	                 SL_EINVAL);
	/* Non-zero trailing bits: only A, Q, g, w may end a Uuid. */
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAAB", 22, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAAP", 22, &u), SL_EINVAL);
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAA_", 22, &u), SL_EINVAL);
	ck_assert(sl_uuid_eq(&u, &before)); /* untouched on failure */
	static const char ends[] = "AQgw";
	for (size_t i = 0; i < 4; i++) {
		char s[23] = "AAAAAAAAAAAAAAAAAAAAAA";
		s[21] = ends[i];
		ck_assert_int_eq(sl_uuid_parse(s, 22, &u), SL_OK);
		ck_assert_uint_eq(u.b[15], i);
	}
	/* Length is taken from n, not a NUL: a longer buffer parses its first 22 chars only. */
	ck_assert_int_eq(sl_uuid_parse("AAAAAAAAAAAAAAAAAAAAAQtrailing", 22, &u), SL_OK);
	ck_assert(sl_uuid_eq(&u, &SL_UUID_METADATA));
}
END_TEST

START_TEST(test_reserved)
{
	ck_assert(sl_uuid_is_zero(&SL_UUID_ZERO));
	ck_assert(!sl_uuid_is_zero(&SL_UUID_METADATA));
	ck_assert(sl_uuid_is_reserved(&SL_UUID_ZERO));
	ck_assert(sl_uuid_is_reserved(&SL_UUID_METADATA));
	struct sl_uuid u = uuid_of(0, 99);
	ck_assert(sl_uuid_is_reserved(&u));
	u = uuid_of(0, 100);
	ck_assert(!sl_uuid_is_reserved(&u));
	u = uuid_of(1, 0);
	ck_assert(!sl_uuid_is_reserved(&u));
	u = uuid_of(1ull << 63, 5);
	ck_assert(!sl_uuid_is_reserved(&u));
	u = uuid_of(0, UINT64_MAX);
	ck_assert(!sl_uuid_is_reserved(&u));
	struct sl_uuid a = uuid_of(5, 6);
	struct sl_uuid b = uuid_of(5, 7);
	ck_assert(!sl_uuid_eq(&a, &b));
	b = uuid_of(5, 6);
	ck_assert(sl_uuid_eq(&a, &b));
}
END_TEST

START_TEST(test_random)
{
	struct sl_uuid prev = SL_UUID_ZERO;
	for (int i = 0; i < 2000; i++) {
		struct sl_uuid u;
		ck_assert_int_eq(sl_uuid_random(&u), SL_OK);
		ck_assert(!sl_uuid_is_reserved(&u));
		ck_assert(!sl_uuid_eq(&u, &prev));
		char s[SL_UUID_STR_LEN + 1];
		sl_uuid_to_str(&u, s);
		ck_assert_uint_eq(strlen(s), SL_UUID_STR_LEN);
		ck_assert_int_ne(s[0], '-');
		/* Version 4, IETF variant, as java.util.UUID.randomUUID. */
		ck_assert_uint_eq(u.b[6] >> 4, 4);
		ck_assert_uint_eq(u.b[8] >> 6, 2);
		struct sl_uuid back;
		ck_assert_int_eq(sl_uuid_parse(s, SL_UUID_STR_LEN, &back), SL_OK);
		ck_assert(sl_uuid_eq(&back, &u));
		prev = u;
	}
}
END_TEST

START_TEST(test_roundtrip_all_symbols)
{
	/* Each position takes each of the 64 symbols (last position only its 4 legal ones). */
	static const char alpha[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	for (size_t pos = 0; pos < SL_UUID_STR_LEN; pos++) {
		for (size_t k = 0; k < 64; k++) {
			char s[SL_UUID_STR_LEN + 1] = "AAAAAAAAAAAAAAAAAAAAAA";
			s[pos] = alpha[k];
			struct sl_uuid u;
			enum sl_err rc = sl_uuid_parse(s, SL_UUID_STR_LEN, &u);
			if (pos == SL_UUID_STR_LEN - 1 && (k & 15) != 0) {
				ck_assert_int_eq(rc, SL_EINVAL);
				continue;
			}
			ck_assert_int_eq(rc, SL_OK);
			char t[SL_UUID_STR_LEN + 1];
			sl_uuid_to_str(&u, t);
			ck_assert_str_eq(t, s);
		}
	}
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("base_uuid");
	TCase *tc = tcase_create("uuid");
	tcase_add_test(tc, test_known_strings);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_reserved);
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_roundtrip_all_symbols);
	suite_add_tcase(s, tc);
	return s;
}
