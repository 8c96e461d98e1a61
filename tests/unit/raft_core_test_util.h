/*
 * raft_core_test_util.h: the harness shared by test_raft_core.c and test_raft_core_safety.c.
 * Cluster harness (h_*): up to H_MAX nodes with in-memory logs, an instant network with
 * partitions, a 1 ms clock, and the ready loop of raft_core.h executed exactly as documented
 * (persist, truncate, append, snapshot, send, advance, then flush). After every call it runs
 * raft_check_invariants and cluster-wide safety checks: one leader per epoch, committed entries
 * never differ between nodes, high watermarks never go down, a granted vote is persisted in the
 * same ready. Single-core harness (one_*): node 1 of voters {1,2,3} stepped directly with
 * hand-built messages. Each suite includes it once (static inline functions, one global H).
 */
#ifndef SL_RAFT_CORE_TEST_UTIL_H
#define SL_RAFT_CORE_TEST_UTIL_H

#include "check_main.h"
#include "raft_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H_MAX 5
#define H_LOG 4096
#define H_QUEUE 8192
#define H_BATCHES 32
#define H_SNAP_MAX 4096
#define H_CHUNK 300

struct h_node {
	struct raft_core *rc;
	struct raft_core_config cfg;
	struct raft_epoch_entry epochs[64];
	struct raft_msg out[64];
	struct raft_hard_state hs; /* persisted */
	int64_t log_start, log_end, durable, hw;
	int32_t epoch_at[H_LOG];
	int64_t value_at[H_LOG];
	int64_t batch_last[H_LOG]; /* at a batch's base: its last offset */
	bool manual_flush;
	bool up;
	/* Snapshot: id, bytes; the .part being downloaded. */
	struct raft_snapshot_id snap;
	int64_t snap_size;
	unsigned char snap_bytes[H_SNAP_MAX];
	unsigned char part[H_SNAP_MAX];
	bool install_pending;
	struct raft_snapshot_id install_id;
	int persist_count;
};

struct h_msg {
	struct raft_msg m;
	struct raft_batch batches[H_BATCHES];
	int64_t values[H_LOG / 8];
	unsigned char chunk[H_CHUNK];
};

struct h {
	int n;
	int32_t ids[H_MAX];
	uint32_t voter_count;
	struct h_node node[H_MAX];
	bool cut[H_MAX][H_MAX];
	struct h_msg *q;
	size_t q_head, q_tail;
	int64_t now;
	int32_t leader_of_epoch[1024];
	int64_t committed[H_LOG]; /* value committed at offset, 0 = unknown */
	int64_t next_value;
	const struct h_msg *delivering;
	bool last_vote_pre[H_MAX]
	                  [H_MAX]; /* [voter][candidate]: the latest request was a pre-vote */
	bool pre_vote;
	uint64_t seed;
};

static struct h *H;

static inline int h_index(int32_t id)
{
	for (int i = 0; i < H->n; i++)
		if (H->ids[i] == id)
			return i;
	return -1;
}

static inline void h_enqueue(int from, const struct raft_msg *m)
{
	int to = h_index(m->to);
	if (to < 0 || H->cut[from][to] || !H->node[to].up)
		return;
	ck_assert_uint_lt(H->q_tail - H->q_head, H_QUEUE);
	struct h_msg *e = &H->q[H->q_tail++ % H_QUEUE];
	memset(&e->m, 0, sizeof(e->m));
	e->m = *m;
	e->m.batches = NULL;
	e->m.batch_count = 0;
	struct h_node *s = &H->node[from];
	if (m->type == RAFT_FETCH_RESP && m->records_from >= 0) {
		ck_assert_int_ge(m->records_from, s->log_start);
		ck_assert_int_lt(m->records_from, s->log_end);
		int64_t o = m->records_from;
		uint32_t nb = 0;
		while (o < s->log_end && nb < H_BATCHES && o - m->records_from < H_LOG / 8 - 64) {
			int64_t last = s->batch_last[o];
			e->batches[nb].base_offset = o;
			e->batches[nb].last_offset = last;
			e->batches[nb].epoch = s->epoch_at[o];
			for (int64_t k = o; k <= last; k++)
				e->values[k - m->records_from] = s->value_at[k];
			nb++;
			o = last + 1;
		}
		e->m.batch_count = nb;
	}
	if (m->type == RAFT_SNAP_RESP && m->error == 0) {
		int64_t len = m->size - m->position;
		if (len > H_CHUNK)
			len = H_CHUNK;
		e->m.chunk_len = len;
		memcpy(e->chunk, s->snap_bytes + m->position, (size_t)len);
	}
}

