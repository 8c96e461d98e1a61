/*
 * raft_core.h: the KRaft consensus state machine (L1), pure: no I/O, no clock, no randomness of
 * its own (time is an argument, randomness a seeded generator inside the state), no allocation
 * after raft_core_init (every buffer is supplied by the caller). The same object code runs in
 * the node (raft/ driver) and in the deterministic simulator (tests/sim).
 *
 * Semantics are KIP-595 as in kraft.md §3, with pre-vote (KIP-996):
 *   - roles: unattached, prospective (pre-vote, epoch unchanged, nothing persisted),
 *     candidate (epoch + 1, votes for itself), leader, follower, resigned; observers (nodes not
 *     in the voter set) are only ever unattached or follower and never vote;
 *   - a vote is granted only to a log at least as up to date, (last epoch, end offset) compared
 *     epoch first, and only after the vote is persisted (ready.persist comes before the reply);
 *   - replication is pull-based: followers and observers send Fetch; the leader learns a voter's
 *     durable end from its FetchOffset; the high watermark is the majority value of voters'
 *     durable ends (the leader's own counts only once flushed), adopted only above the epoch
 *     start offset and never moving backwards;
 *   - a new leader first appends a LeaderChange control record (one record at the epoch start
 *     offset); DivergingEpoch tells a follower where to truncate; a follower never truncates
 *     below its high watermark (the core treats that as fatal: raft_core_failed());
 *   - BeginQuorumEpoch on election (repeated to voters that have not fetched), EndQuorumEpoch
 *     with preferred successors on graceful resignation, check-quorum (a leader that hears from
 *     no majority of voters within 1.5 x fetch timeout resigns);
 *   - a fetch below the log start (or at offset 0 when a snapshot exists) is redirected to the
 *     latest snapshot; the follower downloads it with FetchSnapshot and installs it.
 *
 * Protocol with the caller (the "ready loop"), strictly in this order after any call that can
 * change the state (init, step, tick, propose, log_flushed, resign, snapshot calls):
 *     raft_core_ready(rc, &rd);
 *     1. rd.persist: write rd.hard_state durably (quorum-state; fsync) before anything below;
 *     2. rd.truncate_to >= 0: truncate the log so that its end offset is rd.truncate_to;
 *     3. rd.leader_change: append one LeaderChange control batch (1 record) at
 *        rd.leader_change_offset with epoch rd.epoch;
 *        rd.append_count > 0: append the first rd.append_count batches of the FetchResponse just
 *        stepped (they start at the log end offset); appends need not be durable yet;
 *     4. rd.snapshot_write / rd.snapshot_install: see the fields;
 *     5. send rd.msgs[0 .. rd.msg_count) (for a FetchResponse with records_from >= 0 the driver
 *        attaches the log's batches from that offset, up to the request's max bytes; for a
 *        FetchSnapshotResponse without error it attaches snapshot bytes from .position);
 *     6. rd.high_watermark is the committed end: records below it may be applied;
 *     7. raft_core_advance(rc) (clears the outbox and the flags).
 * When the log becomes durable up to some end offset the caller reports it with
 * raft_core_log_flushed() (followers send their next Fetch only after that; the leader counts
 * its own end towards the high watermark only after that).
 *
 * Errors at the message level are Kafka error codes (WIRE_ERR_* values, as plain int16_t here:
 * this layer does not include the wire codec). Requests are answered by the core; responses are
 * matched by req_id (a response whose req_id is not the outstanding one is ignored), so loss,
 * duplication and reordering are harmless. When the outbox is full a message is dropped (and
 * counted): every message is retried by a timer, so dropping is safe.
 */
#ifndef SL_RAFT_CORE_H
#define SL_RAFT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAFT_CORE_VOTERS_MAX 16
#define RAFT_CORE_OBSERVERS_MAX 64
#define RAFT_CORE_NONE (-1)

