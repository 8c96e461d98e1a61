/*
 * batch_validate.c: full validation of one RecordBatch as the Produce path needs it (frame,
 * bounded decompression, every record), and record iteration over compressed batches.
 *
 * Order of checks follows Kafka (ProduceRequest.validateRecords, then LogValidator): frame
 * and CRC first, then the batch-level client rules, then the records. Every problem maps to
 * one enum stor_batch_problem so the broker can answer with the Kafka error Kafka would
 * (see batch.h). Nothing here allocates except the caller's scratch buffer, which never
 * grows past opts->records_bytes_max.
 */
#include "batch_int.h"

#include <string.h>

/* The smallest record: length, attributes, timestampDelta, offsetDelta, key, value and
 * header count, one byte each. */
#define RECORD_BYTES_MIN 7

const char *stor_batch_problem_name(enum stor_batch_problem p)
{
	switch (p) {
	case STOR_PROBLEM_NONE:
		return "none";
	case STOR_PROBLEM_TRUNCATED:
		return "truncated batch or bad batch length";
	case STOR_PROBLEM_CRC:
		return "crc mismatch";
	case STOR_PROBLEM_MAGIC:
		return "magic is not 2";
	case STOR_PROBLEM_COMPRESSION:
		return "unknown compression codec";
	case STOR_PROBLEM_DECOMPRESS:
		return "compressed records cannot be decoded";
	case STOR_PROBLEM_TOO_BIG:
		return "records larger than the limit";
	case STOR_PROBLEM_COUNT:
		return "record count does not match the records";
	case STOR_PROBLEM_RECORD:
		return "invalid record structure";
	case STOR_PROBLEM_OFFSETS:
		return "record offsets are not consecutive";
	case STOR_PROBLEM_CONTROL:
		return "invalid control batch";
	case STOR_PROBLEM_PRODUCER:
		return "inconsistent producer fields";
	case STOR_PROBLEM_TIMESTAMP:
		return "record timestamp overflows";
	}
	return "unknown problem";
}

static enum sl_err problem_err(enum stor_batch_problem p)
{
	switch (p) {
	case STOR_PROBLEM_NONE:
		return SL_OK;
	case STOR_PROBLEM_TRUNCATED:
	case STOR_PROBLEM_CRC:
	case STOR_PROBLEM_DECOMPRESS:
		return SL_ECORRUPT;
	case STOR_PROBLEM_MAGIC:
	case STOR_PROBLEM_COMPRESSION:
		return SL_EUNSUPPORTED;
	case STOR_PROBLEM_TOO_BIG:
		return SL_ETOOBIG;
	default:
		return SL_EMALFORMED;
	}
}

enum sl_err stor_batch_decompress(const struct stor_batch_view *v, struct sl_buf *out, size_t cap)
{
	SL_ASSERT(v != NULL);
	int codec = stor_batch_compression(v);
	if (codec > STOR_COMPRESSION_MAX)
		return SL_EUNSUPPORTED;
	return stor_decompress((enum stor_compression)codec, v->records, v->records_len, out, cap);
}

enum sl_err stor_batch_records_open(const struct stor_batch_view *v, struct sl_buf *scratch,
                                    size_t cap, struct stor_record_iter *it)
{
	SL_ASSERT(v != NULL);
	SL_ASSERT(it != NULL);
	if (v->h.record_count < 0)
		return SL_EMALFORMED;
	if (stor_batch_compression(v) == STOR_COMPRESSION_NONE) {
		stor_record_iter_init(it, v);
		return SL_OK;
	}
	SL_ASSERT(scratch != NULL);
	sl_buf_reset(scratch);
	enum sl_err e = stor_batch_decompress(v, scratch, cap);
	if (e != SL_OK)
		return e;
	stor_record_iter_init_raw(it, scratch->data, scratch->len, v->h.record_count);
	return SL_OK;
}

/* Kafka LogValidator.validateBatch for AppendOrigin.CLIENT, plus the producer fields. */
static enum stor_batch_problem client_batch_check(const struct stor_batch_header *h)
{
	if (h->record_count <= 0)
		return STOR_PROBLEM_COUNT;
	if ((int64_t)h->last_offset_delta + 1 != h->record_count)
		return STOR_PROBLEM_OFFSETS;
	if ((h->attributes & STOR_BATCH_ATTR_CONTROL) != 0)
		return STOR_PROBLEM_CONTROL;
	if (h->producer_id >= 0 && h->base_sequence < 0)
		return STOR_PROBLEM_PRODUCER;
	if ((h->attributes & STOR_BATCH_ATTR_TRANSACTIONAL) != 0 && h->producer_id < 0)
		return STOR_PROBLEM_PRODUCER;
	return STOR_PROBLEM_NONE;
}

