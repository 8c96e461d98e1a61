/*
 * test_broker_envelope.c: the controller side of forwarding (src/broker/forward.c,
 * brk_handle_envelope: Envelope, key 58, on a controller listener) and the broker-lifecycle
 * RPCs a controller listener serves (src/broker/ctl_rpc.c: BrokerRegistration,
 * BrokerHeartbeat, ControllerRegistration), through brk_handle() with request frames.
 *
 * Fixture: a single-voter metadata log in a temp dir (bootstrap: metadata.version 3.9-IV0 and
 * broker 1 registered unfenced, so placement has a broker), an apply callback that publishes
 * each committed batch to the controller and the broker, and a broker with the log (opts.raft)
 * and, unless a test asks otherwise, the active controller (opts.ctl). Envelopes carry complete
 * inner request frames (header + body) as RequestData; a good one is answered with the complete
 * inner response (header with the inner correlation id, and body) as ResponseData.
 */
#include "check_main.h"

#include "broker.h"
#include "controller.h"
#include "io.h"
#include "metadata.h"
#include "raft.h"
#include "storage.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EV_NODE_ID 1
#define EV_CLUSTER_ID "RW52ZWxvcGVUZXN0Q2x1cw"
#define EV_INNER_CID 4242

#define K_PRODUCE 0
#define K_CREATE_TOPICS 19
#define K_DESCRIBE_QUORUM 55
#define K_ENVELOPE 58
#define K_BROKER_REGISTRATION 62
#define K_BROKER_HEARTBEAT 63
#define K_CONTROLLER_REGISTRATION 70

struct ev {
	char dir[64];
	struct io_loop *loop;
	struct raft *raft;
	struct ctl *ctl;
	struct brk *brk;
	struct meta_image *img; /* committed (own reference) */
	struct sl_arena arena;
	struct sl_buf req;   /* the frame handed to brk_handle */
	struct sl_buf inner; /* an inner request frame (RequestData) */
	struct sl_buf resp;
	char reason[256];
	int done_calls;
	enum brk_outcome done_outcome;
	int32_t cid;
	int16_t key;
	int16_t version;
};

static struct ev E;

static enum sl_err ev_apply(void *ctx, int64_t base_offset, const struct wire_bytes *values,
                            size_t count, char *err, size_t err_len)
{
	(void)ctx;
	struct meta_delta *d = NULL;
	enum sl_err e = meta_delta_create(E.img, &d);
	if (e != SL_OK)
		return e;
	for (size_t i = 0; i < count; i++) {
		e = meta_delta_apply(d, values[i].ptr, (size_t)values[i].len, err, err_len);
		if (e != SL_OK) {
			meta_delta_destroy(d);
			return e;
		}
	}
	struct meta_image *img = meta_delta_publish(d, base_offset + (int64_t)count - 1);
	ck_assert_ptr_nonnull(img);
	meta_image_unref(E.img);
	E.img = img;
	if (E.ctl != NULL)
		ctl_on_commit(E.ctl, img);
	if (E.brk != NULL)
		brk_set_image(E.brk, img);
	return SL_OK;
}

/* bootstrap.checkpoint: metadata.version 3.9-IV0, broker 1 registered and unfenced. */
static void write_bootstrap(const char *dir)
{
	struct sl_buf v1, v2;
	sl_buf_init(&v1, 1 << 12);
	sl_buf_init(&v2, 1 << 12);
	struct meta_feature_level_record fl;
	meta_feature_level_record_init(&fl);
	fl.name = wire_str_c("metadata.version");
	fl.feature_level = META_MV_3_9_IV0;
	meta_frame_put(&v1, META_REC_FEATURE_LEVEL, 0);
	meta_feature_level_record_encode(&v1, 0, &fl);
	struct meta_register_broker_record rb;
	meta_register_broker_record_init(&rb);
	rb.broker_id = EV_NODE_ID;
	rb.broker_epoch = 1;
	rb.fenced = false;
	meta_frame_put(&v2, META_REC_REGISTER_BROKER, 1);
	meta_register_broker_record_encode(&v2, 1, &rb);
	ck_assert_int_eq(sl_buf_err(&v1), SL_OK);
	ck_assert_int_eq(sl_buf_err(&v2), SL_OK);
	struct stor_record_in rec[2] = {{.value = v1.data, .value_len = (int32_t)v1.len},
	                                {.value = v2.data, .value_len = (int32_t)v2.len}};
	struct stor_batch_params p;
	stor_batch_params_init(&p, 1000);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	ck_assert_int_eq(stor_batch_build(&b, &p, rec, 2), SL_OK);
	char path[128], err[256] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, STOR_BOOTSTRAP_CHECKPOINT_NAME);
	ck_assert_msg(stor_checkpoint_write(path, b.data, b.len, err, sizeof(err)) == SL_OK, "%s",
	              err);
	sl_buf_free(&b);
	sl_buf_free(&v1);
	sl_buf_free(&v2);
}

