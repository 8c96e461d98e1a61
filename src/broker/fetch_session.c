/*
 * fetch_session.c: KIP-227 incremental fetch sessions (Kafka's FetchManager / FetchSessionCache)
 * and the resolution of a request's partitions into the fetch_ctx (fetch_int.h).
 *
 * Request session fields (Fetch v7+):
 *   id 0, epoch 0      new full fetch: create a session if a slot is free (or the least
 *                      recently used session has been idle FETCH_SESSION_EVICTION_MS), else
 *                      reply session id 0 (sessionless);
 *   any id, epoch -1   full sessionless fetch (closes session `id` if it exists);
 *   id X, epoch 0      closes X and starts a new full session;
 *   id X, epoch E > 0  incremental: X must exist (FETCH_SESSION_ID_NOT_FOUND) with expected
 *                      epoch E (INVALID_FETCH_SESSION_EPOCH) and the same topic-id usage
 *                      (FETCH_SESSION_TOPIC_ID_ERROR); request partitions are added/updated,
 *                      then forgotten_topics_data removed; the fetch covers the whole session.
 *
 * Invariants: the slots are allocated once (brk_fetch_sessions_create); a session's partition
 * array is allocated when the session is created and grows only when an incremental fetch
 * adds partitions, bounded by FETCH_SESSION_PARTITIONS_MAX. used == number of slots with id != 0;
 * parts_total == the sum of their caps, bounded by parts_total_max
 * (FETCH_SESSIONS_PARTITIONS_TOTAL_MAX).
 * Every structural change of a session takes a fresh generation number.
 */
#include "fetch_int.h"

#include <stdlib.h>
#include <string.h>

enum sl_err brk_fetch_sessions_create(struct brk *b)
{
	struct brk_fetch_sessions *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SL_ENOMEM;
	int32_t slots = b->opts.max_incremental_fetch_session_cache_slots;
	if (slots > 0) {
		s->slots = calloc((size_t)slots, sizeof(*s->slots));
		if (s->slots == NULL) {
			free(s);
			return SL_ENOMEM;
		}
		s->slot_count = (uint32_t)slots;
	}
	s->gen_next = 1;
	s->rng = (uint64_t)sl_mono_ns() | 1;
	s->now_ms = sl_mono_ms;
	s->parts_total_max = FETCH_SESSIONS_PARTITIONS_TOTAL_MAX;
	b->sessions = s;
	return SL_OK;
}

void brk_fetch_sessions_destroy(struct brk *b)
{
	struct brk_fetch_sessions *s = b->sessions;
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->slot_count; i++)
		free(s->slots[i].parts);
	free(s->slots);
	free(s);
	b->sessions = NULL;
}

void fetch_sessions_set_partitions_total_max(struct brk *b, uint64_t max)
{
	b->sessions->parts_total_max = max;
}

void fetch_sessions_set_clock(struct brk *b, int64_t (*now_ms)(void))
{
	b->sessions->now_ms = now_ms != NULL ? now_ms : sl_mono_ms;
}

uint32_t fetch_sessions_used(const struct brk *b)
{
	return b->sessions->used;
}

static struct fetch_session *session_find(struct brk_fetch_sessions *s, int32_t id)
{
	if (id <= 0)
		return NULL;
	for (uint32_t i = 0; i < s->slot_count; i++) {
		if (s->slots[i].id == id)
			return &s->slots[i];
	}
	return NULL;
}

static void session_remove(struct brk_fetch_sessions *s, struct fetch_session *sess)
{
	SL_ASSERT(sess->id != 0);
	SL_ASSERT(s->used > 0);
	SL_ASSERT(s->parts_total >= sess->cap);
	s->parts_total -= sess->cap;
	free(sess->parts);
	*sess = (struct fetch_session){0};
	s->used--;
}

static int32_t session_new_id(struct brk_fetch_sessions *s)
{
	for (;;) {
		/* xorshift64 */
		s->rng ^= s->rng << 13;
		s->rng ^= s->rng >> 7;
		s->rng ^= s->rng << 17;
		int32_t id = (int32_t)(s->rng & 0x7fffffff);
		if (id != 0 && session_find(s, id) == NULL)
			return id;
	}
}

