/*
 * raft.h: the metadata log (L4): the one interface through which metadata records are written
 * and read back, `__cluster_metadata-0` in metadata.log.dir.
 *
 * Writers propose a batch of framed record values and get a callback once it is committed;
 * every committed batch is handed, in offset order, to the apply callback (before the
 * proposer's done callback). The implementation is the KRaft quorum: the pure state machine
 * raft/core/raft_core.h driven by quorum_*.c over the storage engine and the network; committed
 * = below the high watermark (a majority of voters hold it durably).
 *
 * On-disk format: an ordinary storage-engine log (Kafka segment layout); each batch is a
 * RecordBatch v2, uncompressed, partitionLeaderEpoch = the epoch, producer id/epoch/sequence
 * -1, CreateTime with every timestamp = append time, each record's key null and value =
 * ApiMessageAndVersion (metadata.h), at most RAFT_BATCH_RECORDS_MAX records.
 *
 * Start-up: open/recover the log and quorum-state; a single-voter quorum elects itself and
 * raft_open returns once everything in the log is committed and applied; with several voters
 * records are applied as they commit. The first leader of an empty log writes the records of
 * bootstrap.checkpoint (written by `sluice storage format`) right after its LeaderChange
 * record. A replay error (a record the image rejects) stops start-up / takes the log offline.
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
/* A proposal's end: err SL_OK and the offset of its last record; SL_ECANCELED when this node
 * lost the leadership before the batch committed (NOT_CONTROLLER: it may still commit under
 * the next leader); SL_EIO when the log went offline. */
typedef void raft_propose_done_fn(void *ctx, enum sl_err err, int64_t last_offset);

/* One voter of a static quorum (controller.quorum.voters). */
struct raft_voter {
	int32_t id;
	char host[256];
	uint16_t port;
};

#define RAFT_VOTERS_MAX 16

/* Snapshots. The committed image as framed records (for a snapshot at raft_end_offset()),
 * in arena memory. */
typedef enum sl_err raft_image_records_fn(void *ctx, struct sl_arena *arena,
                                          struct wire_bytes **values, size_t *count);
/* A snapshot is about to replace the state (begin = true: drop the current state; the
 * records then arrive through apply) or has been loaded (begin = false). */
typedef void raft_load_fn(void *ctx, bool begin);

struct raft_opts {
	struct io_loop *loop;     /* borrowed for the log's life */
	const char *metadata_dir; /* metadata.log.dir; copied */
	int32_t node_id;
	uint64_t segment_bytes; /* metadata.log.segment.bytes; 0 = 1 GiB */
	raft_apply_fn *apply;   /* required */
	void *apply_ctx;
	/* The quorum. voter_count 0 = a single-voter quorum of node_id (tests, local use). */
	const char *cluster_id; /* checked against Raft requests; NULL = not checked */
	struct raft_voter voters[RAFT_VOTERS_MAX];
	uint32_t voter_count;
	bool voters_required; /* voter_count 0 and no VotersRecord in bootstrap.checkpoint is an
	                       * error (SL_ECONFIG), not a single-voter quorum of node_id */
	/* The voters' listener name in DescribeQuorum v2 `nodes` (the first entry of
	 * controller.listener.names); "" = "CONTROLLER". */
	char listener_name[64];
	int64_t election_timeout_ms;          /* 0 = 1000 */
	int64_t fetch_timeout_ms;             /* 0 = 2000 */
	int64_t election_backoff_max_ms;      /* 0 = 1000 */
	int64_t request_timeout_ms;           /* 0 = 2000 */
	int64_t retry_backoff_ms;             /* 0 = 20 */
	int64_t noop_interval_ms;             /* metadata.max.idle.interval.ms: the active leader
	                                       * appends a NoOpRecord this often; 0 = never */
	int64_t snapshot_max_new_bytes;       /* metadata.log.max.record.bytes.between.snapshots;
	                                       * 0 = 20 MiB */
	int64_t snapshot_interval_ms;         /* metadata.log.max.snapshot.interval.ms; 0 = off */
	raft_image_records_fn *image_records; /* NULL = this node takes no snapshots */
	raft_load_fn *on_load;                /* required to install snapshots from the leader */
	void *snapshot_ctx;
};

