/*
 * local_propose.c: proposals on the single-node metadata log (raft.h).
 *
 * A proposal is built into one RecordBatch, appended with stor_log_append and, once the
 * append completed, waited on with stor_log_wait_durable (group commit: many proposals share
 * an fdatasync). Proposals complete strictly in offset order: drain() passes the head to apply
 * and then to its done callback only when it is durable, so a later batch never becomes
 * visible before an earlier one.
 *
 * Failure (append or fsync error, or apply rejecting a committed batch) takes the raft log
 * offline for good: every unfinished proposal gets done(SL_EIO) at once and later proposals
 * are refused. A proposal's memory stays until storage returned its callbacks (pending == 0).
 *
 * Callbacks (apply, done) run from the loop; they may propose again but must not close the log.
 */
#include "raft_int.h"

#include <stdlib.h>
#include <string.h>

void raft_fail_all(struct raft *r, const char *why)
{
	if (!r->offline)
		SL_ERROR(r->log_ctx, "%s: metadata log offline: %s", r->dir, why);
	r->offline = true;
	/* Rescan from the head after every callback: a callback may not add proposals (offline)
	 * but the list must not be walked through a pointer a callback could have freed. */
	for (;;) {
		struct raft_prop *p = r->head;
		while (p != NULL && p->finished)
			p = p->next;
		if (p == NULL)
			break;
		p->finished = true;
		p->done(p->ctx, SL_EIO, -1);
	}
}

/* Applies the durable head proposal, then tells its proposer. */
static void commit_head(struct raft *r, struct raft_prop *p)
{
	struct stor_batch_view v;
	size_t used, n = 0;
	char err[512] = "";
	enum sl_err e = stor_batch_parse(p->batch, p->len, &v, &used);
	if (e == SL_OK)
		e = raft_batch_values(r, &v, &n, err, sizeof(err));
	if (e == SL_OK)
		e = r->apply(r->apply_ctx, p->app.base_offset, r->vals, n, err, sizeof(err));
	if (e != SL_OK) {
		raft_fail_all(r, err[0] ? err : sl_err_msg(e));
		return;
	}
	r->committed_end = p->app.last_offset + 1;
	p->finished = true;
	p->done(p->ctx, SL_OK, p->app.last_offset);
}

/* Completes proposals in order and frees those storage no longer references. */
static void drain(struct raft *r)
{
	if (r->draining)
		return;
	r->draining = true;
	for (;;) {
		struct raft_prop *p = r->head;
		if (p == NULL)
			break;
		if (!p->finished) {
			if (!p->durable)
				break;
			commit_head(r, p);
			continue; /* p->finished is now set (committed or failed) */
		}
		if (p->pending > 0)
			break;
		r->head = p->next;
		if (r->head == NULL)
			r->tail = NULL;
		free(p);
	}
	r->draining = false;
}

static void on_durable(struct stor_durable_wait *w, void *ctx)
{
	struct raft_prop *p = ctx;
	struct raft *r = p->r;
	p->pending--;
	if (w->err != SL_OK)
		raft_fail_all(r, "fdatasync failed");
	else
		p->durable = true;
	drain(r);
}

static void on_appended(struct stor_append *a, void *ctx)
{
	struct raft_prop *p = ctx;
	struct raft *r = p->r;
	p->pending--;
	if (a->err != SL_OK) {
		raft_fail_all(r, "append failed");
	} else if (!r->offline) {
		enum sl_err e =
		        stor_log_wait_durable(r->log, &p->wait, a->last_offset + 1, on_durable, p);
		if (e == SL_EAGAIN)
			p->pending++;
		else if (e == SL_OK)
			p->durable = true;
		else
			raft_fail_all(r, "fdatasync failed");
	}
	drain(r);
}

enum sl_err raft_propose(struct raft *r, const struct wire_bytes *values, size_t count,
                         raft_propose_done_fn *done, void *ctx)
{
	SL_ASSERT(done != NULL);
	if (count == 0 || count > RAFT_BATCH_RECORDS_MAX || values == NULL)
		return SL_EINVAL;
	if (r->offline)
		return SL_EIO;
	int64_t now = sl_wall_ms();
	enum sl_err e = raft_build_batch(r, values, count, now);
	if (e != SL_OK)
		return e;
	struct raft_prop *p = malloc(sizeof(*p) + r->build.len);
	if (p == NULL)
		return SL_ENOMEM;
	memset(p, 0, sizeof(*p));
	p->r = r;
	p->done = done;
	p->ctx = ctx;
	p->len = r->build.len;
	memcpy(p->batch, r->build.data, p->len);
	e = stor_log_append(r->log, &p->app, p->batch, p->len, r->epoch, now, on_appended, p);
	if (e != SL_OK) {
		free(p);
		if (e == SL_EIO || stor_log_offline(r->log)) {
			raft_fail_all(r, sl_err_msg(e));
			return SL_EIO;
		}
		return e == SL_ETOOBIG || e == SL_EMALFORMED ? SL_EINVAL : e;
	}
	p->pending = 1;
	if (r->tail != NULL)
		r->tail->next = p;
	else
		r->head = p;
	r->tail = p;
	return SL_OK;
}

void raft_props_release(struct raft *r)
{
	drain(r);
}

/* Temporary (the quorum driver replaces this file): no Raft RPCs on the local log. */
enum sl_err raft_handle_rpc(struct raft *r, int16_t api_key, int16_t version,
                            struct wire_reader *body, struct sl_arena *arena, struct sl_buf *out,
                            raft_rpc_done_fn *done, void *ctx)
{
	(void)r, (void)api_key, (void)version, (void)body, (void)arena, (void)out, (void)done,
	        (void)ctx;
	return SL_EUNSUPPORTED;
}

bool raft_is_active(const struct raft *r)
{
	return !r->offline;
}

int64_t raft_high_watermark(const struct raft *r)
{
	return r->committed_end;
}