static inline void h_check_safety(int i)
{
	struct h_node *nd = &H->node[i];
	struct raft_core *rc = nd->rc;
	raft_check_invariants(rc);
	if (raft_core_role(rc) == RAFT_LEADER) {
		int32_t e = raft_core_epoch(rc);
		ck_assert_int_lt(e, 1024);
		if (H->leader_of_epoch[e] == 0)
			H->leader_of_epoch[e] = nd->cfg.node_id + 1;
		ck_assert_int_eq(H->leader_of_epoch[e], nd->cfg.node_id + 1);
	}
	for (int64_t o = nd->log_start; o < nd->hw && o < nd->log_end; o++) {
		if (H->committed[o] == 0)
			H->committed[o] = nd->value_at[o];
		ck_assert_int_eq(H->committed[o], nd->value_at[o]);
	}
}

static inline void h_ready(int i);

static inline void h_apply_ready(int i, const struct raft_ready *rd)
{
	struct h_node *nd = &H->node[i];
	if (rd->persist) {
		nd->hs = rd->hard_state;
		nd->persist_count++;
	}
	if (rd->truncate_to >= 0) {
		ck_assert_int_ge(rd->truncate_to, nd->log_start);
		ck_assert_int_le(rd->truncate_to, nd->log_end);
		nd->log_end = rd->truncate_to;
		if (nd->durable > nd->log_end)
			nd->durable = nd->log_end;
	}
	if (rd->leader_change) {
		ck_assert_int_eq(rd->leader_change_offset, nd->log_end);
		int64_t o = nd->log_end++;
		nd->epoch_at[o] = rd->epoch;
		nd->value_at[o] = -(int64_t)rd->epoch;
		nd->batch_last[o] = o;
	}
	if (rd->append_count > 0) {
		const struct h_msg *d = H->delivering;
		ck_assert_ptr_nonnull(d);
		ck_assert_uint_le(rd->append_count, d->m.batch_count);
		for (uint32_t b = 0; b < rd->append_count; b++) {
			const struct raft_batch *bt = &d->batches[b];
			ck_assert_int_eq(bt->base_offset, nd->log_end);
			for (int64_t k = bt->base_offset; k <= bt->last_offset; k++) {
				nd->epoch_at[k] = bt->epoch;
				nd->value_at[k] = d->values[k - d->m.records_from];
			}
			nd->batch_last[bt->base_offset] = bt->last_offset;
			nd->log_end = bt->last_offset + 1;
		}
	}
	if (rd->snapshot_write) {
		const struct h_msg *d = H->delivering;
		ck_assert_ptr_nonnull(d);
		memcpy(nd->part + rd->snapshot_position, d->chunk, (size_t)rd->snapshot_len);
	}
	if (rd->snapshot_install) {
		nd->install_pending = true;
		nd->install_id = rd->snapshot;
	}
	/* Every granted real vote goes out with its vote persisted (same or earlier ready). */
	for (uint32_t k = 0; k < rd->msg_count; k++) {
		const struct raft_msg *m = &rd->msgs[k];
		int c = h_index(m->to);
		if (m->type == RAFT_VOTE_RESP && m->granted && c >= 0 && !H->last_vote_pre[i][c]) {
			ck_assert_int_eq(nd->hs.epoch, m->epoch);
			ck_assert_int_eq(nd->hs.voted_id, m->to);
		}
		h_enqueue(i, m);
	}
	ck_assert_int_ge(rd->high_watermark, nd->hw);
	if (rd->role == RAFT_LEADER && rd->high_watermark != nd->hw)
		ck_assert_int_gt(rd->high_watermark, rd->epoch_start_offset);
	nd->hw = rd->high_watermark;
}

