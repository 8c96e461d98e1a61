/*
 * quorum_loop.c: the driver's ready loop (raft_core.h's protocol) over the storage engine:
 * persist quorum-state, truncate, append (LeaderChange, fetched batches, proposals), send,
 * apply what is committed, flush, and the timer.
 *
 * Appends go through stor_log_append (asynchronous); the core is told an end offset is durable
 * only after stor_log_wait_durable reported it, one wait at a time (group commit). Committed
 * batches are read back from the log and applied in offset order; a proposal completes once
 * its last offset is applied. A new leader becomes active (proposals accepted)
 * once it has applied everything up to its epoch start; if no data batch was ever applied it
 * first writes the bootstrap records.
 *
 * Callbacks (apply, done) run from here; they may propose but must not close.
 */
#include "raft_int.h"

#include "metadata.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMER_MAX_WAIT_MS 20
#define APPLY_READ_BYTES (1u << 20)
#define CONTROL_LEADER_CHANGE 2

int64_t raft_now(void)
{
	return sl_mono_ms();
}

/* ---- failure ---------------------------------------------------------------------------- */

void raft_fail_all(struct raft *r, const char *why)
{
	if (why != NULL) {
		if (!r->offline) {
			SL_ERROR(r->log_ctx, "%s: metadata log offline: %s", r->dir, why);
			snprintf(r->offline_why, sizeof(r->offline_why), "%s", why);
		}
		r->offline = true;
	}
	enum sl_err err = why != NULL ? SL_EIO : SL_ECANCELED;
	for (;;) {
		struct raft_append *a = r->head;
		while (a != NULL && (!a->is_proposal || a->finished))
			a = a->next;
		if (a == NULL)
			break;
		a->finished = true;
		a->done(a->ctx, err, -1);
	}
}

/* ---- appends -------------------------------------------------------------------------------- */

static void release_appends(struct raft *r)
{
	while (r->head != NULL && r->head->appended &&
	       (!r->head->is_proposal || r->head->finished)) {
		struct raft_append *a = r->head;
		r->head = a->next;
		if (r->head == NULL)
			r->tail = NULL;
		free(a);
	}
}

static void on_flushed(struct stor_durable_wait *w, void *ctx);

/* Asks storage to make everything written durable (one wait at a time). */
static void ensure_flush(struct raft *r)
{
	if (r->flush_pending || r->offline)
		return;
	struct stor_log_state st;
	stor_log_get_state(r->log, &st);
	if (st.written_offset <= raft_core_durable_end(r->core))
		return;
	r->flush_target = st.written_offset;
	enum sl_err e =
	        stor_log_wait_durable(r->log, &r->flush_wait, st.written_offset, on_flushed, r);
	if (e == SL_EAGAIN) {
		r->flush_pending = true;
	} else if (e == SL_OK) {
		raft_core_log_flushed(r->core, raft_now(), st.written_offset);
	} else {
		raft_fail_all(r, "fdatasync failed");
	}
}

static void on_flushed(struct stor_durable_wait *w, void *ctx)
{
	struct raft *r = ctx;
	r->flush_pending = false;
	if (w->err != SL_OK) {
		raft_fail_all(r, "fdatasync failed");
		return;
	}
	struct stor_log_state st;
	stor_log_get_state(r->log, &st);
	/* A truncation while the wait was queued may have cut below the target. */
	int64_t end = SL_MIN(r->flush_target, st.written_offset);
	if (!r->offline && !r->closing)
		raft_core_log_flushed(r->core, raft_now(), end);
	raft_process(r);
}

static void on_appended(struct stor_append *sa, void *ctx)
{
	struct raft_append *a = ctx;
	struct raft *r = a->r;
	a->appended = true;
	if (sa->err != SL_OK)
		raft_fail_all(r, "append failed");
	raft_process(r);
}

/* Hands a->batch to storage; a joins the list. */
static enum sl_err append_batch(struct raft *r, struct raft_append *a, int32_t epoch,
                                int64_t expect_base)
{
	a->r = r;
	enum sl_err e = stor_log_append(r->log, &a->app, a->batch, a->len, epoch, sl_wall_ms(),
	                                on_appended, a);
	if (e != SL_OK) {
		free(a);
		raft_fail_all(r, sl_err_msg(e));
		return SL_EIO;
	}
	if (a->app.base_offset != expect_base) {
		SL_ERROR(r->log_ctx, "append landed at %" PRId64 ", the quorum expected %" PRId64,
		         a->app.base_offset, expect_base);
		raft_fail_all(r, "log and quorum disagree on the end offset");
	}
	a->last_offset = a->app.last_offset;
	if (r->tail != NULL)
		r->tail->next = a;
	else
		r->head = a;
	r->tail = a;
	return SL_OK;
}

