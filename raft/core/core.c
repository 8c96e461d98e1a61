/*
 * core.c: the KRaft core's skeleton: init, accessors, randomness and timers, the outbox, the
 * ready/advance protocol, the leader-epoch cache and the role transitions (raft_core.h,
 * kraft.md §3.3). Message handling lives in elect.c, replicate.c and snapshot.c.
 *
 * Invariants: every hard-state change sets rc->persist, so the next ready carries it before
 * any message (the caller persists first); role transitions go through rc_become_*, which
 * reset the per-role state (outstanding requests, parked fetches, snapshot download) and set
 * role_changed.
 */
#include "raft_core_int.h"

#include <stdio.h>

size_t raft_core_size(void)
{
	return sizeof(struct raft_core);
}

const char *raft_role_name(enum raft_role r)
{
	switch (r) {
	case RAFT_UNATTACHED:
		return "unattached";
	case RAFT_PROSPECTIVE:
		return "prospective";
	case RAFT_CANDIDATE:
		return "candidate";
	case RAFT_LEADER:
		return "leader";
	case RAFT_FOLLOWER:
		return "follower";
	case RAFT_RESIGNED:
		return "resigned";
	}
	return "?";
}

const char *raft_msg_type_name(enum raft_msg_type t)
{
	switch (t) {
	case RAFT_VOTE_REQ:
		return "VoteRequest";
	case RAFT_VOTE_RESP:
		return "VoteResponse";
	case RAFT_BEGIN_REQ:
		return "BeginQuorumEpochRequest";
	case RAFT_BEGIN_RESP:
		return "BeginQuorumEpochResponse";
	case RAFT_END_REQ:
		return "EndQuorumEpochRequest";
	case RAFT_END_RESP:
		return "EndQuorumEpochResponse";
	case RAFT_FETCH_REQ:
		return "FetchRequest";
	case RAFT_FETCH_RESP:
		return "FetchResponse";
	case RAFT_SNAP_REQ:
		return "FetchSnapshotRequest";
	case RAFT_SNAP_RESP:
		return "FetchSnapshotResponse";
	}
	return "?";
}

/* ---- randomness and time ----------------------------------------------------------------- */

