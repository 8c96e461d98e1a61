/*
 * batch.h: Kafka RecordBatch v2 (magic 2), the unit of every log, snapshot and Produce/Fetch
 * payload. Public header of the L1 `sl_batch` library (pure: no I/O).
 *
 * On-disk / on-wire layout (all big-endian), STOR_BATCH_HEADER_BYTES = 61:
 *
 *   0 baseOffset int64        8 batchLength int32 (bytes after this field)
 *  12 partitionLeaderEpoch    16 magic int8 (= 2)        17 crc uint32
 *  21 attributes int16        23 lastOffsetDelta int32   27 baseTimestamp int64
 *  35 maxTimestamp int64      43 producerId int64        51 producerEpoch int16
 *  53 baseSequence int32      57 records count int32     61 records...
 *
 * crc is CRC32C over bytes [21, end). attributes: bits 0-2 compression (0 none, 1 gzip,
 * 2 snappy, 3 lz4, 4 zstd; 5-7 invalid), bit 3 timestamp type, bit 4 transactional, bit 5
 * control. In a compressed batch the bytes after the header (the "records area") are one
 * compressed stream of the concatenated records; the CRC covers the compressed bytes and the
 * records count still counts the records inside.
 *
 * Each record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 * keyLength varint (-1 = null) + key, valueLength varint (-1 = null) + value, header count
 * varint, then per header keyLength varint (>= 0) + key, valueLength varint (-1 = null) +
 * value. Signed varints are zig-zag encoded.
 *
 * Three levels of checking, cheapest first:
 *  - stor_batch_parse_header(): framing, magic, CRC and a known codec (what a log scan or a
 *    Fetch needs); the records area is not looked at.
 *  - stor_batch_parse(): uncompressed batches only, every record walked (metadata log,
 *    snapshots, checkpoints). Invariant: a batch it accepts has magic 2, a matching CRC, a
 *    length that fits the input, and exactly `records count` records that fill the batch to
 *    its last byte; iterating such a batch cannot fail.
 *  - stor_batch_validate(): any codec, decompressed under a cap, every record walked, plus
 *    Kafka's Produce rules when asked (batch_validate.c).
 *
 * Decompression never trusts sizes declared by the stream: every decoder writes through a
 * window that stops at a caller-supplied cap (SL_ETOOBIG), so a decompression bomb costs at
 * most the cap plus the codec's bounded working memory.
 */
#ifndef SL_STOR_BATCH_H
#define SL_STOR_BATCH_H

#include "base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STOR_BATCH_MAGIC 2
#define STOR_BATCH_HEADER_BYTES 61
#define STOR_BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */
#define STOR_BATCH_CRC_OFFSET 17
#define STOR_BATCH_ATTRIBUTES_OFFSET 21

#define STOR_BATCH_ATTR_COMPRESSION_MASK 0x07
#define STOR_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define STOR_BATCH_ATTR_TRANSACTIONAL 0x10
#define STOR_BATCH_ATTR_CONTROL 0x20

/* Compression codec ids (attributes bits 0-2; Kafka CompressionType ids). */
enum stor_compression {
	STOR_COMPRESSION_NONE = 0,
	STOR_COMPRESSION_GZIP = 1,
	STOR_COMPRESSION_SNAPPY = 2,
	STOR_COMPRESSION_LZ4 = 3,
	STOR_COMPRESSION_ZSTD = 4,
};
#define STOR_COMPRESSION_MAX STOR_COMPRESSION_ZSTD

/* Kafka's producer defaults (compression.{gzip,lz4,zstd}.level, KIP-390): gzip
 * Z_DEFAULT_COMPRESSION, lz4 9, zstd 3. Snappy has no level. */
#define STOR_GZIP_LEVEL_DEFAULT (-1)
#define STOR_LZ4_LEVEL_DEFAULT 9
#define STOR_ZSTD_LEVEL_DEFAULT 3
/* Uncompressed bytes per xerial snappy block (xerial SnappyOutputStream's default). */
#define STOR_SNAPPY_XERIAL_BLOCK_BYTES (32u * 1024u)

/* Control record types (key = int16 version 0 + int16 type; Kafka ControlRecordType). */
enum stor_control_type {
	STOR_CONTROL_ABORT = 0,
	STOR_CONTROL_COMMIT = 1,
	STOR_CONTROL_LEADER_CHANGE = 2,
	STOR_CONTROL_SNAPSHOT_HEADER = 3,
	STOR_CONTROL_SNAPSHOT_FOOTER = 4,
	STOR_CONTROL_KRAFT_VERSION = 5,
	STOR_CONTROL_KRAFT_VOTERS = 6,
};
#define STOR_CONTROL_KEY_BYTES 4