static struct raft_append *new_append(const uint8_t *batch, size_t len)
{
	struct raft_append *a = malloc(sizeof(*a) + len);
	if (a == NULL)
		return NULL;
	memset(a, 0, sizeof(*a));
	a->len = len;
	memcpy(a->batch, batch, len);
	return a;
}

enum sl_err raft_append_proposal(struct raft *r, uint32_t count, raft_propose_done_fn *done,
                                 void *ctx)
{
	int64_t base;
	int32_t epoch;
	struct raft_append *a = new_append(r->build.data, r->build.len);
	if (a == NULL)
		return SL_ENOMEM;
	if (!raft_core_propose(r->core, raft_now(), count, &base, &epoch)) {
		free(a);
		return SL_EAGAIN;
	}
	a->is_proposal = true;
	a->done = done;
	a->ctx = ctx;
	return append_batch(r, a, epoch, base);
}

/* The LeaderChange control batch of a new epoch (kraft.md §3.10). */
static void append_leader_change(struct raft *r, int64_t offset, int32_t epoch)
{
	uint8_t key[4] = {0, 0, 0, CONTROL_LEADER_CHANGE};
	struct wire_leader_change_message_voter v[RAFT_CORE_VOTERS_MAX];
	struct wire_leader_change_message m;
	wire_leader_change_message_init(&m);
	m.leader_id = r->node_id;
	for (uint32_t i = 0; i < r->cfg.voter_count; i++) {
		wire_leader_change_message_voter_init(&v[i]);
		v[i].voter_id = r->cfg.voters[i];
	}
	m.voters = v;
	m.voters_count = (int32_t)r->cfg.voter_count;
	m.granting_voters = v;
	m.granting_voters_count = (int32_t)r->cfg.voter_count;
	struct sl_buf val;
	sl_buf_init(&val, 4096);
	wire_leader_change_message_encode(&val, 0, &m);
	struct stor_record_in rec = {
	        .key = key, .key_len = 4, .value = val.data, .value_len = (int32_t)val.len};
	struct stor_batch_params p;
	stor_batch_params_init(&p, sl_wall_ms());
	p.partition_leader_epoch = epoch;
	p.attributes = STOR_BATCH_ATTR_CONTROL;
	sl_buf_reset(&r->build);
	enum sl_err e = stor_batch_build(&r->build, &p, &rec, 1);
	sl_buf_free(&val);
	struct raft_append *a = e == SL_OK ? new_append(r->build.data, r->build.len) : NULL;
	if (a == NULL) {
		raft_fail_all(r, "cannot build the LeaderChange record");
		return;
	}
	(void)append_batch(r, a, epoch, offset);
}

/* Appends the first n batches of the FetchResponse just stepped. */
static void append_fetched(struct raft *r, uint32_t n)
{
	size_t pos = 0;
	for (uint32_t i = 0; i < n && !r->offline; i++) {
		struct stor_batch_view v;
		size_t used;
		if (stor_batch_parse(r->step_records + pos, r->step_records_len - pos, &v, &used) !=
		    SL_OK) {
			raft_fail_all(r, "a fetched batch no longer parses");
			return;
		}
		struct raft_append *a = new_append(r->step_records + pos, used);
		if (a == NULL) {
			raft_fail_all(r, "out of memory");
			return;
		}
		pos += used;
		(void)append_batch(r, a, v.h.partition_leader_epoch, v.h.base_offset);
	}
}

/* ---- apply ---------------------------------------------------------------------------------- */

static void finish_committed(struct raft *r)
{
	for (;;) {
		struct raft_append *a = r->head;
		while (a != NULL && (!a->is_proposal || a->finished))
			a = a->next;
		if (a == NULL || a->last_offset >= r->applied)
			break;
		a->finished = true;
		a->done(a->ctx, SL_OK, a->last_offset);
	}
}

