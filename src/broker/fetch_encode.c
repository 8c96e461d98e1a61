/*
 * fetch_encode.c: the Fetch response (v0-16) written by hand with the wire primitives, so that
 * each partition's `records` are a length prefix in the response buffer followed by a file
 * range of the segment (net_resp_add_file: spliced or sent straight from the page cache). Unit
 * tests have no net request: the bytes are then copied into the buffer with pread. The result
 * is byte-for-byte what wire_fetch_response_encode would write for the same values (tests
 * decode it with wire_fetch_response_decode).
 *
 * Layout (Fetch v12+ is flexible: compact lengths and tagged-field sections):
 *   [throttle_time_ms v1+] [error_code session_id v7+] responses[
 *     topic (v0-12) | topic_id (v13+), partitions[ partition_index error_code high_watermark
 *       [last_stable_offset v4+] [log_start_offset v5+] [aborted_transactions v4+]
 *       [preferred_read_replica v11+] records {tags} ] {tags} ] {tags}
 * Tagged fields: current_leader (tag 1) on a partition answered NOT_LEADER_OR_FOLLOWER or
 * FENCED_LEADER_EPOCH whose image leader is known (KIP-951, as Kafka's ReplicaManager), and from
 * v16 node_endpoints (tag 0 of the response) with each such leader's endpoint on the request's
 * listener when it is alive. diverging_epoch and snapshot_id stay defaults (no replication).
 */
#include "fetch_int.h"

#include <string.h>
#include <unistd.h>

/* Incremental sessions: only partitions with news (Kafka's CachedPartition
 * maybeUpdateResponseData); a full or sessionless fetch returns all. */
static bool part_included(const struct fetch_ctx *ctx, const struct fetch_part *fp,
                          const struct fetch_session_part *sp)
{
	if (!ctx->incremental || sp == NULL)
		return true;
	return fp->range.len > 0 || fp->result_error != WIRE_ERR_NONE ||
	       fp->high_watermark != sp->last_high_watermark ||
	       fp->log_start_offset != sp->last_log_start_offset;
}

static bool same_topic(const struct fetch_ctx *ctx, const struct fetch_part *a,
                       const struct fetch_part *b)
{
	if (ctx->version >= 13)
		return sl_uuid_eq(&a->topic_id, &b->topic_id);
	return a->topic.len == b->topic.len &&
	       (a->topic.len <= 0 || memcmp(a->topic.ptr, b->topic.ptr, (size_t)a->topic.len) == 0);
}

/* Marks the included partitions and updates their session entries; returns the number of
 * topic groups (consecutive included partitions of one topic, as Kafka's toMessage). */
static int32_t select_parts(struct fetch_ctx *ctx)
{
	int32_t groups = 0;
	const struct fetch_part *last = NULL;
	for (size_t i = 0; i < ctx->part_count; i++) {
		struct fetch_part *fp = &ctx->parts[i];
		struct fetch_session_part *sp = fetch_session_entry(ctx, fp);
		fp->include = part_included(ctx, fp, sp);
		if (!fp->include)
			continue;
		if (sp != NULL) {
			sp->last_high_watermark = fp->high_watermark;
			sp->last_log_start_offset = fp->log_start_offset;
		}
		if (last == NULL || !same_topic(ctx, last, fp))
			groups++;
		last = fp;
	}
	return groups;
}

static void put_records_len(struct sl_buf *b, bool flex, uint64_t len)
{
	if (flex)
		sl_buf_put_uvarint(b, len + 1);
	else
		wire_put_i32(b, (int32_t)len);
}

/* The records field: the prefix, then the bytes (a file range, or a copy). If the bytes cannot
 * be added the field becomes empty records. */
static void put_records(struct fetch_ctx *ctx, const struct stor_file_range *range, bool flex)
{
	struct sl_buf *b = ctx->r->resp;
	size_t at = b->len;
	SL_ASSERT(range->len <= INT32_MAX);
	put_records_len(b, flex, range->len);
	if (range->len == 0 || b->failed)
		return;
	struct net_request *nr = ctx->r->frame->net_req;
	if (nr != NULL) {
		SL_ASSERT(nr->resp == b);
		if (net_resp_add_file(nr, range->fd, range->position, (size_t)range->len) == SL_OK)
			return;
	} else {
		uint8_t *dst = sl_buf_extend(b, (size_t)range->len);
		if (dst != NULL && pread(range->fd, dst, (size_t)range->len,
		                         (off_t)range->position) == (ssize_t)range->len)
			return;
	}
	SL_WARN(ctx->r->frame->log_ctx,
	        "fetch: could not add %llu record bytes to the response; sent empty records",
	        (unsigned long long)range->len);
	b->len = at;
	put_records_len(b, flex, 0);
}

/* The image's partition of fp when its answer redirects the client (KIP-951), else NULL. */
static const struct meta_partition *part_redirect(const struct fetch_ctx *ctx,
                                                  const struct fetch_part *fp)
{
	if (ctx->version < 12 || (fp->result_error != WIRE_ERR_NOT_LEADER_OR_FOLLOWER &&
	                          fp->result_error != WIRE_ERR_FENCED_LEADER_EPOCH))
		return NULL;
	const struct meta_partition *mp =
	        ctx->version >= 13 ? brk_image_partition_by_id(ctx->b, fp->topic_id, fp->partition)
	                           : brk_image_partition(ctx->b, fp->topic, fp->partition);
	return mp != NULL && mp->leader >= 0 ? mp : NULL;
}

