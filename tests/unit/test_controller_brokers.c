/*
 * test_controller_brokers.c: the controller's broker lifecycle (src/controller/brokers.c)
 * through controller.h: BrokerRegistration (epochs = record offsets, retries, duplicates,
 * cluster id and metadata.version checks), heartbeats (stale epochs, catching up, unfencing),
 * session expiry from ctl_tick (one broker per tick, leaderships move, a heartbeat brings the
 * broker back), controlled shutdown and ControllerRegistration.
 *
 * Set-up as a node: a single-voter metadata log over a temp dir whose bootstrap checkpoint
 * holds only metadata.version; the apply callback publishes each committed batch as the next
 * image and hands it to the controller (ctl_on_commit), and also notes every committed
 * record's offset and type (and decodes BrokerRegistrationChange records) so the tests can
 * assert exactly what was written. Replies are checked against the committed image as it is
 * when the reply runs (a reply comes only after its records committed).
 */
#include "check_main.h"

#include "controller.h"
#include "ctl_int.h" /* to simulate a failover: active = false */
#include "io.h"
#include "metadata.h"
#include "raft.h"
#include "storage.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CB_CLUSTER_ID "Q2x1c3RlcklkRm9yVGVzdA"
#define CB_TIMEOUT_MS 60000 /* long: real time never expires a session by accident */
#define CB_RECS_MAX 512

/* One committed record. */
struct cb_rec {
	int64_t offset;
	int16_t type;
	/* BrokerRegistrationChange only */
	int32_t broker_id;
	int8_t fenced;
	int8_t in_controlled_shutdown;
};

struct cb {
	char dir[64];
	struct io_loop *loop;
	struct raft *raft;
	struct ctl *ctl;
	struct meta_image *img; /* committed (own reference) */
	struct sl_arena arena;
	struct cb_rec recs[CB_RECS_MAX];
	size_t rec_count;
	bool inactive; /* a Raft follower: its timers stay pending until raft_close */
};

static struct cb F;

static void note_record(int64_t offset, const struct wire_bytes *v)
{
	ck_assert_uint_lt(F.rec_count, CB_RECS_MAX);
	struct cb_rec *c = &F.recs[F.rec_count++];
	*c = (struct cb_rec){.offset = offset, .type = -1, .broker_id = -1};
	struct sl_arena a;
	sl_arena_init(&a, 1024, 1 << 16);
	struct wire_reader r;
	wire_reader_init(&r, v->ptr, (size_t)v->len, &a);
	int16_t key = 0, version = 0;
	ck_assert_int_eq(meta_frame_get(&r, &key, &version), SL_OK);
	c->type = key;
	if (key == META_REC_BROKER_REGISTRATION_CHANGE) {
		struct meta_broker_registration_change_record brc;
		ck_assert_int_eq(meta_broker_registration_change_record_decode(&r, version, &brc),
		                 SL_OK);
		c->broker_id = brc.broker_id;
		c->fenced = brc.fenced;
		c->in_controlled_shutdown = brc.in_controlled_shutdown;
	}
	sl_arena_free(&a);
}

static enum sl_err cb_apply(void *ctx, int64_t base_offset, const struct wire_bytes *values,
                            size_t count, char *err, size_t err_len)
{
	(void)ctx;
	struct meta_delta *d = NULL;
	enum sl_err e = meta_delta_create(F.img, &d);
	if (e != SL_OK)
		return e;
	for (size_t i = 0; i < count; i++) {
		e = meta_delta_apply(d, values[i].ptr, (size_t)values[i].len, err, err_len);
		if (e != SL_OK) {
			meta_delta_destroy(d);
			return e;
		}
		note_record(base_offset + (int64_t)i, &values[i]);
	}
	struct meta_image *img = meta_delta_publish(d, base_offset + (int64_t)count - 1);
	ck_assert_ptr_nonnull(img);
	meta_image_check_invariants(img);
	meta_image_unref(F.img);
	F.img = img;
	if (F.ctl != NULL)
		ctl_on_commit(F.ctl, img);
	return SL_OK;
}

/* bootstrap.checkpoint with the metadata.version FeatureLevelRecord (3.9-IV0) only. */
static void write_bootstrap(const char *dir)
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
	char path[128], err[256] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, STOR_BOOTSTRAP_CHECKPOINT_NAME);
	ck_assert_msg(stor_checkpoint_write(path, b.data, b.len, err, sizeof(err)) == SL_OK, "%s",
	              err);
	sl_buf_free(&b);
	sl_buf_free(&rec);
}

/* inactive: a quorum of two voters whose other voter never answers (and a long election
 * timeout): this controller never becomes active. */
