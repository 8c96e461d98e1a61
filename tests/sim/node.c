/*
 * node.c: the simulated driver of one raft_core. It follows the ready-loop contract of
 * raft_core.h to the letter: after every call that can change the core's state it reads the
 * ready and executes, in order, persist (synchronous, durable) → truncate → append (LeaderChange,
 * accepted fetch batches) → snapshot write/install → send → apply up to the high watermark →
 * advance. Calls the contract makes after the ready (snapshot_installed, snapshot_taken,
 * log_start_advanced) are made after advance and followed by another ready round.
 *
 * Clock drift: a node's `now` is offset + global time × rate (rate per node per seed); its timer
 * deadlines are mapped back to global time for the scheduler. A paused node defers its events.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "base.h"

int64_t node_now_ms(const struct sim *s, const struct sim_node *n)
{
	return (n->clock_offset_us + s->now * n->rate_ppm / 1000000) / 1000;
}

/* Global µs at which the node's clock reads deadline_ms. */
static int64_t global_at(const struct sim *s, const struct sim_node *n, int64_t deadline_ms)
{
	int64_t local_us = deadline_ms * 1000 - n->clock_offset_us;
	int64_t g = (local_us * 1000000 + n->rate_ppm - 1) / n->rate_ppm;
	while ((n->clock_offset_us + g * n->rate_ppm / 1000000) / 1000 < deadline_ms)
		g++;
	return g < s->now ? s->now : g;
}

/* ---- snapshot bytes: [u64 count] then per record [i32 epoch][u64 value], big endian ---- */

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint8_t *snap_serialize(const struct sim_rec *recs, int64_t count, int64_t *len)
{
	*len = 8 + count * 12;
	uint8_t *b = malloc((size_t)*len);
	SL_ASSERT(b != NULL);
	put_be(b, (uint64_t)count, 8);
	for (int64_t i = 0; i < count; i++) {
		put_be(b + 8 + i * 12, (uint32_t)recs[i].epoch, 4);
		put_be(b + 12 + i * 12, recs[i].value, 8);
	}
	return b;
}

/* Parses snapshot bytes into the node's applied state; false when malformed. */
static bool snap_load(struct sim_node *n, const uint8_t *b, int64_t len)
{
	if (len < 8)
		return false;
	uint64_t count = get_be(b, 8);
	if (count > (uint64_t)(len - 8) / 12 || (int64_t)count * 12 + 8 != len)
		return false;
	if (count > n->applied_cap) {
		n->applied_cap = (uint32_t)count + 256;
		n->applied = realloc(n->applied, n->applied_cap * sizeof(*n->applied));
		SL_ASSERT(n->applied != NULL);
	}
	for (uint64_t i = 0; i < count; i++) {
		n->applied[i].batch_base = (int64_t)i;
		n->applied[i].epoch = (int32_t)(uint32_t)get_be(b + 8 + i * 12, 4);
		n->applied[i].value = get_be(b + 12 + i * 12, 8);
	}
	n->applied_end = (int64_t)count;
	return true;
}

static void apply_rec(struct sim_node *n, const struct sim_rec *r)
{
	if ((uint64_t)n->applied_end == n->applied_cap) {
		n->applied_cap = n->applied_cap ? n->applied_cap * 2 : 256;
		n->applied = realloc(n->applied, n->applied_cap * sizeof(*n->applied));
		SL_ASSERT(n->applied != NULL);
	}
	n->applied[n->applied_end++] = *r;
}

/* ---- start / crash ---------------------------------------------------------------------- */

