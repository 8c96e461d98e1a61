/*
 * net.c: simulated links. Every directed link has its own delay (min + exponential around a
 * mean, so messages overtake each other: reordering), the seed's loss and duplication rates,
 * and a block count (one per active partition covering it). Partitions: isolate one node,
 * majority | minority split, and one-way (a set of directed links). A partition is healed by its
 * own EV_HEAL event; the liveness phase heals everything and stops loss and duplication.
 */
#include "sim.h"

#include <string.h>

#include "base.h"

void net_init(struct sim *s)
{
	memset(s->blocked, 0, sizeof(s->blocked));
	for (uint32_t i = 0; i < SL_ARRAY_LEN(s->parts); i++)
		s->parts[i].id = -1;
	for (uint32_t a = 0; a < s->node_count; a++) {
		for (uint32_t b = 0; b < s->node_count; b++) {
			s->link_delay_min[a][b] = sim_rng_range(&s->rng, 0, s->p.delay_min_us);
			s->link_delay_mean[a][b] =
			        sim_rng_range(&s->rng, s->p.delay_mean_us / 2, s->p.delay_mean_us);
		}
	}
}

int32_t net_index_of(const struct sim *s, int32_t id)
{
	for (uint32_t i = 0; i < s->node_count; i++)
		if (s->nodes[i].id == id)
			return (int32_t)i;
	return -1;
}

static void deliver_later(struct sim *s, int32_t a, int32_t b, struct sim_msg *m)
{
	int64_t d = s->link_delay_min[a][b] + sim_rng_exp(&s->rng, s->link_delay_mean[a][b]);
	struct sim_event ev = {.time = s->now + d, .type = EV_DELIVER, .node = b, .msg = m};
	sched_push(&s->sched, ev);
}

void net_send(struct sim *s, int32_t from_idx, struct sim_msg *m)
{
	int32_t to = net_index_of(s, m->m.to);
	s->st.msgs++;
	if (to < 0 || to == from_idx) {
		sim_violation(s, "node %d sent %s to unknown or self id %d", s->nodes[from_idx].id,
		              raft_msg_type_name(m->m.type), m->m.to);
		sim_msg_free(m);
		return;
	}
	bool faults = s->phase == PHASE_SAFETY;
	if (s->blocked[from_idx][to] > 0) {
		sim_msg_free(m);
		return;
	}
	if (faults && sim_rng_chance(&s->rng, s->p.loss)) {
		s->st.faults[F_LOSS]++;
		sim_msg_free(m);
		return;
	}
	if (faults && sim_rng_chance(&s->rng, s->p.dup)) {
		s->st.faults[F_DUP]++;
		deliver_later(s, from_idx, to, sim_msg_clone(m));
	}
	deliver_later(s, from_idx, to, m);
}

static int32_t part_slot(struct sim *s)
{
	for (uint32_t i = 0; i < SL_ARRAY_LEN(s->parts); i++)
		if (s->parts[i].id < 0)
			return (int32_t)i;
	return -1;
}

static void block(struct sim *s, int32_t slot, uint32_t a, uint32_t b)
{
	if (s->parts[slot].pairs[a][b])
		return;
	s->parts[slot].pairs[a][b] = 1;
	s->blocked[a][b]++;
}

/* Creates a random partition and schedules its heal. */
void net_partition(struct sim *s)
{
	int32_t slot = part_slot(s);
	if (slot < 0)
		return;
	memset(s->parts[slot].pairs, 0, sizeof(s->parts[slot].pairs));
	s->parts[slot].id = slot;
	uint32_t n = s->node_count;
	uint32_t mode = (uint32_t)sim_rng_below(&s->rng, 3);
	if (mode == 0) { /* isolate one node */
		uint32_t x = (uint32_t)sim_rng_below(&s->rng, n);
		for (uint32_t o = 0; o < n; o++) {
			if (o != x) {
				block(s, slot, x, o);
				block(s, slot, o, x);
			}
		}
		s->st.faults[F_PARTITION]++;
	} else if (mode == 1) { /* majority | minority of voters; observers random side */
		uint8_t side[SIM_NODES_MAX];
		uint32_t minority = s->p.voters / 2, placed = 0;
		for (uint32_t i = 0; i < n; i++)
			side[i] = 0;
		while (placed < minority) {
			uint32_t v = (uint32_t)sim_rng_below(&s->rng, s->p.voters);
			if (!side[v]) {
				side[v] = 1;
				placed++;
			}
		}
		for (uint32_t i = s->p.voters; i < n; i++)
			side[i] = (uint8_t)sim_rng_below(&s->rng, 2);
		for (uint32_t a = 0; a < n; a++)
			for (uint32_t b = 0; b < n; b++)
				if (side[a] != side[b])
					block(s, slot, a, b);
		s->st.faults[F_PARTITION]++;
	} else { /* one-way: a random set of directed links */
		uint32_t k = 1 + (uint32_t)sim_rng_below(&s->rng, n);
		for (uint32_t i = 0; i < k; i++) {
			uint32_t a = (uint32_t)sim_rng_below(&s->rng, n);
			uint32_t b = (uint32_t)sim_rng_below(&s->rng, n);
			if (a != b)
				block(s, slot, a, b);
		}
		s->st.faults[F_ONE_WAY]++;
	}
	int64_t dur = sim_rng_range(&s->rng, 100000, 4 * s->p.election_ms * 1000);
	struct sim_event ev = {.time = s->now + dur, .type = EV_HEAL, .node = -1, .arg = slot};
	sched_push(&s->sched, ev);
	sim_tracef(s, "partition %d mode %u for %lld us", slot, mode, (long long)dur);
}

void net_heal(struct sim *s, int32_t slot)
{
	if (s->parts[slot].id < 0)
		return;
	for (uint32_t a = 0; a < s->node_count; a++) {
		for (uint32_t b = 0; b < s->node_count; b++) {
			if (s->parts[slot].pairs[a][b]) {
				SL_ASSERT(s->blocked[a][b] > 0);
				s->blocked[a][b]--;
			}
		}
	}
	s->parts[slot].id = -1;
	sim_tracef(s, "heal partition %d", slot);
}

void net_heal_all(struct sim *s)
{
	for (uint32_t i = 0; i < SL_ARRAY_LEN(s->parts); i++)
		net_heal(s, (int32_t)i);
}
