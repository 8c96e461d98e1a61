/*
 * test_base_arena_buf.c: the per-request arena (alignment, limits, oversized chunks, reset,
 * overflow) and the bounded byte buffer (growth, cap, failed flag, encoders).
 */
#include "base.h"
#include "check_main.h"

#include <stdint.h>
#include <string.h>

/* ---- arena ---- */

START_TEST(test_arena_alignment_and_disjoint)
{
	struct sl_arena a;
	sl_arena_init(&a, 1024, 1 << 20);
	uint8_t *prev = NULL;
	size_t prev_n = 0;
	for (size_t n = 0; n < 200; n++) {
		uint8_t *p = sl_arena_alloc(&a, n);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % 16, 0);
		memset(p, (int)n, n);
		/* Within one chunk allocations move forward and never overlap. */
		if (prev != NULL && p > prev)
			ck_assert(p >= prev + prev_n);
		prev = p;
		prev_n = n;
	}
	ck_assert_uint_le(a.allocated_bytes, a.limit_bytes);
	sl_arena_free(&a);
	ck_assert_ptr_null(a.head);
	ck_assert_uint_eq(a.allocated_bytes, 0);
}
END_TEST

START_TEST(test_arena_contents_survive)
{
	struct sl_arena a;
	sl_arena_init(&a, 512, 1 << 20);
	uint8_t *ptrs[100];
	for (int i = 0; i < 100; i++) {
		ptrs[i] = sl_arena_alloc(&a, 100);
		ck_assert_ptr_nonnull(ptrs[i]);
		memset(ptrs[i], i, 100);
	}
	for (int i = 0; i < 100; i++) {
		for (int k = 0; k < 100; k++)
			ck_assert_uint_eq(ptrs[i][k], (unsigned)i);
	}
	sl_arena_free(&a);
}
END_TEST

