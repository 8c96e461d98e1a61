/*
 * segment.c: life cycle of one log segment: names, creation, the append bookkeeping the
 * partition log calls on its write path, sealing (final index entries + index files),
 * truncation, deletion and the invariant walk. Opening and recovery are in
 * segment_recover.c, lookups in offset_index.c / time_index.c.
 *
 * States: created/opened (writable, read_only false) -> sealed (read_only true, indexes on
 * disk) -> closed; truncate makes a sealed segment writable again.
 */
#include "segment_int.h"
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void stor_segment_path(char *out, size_t out_len, const char *dir, int64_t base_offset,
                       const char *ext)
{
	SL_ASSERT(out != NULL && dir != NULL && ext != NULL);
	SL_ASSERT(base_offset >= 0);
	if (ext[0] == '.')
		ext++;
	snprintf(out, out_len, "%s/%0*" PRId64 ".%s", dir, STOR_SEGMENT_NAME_DIGITS, base_offset,
	         ext);
}

enum sl_err seg_init(struct stor_segment *seg, const char *dir, int64_t base_offset,
                     const struct stor_segment_limits *lim, char *err, size_t err_len)
{
	memset(seg, 0, sizeof(*seg));
	seg->log_fd = -1;
	seg->base_offset = base_offset;
	seg->index_interval_bytes = lim->index_interval_bytes;
	seg->segment_bytes = lim->segment_bytes;
	seg->index_entries_max = seg_index_entries_max(lim);
	seg_state_reset(seg);
	if (base_offset < 0) {
		seg_set_err(err, err_len, "negative segment base offset %" PRId64, base_offset);
		return SL_EINVAL;
	}
	char path[SEG_PATH_BYTES + 8];
	stor_segment_path(path, sizeof(path), dir, base_offset, "timeindex");
	if (strlen(path) >= sizeof(seg->log_path)) {
		seg_set_err(err, err_len, "segment path too long in %s", dir);
		return SL_EINVAL;
	}
	stor_segment_path(seg->log_path, sizeof(seg->log_path), dir, base_offset, "log");
	return SL_OK;
}

enum sl_err seg_reserve_for_appends(struct stor_segment *seg)
{
	size_t want = SL_MAX(seg->index_entries_max, seg->oidx_count + 2);
	if (seg->oidx_cap < want) {
		void *p = realloc(seg->oidx, want * sizeof(*seg->oidx));
		if (p == NULL)
			return SL_ENOMEM;
		seg->oidx = p;
		seg->oidx_cap = want;
	}
	want = SL_MAX(seg->index_entries_max, seg->tidx_count + 2);
	if (seg->tidx_cap < want) {
		void *p = realloc(seg->tidx, want * sizeof(*seg->tidx));
		if (p == NULL)
			return SL_ENOMEM;
		seg->tidx = p;
		seg->tidx_cap = want;
	}
	return SL_OK;
}

/* Creates (truncating) an empty index file. */
static enum sl_err create_empty(const char *path, char *err, size_t err_len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int en = errno;
		seg_set_err(err, err_len, "cannot create %s: %s", path, strerror(en));
		return sl_err_from_errno(en);
	}
	close(fd);
	return SL_OK;
}

