/*
 * lifecycle.c: the broker's side of the broker lifecycle (kraft.md §5.1-5.3, Kafka's
 * BrokerLifecycleManager): register with the active controller, heartbeat, get unfenced, and
 * shut down in a controlled way.
 *
 * States (Kafka's BrokerState numbers): STARTING (registering, then heartbeating with
 * WantFence until the controller says IsCaughtUp: this broker has applied its own
 * registration) -> RECOVERY (heartbeats without WantFence until IsFenced=false) -> RUNNING ->
 * PENDING_CONTROLLED_SHUTDOWN (brk_lifecycle_shutdown: WantShutDown until ShouldShutDown) ->
 * SHUTTING_DOWN. At most one request is in flight; brk_lifecycle_tick sends the next one when
 * it is due. Heartbeats go every broker.heartbeat.interval.ms while RUNNING, every
 * LC_FAST_MS while starting or shutting down; a failure is retried after a backoff that
 * doubles from LC_BACKOFF_MIN_MS up to the heartbeat interval. NOT_CONTROLLER and connection
 * failures move to the next controller; STALE_BROKER_EPOCH registers again (the controller
 * no longer knows this incarnation's epoch).
 */
#include "brk_int.h"

#include "peer.h"
#include "raft.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LC_FAST_MS 50
#define LC_BACKOFF_MIN_MS 100
#define LC_LISTENERS_MAX 16

struct brk_lifecycle {
	struct brk *b;
	enum brk_state state;
	struct sl_uuid incarnation;
	int64_t broker_epoch; /* -1 = not registered */
	bool caught_up;
	bool fenced;
	bool in_flight;
	int32_t target; /* controller id of the request in flight */
	int64_t next_ms;
	int64_t backoff_ms;
	int64_t heartbeat_interval_ms;
	int16_t last_error;      /* last error logged (only changes are logged) */
	int64_t last_contact_ms; /* last answer without error from a controller (0 = none) */
	size_t listener_count;
	struct brk_listener_ad listeners[LC_LISTENERS_MAX];
	char names[LC_LISTENERS_MAX][64];
	char hosts[LC_LISTENERS_MAX][256];
	char rack[256];
	bool has_rack;
};

static const char *state_name(enum brk_state s)
{
	switch (s) {
	case BRK_STATE_STARTING:
		return "STARTING";
	case BRK_STATE_RECOVERY:
		return "RECOVERY";
	case BRK_STATE_RUNNING:
		return "RUNNING";
	case BRK_STATE_PENDING_CONTROLLED_SHUTDOWN:
		return "PENDING_CONTROLLED_SHUTDOWN";
	case BRK_STATE_SHUTTING_DOWN:
		return "SHUTTING_DOWN";
	}
	return "?";
}

static void set_state(struct brk_lifecycle *lc, enum brk_state s)
{
	if (lc->state == s)
		return;
	SL_INFO("broker", "broker %d: %s -> %s (broker epoch %" PRId64 ")", (int)lc->b->node_id,
	        state_name(lc->state), state_name(s), lc->broker_epoch);
	lc->state = s;
}

enum sl_err brk_lifecycle_start(struct brk *b, const struct brk_lifecycle_opts *o)
{
	SL_ASSERT(b->lifecycle == NULL && o->listener_count <= LC_LISTENERS_MAX);
	struct brk_lifecycle *lc = calloc(1, sizeof(*lc));
	if (lc == NULL)
		return SL_ENOMEM;
	enum sl_err e = sl_uuid_random(&lc->incarnation);
	if (e != SL_OK) {
		free(lc);
		return e;
	}
	lc->b = b;
	lc->state = BRK_STATE_STARTING;
	lc->broker_epoch = -1;
	lc->fenced = true;
	lc->backoff_ms = LC_BACKOFF_MIN_MS;
	lc->heartbeat_interval_ms = o->heartbeat_interval_ms > 0 ? o->heartbeat_interval_ms : 2000;
	for (size_t i = 0; i < o->listener_count; i++) {
		snprintf(lc->names[i], sizeof(lc->names[i]), "%s", o->listeners[i].name);
		snprintf(lc->hosts[i], sizeof(lc->hosts[i]), "%s", o->listeners[i].host);
		lc->listeners[i] = o->listeners[i];
		lc->listeners[i].name = lc->names[i];
		lc->listeners[i].host = lc->hosts[i];
	}
	lc->listener_count = o->listener_count;
	if (o->rack != NULL) {
		snprintf(lc->rack, sizeof(lc->rack), "%s", o->rack);
		lc->has_rack = true;
	}
	b->lifecycle = lc;
	return SL_OK;
}

