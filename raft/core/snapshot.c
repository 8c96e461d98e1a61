/*
 * snapshot.c: snapshot transfer of the KRaft core (kraft.md §3.9, KIP-630): the leader serves
 * FetchSnapshot for its latest snapshot; a follower redirected by a Fetch response downloads
 * it chunk by chunk (one request outstanding, strictly sequential positions) and has the
 * caller install it.
 *
 * Invariants: while downloading or installing a follower sends no Fetch; while installing it
 * starts no election (its log is about to be replaced); after the install log start = end =
 * durable end = the snapshot's end offset and the epoch cache holds one entry (snapshot epoch,
 * snapshot end offset).
 */
#include "raft_core_int.h"

/* ---- leader ------------------------------------------------------------------------------------
 */

void rc_handle_snap_req(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	bool stale = false;
	int16_t err = RC_ERR_NONE;
	if (m->position < 0 || m->snapshot_id.end_offset < 0 || m->snapshot_id.epoch < 0)
		err = RC_ERR_INVALID_REQUEST;
	else
		err = rc_validate_leader_epoch(rc, m->epoch, &stale);
	if (err == RC_ERR_NONE) {
		struct rc_peer *p = rc_replica(rc, m->from, now, true);
		if (p) { /* counts for check-quorum */
			p->last_fetch_ms = now;
			p->fetched_this_epoch = true;
			p->begin_next_ms = RC_NEVER;
		}
		if (rc->snap.end_offset <= 0 || m->snapshot_id.end_offset != rc->snap.end_offset ||
		    m->snapshot_id.epoch != rc->snap.epoch)
			err = RC_ERR_SNAPSHOT_NOT_FOUND;
		else if (m->position > rc->snap_size)
			err = RC_ERR_POSITION_OUT_OF_RANGE;
	}
	struct raft_msg *r = rc_reply(rc, m, RAFT_SNAP_RESP);
	if (!r)
		return;
	r->error = err;
	r->snapshot_id = m->snapshot_id;
	if (err == RC_ERR_NONE) {
		r->size = rc->snap_size;
		r->position = m->position;
	}
}

/* ---- follower
 * ------------------------------------------------------------------------------------ */

void rc_start_snapshot_fetch(struct raft_core *rc, int64_t now, struct raft_snapshot_id id)
{
	(void)now;
	rc->snap_fetching = true;
	rc->snap_fetch_id = id;
	rc->snap_fetch_pos = 0;
	rc->snap_fetch_size = -1;
	rc->snap_req_outstanding = false;
	rc->snap_not_before = 0;
}

void rc_stop_snapshot_fetch(struct raft_core *rc)
{
	rc->snap_fetching = false;
	rc->snap_req_outstanding = false;
}

/* Sends the next FetchSnapshot (or resends one unanswered for the request timeout). */
void rc_maybe_send_snap_req(struct raft_core *rc, int64_t now)
{
	if (rc->failed || !rc->snap_fetching || rc->snap_installing || rc->role != RAFT_FOLLOWER)
		return;
	if (rc->snap_req_outstanding &&
	    now >= rc_add_ms(rc->snap_req_sent_ms, rc->cfg.request_timeout_ms))
		rc->snap_req_outstanding = false;
	if (rc->snap_req_outstanding || now < rc->snap_not_before)
		return;
	struct raft_msg *m = rc_msg_new(rc, RAFT_SNAP_REQ, rc->hs.leader_id);
	if (!m) {
		rc->snap_not_before =
		        rc_add_ms(now, rc->cfg.retry_backoff_ms > 0 ? rc->cfg.retry_backoff_ms : 1);
		return;
	}
	m->req_id = rc->snap_req_id = rc->next_req_id++;
	m->snapshot_id = rc->snap_fetch_id;
	m->position = rc->snap_fetch_pos;
	rc->snap_req_outstanding = true;
	rc->snap_req_sent_ms = now;
}