/* The decoded fixed header. */
struct stor_batch_header {
	int64_t base_offset;
	int32_t batch_length;
	int32_t partition_leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t record_count;
};

/* ---- building ------------------------------------------------------------------------ */

/* One record header to write. key must not be NULL; value NULL means a null value. */
struct stor_header_in {
	const uint8_t *key;
	int32_t key_len;
	const uint8_t *value;
	int32_t value_len;
};

/* One record to write. key / value NULL means null (length -1); otherwise *_len >= 0 bytes
 * are copied. The record's offsetDelta is its index in the array. */
struct stor_record_in {
	int64_t timestamp_delta;
	const uint8_t *key;
	int32_t key_len;
	const uint8_t *value;
	int32_t value_len;
	const struct stor_header_in *headers;
	size_t header_count;
};

/* Batch-level fields chosen by the caller; lastOffsetDelta, batchLength, crc and the count
 * are computed. Use stor_batch_params_init() for Kafka's "no producer" defaults. */
struct stor_batch_params {
	int64_t base_offset;
	int32_t partition_leader_epoch;
	int16_t attributes;        /* compression bits 0-4 select the codec */
	int32_t compression_level; /* 0 = the codec's Kafka default (see above) */
	struct sl_buf *scratch;    /* optional, borrowed: holds the raw records while compressing;
	                            * NULL = a temporary buffer (one malloc per compressed build) */
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;    /* -1 */
	int16_t producer_epoch; /* -1 */
	int32_t base_sequence;  /* -1 */
};

/* base_offset 0, epoch 0, attributes 0, level 0, no scratch, timestamps = timestamp_ms,
 * producer fields -1. */
void stor_batch_params_init(struct stor_batch_params *p, int64_t timestamp_ms);

/* Appends one complete batch to out, its records area compressed with the codec in
 * params->attributes (gzip as a gzip member, snappy in xerial framing as Kafka's Java client
 * writes it, lz4 as an LZ4 frame with independent 64 KiB blocks, zstd as one frame). Borrows
 * params and records (copied). Returns SL_EINVAL for count == 0, count > INT32_MAX, codec
 * 5-7, or a negative length on a non-NULL pointer; SL_ENOMEM / SL_ETOOBIG if out (or the
 * scratch) overflows its limit or the batch would exceed INT32_MAX bytes; SL_ESYS if a codec
 * library fails. On error out->len is restored to its value on entry (unless out had already
 * failed before the call). */
enum sl_err stor_batch_build(struct sl_buf *out, const struct stor_batch_params *params,
                             const struct stor_record_in *records, size_t count) SL_MUST_USE;

/* Appends a control batch of one record per entry: key = int16 0 + int16 types[i], value =
 * values[i] (values_len[i] bytes, already encoded without any frame). Sets the control
 * attribute on top of params->attributes. Errors as stor_batch_build. */
enum sl_err stor_batch_build_control(struct sl_buf *out, const struct stor_batch_params *params,
                                     const enum stor_control_type *types,
                                     const uint8_t *const *values, const size_t *values_len,
                                     size_t count) SL_MUST_USE;

/* ---- parsing ------------------------------------------------------------------------- */

/* A validated batch inside caller memory (borrowed: valid while that memory is). */
struct stor_batch_view {
	struct stor_batch_header h;
	const uint8_t *data; /* first byte of the batch (baseOffset) */
	size_t size;         /* STOR_BATCH_LOG_OVERHEAD + batch_length */
	const uint8_t *records;
	size_t records_len;
};

/* Size of the batch starting at p if at least STOR_BATCH_LOG_OVERHEAD bytes are present:
 * SL_OK with *size = 12 + batchLength; SL_EAGAIN if n < 12; SL_EMALFORMED if batchLength is
 * smaller than a header. */
enum sl_err stor_batch_peek_size(const uint8_t *p, size_t n, size_t *size) SL_MUST_USE;

/* Parses and fully validates the uncompressed batch at the start of p[0..n). On SL_OK fills
 * out and sets *consumed to the batch size (the rest of p may hold further batches). Errors:
 * SL_EMALFORMED truncated input, bad lengths, record count mismatch, records not filling the
 * batch; SL_EUNSUPPORTED magic != 2 or compression != none; SL_ECORRUPT CRC mismatch. */
enum sl_err stor_batch_parse(const uint8_t *p, size_t n, struct stor_batch_view *out,
                             size_t *consumed) SL_MUST_USE;

/* Checks only the frame of the batch at the start of p[0..n): lengths, magic 2, CRC, codec
 * 0-4, record count >= 0 and lastOffsetDelta >= 0. The records area (records/records_len,
 * compressed or not) is not walked. Errors as stor_batch_parse, plus SL_EUNSUPPORTED for
 * codec 5-7. */
enum sl_err stor_batch_parse_header(const uint8_t *p, size_t n, struct stor_batch_view *out,
                                    size_t *consumed) SL_MUST_USE;