static inline void h_install(int i)
{
	struct h_node *nd = &H->node[i];
	nd->install_pending = false;
	nd->snap = nd->install_id;
	nd->snap_size = H->node[h_index(nd->hs.leader_id)].snap_size;
	memcpy(nd->snap_bytes, nd->part, (size_t)nd->snap_size);
	nd->log_start = nd->log_end = nd->durable = nd->snap.end_offset;
	raft_core_snapshot_installed(nd->rc, H->now, nd->snap, nd->snap_size);
	h_ready(i);
}

/* The ready loop of raft_core.h, then (auto mode) flushing. */
static inline void h_ready(int i)
{
	struct h_node *nd = &H->node[i];
	struct raft_ready rd;
	raft_core_ready(nd->rc, &rd);
	h_apply_ready(i, &rd);
	raft_core_advance(nd->rc);
	h_check_safety(i);
	if (nd->install_pending)
		h_install(i);
	if (!nd->manual_flush && nd->durable < nd->log_end) {
		nd->durable = nd->log_end;
		raft_core_log_flushed(nd->rc, H->now, nd->durable);
		h_ready(i);
	}
}

static inline void h_flush(int i)
{
	struct h_node *nd = &H->node[i];
	nd->durable = nd->log_end;
	raft_core_log_flushed(nd->rc, H->now, nd->durable);
	h_ready(i);
}

static inline void h_start(int i)
{
	struct h_node *nd = &H->node[i];
	struct raft_log_state ls;
	memset(&ls, 0, sizeof(ls));
	ls.start_offset = nd->log_start;
	ls.end_offset = nd->log_end;
	ls.snapshot = nd->snap;
	ls.snapshot_size = nd->snap_size;
	struct raft_epoch_entry eps[64];
	uint32_t ne = 0;
	for (int64_t o = nd->log_start; o < nd->log_end; o++)
		if (ne == 0 || eps[ne - 1].epoch != nd->epoch_at[o])
			eps[ne++] = (struct raft_epoch_entry){nd->epoch_at[o], o};
	ls.epochs = eps;
	ls.epoch_count = ne;
	char err[128];
	ck_assert_msg(raft_core_init(nd->rc, &nd->cfg, &nd->hs, &ls, H->now, err, sizeof(err)),
	              "%s", err);
	nd->up = true;
	nd->durable = nd->log_end;
	nd->hw = -1;
	h_ready(i);
}

/* n nodes; the first `voters` are voters, the rest observers. */
static inline void h_setup(int n, int voters, bool pre_vote)
{
	H = calloc(1, sizeof(*H));
	ck_assert_ptr_nonnull(H);
	H->q = calloc(H_QUEUE, sizeof(struct h_msg));
	ck_assert_ptr_nonnull(H->q);
	H->n = n;
	H->voter_count = (uint32_t)voters;
	H->now = 1000;
	H->next_value = 1;
	H->pre_vote = pre_vote;
	const char *s = getenv("RAFT_CORE_SEED");
	H->seed = s ? strtoull(s, NULL, 0) : 42;
	for (int i = 0; i < n; i++) {
		H->ids[i] = i + 1;
		struct h_node *nd = &H->node[i];
		nd->rc = calloc(1, raft_core_size());
		ck_assert_ptr_nonnull(nd->rc);
		struct raft_core_config *c = &nd->cfg;
		c->node_id = i + 1;
		for (int v = 0; v < voters; v++)
			c->voters[v] = v + 1;
		c->voter_count = (uint32_t)voters;
		c->election_timeout_ms = 1000;
		c->fetch_timeout_ms = 2000;
		c->election_backoff_max_ms = 1000;
		c->request_timeout_ms = 2000;
		c->retry_backoff_ms = 20;
		c->fetch_max_wait_ms = 500;
		c->pre_vote = pre_vote;
		c->seed = H->seed;
		c->epoch_buf = nd->epochs;
		c->epoch_cap = 64;
		c->out_buf = nd->out;
		c->out_cap = 64;
		nd->hs = (struct raft_hard_state){0, RAFT_CORE_NONE, RAFT_CORE_NONE};
		nd->snap = (struct raft_snapshot_id){-1, -1};
	}
	for (int i = 0; i < n; i++)
		h_start(i);
}