static void setup_full(int64_t session_timeout_ms, bool inactive)
{
	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/sl_ctl_brokers_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(F.dir));
	struct io_loop_opts lo = {.backend = IO_BACKEND_SYNC, .queue_depth = 64};
	char err[512] = "";
	ck_assert_msg(io_loop_create(&lo, &F.loop, err, sizeof(err)) == SL_OK, "%s", err);
	sl_arena_init(&F.arena, 4096, 1 << 22);
	write_bootstrap(F.dir);
	F.img = meta_image_create_empty();
	ck_assert_ptr_nonnull(F.img);
	struct raft_opts ro = {
	        .loop = F.loop, .metadata_dir = F.dir, .node_id = 1, .apply = cb_apply};
	F.inactive = inactive;
	if (inactive) {
		ro.voter_count = 2;
		ro.voters[0] = (struct raft_voter){.id = 1, .host = "127.0.0.1", .port = 1};
		ro.voters[1] = (struct raft_voter){.id = 2, .host = "127.0.0.1", .port = 2};
		ro.election_timeout_ms = 600000;
	}
	ck_assert_msg(raft_open(&ro, &F.raft, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert(raft_is_active(F.raft) == !inactive);
	struct ctl_opts co = {.log = F.raft,
	                      .image = F.img,
	                      .env = {.num_partitions = 1, .default_replication_factor = 1},
	                      .cluster_id = CB_CLUSTER_ID,
	                      .session_timeout_ms = session_timeout_ms,
	                      .node_id = 1};
	ck_assert_int_eq(ctl_create(&co, &F.ctl), SL_OK);
	/* The node ticks from the start: the controller notices it is active (no broker yet). */
	ctl_tick(F.ctl, sl_mono_ms());
	F.rec_count = 0; /* only what the tests cause */
}

static void setup(void)
{
	setup_full(CB_TIMEOUT_MS, false);
}

static void teardown(void)
{
	int64_t deadline = sl_mono_ms() + 20000;
	while (raft_busy(F.raft) || (!F.inactive && io_loop_pending(F.loop) > 0)) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out draining the loop");
		(void)io_loop_run_once(F.loop, 50);
	}
	raft_close(F.raft);
	ctl_destroy(F.ctl);
	io_loop_destroy(F.loop);
	meta_image_unref(F.img);
	sl_arena_free(&F.arena);
	char cmd[128];
	ck_assert(strncmp(F.dir, "/tmp/sl_ctl_brokers_", 20) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ---- replies ------------------------------------------------------------------------------ */

struct reply {
	int calls;
	struct ctl_broker_result res;
	int64_t committed_offset; /* of the committed image when the reply ran */
	int32_t watch_id;         /* broker whose committed state is noted (0 = none) */
	bool found, fenced, in_controlled_shutdown;
};

static void on_reply(void *ctx, const struct ctl_broker_result *res)
{
	struct reply *r = ctx;
	r->calls++;
	r->res = *res;
	r->committed_offset = meta_image_offset(F.img);
	if (r->watch_id != 0) {
		const struct meta_broker *b = meta_image_broker(F.img, r->watch_id);
		r->found = b != NULL;
		r->fenced = b != NULL && b->fenced;
		r->in_controlled_shutdown = b != NULL && b->in_controlled_shutdown;
	}
}

static void wait_reply(struct reply *r)
{
	int64_t deadline = sl_mono_ms() + 20000;
	while (r->calls == 0) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out waiting for the controller");
		(void)io_loop_run_once(F.loop, 50);
	}
	ck_assert_int_eq(r->calls, 1);
}

static void drain(void)
{
	int64_t deadline = sl_mono_ms() + 20000;
	while (raft_busy(F.raft)) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out waiting for commits");
		(void)io_loop_run_once(F.loop, 50);
	}
	ck_assert_ptr_eq(ctl_view(F.ctl), F.img);
}

/* ---- requests ----------------------------------------------------------------------------- */

static struct sl_uuid incarnation(uint8_t n)
{
	struct sl_uuid u = {{0}};
	u.b[0] = 0x11;
	u.b[15] = n;
	return u;
}

static const struct meta_endpoint cb_ep = {
        .name = "PLAINTEXT", .host = "b.example", .port = 9092, .security_protocol = 0};

static struct reply do_register_mv(int32_t id, uint8_t inc, const char *cluster_id, int16_t mv_min,
                                   int16_t mv_max)
{
	struct meta_feature_range fr = {
	        .name = "metadata.version", .min_supported = mv_min, .max_supported = mv_max};
	struct meta_broker_reg reg = {.broker_id = id,
	                              .incarnation_id = incarnation(inc),
	                              .endpoint_count = 1,
	                              .endpoints = &cb_ep,
	                              .feature_count = 1,
	                              .features = &fr,
	                              .previous_broker_epoch = -1};
	struct reply r = {.watch_id = id};
	ctl_register_broker(F.ctl, cluster_id, strlen(cluster_id), &reg, on_reply, &r);
	wait_reply(&r);
	return r;
}

static struct reply do_register(int32_t id, uint8_t inc)
{
	return do_register_mv(id, inc, CB_CLUSTER_ID, META_MV_3_0_IV1, META_MV_LATEST);
}

