/*
 * run.c: one seed, start to finish. Draws the seed's parameters (swarm testing: cluster size,
 * link delays, loss, duplication, flush latency, fault mix and rate, timeouts, clock drift,
 * snapshot cadence), builds the cluster, then runs the event loop in two phases:
 *   safety   (faults on: partitions, one-way links, crashes with torn tails, pauses, graceful
 *            resignations, loss, duplication) for safety_us;
 *   liveness (everything healed and restarted, no more faults): a leader within a bound, the HW
 *            advances, proposals stop, then every proposal must be resolved and every node
 *            caught up (check_liveness).
 * Invariants are checked after every event (check.c); a violation ends the seed.
 */
#include "sim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

#define SIM_EVENTS_MAX 4000000u
/* How long the liveness phase waits for outstanding proposals: a new leader may hold thousands of
 * uncommitted entries that a slow follower (tiny fetches, slow flushes) copies at ~100 records/s
 * (seed 2575 needed ~39 s); the bound is generous but finite, so a stuck cluster still fails. */
#define SIM_DRAIN_MAX_US 120000000
#define SIM_SAFETY_MS_DEFAULT 120000 /* calibrated: ~35 seeds/s with gcc RelWithDebInfo */

const char *const sim_fault_names[F_KIND_COUNT] = {
        [F_LOSS] = "loss",
        [F_DUP] = "duplicate",
        [F_PARTITION] = "partition",
        [F_ONE_WAY] = "one-way",
        [F_CRASH] = "crash",
        [F_TORN] = "torn-tail",
        [F_PAUSE] = "pause",
        [F_SNAP_TAKEN] = "snapshot-taken",
        [F_SNAP_INSTALLED] = "snapshot-installed",
        [F_LOG_DELETED] = "log-deleted",
        [F_RESIGN] = "resign",
        [F_PROBE] = "truncate-probe",
        [F_POWER] = "power-loss",
};

void sim_fold(struct sim *s, uint64_t v)
{
	s->hash = (s->hash ^ v) * 0x100000001b3ull;
	s->hash ^= s->hash >> 29;
}

void sim_violation(struct sim *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	s->failed = true;
	s->st.violations++;
	int len = snprintf(s->violation, sizeof(s->violation),
	                   "t=%lld.%06llds event %llu: ", (long long)(s->now / 1000000),
	                   (long long)(s->now % 1000000), (unsigned long long)s->st.events);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->violation + len, sizeof(s->violation) - (size_t)len, fmt, ap);
	va_end(ap);
	if (s->trace)
		printf("VIOLATION %s\n", s->violation);
}

