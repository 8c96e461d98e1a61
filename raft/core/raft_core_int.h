/*
 * raft_core_int.h: private state of the KRaft consensus core (raft_core.h) and the helpers
 * shared by its files: core.c (init, accessors, outbox, ready/advance, timers, role
 * transitions), elect.c (Vote, pre-vote, BeginQuorumEpoch, EndQuorumEpoch, check-quorum),
 * replicate.c (Fetch on both sides, high watermark, long polls), snapshot.c (snapshot redirect,
 * FetchSnapshot on both sides, install), invariants.c (raft_check_invariants).
 *
 * Roles and timers (state diagram, voters):
 *
 *   Unattached --election timer--> Prospective --majority pre-votes--> Candidate --majority-->
 * Leader ^  ^                         |  (rejected / timeout: back as before, backoff timer)   | |
 * +-------------------------+                                                        | |  Candidate
 * --election timeout--> backoff --> Prospective (Candidate w/o pre-vote)   | Follower --fetch
 * timeout--> Prospective              Leader --resign/check-quorum--> Resigned any --higher epoch
 * seen--> Unattached(epoch') or Follower(epoch', leader)
 *
 * Observers: Unattached (fetching from voters in turn) <-> Follower (fetching from the leader).
 *
 * Invariants (checked by raft_check_invariants): hw <= leo, durable <= leo, log_start <= leo,
 * epoch entries strictly ascending in epoch and start offset, all within [log_start, leo],
 * the last one <= the current epoch; a leader has voted for itself in its epoch and its epoch
 * is the last epoch entry starting at epoch_start; unattached knows no leader; a follower's
 * leader is another node; observers are only unattached or followers.
 */
#ifndef SL_RAFT_CORE_INT_H
#define SL_RAFT_CORE_INT_H

#include "raft_core.h"

#include "base.h"

#include <limits.h>
#include <string.h>

#ifdef RAFT_CORE_CANARIES
#define RC_CANARY(rc, bit) (((rc)->cfg.canary & (bit)) != 0)
#else
#define RC_CANARY(rc, bit) ((void)(rc), false)
#endif

#define RC_NEVER INT64_MAX

/* Per-replica state: voters (index = position in cfg.voters) and tracked observers. */
struct rc_peer {
	int32_t id; /* RAFT_CORE_NONE = free observer slot */
	/* Leader view (reset on election). */
	int64_t end;               /* latest valid FetchOffset, -1 = unknown */
	int64_t last_fetch_ms;     /* latest Fetch/FetchSnapshot in this epoch, -1 = never */
	int64_t last_caught_up_ms; /* -1 = never */
	bool fetched_this_epoch;   /* stops BeginQuorumEpoch repeats */
	int64_t begin_next_ms;     /* next BeginQuorumEpoch, RC_NEVER = none */
	/* Parked long-poll fetch (leader). */
	bool parked;
	uint64_t park_req_id;
	int64_t park_fetch_offset;
	int64_t park_deadline;
	int64_t hw_sent; /* high watermark in the latest response to it (-2 = none) */
	/* Outstanding request of this role (Vote as (pre-)candidate, EndQuorumEpoch resigned). */
	bool req_outstanding;
	uint64_t req_id;
	int64_t req_sent_ms;
	int8_t vote; /* 0 = no answer, 1 = granted, -1 = rejected (or acked for End) */
};

struct raft_core {
	struct raft_core_config cfg;
	bool is_voter;
	int32_t self_index; /* in cfg.voters, -1 for an observer */
	uint32_t majority;  /* voter_count / 2 + 1 */
	uint64_t rng;       /* splitmix64 state */
	uint64_t next_req_id;

	enum raft_role role;
	struct raft_hard_state hs;
	bool failed;
	const char *failure;

	/* Log. */
	int64_t log_start;
	int64_t leo;
	int64_t durable;
	int64_t hw;
	struct raft_snapshot_id snap; /* latest local snapshot, end_offset -1 = none */
	int64_t snap_size;
	struct raft_epoch_entry *epochs; /* = cfg.epoch_buf */
	uint32_t epoch_count;

	/* Timers (absolute ms, RC_NEVER = disarmed). */
	int64_t election_deadline;       /* unattached voter, prospective, candidate, resigned */
	bool candidate_backoff;          /* candidate: election lost, waiting out the backoff */
	uint32_t retries;                /* failed elections in a row (exponential backoff) */
	int32_t prospective_prev_leader; /* leader known before going prospective */

	/* Leader. */
	int64_t epoch_start;
	int64_t leader_since_ms;

	/* Follower / observer fetching. */
	int32_t fetch_target;
	uint32_t observer_rotation; /* observer: index in voters of the next voter to ask */
	bool fetch_outstanding;
	uint64_t fetch_req_id;
	int64_t fetch_sent_ms;
	int64_t fetch_not_before; /* retry backoff after an error */
	int64_t fetch_deadline;   /* fetch timeout: no successful fetch since */
	bool fetched_from_leader; /* pre-vote rule (KIP-996) */

