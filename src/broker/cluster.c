/*
 * cluster.c: DescribeCluster (key 60), v0-1 (KIP-700; endpoint_type v1, KIP-919).
 *
 * A cluster of one node: cluster id from the formatted dirs, controller id = this node (the
 * combined-mode controller runs here), brokers = this node at its advertised host/port, rack
 * null. Served on broker listeners only, so endpoint_type 2 (controllers) gets
 * MISMATCHED_ENDPOINT_TYPE and any other type but 1 UNSUPPORTED_ENDPOINT_TYPE, as Kafka's
 * broker answers. cluster_authorized_operations: every cluster operation when requested (no
 * authorizer), else INT32_MIN.
 */
#include "brk_int.h"

/* DescribeCluster endpoint types. */
#define BRK_ENDPOINT_BROKERS 1
#define BRK_ENDPOINT_CONTROLLERS 2

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
	struct wire_describe_cluster_response_broker broker;
	wire_describe_cluster_response_broker_init(&broker);
	broker.broker_id = b->node_id;
	broker.host = wire_str_c(b->advertised_host);
	broker.port = b->advertised_port;
	broker.rack = wire_str_c(NULL);

	struct wire_describe_cluster_response resp;
	wire_describe_cluster_response_init(&resp);
	resp.endpoint_type = req.endpoint_type;
	resp.cluster_id = wire_str_c(b->cluster_id);
	resp.controller_id = b->node_id;
	resp.cluster_authorized_operations = req.include_cluster_authorized_operations
	                                             ? brk_cluster_operations_all()
	                                             : BRK_AUTHORIZED_OPS_OMITTED;
	resp.brokers_count = 1;
	resp.brokers = &broker;
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
	}
	wire_describe_cluster_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}
