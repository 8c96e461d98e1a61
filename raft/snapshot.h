/*
 * snapshot.h: KRaft snapshot files (KIP-630; kraft.md §3.9, §1.4-1.5), also the format of
 * bootstrap.checkpoint. Blocking POSIX I/O (start-up, snapshot generation off the hot path,
 * FetchSnapshot chunks, the CLI).
 *
 * A snapshot with id (end_offset, epoch) lives in the metadata partition directory
 * (`<metadata.log.dir>/__cluster_metadata-0`) as `%020lld-%010d.checkpoint`. Its bytes are
 * RecordBatch v2 batches, uncompressed, offsets counting from 0 across batches,
 * partitionLeaderEpoch = the snapshot epoch, producer fields -1, CreateTime with every
 * timestamp = the append time:
 *   1. a control batch [SnapshotHeaderRecord{0, last_contained_log_timestamp}
 *      (+ KRaftVersionRecord + VotersRecord when a voter set is given)],
 *   2. data batches of framed metadata records, each <= RAFT_BATCH_RECORDS_MAX records and
 *      <= RAFT_BATCH_BYTES_MAX bytes,
 *   3. a control batch [SnapshotFooterRecord{0}].
 *
 * Invariants: a file under a `.checkpoint` name is complete and durable (written as
 * `.checkpoint.part`, fsynced, validated, renamed, directory fsynced); readers check every
 * CRC, that the header comes first and the footer last with nothing after it, and report
 * anything else as SL_ECORRUPT with the path and byte position in err. Nothing read from a
 * file is trusted for sizing beyond RAFT_BATCH_BYTES_MAX per batch.
 */
#ifndef SL_RAFT_SNAPSHOT_H
#define SL_RAFT_SNAPSHOT_H

#include "base.h"
#include "batch.h"
#include "raft.h"
#include "raft_core.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAFT_SNAPSHOT_SUFFIX ".checkpoint"
#define RAFT_SNAPSHOT_PART_SUFFIX ".checkpoint.part"
#define RAFT_SNAPSHOT_DELETED_SUFFIX ".checkpoint.deleted"
#define RAFT_SNAPSHOT_NAME_LEN 42 /* 20 digits '-' 10 digits ".checkpoint" */
#define RAFT_SNAPSHOT_PATH_MAX 1200

/* struct raft_snapshot_id (raft_core.h): EndOffset = last contained offset + 1, Epoch of the
 * last contained record. */

/* One voter for the header batch's VotersRecord (KIP-853). */
struct raft_snapshot_voter {
	int32_t id;
	struct sl_uuid directory_id;
	const char *listener; /* endpoint name, e.g. controller.listener.names[0] */
	const char *host;
	uint16_t port;
	int16_t min_kraft_version;
	int16_t max_kraft_version;
};

/* What goes around the data. */
struct raft_snapshot_opts {
	int32_t epoch;                    /* partitionLeaderEpoch of every batch */
	int64_t last_contained_timestamp; /* SnapshotHeaderRecord.LastContainedLogTimestamp */
	int64_t append_time_ms;           /* the batches' timestamps */
	int16_t kraft_version;            /* KRaftVersionRecord, written only with voters */
	const struct raft_snapshot_voter *voters; /* NULL / 0: no KRaftVersion / Voters records */
	size_t voter_count;
};

/* Appends the complete snapshot bytes (header batch, data batches of values[0..count),
 * footer) to out. values are framed records (borrowed); count may be 0. SL_EINVAL for a
 * value over RAFT_BATCH_BYTES_MAX or a negative length, SL_ENOMEM when out overflows. */
enum sl_err raft_snapshot_build(struct sl_buf *out, const struct raft_snapshot_opts *o,
                                const struct wire_bytes *values, size_t count) SL_MUST_USE;

/* `<dir>/<%020lld-%010d>.checkpoint` into out. false when it does not fit. */
bool raft_snapshot_path(char *out, size_t out_len, const char *dir, struct raft_snapshot_id id);
/* Parses a file name "<20 digits>-<10 digits>.checkpoint" (exactly; no path). */
bool raft_snapshot_parse_name(const char *name, struct raft_snapshot_id *out);

/* Writes snapshot id into dir (which must exist): streamed into `<name>.checkpoint.part`,
 * fsynced, validated, renamed, dir fsynced. An existing snapshot with that id is replaced.
 * Errors (err names the file and step): SL_EIO / SL_ENOSPC / SL_EACCES / ..., SL_EINVAL as
 * raft_snapshot_build. The .part file is removed on failure. */
enum sl_err raft_snapshot_write(const char *dir, struct raft_snapshot_id id,
                                const struct raft_snapshot_opts *o, const struct wire_bytes *values,
                                size_t count, char *err, size_t err_len) SL_MUST_USE;

/* Lists the snapshots of dir, ascending (end_offset, epoch), into *ids (malloc'd, caller
 * frees; NULL when none). With cleanup (start-up, as Kafka does), stray `.checkpoint.part`
 * and `.checkpoint.deleted` files are removed first. SL_ENOENT when dir does not exist. */
enum sl_err raft_snapshot_list(const char *dir, bool cleanup, struct raft_snapshot_id **ids,
                               size_t *count, char *err, size_t err_len) SL_MUST_USE;