uint64_t rc_rand(struct raft_core *rc)
{
	/* splitmix64 */
	uint64_t z = (rc->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* now + ms, saturating at RC_NEVER (ms from the network may be huge). */
int64_t rc_add_ms(int64_t now, int64_t ms)
{
	if (ms <= 0)
		return now;
	if (now > RC_NEVER - ms)
		return RC_NEVER;
	return now + ms;
}

static int64_t rc_uniform(struct raft_core *rc, int64_t bound)
{
	if (bound <= 0)
		return 0;
	return (int64_t)(rc_rand(rc) % (uint64_t)bound);
}

/* Election timer: base + uniform[0, base) (kraft.md §3.4). */
int64_t rc_election_timeout(struct raft_core *rc)
{
	return rc->cfg.election_timeout_ms + rc_uniform(rc, rc->cfg.election_timeout_ms);
}

/* min(100 ms x rand[0, 2^min(20, retries)), election_backoff_max_ms) (kraft.md §3.4). */
int64_t rc_backoff_ms(struct raft_core *rc)
{
	uint32_t shift = rc->retries < 20 ? rc->retries : 20;
	int64_t b = 100 * rc_uniform(rc, (int64_t)1 << shift);
	if (b > rc->cfg.election_backoff_max_ms)
		b = rc->cfg.election_backoff_max_ms;
	return b;
}

/* ---- outbox -------------------------------------------------------------------------------- */

/* A zeroed message with every "none" field at -1, or NULL (counted) when the outbox is full. */
struct raft_msg *rc_msg_new(struct raft_core *rc, enum raft_msg_type type, int32_t to)
{
	if (rc->out_count >= rc->cfg.out_cap) {
		rc->dropped++;
		return NULL;
	}
	struct raft_msg *m = &rc->cfg.out_buf[rc->out_count++];
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->from = rc->cfg.node_id;
	m->to = to;
	m->epoch = rc->hs.epoch;
	m->leader_id = rc->hs.leader_id;
	m->last_epoch = -1;
	m->last_offset = -1;
	m->fetch_offset = -1;
	m->last_fetched_epoch = -1;
	m->high_watermark = -1;
	m->log_start = -1;
	m->diverging_epoch = -1;
	m->diverging_end_offset = -1;
	m->snapshot_id.end_offset = -1;
	m->snapshot_id.epoch = -1;
	m->records_from = -1;
	m->position = -1;
	m->size = -1;
	m->chunk_len = -1;
	return m;
}

/* A response to req (same req_id, addressed to its sender). */
struct raft_msg *rc_reply(struct raft_core *rc, const struct raft_msg *req, enum raft_msg_type type)
{
	struct raft_msg *r = rc_msg_new(rc, type, req->from);
	if (r)
		r->req_id = req->req_id;
	return r;
}

/* ---- hard state and the epoch cache ------------------------------------------------------- */

void rc_set_hard_state(struct raft_core *rc, int32_t epoch, int32_t voted_id, int32_t leader_id)
{
	SL_ASSERT(epoch >= rc->hs.epoch);
	if (rc->hs.epoch == epoch && rc->hs.voted_id == voted_id && rc->hs.leader_id == leader_id)
		return;
	rc->hs.epoch = epoch;
	rc->hs.voted_id = voted_id;
	rc->hs.leader_id = leader_id;
	rc->persist = true;
}

/* Epoch of the last record; with an empty cache the snapshot at the log end, else 0. */
int32_t rc_last_epoch(const struct raft_core *rc)
{
	if (rc->epoch_count > 0)
		return rc->epochs[rc->epoch_count - 1].epoch;
	if (rc->snap.end_offset > 0 && rc->snap.end_offset == rc->leo)
		return rc->snap.epoch;
	return 0;
}

/* Records from start_offset on carry `epoch`. Entries starting at or after it are replaced
 * (as Kafka's LeaderEpochFileCache.assign); a full cache drops its oldest entry. */
void rc_epoch_append(struct raft_core *rc, int32_t epoch, int64_t start_offset)
{
	while (rc->epoch_count > 0 &&
	       (rc->epochs[rc->epoch_count - 1].start_offset >= start_offset ||
	        rc->epochs[rc->epoch_count - 1].epoch >= epoch))
		rc->epoch_count--;
	if (rc->epoch_count == rc->cfg.epoch_cap) {
		memmove(&rc->epochs[0], &rc->epochs[1],
		        (rc->epoch_count - 1) * sizeof(struct raft_epoch_entry));
		rc->epoch_count--;
	}
	rc->epochs[rc->epoch_count].epoch = epoch;
	rc->epochs[rc->epoch_count].start_offset = start_offset;
	rc->epoch_count++;
}

/* The log now ends at end_offset: epochs starting at or after it are gone. */
void rc_epoch_truncate(struct raft_core *rc, int64_t end_offset)
{
	while (rc->epoch_count > 0 && rc->epochs[rc->epoch_count - 1].start_offset >= end_offset)
		rc->epoch_count--;
}

/* The log now starts at start_offset: entries wholly below it go (the last one always stays,
 * it is the epoch of the last record), the first is clamped to the new start. */
void rc_epoch_trim_start(struct raft_core *rc, int64_t start_offset)
{
	uint32_t drop = 0;
	while (drop + 1 < rc->epoch_count && rc->epochs[drop + 1].start_offset <= start_offset)
		drop++;
	if (drop > 0) {
		memmove(&rc->epochs[0], &rc->epochs[drop],
		        (rc->epoch_count - drop) * sizeof(struct raft_epoch_entry));
		rc->epoch_count -= drop;
	}
	if (rc->epoch_count > 0 && rc->epochs[0].start_offset < start_offset)
		rc->epochs[0].start_offset = start_offset;
}

/* The end offset of the largest epoch <= epoch (Kafka's endOffsetForEpoch). Not found: the
 * requested epoch with the start of the first entry (or the snapshot when the request is
 * older than the snapshot at the log start); *found tells which. */
void rc_end_for_epoch(const struct raft_core *rc, int32_t epoch, int32_t *found_epoch,
                      int64_t *end_offset, bool *found)
{
	for (uint32_t i = rc->epoch_count; i-- > 0;) {
		if (rc->epochs[i].epoch <= epoch) {
			*found_epoch = rc->epochs[i].epoch;
			*end_offset =
			        i + 1 < rc->epoch_count ? rc->epochs[i + 1].start_offset : rc->leo;
			*found = true;
			return;
		}
	}
	int64_t first = rc->epoch_count > 0 ? rc->epochs[0].start_offset : rc->leo;
	bool snap_at_start = rc->snap.end_offset > 0 && rc->snap.end_offset == rc->log_start;
	if (snap_at_start && epoch >= rc->snap.epoch) {
		*found_epoch = rc->snap.epoch;
		*end_offset = first;
		*found = true;
		return;
	}
	*found = false;
	if (snap_at_start && first == rc->snap.end_offset) {
		*found_epoch = rc->snap.epoch;
		*end_offset = rc->snap.end_offset;
		return;
	}
	*found_epoch = epoch;
	*end_offset = first;
}

/* ---- peers ---------------------------------------------------------------------------------- */

int32_t rc_voter_index(const struct raft_core *rc, int32_t id)
{
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++)
		if (rc->cfg.voters[i] == id)
			return (int32_t)i;
	return -1;
}

struct rc_peer *rc_voter(struct raft_core *rc, int32_t id)
{
	int32_t i = rc_voter_index(rc, id);
	return i < 0 ? NULL : &rc->voters[i];
}

static void rc_peer_reset(struct rc_peer *p)
{
	p->end = -1;
	p->last_fetch_ms = -1;
	p->last_caught_up_ms = -1;
	p->fetched_this_epoch = false;
	p->begin_next_ms = RC_NEVER;
	p->parked = false;
	p->hw_sent = -2;
	p->req_outstanding = false;
	p->vote = 0;
}

/* ---- role transitions ------------------------------------------------------------------------ */

/* Leaves the current role: answers parked fetches, forgets outstanding requests. */
static void rc_leave_role(struct raft_core *rc, enum raft_role next)
{
	if (rc->role == RAFT_LEADER)
		rc_wake_parked(rc, 0, true);
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++) {
		rc->voters[i].req_outstanding = false;
		rc->voters[i].vote = 0;
		rc->voters[i].begin_next_ms = RC_NEVER;
	}
	rc->fetch_outstanding = false;
	rc->fetch_not_before = 0;
	rc->fetch_deadline = RC_NEVER;
	rc->election_deadline = RC_NEVER;
	rc->candidate_backoff = false;
	rc->epoch_start = -1;
	rc_stop_snapshot_fetch(rc);
	if (next != rc->role)
		rc->role_changed = true;
	rc->role = next;
}