static inline void h_teardown(void)
{
	for (int i = 0; i < H->n; i++)
		free(H->node[i].rc);
	free(H->q);
	free(H);
	H = NULL;
}

static inline void h_deliver_all(void)
{
	size_t guard = 0;
	while (H->q_head != H->q_tail) {
		ck_assert_uint_lt(guard++, 200000);
		struct h_msg *e = &H->q[H->q_head++ % H_QUEUE];
		int to = h_index(e->m.to);
		int from = h_index(e->m.from);
		if (to < 0 || !H->node[to].up || (from >= 0 && H->cut[from][to]))
			continue;
		struct h_msg copy = *e; /* the slot may be reused while stepping */
		copy.m.batches = copy.m.batch_count ? copy.batches : NULL;
		H->delivering = &copy;
		if (copy.m.type == RAFT_VOTE_REQ && from >= 0)
			H->last_vote_pre[to][from] = copy.m.pre_vote;
		raft_core_step(H->node[to].rc, H->now, &copy.m);
		h_ready(to);
		H->delivering = NULL;
	}
}

/* Runs the cluster for ms milliseconds (1 ms resolution). */
static inline void h_run(int64_t ms)
{
	int64_t end = H->now + ms;
	while (H->now < end) {
		h_deliver_all();
		H->now++;
		for (int i = 0; i < H->n; i++) {
			struct h_node *nd = &H->node[i];
			if (nd->up && raft_core_next_deadline(nd->rc) <= H->now) {
				raft_core_tick(nd->rc, H->now);
				h_ready(i);
			}
		}
	}
	h_deliver_all();
}

static inline int h_leader(void)
{
	int found = -1;
	int32_t best = -1;
	for (int i = 0; i < H->n; i++) {
		if (!H->node[i].up || raft_core_role(H->node[i].rc) != RAFT_LEADER)
			continue;
		if (raft_core_epoch(H->node[i].rc) > best) {
			best = raft_core_epoch(H->node[i].rc);
			found = i;
		}
	}
	return found;
}

static inline int h_count_leaders(void)
{
	int n = 0;
	for (int i = 0; i < H->n; i++)
		n += H->node[i].up && raft_core_role(H->node[i].rc) == RAFT_LEADER;
	return n;
}

static inline int h_await_leader(int64_t max_ms)
{
	for (int64_t t = 0; t < max_ms; t += 10) {
		int l = h_leader();
		if (l >= 0)
			return l;
		h_run(10);
	}
	return h_leader();
}

/* The leader proposes one batch of `records` records; returns its base offset (-1 if refused). */
static inline int64_t h_propose(int i, uint32_t records)
{
	struct h_node *nd = &H->node[i];
	int64_t base;
	int32_t epoch;
	if (!raft_core_propose(nd->rc, H->now, records, &base, &epoch))
		return -1;
	ck_assert_int_eq(base, nd->log_end);
	for (uint32_t k = 0; k < records; k++) {
		nd->epoch_at[base + k] = epoch;
		nd->value_at[base + k] = H->next_value++;
	}
	nd->batch_last[base] = base + records - 1;
	nd->log_end = base + records;
	h_ready(i);
	return base;
}

static inline void h_partition(int i, bool cut)
{
	for (int j = 0; j < H->n; j++) {
		if (j == i)
			continue;
		H->cut[i][j] = cut;
		H->cut[j][i] = cut;
	}
}

