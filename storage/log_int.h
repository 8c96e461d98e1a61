/*
 * log_int.h: private to storage/. The partition log's state, shared by log.c (open, append,
 * close), log_read.c, log_retention.c, flush.c and log_manager.c.
 *
 * Invariants (stor_log_check_invariants):
 *   - segs[] is sorted by base offset, non-empty; only the last segment takes appends;
 *   - log_start_offset <= durable_offset <= written_offset <= end_offset
 *     (log_start may pass durable after a truncation below it restarts the log);
 *   - per segment: durable_bytes <= written_bytes <= s.size_bytes;
 *   - the in-flight list holds appends in offset order; written_offset is the base offset of
 *     its head (or end_offset when it is empty);
 *   - waiters are sorted by offset and all wait for offsets > durable_offset.
 */
#ifndef SL_LOG_INT_H
#define SL_LOG_INT_H

#include "stor_int.h"
#include "storage.h"

#include <sys/uio.h>

#define LOG_WRITE_IOV_MAX 64

#define LOG_PATH_BYTES 1024
#define LOG_EPOCHS_MAX 4096

/* A live or deleted segment plus the log's watermarks for its .log file. */
struct log_seg {
	struct stor_segment s;
	uint64_t written_bytes; /* [0, written_bytes) is in the file */
	uint64_t durable_bytes; /* [0, durable_bytes) survived a completed fdatasync */
	uint64_t flush_bytes;   /* target of the flush round in flight (when in_round) */
	bool in_round;
	int64_t delete_at_ms; /* deleted segments: when the fd may be closed */
	struct log_seg *grave_next;
};

struct stor_log {
	struct stor_log_manager *mgr; /* NULL for a log opened on its own */
	struct io_loop *loop;
	char dir[LOG_PATH_BYTES];
	char parent[LOG_PATH_BYTES]; /* the log dir */
	char topic[STOR_TOPIC_NAME_MAX + 1];
	int32_t partition;
	struct stor_log_config cfg;

	struct log_seg **segs;
	size_t seg_count;
	size_t seg_cap;
	struct log_seg *grave; /* unlinked, fd still open */

	int64_t log_start_offset;
	int64_t end_offset;
	int64_t written_offset;
	int64_t durable_offset;
	int64_t high_watermark; /* retention bound; -1 = none */

	/* Appends in offset order, from the oldest not yet completed; `unsubmitted` is the first
	 * whose bytes are not in a write yet. One group write is in flight at a time: it covers
	 * every queued append that follows the previous one in the same segment file (up to
	 * LOG_WRITE_IOV_MAX), so many small appends cost one io_writev. */
	struct stor_append *inflight_head;
	struct stor_append *inflight_tail;
	uint32_t inflight_count;
	struct stor_append *unsubmitted;
	bool writing;
	struct io_op write_op;
	struct iovec write_iov[LOG_WRITE_IOV_MAX];
	int write_iov_first; /* first iov not fully written (short writes) */
	int write_iov_count;
	struct stor_append *write_first; /* first append of the group in flight */
	uint64_t appends;
	uint64_t write_calls;
	uint64_t write_position;
	uint64_t write_len;
	uint64_t write_done;

	/* flush scheduler (flush.c) */
	bool flushing;
	int64_t round_target;
	struct log_seg *round_seg; /* segment whose fdatasync is in flight */
	struct io_op flush_op;
	struct stor_durable_wait *waiters;
	uint64_t flush_rounds;
	int64_t unflushed_messages;
	int64_t last_flush_ms;

	bool offline;
	int64_t fail_offset; /* first offset whose write failed (INT64_MAX if none) */

	struct stor_epoch_entry epochs[LOG_EPOCHS_MAX];
	size_t epoch_count;

	struct stor_log *hash_next; /* manager's table, or its graveyard once deleted */
	int64_t buried_until_ms;    /* deleted: fds close after this (wall clock) */
};

/* log.c (stor_log_open, stor_log_open_args, stor_log_sync_all, stor_log_close: storage.h) */
/* Marks the log offline (idempotent), failing every waiter. */
void stor_log_set_offline(struct stor_log *log, enum sl_err why, const char *what);
struct log_seg *stor_log_active(const struct stor_log *log);
/* Segment limits from a log config. */
void stor_log_limits(const struct stor_log_config *c, struct stor_segment_limits *lim);
/* Index of the last segment with base_offset <= offset (0 if none). */
size_t stor_log_seg_index(const struct stor_log *log, int64_t offset);
/* Moves segs[i..i+n) out of the log: files unlinked now, fd closed by reap. */
void stor_log_bury(struct stor_log *log, size_t i, size_t n, int64_t now_ms);
void stor_log_check_invariants(const struct stor_log *log);
/* Writes leader-epoch-checkpoint (blocking; rare). Failure takes the log offline. */
enum sl_err stor_log_write_epochs(struct stor_log *log);
bool stor_log_busy(const struct stor_log *log);
/* Test hook: truncate each live .log file to its durable size; returns bytes dropped. */
uint64_t stor_log_test_drop_unsynced(struct stor_log *log);

/* log_manager.c */
/* Rewrites recovery-point-offset-checkpoint and log-start-offset-checkpoint of the log dir
 * `parent` (blocking). Called after a truncation lowered a log's durable offset. */
enum sl_err stor_log_manager_checkpoint_dir(struct stor_log_manager *m, const char *parent,
                                            char *err, size_t err_len) SL_MUST_USE;

/* flush.c */
/* Written data advanced (called after write completions). */
void stor_flush_on_written(struct stor_log *log);
/* Fails every waiter with SL_EIO. */
void stor_flush_fail_waiters(struct stor_log *log);

#endif
