/*
 * time_index.c: the time index of a segment (Kafka's TimeIndex layout: i64 timestamp, u32
 * relative offset, big-endian) and lookups by timestamp (ListOffsets).
 *
 * Semantics: an entry (T, r) says that T is the segment's running max timestamp and that the
 * batch whose LAST offset is base + r is the first batch that reached it; so every batch
 * before it has max timestamp < T. A lookup for ts starts at the batch of the largest entry
 * with T <= ts (or at position 0) and scans batch headers for the first batch whose max
 * timestamp >= ts: every earlier batch has max < ts, so the first record with timestamp >= ts
 * is inside that batch (stor_segment_refine_timestamp finds it).
 *
 * Invariants: timestamps and relative offsets strictly increase; each entry's batch has max
 * timestamp T (checked when a lookup lands on it and by stor_segment_verify).
 */
#include "segment_int.h"

#include <stdlib.h>

enum sl_err seg_tidx_encode(const struct stor_segment *seg, uint8_t **out, size_t *len)
{
	size_t n = seg->tidx_count * STOR_TIME_INDEX_ENTRY_BYTES;
	uint8_t *p = malloc(n ? n : 1);
	if (p == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < seg->tidx_count; i++) {
		sl_store_be64(p + i * 12, (uint64_t)seg->tidx[i].timestamp);
		sl_store_be32(p + i * 12 + 8, seg->tidx[i].relative_offset);
	}
	*out = p;
	*len = n;
	return SL_OK;
}

/* Reads the .timeindex into p/len via the offset-index file reader's rules. */
static enum sl_err tidx_parse(struct stor_segment *seg, const uint8_t *p, size_t len)
{
	if (len % STOR_TIME_INDEX_ENTRY_BYTES != 0)
		return SL_ECORRUPT;
	size_t count = len / STOR_TIME_INDEX_ENTRY_BYTES;
	enum sl_err e = seg_index_reserve(seg, count);
	if (e != SL_OK)
		return e;
	for (size_t i = 0; i < count; i++) {
		int64_t ts = (int64_t)sl_load_be64(p + i * 12);
		uint32_t rel = sl_load_be32(p + i * 12 + 8);
		bool ordered = i == 0 || (ts > seg->tidx[i - 1].timestamp &&
		                          rel > seg->tidx[i - 1].relative_offset);
		if (!ordered || rel > (uint32_t)INT32_MAX || ts < 0)
			return SL_ECORRUPT;
		seg->tidx[i] = (struct stor_time_entry){.timestamp = ts, .relative_offset = rel};
		seg->tidx_count = i + 1;
	}
	return SL_OK;
}

enum sl_err seg_tidx_load(struct stor_segment *seg, uint64_t log_size)
{
	char path[SEG_PATH_BYTES];
	seg_index_path(seg, "timeindex", path, sizeof(path));
	seg->tidx_count = 0;
	uint8_t *p = NULL;
	size_t len = 0;
	size_t bound = (size_t)(log_size / STOR_BATCH_HEADER_BYTES + 1);
	enum sl_err e = seg_read_index_file(path, bound * STOR_TIME_INDEX_ENTRY_BYTES, &p, &len);
	if (e != SL_OK)
		return e;
	e = tidx_parse(seg, p, len);
	free(p);
	if (e != SL_OK)
		seg->tidx_count = 0;
	return e;
}

bool seg_tidx_fits(const struct stor_segment *seg)
{
	if (seg->tidx_count == 0)
		return true;
	const struct stor_time_entry *last = &seg->tidx[seg->tidx_count - 1];
	return seg->base_offset + (int64_t)last->relative_offset < seg->next_offset &&
	       last->timestamp <= seg->max_timestamp;
}

