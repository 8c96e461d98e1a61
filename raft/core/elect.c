/*
 * elect.c: elections and leadership announcements of the KRaft core (kraft.md §3.4-§3.6):
 * Vote (pre-vote and real), BeginQuorumEpoch, EndQuorumEpoch, check-quorum.
 *
 * Invariants: a real vote is granted at most once per epoch (the grant sets hs.voted_id, which
 * the next ready persists before the reply is sent); a pre-vote records nothing (a higher epoch in
 * it still moves us to that epoch, unattached); a candidate or prospective counts only answers to
 * its current request round (req_id per voter).
 */
#include "raft_core_int.h"

/* ---- sending ----------------------------------------------------------------------------------
 */

static void rc_send_vote_to(struct raft_core *rc, int64_t now, struct rc_peer *p)
{
	struct raft_msg *m = rc_msg_new(rc, RAFT_VOTE_REQ, p->id);
	p->req_outstanding = true;
	p->req_sent_ms = now;
	if (!m)
		return;
	m->req_id = p->req_id;
	m->pre_vote = rc->role == RAFT_PROSPECTIVE;
	m->leader_id = RAFT_CORE_NONE;
	m->last_epoch = rc_last_epoch(rc);
	m->last_offset = rc->leo;
}

/* Vote requests to the other voters: a new round, or resends of unanswered ones. */
void rc_send_votes(struct raft_core *rc, int64_t now, bool resend_only)
{
	if (rc->candidate_backoff)
		return;
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++) {
		struct rc_peer *p = &rc->voters[i];
		if ((int32_t)i == rc->self_index)
			continue;
		if (!resend_only) {
			p->req_id = rc->next_req_id++;
			p->vote = 0;
			rc_send_vote_to(rc, now, p);
		} else if (p->req_outstanding && p->vote == 0 &&
		           now >= rc_add_ms(p->req_sent_ms, rc->cfg.request_timeout_ms)) {
			rc_send_vote_to(rc, now, p);
		}
	}
}

/* Other voters ordered by fetch offset, most caught-up first (ties: configuration order). */
static uint32_t rc_successors(const struct raft_core *rc, int32_t *out)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++) {
		if ((int32_t)i == rc->self_index)
			continue;
		uint32_t j = n++;
		while (j > 0 &&
		       rc_voter((struct raft_core *)rc, out[j - 1])->end < rc->voters[i].end) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = rc->voters[i].id;
	}
	return n;
}

static void rc_send_end_to(struct raft_core *rc, int64_t now, struct rc_peer *p)
{
	struct raft_msg *m = rc_msg_new(rc, RAFT_END_REQ, p->id);
	p->req_outstanding = true;
	p->req_sent_ms = now;
	if (!m)
		return;
	m->req_id = p->req_id;
	m->leader_id = rc->cfg.node_id;
	m->successor_count = rc_successors(rc, m->successors);
}

/* EndQuorumEpoch to the other voters (resigned leader); resent until acknowledged. */
void rc_send_end(struct raft_core *rc, int64_t now, bool resend_only)
{
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++) {
		struct rc_peer *p = &rc->voters[i];
		if ((int32_t)i == rc->self_index)
			continue;
		if (!resend_only) {
			p->req_id = rc->next_req_id++;
			p->vote = 0;
			rc_send_end_to(rc, now, p);
		} else if (p->req_outstanding && p->vote == 0 &&
		           now >= rc_add_ms(p->req_sent_ms, rc->cfg.request_timeout_ms)) {
			rc_send_end_to(rc, now, p);
		}
	}
}

static void rc_send_begin_to(struct raft_core *rc, int64_t now, struct rc_peer *p)
{
	p->begin_next_ms =
	        rc_add_ms(now, rc->cfg.fetch_timeout_ms / 2 > 0 ? rc->cfg.fetch_timeout_ms / 2 : 1);
	struct raft_msg *m = rc_msg_new(rc, RAFT_BEGIN_REQ, p->id);
	if (!m)
		return;
	m->req_id = rc->next_req_id++;
	m->leader_id = rc->cfg.node_id;
}

/* BeginQuorumEpoch to every other voter (on election). */
void rc_send_begins(struct raft_core *rc, int64_t now)
{
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++)
		if ((int32_t)i != rc->self_index)
			rc_send_begin_to(rc, now, &rc->voters[i]);
}

/* ---- leader timers ------------------------------------------------------------------------------
 */

/* When check-quorum fails unless more voters fetch: the (majority-1)-th most recent fetch of
 * the other voters (or the election) + 1.5 x fetch timeout. Never for one voter. */
int64_t rc_check_quorum_deadline(const struct raft_core *rc)
{
	if (rc->role != RAFT_LEADER || rc->majority <= 1)
		return RC_NEVER;
	int64_t t[RAFT_CORE_VOTERS_MAX];
	uint32_t n = 0;
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++) {
		if ((int32_t)i == rc->self_index)
			continue;
		uint32_t j = n++;
		while (j > 0 && t[j - 1] < rc->voters[i].last_fetch_ms) {
			t[j] = t[j - 1];
			j--;
		}
		t[j] = rc->voters[i].last_fetch_ms;
	}
	int64_t base = t[rc->majority - 2];
	if (base < rc->leader_since_ms)
		base = rc->leader_since_ms;
	return rc_add_ms(base, rc->cfg.fetch_timeout_ms + rc->cfg.fetch_timeout_ms / 2);
}

