/*
 * fuzz_metadata_record.c: libFuzzer target for metadata-log record values
 * (ApiMessageAndVersion frame + body). Whatever decodes must consume the input exactly or
 * leave trailing bytes the caller rejects, and must re-encode stably.
 */
#include "metadata.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static _Alignas(16) uint8_t rec1[1024], rec2[1024];

static void check_stable(struct sl_arena *arena, int16_t key, int16_t v)
{
	struct sl_buf e1, e2;
	struct wire_reader r;
	enum sl_err err;

	sl_buf_init(&e1, 16u << 20);
	sl_buf_init(&e2, 16u << 20);
	meta_record_encode_any(&e1, key, v, rec1);
	SL_ASSERT(sl_buf_err(&e1) == SL_OK);
	wire_reader_init(&r, e1.data, e1.len, arena);
	err = meta_record_decode_any(&r, key, v, rec2);
	SL_ASSERT(err == SL_OK || err == SL_ENOMEM);
	if (err == SL_OK) {
		SL_ASSERT(wire_reader_done(&r));
		meta_record_encode_any(&e2, key, v, rec2);
		SL_ASSERT(e1.len == e2.len);
		SL_ASSERT((e1.len == 0 || memcmp(e1.data, e2.data, e1.len) == 0));
	}
	sl_buf_free(&e1);
	sl_buf_free(&e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sl_arena arena;
	static bool ready;
	struct wire_reader r;
	int16_t key, v;
	const struct meta_record_info *info;
	enum sl_err err;

	if (!ready) {
		sl_arena_init(&arena, 64u << 10, 4u << 20);
		ready = true;
	}
	sl_arena_reset(&arena);
	wire_reader_init(&r, data, size, &arena);
	if (meta_frame_get(&r, &key, &v) != SL_OK)
		return 0;
	info = meta_record_info(key);
	if (info == NULL || v < info->min_version || v > info->max_version)
		return 0;
	SL_ASSERT(meta_record_struct_size(key) <= sizeof(rec1));
	err = meta_record_decode_any(&r, key, v, rec1);
	SL_ASSERT(err == SL_OK || err == SL_EMALFORMED || err == SL_ENOMEM);
	if (err == SL_OK)
		check_stable(&arena, key, v);
	return 0;
}