/* Applies the batches of buf up to the high watermark; false on a fatal error. */
static bool apply_chunk(struct raft *r, int64_t limit)
{
	for (size_t pos = 0; pos < r->readbuf.len;) {
		struct stor_batch_view v;
		size_t used;
		char err[512] = "";
		if (stor_batch_parse(r->readbuf.data + pos, r->readbuf.len - pos, &v, &used) !=
		    SL_OK) {
			raft_fail_all(r, "a committed batch does not parse");
			return false;
		}
		pos += used;
		int64_t next = v.h.base_offset + v.h.last_offset_delta + 1;
		if (v.h.base_offset < r->applied)
			continue;
		if (v.h.base_offset != r->applied || next > limit)
			break;
		if (!stor_batch_is_control(&v)) {
			size_t n;
			enum sl_err e = raft_batch_values(r, &v, &n, err, sizeof(err));
			if (e == SL_OK)
				e = r->apply(r->apply_ctx, v.h.base_offset, r->vals, n, err,
				             sizeof(err));
			if (e != SL_OK) {
				r->offline_err = e;
				raft_fail_all(r, err[0] ? err : sl_err_msg(e));
				return false;
			}
			r->data_seen = true;
		}
		r->applied = next;
		r->applied_epoch = v.h.partition_leader_epoch;
		r->applied_ts = v.h.max_timestamp;
		r->bytes_since_snapshot += (int64_t)used;
		finish_committed(r); /* a proposer hears of its batch before later ones apply */
	}
	return true;
}

static void apply_committed(struct raft *r)
{
	while (!r->offline && r->hw > r->applied) {
		struct stor_log_state st;
		stor_log_get_state(r->log, &st);
		int64_t limit = SL_MIN(r->hw, st.written_offset);
		if (limit <= r->applied)
			break;
		struct stor_read_result res;
		int64_t before = r->applied;
		enum sl_err e = stor_log_read(r->log, r->applied, APPLY_READ_BYTES, limit, &res);
		if (e == SL_OK && res.range.len == 0)
			break;
		if (e == SL_OK)
			e = raft_read_range(&res.range, &r->readbuf);
		if (e != SL_OK) {
			raft_fail_all(r, "cannot read committed batches");
			break;
		}
		if (!apply_chunk(r, limit) || r->applied == before)
			break;
	}
	finish_committed(r);
}

/* ---- roles ---------------------------------------------------------------------------------- */

static void on_role(struct raft *r, const struct raft_ready *rd)
{
	bool was_leader = r->role == RAFT_LEADER && r->epoch == rd->epoch;
	bool leads = rd->role == RAFT_LEADER;
	if (rd->role != r->role || rd->epoch != r->epoch || rd->leader_id != r->leader_id)
		SL_INFO(r->log_ctx, "%s in epoch %d, leader %d", raft_role_name(rd->role),
		        (int)rd->epoch, (int)rd->leader_id);
	if (!leads || !was_leader) {
		if (r->active) {
			r->active = false;
			raft_fail_all(r, NULL);
		}
	}
	r->role = rd->role;
	r->epoch = rd->epoch;
	r->leader_id = rd->leader_id;
	r->epoch_start = leads ? rd->epoch_start_offset : -1;
}

static void control_done(void *ctx, enum sl_err err, int64_t last_offset)
{
	(void)ctx, (void)err, (void)last_offset;
}

/* A dynamic quorum's first leader copies the voter set of the bootstrap snapshot into the log
 * (a control batch: KRaftVersionRecord, VotersRecord). */
static void write_voters(struct raft *r)
{
	if (r->boot_ctrl_count == 0)
		return;
	enum stor_control_type types[2];
	const uint8_t *vals[2];
	size_t lens[2];
	for (size_t i = 0; i < r->boot_ctrl_count; i++) {
		types[i] = (enum stor_control_type)r->boot_ctrl_type[i];
		vals[i] = r->boot_ctrl[i];
		lens[i] = r->boot_ctrl_len[i];
	}
	struct stor_batch_params p;
	stor_batch_params_init(&p, sl_wall_ms());
	p.partition_leader_epoch = r->epoch;
	sl_buf_reset(&r->build);
	if (stor_batch_build_control(&r->build, &p, types, vals, lens, r->boot_ctrl_count) !=
	            SL_OK ||
	    raft_append_proposal(r, (uint32_t)r->boot_ctrl_count, control_done, NULL) != SL_OK)
		SL_WARN(r->log_ctx, "the voter set was not written into the log");
}

