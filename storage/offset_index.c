/*
 * offset_index.c: the in-memory offset index of a segment (Kafka's OffsetIndex layout: u32
 * relative offset, u32 position, big-endian), the shared index rules (seg_index_note), index
 * file loading / checking / writing, and lookups by offset.
 *
 * Invariants: entries strictly increase in relative offset and position; each entry names
 * the LAST offset of the batch at its position. A loaded file that breaks a rule is dropped
 * (SL_ECORRUPT) and rebuilt by the caller; a lookup that lands on a header that disagrees
 * with its entry returns SL_ECORRUPT instead of guessing.
 */
#include "segment_int.h"
#include "storage.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static_assert(STOR_OFFSET_INDEX_ENTRY_BYTES == 2 * sizeof(uint32_t), "offset entry size");
static_assert(STOR_TIME_INDEX_ENTRY_BYTES == sizeof(int64_t) + sizeof(uint32_t), "time entry size");
static_assert(STOR_BATCH_HEADER_BYTES > STOR_BATCH_ATTRIBUTES_OFFSET, "crc range");

size_t seg_index_entries_max(const struct stor_segment_limits *lim)
{
	uint64_t interval = SL_MAX((uint64_t)lim->index_interval_bytes, 1u);
	uint64_t by_size = SL_MIN(lim->segment_bytes, STOR_SEGMENT_BYTES_MAX) / interval + 2;
	uint64_t index_bytes =
	        lim->index_bytes_max ? lim->index_bytes_max : STOR_INDEX_BYTES_MAX_DEFAULT;
	uint64_t by_file = index_bytes / STOR_TIME_INDEX_ENTRY_BYTES;
	return (size_t)SL_MAX(SL_MIN(by_size, by_file), 2u);
}

enum sl_err seg_index_reserve(struct stor_segment *seg, size_t more)
{
	if (seg->oidx_count + more > seg->oidx_cap) {
		size_t cap = SL_MAX(seg->oidx_cap * 2, seg->oidx_count + more);
		void *p = realloc(seg->oidx, cap * sizeof(*seg->oidx));
		if (p == NULL)
			return SL_ENOMEM;
		seg->oidx = p;
		seg->oidx_cap = cap;
	}
	if (seg->tidx_count + more > seg->tidx_cap) {
		size_t cap = SL_MAX(seg->tidx_cap * 2, seg->tidx_count + more);
		void *p = realloc(seg->tidx, cap * sizeof(*seg->tidx));
		if (p == NULL)
			return SL_ENOMEM;
		seg->tidx = p;
		seg->tidx_cap = cap;
	}
	return SL_OK;
}

void seg_state_reset(struct stor_segment *seg)
{
	seg->size_bytes = 0;
	seg->next_offset = seg->base_offset;
	seg->max_timestamp = -1;
	seg->max_timestamp_offset = -1;
	seg->first_append_ms = -1;
	seg->last_batch_position = 0;
	seg->bytes_since_index = 0;
	seg->oidx_count = 0;
	seg->tidx_count = 0;
}

void seg_index_note(struct stor_segment *seg, const struct seg_batch_info *b, bool may_index)
{
	SL_ASSERT(b->base_offset >= seg->next_offset);
	SL_ASSERT(b->last_offset >= b->base_offset);
	SL_ASSERT(b->last_offset - seg->base_offset <= (int64_t)INT32_MAX);
	SL_ASSERT(b->position == seg->size_bytes);
	if (b->max_timestamp > seg->max_timestamp) {
		seg->max_timestamp = b->max_timestamp;
		seg->max_timestamp_offset = b->last_offset;
	}
	if (may_index && seg->bytes_since_index > seg->index_interval_bytes) {
		SL_ASSERT(seg->oidx_count < seg->oidx_cap);
		SL_ASSERT(seg->tidx_count < seg->tidx_cap);
		seg->oidx[seg->oidx_count++] = (struct stor_offset_entry){
		        .relative_offset = (uint32_t)(b->last_offset - seg->base_offset),
		        .position = (uint32_t)b->position,
		};
		int64_t last_ts = seg->tidx_count ? seg->tidx[seg->tidx_count - 1].timestamp : -1;
		if (seg->max_timestamp > last_ts) {
			seg->tidx[seg->tidx_count++] = (struct stor_time_entry){
			        .timestamp = seg->max_timestamp,
			        .relative_offset =
			                (uint32_t)(seg->max_timestamp_offset - seg->base_offset),
			};
		}
		seg->bytes_since_index = 0;
	}
	uint64_t since = (uint64_t)seg->bytes_since_index + b->size;
	seg->bytes_since_index = (uint32_t)SL_MIN(since, (uint64_t)UINT32_MAX);
	seg->last_batch_position = b->position;
	seg->size_bytes = b->position + b->size;
	seg->next_offset = b->last_offset + 1;
}