void rc_tick_leader(struct raft_core *rc, int64_t now)
{
	if (now >= rc_check_quorum_deadline(rc)) {
		rc_become_resigned(rc, now, true);
		return;
	}
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++) {
		struct rc_peer *p = &rc->voters[i];
		if ((int32_t)i != rc->self_index && !p->fetched_this_epoch &&
		    p->begin_next_ms <= now)
			rc_send_begin_to(rc, now, p);
	}
	rc_wake_parked(rc, now, false);
}

/* ---- elections lost
 * ------------------------------------------------------------------------------ */

/* Pre-vote lost (rejected or timed out): back to the follower or unattached state it came
 * from, with an exponential-backoff timer (kraft.md §3.4, §3.5). */
void rc_prospective_lost(struct raft_core *rc, int64_t now)
{
	rc->retries++;
	int32_t prev = rc->prospective_prev_leader;
	int64_t backoff = rc_backoff_ms(rc) + rc->cfg.retry_backoff_ms + 1;
	if (prev >= 0 && prev != rc->cfg.node_id) {
		rc_become_follower(rc, now, rc->hs.epoch, prev);
		rc->fetch_deadline = rc_add_ms(now, backoff);
	} else {
		rc_become_unattached(rc, now, rc->hs.epoch);
		rc->election_deadline = rc_add_ms(now, backoff);
	}
}

/* Candidate lost or timed out: random backoff, then a new election. */
void rc_candidate_lost(struct raft_core *rc, int64_t now)
{
	rc->retries++;
	rc->candidate_backoff = true;
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++)
		rc->voters[i].req_outstanding = false;
	rc->election_deadline = rc_add_ms(now, rc_backoff_ms(rc) + 1); /* strictly after now */
}

/* ---- Vote
 * ----------------------------------------------------------------------------------------- */

static bool rc_log_up_to_date(const struct raft_core *rc, const struct raft_msg *m)
{
	int32_t le = rc_last_epoch(rc);
	return m->last_epoch > le || (m->last_epoch == le && m->last_offset >= rc->leo);
}

/* kraft.md §3.4 (real vote) and §3.5 (pre-vote) grant rules for the current role. */
static bool rc_can_grant(const struct raft_core *rc, const struct raft_msg *m)
{
	if (!rc->is_voter)
		return false;
	if (m->pre_vote) {
		if (rc->role == RAFT_UNATTACHED || rc->role == RAFT_PROSPECTIVE)
			return rc_log_up_to_date(rc, m);
		if (rc->role == RAFT_FOLLOWER)
			return !rc->fetched_from_leader && rc_log_up_to_date(rc, m);
		return false;
	}
	if (m->epoch != rc->hs.epoch)
		return false;
	if (rc->role != RAFT_UNATTACHED && rc->role != RAFT_PROSPECTIVE)
		return false;
	if (rc->hs.voted_id != RAFT_CORE_NONE)
		return rc->hs.voted_id == m->from;
	if (rc->hs.leader_id != RAFT_CORE_NONE)
		return false;
	return rc_log_up_to_date(rc, m);
}

static int16_t rc_validate_vote(const struct raft_core *rc, const struct raft_msg *m)
{
	if (m->last_offset < 0 || m->last_epoch < 0 || m->epoch < 0 || m->from < 0)
		return RC_ERR_INVALID_REQUEST;
	if (m->pre_vote ? m->last_epoch > m->epoch : m->last_epoch >= m->epoch)
		return RC_ERR_INVALID_REQUEST;
	if (m->epoch < rc->hs.epoch)
		return RC_ERR_FENCED_LEADER_EPOCH;
	return RC_ERR_NONE;
}

void rc_handle_vote_req(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	int16_t err = rc_validate_vote(rc, m);
	bool granted = false;
	if (err == RC_ERR_NONE) {
		/* A higher epoch moves us to it, pre-vote or not (KAFKA-17641): a voter that
		 * bumped its epoch as a candidate and lost must not be left alone in it. A
		 * pre-vote records no vote; its grant then follows the Unattached rule. A
		 * partitioned node never gets here with a higher epoch: it stays Prospective
		 * in its old epoch until a majority pre-votes for it. */
		if (m->epoch > rc->hs.epoch)
			rc_become_unattached(rc, now, m->epoch);
		granted = rc_can_grant(rc, m);
		if (granted && !m->pre_vote && rc->hs.voted_id == RAFT_CORE_NONE &&
		    !RC_CANARY(rc, RAFT_CANARY_VOTE_NOT_PERSISTED)) {
			if (rc->role == RAFT_PROSPECTIVE)
				rc_become_unattached(rc, now, rc->hs.epoch);
			/* Recorded now, persisted by the ready that also carries the reply. */
			rc_set_hard_state(rc, rc->hs.epoch, m->from, RAFT_CORE_NONE);
			rc->election_deadline = rc_add_ms(now, rc_election_timeout(rc));
		}
	}
	struct raft_msg *r = rc_reply(rc, m, RAFT_VOTE_RESP);
	if (!r)
		return;
	r->error = err;
	r->granted = granted;
}

