/*
 * storage.h: public header of the L3 `sl_storage` library.
 *
 * For now it holds the per-directory files written by `sluice storage format`:
 * meta.properties (Kafka's MetaProperties, version 0 or 1) and checkpoint files
 * (bootstrap.checkpoint and KRaft snapshots: a sequence of RecordBatch v2), plus the
 * crash-safe "write temp file, fsync, rename, fsync directory" helper they share. These run
 * at start-up or admin time and use plain blocking POSIX calls, not the io loop.
 *
 * Invariant: a file written by these functions is either absent, its previous version, or
 * complete and durable; readers never see a partial file under the final name.
 */
#ifndef SL_STORAGE_H
#define SL_STORAGE_H

#include "base.h"
#include "batch.h"
#include "io.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STOR_META_PROPERTIES_NAME "meta.properties"
#define STOR_BOOTSTRAP_CHECKPOINT_NAME "bootstrap.checkpoint"
#define STOR_METADATA_PARTITION_DIR "__cluster_metadata-0"
#define STOR_BOOTSTRAP_SNAPSHOT_NAME "00000000000000000000-0000000000.checkpoint"
#define STOR_CLUSTER_ID_MAX 256
#define STOR_CHECKPOINT_MAX_BYTES (64u << 20)

/* ---- files -------------------------------------------------------------------------- */

/* Writes data to `<path>.tmp`, fsyncs it, renames it over path and fsyncs the parent
 * directory. Borrows everything. SL_EIO / SL_ENOSPC / SL_EACCES / ... with err naming the
 * path and the failing step; the temp file is removed on failure. */
enum sl_err stor_file_write_atomic(const char *path, const void *data, size_t len, char *err,
                                   size_t err_len) SL_MUST_USE;

/* Creates dir and any missing parents (mode 0755), like `mkdir -p`. SL_EEXIST with err if a
 * path component exists and is not a directory. */
enum sl_err stor_mkdirs(const char *dir, char *err, size_t err_len) SL_MUST_USE;

/* fsync(2) of a directory so that a rename or create inside it is durable. */
enum sl_err stor_dir_fsync(const char *dir) SL_MUST_USE;

/* ---- meta.properties ------------------------------------------------------------------ */

/* Kafka's MetaProperties. Version 0 (legacy ZooKeeper) reads the node id from broker.id;
 * version 1 (KRaft) requires cluster.id and node.id. */
struct stor_meta_props {
	int version; /* 0 or 1 */
	bool has_cluster_id;
	char cluster_id[STOR_CLUSTER_ID_MAX];
	bool has_node_id;
	int32_t node_id;
	bool has_directory_id;
	struct sl_uuid directory_id;
};

/* Reads <dir>/meta.properties. SL_ENOENT if the file does not exist; SL_EIO if it cannot be
 * read; SL_ECORRUPT if it does not parse or breaks the rules. err gets the reason without the
 * path ("Unknown meta.properties version number 7", "cluster.id was not found.", "line 3:
 * ..."); callers add the path. */
enum sl_err stor_meta_props_read(const char *dir, struct stor_meta_props *out, char *err,
                                 size_t err_len) SL_MUST_USE;

/* Writes <dir>/meta.properties atomically (stor_file_write_atomic): "#" and "#<date>" comment
 * lines, then the present keys in sorted order. SL_EINVAL if mp breaks the version's rules. */
enum sl_err stor_meta_props_write(const char *dir, const struct stor_meta_props *mp, char *err,
                                  size_t err_len) SL_MUST_USE;

/* Formats mp the way `kafka-storage info` prints it: "{cluster.id=X, directory.id=Y,
 * node.id=1, version=1}" (sorted keys, absent keys left out). Truncates to out_len. */
void stor_meta_props_describe(const struct stor_meta_props *mp, char *out, size_t out_len);

/* ---- checkpoint files ------------------------------------------------------------------ */

/* Writes already-built batches (concatenated, each a valid RecordBatch v2) to path with
 * stor_file_write_atomic. SL_EINVAL if the bytes are not a sequence of valid batches. */
enum sl_err stor_checkpoint_write(const char *path, const uint8_t *batches, size_t len, char *err,
                                  size_t err_len) SL_MUST_USE;