static void rc_arm_observer_fetch(struct raft_core *rc, int64_t now)
{
	rc->fetch_target = rc->cfg.voters[rc->observer_rotation % rc->cfg.voter_count];
	rc->observer_rotation = (rc->observer_rotation + 1) % rc->cfg.voter_count;
	rc->fetch_deadline = RC_NEVER;
	(void)now;
}

/* Unattached in `epoch` (>= current); the vote is kept when the epoch does not change. */
void rc_become_unattached(struct raft_core *rc, int64_t now, int32_t epoch)
{
	int32_t voted = epoch == rc->hs.epoch ? rc->hs.voted_id : RAFT_CORE_NONE;
	rc_leave_role(rc, RAFT_UNATTACHED);
	rc_set_hard_state(rc, epoch, voted, RAFT_CORE_NONE);
	if (rc->is_voter)
		rc->election_deadline = rc_add_ms(now, rc_election_timeout(rc));
	else
		rc_arm_observer_fetch(rc, now);
}

/* Follower of `leader` in `epoch` (>= current). */
void rc_become_follower(struct raft_core *rc, int64_t now, int32_t epoch, int32_t leader)
{
	SL_ASSERT(leader != rc->cfg.node_id);
	SL_ASSERT(leader >= 0);
	int32_t voted = epoch == rc->hs.epoch ? rc->hs.voted_id : RAFT_CORE_NONE;
	rc_leave_role(rc, RAFT_FOLLOWER);
	rc_set_hard_state(rc, epoch, voted, leader);
	rc->fetch_target = leader;
	rc->fetched_from_leader = false;
	rc->fetch_deadline = rc_add_ms(now, rc->cfg.fetch_timeout_ms);
}

