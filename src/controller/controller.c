/*
 * controller.c: the active controller service (controller.h) over the metadata log.
 *
 * State: `committed` = the image the node published last (ctl_on_commit); `spec` = NULL when
 * nothing is in flight, else the image committed + every proposal in flight. Each proposal is
 * applied to a fresh delta over the current view and published as the new spec before it is
 * handed to raft, so a rejected record leaves the view untouched (a delta that rejected a
 * record is unusable, and nothing has to be replayed to rebuild it).
 *
 * Ordering: raft commits proposals in order and calls the node's apply (which calls
 * ctl_on_commit) before each proposal's done. When the last in-flight proposal completes the
 * spec equals the committed image and is dropped. A failed proposal (log offline) drops the
 * spec: the view is the committed image again, and raft fails every later proposal too.
 */
#include "ctl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPIC_ID_TRIES 64

/* An empty proposal waiting for the last proposal in flight. */
struct ctl_waiter {
	ctl_propose_done_fn *done;
	void *ctx;
	struct ctl_waiter *next;
};

/* One proposal in flight: the caller's callback, and the empty proposals waiting for it. */
struct ctl_prop {
	struct ctl *c;
	ctl_propose_done_fn *done;
	void *ctx;
	struct ctl_waiter *waiters;
};

enum sl_err ctl_create(const struct ctl_opts *o, struct ctl **out)
{
	SL_ASSERT(o->log != NULL && o->image != NULL);
	struct ctl *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SL_ENOMEM;
	c->env = o->env;
	c->log = o->log;
	c->committed = o->image;
	meta_image_ref(c->committed);
	if (c->env.metadata_version == 0)
		c->env.metadata_version = meta_image_metadata_version(c->committed);
	snprintf(c->cluster_id, sizeof(c->cluster_id), "%s",
	         o->cluster_id != NULL ? o->cluster_id : "");
	c->session_timeout_ms = o->session_timeout_ms > 0 ? o->session_timeout_ms : 9000;
	snprintf(c->log_ctx, sizeof(c->log_ctx), "controller=%d", o->node_id);
	sl_arena_init(&c->scratch, 64 << 10, 256 << 20);
	*out = c;
	return SL_OK;
}

void ctl_destroy(struct ctl *c)
{
	if (c == NULL)
		return;
	/* Proposals still in flight hold a ctl_prop pointing here: the node closes raft (which
	 * waits for them) before destroying the controller. */
	SL_ASSERT(c->inflight == 0);
	meta_image_unref(c->spec);
	meta_image_unref(c->committed);
	ctl_sessions_free(c);
	sl_arena_free(&c->scratch);
	free(c);
}

void ctl_on_commit(struct ctl *c, struct meta_image *committed)
{
	meta_image_ref(committed);
	meta_image_unref(c->committed);
	c->committed = committed;
	int16_t mv = meta_image_metadata_version(committed);
	if (mv > 0)
		c->env.metadata_version = mv;
}

const struct meta_image *ctl_view(struct ctl *c)
{
	return c->spec != NULL ? c->spec : c->committed;
}

const struct meta_ctl_env *ctl_env(struct ctl *c)
{
	struct sl_uuid u;
	if (sl_uuid_random(&u) == SL_OK)
		memcpy(&c->env.random, u.b, sizeof(c->env.random));
	else
		c->env.random = c->env.random * 6364136223846793005ull + 1442695040888963407ull;
	return &c->env;
}

static void drop_spec(struct ctl *c)
{
	meta_image_unref(c->spec);
	c->spec = NULL;
}

static void prop_done(void *ctx, enum sl_err err, int64_t last_offset)
{
	(void)last_offset;
	struct ctl_prop *p = ctx;
	struct ctl *c = p->c;
	SL_ASSERT(c->inflight > 0);
	c->inflight--;
	if (err != SL_OK || c->inflight == 0)
		drop_spec(c);
	if (c->last == p)
		c->last = NULL;
	ctl_propose_done_fn *done = p->done;
	void *done_ctx = p->ctx;
	struct ctl_waiter *w = p->waiters;
	free(p);
	done(done_ctx, err);
	/* Empty proposals that waited for this one (and so for every earlier one). */
	while (w != NULL) {
		struct ctl_waiter *next = w->next;
		w->done(w->ctx, err);
		free(w);
		w = next;
	}
}

/* The view with recs applied, as a new image (refcount 1), or SL_EINVAL / SL_ENOMEM. */
static enum sl_err speculate(struct ctl *c, const struct meta_records *recs,
                             struct meta_image **out)
{
	struct meta_image *base = c->spec != NULL ? c->spec : c->committed;
	struct meta_delta *d;
	enum sl_err e = meta_delta_create(base, &d);
	if (e != SL_OK)
		return e;
	for (size_t i = 0; i < recs->count; i++) {
		char err[256] = "";
		const struct wire_bytes *v = &recs->values[i];
		e = v->len < 0 ? SL_EMALFORMED
		               : meta_delta_apply(d, v->ptr, (size_t)v->len, err, sizeof(err));
		if (e != SL_OK) {
			SL_ERROR("controller", "record %zu of a proposal does not apply: %s (%s)",
			         i, err[0] ? err : "null value", sl_err_name(e));
			meta_delta_destroy(d);
			return e == SL_ENOMEM ? SL_ENOMEM : SL_EINVAL;
		}
	}
	*out = meta_delta_publish(d, meta_image_offset(base));
	return *out != NULL ? SL_OK : SL_ENOMEM;
}

enum sl_err ctl_propose(struct ctl *c, const struct meta_records *recs, ctl_propose_done_fn *done,
                        void *ctx)
{
	SL_ASSERT(done != NULL);
	if (recs->count == 0 && c->last == NULL) {
		done(ctx, SL_OK);
		return SL_OK;
	}
	if (recs->count == 0) {
		/* A reply decided on records still in flight waits for them (Kafka answers a
		 * read-only event after the highest pending offset commits). */
		struct ctl_waiter *w = malloc(sizeof(*w));
		if (w == NULL)
			return SL_ENOMEM;
		*w = (struct ctl_waiter){.done = done, .ctx = ctx, .next = c->last->waiters};
		c->last->waiters = w;
		return SL_OK;
	}
	if (recs->count > RAFT_BATCH_RECORDS_MAX)
		return SL_EINVAL;
	struct ctl_prop *p = malloc(sizeof(*p));
	if (p == NULL)
		return SL_ENOMEM;
	*p = (struct ctl_prop){.c = c, .done = done, .ctx = ctx};
	struct meta_image *next = NULL;
	enum sl_err e = speculate(c, recs, &next);
	if (e == SL_OK)
		e = raft_propose(c->log, recs->values, recs->count, prop_done, p);
	if (e != SL_OK) {
		meta_image_unref(next);
		free(p);
		return e;
	}
	meta_image_unref(c->spec);
	c->spec = next;
	c->inflight++;
	c->last = p;
	return SL_OK;
}

enum sl_err ctl_new_topic_id(struct ctl *c, struct sl_uuid *out)
{
	const struct meta_image *view = ctl_view(c);
	for (int i = 0; i < TOPIC_ID_TRIES; i++) {
		struct sl_uuid id;
		enum sl_err e = sl_uuid_random(&id);
		if (e != SL_OK)
			return e;
		if (sl_uuid_is_zero(&id) || sl_uuid_is_reserved(&id) ||
		    meta_image_topic_by_id(view, id) != NULL)
			continue;
		*out = id;
		return SL_OK;
	}
	return SL_ESYS; /* a random source that keeps repeating itself */
}