/* Kafka error codes used by the core (same values as kerr.h). */
#define RC_ERR_NONE 0
#define RC_ERR_NOT_LEADER_OR_FOLLOWER 6
#define RC_ERR_BROKER_NOT_AVAILABLE 8
#define RC_ERR_INVALID_REQUEST 42
#define RC_ERR_FENCED_LEADER_EPOCH 74
#define RC_ERR_UNKNOWN_LEADER_EPOCH 75
#define RC_ERR_SNAPSHOT_NOT_FOUND 98
#define RC_ERR_POSITION_OUT_OF_RANGE 99

enum raft_role {
	RAFT_UNATTACHED,
	RAFT_PROSPECTIVE,
	RAFT_CANDIDATE,
	RAFT_LEADER,
	RAFT_FOLLOWER,
	RAFT_RESIGNED,
};
const char *raft_role_name(enum raft_role r);

/* What quorum-state holds (kraft.md §1.5): persisted before it is acted on. */
struct raft_hard_state {
	int32_t epoch;
	int32_t voted_id;  /* RAFT_CORE_NONE = no vote in this epoch */
	int32_t leader_id; /* RAFT_CORE_NONE = unknown */
};

/* One leader-epoch cache entry: epoch `epoch` starts at offset `start_offset`. */
struct raft_epoch_entry {
	int32_t epoch;
	int64_t start_offset;
};

/* Snapshot id (kraft.md §3.9): end_offset = last contained offset + 1, epoch of that record. */
struct raft_snapshot_id {
	int64_t end_offset; /* -1 = none */
	int32_t epoch;
};

/* A batch header of records carried in a FetchResponse (the payload stays with the caller). */
struct raft_batch {
	int64_t base_offset;
	int64_t last_offset;
	int32_t epoch; /* partitionLeaderEpoch */
};

enum raft_msg_type {
	RAFT_VOTE_REQ,
	RAFT_VOTE_RESP,
	RAFT_BEGIN_REQ, /* BeginQuorumEpoch */
	RAFT_BEGIN_RESP,
	RAFT_END_REQ, /* EndQuorumEpoch */
	RAFT_END_RESP,
	RAFT_FETCH_REQ,
	RAFT_FETCH_RESP,
	RAFT_SNAP_REQ, /* FetchSnapshot */
	RAFT_SNAP_RESP,
};
const char *raft_msg_type_name(enum raft_msg_type t);

/* One message in or out. Fields not listed for a type are ignored on input and zero/-1 on
 * output. `epoch`: Vote req = candidate epoch (pre-vote: the current epoch); Begin/End req =
 * leader epoch; Fetch/FetchSnapshot req = CurrentLeaderEpoch; every response = the responder's
 * epoch, with `leader_id` = the leader it knows (-1). */
struct raft_msg {
	enum raft_msg_type type;
	int32_t from;
	int32_t to;
	uint64_t req_id; /* chosen by the requester, echoed by the response */
	int16_t error;   /* responses: Kafka error code */
	int32_t epoch;
	int32_t leader_id;
	/* Vote */
	bool pre_vote;
	int32_t last_epoch;  /* req: epoch of the candidate's last record */
	int64_t last_offset; /* req: the candidate's log end offset */
	bool granted;        /* resp */
	/* EndQuorumEpoch req: other voters, most caught-up first */
	int32_t successors[RAFT_CORE_VOTERS_MAX];
	uint32_t successor_count;
	/* Fetch req */
	int64_t fetch_offset;
	int32_t last_fetched_epoch;
	int64_t max_wait_ms;
	/* Fetch resp */
	int64_t high_watermark;
	int64_t log_start;
	int32_t diverging_epoch; /* -1 = none */
	int64_t diverging_end_offset;
	struct raft_snapshot_id snapshot_id; /* Fetch resp: redirect; FetchSnapshot req/resp: id */
	int64_t records_from;                /* output: attach batches from this offset; -1 none */
	const struct raft_batch *batches;    /* input: the batches received (borrowed) */
	uint32_t batch_count;
	/* FetchSnapshot */
	int64_t position;  /* req: bytes already held; resp: offset of the chunk */
	int64_t size;      /* resp: total snapshot bytes */
	int64_t chunk_len; /* resp input: bytes in the chunk */
};

