/*
 * controller.h: the active controller service (L5): the only writer of metadata records.
 *
 * It keeps a view = the committed image plus every proposal still in flight, so that two
 * requests in a row see each other's effects before either commits (Kafka's controller keeps
 * uncommitted state the same way, kraft.md §6.2). A request handler decides against
 * ctl_view() with the pure functions of metadata.h, then ctl_propose()s the records; the
 * records are applied to the view at once and the handler's callback runs once they are
 * committed, i.e. after the node applied them to the committed image (so a reply sent from the
 * callback is visible to the next Metadata request). A proposal that fails (log offline) fails
 * every later one; the view is rebuilt from the committed image.
 */
#ifndef SL_CONTROLLER_H
#define SL_CONTROLLER_H

#include "base.h"
#include "metadata.h"
#include "raft.h"

struct ctl;
struct meta_broker_reg;
struct meta_controller_reg;

/* err SL_OK when committed; otherwise the proposal was not (and will never be) applied. */
typedef void ctl_propose_done_fn(void *ctx, enum sl_err err);

struct ctl_opts {
	struct raft *log;           /* borrowed */
	struct meta_image *image;   /* the committed image at start (a reference is taken) */
	struct meta_ctl_env env;    /* defaults for decisions */
	const char *cluster_id;     /* copied; registrations must carry it */
	int64_t session_timeout_ms; /* broker.session.timeout.ms; <= 0 = 9000 */
	int32_t node_id;            /* for log lines */
};

enum sl_err ctl_create(const struct ctl_opts *o, struct ctl **out) SL_MUST_USE;
void ctl_destroy(struct ctl *c);

/* The node published a new committed image (takes a reference). */
void ctl_on_commit(struct ctl *c, struct meta_image *committed);
/* The state to decide against (committed + in flight). Valid until the next ctl_* call. */
const struct meta_image *ctl_view(struct ctl *c);
/* Decision defaults (num.partitions, ...) with a fresh placement seed (env.random). */
const struct meta_ctl_env *ctl_env(struct ctl *c);
/* Applies recs to the view and proposes them as one batch. An empty recs completes at once
 * (done called before return) when nothing is in flight, else together with the newest
 * proposal in flight (its error, if it fails): a reply decided on uncommitted records is sent
 * only once they are committed. SL_OK: done runs exactly once. Errors (no callback):
 * SL_EINVAL (records the view rejects: a bug in a decision), SL_EIO (log offline),
 * SL_ENOMEM. */
enum sl_err ctl_propose(struct ctl *c, const struct meta_records *recs, ctl_propose_done_fn *done,
                        void *ctx) SL_MUST_USE;
/* ---- brokers (brokers.c): registration, heartbeats, fencing (kraft.md §5) ------------------
 * Only the active controller answers (others: NOT_CONTROLLER). Each call ends with done
 * exactly once, possibly before it returns (errors, or nothing to write), otherwise once the
 * records it proposed have committed. */
struct ctl_broker_result {
	int16_t error_code; /* WIRE_ERR_* */
	char message[256];
	int64_t broker_epoch;  /* registration */
	bool is_caught_up;     /* heartbeat */
	bool is_fenced;        /* heartbeat */
	bool should_shut_down; /* heartbeat */
};
typedef void ctl_broker_done_fn(void *ctx, const struct ctl_broker_result *res);

/* BrokerRegistration: cluster id (INCONSISTENT_CLUSTER_ID), then meta_ctl_register_broker
 * with the broker's session; a new incarnation gets a fresh session. */
void ctl_register_broker(struct ctl *c, const char *cluster_id, size_t cluster_id_len,
                         const struct meta_broker_reg *reg, ctl_broker_done_fn *done, void *ctx);

struct ctl_heartbeat {
	int32_t broker_id;
	int64_t broker_epoch;
	int64_t metadata_offset; /* CurrentMetadataOffset */
	bool want_fence;
	bool want_shut_down;
};
/* BrokerHeartbeat: STALE_BROKER_EPOCH for an unknown broker or another epoch; refreshes the
 * session, then the state machine of kraft.md §5.3 and its records. */
void ctl_broker_heartbeat(struct ctl *c, const struct ctl_heartbeat *hb, ctl_broker_done_fn *done,
                          void *ctx);

/* ControllerRegistration: a RegisterControllerRecord when the controller is new or changed. */
void ctl_register_controller(struct ctl *c, const struct meta_controller_reg *reg,
                             ctl_broker_done_fn *done, void *ctx);

/* UnregisterBroker: the broker's leaderships move away, then UnregisterBrokerRecord;
 * BROKER_ID_NOT_REGISTERED for an unknown id. A broker still running gets STALE_BROKER_EPOCH
 * on its next heartbeat and registers again. */
void ctl_unregister_broker(struct ctl *c, int32_t broker_id, ctl_broker_done_fn *done, void *ctx);

/* Periodic work (the node calls it every few tens of ms): notices becoming active (every
 * registered broker gets a fresh session) and fences one broker whose session expired. */
void ctl_tick(struct ctl *c, int64_t now_ms);

/* A random topic id that is not zero, not reserved and not used in the view. */
enum sl_err ctl_new_topic_id(struct ctl *c, struct sl_uuid *out) SL_MUST_USE;

#endif