void seg_index_path(const struct stor_segment *seg, const char *ext, char *out, size_t out_len)
{
	size_t n = strlen(seg->log_path);
	SL_ASSERT(n > 4 && strcmp(seg->log_path + n - 4, ".log") == 0);
	snprintf(out, out_len, "%.*s.%s", (int)(n - 4), seg->log_path, ext);
}

enum sl_err seg_oidx_encode(const struct stor_segment *seg, uint8_t **out, size_t *len)
{
	size_t n = seg->oidx_count * STOR_OFFSET_INDEX_ENTRY_BYTES;
	uint8_t *p = malloc(n ? n : 1);
	if (p == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < seg->oidx_count; i++) {
		sl_store_be32(p + i * 8, seg->oidx[i].relative_offset);
		sl_store_be32(p + i * 8 + 4, seg->oidx[i].position);
	}
	*out = p;
	*len = n;
	return SL_OK;
}

/* Reads a whole index file of at most max_len bytes into a malloc'd buffer. SL_ECORRUPT if
 * larger (an index cannot have more entries than the log has batches). */
enum sl_err seg_read_index_file(const char *path, size_t max_len, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_err_from_errno(errno);
	struct stat st;
	enum sl_err e = SL_OK;
	if (fstat(fd, &st) != 0) {
		e = sl_err_from_errno(errno);
	} else if (st.st_size < 0 || (uint64_t)st.st_size > max_len) {
		e = SL_ECORRUPT;
	}
	uint8_t *p = NULL;
	size_t got = 0;
	if (e == SL_OK) {
		p = malloc(st.st_size ? (size_t)st.st_size : 1);
		e = p == NULL ? SL_ENOMEM : seg_pread(fd, p, (size_t)st.st_size, 0, &got);
		if (e == SL_OK && got != (size_t)st.st_size)
			e = SL_EIO; /* changed under us */
	}
	close(fd);
	if (e != SL_OK) {
		free(p);
		return e;
	}
	*out = p;
	*len = got;
	return SL_OK;
}

/* Most entries a valid index can hold: one per batch, and a batch takes >= 61 bytes. */
static size_t entries_bound(uint64_t log_size)
{
	return (size_t)(log_size / STOR_BATCH_HEADER_BYTES + 1);
}

enum sl_err seg_oidx_load(struct stor_segment *seg, uint64_t log_size)
{
	char path[SEG_PATH_BYTES];
	seg_index_path(seg, "index", path, sizeof(path));
	seg->oidx_count = 0;
	uint8_t *p = NULL;
	size_t len = 0;
	size_t bound = entries_bound(log_size);
	enum sl_err e = seg_read_index_file(path, bound * STOR_OFFSET_INDEX_ENTRY_BYTES, &p, &len);
	if (e != SL_OK)
		return e;
	size_t count = len / STOR_OFFSET_INDEX_ENTRY_BYTES;
	if (len % STOR_OFFSET_INDEX_ENTRY_BYTES != 0) {
		e = SL_ECORRUPT;
	} else {
		e = seg_index_reserve(seg, count);
	}
	for (size_t i = 0; e == SL_OK && i < count; i++) {
		uint32_t rel = sl_load_be32(p + i * 8);
		uint32_t pos = sl_load_be32(p + i * 8 + 4);
		bool ordered = i == 0 || (rel > seg->oidx[i - 1].relative_offset &&
		                          pos > seg->oidx[i - 1].position);
		if (!ordered || rel > (uint32_t)INT32_MAX || pos >= log_size) {
			e = SL_ECORRUPT;
			break;
		}
		seg->oidx[i] = (struct stor_offset_entry){.relative_offset = rel, .position = pos};
		seg->oidx_count = i + 1;
	}
	free(p);
	if (e != SL_OK)
		seg->oidx_count = 0;
	return e;
}

