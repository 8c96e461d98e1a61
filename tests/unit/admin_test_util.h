/*
 * admin_test_util.h: the fixture shared by test_broker_admin.c and test_broker_configs.c: an
 * io loop, a real metadata log (raft_open in a temp dir) whose apply callback publishes each
 * committed batch as the next image and hands it to the controller (ctl_on_commit) and the
 * broker (brk_set_image), a controller (ctl_create) and a broker using it. Requests are built
 * with the generated encoders and sent through brk_handle(); a parked request is driven to its
 * end by running the loop (with a deadline). Each suite includes it once (static functions).
 */
#ifndef SL_ADMIN_TEST_UTIL_H
#define SL_ADMIN_TEST_UTIL_H

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

#define AT_NODE_ID 1
#define AT_CLUSTER_ID "MkU3OEVBNTcwNTJENDM2Qk"

/* Broker configs as the node would list them (sorted by name). */
static const struct brk_config_entry at_configs[] = {
        {"auto.create.topics.enable", "true", 4, false, "BOOLEAN", "auto-create topics"},
        {"log.retention.ms", "3600000", 4, false, "LONG", "retention of log segments"},
        {"log.segment.bytes", "1073741824", 5, false, "INT", "segment size"},
        {"message.max.bytes", "1048588", 5, false, "INT", "largest batch"},
        {"num.partitions", "1", 5, false, "INT", "default partition count"},
        {"ssl.keystore.password", NULL, 4, true, "PASSWORD", "keystore password"},
};

struct at_opts {
	bool no_controller;
	bool auto_create;
	bool delete_disabled;
	int16_t default_replication_factor; /* 0 = 1 */
};

struct at {
	struct io_loop *loop;
	char dir[256];
	struct raft *raft;
	struct ctl *ctl;
	struct brk *brk;
	struct meta_image *image; /* the committed image (own reference) */
	struct sl_arena arena;
	struct sl_buf req;
	struct sl_buf resp;
	char reason[256];
	struct brk_frame frame;
	int done_calls;
	enum brk_outcome done_outcome;
	int32_t correlation_id;
	int16_t api_key;
	int16_t api_version;
};

static struct at A;

static enum sl_err at_apply(void *ctx, int64_t base_offset, const struct wire_bytes *values,
                            size_t count, char *err, size_t err_len)
{
	(void)ctx;
	struct meta_delta *d = NULL;
	enum sl_err e = meta_delta_create(A.image, &d);
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
	meta_image_check_invariants(img);
	meta_image_unref(A.image);
	A.image = img;
	if (A.ctl != NULL)
		ctl_on_commit(A.ctl, img);
	if (A.brk != NULL)
		brk_set_image(A.brk, img);
	return SL_OK;
}