/* ---- single-core harness ------------------------------------------------------------------ */

struct one {
	struct raft_core *rc;
	struct raft_core_config cfg;
	struct raft_epoch_entry epochs[16];
	struct raft_msg out[16];
	struct raft_ready rd;
	uint64_t first_fetch_req_id;
};

/* Node 1 of voters {1,2,3} (or the only voter) with hard state hs and a log of end offset
 * `end` (start 0, no snapshot) whose epochs are eps[0 .. n). */
static inline void one_init_log(struct one *o, uint32_t voters, struct raft_hard_state hs,
                                const struct raft_epoch_entry *eps, uint32_t n, int64_t end)
{
	memset(o, 0, sizeof(*o));
	o->rc = calloc(1, raft_core_size());
	ck_assert_ptr_nonnull(o->rc);
	struct raft_core_config *c = &o->cfg;
	c->node_id = 1;
	for (uint32_t v = 0; v < voters; v++)
		c->voters[v] = (int32_t)v + 1;
	c->voter_count = voters;
	c->election_timeout_ms = 1000;
	c->fetch_timeout_ms = 2000;
	c->election_backoff_max_ms = 1000;
	c->request_timeout_ms = 2000;
	c->retry_backoff_ms = 20;
	c->fetch_max_wait_ms = 500;
	c->pre_vote = true;
	c->seed = 7;
	c->epoch_buf = o->epochs;
	c->epoch_cap = 16;
	c->out_buf = o->out;
	c->out_cap = 16;
	struct raft_log_state ls = {0, end, {-1, -1}, 0, eps, n};
	char err[100];
	ck_assert(raft_core_init(o->rc, c, &hs, &ls, 0, err, sizeof(err)));
	raft_check_invariants(o->rc);
	raft_core_ready(o->rc, &o->rd);
	for (uint32_t i = 0; i < o->rd.msg_count; i++)
		if (o->rd.msgs[i].type == RAFT_FETCH_REQ)
			o->first_fetch_req_id = o->rd.msgs[i].req_id;
	raft_core_advance(o->rc);
}

/* Node 1 of voters {1,2,3} (or the only voter), log epochs {(1,0),(3,4)} end 8, epoch 3. */
static inline void one_init(struct one *o, uint32_t voters, int32_t leader, int32_t voted)
{
	struct raft_hard_state hs = {3, voted, leader};
	struct raft_epoch_entry eps[2] = {{1, 0}, {3, 4}};
	one_init_log(o, voters, hs, eps, 2, 8);
}

static inline const struct raft_msg *one_step(struct one *o, const struct raft_msg *m)
{
	raft_core_step(o->rc, 10, m);
	raft_check_invariants(o->rc);
	raft_core_ready(o->rc, &o->rd);
	raft_core_advance(o->rc);
	for (uint32_t i = 0; i < o->rd.msg_count; i++)
		if (o->rd.msgs[i].to == m->from && o->rd.msgs[i].req_id == m->req_id)
			return &o->rd.msgs[i];
	return NULL;
}

static inline struct raft_msg vote_req(int32_t from, int32_t epoch, int32_t last_epoch,
                                       int64_t last_off, bool pre)
{
	struct raft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = RAFT_VOTE_REQ;
	m.from = from;
	m.to = 1;
	m.req_id = 77;
	m.epoch = epoch;
	m.pre_vote = pre;
	m.last_epoch = last_epoch;
	m.last_offset = last_off;
	m.leader_id = -1;
	return m;
}

static inline struct raft_msg fetch_req(int32_t from, int32_t epoch, int64_t off,
                                        int32_t last_epoch, int64_t wait)
{
	struct raft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = RAFT_FETCH_REQ;
	m.from = from;
	m.to = 1;
	m.req_id = 99;
	m.epoch = epoch;
	m.fetch_offset = off;
	m.last_fetched_epoch = last_epoch;
	m.max_wait_ms = wait;
	return m;
}

#endif
