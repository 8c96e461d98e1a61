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
	const char *host = opts->advertised_host;
	if (host == NULL || host[0] == '\0')
		host = "localhost";
	const char *cid = opts->cluster_id != NULL ? opts->cluster_id : "";
	if (strlen(host) >= BRK_HOST_MAX || strlen(cid) >= BRK_CLUSTER_ID_MAX)
		return SL_EINVAL;
	struct brk *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return SL_ENOMEM;
	b->node_id = opts->node_id;
	snprintf(b->cluster_id, sizeof(b->cluster_id), "%s", cid);
	snprintf(b->advertised_host, sizeof(b->advertised_host), "%s", host);
	b->advertised_port = opts->advertised_port;
	*out = b;
	return SL_OK;
}

void brk_destroy(struct brk *b)
{
	free(b);
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
	struct brk_request r = {
	        .brk = b, .frame = f, .resp = resp, .reason = reason, .reason_len = reason_len};
	wire_reader_init(&r.body, f->data, f->len, f->arena);
	if (wire_request_header_decode(&r.body, &r.header) != SL_OK)
		return brk_close(&r, "malformed request header (API %s v%d, correlation id %d)",
		                 api_name(key), version, correlation_id);
	wire_response_header_encode(resp, wire_response_header_version(key, version),
	                            correlation_id);
	return api->handler(&r);
}

void brk_dispatch(struct net_request *req, void *ctx)
{
	struct brk *b = ctx;
	struct brk_frame f = {
	        .data = req->frame,
	        .len = req->frame_len,
	        .arena = req->arena,
	        .is_controller_listener = req->is_controller_listener,
	        .log_ctx = req->log_ctx,
	};
	char reason[256] = "";
	if (brk_handle(b, &f, req->resp, reason, sizeof(reason)) == BRK_RESPOND)
		net_respond(req);
	else
		net_respond_close(req, reason);
}