struct raft_core_config {
	int32_t node_id;
	int32_t voters[RAFT_CORE_VOTERS_MAX]; /* the static voter set (distinct ids) */
	uint32_t voter_count;                 /* >= 1 */
	int64_t election_timeout_ms;          /* 1000: timer = base + uniform[0, base) */
	int64_t fetch_timeout_ms;             /* 2000 */
	int64_t election_backoff_max_ms;      /* 1000 */
	int64_t request_timeout_ms;           /* 2000: resend an unanswered request */
	int64_t retry_backoff_ms;             /* 20 */
	int64_t fetch_max_wait_ms;            /* 500: MaxWaitMs of our Fetch requests */
	bool pre_vote;                        /* true: KIP-996 */
	uint64_t seed;                        /* randomised timers */
	/* Caller-supplied buffers, owned by the caller for the core's life. */
	struct raft_epoch_entry *epoch_buf; /* leader-epoch cache, capacity epoch_cap >= 2 */
	uint32_t epoch_cap;
	struct raft_msg *out_buf; /* outbox, capacity out_cap >= 2 * voter_count */
	uint32_t out_cap;
	uint32_t canary; /* RAFT_CANARY_* bits; honoured only when built with RAFT_CORE_CANARIES */
};

/* Deliberate bugs for the simulator's checker self-test (only with RAFT_CORE_CANARIES). */
#define RAFT_CANARY_VOTE_NOT_PERSISTED 1u   /* reply VoteGranted before persisting */
#define RAFT_CANARY_HW_BEFORE_EPOCH 2u      /* adopt a HW at or below the epoch start */
#define RAFT_CANARY_TRUNCATE_BELOW_HW 4u    /* follower truncates below its HW on divergence */
#define RAFT_CANARY_STALE_EPOCH_FETCH 8u    /* leader serves a fetch with a stale epoch */
#define RAFT_CANARY_LEADER_UNFLUSHED_HW 16u /* leader counts its unflushed end in the HW */

/* The durable log as found at start-up (after recovery everything on disk is durable). */
struct raft_log_state {
	int64_t start_offset;                  /* log start (= snapshot end after compaction) */
	int64_t end_offset;                    /* log end offset */
	struct raft_snapshot_id snapshot;      /* latest snapshot, end_offset -1 = none */
	int64_t snapshot_size;                 /* its bytes */
	const struct raft_epoch_entry *epochs; /* epochs of the log, ascending (copied) */
	uint32_t epoch_count;
};

struct raft_ready {
	bool persist;
	struct raft_hard_state hard_state;
	int64_t truncate_to; /* -1 = none */
	bool leader_change;
	int64_t leader_change_offset;
	uint32_t append_count;
	/* Write rd.snapshot_len bytes of the FetchSnapshotResponse just stepped at
	 * rd.snapshot_position of <id>.checkpoint.part (position 0 = start a new .part). */
	bool snapshot_write;
	int64_t snapshot_position;
	int64_t snapshot_len;
	/* The .part of rd.snapshot is complete: rename it, truncate the log fully (start = end =
	 * snapshot end offset), load the state machine from it, then call
	 * raft_core_snapshot_installed(). */
	bool snapshot_install;
	struct raft_snapshot_id snapshot;
	const struct raft_msg *msgs;
	uint32_t msg_count;
	int64_t high_watermark; /* -1 = not known yet */
	/* Current role (always filled); role_changed when it changed since the last advance. */
	enum raft_role role;
	bool role_changed;
	int32_t epoch;
	int32_t leader_id;
	int64_t epoch_start_offset; /* leader: its LeaderChange offset; else -1 */
};

/* Per-replica progress as the leader sees it (DescribeQuorum). */
struct raft_replica_state {
	int32_t id;
	int64_t log_end_offset;    /* -1 = unknown */
	int64_t last_fetch_ms;     /* -1 = never */
	int64_t last_caught_up_ms; /* -1 = never */
};

struct raft_core;

/* Bytes the caller must provide for a core (static storage is fine). */
size_t raft_core_size(void);