void node_start(struct sim *s, struct sim_node *n)
{
	/* Recovery rule of a real driver (Kafka's KafkaMetadataLog): a log that ends below the
	 * latest snapshot (its unsynced tail was lost) restarts empty at the snapshot end. */
	if (n->disk.snap.valid && n->disk.snap.id.end_offset > disk_end(&n->disk))
		disk_reset(&n->disk, n->disk.snap.id.end_offset);
	struct raft_epoch_entry epochs[SIM_EPOCH_CAP];
	struct raft_log_state ls = {
	        .start_offset = n->disk.start,
	        .end_offset = disk_end(&n->disk),
	        .snapshot = n->disk.snap.id,
	        .snapshot_size = n->disk.snap.valid ? n->disk.snap.len : 0,
	        .epochs = epochs,
	        .epoch_count = disk_epochs(&n->disk, epochs, SIM_EPOCH_CAP),
	};
	if (!n->disk.snap.valid)
		ls.snapshot.end_offset = -1;
	n->incarnation++;
	n->up = true;
	n->paused_until = 0;
	n->cfg.seed = s->seed * 31 + (uint64_t)n->idx * 1009 + n->incarnation * 7919;
	n->applied_end = 0;
	if (n->disk.snap.valid && !snap_load(n, n->disk.snap.bytes, n->disk.snap.len))
		sim_violation(s, "node %d: own snapshot unreadable", n->id);
	n->exposed_hw = -1;
	n->role = RAFT_UNATTACHED;
	n->epoch = n->disk.hs.epoch;
	n->leader_hw = -1;
	n->leader_epoch = -1;
	n->epoch_start = -1;
	n->verified_end = n->disk.start;
	n->next_snap_at = n->applied_end + s->p.snap_every;
	n->tick_at = INT64_MAX;
	n->tick_seq++;
	n->stepping = NULL;
	char err[256] = "";
	if (!raft_core_init(n->rc, &n->cfg, &n->disk.hs, &ls, node_now_ms(s, n), err,
	                    sizeof(err))) {
		sim_violation(s, "node %d: raft_core_init failed: %s", n->id, err);
		n->up = false;
		return;
	}
	sim_tracef(s, "node %d start inc %llu log [%lld,%lld) snap %lld hs epoch %d voted %d",
	           n->id, (unsigned long long)n->incarnation, (long long)n->disk.start,
	           (long long)disk_end(&n->disk), (long long)ls.snapshot.end_offset,
	           n->disk.hs.epoch, n->disk.hs.voted_id);
	if (raft_core_epoch(n->rc) != n->disk.hs.epoch)
		sim_violation(s, "node %d: epoch %d after init, persisted %d", n->id,
		              raft_core_epoch(n->rc), n->disk.hs.epoch);
	node_process(s, n);
}

void node_crash(struct sim *s, struct sim_node *n)
{
	workload_lost_leadership(s, n);
	if (disk_crash(&n->disk, &s->rng))
		s->st.faults[F_TORN]++;
	n->up = false;
	n->tick_seq++;
	n->tick_at = INT64_MAX;
	n->role = RAFT_UNATTACHED;
	n->applied_end = 0;
	sim_tracef(s, "node %d crash: log [%lld,%lld)", n->id, (long long)n->disk.start,
	           (long long)disk_end(&n->disk));
}

void node_free(struct sim_node *n)
{
	disk_free(&n->disk);
	free(n->applied);
	free(n->rc);
	n->applied = NULL;
	n->rc = NULL;
}

/* ---- the ready loop --------------------------------------------------------------------- */

static void do_append(struct sim *s, struct sim_node *n, const struct raft_ready *rd)
{
	if (rd->leader_change) {
		if (rd->leader_change_offset != disk_end(&n->disk))
			sim_violation(s, "node %d: LeaderChange at %lld but log end %lld", n->id,
			              (long long)rd->leader_change_offset,
			              (long long)disk_end(&n->disk));
		struct sim_rec r = {.batch_base = rd->leader_change_offset, .epoch = rd->epoch};
		check_written(s, n, rd->leader_change_offset, rd->epoch, 0, true);
		disk_append(&n->disk, r);
	}
	if (rd->append_count == 0)
		return;
	const struct sim_msg *m = n->stepping;
	if (m == NULL || m->m.type != RAFT_FETCH_RESP || rd->append_count > m->batch_count) {
		sim_violation(s, "node %d: append_count %u without a matching FetchResponse", n->id,
		              rd->append_count);
		return;
	}
	if (m->batches[0].base_offset != disk_end(&n->disk)) {
		sim_violation(s, "node %d: append at %lld but log end %lld", n->id,
		              (long long)m->batches[0].base_offset, (long long)disk_end(&n->disk));
		return;
	}
	int64_t first = m->batches[0].base_offset;
	int64_t last = m->batches[rd->append_count - 1].last_offset;
	for (int64_t o = first; o <= last && !s->failed; o++) {
		const struct sim_rec *r = &m->recs[o - first];
		check_written(s, n, o, r->epoch, r->value, false);
		disk_append(&n->disk, *r);
	}
}

