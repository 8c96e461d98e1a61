/*
 * segment_recover.c: opening a segment (trusted or recovering), the scan that rebuilds a
 * segment's state and indexes, full verification, and start-up clean-up of a partition
 * directory. All blocking POSIX I/O: it runs at start-up or admin time.
 *
 * Policy (docs/storage.md "## Recovery"; reliability I15/I16):
 *   - recover == true: every batch is read and CRC-checked; the first bad or incomplete batch
 *     and everything after it is the unsynced tail of a crash and is truncated (fsynced).
 *   - recover == false: index files are checked, and only the batches after the last offset
 *     index entry are read (with CRC) to find the end; a failure there, or in the full scan
 *     that rebuilds a bad index, is corruption below the recovery point: SL_ECORRUPT naming
 *     the file and byte, never a truncation.
 *   - stor_segment_verify: full CRC + structure + index cross-check, on demand.
 */
#include "segment_int.h"
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum sl_err seg_replay(struct stor_segment *seg, uint64_t end, uint8_t *buf, size_t buf_len,
                       struct stor_recovery_report *rep, uint64_t *bad_position, const char **why,
                       bool *misplaced)
{
	*misplaced = false;
	const struct stor_offset_entry *entry =
	        seg->oidx_count ? &seg->oidx[seg->oidx_count - 1] : NULL;
	uint64_t pos = entry != NULL ? entry->position : 0;
	seg->size_bytes = pos;
	seg->next_offset = seg->base_offset;
	seg->bytes_since_index = 0;
	seg->last_batch_position = 0;
	seg->max_timestamp = -1;
	seg->max_timestamp_offset = -1;
	if (seg->tidx_count > 0) {
		const struct stor_time_entry *t = &seg->tidx[seg->tidx_count - 1];
		seg->max_timestamp = t->timestamp;
		seg->max_timestamp_offset = seg->base_offset + t->relative_offset;
	}
	*why = NULL;
	while (pos < end) {
		struct seg_batch_info b;
		*bad_position = pos;
		enum sl_err e = seg_read_header(seg, pos, end, SEG_NO_OFFSET_CHECK, &b, why);
		if (e != SL_OK)
			return e;
		if (entry != NULL && b.last_offset != seg->base_offset + entry->relative_offset) {
			*why = "offset index entry disagrees with the batch it points to";
			return SL_ECORRUPT;
		}
		if (buf != NULL) {
			e = seg_batch_crc_check(seg->log_fd, &b, buf, buf_len);
			if (e == SL_ECORRUPT)
				*why = "CRC32C mismatch";
			if (e != SL_OK)
				return e;
		}
		if (!seg_offsets_ok(seg, &b, seg->next_offset, why)) {
			*misplaced = true;
			return SL_ECORRUPT;
		}
		if (entry == NULL && seg_index_reserve(seg, 1) != SL_OK)
			return SL_ENOMEM;
		seg_index_note(seg, &b, entry == NULL);
		entry = NULL;
		if (rep != NULL) {
			rep->bytes_scanned += b.size;
			rep->batches_valid++;
		}
		pos += b.size;
	}
	if (entry != NULL) {
		*bad_position = pos;
		*why = "offset index entry points past the end of the data";
		return SL_ECORRUPT;
	}
	return SL_OK;
}

/* recover == true: full scan, truncating at the first bad batch. */
static enum sl_err open_recover(struct stor_segment *seg, uint64_t file_size, uint8_t *buf,
                                struct stor_recovery_report *rep, char *err, size_t err_len)
{
	seg_state_reset(seg);
	rep->index_rebuilt = true;
	rep->timeindex_rebuilt = true;
	uint64_t bad = 0;
	const char *why = NULL;
	bool misplaced = false;
	enum sl_err e =
	        seg_replay(seg, file_size, buf, SEG_IO_CHUNK_BYTES, rep, &bad, &why, &misplaced);
	if (e != SL_ECORRUPT) {
		if (e != SL_OK)
			seg_set_err(err, err_len, "cannot read %s: %s", seg->log_path,
			            sl_err_msg(e));
		return e;
	}
	SL_ASSERT(seg->size_bytes == bad);
	if (misplaced) {
		/* A whole CRC-valid batch with wrong offsets is not a torn write (I16). */
		seg_set_err(err, err_len,
		            "%s: corrupt batch at byte %" PRIu64 ": %s (a valid batch, not a torn "
		            "write: not truncated)",
		            seg->log_path, bad, why);
		SL_ERROR(seg->log_path, "corrupt batch at byte %" PRIu64 ": %s", bad, why);
		return SL_ECORRUPT;
	}
	SL_WARN(seg->log_path,
	        "recovery: truncating %" PRIu64 " bytes of torn or invalid tail at byte %" PRIu64
	        " (%s); next offset %" PRId64,
	        file_size - bad, bad, why, seg->next_offset);
	if (ftruncate(seg->log_fd, (off_t)bad) != 0 || fsync(seg->log_fd) != 0) {
		int en = errno;
		seg_set_err(err, err_len, "cannot truncate %s to %" PRIu64 " bytes: %s",
		            seg->log_path, bad, strerror(en));
		return sl_err_from_errno(en);
	}
	rep->bytes_truncated = file_size - bad;
	return SL_OK;
}

