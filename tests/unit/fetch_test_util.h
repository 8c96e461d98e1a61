/*
 * fetch_test_util.h: the fixture shared by test_broker_fetch.c and test_fetch_session.c: an io
 * loop, a log manager in a temp dir, a broker whose image holds topics "alpha" (3 partitions)
 * and "beta" (1 partition), Fetch requests built with the generated encoder, responses decoded
 * with the generated decoder, and produce through storage (append, wait durable,
 * brk_partition_advance). Each suite includes it once (static functions).
 */
#ifndef SL_FETCH_TEST_UTIL_H
#define SL_FETCH_TEST_UTIL_H

#include "log_test_util.h"

#include "brk_int.h"
#include "fetch_int.h"
#include "metadata.h"
#include "wire.h"

#define FT_NODE_ID 1
#define FT_SLOTS 2

struct ft {
	struct io_loop *loop;
	char dir[256];
	struct stor_log_manager *logs;
	struct brk *brk;
	struct sl_arena arena;
	struct sl_buf req;
	struct sl_buf resp;
	struct sl_buf batch;
	char reason[256];
	struct brk_frame frame;
	struct sl_uuid alpha_id;
	struct sl_uuid beta_id;
	int done_calls;
	enum brk_outcome done_outcome;
	int64_t fake_now_ms;
	int32_t correlation_id;
};

static struct ft F;

static int64_t ft_clock(void)
{
	return F.fake_now_ms;
}

static void ft_apply(struct meta_delta *d, struct sl_buf *b)
{
	char err[256] = "";
	enum sl_err e = meta_delta_apply(d, b->data, b->len, err, sizeof(err));
	ck_assert_msg(e == SL_OK, "meta_delta_apply: %s %s", sl_err_name(e), err);
	sl_buf_reset(b);
}

static void ft_add_topic(struct meta_delta *d, const char *name, struct sl_uuid *id, int parts)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	ck_assert_int_eq(sl_uuid_random(id), SL_OK);
	struct meta_topic_record t;
	meta_topic_record_init(&t);
	t.name = wire_str_c(name);
	t.topic_id = *id;
	meta_frame_put(&b, META_REC_TOPIC, 0);
	meta_topic_record_encode(&b, 0, &t);
	ft_apply(d, &b);
	int32_t replicas[1] = {FT_NODE_ID};
	for (int p = 0; p < parts; p++) {
		struct meta_partition_record pr;
		meta_partition_record_init(&pr);
		pr.partition_id = p;
		pr.topic_id = *id;
		pr.replicas_count = 1;
		pr.replicas = replicas;
		pr.isr_count = 1;
		pr.isr = replicas;
		pr.leader = FT_NODE_ID;
		pr.leader_epoch = 0;
		meta_frame_put(&b, META_REC_PARTITION, 0);
		meta_partition_record_encode(&b, 0, &pr);
		ft_apply(d, &b);
	}
	sl_buf_free(&b);
}

static void ft_setup_backend(int backend)
{
	memset(&F, 0, sizeof(F));
	F.loop = lt_loop(backend);
	lt_tmpdir(F.dir, sizeof(F.dir));
	const char *dirs[1] = {F.dir};
	lt_manager(F.loop, dirs, 1, NULL, &F.logs, NULL);
	struct brk_opts o = {.node_id = FT_NODE_ID,
	                     .cluster_id = "MkU3OEVBNTcwNTJENDM2Qk",
	                     .loop = F.loop,
	                     .logs = F.logs,
	                     .fetch_max_bytes = 57671680,
	                     .max_incremental_fetch_session_cache_slots = FT_SLOTS};
	ck_assert_int_eq(brk_create(&o, &F.brk), SL_OK);
	F.fake_now_ms = 1000000;
	fetch_sessions_set_clock(F.brk, ft_clock);
	struct meta_image *empty = meta_image_create_empty();
	ck_assert_ptr_nonnull(empty);
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	ft_add_topic(d, "alpha", &F.alpha_id, 3);
	ft_add_topic(d, "beta", &F.beta_id, 1);
	struct meta_image *img = meta_delta_publish(d, 10);
	brk_set_image(F.brk, img);
	meta_image_unref(img);
	meta_image_unref(empty);
	lt_run_idle(F.loop);
	sl_arena_init(&F.arena, 4096, 1 << 26);
	sl_buf_init(&F.req, 1 << 20);
	sl_buf_init(&F.resp, 1 << 26);
	sl_buf_init(&F.batch, 1 << 20);
}