static void snapshot_write(struct sim *s, struct sim_node *n, const struct raft_ready *rd)
{
	const struct sim_msg *m = n->stepping;
	if (m == NULL || m->m.type != RAFT_SNAP_RESP) {
		sim_violation(s, "node %d: snapshot_write without a FetchSnapshotResponse", n->id);
		return;
	}
	struct sim_snap *part = &n->disk.part;
	if (rd->snapshot_position == 0) {
		snap_clear(part);
		part->valid = true;
		part->id = rd->snapshot;
		part->size = m->m.size;
		part->bytes = malloc((size_t)m->m.size + 1);
		SL_ASSERT(part->bytes != NULL);
	}
	int64_t skip = rd->snapshot_position - m->m.position;
	if (!part->valid || part->id.end_offset != rd->snapshot.end_offset ||
	    part->id.epoch != rd->snapshot.epoch || rd->snapshot_position != part->len ||
	    skip < 0 || skip + rd->snapshot_len > m->byte_len ||
	    part->len + rd->snapshot_len > part->size) {
		sim_violation(s, "node %d: bad snapshot_write pos %lld len %lld (part %lld/%lld)",
		              n->id, (long long)rd->snapshot_position, (long long)rd->snapshot_len,
		              (long long)part->len, (long long)part->size);
		return;
	}
	memcpy(part->bytes + part->len, m->bytes + skip, (size_t)rd->snapshot_len);
	part->len += rd->snapshot_len;
}

/* Returns true when raft_core_snapshot_installed must follow the advance. */
static bool snapshot_install(struct sim *s, struct sim_node *n, const struct raft_ready *rd)
{
	struct sim_snap *part = &n->disk.part;
	if (!part->valid || part->id.end_offset != rd->snapshot.end_offset ||
	    part->len != part->size) {
		sim_violation(s, "node %d: snapshot_install of an incomplete .part", n->id);
		return false;
	}
	int64_t end = rd->snapshot.end_offset;
	s->st.checks++;
	if (n->role == RAFT_LEADER) /* Kafka's LeaderNeverLoadSnapshot */
		sim_violation(s, "leader %d installs snapshot %lld", n->id, (long long)end);
	if (end < n->applied_end)
		sim_violation(s, "node %d: installing snapshot %lld moves state back from %lld",
		              n->id, (long long)end, (long long)n->applied_end);
	if (!snap_load(n, part->bytes, part->len) || n->applied_end != end) {
		sim_violation(s, "node %d: snapshot %lld malformed", n->id, (long long)end);
		return false;
	}
	check_snapshot_state(s, n, n->applied, n->applied_end);
	snap_set(&n->disk.snap, part->id, part->bytes, part->len);
	snap_clear(part);
	disk_reset(&n->disk, end);
	n->verified_end = end;
	n->next_snap_at = end + s->p.snap_every;
	s->st.faults[F_SNAP_INSTALLED]++;
	sim_tracef(s, "node %d installed snapshot end %lld epoch %d", n->id, (long long)end,
	           rd->snapshot.epoch);
	return true;
}

/* Builds the FetchResponse payload: whole batches from records_from, at most fetch_recs_max
 * records unless the first batch alone is larger. */