/* Pre-vote (KIP-996): epoch unchanged, nothing persisted. */
void rc_become_prospective(struct raft_core *rc, int64_t now)
{
	SL_ASSERT(rc->is_voter);
	int32_t prev_leader = rc->hs.leader_id;
	rc_leave_role(rc, RAFT_PROSPECTIVE);
	rc->prospective_prev_leader = prev_leader;
	rc->election_deadline = rc_add_ms(now, rc_election_timeout(rc));
	rc->voters[rc->self_index].vote = 1;
	if (rc->majority <= 1) {
		rc_become_candidate(rc, now);
		return;
	}
	rc_send_votes(rc, now, false);
}

void rc_become_candidate(struct raft_core *rc, int64_t now)
{
	SL_ASSERT(rc->is_voter);
	rc_leave_role(rc, RAFT_CANDIDATE);
	rc_set_hard_state(rc, rc->hs.epoch + 1, rc->cfg.node_id, RAFT_CORE_NONE);
	rc->election_deadline = rc_add_ms(now, rc_election_timeout(rc));
	rc->voters[rc->self_index].vote = 1;
	if (rc->majority <= 1) {
		rc_become_leader(rc, now);
		return;
	}
	rc_send_votes(rc, now, false);
}

/* Leader of the current epoch (kraft.md §3.6): LeaderChange at the epoch start offset. */
void rc_become_leader(struct raft_core *rc, int64_t now)
{
	SL_ASSERT(rc->is_voter);
	SL_ASSERT(rc->hs.voted_id == rc->cfg.node_id);
	rc_leave_role(rc, RAFT_LEADER);
	rc_set_hard_state(rc, rc->hs.epoch, rc->cfg.node_id, rc->cfg.node_id);
	rc->retries = 0;
	rc->leader_since_ms = now;
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++)
		rc_peer_reset(&rc->voters[i]);
	for (uint32_t i = 0; i < RAFT_CORE_OBSERVERS_MAX; i++) {
		rc_peer_reset(&rc->observers[i]);
		rc->observers[i].id = RAFT_CORE_NONE;
	}
	rc->epoch_start = rc->leo;
	rc->leader_change = true;
	rc->leader_change_offset = rc->leo;
	rc_epoch_append(rc, rc->hs.epoch, rc->leo);
	rc->leo++;
	rc_send_begins(rc, now);
}

/* Leader -> Resigned (graceful or check-quorum), or the restart of a former leader. */
void rc_become_resigned(struct raft_core *rc, int64_t now, bool send_end)
{
	int64_t ends[RAFT_CORE_VOTERS_MAX];
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++)
		ends[i] = rc->voters[i].end;
	rc_leave_role(rc, RAFT_RESIGNED);
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++)
		rc->voters[i].end = ends[i];
	rc->election_deadline = rc_add_ms(now, rc_election_timeout(rc));
	if (send_end)
		rc_send_end(rc, now, false);
}

/* The election-type timer of a voter expired (kraft.md §3.4, §3.5). */
void rc_election_timer_fired(struct raft_core *rc, int64_t now)
{
	if (rc->snap_installing) {
		/* Never campaign with a log about to be replaced. */
		rc->election_deadline = rc_add_ms(now, rc->cfg.retry_backoff_ms);
		return;
	}
	if (rc->role == RAFT_CANDIDATE && !rc->candidate_backoff) {
		rc_candidate_lost(rc, now);
		return;
	}
	if (rc->role == RAFT_PROSPECTIVE) {
		rc_prospective_lost(rc, now);
		return;
	}
	if (rc->cfg.pre_vote)
		rc_become_prospective(rc, now);
	else
		rc_become_candidate(rc, now);
}