/* Initialises rc (raft_core_size() bytes, caller-owned) from the config, the persisted hard
 * state and the durable log. Returns false (with a reason in err) for an invalid config or
 * state: voter_count 0 or over the maximum, duplicate voters, buffers too small, epochs not
 * ascending, end < start, a snapshot beyond the end, more epochs than epoch_cap. A single voter
 * becomes leader at once (visible in the first ready). */
bool raft_core_init(struct raft_core *rc, const struct raft_core_config *cfg,
                    const struct raft_hard_state *hs, const struct raft_log_state *log, int64_t now,
                    char *err, size_t err_len);

/* Delivers one message addressed to this node. */
void raft_core_step(struct raft_core *rc, int64_t now, const struct raft_msg *m);
/* Fires every timer due at now (elections, fetch timeouts, resends, long-poll expiry, check
 * quorum, BeginQuorumEpoch repeats). */
void raft_core_tick(struct raft_core *rc, int64_t now);
/* The earliest time a timer is due (the caller ticks then at the latest). */
int64_t raft_core_next_deadline(const struct raft_core *rc);

/* Leader only: reserves offsets for one batch of `records` records in the current epoch.
 * Returns false when not leader (or resigned). On true *base_offset / *epoch are where the
 * caller appends the batch (before the next call into the core). */
bool raft_core_propose(struct raft_core *rc, int64_t now, uint32_t records, int64_t *base_offset,
                       int32_t *epoch);
/* The log is durable up to end_offset (monotone per log; values below the current durable end
 * after a truncation are accepted). */
void raft_core_log_flushed(struct raft_core *rc, int64_t now, int64_t end_offset);
/* Leader: resign gracefully (EndQuorumEpoch to the other voters, most caught-up first). */
void raft_core_resign(struct raft_core *rc, int64_t now);
/* A snapshot was written locally (end_offset <= high watermark) with `size` bytes. */
void raft_core_snapshot_taken(struct raft_core *rc, struct raft_snapshot_id id, int64_t size);
/* Log segments below start_offset were deleted (start_offset <= latest snapshot end). */
void raft_core_log_start_advanced(struct raft_core *rc, int64_t start_offset);
/* The snapshot of ready.snapshot_install was installed (log start = end = id.end_offset). */
void raft_core_snapshot_installed(struct raft_core *rc, int64_t now, struct raft_snapshot_id id,
                                  int64_t size);

void raft_core_ready(const struct raft_core *rc, struct raft_ready *out);
void raft_core_advance(struct raft_core *rc);

/* Accessors. */
enum raft_role raft_core_role(const struct raft_core *rc);
int32_t raft_core_epoch(const struct raft_core *rc);
int32_t raft_core_leader_id(const struct raft_core *rc);
int64_t raft_core_high_watermark(const struct raft_core *rc); /* -1 = unknown */
int64_t raft_core_end_offset(const struct raft_core *rc);
int64_t raft_core_durable_end(const struct raft_core *rc);
int64_t raft_core_log_start(const struct raft_core *rc);
int32_t raft_core_last_epoch(const struct raft_core *rc);
bool raft_core_is_voter(const struct raft_core *rc);
struct raft_hard_state raft_core_hard_state(const struct raft_core *rc);
/* The end offset of the largest epoch <= epoch in the local log (and that epoch), as used for
 * DivergingEpoch; false when the log has no such epoch. */
bool raft_core_epoch_end(const struct raft_core *rc, int32_t epoch, int32_t *found_epoch,
                         int64_t *end_offset);
/* Leader: progress of voters (first, leader included) and observers; returns the number
 * written (at most cap). Others: 0. */
uint32_t raft_core_replicas(const struct raft_core *rc, int64_t now, struct raft_replica_state *out,
                            uint32_t cap, uint32_t *voter_count);
/* Messages dropped because the outbox was full. */
uint64_t raft_core_dropped(const struct raft_core *rc);
/* True once the core hit an unrecoverable condition (asked to truncate below its high
 * watermark); it then stops doing anything. The reason is in raft_core_failure(). */
bool raft_core_failed(const struct raft_core *rc);
const char *raft_core_failure(const struct raft_core *rc);

/* Asserts every invariant of the current state (SL_ASSERT-style abort on violation). */
void raft_check_invariants(const struct raft_core *rc);

#endif