static struct sim_msg *fetch_payload(struct sim *s, struct sim_node *n, const struct raft_msg *m)
{
	int64_t from = m->records_from, end = disk_end(&n->disk);
	if (from < n->disk.start || from > end) {
		sim_violation(s, "node %d: FetchResponse records_from %lld outside log [%lld,%lld)",
		              n->id, (long long)from, (long long)n->disk.start, (long long)end);
		return sim_msg_new(m, 0, 0, 0);
	}
	uint32_t nb = 0, nr = 0;
	int64_t o = from;
	while (o < end) {
		int64_t e = o + 1;
		while (e < end && disk_rec(&n->disk, e)->batch_base != e)
			e++;
		if (nb > 0 && nr + (uint32_t)(e - o) > s->p.fetch_recs_max)
			break;
		nb++;
		nr += (uint32_t)(e - o);
		o = e;
	}
	struct sim_msg *sm = sim_msg_new(m, nb, nr, 0);
	o = from;
	for (uint32_t b = 0; b < nb; b++) {
		int64_t e = o + 1;
		while (e < end && disk_rec(&n->disk, e)->batch_base != e)
			e++;
		sm->batches[b].base_offset = o;
		sm->batches[b].last_offset = e - 1;
		sm->batches[b].epoch = disk_rec(&n->disk, o)->epoch;
		for (int64_t x = o; x < e; x++) {
			sm->recs[x - from] = *disk_rec(&n->disk, x);
			sm->recs[x - from].batch_base = o;
		}
		o = e;
	}
	return sm;
}

static struct sim_msg *snap_payload(struct sim *s, struct sim_node *n, const struct raft_msg *m)
{
	const struct sim_snap *sn = &n->disk.snap;
	if (!sn->valid || sn->id.end_offset != m->snapshot_id.end_offset ||
	    sn->id.epoch != m->snapshot_id.epoch || m->position < 0 || m->position > sn->len) {
		sim_violation(s,
		              "node %d: FetchSnapshotResponse for snapshot %lld/%d pos %lld, held "
		              "%lld/%d",
		              n->id, (long long)m->snapshot_id.end_offset, m->snapshot_id.epoch,
		              (long long)m->position, (long long)sn->id.end_offset, sn->id.epoch);
		return sim_msg_new(m, 0, 0, 0);
	}
	if (m->size != sn->len)
		sim_violation(s, "node %d: FetchSnapshotResponse size %lld, snapshot has %lld",
		              n->id, (long long)m->size, (long long)sn->len);
	int64_t chunk = SL_MIN(s->p.snap_chunk, sn->len - m->position);
	struct sim_msg *sm = sim_msg_new(m, 0, 0, chunk);
	memcpy(sm->bytes, sn->bytes + m->position, (size_t)chunk);
	sm->m.chunk_len = chunk;
	return sm;
}

/* Canary profile: answer a follower's Fetch (in place of its leader) with a DivergingEpoch
 * below the HW the follower exposed. A correct core fail-stops (raft_core_failed); the
 * truncate-below-HW mutant truncates, which check_truncate reports. */
static bool maybe_probe(struct sim *s, struct sim_node *n, const struct raft_msg *m)
{
	int64_t hw = n->exposed_hw;
	if (!s->p.probe_truncate || s->probes >= 3 || m->type != RAFT_FETCH_REQ ||
	    n->role != RAFT_FOLLOWER || hw - 1 <= n->disk.start || hw - 1 >= disk_end(&n->disk) ||
	    !sim_rng_chance(&s->rng, 0.05))
		return false;
	struct raft_msg r = {.type = RAFT_FETCH_RESP,
	                     .from = m->to,
	                     .to = n->id,
	                     .req_id = m->req_id,
	                     .epoch = m->epoch,
	                     .leader_id = m->to,
	                     .high_watermark = hw,
	                     .log_start = n->disk.start,
	                     .diverging_epoch = disk_rec(&n->disk, hw - 1)->epoch,
	                     .diverging_end_offset = hw - 1,
	                     .snapshot_id = {.end_offset = -1, .epoch = -1},
	                     .records_from = -1};
	struct sim_msg *sm = sim_msg_new(&r, 0, 0, 0);
	sm->forged = true;
	struct sim_event ev = {
	        .time = s->now + 1000, .type = EV_DELIVER, .node = n->idx, .msg = sm};
	sched_push(&s->sched, ev);
	s->probes++;
	sim_tracef(s, "node %d: probe: forged DivergingEpoch (%d, %lld) below HW %lld", n->id,
	           r.diverging_epoch, (long long)r.diverging_end_offset, (long long)hw);
	return true;
}

