/*
 * wire_test_util.h: small helpers for codec unit tests (test_wire_raft.c, test_quorum_cli.c):
 * byte comparison, string and uuid checks, and the two generic checks every message gets:
 *
 * - wt_roundtrip: encode a built message at a version, decode it exactly (no trailing bytes),
 *   hand the decoded struct to a check callback, then re-encode it to the very same bytes;
 * - wt_check_prefixes: every strict prefix of an encoding (copied to an exact-size heap block so
 *   ASan sees any overread) decodes to SL_EMALFORMED, and the whole encoding decodes exactly.
 *
 * Everything is static inline so a test file may use any subset without unused warnings. The
 * caller owns the arena and the buffers; decoded views point into buffers that stay alive until
 * the helper returns.
 */
#ifndef SL_WIRE_TEST_UTIL_H
#define SL_WIRE_TEST_UTIL_H

#include "check_main.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#define WT_BUF_MAX (1u << 20)

#define WT_STR(s) wire_str_c(s)
#define WT_ARR(field, arr) \
	((field##_count) = (int32_t)(sizeof(arr) / sizeof((arr)[0])), (field) = (arr))
/* got must be val when the field is present in the version, else its default. */
#define WT_CK(got, present, val, dflt) ck_assert_int_eq((got), (present) ? (val) : (dflt))

/* b holds exactly want[0..n). */
static inline void wt_ck_bytes(const struct sl_buf *b, const uint8_t *want, size_t n)
{
	ck_assert_int_eq(sl_buf_err(b), SL_OK);
	ck_assert_uint_eq(b->len, n);
	for (size_t i = 0; i < n; i++) {
		if (b->data[i] != want[i])
			ck_abort_msg("byte %zu: got 0x%02x want 0x%02x", i, b->data[i], want[i]);
	}
}

/* s equals want; want NULL = the null string. */
static inline void wt_ck_str(struct wire_str s, const char *want)
{
	if (want == NULL) {
		ck_assert_int_eq(s.len, -1);
		return;
	}
	ck_assert_msg(wire_str_eq(s, want), "string '%.*s' != '%s'", s.len < 0 ? 0 : (int)s.len,
	              s.ptr ? s.ptr : "", want);
}

/* s is val when present, else dflt (either may be NULL = null). */
static inline void wt_ck_sv(struct wire_str s, bool present, const char *val, const char *dflt)
{
	wt_ck_str(s, present ? val : dflt);
}

/* A recognisable uuid: bytes seed, seed+1, ... */
static inline struct sl_uuid wt_uuid(uint8_t seed)
{
	struct sl_uuid u;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed + i);
	return u;
}

/* u is wt_uuid(seed) when present, else the zero uuid. */
static inline void wt_ck_uuid(struct sl_uuid u, bool present, uint8_t seed)
{
	struct sl_uuid want = present ? wt_uuid(seed) : SL_UUID_ZERO;

	ck_assert(sl_uuid_eq(&u, &want));
}

static inline void wt_encode(bool response, int16_t key, int16_t v, const void *in,
                             struct sl_buf *b)
{
	if (response)
		wire_response_encode_any(b, key, v, in);
	else
		wire_request_encode_any(b, key, v, in);
	ck_assert_int_eq(sl_buf_err(b), SL_OK);
}

static inline enum sl_err wt_decode(bool response, int16_t key, int16_t v, struct wire_reader *r,
                                    void *out)
{
	return response ? wire_response_decode_any(r, key, v, out)
	                : wire_request_decode_any(r, key, v, out);
}

/* Encodes in (a struct wire_<api>_request/response) at v into enc (reset first), decodes it
 * exactly, runs check(decoded, v) and re-encodes the decoded struct to the same bytes. */
static inline void wt_roundtrip(bool response, int16_t key, int16_t v, const void *in,
                                struct sl_buf *enc, struct sl_arena *arena,
                                void (*check)(const void *, int16_t))
{
	size_t size = response ? wire_response_struct_size(key) : wire_request_struct_size(key);
	void *out = calloc(1, size);
	struct wire_reader r;
	struct sl_buf again;

	ck_assert_uint_gt(size, 0);
	ck_assert_ptr_nonnull(out);
	sl_buf_reset(enc);
	wt_encode(response, key, v, in, enc);
	sl_arena_reset(arena);
	wire_reader_init(&r, enc->data, enc->len, arena);
	ck_assert_msg(wt_decode(response, key, v, &r, out) == SL_OK, "key %d v%d", key, v);
	ck_assert_msg(wire_reader_done(&r), "key %d v%d: %zu trailing", key, v,
	              wire_reader_left(&r));
	check(out, v);
	sl_buf_init(&again, WT_BUF_MAX);
	wt_encode(response, key, v, out, &again);
	wt_ck_bytes(&again, enc->data, enc->len);
	sl_buf_free(&again);
	free(out);
}

/* Every strict prefix of enc is SL_EMALFORMED; the whole of it decodes exactly. */
static inline void wt_check_prefixes(bool response, int16_t key, int16_t v,
                                     const struct sl_buf *enc, struct sl_arena *arena)
{
	size_t size = response ? wire_response_struct_size(key) : wire_request_struct_size(key);
	void *out = calloc(1, size);

	ck_assert_ptr_nonnull(out);
	for (size_t n = 0; n <= enc->len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct wire_reader r;
		enum sl_err err;

		ck_assert_ptr_nonnull(copy);
		if (n > 0)
			memcpy(copy, enc->data, n);
		sl_arena_reset(arena);
		wire_reader_init(&r, copy, n, arena);
		err = wt_decode(response, key, v, &r, out);
		if (n < enc->len)
			ck_assert_msg(err == SL_EMALFORMED, "key %d v%d prefix %zu/%zu: %s", key, v,
			              n, enc->len, sl_err_name(err));
		else
			ck_assert_msg(err == SL_OK && wire_reader_done(&r), "full: %s",
			              sl_err_name(err));
		free(copy);
	}
	free(out);
}

#endif
