/*
 * sim.h: the deterministic cluster simulator for the Raft core (tests/sim, reliability.md §3.1).
 *
 * One seed drives one whole cluster in one thread: a scheduler ordered by (virtual time, event
 * id), simulated links, simulated disks, one raft_core per node driven by a simulated driver
 * that follows the ready-loop contract of raft_core.h, a workload proposing increasing values,
 * and a checker that tests invariants I1-I8 (reliability.md §2) after every event.
 *
 * Invariants of the simulator itself: nothing depends on the wall clock, on addresses or on
 * uninitialised memory; every random choice comes from the seed's generator; every event is
 * folded into a trace hash so that two runs of a seed can be compared.
 */
#ifndef SL_SIM_H
#define SL_SIM_H

#include "raft_core.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_NODES_MAX 8
#define SIM_EPOCH_CAP 512
#define SIM_OUT_CAP 64
#define SIM_VIOLATION_LEN 512

/* ---- random numbers (splitmix64) ------------------------------------------------------- */

struct sim_rng {
	uint64_t state;
};
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, n) (n > 0). */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* Uniform in [lo, hi] (lo <= hi). */
int64_t sim_rng_range(struct sim_rng *r, int64_t lo, int64_t hi);
/* True with probability p. */
bool sim_rng_chance(struct sim_rng *r, double p);
/* Exponentially distributed with the given mean (>= 0), rounded down. */
int64_t sim_rng_exp(struct sim_rng *r, int64_t mean);

/* ---- records, messages ------------------------------------------------------------------ */

/* One log record: a LeaderChange control record has value 0; client values start at 1. */
struct sim_rec {
	int64_t batch_base; /* offset of the first record of its batch */
	int32_t epoch;
	uint64_t value;
};

/* A message in flight, owned by its event. A FetchResponse carries batches + records (records
 * contiguous from batches[0].base_offset), a FetchSnapshotResponse carries a chunk of bytes. */
struct sim_msg {
	struct raft_msg m;
	struct raft_batch *batches;
	uint32_t batch_count;
	struct sim_rec *recs;
	uint32_t rec_count;
	uint8_t *bytes;
	int64_t byte_len;
	bool forged; /* a truncate-below-HW probe, not sent by any core */
};
struct sim_msg *sim_msg_new(const struct raft_msg *m, uint32_t batch_count, uint32_t rec_count,
                            int64_t byte_len);
struct sim_msg *sim_msg_clone(const struct sim_msg *src);
void sim_msg_free(struct sim_msg *m);

/* ---- scheduler (sched.c) ---------------------------------------------------------------- */

enum sim_ev_type {
	EV_DELIVER, /* msg to node */
	EV_TICK,    /* node timer (gen = tick sequence) */
	EV_FLUSH,   /* node disk flush done (gen = disk generation, arg = end offset) */
	EV_PROPOSE, /* workload */
	EV_FAULT,   /* inject a random fault */
	EV_HEAL,    /* end a partition (arg = partition id) */
	EV_RESTART, /* node restarts (gen = incarnation it replaces) */
	EV_PHASE,   /* arg: 1 liveness, 2 stop proposing, 3 end */
	EV_TYPE_COUNT,
};

struct sim_event {
	int64_t time; /* virtual µs */
	uint64_t id;
	enum sim_ev_type type;
	int32_t node; /* index into sim.nodes, -1 none */
	uint64_t gen;
	int64_t arg;
	struct sim_msg *msg; /* EV_DELIVER: owned */
};

struct sim_sched {
	struct sim_event *heap;
	uint32_t count, cap;
	uint64_t next_id;
};
void sched_init(struct sim_sched *s);
void sched_free(struct sim_sched *s);
/* Queues a copy of ev (its id is assigned here). */
void sched_push(struct sim_sched *s, struct sim_event ev);
bool sched_pop(struct sim_sched *s, struct sim_event *out);

/* ---- disk (disk.c) --------------------------------------------------------------------- */

