/*
 * brk_test_util.h: the fixture shared by the broker data-plane suites (test_broker_produce.c,
 * test_broker_offsets.c): a temp log dir with a real log manager and a real io loop (sync
 * backend), a broker over them, a metadata image built with the delta API (topics "orders" x3,
 * "lat" LogAppendTime, "small" max.message.bytes=300, "gz" compression.type=gzip, "compact"
 * cleanup.policy=compact, "epochs" at leader epoch 5), and request helpers that run the loop
 * until the request is answered. Each suite includes it once (static functions).
 */
#ifndef SL_BRK_TEST_UTIL_H
#define SL_BRK_TEST_UTIL_H

#include "check_main.h"

#include "broker.h"
#include "io.h"
#include "metadata.h"
#include "storage.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NODE_ID 1
#define K_PRODUCE 0
#define K_LIST_OFFSETS 2
#define K_DELETE_RECORDS 21
#define K_OFFSET_FOR_EPOCH 23
#define K_DESCRIBE_LOG_DIRS 35

struct tp {
	struct io_loop *loop;
	struct stor_log_manager *logs;
	struct brk *brk;
	struct meta_image *img;
	char dir[64];
	const char *dirs[1];
	struct sl_arena arena;
	struct sl_buf req;
	struct sl_buf resp;
	struct sl_buf batch;
	char reason[256];
	int done_calls;
	enum brk_outcome done_outcome;
	int64_t image_offset;
};

static struct tp T;

/* ---- metadata image ------------------------------------------------------------------------ */

static inline void delta_record(struct meta_delta *d, struct sl_buf *b)
{
	char err[256];
	ck_assert_int_eq(sl_buf_err(b), SL_OK);
	ck_assert_msg(meta_delta_apply(d, b->data, b->len, err, sizeof(err)) == SL_OK, "%s", err);
	sl_buf_reset(b);
}

static inline struct sl_uuid topic_uuid(uint8_t n)
{
	struct sl_uuid u = {{0}};
	u.b[0] = 0x40;
	u.b[15] = n;
	return u;
}

/* Adds a topic with `parts` partitions (leader NODE_ID, epoch `epoch`) and one config. */
static inline void add_topic(struct meta_delta *d, const char *name, uint8_t id, int32_t parts,
                             int32_t epoch, const char *ckey, const char *cval)
{
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	struct meta_topic_record tr;
	meta_topic_record_init(&tr);
	tr.name = wire_str_c(name);
	tr.topic_id = topic_uuid(id);
	meta_frame_put(&b, 2, 0);
	meta_topic_record_encode(&b, 0, &tr);
	delta_record(d, &b);
	int32_t replicas[1] = {NODE_ID};
	for (int32_t p = 0; p < parts; p++) {
		struct meta_partition_record pr;
		meta_partition_record_init(&pr);
		pr.partition_id = p;
		pr.topic_id = topic_uuid(id);
		pr.replicas_count = 1;
		pr.replicas = replicas;
		pr.isr_count = 1;
		pr.isr = replicas;
		pr.leader = NODE_ID;
		pr.leader_epoch = epoch;
		meta_frame_put(&b, 3, 0);
		meta_partition_record_encode(&b, 0, &pr);
		delta_record(d, &b);
	}
	if (ckey != NULL) {
		struct meta_config_record cr;
		meta_config_record_init(&cr);
		cr.resource_type = META_RESOURCE_TOPIC;
		cr.resource_name = wire_str_c(name);
		cr.name = wire_str_c(ckey);
		cr.value = wire_str_c(cval);
		meta_frame_put(&b, 4, 0);
		meta_config_record_encode(&b, 0, &cr);
		delta_record(d, &b);
	}
	sl_buf_free(&b);
}

static inline void publish(struct meta_delta *d)
{
	struct meta_image *img = meta_delta_publish(d, ++T.image_offset);
	ck_assert_ptr_nonnull(img);
	brk_set_image(T.brk, img);
	meta_image_unref(T.img);
	T.img = img;
}

