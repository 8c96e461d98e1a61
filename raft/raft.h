/*
 * raft.h: the metadata log (L4): the one interface through which metadata records are written
 * and read back, `__cluster_metadata-0` in metadata.log.dir.
 *
 * Writers propose a batch of framed record values and get a callback once it is committed;
 * every committed batch is handed, in offset order, to the apply callback (before the
 * proposer's done callback). In this issue the implementation is a local single-node log
 * (local_log.c): committed = appended and fdatasynced. The Raft issue replaces the
 * implementation behind this header with the quorum; callers and the on-disk format stay.
 *
 * On-disk format: an ordinary storage-engine log (Kafka segment layout); each batch is a
 * RecordBatch v2, uncompressed, partitionLeaderEpoch = the epoch, producer id/epoch/sequence
 * -1, CreateTime with every timestamp = append time, each record's key null and value =
 * ApiMessageAndVersion (metadata.h), at most RAFT_BATCH_RECORDS_MAX records.
 *
 * Start-up: open/recover the log; if it is empty, write the records of bootstrap.checkpoint
 * (written by `sluice storage format`) as the first batch(es), durably; then replay every
 * batch through apply. A replay error (a record the image rejects) stops start-up.
 */
#ifndef SL_RAFT_H
#define SL_RAFT_H

#include "base.h"
#include "io.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct raft;

#define RAFT_BATCH_RECORDS_MAX 10000    /* kraft.md §4.1 */
#define RAFT_BATCH_BYTES_MAX (8u << 20) /* 8 MiB */

/* One committed batch: values[i] is the record at base_offset + i; control records are not
 * passed. Memory is borrowed for the call. A non-OK return during start-up replay fails
 * raft_open with err; after start-up it takes the log offline (the node must stop). */
typedef enum sl_err raft_apply_fn(void *ctx, int64_t base_offset, const struct wire_bytes *values,
                                  size_t count, char *err, size_t err_len);
/* A proposal's end: err SL_OK and the offset of its last record, or an error (log offline). */
typedef void raft_propose_done_fn(void *ctx, enum sl_err err, int64_t last_offset);

struct raft_opts {
	struct io_loop *loop;     /* borrowed for the log's life */
	const char *metadata_dir; /* metadata.log.dir; copied */
	int32_t node_id;
	uint64_t segment_bytes; /* metadata.log.segment.bytes; 0 = 1 GiB */
	raft_apply_fn *apply;   /* required */
	void *apply_ctx;
};

/* Opens (or creates) the log, writes the bootstrap records when empty, replays everything
 * through apply. Blocking (start-up). *out owned: raft_close. err names the file and what. */
enum sl_err raft_open(const struct raft_opts *o, struct raft **out, char *err,
                      size_t err_len) SL_MUST_USE;

/* Proposes count framed values (copied) as one atomic batch. SL_OK: done runs exactly once,
 * later, from the loop (after apply ran for the batch). SL_EINVAL for count 0 or over
 * RAFT_BATCH_RECORDS_MAX records / RAFT_BATCH_BYTES_MAX, SL_EIO when the log is offline (no
 * callback). */
enum sl_err raft_propose(struct raft *r, const struct wire_bytes *values, size_t count,
                         raft_propose_done_fn *done, void *ctx) SL_MUST_USE;

/* The offset after the last committed record. */
int64_t raft_end_offset(const struct raft *r);
/* The current epoch and leader (the local log: epoch from quorum-state or 1, leader = self). */
int32_t raft_epoch(const struct raft *r);
int32_t raft_leader_id(const struct raft *r);
/* True while proposals are in flight (the node waits for them before closing). */
bool raft_busy(const struct raft *r);

/* Closes the log (clean: fsync + checkpoints when nothing is in flight). */
void raft_close(struct raft *r);

#endif
