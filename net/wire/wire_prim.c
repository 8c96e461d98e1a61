/*
 * wire_prim.c: bounds-checked primitive readers and writers of the Kafka protocol.
 *
 * Invariant: every reader checks what remains before touching a byte and leaves r->p
 * unchanged-or-advanced only within [p, end]. Lengths and counts from the input are validated
 * (negative other than -1, past the end, compact overflow) before any view or allocation.
 */
#include "wire.h"

#include <string.h>

#define WIRE_STRING_MAX 32767 /* Kafka strings have an int16 length, compact ones too */

void wire_reader_init(struct wire_reader *r, const void *buf, size_t len, struct sl_arena *a)
{
	static const uint8_t empty[1];

	SL_ASSERT(r != NULL);
	SL_ASSERT(buf != NULL || len == 0);
	/* NULL + 0 is undefined behaviour: an empty buffer that never allocated points here. */
	r->p = buf != NULL ? buf : empty;
	r->end = r->p + len;
	r->arena = a;
}

bool wire_reader_done(const struct wire_reader *r)
{
	return r->p == r->end;
}

struct wire_str wire_str_c(const char *s)
{
	struct wire_str w = {s, -1};

	if (s != NULL) {
		size_t n = strlen(s);
		SL_ASSERT(n <= INT32_MAX);
		w.len = (int32_t)n;
	}
	return w;
}

bool wire_str_eq(struct wire_str s, const char *c)
{
	if (s.len < 0 || c == NULL)
		return false;
	return strlen(c) == (size_t)s.len && memcmp(s.ptr, c, (size_t)s.len) == 0;
}

static enum sl_err take(struct wire_reader *r, size_t n, const uint8_t **out)
{
	if (wire_reader_left(r) < n)
		return SL_EMALFORMED;
	*out = r->p;
	r->p += n;
	return SL_OK;
}

enum sl_err wire_get_i8(struct wire_reader *r, int8_t *out)
{
	const uint8_t *p;
	enum sl_err err = take(r, 1, &p);

	if (err == SL_OK)
		*out = (int8_t)p[0];
	return err;
}

enum sl_err wire_get_i16(struct wire_reader *r, int16_t *out)
{
	const uint8_t *p;
	enum sl_err err = take(r, 2, &p);

	if (err == SL_OK)
		*out = (int16_t)sl_load_be16(p);
	return err;
}

enum sl_err wire_get_u16(struct wire_reader *r, uint16_t *out)
{
	const uint8_t *p;
	enum sl_err err = take(r, 2, &p);

	if (err == SL_OK)
		*out = sl_load_be16(p);
	return err;
}

enum sl_err wire_get_i32(struct wire_reader *r, int32_t *out)
{
	const uint8_t *p;
	enum sl_err err = take(r, 4, &p);

	if (err == SL_OK)
		*out = (int32_t)sl_load_be32(p);
	return err;
}

enum sl_err wire_get_u32(struct wire_reader *r, uint32_t *out)
{
	const uint8_t *p;
	enum sl_err err = take(r, 4, &p);

	if (err == SL_OK)
		*out = sl_load_be32(p);
	return err;
}

enum sl_err wire_get_i64(struct wire_reader *r, int64_t *out)
{
	const uint8_t *p;
	enum sl_err err = take(r, 8, &p);

	if (err == SL_OK)
		*out = (int64_t)sl_load_be64(p);
	return err;
}

enum sl_err wire_get_f64(struct wire_reader *r, double *out)
{
	const uint8_t *p;
	enum sl_err err = take(r, 8, &p);

	if (err == SL_OK) {
		uint64_t bits = sl_load_be64(p);
		memcpy(out, &bits, sizeof(*out));
	}
	return err;
}

enum sl_err wire_get_bool(struct wire_reader *r, bool *out)
{
	const uint8_t *p;
	enum sl_err err = take(r, 1, &p);

	if (err == SL_OK)
		*out = p[0] != 0;
	return err;
}

enum sl_err wire_get_uuid(struct wire_reader *r, struct sl_uuid *out)
{
	const uint8_t *p;
	enum sl_err err = take(r, 16, &p);

