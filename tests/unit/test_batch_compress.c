/*
 * test_batch_compress.c: the codecs of storage/batch (batch_compress.c): round trips of
 * whole batches through every codec, corrupted and truncated compressed payloads, and
 * decompression bombs (1 GiB of zeros made on the fly) against a 1 MiB cap.
 */
#include "batch.h"
#include "check_main.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <zlib.h>
#include <zstd.h>

#define MIB (1024u * 1024u)
#define RT_RECORDS 3000

static const int codecs[] = {STOR_COMPRESSION_NONE, STOR_COMPRESSION_GZIP, STOR_COMPRESSION_SNAPPY,
                             STOR_COMPRESSION_LZ4, STOR_COMPRESSION_ZSTD};

static void reseal(uint8_t *b, size_t size)
{
	sl_store_be32(b + 8, (uint32_t)(size - STOR_BATCH_LOG_OVERHEAD));
	uint32_t crc =
	        sl_crc32c(0, b + STOR_BATCH_ATTRIBUTES_OFFSET, size - STOR_BATCH_ATTRIBUTES_OFFSET);
	sl_store_be32(b + STOR_BATCH_CRC_OFFSET, crc);
}

/* Deterministic record set: null keys, null and empty values, headers with null values,
 * sizes from 0 to ~1.5 KiB, some incompressible bytes. */
struct rt_data {
	uint8_t bytes[RT_RECORDS][1600];
	struct stor_header_in headers[RT_RECORDS][3];
	struct stor_record_in recs[RT_RECORDS];
};

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void rt_fill(struct rt_data *d, size_t count)
{
	uint32_t seed = 12345;
	static const uint8_t hkey[] = "trace-id";
	for (size_t i = 0; i < count; i++) {
		uint8_t *b = d->bytes[i];
		size_t vlen = rng_next(&seed) % 1500;
		for (size_t k = 0; k < 1600; k++)
			b[k] = (i % 4 == 0) ? (uint8_t)rng_next(&seed)
			                    : (uint8_t)('a' + (k + i) % 7);
		struct stor_record_in *r = &d->recs[i];
		memset(r, 0, sizeof(*r));
		r->timestamp_delta = (int64_t)i * 3 - 100;
		if (i % 5 != 1) {
			r->key = b + 1500;
			r->key_len = (int32_t)(i % 40);
		}
		if (i % 9 != 4) {
			r->value = b;
			r->value_len = (i % 13 == 0) ? 0 : (int32_t)vlen;
		}
		r->header_count = i % 4;
		for (size_t h = 0; h < r->header_count && h < 3; h++) {
			d->headers[i][h] = (struct stor_header_in){hkey, 8, h == 1 ? NULL : b + 10,
			                                           (int32_t)h * 5};
		}
		if (r->header_count > 3)
			r->header_count = 3;
		r->headers = d->headers[i];
	}
}

