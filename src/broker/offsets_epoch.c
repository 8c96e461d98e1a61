/*
 * offsets_epoch.c: OffsetForLeaderEpoch (key 23), v0-v4 (KIP-101/-279/-320; Kafka's
 * Partition.lastOffsetForLeaderEpoch).
 *
 * Per partition: unknown -> UNKNOWN_TOPIC_OR_PARTITION; v2+ current_leader_epoch older than
 * the partition's -> FENCED_LEADER_EPOCH, newer -> UNKNOWN_LEADER_EPOCH; log missing/offline ->
 * KAFKA_STORAGE_ERROR; otherwise the log's epoch cache answers (stor_log_end_offset_for_epoch):
 * the largest epoch <= the requested one and its end offset (the log end for the latest
 * epoch), or (-1, -1) when the log knows no such epoch. leader_epoch is in the reply from v1.
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
	struct brk_partition *p = brk_partition_get(r->brk, topic, in->partition);
	if (p == NULL || p->deleted) {
		out->error_code = WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	if (v >= 2 && in->current_leader_epoch >= 0 &&
	    in->current_leader_epoch != p->leader_epoch) {
		out->error_code = in->current_leader_epoch < p->leader_epoch
		                          ? WIRE_ERR_FENCED_LEADER_EPOCH
		                          : WIRE_ERR_UNKNOWN_LEADER_EPOCH;
		return;
	}
	out->error_code = brk_partition_log_error(p);
	if (out->error_code != WIRE_ERR_NONE)
		return;
	stor_log_end_offset_for_epoch(p->log, in->leader_epoch, &out->leader_epoch,
	                              &out->end_offset);
}

enum brk_outcome brk_handle_offset_for_leader_epoch(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_offset_for_leader_epoch_request req;
	if (wire_offset_for_leader_epoch_request_decode(&r->body, v, &req) != SL_OK)
		return brk_close(r, "malformed OffsetForLeaderEpoch v%d request", v);
	if (!wire_reader_done(&r->body))
		return brk_close(
		        r, "%zu unexpected bytes after the OffsetForLeaderEpoch v%d request body",
		        wire_reader_left(&r->body), v);
	struct sl_arena *arena = r->frame->arena;
	struct wire_offset_for_leader_epoch_response resp;
	wire_offset_for_leader_epoch_response_init(&resp);
	resp.throttle_time_ms = 0;
	resp.topics_count = req.topics_count > 0 ? req.topics_count : 0;
	if (resp.topics_count > 0) {
		resp.topics =
		        sl_arena_calloc(arena, (size_t)resp.topics_count, sizeof(*resp.topics));
		if (resp.topics == NULL)
			return brk_close(r, "out of request memory (OffsetForLeaderEpoch v%d)", v);
	}
	for (int32_t t = 0; t < resp.topics_count; t++) {
		const struct wire_offset_for_leader_epoch_request_offset_for_leader_topic *in =
		        &req.topics[t];
		struct wire_offset_for_leader_epoch_response_offset_for_leader_topic_result *out =
		        &resp.topics[t];
		wire_offset_for_leader_epoch_response_offset_for_leader_topic_result_init(out);
		out->topic = in->topic;
		out->partitions_count = in->partitions_count > 0 ? in->partitions_count : 0;
		if (out->partitions_count == 0)
			continue;
		out->partitions = sl_arena_calloc(arena, (size_t)out->partitions_count,
		                                  sizeof(*out->partitions));
		if (out->partitions == NULL)
			return brk_close(r, "out of request memory (OffsetForLeaderEpoch v%d)", v);
		for (int32_t i = 0; i < out->partitions_count; i++)
			partition_answer(r, in->topic, &in->partitions[i], &out->partitions[i]);
	}
	wire_offset_for_leader_epoch_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}