	if (err == SL_OK)
		memcpy(out->b, p, 16);
	return err;
}

static enum sl_err get_uvarint(struct wire_reader *r, size_t max_bytes, uint64_t *out)
{
	size_t n = sl_uvarint_get(r->p, wire_reader_left(r), max_bytes, out);

	if (n == 0)
		return SL_EMALFORMED;
	r->p += n;
	return SL_OK;
}

enum sl_err wire_get_uvarint32(struct wire_reader *r, uint32_t *out)
{
	uint64_t v;
	enum sl_err err = get_uvarint(r, 5, &v);

	if (err != SL_OK)
		return err;
	if (v > UINT32_MAX)
		return SL_EMALFORMED;
	*out = (uint32_t)v;
	return SL_OK;
}

enum sl_err wire_get_varint32(struct wire_reader *r, int32_t *out)
{
	uint32_t v;
	enum sl_err err = wire_get_uvarint32(r, &v);

	if (err == SL_OK)
		*out = sl_unzigzag32(v);
	return err;
}

enum sl_err wire_get_varint64(struct wire_reader *r, int64_t *out)
{
	uint64_t v;
	enum sl_err err = get_uvarint(r, 10, &v);

	if (err == SL_OK)
		*out = sl_unzigzag64(v);
	return err;
}

/* Reads a length: classic (int16 or int32 by `wide`) or compact (uvarint N+1). -1 = null. */
static enum sl_err get_len(struct wire_reader *r, bool compact, bool wide, int64_t *len)
{
	enum sl_err err;

	if (compact) {
		uint32_t n = 0;
		err = wire_get_uvarint32(r, &n);
		*len = (int64_t)n - 1;
	} else if (wide) {
		int32_t n = 0;
		err = wire_get_i32(r, &n);
		*len = n;
	} else {
		int16_t n = 0;
		err = wire_get_i16(r, &n);
		*len = n;
	}
	if (err != SL_OK)
		return err;
	if (*len < -1)
		return SL_EMALFORMED;
	return SL_OK;
}

enum sl_err wire_get_string(struct wire_reader *r, bool compact, bool nullable,
                            struct wire_str *out)
{
	int64_t len;
	const uint8_t *p;
	enum sl_err err = get_len(r, compact, false, &len);

	if (err != SL_OK)
		return err;
	if (len == -1) {
		if (!nullable)
			return SL_EMALFORMED;
		out->ptr = NULL;
		out->len = -1;
		return SL_OK;
	}
	if (len > WIRE_STRING_MAX)
		return SL_EMALFORMED;
	err = take(r, (size_t)len, &p);
	if (err != SL_OK)
		return err;
	out->ptr = (const char *)p;
	out->len = (int32_t)len;
	return SL_OK;
}

enum sl_err wire_get_bytes(struct wire_reader *r, bool compact, bool nullable,
                           struct wire_bytes *out)
{
	int64_t len;
	const uint8_t *p;
	enum sl_err err = get_len(r, compact, true, &len);

	if (err != SL_OK)
		return err;
	if (len == -1) {
		if (!nullable)
			return SL_EMALFORMED;
		out->ptr = NULL;
		out->len = -1;
		return SL_OK;
	}
	if (len > INT32_MAX)
		return SL_EMALFORMED;
	err = take(r, (size_t)len, &p);
	if (err != SL_OK)
		return err;
	out->ptr = p;
	out->len = (int32_t)len;
	return SL_OK;
}

enum sl_err wire_get_array_len(struct wire_reader *r, bool compact, bool nullable,
                               size_t elem_min_bytes, int32_t *count)
{
	int64_t n;
	enum sl_err err = get_len(r, compact, true, &n);

	SL_ASSERT(elem_min_bytes >= 1);
	if (err != SL_OK)
		return err;
	if (n == -1) {
		if (!nullable)
			return SL_EMALFORMED;
		*count = -1;
		return SL_OK;
	}
	if (n > INT32_MAX || (uint64_t)n > wire_reader_left(r) / elem_min_bytes)
		return SL_EMALFORMED;
	*count = (int32_t)n;
	return SL_OK;
}