static inline bool stor_batch_is_control(const struct stor_batch_view *v)
{
	return (v->h.attributes & STOR_BATCH_ATTR_CONTROL) != 0;
}

static inline int stor_batch_compression(const struct stor_batch_view *v)
{
	return v->h.attributes & STOR_BATCH_ATTR_COMPRESSION_MASK;
}

/* One record, as views into the batch. key == NULL / value == NULL mean null. */
struct stor_record {
	int8_t attributes;
	int64_t timestamp_delta;
	int32_t offset_delta;
	const uint8_t *key;
	int32_t key_len; /* -1 when null */
	const uint8_t *value;
	int32_t value_len; /* -1 when null */
	uint32_t header_count;
	const uint8_t *headers; /* encoded headers, for stor_header_next */
	size_t headers_len;
};

struct stor_record_iter {
	const uint8_t *p;
	size_t left;
	int32_t remaining;
};

struct stor_header {
	const uint8_t *key;
	int32_t key_len;
	const uint8_t *value; /* NULL when null */
	int32_t value_len;    /* -1 when null */
};

struct stor_header_iter {
	const uint8_t *p;
	size_t left;
	uint32_t remaining;
};

/* Iterates the records of an uncompressed view (from stor_batch_parse, or any uncompressed
 * view; then stor_record_next may report SL_EMALFORMED). */
void stor_record_iter_init(struct stor_record_iter *it, const struct stor_batch_view *v);
/* Iterates `count` records in a raw (uncompressed) records area records[0..len), e.g. the
 * output of stor_batch_decompress. Borrows records. */
void stor_record_iter_init_raw(struct stor_record_iter *it, const uint8_t *records, size_t len,
                               int32_t count);
/* SL_OK with the next record, SL_ENOENT after the last, SL_EMALFORMED on bad bytes (cannot
 * happen for a view from stor_batch_parse). */
enum sl_err stor_record_next(struct stor_record_iter *it, struct stor_record *out) SL_MUST_USE;

void stor_header_iter_init(struct stor_header_iter *it, const struct stor_record *r);
/* SL_OK, SL_ENOENT after the last, SL_EMALFORMED on bad bytes. */
enum sl_err stor_header_next(struct stor_header_iter *it, struct stor_header *out) SL_MUST_USE;

/* Reads a control record's key (int16 version, must be 0; int16 type). SL_EMALFORMED if the
 * key is not 4 bytes or its version is not 0. */
enum sl_err stor_control_key_parse(const struct stor_record *r, int16_t *type) SL_MUST_USE;

/* ---- compression (batch_compress.c) --------------------------------------------------- */

/* Appends the compressed form of src[0..n) to out. level 0 = the codec's default. Formats:
 * see stor_batch_build. SL_EINVAL for an unknown codec; SL_ENOMEM / SL_ETOOBIG when out
 * overflows its limit; SL_ESYS if the library fails. out->len is restored on error. */
enum sl_err stor_compress(enum stor_compression codec, int32_t level, const uint8_t *src, size_t n,
                          struct sl_buf *out) SL_MUST_USE;

/* Appends the decompression of src[0..n) to out, writing at most cap bytes (and never past
 * out's own limit). Nothing declared by the stream is trusted for sizing: snappy's length
 * prefix is checked against the cap before anything is allocated, the LZ4 frame content
 * size is ignored, gzip/lz4/zstd are decoded in bounded steps and stop at the cap. Decodes
 * gzip members (one or more), snappy in xerial framing or raw, LZ4 frames, zstd frames (one
 * or more; window at most 2^max(23, log2(cap)) bytes, capped at 2^27).
 * Errors: SL_ETOOBIG output over the cap (or a zstd window over the limit); SL_ECORRUPT
 * undecodable, truncated or trailing bytes; SL_EINVAL unknown codec; SL_ENOMEM allocation.
 * out->len is restored on error. */
enum sl_err stor_decompress(enum stor_compression codec, const uint8_t *src, size_t n,
                            struct sl_buf *out, size_t cap) SL_MUST_USE;

/* Appends the raw records area of a view (from stor_batch_parse_header or later) to out:
 * decompressed under cap, or copied when uncompressed (then also SL_ETOOBIG past cap).
 * Errors as stor_decompress; SL_EUNSUPPORTED for codec 5-7. */
enum sl_err stor_batch_decompress(const struct stor_batch_view *v, struct sl_buf *out,
                                  size_t cap) SL_MUST_USE;

/* Opens a record iterator over any view: an uncompressed batch is iterated in place; a
 * compressed one is decompressed into scratch (reset first) under cap, and the records then
 * borrow scratch until it next changes. Errors as stor_batch_decompress. Records of a view
 * not checked by stor_batch_validate may still yield SL_EMALFORMED from stor_record_next. */