static inline void base_image(void)
{
	struct meta_delta *d = NULL;
	struct meta_image *empty = meta_image_create_empty();
	ck_assert_ptr_nonnull(empty);
	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	meta_image_unref(empty);
	add_topic(d, "orders", 1, 3, 0, NULL, NULL);
	add_topic(d, "lat", 2, 1, 0, "message.timestamp.type", "LogAppendTime");
	add_topic(d, "small", 3, 1, 0, "max.message.bytes", "300");
	add_topic(d, "gz", 4, 1, 0, "compression.type", "gzip");
	add_topic(d, "compact", 5, 1, 0, "cleanup.policy", "compact");
	add_topic(d, "epochs", 6, 1, 5, NULL, NULL);
	publish(d);
}

/* ---- fixture ------------------------------------------------------------------------------- */

static inline void setup(void)
{
	memset(&T, 0, sizeof(T));
	snprintf(T.dir, sizeof(T.dir), "/tmp/sl_brk_produce_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(T.dir));
	T.dirs[0] = T.dir;
	struct io_loop_opts lo = {.backend = IO_BACKEND_SYNC, .queue_depth = 64};
	char err[256];
	ck_assert_msg(io_loop_create(&lo, &T.loop, err, sizeof(err)) == SL_OK, "%s", err);
	struct stor_log_manager_opts mo;
	stor_log_manager_opts_init(&mo);
	mo.log_dirs = T.dirs;
	mo.log_dir_count = 1;
	mo.start_timer = false;
	ck_assert_msg(stor_log_manager_open(T.loop, &mo, &T.logs, NULL, err, sizeof(err)) == SL_OK,
	              "%s", err);
	struct brk_opts o = {.node_id = NODE_ID,
	                     .cluster_id = "MkU3OEVBNTcwNTJENDM2Qk",
	                     .loop = T.loop,
	                     .logs = T.logs,
	                     .log_dirs = T.dirs,
	                     .log_dir_count = 1};
	ck_assert_int_eq(brk_create(&o, &T.brk), SL_OK);
	sl_arena_init(&T.arena, 4096, 1 << 26);
	sl_buf_init(&T.req, 1 << 22);
	sl_buf_init(&T.resp, 1 << 22);
	sl_buf_init(&T.batch, 1 << 22);
	base_image();
}

static inline void run_until_idle(void)
{
	int64_t deadline = sl_mono_ms() + 20000;
	while (io_loop_pending(T.loop) > 0 || brk_busy(T.brk)) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out draining the loop");
		(void)io_loop_run_once(T.loop, 50);
	}
}