/* Removes snapshot id from dir and fsyncs dir. SL_ENOENT when absent. */
enum sl_err raft_snapshot_delete(const char *dir, struct raft_snapshot_id id, char *err,
                                 size_t err_len) SL_MUST_USE;

/* ---- reading ----------------------------------------------------------------------------- */

/* What a read found besides the data. */
struct raft_snapshot_info {
	int64_t last_contained_timestamp; /* SnapshotHeaderRecord */
	int32_t epoch;                    /* partitionLeaderEpoch of the header batch */
	int16_t kraft_version;            /* KRaftVersionRecord, -1 when absent */
	bool has_voters;                  /* a VotersRecord was present (see control callback) */
	int64_t next_offset;              /* after the footer's batch */
	int64_t data_records;             /* records in data batches */
	int64_t size;                     /* file bytes */
};

/* Every batch, validated (CRC, lengths, uncompressed) and in order, borrowed for the call.
 * A non-OK return stops the read with that error (and err, if the callback set it). */
typedef enum sl_err raft_snapshot_batch_fn(void *ctx, const struct stor_batch_view *v, char *err,
                                           size_t err_len);

/* Walks the file at path batch by batch (one batch in memory at a time), checking the
 * snapshot structure: the first batch is a control batch starting with a SnapshotHeader
 * (then optionally KRaftVersion / Voters), then data batches, and a control batch holding
 * the SnapshotFooter ends the file; offsets are contiguous from 0 and data record values are
 * not null. fn (may be NULL) sees each batch as soon as it is checked, so on error the caller
 * drops whatever it built. info (may be NULL) is filled on SL_OK. Errors: SL_ENOENT, SL_EIO,
 * SL_ECORRUPT (bad CRC, truncated, missing header or footer, bytes after the footer, ...),
 * SL_ENOMEM; err names the path and the byte position. */
enum sl_err raft_snapshot_read_batches(const char *path, raft_snapshot_batch_fn *fn, void *ctx,
                                       struct raft_snapshot_info *info, char *err,
                                       size_t err_len) SL_MUST_USE;

/* As raft_snapshot_read_batches, handing each data batch to apply as record values with its
 * base offset (control batches are checked, not passed). apply's error stops the read. */
enum sl_err raft_snapshot_read(const char *path, raft_apply_fn *apply, void *ctx,
                               struct raft_snapshot_info *info, char *err,
                               size_t err_len) SL_MUST_USE;

/* ---- chunked transfer (FetchSnapshot) --------------------------------------------------- */

/* A frozen snapshot opened for serving byte ranges. */
struct raft_snapshot_file {
	int fd; /* -1 when closed; usable for zero-copy sends */
	int64_t size;
};

/* Opens snapshot id of dir read-only. SL_ENOENT when absent (SNAPSHOT_NOT_FOUND). */
enum sl_err raft_snapshot_open(const char *dir, struct raft_snapshot_id id,
                               struct raft_snapshot_file *f, char *err, size_t err_len) SL_MUST_USE;
/* Reads up to len bytes at position into buf (*got = min(len, size - position)).
 * SL_EINVAL for position < 0 or > size (POSITION_OUT_OF_RANGE), SL_EIO on read errors. */
enum sl_err raft_snapshot_read_at(const struct raft_snapshot_file *f, int64_t position,
                                  uint8_t *buf, size_t len, size_t *got) SL_MUST_USE;
void raft_snapshot_close(struct raft_snapshot_file *f);

/* A snapshot being received (or written): `<name>.checkpoint.part`. */
struct raft_snapshot_part {
	int fd; /* -1 when closed */
	int64_t size;
	struct raft_snapshot_id id;
	char dir[RAFT_SNAPSHOT_PATH_MAX];
	char path[RAFT_SNAPSHOT_PATH_MAX]; /* the .part file */
};

/* Creates (truncating any earlier one) the .part file of id in dir. */
enum sl_err raft_snapshot_part_open(struct raft_snapshot_part *p, const char *dir,
                                    struct raft_snapshot_id id, char *err,
                                    size_t err_len) SL_MUST_USE;
/* Appends a chunk at position, which must equal p->size (FetchSnapshot asks for
 * Position = bytes so far): SL_EINVAL otherwise; SL_EIO / SL_ENOSPC on write errors. */
enum sl_err raft_snapshot_part_write_at(struct raft_snapshot_part *p, int64_t position,
                                        const uint8_t *data, size_t len, char *err,
                                        size_t err_len) SL_MUST_USE;
/* Validates the .part (raft_snapshot_read_batches; info may be NULL), fsyncs it, renames it to
 * its .checkpoint name and fsyncs the dir; closes p. On any error the .part is removed and p
 * closed (SL_ECORRUPT for a bad snapshot). */
enum sl_err raft_snapshot_part_freeze(struct raft_snapshot_part *p, struct raft_snapshot_info *info,
                                      char *err, size_t err_len) SL_MUST_USE;
/* Closes p and removes the .part file (a download given up). No-op when closed. */
void raft_snapshot_part_abort(struct raft_snapshot_part *p);

#endif
