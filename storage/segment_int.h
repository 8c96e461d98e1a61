/*
 * segment_int.h: helpers shared by segment.c, offset_index.c, time_index.c and
 * segment_recover.c. Private to the segment layer (the log uses stor_int.h only).
 *
 * seg_batch_info is a batch header that passed seg_header_check(): its length fits the bytes
 * that remain, magic is 2, its offsets increase from min_offset and fit the segment's
 * relative range. The CRC is checked separately (seg_batch_crc_ok), because lookups only
 * need headers while scans need both.
 */
#ifndef SL_SEGMENT_INT_H
#define SL_SEGMENT_INT_H

#include "stor_int.h"

#include <stdarg.h>

#define SEG_PATH_BYTES 1024
#define SEG_IO_CHUNK_BYTES (64u << 10)

struct seg_batch_info {
	uint64_t position;
	uint32_t size; /* 12 + batchLength */
	int64_t base_offset;
	int64_t last_offset;
	int32_t leader_epoch;
	uint32_t crc;
	int16_t attributes;
	int64_t max_timestamp;
};

/* Fills the fields shared by create and open (zeroes seg first; log_fd -1). SL_EINVAL if the
 * base offset is negative or the paths do not fit. */
enum sl_err seg_init(struct stor_segment *seg, const char *dir, int64_t base_offset,
                     const struct stor_segment_limits *lim, char *err, size_t err_len) SL_MUST_USE;

void seg_set_err(char *err, size_t err_len, const char *fmt, ...) SL_PRINTF(3, 4);

/* pread of exactly len bytes at pos (retrying short reads and EINTR). *got gets the bytes
 * read: < len only at end of file. SL_EIO-style codes on read errors. */
enum sl_err seg_pread(int fd, void *buf, size_t len, uint64_t pos, size_t *got) SL_MUST_USE;

/* min_offset value that skips the offset checks of seg_read_header (done later with
 * seg_offsets_ok, so that recovery can tell a torn write from a misplaced valid batch). */
#define SEG_NO_OFFSET_CHECK INT64_MIN
/* base >= min_offset and >= the segment base, last offset within the relative range. */
bool seg_offsets_ok(const struct stor_segment *seg, const struct seg_batch_info *b,
                    int64_t min_offset, const char **why);
/* Reads and checks the header at pos. end: first byte that does not belong to the data
 * (file size or a watermark). min_offset: smallest acceptable base offset. SL_OK;
 * SL_ECORRUPT with *why (static text) for an incomplete or invalid batch; SL_EIO. */
enum sl_err seg_read_header(const struct stor_segment *seg, uint64_t pos, uint64_t end,
                            int64_t min_offset, struct seg_batch_info *out,
                            const char **why) SL_MUST_USE;

/* CRC32C over bytes [21, size) of the batch, read in chunks through buf (buf_len bytes).
 * SL_OK if it matches, SL_ECORRUPT if not, SL_EIO on read errors or a short file. */
enum sl_err seg_batch_crc_check(int fd, const struct seg_batch_info *b, uint8_t *buf,
                                size_t buf_len) SL_MUST_USE;

/* Index rules (stor_int.h): records batch b in seg's state and indexes; may_index false for
 * the batch an existing last index entry already names. Requires room for one entry in each
 * index (seg_index_reserve). */
void seg_index_note(struct stor_segment *seg, const struct seg_batch_info *b, bool may_index);
/* Makes room for `more` further entries in each index (realloc; admin time). */
enum sl_err seg_index_reserve(struct stor_segment *seg, size_t more) SL_MUST_USE;
/* The append cap for lim (segment_bytes / interval + 2, at most index_bytes_max / 12). */
size_t seg_index_entries_max(const struct stor_segment_limits *lim);
/* Empties the in-memory state (indexes, size, offsets) without freeing memory. */
void seg_state_reset(struct stor_segment *seg);

/* Rebuilds the in-memory state by scanning batches from the last offset index entry (or from
 * position 0 when there is none) up to end, applying the index rules; the running max
 * timestamp starts from the last time index entry. With buf != NULL every batch's CRC is
 * checked. The batch at the last entry must end at the entry's offset. Stops at the first
 * bad batch: SL_ECORRUPT with *bad_position and *why (state then covers the good prefix);
 * *misplaced is true when that batch was whole and CRC-valid (with buf) but its offsets are
 * out of order: that is not a torn write. SL_EIO, SL_ENOMEM. rep (may be NULL) gets bytes
 * scanned and batches. */
enum sl_err seg_replay(struct stor_segment *seg, uint64_t end, uint8_t *buf, size_t buf_len,
                       struct stor_recovery_report *rep, uint64_t *bad_position, const char **why,
                       bool *misplaced) SL_MUST_USE;
/* Reserves capacity for appends (index_entries_max, at least count + 2). */
enum sl_err seg_reserve_for_appends(struct stor_segment *seg) SL_MUST_USE;

/* Index file helpers. The path of seg's index file with the given extension. */
void seg_index_path(const struct stor_segment *seg, const char *ext, char *out, size_t out_len);
/* Serialises seg's offset / time index to a malloc'd buffer (*out, *len; owned by caller). */
enum sl_err seg_oidx_encode(const struct stor_segment *seg, uint8_t **out, size_t *len) SL_MUST_USE;
enum sl_err seg_tidx_encode(const struct stor_segment *seg, uint8_t **out, size_t *len) SL_MUST_USE;
/* Reads a whole index file into a malloc'd buffer (*out owned by the caller). SL_ENOENT
 * missing, SL_ECORRUPT larger than max_len, SL_EIO. */
enum sl_err seg_read_index_file(const char *path, size_t max_len, uint8_t **out,
                                size_t *len) SL_MUST_USE;
/* Loads an index file into seg (replacing entries) and checks it against log_size: SL_OK,
 * SL_ENOENT missing, SL_ECORRUPT invalid (entries are then cleared), SL_EIO, SL_ENOMEM. */
enum sl_err seg_oidx_load(struct stor_segment *seg, uint64_t log_size) SL_MUST_USE;
enum sl_err seg_tidx_load(struct stor_segment *seg, uint64_t log_size) SL_MUST_USE;
/* Checks loaded time entries against next_offset (known after the tail scan). */
bool seg_tidx_fits(const struct stor_segment *seg);
/* Rewrites an index file with `data` unless its current content already equals it.
 * *written true if the file was rewritten. */
enum sl_err seg_index_file_sync(const char *path, const uint8_t *data, size_t len, bool *written,
                                char *err, size_t err_len) SL_MUST_USE;
/* Writes both index files from memory when they differ (see seg_index_file_sync). */
enum sl_err seg_write_index_files(const struct stor_segment *seg, bool *written, char *err,
                                  size_t err_len) SL_MUST_USE;

/* Offset index lookup: position to start a header scan for `offset` (0 if no entry). */
uint64_t seg_oidx_scan_start(const struct stor_segment *seg, int64_t offset,
                             const struct stor_offset_entry **entry);
/* Position of the batch holding offset (first batch with last offset >= offset) if it starts
 * before end (<= size_bytes); *position = end otherwise. SL_ECORRUPT if a header is bad or
 * disagrees with the index entry the scan started from. */
enum sl_err seg_find_offset_before(const struct stor_segment *seg, int64_t offset, uint64_t end,
                                   uint64_t *position) SL_MUST_USE;

#endif
