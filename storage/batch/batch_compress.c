/*
 * batch_compress.c: the four Kafka codecs for a RecordBatch records area, one section each
 * (gzip via zlib, snappy with xerial framing, lz4 frame, zstd), plus the capped output
 * window every decoder writes through.
 *
 * Invariant (decompression bombs): a decoder only ever writes into a window obtained from
 * sink_room(), which never extends the output past the cap. Once the cap is reached the
 * window is a one-byte probe on the stack; if the decoder puts anything there the stream
 * is over the cap and decoding stops with SL_ETOOBIG. Sizes declared by a stream (snappy's
 * length prefix, an LZ4 frame content size, a zstd frame content size) are never used to
 * allocate more than the cap allows.
 */
#include "batch.h"

#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

/* ---- capped output window ----------------------------------------------------------- */

#define SINK_STEP_MIN (64u * 1024u)

struct sink {
	struct sl_buf *out;
	size_t start;    /* out->len on entry */
	size_t limit;    /* maximum bytes this call may produce */
	size_t produced; /* committed so far; out->len == start + produced between calls */
	size_t room;     /* size of the window handed out by sink_room */
	bool probing;    /* the window is the probe: any byte written is over the cap */
	uint8_t probe[1];
};

static void sink_init(struct sink *s, struct sl_buf *out, size_t cap)
{
	s->out = out;
	s->start = out->len;
	size_t buf_left = out->max_bytes > out->len ? out->max_bytes - out->len : 0;
	s->limit = SL_MIN(cap, buf_left);
	s->produced = 0;
	s->room = 0;
	s->probing = false;
}

/* A window for the decoder: part of out (growing geometrically, never past the limit), or
 * the probe once the limit is reached. NULL when out cannot grow (allocation failure). */
static uint8_t *sink_room(struct sink *s, size_t *room)
{
	size_t left = s->limit - s->produced;
	if (left == 0) {
		s->probing = true;
		s->room = sizeof(s->probe);
		*room = s->room;
		return s->probe;
	}
	size_t want = SL_MIN(left, SL_MAX((size_t)SINK_STEP_MIN, s->produced));
	uint8_t *p = sl_buf_extend(s->out, want);
	if (p == NULL) {
		s->out->failed = false;
		return NULL;
	}
	s->probing = false;
	s->room = want;
	*room = want;
	return p;
}

/* Keeps the first `written` bytes of the last window. SL_ETOOBIG if they went to the probe. */
static enum sl_err sink_commit(struct sink *s, size_t written)
{
	SL_ASSERT(written <= s->room);
	if (s->probing)
		return written > 0 ? SL_ETOOBIG : SL_OK;
	s->out->len -= s->room - written;
	s->produced += written;
	s->room = 0;
	return SL_OK;
}

/* Exactly n more bytes (n checked against the limit by the caller). */
static uint8_t *sink_exact(struct sink *s, size_t n)
{
	SL_ASSERT(n <= s->limit - s->produced);
	uint8_t *p = sl_buf_extend(s->out, n);
	if (p == NULL) {
		s->out->failed = false;
		return NULL;
	}
	s->produced += n;
	return p;
}

static enum sl_err sink_finish(struct sink *s, enum sl_err e)
{
	if (e != SL_OK) {
		s->out->len = s->start;
		s->out->failed = false;
	}
	return e;
}

/* ---- gzip (zlib) ---------------------------------------------------------------------- */

#define GZIP_WINDOW_BITS (16 + MAX_WBITS) /* gzip wrapper, as java.util.zip.GZIP*Stream */

static enum sl_err gzip_decode(const uint8_t *src, size_t n, struct sink *s)
{
	if (n > UINT_MAX)
		return SL_ETOOBIG;
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, GZIP_WINDOW_BITS) != Z_OK)
		return SL_ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)src;
	z.avail_in = (uInt)n;
	enum sl_err e = SL_OK;
	for (;;) {
		size_t room = 0;
		uint8_t *p = sink_room(s, &room);
		if (p == NULL) {
			e = SL_ENOMEM;
			break;
		}
		uInt give = (uInt)SL_MIN(room, (size_t)UINT_MAX);
		z.next_out = p;
		z.avail_out = give;
		int rc = inflate(&z, Z_NO_FLUSH);
		e = sink_commit(s, give - z.avail_out);
		if (e != SL_OK)
			break;
		if (rc == Z_STREAM_END) {
			if (z.avail_in == 0)
				break;
			/* Another gzip member follows (GZIPInputStream reads concatenations). */
			if (inflateReset(&z) != Z_OK) {
				e = SL_ECORRUPT;
				break;
			}
			continue;
		}
		if (rc == Z_MEM_ERROR) {
			e = SL_ENOMEM;
			break;
		}
		/* Z_BUF_ERROR: no progress possible, i.e. the input ended inside a member. */
		if (rc != Z_OK) {
			e = SL_ECORRUPT;
			break;
		}
	}
	inflateEnd(&z);
	return e;
}

