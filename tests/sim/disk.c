/*
 * disk.c: one node's simulated storage: quorum-state (written synchronously, always durable),
 * the log as records (offset, epoch, value) grouped in batches, a durable watermark advanced by
 * flush events, the latest snapshot and a snapshot download in progress.
 *
 * Crash model: records below synced_end survive; of the unsynced tail a random prefix of whole
 * batches survives (a torn tail: the OS wrote some of it), the rest is lost; the .part snapshot
 * is lost; the latest snapshot (written by rename) survives.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "base.h"

void disk_init(struct sim_disk *d)
{
	memset(d, 0, sizeof(*d));
	d->hs.epoch = 0;
	d->hs.voted_id = RAFT_CORE_NONE;
	d->hs.leader_id = RAFT_CORE_NONE;
	d->snap.id.end_offset = -1;
	d->part.id.end_offset = -1;
}

void snap_clear(struct sim_snap *s)
{
	free(s->bytes);
	memset(s, 0, sizeof(*s));
	s->id.end_offset = -1;
}

void snap_set(struct sim_snap *s, struct raft_snapshot_id id, const uint8_t *bytes, int64_t len)
{
	uint8_t *copy = malloc((size_t)len + 1);
	SL_ASSERT(copy != NULL);
	if (len > 0)
		memcpy(copy, bytes, (size_t)len);
	snap_clear(s);
	s->valid = true;
	s->id = id;
	s->bytes = copy;
	s->len = len;
	s->size = len;
}

void disk_free(struct sim_disk *d)
{
	free(d->recs);
	snap_clear(&d->snap);
	snap_clear(&d->part);
	memset(d, 0, sizeof(*d));
}

const struct sim_rec *disk_rec(const struct sim_disk *d, int64_t o)
{
	if (o < d->start || o >= disk_end(d))
		return NULL;
	return &d->recs[o - d->start];
}

void disk_append(struct sim_disk *d, struct sim_rec r)
{
	if (d->count == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 256;
		d->recs = realloc(d->recs, d->cap * sizeof(*d->recs));
		SL_ASSERT(d->recs != NULL);
	}
	d->recs[d->count++] = r;
}

void disk_truncate(struct sim_disk *d, int64_t end)
{
	if (end < d->start) {
		disk_reset(d, end);
		return;
	}
	if (end < disk_end(d))
		d->count = (uint32_t)(end - d->start);
	if (d->synced_end > end)
		d->synced_end = end;
	d->gen++;
}

void disk_drop_prefix(struct sim_disk *d, int64_t new_start)
{
	SL_ASSERT(new_start <= disk_end(d));
	if (new_start <= d->start)
		return;
	uint32_t drop = (uint32_t)(new_start - d->start);
	memmove(d->recs, d->recs + drop, (d->count - drop) * sizeof(*d->recs));
	d->count -= drop;
	d->start = new_start;
	if (d->synced_end < new_start)
		d->synced_end = new_start;
}

void disk_reset(struct sim_disk *d, int64_t at)
{
	d->count = 0;
	d->start = at;
	d->synced_end = at;
	d->gen++;
}

bool disk_crash(struct sim_disk *d, struct sim_rng *rng)
{
	int64_t end = disk_end(d);
	bool torn = false;
	if (end > d->synced_end) {
		/* Batch boundaries in the unsynced tail; keep a random number of whole batches. */
		int64_t keep = d->synced_end;
		if (sim_rng_chance(rng, 0.5)) {
			int64_t o = d->synced_end;
			while (o < end) {
				const struct sim_rec *r = disk_rec(d, o);
				if (r->batch_base == o && o > d->synced_end &&
				    sim_rng_chance(rng, 0.4))
					break;
				o++;
			}
			/* o is a batch start (or end): everything below it is whole batches. */
			while (o > d->synced_end && o < end && disk_rec(d, o)->batch_base != o)
				o--;
			keep = o;
			torn = keep > d->synced_end;
		}
		d->count = (uint32_t)(keep - d->start);
	}
	d->synced_end = disk_end(d);
	d->flush_pending = false;
	d->gen++;
	snap_clear(&d->part);
	return torn;
}

uint32_t disk_epochs(const struct sim_disk *d, struct raft_epoch_entry *out, uint32_t cap)
{
	uint32_t n = 0;
	int32_t last = -1;
	for (uint32_t i = 0; i < d->count; i++) {
		if (d->recs[i].epoch == last)
			continue;
		SL_ASSERT(n < cap);
		last = d->recs[i].epoch;
		out[n].epoch = last;
		out[n].start_offset = d->start + (int64_t)i;
		n++;
	}
	return n;
}