/* Opens (or creates) the log, writes the bootstrap records when empty, replays everything
 * through apply. Blocking (start-up). *out owned: raft_close. err names the file and what. */
enum sl_err raft_open(const struct raft_opts *o, struct raft **out, char *err,
                      size_t err_len) SL_MUST_USE;

/* Proposes count framed values (copied) as one atomic batch. SL_OK: done runs exactly once,
 * later, from the loop (after apply ran for the batch). SL_EINVAL for count 0 or over
 * RAFT_BATCH_RECORDS_MAX records / RAFT_BATCH_BYTES_MAX, SL_EAGAIN when this node is not the
 * active leader (NOT_CONTROLLER), SL_EIO when the log is offline (no callback). */
enum sl_err raft_propose(struct raft *r, const struct wire_bytes *values, size_t count,
                         raft_propose_done_fn *done, void *ctx) SL_MUST_USE;

/* The offset after the last committed record. */
int64_t raft_end_offset(const struct raft *r);
/* The current epoch and leader (-1 = unknown). */
int32_t raft_epoch(const struct raft *r);
int32_t raft_leader_id(const struct raft *r);
/* True when this node is the active leader: it leads the current epoch and has applied
 * everything up to the epoch start, so raft_propose is accepted. */
bool raft_is_active(const struct raft *r);
/* Active leader: the offset the first record of the next raft_propose will get (the log end
 * including proposals in flight); -1 otherwise. Kafka's broker epoch is this offset. */
int64_t raft_next_offset(const struct raft *r);
/* "host:port" of voter id (the address this node sends Raft RPCs to: its controller listener),
 * or NULL when id is not a voter. Static storage of the log. */
const char *raft_voter_addr(const struct raft *r, int32_t id);
/* The voters' ids, ascending as configured; returns the count (<= cap written). */
size_t raft_voter_ids(const struct raft *r, int32_t *out, size_t cap);
/* True while proposals are in flight (the node waits for them before closing). */
bool raft_busy(const struct raft *r);

/* Serves one Raft RPC that arrived on a controller listener: Vote (52), BeginQuorumEpoch (53),
 * EndQuorumEpoch (54), DescribeQuorum (55), FetchSnapshot (59) and Fetch (1) of
 * __cluster_metadata. body is positioned at the request body (decoded here; arrays go to
 * body->arena). Returns SL_OK with the encoded response body appended to out (answered now),
 * SL_EAGAIN when the answer comes later through done (Fetch long poll; done gets the body,
 * valid during the call, or NULL when the node closes), SL_EMALFORMED for a body that does not
 * decode and SL_ECLOSED while the log closes (the caller closes the connection),
 * SL_EUNSUPPORTED for another api key. */
typedef void raft_rpc_done_fn(void *ctx, const uint8_t *body, size_t len);
enum sl_err raft_handle_rpc(struct raft *r, int16_t api_key, int16_t version,
                            struct wire_reader *body, struct sl_buf *out, raft_rpc_done_fn *done,
                            void *ctx) SL_MUST_USE;

/* Takes a snapshot of the applied state now (tests; normally size/time triggered). */
enum sl_err raft_snapshot_now(struct raft *r) SL_MUST_USE;
/* The latest snapshot's end offset (-1 = none). */
int64_t raft_snapshot_end(const struct raft *r);

/* The node is shutting down: a leader of a multi-voter quorum resigns now (EndQuorumEpoch, most
 * caught-up voter first; pending proposals fail with SL_ECANCELED), so the next leader is
 * elected at once rather than after a fetch timeout. Idempotent; raft_close calls it too. */
void raft_shutdown(struct raft *r);

/* Closes the log (clean: fsync + checkpoints when nothing is in flight). */
void raft_close(struct raft *r);

#endif