static enum sl_err gzip_encode(const uint8_t *src, size_t n, int32_t level, struct sl_buf *out)
{
	if (n > UINT_MAX / 2)
		return SL_ETOOBIG;
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (level == 0)
		level = STOR_GZIP_LEVEL_DEFAULT;
	if (level < -1 || level > 9)
		return SL_EINVAL;
	if (deflateInit2(&z, level, Z_DEFLATED, GZIP_WINDOW_BITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return SL_ENOMEM;
	uLong bound = deflateBound(&z, (uLong)n);
	uint8_t *dst = sl_buf_extend(out, bound);
	enum sl_err e = SL_OK;
	if (dst == NULL) {
		e = SL_ENOMEM;
	} else {
		z.next_in = (Bytef *)(uintptr_t)src;
		z.avail_in = (uInt)n;
		z.next_out = dst;
		z.avail_out = (uInt)bound;
		if (deflate(&z, Z_FINISH) != Z_STREAM_END)
			e = SL_ESYS;
		else
			out->len -= z.avail_out;
	}
	deflateEnd(&z);
	return e;
}

/* ---- snappy (xerial framing and raw) --------------------------------------------------- */

/* xerial SnappyOutputStream header: magic, int32 version 1, int32 min compatible version 1;
 * then blocks of [int32 compressed length][raw snappy]. */
static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER_BYTES 16
#define SNAPPY_RATIO_MAX 22 /* > 64 / 3: the best output per input byte of any element */

static enum sl_err snappy_block_decode(const uint8_t *src, size_t n, struct sink *s)
{
	size_t raw = 0;
	if (snappy_uncompressed_length((const char *)src, n, &raw) != SNAPPY_OK)
		return SL_ECORRUPT;
	/* The declared length is checked before anything is allocated: against the cap, and
	 * against what n bytes can expand to (a snappy element of 3 bytes makes at most 64, so
	 * no valid block exceeds 22 * n), so a tiny block cannot make us allocate up to the cap. */
	if (raw > s->limit - s->produced)
		return SL_ETOOBIG;
	if (raw / SNAPPY_RATIO_MAX > n)
		return SL_ECORRUPT;
	uint8_t *dst = sink_exact(s, raw);
	if (dst == NULL)
		return SL_ENOMEM;
	size_t got = raw;
	if (snappy_uncompress((const char *)src, n, (char *)dst, &got) != SNAPPY_OK || got != raw)
		return SL_ECORRUPT;
	return SL_OK;
}

static bool snappy_is_xerial(const uint8_t *src, size_t n)
{
	return n >= XERIAL_HEADER_BYTES && memcmp(src, xerial_magic, sizeof(xerial_magic)) == 0;
}

static enum sl_err snappy_decode(const uint8_t *src, size_t n, struct sink *s)
{
	if (!snappy_is_xerial(src, n))
		return snappy_block_decode(src, n, s);
	size_t pos = XERIAL_HEADER_BYTES;
	while (pos < n) {
		if (n - pos < 4)
			return SL_ECORRUPT;
		int32_t len = (int32_t)sl_load_be32(src + pos);
		pos += 4;
		if (len < 0 || (size_t)len > n - pos)
			return SL_ECORRUPT;
		enum sl_err e = snappy_block_decode(src + pos, (size_t)len, s);
		if (e != SL_OK)
			return e;
		pos += (size_t)len;
	}
	return SL_OK;
}

static enum sl_err snappy_encode(const uint8_t *src, size_t n, struct sl_buf *out)
{
	uint8_t *h = sl_buf_extend(out, XERIAL_HEADER_BYTES);
	if (h == NULL)
		return SL_ENOMEM;
	memcpy(h, xerial_magic, sizeof(xerial_magic));
	sl_store_be32(h + 8, 1);
	sl_store_be32(h + 12, 1);
	for (size_t pos = 0; pos < n; pos += STOR_SNAPPY_XERIAL_BLOCK_BYTES) {
		size_t blk = SL_MIN(n - pos, (size_t)STOR_SNAPPY_XERIAL_BLOCK_BYTES);
		size_t bound = snappy_max_compressed_length(blk);
		uint8_t *dst = sl_buf_extend(out, 4 + bound);
		if (dst == NULL)
			return SL_ENOMEM;
		size_t clen = bound;
		if (snappy_compress((const char *)src + pos, blk, (char *)dst + 4, &clen) !=
		    SNAPPY_OK)
			return SL_ESYS;
		SL_ASSERT(clen <= bound);
		sl_store_be32(dst, (uint32_t)clen);
		out->len -= bound - clen;
	}
	return SL_OK;
}

/* ---- lz4 (frame format) ---------------------------------------------------------------- */

static enum sl_err lz4_decode(const uint8_t *src, size_t n, struct sink *s)
{
	LZ4F_dctx *d = NULL;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
		return SL_ENOMEM;
	size_t pos = 0;
	enum sl_err e = SL_OK;
	for (;;) {
		size_t room = 0;
		uint8_t *p = sink_room(s, &room);
		if (p == NULL) {
			e = SL_ENOMEM;
			break;
		}
		size_t dst_len = room, src_len = n - pos;
		size_t rc = LZ4F_decompress(d, p, &dst_len, src + pos, &src_len, NULL);
		pos += src_len;
		if (LZ4F_isError(rc)) {
			sink_commit(s, 0);
			e = SL_ECORRUPT;
			break;
		}
		e = sink_commit(s, dst_len);
		if (e != SL_OK)
			break;
		if (rc == 0) {
			/* One frame, as Kafka's KafkaLZ4BlockInputStream reads; nothing after it.
			 */
			e = pos == n ? SL_OK : SL_ECORRUPT;
			break;
		}
		if (src_len == 0 && dst_len == 0) {
			e = SL_ECORRUPT; /* input ended inside the frame */
			break;
		}
	}
	LZ4F_freeDecompressionContext(d);
	return e;
}

static enum sl_err lz4_encode(const uint8_t *src, size_t n, int32_t level, struct sl_buf *out)
{
	LZ4F_preferences_t prefs;
	memset(&prefs, 0, sizeof(prefs));
	/* KafkaLZ4BlockOutputStream: 64 KiB independent blocks, no checksums, no content size. */
	prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	prefs.compressionLevel = level == 0 ? STOR_LZ4_LEVEL_DEFAULT : level;
	size_t bound = LZ4F_compressFrameBound(n, &prefs);
	uint8_t *dst = sl_buf_extend(out, bound);
	if (dst == NULL)
		return SL_ENOMEM;
	size_t rc = LZ4F_compressFrame(dst, bound, src, n, &prefs);
	if (LZ4F_isError(rc))
		return SL_ESYS;
	out->len -= bound - rc;
	return SL_OK;
}

/* ---- zstd ----------------------------------------------------------------------------- */

#define ZSTD_WINDOW_LOG_FLOOR 23 /* 8 MiB: zstd levels 1-19 (Java's zstd-jni streams) */
#define ZSTD_WINDOW_LOG_CEIL 27  /* ZSTD_WINDOWLOG_LIMIT_DEFAULT */

/* The largest window a frame may ask for: enough for any output up to the cap, at least the
 * floor above so ordinary streaming producers decode, never more than the ceiling. */
static int zstd_window_log(size_t cap)
{
	int log = 0;
	while (log < ZSTD_WINDOW_LOG_CEIL && ((size_t)1 << log) < cap)
		log++;
	return SL_MAX(log, ZSTD_WINDOW_LOG_FLOOR);
}

static enum sl_err zstd_map_error(size_t rc)
{
	switch (ZSTD_getErrorCode(rc)) {
	case ZSTD_error_frameParameter_windowTooLarge:
		return SL_ETOOBIG;
	case ZSTD_error_memory_allocation:
		return SL_ENOMEM;
	default:
		return SL_ECORRUPT;
	}
}

static enum sl_err zstd_decode(const uint8_t *src, size_t n, size_t cap, struct sink *s)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (d == NULL)
		return SL_ENOMEM;
	enum sl_err e = SL_OK;
	if (ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, zstd_window_log(cap))))
		e = SL_ESYS;
	ZSTD_inBuffer in = {src, n, 0};
	size_t rc = 1;
	while (e == SL_OK) {
		size_t room = 0;
		uint8_t *p = sink_room(s, &room);
		if (p == NULL) {
			e = SL_ENOMEM;
			break;
		}
		ZSTD_outBuffer o = {p, room, 0};
		size_t in_before = in.pos;
		rc = ZSTD_decompressStream(d, &o, &in);
		if (ZSTD_isError(rc)) {
			sink_commit(s, 0);
			e = zstd_map_error(rc);
			break;
		}
		e = sink_commit(s, o.pos);
		if (e != SL_OK)
			break;
		if (rc == 0 && in.pos == in.size)
			break; /* last frame complete and flushed */
		if (in.pos == in.size && o.pos < o.size)
			e = SL_ECORRUPT; /* more input needed, none left */
		else if (in.pos == in_before && o.pos == 0)
			e = SL_ECORRUPT; /* no progress */
	}
	ZSTD_freeDCtx(d);
	return e;
}