static void at_rmtree(const char *dir)
{
	char cmd[600];
	ck_assert(strncmp(dir, "/tmp/sl_admin_test_", 19) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The starting image: this broker registered and unfenced at broker.example:19092 (listener
 * PLAINTEXT, no rack), as after its registration; Metadata lists registered brokers only. */
static struct meta_image *at_registered_image(void)
{
	struct meta_image *empty = meta_image_create_empty();
	ck_assert_ptr_nonnull(empty);
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	meta_image_unref(empty);
	struct meta_register_broker_record_broker_endpoint ep;
	meta_register_broker_record_broker_endpoint_init(&ep);
	ep.name = wire_str_c("PLAINTEXT");
	ep.host = wire_str_c("broker.example");
	ep.port = 19092;
	struct meta_register_broker_record r;
	meta_register_broker_record_init(&r);
	r.broker_id = AT_NODE_ID;
	r.broker_epoch = 1;
	r.end_points_count = 1;
	r.end_points = &ep;
	r.rack = wire_str_c(NULL);
	r.fenced = false;
	struct sl_buf b;
	sl_buf_init(&b, 1 << 12);
	meta_frame_put(&b, META_REC_REGISTER_BROKER, 1);
	meta_register_broker_record_encode(&b, 1, &r);
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	char err[256] = "";
	ck_assert_msg(meta_delta_apply(d, b.data, b.len, err, sizeof(err)) == SL_OK, "%s", err);
	sl_buf_free(&b);
	struct meta_image *img = meta_delta_publish(d, -1);
	ck_assert_ptr_nonnull(img);
	return img;
}

/* bootstrap.checkpoint as `sluice storage format` writes it, reduced to what the decisions
 * need: one data batch with the metadata.version FeatureLevelRecord (3.9-IV0). */
static void at_write_bootstrap(const char *dir)
{
	struct sl_buf rec;
	sl_buf_init(&rec, 1 << 12);
	struct meta_feature_level_record fl;
	meta_feature_level_record_init(&fl);
	fl.name = wire_str_c("metadata.version");
	fl.feature_level = META_MV_3_9_IV0;
	meta_frame_put(&rec, META_REC_FEATURE_LEVEL, 0);
	meta_feature_level_record_encode(&rec, 0, &fl);
	ck_assert_int_eq(sl_buf_err(&rec), SL_OK);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	struct stor_batch_params p;
	stor_batch_params_init(&p, 1000);
	struct stor_record_in r = {.value = rec.data, .value_len = (int32_t)rec.len};
	ck_assert_int_eq(stor_batch_build(&b, &p, &r, 1), SL_OK);
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, STOR_BOOTSTRAP_CHECKPOINT_NAME);
	char err[256] = "";
	ck_assert_msg(stor_checkpoint_write(path, b.data, b.len, err, sizeof(err)) == SL_OK, "%s",
	              err);
	sl_buf_free(&b);
	sl_buf_free(&rec);
}

static void at_setup_opts(const struct at_opts *o)
{
	memset(&A, 0, sizeof(A));
	struct io_loop_opts lo = {.backend = IO_BACKEND_SYNC, .queue_depth = 64};
	char err[256] = "";
	ck_assert_msg(io_loop_create(&lo, &A.loop, err, sizeof(err)) == SL_OK, "%s", err);
	snprintf(A.dir, sizeof(A.dir), "/tmp/sl_admin_test_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(A.dir));
	at_write_bootstrap(A.dir);
	A.image = at_registered_image();
	struct raft_opts ro = {.loop = A.loop,
	                       .metadata_dir = A.dir,
	                       .node_id = AT_NODE_ID,
	                       .apply = at_apply,
	                       .apply_ctx = NULL};
	enum sl_err e = raft_open(&ro, &A.raft, err, sizeof(err));
	ck_assert_msg(e == SL_OK, "raft_open: %s %s", sl_err_name(e), err);
	if (!o->no_controller) {
		struct ctl_opts co = {.log = A.raft,
		                      .image = A.image,
		                      .env = {.num_partitions = 1,
		                              .default_replication_factor = 1,
		                              .metadata_version = META_MV_3_9_IV0}};
		ck_assert_int_eq(ctl_create(&co, &A.ctl), SL_OK);
	}
	struct brk_opts bo = {
	        .node_id = AT_NODE_ID,
	        .cluster_id = AT_CLUSTER_ID,
	        .loop = A.loop,
	        .ctl = A.ctl,
	        .auto_create_topics_enable = o->auto_create,
	        .delete_topic_enable = !o->delete_disabled,
	        .num_partitions = 3,
	        .default_replication_factor =
	                o->default_replication_factor > 0 ? o->default_replication_factor : 1,
	        .fetch_max_bytes = 57671680,
	        .max_incremental_fetch_session_cache_slots = 10,
	        .configs = at_configs,
	        .config_count = SL_ARRAY_LEN(at_configs),
	};
	ck_assert_int_eq(brk_create(&bo, &A.brk), SL_OK);
	brk_set_image(A.brk, A.image);
	sl_arena_init(&A.arena, 4096, 1 << 26);
	sl_buf_init(&A.req, 1 << 20);
	sl_buf_init(&A.resp, 1 << 24);
}

static void at_setup(void)
{
	struct at_opts o = {.auto_create = true};
	at_setup_opts(&o);
}

static void at_teardown(void)
{
	brk_stop(A.brk);
	int64_t deadline = sl_mono_ms() + 20000;
	while (brk_busy(A.brk) || raft_busy(A.raft) || io_loop_pending(A.loop) > 0) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out draining the loop");
		(void)io_loop_run_once(A.loop, 50);
	}
	brk_destroy(A.brk);
	if (A.ctl != NULL)
		ctl_destroy(A.ctl);
	raft_close(A.raft);
	io_loop_destroy(A.loop);
	meta_image_unref(A.image);
	sl_arena_free(&A.arena);
	sl_buf_free(&A.req);
	sl_buf_free(&A.resp);
	at_rmtree(A.dir);
}

/* Starts a request: resets the buffers and writes the header. */
static void at_begin(int16_t key, int16_t version)
{
	sl_buf_reset(&A.req);
	sl_buf_reset(&A.resp);
	sl_arena_reset(&A.arena);
	A.reason[0] = '\0';
	A.api_key = key;
	A.api_version = version;
	A.correlation_id++;
	struct wire_request_header h;
	wire_request_header_init(&h);
	h.api_key = key;
	h.api_version = version;
	h.correlation_id = A.correlation_id;
	h.client_id = wire_str_c("admin-test");
	wire_request_header_encode(&A.req, &h);
}

static void at_frame_done(const struct brk_frame *f, enum brk_outcome outcome, void *ctx)
{
	(void)f;
	(void)ctx;
	A.done_calls++;
	A.done_outcome = outcome;
}

/* Handles the request in A.req; a parked request is run to its end. */
static enum brk_outcome at_handle(void)
{
	ck_assert_int_eq(sl_buf_err(&A.req), SL_OK);
	A.done_calls = 0;
	A.frame = (struct brk_frame){.data = A.req.data,
	                             .len = A.req.len,
	                             .arena = &A.arena,
	                             .log_ctx = "admin-test",
	                             .done = at_frame_done};
	enum brk_outcome o = brk_handle(A.brk, &A.frame, &A.resp, A.reason, sizeof(A.reason));
	if (o != BRK_PENDING) {
		ck_assert(!brk_busy(A.brk));
		return o;
	}
	int64_t deadline = sl_mono_ms() + 20000;
	while (A.done_calls == 0) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out waiting for a parked request");
		(void)io_loop_run_once(A.loop, 50);
	}
	ck_assert_int_eq(A.done_calls, 1);
	ck_assert(!brk_busy(A.brk));
	return A.done_outcome;
}