static void bytes_eq(const uint8_t *got, int32_t got_len, const uint8_t *want, int32_t want_len)
{
	if (want == NULL) {
		ck_assert_ptr_null(got);
		ck_assert_int_eq(got_len, -1);
		return;
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(got_len, want_len);
	if (want_len > 0)
		ck_assert_mem_eq(got, want, (size_t)want_len);
}

static void record_eq(const struct stor_record *r, const struct stor_record_in *w, int32_t i)
{
	ck_assert_int_eq(r->offset_delta, i);
	ck_assert_int_eq(r->timestamp_delta, w->timestamp_delta);
	bytes_eq(r->key, r->key_len, w->key, w->key_len);
	bytes_eq(r->value, r->value_len, w->value, w->value_len);
	ck_assert_uint_eq(r->header_count, w->header_count);
	struct stor_header_iter hi;
	struct stor_header h;
	stor_header_iter_init(&hi, r);
	for (size_t k = 0; k < w->header_count; k++) {
		ck_assert_int_eq(stor_header_next(&hi, &h), SL_OK);
		bytes_eq(h.key, h.key_len, w->headers[k].key, w->headers[k].key_len);
		bytes_eq(h.value, h.value_len, w->headers[k].value, w->headers[k].value_len);
	}
	ck_assert_int_eq(stor_header_next(&hi, &h), SL_ENOENT);
}

static size_t build_codec(struct sl_buf *b, int codec, const struct stor_record_in *recs,
                          size_t count)
{
	struct stor_batch_params p;
	stor_batch_params_init(&p, 1700000000000);
	p.attributes = (int16_t)codec;
	p.producer_id = 77;
	p.producer_epoch = 1;
	p.base_sequence = 0;
	size_t start = b->len;
	ck_assert_int_eq(stor_batch_build(b, &p, recs, count), SL_OK);
	return b->len - start;
}

/* Every codec: build, validate under client rules, iterate, compare with the input and with
 * the uncompressed encoding. */
START_TEST(test_round_trip_codecs)
{
	static struct rt_data d;
	rt_fill(&d, RT_RECORDS);
	int codec = codecs[_i];
	struct sl_buf plain, b, scratch;
	sl_buf_init(&plain, 64 * MIB);
	sl_buf_init(&b, 64 * MIB);
	sl_buf_init(&scratch, 64 * MIB);
	size_t plain_size = build_codec(&plain, STOR_COMPRESSION_NONE, d.recs, RT_RECORDS);
	size_t size = build_codec(&b, codec, d.recs, RT_RECORDS);
	if (codec != STOR_COMPRESSION_NONE)
		ck_assert_uint_lt(size, plain_size / 2);
	const struct stor_validate_opts opts = {16 * MIB, true};
	struct stor_batch_view v;
	struct stor_validate_info info;
	size_t used = 0;
	ck_assert_int_eq(stor_batch_validate(b.data, b.len, &opts, &scratch, &v, &used, &info),
	                 SL_OK);
	ck_assert_uint_eq(used, size);
	ck_assert_int_eq(stor_batch_compression(&v), codec);
	ck_assert_uint_eq(info.records_bytes, plain_size - STOR_BATCH_HEADER_BYTES);
	ck_assert_int_eq(info.max_timestamp, 1700000000000 + (RT_RECORDS - 1) * 3 - 100);
	if (codec != STOR_COMPRESSION_NONE)
		ck_assert_mem_eq(scratch.data, plain.data + STOR_BATCH_HEADER_BYTES, scratch.len);
	struct stor_record_iter it;
	struct stor_record r;
	ck_assert_int_eq(stor_batch_records_open(&v, &scratch, 16 * MIB, &it), SL_OK);
	for (int32_t i = 0; i < RT_RECORDS; i++) {
		ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
		record_eq(&r, &d.recs[i], i);
	}
	ck_assert_int_eq(stor_record_next(&it, &r), SL_ENOENT);
	/* stor_batch_decompress appends: a second call doubles the output. */
	sl_buf_reset(&scratch);
	ck_assert_int_eq(stor_batch_decompress(&v, &scratch, 16 * MIB), SL_OK);
	ck_assert_int_eq(stor_batch_decompress(&v, &scratch, 16 * MIB), SL_OK);
	ck_assert_uint_eq(scratch.len, 2 * info.records_bytes);
	sl_buf_free(&plain);
	sl_buf_free(&b);
	sl_buf_free(&scratch);
}
END_TEST

/* Single records, a compressed control batch, explicit levels and a caller scratch. */
START_TEST(test_small_and_control_codecs)
{
	int codec = codecs[_i];
	struct sl_buf b, scratch, work;
	sl_buf_init(&b, MIB);
	sl_buf_init(&scratch, MIB);
	sl_buf_init(&work, MIB);
	struct stor_record_in r;
	memset(&r, 0, sizeof(r)); /* null key, null value, no headers */
	struct stor_batch_params p;
	stor_batch_params_init(&p, 5);
	p.attributes = (int16_t)codec;
	p.compression_level = codec == STOR_COMPRESSION_GZIP   ? 1
	                      : codec == STOR_COMPRESSION_ZSTD ? 19
	                                                       : 0;
	p.scratch = &work;
	ck_assert_int_eq(stor_batch_build(&b, &p, &r, 1), SL_OK);
	size_t first = b.len;
	const uint8_t body[] = {0, 0, 0, 9};
	const uint8_t *vals[2] = {body, body};
	size_t lens[2] = {4, 2};
	enum stor_control_type types[2] = {STOR_CONTROL_COMMIT, STOR_CONTROL_ABORT};
	p.base_offset = 1;
	ck_assert_int_eq(stor_batch_build_control(&b, &p, types, vals, lens, 2), SL_OK);

	const struct stor_validate_opts opts = {MIB, false};
	struct stor_batch_view v;
	struct stor_validate_info info;
	size_t used = 0;
	ck_assert_int_eq(stor_batch_validate(b.data, b.len, &opts, &scratch, &v, &used, &info),
	                 SL_OK);
	ck_assert_uint_eq(used, first);
	struct stor_record_iter it;
	struct stor_record rec;
	ck_assert_int_eq(stor_batch_records_open(&v, &scratch, MIB, &it), SL_OK);
	ck_assert_int_eq(stor_record_next(&it, &rec), SL_OK);
	ck_assert_ptr_null(rec.key);
	ck_assert_ptr_null(rec.value);
	ck_assert_int_eq(stor_record_next(&it, &rec), SL_ENOENT);

	ck_assert_int_eq(
	        stor_batch_validate(b.data + used, b.len - used, &opts, &scratch, &v, &used, &info),
	        SL_OK);
	ck_assert(stor_batch_is_control(&v));
	ck_assert_int_eq(stor_batch_compression(&v), codec);
	int16_t type = -1;
	ck_assert_int_eq(stor_batch_records_open(&v, &scratch, MIB, &it), SL_OK);
	ck_assert_int_eq(stor_record_next(&it, &rec), SL_OK);
	ck_assert_int_eq(stor_control_key_parse(&rec, &type), SL_OK);
	ck_assert_int_eq(type, STOR_CONTROL_COMMIT);
	ck_assert_int_eq(stor_record_next(&it, &rec), SL_OK);
	ck_assert_int_eq(stor_control_key_parse(&rec, &type), SL_OK);
	ck_assert_int_eq(type, STOR_CONTROL_ABORT);
	ck_assert_int_eq(rec.value_len, 2);
	/* A control batch is never accepted from a client. */
	const struct stor_validate_opts client = {MIB, true};
	ck_assert_int_eq(stor_batch_validate(b.data + first, b.len - first, &client, &scratch, &v,
	                                     &used, &info),
	                 SL_EMALFORMED);
	ck_assert_int_eq(info.problem, STOR_PROBLEM_CONTROL);
	sl_buf_free(&b);
	sl_buf_free(&scratch);
	sl_buf_free(&work);
}
END_TEST

/* Flipping any byte of the compressed area (CRC resealed) or cutting it short gives an
 * error or a still-valid batch, never a crash. */
START_TEST(test_corrupt_payloads)
{
	static struct rt_data d;
	rt_fill(&d, 200);
	int codec = codecs[1 + _i];
	struct sl_buf b, scratch;
	sl_buf_init(&b, 16 * MIB);
	sl_buf_init(&scratch, 16 * MIB);
	size_t size = build_codec(&b, codec, d.recs, 200);
	const struct stor_validate_opts opts = {16 * MIB, true};
	struct stor_batch_view v;
	struct stor_validate_info info;
	size_t used;
	size_t caught = 0, flips = 0;
	for (size_t i = STOR_BATCH_HEADER_BYTES; i < size; i += 1 + (size - i) / 4000) {
		b.data[i] ^= 0x5a;
		reseal(b.data, size);
		enum sl_err e =
		        stor_batch_validate(b.data, size, &opts, &scratch, &v, &used, &info);
		ck_assert_msg(e == SL_OK || e == SL_ECORRUPT || e == SL_EMALFORMED ||
		                      e == SL_ETOOBIG,
		              "offset %zu: %s", i, sl_err_name(e));
		ck_assert_int_eq(e == SL_OK, info.problem == STOR_PROBLEM_NONE);
		caught += e != SL_OK;
		flips++;
		b.data[i] ^= 0x5a;
	}
	/* gzip carries a CRC32 of the output; snappy, lz4 (no checksum flags) and zstd (no
	 * checksum) decode a flipped literal into other valid bytes, which the batch CRC is there
	 * to catch. */
	ck_assert_uint_gt(caught, codec == STOR_COMPRESSION_GZIP ? flips / 2 : flips / 20);
	for (size_t cut = 1; cut < size - STOR_BATCH_HEADER_BYTES; cut += 1 + cut / 8) {
		reseal(b.data, size - cut);
		enum sl_err e =
		        stor_batch_validate(b.data, size - cut, &opts, &scratch, &v, &used, &info);
		ck_assert_msg(e == SL_ECORRUPT || e == SL_EMALFORMED, "cut %zu: %s", cut,
		              sl_err_name(e));
	}
	reseal(b.data, size);
	ck_assert_int_eq(stor_batch_validate(b.data, size, &opts, &scratch, &v, &used, &info),
	                 SL_OK);
	/* Garbage and empty streams in every codec. */
	static const uint8_t junk[] = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0x01, 0x02};
	sl_buf_reset(&scratch);
	ck_assert_int_eq(stor_decompress(codec, junk, sizeof(junk), &scratch, MIB), SL_ECORRUPT);
	ck_assert_int_eq(stor_decompress(codec, NULL, 0, &scratch, MIB), SL_ECORRUPT);
	ck_assert_uint_eq(scratch.len, 0);
	ck_assert_int_eq(stor_decompress((enum stor_compression)5, junk, 3, &scratch, MIB),
	                 SL_EINVAL);
	sl_buf_free(&b);
	sl_buf_free(&scratch);
}
END_TEST