static bool rc_chunk_valid(const struct raft_core *rc, const struct raft_msg *m)
{
	return m->snapshot_id.end_offset == rc->snap_fetch_id.end_offset &&
	       m->snapshot_id.epoch == rc->snap_fetch_id.epoch && m->size >= 0 &&
	       (rc->snap_fetch_size < 0 || m->size == rc->snap_fetch_size) &&
	       m->position == rc->snap_fetch_pos && m->chunk_len >= 0 &&
	       m->chunk_len <= m->size - m->position;
}

static void rc_snap_chunk(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	rc->fetched_from_leader = true;
	rc->fetch_deadline = rc_add_ms(now, rc->cfg.fetch_timeout_ms);
	rc->snap_fetch_size = m->size;
	rc->snapshot_write = true;
	rc->snapshot_position = m->position;
	rc->snapshot_len = m->chunk_len;
	rc->snap_fetch_pos += m->chunk_len;
	if (rc->snap_fetch_pos == rc->snap_fetch_size) {
		rc->snapshot_install = true;
		rc->snapshot_install_id = rc->snap_fetch_id;
		rc->snap_installing = true;
		rc_stop_snapshot_fetch(rc);
	} else if (m->chunk_len == 0) {
		rc->snap_not_before = rc_add_ms(now, rc->cfg.retry_backoff_ms);
	}
}

void rc_handle_snap_resp(struct raft_core *rc, int64_t now, const struct raft_msg *m)
{
	bool ours = rc->snap_fetching && rc->snap_req_outstanding && m->req_id == rc->snap_req_id &&
	            m->from == rc->hs.leader_id;
	if (ours)
		rc->snap_req_outstanding = false;
	bool current = rc_common_response(rc, now, m);
	if (!ours || !rc->snap_fetching)
		return;
	if (!current || m->epoch != rc->hs.epoch) {
		rc->snap_not_before = rc_add_ms(now, rc->cfg.retry_backoff_ms);
		return;
	}
	if (m->error == RC_ERR_SNAPSHOT_NOT_FOUND || m->error == RC_ERR_POSITION_OUT_OF_RANGE) {
		/* The leader has moved on (or we are confused): ask again with a Fetch. */
		rc_stop_snapshot_fetch(rc);
		rc->fetch_not_before = rc_add_ms(now, rc->cfg.retry_backoff_ms);
		return;
	}
	if (m->error != RC_ERR_NONE || rc->snapshot_write) {
		rc->snap_not_before = rc_add_ms(now, rc->cfg.retry_backoff_ms);
		return;
	}
	if (!rc_chunk_valid(rc, m)) {
		/* A size change means another snapshot under the same id: start over. */
		if (rc->snap_fetch_size >= 0 && m->size != rc->snap_fetch_size)
			rc_start_snapshot_fetch(rc, now, rc->snap_fetch_id);
		rc->snap_not_before = rc_add_ms(now, rc->cfg.retry_backoff_ms);
		return;
	}
	rc_snap_chunk(rc, now, m);
}

void raft_core_snapshot_installed(struct raft_core *rc, int64_t now, struct raft_snapshot_id id,
                                  int64_t size)
{
	SL_ASSERT(id.end_offset > 0 && id.epoch >= 0 && size >= 0);
	SL_ASSERT(rc->role != RAFT_LEADER);
	if (rc->failed)
		return;
	rc->snap_installing = false;
	if (rc->hw > id.end_offset) {
		rc->failed = true;
		rc->failure = "snapshot install below the high watermark";
		return;
	}
	rc->log_start = id.end_offset;
	rc->leo = id.end_offset;
	rc->durable = id.end_offset;
	rc->epoch_count = 0;
	rc_epoch_append(rc, id.epoch, id.end_offset);
	rc->snap = id;
	rc->snap_size = size;
	rc->hw = id.end_offset;
	rc->fetch_not_before = 0;
	rc_maybe_send_fetch(rc, now);
}