void sim_tracef(struct sim *s, const char *fmt, ...)
{
	if (!s->trace)
		return;
	printf("%8lld.%06lld ", (long long)(s->now / 1000000), (long long)(s->now % 1000000));
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void draw_params(struct sim *s, const struct sim_run_opts *o)
{
	struct sim_params *p = &s->p;
	struct sim_rng *r = &s->rng;
	p->voters = sim_rng_chance(r, 0.5) ? 3 : 5;
	p->observers = (uint32_t)sim_rng_below(r, 3);
	p->election_ms = sim_rng_range(r, 150, 600);
	p->fetch_ms = 2 * p->election_ms;
	p->delay_min_us = sim_rng_range(r, 0, 3000);
	p->delay_mean_us = sim_rng_range(r, 500, 12000);
	p->loss = sim_rng_chance(r, 0.2) ? 0.0 : (double)sim_rng_below(r, 31) / 100.0;
	p->dup = sim_rng_chance(r, 0.3) ? 0.0 : (double)sim_rng_below(r, 21) / 100.0;
	p->flush_min_us = sim_rng_range(r, 0, 2000);
	p->flush_mean_us = sim_rng_range(r, 100, 20000);
	p->fault_mean_us = sim_rng_range(r, 200000, 2000000);
	p->w_partition = (uint32_t)sim_rng_below(r, 4);
	p->w_one_way = (uint32_t)sim_rng_below(r, 3);
	p->w_crash = (uint32_t)sim_rng_below(r, 4);
	p->w_pause = (uint32_t)sim_rng_below(r, 3);
	p->w_resign = (uint32_t)sim_rng_below(r, 2);
	p->w_power = sim_rng_chance(r, 0.3) ? 1 : 0;
	p->propose_mean_us = sim_rng_range(r, 5000, 60000);
	p->fetch_recs_max = (uint32_t)sim_rng_range(r, 4, 128);
	p->snap_every = sim_rng_chance(r, 0.2) ? 0 : (uint32_t)sim_rng_range(r, 10, 200);
	p->snap_delete = (double)sim_rng_below(r, 101) / 100.0;
	p->snap_chunk = sim_rng_range(r, 256, 8192);
	p->drift_ppm = sim_rng_chance(r, 0.3) ? 0 : sim_rng_range(r, 0, 100000);
	p->safety_us = (o->safety_ms > 0 ? o->safety_ms : SIM_SAFETY_MS_DEFAULT) * 1000;
	p->liveness_us = 20 * p->election_ms * 1100 + 8000000;
	p->canary = o->canary;
	if (o->canary_faults) {
		/* Make the mutants observable: slow leader flushes against fast links, frequent
		 * leader changes, crashes, little loss. */
		p->loss /= 4;
		p->flush_mean_us = sim_rng_range(r, 5000, 40000);
		p->delay_mean_us = sim_rng_range(r, 300, 3000);
		p->w_crash += 2;
		p->w_partition += 2;
		p->fault_mean_us = sim_rng_range(r, 100000, 600000);
		p->probe_truncate = true;
	}
	if (p->w_partition + p->w_one_way + p->w_crash + p->w_pause + p->w_resign == 0)
		p->w_crash = 1;
}

static void setup_node(struct sim *s, uint32_t i)
{
	struct sim_node *n = &s->nodes[i];
	memset(n, 0, sizeof(*n));
	n->idx = (int32_t)i;
	n->id = (int32_t)i + 1;
	n->voter = i < s->p.voters;
	n->rc = calloc(1, raft_core_size());
	SL_ASSERT(n->rc != NULL);
	disk_init(&n->disk);
	struct raft_core_config *c = &n->cfg;
	c->node_id = n->id;
	for (uint32_t v = 0; v < s->p.voters; v++)
		c->voters[v] = (int32_t)v + 1;
	c->voter_count = s->p.voters;
	c->election_timeout_ms = s->p.election_ms;
	c->fetch_timeout_ms = s->p.fetch_ms;
	c->election_backoff_max_ms = s->p.election_ms;
	c->request_timeout_ms = s->p.election_ms;
	c->retry_backoff_ms = 20;
	c->fetch_max_wait_ms = s->p.election_ms / 2;
	c->pre_vote = true;
	c->epoch_buf = n->epoch_buf;
	c->epoch_cap = SIM_EPOCH_CAP;
	c->out_buf = n->out_buf;
	c->out_cap = SIM_OUT_CAP;
	c->canary = s->p.canary;
	n->clock_offset_us = sim_rng_range(&s->rng, 0, 1000000000);
	n->rate_ppm = 1000000 + sim_rng_range(&s->rng, -s->p.drift_ppm, s->p.drift_ppm);
	n->tick_at = INT64_MAX;
}

static void push(struct sim *s, int64_t at, enum sim_ev_type t, int32_t node, uint64_t gen,
                 int64_t arg)
{
	struct sim_event ev = {.time = at, .type = t, .node = node, .gen = gen, .arg = arg};
	sched_push(&s->sched, ev);
}

static void inject_fault(struct sim *s)
{
	const struct sim_params *p = &s->p;
	uint32_t total =
	        p->w_partition + p->w_one_way + p->w_crash + p->w_pause + p->w_resign + p->w_power;
	uint32_t x = (uint32_t)sim_rng_below(&s->rng, total);
	struct sim_node *n = &s->nodes[sim_rng_below(&s->rng, s->node_count)];
	if (x < p->w_partition + p->w_one_way) {
		net_partition(s);
	} else if ((x -= p->w_partition + p->w_one_way) < p->w_crash) {
		if (n->up) {
			s->st.faults[F_CRASH]++;
			node_crash(s, n);
			int64_t down = sim_rng_range(&s->rng, 20000, 3 * p->election_ms * 1000);
			push(s, s->now + down, EV_RESTART, n->idx, n->incarnation, 0);
		}
	} else if ((x -= p->w_crash) < p->w_pause) {
		if (n->up && n->paused_until <= s->now) {
			s->st.faults[F_PAUSE]++;
			n->paused_until =
			        s->now + sim_rng_range(&s->rng, 10000, 3 * p->election_ms * 1000);
			sim_tracef(s, "node %d paused until %lld", n->id,
			           (long long)n->paused_until);
		}
	} else if ((x -= p->w_pause) < p->w_power) {
		/* Power loss: every node at once; unsynced tails are lost everywhere. */
		s->st.faults[F_POWER]++;
		sim_tracef(s, "power loss");
		for (uint32_t i = 0; i < s->node_count; i++) {
			struct sim_node *v = &s->nodes[i];
			if (!v->up)
				continue;
			s->st.faults[F_CRASH]++;
			node_crash(s, v);
			int64_t down = sim_rng_range(&s->rng, 20000, 2 * p->election_ms * 1000);
			push(s, s->now + down, EV_RESTART, v->idx, v->incarnation, 0);
		}
	} else {
		for (uint32_t i = 0; i < s->node_count; i++) {
			struct sim_node *l = &s->nodes[i];
			if (l->up && l->paused_until <= s->now && l->role == RAFT_LEADER) {
				s->st.faults[F_RESIGN]++;
				sim_tracef(s, "node %d resigns", l->id);
				node_resign(s, l);
				break;
			}
		}
	}
	push(s, s->now + 1 + sim_rng_exp(&s->rng, p->fault_mean_us), EV_FAULT, -1, 0, 0);
}

static void phase(struct sim *s, int64_t which)
{
	if (which == 1) {
		sim_tracef(s, "=== liveness phase: heal everything");
		s->phase = PHASE_LIVENESS;
		s->heal_at = s->now;
		net_heal_all(s);
		for (uint32_t i = 0; i < s->node_count && !s->failed; i++) {
			struct sim_node *n = &s->nodes[i];
			n->paused_until = 0;
			if (!n->up)
				node_start(s, n);
		}
		s->liveness_hw_start = s->committed_end;
	} else if (which == 2) {
		sim_tracef(s, "=== proposals stop");
		s->hw_at_stop = s->committed_end;
	} else {
		/* Give a slow cluster (small fetches, slow disks) time to drain its backlog. */
		if (!workload_settled(s) && s->now < s->stop_proposing_at + SIM_DRAIN_MAX_US) {
			push(s, s->now + 200000, EV_PHASE, -1, 0, 3);
			return;
		}
		sim_tracef(s, "=== end");
		s->phase = PHASE_DONE;
		check_liveness(s);
	}
}

/* Events for a paused node wait until it resumes; a crashed node loses them. */
static bool node_event(struct sim *s, struct sim_event *ev)
{
	struct sim_node *n = &s->nodes[ev->node];
	if (!n->up) {
		sim_msg_free(ev->msg);
		if (ev->type == EV_FLUSH)
			n->disk.flush_pending = false;
		return true;
	}
	if (n->paused_until > s->now) {
		ev->time = n->paused_until;
		sched_push(&s->sched, *ev);
		return false;
	}
	if (ev->type == EV_DELIVER) {
		node_deliver(s, n, ev->msg);
		sim_msg_free(ev->msg);
	} else if (ev->type == EV_TICK) {
		if (ev->gen == n->tick_seq)
			node_tick(s, n);
	} else {
		node_flush_done(s, n, ev->gen, ev->arg);
	}
	return true;
}

static void dispatch(struct sim *s, struct sim_event *ev)
{
	switch (ev->type) {
	case EV_DELIVER:
	case EV_TICK:
	case EV_FLUSH:
		node_event(s, ev);
		break;
	case EV_PROPOSE:
		workload_propose_event(s);
		break;
	case EV_FAULT:
		if (s->phase == PHASE_SAFETY)
			inject_fault(s);
		break;
	case EV_HEAL:
		net_heal(s, (int32_t)ev->arg);
		break;
	case EV_RESTART: {
		struct sim_node *n = &s->nodes[ev->node];
		if (!n->up && n->incarnation == ev->gen)
			node_start(s, n);
		break;
	}
	case EV_PHASE:
		phase(s, ev->arg);
		break;
	case EV_TYPE_COUNT:
		SL_UNREACHABLE();
	}
}

static void run_loop(struct sim *s)
{
	struct sim_event ev;
	while (!s->failed && s->phase != PHASE_DONE && sched_pop(&s->sched, &ev)) {
		s->now = ev.time;
		s->event_id = ev.id;
		s->st.events++;
		sim_fold(s, (uint64_t)ev.time);
		sim_fold(s, ((uint64_t)ev.type << 32) ^ (uint64_t)(uint32_t)ev.node);
		if (s->st.events > SIM_EVENTS_MAX) {
			sim_violation(s, "event budget exceeded (livelock?)");
			break;
		}
		dispatch(s, &ev);
		if (!s->failed)
			check_event(s);
	}
}

bool sim_run_seed(uint64_t seed, const struct sim_run_opts *o, struct sim_stats *st, uint64_t *hash,
                  char *why, size_t why_len)
{
	struct sim *s = calloc(1, sizeof(*s));
	SL_ASSERT(s != NULL);
	s->seed = seed;
	s->rng.state = seed * 0x2545f4914f6cdd1dull + 0x632be59bd9b4e019ull;
	s->trace = o->trace;
	s->hash = 0xcbf29ce484222325ull;
	s->leader_seen_at = -1;
	draw_params(s, o);
	s->node_count = s->p.voters + s->p.observers;
	sched_init(&s->sched);
	check_init(s);
	net_init(s);
	for (uint32_t i = 0; i < s->node_count; i++)
		setup_node(s, i);
	int64_t end = s->p.safety_us + s->p.liveness_us;
	s->stop_proposing_at = end - 3000000;
	if (s->trace)
		printf("seed %llu: %u voters %u observers, election %lld ms, delay %lld+%lld us, "
		       "loss "
		       "%.2f dup %.2f, flush %lld+%lld us, snapshot every %u, drift %lld ppm, "
		       "canary %u\n",
		       (unsigned long long)seed, s->p.voters, s->p.observers,
		       (long long)s->p.election_ms, (long long)s->p.delay_min_us,
		       (long long)s->p.delay_mean_us, s->p.loss, s->p.dup,
		       (long long)s->p.flush_min_us, (long long)s->p.flush_mean_us, s->p.snap_every,
		       (long long)s->p.drift_ppm, s->p.canary);
	for (uint32_t i = 0; i < s->node_count && !s->failed; i++)
		node_start(s, &s->nodes[i]);
	push(s, 1000, EV_PROPOSE, -1, 0, 0);
	push(s, sim_rng_exp(&s->rng, s->p.fault_mean_us), EV_FAULT, -1, 0, 0);
	push(s, s->p.safety_us, EV_PHASE, -1, 0, 1);
	push(s, s->stop_proposing_at, EV_PHASE, -1, 0, 2);
	push(s, end, EV_PHASE, -1, 0, 3);
	run_loop(s);
	if (!s->failed && s->phase != PHASE_DONE)
		sim_violation(s, "event queue ran dry before the end");
	s->st.seeds = 1;
	*st = s->st;
	*hash = s->hash;
	bool ok = !s->failed;
	snprintf(why, why_len, "%s", s->violation);
	sched_free(&s->sched);
	for (uint32_t i = 0; i < s->node_count; i++)
		node_free(&s->nodes[i]);
	check_free(s);
	free(s->props);
	free(s);
	return ok;
}