static struct reply do_heartbeat(int32_t id, int64_t epoch, int64_t offset, bool want_fence,
                                 bool want_shut_down)
{
	struct ctl_heartbeat hb = {.broker_id = id,
	                           .broker_epoch = epoch,
	                           .metadata_offset = offset,
	                           .want_fence = want_fence,
	                           .want_shut_down = want_shut_down};
	struct reply r = {.watch_id = id};
	ctl_broker_heartbeat(F.ctl, &hb, on_reply, &r);
	wait_reply(&r);
	return r;
}

/* Registers id and heartbeats it unfenced (caught up, WantFence false); returns its epoch. */
static int64_t register_unfenced(int32_t id, uint8_t inc)
{
	struct ctl_broker_result res = do_register(id, inc).res;
	ck_assert_int_eq(res.error_code, 0);
	struct reply hb =
	        do_heartbeat(id, res.broker_epoch, meta_image_offset(F.img), false, false);
	ck_assert_int_eq(hb.res.error_code, 0);
	ck_assert(!hb.res.is_fenced);
	ck_assert(!hb.fenced);
	return res.broker_epoch;
}

static void on_proposed(void *ctx, enum sl_err err)
{
	ck_assert_int_eq(err, SL_OK);
	(*(int *)ctx)++;
}

/* Creates a topic against the view and waits for the commit. */
static void create_topic(const char *name, int32_t partitions)
{
	struct sl_uuid id;
	ck_assert_int_eq(ctl_new_topic_id(F.ctl, &id), SL_OK);
	struct meta_topic_spec spec = {.name = wire_str_c(name),
	                               .num_partitions = partitions,
	                               .replication_factor = -1,
	                               .new_id = id};
	struct meta_records recs;
	sl_arena_reset(&F.arena);
	meta_records_init(&recs, &F.arena);
	int32_t np = 0;
	int16_t rf = 0;
	struct meta_ctl_result res;
	meta_ctl_create_topic(ctl_view(F.ctl), ctl_env(F.ctl), &spec, false, &recs, &np, &rf, &res);
	ck_assert_msg(res.error_code == 0, "create %s: %d %s", name, res.error_code, res.message);
	int calls = 0;
	ck_assert_int_eq(ctl_propose(F.ctl, &recs, on_proposed, &calls), SL_OK);
	int64_t deadline = sl_mono_ms() + 20000;
	while (calls == 0) {
		ck_assert_msg(sl_mono_ms() < deadline, "timed out creating %s", name);
		(void)io_loop_run_once(F.loop, 50);
	}
	const struct meta_topic *t = meta_image_topic(F.img, name, strlen(name));
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(t->partition_count, partitions);
}

/* ---- what was written ----------------------------------------------------------------------- */

/* Records of type written at index >= from. */
static size_t count_type(size_t from, int16_t type)
{
	size_t n = 0;
	for (size_t i = from; i < F.rec_count; i++)
		n += F.recs[i].type == type;
	return n;
}

/* The last BrokerRegistrationChange for id at index >= from (NULL = none). */
static const struct cb_rec *last_change(size_t from, int32_t id)
{
	const struct cb_rec *out = NULL;
	for (size_t i = from; i < F.rec_count; i++) {
		if (F.recs[i].type == META_REC_BROKER_REGISTRATION_CHANGE &&
		    F.recs[i].broker_id == id)
			out = &F.recs[i];
	}
	return out;
}

static const struct meta_partition *partition(const char *topic, int32_t p)
{
	const struct meta_topic *t = meta_image_topic(F.img, topic, strlen(topic));
	ck_assert_ptr_nonnull(t);
	ck_assert_int_lt(p, t->partition_count);
	return &t->partitions[p];
}

static void assert_leaders(const char *topic, int32_t leader)
{
	const struct meta_topic *t = meta_image_topic(F.img, topic, strlen(topic));
	ck_assert_ptr_nonnull(t);
	for (int32_t p = 0; p < t->partition_count; p++)
		ck_assert_msg(t->partitions[p].leader == leader, "%s-%d: leader %d, want %d", topic,
		              p, t->partitions[p].leader, leader);
}

static int64_t expired_now(void)
{
	return sl_mono_ms() + CB_TIMEOUT_MS + 1;
}

/* ---- registration -------------------------------------------------------------------------- */

