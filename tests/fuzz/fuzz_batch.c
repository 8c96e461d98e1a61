/*
 * fuzz_batch.c: libFuzzer target for the RecordBatch decoder, decompression included.
 *
 * Each input is tried twice: as it is (frame checks, CRC), and "sealed" (batchLength and
 * CRC rewritten to match, so mutations reach the codecs and the record walk). Every path
 * runs: stor_batch_parse, stor_batch_parse_header, stor_batch_validate with and without the
 * client rules (raw records capped at 4 MiB), stor_batch_records_open and the record and
 * header iterators. Invariants checked: a batch that validates iterates without error and
 * decompresses to info.records_bytes; the cap is never exceeded. Any crash, sanitizer
 * report or SL_ASSERT failure is a bug.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORDS_CAP (4u << 20)
#define INPUT_MAX (1u << 20)

static void walk_records(struct stor_record_iter *it, int32_t count, bool must_succeed)
{
	struct stor_record r;
	int32_t seen = 0;
	enum sl_err e;
	while ((e = stor_record_next(it, &r)) == SL_OK) {
		struct stor_header_iter hi;
		struct stor_header h;
		stor_header_iter_init(&hi, &r);
		while (stor_header_next(&hi, &h) == SL_OK)
			SL_ASSERT(h.key != NULL && h.key_len >= 0);
		int16_t type;
		(void)stor_control_key_parse(&r, &type);
		seen++;
	}
	if (must_succeed) {
		SL_ASSERT(e == SL_ENOENT);
		SL_ASSERT(seen == count);
		SL_ASSERT(it->left == 0);
	}
}

static void try_batch(const uint8_t *p, size_t n, struct sl_buf *scratch)
{
	struct stor_batch_view v;
	size_t used = 0;
	if (stor_batch_parse(p, n, &v, &used) == SL_OK) {
		struct stor_record_iter it;
		stor_record_iter_init(&it, &v);
		walk_records(&it, v.h.record_count, true);
	}
	if (stor_batch_parse_header(p, n, &v, &used) == SL_OK) {
		SL_ASSERT(used <= n);
		struct stor_record_iter it;
		if (stor_batch_records_open(&v, scratch, RECORDS_CAP, &it) == SL_OK)
			walk_records(&it, v.h.record_count, false);
		SL_ASSERT(scratch->len <= RECORDS_CAP);
	}
	for (int client = 0; client < 2; client++) {
		const struct stor_validate_opts opts = {RECORDS_CAP, client == 1};
		struct stor_validate_info info;
		enum sl_err e = stor_batch_validate(p, n, &opts, scratch, &v, &used, &info);
		SL_ASSERT((e == SL_OK) == (info.problem == STOR_PROBLEM_NONE));
		SL_ASSERT(scratch->len <= RECORDS_CAP);
		if (e != SL_OK)
			continue;
		SL_ASSERT(info.records_bytes <= RECORDS_CAP);
		struct sl_buf raw;
		sl_buf_init(&raw, RECORDS_CAP);
		SL_ASSERT(stor_batch_decompress(&v, &raw, RECORDS_CAP) == SL_OK);
		SL_ASSERT(raw.len == info.records_bytes);
		struct stor_record_iter it;
		stor_record_iter_init_raw(&it, raw.data, raw.len, v.h.record_count);
		walk_records(&it, v.h.record_count, true);
		sl_buf_free(&raw);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > INPUT_MAX)
		return 0;
	struct sl_buf scratch;
	sl_buf_init(&scratch, RECORDS_CAP);
	try_batch(data, size, &scratch);
	if (size >= STOR_BATCH_HEADER_BYTES) {
		uint8_t *copy = malloc(size);
		SL_ASSERT(copy != NULL);
		memcpy(copy, data, size);
		copy[16] = STOR_BATCH_MAGIC;
		sl_store_be32(copy + 8, (uint32_t)(size - STOR_BATCH_LOG_OVERHEAD));
		uint32_t crc = sl_crc32c(0, copy + STOR_BATCH_ATTRIBUTES_OFFSET,
		                         size - STOR_BATCH_ATTRIBUTES_OFFSET);
		sl_store_be32(copy + STOR_BATCH_CRC_OFFSET, crc);
		try_batch(copy, size, &scratch);
		free(copy);
	}
	sl_buf_free(&scratch);
	return 0;
}