static void maybe_activate(struct raft *r)
{
	if (r->active || r->role != RAFT_LEADER || r->offline || r->closing)
		return;
	if (r->epoch_start < 0 || r->applied <= r->epoch_start)
		return;
	r->active = true;
	r->last_propose_ms = raft_now();
	SL_INFO(r->log_ctx, "active leader of epoch %d (applied up to %" PRId64 ")", (int)r->epoch,
	        r->applied);
	if (!r->data_seen) {
		write_voters(r);
		raft_write_bootstrap(r);
	}
}

/* ---- the ready loop ------------------------------------------------------------------------- */

static bool ready_empty(const struct raft *r, const struct raft_ready *rd)
{
	return !rd->persist && rd->truncate_to < 0 && !rd->leader_change && rd->append_count == 0 &&
	       !rd->snapshot_write && !rd->snapshot_install && rd->msg_count == 0 &&
	       rd->high_watermark == r->hw && !rd->role_changed && rd->epoch == r->epoch &&
	       rd->leader_id == r->leader_id;
}

static void handle_ready(struct raft *r, const struct raft_ready *rd)
{
	if (rd->persist) {
		char err[512] = "";
		if (raft_quorum_state_write(r, &rd->hard_state, err, sizeof(err)) != SL_OK) {
			raft_fail_all(r, err);
			return;
		}
	}
	if (rd->truncate_to >= 0) {
		if (rd->truncate_to < r->applied) {
			raft_fail_all(r, "asked to truncate below the applied offset");
			return;
		}
		if (stor_log_truncate(r->log, rd->truncate_to) != SL_OK) {
			raft_fail_all(r, "truncation failed");
			return;
		}
	}
	on_role(r, rd);
	if (rd->leader_change)
		append_leader_change(r, rd->leader_change_offset, rd->epoch);
	if (rd->append_count > 0)
		append_fetched(r, rd->append_count);
	if (rd->snapshot_write && !r->offline)
		raft_snapshot_write_chunk(r, rd->snapshot, rd->snapshot_position, rd->snapshot_len);
	if (rd->snapshot_install && !r->offline) {
		r->install_pending = true; /* after advance (raft_core.h) */
		r->install_id = rd->snapshot;
	}
	for (uint32_t i = 0; i < rd->msg_count && !r->offline; i++) {
		const struct raft_msg *m = &rd->msgs[i];
		bool is_request = m->type == RAFT_VOTE_REQ || m->type == RAFT_BEGIN_REQ ||
		                  m->type == RAFT_END_REQ || m->type == RAFT_FETCH_REQ ||
		                  m->type == RAFT_SNAP_REQ;
		if (is_request)
			raft_send(r, m);
		else
			raft_answer(r, m);
	}
	if (rd->high_watermark > r->hw)
		r->hw = rd->high_watermark;
}

static void on_timer(struct io_op *op, void *ctx);

/* One timer at a time, at the core's next deadline (or the next NoOpRecord), but at most
 * TIMER_MAX_WAIT_MS ahead: a step can bring a deadline forward while the timer is armed.
 * Nothing due (a single voter at rest): no timer, so the loop can go idle. */
static void arm_timer(struct raft *r)
{
	if (r->timer_armed || r->closing || r->offline)
		return;
	int64_t now = raft_now();
	int64_t next = raft_core_next_deadline(r->core);
	if (r->active && r->noop_interval_ms > 0)
		next = SL_MIN(next, r->last_propose_ms + r->noop_interval_ms);
	if (next == INT64_MAX)
		return;
	int64_t wait = SL_MIN(SL_MAX(0, next - now), TIMER_MAX_WAIT_MS);
	memset(&r->timer, 0, sizeof(r->timer));
	r->timer_armed = true;
	io_timeout(r->loop, &r->timer, wait, on_timer, r);
}

static void noop_done(void *ctx, enum sl_err err, int64_t last_offset)
{
	(void)ctx, (void)err, (void)last_offset;
}

/* The active leader appends a NoOpRecord when nothing was proposed for noop_interval_ms, so
 * followers and observers can measure their lag (KIP-835). */