enum sl_err stor_segment_create(struct stor_segment *seg, const char *dir, int64_t base_offset,
                                const struct stor_segment_limits *lim, char *err, size_t err_len)
{
	SL_ASSERT(seg != NULL && dir != NULL && lim != NULL);
	enum sl_err e = seg_init(seg, dir, base_offset, lim, err, err_len);
	if (e != SL_OK)
		return e;
	seg->log_fd = open(seg->log_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (seg->log_fd < 0) {
		int en = errno;
		seg_set_err(err, err_len, "cannot create %s: %s", seg->log_path, strerror(en));
		return sl_err_from_errno(en);
	}
	char ipath[SEG_PATH_BYTES], tpath[SEG_PATH_BYTES];
	seg_index_path(seg, "index", ipath, sizeof(ipath));
	seg_index_path(seg, "timeindex", tpath, sizeof(tpath));
	e = create_empty(ipath, err, err_len);
	if (e == SL_OK)
		e = create_empty(tpath, err, err_len);
	if (e == SL_OK) {
		e = stor_dir_fsync(dir);
		if (e != SL_OK)
			seg_set_err(err, err_len, "fsync of directory %s failed: %s", dir,
			            sl_err_msg(e));
	}
	if (e == SL_OK) {
		e = seg_reserve_for_appends(seg);
		if (e != SL_OK)
			seg_set_err(err, err_len, "no memory for the indexes of %s", seg->log_path);
	}
	if (e != SL_OK) {
		unlink(ipath);
		unlink(tpath);
		unlink(seg->log_path);
		stor_segment_close(seg);
		return e;
	}
	stor_segment_check_invariants(seg);
	return SL_OK;
}

bool stor_segment_has_room(const struct stor_segment *seg, uint32_t batch_bytes,
                           int64_t last_offset)
{
	SL_ASSERT(seg != NULL);
	if (seg->read_only)
		return false;
	if (seg->size_bytes + batch_bytes > STOR_SEGMENT_BYTES_MAX)
		return false;
	if (seg->size_bytes > 0 && seg->size_bytes + batch_bytes > seg->segment_bytes)
		return false;
	if (last_offset < seg->base_offset || last_offset - seg->base_offset > (int64_t)INT32_MAX)
		return false;
	/* One entry for this batch, one for sealing. */
	size_t need = SL_MAX(seg->oidx_count, seg->tidx_count) + 2;
	return need <= seg->index_entries_max && seg->oidx_count + 2 <= seg->oidx_cap &&
	       seg->tidx_count + 2 <= seg->tidx_cap;
}

void stor_segment_note_append(struct stor_segment *seg, uint32_t batch_bytes, int64_t base_offset,
                              int64_t last_offset, int64_t max_timestamp, int64_t now_ms)
{
	SL_ASSERT(seg != NULL);
	SL_ASSERT(!seg->read_only);
	SL_ASSERT(batch_bytes >= STOR_BATCH_HEADER_BYTES);
	SL_ASSERT(base_offset >= seg->next_offset);
	SL_ASSERT(last_offset >= base_offset);
	SL_ASSERT(stor_segment_has_room(seg, batch_bytes, last_offset));
	if (seg->size_bytes == 0)
		seg->first_append_ms = now_ms;
	struct seg_batch_info b = {
	        .position = seg->size_bytes,
	        .size = batch_bytes,
	        .base_offset = base_offset,
	        .last_offset = last_offset,
	        .max_timestamp = max_timestamp,
	};
	seg_index_note(seg, &b, true);
	SL_DASSERT((stor_segment_check_invariants(seg), true));
}

/* Adds the final entries of a sealed index (stor_int.h): the last batch in the offset
 * index, the final max in the time index. Requires one free entry in each. */
static void seal_entries(struct stor_segment *seg)
{
	if (seg->size_bytes == 0)
		return;
	SL_ASSERT(seg->oidx_count < seg->oidx_cap && seg->tidx_count < seg->tidx_cap);
	size_t n = seg->oidx_count;
	if (n == 0 || seg->oidx[n - 1].position != seg->last_batch_position) {
		seg->oidx[seg->oidx_count++] = (struct stor_offset_entry){
		        .relative_offset = (uint32_t)(seg->next_offset - 1 - seg->base_offset),
		        .position = (uint32_t)seg->last_batch_position,
		};
	}
	int64_t last_ts = seg->tidx_count ? seg->tidx[seg->tidx_count - 1].timestamp : -1;
	if (seg->max_timestamp > last_ts) {
		seg->tidx[seg->tidx_count++] = (struct stor_time_entry){
		        .timestamp = seg->max_timestamp,
		        .relative_offset = (uint32_t)(seg->max_timestamp_offset - seg->base_offset),
		};
	}
}

void stor_segment_seal(struct stor_segment *seg)
{
	SL_ASSERT(seg != NULL);
	seg->read_only = true;
	/* Shrinking cannot lose data; a failed realloc keeps the larger block. */
	if (seg->oidx_count > 0 && seg->oidx_count < seg->oidx_cap) {
		void *p = realloc(seg->oidx, seg->oidx_count * sizeof(*seg->oidx));
		if (p != NULL) {
			seg->oidx = p;
			seg->oidx_cap = seg->oidx_count;
		}
	}
	if (seg->tidx_count > 0 && seg->tidx_count < seg->tidx_cap) {
		void *p = realloc(seg->tidx, seg->tidx_count * sizeof(*seg->tidx));
		if (p != NULL) {
			seg->tidx = p;
			seg->tidx_cap = seg->tidx_count;
		}
	}
}

enum sl_err stor_segment_write_indexes(struct stor_segment *seg, char *err, size_t err_len)
{
	SL_ASSERT(seg != NULL && seg->log_fd >= 0);
	enum sl_err e = seg_index_reserve(seg, 1);
	if (e != SL_OK) {
		seg_set_err(err, err_len, "no memory to seal %s", seg->log_path);
		return e;
	}
	seal_entries(seg);
	bool written = false;
	e = seg_write_index_files(seg, &written, err, err_len);
	if (e != SL_OK)
		return e;
	stor_segment_seal(seg);
	stor_segment_check_invariants(seg);
	return SL_OK;
}

/* Position of the first batch with base offset >= offset; SL_EINVAL if offset falls inside a
 * batch (not on a boundary). */
static enum sl_err truncate_position(const struct stor_segment *seg, int64_t offset, uint64_t *pos)
{
	if (offset <= seg->base_offset) {
		*pos = 0;
		return SL_OK;
	}
	enum sl_err e = stor_segment_find_offset(seg, offset, pos);
	if (e != SL_OK || *pos >= seg->size_bytes)
		return e;
	struct seg_batch_info b;
	const char *why = NULL;
	e = seg_read_header(seg, *pos, seg->size_bytes, seg->base_offset, &b, &why);
	if (e != SL_OK)
		return e;
	return b.base_offset >= offset ? SL_OK : SL_EINVAL;
}

/* Drops index entries whose batch starts at or after pos / whose offset is >= offset. */
static void trim_indexes(struct stor_segment *seg, uint64_t pos, int64_t offset)
{
	while (seg->oidx_count > 0 && seg->oidx[seg->oidx_count - 1].position >= pos)
		seg->oidx_count--;
	while (seg->tidx_count > 0 &&
	       seg->base_offset + (int64_t)seg->tidx[seg->tidx_count - 1].relative_offset >= offset)
		seg->tidx_count--;
}

enum sl_err stor_segment_truncate(struct stor_segment *seg, int64_t offset)
{
	SL_ASSERT(seg != NULL && seg->log_fd >= 0);
	if (offset >= seg->next_offset)
		return SL_OK;
	uint64_t pos = 0;
	enum sl_err e = truncate_position(seg, offset, &pos);
	if (e != SL_OK)
		return e;
	SL_ASSERT(pos < seg->size_bytes);
	if (ftruncate(seg->log_fd, (off_t)pos) != 0)
		return sl_err_from_errno(errno);
	/* Durable before anything is appended at pos: old batches must not reappear. */
	if (fsync(seg->log_fd) != 0)
		return sl_err_from_errno(errno);
	trim_indexes(seg, pos, offset);
	int64_t first_append_ms = seg->first_append_ms;
	uint64_t bad = 0;
	const char *why = NULL;
	bool misplaced = false;
	e = seg_replay(seg, pos, NULL, 0, NULL, &bad, &why, &misplaced);
	if (e != SL_OK) {
		SL_ERROR(seg->log_path,
		         "truncate to offset %" PRId64 ": bad batch at byte %" PRIu64 ": %s",
		         offset, bad, why ? why : sl_err_msg(e));
		return e == SL_ECORRUPT ? SL_ECORRUPT : e;
	}
	SL_ASSERT(seg->size_bytes == pos);
	seg->first_append_ms = pos == 0 ? -1 : first_append_ms;
	seg->read_only = false;
	e = seg_reserve_for_appends(seg);
	if (e != SL_OK)
		return e;
	bool written = false;
	char err[512];
	e = seg_write_index_files(seg, &written, err, sizeof(err));
	if (e != SL_OK) {
		SL_ERROR(seg->log_path, "truncate: %s", err);
		return e;
	}
	stor_segment_check_invariants(seg);
	return SL_OK;
}

void stor_segment_close(struct stor_segment *seg)
{
	SL_ASSERT(seg != NULL);
	if (seg->log_fd >= 0)
		close(seg->log_fd);
	seg->log_fd = -1;
	free(seg->oidx);
	free(seg->tidx);
	seg->oidx = NULL;
	seg->tidx = NULL;
	seg->oidx_count = seg->oidx_cap = 0;
	seg->tidx_count = seg->tidx_cap = 0;
}

enum sl_err stor_segment_delete(struct stor_segment *seg)
{
	SL_ASSERT(seg != NULL && seg->log_path[0] != '\0');
	char ipath[SEG_PATH_BYTES], tpath[SEG_PATH_BYTES];
	seg_index_path(seg, "index", ipath, sizeof(ipath));
	seg_index_path(seg, "timeindex", tpath, sizeof(tpath));
	stor_segment_close(seg);
	enum sl_err e = SL_OK;
	/* Indexes first: a crash in between leaves a .log, whose indexes open rebuilds. */
	if (unlink(ipath) != 0 && errno != ENOENT)
		e = sl_err_from_errno(errno);
	if (unlink(tpath) != 0 && errno != ENOENT && e == SL_OK)
		e = sl_err_from_errno(errno);
	if (unlink(seg->log_path) != 0 && e == SL_OK)
		e = sl_err_from_errno(errno);
	return e;
}

void stor_segment_check_invariants(const struct stor_segment *seg)
{
	SL_ASSERT(seg != NULL);
	SL_ASSERT(seg->base_offset >= 0);
	SL_ASSERT(seg->next_offset >= seg->base_offset);
	SL_ASSERT(seg->size_bytes <= STOR_SEGMENT_BYTES_MAX);
	SL_ASSERT((seg->size_bytes == 0) == (seg->next_offset == seg->base_offset));
	SL_ASSERT(seg->size_bytes == 0 || seg->last_batch_position < seg->size_bytes);
	SL_ASSERT(seg->oidx_count <= seg->oidx_cap);
	SL_ASSERT(seg->tidx_count <= seg->tidx_cap);
	SL_ASSERT(seg->max_timestamp == -1 || seg->max_timestamp_offset >= seg->base_offset);
	SL_ASSERT(seg->max_timestamp_offset < seg->next_offset);
	for (size_t i = 0; i < seg->oidx_count; i++) {
		const struct stor_offset_entry *o = &seg->oidx[i];
		SL_ASSERT(o->position < seg->size_bytes);
		SL_ASSERT(seg->base_offset + (int64_t)o->relative_offset < seg->next_offset);
		if (i > 0) {
			SL_ASSERT(o->relative_offset > seg->oidx[i - 1].relative_offset);
			SL_ASSERT(o->position > seg->oidx[i - 1].position);
		}
	}
	for (size_t i = 0; i < seg->tidx_count; i++) {
		const struct stor_time_entry *t = &seg->tidx[i];
		SL_ASSERT(seg->base_offset + (int64_t)t->relative_offset < seg->next_offset);
		SL_ASSERT(t->timestamp <= seg->max_timestamp);
		if (i > 0) {
			SL_ASSERT(t->timestamp > seg->tidx[i - 1].timestamp);
			SL_ASSERT(t->relative_offset > seg->tidx[i - 1].relative_offset);
		}
	}
}