/* The partition's tagged fields: current_leader (tag 1) when redirecting. */
static void put_partition_tags(struct fetch_ctx *ctx, const struct fetch_part *fp)
{
	struct sl_buf *b = ctx->r->resp;
	const struct meta_partition *mp = part_redirect(ctx, fp);
	if (mp == NULL) {
		sl_buf_put_uvarint(b, 0);
		return;
	}
	sl_buf_put_uvarint(b, 1);
	size_t at = wire_tag_begin(b, 1);
	wire_put_i32(b, mp->leader);
	wire_put_i32(b, mp->leader_epoch);
	sl_buf_put_uvarint(b, 0); /* LeaderIdAndEpoch's own tagged fields */
	wire_tag_end(b, at);
}

static void put_partition(struct fetch_ctx *ctx, const struct fetch_part *fp)
{
	struct sl_buf *b = ctx->r->resp;
	int16_t v = ctx->version;
	bool flex = v >= 12;
	wire_put_i32(b, fp->partition);
	wire_put_i16(b, fp->result_error);
	wire_put_i64(b, fp->high_watermark);
	if (v >= 4) /* no transactions: the last stable offset is the high watermark */
		wire_put_i64(b, fp->high_watermark >= 0 ? fp->high_watermark : -1);
	if (v >= 5)
		wire_put_i64(b, fp->log_start_offset);
	if (v >= 4) /* READ_COMMITTED: empty list; READ_UNCOMMITTED: null (as Kafka) */
		wire_put_array_len(b, flex, true, ctx->isolation_level == 1 ? 0 : -1);
	if (v >= 11)
		wire_put_i32(b, -1); /* preferred_read_replica */
	static const struct stor_file_range none = {.fd = -1};
	put_records(ctx, fp->result_error == WIRE_ERR_NONE ? &fp->range : &none, flex);
	if (flex)
		put_partition_tags(ctx, fp);
}

/* v16+ node_endpoints: the alive endpoint of every leader named in a current_leader, once each,
 * as tag 0 of the response's tagged fields (which this writes, count included). */
static void put_response_tags(struct fetch_ctx *ctx)
{
	struct sl_buf *b = ctx->r->resp;
	struct brk *brk = ctx->b;
	size_t nb =
	        ctx->version >= 16 && brk->image != NULL ? meta_image_broker_count(brk->image) : 0;
	int32_t *ids = nb > 0 ? sl_arena_calloc(ctx->r->frame->arena, nb, sizeof(*ids)) : NULL;
	size_t n = 0;
	const char *listener = brk_listener_effective(brk, ctx->r->frame->listener);
	for (size_t i = 0; ids != NULL && i < ctx->part_count; i++) {
		const struct fetch_part *fp = &ctx->parts[i];
		const struct meta_partition *mp = fp->include ? part_redirect(ctx, fp) : NULL;
		if (mp == NULL || brk_alive_endpoint(brk, mp->leader, listener, NULL) == NULL)
			continue;
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = ids[k] == mp->leader;
		if (!seen && n < nb)
			ids[n++] = mp->leader;
	}
	if (n == 0) {
		sl_buf_put_uvarint(b, 0);
		return;
	}
	sl_buf_put_uvarint(b, 1);
	size_t at = wire_tag_begin(b, 0);
	wire_put_array_len(b, true, false, (int32_t)n);
	for (size_t k = 0; k < n; k++) {
		const struct meta_broker *br = meta_image_broker(brk->image, ids[k]);
		const struct meta_endpoint *ep = brk_broker_endpoint(br, listener);
		wire_put_i32(b, ids[k]);
		wire_put_string(b, true, false, wire_str_c(ep->host));
		wire_put_i32(b, ep->port);
		wire_put_string(b, true, true, wire_str_c(br->rack));
		sl_buf_put_uvarint(b, 0);
	}
	wire_tag_end(b, at);
}

static void put_topic_head(struct fetch_ctx *ctx, size_t first, int32_t count)
{
	struct sl_buf *b = ctx->r->resp;
	bool flex = ctx->version >= 12;
	const struct fetch_part *fp = &ctx->parts[first];
	if (ctx->version >= 13)
		wire_put_uuid(b, fp->topic_id);
	else
		wire_put_string(b, flex, false, fp->topic);
	wire_put_array_len(b, flex, false, count);
}

void fetch_encode(struct fetch_ctx *ctx)
{
	struct sl_buf *b = ctx->r->resp;
	int16_t v = ctx->version;
	bool flex = v >= 12;
	int32_t groups = ctx->error_code == WIRE_ERR_NONE ? select_parts(ctx) : 0;
	if (v >= 1)
		wire_put_i32(b, 0); /* throttle_time_ms */
	if (v >= 7) {
		wire_put_i16(b, ctx->error_code);
		wire_put_i32(b, ctx->error_code == WIRE_ERR_NONE ? ctx->session_id : 0);
	}
	wire_put_array_len(b, flex, false, groups);
	size_t i = 0;
	while (groups > 0 && i < ctx->part_count) {
		if (!ctx->parts[i].include) {
			i++;
			continue;
		}
		/* The group: included partitions of one topic from i on (skipping excluded). */
		int32_t count = 0;
		size_t end = i;
		for (size_t k = i; k < ctx->part_count; k++) {
			if (!ctx->parts[k].include)
				continue;
			if (!same_topic(ctx, &ctx->parts[i], &ctx->parts[k]))
				break;
			count++;
			end = k + 1;
		}
		put_topic_head(ctx, i, count);
		for (size_t k = i; k < end; k++) {
			if (ctx->parts[k].include)
				put_partition(ctx, &ctx->parts[k]);
		}
		if (flex)
			sl_buf_put_uvarint(b, 0);
		groups--;
		i = end;
	}
	SL_ASSERT(groups == 0);
	if (flex)
		put_response_tags(ctx);
}
