/*
 * test_broker_logic.c: the broker lifecycle decisions (broker_logic.c): every row of the
 * heartbeat state table, registration (new, retry with the same incarnation, duplicate while
 * the session lives, replacement of a stale session, metadata.version range, record version
 * and broker epoch), and fencing / unfencing / controlled shutdown / unregistration: each
 * decision's records are checked, applied back to the view, and the view must show the
 * expected leaders, ISRs and epochs.
 */
#include "check_main.h"
#include "metadata.h"

#include <stdio.h>
#include <string.h>

static struct sl_arena arena;
static struct meta_records out;
static struct meta_image *img;
static struct meta_ctl_env env;
static struct meta_ctl_result res;
static const struct sl_uuid topic_id = {{9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4}};

static void apply_value(struct meta_delta *d, const uint8_t *v, size_t len)
{
	char err[256];

	ck_assert_msg(meta_delta_apply(d, v, len, err, sizeof(err)) == SL_OK, "%s", err);
}

/* Applies one record to img as the next image. */
static void apply_one(int16_t key, int16_t version, const void *rec)
{
	struct sl_buf b;
	struct meta_delta *d;

	sl_buf_init(&b, 1 << 16);
	meta_frame_put(&b, key, version);
	meta_record_encode_any(&b, key, version, rec);
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	ck_assert_int_eq(meta_delta_create(img, &d), SL_OK);
	apply_value(d, b.data, b.len);
	struct meta_image *next = meta_delta_publish(d, meta_image_offset(img) + 1);

	meta_image_unref(img);
	img = next;
	sl_buf_free(&b);
}

/* Applies out to img and clears it. */
static void commit(void)
{
	struct meta_delta *d;

	ck_assert_int_eq(meta_delta_create(img, &d), SL_OK);
	for (size_t i = 0; i < out.count; i++)
		apply_value(d, out.values[i].ptr, (size_t)out.values[i].len);
	struct meta_image *next =
	        meta_delta_publish(d, meta_image_offset(img) + (int64_t)out.count);

	meta_image_unref(img);
	img = next;
	meta_image_check_invariants(img);
	meta_records_init(&out, &arena);
}

static void set_mv(int16_t level)
{
	struct meta_feature_level_record r;

	meta_feature_level_record_init(&r);
	r.name = wire_str_c("metadata.version");
	r.feature_level = level;
	apply_one(META_REC_FEATURE_LEVEL, 0, &r);
	env.metadata_version = level;
}

static struct sl_uuid inc(int32_t id, int gen)
{
	struct sl_uuid u = {{0}};

	u.b[0] = (uint8_t)id;
	u.b[1] = (uint8_t)gen;
	u.b[15] = 1;
	return u;
}

static void register_broker(int32_t id, bool fenced)
{
	struct meta_register_broker_record r;

	meta_register_broker_record_init(&r);
	r.broker_id = id;
	r.broker_epoch = 100 + id;
	r.incarnation_id = inc(id, 0);
	r.fenced = fenced;
	apply_one(META_REC_REGISTER_BROKER, 1, &r);
}

static void add_partition(int32_t pid, const int32_t *replicas, int32_t nr, const int32_t *isr,
                          int32_t ni, int32_t leader)
{
	struct meta_partition_record r;

	meta_partition_record_init(&r);
	r.partition_id = pid;
	r.topic_id = topic_id;
	r.replicas_count = nr;
	r.replicas = (int32_t *)(uintptr_t)replicas;
	r.isr_count = ni;
	r.isr = (int32_t *)(uintptr_t)isr;
	r.leader = leader;
	r.leader_epoch = 0;
	r.partition_epoch = 0;
	apply_one(META_REC_PARTITION, 0, &r);
}

static const struct meta_partition *part(int32_t pid)
{
	const struct meta_topic *t = meta_image_topic_by_id(img, topic_id);

	ck_assert_ptr_nonnull(t);
	ck_assert_int_lt(pid, t->partition_count);
	return &t->partitions[pid];
}

/* Brokers 1, 2, 3 unfenced at metadata.version mv; topic "t":
 *   p0 replicas [1]     isr [1]     leader 1
 *   p1 replicas [1,2,3] isr [1,2,3] leader 1
 *   p2 replicas [2,1]   isr [2,1]   leader 2
 *   p3 replicas [3,2]   isr [3]     leader 3 */