/* The last time index entry must name a batch that ends at its offset and has its max
 * timestamp (a stale or foreign .timeindex fails this and is rebuilt). */
static bool tidx_anchor_ok(const struct stor_segment *seg)
{
	if (seg->tidx_count == 0)
		return true;
	const struct stor_time_entry *t = &seg->tidx[seg->tidx_count - 1];
	int64_t off = seg->base_offset + t->relative_offset;
	uint64_t pos = 0;
	if (seg_find_offset_before(seg, off, seg->size_bytes, &pos) != SL_OK ||
	    pos >= seg->size_bytes)
		return false;
	struct seg_batch_info b;
	const char *why = NULL;
	if (seg_read_header(seg, pos, seg->size_bytes, seg->base_offset, &b, &why) != SL_OK)
		return false;
	return b.last_offset == off && b.max_timestamp == t->timestamp;
}

/* After a rebuild that replaced a structurally valid offset index: an entry that names a
 * different offset than the batch at its position is a conflict between two files. The
 * batch's lastOffsetDelta is under its CRC but baseOffset is not, so when the batch is
 * contiguous with its predecessor (or is the first batch, at the segment base) the log is
 * self-consistent and the index is the broken file; otherwise (a gap, which a flipped bit in
 * baseOffset creates) we cannot tell which file is wrong and refuse (I16). Header reads only. */
static enum sl_err check_loaded_oidx(const struct stor_segment *seg,
                                     const struct stor_offset_entry *loaded, size_t n, char *err,
                                     size_t err_len)
{
	uint64_t pos = 0;
	int64_t prev_last = seg->base_offset - 1;
	size_t j = 0;
	while (pos < seg->size_bytes && j < n) {
		struct seg_batch_info b;
		const char *why = NULL;
		enum sl_err e = seg_read_header(seg, pos, seg->size_bytes, prev_last + 1, &b, &why);
		if (e != SL_OK)
			return e; /* the rebuild just read these headers */
		while (j < n && loaded[j].position < pos)
			j++;
		if (j < n && loaded[j].position == pos) {
			int64_t named = seg->base_offset + loaded[j].relative_offset;
			if (named != b.last_offset && b.base_offset != prev_last + 1) {
				seg_set_err(err, err_len,
				            "%s: corrupt at byte %" PRIu64
				            ": the offset index names "
				            "offset %" PRId64
				            ", the batch (after an offset gap) ends at %" PRId64
				            "; one of the files is corrupt (not repaired)",
				            seg->log_path, pos, named, b.last_offset);
				return SL_ECORRUPT;
			}
			j++;
		}
		prev_last = b.last_offset;
		pos += b.size;
	}
	return SL_OK;
}

static bool load_failed_hard(enum sl_err e)
{
	return e != SL_OK && e != SL_ENOENT && e != SL_ECORRUPT;
}

/* recover == false: trust checked index files, verify the tail after the last entry. */
static enum sl_err open_trusted(struct stor_segment *seg, uint64_t file_size, uint8_t *buf,
                                struct stor_recovery_report *rep, char *err, size_t err_len)
{
	enum sl_err eo = seg_oidx_load(seg, file_size);
	enum sl_err et = seg_tidx_load(seg, file_size);
	if (load_failed_hard(eo) || load_failed_hard(et)) {
		seg_set_err(err, err_len, "cannot read the indexes of %s: %s", seg->log_path,
		            sl_err_msg(load_failed_hard(eo) ? eo : et));
		return load_failed_hard(eo) ? eo : et;
	}
	rep->index_rebuilt = eo != SL_OK;
	rep->timeindex_rebuilt = et != SL_OK;
	uint64_t bad = 0;
	const char *why = NULL;
	bool misplaced = false;
	if (eo == SL_OK && et == SL_OK) {
		enum sl_err e = seg_replay(seg, file_size, buf, SEG_IO_CHUNK_BYTES, rep, &bad, &why,
		                           &misplaced);
		if (e == SL_OK && seg_tidx_fits(seg) && tidx_anchor_ok(seg))
			return SL_OK;
		if (e != SL_OK && e != SL_ECORRUPT) {
			seg_set_err(err, err_len, "cannot read %s: %s", seg->log_path,
			            sl_err_msg(e));
			return e;
		}
		/* The indexes do not fit the log (or the tail is bad): rebuild to find out. */
		rep->index_rebuilt = true;
		rep->timeindex_rebuilt = true;
	}
	SL_INFO(seg->log_path, "rebuilding indexes (offset index %s, time index %s)",
	        sl_err_name(eo), sl_err_name(et));
	struct stor_offset_entry *loaded = NULL;
	size_t loaded_count = eo == SL_OK ? seg->oidx_count : 0;
	if (loaded_count > 0) {
		loaded = malloc(loaded_count * sizeof(*loaded));
		if (loaded == NULL)
			return SL_ENOMEM;
		memcpy(loaded, seg->oidx, loaded_count * sizeof(*loaded));
	}
	seg->oidx_count = 0;
	seg->tidx_count = 0;
	enum sl_err e =
	        seg_replay(seg, file_size, buf, SEG_IO_CHUNK_BYTES, rep, &bad, &why, &misplaced);
	if (e == SL_ECORRUPT) {
		seg_set_err(err, err_len,
		            "%s: corrupt batch at byte %" PRIu64 ": %s (segment below the recovery "
		            "point: not truncated)",
		            seg->log_path, bad, why);
		SL_ERROR(seg->log_path, "corrupt batch at byte %" PRIu64 ": %s", bad, why);
	} else if (e != SL_OK) {
		seg_set_err(err, err_len, "cannot read %s: %s", seg->log_path, sl_err_msg(e));
	} else if (loaded != NULL) {
		e = check_loaded_oidx(seg, loaded, loaded_count, err, err_len);
		if (e == SL_ECORRUPT)
			SL_ERROR(seg->log_path, "%s", err);
	}
	free(loaded);
	return e;
}