void *wire_alloc_array(struct wire_reader *r, int32_t count, size_t size)
{
	SL_ASSERT(count > 0);
	if (r->arena == NULL)
		return NULL;
	return sl_arena_calloc(r->arena, (size_t)count, size);
}

enum sl_err wire_get_tag(struct wire_reader *r, uint32_t *tag, struct wire_reader *sub)
{
	uint32_t size;
	enum sl_err err = wire_get_uvarint32(r, tag);

	if (err != SL_OK)
		return err;
	err = wire_get_uvarint32(r, &size);
	if (err != SL_OK)
		return err;
	if (size > wire_reader_left(r))
		return SL_EMALFORMED;
	sub->p = r->p;
	sub->end = r->p + size;
	sub->arena = r->arena;
	r->p += size;
	return SL_OK;
}

/* ---- writers --------------------------------------------------------------------------------- */

void wire_put_i8(struct sl_buf *b, int8_t v)
{
	sl_buf_put_u8(b, (uint8_t)v);
}

void wire_put_i16(struct sl_buf *b, int16_t v)
{
	sl_buf_put_be16(b, (uint16_t)v);
}

void wire_put_u16(struct sl_buf *b, uint16_t v)
{
	sl_buf_put_be16(b, v);
}

void wire_put_i32(struct sl_buf *b, int32_t v)
{
	sl_buf_put_be32(b, (uint32_t)v);
}

void wire_put_u32(struct sl_buf *b, uint32_t v)
{
	sl_buf_put_be32(b, v);
}

void wire_put_i64(struct sl_buf *b, int64_t v)
{
	sl_buf_put_be64(b, (uint64_t)v);
}

void wire_put_f64(struct sl_buf *b, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	sl_buf_put_be64(b, bits);
}

void wire_put_bool(struct sl_buf *b, bool v)
{
	sl_buf_put_u8(b, v ? 1 : 0);
}

void wire_put_uuid(struct sl_buf *b, struct sl_uuid v)
{
	sl_buf_append(b, v.b, sizeof(v.b));
}

/* Writes a length (-1 = null) in the classic or compact form. */
static void put_len(struct sl_buf *b, bool compact, bool wide, int32_t len)
{
	if (compact)
		sl_buf_put_uvarint(b, (uint64_t)((int64_t)len + 1));
	else if (wide)
		wire_put_i32(b, len);
	else
		wire_put_i16(b, (int16_t)len);
}

void wire_put_string(struct sl_buf *b, bool compact, bool nullable, struct wire_str s)
{
	if (s.len < 0) {
		put_len(b, compact, false, nullable ? -1 : 0);
		return;
	}
	SL_ASSERT(s.len <= WIRE_STRING_MAX);
	put_len(b, compact, false, s.len);
	sl_buf_append(b, s.ptr, (size_t)s.len);
}

void wire_put_bytes(struct sl_buf *b, bool compact, bool nullable, struct wire_bytes v)
{
	if (v.len < 0) {
		put_len(b, compact, true, nullable ? -1 : 0);
		return;
	}
	put_len(b, compact, true, v.len);
	sl_buf_append(b, v.ptr, (size_t)v.len);
}

void wire_put_array_len(struct sl_buf *b, bool compact, bool nullable, int32_t count)
{
	if (count < 0)
		count = nullable ? -1 : 0;
	put_len(b, compact, true, count);
}

size_t wire_tag_begin(struct sl_buf *b, uint32_t tag)
{
	sl_buf_put_uvarint(b, tag);
	return b->len;
}

void wire_tag_end(struct sl_buf *b, size_t at)
{
	uint8_t hdr[SL_UVARINT_MAX_BYTES];
	size_t size, n;
	uint8_t *room;

	if (b->failed)
		return;
	SL_ASSERT(at <= b->len);
	size = b->len - at;
	n = sl_uvarint_put(hdr, size);
	room = sl_buf_extend(b, n);
	if (room == NULL)
		return;
	/* Shift the payload right to make room for its size in front of it. */
	memmove(b->data + at + n, b->data + at, size);
	memcpy(b->data + at, hdr, n);
}