START_TEST(test_arena_zero_size)
{
	struct sl_arena a;
	sl_arena_init(&a, 1024, 1 << 20);
	void *p = sl_arena_alloc(&a, 0);
	ck_assert_ptr_nonnull(p);
	void *q = sl_arena_calloc(&a, 0, 8);
	ck_assert_ptr_nonnull(q);
	char *s = sl_arena_strndup(&a, "", 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	sl_arena_free(&a);
}
END_TEST

START_TEST(test_arena_limit)
{
	struct sl_arena a;
	sl_arena_init(&a, 4096, 16384);
	size_t total = 0;
	for (;;) {
		void *p = sl_arena_alloc(&a, 1000);
		if (p == NULL)
			break;
		total += 1000;
		ck_assert_uint_le(a.allocated_bytes, a.limit_bytes);
	}
	/* Some, but never more than the limit. */
	ck_assert_uint_gt(total, 12000);
	ck_assert_uint_le(total, 16384);
	ck_assert_uint_le(a.allocated_bytes, 16384);
	/* Past the limit, larger requests keep failing and nothing grows. */
	size_t held = a.allocated_bytes;
	ck_assert_ptr_null(sl_arena_alloc(&a, 5000));
	ck_assert_uint_eq(a.allocated_bytes, held);
	sl_arena_free(&a);

	/* A single allocation over the limit fails even on a fresh arena. */
	sl_arena_init(&a, 4096, 16384);
	ck_assert_ptr_null(sl_arena_alloc(&a, 16384));
	ck_assert_uint_eq(a.allocated_bytes, 0);
	ck_assert_ptr_nonnull(sl_arena_alloc(&a, 8000));
	sl_arena_free(&a);

	/* Limit smaller than one chunk: the chunk shrinks to the budget, never past it. */
	sl_arena_init(&a, 4096, 100);
	ck_assert_ptr_nonnull(sl_arena_alloc(&a, 1));
	ck_assert_uint_le(a.allocated_bytes, 100);
	ck_assert_ptr_null(sl_arena_alloc(&a, 100));
	ck_assert_uint_le(a.allocated_bytes, 100);
	sl_arena_reset(&a); /* the shrunk first chunk is kept */
	ck_assert_uint_gt(a.allocated_bytes, 0);
	ck_assert_ptr_nonnull(sl_arena_alloc(&a, 16));
	sl_arena_free(&a);

	/* The whole limit is usable: 64 KiB limit, 4 KiB chunks, 1 KiB allocations. */
	sl_arena_init(&a, 4096, 65536);
	size_t got = 0;
	while (sl_arena_alloc(&a, 1024) != NULL)
		got += 1024;
	ck_assert_uint_le(a.allocated_bytes, 65536);
	ck_assert_uint_ge(got, 65536 - 17 * 1024); /* loses at most ~one allocation per chunk */
	sl_arena_free(&a);
	sl_arena_init(&a, 0, 0); /* zero limit: every allocation fails */
	ck_assert_ptr_null(sl_arena_alloc(&a, 0));
	sl_arena_free(&a);
}
END_TEST

START_TEST(test_arena_oversized_and_reset)
{
	struct sl_arena a;
	sl_arena_init(&a, 1024, 1 << 20);
	uint8_t *small = sl_arena_alloc(&a, 100);
	ck_assert_ptr_nonnull(small);
	size_t one_chunk = a.allocated_bytes;
	ck_assert_uint_ge(one_chunk, 1024);
	/* Larger than a chunk: its own chunk, and the head chunk keeps serving small ones. */
	uint8_t *big = sl_arena_alloc(&a, 10000);
	ck_assert_ptr_nonnull(big);
	ck_assert_uint_eq((uintptr_t)big % 16, 0);
	memset(big, 0xab, 10000);
	ck_assert_uint_ge(a.allocated_bytes, one_chunk + 10000);
	uint8_t *small2 = sl_arena_alloc(&a, 100);
	ck_assert_ptr_eq(small2, small + 112); /* same chunk, next aligned slot */
	ck_assert_uint_eq(big[9999], 0xab);
	/* Fill several more chunks. */
	for (int i = 0; i < 50; i++)
		ck_assert_ptr_nonnull(sl_arena_alloc(&a, 500));
	ck_assert_uint_gt(a.allocated_bytes, one_chunk * 5);
	/* Reset keeps exactly the first chunk, and starts handing it out again. */
	sl_arena_reset(&a);
	ck_assert_uint_eq(a.allocated_bytes, one_chunk);
	uint8_t *again = sl_arena_alloc(&a, 100);
	ck_assert_ptr_eq(again, small);
	sl_arena_reset(&a);
	sl_arena_reset(&a);
	ck_assert_uint_eq(a.allocated_bytes, one_chunk);
	sl_arena_free(&a);
	/* Reset of an arena that never allocated, and of one with only an oversized chunk. */
	sl_arena_init(&a, 1024, 1 << 20);
	sl_arena_reset(&a);
	ck_assert_uint_eq(a.allocated_bytes, 0);
	ck_assert_ptr_nonnull(sl_arena_alloc(&a, 5000));
	sl_arena_reset(&a);
	ck_assert_uint_eq(a.allocated_bytes, 0);
	ck_assert_ptr_nonnull(sl_arena_alloc(&a, 10));
	sl_arena_free(&a);
}
END_TEST

START_TEST(test_arena_overflow)
{
	struct sl_arena a;
	sl_arena_init(&a, 1024, SIZE_MAX);
	ck_assert_ptr_null(sl_arena_alloc(&a, SIZE_MAX));
	ck_assert_ptr_null(sl_arena_alloc(&a, SIZE_MAX - 8));
	ck_assert_ptr_null(sl_arena_alloc(&a, SIZE_MAX - 20)); /* header would overflow */
	ck_assert_ptr_null(sl_arena_calloc(&a, SIZE_MAX / 2, 3));
	ck_assert_ptr_null(sl_arena_calloc(&a, (SIZE_MAX >> 4) + 1, 16));
	ck_assert_ptr_null(sl_arena_strndup(&a, "x", SIZE_MAX));
	ck_assert_uint_eq(a.allocated_bytes, 0);
	/* After all that the arena still works. */
	ck_assert_ptr_nonnull(sl_arena_alloc(&a, 16));
	sl_arena_free(&a);
}
END_TEST

START_TEST(test_arena_calloc_strndup)
{
	struct sl_arena a;
	sl_arena_init(&a, 256, 1 << 20);
	/* Dirty the chunk, reset, then calloc must hand back zeros. */
	uint8_t *d = sl_arena_alloc(&a, 200);
	memset(d, 0xff, 200);
	sl_arena_reset(&a);
	uint32_t *z = sl_arena_calloc(&a, 50, sizeof(uint32_t));
	ck_assert_ptr_nonnull(z);
	for (int i = 0; i < 50; i++)
		ck_assert_uint_eq(z[i], 0);
	char *s = sl_arena_strndup(&a, "hello world", 5);
	ck_assert_str_eq(s, "hello");
	char *t = sl_arena_strndup(&a, "ab\0cd", 5); /* copies n bytes, embedded NUL and all */
	ck_assert_mem_eq(t, "ab\0cd", 6);
	sl_arena_free(&a);
}
END_TEST

/* ---- buf ---- */

START_TEST(test_buf_encoders)
{
	struct sl_buf b;
	sl_buf_init(&b, 1024);
	sl_buf_put_u8(&b, 0x7f);
	sl_buf_put_be16(&b, 0x0102);
	sl_buf_put_be32(&b, 0x03040506);
	sl_buf_put_be64(&b, 0x0708090a0b0c0d0eull);
	sl_buf_put_uvarint(&b, 300);
	sl_buf_put_varint(&b, -1);
	sl_buf_put_varint(&b, -65);
	sl_buf_append(&b, "xyz", 3);
	sl_buf_printf(&b, "%d-%s", 42, "ok");
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	static const uint8_t want[] = {0x7f, 1,   2,   3,   4,   5,    6,   7,  8,    9,
	                               10,   11,  12,  13,  14,  0xac, 2,   1,  0x81, 1,
	                               'x',  'y', 'z', '4', '2', '-',  'o', 'k'};
	ck_assert_uint_eq(b.len, sizeof(want));
	ck_assert_mem_eq(b.data, want, sizeof(want));
	ck_assert_uint_le(b.len, b.cap);
	ck_assert_uint_le(b.cap, b.max_bytes);
	sl_buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_buf_growth_and_cap)
{
	struct sl_buf b;
	sl_buf_init(&b, 1000);
	for (int i = 0; i < 1000; i++) {
		sl_buf_put_u8(&b, (uint8_t)i);
		ck_assert_uint_le(b.cap, 1000);
	}
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_uint_eq(b.cap, 1000);
	/* One more byte passes max_bytes: failed, and later appends are ignored. */
	sl_buf_put_u8(&b, 1);
	ck_assert(b.failed);
	ck_assert_int_eq(sl_buf_err(&b), SL_ENOMEM);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_ptr_null(sl_buf_extend(&b, 0));
	sl_buf_printf(&b, "x");
	ck_assert_uint_eq(b.len, 1000);
	for (int i = 0; i < 1000; i++)
		ck_assert_uint_eq(b.data[i], (uint8_t)i);
	/* Reset clears the flag and keeps the memory. */
	uint8_t *mem = b.data;
	sl_buf_reset(&b);
	ck_assert(!b.failed);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_eq(b.data, mem);
	sl_buf_put_be32(&b, 7);
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	ck_assert_uint_eq(b.len, 4);
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_buf_extend)
{
	struct sl_buf b;
	sl_buf_init(&b, 100);
	uint8_t *p = sl_buf_extend(&b, 60);
	ck_assert_ptr_nonnull(p);
	memset(p, 1, 60);
	ck_assert_uint_eq(b.len, 60);
	ck_assert_ptr_null(sl_buf_extend(&b, 41));
	ck_assert(b.failed);
	ck_assert_uint_eq(b.len, 60);
	sl_buf_reset(&b);
	ck_assert_ptr_nonnull(sl_buf_extend(&b, 100));
	ck_assert_ptr_null(sl_buf_extend(&b, SIZE_MAX)); /* no wrap-around */
	sl_buf_reset(&b);
	ck_assert_ptr_null(sl_buf_extend(&b, SIZE_MAX));
	sl_buf_free(&b);
	/* max_bytes 0: only empty appends succeed. */
	sl_buf_init(&b, 0);
	sl_buf_append(&b, "", 0);
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	sl_buf_put_u8(&b, 1);
	ck_assert_int_eq(sl_buf_err(&b), SL_ENOMEM);
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_buf_printf_bounds)
{
	struct sl_buf b;
	sl_buf_init(&b, 10);
	sl_buf_printf(&b, "%s", "12345");
	sl_buf_printf(&b, "%s", "67890"); /* exactly fills max_bytes: no room for a NUL */
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_mem_eq(b.data, "1234567890", 10);
	sl_buf_printf(&b, "%s", "");
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	sl_buf_printf(&b, "%c", 'x');
	ck_assert_int_eq(sl_buf_err(&b), SL_ENOMEM);
	ck_assert_uint_eq(b.len, 10);
	sl_buf_reset(&b);
	sl_buf_printf(&b, "%s", "this is far too long");
	ck_assert(b.failed);
	ck_assert_uint_eq(b.len, 0);
	sl_buf_free(&b);
	/* Large formatted output grows the buffer. */
	sl_buf_init(&b, 1 << 20);
	for (int i = 0; i < 10000; i++)
		sl_buf_printf(&b, "%05d,", i);
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	ck_assert_uint_eq(b.len, 60000);
	ck_assert_mem_eq(b.data + 6 * 1234, "01234,", 6);
	sl_buf_free(&b);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("base_arena_buf");
	TCase *ta = tcase_create("arena");
	tcase_add_test(ta, test_arena_alignment_and_disjoint);
	tcase_add_test(ta, test_arena_contents_survive);
	tcase_add_test(ta, test_arena_zero_size);
	tcase_add_test(ta, test_arena_limit);
	tcase_add_test(ta, test_arena_oversized_and_reset);
	tcase_add_test(ta, test_arena_overflow);
	tcase_add_test(ta, test_arena_calloc_strndup);
	suite_add_tcase(s, ta);
	TCase *tb = tcase_create("buf");
	tcase_add_test(tb, test_buf_encoders);
	tcase_add_test(tb, test_buf_growth_and_cap);
	tcase_add_test(tb, test_buf_extend);
	tcase_add_test(tb, test_buf_printf_bounds);
	suite_add_tcase(s, tb);
	return s;
}
