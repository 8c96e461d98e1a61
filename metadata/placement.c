/*
 * placement.c: replica placement for new partitions, Kafka's StripedReplicaPlacer
 * (kraft.md §6.5) written from its description.
 *
 * Usable brokers (registered, not in controlled shutdown) are grouped by rack (NULL rack = one
 * group, sorted first; the others by name). Each rack keeps its unfenced and its fenced
 * brokers in two lists, each with a random start offset. A partition takes its first replica
 * from the first rack (from a rotating rack offset) that still has an unfenced broker, then
 * one replica per rack round-robin from that same offset, skipping the leader's rack once;
 * inside a rack unfenced brokers come first, fenced ones only when those are exhausted. Every
 * partition starts a new "round": each list restarts one position further, so leaders and
 * followers stripe across brokers; after as many rounds as there are unfenced brokers the
 * rack order and every list are shuffled.
 *
 * Invariants: no broker appears twice in a partition (each list yields each broker at most
 * once per round); the first replica is unfenced; the output depends only on the view and
 * the seed (splitmix64 over it). Rounds are numbered by a counter that never repeats, so a
 * list that sat out a round never resumes with a stale index.
 */
#include "meta_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct plist {
	int32_t *ids; /* ascending before shuffles */
	uint32_t size;
	uint32_t index;  /* taken in the current round */
	uint32_t offset; /* added to index (mod size) */
	uint64_t round;  /* round the index belongs to */
};

struct prack {
	const char *name; /* NULL = no rack */
	struct plist unfenced;
	struct plist fenced;
};

struct placer {
	uint64_t rng;
	struct prack *racks;
	uint32_t rack_count;
	uint32_t offset;         /* rack the next partition starts at */
	uint32_t epoch;          /* partitions since the last shuffle */
	uint64_t round;          /* never repeats; lists reset when it changes */
	uint32_t total_brokers;  /* usable */
	uint32_t unfenced_count; /* usable and unfenced */
};

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the modulo bias is irrelevant for placement). */
static uint32_t rand_below(struct placer *p, uint32_t n)
{
	return (uint32_t)(splitmix64(&p->rng) % n);
}

static bool usable(const struct meta_broker *b)
{
	return !b->in_controlled_shutdown;
}

/* NULL sorts first, then by name. */
static int rack_cmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b ? 0 : (a == NULL ? -1 : 1);
	return strcmp(a, b);
}

/* The next broker of the list in this round, or -1 when it has none left. */
static int32_t plist_next(struct plist *l, uint64_t round)
{
	int32_t id;

	if (l->size == 0)
		return -1;
	if (l->round != round) {
		l->round = round;
		l->index = 0;
		l->offset = (l->offset + 1) % l->size;
	}
	if (l->index >= l->size)
		return -1;
	id = l->ids[(l->index + l->offset) % l->size];
	l->index++;
	return id;
}

static int32_t prack_next(struct prack *r, uint64_t round)
{
	int32_t id = plist_next(&r->unfenced, round);

	return id >= 0 ? id : plist_next(&r->fenced, round);
}

static void plist_shuffle(struct placer *p, struct plist *l)
{
	for (uint32_t i = l->size; i > 1; i--) {
		uint32_t j = rand_below(p, i);
		int32_t t = l->ids[i - 1];

		l->ids[i - 1] = l->ids[j];
		l->ids[j] = t;
	}
}

static void placer_shuffle(struct placer *p)
{
	for (uint32_t i = p->rack_count; i > 1; i--) {
		uint32_t j = rand_below(p, i);
		struct prack t = p->racks[i - 1];

		p->racks[i - 1] = p->racks[j];
		p->racks[j] = t;
	}
	for (uint32_t i = 0; i < p->rack_count; i++) {
		plist_shuffle(p, &p->racks[i].unfenced);
		plist_shuffle(p, &p->racks[i].fenced);
	}
}

/* Index of the rack named name, inserting it in sorted position when absent. racks has room
 * for one more. */
static struct prack *rack_for(struct placer *p, const char *name)
{
	uint32_t i = 0;

	while (i < p->rack_count && rack_cmp(p->racks[i].name, name) < 0)
		i++;
	if (i < p->rack_count && rack_cmp(p->racks[i].name, name) == 0)
		return &p->racks[i];
	memmove(&p->racks[i + 1], &p->racks[i], sizeof(*p->racks) * (p->rack_count - i));
	p->racks[i] = (struct prack){.name = name};
	p->rack_count++;
	return &p->racks[i];
}

/* Loads the usable brokers of view: counts per rack list first, then fills the lists in
 * ascending id order (so every list starts sorted). */
