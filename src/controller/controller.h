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

/* err SL_OK when committed; otherwise the proposal was not (and will never be) applied. */
typedef void ctl_propose_done_fn(void *ctx, enum sl_err err);

struct ctl_opts {
	struct raft *log;         /* borrowed */
	struct meta_image *image; /* the committed image at start (a reference is taken) */
	struct meta_ctl_env env;  /* defaults for decisions; broker_ids copied */
};

enum sl_err ctl_create(const struct ctl_opts *o, struct ctl **out) SL_MUST_USE;
void ctl_destroy(struct ctl *c);

/* The node published a new committed image (takes a reference). */
void ctl_on_commit(struct ctl *c, struct meta_image *committed);
/* The state to decide against (committed + in flight). Valid until the next ctl_* call. */
const struct meta_image *ctl_view(struct ctl *c);
/* Decision defaults (num.partitions, ...). */
const struct meta_ctl_env *ctl_env(const struct ctl *c);
/* Applies recs to the view and proposes them as one batch. An empty recs completes at once
 * (done called before return). SL_OK: done runs exactly once. Errors (no callback):
 * SL_EINVAL (records the view rejects: a bug in a decision), SL_EIO (log offline),
 * SL_ENOMEM. */
enum sl_err ctl_propose(struct ctl *c, const struct meta_records *recs, ctl_propose_done_fn *done,
                        void *ctx) SL_MUST_USE;
/* A random topic id that is not zero, not reserved and not used in the view. */
enum sl_err ctl_new_topic_id(struct ctl *c, struct sl_uuid *out) SL_MUST_USE;

#endif
