/*
 * fetch.c: the Fetch handler (v0-16; Kafka's KafkaApis.handleFetchRequest,
 * ReplicaManager.fetchMessages and DelayedFetch).
 *
 * A fetch resolves its partitions (fetch_session.c), reads each up to the high watermark (the
 * durable offset: a consumer never sees a record a crash could lose) and answers at once when
 * max_wait_ms <= 0, nothing is fetched, an error occurred, or at least min_bytes were read.
 * Otherwise it is parked (long poll): linked into the waits list of each fetched partition,
 * with an io_timeout of max_wait_ms (not capped, as Kafka: the client's request timeout
 * governs; a parked fetch holds only its request arena). brk_fetch_wake re-reads every fetch
 * waiting on a partition at once and answers those now satisfied; the timer answers with what
 * there is; brk_fetch_stop answers every parked fetch.
 *
 * Reads (ReplicaManager.readFromLocalLog): max_bytes (v3+; capped by the broker's
 * fetch.max.bytes) bounds the response; each partition reads at most
 * min(partition_max_bytes, what remains). From v3 the first partition with data returns at
 * least one whole batch even when larger than the limits (KIP-74), later partitions only
 * batches that fit. Before v3 (hard limits) a first batch larger than the limit is returned
 * cut to the limit, as Kafka does; the client then reports the record as too large.
 *
 * Partitions: a topic unknown to the image -> UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID for
 * a fetch by id, v13+), an index out of range -> UNKNOWN_TOPIC_OR_PARTITION; a partition this
 * broker does not lead (not a replica, a follower, or no leader) -> NOT_LEADER_OR_FOLLOWER, also
 * for a parked fetch whose partition's leadership moves away (replica.c wakes it). v12+ answers
 * with NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH carry the image's current leader and, v16+,
 * its endpoint (KIP-951; fetch_encode.c).
 *
 * Decisions:
 * - replica_id >= 0 (a follower; v15+ ReplicaState.ReplicaId): there is no replication yet,
 *   so every partition is answered NOT_LEADER_OR_FOLLOWER (Kafka's answer to a fetch from a
 *   broker outside the replica set), and no session is created.
 * - isolation_level READ_COMMITTED reads the same bytes (no transactions yet):
 *   last_stable_offset = high watermark, aborted_transactions empty (READ_UNCOMMITTED: null).
 * - current_leader_epoch (v9+) is compared with the partition's leader epoch like Kafka:
 *   older = FENCED_LEADER_EPOCH, newer = UNKNOWN_LEADER_EPOCH. Only on partitions named in the
 *   request (incremental session entries do not keep it).
 *
 * Timer ordering: the timer and the cancel op live in the request's arena, so a fetch answered
 * early (wake, stop) encodes its response at once but calls brk_request_finish only when both
 * ops have completed, whichever completes first.
 */
#include "brk_data.h"
#include "fetch_int.h"

#include <string.h>

static void parked_remove(struct brk_fetch_sessions *s, struct fetch_ctx *ctx)
{
	if (ctx->prev != NULL)
		ctx->prev->next = ctx->next;
	else
		s->parked = ctx->next;
	if (ctx->next != NULL)
		ctx->next->prev = ctx->prev;
	ctx->prev = ctx->next = NULL;
	SL_ASSERT(s->parked_count > 0);
	s->parked_count--;
}

static void parked_add(struct brk_fetch_sessions *s, struct fetch_ctx *ctx)
{
	ctx->prev = NULL;
	ctx->next = s->parked;
	if (s->parked != NULL)
		s->parked->prev = ctx;
	s->parked = ctx;
	s->parked_count++;
}

