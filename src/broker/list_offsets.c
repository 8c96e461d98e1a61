/*
 * list_offsets.c: ListOffsets (key 2), v0-v9 (Kafka's Partition.fetchOffsetForTimestamp).
 *
 * Per partition: unknown -> UNKNOWN_TOPIC_OR_PARTITION; not hosted here -> NOT_LEADER_OR_FOLLOWER;
 * v4+ current_leader_epoch older than the partition's -> FENCED_LEADER_EPOCH, newer ->
 * UNKNOWN_LEADER_EPOCH; not the leader -> NOT_LEADER_OR_FOLLOWER (also for replica_id -2, which
 * Kafka lets read a follower: no follower has data yet); log missing/offline ->
 * KAFKA_STORAGE_ERROR. Timestamps:
 *   -2 earliest, -4 earliest local (v8+; no tiered storage: the same)  -> log start offset;
 *   -1 latest -> the high watermark (both isolation levels: there are no transactions, so the
 *      last stable offset is the high watermark);
 *   -3 max timestamp (v7+) -> offset and timestamp of the first record carrying the largest
 *      timestamp below the high watermark (a scan of the batch headers: admin path, blocking);
 *   -5 latest tiered (v9+; no tiered storage) -> offset -1;
 *   >= 0 -> the first offset whose record timestamp >= ts (stor_log_find_timestamp), if it is
 *      below the high watermark; else offset -1, timestamp -1 (Kafka filters the same way).
 * The reply's timestamp is -1 except for -3 and lookups by time, where it is the timestamp of
 * the record found (read back from the log, as Kafka does).
 * leader_epoch (v4+) is the partition's current epoch (from the image).
 * v0 answers old_style_offsets = [offset] (empty when none).
 */
#include "brk_data.h"

#include <unistd.h>

#define LO_EARLIEST (-2)
#define LO_LATEST (-1)
#define LO_MAX_TIMESTAMP (-3)
#define LO_EARLIEST_LOCAL (-4)
#define LO_LATEST_TIERED (-5)
#define LO_BATCH_MAX ((size_t)128 << 20)

struct lo_hit {
	int64_t offset;
	int64_t timestamp;
};

/* Reads the whole batch at range into scratch 0 and opens its records (scratch 1). */
static enum sl_err batch_load(struct brk *b, const struct stor_file_range *range,
                              struct stor_batch_view *v, struct stor_record_iter *it)
{
	if (range->len > LO_BATCH_MAX)
		return SL_ETOOBIG;
	struct sl_buf *raw = brk_scratch(b, 0);
	sl_buf_reset(raw);
	uint8_t *p = sl_buf_extend(raw, (size_t)range->len);
	if (p == NULL)
		return SL_ENOMEM;
	if (pread(range->fd, p, (size_t)range->len, (off_t)range->position) != (ssize_t)range->len)
		return SL_EIO;
	size_t consumed;
	enum sl_err e = stor_batch_parse_header(p, (size_t)range->len, v, &consumed);
	if (e != SL_OK)
		return e;
	return stor_batch_records_open(v, brk_scratch(b, 1), LO_BATCH_MAX, it);
}

/* The first record of the batch at range whose timestamp satisfies want (== ts when exact,
 * else >= ts). */
static enum sl_err batch_find(struct brk *b, const struct stor_file_range *range, int64_t ts,
                              bool exact, struct lo_hit *out)
{
	struct stor_batch_view v;
	struct stor_record_iter it;
	enum sl_err e = batch_load(b, range, &v, &it);
	if (e != SL_OK)
		return e;
	if ((v.h.attributes & STOR_BATCH_ATTR_LOG_APPEND_TIME) != 0) {
		out->offset = v.h.base_offset;
		out->timestamp = v.h.max_timestamp;
		return SL_OK;
	}
	struct stor_record rec;
	while ((e = stor_record_next(&it, &rec)) == SL_OK) {
		int64_t t = v.h.base_timestamp + rec.timestamp_delta;
		if (exact ? t == ts : t >= ts) {
			out->offset = v.h.base_offset + rec.offset_delta;
			out->timestamp = t;
			return SL_OK;
		}
	}
	return e == SL_ENOENT ? SL_ENOENT : e;
}

/* One batch header at offset: its range and header. */
static enum sl_err header_at(struct stor_log *log, int64_t offset, int64_t hw,
                             struct stor_read_result *rr, struct stor_batch_header *h)
{
	enum sl_err e = stor_log_read(log, offset, 0, hw, rr);
	if (e != SL_OK)
		return e;
	if (rr->range.len < STOR_BATCH_HEADER_BYTES)
		return SL_ENOENT;
	uint8_t hdr[STOR_BATCH_HEADER_BYTES];
	if (pread(rr->range.fd, hdr, sizeof(hdr), (off_t)rr->range.position) !=
	    (ssize_t)sizeof(hdr))
		return SL_EIO;
	h->base_offset = (int64_t)sl_load_be64(hdr);
	h->attributes = (int16_t)sl_load_be16(hdr + STOR_BATCH_ATTRIBUTES_OFFSET);
	h->last_offset_delta = (int32_t)sl_load_be32(hdr + 23);
	h->max_timestamp = (int64_t)sl_load_be64(hdr + 35);
	return SL_OK;
}

