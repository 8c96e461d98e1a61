/*
 * batch_parse.c: validates RecordBatch v2 bytes from the network or the disk and iterates
 * their records as views.
 *
 * Nothing here trusts the input: every length is checked against what remains, the record
 * count against the records actually present, and the batch must be filled exactly. After
 * stor_batch_parse() accepts a batch, iterating it cannot fail. stor_batch_frame() is the
 * frame check shared with stor_batch_parse_header() and stor_batch_validate().
 */
#include "batch_int.h"

#include <string.h>

/* A zig-zag varint of at most 5 bytes (Kafka's 32-bit varint). 0 on error. */
static size_t get_varint32(const uint8_t *p, size_t n, int32_t *out)
{
	uint64_t u;
	size_t k = sl_uvarint_get(p, n, 5, &u);
	if (k == 0 || u > UINT32_MAX)
		return 0;
	*out = sl_unzigzag32((uint32_t)u);
	return k;
}

static size_t get_varint64(const uint8_t *p, size_t n, int64_t *out)
{
	uint64_t u;
	size_t k = sl_uvarint_get(p, n, 10, &u);
	if (k == 0)
		return 0;
	*out = sl_unzigzag64(u);
	return k;
}

struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static int32_t cur_varint32(struct cursor *c)
{
	int32_t v = 0;
	size_t k = c->bad ? 0 : get_varint32(c->p, c->left, &v);
	if (k == 0) {
		c->bad = true;
		return 0;
	}
	c->p += k;
	c->left -= k;
	return v;
}

static int64_t cur_varint64(struct cursor *c)
{
	int64_t v = 0;
	size_t k = c->bad ? 0 : get_varint64(c->p, c->left, &v);
	if (k == 0) {
		c->bad = true;
		return 0;
	}
	c->p += k;
	c->left -= k;
	return v;
}

/* A length-prefixed byte string; -1 is null only when nullable. */
static const uint8_t *cur_bytes(struct cursor *c, bool nullable, int32_t *len)
{
	*len = cur_varint32(c);
	if (c->bad)
		return NULL;
	if (*len == -1 && nullable)
		return NULL;
	if (*len < 0 || (size_t)*len > c->left) {
		c->bad = true;
		return NULL;
	}
	const uint8_t *p = c->p;
	c->p += *len;
	c->left -= (size_t)*len;
	return p;
}

enum sl_err stor_batch_peek_size(const uint8_t *p, size_t n, size_t *size)
{
	if (n < STOR_BATCH_LOG_OVERHEAD)
		return SL_EAGAIN;
	int32_t len = (int32_t)sl_load_be32(p + 8);
	if (len < STOR_BATCH_HEADER_BYTES - STOR_BATCH_LOG_OVERHEAD)
		return SL_EMALFORMED;
	*size = STOR_BATCH_LOG_OVERHEAD + (size_t)len;
	return SL_OK;
}

static void header_decode(const uint8_t *p, struct stor_batch_header *h)
{
	h->base_offset = (int64_t)sl_load_be64(p);
	h->batch_length = (int32_t)sl_load_be32(p + 8);
	h->partition_leader_epoch = (int32_t)sl_load_be32(p + 12);
	h->magic = (int8_t)p[16];
	h->crc = sl_load_be32(p + 17);
	h->attributes = (int16_t)sl_load_be16(p + 21);
	h->last_offset_delta = (int32_t)sl_load_be32(p + 23);
	h->base_timestamp = (int64_t)sl_load_be64(p + 27);
	h->max_timestamp = (int64_t)sl_load_be64(p + 35);
	h->producer_id = (int64_t)sl_load_be64(p + 43);
	h->producer_epoch = (int16_t)sl_load_be16(p + 51);
	h->base_sequence = (int32_t)sl_load_be32(p + 53);
	h->record_count = (int32_t)sl_load_be32(p + 57);
}

/* Walks every record; SL_OK only if exactly record_count records fill records_len. */
static enum sl_err records_check(const struct stor_batch_view *v)
{
	struct stor_record_iter it;
	struct stor_record r;
	stor_record_iter_init(&it, v);
	enum sl_err e;
	/* stor_record_next checks each record's headers fill it exactly. */
	while ((e = stor_record_next(&it, &r)) == SL_OK)
		;
	if (e != SL_ENOENT || it.left != 0)
		return SL_EMALFORMED;
	return SL_OK;
}

enum stor_batch_problem stor_batch_frame(const uint8_t *p, size_t n, struct stor_batch_view *out)
{
	SL_ASSERT(out != NULL);
	SL_ASSERT(p != NULL || n == 0);
	size_t size = 0;
	memset(out, 0, sizeof(*out));
	if (stor_batch_peek_size(p, n, &size) != SL_OK || size > n)
		return STOR_PROBLEM_TRUNCATED;
	/* The magic byte sits before the CRC-covered range, so check it first: a v0/v1
	 * message set has a different layout and CRC. */
	if (p[16] != STOR_BATCH_MAGIC)
		return STOR_PROBLEM_MAGIC;
	header_decode(p, &out->h);
	uint32_t crc =
	        sl_crc32c(0, p + STOR_BATCH_ATTRIBUTES_OFFSET, size - STOR_BATCH_ATTRIBUTES_OFFSET);
	if (crc != out->h.crc)
		return STOR_PROBLEM_CRC;
	if (stor_batch_compression(out) > STOR_COMPRESSION_MAX)
		return STOR_PROBLEM_COMPRESSION;
	if (out->h.record_count < 0 || out->h.last_offset_delta < 0)
		return STOR_PROBLEM_COUNT;
	out->data = p;
	out->size = size;
	out->records = p + STOR_BATCH_HEADER_BYTES;
	out->records_len = size - STOR_BATCH_HEADER_BYTES;
	return STOR_PROBLEM_NONE;
}

