/*
 * dispatch.c: from a request frame to a handler: header checks, API lookup, version checks,
 * the response header, and the hand-back to net.
 *
 * Order of checks (Kafka's SocketServer / KafkaApis behaviour):
 *   1. fewer than 8 bytes (api key, version, correlation id)  -> close
 *   2. api key not in the table, or not on this listener       -> close
 *   3. ApiVersions of an unknown version                       -> KIP-511 v0 error reply
 *   4. other API outside the table's range                     -> close
 *   5. malformed header                                        -> close
 *   6. handler (which closes on a malformed body or trailing bytes)
 */
#include "brk_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRK_API_VERSIONS_KEY 18

enum sl_err brk_create(const struct brk_opts *opts, struct brk **out)
{
	SL_ASSERT(opts != NULL);
	brk_api_table_check();
	const char *cid = opts->cluster_id != NULL ? opts->cluster_id : "";
	if (strlen(cid) >= BRK_CLUSTER_ID_MAX)
		return SL_EINVAL;
	struct brk *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return SL_ENOMEM;
	b->opts = *opts;
	b->node_id = opts->node_id;
	snprintf(b->cluster_id, sizeof(b->cluster_id), "%s", cid);
	b->opts.cluster_id = b->cluster_id;
	enum sl_err e = brk_partitions_create(b);
	if (e == SL_OK)
		e = brk_fetch_sessions_create(b);
	if (e == SL_OK)
		e = brk_channel_create(b);
	if (e != SL_OK) {
		brk_destroy(b);
		return e;
	}
	*out = b;
	return SL_OK;
}

void brk_destroy(struct brk *b)
{
	if (b == NULL)
		return;
	brk_channel_destroy(b); /* callbacks of requests in flight run now */
	brk_lifecycle_free(b);
	brk_controller_registration_free(b);
	brk_fetch_sessions_destroy(b);
	brk_partitions_destroy(b);
	meta_image_unref(b->image);
	free(b);
}

void brk_set_image(struct brk *b, struct meta_image *img)
{
	SL_ASSERT(img != NULL);
	meta_image_ref(img);
	struct meta_image *old = b->image;
	b->image = img;
	brk_partitions_apply(b, old, img);
	meta_image_unref(old);
}

const struct meta_image *brk_image(const struct brk *b)
{
	return b->image;
}

void brk_stop(struct brk *b)
{
	b->stopping = true;
	brk_fetch_stop(b);
}

bool brk_busy(const struct brk *b)
{
	return b->pending > 0;
}

enum brk_outcome brk_request_park(struct brk_request *r)
{
	SL_ASSERT(r->frame->done != NULL);
	r->brk->pending++;
	return BRK_PENDING;
}

void brk_request_finish(struct brk_request *r, enum brk_outcome outcome)
{
	SL_ASSERT(outcome == BRK_RESPOND || outcome == BRK_CLOSE || outcome == BRK_NO_RESPONSE);
	SL_ASSERT(r->brk->pending > 0);
	r->brk->pending--;
	r->frame->done(r->frame, outcome, r->frame->done_ctx);
}

enum brk_outcome brk_close(struct brk_request *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, r->reason_len, fmt, ap);
	va_end(ap);
	return BRK_CLOSE;
}

static const char *api_name(int16_t key)
{
	const struct wire_api_info *info = wire_api_info(key);
	return info != NULL ? info->name : "?";
}

