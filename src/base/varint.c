/*
 * varint.c: unsigned LEB128 (Kafka's unsigned varint; zig-zag lives in base.h).
 *
 * Decoding is strict: at most max_bytes bytes, never past n, and the value must fit in 64 bits
 * (and in 32 bits when max_bytes is 5, Kafka's 32-bit varint limit). Any violation returns 0.
 */
#include "base.h"

size_t sl_uvarint_len(uint64_t v)
{
	size_t len = 1;
	while (v >= 0x80) {
		v >>= 7;
		len++;
	}
	return len;
}

size_t sl_uvarint_put(uint8_t *p, uint64_t v)
{
	size_t i = 0;
	while (v >= 0x80) {
		p[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[i++] = (uint8_t)v;
	SL_DASSERT(i <= SL_UVARINT_MAX_BYTES);
	return i;
}

size_t sl_uvarint_get(const uint8_t *p, size_t n, size_t max_bytes, uint64_t *out)
{
	if (max_bytes > SL_UVARINT_MAX_BYTES)
		max_bytes = SL_UVARINT_MAX_BYTES;
	/* Bits the value may use: 32 for Kafka's 5-byte varints, else min(7*max_bytes, 64). */
	unsigned bits_max = max_bytes == 5 ? 32 : (unsigned)SL_MIN(max_bytes * 7, 64);
	uint64_t v = 0;
	for (size_t i = 0; i < max_bytes; i++) {
		if (i >= n)
			return 0; /* truncated */
		uint64_t part = p[i] & 0x7f;
		unsigned shift = (unsigned)(i * 7);
		/* Bits of `part` that would land at or beyond bits_max must be zero. */
		if (shift + 7 > bits_max && (part >> (bits_max - shift)) != 0)
			return 0;
		v |= part << shift;
		if ((p[i] & 0x80) == 0) {
			*out = v;
			return i + 1;
		}
	}
	return 0; /* continuation bit set on the last allowed byte */
}
