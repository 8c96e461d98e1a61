/*
 * buf.c: owned, growable byte buffer with a hard maximum.
 *
 * Invariants: len <= cap <= max_bytes (cap may exceed len only by doubling headroom, never
 * max_bytes); once `failed` is set no append changes data or len until sl_buf_reset.
 */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 64

void sl_buf_init(struct sl_buf *b, size_t max_bytes)
{
	SL_ASSERT(b != NULL);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max_bytes = max_bytes;
	b->failed = false;
}

void sl_buf_free(struct sl_buf *b)
{
	SL_ASSERT(b != NULL);
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}

void sl_buf_reset(struct sl_buf *b)
{
	SL_ASSERT(b != NULL);
	b->len = 0;
	b->failed = false;
}

enum sl_err sl_buf_err(const struct sl_buf *b)
{
	return b->failed ? SL_ENOMEM : SL_OK;
}

/* Ensures cap >= want (want <= max_bytes checked by the caller); false when realloc fails. */
static bool buf_reserve(struct sl_buf *b, size_t want)
{
	if (want <= b->cap)
		return true;
	size_t cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
	while (cap < want) {
		if (cap > SIZE_MAX / 2) {
			cap = want;
			break;
		}
		cap *= 2;
	}
	if (cap > b->max_bytes)
		cap = b->max_bytes;
	uint8_t *data = realloc(b->data, cap);
	if (data == NULL)
		return false;
	b->data = data;
	b->cap = cap;
	return true;
}

uint8_t *sl_buf_extend(struct sl_buf *b, size_t n)
{
	SL_ASSERT(b != NULL);
	if (b->failed)
		return NULL;
	if (n > b->max_bytes - b->len || !buf_reserve(b, b->len + n)) {
		b->failed = true;
		return NULL;
	}
	if (b->data == NULL) {
		/* n == 0 on a buffer that never allocated: a valid pointer to zero bytes. */
		static uint8_t empty[1];
		SL_ASSERT(n == 0);
		return empty;
	}
	uint8_t *p = b->data + b->len;
	b->len += n;
	return p;
}

void sl_buf_append(struct sl_buf *b, const void *p, size_t n)
{
	uint8_t *dst = sl_buf_extend(b, n);
	if (dst != NULL && n > 0)
		memcpy(dst, p, n);
}

void sl_buf_put_u8(struct sl_buf *b, uint8_t v)
{
	uint8_t *p = sl_buf_extend(b, 1);
	if (p != NULL)
		p[0] = v;
}

void sl_buf_put_be16(struct sl_buf *b, uint16_t v)
{
	uint8_t *p = sl_buf_extend(b, 2);
	if (p != NULL)
		sl_store_be16(p, v);
}

void sl_buf_put_be32(struct sl_buf *b, uint32_t v)
{
	uint8_t *p = sl_buf_extend(b, 4);
	if (p != NULL)
		sl_store_be32(p, v);
}

void sl_buf_put_be64(struct sl_buf *b, uint64_t v)
{
	uint8_t *p = sl_buf_extend(b, 8);
	if (p != NULL)
		sl_store_be64(p, v);
}

void sl_buf_put_uvarint(struct sl_buf *b, uint64_t v)
{
	uint8_t *p = sl_buf_extend(b, sl_uvarint_len(v));
	if (p != NULL)
		sl_uvarint_put(p, v);
}

void sl_buf_put_varint(struct sl_buf *b, int64_t v)
{
	sl_buf_put_uvarint(b, sl_zigzag64(v));
}

/* Appends formatted text (no NUL is kept in len; a NUL follows the text when room allows). */
void sl_buf_printf(struct sl_buf *b, const char *fmt, ...)
{
	SL_ASSERT(b != NULL);
	if (b->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	size_t len0 = b->len;
	if ((size_t)n < b->max_bytes - b->len) {
		/* Room for vsnprintf's NUL too: format in place, then drop the NUL from len. */
		uint8_t *p = sl_buf_extend(b, (size_t)n + 1);
		if (p == NULL)
			return;
		va_start(ap, fmt);
		vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
		va_end(ap);
		b->len = len0 + (size_t)n;
		return;
	}
	/* The text fits exactly up to max_bytes (or not at all): format via a temporary. */
	if ((size_t)n > b->max_bytes - b->len) {
		b->failed = true;
		return;
	}
	char *tmp = malloc((size_t)n + 1);
	if (tmp == NULL) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(tmp, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sl_buf_append(b, tmp, (size_t)n);
	free(tmp);
}