START_TEST(test_register_epoch_is_record_offset)
{
	int64_t end = raft_end_offset(F.raft);
	struct reply r = do_register(2, 1);
	ck_assert_msg(r.res.error_code == 0, "%d %s", r.res.error_code, r.res.message);
	ck_assert_uint_eq(F.rec_count, 1);
	ck_assert_int_eq(F.recs[0].type, META_REC_REGISTER_BROKER);
	ck_assert_int_eq(F.recs[0].offset, end);
	ck_assert_int_eq(r.res.broker_epoch, F.recs[0].offset);
	/* committed before the reply, fenced */
	ck_assert(r.found);
	ck_assert(r.fenced);
	ck_assert_int_ge(r.committed_offset, r.res.broker_epoch);
	const struct meta_broker *b = meta_image_broker(F.img, 2);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(b->broker_epoch, r.res.broker_epoch);
	struct sl_uuid inc = incarnation(1);
	ck_assert(sl_uuid_eq(&b->incarnation_id, &inc));
	ck_assert(b->fenced);
	ck_assert(!b->in_controlled_shutdown);
	ck_assert_uint_eq(b->endpoint_count, 1);
	ck_assert_str_eq(b->endpoints[0].host, "b.example");
	ck_assert_int_eq(b->endpoints[0].port, 9092);

	/* The same incarnation again: a retry, the same epoch, nothing written. */
	int64_t end2 = raft_end_offset(F.raft);
	struct reply again = do_register(2, 1);
	ck_assert_int_eq(again.res.error_code, 0);
	ck_assert_int_eq(again.res.broker_epoch, r.res.broker_epoch);
	ck_assert_uint_eq(F.rec_count, 1);
	ck_assert_int_eq(raft_end_offset(F.raft), end2);

	/* Another broker: its own record, a larger epoch. */
	struct reply r3 = do_register(3, 7);
	ck_assert_int_eq(r3.res.error_code, 0);
	ck_assert_uint_eq(F.rec_count, 2);
	ck_assert_int_eq(r3.res.broker_epoch, F.recs[1].offset);
	ck_assert_int_gt(r3.res.broker_epoch, r.res.broker_epoch);
}
END_TEST

START_TEST(test_register_duplicate_while_session_valid)
{
	int64_t epoch = register_unfenced(2, 1);
	size_t n = F.rec_count;
	int64_t end = raft_end_offset(F.raft);
	struct reply r = do_register(2, 2);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_DUPLICATE_BROKER_REGISTRATION);
	ck_assert_int_eq(r.res.broker_epoch, -1);
	ck_assert_uint_eq(F.rec_count, n);
	ck_assert_int_eq(raft_end_offset(F.raft), end);
	const struct meta_broker *b = meta_image_broker(F.img, 2);
	struct sl_uuid inc = incarnation(1);
	ck_assert(sl_uuid_eq(&b->incarnation_id, &inc));
	ck_assert_int_eq(b->broker_epoch, epoch);
	ck_assert(!b->fenced);
	/* The registered incarnation still heartbeats fine. */
	struct reply hb = do_heartbeat(2, epoch, meta_image_offset(F.img), false, false);
	ck_assert_int_eq(hb.res.error_code, 0);
	ck_assert(!hb.res.is_fenced);
}
END_TEST

/* After a failover the new active controller gives every registered broker a fresh session,
 * but one it has not heard from does not block a new incarnation (our deviation from Kafka,
 * decisions.md): a broker that crashed and restarted with the controller need not wait out
 * the session timeout. Once heard from, the session blocks duplicates again. */
START_TEST(test_register_after_failover_not_heard)
{
	int64_t epoch = register_unfenced(2, 1);
	F.ctl->active = false; /* as if this controller had just become active */
	ctl_tick(F.ctl, sl_mono_ms());
	struct reply r = do_register(2, 2);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert_int_gt(r.res.broker_epoch, epoch);
	ck_assert(r.found);
	ck_assert(r.fenced);
	/* heard from now: a third incarnation is a duplicate */
	struct reply hb =
	        do_heartbeat(2, r.res.broker_epoch, meta_image_offset(F.img), false, false);
	ck_assert_int_eq(hb.res.error_code, 0);
	ck_assert(!hb.res.is_fenced);
	r = do_register(2, 3);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_DUPLICATE_BROKER_REGISTRATION);
}
END_TEST

static struct reply do_unregister(int32_t id)
{
	struct reply r = {.watch_id = id};
	ctl_unregister_broker(F.ctl, id, on_reply, &r);
	wait_reply(&r);
	return r;
}

/* UnregisterBroker: leaderships move away, the registration is gone once the reply runs, the
 * old epoch is stale, and the id can register again; an unknown id is refused. */
START_TEST(test_unregister_broker)
{
	struct reply r = do_unregister(7);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_BROKER_ID_NOT_REGISTERED);
	int64_t epoch = register_unfenced(2, 1);
	create_topic("u", 2);
	assert_leaders("u", 2);
	size_t n = F.rec_count;
	r = do_unregister(2);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert(!r.found);
	ck_assert_ptr_null(meta_image_broker(F.img, 2));
	ck_assert_int_eq(count_type(n, META_REC_UNREGISTER_BROKER), 1);
	assert_leaders("u", -1);
	r = do_unregister(2);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_BROKER_ID_NOT_REGISTERED);
	struct reply hb = do_heartbeat(2, epoch, meta_image_offset(F.img), false, false);
	ck_assert_int_eq(hb.res.error_code, WIRE_ERR_STALE_BROKER_EPOCH);
	/* the same process registers again (a new session, not a duplicate), and leads again */
	int64_t epoch2 = register_unfenced(2, 1);
	ck_assert_int_gt(epoch2, epoch);
	assert_leaders("u", 2);
}
END_TEST

