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
 * crc is CRC32C over bytes [21, end). attributes: bits 0-2 compression (only 0 = none is
 * handled here for now), bit 3 timestamp type, bit 4 transactional, bit 5 control.
 *
 * Each record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 * keyLength varint (-1 = null) + key, valueLength varint (-1 = null) + value, header count
 * varint, then per header keyLength varint (>= 0) + key, valueLength varint (-1 = null) +
 * value. Signed varints are zig-zag encoded.
 *
 * Invariants: a batch accepted by stor_batch_parse() has magic 2, a matching CRC, a length
 * that fits the input, and exactly `records count` records that fill the batch to its last
 * byte; iterating such a batch cannot fail.
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
	int16_t attributes; /* compression bits must be 0 */
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;    /* -1 */
	int16_t producer_epoch; /* -1 */
	int32_t base_sequence;  /* -1 */
};

/* base_offset 0, epoch 0, attributes 0, timestamps = timestamp_ms, producer fields -1. */
void stor_batch_params_init(struct stor_batch_params *p, int64_t timestamp_ms);

/* Appends one complete batch to out. Borrows params and records (copied). Returns
 * SL_EINVAL for count == 0, count > INT32_MAX, compression bits set, or a negative length
 * on a non-NULL pointer; SL_ENOMEM / SL_ETOOBIG if out overflows its limit or the batch
 * would exceed INT32_MAX bytes. On error out->len is restored to its value on entry (unless
 * out had already failed before the call). */
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

/* Parses and fully validates the batch at the start of p[0..n). On SL_OK fills out and sets
 * *consumed to the batch size (the rest of p may hold further batches). Errors:
 * SL_EMALFORMED truncated input, bad lengths, record count mismatch, records not filling the
 * batch; SL_EUNSUPPORTED magic != 2 or compression != none; SL_ECORRUPT CRC mismatch. */
enum sl_err stor_batch_parse(const uint8_t *p, size_t n, struct stor_batch_view *out,
                             size_t *consumed) SL_MUST_USE;

static inline bool stor_batch_is_control(const struct stor_batch_view *v)
{
	return (v->h.attributes & STOR_BATCH_ATTR_CONTROL) != 0;
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

/* Iterates the records of a view returned by stor_batch_parse. */
void stor_record_iter_init(struct stor_record_iter *it, const struct stor_batch_view *v);
/* SL_OK with the next record, SL_ENOENT after the last, SL_EMALFORMED on bad bytes (cannot
 * happen for a view from stor_batch_parse). */
enum sl_err stor_record_next(struct stor_record_iter *it, struct stor_record *out) SL_MUST_USE;

void stor_header_iter_init(struct stor_header_iter *it, const struct stor_record *r);
/* SL_OK, SL_ENOENT after the last, SL_EMALFORMED on bad bytes. */
enum sl_err stor_header_next(struct stor_header_iter *it, struct stor_header *out) SL_MUST_USE;

/* Reads a control record's key (int16 version, must be 0; int16 type). SL_EMALFORMED if the
 * key is not 4 bytes or its version is not 0. */
enum sl_err stor_control_key_parse(const struct stor_record *r, int16_t *type) SL_MUST_USE;

#endif
