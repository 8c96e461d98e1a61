/*
 * metadata.c: Metadata (key 3), v0-v12, for a cluster of one broker and no topics yet.
 *
 * Brokers: this node only, at its advertised host/port. ClusterId (v2+) from the formatted
 * dirs; ControllerId (v1+) = this node. Topics: an all-topics request (v0: empty array; v1+:
 * null) returns an empty list; each requested name gets INVALID_TOPIC_EXCEPTION if it is not a
 * legal Kafka topic name, else UNKNOWN_TOPIC_OR_PARTITION; a topic asked for by id (v10+, null
 * name) gets UNKNOWN_TOPIC_ID. Authorized operations (v8+): INT32_MIN unless requested; no
 * authorizer exists, so a requested cluster bitfield lists every cluster operation.
 */
#include "brk_int.h"

#define BRK_TOPIC_NAME_MAX 249 /* Kafka's Topic.MAX_NAME_LENGTH */

/* Kafka's Topic.validate: 1-249 chars of [a-zA-Z0-9._-], not "." or "..". */
static bool topic_name_legal(struct wire_str s)
{
	if (s.len <= 0 || s.len > BRK_TOPIC_NAME_MAX)
		return false;
	if (wire_str_eq(s, ".") || wire_str_eq(s, ".."))
		return false;
	for (int32_t i = 0; i < s.len; i++) {
		char ch = s.ptr[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		          (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
		if (!ok)
			return false;
	}
	return true;
}

static void topic_fill(struct wire_metadata_response_topic *t,
                       const struct wire_metadata_request_topic *want)
{
	wire_metadata_response_topic_init(t);
	t->partitions_count = 0;
	t->topic_authorized_operations = BRK_AUTHORIZED_OPS_OMITTED;
	t->name = want->name;
	if (want->name.len < 0) {
		/* Asked for by id (v10+): the name stays null (nullable in v12). */
		t->topic_id = want->topic_id;
		t->error_code = WIRE_ERR_UNKNOWN_TOPIC_ID;
		return;
	}
	t->topic_id = SL_UUID_ZERO;
	t->error_code = (topic_name_legal(want->name) ? WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION
	                                              : WIRE_ERR_INVALID_TOPIC_EXCEPTION);
}

enum brk_outcome brk_handle_metadata(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_metadata_request req;
	if (wire_metadata_request_decode(&r->body, v, &req) != SL_OK)
		return brk_close(r, "malformed Metadata v%d request", v);
	if (!wire_reader_done(&r->body))
		return brk_close(r, "%zu unexpected bytes after the Metadata v%d request body",
		                 wire_reader_left(&r->body), v);
	struct brk *b = r->brk;
	struct wire_metadata_response_broker broker;
	wire_metadata_response_broker_init(&broker);
	broker.node_id = b->node_id;
	broker.host = wire_str_c(b->advertised_host);
	broker.port = b->advertised_port;
	broker.rack = wire_str_c(NULL);

	struct wire_metadata_response resp;
	wire_metadata_response_init(&resp);
	resp.throttle_time_ms = 0;
	resp.brokers_count = 1;
	resp.brokers = &broker;
	resp.cluster_id = wire_str_c(b->cluster_id);
	resp.controller_id = b->node_id;
	resp.cluster_authorized_operations = req.include_cluster_authorized_operations
	                                             ? brk_cluster_operations_all()
	                                             : BRK_AUTHORIZED_OPS_OMITTED;
	resp.topics_count = 0;
	resp.topics = NULL;
	bool all_topics = req.topics_count < 0 || (v == 0 && req.topics_count == 0);
	if (!all_topics && req.topics_count > 0) {
		struct wire_metadata_response_topic *topics =
		        sl_arena_calloc(r->frame->arena, (size_t)req.topics_count, sizeof(*topics));
		if (topics == NULL)
			return brk_close(r, "out of request memory for %d Metadata topics",
			                 req.topics_count);
		for (int32_t i = 0; i < req.topics_count; i++)
			topic_fill(&topics[i], &req.topics[i]);
		resp.topics_count = req.topics_count;
		resp.topics = topics;
	}
	wire_metadata_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}