enum sl_err stor_batch_records_open(const struct stor_batch_view *v, struct sl_buf *scratch,
                                    size_t cap, struct stor_record_iter *it) SL_MUST_USE;

/* ---- validation (batch_validate.c) ---------------------------------------------------- */

/* What stor_batch_validate found wrong; each names the sl_err returned and the Kafka error
 * code the broker should answer a Produce with (the mapping file owns the codes). */
enum stor_batch_problem {
	STOR_PROBLEM_NONE = 0,
	STOR_PROBLEM_TRUNCATED,   /* SL_ECORRUPT: input shorter than a header or batchLength,
	                           * or batchLength below a header: CORRUPT_MESSAGE (2) */
	STOR_PROBLEM_CRC,         /* SL_ECORRUPT: CORRUPT_MESSAGE (2) */
	STOR_PROBLEM_MAGIC,       /* SL_EUNSUPPORTED: magic 0/1 (or any != 2): INVALID_RECORD
	                           * (87). Kafka 4 ProduceRequest.validateRecords allows only
	                           * magic 2 for Produce v3+ and throws InvalidRecordException
	                           * ("...only allowed to contain record batches with magic
	                           * version 2"); v0-v2 Produce no longer exist (KIP-896). */
	STOR_PROBLEM_COMPRESSION, /* SL_EUNSUPPORTED: codec id 5-7: UNSUPPORTED_COMPRESSION_TYPE
	                           * (76). (Kafka's CompressionType.forId throws a plain
	                           * IllegalArgumentException and answers UNKNOWN_SERVER_ERROR.) */
	STOR_PROBLEM_DECOMPRESS,  /* SL_ECORRUPT: compressed stream undecodable: CORRUPT_MESSAGE */
	STOR_PROBLEM_TOO_BIG,     /* SL_ETOOBIG: raw records over the cap: MESSAGE_TOO_LARGE (10) */
	STOR_PROBLEM_COUNT,       /* SL_EMALFORMED: records count != records present (or bytes
	                           * left over): INVALID_RECORD (87) */
	STOR_PROBLEM_RECORD,    /* SL_EMALFORMED: bad record or header structure: INVALID_RECORD */
	STOR_PROBLEM_OFFSETS,   /* SL_EMALFORMED: offset deltas not 0, 1, ..., n-1 or
	                         * lastOffsetDelta != n-1 (client rules): INVALID_RECORD */
	STOR_PROBLEM_CONTROL,   /* SL_EMALFORMED: control batch from a client, or a control
	                         * record key under 4 bytes / negative version: INVALID_RECORD */
	STOR_PROBLEM_PRODUCER,  /* SL_EMALFORMED: producerId >= 0 with baseSequence < 0, or
	                         * transactional without a producer id: INVALID_RECORD */
	STOR_PROBLEM_TIMESTAMP, /* SL_EMALFORMED: baseTimestamp + delta overflows: INVALID_RECORD */
};

/* Returns a short static description ("crc mismatch"); never NULL. */
const char *stor_batch_problem_name(enum stor_batch_problem p);

struct stor_validate_opts {
	size_t records_bytes_max; /* cap on the raw (decompressed) records area */
	bool client;              /* apply Kafka's LogValidator rules for client Produce:
	                           * count >= 1, offset deltas exactly 0..n-1 and lastOffsetDelta
	                           * = n-1, no control batch, producer fields consistent */
};

struct stor_validate_info {
	enum stor_batch_problem problem;
	int32_t record_index;  /* the record at fault, -1 for batch-level problems */
	int64_t max_timestamp; /* max(baseTimestamp + timestampDelta); baseTimestamp if none */
	size_t records_bytes;  /* size of the raw records area */
};

/* Fully validates the one batch at the start of p[0..n): frame (as stor_batch_parse_header),
 * then the records area decompressed into scratch (reset first; borrowed) under
 * opts->records_bytes_max, then every record and header, the count against the records
 * present, control keys, and the client rules when opts->client. On SL_OK fills *out,
 * *consumed and info; for a compressed batch scratch then holds the raw records (iterate
 * with stor_record_iter_init_raw). Always sets info->problem. Returns SL_ECORRUPT,
 * SL_EUNSUPPORTED, SL_ETOOBIG, SL_EMALFORMED as listed in enum stor_batch_problem, or
 * SL_ENOMEM when scratch cannot grow. The caller checks *consumed == n when the input must
 * hold exactly one batch (Produce v3+). */
enum sl_err stor_batch_validate(const uint8_t *p, size_t n, const struct stor_validate_opts *opts,
                                struct sl_buf *scratch, struct stor_batch_view *out,
                                size_t *consumed, struct stor_validate_info *info) SL_MUST_USE;

#endif
