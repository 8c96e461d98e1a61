/*
 * cluster.c: the cluster as clients see it (registered brokers of the committed image, Kafka's
 * KRaftMetadataCache) and DescribeCluster (key 60), v0-1 (KIP-700; endpoint_type v1, KIP-919).
 *
 * Alive broker = registered (RegisterBrokerRecord) and not fenced. A client is told about each
 * alive broker's endpoint of the listener its request arrived on; brokers without that
 * listener are left out (brk_listener_effective picks the name, see brk_int.h). Before any
 * broker has registered the list is empty, as Kafka's.
 *
 * DescribeCluster: cluster id from the formatted dirs, controller id = brk_client_controller_id,
 * brokers = the alive ones with host, port and rack. Served on broker listeners only, so
 * endpoint_type 2 (controllers) gets MISMATCHED_ENDPOINT_TYPE and any other type but 1
 * UNSUPPORTED_ENDPOINT_TYPE, as Kafka's broker answers. cluster_authorized_operations: every
 * cluster operation when requested (no authorizer), else INT32_MIN.
 */
#include "brk_int.h"

#include <string.h>

/* DescribeCluster endpoint types. */
#define BRK_ENDPOINT_BROKERS 1
#define BRK_ENDPOINT_CONTROLLERS 2

const struct meta_endpoint *brk_broker_endpoint(const struct meta_broker *br, const char *name)
{
	if (br->endpoint_count == 0)
		return NULL;
	if (name == NULL)
		return &br->endpoints[0];
	for (size_t i = 0; i < br->endpoint_count; i++) {
		if (br->endpoints[i].name != NULL && strcmp(br->endpoints[i].name, name) == 0)
			return &br->endpoints[i];
	}
	return NULL;
}

const char *brk_listener_effective(const struct brk *b, const char *listener)
{
	if (listener == NULL || b->image == NULL)
		return NULL;
	const struct meta_broker *self = meta_image_broker(b->image, b->node_id);
	if (self != NULL) {
		if (brk_broker_endpoint(self, listener) != NULL)
			return listener;
		return self->endpoint_count > 0 ? self->endpoints[0].name : NULL;
	}
	size_t n = meta_image_broker_count(b->image);
	for (size_t i = 0; i < n; i++) {
		if (brk_broker_endpoint(meta_image_broker_at(b->image, i), listener) != NULL)
			return listener;
	}
	return NULL;
}

const struct meta_endpoint *brk_alive_endpoint(const struct brk *b, int32_t broker_id,
                                               const char *listener, bool *registered)
{
	const struct meta_broker *br =
	        b->image != NULL && broker_id >= 0 ? meta_image_broker(b->image, broker_id) : NULL;
	if (registered != NULL)
		*registered = br != NULL;
	if (br == NULL || br->fenced)
		return NULL;
	return brk_broker_endpoint(br, listener);
}

struct brk_live_broker *brk_live_brokers(const struct brk *b, const char *listener,
                                         struct sl_arena *arena, size_t *count)
{
	size_t n = b->image != NULL ? meta_image_broker_count(b->image) : 0;
	struct brk_live_broker *out = sl_arena_calloc(arena, n + 1, sizeof(*out));
	*count = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct meta_broker *br = meta_image_broker_at(b->image, i);
		const struct meta_endpoint *ep =
		        br->fenced ? NULL : brk_broker_endpoint(br, listener);
		if (ep != NULL)
			out[(*count)++] = (struct brk_live_broker){.broker = br, .endpoint = ep};
	}
	return out;
}

int32_t brk_client_controller_id(const struct brk *b)
{
	if (b->image == NULL)
		return -1;
	const struct meta_broker *self = meta_image_broker(b->image, b->node_id);
	if (self != NULL && !self->fenced)
		return b->node_id;
	size_t n = meta_image_broker_count(b->image);
	for (size_t i = 0; i < n; i++) {
		const struct meta_broker *br = meta_image_broker_at(b->image, i);
		if (!br->fenced)
			return br->broker_id; /* ascending: the lowest */
	}
	return -1;
}

/* The brokers of the reply; false when out of memory. */
static bool dc_brokers(struct brk_request *r, struct wire_describe_cluster_response *resp)
{
	struct brk *b = r->brk;
	size_t n;
	const char *listener = brk_listener_effective(b, r->frame->listener);
	struct brk_live_broker *live = brk_live_brokers(b, listener, r->frame->arena, &n);
	struct wire_describe_cluster_response_broker *out =
	        sl_arena_calloc(r->frame->arena, n + 1, sizeof(*out));
	if (live == NULL || out == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		wire_describe_cluster_response_broker_init(&out[i]);
		out[i].broker_id = live[i].broker->broker_id;
		out[i].host = wire_str_c(live[i].endpoint->host);
		out[i].port = live[i].endpoint->port;
		out[i].rack = wire_str_c(live[i].broker->rack);
	}
	resp->brokers_count = (int32_t)n;
	resp->brokers = out;
	return true;
}

enum brk_outcome brk_handle_describe_cluster(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_describe_cluster_request req;
	if (wire_describe_cluster_request_decode(&r->body, v, &req) != SL_OK)
		return brk_close(r, "malformed DescribeCluster v%d request", v);
	if (!wire_reader_done(&r->body))
		return brk_close(r,
		                 "%zu unexpected bytes after the DescribeCluster v%d request body",
		                 wire_reader_left(&r->body), v);
	struct brk *b = r->brk;
	struct wire_describe_cluster_response resp;
	wire_describe_cluster_response_init(&resp);
	resp.endpoint_type = req.endpoint_type;
	resp.cluster_id = wire_str_c(b->cluster_id);
	resp.controller_id = brk_client_controller_id(b);
	resp.cluster_authorized_operations = req.include_cluster_authorized_operations
	                                             ? brk_cluster_operations_all()
	                                             : BRK_AUTHORIZED_OPS_OMITTED;
	if (req.endpoint_type != BRK_ENDPOINT_BROKERS) {
		bool controllers = req.endpoint_type == BRK_ENDPOINT_CONTROLLERS;
		resp.error_code = controllers ? WIRE_ERR_MISMATCHED_ENDPOINT_TYPE
		                              : WIRE_ERR_UNSUPPORTED_ENDPOINT_TYPE;
		resp.error_message = wire_str_c(
		        controllers ? "The request was sent to an endpoint of type BROKER, but we "
		                      "wanted an endpoint of type CONTROLLER"
		                    : "Unsupported endpoint type");
		resp.brokers_count = 0;
		resp.brokers = NULL;
		resp.controller_id = -1;
	} else if (!dc_brokers(r, &resp)) {
		return brk_close(r, "out of request memory (DescribeCluster v%d)", v);
	}
	wire_describe_cluster_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}
