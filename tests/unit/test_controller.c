/*
 * test_controller.c: the controller service (src/controller/controller.c) over a real local
 * metadata log in a temp dir and the real image code: the view sees proposals in flight, the
 * committed image sees them before done runs, rejected records leave the view alone, restart
 * rebuilds the same image, and a log failure fails proposals and resets the view. The
 * committed image is kept by the node's own apply callback (src/node/node_meta.c), so this also
 * covers the node's wiring of log, image and controller; plus the node's broker config listing.
 */
#include "check_main.h"
#include "controller.h"
#include "io.h"
#include "log_int.h"
#include "metadata.h"
#include "node_int.h"
#include "raft.h"
#include "raft_int.h"
#include "storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_ID 1

/* What a node does: the committed image kept by node_meta_apply, handed to the controller. */
struct fx {
	char dir[64];
	struct io_loop *loop;
	struct raft *raft;
	struct ctl *ctl;
	struct node_meta meta;
	struct sl_arena arena;
};

static void write_bootstrap(const char *dir)
{
	struct sl_buf v;
	sl_buf_init(&v, 1024);
	struct meta_feature_level_record r;
	meta_feature_level_record_init(&r);
	r.name = wire_str_c("metadata.version");
	r.feature_level = META_MV_3_9_IV0;
	meta_frame_put(&v, META_REC_FEATURE_LEVEL, 0);
	meta_feature_level_record_encode(&v, 0, &r);
	/* this node registered and unfenced, so placement has a broker */
	struct sl_buf v2;
	sl_buf_init(&v2, 1024);
	struct meta_register_broker_record rb;
	meta_register_broker_record_init(&rb);
	rb.broker_id = NODE_ID;
	rb.broker_epoch = 1;
	rb.fenced = false;
	meta_frame_put(&v2, META_REC_REGISTER_BROKER, 1);
	meta_register_broker_record_encode(&v2, 1, &rb);
	ck_assert_int_eq(sl_buf_err(&v), SL_OK);
	ck_assert_int_eq(sl_buf_err(&v2), SL_OK);
	struct stor_record_in rec[2] = {{.value = v.data, .value_len = (int32_t)v.len},
	                                {.value = v2.data, .value_len = (int32_t)v2.len}};
	struct stor_batch_params p;
	stor_batch_params_init(&p, 1000);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	ck_assert_int_eq(stor_batch_build(&b, &p, rec, 2), SL_OK);
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/%s", dir, STOR_BOOTSTRAP_CHECKPOINT_NAME);
	ck_assert_msg(stor_checkpoint_write(path, b.data, b.len, err, sizeof(err)) == SL_OK, "%s",
	              err);
	sl_buf_free(&b);
	sl_buf_free(&v);
	sl_buf_free(&v2);
}

static void fx_start(struct fx *f)
{
	ck_assert_int_eq(node_meta_init(&f->meta, "test"), SL_OK);
	struct raft_opts o = {.loop = f->loop,
	                      .metadata_dir = f->dir,
	                      .node_id = NODE_ID,
	                      .apply = node_meta_apply,
	                      .apply_ctx = &f->meta};
	char err[512] = "";
	ck_assert_msg(raft_open(&o, &f->raft, err, sizeof(err)) == SL_OK, "%s", err);
	struct ctl_opts co = {
	        .log = f->raft,
	        .image = f->meta.img,
	        .env = {.num_partitions = 2, .default_replication_factor = 1},
	};
	ck_assert_int_eq(ctl_create(&co, &f->ctl), SL_OK);
	f->meta.ctl = f->ctl;
}

static void fx_stop(struct fx *f)
{
	raft_close(f->raft);
	f->raft = NULL;
	f->meta.ctl = NULL;
	ctl_destroy(f->ctl);
	f->ctl = NULL;
	node_meta_fini(&f->meta);
}

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sl_ctl_test_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	struct io_loop_opts lo = {.backend = IO_BACKEND_AUTO, .queue_depth = 64};
	char err[256];
	ck_assert_msg(io_loop_create(&lo, &f->loop, err, sizeof(err)) == SL_OK, "%s", err);
	sl_arena_init(&f->arena, 4096, 1 << 22);
	write_bootstrap(f->dir);
	fx_start(f);
}

