/*
 * replicate.c: pull-based replication of the KRaft core (kraft.md §3.6-§3.8, §3.12): the
 * leader's Fetch handling (validation, DivergingEpoch, snapshot redirect, long polls,
 * replica progress, high watermark) and the follower/observer side (one outstanding Fetch,
 * sent only once the log is durable up to its end; truncation; appends).
 *
 * Invariants: the leader's high watermark is the majority value of voters' durable ends, only
 * above the epoch start offset and never decreasing; a follower's high watermark is
 * min(leader's, local end), taken only from the answer to a fetch the leader validated (never
 * with DivergingEpoch: the log may still hold entries conflicting with committed ones), and
 * never decreases; a follower never truncates below it (fatal).
 */
#include "raft_core_int.h"

/* ---- leader: replica progress and the high watermark ---------------------------------------- */

/* The progress slot of replica id (voter, or a tracked observer; a new observer takes a free
 * slot or one silent for 2 x fetch timeout). NULL for self or an untracked observer. */
struct rc_peer *rc_replica(struct raft_core *rc, int32_t id, int64_t now, bool create)
{
	if (id < 0 || id == rc->cfg.node_id)
		return NULL;
	struct rc_peer *v = rc_voter(rc, id);
	if (v)
		return v;
	struct rc_peer *free_slot = NULL;
	for (uint32_t i = 0; i < RAFT_CORE_OBSERVERS_MAX; i++) {
		struct rc_peer *p = &rc->observers[i];
		if (p->id == id)
			return p;
		bool stale = p->id != RAFT_CORE_NONE && !p->parked &&
		             p->last_fetch_ms < now - 2 * rc->cfg.fetch_timeout_ms;
		if (!free_slot && (p->id == RAFT_CORE_NONE || stale))
			free_slot = p;
	}
	if (!create || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->id = id;
	free_slot->end = -1;
	free_slot->last_fetch_ms = -1;
	free_slot->last_caught_up_ms = -1;
	free_slot->begin_next_ms = RC_NEVER;
	free_slot->hw_sent = -2;
	return free_slot;
}

/* kraft.md §3.6: the value at index voter_count/2 of the voters' durable ends sorted
 * descending (the leader's own end counts once flushed), adopted only above the epoch start
 * offset and never backwards. */
void rc_update_hw(struct raft_core *rc)
{
	if (rc->role != RAFT_LEADER)
		return;
	int64_t ends[RAFT_CORE_VOTERS_MAX];
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++) {
		int64_t e = rc->voters[i].end;
		if ((int32_t)i == rc->self_index)
			e = RC_CANARY(rc, RAFT_CANARY_LEADER_UNFLUSHED_HW) ? rc->leo : rc->durable;
		uint32_t j = i;
		while (j > 0 && ends[j - 1] < e) {
			ends[j] = ends[j - 1];
			j--;
		}
		ends[j] = e;
	}
	int64_t hw = ends[rc->cfg.voter_count / 2];
	if (hw > rc->leo)
		hw = rc->leo;
	bool above_start = hw > rc->epoch_start || RC_CANARY(rc, RAFT_CANARY_HW_BEFORE_EPOCH);
	if (above_start && hw > rc->hw)
		rc->hw = hw;
}

/* Epoch, leader, high watermark and log start of every Fetch response. */
void rc_fill_fetch_resp_common(const struct raft_core *rc, struct raft_msg *r)
{
	r->epoch = rc->hs.epoch;
	r->leader_id = rc->hs.leader_id;
	r->high_watermark = rc->hw;
	r->log_start = rc->log_start;
}

static void rc_answer_parked(struct raft_core *rc, struct rc_peer *p)
{
	p->parked = false;
	struct raft_msg *r = rc_msg_new(rc, RAFT_FETCH_RESP, p->id);
	if (!r)
		return;
	r->req_id = p->park_req_id;
	rc_fill_fetch_resp_common(rc, r);
	p->hw_sent = rc->hw;
	if (rc->role == RAFT_LEADER && p->park_fetch_offset < rc->leo)
		r->records_from = p->park_fetch_offset;
}

