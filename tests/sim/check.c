/*
 * check.c: the invariants of reliability.md §2 as the simulator sees them, checked as the
 * drivers act (persist, truncate, send, expose a high watermark, apply) and after every event.
 *
 *   I1  at most one leader per epoch (global history of every ready with role leader);
 *   I2  a persisted epoch never decreases (across restarts too), one vote per epoch, and every
 *       granted (non-pre-)Vote response that leaves a node is backed by its persisted quorum-state;
 *   I3  a leader never truncates its log in its epoch;
 *   I4  log matching: a record appended anywhere at (offset, epoch) is what the leader of that
 *       epoch wrote there (each leader writes each offset once, contiguously);
 *   I4/I6/I8 the global committed map offset → (epoch, value) is fed by every exposed high
 *       watermark (voters and observers); every node's log below its HW, every applied record and
 *       every installed snapshot must match it; committed client values strictly increase;
 *   I5  a new leader of epoch E holds every entry known committed by a node in an epoch < E;
 *   I7  a leader's exposed HW never decreases in its epoch; a HW it adopts as leader is above
 *       its epoch start offset (it committed an entry of its own epoch; the HW it knew before
 *       the election may stay exposed, it was committed then); its HW is <= the durable end of
 *       a majority of voters; no node truncates below an HW it exposed;
 *   protocol: a leader never serves a Fetch carrying a stale CurrentLeaderEpoch; observers
 *       never vote or lead;
 *   L1/L2 (check_liveness, after the faults heal): a leader within a bound, the HW advances,
 *       every proposal to the final leader is acked, every acked value is committed, every live
 *       node catches up.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "base.h"

void check_init(struct sim *s)
{
	s->leader_of_epoch_cap = 64;
	s->leader_of_epoch = malloc(s->leader_of_epoch_cap * sizeof(int32_t));
	SL_ASSERT(s->leader_of_epoch != NULL);
	for (uint32_t i = 0; i < s->leader_of_epoch_cap; i++)
		s->leader_of_epoch[i] = -1;
	s->written = calloc(s->leader_of_epoch_cap, sizeof(*s->written));
	SL_ASSERT(s->written != NULL);
	s->committed_cap = 1024;
	s->committed = calloc((size_t)s->committed_cap, sizeof(*s->committed));
	SL_ASSERT(s->committed != NULL);
	s->committed_end = 0;
}

void check_free(struct sim *s)
{
	for (uint32_t i = 0; i < s->leader_of_epoch_cap; i++)
		free(s->written[i].vals);
	free(s->written);
	free(s->leader_of_epoch);
	free(s->committed);
	s->leader_of_epoch = NULL;
	s->committed = NULL;
}

const struct sim_committed *check_committed_at(const struct sim *s, int64_t o)
{
	if (o < 0 || o >= s->committed_end || !s->committed[o].known)
		return NULL;
	return &s->committed[o];
}

static void committed_grow(struct sim *s, int64_t o)
{
	if (o < s->committed_cap)
		return;
	int64_t cap = s->committed_cap;
	while (cap <= o)
		cap *= 2;
	s->committed = realloc(s->committed, (size_t)cap * sizeof(*s->committed));
	SL_ASSERT(s->committed != NULL);
	memset(s->committed + s->committed_cap, 0,
	       (size_t)(cap - s->committed_cap) * sizeof(*s->committed));
	s->committed_cap = cap;
}

/* Compares (o, epoch, value) with the committed map, inserting it when unknown. */
static void committed_match(struct sim *s, struct sim_node *n, int64_t o, int32_t epoch,
                            uint64_t value, const char *what)
{
	s->st.checks++;
	committed_grow(s, o);
	struct sim_committed *c = &s->committed[o];
	if (c->known) {
		if (c->epoch != epoch || c->value != value)
			sim_violation(
			        s,
			        "I4/I6: node %d %s offset %lld = (epoch %d, value %llu), committed "
			        "(epoch %d, value %llu)",
			        n->id, what, (long long)o, epoch, (unsigned long long)value,
			        c->epoch, (unsigned long long)c->value);
		return;
	}
	c->known = true;
	c->epoch = epoch;
	c->value = value;
	c->seen_epoch = n->epoch;
	s->st.committed++;
	if (o + 1 > s->committed_end)
		s->committed_end = o + 1;
	/* Committed epochs never decrease and client values strictly increase along the log. */
	for (int64_t b = o - 1; b >= 0; b--) {
		const struct sim_committed *p = &s->committed[b];
		if (!p->known)
			continue;
		if (p->epoch > epoch)
			sim_violation(s, "I4: committed epoch %d at %lld after epoch %d at %lld",
			              epoch, (long long)o, p->epoch, (long long)b);
		if (p->value == 0)
			continue;
		if (value != 0 && p->value >= value)
			sim_violation(s,
			              "I6: committed value %llu at %lld after value %llu at %lld",
			              (unsigned long long)value, (long long)o,
			              (unsigned long long)p->value, (long long)b);
		break;
	}
	for (int64_t a = o + 1; a < s->committed_end; a++) {
		const struct sim_committed *p = &s->committed[a];
		if (!p->known || p->value == 0)
			continue;
		if (value != 0 && p->value <= value)
			sim_violation(s,
			              "I6: committed value %llu at %lld before value %llu at %lld",
			              (unsigned long long)value, (long long)o,
			              (unsigned long long)p->value, (long long)a);
		break;
	}
}

