/*
 * workload.c: clients propose strictly increasing u64 values (Kafka's replicated counter, so a
 * committed-data mismatch is unambiguous) to whichever node believes it is leader, and now and
 * then to a non-leader (which must refuse). A value is acked when the proposing leader's HW
 * passes it while its own log still holds it at that offset; a proposal whose leader lost its
 * epoch before that is indeterminate ("failed" to the client; it may still commit).
 * check_liveness() holds the end-of-run checks L1/L2.
 */
#include "sim.h"

#include <stdlib.h>

#include "base.h"

void workload_proposed(struct sim *s, struct sim_node *n, int64_t base, int32_t epoch,
                       uint32_t count, uint64_t first_value)
{
	for (uint32_t i = 0; i < count; i++) {
		if (s->prop_count == s->prop_cap) {
			s->prop_cap = s->prop_cap ? s->prop_cap * 2 : 256;
			s->props = realloc(s->props, s->prop_cap * sizeof(*s->props));
			SL_ASSERT(s->props != NULL);
		}
		struct sim_proposal *p = &s->props[s->prop_count++];
		*p = (struct sim_proposal){.value = first_value + i,
		                           .node = n->idx,
		                           .incarnation = n->incarnation,
		                           .epoch = epoch,
		                           .offset = base + i,
		                           .time = s->now};
		s->st.proposals++;
	}
	sim_tracef(s, "node %d proposes %u values from %llu at %lld epoch %d", n->id, count,
	           (unsigned long long)first_value, (long long)base, epoch);
}

static bool open_of(const struct sim_proposal *p, const struct sim_node *n)
{
	return !p->acked && !p->failed && p->node == n->idx && p->incarnation == n->incarnation;
}

void workload_hw(struct sim *s, struct sim_node *n, int64_t hw)
{
	if (n->role != RAFT_LEADER)
		return;
	for (uint32_t i = s->prop_open_from; i < s->prop_count; i++) {
		struct sim_proposal *p = &s->props[i];
		if (!open_of(p, n) || p->epoch != n->epoch || p->offset >= hw)
			continue;
		const struct sim_rec *r = disk_rec(&n->disk, p->offset);
		const struct sim_committed *c = check_committed_at(s, p->offset);
		s->st.checks++;
		if (r != NULL && r->value != p->value) {
			sim_violation(s, "I3: leader %d lost its own value %llu at %lld", n->id,
			              (unsigned long long)p->value, (long long)p->offset);
			return;
		}
		if (c != NULL && c->value != p->value) {
			sim_violation(s, "acked value %llu at %lld is committed as %llu",
			              (unsigned long long)p->value, (long long)p->offset,
			              (unsigned long long)c->value);
			return;
		}
		p->acked = true;
		s->st.acked++;
	}
	while (s->prop_open_from < s->prop_count &&
	       (s->props[s->prop_open_from].acked || s->props[s->prop_open_from].failed))
		s->prop_open_from++;
}

void workload_lost_leadership(struct sim *s, struct sim_node *n)
{
	for (uint32_t i = s->prop_open_from; i < s->prop_count; i++)
		if (open_of(&s->props[i], n))
			s->props[i].failed = true;
}

void workload_propose_event(struct sim *s)
{
	if (s->phase == PHASE_DONE || s->now >= s->stop_proposing_at)
		return;
	int32_t cand[SIM_NODES_MAX], k = 0;
	for (uint32_t i = 0; i < s->node_count; i++) {
		struct sim_node *n = &s->nodes[i];
		if (n->up && n->paused_until <= s->now && raft_core_role(n->rc) == RAFT_LEADER)
			cand[k++] = (int32_t)i;
	}
	if (k > 0) {
		struct sim_node *n = &s->nodes[cand[sim_rng_below(&s->rng, (uint64_t)k)]];
		uint32_t count = 1 + (uint32_t)sim_rng_below(&s->rng, 3);
		if (!node_propose(s, n, count) && !s->failed)
			sim_violation(s, "leader %d refused a proposal", n->id);
	}
	/* A client with stale metadata: a non-leader must refuse. */
	struct sim_node *x = &s->nodes[sim_rng_below(&s->rng, s->node_count)];
	if (x->up && raft_core_role(x->rc) != RAFT_LEADER && !s->failed) {
		int64_t base;
		int32_t epoch;
		s->st.checks++;
		if (raft_core_propose(x->rc, node_now_ms(s, x), 1, &base, &epoch))
			sim_violation(s, "node %d (%s) accepted a proposal", x->id,
			              raft_role_name(raft_core_role(x->rc)));
	}
	struct sim_event ev = {.time = s->now + 1 + sim_rng_exp(&s->rng, s->p.propose_mean_us),
	                       .type = EV_PROPOSE,
	                       .node = -1};
	sched_push(&s->sched, ev);
}

bool workload_settled(const struct sim *s)
{
	for (uint32_t i = s->prop_open_from; i < s->prop_count; i++)
		if (!s->props[i].acked && !s->props[i].failed)
			return false;
	for (uint32_t i = 0; i < s->node_count; i++)
		if (s->nodes[i].applied_end < s->hw_at_stop)
			return false;
	return true;
}

static struct sim_node *final_leader(struct sim *s)
{
	struct sim_node *l = NULL;
	for (uint32_t i = 0; i < s->node_count; i++) {
		struct sim_node *n = &s->nodes[i];
		if (n->up && n->role == RAFT_LEADER && (l == NULL || n->epoch > l->epoch))
			l = n;
	}
	return l;
}

void check_liveness(struct sim *s)
{
	struct sim_node *l = final_leader(s);
	s->st.checks += 4;
	if (l == NULL) {
		sim_violation(s, "L1: no leader %lld ms after the faults healed",
		              (long long)(s->now - s->heal_at) / 1000);
		return;
	}
	int64_t bound = 20 * s->p.election_ms * 1000 * 11 / 10;
	if (s->leader_seen_at < 0 || s->leader_seen_at - s->heal_at > bound)
		sim_violation(s, "L1: first leader %lld ms after heal (bound %lld ms)",
		              (long long)(s->leader_seen_at - s->heal_at) / 1000,
		              (long long)bound / 1000);
	if (l->leader_hw <= s->liveness_hw_start)
		sim_violation(s, "L1: HW did not advance after heal (%lld, committed end was %lld)",
		              (long long)l->leader_hw, (long long)s->liveness_hw_start);
	for (uint32_t i = 0; i < s->prop_count && !s->failed; i++) {
		const struct sim_proposal *p = &s->props[i];
		s->st.checks++;
		if (p->acked) {
			const struct sim_committed *c = check_committed_at(s, p->offset);
			if (c == NULL || c->value != p->value)
				sim_violation(s, "acked value %llu at %lld lost",
				              (unsigned long long)p->value, (long long)p->offset);
		} else if (!p->failed) {
			sim_violation(s, "L2: value %llu proposed to %d at %lld ms never resolved",
			              (unsigned long long)p->value, s->nodes[p->node].id,
			              (long long)p->time / 1000);
		}
	}
	for (uint32_t i = 0; i < s->node_count && !s->failed; i++) {
		const struct sim_node *n = &s->nodes[i];
		s->st.checks++;
		if (n->applied_end < s->hw_at_stop)
			sim_violation(s, "L2: node %d applied only %lld of %lld committed", n->id,
			              (long long)n->applied_end, (long long)s->hw_at_stop);
	}
}