/* ---- decompression bombs ---------------------------------------------------------------- */

#define BOMB_BYTES (1024ull * MIB) /* 1 GiB of zeros */
#define BOMB_CHUNK MIB

static uint8_t zeros[BOMB_CHUNK];

static void bomb_gzip(struct sl_buf *out)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
	uint8_t buf[64 * 1024];
	for (uint64_t done = 0; done < BOMB_BYTES; done += BOMB_CHUNK) {
		z.next_in = zeros;
		z.avail_in = BOMB_CHUNK;
		int flush = done + BOMB_CHUNK == BOMB_BYTES ? Z_FINISH : Z_NO_FLUSH;
		do {
			z.next_out = buf;
			z.avail_out = sizeof(buf);
			int rc = deflate(&z, flush);
			ck_assert(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
			sl_buf_append(out, buf, sizeof(buf) - z.avail_out);
		} while (z.avail_out == 0 || (flush == Z_FINISH && z.avail_in > 0));
	}
	deflateEnd(&z);
}

static void bomb_zstd(struct sl_buf *out)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ck_assert_ptr_nonnull(c);
	uint8_t buf[64 * 1024];
	for (uint64_t done = 0; done < BOMB_BYTES; done += BOMB_CHUNK) {
		ZSTD_EndDirective end =
		        done + BOMB_CHUNK == BOMB_BYTES ? ZSTD_e_end : ZSTD_e_continue;
		ZSTD_inBuffer in = {zeros, BOMB_CHUNK, 0};
		size_t left;
		do {
			ZSTD_outBuffer o = {buf, sizeof(buf), 0};
			left = ZSTD_compressStream2(c, &o, &in, end);
			ck_assert(!ZSTD_isError(left));
			sl_buf_append(out, buf, o.pos);
		} while (in.pos < in.size || (end == ZSTD_e_end && left > 0));
	}
	ZSTD_freeCCtx(c);
}