START_TEST(test_register_new_incarnation_when_fenced)
{
	/* Registered, never unfenced: no valid session, so a restart takes over. */
	struct reply first = do_register(2, 1);
	ck_assert_int_eq(first.res.error_code, 0);
	struct reply second = do_register(2, 2);
	ck_assert_int_eq(second.res.error_code, 0);
	ck_assert_int_gt(second.res.broker_epoch, first.res.broker_epoch);
	ck_assert_int_eq(count_type(0, META_REC_REGISTER_BROKER), 2);
	ck_assert_int_eq(F.recs[F.rec_count - 1].offset, second.res.broker_epoch);
	const struct meta_broker *b = meta_image_broker(F.img, 2);
	struct sl_uuid inc = incarnation(2);
	ck_assert(sl_uuid_eq(&b->incarnation_id, &inc));
	ck_assert_int_eq(b->broker_epoch, second.res.broker_epoch);
	ck_assert(b->fenced);
	/* The old epoch is stale now. */
	struct reply hb =
	        do_heartbeat(2, first.res.broker_epoch, meta_image_offset(F.img), false, false);
	ck_assert_int_eq(hb.res.error_code, WIRE_ERR_STALE_BROKER_EPOCH);
}
END_TEST

START_TEST(test_register_wrong_cluster_id)
{
	struct reply r =
	        do_register_mv(2, 1, "AnotherClusterIdXXXXXX", META_MV_3_0_IV1, META_MV_LATEST);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_INCONSISTENT_CLUSTER_ID);
	ck_assert_int_eq(r.res.broker_epoch, -1);
	ck_assert_ptr_nonnull(strstr(r.res.message, CB_CLUSTER_ID));
	/* a prefix of the right id is still another id */
	r = do_register_mv(2, 1, "Q2x1c3Rlck", META_MV_3_0_IV1, META_MV_LATEST);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_INCONSISTENT_CLUSTER_ID);
	r = do_register_mv(2, 1, "", META_MV_3_0_IV1, META_MV_LATEST);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_INCONSISTENT_CLUSTER_ID);
	ck_assert_uint_eq(F.rec_count, 0);
	ck_assert_ptr_null(meta_image_broker(F.img, 2));
}
END_TEST

START_TEST(test_register_unsupported_metadata_version)
{
	/* finalized 3.9-IV0 (21) above the broker's max */
	struct reply r = do_register_mv(2, 1, CB_CLUSTER_ID, META_MV_3_0_IV1, META_MV_3_9_IV0 - 1);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_UNSUPPORTED_VERSION);
	ck_assert_int_eq(r.res.broker_epoch, -1);
	/* and below its min */
	r = do_register_mv(2, 1, CB_CLUSTER_ID, META_MV_3_9_IV0 + 1, META_MV_LATEST);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_UNSUPPORTED_VERSION);
	ck_assert_uint_eq(F.rec_count, 0);
	ck_assert_ptr_null(meta_image_broker(F.img, 2));
	/* exactly the finalized level is fine */
	r = do_register_mv(2, 1, CB_CLUSTER_ID, META_MV_3_9_IV0, META_MV_3_9_IV0);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert_uint_eq(F.rec_count, 1);
}
END_TEST

/* ---- heartbeats ------------------------------------------------------------------------------ */

START_TEST(test_heartbeat_stale_epoch)
{
	struct reply r = do_heartbeat(9, 5, 100, false, false);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_STALE_BROKER_EPOCH);
	int64_t epoch = do_register(2, 1).res.broker_epoch;
	size_t n = F.rec_count;
	r = do_heartbeat(2, epoch + 1, meta_image_offset(F.img), false, false);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_STALE_BROKER_EPOCH);
	r = do_heartbeat(2, epoch - 1, meta_image_offset(F.img), false, false);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_STALE_BROKER_EPOCH);
	r = do_heartbeat(2, -1, meta_image_offset(F.img), false, false);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_STALE_BROKER_EPOCH);
	ck_assert_uint_eq(F.rec_count, n);
	ck_assert(meta_image_broker(F.img, 2)->fenced);
}
END_TEST

START_TEST(test_heartbeat_catch_up_then_unfence)
{
	int64_t epoch = do_register(2, 1).res.broker_epoch;
	size_t n = F.rec_count;
	/* behind its own registration, wants to stay fenced */
	struct reply r = do_heartbeat(2, epoch, epoch - 1, true, false);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert(!r.res.is_caught_up);
	ck_assert(r.res.is_fenced);
	ck_assert(!r.res.should_shut_down);
	/* behind and willing: still fenced */
	r = do_heartbeat(2, epoch, epoch - 1, false, false);
	ck_assert(!r.res.is_caught_up);
	ck_assert(r.res.is_fenced);
	/* caught up but WantFence */
	r = do_heartbeat(2, epoch, epoch, true, false);
	ck_assert(r.res.is_caught_up);
	ck_assert(r.res.is_fenced);
	ck_assert_uint_eq(F.rec_count, n);
	ck_assert(meta_image_broker(F.img, 2)->fenced);
	/* at its registration offset, WantFence false: unfenced, committed before the reply */
	r = do_heartbeat(2, epoch, epoch, false, false);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert(r.res.is_caught_up);
	ck_assert(!r.res.is_fenced);
	ck_assert(r.found);
	ck_assert(!r.fenced);
	const struct cb_rec *c = last_change(n, 2);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->fenced, -1);
	ck_assert(!meta_image_broker(F.img, 2)->fenced);
	/* steady state: nothing more is written */
	size_t m = F.rec_count;
	r = do_heartbeat(2, epoch, meta_image_offset(F.img), false, false);
	ck_assert(!r.res.is_fenced);
	ck_assert(r.res.is_caught_up);
	ck_assert_uint_eq(F.rec_count, m);
}
END_TEST

