/*
 * ctl_rpc.c: the broker-lifecycle RPCs a controller listener serves (kraft.md §5.1):
 * BrokerRegistration (62), BrokerHeartbeat (63), ControllerRegistration (70) and
 * UnregisterBroker (64; also on broker listeners, which forward it to the active controller),
 * decoded here and decided by the controller service (controller.h), which answers at once
 * (errors, nothing to write) or once its records committed.
 */
#include "brk_data.h"

#include <string.h>

#define CRPC_LISTENERS_MAX 16
#define CRPC_FEATURES_MAX 16

enum crpc_kind { CRPC_REGISTER, CRPC_HEARTBEAT, CRPC_CONTROLLER, CRPC_UNREGISTER };

/* One request waiting for the controller. */
struct crpc {
	struct brk_request *r;
	enum crpc_kind kind;
	bool parked;
	bool finished;
	struct ctl_broker_result res;
};

static enum brk_outcome crpc_encode(struct crpc *st)
{
	struct brk_request *r = st->r;
	int16_t v = r->header.api_version;
	const struct ctl_broker_result *res = &st->res;
	if (st->kind == CRPC_REGISTER) {
		struct wire_broker_registration_response out;
		wire_broker_registration_response_init(&out);
		out.error_code = res->error_code;
		out.broker_epoch = res->error_code == WIRE_ERR_NONE ? res->broker_epoch : -1;
		wire_broker_registration_response_encode(r->resp, v, &out);
	} else if (st->kind == CRPC_HEARTBEAT) {
		struct wire_broker_heartbeat_response out;
		wire_broker_heartbeat_response_init(&out);
		out.error_code = res->error_code;
		if (res->error_code == WIRE_ERR_NONE) {
			out.is_caught_up = res->is_caught_up;
			out.is_fenced = res->is_fenced;
			out.should_shut_down = res->should_shut_down;
		}
		wire_broker_heartbeat_response_encode(r->resp, v, &out);
	} else if (st->kind == CRPC_UNREGISTER) {
		struct wire_unregister_broker_response out;
		wire_unregister_broker_response_init(&out);
		out.error_code = res->error_code;
		if (res->error_code != WIRE_ERR_NONE && res->message[0] != '\0')
			out.error_message = wire_str_c(sl_arena_strndup(
			        r->frame->arena, res->message, strnlen(res->message, 256)));
		wire_unregister_broker_response_encode(r->resp, v, &out);
	} else {
		struct wire_controller_registration_response out;
		wire_controller_registration_response_init(&out);
		out.error_code = res->error_code;
		if (res->error_code != WIRE_ERR_NONE && res->message[0] != '\0')
			out.error_message = wire_str_c(sl_arena_strndup(
			        r->frame->arena, res->message, strnlen(res->message, 256)));
		wire_controller_registration_response_encode(r->resp, v, &out);
	}
	return sl_buf_err(r->resp) == SL_OK ? BRK_RESPOND
	                                    : brk_close(r, "out of memory for a response");
}

static void crpc_done(void *ctx, const struct ctl_broker_result *res)
{
	struct crpc *st = ctx;
	st->res = *res;
	st->finished = true;
	if (st->parked)
		brk_request_finish(st->r, crpc_encode(st));
}

/* After the ctl call: the answer now, or parked until crpc_done. */
static enum brk_outcome crpc_end(struct crpc *st)
{
	if (st->finished)
		return crpc_encode(st);
	st->parked = true;
	return brk_request_park(st->r);
}

/* A new waiting request, or NULL (no memory). No controller here: answered NOT_CONTROLLER;
 * forwarding failed: answered with its error. */