static void cluster(int16_t mv)
{
	static const int32_t r1[] = {1}, r123[] = {1, 2, 3}, r21[] = {2, 1}, r32[] = {3, 2},
	                     r3[] = {3};
	struct meta_topic_record tr;

	set_mv(mv);
	for (int32_t id = 1; id <= 3; id++)
		register_broker(id, false);
	meta_topic_record_init(&tr);
	tr.name = wire_str_c("t");
	tr.topic_id = topic_id;
	apply_one(META_REC_TOPIC, 0, &tr);
	add_partition(0, r1, 1, r1, 1, 1);
	add_partition(1, r123, 3, r123, 3, 1);
	add_partition(2, r21, 2, r21, 2, 2);
	add_partition(3, r32, 2, r3, 1, 3);
}

static void setup(void)
{
	sl_arena_init(&arena, 4096, 64u << 20);
	meta_records_init(&out, &arena);
	img = meta_image_create_empty();
	env = (struct meta_ctl_env){.num_partitions = 1, .default_replication_factor = 1};
}

static void teardown(void)
{
	meta_image_unref(img);
	sl_arena_free(&arena);
}

/* The key and version of out.values[i]. */
static int16_t key_of(size_t i, int16_t *version)
{
	struct wire_reader r;
	int16_t key, v;

	ck_assert_uint_lt(i, out.count);
	wire_reader_init(&r, out.values[i].ptr, (size_t)out.values[i].len, NULL);
	ck_assert_int_eq(meta_frame_get(&r, &key, &v), SL_OK);
	if (version != NULL)
		*version = v;
	return key;
}

/* Decodes out.values[i] as a PartitionChangeRecord. */
static struct meta_partition_change_record change_at(size_t i)
{
	struct meta_partition_change_record c;
	struct wire_reader r;
	int16_t key, v;

	wire_reader_init(&r, out.values[i].ptr, (size_t)out.values[i].len, &arena);
	ck_assert_int_eq(meta_frame_get(&r, &key, &v), SL_OK);
	ck_assert_int_eq(key, META_REC_PARTITION_CHANGE);
	ck_assert_int_eq(meta_partition_change_record_decode(&r, v, &c), SL_OK);
	return c;
}

static struct meta_broker_registration_change_record brc_at(size_t i, int16_t *version)
{
	struct meta_broker_registration_change_record c;
	struct wire_reader r;
	int16_t key;

	wire_reader_init(&r, out.values[i].ptr, (size_t)out.values[i].len, &arena);
	ck_assert_int_eq(meta_frame_get(&r, &key, version), SL_OK);
	ck_assert_int_eq(key, META_REC_BROKER_REGISTRATION_CHANGE);
	ck_assert_int_eq(meta_broker_registration_change_record_decode(&r, *version, &c), SL_OK);
	return c;
}

START_TEST(heartbeat_table)
{
	enum meta_broker_hb_state F = META_HB_FENCED, U = META_HB_UNFENCED,
	                          C = META_HB_CONTROLLED_SHUTDOWN, S = META_HB_SHUTDOWN_NOW;

	/* FENCED: WantShutDown -> SHUTDOWN_NOW, whatever else */
	ck_assert_int_eq(meta_broker_next_state(F, false, true, true, false, true), S);
	ck_assert_int_eq(meta_broker_next_state(F, true, true, false, true, false), S);
	/* FENCED: !WantFence and caught up -> UNFENCED */
	ck_assert_int_eq(meta_broker_next_state(F, false, false, true, false, false), U);
	/* FENCED otherwise */
	ck_assert_int_eq(meta_broker_next_state(F, false, false, false, false, true), F);
	ck_assert_int_eq(meta_broker_next_state(F, true, false, true, false, true), F);
	/* UNFENCED: WantFence && WantShutDown -> SHUTDOWN_NOW */
	ck_assert_int_eq(meta_broker_next_state(U, true, true, true, true, false), S);
	/* UNFENCED: WantFence -> FENCED */
	ck_assert_int_eq(meta_broker_next_state(U, true, false, true, true, true), F);
	/* UNFENCED: WantShutDown and leads -> CONTROLLED_SHUTDOWN; leads nothing -> now */
	ck_assert_int_eq(meta_broker_next_state(U, false, true, true, true, true), C);
	ck_assert_int_eq(meta_broker_next_state(U, false, true, true, false, false), S);
	/* UNFENCED, nothing wanted */
	ck_assert_int_eq(meta_broker_next_state(U, false, false, true, true, false), U);
	ck_assert_int_eq(meta_broker_next_state(U, false, false, false, false, false), U);
	/* CONTROLLED_SHUTDOWN: still leads -> stays */
	ck_assert_int_eq(meta_broker_next_state(C, false, true, true, true, true), C);
	/* leads nothing: SHUTDOWN_NOW once the others caught up, else stays */
	ck_assert_int_eq(meta_broker_next_state(C, false, true, true, false, true), S);
	ck_assert_int_eq(meta_broker_next_state(C, false, true, true, false, false), C);
	/* SHUTDOWN_NOW is final */
	ck_assert_int_eq(meta_broker_next_state(S, false, false, true, false, true), S);
}
END_TEST