/* Reads path into out (appended; out's max_bytes bounds the size) and checks that the file
 * is a sequence of valid batches (CRC, lengths, counts). Iterate it with stor_batch_parse.
 * SL_ENOENT missing, SL_EIO read error, SL_ETOOBIG over out's limit, SL_ECORRUPT with the
 * byte position of the first bad batch in err. */
enum sl_err stor_checkpoint_read(const char *path, struct sl_buf *out, char *err,
                                 size_t err_len) SL_MUST_USE;

/* ==== partition logs (log.c, log_read.c, log_retention.c, flush.c, log_manager.c) ======== */
/*
 * A partition log is a directory `<log.dir>/<topic>-<partition>/` of segments (stor_int.h)
 * plus `leader-epoch-checkpoint` and `partition.metadata`. Each log dir holds
 * `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint` and, after a clean
 * shutdown, `.kafka_cleanshutdown`. Everything runs on one io loop thread.
 *
 * Offsets and watermarks of one log (always log_start <= durable <= written <= end):
 *   end_offset      next offset to assign (appends submitted, maybe still being written);
 *   written_offset  every batch below it is in the file (contiguous: writes may complete out
 *                   of order, the watermark only moves over a complete prefix); reads never
 *                   return bytes at or beyond it;
 *   durable_offset  every batch below it is covered by a completed fdatasync (the recovery
 *                   point written to recovery-point-offset-checkpoint).
 * A failed write or fsync takes the log offline for good (never retried): every waiter and
 * every later call gets SL_EIO (KAFKA_STORAGE_ERROR upstream).
 */

struct stor_log;
struct stor_log_manager;

#define STOR_TOPIC_NAME_MAX 249
#define STOR_RECOVERY_POINT_CHECKPOINT_NAME "recovery-point-offset-checkpoint"
#define STOR_LOG_START_CHECKPOINT_NAME "log-start-offset-checkpoint"
#define STOR_LEADER_EPOCH_CHECKPOINT_NAME "leader-epoch-checkpoint"
#define STOR_PARTITION_METADATA_NAME "partition.metadata"
#define STOR_CLEAN_SHUTDOWN_NAME ".kafka_cleanshutdown"

/* Per-topic log configuration (Kafka's topic-level names in the comments). */
struct stor_log_config {
	uint64_t segment_bytes;        /* segment.bytes, default 1 GiB */
	int64_t segment_ms;            /* segment.ms, default 7 days */
	int64_t retention_ms;          /* retention.ms, default 7 days; -1 = unlimited */
	int64_t retention_bytes;       /* retention.bytes, default -1 = unlimited */
	uint32_t index_interval_bytes; /* index.interval.bytes, default 4096 */
	int64_t flush_messages;        /* flush.messages, default INT64_MAX (= never by count) */
	int64_t flush_ms;              /* flush.ms, default INT64_MAX (= never by time) */
	int32_t max_message_bytes;     /* max.message.bytes, default 1048588 */
	bool log_append_time; /* message.timestamp.type=LogAppendTime (default CreateTime) */
	int64_t file_delete_delay_ms; /* file.delete.delay.ms, default 60000 */
};

/* Kafka's defaults (above). */
void stor_log_config_init(struct stor_log_config *c);
/* Sets one topic-level key from its text value. SL_ENOENT for a key this struct does not
 * hold (the caller decides whether that is an error), SL_EINVAL for a bad value (err says
 * why). Borrows everything. */
enum sl_err stor_log_config_set(struct stor_log_config *c, const char *key, const char *value,
                                char *err, size_t err_len) SL_MUST_USE;

/* ---- append ---------------------------------------------------------------------------- */

struct stor_append;
/* Called once per accepted append, from inside io_loop_run_once, in offset order. a->err is
 * SL_OK (the batch is in the file: acks=1 may answer) or SL_EIO (log offline). The callback
 * may append again, but must not close or delete the log it was called for (the log is still
 * in use when the callback returns). A stor_append must be zeroed before its first use. */
typedef void stor_append_fn(struct stor_append *a, void *ctx);

/* A caller-owned append (embed it in the request; no allocation per append). Read the
 * results inside the callback; everything else is private. */
struct stor_append {
	/* results */
	enum sl_err err;
	int64_t base_offset;
	int64_t last_offset;
	int64_t log_append_time_ms; /* -1 unless message.timestamp.type=LogAppendTime */
	/* private */
	struct stor_log *log;
	struct stor_append *next;
	stor_append_fn *done;
	void *ctx;
	uint8_t *batch;
	size_t len;
	uint64_t position;
	void *seg; /* struct log_seg * (log_int.h) */
	bool complete;
};