static void rc_wake_one(struct raft_core *rc, struct rc_peer *p, int64_t now, bool all)
{
	if (!p->parked)
		return;
	bool due = all || rc->leo > p->park_fetch_offset || rc->hw != p->hw_sent ||
	           now >= p->park_deadline;
	/* With a full outbox the fetch stays parked (answered at a later event or its expiry). */
	if (due && (all || rc->out_count < rc->cfg.out_cap))
		rc_answer_parked(rc, p);
}

/* Answers parked long polls whose end or high watermark moved or whose wait expired (all:
 * every one, when leaving leadership). */
void rc_wake_parked(struct raft_core *rc, int64_t now, bool all)
{
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++)
		rc_wake_one(rc, &rc->voters[i], now, all);
	for (uint32_t i = 0; i < RAFT_CORE_OBSERVERS_MAX; i++)
		rc_wake_one(rc, &rc->observers[i], now, all);
}

/* ---- leader: Fetch requests --------------------------------------------------------------------
 */

/* kraft.md §3.7 epoch checks shared by Fetch and FetchSnapshot. */
int16_t rc_validate_leader_epoch(struct raft_core *rc, int32_t req_epoch, bool *stale_served)
{
	*stale_served = false;
	if (req_epoch < rc->hs.epoch) {
		if (rc->role == RAFT_LEADER && RC_CANARY(rc, RAFT_CANARY_STALE_EPOCH_FETCH)) {
			*stale_served = true;
			return RC_ERR_NONE;
		}
		return RC_ERR_FENCED_LEADER_EPOCH;
	}
	if (req_epoch > rc->hs.epoch)
		return RC_ERR_UNKNOWN_LEADER_EPOCH;
	if (rc->role != RAFT_LEADER)
		return RC_ERR_NOT_LEADER_OR_FOLLOWER;
	return RC_ERR_NONE;
}

enum rc_fetch_verdict { RC_FETCH_VALID, RC_FETCH_SNAPSHOT, RC_FETCH_DIVERGING };

/* ReplicatedLog.validateOffsetAndEpoch rules 1-4 (kraft.md §3.7). */
static enum rc_fetch_verdict rc_validate_offset(const struct raft_core *rc,
                                                const struct raft_msg *m, int32_t *div_epoch,
                                                int64_t *div_end)
{
	bool has_snap = rc->snap.end_offset > 0;
	if (m->fetch_offset == 0 && has_snap)
		return RC_FETCH_SNAPSHOT;
	if (rc->log_start == 0 && m->fetch_offset == 0)
		return RC_FETCH_VALID;
	if (has_snap && m->fetch_offset < rc->log_start)
		return RC_FETCH_SNAPSHOT;
	bool snap_at_start = has_snap && rc->snap.end_offset == rc->log_start;
	if (snap_at_start &&
	    ((m->fetch_offset == rc->log_start && m->last_fetched_epoch != rc->snap.epoch) ||
	     m->last_fetched_epoch < rc->snap.epoch))
		return RC_FETCH_SNAPSHOT;
	bool found;
	rc_end_for_epoch(rc, m->last_fetched_epoch, div_epoch, div_end, &found);
	/* Older than every epoch left after compaction: where it ended is no longer known. */
	if (!found && has_snap && rc->log_start > 0)
		return RC_FETCH_SNAPSHOT;
	if (*div_epoch != m->last_fetched_epoch || *div_end < m->fetch_offset)
		return RC_FETCH_DIVERGING;
	return RC_FETCH_VALID;
}

static bool rc_fetch_req_malformed(const struct raft_msg *m)
{
	return m->max_wait_ms < 0 || m->fetch_offset < 0 || m->last_fetched_epoch < 0 ||
	       m->last_fetched_epoch > m->epoch;
}

/* A valid fetch: progress, high watermark, then records, a long poll or an empty answer.
 * A fetch is parked only when the replica already has the current high watermark and did not
 * just replace a parked fetch (a restarted or timed-out replica gets its answer at once). */
