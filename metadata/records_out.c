/*
 * records_out.c: the framed record list the controller decisions produce (meta_records), the
 * record versions a metadata.version implies, and Kafka's topic name rules (Topic.validate,
 * Topic.hasCollision).
 *
 * metadata.version -> versions written (kraft.md §4):
 *   PartitionRecord / PartitionChangeRecord: v1 from 3.7-IV2 (17), else v0.
 *   TopicRecord, ConfigRecord, RemoveTopicRecord: v0 (their only version).
 */
#include "meta_int.h"

#include <string.h>

#define RECORD_SCRATCH_MAX (8u << 20) /* one record; a batch is <= 8 MiB (kraft.md §4.1) */

void meta_records_init(struct meta_records *r, struct sl_arena *arena)
{
	SL_ASSERT(arena != NULL);
	*r = (struct meta_records){.arena = arena};
}

static bool records_grow(struct meta_records *out)
{
	size_t cap = SL_MAX((size_t)16, out->cap * 2);
	struct wire_bytes *n;

	cap = SL_MIN(cap, (size_t)META_BATCH_RECORDS_MAX);
	n = sl_arena_alloc(out->arena, sizeof(*n) * cap);
	if (n == NULL)
		return false;
	if (out->count > 0)
		memcpy(n, out->values, sizeof(*n) * out->count);
	out->values = n;
	out->cap = cap;
	return true;
}

bool meta_records_add(struct meta_records *out, int16_t key, int16_t version, const void *rec)
{
	struct sl_buf b;
	uint8_t *copy;

	if (out->count >= META_BATCH_RECORDS_MAX)
		return false;
	if (out->count == out->cap && !records_grow(out))
		return false;
	sl_buf_init(&b, RECORD_SCRATCH_MAX);
	meta_frame_put(&b, key, version);
	meta_record_encode_any(&b, key, version, rec);
	if (sl_buf_err(&b) != SL_OK || b.len > INT32_MAX ||
	    (copy = sl_arena_alloc(out->arena, b.len)) == NULL) {
		sl_buf_free(&b);
		return false;
	}
	memcpy(copy, b.data, b.len);
	out->values[out->count++] = (struct wire_bytes){copy, (int32_t)b.len};
	sl_buf_free(&b);
	return true;
}

int16_t meta_partition_record_version(int16_t metadata_version)
{
	return metadata_version >= META_MV_3_7_IV2 ? 1 : 0;
}

bool meta_topic_name_legal(struct wire_str name)
{
	if (name.len <= 0 || name.len > META_TOPIC_NAME_MAX)
		return false;
	if ((name.len == 1 && name.ptr[0] == '.') ||
	    (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.'))
		return false;
	for (int32_t i = 0; i < name.len; i++) {
		char c = name.ptr[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool meta_topic_names_collide(const char *a, size_t a_len, const char *b, size_t b_len)
{
	if (a_len != b_len)
		return false;
	for (size_t i = 0; i < a_len; i++) {
		char x = a[i] == '.' ? '_' : a[i];
		char y = b[i] == '.' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}