/* Appends one RecordBatch v2 (batch[0..len), exactly one batch). The log rewrites baseOffset
 * (the next offset), partitionLeaderEpoch (leader_epoch) and, for LogAppendTime topics,
 * the timestamp-type bit and maxTimestamp (= now_ms) with a recomputed CRC; rolls the
 * segment on segment.bytes / segment.ms; then writes at the tail with the io layer.
 * The batch buffer is borrowed (and modified) until the callback; `a` must stay alive and
 * untouched until then. base_offset / last_offset are set before returning.
 * Returns SL_OK (the callback will run), or, without a callback: SL_EIO offline,
 * SL_EMALFORMED bad header / length, SL_ETOOBIG over max.message.bytes, or the error of a
 * failed roll (the log is then offline). */
enum sl_err stor_log_append(struct stor_log *log, struct stor_append *a, uint8_t *batch, size_t len,
                            int32_t leader_epoch, int64_t now_ms, stor_append_fn *done,
                            void *ctx) SL_MUST_USE;

/* ---- durability (flush.c) -------------------------------------------------------------- */

struct stor_durable_wait;
/* Called once per waiter when durable (or the log went offline). Like stor_append_fn, it must
 * not close or delete the log it was called for. */
typedef void stor_durable_fn(struct stor_durable_wait *w, void *ctx);

/* Caller-owned waiter for "durable up to offset N" (every offset < N fdatasynced). */
struct stor_durable_wait {
	enum sl_err err; /* inside the callback: SL_OK, or SL_EIO (offline) */
	/* private */
	int64_t offset;
	stor_durable_fn *done;
	void *ctx;
	struct stor_durable_wait *next;
};

/* Asks for every offset < offset to be durable. Returns SL_OK if it already is (no
 * callback), SL_EIO if the log is offline (no callback), or SL_EAGAIN: queued; the callback
 * runs later from the io loop. A flush round starts as soon as some written data is wanted;
 * while one round is in flight (at most one per log), later requests wait for the next
 * round, which covers everything written meanwhile (group commit). */
enum sl_err stor_log_wait_durable(struct stor_log *log, struct stor_durable_wait *w, int64_t offset,
                                  stor_durable_fn *done, void *ctx) SL_MUST_USE;
/* Starts a flush round now if data is written but not durable and no round is in flight. */
void stor_log_flush(struct stor_log *log);
/* Kafka's flush.messages / flush.ms policy for data nobody waits for: starts a round when
 * either threshold is passed. Called by the log manager's timer and after each write. */
void stor_log_flush_policy(struct stor_log *log, int64_t now_ms);
/* Flush rounds completed so far (tests: group commit means rounds << appends). */
uint64_t stor_log_flush_rounds(const struct stor_log *log);

/* ---- read (log_read.c) ----------------------------------------------------------------- */

/* A byte range of a segment file to send as is (sendfile / splice). fd is borrowed: it stays
 * open until at least file.delete.delay.ms after its segment leaves the log. */
struct stor_file_range {
	int fd;
	uint64_t position;
	uint64_t len;
};

struct stor_read_result {
	struct stor_file_range range; /* len 0 = nothing to return */
	int64_t first_offset;         /* base offset of the first batch returned */
	int64_t next_offset;          /* where the next read should start (= offset when empty) */
};

/* Reads whole batches from the segment holding `offset`: the batch containing offset first
 * (always, even when larger than max_bytes, as Kafka does), then following batches while the
 * total stays <= max_bytes and their base offset < max_offset (max_offset < 0: no bound;
 * e.g. the high watermark). One segment per call, like Kafka. Never exposes bytes beyond
 * written_offset. SL_ENOENT if offset < log start or > written_offset (OFFSET_OUT_OF_RANGE),
 * SL_EIO offline or a failed header read (the log goes offline). */
enum sl_err stor_log_read(struct stor_log *log, int64_t offset, uint64_t max_bytes,
                          int64_t max_offset, struct stor_read_result *out) SL_MUST_USE;