/* Steps 2-4: NULL with *outcome set when the request ends here. */
static const struct brk_api *lookup(const struct brk_frame *f, int16_t key, int16_t version,
                                    int32_t correlation_id, struct sl_buf *resp, char *reason,
                                    size_t reason_len, enum brk_outcome *outcome)
{
	*outcome = BRK_CLOSE;
	const struct brk_api *api = brk_api_find(key);
	unsigned want = f->is_controller_listener ? BRK_ON_CONTROLLER : BRK_ON_BROKER;
	if (api == NULL) {
		snprintf(reason, reason_len, "unknown API key %d (version %d, correlation id %d)",
		         key, version, correlation_id);
		return NULL;
	}
	if ((api->listeners & want) == 0) {
		snprintf(reason, reason_len, "API %s (key %d) is not served on a %s listener",
		         api_name(key), key, f->is_controller_listener ? "controller" : "broker");
		return NULL;
	}
	if (version >= api->min_version && version <= api->max_version)
		return api;
	if (key == BRK_API_VERSIONS_KEY) {
		/* KIP-511: answer so the client can retry with a version we know. */
		if (f->log_ctx != NULL)
			SL_INFO(f->log_ctx,
			        "ApiVersions v%d is not supported (max v%d): sent the v0 error "
			        "reply",
			        version, api->max_version);
		brk_api_versions_unsupported(resp, correlation_id);
		*outcome = BRK_RESPOND;
		return NULL;
	}
	snprintf(reason, reason_len, "unsupported version %d of API %s (key %d; supported %d-%d)",
	         version, api_name(key), key, api->min_version, api->max_version);
	return NULL;
}

enum brk_outcome brk_handle(struct brk *b, const struct brk_frame *f, struct sl_buf *resp,
                            char *reason, size_t reason_len)
{
	SL_ASSERT(f->data != NULL || f->len == 0);
	if (f->len < 8) {
		snprintf(reason, reason_len,
		         "request of %zu bytes is shorter than a request header", f->len);
		return BRK_CLOSE;
	}
	int16_t key = (int16_t)sl_load_be16(f->data);
	int16_t version = (int16_t)sl_load_be16(f->data + 2);
	int32_t correlation_id = (int32_t)sl_load_be32(f->data + 4);
	enum brk_outcome outcome;
	const struct brk_api *api =
	        lookup(f, key, version, correlation_id, resp, reason, reason_len, &outcome);
	if (api == NULL)
		return outcome;
	struct brk_request *r = sl_arena_calloc(f->arena, 1, sizeof(*r));
	if (r == NULL) {
		snprintf(reason, reason_len, "out of request memory (API %s v%d)", api_name(key),
		         version);
		return BRK_CLOSE;
	}
	*r = (struct brk_request){
	        .brk = b, .frame = f, .resp = resp, .reason = reason, .reason_len = reason_len};
	wire_reader_init(&r->body, f->data, f->len, f->arena);
	if (wire_request_header_decode(&r->body, &r->header) != SL_OK)
		return brk_close(r, "malformed request header (API %s v%d, correlation id %d)",
		                 api_name(key), version, correlation_id);
	r->resp_start = resp->len;
	wire_response_header_encode(resp, wire_response_header_version(key, version),
	                            correlation_id);
	return api->handler(r);
}

#define BRK_REASON_MAX 256

/* Request-lifetime state of a dispatched request (in its arena). */
struct brk_dispatch_state {
	struct brk_frame frame;
	struct net_request *req;
	char reason[BRK_REASON_MAX];
};

static void dispatch_finish(struct net_request *req, enum brk_outcome outcome, const char *reason)
{
	if (outcome == BRK_RESPOND)
		net_respond(req);
	else if (outcome == BRK_NO_RESPONSE)
		net_respond_none(req);
	else
		net_respond_close(req, reason);
}

static void dispatch_done(const struct brk_frame *f, enum brk_outcome outcome, void *ctx)
{
	(void)f;
	struct brk_dispatch_state *st = ctx;
	dispatch_finish(st->req, outcome, st->reason);
}

void brk_dispatch(struct net_request *req, void *ctx)
{
	struct brk *b = ctx;
	struct brk_dispatch_state *st = sl_arena_calloc(req->arena, 1, sizeof(*st));
	if (st == NULL) {
		net_respond_close(req, "out of request memory");
		return;
	}
	st->req = req;
	st->frame = (struct brk_frame){
	        .data = req->frame,
	        .len = req->frame_len,
	        .arena = req->arena,
	        .is_controller_listener = req->is_controller_listener,
	        .listener = req->listener,
	        .log_ctx = req->log_ctx,
	        .done = dispatch_done,
	        .done_ctx = st,
	        .net_req = req,
	};
	enum brk_outcome o = brk_handle(b, &st->frame, req->resp, st->reason, sizeof(st->reason));
	if (o != BRK_PENDING)
		dispatch_finish(req, o, st->reason);
}