static void bomb_lz4(struct sl_buf *out)
{
	LZ4F_cctx *c = NULL;
	ck_assert(!LZ4F_isError(LZ4F_createCompressionContext(&c, LZ4F_VERSION)));
	LZ4F_preferences_t prefs;
	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.blockSizeID = LZ4F_max4MB;
	size_t bound = LZ4F_compressBound(BOMB_CHUNK, &prefs);
	uint8_t *dst = sl_buf_extend(out, LZ4F_HEADER_SIZE_MAX);
	size_t n = LZ4F_compressBegin(c, dst, LZ4F_HEADER_SIZE_MAX, &prefs);
	ck_assert(!LZ4F_isError(n));
	out->len -= LZ4F_HEADER_SIZE_MAX - n;
	for (uint64_t done = 0; done < BOMB_BYTES; done += BOMB_CHUNK) {
		dst = sl_buf_extend(out, bound);
		ck_assert_ptr_nonnull(dst);
		n = LZ4F_compressUpdate(c, dst, bound, zeros, BOMB_CHUNK, NULL);
		ck_assert(!LZ4F_isError(n));
		out->len -= bound - n;
	}
	dst = sl_buf_extend(out, bound);
	n = LZ4F_compressEnd(c, dst, bound, NULL);
	ck_assert(!LZ4F_isError(n));
	out->len -= bound - n;
	LZ4F_freeCompressionContext(c);
}