/* Reads one partition into fp (result fields); limit bytes, min_one per KIP-74. */
static void read_part(struct fetch_ctx *ctx, struct fetch_part *fp, uint64_t limit, bool min_one)
{
	struct brk_partition *p = fp->p;
	if (p->deleted) {
		/* Deleted, or reassigned away: the image says which. */
		fp->result_error =
		        brk_image_partition_by_id(ctx->b, p->topic_id, p->partition) != NULL
		                ? WIRE_ERR_NOT_LEADER_OR_FOLLOWER
		                : WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		return;
	}
	if (!p->is_leader) {
		fp->result_error = WIRE_ERR_NOT_LEADER_OR_FOLLOWER;
		return;
	}
	int16_t err = brk_partition_log_error(p);
	if (err != WIRE_ERR_NONE) {
		fp->result_error = err;
		return;
	}
	struct stor_log_state st;
	stor_log_get_state(p->log, &st);
	int64_t hw = p->high_watermark;
	fp->high_watermark = hw;
	fp->log_start_offset = st.log_start_offset;
	if (fp->fetch_offset < st.log_start_offset || fp->fetch_offset > hw) {
		fp->result_error = WIRE_ERR_OFFSET_OUT_OF_RANGE;
		return;
	}
	if (fp->fetch_offset == hw || (limit == 0 && !min_one))
		return;
	struct stor_read_result res;
	enum sl_err e = stor_log_read(p->log, fp->fetch_offset, limit, hw, &res);
	if (e != SL_OK) {
		fp->result_error = e == SL_ENOENT ? WIRE_ERR_OFFSET_OUT_OF_RANGE
		                                  : WIRE_ERR_KAFKA_STORAGE_ERROR;
		return;
	}
	if (res.range.len > limit && !min_one) {
		if (ctx->version >= 3)
			return; /* the batch does not fit; it comes first in a later fetch */
		res.range.len = limit;
	}
	fp->range = res.range;
}

/* Reads every partition; sets ctx->bytes and ctx->has_error. */
static void fetch_read_all(struct fetch_ctx *ctx)
{
	bool min_one = ctx->version >= 3;
	uint64_t remaining = ctx->max_bytes > 0 ? (uint64_t)ctx->max_bytes : 0;
	ctx->bytes = 0;
	ctx->has_error = false;
	for (size_t i = 0; i < ctx->part_count; i++) {
		struct fetch_part *fp = &ctx->parts[i];
		fp->range = (struct stor_file_range){.fd = -1};
		fp->high_watermark = -1;
		fp->log_start_offset = -1;
		fp->result_error = fp->error;
		if (fp->error == WIRE_ERR_NONE) {
			uint64_t pmax =
			        fp->partition_max_bytes > 0 ? (uint64_t)fp->partition_max_bytes : 0;
			read_part(ctx, fp, SL_MIN(pmax, remaining), min_one);
		}
		if (fp->result_error != WIRE_ERR_NONE) {
			ctx->has_error = true;
			fp->range = (struct stor_file_range){.fd = -1};
			continue;
		}
		if (fp->range.len > 0) {
			ctx->bytes += fp->range.len;
			remaining -= SL_MIN(remaining, fp->range.len);
			min_one = false;
		}
	}
}

static bool fetch_ready(const struct fetch_ctx *ctx)
{
	return ctx->bytes >= (uint64_t)SL_MAX(ctx->min_bytes, 0) || ctx->has_error ||
	       ctx->b->stopping;
}

/* Leaves every waits list; the partitions may now be freed (replica.c defers that). */
static void fetch_unlink(struct fetch_ctx *ctx)
{
	for (size_t i = 0; i < ctx->link_count; i++) {
		struct brk_fetch_wait *w = &ctx->links[i];
		if (w->prev != NULL)
			w->prev->next = w->next;
		else
			w->p->waits = w->next;
		if (w->next != NULL)
			w->next->prev = w->prev;
		w->prev = w->next = NULL;
	}
	for (size_t i = 0; i < ctx->link_count; i++)
		brk_partition_release_if_idle(ctx->b, ctx->links[i].p);
	ctx->link_count = 0;
}

static void fetch_maybe_finish(struct fetch_ctx *ctx)
{
	if (ctx->answered && ctx->ops_in_flight == 0)
		brk_request_finish(ctx->r, BRK_RESPOND);
}