/* Kafka ControlRecordType.parseTypeId: at least 4 key bytes, version >= 0 (unknown
 * versions and types are tolerated). */
static bool control_key_ok(const struct stor_record *r)
{
	if (r->key == NULL || r->key_len < STOR_CONTROL_KEY_BYTES)
		return false;
	return (int16_t)sl_load_be16(r->key) >= 0;
}

struct walk {
	const struct stor_batch_header *h;
	bool client;
	int32_t prev_offset_delta;
	int64_t max_timestamp;
};

/* Per-record rules beyond structure (which stor_record_next checks). */
static enum stor_batch_problem record_check(struct walk *w, const struct stor_record *r,
                                            int32_t index)
{
	if (w->client ? r->offset_delta != index
	              : (r->offset_delta <= w->prev_offset_delta ||
	                 r->offset_delta > w->h->last_offset_delta))
		return STOR_PROBLEM_OFFSETS;
	w->prev_offset_delta = r->offset_delta;
	int64_t ts;
	if (__builtin_add_overflow(w->h->base_timestamp, r->timestamp_delta, &ts))
		return STOR_PROBLEM_TIMESTAMP;
	if (ts > w->max_timestamp)
		w->max_timestamp = ts;
	if ((w->h->attributes & STOR_BATCH_ATTR_CONTROL) != 0 && !control_key_ok(r))
		return STOR_PROBLEM_CONTROL;
	return STOR_PROBLEM_NONE;
}

/* Walks exactly record_count records that must fill raw[0..len). */
static enum stor_batch_problem records_walk(const uint8_t *raw, size_t len, bool client,
                                            const struct stor_batch_header *h,
                                            struct stor_validate_info *info)
{
	if ((size_t)h->record_count > len / RECORD_BYTES_MIN)
		return STOR_PROBLEM_COUNT;
	struct walk w = {h, client, -1, h->base_timestamp};
	struct stor_record_iter it;
	struct stor_record r;
	stor_record_iter_init_raw(&it, raw, len, h->record_count);
	for (int32_t i = 0; i < h->record_count; i++) {
		info->record_index = i;
		enum sl_err e = stor_record_next(&it, &r);
		if (e != SL_OK) {
			SL_ASSERT(e == SL_EMALFORMED);
			/* Out of bytes before the count: the count is wrong, not the record. */
			return it.left == 0 ? STOR_PROBLEM_COUNT : STOR_PROBLEM_RECORD;
		}
		enum stor_batch_problem pr = record_check(&w, &r, i);
		if (pr != STOR_PROBLEM_NONE)
			return pr;
	}
	info->record_index = -1;
	if (it.left != 0)
		return STOR_PROBLEM_COUNT; /* "records still remaining" */
	info->max_timestamp = w.max_timestamp;
	return STOR_PROBLEM_NONE;
}

static enum sl_err report(struct stor_validate_info *info, enum stor_batch_problem p)
{
	info->problem = p;
	return problem_err(p);
}

enum sl_err stor_batch_validate(const uint8_t *p, size_t n, const struct stor_validate_opts *opts,
                                struct sl_buf *scratch, struct stor_batch_view *out,
                                size_t *consumed, struct stor_validate_info *info)
{
	SL_ASSERT(opts != NULL);
	SL_ASSERT(scratch != NULL);
	SL_ASSERT(out != NULL);
	SL_ASSERT(consumed != NULL);
	SL_ASSERT(info != NULL);
	memset(info, 0, sizeof(*info));
	info->record_index = -1;
	enum stor_batch_problem pr = stor_batch_frame(p, n, out);
	if (pr != STOR_PROBLEM_NONE)
		return report(info, pr);
	info->max_timestamp = out->h.base_timestamp;
	if (opts->client && (pr = client_batch_check(&out->h)) != STOR_PROBLEM_NONE)
		return report(info, pr);
	const uint8_t *raw = out->records;
	size_t raw_len = out->records_len;
	if (stor_batch_compression(out) == STOR_COMPRESSION_NONE) {
		if (raw_len > opts->records_bytes_max)
			return report(info, STOR_PROBLEM_TOO_BIG);
	} else {
		sl_buf_reset(scratch);
		enum sl_err e = stor_batch_decompress(out, scratch, opts->records_bytes_max);
		if (e == SL_ETOOBIG)
			return report(info, STOR_PROBLEM_TOO_BIG);
		if (e == SL_ENOMEM)
			return SL_ENOMEM;
		if (e != SL_OK)
			return report(info, STOR_PROBLEM_DECOMPRESS);
		raw = scratch->data;
		raw_len = scratch->len;
	}
	info->records_bytes = raw_len;
	pr = records_walk(raw, raw_len, opts->client, &out->h, info);
	if (pr != STOR_PROBLEM_NONE)
		return report(info, pr);
	*consumed = out->size;
	return SL_OK;
}