static void rc_serve_fetch(struct raft_core *rc, int64_t now, const struct raft_msg *m,
                           struct rc_peer *p, bool superseded)
{
	if (p) {
		p->end = m->fetch_offset;
		if (m->fetch_offset >= rc->leo)
			p->last_caught_up_ms = now;
	}
	if (p && rc_voter_index(rc, p->id) >= 0) {
		rc_update_hw(rc);
		rc_wake_parked(rc, now, false);
	}
	if (m->fetch_offset >= rc->leo && m->max_wait_ms > 0 && p && !superseded &&
	    p->hw_sent == rc->hw) {
		p->parked = true;
		p->park_req_id = m->req_id;
		p->park_fetch_offset = m->fetch_offset;
		p->park_deadline = rc_add_ms(now, m->max_wait_ms);
		return;
	}
	struct raft_msg *r = rc_reply(rc, m, RAFT_FETCH_RESP);
	if (!r)
		return;
	rc_fill_fetch_resp_common(rc, r);
	if (p)
		p->hw_sent = rc->hw;
	if (m->fetch_offset < rc->leo)
		r->records_from = m->fetch_offset;
}

void rc_handle_fetch_req(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	bool stale = false;
	int16_t err = rc_fetch_req_malformed(m) ? RC_ERR_INVALID_REQUEST
	                                        : rc_validate_leader_epoch(rc, m->epoch, &stale);
	struct rc_peer *p = NULL;
	bool superseded = false;
	if (err == RC_ERR_NONE) {
		p = rc_replica(rc, m->from, now, true);
		if (p) {
			p->last_fetch_ms = now;
			p->fetched_this_epoch = true;
			p->begin_next_ms = RC_NEVER;
			superseded = p->parked;
			if (p->parked) /* a newer fetch answers the older one (empty) */
				rc_answer_parked(rc, p);
		}
	}
	int32_t div_epoch = -1;
	int64_t div_end = -1;
	enum rc_fetch_verdict v = RC_FETCH_VALID;
	if (err == RC_ERR_NONE)
		v = rc_validate_offset(rc, m, &div_epoch, &div_end);
	if (err == RC_ERR_NONE && v == RC_FETCH_VALID) {
		rc_serve_fetch(rc, now, m, p, superseded);
		return;
	}
	struct raft_msg *r = rc_reply(rc, m, RAFT_FETCH_RESP);
	if (!r)
		return;
	rc_fill_fetch_resp_common(rc, r);
	r->error = err;
	if (err == RC_ERR_NONE && v == RC_FETCH_SNAPSHOT) {
		r->snapshot_id = rc->snap;
	} else if (err == RC_ERR_NONE) {
		r->diverging_epoch = div_epoch;
		r->diverging_end_offset = div_end;
	}
}

/* ---- follower / observer: sending Fetch
 * ---------------------------------------------------------- */

static bool rc_fetching_role(const struct raft_core *rc)
{
	return rc->role == RAFT_FOLLOWER || (!rc->is_voter && rc->role == RAFT_UNATTACHED);
}

/* Sends the next Fetch when none is outstanding and the log is durable up to its end. */
void rc_maybe_send_fetch(struct raft_core *rc, int64_t now)
{
	if (rc->failed || !rc_fetching_role(rc) || rc->fetch_outstanding || rc->snap_fetching ||
	    rc->snap_installing || rc->durable < rc->leo || now < rc->fetch_not_before ||
	    rc->fetch_target < 0)
		return;
	struct raft_msg *m = rc_msg_new(rc, RAFT_FETCH_REQ, rc->fetch_target);
	if (!m) {
		rc->fetch_not_before =
		        rc_add_ms(now, rc->cfg.retry_backoff_ms > 0 ? rc->cfg.retry_backoff_ms : 1);
		return;
	}
	m->req_id = rc->fetch_req_id = rc->next_req_id++;
	m->leader_id = rc->hs.leader_id;
	m->fetch_offset = rc->leo;
	m->last_fetched_epoch = rc_last_epoch(rc);
	m->max_wait_ms = rc->cfg.fetch_max_wait_ms;
	rc->fetch_outstanding = true;
	rc->fetch_sent_ms = now;
}