/* §3.12: a response's epoch and leader drive transitions first. Returns false when the
 * response is from an older epoch (to be ignored beyond req_id bookkeeping). */
bool rc_common_response(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	if (m->epoch < rc->hs.epoch)
		return false;
	bool leader_ok = m->leader_id >= 0 && m->leader_id != rc->cfg.node_id;
	if (m->epoch > rc->hs.epoch) {
		if (leader_ok)
			rc_become_follower(rc, now, m->epoch, m->leader_id);
		else
			rc_become_unattached(rc, now, m->epoch);
	} else if (leader_ok && rc->hs.leader_id < 0) {
		rc_become_follower(rc, now, m->epoch, m->leader_id);
	}
	return true;
}

/* ---- init -------------------------------------------------------------------------------- */

static bool rc_fail_init(char *err, size_t err_len, const char *why)
{
	if (err && err_len > 0)
		snprintf(err, err_len, "%s", why);
	return false;
}

static const char *rc_check_config(const struct raft_core_config *cfg)
{
	if (cfg->voter_count < 1 || cfg->voter_count > RAFT_CORE_VOTERS_MAX)
		return "voter count out of range";
	for (uint32_t i = 0; i < cfg->voter_count; i++) {
		if (cfg->voters[i] < 0)
			return "negative voter id";
		for (uint32_t j = 0; j < i; j++)
			if (cfg->voters[i] == cfg->voters[j])
				return "duplicate voter";
	}
	if (cfg->node_id < 0)
		return "negative node id";
	if (!cfg->epoch_buf || cfg->epoch_cap < 2)
		return "epoch buffer too small";
	if (!cfg->out_buf || cfg->out_cap < 2 * cfg->voter_count)
		return "outbox too small";
	if (cfg->election_timeout_ms <= 0 || cfg->fetch_timeout_ms <= 0 ||
	    cfg->request_timeout_ms <= 0 || cfg->election_backoff_max_ms < 0 ||
	    cfg->retry_backoff_ms < 0 || cfg->fetch_max_wait_ms < 0)
		return "timeouts must be positive";
	return NULL;
}

static const char *rc_check_state(const struct raft_core_config *cfg,
                                  const struct raft_hard_state *hs,
                                  const struct raft_log_state *log)
{
	if (hs->epoch < 0 || hs->voted_id < RAFT_CORE_NONE || hs->leader_id < RAFT_CORE_NONE)
		return "invalid hard state";
	if (log->start_offset < 0 || log->end_offset < log->start_offset)
		return "log end before log start";
	if (log->snapshot.end_offset > log->end_offset)
		return "snapshot beyond the log end";
	if (log->start_offset > 0 && log->snapshot.end_offset < log->start_offset)
		return "log start beyond the latest snapshot";
	if (log->snapshot.end_offset >= 0 && (log->snapshot.epoch < 0 || log->snapshot_size < 0))
		return "invalid snapshot";
	if (log->epoch_count > cfg->epoch_cap)
		return "more epochs than epoch_cap";
	if (log->epoch_count > 0 && !log->epochs)
		return "missing epochs";
	for (uint32_t i = 0; i < log->epoch_count; i++) {
		const struct raft_epoch_entry *e = &log->epochs[i];
		if (e->epoch < 0 || e->start_offset < 0 || e->start_offset > log->end_offset)
			return "epoch entry out of range";
		if (e->epoch > hs->epoch)
			return "epoch entry beyond the current epoch";
		if (i > 0 && (e->epoch <= log->epochs[i - 1].epoch ||
		              e->start_offset <= log->epochs[i - 1].start_offset))
			return "epochs not ascending";
	}
	return NULL;
}

