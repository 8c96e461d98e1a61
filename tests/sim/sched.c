/*
 * sched.c: the simulator's event queue (a binary min-heap ordered by (virtual time, event id),
 * as Kafka's EventScheduler: ties are broken by insertion order, so a run is a pure function of
 * its seed), the seeded generator and message buffers.
 */
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
	SL_ASSERT(n > 0);
	return sim_rng_next(r) % n;
}

int64_t sim_rng_range(struct sim_rng *r, int64_t lo, int64_t hi)
{
	SL_ASSERT(lo <= hi);
	return lo + (int64_t)sim_rng_below(r, (uint64_t)(hi - lo) + 1);
}

bool sim_rng_chance(struct sim_rng *r, double p)
{
	return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53 < p;
}

int64_t sim_rng_exp(struct sim_rng *r, int64_t mean)
{
	double u = ((double)(sim_rng_next(r) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
	double v = -log(u) * (double)mean;
	if (v > (double)mean * 50.0)
		v = (double)mean * 50.0;
	return (int64_t)v;
}

struct sim_msg *sim_msg_new(const struct raft_msg *m, uint32_t batch_count, uint32_t rec_count,
                            int64_t byte_len)
{
	size_t sz = sizeof(struct sim_msg) + batch_count * sizeof(struct raft_batch) +
	            rec_count * sizeof(struct sim_rec) + (size_t)byte_len;
	struct sim_msg *sm = calloc(1, sz);
	SL_ASSERT(sm != NULL);
	sm->m = *m;
	sm->m.batches = NULL;
	sm->m.batch_count = 0;
	uint8_t *p = (uint8_t *)(sm + 1);
	sm->batches = (struct raft_batch *)p;
	sm->batch_count = batch_count;
	p += batch_count * sizeof(struct raft_batch);
	sm->recs = (struct sim_rec *)p;
	sm->rec_count = rec_count;
	p += rec_count * sizeof(struct sim_rec);
	sm->bytes = p;
	sm->byte_len = byte_len;
	return sm;
}

struct sim_msg *sim_msg_clone(const struct sim_msg *src)
{
	struct sim_msg *c = sim_msg_new(&src->m, src->batch_count, src->rec_count, src->byte_len);
	memcpy(c->batches, src->batches, src->batch_count * sizeof(struct raft_batch));
	memcpy(c->recs, src->recs, src->rec_count * sizeof(struct sim_rec));
	if (src->byte_len > 0)
		memcpy(c->bytes, src->bytes, (size_t)src->byte_len);
	return c;
}

void sim_msg_free(struct sim_msg *m)
{
	free(m);
}

void sched_init(struct sim_sched *s)
{
	memset(s, 0, sizeof(*s));
	s->cap = 1024;
	s->heap = malloc(s->cap * sizeof(*s->heap));
	SL_ASSERT(s->heap != NULL);
}

void sched_free(struct sim_sched *s)
{
	for (uint32_t i = 0; i < s->count; i++)
		sim_msg_free(s->heap[i].msg);
	free(s->heap);
	memset(s, 0, sizeof(*s));
}

static bool ev_less(const struct sim_event *a, const struct sim_event *b)
{
	if (a->time != b->time)
		return a->time < b->time;
	return a->id < b->id;
}

void sched_push(struct sim_sched *s, struct sim_event ev)
{
	if (s->count == s->cap) {
		s->cap *= 2;
		s->heap = realloc(s->heap, s->cap * sizeof(*s->heap));
		SL_ASSERT(s->heap != NULL);
	}
	ev.id = s->next_id++;
	uint32_t i = s->count++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!ev_less(&ev, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = ev;
}

bool sched_pop(struct sim_sched *s, struct sim_event *out)
{
	if (s->count == 0)
		return false;
	*out = s->heap[0];
	struct sim_event last = s->heap[--s->count];
	uint32_t i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		const struct sim_event *best = &last;
		if (l < s->count && ev_less(&s->heap[l], best)) {
			m = l;
			best = &s->heap[l];
		}
		if (r < s->count && ev_less(&s->heap[r], best))
			m = r;
		if (m == i)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (s->count > 0)
		s->heap[i] = last;
	return true;
}