enum sl_err seg_index_file_sync(const char *path, const uint8_t *data, size_t len, bool *written,
                                char *err, size_t err_len)
{
	uint8_t *cur = NULL;
	size_t cur_len = 0;
	enum sl_err e = seg_read_index_file(path, len, &cur, &cur_len);
	bool same = e == SL_OK && cur_len == len && (len == 0 || memcmp(cur, data, len) == 0);
	free(cur);
	if (same)
		return SL_OK;
	e = stor_file_write_atomic(path, data, len, err, err_len);
	if (e == SL_OK)
		*written = true;
	return e;
}

enum sl_err seg_write_index_files(const struct stor_segment *seg, bool *written, char *err,
                                  size_t err_len)
{
	char path[SEG_PATH_BYTES];
	uint8_t *data = NULL;
	size_t len = 0;
	enum sl_err e = seg_oidx_encode(seg, &data, &len);
	if (e == SL_OK) {
		seg_index_path(seg, "index", path, sizeof(path));
		e = seg_index_file_sync(path, data, len, written, err, err_len);
		free(data);
	}
	if (e != SL_OK)
		return e;
	e = seg_tidx_encode(seg, &data, &len);
	if (e == SL_OK) {
		seg_index_path(seg, "timeindex", path, sizeof(path));
		e = seg_index_file_sync(path, data, len, written, err, err_len);
		free(data);
	}
	return e;
}

uint64_t seg_oidx_scan_start(const struct stor_segment *seg, int64_t offset,
                             const struct stor_offset_entry **entry)
{
	*entry = NULL;
	if (offset < seg->base_offset || seg->oidx_count == 0)
		return 0;
	int64_t rel = offset - seg->base_offset;
	/* Largest entry with relative offset <= rel (binary search). */
	size_t lo = 0, hi = seg->oidx_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((int64_t)seg->oidx[mid].relative_offset <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	*entry = &seg->oidx[lo - 1];
	return (*entry)->position;
}

enum sl_err seg_find_offset_before(const struct stor_segment *seg, int64_t offset, uint64_t end,
                                   uint64_t *position)
{
	SL_ASSERT(end <= seg->size_bytes);
	const struct stor_offset_entry *entry = NULL;
	uint64_t pos = seg_oidx_scan_start(seg, offset, &entry);
	int64_t min_offset = seg->base_offset;
	while (pos < end) {
		struct seg_batch_info b;
		const char *why = NULL;
		enum sl_err e = seg_read_header(seg, pos, end, min_offset, &b, &why);
		if (e != SL_OK)
			return e;
		/* Never trust the index: the batch it names must end at the named offset. */
		if (entry != NULL && b.last_offset != seg->base_offset + entry->relative_offset)
			return SL_ECORRUPT;
		entry = NULL;
		if (b.last_offset >= offset) {
			*position = pos;
			return SL_OK;
		}
		min_offset = b.last_offset + 1;
		pos += b.size;
	}
	*position = end;
	return SL_OK;
}

enum sl_err stor_segment_find_offset(const struct stor_segment *seg, int64_t offset,
                                     uint64_t *position)
{
	SL_ASSERT(seg != NULL && position != NULL);
	SL_ASSERT(seg->log_fd >= 0);
	if (offset >= seg->next_offset || seg->size_bytes == 0) {
		*position = seg->size_bytes;
		return SL_OK;
	}
	enum sl_err e = seg_find_offset_before(seg, offset, seg->size_bytes, position);
	if (e != SL_OK)
		return e;
	/* offset < next_offset, so some batch holds it. */
	return *position < seg->size_bytes ? SL_OK : SL_ECORRUPT;
}
