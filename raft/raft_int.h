/*
 * raft_int.h: private to raft/. The quorum driver: one raft_core (raft/core) driven over the
 * storage engine (`__cluster_metadata-0`), quorum-state and the network.
 *
 * Files: quorum_open.c (open, quorum-state, bootstrap, voters of a dynamic quorum, shutdown,
 * close), quorum_loop.c (the ready loop, timer, appends, flushes, apply, proposals, NoOp),
 * quorum_rpc.c (inbound request ids, parked answers, outbound peers), quorum_codec.c (wire <->
 * raft_msg for every Raft RPC), quorum_snap.c (taking, loading, serving and installing
 * snapshots; retention), batch_util.c (building and reading metadata batches).
 *
 * Invariants:
 *   - hard state is persisted (quorum-state written and fsynced) before any message of the same
 *     ready leaves the node;
 *   - applied <= high watermark; every data batch below `applied` has been passed to apply once,
 *     in offset order;
 *   - props is in offset order; a proposal is finished (done called) exactly once: when its
 *     last offset is applied, or with SL_ECANCELED when the node stops leading, or SL_EIO;
 *   - at most one durable wait is outstanding (flush_pending) and the core is told only offsets
 *     the storage engine reported durable.
 */
#ifndef SL_RAFT_INT_H
#define SL_RAFT_INT_H

#include "raft.h"
#include "raft_core.h"
#include "snapshot.h"
#include "storage.h"

struct net_peer;

#define RAFT_PATH_BYTES 1024
/* Upper bound of one record's framing inside a batch (length, attributes, deltas, key and
 * value lengths, header count), used to keep a batch under RAFT_BATCH_BYTES_MAX. */
#define RAFT_RECORD_OVERHEAD_MAX 32
#define RAFT_QUORUM_STATE_NAME "quorum-state"
#define RAFT_EPOCH_CAP 4096
#define RAFT_OUTBOX_CAP 256
#define RAFT_FETCH_MAX_BYTES (8u << 20)

/* A proposal or a follower append handed to storage. */
struct raft_append {
	struct raft *r;
	struct raft_append *next;
	struct stor_append app;
	bool is_proposal;
	bool appended; /* storage callback ran */
	bool finished; /* done called (proposals) */
	int64_t last_offset;
	raft_propose_done_fn *done;
	void *ctx;
	size_t len;
	uint8_t batch[];
};

/* What an answer needs to know about the request it answers. */
struct raft_rpc_call {
	int16_t api_key;
	int16_t version;
	int32_t max_bytes; /* Fetch / FetchSnapshot */
};

/* An outbound request in flight (the context of its net_peer callback). */
struct raft_out {
	struct raft *r;
	enum raft_msg_type type;
	int32_t to;
	uint64_t req_id;
};

/* An inbound request the core has not answered yet (Fetch long poll). */
struct raft_inbound {
	uint64_t req_id;
	int16_t api_key;
	int16_t version;
	int32_t max_bytes;
	raft_rpc_done_fn *done;
	void *ctx;
	struct raft_inbound *next;
};

struct raft_peer {
	int32_t id;
	char addr[300];
	struct net_peer *peer; /* NULL until first use */
};

struct raft {
	struct io_loop *loop;
	struct stor_log *log;
	char metadata_dir[RAFT_PATH_BYTES];
	char dir[RAFT_PATH_BYTES]; /* <metadata_dir>/__cluster_metadata-0 */
	char cluster_id[64];
	int32_t node_id;
	raft_apply_fn *apply;
	void *apply_ctx;

	struct raft_core *core;
	struct raft_core_config cfg;
	struct raft_epoch_entry epochs[RAFT_EPOCH_CAP];
	struct raft_msg outbox[RAFT_OUTBOX_CAP];
	struct raft_hard_state persisted;