/* Opens the .log and checks its size. */
static enum sl_err open_log(struct stor_segment *seg, uint64_t *file_size, char *err,
                            size_t err_len)
{
	seg->log_fd = open(seg->log_path, O_RDWR | O_CLOEXEC);
	if (seg->log_fd < 0) {
		int en = errno;
		seg_set_err(err, err_len, "cannot open %s: %s", seg->log_path, strerror(en));
		return sl_err_from_errno(en);
	}
	struct stat st;
	if (fstat(seg->log_fd, &st) != 0) {
		int en = errno;
		seg_set_err(err, err_len, "cannot stat %s: %s", seg->log_path, strerror(en));
		return sl_err_from_errno(en);
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size > STOR_SEGMENT_BYTES_MAX) {
		seg_set_err(err, err_len, "%s: not a regular file of at most %" PRIu64 " bytes",
		            seg->log_path, STOR_SEGMENT_BYTES_MAX);
		return SL_ECORRUPT;
	}
	*file_size = (uint64_t)st.st_size;
	return SL_OK;
}

/* Kafka's rollingBasedTimestamp: the first batch's max timestamp. */
static enum sl_err read_first_timestamp(struct stor_segment *seg, char *err, size_t err_len)
{
	seg->first_append_ms = -1;
	if (seg->size_bytes == 0)
		return SL_OK;
	struct seg_batch_info b;
	const char *why = NULL;
	enum sl_err e = seg_read_header(seg, 0, seg->size_bytes, seg->base_offset, &b, &why);
	if (e == SL_OK)
		seg->first_append_ms = b.max_timestamp;
	else if (e == SL_ECORRUPT)
		seg_set_err(err, err_len, "%s: corrupt batch at byte 0: %s", seg->log_path, why);
	else
		seg_set_err(err, err_len, "cannot read %s: %s", seg->log_path, sl_err_msg(e));
	return e;
}

enum sl_err stor_segment_open(struct stor_segment *seg, const char *dir, int64_t base_offset,
                              bool recover, const struct stor_segment_limits *lim,
                              struct stor_recovery_report *rep, char *err, size_t err_len)
{
	SL_ASSERT(seg != NULL && dir != NULL && lim != NULL);
	struct stor_recovery_report local;
	if (rep == NULL)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	enum sl_err e = seg_init(seg, dir, base_offset, lim, err, err_len);
	uint64_t file_size = 0;
	if (e == SL_OK)
		e = open_log(seg, &file_size, err, err_len);
	uint8_t *buf = NULL;
	if (e == SL_OK) {
		buf = malloc(SEG_IO_CHUNK_BYTES);
		e = buf == NULL ? SL_ENOMEM : SL_OK;
	}
	if (e == SL_OK && recover)
		e = open_recover(seg, file_size, buf, rep, err, err_len);
	else if (e == SL_OK)
		e = open_trusted(seg, file_size, buf, rep, err, err_len);
	free(buf);
	if (e == SL_OK)
		e = read_first_timestamp(seg, err, err_len);
	if (e == SL_OK)
		e = seg_reserve_for_appends(seg);
	if (e == SL_OK)
		e = seg_write_index_files(seg, &rep->indexes_written, err, err_len);
	if (e != SL_OK) {
		stor_segment_close(seg);
		return e;
	}
	stor_segment_check_invariants(seg);
	return SL_OK;
}