/* Encodes the answer of a parked fetch from its last read. */
static void fetch_answer(struct fetch_ctx *ctx)
{
	SL_ASSERT(!ctx->answered);
	fetch_unlink(ctx);
	parked_remove(ctx->b->sessions, ctx);
	ctx->answered = true;
	fetch_encode(ctx);
}

static void fetch_cancel_done(struct io_op *op, void *c)
{
	(void)op;
	struct fetch_ctx *ctx = c;
	SL_ASSERT(ctx->ops_in_flight > 0);
	ctx->ops_in_flight--;
	fetch_maybe_finish(ctx);
}

static void fetch_timer_done(struct io_op *op, void *c)
{
	(void)op;
	struct fetch_ctx *ctx = c;
	SL_ASSERT(ctx->ops_in_flight > 0);
	ctx->ops_in_flight--;
	if (!ctx->answered) {
		fetch_read_all(ctx);
		fetch_answer(ctx);
	}
	fetch_maybe_finish(ctx);
}

/* Answers a parked fetch before its timer: the response now, the finish once the timer is
 * gone. */
static void fetch_answer_early(struct fetch_ctx *ctx)
{
	fetch_answer(ctx);
	io_cancel(ctx->b->opts.loop, &ctx->cancel, &ctx->timer, fetch_cancel_done, ctx);
	ctx->ops_in_flight++;
}

/* Parks ctx; answers now if there is nothing to wait on or no memory for the links. */
static enum brk_outcome fetch_park(struct fetch_ctx *ctx)
{
	size_t n = 0;
	for (size_t i = 0; i < ctx->part_count; i++)
		n += ctx->parts[i].p != NULL;
	ctx->links = n > 0 ? sl_arena_calloc(ctx->r->frame->arena, n, sizeof(*ctx->links)) : NULL;
	if (ctx->links == NULL) {
		fetch_encode(ctx);
		return BRK_RESPOND;
	}
	for (size_t i = 0; i < ctx->part_count; i++) {
		struct brk_partition *p = ctx->parts[i].p;
		if (p == NULL)
			continue;
		struct brk_fetch_wait *w = &ctx->links[ctx->link_count++];
		*w = (struct brk_fetch_wait){.ctx = ctx, .p = p, .next = p->waits};
		if (p->waits != NULL)
			p->waits->prev = w;
		p->waits = w;
	}
	parked_add(ctx->b->sessions, ctx);
	memset(&ctx->timer, 0, sizeof(ctx->timer));
	memset(&ctx->cancel, 0, sizeof(ctx->cancel));
	ctx->ops_in_flight = 1;
	io_timeout(ctx->b->opts.loop, &ctx->timer, ctx->max_wait_ms, fetch_timer_done, ctx);
	return brk_request_park(ctx->r);
}

/* Checks the v9+ current_leader_epoch of the request's partitions (before any read). */
static void fetch_check_epochs(struct fetch_ctx *ctx, const struct wire_fetch_request *req)
{
	if (ctx->version < 9 || ctx->incremental || ctx->error_code != WIRE_ERR_NONE)
		return;
	size_t i = 0;
	for (int32_t t = 0; t < req->topics_count; t++) {
		const struct wire_fetch_request_topic *rt = &req->topics[t];
		for (int32_t k = 0; k < rt->partitions_count; k++, i++) {
			SL_ASSERT(i < ctx->part_count);
			struct fetch_part *fp = &ctx->parts[i];
			if (fp->p == NULL)
				continue;
			int16_t e = brk_partition_epoch_error(
			        fp->p, rt->partitions[k].current_leader_epoch);
			if (e != WIRE_ERR_NONE) {
				fp->error = e;
				fp->p = NULL;
			}
		}
	}
}

/* Partitions the session code found no entry for: those the image has are NOT_LEADER_OR_FOLLOWER
 * (this broker is not a replica), as Kafka's getPartitionOrError. A hosted follower partition
 * keeps its entry and answers NOT_LEADER_OR_FOLLOWER from read_part (after the epoch check). */
