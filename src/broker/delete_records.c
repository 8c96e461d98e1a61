/*
 * delete_records.c: DeleteRecords (key 21), v0-v2 (Kafka's ReplicaManager.deleteRecords).
 *
 * Per partition: unknown -> UNKNOWN_TOPIC_OR_PARTITION; not led by this broker ->
 * NOT_LEADER_OR_FOLLOWER; log missing/offline ->
 * KAFKA_STORAGE_ERROR; a topic whose cleanup.policy does not include "delete" ->
 * POLICY_VIOLATION; offset -1 means the high watermark; an offset < -1 or beyond the high
 * watermark -> OFFSET_OUT_OF_RANGE. Otherwise the log start offset moves up to the offset
 * (never down: an offset at or below it changes nothing) and low_watermark is the new log start
 * offset. Segments wholly below it go at the next retention pass. Single node: no follower to
 * wait for, so timeout_ms is not used and the answer is immediate.
 */
#include "brk_data.h"

#include <string.h>

static bool topic_deletable(const struct brk *b, const char *topic)
{
	if (b->image == NULL)
		return true;
	const struct meta_topic *t = meta_image_topic(b->image, topic, strlen(topic));
	const char *policy = t != NULL ? meta_topic_config(t, "cleanup.policy") : NULL;
	return policy == NULL || strstr(policy, "delete") != NULL;
}

static void partition_answer(struct brk_request *r, struct wire_str topic,
                             const struct wire_delete_records_request_partition *in,
                             struct wire_delete_records_response_partition_result *out)
{
	wire_delete_records_response_partition_result_init(out);
	out->partition_index = in->partition_index;
	out->low_watermark = -1;
	struct brk_partition *p =
	        brk_partition_lookup(r->brk, topic, in->partition_index, -1, &out->error_code);
	if (p == NULL)
		return;
	if (!topic_deletable(r->brk, p->topic)) {
		out->error_code = WIRE_ERR_POLICY_VIOLATION;
		return;
	}
	int64_t offset = in->offset == -1 ? p->high_watermark : in->offset;
	if (offset < 0 || offset > p->high_watermark) {
		out->error_code = WIRE_ERR_OFFSET_OUT_OF_RANGE;
		return;
	}
	struct stor_log_state st;
	stor_log_get_state(p->log, &st);
	if (offset > st.log_start_offset) {
		enum sl_err e = stor_log_advance_start_offset(p->log, offset);
		if (e != SL_OK) {
			out->error_code = e == SL_EINVAL ? WIRE_ERR_OFFSET_OUT_OF_RANGE
			                                 : WIRE_ERR_KAFKA_STORAGE_ERROR;
			return;
		}
		stor_log_get_state(p->log, &st);
	}
	out->low_watermark = st.log_start_offset;
}

enum brk_outcome brk_handle_delete_records(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_delete_records_request req;
	if (!brk_decode_ok(r, wire_delete_records_request_decode(&r->body, v, &req),
	                   "DeleteRecords"))
		return BRK_CLOSE;
	struct wire_delete_records_response resp;
	wire_delete_records_response_init(&resp);
	resp.throttle_time_ms = 0;
	resp.topics = brk_resp_array(r, req.topics_count, sizeof(*resp.topics), &resp.topics_count);
	if (resp.topics == NULL)
		return brk_close(r, "out of request memory (DeleteRecords v%d)", v);
	for (int32_t t = 0; t < resp.topics_count; t++) {
		const struct wire_delete_records_request_topic *in = &req.topics[t];
		struct wire_delete_records_response_topic_result *out = &resp.topics[t];
		wire_delete_records_response_topic_result_init(out);
		out->name = in->name;
		out->partitions = brk_resp_array(r, in->partitions_count, sizeof(*out->partitions),
		                                 &out->partitions_count);
		if (out->partitions == NULL)
			return brk_close(r, "out of request memory (DeleteRecords v%d)", v);
		for (int32_t i = 0; i < out->partitions_count; i++)
			partition_answer(r, in->name, &in->partitions[i], &out->partitions[i]);
	}
	wire_delete_records_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}
