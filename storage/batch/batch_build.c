/*
 * batch_build.c: writes RecordBatch v2 into an sl_buf, optionally compressed.
 *
 * The header is reserved first, records are appended (for a compressed batch: written to a
 * scratch buffer and appended compressed), then batchLength, the record count and the
 * CRC32C over [attributes, end) are patched in. A failed build leaves the buffer as it
 * was on entry, so a caller can append several batches and stop at the first error.
 */
#include "batch.h"

#include <assert.h>
#include <string.h>

static_assert(STOR_BATCH_HEADER_BYTES == 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4,
              "RecordBatch v2 header is 61 bytes");

void stor_batch_params_init(struct stor_batch_params *p, int64_t timestamp_ms)
{
	SL_ASSERT(p != NULL);
	p->base_offset = 0;
	p->partition_leader_epoch = 0;
	p->attributes = 0;
	p->compression_level = 0;
	p->scratch = NULL;
	p->base_timestamp = timestamp_ms;
	p->max_timestamp = timestamp_ms;
	p->producer_id = -1;
	p->producer_epoch = -1;
	p->base_sequence = -1;
}

static size_t varint_len(int64_t v)
{
	return sl_uvarint_len(sl_zigzag64(v));
}

/* Length field + bytes of a nullable byte string. */
static size_t bytes_len(const uint8_t *p, int32_t n)
{
	if (p == NULL)
		return varint_len(-1);
	return varint_len(n) + (size_t)n;
}

static bool record_valid(const struct stor_record_in *r)
{
	if ((r->key != NULL && r->key_len < 0) || (r->value != NULL && r->value_len < 0))
		return false;
	if (r->header_count > INT32_MAX || (r->header_count > 0 && r->headers == NULL))
		return false;
	for (size_t i = 0; i < r->header_count; i++) {
		const struct stor_header_in *h = &r->headers[i];
		if (h->key == NULL || h->key_len < 0 || (h->value != NULL && h->value_len < 0))
			return false;
	}
	return true;
}

/* Bytes of the record after its length varint. */
static size_t record_body_len(const struct stor_record_in *r, int32_t offset_delta)
{
	size_t n = 1 + varint_len(r->timestamp_delta) + varint_len(offset_delta);
	n += bytes_len(r->key, r->key_len) + bytes_len(r->value, r->value_len);
	n += varint_len((int64_t)r->header_count);
	for (size_t i = 0; i < r->header_count; i++) {
		n += bytes_len(r->headers[i].key, r->headers[i].key_len);
		n += bytes_len(r->headers[i].value, r->headers[i].value_len);
	}
	return n;
}

static void put_bytes(struct sl_buf *b, const uint8_t *p, int32_t n)
{
	if (p == NULL) {
		sl_buf_put_varint(b, -1);
		return;
	}
	sl_buf_put_varint(b, n);
	sl_buf_append(b, p, (size_t)n);
}

static void put_record(struct sl_buf *b, const struct stor_record_in *r, int32_t offset_delta)
{
	sl_buf_put_varint(b, (int64_t)record_body_len(r, offset_delta));
	sl_buf_put_u8(b, 0); /* record attributes: unused */
	sl_buf_put_varint(b, r->timestamp_delta);
	sl_buf_put_varint(b, offset_delta);
	put_bytes(b, r->key, r->key_len);
	put_bytes(b, r->value, r->value_len);
	sl_buf_put_varint(b, (int64_t)r->header_count);
	for (size_t i = 0; i < r->header_count; i++) {
		put_bytes(b, r->headers[i].key, r->headers[i].key_len);
		put_bytes(b, r->headers[i].value, r->headers[i].value_len);
	}
}

static void put_header(uint8_t *h, const struct stor_batch_params *p, int32_t last_offset_delta)
{
	sl_store_be64(h + 0, (uint64_t)p->base_offset);
	/* batchLength (8), crc (17) and count (57) are patched after the records. */
	sl_store_be32(h + 12, (uint32_t)p->partition_leader_epoch);
	h[16] = STOR_BATCH_MAGIC;
	sl_store_be16(h + 21, (uint16_t)p->attributes);
	sl_store_be32(h + 23, (uint32_t)last_offset_delta);
	sl_store_be64(h + 27, (uint64_t)p->base_timestamp);
	sl_store_be64(h + 35, (uint64_t)p->max_timestamp);
	sl_store_be64(h + 43, (uint64_t)p->producer_id);
	sl_store_be16(h + 51, (uint16_t)p->producer_epoch);
	sl_store_be32(h + 53, (uint32_t)p->base_sequence);
}