struct sim_snap {
	bool valid;
	struct raft_snapshot_id id;
	uint8_t *bytes;
	int64_t len;  /* bytes held */
	int64_t size; /* total (== len when complete) */
};

struct sim_disk {
	struct raft_hard_state hs; /* quorum-state: written synchronously */
	bool hs_valid;
	int64_t start; /* log start offset; recs[i] holds offset start + i */
	struct sim_rec *recs;
	uint32_t count, cap;
	int64_t synced_end; /* absolute offset: records below are durable */
	uint64_t gen;       /* bumped by truncation and crash: stale flushes are ignored */
	bool flush_pending;
	struct sim_snap snap; /* latest complete snapshot (durable) */
	struct sim_snap part; /* FetchSnapshot download in progress (lost on crash) */
};
void disk_init(struct sim_disk *d);
void disk_free(struct sim_disk *d);
static inline int64_t disk_end(const struct sim_disk *d)
{
	return d->start + (int64_t)d->count;
}
/* Record at absolute offset o, NULL when outside [start, end). */
const struct sim_rec *disk_rec(const struct sim_disk *d, int64_t o);
void disk_append(struct sim_disk *d, struct sim_rec r);
void disk_truncate(struct sim_disk *d, int64_t end);
/* Drops records below new_start (<= end). */
void disk_drop_prefix(struct sim_disk *d, int64_t new_start);
/* Empties the log and sets start = end = at. */
void disk_reset(struct sim_disk *d, int64_t at);
/* Power loss: unsynced records are lost except a random prefix of whole batches (returns true
 * when a torn tail was kept); the .part snapshot is lost. */
bool disk_crash(struct sim_disk *d, struct sim_rng *rng);
/* Epoch cache of the log (ascending start offsets); returns the count written. */
uint32_t disk_epochs(const struct sim_disk *d, struct raft_epoch_entry *out, uint32_t cap);
void snap_set(struct sim_snap *s, struct raft_snapshot_id id, const uint8_t *bytes, int64_t len);
void snap_clear(struct sim_snap *s);

/* ---- nodes (node.c) -------------------------------------------------------------------- */

struct sim_proposal {
	uint64_t value;
	int32_t node; /* index */
	uint64_t incarnation;
	int32_t epoch;
	int64_t offset;
	int64_t time;
	bool acked, failed;
};

struct sim_node {
	int32_t idx, id;
	bool voter;
	bool up;
	int64_t paused_until; /* global µs; events before it are deferred */
	uint64_t incarnation;
	struct raft_core *rc;
	struct raft_core_config cfg;
	struct raft_epoch_entry epoch_buf[SIM_EPOCH_CAP];
	struct raft_msg out_buf[SIM_OUT_CAP];
	struct sim_disk disk;
	/* clock: local µs = offset + global µs * rate_ppm / 1e6 */
	int64_t clock_offset_us;
	int64_t rate_ppm;
	/* timer */
	int64_t tick_at; /* global µs of the pending tick event, INT64_MAX none */
	uint64_t tick_seq;
	/* the state machine: every applied record (control records included) */
	struct sim_rec *applied;
	int64_t applied_end; /* next offset to apply (== count of applied records) */
	uint32_t applied_cap;
	/* checker state for this incarnation */
	int64_t exposed_hw; /* highest HW exposed, -1 none */
	enum raft_role role;
	int32_t epoch;
	int64_t leader_hw; /* HW exposed as leader in leader_epoch, -1 none */
	int32_t leader_epoch;
	int64_t carried_hw; /* HW this node knew when it became leader (committed before) */
	int64_t epoch_start;
	int64_t verified_end;           /* log offsets below were compared with the committed map */
	int64_t next_snap_at;           /* take a snapshot when HW reaches this */
	const struct sim_msg *stepping; /* the response being stepped (for appends) */
	bool stepping_stale_fetch;      /* a fetch with a stale epoch is being stepped */
	bool probed;                    /* stepping a forged truncate-below-HW response */
	int32_t stepping_from;
};

