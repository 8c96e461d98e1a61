/*
 * record_frame.c: ApiMessageAndVersion framing of metadata records (kraft.md §4.1;
 * AbstractApiMessageSerde): uvarint frame version 1, uvarint api key, uvarint version.
 */
#include "metadata.h"

void meta_frame_put(struct sl_buf *b, int16_t api_key, int16_t version)
{
	SL_ASSERT(api_key >= 0);
	SL_ASSERT(version >= 0);
	sl_buf_put_uvarint(b, META_FRAME_VERSION);
	sl_buf_put_uvarint(b, (uint64_t)api_key);
	sl_buf_put_uvarint(b, (uint64_t)version);
}

/* Reads a uvarint that must fit in a non-negative int16. */
static enum sl_err get_u15(struct wire_reader *r, int16_t *out)
{
	uint32_t v;
	enum sl_err err = wire_get_uvarint32(r, &v);

	if (err != SL_OK)
		return err;
	if (v > INT16_MAX)
		return SL_EMALFORMED;
	*out = (int16_t)v;
	return SL_OK;
}

enum sl_err meta_frame_get(struct wire_reader *r, int16_t *api_key, int16_t *version)
{
	uint32_t frame_version;
	enum sl_err err = wire_get_uvarint32(r, &frame_version);

	if (err != SL_OK)
		return err;
	if (frame_version != META_FRAME_VERSION)
		return SL_EMALFORMED;
	err = get_u15(r, api_key);
	if (err != SL_OK)
		return err;
	return get_u15(r, version);
}

const struct meta_record_info *meta_record_info(int16_t key)
{
	for (size_t i = 0; i < meta_record_table_count; i++) {
		if (meta_record_table[i].key == key)
			return &meta_record_table[i];
	}
	return NULL;
}