/* A second heartbeat that arrives while the first one's unfencing is still in flight writes
 * nothing, but its reply (is_fenced false) must wait until the unfencing is committed: before
 * the fix it was answered at once from the uncommitted view. */
START_TEST(test_reply_waits_for_records_in_flight)
{
	int64_t epoch = do_register(2, 1).res.broker_epoch;
	struct ctl_heartbeat hb = {.broker_id = 2,
	                           .broker_epoch = epoch,
	                           .metadata_offset = epoch,
	                           .want_fence = false,
	                           .want_shut_down = false};
	struct reply first = {.watch_id = 2};
	struct reply second = {.watch_id = 2};
	ctl_broker_heartbeat(F.ctl, &hb, on_reply, &first);
	ctl_broker_heartbeat(F.ctl, &hb, on_reply, &second); /* decided on the in-flight view */
	ck_assert_int_eq(second.calls, 0);
	wait_reply(&first);
	wait_reply(&second);
	ck_assert_int_eq(second.res.error_code, 0);
	ck_assert(!second.res.is_fenced);
	ck_assert(second.found);
	ck_assert_msg(!second.fenced, "the reply said unfenced before the unfencing committed");
}
END_TEST

/* ---- sessions ------------------------------------------------------------------------------- */

START_TEST(test_session_expiry_fences_and_heartbeat_unfences)
{
	int64_t epoch = register_unfenced(2, 1);
	create_topic("t", 2);
	assert_leaders("t", 2);
	int32_t le = partition("t", 0)->leader_epoch;
	/* not expired: nothing */
	size_t n = F.rec_count;
	ctl_tick(F.ctl, sl_mono_ms());
	drain();
	ck_assert_uint_eq(F.rec_count, n);
	/* expired: leaderships move (ISR is the leader only: -1), then fenced */
	ctl_tick(F.ctl, expired_now());
	drain();
	const struct cb_rec *c = last_change(n, 2);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->fenced, 1);
	ck_assert_int_eq(count_type(n, META_REC_PARTITION_CHANGE), 2);
	ck_assert(meta_image_broker(F.img, 2)->fenced);
	assert_leaders("t", -1);
	/* a second expired tick: already fenced, nothing */
	size_t m = F.rec_count;
	ctl_tick(F.ctl, expired_now());
	drain();
	ck_assert_uint_eq(F.rec_count, m);

	/* the broker heartbeats again: unfenced, leads again with a newer epoch */
	struct reply r = do_heartbeat(2, epoch, meta_image_offset(F.img), false, false);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert(!r.res.is_fenced);
	ck_assert(!r.fenced);
	c = last_change(m, 2);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->fenced, -1);
	assert_leaders("t", 2);
	ck_assert_int_gt(partition("t", 0)->leader_epoch, le);
}
END_TEST

START_TEST(test_session_expiry_one_broker_per_tick)
{
	register_unfenced(2, 1);
	register_unfenced(3, 1);
	size_t n = F.rec_count;
	ctl_tick(F.ctl, expired_now());
	drain();
	bool f2 = meta_image_broker(F.img, 2)->fenced, f3 = meta_image_broker(F.img, 3)->fenced;
	ck_assert_msg(f2 != f3, "one broker per tick (2 fenced %d, 3 fenced %d)", f2, f3);
	ck_assert_int_eq(count_type(n, META_REC_BROKER_REGISTRATION_CHANGE), 1);
	ctl_tick(F.ctl, expired_now());
	drain();
	ck_assert(meta_image_broker(F.img, 2)->fenced);
	ck_assert(meta_image_broker(F.img, 3)->fenced);
	ck_assert_int_eq(count_type(n, META_REC_BROKER_REGISTRATION_CHANGE), 2);
}
END_TEST

START_TEST(test_session_refreshed_by_heartbeat)
{
	/* A broker that heartbeats is not fenced by a tick within the timeout of it. */
	int64_t epoch = register_unfenced(2, 1);
	int64_t before = sl_mono_ms();
	struct reply r = do_heartbeat(2, epoch, meta_image_offset(F.img), false, false);
	ck_assert(!r.res.is_fenced);
	size_t n = F.rec_count;
	ctl_tick(F.ctl, before + CB_TIMEOUT_MS - 1);
	drain();
	ck_assert_uint_eq(F.rec_count, n);
	ck_assert(!meta_image_broker(F.img, 2)->fenced);
}
END_TEST