static inline void teardown(void)
{
	run_until_idle();
	brk_destroy(T.brk);
	meta_image_unref(T.img);
	char err[256];
	ck_assert_msg(stor_log_manager_close(T.logs, true, err, sizeof(err)) == SL_OK, "%s", err);
	io_loop_destroy(T.loop);
	sl_arena_free(&T.arena);
	sl_buf_free(&T.req);
	sl_buf_free(&T.resp);
	sl_buf_free(&T.batch);
	char cmd[128];
	ck_assert(strncmp(T.dir, "/tmp/sl_brk_produce_", 20) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- requests -------------------------------------------------------------------------------- */

static inline void begin(int16_t key, int16_t version)
{
	sl_buf_reset(&T.req);
	sl_buf_reset(&T.resp);
	sl_arena_reset(&T.arena);
	T.reason[0] = '\0';
	T.done_calls = 0;
	struct wire_request_header h;
	wire_request_header_init(&h);
	h.api_key = key;
	h.api_version = version;
	h.correlation_id = 77;
	h.client_id = wire_str_c("test");
	wire_request_header_encode(&T.req, &h);
}

static inline void frame_done(const struct brk_frame *f, enum brk_outcome outcome, void *ctx)
{
	(void)f;
	(void)ctx;
	T.done_calls++;
	T.done_outcome = outcome;
}

/* Handles the request in T.req and waits for its end; returns the final outcome. */
static inline enum brk_outcome handle(void)
{
	ck_assert_int_eq(sl_buf_err(&T.req), SL_OK);
	struct brk_frame f = {.data = T.req.data,
	                      .len = T.req.len,
	                      .arena = &T.arena,
	                      .log_ctx = "test",
	                      .done = frame_done};
	enum brk_outcome o = brk_handle(T.brk, &f, &T.resp, T.reason, sizeof(T.reason));
	if (o != BRK_PENDING)
		return o;
	int64_t deadline = sl_mono_ms() + 20000;
	while (T.done_calls == 0) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out waiting for the answer");
		(void)io_loop_run_once(T.loop, 50);
	}
	ck_assert_int_eq(T.done_calls, 1);
	return T.done_outcome;
}

static inline void body_reader(struct wire_reader *r, int16_t key, int16_t version)
{
	wire_reader_init(r, T.resp.data, T.resp.len, &T.arena);
	int32_t cid;
	ck_assert_int_eq(
	        wire_response_header_decode(r, wire_response_header_version(key, version), &cid),
	        SL_OK);
	ck_assert_int_eq(cid, 77);
}

/* A batch of n records with timestamps ts, ts+1, ... appended to out. */
static inline void make_batch(struct sl_buf *out, int n, int64_t ts, int value_len, int codec)
{
	static uint8_t val[4096];
	memset(val, 'v', sizeof(val));
	struct stor_record_in recs[64];
	ck_assert_int_le(n, 64);
	for (int i = 0; i < n; i++)
		recs[i] = (struct stor_record_in){
		        .timestamp_delta = i, .value = val, .value_len = value_len};
	struct stor_batch_params p;
	stor_batch_params_init(&p, ts);
	p.max_timestamp = ts + n - 1;
	p.attributes = (int16_t)codec;
	ck_assert_int_eq(stor_batch_build(out, &p, recs, (size_t)n), SL_OK);
}

struct pdata {
	const char *topic;
	int32_t partition;
	const uint8_t *records;
	int32_t len;
};

/* Sends one Produce with one topic entry per pdata (no merging), returns the outcome. */
static inline enum brk_outcome produce(int16_t v, int16_t acks, const struct pdata *pd, int n)
{
	begin(K_PRODUCE, v);
	struct wire_produce_request req;
	wire_produce_request_init(&req);
	req.acks = acks;
	req.timeout_ms = 30000;
	struct wire_produce_request_topic_produce_data td[8];
	struct wire_produce_request_partition_produce_data pp[8];
	ck_assert_int_le(n, 8);
	for (int i = 0; i < n; i++) {
		wire_produce_request_topic_produce_data_init(&td[i]);
		wire_produce_request_partition_produce_data_init(&pp[i]);
		td[i].name = wire_str_c(pd[i].topic);
		td[i].partition_data_count = 1;
		td[i].partition_data = &pp[i];
		pp[i].index = pd[i].partition;
		pp[i].records = (struct wire_bytes){pd[i].records, pd[i].len};
	}
	req.topic_data_count = n;
	req.topic_data = td;
	wire_produce_request_encode(&T.req, v, &req);
	return handle();
}

static inline struct wire_produce_response_partition_produce_response *
produce_reply(int16_t v, struct wire_produce_response *resp, int topic_index)
{
	struct wire_reader r;
	body_reader(&r, K_PRODUCE, v);
	ck_assert_int_eq(wire_produce_response_decode(&r, v, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_gt(resp->responses_count, topic_index);
	ck_assert_int_eq(resp->responses[topic_index].partition_responses_count, 1);
	return &resp->responses[topic_index].partition_responses[0];
}

/* Produces one batch of n records and returns its reply (asserted error-free). */
static inline int64_t produce_one(int16_t v, int16_t acks, const char *topic, int32_t partition,
                                  int n, int64_t ts)
{
	sl_buf_reset(&T.batch);
	make_batch(&T.batch, n, ts, 10, 0);
	struct pdata pd = {topic, partition, T.batch.data, (int32_t)T.batch.len};
	ck_assert_int_eq(produce(v, acks, &pd, 1), BRK_RESPOND);
	struct wire_produce_response resp;
	struct wire_produce_response_partition_produce_response *pr = produce_reply(v, &resp, 0);
	ck_assert_int_eq(pr->error_code, 0);
	return pr->base_offset;
}

static inline struct stor_log_state log_state(const char *topic, int32_t partition)
{
	struct stor_log *log = stor_log_manager_get(T.logs, topic, partition);
	ck_assert_ptr_nonnull(log);
	struct stor_log_state st;
	stor_log_get_state(log, &st);
	return st;
}

static inline int16_t produce_error(int16_t v, int16_t acks, const char *topic, int32_t partition,
                                    const uint8_t *records, int32_t len)
{
	struct pdata pd = {topic, partition, records, len};
	ck_assert_int_eq(produce(v, acks, &pd, 1), BRK_RESPOND);
	struct wire_produce_response resp;
	struct wire_produce_response_partition_produce_response *pr = produce_reply(v, &resp, 0);
	if (pr->error_code != 0) {
		ck_assert_int_eq(pr->base_offset, -1);
		ck_assert_int_eq(pr->log_start_offset, -1);
	}
	return pr->error_code;
}

/* ---- ListOffsets --------------------------------------------------------------------------- */

static inline struct wire_list_offsets_response_partition_response
list_offsets(int16_t v, const char *topic, int32_t partition, int64_t ts)
{
	begin(K_LIST_OFFSETS, v);
	struct wire_list_offsets_request_partition p;
	wire_list_offsets_request_partition_init(&p);
	p.partition_index = partition;
	p.timestamp = ts;
	p.max_num_offsets = 1;
	struct wire_list_offsets_request_topic t;
	wire_list_offsets_request_topic_init(&t);
	t.name = wire_str_c(topic);
	t.partitions_count = 1;
	t.partitions = &p;
	struct wire_list_offsets_request req;
	wire_list_offsets_request_init(&req);
	req.replica_id = -1;
	req.topics_count = 1;
	req.topics = &t;
	wire_list_offsets_request_encode(&T.req, v, &req);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_reader r;
	body_reader(&r, K_LIST_OFFSETS, v);
	struct wire_list_offsets_response resp;
	ck_assert_int_eq(wire_list_offsets_response_decode(&r, v, &resp), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(resp.topics_count, 1);
	ck_assert_int_eq(resp.topics[0].partitions_count, 1);
	return resp.topics[0].partitions[0];
}

/* ---- DeleteRecords ------------------------------------------------------------------------- */

static inline struct wire_delete_records_response_partition_result
delete_records(int16_t v, const char *topic, int64_t offset)
{
	begin(K_DELETE_RECORDS, v);
	struct wire_delete_records_request_partition p = {.partition_index = 0, .offset = offset};
	struct wire_delete_records_request_topic t;
	wire_delete_records_request_topic_init(&t);
	t.name = wire_str_c(topic);
	t.partitions_count = 1;
	t.partitions = &p;
	struct wire_delete_records_request req;
	wire_delete_records_request_init(&req);
	req.topics_count = 1;
	req.topics = &t;
	req.timeout_ms = 1000;
	wire_delete_records_request_encode(&T.req, v, &req);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_reader r;
	body_reader(&r, K_DELETE_RECORDS, v);
	struct wire_delete_records_response resp;
	ck_assert_int_eq(wire_delete_records_response_decode(&r, v, &resp), SL_OK);
	ck_assert(wire_reader_done(&r));
	return resp.topics[0].partitions[0];
}

#endif