/* -3: the first record with the largest timestamp below the high watermark. */
static enum sl_err find_max_timestamp(struct brk *b, struct brk_partition *p, struct lo_hit *out)
{
	struct stor_log_state st;
	stor_log_get_state(p->log, &st);
	int64_t hw = p->high_watermark;
	int64_t best_ts = -1;
	struct stor_file_range best = {.fd = -1};
	for (int64_t off = st.log_start_offset; off < hw;) {
		struct stor_read_result rr;
		struct stor_batch_header h;
		enum sl_err e = header_at(p->log, off, hw, &rr, &h);
		if (e == SL_ENOENT)
			break;
		if (e != SL_OK)
			return e;
		if (h.max_timestamp > best_ts) {
			best_ts = h.max_timestamp;
			best = rr.range; /* max_bytes 0: exactly this batch */
		}
		int64_t next = h.base_offset + h.last_offset_delta + 1;
		if (next <= off)
			break; /* no progress: never loop on a bad header */
		off = next;
	}
	if (best.fd < 0) {
		out->offset = -1;
		out->timestamp = -1;
		return SL_OK;
	}
	return batch_find(b, &best, best_ts, true, out);
}

/* A lookup by time (ts >= 0): the record, or offset -1. */
static enum sl_err find_by_time(struct brk *b, struct brk_partition *p, int64_t ts,
                                struct lo_hit *out)
{
	out->offset = -1;
	out->timestamp = -1;
	int64_t off;
	bool found;
	enum sl_err e = stor_log_find_timestamp(p->log, ts, &off, &found);
	if (e != SL_OK || !found || off >= p->high_watermark)
		return e;
	struct stor_read_result rr;
	struct stor_batch_header h;
	e = header_at(p->log, off, p->high_watermark, &rr, &h);
	if (e != SL_OK)
		return e == SL_ENOENT ? SL_OK : e;
	struct lo_hit hit;
	e = batch_find(b, &rr.range, ts, false, &hit);
	if (e == SL_ENOENT) {
		hit.offset = off; /* the record could not be read back: offset only */
		hit.timestamp = -1;
		e = SL_OK;
	}
	if (e == SL_OK && hit.offset < p->high_watermark)
		*out = hit;
	return e;
}

static int16_t lookup(struct brk *b, struct brk_partition *p, int16_t v, int64_t ts,
                      struct lo_hit *out)
{
	out->offset = -1;
	out->timestamp = -1;
	struct stor_log_state st;
	stor_log_get_state(p->log, &st);
	enum sl_err e = SL_OK;
	if (ts == LO_EARLIEST || (ts == LO_EARLIEST_LOCAL && v >= 8))
		out->offset = st.log_start_offset;
	else if (ts == LO_LATEST)
		out->offset = p->high_watermark;
	else if (ts == LO_MAX_TIMESTAMP && v >= 7)
		e = find_max_timestamp(b, p, out);
	else if (ts == LO_LATEST_TIERED && v >= 9)
		return WIRE_ERR_NONE;
	else if (ts >= 0)
		e = find_by_time(b, p, ts, out);
	else
		return WIRE_ERR_INVALID_REQUEST;
	if (e == SL_EIO)
		return WIRE_ERR_KAFKA_STORAGE_ERROR;
	if (e != SL_OK) {
		SL_WARN("broker", "ListOffsets on %s-%d (timestamp %lld): %s", p->topic,
		        (int)p->partition, (long long)ts, sl_err_name(e));
		return WIRE_ERR_UNKNOWN_SERVER_ERROR;
	}
	return WIRE_ERR_NONE;
}

static void partition_answer(struct brk_request *r, struct wire_str topic,
                             const struct wire_list_offsets_request_partition *in,
                             struct wire_list_offsets_response_partition_response *out)
{
	int16_t v = r->header.api_version;
	wire_list_offsets_response_partition_response_init(out);
	out->partition_index = in->partition_index;
	out->timestamp = -1;
	out->offset = -1;
	out->leader_epoch = -1;
	out->old_style_offsets_count = 0;
	struct brk_partition *p =
	        brk_partition_lookup(r->brk, topic, in->partition_index,
	                             v >= 4 ? in->current_leader_epoch : -1, &out->error_code);
	if (p == NULL)
		return;
	struct lo_hit hit;
	out->error_code = lookup(r->brk, p, v, in->timestamp, &hit);
	if (out->error_code != WIRE_ERR_NONE)
		return;
	out->offset = hit.offset;
	out->timestamp = hit.timestamp;
	if (hit.offset >= 0)
		out->leader_epoch = p->leader_epoch;
	if (v == 0 && hit.offset >= 0 && in->max_num_offsets > 0) {
		int64_t *o = sl_arena_alloc(r->frame->arena, sizeof(*o));
		if (o != NULL) {
			*o = hit.offset;
			out->old_style_offsets = o;
			out->old_style_offsets_count = 1;
		}
	}
}

enum brk_outcome brk_handle_list_offsets(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_list_offsets_request req;
	if (!brk_decode_ok(r, wire_list_offsets_request_decode(&r->body, v, &req), "ListOffsets"))
		return BRK_CLOSE;
	struct wire_list_offsets_response resp;
	wire_list_offsets_response_init(&resp);
	resp.throttle_time_ms = 0;
	resp.topics = brk_resp_array(r, req.topics_count, sizeof(*resp.topics), &resp.topics_count);
	if (resp.topics == NULL)
		return brk_close(r, "out of request memory (ListOffsets v%d)", v);
	for (int32_t t = 0; t < resp.topics_count; t++) {
		const struct wire_list_offsets_request_topic *in = &req.topics[t];
		struct wire_list_offsets_response_topic_response *out = &resp.topics[t];
		wire_list_offsets_response_topic_response_init(out);
		out->name = in->name;
		out->partitions = brk_resp_array(r, in->partitions_count, sizeof(*out->partitions),
		                                 &out->partitions_count);
		if (out->partitions == NULL)
			return brk_close(r, "out of request memory (ListOffsets v%d)", v);
		for (int32_t i = 0; i < out->partitions_count; i++)
			partition_answer(r, in->name, &in->partitions[i], &out->partitions[i]);
	}
	wire_list_offsets_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}
