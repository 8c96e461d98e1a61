/*
 * brokers.c: the active controller's side of the broker lifecycle (kraft.md §5.2-5.3):
 * BrokerRegistration, BrokerHeartbeat, and fencing of brokers whose session expired.
 *
 * Decisions are the pure functions of metadata.h (meta_ctl_register_broker,
 * meta_broker_next_state, meta_ctl_fence_broker, ...) taken against ctl_view(), so a second
 * heartbeat that arrives while the first one's records are in flight already sees their effect
 * and proposes nothing twice. Replies wait for the commit of what they proposed.
 *
 * Sessions are memory only (struct ctl_session): the controller that becomes active gives every
 * registered broker a fresh session clock (Kafka does the same on failover), so a failover
 * never fences brokers that were heartbeating to the previous leader. The session check runs
 * from ctl_tick and fences at most one broker per tick.
 */
#include "ctl_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_SESSIONS_MIN_CAP 8

struct ctl_session *ctl_session_get(struct ctl *c, int32_t broker_id, bool create)
{
	for (size_t i = 0; i < c->session_count; i++) {
		if (c->sessions[i].broker_id == broker_id)
			return &c->sessions[i];
	}
	if (!create)
		return NULL;
	if (c->session_count == c->session_cap) {
		size_t cap = c->session_cap > 0 ? c->session_cap * 2 : CTL_SESSIONS_MIN_CAP;
		struct ctl_session *s = realloc(c->sessions, cap * sizeof(*s));
		if (s == NULL)
			return NULL;
		c->sessions = s;
		c->session_cap = cap;
	}
	struct ctl_session *s = &c->sessions[c->session_count++];
	*s = (struct ctl_session){.broker_id = broker_id,
	                          .last_contact_ms = sl_mono_ms(),
	                          .metadata_offset = -1,
	                          .shutdown_offset = -1};
	return s;
}

void ctl_sessions_free(struct ctl *c)
{
	free(c->sessions);
	c->sessions = NULL;
	c->session_count = c->session_cap = 0;
}

/* ---- a pending reply: done after the proposal commits --------------------------------------- */

struct ctl_reply {
	struct ctl *c;
	int32_t broker_id;
	bool transition; /* counted in the session's transitions */
	struct ctl_broker_result res;
	ctl_broker_done_fn *done;
	void *ctx;
};

static void reply_error(ctl_broker_done_fn *done, void *ctx, int16_t code, const char *msg)
{
	struct ctl_broker_result res = {.error_code = code, .broker_epoch = -1, .is_fenced = true};
	snprintf(res.message, sizeof(res.message), "%s", msg != NULL ? msg : "");
	done(ctx, &res);
}

static void reply_committed(void *ctx, enum sl_err err)
{
	struct ctl_reply *rp = ctx;
	if (rp->transition) {
		struct ctl_session *s = ctl_session_get(rp->c, rp->broker_id, false);
		if (s != NULL && s->transitions > 0)
			s->transitions--;
	}
	if (err != SL_OK) {
		bool moved = err == SL_EAGAIN || err == SL_ECANCELED;
		rp->res = (struct ctl_broker_result){.error_code =
		                                             moved ? WIRE_ERR_NOT_CONTROLLER
		                                                   : WIRE_ERR_UNKNOWN_SERVER_ERROR,
		                                     .broker_epoch = -1,
		                                     .is_fenced = true};
		snprintf(rp->res.message, sizeof(rp->res.message), "%s",
		         moved ? "the controller lost its leadership" : sl_err_msg(err));
	}
	ctl_broker_done_fn *done = rp->done;
	void *dctx = rp->ctx;
	struct ctl_broker_result res = rp->res;
	free(rp);
	done(dctx, &res);
}

