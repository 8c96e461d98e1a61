/*
 * segment_verify.c: stor_segment_verify (full CRC + structure + index cross-check of one
 * segment) and stor_segment_dir_cleanup (leftovers of interrupted rolls and checkpoints).
 *
 * What verify can see: CRC32C covers bytes [21, end) of each batch; magic, the CRC field and
 * batchLength are checked directly or shift the CRC range; baseOffset (not in the CRC) is
 * checked by offset order and against the index entries (a sealed index always names the
 * last batch); partitionLeaderEpoch (not in the CRC either) is checked for order and, when
 * the caller gives them, against epoch bounds from the leader-epoch checkpoint.
 */
#include "segment_int.h"
#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct verify_walk {
	const struct stor_segment *seg;
	const struct stor_verify_bounds *bounds;
	size_t oi; /* next offset index entry to match */
	size_t ti; /* next time index entry to match */
	bool have_epoch;
	int32_t epoch;
	int64_t max_timestamp;
	char why[256];
};

/* Checks batch b against the order rules and the index entries; false with w->why. */
static bool verify_batch(struct verify_walk *w, const struct seg_batch_info *b)
{
	const struct stor_segment *seg = w->seg;
	if (b->last_offset >= seg->next_offset) {
		snprintf(w->why, sizeof(w->why), "last offset %" PRId64 " >= next offset %" PRId64,
		         b->last_offset, seg->next_offset);
		return false;
	}
	if (w->have_epoch && b->leader_epoch < w->epoch) {
		snprintf(w->why, sizeof(w->why), "leader epoch %" PRId32 " after epoch %" PRId32,
		         b->leader_epoch, w->epoch);
		return false;
	}
	if (w->bounds != NULL && (b->leader_epoch < w->bounds->leader_epoch_min ||
	                          b->leader_epoch > w->bounds->leader_epoch_max)) {
		snprintf(w->why, sizeof(w->why),
		         "leader epoch %" PRId32 " outside [%" PRId32 ", %" PRId32 "]",
		         b->leader_epoch, w->bounds->leader_epoch_min, w->bounds->leader_epoch_max);
		return false;
	}
	w->have_epoch = true;
	w->epoch = b->leader_epoch;
	w->max_timestamp = SL_MAX(w->max_timestamp, b->max_timestamp);
	if (w->oi < seg->oidx_count && seg->oidx[w->oi].position < b->position) {
		snprintf(w->why, sizeof(w->why), "offset index entry %zu points inside a batch",
		         w->oi);
		return false;
	}
	if (w->oi < seg->oidx_count && seg->oidx[w->oi].position == b->position) {
		int64_t off = seg->base_offset + seg->oidx[w->oi].relative_offset;
		if (off != b->last_offset) {
			snprintf(w->why, sizeof(w->why),
			         "offset index entry %zu names offset %" PRId64
			         " but the batch ends at %" PRId64,
			         w->oi, off, b->last_offset);
			return false;
		}
		w->oi++;
	}
	while (w->ti < seg->tidx_count &&
	       seg->base_offset + (int64_t)seg->tidx[w->ti].relative_offset <= b->last_offset) {
		const struct stor_time_entry *t = &seg->tidx[w->ti];
		if (seg->base_offset + (int64_t)t->relative_offset != b->last_offset ||
		    t->timestamp != b->max_timestamp) {
			snprintf(w->why, sizeof(w->why),
			         "time index entry %zu (%" PRId64 ", %" PRIu32
			         ") does not match the batch ending at %" PRId64,
			         w->ti, t->timestamp, t->relative_offset, b->last_offset);
			return false;
		}
		w->ti++;
	}
	return true;
}

/* Checks what remains after the last batch; false with w->why. */
static bool verify_end(struct verify_walk *w, int64_t next_offset)
{
	const struct stor_segment *seg = w->seg;
	if (w->oi != seg->oidx_count || w->ti != seg->tidx_count) {
		snprintf(w->why, sizeof(w->why), "index entries past the last batch");
		return false;
	}
	if (next_offset != seg->next_offset) {
		snprintf(w->why, sizeof(w->why),
		         "batches end at offset %" PRId64 ", expected %" PRId64, next_offset,
		         seg->next_offset);
		return false;
	}
	if (w->max_timestamp != seg->max_timestamp) {
		snprintf(w->why, sizeof(w->why), "max timestamp %" PRId64 ", expected %" PRId64,
		         w->max_timestamp, seg->max_timestamp);
		return false;
	}
	struct stat st;
	if (seg->read_only && fstat(seg->log_fd, &st) == 0 &&
	    (uint64_t)st.st_size != seg->size_bytes) {
		snprintf(w->why, sizeof(w->why), "file is %jd bytes, batches end at %" PRIu64,
		         (intmax_t)st.st_size, seg->size_bytes);
		return false;
	}
	return true;
}

