/*
 * log_read.c: reads as file ranges (Fetch) and lookups by timestamp (ListOffsets).
 *
 * A read locates the batch holding the offset (stor_segment_find_offset), then extends the
 * range over whole batches. To avoid reading every header, it first jumps with the in-memory
 * offset index to the last indexed batch start that still fits max_bytes and max_offset
 * (every batch before an index entry's position has offsets below that entry's), then walks
 * batch headers (pread of 27 bytes each from the page cache) for the last stretch.
 * Nothing at or beyond a segment's written_bytes is ever returned.
 */
#include "log_int.h"

#include <errno.h>
#include <unistd.h>

#define HDR_BYTES 27 /* baseOffset .. lastOffsetDelta */

struct hdr {
	int64_t base;
	int64_t last;
	uint64_t size;
};

/* Reads the header of the batch at pos (< seg->written_bytes). A header that does not fit
 * the written bytes takes the log offline (SL_EIO). */
static enum sl_err read_hdr(struct stor_log *log, const struct log_seg *seg, uint64_t pos,
                            struct hdr *out)
{
	SL_ASSERT(pos < seg->written_bytes);
	uint8_t b[HDR_BYTES];
	ssize_t k;
	do {
		k = pread(seg->s.log_fd, b, sizeof(b), (off_t)pos);
	} while (k < 0 && errno == EINTR);
	if (k != (ssize_t)sizeof(b)) {
		stor_log_set_offline(log, k < 0 ? sl_err_from_errno(errno) : SL_EIO,
		                     "read of a batch header");
		return SL_EIO;
	}
	int32_t blen = (int32_t)sl_load_be32(b + 8);
	int32_t lod = (int32_t)sl_load_be32(b + 23);
	int64_t base = (int64_t)sl_load_be64(b);
	/* Never trust the disk: the batch must end inside the written bytes (pos is below them,
	 * so the subtraction cannot wrap) and its offsets must not overflow. */
	if (blen < STOR_BATCH_HEADER_BYTES - STOR_BATCH_LOG_OVERHEAD || lod < 0 || base < 0 ||
	    base >= INT64_MAX - lod || b[16] != STOR_BATCH_MAGIC ||
	    (uint64_t)blen + STOR_BATCH_LOG_OVERHEAD > seg->written_bytes - pos) {
		stor_log_set_offline(log, SL_ECORRUPT, "batch header in a written segment");
		return SL_EIO;
	}
	out->base = base;
	out->last = base + lod;
	out->size = (uint64_t)blen + STOR_BATCH_LOG_OVERHEAD;
	return SL_OK;
}

/* Largest indexed batch start in (start, limit] whose offset is below max_offset. */
static uint64_t index_jump(const struct log_seg *seg, uint64_t start, uint64_t limit,
                           int64_t max_offset)
{
	uint64_t best = start;
	const struct stor_segment *s = &seg->s;
	size_t lo = 0, hi = s->oidx_count; /* first entry with position > limit */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->oidx[mid].position <= limit)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0) {
		const struct stor_offset_entry *en = &s->oidx[lo - 1];
		if (en->position <= start)
			break;
		int64_t off = s->base_offset + en->relative_offset;
		if (max_offset < 0 || off < max_offset) {
			best = en->position;
			break;
		}
		lo--;
	}
	return best;
}

/* Extends [pos, ...) over whole batches of seg. */
static enum sl_err extend(struct stor_log *log, const struct log_seg *seg, uint64_t pos,
                          uint64_t max_bytes, int64_t max_offset, struct stor_read_result *out)
{
	struct hdr h;
	enum sl_err e = read_hdr(log, seg, pos, &h);
	if (e != SL_OK)
		return e;
	if (max_offset >= 0 && h.base >= max_offset)
		return SL_OK; /* nothing visible yet */
	uint64_t end = pos + h.size;
	out->first_offset = h.base;
	out->next_offset = h.last + 1;
	uint64_t limit = SL_MIN(seg->written_bytes, pos + SL_MAX(max_bytes, h.size));
	if (end < limit) /* jump over indexed batches that surely fit (kept < written_bytes) */
		end = index_jump(seg, end, SL_MIN(limit, seg->written_bytes - 1), max_offset);
	while (end < seg->written_bytes) {
		e = read_hdr(log, seg, end, &h);
		if (e != SL_OK)
			return e;
		if (end + h.size > limit || (max_offset >= 0 && h.base >= max_offset)) {
			out->next_offset = h.base;
			break;
		}
		end += h.size;
		out->next_offset = h.last + 1;
	}
	out->range = (struct stor_file_range){seg->s.log_fd, pos, end - pos};
	return SL_OK;
}

enum sl_err stor_log_read(struct stor_log *log, int64_t offset, uint64_t max_bytes,
                          int64_t max_offset, struct stor_read_result *out)
{
	*out = (struct stor_read_result){
	        .range = {-1, 0, 0}, .first_offset = offset, .next_offset = offset};
	if (log->offline)
		return SL_EIO;
	if (offset < log->log_start_offset || offset > log->written_offset)
		return SL_ENOENT;
	if (offset == log->written_offset)
		return SL_OK;
	for (size_t i = stor_log_seg_index(log, offset); i < log->seg_count; i++) {
		const struct log_seg *seg = log->segs[i];
		uint64_t pos = 0;
		if (offset > seg->s.base_offset) {
			enum sl_err e = stor_segment_find_offset(&seg->s, offset, &pos);
			if (e != SL_OK) {
				stor_log_set_offline(log, e, "offset lookup");
				return SL_EIO;
			}
		}
		if (pos < seg->written_bytes)
			return extend(log, seg, pos, max_bytes, max_offset, out);
	}
	return SL_OK;
}

enum sl_err stor_log_find_timestamp(struct stor_log *log, int64_t ts, int64_t *offset, bool *found)
{
	*found = false;
	*offset = -1;
	if (log->offline)
		return SL_EIO;
	if (ts == STOR_TIMESTAMP_LATEST || ts == STOR_TIMESTAMP_EARLIEST) {
		*offset = ts == STOR_TIMESTAMP_LATEST ? log->written_offset : log->log_start_offset;
		*found = true;
		return SL_OK;
	}
	for (size_t i = 0; i < log->seg_count; i++) {
		const struct log_seg *seg = log->segs[i];
		if (seg->s.max_timestamp < ts || seg->s.next_offset <= log->log_start_offset)
			continue;
		struct stor_time_lookup hit;
		enum sl_err e =
		        stor_segment_lookup_timestamp(&seg->s, ts, seg->written_bytes, &hit);
		if (e != SL_OK)
			return e;
		if (!hit.found)
			continue;
		/* Record level (Kafka's findOffsetByTimestamp); admin path, so a scratch buffer. */
		struct sl_buf scratch;
		sl_buf_init(&scratch, (size_t)SL_MAX(hit.batch_bytes, 1u));
		int64_t off = hit.base_offset;
		e = stor_segment_refine_timestamp(&seg->s, &hit, ts, &scratch, &off);
		sl_buf_free(&scratch);
		if (e == SL_ETOOBIG)
			off = hit.base_offset; /* inflates past the cap: batch granularity */
		else if (e != SL_OK)
			return e;
		*offset = SL_MAX(off, log->log_start_offset);
		*found = true;
		return SL_OK;
	}
	return SL_OK;
}