static void rc_init_role(struct raft_core *rc, int64_t now)
{
	const struct raft_hard_state *hs = &rc->hs;
	if (!rc->is_voter) {
		if (hs->leader_id >= 0 && hs->leader_id != rc->cfg.node_id)
			rc_become_follower(rc, now, hs->epoch, hs->leader_id);
		else
			rc_become_unattached(rc, now, hs->epoch);
	} else if (rc->cfg.voter_count == 1) {
		rc_set_hard_state(rc, hs->epoch, rc->cfg.node_id, RAFT_CORE_NONE);
		rc_become_candidate(rc, now); /* epoch + 1, self vote, then leader */
	} else if (hs->leader_id == rc->cfg.node_id) {
		/* Kafka comes back Resigned; nothing is sent (the followers time out). */
		rc_leave_role(rc, RAFT_RESIGNED);
		rc->election_deadline = rc_add_ms(now, rc_election_timeout(rc));
	} else if (hs->leader_id >= 0) {
		rc_become_follower(rc, now, hs->epoch, hs->leader_id);
	} else {
		rc_become_unattached(rc, now, hs->epoch);
	}
	rc->role_changed = true;
}

bool raft_core_init(struct raft_core *rc, const struct raft_core_config *cfg,
                    const struct raft_hard_state *hs, const struct raft_log_state *log, int64_t now,
                    char *err, size_t err_len)
{
	SL_ASSERT(rc && cfg && hs && log);
	const char *why = rc_check_config(cfg);
	if (!why)
		why = rc_check_state(cfg, hs, log);
	if (why)
		return rc_fail_init(err, err_len, why);
	memset(rc, 0, sizeof(*rc));
	rc->cfg = *cfg;
	rc->self_index = rc_voter_index(rc, cfg->node_id);
	rc->is_voter = rc->self_index >= 0;
	rc->majority = cfg->voter_count / 2 + 1;
	rc->rng = cfg->seed ^ ((uint64_t)(uint32_t)cfg->node_id * 0xd6e8feb86659fd93ULL);
	rc->next_req_id = (rc_rand(rc) ^ (uint64_t)now) & 0x0000ffffffffffffULL;
	rc->role = RAFT_UNATTACHED;
	rc->hs = *hs;
	rc->log_start = log->start_offset;
	rc->leo = log->end_offset;
	rc->durable = log->end_offset;
	rc->snap = log->snapshot;
	rc->snap_size = log->snapshot_size;
	if (rc->snap.end_offset < 0) {
		rc->snap.end_offset = -1;
		rc->snap.epoch = -1;
	}
	rc->hw = rc->snap.end_offset > 0 ? rc->snap.end_offset : -1;
	rc->epochs = cfg->epoch_buf;
	if (log->epoch_count > 0)
		memcpy(rc->epochs, log->epochs, log->epoch_count * sizeof(struct raft_epoch_entry));
	rc->epoch_count = log->epoch_count;
	rc_epoch_trim_start(rc, rc->log_start);
	rc->truncate_to = -1;
	rc->epoch_start = -1;
	rc->prospective_prev_leader = RAFT_CORE_NONE;
	rc->fetch_target = RAFT_CORE_NONE;
	rc->observer_rotation = (uint32_t)(rc_rand(rc) % cfg->voter_count);
	rc->election_deadline = RC_NEVER;
	rc->fetch_deadline = RC_NEVER;
	rc->snap_fetch_size = -1;
	for (uint32_t i = 0; i < cfg->voter_count; i++) {
		rc_peer_reset(&rc->voters[i]);
		rc->voters[i].id = cfg->voters[i];
	}
	for (uint32_t i = 0; i < RAFT_CORE_OBSERVERS_MAX; i++) {
		rc_peer_reset(&rc->observers[i]);
		rc->observers[i].id = RAFT_CORE_NONE;
	}
	rc_init_role(rc, now);
	rc_maybe_send_fetch(rc, now);
	return true;
}

/* ---- driving --------------------------------------------------------------------------------- */

