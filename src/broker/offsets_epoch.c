/*
 * offsets_epoch.c: OffsetForLeaderEpoch (key 23), v0-v4 (KIP-101/-279/-320; Kafka's
 * Partition.lastOffsetForLeaderEpoch).
 *
 * Per partition: unknown -> UNKNOWN_TOPIC_OR_PARTITION; not hosted here -> NOT_LEADER_OR_FOLLOWER;
 * v2+ current_leader_epoch older than the partition's -> FENCED_LEADER_EPOCH, newer ->
 * UNKNOWN_LEADER_EPOCH; not the leader -> NOT_LEADER_OR_FOLLOWER; log missing/offline ->
 * KAFKA_STORAGE_ERROR; otherwise the log's epoch cache answers (stor_log_end_offset_for_epoch):
 * the largest epoch <= the requested one and its end offset (the log end for the latest
 * epoch), or (-1, -1) when the log knows no such epoch. leader_epoch is in the reply from v1.
 *
 * The current leader epoch before its first append: Kafka's makeLeader writes (epoch, log end)
 * into the cache on promotion; our log learns an epoch only from an append (storage has no
 * call to assign one). So when the log knows nothing at or above the requested epoch and that
 * epoch is the partition's current one, the answer is (epoch, log end), as Kafka's; the
 * epoch's start offset is then the log end, since nothing was appended in it yet.
 */
#include "brk_data.h"

static void
partition_answer(struct brk_request *r, struct wire_str topic,
                 const struct wire_offset_for_leader_epoch_request_offset_for_leader_partition *in,
                 struct wire_offset_for_leader_epoch_response_epoch_end_offset *out)
{
	int16_t v = r->header.api_version;
	wire_offset_for_leader_epoch_response_epoch_end_offset_init(out);
	out->partition = in->partition;
	out->leader_epoch = -1;
	out->end_offset = -1;
	struct brk_partition *p =
	        brk_partition_lookup(r->brk, topic, in->partition,
	                             v >= 2 ? in->current_leader_epoch : -1, &out->error_code);
	if (p == NULL)
		return;
	stor_log_end_offset_for_epoch(p->log, in->leader_epoch, &out->leader_epoch,
	                              &out->end_offset);
	if (out->end_offset < 0 && in->leader_epoch >= 0 && in->leader_epoch == p->leader_epoch) {
		struct stor_log_state st;
		stor_log_get_state(p->log, &st);
		out->leader_epoch = p->leader_epoch;
		out->end_offset = st.end_offset;
	}
}

enum brk_outcome brk_handle_offset_for_leader_epoch(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_offset_for_leader_epoch_request req;
	if (!brk_decode_ok(r, wire_offset_for_leader_epoch_request_decode(&r->body, v, &req),
	                   "OffsetForLeaderEpoch"))
		return BRK_CLOSE;
	struct wire_offset_for_leader_epoch_response resp;
	wire_offset_for_leader_epoch_response_init(&resp);
	resp.throttle_time_ms = 0;
	resp.topics = brk_resp_array(r, req.topics_count, sizeof(*resp.topics), &resp.topics_count);
	if (resp.topics == NULL)
		return brk_close(r, "out of request memory (OffsetForLeaderEpoch v%d)", v);
	for (int32_t t = 0; t < resp.topics_count; t++) {
		const struct wire_offset_for_leader_epoch_request_offset_for_leader_topic *in =
		        &req.topics[t];
		struct wire_offset_for_leader_epoch_response_offset_for_leader_topic_result *out =
		        &resp.topics[t];
		wire_offset_for_leader_epoch_response_offset_for_leader_topic_result_init(out);
		out->topic = in->topic;
		out->partitions = brk_resp_array(r, in->partitions_count, sizeof(*out->partitions),
		                                 &out->partitions_count);
		if (out->partitions == NULL)
			return brk_close(r, "out of request memory (OffsetForLeaderEpoch v%d)", v);
		for (int32_t i = 0; i < out->partitions_count; i++)
			partition_answer(r, in->topic, &in->partitions[i], &out->partitions[i]);
	}
	wire_offset_for_leader_epoch_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}
