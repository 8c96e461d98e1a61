/*
 * uuid.c: Kafka's Uuid (org.apache.kafka.common.Uuid): 128 bits shown as unpadded base64url,
 * 22 characters. The 22nd character carries only the last 2 bits, so its low 4 bits must be
 * zero for a string to be canonical; parse rejects anything else, so to_str(parse(s)) == s.
 */
#include "base.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

const struct sl_uuid SL_UUID_ZERO = {{0}};
const struct sl_uuid SL_UUID_METADATA = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

_Static_assert(sizeof(b64url) == 65, "64 symbols plus NUL");
_Static_assert(SL_UUID_STR_LEN == (128 + 5) / 6, "22 six-bit symbols hold 128 bits");

bool sl_uuid_eq(const struct sl_uuid *a, const struct sl_uuid *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

bool sl_uuid_is_zero(const struct sl_uuid *u)
{
	return sl_uuid_eq(u, &SL_UUID_ZERO);
}

bool sl_uuid_is_reserved(const struct sl_uuid *u)
{
	uint64_t msb = sl_load_be64(u->b);
	uint64_t lsb = sl_load_be64(u->b + 8);
	return msb == 0 && lsb < 100;
}

/* Fills buf with n random bytes from getrandom(2). */
static enum sl_err fill_random(uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return SL_ESYS;
		}
		got += (size_t)r;
	}
	return SL_OK;
}

enum sl_err sl_uuid_random(struct sl_uuid *out)
{
	for (;;) {
		enum sl_err err = fill_random(out->b, sizeof(out->b));
		if (err != SL_OK)
			return err;
		/* Version 4, IETF variant, as java.util.UUID.randomUUID (which Kafka uses). */
		out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x40);
		out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
		/* The first symbol is the top 6 bits; 62 is '-', which confuses command lines. */
		bool dash = (out->b[0] >> 2) == 62;
		if (!dash && !sl_uuid_is_reserved(out))
			return SL_OK;
	}
}

void sl_uuid_to_str(const struct sl_uuid *u, char out[SL_UUID_STR_LEN + 1])
{
	size_t o = 0;
	size_t i = 0;
	for (; i + 3 <= sizeof(u->b); i += 3) {
		uint32_t v = ((uint32_t)u->b[i] << 16) | ((uint32_t)u->b[i + 1] << 8) | u->b[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	/* 16 = 5 * 3 + 1: one byte left, two symbols. */
	uint32_t last = u->b[i];
	out[o++] = b64url[last >> 2];
	out[o++] = b64url[(last & 3) << 4];
	SL_ASSERT(o == SL_UUID_STR_LEN);
	out[o] = '\0';
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

enum sl_err sl_uuid_parse(const char *s, size_t n, struct sl_uuid *out)
{
	if (s == NULL || n != SL_UUID_STR_LEN)
		return SL_EINVAL;
	uint8_t sym[SL_UUID_STR_LEN];
	for (size_t k = 0; k < n; k++) {
		int v = b64url_value(s[k]);
		if (v < 0)
			return SL_EINVAL;
		sym[k] = (uint8_t)v;
	}
	if ((sym[SL_UUID_STR_LEN - 1] & 0x0f) != 0)
		return SL_EINVAL; /* non-canonical: the unused low bits must be zero */
	struct sl_uuid u;
	size_t o = 0;
	size_t k = 0;
	for (; o + 3 <= sizeof(u.b); o += 3, k += 4) {
		uint32_t v = ((uint32_t)sym[k] << 18) | ((uint32_t)sym[k + 1] << 12) |
		             ((uint32_t)sym[k + 2] << 6) | sym[k + 3];
		u.b[o] = (uint8_t)(v >> 16);
		u.b[o + 1] = (uint8_t)(v >> 8);
		u.b[o + 2] = (uint8_t)v;
	}
	u.b[o] = (uint8_t)((sym[k] << 2) | (sym[k + 1] >> 4));
	*out = u;
	return SL_OK;
}