	/* Follower snapshot download. */
	bool snap_fetching;
	bool snap_installing;
	struct raft_snapshot_id snap_fetch_id;
	int64_t snap_fetch_pos;
	int64_t snap_fetch_size; /* -1 until the first chunk */
	bool snap_req_outstanding;
	uint64_t snap_req_id;
	int64_t snap_req_sent_ms;
	int64_t snap_not_before;

	struct rc_peer voters[RAFT_CORE_VOTERS_MAX];
	struct rc_peer observers[RAFT_CORE_OBSERVERS_MAX];

	/* Pending ready (cleared by advance). */
	bool persist;
	bool role_changed;
	int64_t truncate_to;
	bool leader_change;
	int64_t leader_change_offset;
	uint32_t append_count;
	bool snapshot_write;
	int64_t snapshot_position;
	int64_t snapshot_len;
	bool snapshot_install;
	struct raft_snapshot_id snapshot_install_id;
	uint32_t out_count;
	uint64_t dropped;
};

/* core.c */
uint64_t rc_rand(struct raft_core *rc);
int64_t rc_add_ms(int64_t now, int64_t ms);
int64_t rc_election_timeout(struct raft_core *rc);
int64_t rc_backoff_ms(struct raft_core *rc);
struct raft_msg *rc_msg_new(struct raft_core *rc, enum raft_msg_type type, int32_t to);
struct raft_msg *rc_reply(struct raft_core *rc, const struct raft_msg *req,
                          enum raft_msg_type type);
int32_t rc_last_epoch(const struct raft_core *rc);
struct rc_peer *rc_voter(struct raft_core *rc, int32_t id);
int32_t rc_voter_index(const struct raft_core *rc, int32_t id);
void rc_set_hard_state(struct raft_core *rc, int32_t epoch, int32_t voted_id, int32_t leader_id);
void rc_become_unattached(struct raft_core *rc, int64_t now, int32_t epoch);
void rc_become_follower(struct raft_core *rc, int64_t now, int32_t epoch, int32_t leader);
void rc_become_prospective(struct raft_core *rc, int64_t now);
void rc_become_candidate(struct raft_core *rc, int64_t now);
void rc_become_leader(struct raft_core *rc, int64_t now);
void rc_become_resigned(struct raft_core *rc, int64_t now, bool send_end);
void rc_election_timer_fired(struct raft_core *rc, int64_t now);
void rc_epoch_append(struct raft_core *rc, int32_t epoch, int64_t start_offset);
void rc_epoch_truncate(struct raft_core *rc, int64_t end_offset);
void rc_epoch_trim_start(struct raft_core *rc, int64_t start_offset);
void rc_end_for_epoch(const struct raft_core *rc, int32_t epoch, int32_t *found_epoch,
                      int64_t *end_offset, bool *found);
bool rc_common_response(struct raft_core *rc, int64_t now, const struct raft_msg *m);

/* elect.c */
void rc_handle_vote_req(struct raft_core *rc, int64_t now, const struct raft_msg *m);
void rc_handle_vote_resp(struct raft_core *rc, int64_t now, const struct raft_msg *m);
void rc_handle_begin_req(struct raft_core *rc, int64_t now, const struct raft_msg *m);
void rc_handle_end_req(struct raft_core *rc, int64_t now, const struct raft_msg *m);
void rc_handle_end_resp(struct raft_core *rc, int64_t now, const struct raft_msg *m);
void rc_prospective_lost(struct raft_core *rc, int64_t now);
void rc_candidate_lost(struct raft_core *rc, int64_t now);
void rc_send_votes(struct raft_core *rc, int64_t now, bool resend_only);
void rc_send_end(struct raft_core *rc, int64_t now, bool resend_only);
void rc_send_begins(struct raft_core *rc, int64_t now);
int64_t rc_check_quorum_deadline(const struct raft_core *rc);
void rc_tick_leader(struct raft_core *rc, int64_t now);

/* replicate.c */
void rc_handle_fetch_req(struct raft_core *rc, int64_t now, const struct raft_msg *m);
void rc_handle_fetch_resp(struct raft_core *rc, int64_t now, const struct raft_msg *m);
void rc_maybe_send_fetch(struct raft_core *rc, int64_t now);
void rc_tick_fetch(struct raft_core *rc, int64_t now);
void rc_update_hw(struct raft_core *rc);
void rc_wake_parked(struct raft_core *rc, int64_t now, bool all);
void rc_fill_fetch_resp_common(const struct raft_core *rc, struct raft_msg *r);
struct rc_peer *rc_replica(struct raft_core *rc, int32_t id, int64_t now, bool create);
int16_t rc_validate_leader_epoch(struct raft_core *rc, int32_t req_epoch, bool *stale_served);

/* snapshot.c */
void rc_handle_snap_req(struct raft_core *rc, int64_t now, const struct raft_msg *m);
void rc_handle_snap_resp(struct raft_core *rc, int64_t now, const struct raft_msg *m);
void rc_start_snapshot_fetch(struct raft_core *rc, int64_t now, struct raft_snapshot_id id);
void rc_maybe_send_snap_req(struct raft_core *rc, int64_t now);
void rc_stop_snapshot_fetch(struct raft_core *rc);

#endif