void brk_lifecycle_free(struct brk *b)
{
	free(b->lifecycle);
	b->lifecycle = NULL;
}

enum brk_state brk_lifecycle_state(const struct brk *b)
{
	return b->lifecycle != NULL ? b->lifecycle->state : BRK_STATE_RUNNING;
}

int64_t brk_lifecycle_last_contact_ms(const struct brk *b)
{
	return b->lifecycle != NULL ? b->lifecycle->last_contact_ms : 0;
}

void brk_lifecycle_shutdown(struct brk *b)
{
	struct brk_lifecycle *lc = b->lifecycle;
	if (lc == NULL || lc->state >= BRK_STATE_PENDING_CONTROLLED_SHUTDOWN)
		return;
	if (lc->broker_epoch < 0) {
		set_state(lc, BRK_STATE_SHUTTING_DOWN); /* never registered: nothing to hand over */
		return;
	}
	set_state(lc, BRK_STATE_PENDING_CONTROLLED_SHUTDOWN);
	lc->next_ms = 0; /* heartbeat now */
}

/* ---- responses -------------------------------------------------------------------------- */

static void log_error(struct brk_lifecycle *lc, const char *what, int16_t code, const char *msg)
{
	if (code == lc->last_error)
		return;
	lc->last_error = code;
	SL_WARN("broker", "broker %d: %s to controller %d: %s%s%s", (int)lc->b->node_id, what,
	        (int)lc->target, wire_err_name(code), msg != NULL && msg[0] ? ": " : "",
	        msg != NULL ? msg : "");
}

/* A failed request: retry after the backoff, at another controller when this one is not it. */
static void failed(struct brk_lifecycle *lc, bool move_on)
{
	if (move_on)
		brk_channel_failed(lc->b, lc->target);
	lc->next_ms = sl_mono_ms() + lc->backoff_ms;
	lc->backoff_ms = SL_MIN(lc->backoff_ms * 2, lc->heartbeat_interval_ms);
}

static void succeeded(struct brk_lifecycle *lc)
{
	lc->last_contact_ms = sl_mono_ms();
	lc->backoff_ms = LC_BACKOFF_MIN_MS;
	lc->last_error = 0;
	bool fast = lc->state != BRK_STATE_RUNNING;
	lc->next_ms = sl_mono_ms() + (fast ? LC_FAST_MS : lc->heartbeat_interval_ms);
}

static void on_register(void *ctx, enum sl_err err, const void *resp, int16_t version)
{
	(void)version;
	struct brk_lifecycle *lc = ctx;
	lc->in_flight = false;
	if (err != SL_OK) {
		if (err != SL_ECANCELED)
			log_error(lc, "registration", WIRE_ERR_NETWORK_EXCEPTION, sl_err_msg(err));
		failed(lc, true);
		return;
	}
	const struct wire_broker_registration_response *r = resp;
	if (r->error_code != WIRE_ERR_NONE) {
		log_error(lc, "registration", r->error_code, NULL);
		failed(lc, r->error_code == WIRE_ERR_NOT_CONTROLLER);
		return;
	}
	lc->broker_epoch = r->broker_epoch;
	lc->last_contact_ms = sl_mono_ms();
	SL_INFO("broker", "broker %d registered with controller %d: broker epoch %" PRId64,
	        (int)lc->b->node_id, (int)lc->target, lc->broker_epoch);
	lc->next_ms = 0; /* the first heartbeat at once */
	lc->backoff_ms = LC_BACKOFF_MIN_MS;
	lc->last_error = 0;
}

static void on_heartbeat_ok(struct brk_lifecycle *lc,
                            const struct wire_broker_heartbeat_response *r)
{
	if (lc->fenced != r->is_fenced)
		SL_INFO("broker", "broker %d is %s by controller %d", (int)lc->b->node_id,
		        r->is_fenced ? "fenced" : "unfenced", (int)lc->target);
	lc->fenced = r->is_fenced;
	if (r->is_caught_up)
		lc->caught_up = true;
	if (lc->state == BRK_STATE_STARTING && lc->caught_up)
		set_state(lc, BRK_STATE_RECOVERY);
	if (lc->state == BRK_STATE_RECOVERY && !r->is_fenced)
		set_state(lc, BRK_STATE_RUNNING);
	if (lc->state == BRK_STATE_PENDING_CONTROLLED_SHUTDOWN && r->should_shut_down)
		set_state(lc, BRK_STATE_SHUTTING_DOWN);
	succeeded(lc);
}