void raft_core_step(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	if (rc->failed || !m || m->from == rc->cfg.node_id)
		return;
	switch (m->type) {
	case RAFT_VOTE_REQ:
		rc_handle_vote_req(rc, now, m);
		break;
	case RAFT_VOTE_RESP:
		rc_handle_vote_resp(rc, now, m);
		break;
	case RAFT_BEGIN_REQ:
		rc_handle_begin_req(rc, now, m);
		break;
	case RAFT_BEGIN_RESP:
		rc_common_response(rc, now, m);
		break;
	case RAFT_END_REQ:
		rc_handle_end_req(rc, now, m);
		break;
	case RAFT_END_RESP:
		rc_handle_end_resp(rc, now, m);
		break;
	case RAFT_FETCH_REQ:
		rc_handle_fetch_req(rc, now, m);
		break;
	case RAFT_FETCH_RESP:
		rc_handle_fetch_resp(rc, now, m);
		break;
	case RAFT_SNAP_REQ:
		rc_handle_snap_req(rc, now, m);
		break;
	case RAFT_SNAP_RESP:
		rc_handle_snap_resp(rc, now, m);
		break;
	default:
		break;
	}
	rc_maybe_send_fetch(rc, now);
	rc_maybe_send_snap_req(rc, now);
}

void raft_core_tick(struct raft_core *rc, int64_t now)
{
	if (rc->failed)
		return;
	if (rc->election_deadline <= now) {
		rc->election_deadline = RC_NEVER;
		rc_election_timer_fired(rc, now);
	}
	if (rc->role == RAFT_PROSPECTIVE || rc->role == RAFT_CANDIDATE)
		rc_send_votes(rc, now, true);
	if (rc->role == RAFT_RESIGNED)
		rc_send_end(rc, now, true);
	if (rc->role == RAFT_LEADER)
		rc_tick_leader(rc, now);
	rc_tick_fetch(rc, now);
	rc_maybe_send_fetch(rc, now);
	rc_maybe_send_snap_req(rc, now);
}

static int64_t rc_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int64_t raft_core_next_deadline(const struct raft_core *rc)
{
	if (rc->failed)
		return RC_NEVER;
	int64_t d = rc->election_deadline;
	int64_t rto = rc->cfg.request_timeout_ms;
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++) {
		const struct rc_peer *p = &rc->voters[i];
		if (p->req_outstanding)
			d = rc_min(d, rc_add_ms(p->req_sent_ms, rto));
		d = rc_min(d, p->begin_next_ms);
		if (p->parked)
			d = rc_min(d, p->park_deadline);
	}
	if (rc->role == RAFT_LEADER) {
		for (uint32_t i = 0; i < RAFT_CORE_OBSERVERS_MAX; i++)
			if (rc->observers[i].parked)
				d = rc_min(d, rc->observers[i].park_deadline);
		d = rc_min(d, rc_check_quorum_deadline(rc));
	}
	d = rc_min(d, rc->fetch_deadline);
	if (rc->fetch_outstanding)
		d = rc_min(d, rc_add_ms(rc->fetch_sent_ms, rto));
	else if ((rc->role == RAFT_FOLLOWER || (!rc->is_voter && rc->role == RAFT_UNATTACHED)) &&
	         !rc->snap_fetching && !rc->snap_installing && rc->durable >= rc->leo)
		d = rc_min(d, rc->fetch_not_before);
	if (rc->snap_fetching && !rc->snap_installing)
		d = rc_min(d, rc->snap_req_outstanding ? rc_add_ms(rc->snap_req_sent_ms, rto)
		                                       : rc->snap_not_before);
	return d;
}

bool raft_core_propose(struct raft_core *rc, int64_t now, uint32_t records, int64_t *base_offset,
                       int32_t *epoch)
{
	if (rc->failed || rc->role != RAFT_LEADER || records == 0)
		return false;
	*base_offset = rc->leo;
	*epoch = rc->hs.epoch;
	rc->leo += records;
	rc_update_hw(rc);
	rc_wake_parked(rc, now, false);
	return true;
}

void raft_core_log_flushed(struct raft_core *rc, int64_t now, int64_t end_offset)
{
	if (rc->failed)
		return;
	if (end_offset > rc->durable)
		rc->durable = end_offset < rc->leo ? end_offset : rc->leo;
	if (rc->role == RAFT_LEADER) {
		rc_update_hw(rc);
		rc_wake_parked(rc, now, false);
	}
	rc_maybe_send_fetch(rc, now);
}

void raft_core_resign(struct raft_core *rc, int64_t now)
{
	if (rc->failed || rc->role != RAFT_LEADER)
		return;
	rc_become_resigned(rc, now, true);
}