/* ---- the world -------------------------------------------------------------------------- */

enum sim_phase { PHASE_SAFETY, PHASE_LIVENESS, PHASE_DONE };

enum sim_fault {
	F_LOSS,
	F_DUP,
	F_PARTITION,
	F_ONE_WAY,
	F_CRASH,
	F_TORN,
	F_PAUSE,
	F_SNAP_TAKEN,
	F_SNAP_INSTALLED,
	F_LOG_DELETED,
	F_RESIGN,
	F_PROBE,
	F_POWER,
	F_KIND_COUNT,
};
extern const char *const sim_fault_names[F_KIND_COUNT];

struct sim_stats {
	uint64_t seeds;
	uint64_t events;
	uint64_t faults[F_KIND_COUNT];
	uint64_t checks;
	uint64_t violations;
	uint64_t msgs;
	uint64_t proposals, acked;
	uint64_t elections;
	uint64_t committed;
};

/* Per-seed parameters drawn from the seed (swarm testing). */
struct sim_params {
	uint32_t voters, observers;
	int64_t safety_us, liveness_us;
	int64_t delay_min_us, delay_mean_us;
	double loss, dup;
	int64_t flush_min_us, flush_mean_us;
	int64_t fault_mean_us; /* mean gap between injected faults */
	uint32_t w_partition, w_one_way, w_crash, w_pause, w_resign, w_power; /* fault weights */
	int64_t propose_mean_us;
	uint32_t fetch_recs_max;
	uint32_t snap_every; /* take a snapshot every K committed records, 0 = never */
	double snap_delete;  /* chance to delete the log below a snapshot */
	int64_t snap_chunk;  /* FetchSnapshot chunk bytes */
	int64_t election_ms, fetch_ms;
	int64_t drift_ppm; /* max |rate - 1e6| */
	uint32_t canary;
	bool probe_truncate; /* forge DivergingEpoch below a follower's HW (canary profile) */
};

/* What the leader of one epoch wrote: values at [start, start + count). */
struct sim_epoch_log {
	int64_t start;
	uint64_t *vals;
	uint32_t count, cap;
};

struct sim_committed {
	bool known;
	int32_t epoch;
	uint64_t value;
	int32_t seen_epoch; /* epoch of the node that first exposed it committed (>= the epoch of
	                     * the leader that committed it) */
};

struct sim {
	uint64_t seed;
	struct sim_rng rng;
	struct sim_params p;
	struct sim_sched sched;
	int64_t now; /* global virtual µs */
	enum sim_phase phase;
	int64_t heal_at;
	uint32_t node_count;
	struct sim_node nodes[SIM_NODES_MAX];
	/* network: blocked[a][b] = messages from a to b are dropped (count of partitions) */
	uint32_t blocked[SIM_NODES_MAX][SIM_NODES_MAX];
	struct {
		int32_t id; /* partition id, -1 free */
		uint8_t pairs[SIM_NODES_MAX][SIM_NODES_MAX];
	} parts[8];
	int64_t link_delay_min[SIM_NODES_MAX][SIM_NODES_MAX];
	int64_t link_delay_mean[SIM_NODES_MAX][SIM_NODES_MAX];
	/* global history */
	int32_t *leader_of_epoch; /* node id per epoch, -1 none */
	uint32_t leader_of_epoch_cap;
	struct sim_epoch_log *written; /* per epoch (cap leader_of_epoch_cap) */
	struct sim_committed *committed;
	int64_t committed_cap;
	int64_t committed_end; /* highest known committed offset + 1 */
	uint64_t last_value;
	struct sim_proposal *props;
	uint32_t prop_count, prop_cap;
	uint32_t prop_open_from;              /* proposals below are all acked or failed */
	int64_t durable_epoch[SIM_NODES_MAX]; /* highest epoch ever persisted (I2 across restarts)
	                                       */
	/* liveness */
	int64_t liveness_hw_start;
	int64_t stop_proposing_at;
	int64_t leader_seen_at; /* first ready with a leader after the heal, -1 none */
	int64_t hw_at_stop;     /* committed end when proposals stopped */
	/* results */
	bool trace;
	uint64_t hash;
	struct sim_stats st;
	bool failed;
	char violation[SIM_VIOLATION_LEN];
	uint64_t event_id; /* current event */
	uint32_t probes;
};