static void fx_fini(struct fx *f)
{
	fx_stop(f);
	io_loop_destroy(f->loop);
	sl_arena_free(&f->arena);
	char cmd[128];
	ck_assert(strncmp(f->dir, "/tmp/sl_ctl_test_", 17) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

struct done_rec {
	int calls;
	enum sl_err err;
	struct fx *f;
	bool topic_committed; /* the committed image had the topic when done ran */
	const char *topic;
	int *order;
	int my_order;
};

static void on_done(void *ctx, enum sl_err err)
{
	struct done_rec *d = ctx;
	d->calls++;
	d->err = err;
	if (d->topic != NULL)
		d->topic_committed =
		        meta_image_topic(d->f->meta.img, d->topic, strlen(d->topic)) != NULL;
	if (d->order != NULL)
		d->my_order = (*d->order)++;
}

static void run_until(struct fx *f, const int *calls, int want)
{
	int64_t deadline = sl_mono_ms() + 20000;
	while (*calls < want) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out");
		(void)io_loop_run_once(f->loop, 50);
	}
}

/* Decides CreateTopics for name against the view; returns the records. */
static void decide_create(struct fx *f, const char *name, int partitions, struct meta_records *out,
                          struct sl_uuid *id)
{
	ck_assert_int_eq(ctl_new_topic_id(f->ctl, id), SL_OK);
	struct meta_topic_spec spec = {
	        .name = wire_str_c(name),
	        .num_partitions = partitions,
	        .replication_factor = -1,
	        .new_id = *id,
	};
	meta_records_init(out, &f->arena);
	int32_t np = 0;
	int16_t rf = 0;
	struct meta_ctl_result res;
	meta_ctl_create_topic(ctl_view(f->ctl), ctl_env(f->ctl), &spec, false, out, &np, &rf, &res);
	ck_assert_msg(res.error_code == 0, "create %s: %d %s", name, res.error_code, res.message);
	ck_assert_int_eq(np, partitions);
	ck_assert_uint_ge(out->count, 1 + (size_t)partitions);
}

START_TEST(test_view_sees_inflight_and_commit_before_done)
{
	struct fx f;
	fx_init(&f);
	/* the bootstrap batch (0: LeaderChange; 1: metadata.version, 2: RegisterBroker) */
	ck_assert_int_eq(meta_image_offset(f.meta.img), 2);
	ck_assert_ptr_nonnull(meta_image_broker(f.meta.img, NODE_ID));
	ck_assert_int_eq(meta_image_metadata_version(f.meta.img), META_MV_3_9_IV0);
	ck_assert_ptr_eq(ctl_view(f.ctl), f.meta.img);
	ck_assert_int_eq(ctl_env(f.ctl)->metadata_version, META_MV_3_9_IV0);

	struct meta_records ra, rb;
	struct sl_uuid ida, idb;
	decide_create(&f, "alpha", 3, &ra, &ida);
	int order = 0;
	struct done_rec da = {.f = &f, .topic = "alpha", .order = &order};
	ck_assert_int_eq(ctl_propose(f.ctl, &ra, on_done, &da), SL_OK);
	/* In flight: the view has it, the committed image does not. */
	ck_assert_ptr_nonnull(meta_image_topic(ctl_view(f.ctl), "alpha", 5));
	ck_assert_ptr_null(meta_image_topic(f.meta.img, "alpha", 5));
	/* A second request decides against the first one's effect. */
	decide_create(&f, "beta", 1, &rb, &idb);
	ck_assert(!sl_uuid_eq(&ida, &idb));
	struct meta_records dup;
	meta_records_init(&dup, &f.arena);
	struct meta_topic_spec spec = {.name = wire_str_c("alpha"),
	                               .num_partitions = 1,
	                               .replication_factor = -1,
	                               .new_id = idb};
	struct meta_ctl_result res;
	int32_t np;
	int16_t rf;
	meta_ctl_create_topic(ctl_view(f.ctl), ctl_env(f.ctl), &spec, false, &dup, &np, &rf, &res);
	ck_assert_int_ne(res.error_code, 0); /* TOPIC_ALREADY_EXISTS against the view */
	struct done_rec db = {.f = &f, .topic = "beta", .order = &order};
	ck_assert_int_eq(ctl_propose(f.ctl, &rb, on_done, &db), SL_OK);
	ck_assert_ptr_nonnull(meta_image_topic(ctl_view(f.ctl), "alpha", 5));
	ck_assert_ptr_nonnull(meta_image_topic(ctl_view(f.ctl), "beta", 4));
	ck_assert_int_eq(da.calls + db.calls, 0);

	run_until(&f, &order, 2);
	ck_assert_int_eq(da.err, SL_OK);
	ck_assert_int_eq(db.err, SL_OK);
	ck_assert_int_eq(da.my_order, 0);
	ck_assert_int_eq(db.my_order, 1);
	ck_assert(da.topic_committed);
	ck_assert(db.topic_committed);
	/* Nothing in flight: the view is the committed image again. */
	ck_assert_ptr_eq(ctl_view(f.ctl), f.meta.img);
	const struct meta_topic *t = meta_image_topic(f.meta.img, "alpha", 5);
	ck_assert_ptr_nonnull(t);
	ck_assert(sl_uuid_eq(&t->id, &ida));
	ck_assert_int_eq(t->partition_count, 3);
	ck_assert_int_eq(meta_image_offset(f.meta.img), raft_end_offset(f.raft) - 1);
	meta_image_check_invariants(f.meta.img);

	/* Restart: the same image (same ids) from the log (+ the new epoch's LeaderChange). */
	int64_t end = raft_end_offset(f.raft);
	fx_stop(&f);
	fx_start(&f);
	ck_assert_int_eq(raft_end_offset(f.raft), end + 1);
	ck_assert_int_eq(meta_image_topic_count(f.meta.img), 2);
	t = meta_image_topic(f.meta.img, "alpha", 5);
	ck_assert_ptr_nonnull(t);
	ck_assert(sl_uuid_eq(&t->id, &ida));
	ck_assert_int_eq(t->partition_count, 3);
	t = meta_image_topic(f.meta.img, "beta", 4);
	ck_assert_ptr_nonnull(t);
	ck_assert(sl_uuid_eq(&t->id, &idb));
	ck_assert_int_eq(meta_image_offset(f.meta.img), end - 1);
	fx_fini(&f);
}
END_TEST

START_TEST(test_rejected_records_leave_view)
{
	struct fx f;
	fx_init(&f);
	struct meta_records ra;
	struct sl_uuid ida;
	decide_create(&f, "alpha", 1, &ra, &ida);
	int order = 0;
	struct done_rec da = {.f = &f, .order = &order};
	ck_assert_int_eq(ctl_propose(f.ctl, &ra, on_done, &da), SL_OK);
	const struct meta_image *before = ctl_view(f.ctl);
	/* The same records again: a duplicate topic the view rejects. */
	struct done_rec bad = {.f = &f, .order = &order};
	ck_assert_int_eq(ctl_propose(f.ctl, &ra, on_done, &bad), SL_EINVAL);
	ck_assert_ptr_eq(ctl_view(f.ctl), before);
	/* A partition of an unknown topic. */
	struct sl_buf b;
	sl_buf_init(&b, 4096);
	struct meta_partition_record pr;
	meta_partition_record_init(&pr);
	ck_assert_int_eq(sl_uuid_random(&pr.topic_id), SL_OK);
	int32_t rep[1] = {NODE_ID};
	pr.replicas_count = pr.isr_count = 1;
	pr.replicas = pr.isr = rep;
	pr.leader = NODE_ID;
	meta_frame_put(&b, META_REC_PARTITION, 0);
	meta_partition_record_encode(&b, 0, &pr);
	struct wire_bytes v = {b.data, (int32_t)b.len};
	struct meta_records one = {.arena = &f.arena, .count = 1, .cap = 1, .values = &v};
	ck_assert_int_eq(ctl_propose(f.ctl, &one, on_done, &bad), SL_EINVAL);
	ck_assert_ptr_eq(ctl_view(f.ctl), before);
	sl_buf_free(&b);

	run_until(&f, &order, 1);
	ck_assert_int_eq(da.err, SL_OK);
	ck_assert_int_eq(bad.calls, 0);
	ck_assert_int_eq(meta_image_topic_count(f.meta.img), 1);
	/* Nothing of the rejected proposals reached the log: after a restart the log holds what
	 * it held plus the new epoch's LeaderChange record. */
	int64_t end = raft_end_offset(f.raft);
	fx_stop(&f);
	fx_start(&f);
	ck_assert_int_eq(raft_end_offset(f.raft), end + 1);
	ck_assert_int_eq(meta_image_topic_count(f.meta.img), 1);
	fx_fini(&f);
}
END_TEST

START_TEST(test_empty_proposal_completes_at_once)
{
	struct fx f;
	fx_init(&f);
	struct meta_records none;
	meta_records_init(&none, &f.arena);
	struct done_rec d = {.f = &f};
	ck_assert_int_eq(ctl_propose(f.ctl, &none, on_done, &d), SL_OK);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_int_eq(d.err, SL_OK);
	ck_assert(!raft_busy(f.raft));
	fx_fini(&f);
}
END_TEST

START_TEST(test_new_topic_id)
{
	struct fx f;
	fx_init(&f);
	struct meta_records ra;
	struct sl_uuid ida;
	decide_create(&f, "alpha", 1, &ra, &ida);
	int order = 0;
	struct done_rec da = {.f = &f, .order = &order};
	ck_assert_int_eq(ctl_propose(f.ctl, &ra, on_done, &da), SL_OK);
	run_until(&f, &order, 1);
	struct sl_uuid prev = ida;
	for (int i = 0; i < 200; i++) {
		struct sl_uuid id;
		ck_assert_int_eq(ctl_new_topic_id(f.ctl, &id), SL_OK);
		ck_assert(!sl_uuid_is_zero(&id));
		ck_assert(!sl_uuid_is_reserved(&id));
		ck_assert_ptr_null(meta_image_topic_by_id(f.meta.img, id));
		ck_assert(!sl_uuid_eq(&id, &prev));
		prev = id;
	}
	fx_fini(&f);
}
END_TEST

START_TEST(test_log_failure_fails_and_resets_view)
{
	struct fx f;
	fx_init(&f);
	struct meta_records ra, rb;
	struct sl_uuid ida, idb;
	decide_create(&f, "alpha", 1, &ra, &ida);
	int order = 0;
	struct done_rec da = {.f = &f, .order = &order};
	ck_assert_int_eq(ctl_propose(f.ctl, &ra, on_done, &da), SL_OK);
	decide_create(&f, "beta", 1, &rb, &idb);
	struct done_rec db = {.f = &f, .order = &order};
	ck_assert_int_eq(ctl_propose(f.ctl, &rb, on_done, &db), SL_OK);
	stor_log_set_offline(f.raft->log, SL_EIO, "test");
	run_until(&f, &order, 2);
	ck_assert_int_eq(da.err, SL_EIO);
	ck_assert_int_eq(db.err, SL_EIO);
	ck_assert_ptr_eq(ctl_view(f.ctl), f.meta.img);
	ck_assert_ptr_null(meta_image_topic(ctl_view(f.ctl), "alpha", 5));
	struct meta_records rc;
	struct sl_uuid idc;
	decide_create(&f, "gamma", 1, &rc, &idc);
	struct done_rec dc = {.f = &f, .order = &order};
	ck_assert_int_eq(ctl_propose(f.ctl, &rc, on_done, &dc), SL_EIO);
	ck_assert_ptr_eq(ctl_view(f.ctl), f.meta.img);
	ck_assert_int_eq(dc.calls, 0);
	int64_t deadline = sl_mono_ms() + 10000;
	while (raft_busy(f.raft)) {
		ck_assert(sl_mono_ms() < deadline);
		(void)io_loop_run_once(f.loop, 50);
	}
	fx_fini(&f);
}
END_TEST

START_TEST(test_node_apply_rejects_and_flags_failure)
{
	struct fx f;
	fx_init(&f);
	struct meta_image *before = f.meta.img;
	static const uint8_t junk[] = {7, 7, 7};
	struct wire_bytes v = {junk, sizeof(junk)};
	char err[256] = "";
	ck_assert_int_ne(node_meta_apply(&f.meta, 5, &v, 1, err, sizeof(err)), SL_OK);
	ck_assert_ptr_nonnull(strstr(err, "offset 5"));
	ck_assert(f.meta.failed); /* after start-up (controller attached): the node must stop */
	ck_assert_ptr_eq(f.meta.img, before);
	ck_assert_ptr_eq(ctl_view(f.ctl), before);
	fx_fini(&f);
}
END_TEST

START_TEST(test_broker_config_listing)
{
	struct node_override ov[] = {
	        {"process.roles", "broker,controller", 0},
	        {"node.id", "1", 0},
	        {"controller.quorum.voters", "1@localhost:9093", 0},
	        {"listeners", "PLAINTEXT://:9092,CONTROLLER://:9093", 0},
	        {"controller.listener.names", "CONTROLLER", 0},
	        {"log.dirs", "/tmp/sl-ctl-test-unused", 0},
	        {"num.partitions", " 4", 0},
	};
	static struct node_config c;
	struct node_config_warnings w;
	char err[512];
	ck_assert_msg(node_config_load(NULL, ov, SL_ARRAY_LEN(ov), &c, &w, err, sizeof(err)) ==
	                      SL_OK,
	              "%s", err);
	struct brk_config_entry *e;
	size_t n;
	ck_assert_int_eq(node_broker_configs(&c, &e, &n), SL_OK);
	ck_assert_uint_eq(n, node_config_key_count());
	bool saw_np = false, saw_seg = false;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ck_assert_int_lt(strcmp(e[i - 1].name, e[i].name), 0); /* sorted, unique */
		ck_assert_ptr_nonnull(e[i].type);
		if (strcmp(e[i].name, "num.partitions") == 0) {
			saw_np = true;
			ck_assert_int_eq(e[i].source, NODE_CONFIG_SOURCE_STATIC_BROKER);
			ck_assert_ptr_nonnull(e[i].value);
			ck_assert_ptr_nonnull(strstr(e[i].value, "4"));
			ck_assert_str_eq(e[i].type, "INT");
		}
		if (strcmp(e[i].name, "log.segment.bytes") == 0) {
			saw_seg = true;
			ck_assert_int_eq(e[i].source, NODE_CONFIG_SOURCE_DEFAULT);
			ck_assert_str_eq(e[i].value, "1073741824");
		}
		if (strstr(e[i].name, "password") != NULL) {
			ck_assert(e[i].is_sensitive);
			ck_assert_ptr_null(e[i].value);
		}
	}
	ck_assert(saw_np && saw_seg);
	free(e);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("controller");
	TCase *tc = tcase_create("controller");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_view_sees_inflight_and_commit_before_done);
	tcase_add_test(tc, test_rejected_records_leave_view);
	tcase_add_test(tc, test_empty_proposal_completes_at_once);
	tcase_add_test(tc, test_new_topic_id);
	tcase_add_test(tc, test_log_failure_fails_and_resets_view);
	tcase_add_test(tc, test_node_apply_rejects_and_flags_failure);
	tcase_add_test(tc, test_broker_config_listing);
	suite_add_tcase(s, tc);
	return s;
}