static struct crpc *crpc_new(struct brk_request *r, enum crpc_kind kind)
{
	struct crpc *st = sl_arena_calloc(r->frame->arena, 1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->r = r;
	st->kind = kind;
	if (r->forward_error != 0 || r->brk->opts.ctl == NULL) {
		st->finished = true;
		st->res.error_code =
		        r->forward_error != 0 ? r->forward_error : WIRE_ERR_NOT_CONTROLLER;
	}
	return st;
}

/* Listener endpoints of a request as image endpoints (strings NUL-terminated in request
 * memory). false: no memory or too many. */
static bool crpc_endpoints(struct brk_request *r, size_t n, const struct wire_str *names,
                           const struct wire_str *hosts, const uint16_t *ports,
                           const int16_t *protos, struct meta_endpoint *out)
{
	if (n > CRPC_LISTENERS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char *name =
		        sl_arena_strndup(r->frame->arena, names[i].ptr != NULL ? names[i].ptr : "",
		                         names[i].len > 0 ? (size_t)names[i].len : 0);
		char *host =
		        sl_arena_strndup(r->frame->arena, hosts[i].ptr != NULL ? hosts[i].ptr : "",
		                         hosts[i].len > 0 ? (size_t)hosts[i].len : 0);
		if (name == NULL || host == NULL)
			return false;
		out[i] = (struct meta_endpoint){.name = name,
		                                .host = host,
		                                .port = ports[i],
		                                .security_protocol = protos[i]};
	}
	return true;
}

enum brk_outcome brk_handle_broker_registration(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_broker_registration_request q;
	if (!brk_decode_ok(r, wire_broker_registration_request_decode(&r->body, v, &q),
	                   "BrokerRegistration"))
		return BRK_CLOSE;
	struct crpc *st = crpc_new(r, CRPC_REGISTER);
	size_t nl = q.listeners_count > 0 ? (size_t)q.listeners_count : 0;
	size_t nf = q.features_count > 0 ? (size_t)q.features_count : 0;
	if (st == NULL || nl > CRPC_LISTENERS_MAX || nf > CRPC_FEATURES_MAX)
		return brk_close(r, "BrokerRegistration with %zu listeners and %zu features", nl,
		                 nf);
	if (st->finished)
		return crpc_encode(st);
	struct wire_str names[CRPC_LISTENERS_MAX], hosts[CRPC_LISTENERS_MAX];
	uint16_t ports[CRPC_LISTENERS_MAX];
	int16_t protos[CRPC_LISTENERS_MAX];
	for (size_t i = 0; i < nl; i++) {
		names[i] = q.listeners[i].name;
		hosts[i] = q.listeners[i].host;
		ports[i] = q.listeners[i].port;
		protos[i] = q.listeners[i].security_protocol;
	}
	struct meta_endpoint eps[CRPC_LISTENERS_MAX];
	struct meta_feature_range feats[CRPC_FEATURES_MAX];
	if (!crpc_endpoints(r, nl, names, hosts, ports, protos, eps))
		return brk_close(r, "out of request memory for BrokerRegistration");
	for (size_t i = 0; i < nf; i++) {
		const struct wire_str *n = &q.features[i].name;
		feats[i].name = sl_arena_strndup(r->frame->arena, n->ptr != NULL ? n->ptr : "",
		                                 n->len > 0 ? (size_t)n->len : 0);
		feats[i].min_supported = q.features[i].min_supported_version;
		feats[i].max_supported = q.features[i].max_supported_version;
		if (feats[i].name == NULL)
			return brk_close(r, "out of request memory for BrokerRegistration");
	}
	struct meta_broker_reg reg = {
	        .broker_id = q.broker_id,
	        .incarnation_id = q.incarnation_id,
	        .endpoint_count = nl,
	        .endpoints = eps,
	        .feature_count = nf,
	        .features = feats,
	        .rack = q.rack.len >= 0 ? sl_arena_strndup(r->frame->arena,
	                                                   q.rack.ptr != NULL ? q.rack.ptr : "",
	                                                   (size_t)q.rack.len)
	                                : NULL,
	        .previous_broker_epoch = q.previous_broker_epoch,
	};
	const char *cid = q.cluster_id.ptr != NULL ? q.cluster_id.ptr : "";
	ctl_register_broker(r->brk->opts.ctl, cid,
	                    q.cluster_id.len > 0 ? (size_t)q.cluster_id.len : 0, &reg, crpc_done,
	                    st);
	return crpc_end(st);
}

enum brk_outcome brk_handle_broker_heartbeat(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_broker_heartbeat_request q;
	if (!brk_decode_ok(r, wire_broker_heartbeat_request_decode(&r->body, v, &q),
	                   "BrokerHeartbeat"))
		return BRK_CLOSE;
	struct crpc *st = crpc_new(r, CRPC_HEARTBEAT);
	if (st == NULL)
		return brk_close(r, "out of request memory for BrokerHeartbeat");
	if (st->finished)
		return crpc_encode(st);
	struct ctl_heartbeat hb = {.broker_id = q.broker_id,
	                           .broker_epoch = q.broker_epoch,
	                           .metadata_offset = q.current_metadata_offset,
	                           .want_fence = q.want_fence,
	                           .want_shut_down = q.want_shut_down};
	ctl_broker_heartbeat(r->brk->opts.ctl, &hb, crpc_done, st);
	return crpc_end(st);
}

enum brk_outcome brk_handle_controller_registration(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_controller_registration_request q;
	if (!brk_decode_ok(r, wire_controller_registration_request_decode(&r->body, v, &q),
	                   "ControllerRegistration"))
		return BRK_CLOSE;
	struct crpc *st = crpc_new(r, CRPC_CONTROLLER);
	size_t nl = q.listeners_count > 0 ? (size_t)q.listeners_count : 0;
	if (st == NULL || nl > CRPC_LISTENERS_MAX)
		return brk_close(r, "ControllerRegistration with %zu listeners", nl);
	if (st->finished)
		return crpc_encode(st);
	struct wire_str names[CRPC_LISTENERS_MAX], hosts[CRPC_LISTENERS_MAX];
	uint16_t ports[CRPC_LISTENERS_MAX];
	int16_t protos[CRPC_LISTENERS_MAX];
	for (size_t i = 0; i < nl; i++) {
		names[i] = q.listeners[i].name;
		hosts[i] = q.listeners[i].host;
		ports[i] = q.listeners[i].port;
		protos[i] = q.listeners[i].security_protocol;
	}
	struct meta_endpoint eps[CRPC_LISTENERS_MAX];
	if (!crpc_endpoints(r, nl, names, hosts, ports, protos, eps))
		return brk_close(r, "out of request memory for ControllerRegistration");
	struct meta_controller_reg reg = {.controller_id = q.controller_id,
	                                  .incarnation_id = q.incarnation_id,
	                                  .endpoint_count = nl,
	                                  .endpoints = eps};
	ctl_register_controller(r->brk->opts.ctl, &reg, crpc_done, st);
	return crpc_end(st);
}

enum brk_outcome brk_handle_unregister_broker(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_unregister_broker_request q;
	if (!brk_decode_ok(r, wire_unregister_broker_request_decode(&r->body, v, &q),
	                   "UnregisterBroker"))
		return BRK_CLOSE;
	if (!r->frame->is_controller_listener && brk_should_forward(r))
		return brk_forward(r);
	struct crpc *st = crpc_new(r, CRPC_UNREGISTER);
	if (st == NULL)
		return brk_close(r, "out of request memory for UnregisterBroker");
	if (st->finished)
		return crpc_encode(st);
	ctl_unregister_broker(r->brk->opts.ctl, q.broker_id, crpc_done, st);
	return crpc_end(st);
}