/* Observer without a leader: ask the next voter. */
static void rc_observer_rotate(struct raft_core *rc)
{
	if (rc->is_voter || rc->role != RAFT_UNATTACHED)
		return;
	rc->fetch_target = rc->cfg.voters[rc->observer_rotation % rc->cfg.voter_count];
	rc->observer_rotation = (rc->observer_rotation + 1) % rc->cfg.voter_count;
}

/* Request timeout (resend) and fetch timeout (voter: election; observer: find the leader). */
void rc_tick_fetch(struct raft_core *rc, int64_t now)
{
	if (rc->fetch_outstanding &&
	    now >= rc_add_ms(rc->fetch_sent_ms, rc->cfg.request_timeout_ms)) {
		rc->fetch_outstanding = false;
		rc_observer_rotate(rc);
	}
	if (rc->fetch_deadline > now)
		return;
	rc->fetch_deadline = RC_NEVER;
	if (rc->role != RAFT_FOLLOWER)
		return;
	if (rc->is_voter) {
		rc_election_timer_fired(rc, now);
	} else {
		rc_become_unattached(rc, now, rc->hs.epoch);
	}
}

/* ---- follower / observer: Fetch responses -------------------------------------------------------
 */

static void rc_fail(struct raft_core *rc, const char *why)
{
	rc->failed = true;
	rc->failure = why;
}

/* DivergingEpoch (Kafka's ReplicatedLog.truncateToEndOffset): with (E, End) from the leader
 * and (e, end) = the local end of the largest epoch <= E, truncate to min(End, end) when e == E
 * (or E == 0: min(End, leo)), else to end (the local epoch e < E ended there; the next fetch,
 * with last fetched epoch e, finds the exact point). A DivergingEpoch below the high watermark
 * contradicts committed data: fatal, as is a truncation point below it or the log start. */
static void rc_follower_truncate(struct raft_core *rc, const struct raft_msg *m)
{
	int32_t fe;
	int64_t end;
	bool found;
	int64_t t;
	if (m->diverging_epoch == 0) {
		t = m->diverging_end_offset < rc->leo ? m->diverging_end_offset : rc->leo;
	} else {
		rc_end_for_epoch(rc, m->diverging_epoch, &fe, &end, &found);
		if (fe == m->diverging_epoch)
			t = m->diverging_end_offset < end ? m->diverging_end_offset : end;
		else
			t = end;
	}
	if (t < 0 || t >= rc->leo)
		return;
	bool below_hw = rc->hw >= 0 && (t < rc->hw || m->diverging_end_offset < rc->hw);
	if (below_hw) {
		if (!RC_CANARY(rc, RAFT_CANARY_TRUNCATE_BELOW_HW)) {
			rc_fail(rc, "asked to truncate below the high watermark");
			return;
		}
		if (t < rc->log_start)
			t = rc->log_start;
		if (t < rc->hw)
			rc->hw = t;
	}
	if (t < rc->log_start) {
		rc_fail(rc, "asked to truncate below the log start");
		return;
	}
	rc->leo = t;
	if (rc->durable > t)
		rc->durable = t;
	rc_epoch_truncate(rc, t);
	if (rc->truncate_to < 0 || t < rc->truncate_to)
		rc->truncate_to = t;
}

/* Appends the accepted prefix of the batches: contiguous from the log end, epochs
 * non-decreasing, not below the last local epoch and not above the response's epoch. */