static void setup_with(bool with_ctl)
{
	memset(&E, 0, sizeof(E));
	snprintf(E.dir, sizeof(E.dir), "/tmp/sl_brk_envelope_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(E.dir));
	struct io_loop_opts lo = {.backend = IO_BACKEND_SYNC, .queue_depth = 64};
	char err[512] = "";
	ck_assert_msg(io_loop_create(&lo, &E.loop, err, sizeof(err)) == SL_OK, "%s", err);
	write_bootstrap(E.dir);
	E.img = meta_image_create_empty();
	ck_assert_ptr_nonnull(E.img);
	struct raft_opts ro = {
	        .loop = E.loop, .metadata_dir = E.dir, .node_id = EV_NODE_ID, .apply = ev_apply};
	ck_assert_msg(raft_open(&ro, &E.raft, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert(raft_is_active(E.raft));
	ck_assert_ptr_nonnull(meta_image_broker(E.img, EV_NODE_ID));
	if (with_ctl) {
		struct ctl_opts co = {.log = E.raft,
		                      .image = E.img,
		                      .env = {.num_partitions = 1, .default_replication_factor = 1},
		                      .cluster_id = EV_CLUSTER_ID,
		                      .node_id = EV_NODE_ID};
		ck_assert_int_eq(ctl_create(&co, &E.ctl), SL_OK);
		ctl_tick(E.ctl, sl_mono_ms());
	}
	struct brk_opts bo = {.node_id = EV_NODE_ID,
	                      .cluster_id = EV_CLUSTER_ID,
	                      .loop = E.loop,
	                      .ctl = E.ctl,
	                      .raft = E.raft,
	                      .delete_topic_enable = true,
	                      .num_partitions = 1,
	                      .default_replication_factor = 1,
	                      .fetch_max_bytes = 57671680,
	                      .max_incremental_fetch_session_cache_slots = 10};
	ck_assert_int_eq(brk_create(&bo, &E.brk), SL_OK);
	brk_set_image(E.brk, E.img);
	sl_arena_init(&E.arena, 4096, 1 << 24);
	sl_buf_init(&E.req, 1 << 20);
	sl_buf_init(&E.inner, 1 << 20);
	sl_buf_init(&E.resp, 1 << 20);
}

static void setup(void)
{
	setup_with(true);
}

static void setup_no_ctl(void)
{
	setup_with(false);
}

static void teardown(void)
{
	brk_stop(E.brk);
	int64_t deadline = sl_mono_ms() + 20000;
	while (brk_busy(E.brk) || raft_busy(E.raft) || io_loop_pending(E.loop) > 0) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out draining the loop");
		(void)io_loop_run_once(E.loop, 50);
	}
	brk_destroy(E.brk);
	E.brk = NULL;
	if (E.ctl != NULL)
		ctl_destroy(E.ctl);
	raft_close(E.raft);
	io_loop_destroy(E.loop);
	meta_image_unref(E.img);
	sl_arena_free(&E.arena);
	sl_buf_free(&E.req);
	sl_buf_free(&E.inner);
	sl_buf_free(&E.resp);
	char cmd[128];
	ck_assert(strncmp(E.dir, "/tmp/sl_brk_envelope_", 21) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", E.dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- frames -----------------------------------------------------------------------------------
 */

static void header(struct sl_buf *b, int16_t key, int16_t version, int32_t cid)
{
	struct wire_request_header h;
	wire_request_header_init(&h);
	h.api_key = key;
	h.api_version = version;
	h.correlation_id = cid;
	h.client_id = wire_str_c("envelope-test");
	wire_request_header_encode(b, &h);
}

/* Starts the outer request in E.req. */
static void begin(int16_t key, int16_t version)
{
	sl_buf_reset(&E.req);
	sl_buf_reset(&E.resp);
	sl_arena_reset(&E.arena);
	E.reason[0] = '\0';
	E.key = key;
	E.version = version;
	E.cid++;
	header(&E.req, key, version, E.cid);
}

static void frame_done(const struct brk_frame *f, enum brk_outcome outcome, void *ctx)
{
	(void)f;
	(void)ctx;
	E.done_calls++;
	E.done_outcome = outcome;
}

/* Handles E.req on a controller (or broker) listener; a parked request is run to its end. */
static enum brk_outcome handle_on(bool controller_listener)
{
	ck_assert_int_eq(sl_buf_err(&E.req), SL_OK);
	E.done_calls = 0;
	struct brk_frame f = {.data = E.req.data,
	                      .len = E.req.len,
	                      .arena = &E.arena,
	                      .is_controller_listener = controller_listener,
	                      .log_ctx = "envelope-test",
	                      .done = frame_done};
	enum brk_outcome o = brk_handle(E.brk, &f, &E.resp, E.reason, sizeof(E.reason));
	if (o == BRK_PENDING) {
		int64_t deadline = sl_mono_ms() + 20000;
		while (E.done_calls == 0) {
			ck_assert_msg(sl_mono_ms() < deadline, "timed out waiting for the answer");
			(void)io_loop_run_once(E.loop, 50);
		}
		ck_assert_int_eq(E.done_calls, 1);
		o = E.done_outcome;
	} else {
		ck_assert_int_eq(E.done_calls, 0);
	}
	ck_assert(!brk_busy(E.brk));
	return o;
}

static enum brk_outcome handle(void)
{
	return handle_on(true);
}

/* A reader over the outer response body (header and correlation id checked). */
static void resp_reader(struct wire_reader *r)
{
	wire_reader_init(r, E.resp.data, E.resp.len, &E.arena);
	int32_t cid = 0;
	ck_assert_int_eq(wire_response_header_decode(
	                         r, wire_response_header_version(E.key, E.version), &cid),
	                 SL_OK);
	ck_assert_int_eq(cid, E.cid);
}

/* ---- envelopes --------------------------------------------------------------------------------
 */

/* The inner CreateTopics v7 frame for one topic into E.inner. */
static void inner_create_topics(const char *name, int32_t partitions)
{
	sl_buf_reset(&E.inner);
	header(&E.inner, K_CREATE_TOPICS, 7, EV_INNER_CID);
	struct wire_create_topics_request_creatable_topic t;
	wire_create_topics_request_creatable_topic_init(&t);
	t.name = wire_str_c(name);
	t.num_partitions = partitions;
	t.replication_factor = 1;
	struct wire_create_topics_request q;
	wire_create_topics_request_init(&q);
	q.topics = &t;
	q.topics_count = 1;
	q.timeout_ms = 30000;
	wire_create_topics_request_encode(&E.inner, 7, &q);
	ck_assert_int_eq(sl_buf_err(&E.inner), SL_OK);
}

/* An Envelope in E.req carrying data[0..len). */
static void envelope(const uint8_t *data, size_t len)
{
	begin(K_ENVELOPE, 0);
	static const uint8_t principal[] = {0,   0,   5,   'U', 's', 'e', 'r', 10, 'A', 'N',
	                                    'O', 'N', 'Y', 'M', 'O', 'U', 'S', 0,  0};
	static const uint8_t host[] = {127, 0, 0, 1};
	struct wire_envelope_request q;
	wire_envelope_request_init(&q);
	q.request_data = (struct wire_bytes){data, (int32_t)len};
	q.request_principal = (struct wire_bytes){principal, (int32_t)sizeof(principal)};
	q.client_host_address = (struct wire_bytes){host, (int32_t)sizeof(host)};
	wire_envelope_request_encode(&E.req, 0, &q);
}

static struct wire_envelope_response envelope_reply(void)
{
	struct wire_reader r;
	resp_reader(&r);
	struct wire_envelope_response out;
	ck_assert_int_eq(wire_envelope_response_decode(&r, 0, &out), SL_OK);
	ck_assert(wire_reader_done(&r));
	return out;
}

/* A reader over ResponseData, positioned after the inner header (correlation id checked). */
static void inner_reader(const struct wire_envelope_response *env, struct wire_reader *r,
                         int16_t key, int16_t version)
{
	ck_assert_int_gt(env->response_data.len, 4);
	wire_reader_init(r, env->response_data.ptr, (size_t)env->response_data.len, &E.arena);
	int32_t cid = 0;
	ck_assert_int_eq(
	        wire_response_header_decode(r, wire_response_header_version(key, version), &cid),
	        SL_OK);
	ck_assert_int_eq(cid, EV_INNER_CID);
}

START_TEST(test_envelope_create_topics)
{
	inner_create_topics("fwd", 3);
	envelope(E.inner.data, E.inner.len);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_envelope_response env = envelope_reply();
	ck_assert_int_eq(env.error_code, 0);
	struct wire_reader r;
	inner_reader(&env, &r, K_CREATE_TOPICS, 7);
	struct wire_create_topics_response cr;
	ck_assert_int_eq(wire_create_topics_response_decode(&r, 7, &cr), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(cr.topics_count, 1);
	ck_assert_int_eq(cr.topics[0].name.len, 3);
	ck_assert(memcmp(cr.topics[0].name.ptr, "fwd", 3) == 0);
	ck_assert_msg(cr.topics[0].error_code == 0, "%d", cr.topics[0].error_code);
	ck_assert_int_eq(cr.topics[0].num_partitions, 3);
	/* committed: in the controller's image and the broker's */
	const struct meta_topic *t = meta_image_topic(E.img, "fwd", 3);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->partition_count, 3);
	ck_assert_ptr_nonnull(meta_image_topic(brk_image(E.brk), "fwd", 3));

	/* the same again: the inner handler's own answer, TOPIC_ALREADY_EXISTS */
	envelope(E.inner.data, E.inner.len);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	env = envelope_reply();
	ck_assert_int_eq(env.error_code, 0);
	inner_reader(&env, &r, K_CREATE_TOPICS, 7);
	ck_assert_int_eq(wire_create_topics_response_decode(&r, 7, &cr), SL_OK);
	ck_assert_int_eq(cr.topics[0].error_code, WIRE_ERR_TOPIC_ALREADY_EXISTS);
}
END_TEST

START_TEST(test_envelope_describe_quorum)
{
	sl_buf_reset(&E.inner);
	header(&E.inner, K_DESCRIBE_QUORUM, 1, EV_INNER_CID);
	struct wire_describe_quorum_request_partition_data p = {.partition_index = 0};
	struct wire_describe_quorum_request_topic_data t;
	wire_describe_quorum_request_topic_data_init(&t);
	t.topic_name = wire_str_c("__cluster_metadata");
	t.partitions_count = 1;
	t.partitions = &p;
	struct wire_describe_quorum_request q;
	wire_describe_quorum_request_init(&q);
	q.topics_count = 1;
	q.topics = &t;
	wire_describe_quorum_request_encode(&E.inner, 1, &q);
	ck_assert_int_eq(sl_buf_err(&E.inner), SL_OK);
	envelope(E.inner.data, E.inner.len);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_envelope_response env = envelope_reply();
	ck_assert_int_eq(env.error_code, 0);
	struct wire_reader r;
	inner_reader(&env, &r, K_DESCRIBE_QUORUM, 1);
	struct wire_describe_quorum_response dq;
	ck_assert_int_eq(wire_describe_quorum_response_decode(&r, 1, &dq), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(dq.error_code, 0);
	ck_assert_int_eq(dq.topics_count, 1);
	ck_assert_int_eq(dq.topics[0].partitions_count, 1);
	const struct wire_describe_quorum_response_partition_data *pd = &dq.topics[0].partitions[0];
	ck_assert_int_eq(pd->error_code, 0);
	ck_assert_int_eq(pd->leader_id, EV_NODE_ID);
	ck_assert_int_eq(pd->leader_epoch, raft_epoch(E.raft));
	ck_assert_int_eq(pd->current_voters_count, 1);
	ck_assert_int_eq(pd->current_voters[0].replica_id, EV_NODE_ID);
}
END_TEST

START_TEST(test_envelope_not_forwardable)
{
	/* a whole Produce frame is not forwardable */
	sl_buf_reset(&E.inner);
	header(&E.inner, K_PRODUCE, 9, EV_INNER_CID);
	struct wire_produce_request q;
	wire_produce_request_init(&q);
	q.acks = -1;
	q.timeout_ms = 1000;
	wire_produce_request_encode(&E.inner, 9, &q);
	ck_assert_int_eq(sl_buf_err(&E.inner), SL_OK);
	envelope(E.inner.data, E.inner.len);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_envelope_response env = envelope_reply();
	ck_assert_int_eq(env.error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(env.response_data.len, -1);
	/* nor is an Envelope inside an Envelope */
	sl_buf_reset(&E.inner);
	header(&E.inner, K_ENVELOPE, 0, EV_INNER_CID);
	sl_buf_append(&E.inner, "\x01\x01\x01\x00", 4);
	envelope(E.inner.data, E.inner.len);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	env = envelope_reply();
	ck_assert_int_eq(env.error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(env.response_data.len, -1);
}
END_TEST

START_TEST(test_envelope_short_request_data)
{
	static const uint8_t shorty[5] = {0, K_CREATE_TOPICS, 0, 7, 0};
	envelope(shorty, sizeof(shorty));
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_envelope_response env = envelope_reply();
	ck_assert_int_eq(env.error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(env.response_data.len, -1);
	/* empty */
	envelope(shorty, 0);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	env = envelope_reply();
	ck_assert_int_eq(env.error_code, WIRE_ERR_INVALID_REQUEST);
	/* key, version and correlation id, but no client id: the header does not decode */
	inner_create_topics("never", 1);
	envelope(E.inner.data, 9);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	env = envelope_reply();
	ck_assert_int_eq(env.error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(env.response_data.len, -1);
	ck_assert_ptr_null(meta_image_topic(E.img, "never", 5));
}
END_TEST

START_TEST(test_envelope_malformed_inner_body)
{
	/* CreateTopics v7 cut short in the topic array */
	inner_create_topics("cut", 1);
	envelope(E.inner.data, E.inner.len - 6);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_envelope_response env = envelope_reply();
	ck_assert_int_eq(env.error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(env.response_data.len, -1);
	/* trailing bytes after the body */
	inner_create_topics("trail", 1);
	sl_buf_append(&E.inner, "junk", 4);
	envelope(E.inner.data, E.inner.len);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	env = envelope_reply();
	ck_assert_int_eq(env.error_code, WIRE_ERR_INVALID_REQUEST);
	/* an inner version this broker does not serve */
	inner_create_topics("vers", 1);
	E.inner.data[3] = 99; /* api version (big-endian int16 at bytes 2-3) */
	envelope(E.inner.data, E.inner.len);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	env = envelope_reply();
	ck_assert_int_eq(env.error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(env.response_data.len, -1);
	ck_assert_ptr_null(meta_image_topic(E.img, "cut", 3));
	ck_assert_ptr_null(meta_image_topic(E.img, "trail", 5));
	ck_assert_ptr_null(meta_image_topic(E.img, "vers", 4));
	/* the broker still serves a good one afterwards */
	inner_create_topics("ok", 1);
	envelope(E.inner.data, E.inner.len);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	env = envelope_reply();
	ck_assert_int_eq(env.error_code, 0);
	ck_assert_ptr_nonnull(meta_image_topic(E.img, "ok", 2));
}
END_TEST

START_TEST(test_envelope_malformed_outer)
{
	inner_create_topics("outer", 1);
	envelope(E.inner.data, E.inner.len);
	E.req.len -= 3; /* the Envelope body itself is cut */
	ck_assert_int_eq(handle(), BRK_CLOSE);
	ck_assert_str_ne(E.reason, "");
	ck_assert_ptr_null(meta_image_topic(E.img, "outer", 5));
}
END_TEST

START_TEST(test_envelope_on_broker_listener_closes)
{
	inner_create_topics("bl", 1);
	envelope(E.inner.data, E.inner.len);
	ck_assert_int_eq(handle_on(false), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(E.reason, "not served"));
	ck_assert_uint_eq(E.resp.len, 0);
	ck_assert_ptr_null(meta_image_topic(E.img, "bl", 2));
}
END_TEST

START_TEST(test_envelope_without_controller)
{
	inner_create_topics("noctl", 1);
	envelope(E.inner.data, E.inner.len);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_envelope_response env = envelope_reply();
	ck_assert_int_eq(env.error_code, WIRE_ERR_NOT_CONTROLLER);
	ck_assert_int_eq(env.response_data.len, -1);
	ck_assert_ptr_null(meta_image_topic(E.img, "noctl", 5));
}
END_TEST

/* ---- lifecycle RPCs (ctl_rpc.c) ----------------------------------------------------------------
 */

static struct sl_uuid incarnation(uint8_t n)
{
	struct sl_uuid u = {{0}};
	u.b[0] = 0x22;
	u.b[15] = n;
	return u;
}

static void broker_registration(int16_t v, int32_t id, const char *cluster_id, uint8_t inc)
{
	begin(K_BROKER_REGISTRATION, v);
	struct wire_broker_registration_request_listener l;
	wire_broker_registration_request_listener_init(&l);
	l.name = wire_str_c("PLAINTEXT");
	l.host = wire_str_c("b2.example");
	l.port = 9092;
	struct wire_broker_registration_request_feature f;
	wire_broker_registration_request_feature_init(&f);
	f.name = wire_str_c("metadata.version");
	f.min_supported_version = META_MV_3_0_IV1;
	f.max_supported_version = META_MV_LATEST;
	struct wire_broker_registration_request q;
	wire_broker_registration_request_init(&q);
	q.broker_id = id;
	q.cluster_id = wire_str_c(cluster_id);
	q.incarnation_id = incarnation(inc);
	q.listeners_count = 1;
	q.listeners = &l;
	q.features_count = 1;
	q.features = &f;
	q.rack = wire_str_c("r1");
	q.previous_broker_epoch = -1;
	wire_broker_registration_request_encode(&E.req, v, &q);
}

static struct wire_broker_registration_response registration_reply(void)
{
	struct wire_reader r;
	resp_reader(&r);
	struct wire_broker_registration_response out;
	ck_assert_int_eq(wire_broker_registration_response_decode(&r, E.version, &out), SL_OK);
	ck_assert(wire_reader_done(&r));
	return out;
}

static void broker_heartbeat(int32_t id, int64_t epoch, int64_t offset, bool want_fence)
{
	begin(K_BROKER_HEARTBEAT, 1);
	struct wire_broker_heartbeat_request q;
	wire_broker_heartbeat_request_init(&q);
	q.broker_id = id;
	q.broker_epoch = epoch;
	q.current_metadata_offset = offset;
	q.want_fence = want_fence;
	wire_broker_heartbeat_request_encode(&E.req, 1, &q);
}

static struct wire_broker_heartbeat_response heartbeat_reply(void)
{
	struct wire_reader r;
	resp_reader(&r);
	struct wire_broker_heartbeat_response out;
	ck_assert_int_eq(wire_broker_heartbeat_response_decode(&r, E.version, &out), SL_OK);
	ck_assert(wire_reader_done(&r));
	return out;
}

static void controller_registration(int32_t id, uint8_t inc)
{
	begin(K_CONTROLLER_REGISTRATION, 0);
	struct wire_controller_registration_request_listener l;
	wire_controller_registration_request_listener_init(&l);
	l.name = wire_str_c("CONTROLLER");
	l.host = wire_str_c("c.example");
	l.port = 9093;
	struct wire_controller_registration_request q;
	wire_controller_registration_request_init(&q);
	q.controller_id = id;
	q.incarnation_id = incarnation(inc);
	q.listeners_count = 1;
	q.listeners = &l;
	wire_controller_registration_request_encode(&E.req, 0, &q);
}

static struct wire_controller_registration_response controller_reply(void)
{
	struct wire_reader r;
	resp_reader(&r);
	struct wire_controller_registration_response out;
	ck_assert_int_eq(wire_controller_registration_response_decode(&r, 0, &out), SL_OK);
	ck_assert(wire_reader_done(&r));
	return out;
}

START_TEST(test_lifecycle_rpcs_without_controller)
{
	broker_registration(4, 2, EV_CLUSTER_ID, 1);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_broker_registration_response rr = registration_reply();
	ck_assert_int_eq(rr.error_code, WIRE_ERR_NOT_CONTROLLER);
	ck_assert_int_eq(rr.broker_epoch, -1);
	broker_registration(0, 2, EV_CLUSTER_ID, 1);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	ck_assert_int_eq(registration_reply().error_code, WIRE_ERR_NOT_CONTROLLER);

	broker_heartbeat(EV_NODE_ID, 1, 100, false);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_broker_heartbeat_response hr = heartbeat_reply();
	ck_assert_int_eq(hr.error_code, WIRE_ERR_NOT_CONTROLLER);

	controller_registration(1, 1);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_controller_registration_response cr = controller_reply();
	ck_assert_int_eq(cr.error_code, WIRE_ERR_NOT_CONTROLLER);
	ck_assert_ptr_null(meta_image_broker(E.img, 2));
	ck_assert_uint_eq(meta_image_controller_count(E.img), 0);
}
END_TEST

START_TEST(test_lifecycle_rpcs_malformed)
{
	broker_heartbeat(EV_NODE_ID, 1, 100, false);
	E.req.len -= 4; /* cut inside CurrentMetadataOffset / the flags */
	ck_assert_int_eq(handle(), BRK_CLOSE);
	ck_assert_str_ne(E.reason, "");
	broker_heartbeat(EV_NODE_ID, 1, 100, false);
	sl_buf_append(&E.req, "x", 1); /* trailing byte */
	ck_assert_int_eq(handle(), BRK_CLOSE);
	broker_registration(4, 2, EV_CLUSTER_ID, 1);
	E.req.len -= 10;
	ck_assert_int_eq(handle(), BRK_CLOSE);
	controller_registration(1, 1);
	E.req.len -= 3;
	ck_assert_int_eq(handle(), BRK_CLOSE);
	/* served on controller listeners only */
	broker_heartbeat(EV_NODE_ID, 1, 100, false);
	ck_assert_int_eq(handle_on(false), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(E.reason, "not served"));
}
END_TEST

START_TEST(test_lifecycle_rpcs_with_controller)
{
	/* a wrong cluster id */
	broker_registration(4, 2, "SomeOtherClusterIdXXXX", 1);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	ck_assert_int_eq(registration_reply().error_code, WIRE_ERR_INCONSISTENT_CLUSTER_ID);
	/* registration: answered after the commit with epoch = the record's offset */
	int64_t next = raft_end_offset(E.raft);
	broker_registration(4, 2, EV_CLUSTER_ID, 1);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_broker_registration_response rr = registration_reply();
	ck_assert_int_eq(rr.error_code, 0);
	ck_assert_int_eq(rr.broker_epoch, next);
	const struct meta_broker *b = meta_image_broker(E.img, 2);
	ck_assert_ptr_nonnull(b);
	ck_assert(b->fenced);
	ck_assert_str_eq(b->rack, "r1");
	ck_assert_str_eq(b->endpoints[0].host, "b2.example");
	/* heartbeat behind the registration, then caught up */
	broker_heartbeat(2, rr.broker_epoch, rr.broker_epoch - 1, false);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	struct wire_broker_heartbeat_response hr = heartbeat_reply();
	ck_assert_int_eq(hr.error_code, 0);
	ck_assert(!hr.is_caught_up);
	ck_assert(hr.is_fenced);
	broker_heartbeat(2, rr.broker_epoch, rr.broker_epoch, false);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	hr = heartbeat_reply();
	ck_assert_int_eq(hr.error_code, 0);
	ck_assert(hr.is_caught_up);
	ck_assert(!hr.is_fenced);
	ck_assert(!hr.should_shut_down);
	ck_assert(!meta_image_broker(E.img, 2)->fenced);
	/* a stale epoch */
	broker_heartbeat(2, rr.broker_epoch + 1, rr.broker_epoch, false);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	ck_assert_int_eq(heartbeat_reply().error_code, WIRE_ERR_STALE_BROKER_EPOCH);
	/* controller registration */
	controller_registration(1, 1);
	ck_assert_int_eq(handle(), BRK_RESPOND);
	ck_assert_int_eq(controller_reply().error_code, 0);
	const struct meta_controller *mc = meta_image_controller(E.img, 1);
	ck_assert_ptr_nonnull(mc);
	ck_assert_int_eq(mc->endpoints[0].port, 9093);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("broker_envelope");
	TCase *tc = tcase_create("controller");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_envelope_create_topics);
	tcase_add_test(tc, test_envelope_describe_quorum);
	tcase_add_test(tc, test_envelope_not_forwardable);
	tcase_add_test(tc, test_envelope_short_request_data);
	tcase_add_test(tc, test_envelope_malformed_inner_body);
	tcase_add_test(tc, test_envelope_malformed_outer);
	tcase_add_test(tc, test_envelope_on_broker_listener_closes);
	tcase_add_test(tc, test_lifecycle_rpcs_malformed);
	tcase_add_test(tc, test_lifecycle_rpcs_with_controller);
	suite_add_tcase(s, tc);
	TCase *tn = tcase_create("no_controller");
	tcase_add_checked_fixture(tn, setup_no_ctl, teardown);
	tcase_set_timeout(tn, 120);
	tcase_add_test(tn, test_envelope_without_controller);
	tcase_add_test(tn, test_lifecycle_rpcs_without_controller);
	suite_add_tcase(s, tn);
	return s;
}