static void epochs_grow(struct sim *s, int32_t epoch)
{
	while ((uint32_t)epoch >= s->leader_of_epoch_cap) {
		uint32_t old = s->leader_of_epoch_cap;
		s->leader_of_epoch_cap *= 2;
		s->leader_of_epoch =
		        realloc(s->leader_of_epoch, s->leader_of_epoch_cap * sizeof(int32_t));
		s->written = realloc(s->written, s->leader_of_epoch_cap * sizeof(*s->written));
		SL_ASSERT(s->leader_of_epoch != NULL && s->written != NULL);
		for (uint32_t i = old; i < s->leader_of_epoch_cap; i++)
			s->leader_of_epoch[i] = -1;
		memset(s->written + old, 0, (s->leader_of_epoch_cap - old) * sizeof(*s->written));
	}
}

void check_written(struct sim *s, struct sim_node *n, int64_t o, int32_t epoch, uint64_t value,
                   bool leader)
{
	s->st.checks++;
	if (epoch < 0) {
		sim_violation(s, "node %d appends offset %lld with epoch %d", n->id, (long long)o,
		              epoch);
		return;
	}
	epochs_grow(s, epoch);
	struct sim_epoch_log *w = &s->written[epoch];
	if (leader) {
		if (w->count == 0)
			w->start = o;
		if (o != w->start + (int64_t)w->count) {
			sim_violation(s,
			              "I3: leader %d of epoch %d writes offset %lld, expected %lld",
			              n->id, epoch, (long long)o, (long long)(w->start + w->count));
			return;
		}
		if (w->count == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 64;
			w->vals = realloc(w->vals, w->cap * sizeof(*w->vals));
			SL_ASSERT(w->vals != NULL);
		}
		w->vals[w->count++] = value;
		return;
	}
	if (o < w->start || o >= w->start + (int64_t)w->count || w->vals[o - w->start] != value)
		sim_violation(
		        s,
		        "I4: node %d appends (offset %lld, epoch %d, value %llu) that the leader "
		        "of epoch %d never wrote there",
		        n->id, (long long)o, epoch, (unsigned long long)value, epoch);
}

static void set_leader(struct sim *s, struct sim_node *n, int32_t epoch)
{
	if (epoch < 0)
		return;
	epochs_grow(s, epoch);
	s->st.checks++;
	int32_t *l = &s->leader_of_epoch[epoch];
	if (*l >= 0 && *l != n->id)
		sim_violation(s, "I1: nodes %d and %d both leader in epoch %d", *l, n->id, epoch);
	*l = n->id;
}

/* I5: a new leader holds every entry known committed (in its log or its snapshot). */
static void check_new_leader(struct sim *s, struct sim_node *n)
{
	int64_t snap_end = n->disk.snap.valid ? n->disk.snap.id.end_offset : 0;
	for (int64_t o = 0; o < s->committed_end && !s->failed; o++) {
		const struct sim_committed *c = &s->committed[o];
		/* Raft's leader completeness: entries committed in earlier epochs only (a leader of
		 * a lower epoch can still be elected after a higher epoch committed). */
		if (!c->known || o < snap_end || c->seen_epoch >= n->epoch)
			continue;
		const struct sim_rec *r = disk_rec(&n->disk, o);
		s->st.checks++;
		if (r == NULL || r->epoch != c->epoch || r->value != c->value)
			sim_violation(
			        s,
			        "I5: node %d leader of epoch %d lacks committed offset %lld (epoch "
			        "%d value %llu); log [%lld,%lld)",
			        n->id, n->epoch, (long long)o, c->epoch,
			        (unsigned long long)c->value, (long long)n->disk.start,
			        (long long)disk_end(&n->disk));
	}
}