	struct raft_peer peers[RAFT_VOTERS_MAX];
	uint32_t peer_count;
	char self_addr[300]; /* this node's address as a voter ("" when not one) */
	/* Every configured voter (self too) with its host and port, as configured, for
	 * DescribeQuorum v2 `nodes`; empty for the implicit single-voter quorum. */
	struct raft_voter voter_addrs[RAFT_VOTERS_MAX];
	uint32_t voter_addr_count;
	char listener_name[64]; /* raft_opts.listener_name, "CONTROLLER" when not set */

	int64_t applied;     /* offset after the last applied batch */
	int64_t hw;          /* last high watermark seen in a ready (-1 unknown) */
	enum raft_role role; /* last role seen in a ready */
	int32_t epoch;
	int32_t leader_id;
	int64_t epoch_start; /* leader: the LeaderChange offset, else -1 */
	bool active;         /* leader and applied past the epoch start */
	bool data_seen;      /* a data batch was applied (else the leader bootstraps) */
	bool offline;
	enum sl_err offline_err; /* apply's error when that took the log offline, else SL_OK */
	char offline_why[512];
	bool closing;
	int64_t noop_interval_ms;
	int64_t last_propose_ms;

	/* Snapshots (quorum_snap.c). */
	raft_image_records_fn *image_records;
	raft_load_fn *on_load;
	void *snapshot_ctx;
	int64_t snapshot_max_new_bytes;
	int64_t snapshot_interval_ms;
	struct raft_snapshot_id snap; /* latest local snapshot (-1 = none) */
	int64_t snap_size;
	int64_t bytes_since_snapshot; /* applied batch bytes since it */
	int64_t last_snapshot_ms;
	int32_t applied_epoch;          /* epoch of the last applied batch */
	int64_t applied_ts;             /* its max timestamp */
	struct raft_snapshot_part part; /* a download in progress (fd -1 = none) */
	bool install_pending;           /* ready asked to install install_id */
	/* KRaftVersionRecord / VotersRecord of the bootstrap snapshot (dynamic quorums): the first
	 * leader of the log writes them as a control batch (kraft.md §3.6). */
	uint8_t boot_ctrl[2][4096];
	size_t boot_ctrl_len[2];
	uint16_t boot_ctrl_type[2];
	size_t boot_ctrl_count;
	struct raft_snapshot_id install_id;
	bool in_ready; /* re-entrancy guard of raft_process */

	struct raft_append *head; /* appends in offset order (proposals and follower data) */
	struct raft_append *tail;
	struct stor_durable_wait flush_wait;
	bool flush_pending;
	int64_t flush_target;

	struct raft_inbound *inbound; /* parked inbound requests */
	uint64_t next_inbound_id;     /* inbound req ids: high bit set */
	/* The request being handled by raft_handle_rpc (its answer is captured synchronously). */
	uint64_t sync_req_id;
	struct sl_buf *sync_out;
	bool sync_answered;
	struct raft_rpc_call sync_call;
	/* The message just stepped (follower appends come from its records). */
	const uint8_t *step_records;
	size_t step_records_len;

	struct io_op timer;
	bool timer_armed;
	int64_t timer_at;

	/* Reused scratch. */
	struct stor_record_in *recs;
	struct wire_bytes *vals;
	size_t vals_cap;
	struct sl_buf build;
	struct sl_buf readbuf;
	struct sl_buf rpc_buf;
	struct sl_buf recbuf;
	struct raft_batch *batches;
	size_t batches_cap;
	char log_ctx[64];
};

/* batch_util.c */
enum sl_err raft_batch_values(struct raft *r, const struct stor_batch_view *v, size_t *count,
                              char *err, size_t err_len) SL_MUST_USE;
enum sl_err raft_scratch_reserve(struct raft *r, size_t n) SL_MUST_USE;
enum sl_err raft_build_batch(struct raft *r, const struct wire_bytes *values, size_t count,
                             int64_t now_ms) SL_MUST_USE;