/* Proposes recs and replies res once they commit (at once when recs is empty). */
static void propose_and_reply(struct ctl *c, int32_t broker_id, bool transition,
                              const struct meta_records *recs, const struct ctl_broker_result *res,
                              ctl_broker_done_fn *done, void *ctx)
{
	struct ctl_reply *rp = malloc(sizeof(*rp));
	if (rp == NULL) {
		reply_error(done, ctx, WIRE_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
		return;
	}
	*rp = (struct ctl_reply){.c = c,
	                         .broker_id = broker_id,
	                         .transition = transition && recs->count > 0,
	                         .res = *res,
	                         .done = done,
	                         .ctx = ctx};
	struct ctl_session *s = ctl_session_get(c, broker_id, false);
	if (rp->transition && s != NULL)
		s->transitions++;
	else
		rp->transition = false;
	enum sl_err e = ctl_propose(c, recs, reply_committed, rp);
	if (e != SL_OK)
		reply_committed(rp, e);
}

static bool check_active(struct ctl *c, ctl_broker_done_fn *done, void *ctx)
{
	if (raft_is_active(c->log))
		return true;
	reply_error(done, ctx, WIRE_ERR_NOT_CONTROLLER, "this node is not the active controller");
	return false;
}

/* ---- registration ----------------------------------------------------------------------- */

void ctl_register_broker(struct ctl *c, const char *cluster_id, size_t cluster_id_len,
                         const struct meta_broker_reg *reg, ctl_broker_done_fn *done, void *ctx)
{
	if (!check_active(c, done, ctx))
		return;
	if (cluster_id_len != strlen(c->cluster_id) ||
	    memcmp(cluster_id, c->cluster_id, cluster_id_len) != 0) {
		char msg[256];
		snprintf(msg, sizeof(msg), "Expected cluster ID %s, but got cluster ID %.*s",
		         c->cluster_id, (int)SL_MIN(cluster_id_len, (size_t)64), cluster_id);
		reply_error(done, ctx, WIRE_ERR_INCONSISTENT_CLUSTER_ID, msg);
		return;
	}
	int64_t now = sl_mono_ms();
	struct ctl_session *s = ctl_session_get(c, reg->broker_id, false);
	const struct meta_image *view = ctl_view(c);
	/* Kafka's hasValidSession: a fenced broker has none. Unlike Kafka, neither has a session
	 * this controller never heard from (the fresh one a failover hands out): a broker that
	 * crashed and restarted with the controller need not wait out the session timeout. */
	const struct meta_broker *old = meta_image_broker(view, reg->broker_id);
	bool session_valid = s != NULL && s->heard && old != NULL && !old->fenced &&
	                     now - s->last_contact_ms < c->session_timeout_ms;
	struct sl_arena *arena = &c->scratch;
	struct meta_records recs;
	meta_records_init(&recs, arena);
	struct ctl_broker_result res = {.broker_epoch = -1, .is_fenced = true};
	struct meta_ctl_result mres = {0};
	meta_ctl_register_broker(view, ctl_env(c), reg, session_valid, raft_next_offset(c->log),
	                         &recs, &res.broker_epoch, &mres);
	res.error_code = mres.error_code;
	snprintf(res.message, sizeof(res.message), "%s", mres.message);
	if (mres.error_code != WIRE_ERR_NONE) {
		SL_INFO(c->log_ctx, "broker %d registration refused: %s: %s", reg->broker_id,
		        wire_err_name(mres.error_code), mres.message);
		sl_arena_reset(arena);
		done(ctx, &res);
		return;
	}
	if (recs.count > 0) {
		/* A new incarnation: a fresh session. */
		s = ctl_session_get(c, reg->broker_id, true);
		if (s != NULL) {
			s->last_contact_ms = now;
			s->metadata_offset = -1;
			s->shutdown_offset = -1;
			s->heard = true;
		}
		SL_INFO(c->log_ctx, "broker %d registers with broker epoch %" PRId64,
		        reg->broker_id, res.broker_epoch);
	}
	propose_and_reply(c, reg->broker_id, false, &recs, &res, done, ctx);
	sl_arena_reset(arena);
}

/* ---- heartbeats ------------------------------------------------------------------------- */

/* True when every unfenced broker, the one shutting down included (Kafka's
 * lowestActiveOffset), has applied metadata up to offset: the controlled shutdown of a broker
 * completes only then (kraft.md §5.3), so nobody still routes to it as a leader. */
static bool others_caught_up(struct ctl *c, const struct meta_image *view, int32_t self,
                             int64_t offset)
{
	(void)self;
	if (offset < 0)
		return true;
	for (size_t i = 0; i < meta_image_broker_count(view); i++) {
		const struct meta_broker *b = meta_image_broker_at(view, i);
		if (b->fenced)
			continue;
		struct ctl_session *s = ctl_session_get(c, b->broker_id, false);
		if (s == NULL || s->metadata_offset < offset)
			return false;
	}
	return true;
}

static enum meta_broker_hb_state current_state(const struct meta_broker *b)
{
	if (b->fenced)
		return META_HB_FENCED;
	return b->in_controlled_shutdown ? META_HB_CONTROLLED_SHUTDOWN : META_HB_UNFENCED;
}

static const char *state_name(enum meta_broker_hb_state s)
{
	switch (s) {
	case META_HB_FENCED:
		return "fenced";
	case META_HB_UNFENCED:
		return "unfenced";
	case META_HB_CONTROLLED_SHUTDOWN:
		return "controlled shutdown";
	case META_HB_SHUTDOWN_NOW:
		return "shutdown now";
	}
	return "?";
}

/* The records of a state change (empty when none is needed). SL_ENOMEM when they do not
 * fit the scratch arena. */
static enum sl_err transition_records(struct ctl *c, const struct meta_image *view, int32_t id,
                                      enum meta_broker_hb_state cur, enum meta_broker_hb_state next,
                                      struct meta_records *recs, struct ctl_session *s)
{
	const struct meta_ctl_env *env = ctl_env(c);
	if (cur == META_HB_FENCED && next == META_HB_UNFENCED)
		return meta_ctl_unfence_broker(view, env, id, recs);
	if (cur != META_HB_FENCED && (next == META_HB_FENCED || next == META_HB_SHUTDOWN_NOW))
		return meta_ctl_fence_broker(view, env, id, recs);
	if (next == META_HB_CONTROLLED_SHUTDOWN &&
	    (cur == META_HB_UNFENCED || meta_broker_leader_count(view, id) > 0)) {
		int64_t base = raft_next_offset(c->log);
		enum sl_err e = meta_ctl_controlled_shutdown(view, env, id, recs);
		if (e == SL_OK && recs->count > 0 && base >= 0)
			s->shutdown_offset = base + (int64_t)recs->count - 1;
		return e;
	}
	return SL_OK;
}

void ctl_broker_heartbeat(struct ctl *c, const struct ctl_heartbeat *hb, ctl_broker_done_fn *done,
                          void *ctx)
{
	if (!check_active(c, done, ctx))
		return;
	const struct meta_image *view = ctl_view(c);
	const struct meta_broker *b = meta_image_broker(view, hb->broker_id);
	if (b == NULL || b->broker_epoch != hb->broker_epoch) {
		char msg[128];
		snprintf(msg, sizeof(msg), "Expected broker epoch %" PRId64 ", but got %" PRId64,
		         b != NULL ? b->broker_epoch : (int64_t)-1, hb->broker_epoch);
		reply_error(done, ctx, WIRE_ERR_STALE_BROKER_EPOCH, msg);
		return;
	}
	struct ctl_session *s = ctl_session_get(c, hb->broker_id, true);
	if (s == NULL) {
		reply_error(done, ctx, WIRE_ERR_UNKNOWN_SERVER_ERROR, "out of memory");
		return;
	}
	s->last_contact_ms = sl_mono_ms();
	s->heard = true;
	if (hb->metadata_offset > s->metadata_offset)
		s->metadata_offset = hb->metadata_offset;
	bool caught_up = hb->metadata_offset >= b->broker_epoch;
	enum meta_broker_hb_state cur = current_state(b);
	bool leads = meta_broker_leader_count(view, hb->broker_id) > 0;
	enum meta_broker_hb_state next = meta_broker_next_state(
	        cur, hb->want_fence, hb->want_shut_down, caught_up, leads,
	        others_caught_up(c, view, hb->broker_id, s->shutdown_offset));
	struct sl_arena *arena = &c->scratch;
	struct meta_records recs;
	meta_records_init(&recs, arena);
	if (next != cur)
		SL_INFO(c->log_ctx, "broker %d: %s -> %s", hb->broker_id, state_name(cur),
		        state_name(next));
	if (transition_records(c, view, hb->broker_id, cur, next, &recs, s) != SL_OK) {
		sl_arena_reset(arena);
		reply_error(done, ctx, WIRE_ERR_UNKNOWN_SERVER_ERROR,
		            "out of memory for the broker's state change");
		return;
	}
	struct ctl_broker_result res = {
	        .error_code = WIRE_ERR_NONE,
	        .broker_epoch = b->broker_epoch,
	        .is_caught_up = caught_up,
	        .is_fenced = next == META_HB_FENCED || next == META_HB_SHUTDOWN_NOW,
	        .should_shut_down = next == META_HB_SHUTDOWN_NOW,
	};
	propose_and_reply(c, hb->broker_id, true, &recs, &res, done, ctx);
	sl_arena_reset(arena);
}

/* ---- the periodic task ------------------------------------------------------------------ */

static void fence_done(void *ctx, const struct ctl_broker_result *res)
{
	(void)ctx;
	(void)res;
}

/* Fences the first registered, unfenced broker whose session expired (one per tick). */
static void fence_expired(struct ctl *c, int64_t now)
{
	const struct meta_image *view = ctl_view(c);
	for (size_t i = 0; i < meta_image_broker_count(view); i++) {
		const struct meta_broker *b = meta_image_broker_at(view, i);
		if (b->fenced)
			continue;
		struct ctl_session *s = ctl_session_get(c, b->broker_id, true);
		if (s == NULL || s->transitions > 0 ||
		    now - s->last_contact_ms < c->session_timeout_ms)
			continue;
		SL_WARN(c->log_ctx, "fencing broker %d: no heartbeat for %" PRId64 " ms",
		        b->broker_id, now - s->last_contact_ms);
		struct sl_arena *arena = &c->scratch;
		struct meta_records recs;
		meta_records_init(&recs, arena);
		if (meta_ctl_fence_broker(view, ctl_env(c), b->broker_id, &recs) != SL_OK) {
			sl_arena_reset(arena);
			return;
		}
		struct ctl_broker_result res = {.broker_epoch = b->broker_epoch, .is_fenced = true};
		propose_and_reply(c, b->broker_id, true, &recs, &res, fence_done, NULL);
		sl_arena_reset(arena);
		return;
	}
}

void ctl_tick(struct ctl *c, int64_t now_ms)
{
	bool active = raft_is_active(c->log);
	if (active && !c->active) {
		/* Failover: a fresh session for every registered broker. */
		const struct meta_image *view = ctl_view(c);
		for (size_t i = 0; i < meta_image_broker_count(view); i++) {
			struct ctl_session *s =
			        ctl_session_get(c, meta_image_broker_at(view, i)->broker_id, true);
			if (s != NULL) {
				s->last_contact_ms = now_ms;
				s->transitions = 0;
				s->heard = false;
			}
		}
		SL_INFO(c->log_ctx, "active: %zu registered brokers get a fresh session",
		        meta_image_broker_count(view));
	}
	c->active = active;
	if (active)
		fence_expired(c, now_ms);
}

/* ---- controller registration (KIP-919) -------------------------------------------------- */

void ctl_register_controller(struct ctl *c, const struct meta_controller_reg *reg,
                             ctl_broker_done_fn *done, void *ctx)
{
	if (!check_active(c, done, ctx))
		return;
	struct sl_arena *arena = &c->scratch;
	struct meta_records recs;
	meta_records_init(&recs, arena);
	struct meta_ctl_result mres;
	meta_ctl_register_controller(ctl_view(c), reg, &recs, &mres);
	struct ctl_broker_result res = {.error_code = mres.error_code, .broker_epoch = -1};
	snprintf(res.message, sizeof(res.message), "%s", mres.message);
	if (mres.error_code != WIRE_ERR_NONE) {
		sl_arena_reset(arena);
		done(ctx, &res);
		return;
	}
	if (recs.count > 0)
		SL_INFO(c->log_ctx, "controller %d registers", reg->controller_id);
	propose_and_reply(c, reg->controller_id, false, &recs, &res, done, ctx);
	sl_arena_reset(arena);
}

/* ---- unregistration (an admin operation) ------------------------------------------------ */

void ctl_unregister_broker(struct ctl *c, int32_t broker_id, ctl_broker_done_fn *done, void *ctx)
{
	if (!check_active(c, done, ctx))
		return;
	struct sl_arena *arena = &c->scratch;
	struct meta_records recs;
	meta_records_init(&recs, arena);
	struct meta_ctl_result mres;
	memset(&mres, 0, sizeof(mres));
	meta_ctl_unregister_broker(ctl_view(c), ctl_env(c), broker_id, &recs, &mres);
	struct ctl_broker_result res = {.error_code = mres.error_code, .broker_epoch = -1};
	snprintf(res.message, sizeof(res.message), "%s", mres.message);
	if (mres.error_code != WIRE_ERR_NONE) {
		sl_arena_reset(arena);
		done(ctx, &res);
		return;
	}
	SL_INFO(c->log_ctx, "unregistering broker %d", broker_id);
	struct ctl_session *s = ctl_session_get(c, broker_id, false);
	if (s != NULL) /* a later registration of this id starts a new session */
		*s = c->sessions[--c->session_count];
	propose_and_reply(c, broker_id, false, &recs, &res, done, ctx);
	sl_arena_reset(arena);
}