/* The sl_err stor_batch_parse and stor_batch_parse_header report for a frame problem. */
static enum sl_err frame_err(enum stor_batch_problem pr)
{
	switch (pr) {
	case STOR_PROBLEM_NONE:
		return SL_OK;
	case STOR_PROBLEM_MAGIC:
	case STOR_PROBLEM_COMPRESSION:
		return SL_EUNSUPPORTED;
	case STOR_PROBLEM_CRC:
		return SL_ECORRUPT;
	default:
		return SL_EMALFORMED;
	}
}

enum sl_err stor_batch_parse_header(const uint8_t *p, size_t n, struct stor_batch_view *out,
                                    size_t *consumed)
{
	SL_ASSERT(consumed != NULL);
	enum sl_err e = frame_err(stor_batch_frame(p, n, out));
	if (e == SL_OK)
		*consumed = out->size;
	return e;
}

enum sl_err stor_batch_parse(const uint8_t *p, size_t n, struct stor_batch_view *out,
                             size_t *consumed)
{
	SL_ASSERT(consumed != NULL);
	enum sl_err e = frame_err(stor_batch_frame(p, n, out));
	if (e != SL_OK)
		return e;
	if (stor_batch_compression(out) != STOR_COMPRESSION_NONE)
		return SL_EUNSUPPORTED;
	/* Each record takes at least 7 bytes; reject absurd counts before walking. */
	if ((size_t)out->h.record_count > out->records_len)
		return SL_EMALFORMED;
	e = records_check(out);
	if (e != SL_OK)
		return e;
	*consumed = out->size;
	return SL_OK;
}

void stor_record_iter_init(struct stor_record_iter *it, const struct stor_batch_view *v)
{
	SL_ASSERT(it != NULL);
	SL_ASSERT(v != NULL);
	it->p = v->records;
	it->left = v->records_len;
	it->remaining = v->h.record_count;
}

void stor_record_iter_init_raw(struct stor_record_iter *it, const uint8_t *records, size_t len,
                               int32_t count)
{
	SL_ASSERT(it != NULL);
	SL_ASSERT(records != NULL || len == 0);
	SL_ASSERT(count >= 0);
	it->p = records;
	it->left = len;
	it->remaining = count;
}

/* Decodes the record body in c (exactly the record's bytes). */
static enum sl_err record_decode(struct cursor *c, struct stor_record *out)
{
	if (c->left < 1)
		return SL_EMALFORMED;
	out->attributes = (int8_t)c->p[0];
	c->p++;
	c->left--;
	out->timestamp_delta = cur_varint64(c);
	out->offset_delta = cur_varint32(c);
	out->key = cur_bytes(c, true, &out->key_len);
	out->value = cur_bytes(c, true, &out->value_len);
	int32_t hcount = cur_varint32(c);
	if (c->bad || hcount < 0)
		return SL_EMALFORMED;
	out->header_count = (uint32_t)hcount;
	out->headers = c->p;
	out->headers_len = c->left;
	/* Headers must fill the rest of the record exactly. */
	struct stor_header_iter hi;
	struct stor_header h;
	stor_header_iter_init(&hi, out);
	enum sl_err e;
	while ((e = stor_header_next(&hi, &h)) == SL_OK)
		;
	if (e != SL_ENOENT || hi.left != 0)
		return SL_EMALFORMED;
	return SL_OK;
}

enum sl_err stor_record_next(struct stor_record_iter *it, struct stor_record *out)
{
	SL_ASSERT(it != NULL);
	SL_ASSERT(out != NULL);
	if (it->remaining == 0)
		return SL_ENOENT;
	struct cursor c = {it->p, it->left, false};
	int32_t len = cur_varint32(&c);
	if (c.bad || len < 0 || (size_t)len > c.left)
		return SL_EMALFORMED;
	struct cursor body = {c.p, (size_t)len, false};
	memset(out, 0, sizeof(*out));
	enum sl_err e = record_decode(&body, out);
	if (e != SL_OK)
		return e;
	it->p = c.p + len;
	it->left = c.left - (size_t)len;
	it->remaining--;
	return SL_OK;
}

void stor_header_iter_init(struct stor_header_iter *it, const struct stor_record *r)
{
	SL_ASSERT(it != NULL);
	SL_ASSERT(r != NULL);
	it->p = r->headers;
	it->left = r->headers_len;
	it->remaining = r->header_count;
}

enum sl_err stor_header_next(struct stor_header_iter *it, struct stor_header *out)
{
	SL_ASSERT(it != NULL);
	SL_ASSERT(out != NULL);
	if (it->remaining == 0)
		return SL_ENOENT;
	struct cursor c = {it->p, it->left, false};
	out->key = cur_bytes(&c, false, &out->key_len);
	out->value = cur_bytes(&c, true, &out->value_len);
	if (c.bad)
		return SL_EMALFORMED;
	it->p = c.p;
	it->left = c.left;
	it->remaining--;
	return SL_OK;
}

enum sl_err stor_control_key_parse(const struct stor_record *r, int16_t *type)
{
	SL_ASSERT(r != NULL);
	SL_ASSERT(type != NULL);
	if (r->key == NULL || r->key_len != STOR_CONTROL_KEY_BYTES)
		return SL_EMALFORMED;
	if (sl_load_be16(r->key) != 0)
		return SL_EMALFORMED;
	*type = (int16_t)sl_load_be16(r->key + 2);
	return SL_OK;
}