static int64_t majority_durable(const struct sim *s)
{
	int64_t ends[SIM_NODES_MAX];
	uint32_t v = 0;
	for (uint32_t i = 0; i < s->node_count; i++)
		if (s->nodes[i].voter)
			ends[v++] = s->nodes[i].disk.synced_end;
	/* descending sort, then the (v/2)-th value is held by a majority */
	for (uint32_t i = 1; i < v; i++)
		for (uint32_t j = i; j > 0 && ends[j] > ends[j - 1]; j--) {
			int64_t t = ends[j];
			ends[j] = ends[j - 1];
			ends[j - 1] = t;
		}
	return ends[v / 2];
}

static void check_leader_hw(struct sim *s, struct sim_node *n, const struct raft_ready *rd)
{
	int64_t hw = rd->high_watermark;
	s->st.checks += 3;
	/* The HW a follower knew before its election was committed then and may stay exposed;
	 * any HW the leader adopts itself must cover an entry of its own epoch. */
	if (hw <= rd->epoch_start_offset && hw != n->carried_hw)
		sim_violation(s, "I7: leader %d epoch %d adopts HW %lld <= epoch start %lld", n->id,
		              rd->epoch, (long long)hw, (long long)rd->epoch_start_offset);
	if (n->leader_epoch == rd->epoch && hw < n->leader_hw)
		sim_violation(s, "I7: leader %d epoch %d HW went back %lld -> %lld", n->id,
		              rd->epoch, (long long)n->leader_hw, (long long)hw);
	int64_t maj = majority_durable(s);
	if (hw > maj)
		sim_violation(s, "I7: leader %d epoch %d HW %lld > majority durable end %lld",
		              n->id, rd->epoch, (long long)hw, (long long)maj);
	n->leader_hw = hw;
}

void check_ready(struct sim *s, struct sim_node *n, const struct raft_ready *rd)
{
	s->st.checks++;
	if (rd->epoch < n->epoch)
		sim_violation(s, "I2: node %d epoch went back %d -> %d", n->id, n->epoch,
		              rd->epoch);
	if (!n->voter && rd->role != RAFT_UNATTACHED && rd->role != RAFT_FOLLOWER)
		sim_violation(s, "observer %d in role %s", n->id, raft_role_name(rd->role));
	bool was_leader = n->role == RAFT_LEADER;
	bool is_leader = rd->role == RAFT_LEADER;
	if (was_leader && (!is_leader || rd->epoch != n->epoch))
		workload_lost_leadership(s, n);
	bool new_leader = is_leader && (!was_leader || rd->epoch != n->epoch);
	if (rd->role != n->role || rd->epoch != n->epoch)
		sim_tracef(s, "node %d %s epoch %d leader %d (epoch start %lld)", n->id,
		           raft_role_name(rd->role), rd->epoch, rd->leader_id,
		           (long long)rd->epoch_start_offset);
	n->role = rd->role;
	n->epoch = rd->epoch;
	if (!is_leader)
		return;
	set_leader(s, n, rd->epoch);
	if (s->phase == PHASE_LIVENESS && s->leader_seen_at < 0)
		s->leader_seen_at = s->now;
	if (new_leader) {
		s->st.elections++;
		n->leader_epoch = rd->epoch;
		n->leader_hw = -1;
		n->carried_hw = rd->high_watermark;
		n->epoch_start = rd->epoch_start_offset;
		check_new_leader(s, n);
	}
	if (rd->high_watermark >= 0)
		check_leader_hw(s, n, rd);
}

void check_persist(struct sim *s, struct sim_node *n, const struct raft_hard_state *hs)
{
	s->st.checks += 2;
	if (hs->epoch < s->durable_epoch[n->idx])
		sim_violation(s, "I2: node %d persists epoch %d below persisted %lld", n->id,
		              hs->epoch, (long long)s->durable_epoch[n->idx]);
	const struct raft_hard_state *old = &n->disk.hs;
	if (n->disk.hs_valid && hs->epoch == old->epoch && old->voted_id != RAFT_CORE_NONE &&
	    hs->voted_id != old->voted_id)
		sim_violation(s, "I2: node %d changes its vote in epoch %d: %d -> %d", n->id,
		              hs->epoch, old->voted_id, hs->voted_id);
	if (!n->voter && hs->voted_id != RAFT_CORE_NONE)
		sim_violation(s, "observer %d persisted a vote for %d", n->id, hs->voted_id);
	if (hs->epoch > s->durable_epoch[n->idx])
		s->durable_epoch[n->idx] = hs->epoch;
}