static void send_all(struct sim *s, struct sim_node *n, const struct raft_ready *rd)
{
	for (uint32_t i = 0; i < rd->msg_count && !s->failed; i++) {
		const struct raft_msg *m = &rd->msgs[i];
		check_send(s, n, m);
		if (maybe_probe(s, n, m))
			continue;
		sim_fold(s, ((uint64_t)m->type << 32) ^ (uint64_t)(uint32_t)m->to);
		sim_fold(s, ((uint64_t)(uint32_t)m->epoch << 32) ^ m->req_id);
		struct sim_msg *sm;
		if (m->type == RAFT_FETCH_RESP && m->records_from >= 0)
			sm = fetch_payload(s, n, m);
		else if (m->type == RAFT_SNAP_RESP && m->error == RC_ERR_NONE)
			sm = snap_payload(s, n, m);
		else
			sm = sim_msg_new(m, 0, 0, 0);
		sm->m.from = n->id;
		sim_tracef(s, "node %d send %s to %d epoch %d req %llu err %d%s", n->id,
		           raft_msg_type_name(m->type), m->to, m->epoch,
		           (unsigned long long)m->req_id, m->error,
		           m->type == RAFT_FETCH_RESP ? " (fetch resp)" : "");
		net_send(s, n->idx, sm);
	}
}

static void apply_to(struct sim *s, struct sim_node *n, int64_t hw)
{
	int64_t upto = SL_MIN(hw, disk_end(&n->disk));
	while (n->applied_end < upto && !s->failed) {
		const struct sim_rec *r = disk_rec(&n->disk, n->applied_end);
		if (r == NULL) {
			sim_violation(s,
			              "node %d: record %lld to apply is not in the log [%lld,%lld)",
			              n->id, (long long)n->applied_end, (long long)n->disk.start,
			              (long long)disk_end(&n->disk));
			return;
		}
		check_apply(s, n, n->applied_end, r);
		apply_rec(n, r);
	}
}

/* Takes a snapshot of the applied state every snap_every records; returns true when it called
 * into the core. */
static bool maybe_snapshot(struct sim *s, struct sim_node *n)
{
	if (s->p.snap_every == 0 || n->applied_end < n->next_snap_at || n->applied_end == 0)
		return false;
	if (n->disk.snap.valid && n->disk.snap.id.end_offset >= n->applied_end)
		return false;
	struct raft_snapshot_id id = {.end_offset = n->applied_end,
	                              .epoch = n->applied[n->applied_end - 1].epoch};
	int64_t len;
	uint8_t *b = snap_serialize(n->applied, n->applied_end, &len);
	snap_set(&n->disk.snap, id, b, len);
	free(b);
	n->next_snap_at = n->applied_end + s->p.snap_every;
	s->st.faults[F_SNAP_TAKEN]++;
	raft_core_snapshot_taken(n->rc, id, len);
	/* Like a real driver, delete only durable segments below the snapshot. */
	if (sim_rng_chance(&s->rng, s->p.snap_delete) && id.end_offset <= n->disk.synced_end &&
	    id.end_offset > n->disk.start) {
		disk_drop_prefix(&n->disk, id.end_offset);
		if (n->verified_end < id.end_offset)
			n->verified_end = id.end_offset;
		s->st.faults[F_LOG_DELETED]++;
		raft_core_log_start_advanced(n->rc, id.end_offset);
	}
	sim_tracef(s, "node %d snapshot taken end %lld", n->id, (long long)id.end_offset);
	return true;
}