/* A reader over the response body (header checked). */
static void at_resp_reader(struct wire_reader *r)
{
	wire_reader_init(r, A.resp.data, A.resp.len, &A.arena);
	int32_t cid = 0;
	int16_t hv = wire_response_header_version(A.api_key, A.api_version);
	ck_assert_int_eq(wire_response_header_decode(r, hv, &cid), SL_OK);
	ck_assert_int_eq(cid, A.correlation_id);
}

static const struct meta_topic *at_topic(const char *name)
{
	const struct meta_image *img = brk_image(A.brk);
	ck_assert_ptr_nonnull(img);
	return meta_image_topic(img, name, strlen(name));
}

/* ---- CreateTopics helpers (both suites create topics) ---------------------------------------- */

struct at_topic_in {
	const char *name;
	int32_t num_partitions;
	int16_t replication_factor;
	const char *config_name; /* NULL = none */
	const char *config_value;
};

static void at_create_topics_request(int16_t v, const struct at_topic_in *in, size_t n,
                                     bool validate_only)
{
	at_begin(19, v);
	struct wire_create_topics_request req;
	wire_create_topics_request_init(&req);
	struct wire_create_topics_request_creatable_topic ts[8];
	struct wire_create_topics_request_creatable_topic_config cs[8];
	ck_assert_uint_le(n, 8);
	for (size_t i = 0; i < n; i++) {
		wire_create_topics_request_creatable_topic_init(&ts[i]);
		ts[i].name = wire_str_c(in[i].name);
		ts[i].num_partitions = in[i].num_partitions;
		ts[i].replication_factor = in[i].replication_factor;
		ts[i].assignments_count = 0;
		ts[i].configs_count = 0;
		if (in[i].config_name != NULL) {
			wire_create_topics_request_creatable_topic_config_init(&cs[i]);
			cs[i].name = wire_str_c(in[i].config_name);
			cs[i].value = wire_str_c(in[i].config_value);
			ts[i].configs_count = 1;
			ts[i].configs = &cs[i];
		}
	}
	req.topics_count = (int32_t)n;
	req.topics = ts;
	req.timeout_ms = 30000;
	req.validate_only = validate_only;
	wire_create_topics_request_encode(&A.req, v, &req);
}

static void at_create_topics_decode(struct wire_create_topics_response *resp)
{
	struct wire_reader r;
	at_resp_reader(&r);
	ck_assert_int_eq(wire_create_topics_response_decode(&r, A.api_version, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
}

/* Creates one topic (CreateTopics v7) and asserts success. */
static void at_create_topic(const char *name, int32_t partitions)
{
	struct at_topic_in in = {name, partitions, 1, NULL, NULL};
	at_create_topics_request(7, &in, 1, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_create_topics_response resp;
	at_create_topics_decode(&resp);
	ck_assert_int_eq(resp.topics_count, 1);
	ck_assert_msg(resp.topics[0].error_code == 0, "create %s: %d %.*s", name,
	              resp.topics[0].error_code, (int)resp.topics[0].error_message.len,
	              resp.topics[0].error_message.ptr);
	ck_assert_ptr_nonnull(at_topic(name));
}

#endif