void check_truncate(struct sim *s, struct sim_node *n, int64_t to)
{
	s->st.checks += 2;
	sim_tracef(s, "node %d truncate to %lld (end %lld, hw %lld)", n->id, (long long)to,
	           (long long)disk_end(&n->disk), (long long)n->exposed_hw);
	if (n->role == RAFT_LEADER)
		sim_violation(s, "I3: leader %d truncates its log to %lld in epoch %d", n->id,
		              (long long)to, n->epoch);
	if (to < n->exposed_hw || to < n->applied_end)
		sim_violation(s, "I7: node %d truncates to %lld below its HW %lld (applied %lld)",
		              n->id, (long long)to, (long long)n->exposed_hw,
		              (long long)n->applied_end);
}

void check_send(struct sim *s, struct sim_node *n, const struct raft_msg *m)
{
	s->st.checks++;
	/* A VoteResponse does not say whether it answers a pre-vote: the request being stepped
	 * does (requests are answered while they are stepped). */
	const struct sim_msg *req = n->stepping;
	bool pre = m->pre_vote || (req != NULL && req->m.type == RAFT_VOTE_REQ && req->m.pre_vote &&
	                           req->m.from == m->to && req->m.req_id == m->req_id);
	if (m->type == RAFT_VOTE_RESP && m->granted && !pre) {
		const struct raft_hard_state *hs = &n->disk.hs;
		if (!n->disk.hs_valid || hs->epoch != m->epoch || hs->voted_id != m->to)
			sim_violation(s,
			              "I2: node %d grants its vote to %d in epoch %d but persisted "
			              "(epoch %d, voted %d)",
			              n->id, m->to, m->epoch, hs->epoch, hs->voted_id);
	}
	if (!n->voter && (m->type == RAFT_VOTE_REQ || (m->type == RAFT_VOTE_RESP && m->granted)))
		sim_violation(s, "observer %d sends %s", n->id, raft_msg_type_name(m->type));
	if (n->stepping_stale_fetch && m->type == RAFT_FETCH_RESP && m->to == n->stepping_from &&
	    m->error == RC_ERR_NONE)
		sim_violation(s,
		              "protocol: leader %d (epoch %d) serves a Fetch from %d with a stale "
		              "epoch",
		              n->id, n->epoch, m->to);
}

void check_hw(struct sim *s, struct sim_node *n, int64_t hw)
{
	if (hw > n->exposed_hw) {
		sim_tracef(s, "node %d hw %lld (log [%lld,%lld))", n->id, (long long)hw,
		           (long long)n->disk.start, (long long)disk_end(&n->disk));
		n->exposed_hw = hw;
	}
	int64_t from = SL_MAX(n->verified_end, n->disk.start);
	int64_t upto = SL_MIN(hw, disk_end(&n->disk));
	for (int64_t o = from; o < upto && !s->failed; o++) {
		const struct sim_rec *r = disk_rec(&n->disk, o);
		committed_match(s, n, o, r->epoch, r->value, "log");
	}
	if (upto > n->verified_end)
		n->verified_end = upto;
}

void check_apply(struct sim *s, struct sim_node *n, int64_t o, const struct sim_rec *r)
{
	s->st.checks++;
	const struct sim_committed *c = check_committed_at(s, o);
	if (c == NULL)
		committed_match(s, n, o, r->epoch, r->value, "applies");
	else if (c->epoch != r->epoch || c->value != r->value)
		sim_violation(s,
		              "I6: node %d applies (epoch %d, value %llu) at %lld, committed "
		              "(epoch %d, value %llu)",
		              n->id, r->epoch, (unsigned long long)r->value, (long long)o, c->epoch,
		              (unsigned long long)c->value);
}

void check_snapshot_state(struct sim *s, struct sim_node *n, const struct sim_rec *recs,
                          int64_t count)
{
	for (int64_t o = 0; o < count && !s->failed; o++)
		committed_match(s, n, o, recs[o].epoch, recs[o].value, "snapshot");
}

/* After every event: the HW a current leader exposed stays backed by a durable majority. */
void check_event(struct sim *s)
{
	int64_t maj = -2;
	for (uint32_t i = 0; i < s->node_count && !s->failed; i++) {
		struct sim_node *n = &s->nodes[i];
		if (!n->up || n->role != RAFT_LEADER || n->leader_hw < 0)
			continue;
		if (maj == -2)
			maj = majority_durable(s);
		s->st.checks++;
		if (n->leader_hw > maj)
			sim_violation(s,
			              "I7: leader %d epoch %d HW %lld > majority durable end %lld",
			              n->id, n->epoch, (long long)n->leader_hw, (long long)maj);
	}
}