static void ft_setup(void)
{
	ft_setup_backend(1); /* sync: the default; long polls also run on uring */
}

static void ft_teardown(void)
{
	ck_assert(!brk_busy(F.brk));
	brk_stop(F.brk);
	lt_run_idle(F.loop);
	brk_destroy(F.brk);
	char err[256];
	ck_assert_int_eq(stor_log_manager_close(F.logs, false, err, sizeof(err)), SL_OK);
	io_loop_destroy(F.loop);
	lt_rmtree(F.dir);
	sl_arena_free(&F.arena);
	sl_buf_free(&F.req);
	sl_buf_free(&F.resp);
	sl_buf_free(&F.batch);
}

static struct brk_partition *ft_part(const char *topic, int32_t partition)
{
	struct brk_partition *p = brk_partition_get(F.brk, wire_str_c(topic), partition);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(p->log);
	return p;
}

/* Appends one batch of `records` records of value_len bytes and makes it durable and
 * visible (high watermark). Returns the batch's size in bytes. */
static size_t ft_produce(const char *topic, int32_t partition, int records, int value_len)
{
	struct brk_partition *p = ft_part(topic, partition);
	lt_batch(&F.batch, records, 1700000000000, value_len, 'x');
	size_t len = F.batch.len;
	int64_t last = -1;
	ck_assert_int_eq(lt_append(F.loop, p->log, &F.batch, 0, 1700000000000, NULL, &last), SL_OK);
	ck_assert_int_eq(lt_durable(F.loop, p->log, last + 1), SL_OK);
	brk_partition_advance(F.brk, p);
	ck_assert_int_eq(p->high_watermark, last + 1);
	return len;
}

struct ft_part_spec {
	const char *topic;
	int32_t partition;
	int64_t offset;
	int32_t max_bytes;
};

struct ft_fetch {
	int16_t version;
	int32_t max_wait_ms;
	int32_t min_bytes;
	int32_t max_bytes;
	int32_t session_id;
	int32_t session_epoch;
	int32_t follower_id; /* 0 = a consumer (replica id -1) */
	int8_t isolation_level;
	bool with_epoch; /* send current_leader_epoch (v9+) on every partition */
	int32_t current_leader_epoch;
	const struct ft_part_spec *parts;
	size_t part_count;
	const struct ft_part_spec *forgotten; /* offset/max_bytes unused */
	size_t forgotten_count;
};

static struct sl_uuid ft_topic_id(const char *topic)
{
	if (strcmp(topic, "alpha") == 0)
		return F.alpha_id;
	if (strcmp(topic, "beta") == 0)
		return F.beta_id;
	return (struct sl_uuid){.b = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}};
}

static void ft_done(const struct brk_frame *f, enum brk_outcome outcome, void *ctx)
{
	(void)f;
	(void)ctx;
	F.done_calls++;
	F.done_outcome = outcome;
}

/* Encodes the request (one topic entry per run of equal topic names) into F.req. */
static void ft_build(const struct ft_fetch *q)
{
	sl_buf_reset(&F.req);
	struct wire_request_header h;
	wire_request_header_init(&h);
	h.api_key = 1;
	h.api_version = q->version;
	h.correlation_id = ++F.correlation_id;
	h.client_id = wire_str_c("fetch-test");
	wire_request_header_encode(&F.req, &h);
	struct wire_fetch_request r;
	wire_fetch_request_init(&r);
	r.replica_id = q->follower_id > 0 ? q->follower_id : -1;
	r.replica_state.replica_id = r.replica_id;
	r.max_wait_ms = q->max_wait_ms;
	r.min_bytes = q->min_bytes;
	r.max_bytes = q->max_bytes;
	r.isolation_level = q->isolation_level;
	r.session_id = q->session_id;
	r.session_epoch = q->session_epoch;
	struct wire_fetch_request_topic topics[16];
	struct wire_fetch_request_partition parts[64];
	ck_assert_uint_le(q->part_count, 64);
	for (size_t i = 0; i < q->part_count; i++) {
		const struct ft_part_spec *s = &q->parts[i];
		if (r.topics_count == 0 || strcmp(q->parts[i - 1].topic, s->topic) != 0) {
			ck_assert_int_lt(r.topics_count, 16);
			struct wire_fetch_request_topic *t = &topics[r.topics_count++];
			wire_fetch_request_topic_init(t);
			t->topic = wire_str_c(s->topic);
			t->topic_id = ft_topic_id(s->topic);
			t->partitions = &parts[i];
		}
		struct wire_fetch_request_partition *p = &parts[i];
		wire_fetch_request_partition_init(p);
		p->partition = s->partition;
		p->fetch_offset = s->offset;
		p->partition_max_bytes = s->max_bytes;
		if (q->with_epoch)
			p->current_leader_epoch = q->current_leader_epoch;
		topics[r.topics_count - 1].partitions_count++;
	}
	r.topics = topics;
	struct wire_fetch_request_forgotten_topic ft[16];
	int32_t fparts[64];
	for (size_t i = 0; i < q->forgotten_count; i++) {
		const struct ft_part_spec *s = &q->forgotten[i];
		if (r.forgotten_topics_data_count == 0 ||
		    strcmp(q->forgotten[i - 1].topic, s->topic) != 0) {
			struct wire_fetch_request_forgotten_topic *t =
			        &ft[r.forgotten_topics_data_count++];
			wire_fetch_request_forgotten_topic_init(t);
			t->topic = wire_str_c(s->topic);
			t->topic_id = ft_topic_id(s->topic);
			t->partitions = &fparts[i];
		}
		fparts[i] = s->partition;
		ft[r.forgotten_topics_data_count - 1].partitions_count++;
	}
	r.forgotten_topics_data = ft;
	wire_fetch_request_encode(&F.req, q->version, &r);
	ck_assert_int_eq(sl_buf_err(&F.req), SL_OK);
}