static enum sl_err zstd_encode(const uint8_t *src, size_t n, int32_t level, struct sl_buf *out)
{
	size_t bound = ZSTD_compressBound(n);
	if (ZSTD_isError(bound))
		return SL_ETOOBIG;
	uint8_t *dst = sl_buf_extend(out, bound);
	if (dst == NULL)
		return SL_ENOMEM;
	size_t rc = ZSTD_compress(dst, bound, src, n, level == 0 ? STOR_ZSTD_LEVEL_DEFAULT : level);
	if (ZSTD_isError(rc))
		return SL_ESYS;
	out->len -= bound - rc;
	return SL_OK;
}

/* ---- public entry points ----------------------------------------------------------------- */

enum sl_err stor_compress(enum stor_compression codec, int32_t level, const uint8_t *src, size_t n,
                          struct sl_buf *out)
{
	SL_ASSERT(out != NULL);
	SL_ASSERT(src != NULL || n == 0);
	static const uint8_t empty[1];
	if (src == NULL)
		src = empty;
	if (out->failed)
		return SL_ENOMEM;
	size_t start = out->len;
	enum sl_err e;
	switch (codec) {
	case STOR_COMPRESSION_NONE:
		sl_buf_append(out, src, n);
		e = SL_OK;
		break;
	case STOR_COMPRESSION_GZIP:
		e = gzip_encode(src, n, level, out);
		break;
	case STOR_COMPRESSION_SNAPPY:
		e = snappy_encode(src, n, out);
		break;
	case STOR_COMPRESSION_LZ4:
		e = lz4_encode(src, n, level, out);
		break;
	case STOR_COMPRESSION_ZSTD:
		e = zstd_encode(src, n, level, out);
		break;
	default:
		return SL_EINVAL;
	}
	if (e == SL_OK && out->failed)
		e = SL_ENOMEM;
	if (e != SL_OK) {
		out->len = start;
		out->failed = false;
	}
	return e;
}

enum sl_err stor_decompress(enum stor_compression codec, const uint8_t *src, size_t n,
                            struct sl_buf *out, size_t cap)
{
	SL_ASSERT(out != NULL);
	SL_ASSERT(src != NULL || n == 0);
	static const uint8_t empty[1];
	if (src == NULL)
		src = empty;
	if (out->failed)
		return SL_ENOMEM;
	struct sink s;
	sink_init(&s, out, cap);
	switch (codec) {
	case STOR_COMPRESSION_NONE:
		if (n > s.limit)
			return SL_ETOOBIG;
		sl_buf_append(out, src, n);
		return sink_finish(&s, sl_buf_err(out));
	case STOR_COMPRESSION_GZIP:
		return sink_finish(&s, gzip_decode(src, n, &s));
	case STOR_COMPRESSION_SNAPPY:
		return sink_finish(&s, snappy_decode(src, n, &s));
	case STOR_COMPRESSION_LZ4:
		return sink_finish(&s, lz4_decode(src, n, &s));
	case STOR_COMPRESSION_ZSTD:
		return sink_finish(&s, zstd_decode(src, n, cap, &s));
	default:
		return SL_EINVAL;
	}
}