static void rc_follower_append(struct raft_core *rc, const struct raft_msg *m)
{
	if (!m->batches)
		return;
	int64_t next = rc->leo;
	int32_t last_epoch = rc_last_epoch(rc);
	uint32_t n = 0;
	for (uint32_t i = 0; i < m->batch_count; i++) {
		const struct raft_batch *b = &m->batches[i];
		if (b->base_offset != next || b->last_offset < b->base_offset ||
		    b->epoch < last_epoch || b->epoch > m->epoch || b->last_offset == INT64_MAX)
			break;
		if (rc->epoch_count == 0 || b->epoch > rc->epochs[rc->epoch_count - 1].epoch)
			rc_epoch_append(rc, b->epoch, b->base_offset);
		last_epoch = b->epoch;
		next = b->last_offset + 1;
		n++;
	}
	rc->leo = next;
	rc->append_count = n;
}

static void rc_follower_fetch_ok(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	rc->fetched_from_leader = true;
	rc->fetch_deadline = rc_add_ms(now, rc->cfg.fetch_timeout_ms);
	rc->retries = 0;
	if (m->diverging_epoch >= 0) {
		/* The log is not known to match the leader yet: no high watermark from this
		 * response (Kafka updates it only on the append path). */
		rc_follower_truncate(rc, m);
		return;
	}
	if (m->snapshot_id.end_offset >= 0) {
		if (m->snapshot_id.end_offset > 0 && m->snapshot_id.epoch >= 0)
			rc_start_snapshot_fetch(rc, now, m->snapshot_id);
		else
			rc->fetch_not_before = rc_add_ms(now, rc->cfg.retry_backoff_ms);
		return;
	}
	/* The leader validated (FetchOffset, LastFetchedEpoch): the log matches the leader's up
	 * to its end (and after the accepted batches), so min(leader HW, end) is committed here. */
	if (m->batch_count > 0)
		rc_follower_append(rc, m);
	if (m->high_watermark >= 0) {
		int64_t hw = m->high_watermark < rc->leo ? m->high_watermark : rc->leo;
		if (hw > rc->hw)
			rc->hw = hw;
	}
}

void rc_handle_fetch_resp(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	bool ours = rc->fetch_outstanding && m->req_id == rc->fetch_req_id &&
	            m->from == rc->fetch_target;
	if (ours)
		rc->fetch_outstanding = false;
	bool current = rc_common_response(rc, now, m);
	if (!ours)
		return;
	bool from_leader = rc->role == RAFT_FOLLOWER && rc->hs.leader_id == m->from;
	if (current && from_leader && m->error == RC_ERR_NONE && m->epoch == rc->hs.epoch &&
	    rc->append_count == 0 && !rc->snapshot_write) {
		rc_follower_fetch_ok(rc, now, m);
		return;
	}
	if (rc->role == RAFT_FOLLOWER && !from_leader) {
		rc->fetch_not_before = 0; /* just learned the leader: fetch from it now */
		return;
	}
	rc->fetch_not_before = rc_add_ms(now, rc->cfg.retry_backoff_ms);
	rc_observer_rotate(rc);
}

/* ---- DescribeQuorum
 * ------------------------------------------------------------------------------ */

static void rc_replica_out(const struct rc_peer *p, struct raft_replica_state *o)
{
	o->id = p->id;
	o->log_end_offset = p->end;
	o->last_fetch_ms = p->last_fetch_ms;
	o->last_caught_up_ms = p->last_caught_up_ms;
}

uint32_t raft_core_replicas(const struct raft_core *rc, int64_t now, struct raft_replica_state *out,
                            uint32_t cap, uint32_t *voter_count)
{
	uint32_t n = 0;
	*voter_count = 0;
	if (rc->role != RAFT_LEADER)
		return 0;
	for (uint32_t i = 0; i < rc->cfg.voter_count && n < cap; i++, n++) {
		rc_replica_out(&rc->voters[i], &out[n]);
		if ((int32_t)i == rc->self_index) {
			out[n].log_end_offset = rc->leo;
			out[n].last_fetch_ms = now;
			out[n].last_caught_up_ms = now;
		}
	}
	*voter_count = n;
	for (uint32_t i = 0; i < RAFT_CORE_OBSERVERS_MAX && n < cap; i++)
		if (rc->observers[i].id != RAFT_CORE_NONE)
			rc_replica_out(&rc->observers[i], &out[n++]);
	return n;
}