/* Restores out to its state on entry after a failed build. */
static enum sl_err build_fail(struct sl_buf *out, size_t start, bool was_failed, enum sl_err e)
{
	out->len = start;
	out->failed = was_failed;
	return e;
}

/* Appends the records area: plain, or via scratch and the codec. */
static enum sl_err put_records(struct sl_buf *out, const struct stor_batch_params *params,
                               const struct stor_record_in *records, size_t count)
{
	int codec = params->attributes & STOR_BATCH_ATTR_COMPRESSION_MASK;
	if (codec == STOR_COMPRESSION_NONE) {
		for (size_t i = 0; i < count; i++)
			put_record(out, &records[i], (int32_t)i);
		return sl_buf_err(out);
	}
	struct sl_buf local;
	struct sl_buf *raw = params->scratch;
	if (raw == NULL) {
		sl_buf_init(&local, out->max_bytes);
		raw = &local;
	}
	SL_ASSERT(raw != out);
	sl_buf_reset(raw);
	for (size_t i = 0; i < count; i++)
		put_record(raw, &records[i], (int32_t)i);
	enum sl_err e = sl_buf_err(raw);
	if (e == SL_OK)
		e = stor_compress((enum stor_compression)codec, params->compression_level,
		                  raw->data, raw->len, out);
	if (raw == &local)
		sl_buf_free(&local);
	return e;
}

enum sl_err stor_batch_build(struct sl_buf *out, const struct stor_batch_params *params,
                             const struct stor_record_in *records, size_t count)
{
	SL_ASSERT(out != NULL);
	SL_ASSERT(params != NULL);
	if (count == 0 || count > INT32_MAX || records == NULL)
		return SL_EINVAL;
	if ((params->attributes & STOR_BATCH_ATTR_COMPRESSION_MASK) > STOR_COMPRESSION_MAX)
		return SL_EINVAL;
	for (size_t i = 0; i < count; i++) {
		if (!record_valid(&records[i]))
			return SL_EINVAL;
	}
	if (out->failed)
		return SL_ENOMEM;
	size_t start = out->len;
	uint8_t *h = sl_buf_extend(out, STOR_BATCH_HEADER_BYTES);
	if (h == NULL)
		return build_fail(out, start, false, SL_ENOMEM);
	put_header(h, params, (int32_t)(count - 1));
	enum sl_err e = put_records(out, params, records, count);
	if (e != SL_OK)
		return build_fail(out, start, false, e);
	size_t size = out->len - start;
	if (size - STOR_BATCH_LOG_OVERHEAD > INT32_MAX)
		return build_fail(out, start, false, SL_ETOOBIG);
	h = out->data + start; /* the buffer may have moved */
	sl_store_be32(h + 8, (uint32_t)(size - STOR_BATCH_LOG_OVERHEAD));
	sl_store_be32(h + 57, (uint32_t)count);
	uint32_t crc =
	        sl_crc32c(0, h + STOR_BATCH_ATTRIBUTES_OFFSET, size - STOR_BATCH_ATTRIBUTES_OFFSET);
	sl_store_be32(h + STOR_BATCH_CRC_OFFSET, crc);
	return SL_OK;
}

#define CONTROL_BATCH_MAX 16

enum sl_err stor_batch_build_control(struct sl_buf *out, const struct stor_batch_params *params,
                                     const enum stor_control_type *types,
                                     const uint8_t *const *values, const size_t *values_len,
                                     size_t count)
{
	SL_ASSERT(params != NULL);
	if (count == 0 || count > CONTROL_BATCH_MAX)
		return SL_EINVAL;
	uint8_t keys[CONTROL_BATCH_MAX][STOR_CONTROL_KEY_BYTES];
	struct stor_record_in recs[CONTROL_BATCH_MAX];
	memset(recs, 0, sizeof(recs));
	for (size_t i = 0; i < count; i++) {
		if (values[i] == NULL || values_len[i] > INT32_MAX)
			return SL_EINVAL;
		sl_store_be16(keys[i], 0);
		sl_store_be16(keys[i] + 2, (uint16_t)types[i]);
		recs[i].key = keys[i];
		recs[i].key_len = STOR_CONTROL_KEY_BYTES;
		recs[i].value = values[i];
		recs[i].value_len = (int32_t)values_len[i];
	}
	struct stor_batch_params p = *params;
	p.attributes = (int16_t)(p.attributes | STOR_BATCH_ATTR_CONTROL);
	return stor_batch_build(out, &p, recs, count);
}