static bool placer_load(struct placer *p, const struct meta_image *view, struct sl_arena *arena)
{
	size_t n = meta_image_broker_count(view);

	p->racks = sl_arena_calloc(arena, SL_MAX(n, (size_t)1), sizeof(*p->racks));
	if (p->racks == NULL)
		return false;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const struct meta_broker *b = meta_image_broker_at(view, i);
			struct prack *r;
			struct plist *l;

			if (!usable(b))
				continue;
			r = rack_for(p, b->rack);
			l = b->fenced ? &r->fenced : &r->unfenced;
			if (pass == 0) {
				l->size++;
				p->total_brokers++;
				p->unfenced_count += b->fenced ? 0 : 1;
			} else {
				l->ids[l->index++] = b->broker_id;
			}
		}
		for (uint32_t i = 0; pass == 0 && i < p->rack_count; i++) {
			struct prack *r = &p->racks[i];

			r->unfenced.ids =
			        sl_arena_alloc(arena, sizeof(int32_t) * (r->unfenced.size + 1));
			r->fenced.ids =
			        sl_arena_alloc(arena, sizeof(int32_t) * (r->fenced.size + 1));
			if (r->unfenced.ids == NULL || r->fenced.ids == NULL)
				return false;
		}
	}
	for (uint32_t i = 0; i < p->rack_count; i++) {
		struct prack *r = &p->racks[i];

		r->unfenced.index = 0;
		r->fenced.index = 0;
		if (r->unfenced.size > 0)
			r->unfenced.offset = rand_below(p, r->unfenced.size);
		if (r->fenced.size > 0)
			r->fenced.offset = rand_below(p, r->fenced.size);
	}
	p->offset = p->rack_count > 0 ? rand_below(p, p->rack_count) : 0;
	return true;
}

/* One partition's replicas (rf <= total_brokers, unfenced_count > 0). */
static void placer_place(struct placer *p, int32_t rf, int32_t *out)
{
	uint32_t first, at;
	bool skip_first = true;

	if (p->epoch == p->unfenced_count && p->unfenced_count > 1) {
		placer_shuffle(p);
		p->epoch = 0;
	}
	if (p->offset >= p->rack_count)
		p->offset = 0;
	p->round++;
	first = p->offset;
	for (;;) { /* some rack has an unfenced broker left: lists are fresh this round */
		out[0] = plist_next(&p->racks[first].unfenced, p->round);
		if (out[0] >= 0)
			break;
		first = (first + 1) % p->rack_count;
	}
	at = p->offset;
	for (int32_t r = 1; r < rf; r++) {
		int32_t id = -1;

		/* Terminates: fewer than total_brokers replicas were taken this round. */
		while (id < 0) {
			if (skip_first && at == first)
				skip_first = false;
			else
				id = prack_next(&p->racks[at], p->round);
			at = (at + 1) % p->rack_count;
		}
		out[r] = id;
	}
	p->epoch++;
	p->offset++;
}

bool meta_place_replicas(const struct meta_image *view, uint64_t seed, int32_t partition_count,
                         int32_t replication_factor, struct sl_arena *arena, int32_t *replicas,
                         struct meta_ctl_result *res)
{
	struct placer p = {.rng = seed};

	res->error_code = WIRE_ERR_NONE;
	res->message[0] = '\0';
	if (replication_factor <= 0) {
		res->error_code = WIRE_ERR_INVALID_REPLICATION_FACTOR;
		snprintf(res->message, sizeof(res->message),
		         "Invalid replication factor %" PRId32
		         ": the replication factor must be positive.",
		         replication_factor);
		return false;
	}
	if (!placer_load(&p, view, arena)) {
		res->error_code = WIRE_ERR_UNKNOWN_SERVER_ERROR;
		snprintf(res->message, sizeof(res->message), "Out of memory placing replicas.");
		return false;
	}
	if (p.unfenced_count == 0) {
		res->error_code = WIRE_ERR_INVALID_REPLICATION_FACTOR;
		snprintf(res->message, sizeof(res->message), "All brokers are currently fenced.");
		return false;
	}
	if ((uint32_t)replication_factor > p.total_brokers) {
		res->error_code = WIRE_ERR_INVALID_REPLICATION_FACTOR;
		snprintf(res->message, sizeof(res->message),
		         "The target replication factor of %" PRId32
		         " cannot be reached because only %" PRIu32 " broker(s) are registered.",
		         replication_factor, p.total_brokers);
		return false;
	}
	for (int32_t k = 0; k < partition_count; k++)
		placer_place(&p, replication_factor,
		             replicas + (size_t)k * (size_t)replication_factor);
	return true;
}