static void maybe_noop(struct raft *r, int64_t now)
{
	if (!r->active || r->noop_interval_ms <= 0 ||
	    now - r->last_propose_ms < r->noop_interval_ms)
		return;
	uint8_t value[8];
	struct sl_buf b;
	sl_buf_init(&b, sizeof(value));
	meta_frame_put(&b, META_REC_NO_OP, 0);
	uint8_t *tags = sl_buf_extend(&b, 1); /* NoOpRecord v0: only an empty tagged section */
	if (tags != NULL) {
		*tags = 0;
		struct wire_bytes v = {.ptr = b.data, .len = (int32_t)b.len};
		if (raft_propose(r, &v, 1, noop_done, NULL) != SL_OK)
			SL_DEBUG(r->log_ctx, "NoOpRecord not proposed");
	}
	sl_buf_free(&b);
}

static void on_timer(struct io_op *op, void *ctx)
{
	(void)op;
	struct raft *r = ctx;
	r->timer_armed = false;
	if (r->closing || r->offline)
		return;
	int64_t now = raft_now();
	raft_core_tick(r->core, now);
	maybe_noop(r, now);
	raft_process(r);
}

void raft_process(struct raft *r)
{
	if (r->in_ready || r->core == NULL)
		return;
	r->in_ready = true;
	bool flushed_at_rest = false;
	for (int rounds = 0; rounds < 1000 && !r->offline; rounds++) {
		if (raft_core_failed(r->core)) {
			raft_fail_all(r, raft_core_failure(r->core));
			break;
		}
		struct raft_ready rd;
		raft_core_ready(r->core, &rd);
		if (ready_empty(r, &rd)) {
			/* Nothing to do: ask for a flush of what storage wrote meanwhile; a
			 * synchronous report gives the core new work (a Fetch, a HW). */
			if (flushed_at_rest)
				break;
			flushed_at_rest = true;
			ensure_flush(r);
			raft_snapshot_maybe(r, raft_now());
			continue;
		}
		flushed_at_rest = false;
		handle_ready(r, &rd);
		raft_core_advance(r->core);
		r->step_records = NULL;
		r->step_records_len = 0;
		if (r->install_pending && !r->offline) {
			r->install_pending = false;
			raft_snapshot_install(r, r->install_id);
		}
		apply_committed(r);
		maybe_activate(r);
	}
	if (!r->offline)
		apply_committed(r);
	release_appends(r);
	r->in_ready = false;
	arm_timer(r);
}

/* ---- the public calls ---------------------------------------------------------------------- */

enum sl_err raft_propose(struct raft *r, const struct wire_bytes *values, size_t count,
                         raft_propose_done_fn *done, void *ctx)
{
	SL_ASSERT(done != NULL);
	if (count == 0 || count > RAFT_BATCH_RECORDS_MAX || values == NULL)
		return SL_EINVAL;
	if (r->offline)
		return SL_EIO;
	if (!r->active)
		return SL_EAGAIN;
	enum sl_err e = raft_build_batch(r, values, count, sl_wall_ms());
	if (e != SL_OK)
		return e;
	e = raft_append_proposal(r, (uint32_t)count, done, ctx);
	r->last_propose_ms = raft_now();
	if (e == SL_OK)
		raft_process(r);
	return e;
}

int64_t raft_end_offset(const struct raft *r)
{
	return r->applied;
}

int32_t raft_epoch(const struct raft *r)
{
	return r->epoch;
}

int32_t raft_leader_id(const struct raft *r)
{
	return r->leader_id;
}

bool raft_is_active(const struct raft *r)
{
	return r->active && !r->offline;
}

int64_t raft_next_offset(const struct raft *r)
{
	return raft_is_active(r) ? raft_core_end_offset(r->core) : -1;
}

const char *raft_voter_addr(const struct raft *r, int32_t id)
{
	if (id == r->node_id && r->self_addr[0] != '\0')
		return r->self_addr;
	for (uint32_t i = 0; i < r->peer_count; i++) {
		if (r->peers[i].id == id)
			return r->peers[i].addr;
	}
	return NULL;
}

size_t raft_voter_ids(const struct raft *r, int32_t *out, size_t cap)
{
	size_t n = r->cfg.voter_count;
	for (size_t i = 0; i < n && i < cap; i++)
		out[i] = r->cfg.voters[i];
	return n;
}