/* ---- controlled shutdown --------------------------------------------------------------------- */

START_TEST(test_controlled_shutdown_alone)
{
	int64_t epoch = register_unfenced(2, 1);
	create_topic("cs", 2);
	assert_leaders("cs", 2);
	size_t n = F.rec_count;
	struct reply r = do_heartbeat(2, epoch, meta_image_offset(F.img), false, true);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert(!r.res.should_shut_down);
	ck_assert(r.in_controlled_shutdown); /* committed before the reply */
	ck_assert(!r.fenced);
	const struct cb_rec *c = last_change(n, 2);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->in_controlled_shutdown, 1);
	assert_leaders("cs", -1);
	/* the next heartbeat: it leads nothing and there is nobody else */
	size_t m = F.rec_count;
	r = do_heartbeat(2, epoch, meta_image_offset(F.img), false, true);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert(r.res.should_shut_down);
	ck_assert(r.res.is_fenced);
	ck_assert(r.fenced);
	c = last_change(m, 2);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->fenced, 1);
}
END_TEST

START_TEST(test_controlled_shutdown_waits_for_others)
{
	int64_t e2 = register_unfenced(2, 1);
	create_topic("cs", 3);
	assert_leaders("cs", 2);
	int64_t e3 = register_unfenced(3, 1); /* heartbeats at the image offset of now */
	size_t n = F.rec_count;
	struct reply r = do_heartbeat(2, e2, meta_image_offset(F.img), false, true);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert(!r.res.should_shut_down);
	ck_assert(!r.res.is_fenced);
	ck_assert(r.in_controlled_shutdown);
	assert_leaders("cs", -1); /* ISR = {2}: nobody else can lead */
	ck_assert_int_eq(count_type(n, META_REC_PARTITION_CHANGE), 3);
	int64_t moved_at = meta_image_offset(F.img);
	/* broker 3 has not applied the moves yet */
	r = do_heartbeat(2, e2, meta_image_offset(F.img), false, true);
	ck_assert(!r.res.should_shut_down);
	ck_assert(!r.fenced);
	/* broker 3 catches up */
	r = do_heartbeat(3, e3, moved_at, false, false);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert(!r.res.is_fenced);
	r = do_heartbeat(2, e2, meta_image_offset(F.img), false, true);
	ck_assert(r.res.should_shut_down);
	ck_assert(r.res.is_fenced);
	ck_assert(r.fenced);
	ck_assert(!meta_image_broker(F.img, 3)->fenced);
}
END_TEST

START_TEST(test_fenced_broker_shuts_down_at_once)
{
	int64_t epoch = do_register(2, 1).res.broker_epoch;
	size_t n = F.rec_count;
	struct reply r = do_heartbeat(2, epoch, epoch - 1, true, true);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert(r.res.should_shut_down);
	ck_assert(r.res.is_fenced);
	ck_assert_uint_eq(F.rec_count, n);
}
END_TEST

/* ---- controller registration ----------------------------------------------------------------- */

static struct reply do_register_controller(int32_t id, uint8_t inc, uint16_t port)
{
	struct meta_endpoint ep = {
	        .name = "CONTROLLER", .host = "c.example", .port = port, .security_protocol = 0};
	struct meta_controller_reg reg = {.controller_id = id,
	                                  .incarnation_id = incarnation(inc),
	                                  .endpoint_count = 1,
	                                  .endpoints = &ep};
	struct reply r = {0};
	ctl_register_controller(F.ctl, &reg, on_reply, &r);
	wait_reply(&r);
	return r;
}

START_TEST(test_register_controller)
{
	struct reply r = do_register_controller(1, 1, 9093);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert_uint_eq(F.rec_count, 1);
	ck_assert_int_eq(F.recs[0].type, META_REC_REGISTER_CONTROLLER);
	ck_assert_int_ge(r.committed_offset, F.recs[0].offset);
	const struct meta_controller *mc = meta_image_controller(F.img, 1);
	ck_assert_ptr_nonnull(mc);
	struct sl_uuid inc = incarnation(1);
	ck_assert(sl_uuid_eq(&mc->incarnation_id, &inc));
	ck_assert_uint_eq(mc->endpoint_count, 1);
	ck_assert_str_eq(mc->endpoints[0].name, "CONTROLLER");
	ck_assert_int_eq(mc->endpoints[0].port, 9093);
	/* a retry writes nothing */
	int64_t end = raft_end_offset(F.raft);
	r = do_register_controller(1, 1, 9093);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert_uint_eq(F.rec_count, 1);
	ck_assert_int_eq(raft_end_offset(F.raft), end);
	/* a restart (new incarnation) on another port replaces it */
	r = do_register_controller(1, 2, 9094);
	ck_assert_int_eq(r.res.error_code, 0);
	ck_assert_uint_eq(F.rec_count, 2);
	mc = meta_image_controller(F.img, 1);
	inc = incarnation(2);
	ck_assert(sl_uuid_eq(&mc->incarnation_id, &inc));
	ck_assert_int_eq(mc->endpoints[0].port, 9094);
	ck_assert_uint_eq(meta_image_controller_count(F.img), 1);
}
END_TEST