enum sl_err stor_segment_verify(const struct stor_segment *seg,
                                const struct stor_verify_bounds *bounds, uint64_t *bad_position,
                                char *err, size_t err_len)
{
	SL_ASSERT(seg != NULL && bad_position != NULL && seg->log_fd >= 0);
	uint8_t *buf = malloc(SEG_IO_CHUNK_BYTES);
	if (buf == NULL)
		return SL_ENOMEM;
	struct verify_walk w = {.seg = seg, .bounds = bounds, .max_timestamp = -1};
	uint64_t pos = 0;
	int64_t next = seg->base_offset;
	enum sl_err e = SL_OK;
	while (e == SL_OK && pos < seg->size_bytes) {
		struct seg_batch_info b;
		const char *why = NULL;
		e = seg_read_header(seg, pos, seg->size_bytes, next, &b, &why);
		if (e == SL_ECORRUPT)
			snprintf(w.why, sizeof(w.why), "%s", why);
		if (e == SL_OK) {
			e = seg_batch_crc_check(seg->log_fd, &b, buf, SEG_IO_CHUNK_BYTES);
			if (e == SL_ECORRUPT)
				snprintf(w.why, sizeof(w.why), "CRC32C mismatch");
		}
		if (e == SL_OK && !verify_batch(&w, &b))
			e = SL_ECORRUPT;
		if (e == SL_OK) {
			next = b.last_offset + 1;
			pos += b.size;
		}
	}
	free(buf);
	if (e == SL_OK && !verify_end(&w, next))
		e = SL_ECORRUPT;
	*bad_position = pos;
	if (e == SL_ECORRUPT) {
		seg_set_err(err, err_len, "%s: corrupt at byte %" PRIu64 ": %s", seg->log_path, pos,
		            w.why);
	} else if (e != SL_OK) {
		seg_set_err(err, err_len, "cannot read %s at byte %" PRIu64 ": %s", seg->log_path,
		            pos, sl_err_msg(e));
	}
	return e;
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	return n > k && strcmp(name + n - k, suffix) == 0;
}

/* True for "<20 digits>.index" / "<20 digits>.timeindex" whose "<20 digits>.log" is
 * missing in dir. */
static bool orphan_index(int dir_fd, const char *name)
{
	const char *dot = strchr(name, '.');
	if (dot == NULL || dot - name != STOR_SEGMENT_NAME_DIGITS)
		return false;
	if (strcmp(dot, ".index") != 0 && strcmp(dot, ".timeindex") != 0)
		return false;
	for (const char *p = name; p < dot; p++) {
		if (*p < '0' || *p > '9')
			return false;
	}
	char log_name[STOR_SEGMENT_NAME_DIGITS + 8];
	snprintf(log_name, sizeof(log_name), "%.*s.log", STOR_SEGMENT_NAME_DIGITS, name);
	struct stat st;
	return fstatat(dir_fd, log_name, &st, 0) != 0 && errno == ENOENT;
}

enum sl_err stor_segment_dir_cleanup(const char *dir, size_t *removed_count, size_t *swap_count,
                                     char *err, size_t err_len)
{
	SL_ASSERT(dir != NULL && swap_count != NULL);
	size_t removed = 0;
	*swap_count = 0;
	DIR *d = opendir(dir);
	if (d == NULL) {
		int en = errno;
		seg_set_err(err, err_len, "cannot open directory %s: %s", dir, strerror(en));
		return sl_err_from_errno(en);
	}
	enum sl_err e = SL_OK;
	struct dirent *de;
	while (e == SL_OK && (de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (has_suffix(name, ".swap")) {
			(*swap_count)++;
			continue;
		}
		bool junk = has_suffix(name, ".tmp") || has_suffix(name, ".cleaned") ||
		            has_suffix(name, ".deleted") || orphan_index(dirfd(d), name);
		if (!junk)
			continue;
		if (unlinkat(dirfd(d), name, 0) != 0 && errno != ENOENT) {
			int en = errno;
			seg_set_err(err, err_len, "cannot remove %s/%s: %s", dir, name,
			            strerror(en));
			e = sl_err_from_errno(en);
			break;
		}
		SL_INFO(dir, "removed leftover file %s", name);
		removed++;
	}
	closedir(d);
	if (e == SL_OK && removed > 0) {
		e = stor_dir_fsync(dir);
		if (e != SL_OK)
			seg_set_err(err, err_len, "fsync of directory %s failed", dir);
	}
	if (removed_count != NULL)
		*removed_count = removed;
	return e;
}