/* A slot for a new session: a free one, else the least recently used one if it has been
 * idle long enough (it is evicted), else NULL. */
static struct fetch_session *session_slot(struct brk_fetch_sessions *s, int64_t now_ms)
{
	struct fetch_session *lru = NULL;
	for (uint32_t i = 0; i < s->slot_count; i++) {
		struct fetch_session *sess = &s->slots[i];
		if (sess->id == 0)
			return sess;
		if (lru == NULL || sess->last_used_ms < lru->last_used_ms)
			lru = sess;
	}
	if (lru == NULL || now_ms - lru->last_used_ms < FETCH_SESSION_EVICTION_MS)
		return NULL;
	session_remove(s, lru);
	return lru;
}

static struct fetch_session *session_create(struct brk_fetch_sessions *s, size_t part_count,
                                            bool uses_topic_ids)
{
	if (part_count > FETCH_SESSION_PARTITIONS_MAX)
		return NULL;
	int64_t now_ms = s->now_ms();
	struct fetch_session *sess = session_slot(s, now_ms);
	if (sess == NULL)
		return NULL;
	uint32_t cap = (uint32_t)SL_MAX(part_count, 8);
	if (s->parts_total + cap > s->parts_total_max)
		return NULL;
	struct fetch_session_part *parts = calloc(cap, sizeof(*parts));
	if (parts == NULL)
		return NULL;
	*sess = (struct fetch_session){.id = session_new_id(s),
	                               .epoch = 1,
	                               .uses_topic_ids = uses_topic_ids,
	                               .gen = s->gen_next++,
	                               .last_used_ms = now_ms,
	                               .cap = cap,
	                               .parts = parts};
	s->used++;
	s->parts_total += cap;
	return sess;
}

/* Kafka's FetchMetadata.nextEpoch. */
static int32_t next_epoch(int32_t epoch)
{
	if (epoch < 0)
		return -1;
	return epoch == INT32_MAX ? 1 : epoch + 1;
}

