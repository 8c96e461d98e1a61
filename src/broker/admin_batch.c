/*
 * admin_batch.c: a request that waits on several controller proposals (admin_int.h).
 *
 * Counting: outstanding starts at 1 (the submitting handler holds it) and each proposal adds
 * one; a proposal that completes during ctl_propose (empty records) or fails synchronously
 * gives its count back at once. brk_admin_end drops the handler's count: zero means every
 * proposal is done and the reply is encoded now; otherwise the request is parked and the
 * proposal done callback that brings the count to zero encodes and finishes it.
 */
#include "admin_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctl *brk_admin_ctl(struct brk_request *r, int16_t *code, const char **msg)
{
	if (r->forward_error != 0) {
		*code = r->forward_error;
		*msg = "The active controller could not be reached";
		return NULL;
	}
	if (r->brk->opts.ctl == NULL) {
		*code = WIRE_ERR_NOT_CONTROLLER;
		*msg = "No controller is running on this node";
		return NULL;
	}
	return r->brk->opts.ctl;
}

void brk_admin_begin(struct brk_admin_batch *batch, struct brk_request *r,
                     brk_admin_encode_fn *encode, void *ctx, int16_t propose_error,
                     const char *what)
{
	SL_ASSERT(encode != NULL);
	*batch = (struct brk_admin_batch){.r = r,
	                                  .encode = encode,
	                                  .ctx = ctx,
	                                  .outstanding = 1,
	                                  .propose_error = propose_error,
	                                  .propose_what = what};
}

static void batch_release(struct brk_admin_batch *batch)
{
	SL_ASSERT(batch->outstanding > 0);
	batch->outstanding--;
	if (batch->outstanding > 0 || !batch->parked)
		return;
	enum brk_outcome o = batch->encode(batch);
	SL_ASSERT(o == BRK_RESPOND || o == BRK_CLOSE);
	brk_request_finish(batch->r, o);
}

static void op_failed(struct brk_admin_op *op, enum sl_err err)
{
	struct brk_admin_batch *batch = op->batch;
	const struct brk_frame *f = batch->r->frame;
	if (f->log_ctx != NULL)
		SL_WARN(f->log_ctx, "%s: metadata proposal failed: %s", batch->propose_what,
		        sl_err_msg(err));
	/* Not the active controller (SL_EAGAIN), or it lost the leadership before the records
	 * committed (SL_ECANCELED: they may still commit under the next leader). */
	if (err == SL_EAGAIN || err == SL_ECANCELED) {
		op->error_code = WIRE_ERR_NOT_CONTROLLER;
		op->error_message = "this node is not the active controller";
		return;
	}
	op->error_code = batch->propose_error;
	op->error_message = sl_err_msg(err);
}

static void admin_propose_done(void *ctx, enum sl_err err)
{
	struct brk_admin_op *op = ctx;
	if (err != SL_OK)
		op_failed(op, err);
	batch_release(op->batch);
}

void brk_admin_propose(struct brk_admin_batch *batch, struct brk_admin_op *op,
                       const struct meta_records *recs)
{
	struct ctl *c = batch->r->brk->opts.ctl;
	SL_ASSERT(c != NULL);
	SL_ASSERT(batch->outstanding > 0);
	op->batch = batch;
	batch->outstanding++;
	enum sl_err e = ctl_propose(c, recs, admin_propose_done, op);
	if (e != SL_OK) {
		op_failed(op, e);
		batch_release(batch);
	}
}

enum brk_outcome brk_admin_end(struct brk_admin_batch *batch)
{
	SL_ASSERT(!batch->parked);
	SL_ASSERT(batch->outstanding > 0);
	if (batch->outstanding == 1) {
		batch->outstanding = 0;
		return batch->encode(batch);
	}
	batch->parked = true;
	enum brk_outcome o = brk_request_park(batch->r);
	batch_release(batch); /* not zero: a proposal is still in flight */
	return o;
}

char *brk_admin_strdup(struct brk_request *r, struct wire_str s)
{
	if (s.len < 0)
		return NULL;
	return sl_arena_strndup(r->frame->arena, s.ptr != NULL ? s.ptr : "", (size_t)s.len);
}

const char *brk_admin_msg(struct brk_request *r, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	return sl_arena_strndup(r->frame->arena, tmp, strlen(tmp));
}

void brk_admin_set_result(struct brk_request *r, struct brk_admin_op *op,
                          const struct meta_ctl_result *res)
{
	op->error_code = res->error_code;
	op->error_message = NULL;
	if (res->error_code != WIRE_ERR_NONE && res->message[0] != '\0')
		op->error_message = sl_arena_strndup(r->frame->arena, res->message,
		                                     strnlen(res->message, sizeof(res->message)));
}

void brk_admin_settle(struct brk_admin_batch *batch, struct brk_admin_op *op,
                      const struct meta_records *recs, const struct meta_ctl_result *res,
                      bool validate_only)
{
	brk_admin_set_result(batch->r, op, res);
	if (res->error_code == WIRE_ERR_NONE && !validate_only)
		brk_admin_propose(batch, op, recs);
}

struct dup_key {
	struct wire_str name;
	size_t index;
};

static int dup_key_cmp(const void *pa, const void *pb)
{
	const struct dup_key *a = pa;
	const struct dup_key *b = pb;
	if (a->name.len != b->name.len)
		return a->name.len < b->name.len ? -1 : 1;
	if (a->name.len <= 0)
		return 0;
	return memcmp(a->name.ptr, b->name.ptr, (size_t)a->name.len);
}

bool *brk_admin_dups(struct brk_request *r, const struct wire_str *names, size_t count,
                     size_t **first_out)
{
	bool *dup = sl_arena_calloc(r->frame->arena, count > 0 ? count : 1, sizeof(*dup));
	size_t *first = sl_arena_calloc(r->frame->arena, count > 0 ? count : 1, sizeof(*first));
	struct dup_key *keys =
	        sl_arena_calloc(r->frame->arena, count > 0 ? count : 1, sizeof(*keys));
	if (dup == NULL || first == NULL || keys == NULL)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		keys[i] = (struct dup_key){.name = names[i], .index = i};
		first[i] = i;
	}
	qsort(keys, count, sizeof(*keys), dup_key_cmp);
	/* Each run of equal non-null names: all are duplicates; first = the smallest index. */
	for (size_t i = 0; i < count;) {
		size_t j = i + 1;
		while (j < count && keys[i].name.len >= 0 && dup_key_cmp(&keys[i], &keys[j]) == 0)
			j++;
		size_t min = keys[i].index;
		for (size_t k = i; k < j; k++)
			min = keys[k].index < min ? keys[k].index : min;
		for (size_t k = i; k < j && j - i > 1; k++) {
			dup[keys[k].index] = true;
			first[keys[k].index] = min;
		}
		i = j;
	}
	if (first_out != NULL)
		*first_out = first;
	return dup;
}