/* One ready round; returns true when a call into the core followed the advance. */
static bool ready_round(struct sim *s, struct sim_node *n)
{
	struct raft_ready rd;
	raft_core_ready(n->rc, &rd);
	sim_fold(s, ((uint64_t)rd.role << 40) ^ ((uint64_t)(uint32_t)rd.epoch << 8) ^ rd.msg_count);
	sim_fold(s, (uint64_t)rd.high_watermark ^ ((uint64_t)rd.truncate_to << 20));
	check_ready(s, n, &rd);
	if (rd.persist) {
		check_persist(s, n, &rd.hard_state);
		n->disk.hs = rd.hard_state;
		n->disk.hs_valid = true;
	}
	if (rd.truncate_to >= 0) {
		check_truncate(s, n, rd.truncate_to);
		disk_truncate(&n->disk, rd.truncate_to);
		n->verified_end = SL_MIN(n->verified_end, rd.truncate_to);
	}
	do_append(s, n, &rd);
	if (rd.snapshot_write)
		snapshot_write(s, n, &rd);
	bool installed = rd.snapshot_install && snapshot_install(s, n, &rd);
	send_all(s, n, &rd);
	if (rd.high_watermark >= 0 && !s->failed) {
		check_hw(s, n, rd.high_watermark);
		apply_to(s, n, rd.high_watermark);
		workload_hw(s, n, rd.high_watermark);
	}
	raft_core_advance(n->rc);
	if (s->failed)
		return false;
	if (installed) {
		raft_core_snapshot_installed(n->rc, node_now_ms(s, n), rd.snapshot,
		                             n->disk.snap.len);
		return true;
	}
	return maybe_snapshot(s, n);
}

static void arm(struct sim *s, struct sim_node *n)
{
	struct sim_disk *d = &n->disk;
	if (disk_end(d) > d->synced_end && !d->flush_pending) {
		int64_t lat = s->p.flush_min_us + sim_rng_exp(&s->rng, s->p.flush_mean_us);
		struct sim_event ev = {.time = s->now + lat,
		                       .type = EV_FLUSH,
		                       .node = n->idx,
		                       .gen = d->gen,
		                       .arg = disk_end(d)};
		d->flush_pending = true;
		sched_push(&s->sched, ev);
	}
	int64_t dl = raft_core_next_deadline(n->rc);
	if (dl < 0 || dl == INT64_MAX)
		return;
	int64_t g = global_at(s, n, dl);
	if (g >= n->tick_at)
		return;
	n->tick_at = g;
	struct sim_event ev = {.time = g, .type = EV_TICK, .node = n->idx, .gen = ++n->tick_seq};
	sched_push(&s->sched, ev);
}

void node_process(struct sim *s, struct sim_node *n)
{
	for (int round = 0; round < 16 && n->up && !s->failed; round++)
		if (!ready_round(s, n))
			break;
	n->stepping = NULL;
	n->stepping_stale_fetch = false;
	if (!n->up || s->failed)
		return;
	if (raft_core_failed(n->rc)) {
		if (!n->probed) {
			sim_violation(s, "node %d: core failed: %s", n->id,
			              raft_core_failure(n->rc));
			return;
		}
		/* The expected fail-stop after a probe: restart the node from its disk. */
		s->st.faults[F_PROBE]++;
		n->probed = false;
		sim_tracef(s, "node %d fail-stopped on the probe: %s", n->id,
		           raft_core_failure(n->rc));
		node_crash(s, n);
		struct sim_event ev = {.time = s->now + 100000,
		                       .type = EV_RESTART,
		                       .node = n->idx,
		                       .gen = n->incarnation};
		sched_push(&s->sched, ev);
		return;
	}
	n->probed = false;
	/* I2 (Kafka's MonotonicEpoch): once the ready loop ran, the in-memory quorum state is the
	 * persisted one. */
	struct raft_hard_state hs = raft_core_hard_state(n->rc);
	s->st.checks++;
	if (hs.epoch != n->disk.hs.epoch || hs.voted_id != n->disk.hs.voted_id)
		sim_violation(s, "I2: node %d holds (epoch %d, voted %d) but persisted (%d, %d)",
		              n->id, hs.epoch, hs.voted_id, n->disk.hs.epoch, n->disk.hs.voted_id);
	raft_check_invariants(n->rc);
	s->st.checks++;
	arm(s, n);
}

/* ---- inputs ----------------------------------------------------------------------------- */