void fetch_part_resolve(struct fetch_ctx *ctx, struct fetch_part *fp)
{
	struct brk *b = ctx->b;
	fp->p = NULL;
	fp->error = WIRE_ERR_NONE;
	if (ctx->version >= 13) {
		fp->p = brk_partition_by_id(b, fp->topic_id, fp->partition);
		if (fp->p == NULL) {
			bool topic_known = b->image != NULL &&
			                   meta_image_topic_by_id(b->image, fp->topic_id) != NULL;
			fp->error = topic_known ? WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION
			                        : WIRE_ERR_UNKNOWN_TOPIC_ID;
		}
	} else {
		fp->p = brk_partition_get(b, fp->topic, fp->partition);
		if (fp->p == NULL)
			fp->error = WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (fp->p != NULL && ctx->from_follower) {
		/* No replication yet: this broker has no followers (see fetch.c). */
		fp->p = NULL;
		fp->error = WIRE_ERR_NOT_LEADER_OR_FOLLOWER;
	}
}

static size_t request_part_count(const struct wire_fetch_request *req)
{
	size_t n = 0;
	for (int32_t t = 0; t < req->topics_count; t++)
		n += (size_t)SL_MAX(req->topics[t].partitions_count, 0);
	return n;
}

static void entry_set(struct fetch_session_part *e, const struct wire_fetch_request_topic *t,
                      const struct wire_fetch_request_partition *rp)
{
	size_t len = t->topic.len > 0 ? (size_t)t->topic.len : 0;
	len = SL_MIN(len, (size_t)META_TOPIC_NAME_MAX);
	if (len > 0)
		memcpy(e->topic, t->topic.ptr, len);
	e->topic[len] = '\0';
	e->topic_id = t->topic_id;
	e->partition = rp->partition;
	e->fetch_offset = rp->fetch_offset;
	e->partition_max_bytes = rp->partition_max_bytes;
	e->last_high_watermark = -1;
	e->last_log_start_offset = -1;
}

/* A sessionless or new full fetch: the request's partitions in request order; with sess,
 * each also becomes a session entry. */
static enum sl_err parts_from_request(struct fetch_ctx *ctx, const struct wire_fetch_request *req,
                                      struct fetch_session *sess)
{
	size_t n = request_part_count(req);
	ctx->part_count = n;
	if (n == 0)
		return SL_OK;
	ctx->parts = sl_arena_calloc(ctx->r->frame->arena, n, sizeof(*ctx->parts));
	if (ctx->parts == NULL)
		return SL_ENOMEM;
	size_t i = 0;
	for (int32_t t = 0; t < req->topics_count; t++) {
		const struct wire_fetch_request_topic *rt = &req->topics[t];
		for (int32_t k = 0; k < rt->partitions_count; k++, i++) {
			const struct wire_fetch_request_partition *rp = &rt->partitions[k];
			struct fetch_part *fp = &ctx->parts[i];
			fp->topic = rt->topic;
			fp->topic_id = rt->topic_id;
			fp->partition = rp->partition;
			fp->fetch_offset = rp->fetch_offset;
			fp->partition_max_bytes = rp->partition_max_bytes;
			fetch_part_resolve(ctx, fp);
			if (sess != NULL) {
				SL_ASSERT(i < sess->cap);
				entry_set(&sess->parts[i], rt, rp);
				fp->sp = &sess->parts[i];
			}
		}
	}
	if (sess != NULL)
		sess->count = (uint32_t)n;
	return SL_OK;
}

static bool entry_matches(const struct fetch_session *sess, const struct fetch_session_part *e,
                          struct wire_str topic, struct sl_uuid topic_id, int32_t partition)
{
	if (e->partition != partition)
		return false;
	if (sess->uses_topic_ids)
		return sl_uuid_eq(&e->topic_id, &topic_id);
	size_t len = strlen(e->topic);
	return topic.len >= 0 && (size_t)topic.len == len && memcmp(e->topic, topic.ptr, len) == 0;
}

static struct fetch_session_part *entry_find(struct fetch_session *sess, struct wire_str topic,
                                             struct sl_uuid topic_id, int32_t partition)
{
	for (uint32_t i = 0; i < sess->count; i++) {
		if (entry_matches(sess, &sess->parts[i], topic, topic_id, partition))
			return &sess->parts[i];
	}
	return NULL;
}

static enum sl_err session_upsert(struct brk_fetch_sessions *s, struct fetch_session *sess,
                                  const struct wire_fetch_request_topic *t,
                                  const struct wire_fetch_request_partition *rp)
{
	struct fetch_session_part *e = entry_find(sess, t->topic, t->topic_id, rp->partition);
	if (e != NULL) {
		e->fetch_offset = rp->fetch_offset;
		e->partition_max_bytes = rp->partition_max_bytes;
		return SL_OK;
	}
	if (sess->count == sess->cap) {
		if (sess->cap >= FETCH_SESSION_PARTITIONS_MAX)
			return SL_ELIMIT;
		uint32_t cap = SL_MIN(sess->cap * 2, (uint32_t)FETCH_SESSION_PARTITIONS_MAX);
		if (s->parts_total - sess->cap + cap > s->parts_total_max)
			return SL_ELIMIT;
		struct fetch_session_part *np = realloc(sess->parts, cap * sizeof(*np));
		if (np == NULL)
			return SL_ENOMEM;
		sess->parts = np;
		s->parts_total += cap - sess->cap;
		sess->cap = cap;
	}
	entry_set(&sess->parts[sess->count++], t, rp);
	return SL_OK;
}

static void session_forget(struct fetch_session *sess,
                           const struct wire_fetch_request_forgotten_topic *ft)
{
	for (int32_t k = 0; k < ft->partitions_count; k++) {
		struct fetch_session_part *e =
		        entry_find(sess, ft->topic, ft->topic_id, ft->partitions[k]);
		if (e == NULL)
			continue;
		size_t at = (size_t)(e - sess->parts);
		memmove(e, e + 1, (sess->count - at - 1) * sizeof(*e));
		sess->count--;
	}
}

/* The whole session as the partitions of this fetch (topic names copied into the arena:
 * the session may change while the fetch is parked). */
static enum sl_err parts_from_session(struct fetch_ctx *ctx, struct fetch_session *sess)
{
	ctx->part_count = sess->count;
	if (sess->count == 0)
		return SL_OK;
	struct sl_arena *a = ctx->r->frame->arena;
	ctx->parts = sl_arena_calloc(a, sess->count, sizeof(*ctx->parts));
	if (ctx->parts == NULL)
		return SL_ENOMEM;
	for (uint32_t i = 0; i < sess->count; i++) {
		struct fetch_session_part *e = &sess->parts[i];
		struct fetch_part *fp = &ctx->parts[i];
		if (i > 0 && strcmp(e->topic, sess->parts[i - 1].topic) == 0) {
			fp->topic = ctx->parts[i - 1].topic;
		} else {
			size_t len = strlen(e->topic);
			char *copy = sl_arena_strndup(a, e->topic, len);
			if (copy == NULL)
				return SL_ENOMEM;
			fp->topic = (struct wire_str){.ptr = copy, .len = (int32_t)len};
		}
		fp->topic_id = e->topic_id;
		fp->partition = e->partition;
		fp->fetch_offset = e->fetch_offset;
		fp->partition_max_bytes = e->partition_max_bytes;
		fp->sp = e;
		fetch_part_resolve(ctx, fp);
	}
	return SL_OK;
}

/* An incremental fetch of session id at epoch (> 0). */
static enum sl_err incremental(struct fetch_ctx *ctx, const struct wire_fetch_request *req)
{
	struct brk_fetch_sessions *s = ctx->b->sessions;
	struct fetch_session *sess = session_find(s, req->session_id);
	if (sess == NULL) {
		ctx->error_code = WIRE_ERR_FETCH_SESSION_ID_NOT_FOUND;
		return SL_OK;
	}
	if (sess->epoch != req->session_epoch) {
		ctx->error_code = WIRE_ERR_INVALID_FETCH_SESSION_EPOCH;
		return SL_OK;
	}
	if (sess->uses_topic_ids != (ctx->version >= 13)) {
		ctx->error_code = WIRE_ERR_FETCH_SESSION_TOPIC_ID_ERROR;
		return SL_OK;
	}
	for (int32_t t = 0; t < req->topics_count; t++) {
		const struct wire_fetch_request_topic *rt = &req->topics[t];
		for (int32_t k = 0; k < rt->partitions_count; k++) {
			if (session_upsert(s, sess, rt, &rt->partitions[k]) != SL_OK) {
				/* Over the bound: the client starts again with a full fetch, which
				 * then gets no session. */
				session_remove(s, sess);
				ctx->error_code = WIRE_ERR_FETCH_SESSION_ID_NOT_FOUND;
				return SL_OK;
			}
		}
	}
	for (int32_t t = 0; t < req->forgotten_topics_data_count; t++)
		session_forget(sess, &req->forgotten_topics_data[t]);
	sess->epoch = next_epoch(sess->epoch);
	sess->gen = s->gen_next++;
	sess->last_used_ms = s->now_ms();
	ctx->session = sess;
	ctx->session_gen = sess->gen;
	ctx->session_id = sess->id;
	ctx->incremental = true;
	return parts_from_session(ctx, sess);
}

enum sl_err fetch_session_resolve(struct fetch_ctx *ctx, const struct wire_fetch_request *req)
{
	struct brk_fetch_sessions *s = ctx->b->sessions;
	ctx->session_id = 0;
	if (ctx->version < 7)
		return parts_from_request(ctx, req, NULL);
	if (req->session_epoch > 0)
		return incremental(ctx, req);
	/* Full fetch: a previous session of this client is closed. */
	struct fetch_session *old = session_find(s, req->session_id);
	if (old != NULL)
		session_remove(s, old);
	struct fetch_session *sess = NULL;
	if (req->session_epoch == 0 && !ctx->from_follower)
		sess = session_create(s, request_part_count(req), ctx->version >= 13);
	if (sess != NULL) {
		ctx->session = sess;
		ctx->session_gen = sess->gen;
		ctx->session_id = sess->id;
	}
	return parts_from_request(ctx, req, sess);
}

struct fetch_session_part *fetch_session_entry(const struct fetch_ctx *ctx,
                                               const struct fetch_part *fp)
{
	const struct fetch_session *sess = ctx->session;
	if (sess == NULL || fp->sp == NULL)
		return NULL;
	if (sess->id != ctx->session_id || sess->gen != ctx->session_gen)
		return NULL;
	return fp->sp;
}