/* ---- a short session timeout: real time expires the session ------------------------------------
 */

#define CB_SHORT_TIMEOUT_MS 300

static void setup_short(void)
{
	setup_full(CB_SHORT_TIMEOUT_MS, false);
}

static void setup_inactive(void)
{
	setup_full(CB_TIMEOUT_MS, true);
}

START_TEST(test_not_active_answers_not_controller)
{
	ck_assert(!raft_is_active(F.raft));
	struct reply r = do_register(2, 1);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_NOT_CONTROLLER);
	ck_assert_int_eq(r.res.broker_epoch, -1);
	r = do_heartbeat(2, 5, 5, false, false);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_NOT_CONTROLLER);
	r = do_register_controller(1, 1, 9093);
	ck_assert_int_eq(r.res.error_code, WIRE_ERR_NOT_CONTROLLER);
	ctl_tick(F.ctl, expired_now());
	ck_assert(!raft_busy(F.raft));
	ck_assert_uint_eq(F.rec_count, 0);
}
END_TEST

START_TEST(test_register_new_incarnation_after_session_expired)
{
	int64_t epoch = register_unfenced(2, 1);
	create_topic("x", 1);
	assert_leaders("x", 2);
	/* no heartbeat for longer than the session timeout (no tick fences it meanwhile) */
	int64_t until = sl_mono_ms() + CB_SHORT_TIMEOUT_MS + 50;
	while (sl_mono_ms() < until)
		(void)io_loop_run_once(F.loop, 20);
	ck_assert(!meta_image_broker(F.img, 2)->fenced);
	size_t n = F.rec_count;
	struct reply r = do_register(2, 2);
	ck_assert_msg(r.res.error_code == 0, "%d %s", r.res.error_code, r.res.message);
	ck_assert_int_gt(r.res.broker_epoch, epoch);
	/* the old registration's leaderships moved first, then the new registration, last */
	ck_assert_int_eq(count_type(n, META_REC_PARTITION_CHANGE), 1);
	ck_assert_int_eq(F.recs[F.rec_count - 1].type, META_REC_REGISTER_BROKER);
	ck_assert_int_eq(F.recs[F.rec_count - 1].offset, r.res.broker_epoch);
	assert_leaders("x", -1);
	const struct meta_broker *b = meta_image_broker(F.img, 2);
	ck_assert(b->fenced);
	ck_assert_int_eq(b->broker_epoch, r.res.broker_epoch);
	/* the new incarnation unfences and leads again */
	struct reply hb =
	        do_heartbeat(2, r.res.broker_epoch, meta_image_offset(F.img), false, false);
	ck_assert(!hb.res.is_fenced);
	assert_leaders("x", 2);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("controller_brokers");
	TCase *tc = tcase_create("brokers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_register_epoch_is_record_offset);
	tcase_add_test(tc, test_reply_waits_for_records_in_flight);
	tcase_add_test(tc, test_register_after_failover_not_heard);
	tcase_add_test(tc, test_unregister_broker);
	tcase_add_test(tc, test_register_duplicate_while_session_valid);
	tcase_add_test(tc, test_register_new_incarnation_when_fenced);
	tcase_add_test(tc, test_register_wrong_cluster_id);
	tcase_add_test(tc, test_register_unsupported_metadata_version);
	tcase_add_test(tc, test_heartbeat_stale_epoch);
	tcase_add_test(tc, test_heartbeat_catch_up_then_unfence);
	tcase_add_test(tc, test_session_expiry_fences_and_heartbeat_unfences);
	tcase_add_test(tc, test_session_expiry_one_broker_per_tick);
	tcase_add_test(tc, test_session_refreshed_by_heartbeat);
	tcase_add_test(tc, test_controlled_shutdown_alone);
	tcase_add_test(tc, test_controlled_shutdown_waits_for_others);
	tcase_add_test(tc, test_fenced_broker_shuts_down_at_once);
	tcase_add_test(tc, test_register_controller);
	suite_add_tcase(s, tc);
	TCase *ts = tcase_create("short_session");
	tcase_add_checked_fixture(ts, setup_short, teardown);
	tcase_set_timeout(ts, 120);
	tcase_add_test(ts, test_register_new_incarnation_after_session_expired);
	suite_add_tcase(s, ts);
	TCase *ti = tcase_create("inactive");
	tcase_add_checked_fixture(ti, setup_inactive, teardown);
	tcase_set_timeout(ti, 120);
	tcase_add_test(ti, test_not_active_answers_not_controller);
	suite_add_tcase(s, ti);
	return s;
}