/* Snappy's best ratio is about 21:1, so a real 1 GiB snappy stream is ~48 MiB of input;
 * the attack is the length prefix. This xerial stream holds 64 MiB of zeros in 2048 blocks
 * (a few MiB), and its last block is raw snappy claiming 1 GiB. */
static void bomb_snappy(struct sl_buf *out)
{
	static const uint8_t head[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0,
	                                 0,    0,   0,   1,   0,   0,   0,   1};
	sl_buf_append(out, head, sizeof(head));
	size_t bound = snappy_max_compressed_length(32 * 1024);
	uint8_t *blk = malloc(bound);
	size_t blen = bound;
	ck_assert_int_eq(snappy_compress((const char *)zeros, 32 * 1024, (char *)blk, &blen),
	                 SNAPPY_OK);
	for (int i = 0; i < 2048; i++) {
		sl_buf_put_be32(out, (uint32_t)blen);
		sl_buf_append(out, blk, blen);
	}
	free(blk);
}

static long maxrss_kib(void)
{
	struct rusage ru;
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

START_TEST(test_bombs)
{
	int codec = codecs[1 + _i];
	struct sl_buf bomb;
	sl_buf_init(&bomb, 256 * MIB);
	switch (codec) {
	case STOR_COMPRESSION_GZIP:
		bomb_gzip(&bomb);
		break;
	case STOR_COMPRESSION_SNAPPY:
		bomb_snappy(&bomb);
		break;
	case STOR_COMPRESSION_LZ4:
		bomb_lz4(&bomb);
		break;
	default:
		bomb_zstd(&bomb);
		break;
	}
	ck_assert_int_eq(sl_buf_err(&bomb), SL_OK);
	ck_assert_uint_lt(bomb.len, 8 * MIB);
	long before = maxrss_kib();
	struct sl_buf out;
	sl_buf_init(&out, 2048 * MIB); /* only the cap stops it */
	ck_assert_int_eq(stor_decompress(codec, bomb.data, bomb.len, &out, MIB), SL_ETOOBIG);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_uint_le(out.cap, MIB); /* never grew past the cap */
	/* Raw snappy whose length prefix claims 1 GiB: refused before any allocation. */
	uint8_t claim[16] = {0x80, 0x80, 0x80, 0x80, 0x04, 0x00, 0x00, 0x00};
	sl_buf_free(&out);
	sl_buf_init(&out, 2048 * MIB);
	ck_assert_int_eq(stor_decompress(STOR_COMPRESSION_SNAPPY, claim, sizeof(claim), &out, MIB),
	                 SL_ETOOBIG);
	ck_assert_ptr_null(out.data);
	/* A claim under the cap that the input cannot back (6 bytes cannot expand to 512 KiB:
	 * one snappy element of 3 bytes makes at most 64) is refused before allocating too. */
	const uint8_t small_claim[6] = {0x80, 0x80, 0x20, 0x00, 0x00, 0x00};
	ck_assert_int_eq(stor_decompress(STOR_COMPRESSION_SNAPPY, small_claim, sizeof(small_claim),
	                                 &out, MIB),
	                 SL_ECORRUPT);
	ck_assert_ptr_null(out.data);
	/* The same bomb inside a batch: SL_ETOOBIG / STOR_PROBLEM_TOO_BIG from validate. */
	struct sl_buf batch, scratch;
	sl_buf_init(&batch, 256 * MIB);
	sl_buf_init(&scratch, 256 * MIB);
	uint8_t *h = sl_buf_extend(&batch, STOR_BATCH_HEADER_BYTES);
	memset(h, 0, STOR_BATCH_HEADER_BYTES);
	h[16] = STOR_BATCH_MAGIC;
	sl_store_be16(h + 21, (uint16_t)codec);
	sl_store_be64(h + 43, (uint64_t)-1);
	sl_store_be32(h + 57, 1);
	sl_buf_append(&batch, bomb.data, bomb.len);
	reseal(batch.data, batch.len);
	const struct stor_validate_opts opts = {MIB, true};
	struct stor_batch_view v;
	struct stor_validate_info info;
	size_t used;
	ck_assert_int_eq(
	        stor_batch_validate(batch.data, batch.len, &opts, &scratch, &v, &used, &info),
	        SL_ETOOBIG);
	ck_assert_int_eq(info.problem, STOR_PROBLEM_TOO_BIG);
	ck_assert_uint_le(scratch.cap, MIB);
	/* Peak memory stayed far below the 1 GiB the stream expands to. */
	ck_assert_int_lt(maxrss_kib() - before, 64 * 1024);
	sl_buf_free(&batch);
	sl_buf_free(&scratch);
	sl_buf_free(&out);
	sl_buf_free(&bomb);
}
END_TEST

/* Our encoder's formats: gzip member, xerial header and 32 KiB blocks, LZ4 frame flags. */
START_TEST(test_encoder_formats)
{
	static uint8_t src[100 * 1024];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 / 3);
	struct sl_buf c, d;
	sl_buf_init(&c, MIB);
	sl_buf_init(&d, MIB);
	ck_assert_int_eq(stor_compress(STOR_COMPRESSION_GZIP, 0, src, sizeof(src), &c), SL_OK);
	ck_assert_uint_eq(c.data[0], 0x1f);
	ck_assert_uint_eq(c.data[1], 0x8b);
	sl_buf_reset(&c);
	ck_assert_int_eq(stor_compress(STOR_COMPRESSION_SNAPPY, 0, src, sizeof(src), &c), SL_OK);
	ck_assert_mem_eq(c.data, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
	size_t pos = 16, blocks = 0;
	while (pos < c.len) {
		uint32_t blen = sl_load_be32(c.data + pos);
		size_t raw = 0;
		ck_assert_int_eq(
		        snappy_uncompressed_length((const char *)c.data + pos + 4, blen, &raw),
		        SNAPPY_OK);
		ck_assert_uint_le(raw, STOR_SNAPPY_XERIAL_BLOCK_BYTES);
		pos += 4 + blen;
		blocks++;
	}
	ck_assert_uint_eq(pos, c.len);
	ck_assert_uint_eq(blocks, 4);
	sl_buf_reset(&c);
	ck_assert_int_eq(stor_compress(STOR_COMPRESSION_LZ4, 0, src, sizeof(src), &c), SL_OK);
	ck_assert_uint_eq(sl_load_be32(c.data), 0x04224d18); /* magic 0x184D2204, LE */
	ck_assert_uint_eq(c.data[4], 0x60); /* version 01, block independence, nothing else */
	ck_assert_uint_eq(c.data[5], 0x40); /* 64 KiB blocks */
	for (int i = 0; i < 5; i++) {
		sl_buf_reset(&c);
		sl_buf_reset(&d);
		ck_assert_int_eq(stor_compress(codecs[i], 0, src, sizeof(src), &c), SL_OK);
		ck_assert_int_eq(stor_decompress(codecs[i], c.data, c.len, &d, MIB), SL_OK);
		ck_assert_uint_eq(d.len, sizeof(src));
		ck_assert_mem_eq(d.data, src, sizeof(src));
		/* Empty input round-trips too (an empty records area). */
		sl_buf_reset(&c);
		sl_buf_reset(&d);
		ck_assert_int_eq(stor_compress(codecs[i], 0, NULL, 0, &c), SL_OK);
		ck_assert_int_eq(stor_decompress(codecs[i], c.data, c.len, &d, MIB), SL_OK);
		ck_assert_uint_eq(d.len, 0);
	}
	ck_assert_int_eq(stor_compress((enum stor_compression)6, 0, src, 1, &c), SL_EINVAL);
	/* Output over the buffer's own limit: SL_ENOMEM, buffer unchanged. */
	struct sl_buf small;
	sl_buf_init(&small, 100);
	ck_assert_int_eq(stor_compress(STOR_COMPRESSION_ZSTD, 0, src, sizeof(src), &small),
	                 SL_ENOMEM);
	ck_assert_uint_eq(small.len, 0);
	ck_assert(!small.failed);
	sl_buf_free(&small);
	sl_buf_free(&c);
	sl_buf_free(&d);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("batch_compress");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_round_trip_codecs, 0, 5);
	tcase_add_loop_test(tc, test_small_and_control_codecs, 0, 5);
	tcase_add_loop_test(tc, test_corrupt_payloads, 0, 4);
	tcase_add_loop_test(tc, test_bombs, 0, 4);
	tcase_add_test(tc, test_encoder_formats);
	suite_add_tcase(s, tc);
	return s;
}