/* Builds the request and handles it with brk_handle (copy mode: no net request). */
static enum brk_outcome ft_send(const struct ft_fetch *q)
{
	sl_buf_reset(&F.resp);
	sl_arena_reset(&F.arena);
	F.done_calls = 0;
	ft_build(q);
	F.frame = (struct brk_frame){.data = F.req.data,
	                             .len = F.req.len,
	                             .arena = &F.arena,
	                             .log_ctx = "fetch-test",
	                             .done = ft_done};
	return brk_handle(F.brk, &F.frame, &F.resp, F.reason, sizeof(F.reason));
}

/* Decodes F.resp as a Fetch response of version v (checking the correlation id and that
 * every byte is consumed). */
static void ft_decode(int16_t v, struct wire_fetch_response *out)
{
	struct wire_reader r;
	wire_reader_init(&r, F.resp.data, F.resp.len, &F.arena);
	int32_t cid = 0;
	ck_assert_int_eq(wire_response_header_decode(&r, wire_response_header_version(1, v), &cid),
	                 SL_OK);
	ck_assert_int_eq(cid, F.correlation_id);
	ck_assert_int_eq(wire_fetch_response_decode(&r, v, out), SL_OK);
	ck_assert(wire_reader_done(&r));
}

/* Sends q, expects an immediate answer and decodes it. */
static void ft_fetch_now(const struct ft_fetch *q, struct wire_fetch_response *out)
{
	enum brk_outcome o = ft_send(q);
	ck_assert_msg(o == BRK_RESPOND, "outcome %d reason %s", (int)o, F.reason);
	ft_decode(q->version, out);
}

/* The response partition of topic (by name below v13, by id from v13) and partition, or NULL. */
static const struct wire_fetch_response_partition_data *
ft_find(int16_t v, const struct wire_fetch_response *resp, const char *topic, int32_t partition)
{
	struct sl_uuid id = ft_topic_id(topic);
	for (int32_t t = 0; t < resp->responses_count; t++) {
		const struct wire_fetch_response_fetchable_topic_response *tr = &resp->responses[t];
		bool match =
		        v >= 13 ? sl_uuid_eq(&tr->topic_id, &id) : wire_str_eq(tr->topic, topic);
		if (!match)
			continue;
		for (int32_t k = 0; k < tr->partitions_count; k++) {
			if (tr->partitions[k].partition_index == partition)
				return &tr->partitions[k];
		}
	}
	return NULL;
}

static size_t ft_partition_count(const struct wire_fetch_response *resp)
{
	size_t n = 0;
	for (int32_t t = 0; t < resp->responses_count; t++)
		n += (size_t)resp->responses[t].partitions_count;
	return n;
}

/* Runs the loop until the parked request is answered (deadline 20 s). */
static void ft_run_until_done(void)
{
	lt_run_until(F.loop, &F.done_calls, 1);
	ck_assert_int_eq(F.done_calls, 1);
	ck_assert_int_eq(F.done_outcome, BRK_RESPOND);
}

#endif
