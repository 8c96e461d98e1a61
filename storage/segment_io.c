/*
 * segment_io.c: reading batch headers and checking batch CRCs in a segment file with
 * pread(2). Every length read from disk is checked against the bytes that remain before the
 * caller's end position and against the segment's relative offset range before it is used.
 */
#include "segment_int.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

void seg_set_err(char *err, size_t err_len, const char *fmt, ...)
{
	if (err == NULL || err_len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

enum sl_err seg_pread(int fd, void *buf, size_t len, uint64_t pos, size_t *got)
{
	SL_ASSERT(fd >= 0);
	uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		if (pos + done > (uint64_t)INT64_MAX)
			break;
		ssize_t k = pread(fd, p + done, len - done, (off_t)(pos + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return sl_err_from_errno(errno);
		if (k == 0)
			break;
		done += (size_t)k;
	}
	*got = done;
	return SL_OK;
}

bool seg_offsets_ok(const struct stor_segment *seg, const struct seg_batch_info *b,
                    int64_t min_offset, const char **why)
{
	if (b->base_offset < min_offset || b->base_offset < seg->base_offset) {
		*why = "base offset out of order";
		return false;
	}
	/* Relative offsets must fit Kafka's int range (and so the index's u32); last + 1 must
	 * fit an int64 (header_decode saturates an overflowing base + delta to INT64_MAX). */
	if (b->last_offset == INT64_MAX || b->last_offset - seg->base_offset > (int64_t)INT32_MAX) {
		*why = "offset outside the segment's relative offset range";
		return false;
	}
	return true;
}

/* Decodes and checks the fixed header fields; see seg_read_header. */
static bool header_decode(const struct stor_segment *seg, const uint8_t *h, uint64_t pos,
                          uint64_t end, int64_t min_offset, struct seg_batch_info *out,
                          const char **why)
{
	int32_t batch_length = (int32_t)sl_load_be32(h + 8);
	if (batch_length < STOR_BATCH_HEADER_BYTES - STOR_BATCH_LOG_OVERHEAD) {
		*why = "batch length smaller than a batch header";
		return false;
	}
	uint64_t size = STOR_BATCH_LOG_OVERHEAD + (uint64_t)batch_length;
	if (size > end - pos) {
		*why = "incomplete batch (length runs past the end of the data)";
		return false;
	}
	if (h[16] != STOR_BATCH_MAGIC) {
		*why = "bad magic byte";
		return false;
	}
	int64_t base = (int64_t)sl_load_be64(h);
	int32_t delta = (int32_t)sl_load_be32(h + 23);
	if (delta < 0) {
		*why = "negative lastOffsetDelta";
		return false;
	}
	out->base_offset = base;
	/* baseOffset is outside the CRC: saturate instead of overflowing; seg_offsets_ok rejects
	 * a last offset of INT64_MAX (next_offset would overflow). */
	out->last_offset = base > INT64_MAX - delta ? INT64_MAX : base + delta;
	if (min_offset != SEG_NO_OFFSET_CHECK && !seg_offsets_ok(seg, out, min_offset, why))
		return false;
	out->position = pos;
	out->size = (uint32_t)size;
	out->leader_epoch = (int32_t)sl_load_be32(h + 12);
	out->crc = sl_load_be32(h + STOR_BATCH_CRC_OFFSET);
	out->attributes = (int16_t)sl_load_be16(h + STOR_BATCH_ATTRIBUTES_OFFSET);
	out->max_timestamp = (int64_t)sl_load_be64(h + 35);
	return true;
}

enum sl_err seg_read_header(const struct stor_segment *seg, uint64_t pos, uint64_t end,
                            int64_t min_offset, struct seg_batch_info *out, const char **why)
{
	SL_ASSERT(seg != NULL && out != NULL && why != NULL);
	*why = NULL;
	if (pos >= end || end - pos < STOR_BATCH_HEADER_BYTES) {
		*why = "incomplete batch header";
		return SL_ECORRUPT;
	}
	uint8_t h[STOR_BATCH_HEADER_BYTES];
	size_t got = 0;
	enum sl_err e = seg_pread(seg->log_fd, h, sizeof(h), pos, &got);
	if (e != SL_OK)
		return e;
	if (got < sizeof(h)) {
		*why = "incomplete batch header (file shorter than expected)";
		return SL_ECORRUPT;
	}
	if (!header_decode(seg, h, pos, end, min_offset, out, why))
		return SL_ECORRUPT;
	return SL_OK;
}

enum sl_err seg_batch_crc_check(int fd, const struct seg_batch_info *b, uint8_t *buf,
                                size_t buf_len)
{
	SL_ASSERT(b->size >= STOR_BATCH_HEADER_BYTES);
	SL_ASSERT(buf_len > 0);
	uint64_t pos = b->position + STOR_BATCH_ATTRIBUTES_OFFSET;
	uint64_t left = b->size - STOR_BATCH_ATTRIBUTES_OFFSET;
	uint32_t crc = 0;
	while (left > 0) {
		size_t n = (size_t)SL_MIN(left, (uint64_t)buf_len);
		size_t got = 0;
		enum sl_err e = seg_pread(fd, buf, n, pos, &got);
		if (e != SL_OK)
			return e;
		if (got != n)
			return SL_ECORRUPT; /* the file ended inside the batch */
		crc = sl_crc32c(crc, buf, n);
		pos += n;
		left -= n;
	}
	return crc == b->crc ? SL_OK : SL_ECORRUPT;
}
