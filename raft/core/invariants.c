/*
 * invariants.c: raft_check_invariants, the KRaft core's consistency check (SL_ASSERT, on in
 * every build), called by the unit tests and the simulator after every step.
 */
#include "raft_core_int.h"

static void rc_check_log(const struct raft_core *rc)
{
	SL_ASSERT(rc->log_start >= 0);
	SL_ASSERT(rc->log_start <= rc->leo);
	SL_ASSERT(rc->durable <= rc->leo);
	SL_ASSERT(rc->hw >= -1);
	SL_ASSERT(rc->hw <= rc->leo);
	SL_ASSERT(rc->epoch_count <= rc->cfg.epoch_cap);
	SL_ASSERT(rc->epochs == rc->cfg.epoch_buf);
	for (uint32_t i = 0; i < rc->epoch_count; i++) {
		const struct raft_epoch_entry *e = &rc->epochs[i];
		SL_ASSERT(e->epoch >= 0);
		SL_ASSERT(e->epoch <= rc->hs.epoch);
		SL_ASSERT(e->start_offset >= rc->log_start);
		SL_ASSERT(e->start_offset <= rc->leo);
		if (i > 0) {
			SL_ASSERT(e->epoch > rc->epochs[i - 1].epoch);
			SL_ASSERT(e->start_offset > rc->epochs[i - 1].start_offset);
		}
	}
	if (rc->log_start > 0)
		SL_ASSERT(rc->snap.end_offset >= rc->log_start);
	if (rc->snap.end_offset >= 0) {
		SL_ASSERT(rc->snap.epoch >= 0);
		SL_ASSERT(rc->snap_size >= 0);
	}
	SL_ASSERT(rc->out_count <= rc->cfg.out_cap);
}

static void rc_check_role(const struct raft_core *rc)
{
	int32_t self = rc->cfg.node_id;
	SL_ASSERT(rc->hs.epoch >= 0);
	if (!rc->is_voter)
		SL_ASSERT(rc->role == RAFT_UNATTACHED || rc->role == RAFT_FOLLOWER);
	switch (rc->role) {
	case RAFT_UNATTACHED:
		SL_ASSERT(rc->hs.leader_id == RAFT_CORE_NONE);
		break;
	case RAFT_FOLLOWER:
		SL_ASSERT(rc->hs.leader_id >= 0);
		SL_ASSERT(rc->hs.leader_id != self);
		SL_ASSERT(rc->fetch_target == rc->hs.leader_id);
		break;
	case RAFT_PROSPECTIVE:
		SL_ASSERT(rc->is_voter);
		SL_ASSERT(rc->hs.leader_id == rc->prospective_prev_leader);
		break;
	case RAFT_CANDIDATE:
		SL_ASSERT(rc->is_voter);
		SL_ASSERT(rc->hs.voted_id == self);
		SL_ASSERT(rc->hs.leader_id == RAFT_CORE_NONE);
		break;
	case RAFT_LEADER:
		SL_ASSERT(rc->is_voter);
		SL_ASSERT(rc->hs.voted_id == self);
		SL_ASSERT(rc->hs.leader_id == self);
		SL_ASSERT(rc->epoch_start >= 0);
		SL_ASSERT(rc->epoch_start < rc->leo);
		SL_ASSERT(rc->epoch_count > 0);
		SL_ASSERT(rc->epochs[rc->epoch_count - 1].epoch == rc->hs.epoch);
		/* (the first entry is clamped to the log start after compaction) */
		SL_ASSERT(rc->epochs[rc->epoch_count - 1].start_offset ==
		          (rc->epoch_start > rc->log_start ? rc->epoch_start : rc->log_start));
		SL_ASSERT(!rc->fetch_outstanding);
		SL_ASSERT(!rc->snap_fetching);
		break;
	case RAFT_RESIGNED:
		SL_ASSERT(rc->is_voter);
		SL_ASSERT(rc->hs.leader_id == self);
		break;
	default:
		SL_UNREACHABLE();
	}
	if (rc->role != RAFT_LEADER) {
		SL_ASSERT(rc->epoch_start == -1);
		for (uint32_t i = 0; i < rc->cfg.voter_count; i++)
			SL_ASSERT(!rc->voters[i].parked);
	}
	if (rc->fetch_outstanding)
		SL_ASSERT(rc->role == RAFT_FOLLOWER || rc->role == RAFT_UNATTACHED);
	if (rc->snap_fetching)
		SL_ASSERT(rc->role == RAFT_FOLLOWER);
}

static void rc_check_votes(const struct raft_core *rc)
{
	uint32_t granted = 0, rejected = 0;
	for (uint32_t i = 0; i < rc->cfg.voter_count; i++) {
		SL_ASSERT(rc->voters[i].id == rc->cfg.voters[i]);
		granted += rc->voters[i].vote == 1;
		rejected += rc->voters[i].vote == -1;
	}
	SL_ASSERT(granted + rejected <= rc->cfg.voter_count);
	if (rc->role == RAFT_PROSPECTIVE || rc->role == RAFT_CANDIDATE) {
		SL_ASSERT(rc->voters[rc->self_index].vote == 1);
		SL_ASSERT(granted < rc->majority); /* else it would have moved on */
	}
	if (rc->role == RAFT_LEADER)
		SL_ASSERT(rc->cfg.voter_count == 1 || rc->hs.voted_id == rc->cfg.node_id);
}

void raft_check_invariants(const struct raft_core *rc)
{
	SL_ASSERT(rc);
	SL_ASSERT(rc->cfg.voter_count >= 1 && rc->cfg.voter_count <= RAFT_CORE_VOTERS_MAX);
	SL_ASSERT(rc->majority == rc->cfg.voter_count / 2 + 1);
	SL_ASSERT(rc->is_voter == (rc->self_index >= 0));
	rc_check_log(rc);
	if (rc->failed)
		return;
	rc_check_role(rc);
	rc_check_votes(rc);
}