static void on_heartbeat(void *ctx, enum sl_err err, const void *resp, int16_t version)
{
	(void)version;
	struct brk_lifecycle *lc = ctx;
	lc->in_flight = false;
	if (err != SL_OK) {
		if (err != SL_ECANCELED)
			log_error(lc, "heartbeat", WIRE_ERR_NETWORK_EXCEPTION, sl_err_msg(err));
		failed(lc, true);
		return;
	}
	const struct wire_broker_heartbeat_response *r = resp;
	if (r->error_code == WIRE_ERR_STALE_BROKER_EPOCH) {
		log_error(lc, "heartbeat", r->error_code, "registering again");
		lc->broker_epoch = -1;
		lc->next_ms = 0;
		return;
	}
	if (r->error_code != WIRE_ERR_NONE) {
		log_error(lc, "heartbeat", r->error_code, NULL);
		failed(lc, r->error_code == WIRE_ERR_NOT_CONTROLLER);
		return;
	}
	on_heartbeat_ok(lc, r);
}

/* ---- requests --------------------------------------------------------------------------- */

static enum sl_err send_registration(struct brk_lifecycle *lc, struct net_peer *p)
{
	struct brk *b = lc->b;
	struct wire_broker_registration_request_listener ls[LC_LISTENERS_MAX];
	for (size_t i = 0; i < lc->listener_count; i++) {
		const struct brk_listener_ad *l = &lc->listeners[i];
		ls[i] = (struct wire_broker_registration_request_listener){
		        .name = wire_str_c(l->name),
		        .host = wire_str_c(l->host),
		        .port = l->port,
		        .security_protocol = l->security_protocol};
	}
	struct wire_broker_registration_request_feature feat = {
	        .name = wire_str_c("metadata.version"),
	        .min_supported_version = META_MV_3_0_IV1,
	        .max_supported_version = META_MV_LATEST};
	struct wire_broker_registration_request q;
	wire_broker_registration_request_init(&q);
	q.broker_id = b->node_id;
	q.cluster_id = wire_str_c(b->cluster_id);
	q.incarnation_id = lc->incarnation;
	q.listeners = ls;
	q.listeners_count = (int32_t)lc->listener_count;
	q.features = &feat;
	q.features_count = 1;
	q.rack = lc->has_rack ? wire_str_c(lc->rack) : (struct wire_str){NULL, -1};
	return net_peer_send(p, 62, -1, &q, on_register, lc);
}

static enum sl_err send_heartbeat(struct brk_lifecycle *lc, struct net_peer *p)
{
	struct brk *b = lc->b;
	struct wire_broker_heartbeat_request q;
	wire_broker_heartbeat_request_init(&q);
	q.broker_id = b->node_id;
	q.broker_epoch = lc->broker_epoch;
	q.current_metadata_offset = b->opts.raft != NULL ? raft_end_offset(b->opts.raft) - 1 : -1;
	q.want_fence = !lc->caught_up;
	q.want_shut_down = lc->state == BRK_STATE_PENDING_CONTROLLED_SHUTDOWN;
	return net_peer_send(p, 63, -1, &q, on_heartbeat, lc);
}

void brk_lifecycle_tick(struct brk *b, int64_t now_ms)
{
	struct brk_lifecycle *lc = b->lifecycle;
	if (lc == NULL || lc->in_flight || now_ms < lc->next_ms ||
	    lc->state == BRK_STATE_SHUTTING_DOWN)
		return;
	struct net_peer *p = brk_channel_target(b, &lc->target);
	if (p == NULL) {
		lc->next_ms = now_ms + lc->backoff_ms;
		return;
	}
	enum sl_err e = lc->broker_epoch < 0 ? send_registration(lc, p) : send_heartbeat(lc, p);
	if (e != SL_OK) {
		log_error(lc, lc->broker_epoch < 0 ? "registration" : "heartbeat",
		          WIRE_ERR_UNKNOWN_SERVER_ERROR, sl_err_msg(e));
		failed(lc, true);
		return;
	}
	lc->in_flight = true;
}