#define STOR_TIMESTAMP_LATEST (-1)
#define STOR_TIMESTAMP_EARLIEST (-2)
/* ListOffsets: the first offset whose batch max timestamp >= ts, or the special values
 * above (latest = written_offset, earliest = log start). *found false if none qualifies. */
enum sl_err stor_log_find_timestamp(struct stor_log *log, int64_t ts, int64_t *offset,
                                    bool *found) SL_MUST_USE;

/* ---- truncation, log start, retention (log_retention.c) -------------------------------- */

/* Removes every batch at or after the batch containing `offset` (replicas that diverge).
 * Appends must not be in flight (SL_EAGAIN). Blocking: first lowers the durable offset and,
 * for a managed log, rewrites the dir's recovery-point checkpoint; then truncates (fsync) and
 * fsyncs the directory. Any I/O failure takes the log offline (SL_EIO). offset below the
 * log start empties the log and restarts it at offset. Epoch entries at or beyond the new end
 * are dropped. */
enum sl_err stor_log_truncate(struct stor_log *log, int64_t offset) SL_MUST_USE;
/* Deletes every segment and restarts the log empty at offset (log start = end = offset), as
 * Kafka's truncateFullyAndStartAt (a replica installing a snapshot). SL_EAGAIN while appends
 * are in flight, SL_EIO on failure (the log is then offline). */
enum sl_err stor_log_truncate_fully(struct stor_log *log, int64_t offset) SL_MUST_USE;
/* DeleteRecords: moves the log start offset up to offset (<= written_offset, else
 * SL_EINVAL); segments wholly below it are deleted by the next retention pass. */
enum sl_err stor_log_advance_start_offset(struct stor_log *log, int64_t offset) SL_MUST_USE;
/* Deletes the oldest segments (never the active one) while they are below the log start
 * offset, older than retention.ms (by max timestamp) or over retention.bytes, and wholly
 * below both max_offset (the high watermark; < 0 = no bound) and durable_offset. Files are
 * unlinked at once; fds are closed after file.delete.delay.ms (stor_log_reap). */
enum sl_err stor_log_apply_retention(struct stor_log *log, int64_t now_ms, int64_t max_offset,
                                     uint32_t *deleted) SL_MUST_USE;
/* Closes the fds of deleted segments whose delay has passed (all of them if force). */
void stor_log_reap(struct stor_log *log, int64_t now_ms, bool force);

/* ---- state ------------------------------------------------------------------------------ */

struct stor_log_state {
	int64_t log_start_offset;
	int64_t end_offset;
	int64_t written_offset;
	int64_t durable_offset;
	uint64_t size_bytes; /* all live segments */
	uint32_t segment_count;
	bool offline;
	uint64_t appends;     /* stor_log_append calls accepted since open */
	uint64_t write_calls; /* io writes issued for them (group writes: often far fewer) */
};
void stor_log_get_state(const struct stor_log *log, struct stor_log_state *out);
bool stor_log_offline(const struct stor_log *log);
const char *stor_log_dir(const struct stor_log *log);
const char *stor_log_topic(const struct stor_log *log);
int32_t stor_log_partition(const struct stor_log *log);
/* The high watermark bounds retention (nothing at or above it is deleted); -1 = no bound
 * beyond durable_offset. Set by the replica manager. */
void stor_log_set_high_watermark(struct stor_log *log, int64_t hw);
/* The log's config (a copy is held per log; set by the manager). */
void stor_log_set_config(struct stor_log *log, const struct stor_log_config *c);
/* OffsetForLeaderEpoch: the end offset of `epoch` (start of the next higher epoch, or the
 * log end for the latest) and the largest epoch <= the requested one; (-1, -1) if none. */
void stor_log_end_offset_for_epoch(const struct stor_log *log, int32_t epoch, int32_t *epoch_out,
                                   int64_t *end_offset_out);

/* ---- checkpoints (checkpoints.c; Kafka's text formats) -------------------------------- */

/* One line of recovery-point-offset-checkpoint / log-start-offset-checkpoint:
 * "0\n<count>\n" then "<topic> <partition> <offset>\n" per entry. */
struct stor_tp_offset {
	char topic[STOR_TOPIC_NAME_MAX + 1];
	int32_t partition;
	int64_t offset;
};
/* Writes atomically (stor_file_write_atomic). */
enum sl_err stor_offset_checkpoint_write(const char *path, const struct stor_tp_offset *entries,
                                         size_t count, char *err, size_t err_len) SL_MUST_USE;