void node_deliver(struct sim *s, struct sim_node *n, struct sim_msg *sm)
{
	struct raft_msg *m = &sm->m;
	m->batches = sm->batch_count ? sm->batches : NULL;
	m->batch_count = sm->batch_count;
	n->stepping = sm;
	n->probed = sm->forged;
	n->stepping_stale_fetch = m->type == RAFT_FETCH_REQ &&
	                          raft_core_role(n->rc) == RAFT_LEADER &&
	                          m->epoch < raft_core_epoch(n->rc);
	n->stepping_from = m->from;
	sim_tracef(s, "deliver %s %d->%d epoch %d req %llu err %d%s", raft_msg_type_name(m->type),
	           m->from, m->to, m->epoch, (unsigned long long)m->req_id, m->error,
	           m->type == RAFT_VOTE_RESP && m->granted ? " granted" : "");
	if (m->type == RAFT_FETCH_REQ)
		sim_tracef(s, "    fetch_offset %lld last_fetched_epoch %d",
		           (long long)m->fetch_offset, m->last_fetched_epoch);
	if (m->type == RAFT_FETCH_RESP)
		sim_tracef(s,
		           "    hw %lld diverging (%d, %lld) snapshot %lld batches %u [%lld..%lld]",
		           (long long)m->high_watermark, m->diverging_epoch,
		           (long long)m->diverging_end_offset, (long long)m->snapshot_id.end_offset,
		           sm->batch_count,
		           sm->batch_count ? (long long)sm->batches[0].base_offset : -1,
		           sm->batch_count ? (long long)sm->batches[sm->batch_count - 1].last_offset
		                           : -1);
	raft_core_step(n->rc, node_now_ms(s, n), m);
	node_process(s, n);
}

void node_tick(struct sim *s, struct sim_node *n)
{
	int64_t now = node_now_ms(s, n);
	n->tick_at = INT64_MAX;
	sim_tracef(s, "node %d tick at %lld ms (%s)", n->id, (long long)now,
	           raft_role_name(raft_core_role(n->rc)));
	raft_core_tick(n->rc, now);
	/* Every timer due at now has fired: a deadline still <= now would spin a real driver. */
	int64_t dl = raft_core_next_deadline(n->rc);
	s->st.checks++;
	if (dl <= now && !raft_core_failed(n->rc))
		sim_violation(s, "node %d (%s): next deadline %lld not after tick at %lld", n->id,
		              raft_role_name(raft_core_role(n->rc)), (long long)dl, (long long)now);
	node_process(s, n);
}

void node_flush_done(struct sim *s, struct sim_node *n, uint64_t gen, int64_t end)
{
	n->disk.flush_pending = false;
	sim_tracef(s, "node %d flushed to %lld%s", n->id, (long long)end,
	           gen == n->disk.gen ? "" : " (stale: log truncated since)");
	if (gen == n->disk.gen && end <= disk_end(&n->disk)) {
		if (end > n->disk.synced_end)
			n->disk.synced_end = end;
		raft_core_log_flushed(n->rc, node_now_ms(s, n), end);
	}
	node_process(s, n);
}

bool node_propose(struct sim *s, struct sim_node *n, uint32_t count)
{
	int64_t base;
	int32_t epoch;
	if (!raft_core_propose(n->rc, node_now_ms(s, n), count, &base, &epoch))
		return false;
	if (base != disk_end(&n->disk)) {
		sim_violation(s, "node %d: propose base %lld but log end %lld", n->id,
		              (long long)base, (long long)disk_end(&n->disk));
		return false;
	}
	uint64_t first = s->last_value + 1;
	for (uint32_t i = 0; i < count; i++) {
		struct sim_rec r = {.batch_base = base, .epoch = epoch, .value = ++s->last_value};
		check_written(s, n, base + i, epoch, r.value, true);
		disk_append(&n->disk, r);
	}
	workload_proposed(s, n, base, epoch, count, first);
	node_process(s, n);
	return true;
}

void node_resign(struct sim *s, struct sim_node *n)
{
	raft_core_resign(n->rc, node_now_ms(s, n));
	node_process(s, n);
}
