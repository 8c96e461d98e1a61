/*
 * fuzz_request.c: libFuzzer target for request frames (the body after the 4-byte size).
 *
 * Decodes the request header; when the api key has definitions, decodes the body with every
 * version of that api (and, for client-side code, as a response too). Whatever decodes must
 * re-encode stably: encode(decode(x)) decodes exactly and re-encodes to the same bytes. The
 * arena is limited so allocation stays bounded; any crash, sanitizer report or SL_ASSERT
 * failure is a bug.
 */
#include "wire.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARENA_LIMIT (4u << 20)

static _Alignas(16) uint8_t msg1[4096], msg2[4096];

/* Checks that what decoded from the input re-encodes stably. */
static void check_stable(struct sl_arena *arena, bool response, int16_t key, int16_t v)
{
	struct sl_buf e1, e2;
	struct wire_reader r;
	enum sl_err err;

	sl_buf_init(&e1, 16u << 20);
	sl_buf_init(&e2, 16u << 20);
	if (response)
		wire_response_encode_any(&e1, key, v, msg1);
	else
		wire_request_encode_any(&e1, key, v, msg1);
	if (sl_buf_err(&e1) == SL_OK) {
		wire_reader_init(&r, e1.data, e1.len, arena);
		err = response ? wire_response_decode_any(&r, key, v, msg2)
		               : wire_request_decode_any(&r, key, v, msg2);
		/* The re-decode may only run out of arena, never find the bytes malformed. */
		SL_ASSERT(err == SL_OK || err == SL_ENOMEM);
		if (err == SL_OK) {
			SL_ASSERT(wire_reader_done(&r));
			if (response)
				wire_response_encode_any(&e2, key, v, msg2);
			else
				wire_request_encode_any(&e2, key, v, msg2);
			SL_ASSERT(sl_buf_err(&e2) == SL_OK);
			SL_ASSERT(e1.len == e2.len);
			SL_ASSERT((e1.len == 0 || memcmp(e1.data, e2.data, e1.len) == 0));
		}
	}
	sl_buf_free(&e1);
	sl_buf_free(&e2);
}

static void decode_body(struct sl_arena *arena, const struct wire_reader *body, bool response,
                        int16_t key, int16_t v)
{
	struct wire_reader r = *body;
	enum sl_err err;

	SL_ASSERT((response ? wire_response_struct_size(key) : wire_request_struct_size(key)) <=
	          sizeof(msg1));
	err = response ? wire_response_decode_any(&r, key, v, msg1)
	               : wire_request_decode_any(&r, key, v, msg1);
	SL_ASSERT(err == SL_OK || err == SL_EMALFORMED || err == SL_ENOMEM);
	SL_ASSERT(r.p >= body->p && r.p <= body->end);
	if (err == SL_OK)
		check_stable(arena, response, key, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sl_arena arena;
	static bool ready;
	struct wire_request_header h;
	struct wire_reader r;
	const struct wire_api_info *info;

	if (!ready) {
		sl_arena_init(&arena, 64u << 10, ARENA_LIMIT);
		ready = true;
	}
	sl_arena_reset(&arena);
	wire_reader_init(&r, data, size, &arena);
	if (wire_request_header_decode(&r, &h) != SL_OK)
		return 0;
	SL_ASSERT(r.p <= r.end);
	info = wire_api_info(h.api_key);
	if (info == NULL)
		return 0;
	for (int16_t v = info->min_version; v <= info->max_version; v++) {
		decode_body(&arena, &r, false, h.api_key, v);
		sl_arena_reset(&arena);
		decode_body(&arena, &r, true, h.api_key, v);
		sl_arena_reset(&arena);
	}
	return 0;
}