/* Reads into a malloc'd array (*out owned by the caller, free()). SL_ENOENT missing;
 * SL_ECORRUPT (err names the line) for a bad version, count or line. */
enum sl_err stor_offset_checkpoint_read(const char *path, struct stor_tp_offset **out,
                                        size_t *count, char *err, size_t err_len) SL_MUST_USE;

/* leader-epoch-checkpoint: "0\n<count>\n" then "<epoch> <start offset>\n". */
struct stor_epoch_entry {
	int32_t epoch;
	int64_t start_offset;
};
enum sl_err stor_epoch_checkpoint_write(const char *path, const struct stor_epoch_entry *entries,
                                        size_t count, char *err, size_t err_len) SL_MUST_USE;
/* Reads at most cap entries (SL_ECORRUPT beyond); epochs and offsets must increase. */
enum sl_err stor_epoch_checkpoint_read(const char *path, struct stor_epoch_entry *out, size_t cap,
                                       size_t *count, char *err, size_t err_len) SL_MUST_USE;

/* partition.metadata: "version: 0\ntopic_id: <base64 uuid>\n" in the partition dir. */
enum sl_err stor_partition_metadata_write(const char *dir, const struct sl_uuid *topic_id,
                                          char *err, size_t err_len) SL_MUST_USE;
enum sl_err stor_partition_metadata_read(const char *dir, struct sl_uuid *topic_id, char *err,
                                         size_t err_len) SL_MUST_USE;

/* Splits a partition dir name "<topic>-<partition>" at its LAST '-'. SL_EINVAL if there is
 * no '-', the topic is empty or too long, or the partition is not a decimal int32 >= 0. */
enum sl_err stor_parse_partition_dir(const char *name, char *topic, size_t topic_len,
                                     int32_t *partition) SL_MUST_USE;

/* ---- a log on its own (log.c) --------------------------------------------------------- */
/* The log manager opens its partitions with these; the metadata log (raft) opens its one log
 * directly, outside any manager. */
struct stor_startup_report;
struct stor_log_open_args {
	const char *parent; /* the log dir */
	const char *topic;
	int32_t partition;
	const struct stor_log_config *cfg;
	int64_t recovery_point; /* 0 if unknown */
	int64_t log_start_offset;
	bool clean_shutdown;
	bool create; /* create the dir if missing */
};
/* Opens (recovering what is needed) or creates the partition dir. Blocking. rep accumulates
 * (may be NULL). */
enum sl_err stor_log_open(struct io_loop *loop, const struct stor_log_open_args *a,
                          struct stor_log **out, struct stor_startup_report *rep, char *err,
                          size_t err_len) SL_MUST_USE;
/* Clean-shutdown preparation (blocking; nothing may be in flight): fdatasyncs what is not
 * durable and writes the active segment's indexes; durable_offset = written_offset. */
enum sl_err stor_log_sync_all(struct stor_log *log);
/* Frees the log (stor_log_sync_all first when clean). Returns the first error. */
enum sl_err stor_log_close(struct stor_log *log, bool clean);

/* ---- log manager (log_manager.c) ------------------------------------------------------- */

struct stor_log_manager_opts {
	const char *const *log_dirs; /* borrowed during open; paths are copied */
	size_t log_dir_count;
	struct stor_log_config defaults;     /* log.* broker defaults for every topic */
	int64_t retention_check_interval_ms; /* log.retention.check.interval.ms, 300000 */
	int64_t checkpoint_interval_ms;      /* log.flush.offset.checkpoint.interval.ms, 60000 */
	int64_t flush_scheduler_interval_ms; /* log.flush.scheduler.interval.ms; how often the
	                                        flush.ms policy is checked (default 1000) */
	uint32_t max_partitions;             /* hard limit, default 100000 */
	bool start_timer; /* run tick on an io_timeout (false: tests call tick) */
};
void stor_log_manager_opts_init(struct stor_log_manager_opts *o);

/* What start-up found, for logs and the start-up measurements. */
struct stor_startup_report {
	uint32_t partitions;
	uint32_t segments;
	uint32_t segments_recovered; /* scanned because they were at/after the recovery point */
	uint64_t bytes_scanned;
	uint64_t bytes_truncated;
	uint32_t leftovers_removed; /* *.tmp, *.swap, *.cleaned, *.deleted, -delete dirs */
	bool clean_shutdown;        /* every dir had .kafka_cleanshutdown */
	int64_t elapsed_ms;
};

