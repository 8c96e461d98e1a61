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
 *     lookups by offset and by timestamp, truncation, deletion, full CRC verification.
 *     Open and recovery use plain blocking syscalls (they run at start-up or admin time,
 *     before the partition serves). Lookups read batch headers with pread(2) from the page
 *     cache (61 bytes per batch, at most index.interval.bytes + one batch past the entry).
 *   - log.c (the partition log) owns the runtime write path: it issues the appends with the io
 *     layer at position `size_bytes` and calls stor_segment_note_append() to update the
 *     in-memory state and indexes; it tracks written / durable watermarks.
 *
 * Index rules (Kafka's LogSegment.append, v2 batches): before a batch is recorded, if more
 * than index_interval_bytes were appended since the last index entry, an offset index entry
 * (batch LAST offset - base, batch position) is added, and a time index entry (running max
 * timestamp, LAST offset of the first batch that reached it) if that max grew since the last
 * time entry. The first batch of a segment is not indexed (lookups start at position 0).
 * When a segment is sealed (stor_segment_write_indexes) one more offset entry is added for the
 * last batch and one more time entry for the final max, so a sealed index always ends at the
 * last batch: that entry anchors next_offset independently of the log bytes (a flipped bit in
 * the last batch's baseOffset, which the CRC does not cover, is then detected).
 *
 * Indexes live in memory (arrays sized segment.bytes / index.interval.bytes + 2, capped by
 * index_bytes_max) and are written to their files by stor_segment_write_indexes() when a
 * segment is rolled or at clean shutdown. The active segment's indexes are rebuilt by recovery
 * after an unclean shutdown, so they never need to be durable on their own. After
 * stor_segment_open() returns SL_OK the index files on disk agree with the in-memory indexes
 * (a rebuilt or extended index is written back).
 *
 * Index files are never trusted: on load they are checked (size a multiple of the entry size,
 * strictly increasing offsets, positions and timestamps, positions inside the log, offsets
 * below next_offset) and rebuilt by a scan when they fail; the last offset entry is checked
 * against the batch it points to; every lookup checks the header it lands on.
 *
 * Invariants (checked by stor_segment_check_invariants):
 *   - index entries strictly increase in relative offset and in position; every position is
 *     < size_bytes; time index timestamps and relative offsets strictly increase;
 *   - next_offset > last indexed offset; size_bytes is the end of the last whole batch;
 *     last_batch_position < size_bytes when the segment is not empty.
 *
 * Recovery policy (docs/storage.md "## Recovery"): segments at or after the recovery point
 * (recover == true) are fully scanned with CRC checks and a bad tail is truncated; segments
 * below it are trusted except for the bytes after their last index entry (checked with CRC,
 * never truncated); stor_segment_verify() is the explicit full CRC + structure check.
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
/* Kafka's segment.index.bytes default: the largest index file (caps in-memory entries). */
#define STOR_INDEX_BYTES_MAX_DEFAULT (10u << 20)
/* Largest segment file: positions are u32 on disk and Kafka keeps them in an int. */
#define STOR_SEGMENT_BYTES_MAX ((uint64_t)INT32_MAX)

struct stor_offset_entry {
	uint32_t relative_offset; /* LAST offset of the indexed batch - base_offset */
	uint32_t position;        /* file position of that batch */
};

struct stor_time_entry {
	int64_t timestamp;        /* running max timestamp of the segment at that point */
	uint32_t relative_offset; /* LAST offset of the first batch that reached it - base */
};

struct stor_segment {
	int64_t base_offset;
	int log_fd; /* O_RDWR|O_CLOEXEC; owned; -1 after close */
	char log_path[1024];
	uint64_t size_bytes;   /* end of the last whole batch (appended; writes may be in flight) */
	int64_t next_offset;   /* last offset + 1; == base_offset when empty */
	int64_t max_timestamp; /* -1 when empty */
	int64_t max_timestamp_offset; /* last offset of the first batch with max_timestamp */
	/* segment.ms: wall time of the first append; after open, the first batch's max
	 * timestamp (Kafka's rollingBasedTimestamp); -1 when empty. */
	int64_t first_append_ms;
	uint64_t last_batch_position; /* position of the last batch; 0 when empty */
	uint32_t bytes_since_index;
	uint32_t index_interval_bytes;
	uint64_t segment_bytes; /* segment.bytes, for stor_segment_has_room */
	struct stor_offset_entry *oidx;
	size_t oidx_count;
	size_t oidx_cap;
	struct stor_time_entry *tidx;
	size_t tidx_count;
	size_t tidx_cap;
	size_t index_entries_max; /* cap for appends (from segment_bytes / interval and limits) */
	bool read_only;           /* sealed: indexes written, no more appends */
};

/* What open / recovery found and did, for logs and tests. */
struct stor_recovery_report {
	uint64_t bytes_scanned;   /* bytes read and CRC-checked */
	uint64_t bytes_truncated; /* torn / garbage tail removed (recover == true only) */
	uint32_t batches_valid;   /* batches scanned and found valid */
	bool index_rebuilt;       /* .index was missing, invalid or incomplete and was rebuilt */
	bool timeindex_rebuilt;   /* same for .timeindex */
	bool indexes_written;     /* the index files were rewritten to match memory */
};

/* Limits that size the in-memory indexes. */
struct stor_segment_limits {
	uint64_t segment_bytes;        /* segment.bytes */
	uint32_t index_interval_bytes; /* index.interval.bytes */
	/* Informational: batches larger than this are NOT treated as corrupt (lowering the
	 * setting must not turn stored data into a "torn tail"); CRCs are computed streaming,
	 * so no buffer of this size is needed. Bounds come from the file size. */
	int32_t max_batch_bytes;
	uint32_t index_bytes_max; /* segment.index.bytes; 0 = STOR_INDEX_BYTES_MAX_DEFAULT */
};

/* Optional extra checks for stor_segment_verify(). partitionLeaderEpoch is outside the batch
 * CRC (Kafka stamps it after the producer computed the CRC), so a flipped bit there can only
 * be caught against the epochs the log expects for the segment's offsets (leader-epoch
 * checkpoint). Without bounds, verify still requires non-decreasing epochs. */
struct stor_verify_bounds {
	int32_t leader_epoch_min; /* every batch's epoch must be within [min, max] */
	int32_t leader_epoch_max;
};

/* Result of a timestamp lookup at batch granularity. */
struct stor_time_lookup {
	bool found;           /* false: no batch before end_position has max timestamp >= ts */
	uint64_t position;    /* the first batch whose max timestamp >= ts */
	uint32_t batch_bytes; /* its size */
	int64_t base_offset;
	int64_t last_offset;
	int16_t attributes;
};

/* "<dir>/<20-digit base>.<ext>" into out ("log", "index", "timeindex"; a leading '.' in ext
 * is accepted). Truncates to out_len (callers with PATH_MAX-sized buffers never hit it). */
void stor_segment_path(char *out, size_t out_len, const char *dir, int64_t base_offset,
                       const char *ext);

/* Creates empty .log/.index/.timeindex files for a new segment (O_EXCL: SL_EEXIST if the
 * .log exists; stale index files of an interrupted earlier roll are truncated), fsyncs the
 * directory, and initialises seg (owned by the caller; release with stor_segment_close).
 * err names the file on failure; nothing is left behind on failure. */
enum sl_err stor_segment_create(struct stor_segment *seg, const char *dir, int64_t base_offset,
                                const struct stor_segment_limits *lim, char *err,
                                size_t err_len) SL_MUST_USE;

/* Opens an existing segment. Blocking; start-up time.
 * recover == false (segment wholly below the recovery point): loads both indexes from their
 *   files and checks them (see the header comment); a missing or bad index is rebuilt by a
 *   full scan. The batches after the last offset index entry are read and CRC-checked (at
 *   most index.interval.bytes + one batch) to find next_offset and the max timestamp. The
 *   .log is otherwise trusted; any CRC, length or offset failure found while scanning is
 *   SL_ECORRUPT with err naming the file and byte offset (corruption below the recovery
 *   point is never truncated away).
 * recover == true (the segment reaches the recovery point or lies after it; Kafka's
 *   logSegments(recoveryPoint, inf)): scans every batch from position 0, validating length,
 *   magic, offsets (increasing, inside the segment) and CRC32C; the first invalid or
 *   incomplete batch and everything after it is truncated (ftruncate + fsync); both indexes
 *   are rebuilt from the scan.
 * In both modes index files that differ from the result are rewritten (temp + rename).
 * The segment is writable (read_only false) with room for appends; call stor_segment_seal()
 * on segments that will not be appended to. Errors: SL_ENOENT (no .log), SL_ECORRUPT,
 * SL_EIO / errno-mapped codes, SL_ENOMEM. rep may be NULL. On error seg holds nothing. */
enum sl_err stor_segment_open(struct stor_segment *seg, const char *dir, int64_t base_offset,
                              bool recover, const struct stor_segment_limits *lim,
                              struct stor_recovery_report *rep, char *err,
                              size_t err_len) SL_MUST_USE;

/* Records a batch the caller has appended (or is appending) at position seg->size_bytes:
 * advances size_bytes and next_offset, updates max timestamp, adds index entries per the
 * index rules. Never fails: the caller checked stor_segment_has_room(). base_offset must be
 * >= next_offset. */
void stor_segment_note_append(struct stor_segment *seg, uint32_t batch_bytes, int64_t base_offset,
                              int64_t last_offset, int64_t max_timestamp, int64_t now_ms);

/* True if a batch of batch_bytes fits: size stays <= segment_bytes (an empty segment always
 * takes one batch) and <= STOR_SEGMENT_BYTES_MAX, relative offsets stay within INT32_MAX
 * (Kafka's rule), the index has room, and the segment is not read-only. */
bool stor_segment_has_room(const struct stor_segment *seg, uint32_t batch_bytes,
                           int64_t last_offset);

/* Position of the batch containing `offset` (the first batch whose last offset >= offset), or
 * size_bytes if offset >= next_offset. Uses the index then reads batch headers; offset must
 * be below the caller's written watermark (headers past it may not be on disk yet).
 * SL_ECORRUPT if a header read does not fit the index (err-free: the log logs it). */
enum sl_err stor_segment_find_offset(const struct stor_segment *seg, int64_t offset,
                                     uint64_t *position) SL_MUST_USE;

/* Batch-granularity time lookup: the first batch before end_position (<= size_bytes: pass
 * the written watermark position) whose max timestamp >= ts, via the time index, the offset
 * index and a header scan. Every earlier batch has max timestamp < ts, so the first record
 * with timestamp >= ts (Kafka's ListOffsets answer) is in this batch; see
 * stor_segment_refine_timestamp. */
enum sl_err stor_segment_lookup_timestamp(const struct stor_segment *seg, int64_t ts,
                                          uint64_t end_position,
                                          struct stor_time_lookup *out) SL_MUST_USE;

/* Largest decompressed records area a timestamp lookup will inflate (admin path). */
#define STOR_TIMESTAMP_RAW_MAX (64u << 20)

/* Record-level refinement (Kafka LogSegment.findOffsetByTimestamp): reads the batch found by
 * stor_segment_lookup_timestamp into scratch (reset first; its max_bytes bounds the read:
 * SL_ETOOBIG), checks its frame and CRC, decompresses it when compressed (at most
 * STOR_TIMESTAMP_RAW_MAX bytes, else SL_ETOOBIG) and returns the offset of its first record
 * whose timestamp >= ts (a LOG_APPEND_TIME batch: its base offset). If no record qualifies
 * (a max timestamp inconsistent with the records) the base offset is returned (never skips
 * data). SL_ECORRUPT if the batch or its records do not decode. */
enum sl_err stor_segment_refine_timestamp(const struct stor_segment *seg,
                                          const struct stor_time_lookup *hit, int64_t ts,
                                          struct sl_buf *scratch, int64_t *offset) SL_MUST_USE;

/* Batch-granularity convenience: *offset = base offset of the batch found by
 * stor_segment_lookup_timestamp(seg, ts, seg->size_bytes). *found false if none. */
enum sl_err stor_segment_find_timestamp(const struct stor_segment *seg, int64_t ts, int64_t *offset,
                                        bool *found) SL_MUST_USE;

/* Removes every batch with base offset >= offset (offset must fall on a batch boundary or at
 * or beyond next_offset: SL_EINVAL otherwise), ftruncates and fsyncs the file (so that old
 * batches cannot reappear after a crash), trims the indexes, rewrites the index files and
 * makes the segment writable again. Blocking. */
enum sl_err stor_segment_truncate(struct stor_segment *seg, int64_t offset) SL_MUST_USE;

/* Seals (adds the final index entries, see the header comment), writes both indexes to their
 * files (temp + fsync + rename + directory fsync) and marks read_only. Does not fsync the
 * .log (the log's flush does). Blocking. */
enum sl_err stor_segment_write_indexes(struct stor_segment *seg, char *err,
                                       size_t err_len) SL_MUST_USE;

/* Marks a freshly opened segment read-only without rewriting its files (the log calls this
 * for every opened segment but the last) and shrinks its in-memory indexes. */
void stor_segment_seal(struct stor_segment *seg);

/* Full check of a segment: reads every batch up to size_bytes, checking length, magic, CRC32C,
 * increasing offsets inside [base_offset, next_offset), non-decreasing leader epochs (and
 * bounds if given), that every offset and time index entry points at the batch it names
 * (same last offset, same max timestamp), and that the batches end exactly at size_bytes /
 * next_offset. SL_ECORRUPT with *bad_position (the log byte where the problem is) and err
 * naming the file and byte offset; SL_EIO on read errors. bounds may be NULL. Cost: one
 * sequential read of the segment. */
enum sl_err stor_segment_verify(const struct stor_segment *seg,
                                const struct stor_verify_bounds *bounds, uint64_t *bad_position,
                                char *err, size_t err_len) SL_MUST_USE;

/* Removes leftovers of interrupted operations in a partition directory: `*.tmp` files (index
 * writes, checkpoints: stor_file_write_atomic), `*.cleaned` / `*.deleted` files (Kafka's
 * compaction / async delete suffixes), and orphaned `<base>.index` / `<base>.timeindex` files
 * whose `.log` is missing. Leaves `*.swap` files alone and reports them (*swap_count): we
 * never write them, so their presence is an error for the caller to decide. *removed_count
 * may be NULL. Blocking. */
enum sl_err stor_segment_dir_cleanup(const char *dir, size_t *removed_count, size_t *swap_count,
                                     char *err, size_t err_len) SL_MUST_USE;

/* Closes the fd and frees the indexes (files stay). Safe on a zeroed or closed segment. */
void stor_segment_close(struct stor_segment *seg);
/* Closes and unlinks the segment's three files (missing index files are not an error). */
enum sl_err stor_segment_delete(struct stor_segment *seg) SL_MUST_USE;

void stor_segment_check_invariants(const struct stor_segment *seg);

#endif