static void fetch_check_hosted(struct fetch_ctx *ctx)
{
	for (size_t i = 0; i < ctx->part_count; i++) {
		struct fetch_part *fp = &ctx->parts[i];
		if (fp->p != NULL || fp->error != WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION)
			continue;
		fp->error = ctx->version >= 13
		                    ? brk_partition_absent_error_by_id(ctx->b, fp->topic_id,
		                                                       fp->partition)
		                    : brk_partition_absent_error(ctx->b, fp->topic, fp->partition);
	}
}

static bool can_park(const struct fetch_ctx *ctx)
{
	return ctx->max_wait_ms > 0 && ctx->part_count > 0 && ctx->b->opts.loop != NULL &&
	       ctx->r->frame->done != NULL && !ctx->b->stopping;
}

enum brk_outcome brk_handle_fetch(struct brk_request *r)
{
	if (r->frame->is_controller_listener)
		return brk_handle_raft(r); /* __cluster_metadata replication */
	struct brk *b = r->brk;
	int16_t v = r->header.api_version;
	struct wire_fetch_request req;
	enum sl_err e = wire_fetch_request_decode(&r->body, v, &req);
	if (e == SL_OK && !wire_reader_done(&r->body))
		e = SL_EMALFORMED;
	if (e != SL_OK)
		return brk_close(r, "malformed Fetch v%d request: %s", v, sl_err_name(e));
	struct fetch_ctx *ctx = sl_arena_calloc(r->frame->arena, 1, sizeof(*ctx));
	if (ctx == NULL)
		return brk_close(r, "out of request memory (Fetch v%d)", v);
	int32_t max_bytes = req.max_bytes;
	if (b->opts.fetch_max_bytes > 0)
		max_bytes = SL_MIN(max_bytes, b->opts.fetch_max_bytes);
	int32_t replica_id = v >= 15 ? req.replica_state.replica_id : req.replica_id;
	*ctx = (struct fetch_ctx){.b = b,
	                          .r = r,
	                          .version = v,
	                          .isolation_level = req.isolation_level,
	                          .min_bytes = req.min_bytes,
	                          .max_bytes = max_bytes,
	                          .max_wait_ms = req.max_wait_ms,
	                          .from_follower = replica_id >= 0};
	if (fetch_session_resolve(ctx, &req) != SL_OK)
		return brk_close(r, "out of request memory (Fetch v%d, %d topics)", v,
		                 req.topics_count);
	fetch_check_hosted(ctx);
	fetch_check_epochs(ctx, &req);
	if (ctx->error_code == WIRE_ERR_NONE)
		fetch_read_all(ctx);
	if (ctx->error_code != WIRE_ERR_NONE || fetch_ready(ctx) || !can_park(ctx)) {
		fetch_encode(ctx);
		return BRK_RESPOND;
	}
	return fetch_park(ctx);
}

void brk_fetch_wake(struct brk *b, struct brk_partition *p)
{
	struct brk_fetch_sessions *s = b->sessions;
	if (s == NULL)
		return;
	uint64_t seq = ++s->wake_seq;
	/* Answering unlinks from p->waits: start over after each answer; each fetch is read at
	 * most once per wake. */
	bool again = true;
	while (again) {
		again = false;
		for (struct brk_fetch_wait *w = p->waits; w != NULL; w = w->next) {
			struct fetch_ctx *ctx = w->ctx;
			if (ctx->wake_seq == seq)
				continue;
			ctx->wake_seq = seq;
			fetch_read_all(ctx);
			if (fetch_ready(ctx)) {
				fetch_answer_early(ctx);
				again = true;
				break;
			}
		}
	}
}

void brk_fetch_stop(struct brk *b)
{
	struct brk_fetch_sessions *s = b->sessions;
	if (s == NULL)
		return;
	while (s->parked != NULL) {
		struct fetch_ctx *ctx = s->parked;
		fetch_read_all(ctx);
		fetch_answer_early(ctx);
	}
}