/* Opens every `<topic>-<partition>` dir in the log dirs (__cluster_metadata-0 is left to
 * raft), reading the checkpoints (segments at or after the recovery point are recovered;
 * after a clean shutdown none are), removing leftovers. Blocking: start-up time. The loop is
 * borrowed for the manager's lifetime. *out owned (stor_log_manager_close). rep may be NULL. */
enum sl_err stor_log_manager_open(struct io_loop *loop, const struct stor_log_manager_opts *o,
                                  struct stor_log_manager **out, struct stor_startup_report *rep,
                                  char *err, size_t err_len) SL_MUST_USE;
/* Replaces the per-topic overrides: keys/values of props applied over the defaults (SL_EINVAL
 * for a bad value, SL_ENOENT for an unknown key; err names it). Open logs of the topic take
 * the new config at once. props NULL removes the overrides. */
enum sl_err stor_log_manager_set_topic_config(struct stor_log_manager *m, const char *topic,
                                              const struct sl_props *props, char *err,
                                              size_t err_len) SL_MUST_USE;
/* The effective config of a topic. */
void stor_log_manager_topic_config(const struct stor_log_manager *m, const char *topic,
                                   struct stor_log_config *out);
/* Creates (or returns the existing) log for topic-partition in the log dir holding the fewest
 * partitions; writes partition.metadata when topic_id is not NULL. */
enum sl_err stor_log_manager_create(struct stor_log_manager *m, const char *topic,
                                    int32_t partition, const struct sl_uuid *topic_id,
                                    struct stor_log **out, char *err, size_t err_len) SL_MUST_USE;
/* NULL if absent. Borrowed until deleted or the manager closes. */
struct stor_log *stor_log_manager_get(const struct stor_log_manager *m, const char *topic,
                                      int32_t partition);
/* Number of logs, and the i-th (any order; changes on create/delete). */
size_t stor_log_manager_count(const struct stor_log_manager *m);
struct stor_log *stor_log_manager_at(const struct stor_log_manager *m, size_t i);
/* Deletes a partition: renames its dir to `<topic>-<partition>.<unique>-delete` and removes
 * it. Appends/flushes of the log must not be in flight (SL_EAGAIN). The log leaves the table
 * at once, but its segment fds stay open (unlinked files) until file.delete.delay.ms has
 * passed (closed by tick, or by close): file ranges already handed out stay readable. */
enum sl_err stor_log_manager_delete(struct stor_log_manager *m, const char *topic,
                                    int32_t partition, char *err, size_t err_len) SL_MUST_USE;
/* Periodic work at now_ms (wall clock): flush.ms policy, retention, checkpoints, reaping
 * deleted segments. Runs on its own timer when opts.start_timer; tests call it directly. */
void stor_log_manager_tick(struct stor_log_manager *m, int64_t now_ms);
/* Writes recovery-point-offset-checkpoint and log-start-offset-checkpoint in every dir. */
enum sl_err stor_log_manager_write_checkpoints(struct stor_log_manager *m, char *err,
                                               size_t err_len) SL_MUST_USE;
/* Closes the manager and frees every log. clean == false: runs the loop until no write or
 * flush round of any log is in flight (append / waiter callbacks may run), then frees
 * without shutdown work. clean == true (no appends in flight, else
 * SL_EAGAIN and nothing is closed): fdatasyncs what is not durable, writes every active
 * segment's indexes, the checkpoints and .kafka_cleanshutdown so the next start skips
 * recovery. Runs the loop until the manager's own ops are done; call it outside callbacks. */
enum sl_err stor_log_manager_close(struct stor_log_manager *m, bool clean, char *err,
                                   size_t err_len);

/* TEST ONLY: simulates a power loss. Requires that nothing of the manager is in flight.
 * Truncates every live segment file of every log to the size known durable at its last
 * completed fdatasync (recorded per file by the flush scheduler), then frees the manager
 * without writing indexes, checkpoints or the clean-shutdown marker. *dropped_bytes (may be
 * NULL) gets the number of bytes thrown away. */
void stor_log_manager_test_power_loss(struct stor_log_manager *m, uint64_t *dropped_bytes);

#endif