/* hash folding */
void sim_fold(struct sim *s, uint64_t v);
/* Records a violation (the first one is kept) and stops the seed. */
void sim_violation(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_tracef(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* node.c */
int64_t node_now_ms(const struct sim *s, const struct sim_node *n);
void node_start(struct sim *s, struct sim_node *n);
/* Runs the ready loop until the core has nothing pending, then re-arms timer and flush. */
void node_process(struct sim *s, struct sim_node *n);
void node_crash(struct sim *s, struct sim_node *n);
void node_deliver(struct sim *s, struct sim_node *n, struct sim_msg *m);
void node_tick(struct sim *s, struct sim_node *n);
void node_flush_done(struct sim *s, struct sim_node *n, uint64_t gen, int64_t end);
/* Leader: propose `count` values; returns false when the node refuses. */
bool node_propose(struct sim *s, struct sim_node *n, uint32_t count);
void node_resign(struct sim *s, struct sim_node *n);
void node_free(struct sim_node *n);

/* net.c */
void net_init(struct sim *s);
void net_send(struct sim *s, int32_t from_idx, struct sim_msg *m);
int32_t net_index_of(const struct sim *s, int32_t id);
void net_partition(struct sim *s);
void net_heal(struct sim *s, int32_t part_id);
void net_heal_all(struct sim *s);

/* check.c */
void check_init(struct sim *s);
void check_free(struct sim *s);
void check_event(struct sim *s);
void check_ready(struct sim *s, struct sim_node *n, const struct raft_ready *rd);
void check_persist(struct sim *s, struct sim_node *n, const struct raft_hard_state *hs);
void check_truncate(struct sim *s, struct sim_node *n, int64_t to);
void check_send(struct sim *s, struct sim_node *n, const struct raft_msg *m);
void check_hw(struct sim *s, struct sim_node *n, int64_t hw);
/* Log matching: every record appended anywhere in epoch E at offset o must be what the leader of
 * E wrote there (leader = true: n is that leader writing it). */
void check_written(struct sim *s, struct sim_node *n, int64_t o, int32_t epoch, uint64_t value,
                   bool leader);
void check_apply(struct sim *s, struct sim_node *n, int64_t o, const struct sim_rec *r);
void check_snapshot_state(struct sim *s, struct sim_node *n, const struct sim_rec *recs,
                          int64_t count);
void check_liveness(struct sim *s);
/* Committed map helpers */
const struct sim_committed *check_committed_at(const struct sim *s, int64_t o);

/* workload.c */
void workload_proposed(struct sim *s, struct sim_node *n, int64_t base, int32_t epoch,
                       uint32_t count, uint64_t first_value);
void workload_hw(struct sim *s, struct sim_node *n, int64_t hw);
void workload_lost_leadership(struct sim *s, struct sim_node *n);
void workload_propose_event(struct sim *s);
/* True when every proposal is acked or failed and every node applied what was committed when
 * proposals stopped. */
bool workload_settled(const struct sim *s);

/* run.c: runs one seed; returns true when it passed. */
struct sim_run_opts {
	bool trace;
	uint32_t canary;    /* RAFT_CANARY_* bits */
	int64_t safety_ms;  /* 0 = default */
	bool canary_faults; /* fault profile tuned for canaries */
};
bool sim_run_seed(uint64_t seed, const struct sim_run_opts *o, struct sim_stats *st, uint64_t *hash,
                  char *why, size_t why_len);

#endif
