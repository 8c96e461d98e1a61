/*
 * stor_int.h: private to storage/. The segment layer, shared by the partition log.
 *
 * A segment is one `<20-digit base offset>.log` file of whole RecordBatch v2 batches plus its
 * sparse offset index (`.index`: u32 relative offset, u32 file position, big-endian) and time
 * index (`.timeindex`: i64 timestamp, u32 relative offset), Kafka's layout.
 *
 * Division of labour:
 *   - segment.c / offset_index.c / time_index.c / segment_recover.c (this header): file names,
 *     creating, opening, validating and rebuilding indexes, scanning and truncating a torn tail,
 *     lookups by offset and by timestamp, truncation, deletion. Open and recovery use plain
 *     blocking syscalls (they run at start-up or admin time, before the partition serves).
 *     Lookups read batch headers with pread(2) from the page cache (12..61 bytes per batch,
 *     at most index.interval.bytes + one batch past the index entry).
 *   - log.c (the partition log) owns the runtime write path: it issues the appends with the io
 *     layer at position `size_bytes` and calls stor_segment_note_append() to update the
 *     in-memory state and indexes; it tracks written / durable watermarks.
 *
 * Indexes live in memory (bounded arrays: segment.bytes / index.interval.bytes + 2 entries)
 * and are written to their files by stor_segment_write_indexes() when a segment is rolled
 * (made read-only) or at clean shutdown. The active segment's indexes are rebuilt by recovery
 * after an unclean shutdown, so they never need to be durable on their own.
 *
 * Invariants (checked by stor_segment_check_invariants):
 *   - index entries strictly increase in relative offset and in position; every position is
 *     < size_bytes; time index timestamps are non-decreasing;
 *   - next_offset > last indexed offset; size_bytes is the end of the last whole batch.
 */
#ifndef SL_STOR_INT_H
#define SL_STOR_INT_H

#include "base.h"
#include "batch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STOR_SEGMENT_NAME_DIGITS 20
#define STOR_OFFSET_INDEX_ENTRY_BYTES 8
#define STOR_TIME_INDEX_ENTRY_BYTES 12

struct stor_offset_entry {
	uint32_t relative_offset;
	uint32_t position;
};

struct stor_time_entry {
	int64_t timestamp;
	uint32_t relative_offset;
};

struct stor_segment {
	int64_t base_offset;
	int log_fd; /* O_RDWR|O_CLOEXEC; owned */
	char log_path[1024];
	uint64_t size_bytes;   /* end of the last whole batch (appended; writes may be in flight) */
	int64_t next_offset;   /* last offset + 1; == base_offset when empty */
	int64_t max_timestamp; /* -1 when empty */
	int64_t max_timestamp_offset;
	int64_t first_append_ms; /* wall time of the first append (segment.ms rolls); -1 empty */
	uint32_t bytes_since_index;
	uint32_t index_interval_bytes;
	struct stor_offset_entry *oidx;
	size_t oidx_count;
	size_t oidx_cap;
	struct stor_time_entry *tidx;
	size_t tidx_count;
	size_t tidx_cap;
	bool read_only; /* rolled: indexes written, no more appends */
};

/* What recovery found and did, for logs and tests. */
struct stor_recovery_report {
	uint64_t bytes_scanned;
	uint64_t bytes_truncated; /* torn / garbage tail removed */
	uint32_t batches_valid;
	bool index_rebuilt;
	bool timeindex_rebuilt;
};

/* Limits that size the in-memory indexes. */
struct stor_segment_limits {
	uint64_t segment_bytes;        /* segment.bytes */
	uint32_t index_interval_bytes; /* index.interval.bytes */
	int32_t max_batch_bytes;       /* reject batches larger than this while scanning */
};

/* "<dir>/<20-digit base>.<ext>" into out. */
void stor_segment_path(char *out, size_t out_len, const char *dir, int64_t base_offset,
                       const char *ext);

/* Creates empty .log/.index/.timeindex files for a new segment (O_EXCL: SL_EEXIST if the
 * .log exists) and initialises seg. err names the file on failure. */
enum sl_err stor_segment_create(struct stor_segment *seg, const char *dir, int64_t base_offset,
                                const struct stor_segment_limits *lim, char *err,
                                size_t err_len) SL_MUST_USE;

/* Opens an existing segment.
 * recover == false (segment wholly below the recovery point): loads both indexes from their
 *   files and sanity-checks them (size a multiple of the entry size, monotonic, positions inside
 *   the .log, offsets inside the segment); a missing or bad index is rebuilt by scanning. The
 *   .log is trusted except that a CRC or length failure found while rebuilding is SL_ECORRUPT
 *   with err naming the file and byte offset (corruption below the recovery point is never
 *   truncated away).
 * recover == true (at or after the recovery point): scans every batch from start_position
 *   (0, or where the caller knows the data is sound), validating length, magic and CRC32C;
 *   the first invalid or incomplete batch and everything after it is truncated (ftruncate +
 *   fsync); both indexes are rebuilt from the scan.
 * rep may be NULL. */
enum sl_err stor_segment_open(struct stor_segment *seg, const char *dir, int64_t base_offset,
                              bool recover, const struct stor_segment_limits *lim,
                              struct stor_recovery_report *rep, char *err,
                              size_t err_len) SL_MUST_USE;

/* Records a batch the caller has appended (or is appending) at position seg->size_bytes:
 * advances size_bytes and next_offset, updates max timestamp, adds index entries every
 * index_interval_bytes (and for the first batch). Never fails: the caller checked that the
 * segment has room (stor_segment_has_room). */
void stor_segment_note_append(struct stor_segment *seg, uint32_t batch_bytes, int64_t base_offset,
                              int64_t last_offset, int64_t max_timestamp, int64_t now_ms);

/* True if a batch of batch_bytes fits: size stays <= segment_bytes (an empty segment always
 * takes one batch), relative offsets stay within u32, and the index has room. */
bool stor_segment_has_room(const struct stor_segment *seg, uint32_t batch_bytes,
                           int64_t last_offset);

/* Position of the batch containing `offset` (the first batch whose last offset >= offset), or
 * size_bytes if offset >= next_offset. Uses the index then reads batch headers. */
enum sl_err stor_segment_find_offset(const struct stor_segment *seg, int64_t offset,
                                     uint64_t *position) SL_MUST_USE;

/* The first offset whose batch has max timestamp >= ts (Kafka's ListOffsets by time), via the
 * time index then a header scan; *found false if no batch qualifies. */
enum sl_err stor_segment_find_timestamp(const struct stor_segment *seg, int64_t ts, int64_t *offset,
                                        bool *found) SL_MUST_USE;

/* Removes every batch with base offset >= offset (offset must fall on a batch boundary or
 * beyond the end), truncating the file and trimming the indexes. */
enum sl_err stor_segment_truncate(struct stor_segment *seg, int64_t offset) SL_MUST_USE;

/* Writes both indexes to their files (temp + rename) and fsyncs them; marks read_only. */
enum sl_err stor_segment_write_indexes(struct stor_segment *seg, char *err,
                                       size_t err_len) SL_MUST_USE;

/* Closes the fd and frees the indexes (files stay). */
void stor_segment_close(struct stor_segment *seg);
/* Closes and unlinks the segment's three files. */
enum sl_err stor_segment_delete(struct stor_segment *seg) SL_MUST_USE;

void stor_segment_check_invariants(const struct stor_segment *seg);

#endif