void raft_core_snapshot_taken(struct raft_core *rc, struct raft_snapshot_id id, int64_t size)
{
	SL_ASSERT(id.end_offset >= 0 && id.epoch >= 0 && size >= 0);
	SL_ASSERT(id.end_offset <= rc->leo);
	if (id.end_offset <= rc->snap.end_offset)
		return;
	rc->snap = id;
	rc->snap_size = size;
}

void raft_core_log_start_advanced(struct raft_core *rc, int64_t start_offset)
{
	SL_ASSERT(start_offset <= rc->snap.end_offset);
	SL_ASSERT(start_offset <= rc->leo);
	if (start_offset <= rc->log_start)
		return;
	rc->log_start = start_offset;
	rc_epoch_trim_start(rc, start_offset);
}

void raft_core_ready(const struct raft_core *rc, struct raft_ready *out)
{
	memset(out, 0, sizeof(*out));
	out->persist = rc->persist;
	out->hard_state = rc->hs;
	out->truncate_to = rc->truncate_to;
	out->leader_change = rc->leader_change;
	out->leader_change_offset = rc->leader_change ? rc->leader_change_offset : -1;
	out->append_count = rc->append_count;
	out->snapshot_write = rc->snapshot_write;
	out->snapshot_position = rc->snapshot_position;
	out->snapshot_len = rc->snapshot_len;
	out->snapshot_install = rc->snapshot_install;
	out->snapshot = rc->snapshot_install_id;
	if (rc->snapshot_write && !rc->snapshot_install)
		out->snapshot = rc->snap_fetch_id;
	out->msgs = rc->cfg.out_buf;
	out->msg_count = rc->out_count;
	out->high_watermark = rc->hw;
	out->role = rc->role;
	out->role_changed = rc->role_changed;
	out->epoch = rc->hs.epoch;
	out->leader_id = rc->hs.leader_id;
	out->epoch_start_offset = rc->role == RAFT_LEADER ? rc->epoch_start : -1;
}

void raft_core_advance(struct raft_core *rc)
{
	rc->persist = false;
	rc->role_changed = false;
	rc->truncate_to = -1;
	rc->leader_change = false;
	rc->append_count = 0;
	rc->snapshot_write = false;
	rc->snapshot_install = false;
	rc->out_count = 0;
}

/* ---- accessors --------------------------------------------------------------------------------
 */

enum raft_role raft_core_role(const struct raft_core *rc)
{
	return rc->role;
}

int32_t raft_core_epoch(const struct raft_core *rc)
{
	return rc->hs.epoch;
}

int32_t raft_core_leader_id(const struct raft_core *rc)
{
	return rc->hs.leader_id;
}

int64_t raft_core_high_watermark(const struct raft_core *rc)
{
	return rc->hw;
}

int64_t raft_core_end_offset(const struct raft_core *rc)
{
	return rc->leo;
}

int64_t raft_core_durable_end(const struct raft_core *rc)
{
	return rc->durable;
}

int64_t raft_core_log_start(const struct raft_core *rc)
{
	return rc->log_start;
}

int32_t raft_core_last_epoch(const struct raft_core *rc)
{
	return rc_last_epoch(rc);
}

bool raft_core_is_voter(const struct raft_core *rc)
{
	return rc->is_voter;
}

struct raft_hard_state raft_core_hard_state(const struct raft_core *rc)
{
	return rc->hs;
}

bool raft_core_epoch_end(const struct raft_core *rc, int32_t epoch, int32_t *found_epoch,
                         int64_t *end_offset)
{
	bool found;
	int32_t fe;
	int64_t end;
	rc_end_for_epoch(rc, epoch, &fe, &end, &found);
	if (found) {
		*found_epoch = fe;
		*end_offset = end;
	}
	return found;
}

uint64_t raft_core_dropped(const struct raft_core *rc)
{
	return rc->dropped;
}

bool raft_core_failed(const struct raft_core *rc)
{
	return rc->failed;
}

const char *raft_core_failure(const struct raft_core *rc)
{
	return rc->failure ? rc->failure : "";
}