static const struct meta_endpoint eps[] = {{"PLAINTEXT", "h1", 9092, 0}, {"SSL", "h1", 9093, 1}};

static struct meta_broker_reg reg_of(int32_t id, int gen, const struct meta_feature_range *fs,
                                     size_t nf)
{
	return (struct meta_broker_reg){.broker_id = id,
	                                .incarnation_id = inc(id, gen),
	                                .endpoint_count = 2,
	                                .endpoints = eps,
	                                .feature_count = nf,
	                                .features = fs,
	                                .rack = "rack-a",
	                                .previous_broker_epoch = -1};
}

START_TEST(register_new_and_retry)
{
	static const struct meta_feature_range fs[] = {{"metadata.version", 1, 21}};
	struct meta_broker_reg reg = reg_of(4, 1, fs, 1);
	const struct meta_broker *b;
	int64_t epoch;
	int16_t v;

	set_mv(META_MV_3_9_IV0);
	meta_ctl_register_broker(img, &env, &reg, false, 500, &out, &epoch, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	ck_assert_int_eq(epoch, 500);
	ck_assert_uint_eq(out.count, 1);
	ck_assert_int_eq(key_of(0, &v), META_REC_REGISTER_BROKER);
	ck_assert_int_eq(v, 3);
	commit();
	b = meta_image_broker(img, 4);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(b->broker_epoch, 500);
	ck_assert(b->fenced);
	ck_assert(!b->in_controlled_shutdown);
	ck_assert_str_eq(b->rack, "rack-a");
	ck_assert_uint_eq(b->endpoint_count, 2);
	ck_assert_str_eq(b->endpoints[1].name, "SSL");
	ck_assert_int_eq(b->endpoints[1].port, 9093);
	/* a retry of the same incarnation: same epoch, nothing written (session valid or not) */
	meta_ctl_register_broker(img, &env, &reg, true, 900, &out, &epoch, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	ck_assert_int_eq(epoch, 500);
	ck_assert_uint_eq(out.count, 0);
	meta_ctl_register_broker(img, &env, &reg, false, 900, &out, &epoch, &res);
	ck_assert_int_eq(epoch, 500);
	ck_assert_uint_eq(out.count, 0);
}
END_TEST

START_TEST(register_duplicate_and_stale)
{
	static const struct meta_feature_range fs[] = {{"metadata.version", 1, 30}};
	struct meta_broker_reg reg = reg_of(1, 7, fs, 1);
	int64_t epoch;

	cluster(META_MV_3_9_IV0);
	meta_ctl_register_broker(img, &env, &reg, true, 50, &out, &epoch, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_DUPLICATE_BROKER_REGISTRATION);
	ck_assert_str_eq(res.message, "Another broker is registered with that broker id. If the "
	                              "broker was recently restarted this should self-resolve "
	                              "once the heartbeat manager expires the broker's session.");
	ck_assert_int_eq(epoch, -1);
	ck_assert_uint_eq(out.count, 0);
	/* the old session expired: the new incarnation replaces it; the old one was unfenced
	 * and led p0 and p1, so its leaderships move first (2 partition changes + 1 ISR shrink) */
	meta_ctl_register_broker(img, &env, &reg, false, 50, &out, &epoch, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	ck_assert_uint_eq(out.count, 4);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(key_of(i, NULL), META_REC_PARTITION_CHANGE);
	ck_assert_int_eq(key_of(3, NULL), META_REC_REGISTER_BROKER);
	ck_assert_int_eq(epoch, 53); /* the offset of the RegisterBrokerRecord itself */
	commit();
	ck_assert_int_eq(meta_image_broker(img, 1)->broker_epoch, 53);
	ck_assert(meta_image_broker(img, 1)->fenced);
	ck_assert(sl_uuid_eq(&meta_image_broker(img, 1)->incarnation_id, &reg.incarnation_id));
	ck_assert_int_eq(part(0)->leader, -1);
	ck_assert_int_eq(part(1)->leader, 2);
	ck_assert_int_eq(meta_broker_leader_count(img, 1), 0);
	/* a fenced old registration: no moves */
	reg = reg_of(1, 8, fs, 1);
	meta_ctl_register_broker(img, &env, &reg, false, 80, &out, &epoch, &res);
	ck_assert_uint_eq(out.count, 1);
	ck_assert_int_eq(epoch, 80);
}
END_TEST

START_TEST(register_features)
{
	static const struct meta_feature_range old_mv[] = {{"metadata.version", 1, 20}};
	static const struct meta_feature_range other[] = {{"group.version", 0, 1}};
	struct meta_broker_reg reg = reg_of(5, 1, old_mv, 1);
	struct meta_feature_level_record fl;
	int64_t epoch;
	int16_t v;

	set_mv(META_MV_3_9_IV0);
	meta_ctl_register_broker(img, &env, &reg, false, 10, &out, &epoch, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_UNSUPPORTED_VERSION);
	ck_assert_str_eq(res.message, "Unable to register because the broker does not support "
	                              "version 21 of metadata.version. It wants a version between "
	                              "1 and 20, inclusive.");
	ck_assert_uint_eq(out.count, 0);
	/* not advertising metadata.version = 3.0-IV1 only */
	reg = reg_of(5, 1, other, 1);
	meta_ctl_register_broker(img, &env, &reg, false, 10, &out, &epoch, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_UNSUPPORTED_VERSION);
	ck_assert_msg(strstr(res.message, "between 1 and 1") != NULL, "%s", res.message);
	set_mv(META_MV_3_0_IV1);
	meta_ctl_register_broker(img, &env, &reg, false, 10, &out, &epoch, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	ck_assert_int_eq(key_of(0, &v), META_REC_REGISTER_BROKER);
	ck_assert_int_eq(v, 0);
	commit();
	/* a finalized feature the broker does not advertise is unsupported */
	meta_feature_level_record_init(&fl);
	fl.name = wire_str_c("transaction.version");
	fl.feature_level = 2;
	apply_one(META_REC_FEATURE_LEVEL, 0, &fl);
	reg = reg_of(6, 1, other, 1);
	meta_ctl_register_broker(img, &env, &reg, false, 10, &out, &epoch, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_UNSUPPORTED_VERSION);
	ck_assert_msg(strstr(res.message, "transaction.version") != NULL, "%s", res.message);
}
END_TEST

START_TEST(register_record_versions)
{
	static const struct meta_feature_range fs[] = {{"metadata.version", 1, 30}};
	static const struct {
		int16_t mv, version;
	} cases[] = {{6, 0}, {7, 1}, {8, 2}, {16, 2}, {17, 3}, {21, 3}};
	int64_t epoch;
	int16_t v;

	for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
		struct meta_broker_reg reg = reg_of(10 + (int32_t)i, 1, fs, 1);

		set_mv(cases[i].mv);
		meta_ctl_register_broker(img, &env, &reg, false, 10, &out, &epoch, &res);
		ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
		ck_assert_int_eq(key_of(0, &v), META_REC_REGISTER_BROKER);
		ck_assert_int_eq(v, cases[i].version);
		commit();
		ck_assert_ptr_nonnull(meta_image_broker(img, 10 + (int32_t)i));
	}
}
END_TEST

START_TEST(fence_moves_leaders)
{
	struct meta_partition_change_record c;
	int16_t v;

	cluster(META_MV_3_9_IV0);
	ck_assert_int_eq(meta_broker_leader_count(img, 1), 2);
	ck_assert_int_eq(meta_ctl_fence_broker(img, &env, 1, &out), SL_OK);
	ck_assert_uint_eq(out.count, 4);
	c = change_at(0); /* p0: sole replica, leaderless; ISR keeps its last member */
	ck_assert_int_eq(c.partition_id, 0);
	ck_assert_int_eq(c.leader, -1);
	ck_assert_int_eq(c.isr_count, -1);
	c = change_at(1); /* p1: ISR [2,3], leader the first acceptable replica */
	ck_assert_int_eq(c.partition_id, 1);
	ck_assert_int_eq(c.leader, 2);
	ck_assert_int_eq(c.isr_count, 2);
	c = change_at(2); /* p2: leader 2 stays, ISR shrinks, no leader epoch bump at 3.9 */
	ck_assert_int_eq(c.partition_id, 2);
	ck_assert_int_eq(c.leader, -2);
	ck_assert_int_eq(c.isr_count, 1);
	ck_assert_int_eq(c.isr[0], 2);
	struct meta_broker_registration_change_record brc = brc_at(3, &v);
	ck_assert_int_eq(brc.broker_id, 1);
	ck_assert_int_eq(brc.broker_epoch, 101);
	ck_assert_int_eq(brc.fenced, 1);
	ck_assert_int_eq(v, 0);
	commit();
	ck_assert(meta_image_broker(img, 1)->fenced);
	ck_assert_int_eq(part(0)->leader, -1);
	ck_assert_int_eq(part(0)->leader_epoch, 1);
	ck_assert_int_eq(part(0)->partition_epoch, 1);
	ck_assert_int_eq(part(0)->isr_count, 1);
	ck_assert_int_eq(part(0)->isr[0], 1);
	ck_assert_int_eq(part(1)->leader, 2);
	ck_assert_int_eq(part(1)->leader_epoch, 1);
	ck_assert_int_eq(part(1)->isr_count, 2);
	ck_assert_int_eq(part(2)->leader, 2);
	ck_assert_int_eq(part(2)->leader_epoch, 0);
	ck_assert_int_eq(part(2)->partition_epoch, 1);
	ck_assert_int_eq(part(3)->partition_epoch, 0); /* untouched */
	ck_assert_int_eq(meta_broker_leader_count(img, 1), 0);
	ck_assert_int_eq(meta_broker_leader_count(img, 2), 2);
	/* fencing again: nothing left to move, already fenced: no records */
	ck_assert_int_eq(meta_ctl_fence_broker(img, &env, 1, &out), SL_OK);
	ck_assert_uint_eq(out.count, 0);
	ck_assert_int_eq(meta_ctl_fence_broker(img, &env, 42, &out), SL_OK);
	ck_assert_uint_eq(out.count, 0);
}
END_TEST

START_TEST(unfence_restores_leader)
{
	int16_t v;

	cluster(META_MV_3_9_IV0);
	ck_assert_int_eq(meta_ctl_fence_broker(img, &env, 1, &out), SL_OK);
	commit();
	/* not fenced: nothing to do */
	ck_assert_int_eq(meta_ctl_unfence_broker(img, &env, 2, &out), SL_OK);
	ck_assert_uint_eq(out.count, 0);
	ck_assert_int_eq(meta_ctl_unfence_broker(img, &env, 1, &out), SL_OK);
	ck_assert_uint_eq(out.count, 2);
	struct meta_broker_registration_change_record brc = brc_at(0, &v);
	ck_assert_int_eq(brc.fenced, -1);
	struct meta_partition_change_record c = change_at(1);
	ck_assert_int_eq(c.partition_id, 0);
	ck_assert_int_eq(c.leader, 1);
	ck_assert_int_eq(c.isr_count, -1);
	commit();
	ck_assert(!meta_image_broker(img, 1)->fenced);
	ck_assert_int_eq(part(0)->leader, 1);
	ck_assert_int_eq(part(0)->leader_epoch, 2);
	ck_assert_int_eq(part(0)->partition_epoch, 2);
	ck_assert_int_eq(part(1)->leader, 2); /* p1 had a leader: unchanged */
}
END_TEST

START_TEST(controlled_shutdown_moves)
{
	int16_t v;

	cluster(META_MV_3_9_IV0);
	ck_assert_int_eq(meta_ctl_controlled_shutdown(img, &env, 2, &out), SL_OK);
	/* change record first, then p1 (ISR shrink), p2 (leader to 1), p3 untouched (2 not in
	 * its ISR) */
	ck_assert_uint_eq(out.count, 3);
	struct meta_broker_registration_change_record brc = brc_at(0, &v);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(brc.in_controlled_shutdown, 1);
	ck_assert_int_eq(brc.fenced, 0);
	ck_assert_int_eq(change_at(1).partition_id, 1);
	ck_assert_int_eq(change_at(1).leader, -2);
	ck_assert_int_eq(change_at(2).partition_id, 2);
	ck_assert_int_eq(change_at(2).leader, 1);
	commit();
	ck_assert(meta_image_broker(img, 2)->in_controlled_shutdown);
	ck_assert(!meta_image_broker(img, 2)->fenced);
	ck_assert_int_eq(part(2)->leader, 1);
	ck_assert_int_eq(part(2)->isr_count, 1);
	ck_assert_int_eq(meta_broker_leader_count(img, 2), 0);
	/* again: already in controlled shutdown, nothing moves */
	ck_assert_int_eq(meta_ctl_controlled_shutdown(img, &env, 2, &out), SL_OK);
	ck_assert_uint_eq(out.count, 0);
	/* fencing 1 now: p1 goes to 3; p2's ISR keeps its last member 1 (2 left it), so p2 is
	 * leaderless */
	ck_assert_int_eq(meta_ctl_fence_broker(img, &env, 1, &out), SL_OK);
	commit();
	ck_assert_int_eq(part(2)->leader, -1);
	ck_assert_int_eq(part(1)->leader, 3);
}
END_TEST

START_TEST(old_metadata_versions)
{
	int16_t v;

	/* below 3.6-IV0 an ISR shrink bumps the leader epoch (the leader is re-set) */
	cluster(META_MV_3_4_IV0);
	ck_assert_int_eq(meta_ctl_fence_broker(img, &env, 1, &out), SL_OK);
	ck_assert_int_eq(change_at(2).partition_id, 2);
	ck_assert_int_eq(change_at(2).leader, 2);
	commit();
	ck_assert_int_eq(part(2)->leader_epoch, 1);
	meta_image_unref(img);
	img = meta_image_create_empty();
	/* below 3.3-IV2: FenceBrokerRecord / UnfenceBrokerRecord; below 3.3-IV3 no controlled
	 * shutdown record */
	cluster(5);
	ck_assert_int_eq(meta_ctl_fence_broker(img, &env, 3, &out), SL_OK);
	ck_assert_int_eq(key_of(out.count - 1, NULL), META_REC_FENCE_BROKER);
	commit();
	ck_assert(meta_image_broker(img, 3)->fenced);
	ck_assert_int_eq(part(3)->leader, -1);
	ck_assert_int_eq(meta_ctl_unfence_broker(img, &env, 3, &out), SL_OK);
	ck_assert_int_eq(key_of(0, NULL), META_REC_UNFENCE_BROKER);
	commit();
	ck_assert_int_eq(part(3)->leader, 3);
	ck_assert_int_eq(meta_ctl_controlled_shutdown(img, &env, 3, &out), SL_OK);
	ck_assert_uint_eq(out.count, 1); /* p3 only: leaderless, no change record */
	ck_assert_int_eq(key_of(0, &v), META_REC_PARTITION_CHANGE);
	ck_assert_int_eq(v, 0);
	commit();
	ck_assert_int_eq(part(3)->leader, -1);
	ck_assert(!meta_image_broker(img, 3)->in_controlled_shutdown);
}
END_TEST

START_TEST(partition_record_version_follows_mv)
{
	int16_t v;

	cluster(META_MV_3_7_IV2);
	ck_assert_int_eq(meta_ctl_fence_broker(img, &env, 3, &out), SL_OK);
	ck_assert_int_eq(key_of(0, &v), META_REC_PARTITION_CHANGE);
	ck_assert_int_eq(v, 1);
	commit();
	ck_assert_int_eq(part(3)->leader, -1);
}
END_TEST

START_TEST(unregister)
{
	cluster(META_MV_3_9_IV0);
	meta_ctl_unregister_broker(img, &env, 9, &out, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_BROKER_ID_NOT_REGISTERED);
	ck_assert_str_eq(res.message, "Broker ID 9 is not currently registered");
	ck_assert_uint_eq(out.count, 0);
	meta_ctl_unregister_broker(img, &env, 3, &out, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	ck_assert_uint_eq(out.count, 3); /* p1 ISR shrink, p3 leaderless, unregister */
	ck_assert_int_eq(key_of(2, NULL), META_REC_UNREGISTER_BROKER);
	commit();
	ck_assert_ptr_null(meta_image_broker(img, 3));
	ck_assert_int_eq(part(3)->leader, -1);
	ck_assert_int_eq(part(1)->isr_count, 2);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("broker_logic");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, heartbeat_table);
	tcase_add_test(tc, register_new_and_retry);
	tcase_add_test(tc, register_duplicate_and_stale);
	tcase_add_test(tc, register_features);
	tcase_add_test(tc, register_record_versions);
	tcase_add_test(tc, fence_moves_leaders);
	tcase_add_test(tc, unfence_restores_leader);
	tcase_add_test(tc, controlled_shutdown_moves);
	tcase_add_test(tc, old_metadata_versions);
	tcase_add_test(tc, partition_record_version_follows_mv);
	tcase_add_test(tc, unregister);
	suite_add_tcase(s, tc);
	return s;
}