static uint32_t rc_count_votes(const struct raft_core *rc, int8_t v)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++)
		n += rc->voters[i].vote == v;
	return n;
}

void rc_handle_vote_resp(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	struct rc_peer *p = rc_voter(rc, m->from);
	bool ours = p && p->req_outstanding && p->req_id == m->req_id && p->vote == 0 &&
	            (rc->role == RAFT_PROSPECTIVE || rc->role == RAFT_CANDIDATE);
	enum raft_role role = rc->role;
	int32_t epoch = rc->hs.epoch;
	if (m->epoch >= rc->hs.epoch)
		rc_common_response(rc, now, m);
	if (!ours || rc->role != role || rc->hs.epoch != epoch)
		return;
	/* A pre-vote may be answered by a voter still in an older epoch; a real vote may not. */
	if (m->epoch < rc->hs.epoch && role == RAFT_CANDIDATE)
		return;
	p->req_outstanding = false;
	p->vote = (m->error == RC_ERR_NONE && m->granted) ? 1 : -1;
	if (rc_count_votes(rc, 1) >= rc->majority) {
		if (role == RAFT_PROSPECTIVE)
			rc_become_candidate(rc, now);
		else
			rc_become_leader(rc, now);
	} else if (rc_count_votes(rc, -1) > rc->cfg.voter_count - rc->majority) {
		if (role == RAFT_PROSPECTIVE)
			rc_prospective_lost(rc, now);
		else
			rc_candidate_lost(rc, now);
	}
}

/* ---- BeginQuorumEpoch / EndQuorumEpoch
 * ------------------------------------------------------------ */

void rc_handle_begin_req(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	int16_t err = RC_ERR_NONE;
	if (m->epoch < 0 || m->leader_id < 0 || m->leader_id == rc->cfg.node_id)
		err = RC_ERR_INVALID_REQUEST;
	else if (m->epoch < rc->hs.epoch)
		err = RC_ERR_FENCED_LEADER_EPOCH;
	else if (m->epoch > rc->hs.epoch)
		rc_become_follower(rc, now, m->epoch, m->leader_id);
	else if (rc->hs.leader_id == RAFT_CORE_NONE ||
	         (rc->hs.leader_id == m->leader_id && rc->role != RAFT_FOLLOWER))
		rc_become_follower(rc, now, m->epoch, m->leader_id);
	struct raft_msg *r = rc_reply(rc, m, RAFT_BEGIN_RESP);
	if (r)
		r->error = err;
}

/* kraft.md §3.4: 0 for the first successor, then min(max, (max >> (n-1)) << (p-1)); not in
 * the list: max. */
static int64_t rc_end_timeout(const struct raft_core *rc, const struct raft_msg *m)
{
	int64_t max = rc->cfg.election_backoff_max_ms;
	uint32_t n = m->successor_count;
	for (uint32_t p = 0; p < n; p++) {
		if (m->successors[p] != rc->cfg.node_id)
			continue;
		if (p == 0)
			return 0;
		int64_t t = (max >> (n - 1)) << (p - 1);
		return t < max ? t : max;
	}
	return max;
}

void rc_handle_end_req(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	int16_t err = RC_ERR_NONE;
	if (m->epoch < 0 || m->leader_id < 0 || m->successor_count > RAFT_CORE_VOTERS_MAX)
		err = RC_ERR_INVALID_REQUEST;
	else if (m->epoch < rc->hs.epoch)
		err = RC_ERR_FENCED_LEADER_EPOCH;
	if (err == RC_ERR_NONE && m->epoch > rc->hs.epoch) {
		if (m->leader_id != rc->cfg.node_id)
			rc_become_follower(rc, now, m->epoch, m->leader_id);
		else
			rc_become_unattached(rc, now, m->epoch);
	}
	if (err == RC_ERR_NONE && rc->is_voter) {
		int64_t deadline = rc_add_ms(now, rc_end_timeout(rc, m));
		if (rc->role == RAFT_FOLLOWER && rc->hs.leader_id == m->leader_id) {
			/* The leader is going: stop vouching for it in pre-votes (KIP-996). */
			rc->fetched_from_leader = false;
			if (deadline < rc->fetch_deadline)
				rc->fetch_deadline = deadline;
		} else if (rc->role == RAFT_UNATTACHED && deadline < rc->election_deadline) {
			rc->election_deadline = deadline;
		}
	}
	struct raft_msg *r = rc_reply(rc, m, RAFT_END_RESP);
	if (r)
		r->error = err;
}

void rc_handle_end_resp(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	struct rc_peer *p = rc_voter(rc, m->from);
	if (rc->role == RAFT_RESIGNED && p && p->req_outstanding && p->req_id == m->req_id) {
		p->req_outstanding = false;
		p->vote = 1;
	}
	rc_common_response(rc, now, m);
}