/* Reads [range) of a segment into buf (reset first). */
enum sl_err raft_read_range(const struct stor_file_range *range, struct sl_buf *buf) SL_MUST_USE;

/* quorum_open.c */
enum sl_err raft_quorum_state_write(struct raft *r, const struct raft_hard_state *hs, char *err,
                                    size_t err_len) SL_MUST_USE;
/* Appends the bootstrap records (bootstrap.checkpoint) as proposals of the new leader. */
void raft_write_bootstrap(struct raft *r);

/* quorum_loop.c */
/* Runs the ready loop until the core has nothing more to do. */
void raft_process(struct raft *r);
/* Takes the log offline: every unfinished proposal gets SL_EIO. */
void raft_fail_all(struct raft *r, const char *why);
/* Appends one proposal built in r->build with offsets reserved by the core. */
enum sl_err raft_append_proposal(struct raft *r, uint32_t count, raft_propose_done_fn *done,
                                 void *ctx) SL_MUST_USE;
int64_t raft_now(void);

/* quorum_rpc.c */
/* Sends one request of the core's outbox to its peer (errors drop it: the core retries). */
void raft_send(struct raft *r, const struct raft_msg *m);
/* Encodes the core's response m for the inbound request it answers. */
void raft_answer(struct raft *r, const struct raft_msg *m);
void raft_peers_destroy(struct raft *r);
/* Steps an inbound request; true when the core answered it at once (into out). */
bool raft_step_inbound(struct raft *r, struct raft_msg *m, struct sl_buf *out,
                       const struct raft_rpc_call *c);
/* Batch headers of fetched records into r->batches; false on allocation failure. */
bool raft_parse_batches(struct raft *r, const uint8_t *p, size_t len, uint32_t *count);

/* quorum_snap.c */
/* Loads the latest snapshot (not 0-0) through apply at start-up. */
enum sl_err raft_snapshots_open(struct raft *r, struct raft_snapshot_id *latest, int64_t *size,
                                char *err, size_t err_len) SL_MUST_USE;
/* Takes a snapshot when the size or time trigger says so. */
void raft_snapshot_maybe(struct raft *r, int64_t now);
/* Bytes of snapshot id from position (into r->recbuf); false when it is not there. */
bool raft_snapshot_chunk(struct raft *r, struct raft_snapshot_id id, int64_t position,
                         int32_t max_bytes, const uint8_t **p, size_t *len);
void raft_snapshot_write_chunk(struct raft *r, struct raft_snapshot_id id, int64_t position,
                               int64_t len);
void raft_snapshot_install(struct raft *r, struct raft_snapshot_id id);

/* quorum_codec.c */
enum sl_err raft_rpc_vote(struct raft *r, int16_t version, struct wire_reader *body,
                          struct sl_buf *out);
enum sl_err raft_rpc_begin(struct raft *r, int16_t version, struct wire_reader *body,
                           struct sl_buf *out);
enum sl_err raft_rpc_end(struct raft *r, int16_t version, struct wire_reader *body,
                         struct sl_buf *out);
enum sl_err raft_rpc_describe(struct raft *r, int16_t version, struct wire_reader *body,
                              struct sl_buf *out);
enum sl_err raft_rpc_fetch(struct raft *r, int16_t version, struct wire_reader *body,
                           struct sl_buf *out, raft_rpc_done_fn *done, void *ctx);
enum sl_err raft_rpc_fetch_snapshot(struct raft *r, int16_t version, struct wire_reader *body,
                                    struct sl_buf *out);
void raft_encode_answer(struct raft *r, const struct raft_msg *m, const struct raft_rpc_call *c,
                        struct sl_buf *out);
enum sl_err raft_send_request(struct raft *r, struct net_peer *peer, const struct raft_msg *m,
                              struct raft_out *oc);
/* Answers every parked inbound request with nothing (close). */
void raft_inbound_drop_all(struct raft *r);

#endif