/* Largest entry with timestamp <= ts, or NULL. */
static const struct stor_time_entry *tidx_floor(const struct stor_segment *seg, int64_t ts)
{
	size_t lo = 0, hi = seg->tidx_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (seg->tidx[mid].timestamp <= ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? NULL : &seg->tidx[lo - 1];
}

enum sl_err stor_segment_lookup_timestamp(const struct stor_segment *seg, int64_t ts,
                                          uint64_t end_position, struct stor_time_lookup *out)
{
	SL_ASSERT(seg != NULL && out != NULL);
	SL_ASSERT(seg->log_fd >= 0);
	*out = (struct stor_time_lookup){.found = false};
	uint64_t end = SL_MIN(end_position, seg->size_bytes);
	if (seg->max_timestamp < ts)
		return SL_OK;
	const struct stor_time_entry *entry = tidx_floor(seg, ts);
	uint64_t pos = 0;
	if (entry != NULL) {
		int64_t off = seg->base_offset + entry->relative_offset;
		enum sl_err e = seg_find_offset_before(seg, off, end, &pos);
		if (e != SL_OK)
			return e;
	}
	int64_t min_offset = seg->base_offset;
	while (pos < end) {
		struct seg_batch_info b;
		const char *why = NULL;
		enum sl_err e = seg_read_header(seg, pos, end, min_offset, &b, &why);
		if (e != SL_OK)
			return e;
		if (entry != NULL && (b.last_offset != seg->base_offset + entry->relative_offset ||
		                      b.max_timestamp != entry->timestamp))
			return SL_ECORRUPT; /* the entry does not name this batch */
		entry = NULL;
		if (b.max_timestamp >= ts) {
			*out = (struct stor_time_lookup){
			        .found = true,
			        .position = pos,
			        .batch_bytes = b.size,
			        .base_offset = b.base_offset,
			        .last_offset = b.last_offset,
			        .attributes = b.attributes,
			};
			return SL_OK;
		}
		min_offset = b.last_offset + 1;
		pos += b.size;
	}
	return SL_OK;
}

enum sl_err stor_segment_find_timestamp(const struct stor_segment *seg, int64_t ts, int64_t *offset,
                                        bool *found)
{
	SL_ASSERT(offset != NULL && found != NULL);
	struct stor_time_lookup hit;
	enum sl_err e = stor_segment_lookup_timestamp(seg, ts, seg->size_bytes, &hit);
	if (e != SL_OK)
		return e;
	*found = hit.found;
	*offset = hit.found ? hit.base_offset : -1;
	return SL_OK;
}

enum sl_err stor_segment_refine_timestamp(const struct stor_segment *seg,
                                          const struct stor_time_lookup *hit, int64_t ts,
                                          struct sl_buf *scratch, int64_t *offset)
{
	SL_ASSERT(seg != NULL && hit != NULL && scratch != NULL && offset != NULL);
	SL_ASSERT(hit->found);
	if ((hit->attributes & STOR_BATCH_ATTR_LOG_APPEND_TIME) != 0) {
		*offset = hit->base_offset; /* every record carries the batch's max timestamp */
		return SL_OK;
	}
	sl_buf_reset(scratch);
	uint8_t *p = sl_buf_extend(scratch, hit->batch_bytes);
	if (p == NULL)
		return SL_ETOOBIG;
	size_t got = 0;
	enum sl_err e = seg_pread(seg->log_fd, p, hit->batch_bytes, hit->position, &got);
	if (e != SL_OK)
		return e;
	struct stor_batch_view v;
	size_t used = 0;
	if (got != hit->batch_bytes || stor_batch_parse_header(p, got, &v, &used) != SL_OK ||
	    used != got || v.h.base_offset != hit->base_offset)
		return SL_ECORRUPT;
	/* A compressed batch is decompressed (bounded) so the answer is per record, as Kafka's
	 * findOffsetByTimestamp gives; an uncompressed one is walked in place. */
	struct sl_buf raw;
	sl_buf_init(&raw, STOR_TIMESTAMP_RAW_MAX);
	struct stor_record_iter it;
	e = stor_batch_records_open(&v, &raw, STOR_TIMESTAMP_RAW_MAX, &it);
	*offset = hit->base_offset; /* also the answer if max timestamp is inconsistent */
	struct stor_record r;
	enum sl_err ne = SL_OK;
	while (e == SL_OK && (ne = stor_record_next(&it, &r)) == SL_OK) {
		int64_t rts; /* both terms come from disk: saturate rather than overflow */
		if (__builtin_add_overflow(v.h.base_timestamp, r.timestamp_delta, &rts))
			rts = r.timestamp_delta > 0 ? INT64_MAX : INT64_MIN;
		if (rts >= ts) {
			*offset = hit->base_offset + r.offset_delta;
			break;
		}
	}
	sl_buf_free(&raw);
	if (e == SL_ETOOBIG || e == SL_ENOMEM)
		return e;
	if (e != SL_OK || (ne != SL_OK && ne != SL_ENOENT))
		return SL_ECORRUPT;
	return SL_OK;
}
