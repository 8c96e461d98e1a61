/*
 * test_meta_ctl.c: the pure controller decisions. Every CreateTopics error, placement,
 * validate_only, record versions by metadata.version, DeleteTopics by name and id,
 * CreatePartitions, AlterConfigs (legacy replace) and IncrementalAlterConfigs (SET, DELETE,
 * APPEND, SUBTRACT) on topics and brokers; each success is applied back to an image
 * (decision -> records -> apply) and the image must show the change, with the invariants
 * checked after every step.
 */
#include "check_main.h"
#include "metadata.h"

#include <stdio.h>
#include <string.h>

static struct sl_arena arena;
static struct meta_records out;
static struct meta_ctl_result res;
static struct meta_image *img;
static struct meta_ctl_env env;

static struct sl_uuid uid(uint8_t seed)
{
	struct sl_uuid u;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed * 11 + i + 1);
	return u;
}

/* Applies one record to img as the next image. */
static void apply_one(int16_t key, int16_t version, const void *rec)
{
	struct sl_buf b;
	struct meta_delta *d;
	char err[256];

	sl_buf_init(&b, 1 << 16);
	meta_frame_put(&b, key, version);
	meta_record_encode_any(&b, key, version, rec);
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	ck_assert_int_eq(meta_delta_create(img, &d), SL_OK);
	ck_assert_msg(meta_delta_apply(d, b.data, b.len, err, sizeof(err)) == SL_OK, "%s", err);
	struct meta_image *next = meta_delta_publish(d, meta_image_offset(img) + 1);

	meta_image_unref(img);
	img = next;
	sl_buf_free(&b);
}

static void register_broker(int32_t id)
{
	struct meta_register_broker_record r;

	meta_register_broker_record_init(&r);
	r.broker_id = id;
	r.broker_epoch = 100 + id;
	r.incarnation_id = uid((uint8_t)(200 + id));
	r.fenced = false;
	apply_one(META_REC_REGISTER_BROKER, 0, &r);
}

/* fenced: 1 fence, -1 unfence; shutdown 1 = in controlled shutdown. */
static void change_broker(int32_t id, int8_t fenced, int8_t shutdown)
{
	struct meta_broker_registration_change_record r;

	meta_broker_registration_change_record_init(&r);
	r.broker_id = id;
	r.broker_epoch = 100 + id;
	r.fenced = fenced;
	r.in_controlled_shutdown = shutdown;
	apply_one(META_REC_BROKER_REGISTRATION_CHANGE, 1, &r);
}

static void setup(void)
{
	sl_arena_init(&arena, 4096, 64u << 20);
	meta_records_init(&out, &arena);
	img = meta_image_create_empty();
	for (int32_t id = 1; id <= 3; id++)
		register_broker(id);
	env = (struct meta_ctl_env){.num_partitions = 1,
	                            .default_replication_factor = 1,
	                            .metadata_version = 0,
	                            .random = 42};
}

static void teardown(void)
{
	meta_image_unref(img);
	sl_arena_free(&arena);
}

/* Applies out to img as the next image and clears out. */
static void commit(void)
{
	struct meta_delta *d;
	char err[256];

	ck_assert_int_eq(meta_delta_create(img, &d), SL_OK);
	for (size_t i = 0; i < out.count; i++) {
		enum sl_err e = meta_delta_apply(d, out.values[i].ptr, (size_t)out.values[i].len,
		                                 err, sizeof(err));

		ck_assert_msg(e == SL_OK, "record %zu: %s", i, err);
		meta_image_check_invariants(meta_delta_view(d));
	}
	struct meta_image *next =
	        meta_delta_publish(d, meta_image_offset(img) + 1 + (int64_t)out.count);

	meta_image_unref(img);
	img = next;
	meta_image_check_invariants(img);
	meta_records_init(&out, &arena);
}

static struct meta_topic_spec spec_of(const char *name, int32_t np, int16_t rf, uint8_t seed)
{
	return (struct meta_topic_spec){
	        .name = wire_str_c(name),
	        .num_partitions = np,
	        .replication_factor = rf,
	        .new_id = uid(seed),
	};
}

static int16_t create(const struct meta_topic_spec *s, bool validate_only)
{
	int32_t np = -5;
	int16_t rf = -5;

	meta_ctl_create_topic(img, &env, s, validate_only, &out, &np, &rf, &res);
	if (res.error_code == WIRE_ERR_NONE) {
		ck_assert_int_gt(np, 0);
		ck_assert_int_gt(rf, 0);
	} else {
		ck_assert_uint_eq(out.count, 0);
		ck_assert_str_ne(res.message, "");
	}
	return res.error_code;
}

static void create_ok(const char *name, int32_t np, int16_t rf, uint8_t seed)
{
	struct meta_topic_spec s = spec_of(name, np, rf, seed);

	ck_assert_msg(create(&s, false) == WIRE_ERR_NONE, "%s: %s", name, res.message);
	commit();
}

START_TEST(create_topic_round_trip)
{
	struct meta_config_kv cfg[2] = {{wire_str_c("retention.ms"), wire_str_c("1000")},
	                                {wire_str_c("cleanup.policy"), wire_str_c("compact")}};
	struct meta_topic_spec s = spec_of("orders", 6, 3, 1);
	const struct meta_topic *t;

	s.configs = cfg;
	s.config_count = 2;
	ck_assert_int_eq(create(&s, false), WIRE_ERR_NONE);
	ck_assert_uint_eq(out.count, 1 + 2 + 6);
	commit();
	t = meta_image_topic(img, "orders", 6);
	ck_assert_ptr_nonnull(t);
	ck_assert(sl_uuid_eq(&t->id, &s.new_id));
	ck_assert_int_eq(t->partition_count, 6);
	ck_assert_str_eq(meta_topic_config(t, "retention.ms"), "1000");
	ck_assert_str_eq(meta_topic_config(t, "cleanup.policy"), "compact");
	int leaders[4] = {0};

	for (int32_t p = 0; p < 6; p++) {
		const struct meta_partition *part = &t->partitions[p];

		ck_assert_int_eq(part->replica_count, 3);
		ck_assert_int_eq(part->isr_count, 1); /* no replication yet: ISR = [leader] */
		ck_assert_int_eq(part->isr[0], part->leader);
		ck_assert_int_eq(part->leader, part->replicas[0]);
		ck_assert_int_eq(part->leader_epoch, 0);
		ck_assert_int_eq(part->partition_epoch, 0);
		ck_assert_int_ne(part->replicas[0], part->replicas[1]);
		ck_assert_int_ne(part->replicas[1], part->replicas[2]);
		ck_assert_int_ne(part->replicas[0], part->replicas[2]);
		leaders[part->leader]++;
	}
	ck_assert_int_eq(leaders[1], 2); /* striped: each broker leads 2 of 6 */
	ck_assert_int_eq(leaders[2], 2);
	ck_assert_int_eq(leaders[3], 2);
}
END_TEST

START_TEST(create_defaults_and_validate_only)
{
	struct meta_topic_spec s = spec_of("d", -1, -1, 2);
	int32_t np;
	int16_t rf;

	env.num_partitions = 4;
	env.default_replication_factor = 2;
	meta_ctl_create_topic(img, &env, &s, true, &out, &np, &rf, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	ck_assert_int_eq(np, 4);
	ck_assert_int_eq(rf, 2);
	ck_assert_uint_eq(out.count, 0);
	meta_ctl_create_topic(img, &env, &s, false, &out, &np, &rf, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	commit();
	ck_assert_int_eq(meta_image_topic(img, "d", 1)->partition_count, 4);
	ck_assert_int_eq(meta_image_topic(img, "d", 1)->partitions[3].replica_count, 2);
}
END_TEST

START_TEST(create_topic_errors)
{
	char long_name[251];
	struct meta_topic_spec s;
	struct meta_config_kv bad_key = {wire_str_c("retention.mss"), wire_str_c("1")};
	struct meta_config_kv bad_val = {wire_str_c("retention.ms"), wire_str_c("-7")};
	struct meta_config_kv null_val = {wire_str_c("retention.ms"), wire_str_c(NULL)};

	create_ok("a.b", 1, 1, 1);
	memset(long_name, 'x', 250);
	long_name[250] = '\0';
	const char *const bad_names[] = {"", ".", "..", long_name, "a/b", "a b", "é"};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad_names); i++) {
		s = spec_of(bad_names[i], 1, 1, 9);
		ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_TOPIC_EXCEPTION);
	}
	s = spec_of("a.b", 1, 1, 9);
	ck_assert_int_eq(create(&s, false), WIRE_ERR_TOPIC_ALREADY_EXISTS);
	ck_assert_str_eq(res.message, "Topic 'a.b' already exists.");
	s = spec_of("a_b", 1, 1, 9);
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_TOPIC_EXCEPTION);
	ck_assert_str_eq(res.message, "Topic 'a_b' collides with existing topic: a.b");
	s = spec_of("n", 1, 1, 9);
	s.configs = &bad_key;
	s.config_count = 1;
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_CONFIG);
	ck_assert_str_eq(res.message, "Unknown topic config name: retention.mss");
	s.configs = &bad_val;
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_CONFIG);
	s.configs = &null_val;
	ck_assert_int_eq(create(&s, true), WIRE_ERR_INVALID_CONFIG);
	s = spec_of("n", 0, 1, 9);
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_PARTITIONS);
	s = spec_of("n", -2, 1, 9);
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_PARTITIONS);
	s = spec_of("n", 1, 0, 9);
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REPLICATION_FACTOR);
	s = spec_of("n", 1, -2, 9);
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REPLICATION_FACTOR);
	s = spec_of("n", 1, 4, 9);
	ck_assert_int_eq(create(&s, true), WIRE_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_str_eq(
	        res.message,
	        "Unable to replicate the partition 4 time(s): The target replication factor "
	        "of 4 cannot be reached because only 3 broker(s) are registered.");
	s = spec_of("n", 20000, 1, 9);
	ck_assert_int_eq(create(&s, false), WIRE_ERR_POLICY_VIOLATION);
	change_broker(3, 0, 1); /* controlled shutdown: not usable */
	s = spec_of("n", 1, 3, 9);
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_msg(strstr(res.message, "only 2 broker(s)") != NULL, "%s", res.message);
	change_broker(1, 1, 0);
	change_broker(2, 1, 0);
	s = spec_of("n", 1, 1, 9);
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_str_eq(res.message,
	                 "Unable to replicate the partition 1 time(s): All brokers are currently "
	                 "fenced.");
	ck_assert_uint_eq(meta_image_topic_count(img), 1);
}
END_TEST

START_TEST(manual_assignment)
{
	static const int32_t r12[] = {1, 2}, r23[] = {2, 3}, r3[] = {3}, r11[] = {1, 1},
	                     r19[] = {1, 9};
	struct meta_replica_assignment good[2] = {{0, 2, r12}, {1, 2, r23}};
	struct meta_replica_assignment bad[2];
	struct meta_topic_spec s = spec_of("m", -1, -1, 3);
	const struct meta_topic *t;

	s.assignments = good;
	s.assignment_count = 2;
	s.replication_factor = 2;
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REQUEST);
	s.replication_factor = -1;
	s.num_partitions = 2;
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REQUEST);
	s.num_partitions = -1;
	s.assignments = bad;
	bad[0] = (struct meta_replica_assignment){1, 2, r12};
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REPLICA_ASSIGNMENT);
	bad[0] = (struct meta_replica_assignment){0, 0, r12};
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REPLICA_ASSIGNMENT);
	bad[0] = (struct meta_replica_assignment){0, 2, r11};
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REPLICA_ASSIGNMENT);
	ck_assert_msg(strstr(res.message, "more than once") != NULL, "%s", res.message);
	bad[0] = (struct meta_replica_assignment){0, 2, r19};
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REPLICA_ASSIGNMENT);
	ck_assert_msg(strstr(res.message, "broker 9") != NULL, "%s", res.message);
	bad[0] = (struct meta_replica_assignment){0, 2, r12};
	bad[1] = (struct meta_replica_assignment){1, 1, r3};
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REPLICA_ASSIGNMENT);
	ck_assert_msg(strstr(res.message, "not consistent") != NULL, "%s", res.message);
	s.assignments = good;
	ck_assert_int_eq(create(&s, false), WIRE_ERR_NONE);
	commit();
	t = meta_image_topic(img, "m", 1);
	ck_assert_int_eq(t->partition_count, 2);
	ck_assert_int_eq(t->partitions[1].leader, 2);
	ck_assert_int_eq(t->partitions[1].replicas[1], 3);
	ck_assert_int_eq(t->partitions[0].isr_count, 1);
	ck_assert_int_eq(t->partitions[0].isr[0], 1);
	/* a fenced first replica does not lead: the first active one does */
	change_broker(1, 1, 0);
	s = spec_of("m2", -1, -1, 13);
	s.assignments = bad;
	s.assignment_count = 1;
	bad[0] = (struct meta_replica_assignment){0, 2, r12};
	ck_assert_int_eq(create(&s, false), WIRE_ERR_NONE);
	commit();
	t = meta_image_topic(img, "m2", 2);
	ck_assert_int_eq(t->partitions[0].leader, 2);
	ck_assert_int_eq(t->partitions[0].replicas[0], 1);
	change_broker(2, 0, 1);
	s = spec_of("m3", -1, -1, 14);
	s.assignments = bad;
	s.assignment_count = 1;
	ck_assert_int_eq(create(&s, false), WIRE_ERR_INVALID_REPLICA_ASSIGNMENT);
	ck_assert_str_eq(res.message,
	                 "All brokers specified in the manual partition assignment for "
	                 "partition 0 are fenced or in controlled shutdown.");
}
END_TEST

START_TEST(record_versions_follow_mv)
{
	struct meta_topic_spec s = spec_of("v", 1, 1, 4);
	struct wire_reader r;
	int16_t key, ver;

	ck_assert_int_eq(meta_partition_record_version(0), 0);
	ck_assert_int_eq(meta_partition_record_version(16), 0);
	ck_assert_int_eq(meta_partition_record_version(17), 1);
	ck_assert_int_eq(meta_partition_record_version(23), 1);
	env.metadata_version = 17;
	ck_assert_int_eq(create(&s, false), WIRE_ERR_NONE);
	ck_assert_uint_eq(out.count, 2);
	wire_reader_init(&r, out.values[1].ptr, (size_t)out.values[1].len, NULL);
	ck_assert_int_eq(meta_frame_get(&r, &key, &ver), SL_OK);
	ck_assert_int_eq(key, META_REC_PARTITION);
	ck_assert_int_eq(ver, 1);
	commit();
	ck_assert_int_eq(meta_image_topic(img, "v", 1)->partitions[0].leader_epoch, 0);
	env.metadata_version = 0;
	s = spec_of("w", 1, 1, 5);
	ck_assert_int_eq(create(&s, false), WIRE_ERR_NONE);
	wire_reader_init(&r, out.values[1].ptr, (size_t)out.values[1].len, NULL);
	ck_assert_int_eq(meta_frame_get(&r, &key, &ver), SL_OK);
	ck_assert_int_eq(ver, 0);
	commit();
}
END_TEST

START_TEST(delete_topics)
{
	struct sl_uuid id;
	const char *name;

	create_ok("x", 2, 1, 6);
	create_ok("y", 1, 1, 7);
	meta_ctl_delete_topic(img, wire_str_c("x"), SL_UUID_ZERO, &out, &id, &name, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	{
		struct sl_uuid want = uid(6);

		ck_assert(sl_uuid_eq(&id, &want));
	}
	ck_assert_str_eq(name, "x");
	ck_assert_uint_eq(out.count, 1);
	commit();
	ck_assert_ptr_null(meta_image_topic(img, "x", 1));
	meta_ctl_delete_topic(img, wire_str_c(NULL), uid(7), &out, &id, &name, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	ck_assert_str_eq(name, "y");
	commit();
	ck_assert_uint_eq(meta_image_topic_count(img), 0);
	meta_ctl_delete_topic(img, wire_str_c("x"), SL_UUID_ZERO, &out, &id, &name, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_ptr_null(name);
	meta_ctl_delete_topic(img, wire_str_c(NULL), uid(7), &out, &id, &name, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_UNKNOWN_TOPIC_ID);
	meta_ctl_delete_topic(img, wire_str_c("x"), uid(7), &out, &id, &name, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_INVALID_REQUEST);
	meta_ctl_delete_topic(img, wire_str_c(NULL), SL_UUID_ZERO, &out, &id, &name, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_uint_eq(out.count, 0);
	create_ok("x", 1, 1, 8); /* re-create under a new id */
	ck_assert_ptr_nonnull(meta_image_topic_by_id(img, uid(8)));
	ck_assert_ptr_null(meta_image_topic_by_id(img, uid(6)));
}
END_TEST

START_TEST(create_partitions)
{
	static const int32_t r21[] = {2, 1}, r3[] = {3}, r31[] = {3, 1};
	struct meta_replica_assignment as[2] = {{0, 2, r21}, {0, 2, r31}};
	struct meta_replica_assignment bad = {0, 1, r3};
	const struct meta_topic *t;

	create_ok("p", 2, 2, 9);
	meta_ctl_create_partitions(img, &env, wire_str_c("nope"), 3, 0, NULL, false, &out, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	meta_ctl_create_partitions(img, &env, wire_str_c("p"), 1, 0, NULL, false, &out, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_INVALID_PARTITIONS);
	meta_ctl_create_partitions(img, &env, wire_str_c("p"), 2, 0, NULL, false, &out, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_INVALID_PARTITIONS);
	ck_assert_str_eq(res.message, "Topic already has 2 partition(s).");
	meta_ctl_create_partitions(img, &env, wire_str_c("p"), 5, 2, as, false, &out, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_INVALID_REPLICA_ASSIGNMENT);
	meta_ctl_create_partitions(img, &env, wire_str_c("p"), 3, 1, &bad, false, &out, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_INVALID_REPLICA_ASSIGNMENT);
	meta_ctl_create_partitions(img, &env, wire_str_c("p"), 4, 0, NULL, true, &out, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	ck_assert_uint_eq(out.count, 0);
	meta_ctl_create_partitions(img, &env, wire_str_c("p"), 4, 0, NULL, false, &out, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	ck_assert_uint_eq(out.count, 2);
	commit();
	t = meta_image_topic(img, "p", 1);
	ck_assert_int_eq(t->partition_count, 4);
	ck_assert_int_eq(t->partitions[3].replica_count, 2);
	meta_ctl_create_partitions(img, &env, wire_str_c("p"), 6, 2, as, false, &out, &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	commit();
	t = meta_image_topic(img, "p", 1);
	ck_assert_int_eq(t->partition_count, 6);
	ck_assert_int_eq(t->partitions[4].leader, 2);
	ck_assert_int_eq(t->partitions[5].replicas[1], 1);
}
END_TEST

static int16_t alter(int8_t type, const char *name, bool incremental,
                     const struct meta_config_change *ch, size_t n)
{
	size_t before = out.count;

	meta_ctl_alter_configs(img, type, wire_str_c(name), incremental, ch, n, false, &out, &res);
	if (res.error_code != WIRE_ERR_NONE)
		ck_assert_uint_eq(out.count, before);
	return res.error_code;
}

#define CH(n, v, op)                             \
	{                                        \
		wire_str_c(n), wire_str_c(v), op \
	}

START_TEST(incremental_alter_topic)
{
	const struct meta_topic *t;
	struct meta_config_change set[2] = {CH("retention.ms", "5000", META_CONFIG_SET),
	                                    CH("segment.ms", "100", META_CONFIG_SET)};
	struct meta_config_change append = CH("cleanup.policy", "compact", META_CONFIG_APPEND);
	struct meta_config_change subtract = CH("cleanup.policy", "delete", META_CONFIG_SUBTRACT);
	struct meta_config_change del = CH("segment.ms", NULL, META_CONFIG_DELETE);

	create_ok("c", 1, 1, 10);
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "c", true, set, 2), WIRE_ERR_NONE);
	ck_assert_uint_eq(out.count, 2);
	commit();
	t = meta_image_topic(img, "c", 1);
	ck_assert_str_eq(meta_topic_config(t, "retention.ms"), "5000");
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "c", true, set, 2), WIRE_ERR_NONE);
	ck_assert_uint_eq(out.count, 0); /* unchanged: no records */
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "c", true, &append, 1), WIRE_ERR_NONE);
	commit();
	t = meta_image_topic(img, "c", 1);
	ck_assert_str_eq(meta_topic_config(t, "cleanup.policy"), "delete,compact");
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "c", true, &subtract, 1), WIRE_ERR_NONE);
	commit();
	t = meta_image_topic(img, "c", 1);
	ck_assert_str_eq(meta_topic_config(t, "cleanup.policy"), "compact");
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "c", true, &del, 1), WIRE_ERR_NONE);
	commit();
	t = meta_image_topic(img, "c", 1);
	ck_assert_ptr_null(meta_topic_config(t, "segment.ms"));
	ck_assert_uint_eq(t->config_count, 2);
}
END_TEST

START_TEST(alter_errors)
{
	struct meta_config_change append_num = CH("retention.ms", "5", META_CONFIG_APPEND);
	struct meta_config_change unknown = CH("retention.mss", "5", META_CONFIG_SET);
	struct meta_config_change badval = CH("segment.bytes", "1", META_CONFIG_SET);
	struct meta_config_change badop = CH("segment.bytes", "1", (enum meta_config_op)7);
	struct meta_config_change nullset = CH("segment.bytes", NULL, META_CONFIG_SET);
	struct meta_config_change dup[2] = {CH("retention.ms", "5", META_CONFIG_SET),
	                                    CH("retention.ms", "6", META_CONFIG_SET)};
	struct meta_config_change badlist = CH("cleanup.policy", "zap", META_CONFIG_APPEND);

	create_ok("e", 1, 1, 11);
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "nope", true, &unknown, 1),
	                 WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "e", true, &append_num, 1),
	                 WIRE_ERR_INVALID_CONFIG);
	ck_assert_str_eq(res.message,
	                 "Can't APPEND to key retention.ms because its type is not LIST.");
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "e", true, &unknown, 1),
	                 WIRE_ERR_INVALID_CONFIG);
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "e", true, &badval, 1),
	                 WIRE_ERR_INVALID_CONFIG);
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "e", true, &badop, 1),
	                 WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "e", true, &nullset, 1),
	                 WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "e", true, dup, 2), WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "e", true, &badlist, 1),
	                 WIRE_ERR_INVALID_CONFIG);
	ck_assert_int_eq(alter(99, "e", true, &unknown, 1), WIRE_ERR_INVALID_REQUEST);
	meta_ctl_alter_configs(img, META_RESOURCE_TOPIC, wire_str_c("e"), true, dup, 1, true, &out,
	                       &res);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	ck_assert_uint_eq(out.count, 0); /* validate_only */
}
END_TEST

START_TEST(legacy_alter_replaces)
{
	struct meta_config_change first[2] = {CH("retention.ms", "5", META_CONFIG_SET),
	                                      CH("segment.ms", "7", META_CONFIG_SET)};
	struct meta_config_change second = CH("max.message.bytes", "2000", META_CONFIG_DELETE);
	const struct meta_topic *t;

	create_ok("l", 1, 1, 12);
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "l", false, first, 2), WIRE_ERR_NONE);
	commit();
	ck_assert_uint_eq(meta_image_topic(img, "l", 1)->config_count, 2);
	/* legacy ignores op types and replaces the whole set */
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "l", false, &second, 1), WIRE_ERR_NONE);
	ck_assert_uint_eq(out.count, 3);
	commit();
	t = meta_image_topic(img, "l", 1);
	ck_assert_uint_eq(t->config_count, 1);
	ck_assert_str_eq(meta_topic_config(t, "max.message.bytes"), "2000");
	ck_assert_int_eq(alter(META_RESOURCE_TOPIC, "l", false, NULL, 0), WIRE_ERR_NONE);
	commit();
	ck_assert_uint_eq(meta_image_topic(img, "l", 1)->config_count, 0);
}
END_TEST

START_TEST(broker_configs)
{
	struct meta_config_change ok1 = CH("log.retention.ms", "60000", META_CONFIG_SET);
	struct meta_config_change ro = CH("num.partitions", "3", META_CONFIG_SET);
	struct meta_config_change bad = CH("log.segment.bytes", "3", META_CONFIG_SET);
	struct meta_config_change del = CH("log.retention.ms", NULL, META_CONFIG_DELETE);
	struct meta_config_change app = CH("log.cleanup.policy", "compact", META_CONFIG_APPEND);

	ck_assert_int_eq(alter(META_RESOURCE_BROKER, "", true, &ok1, 1), WIRE_ERR_NONE);
	ck_assert_int_eq(alter(META_RESOURCE_BROKER, "2", true, &app, 1), WIRE_ERR_NONE);
	commit();
	ck_assert_str_eq(meta_image_broker_config(img, -1, "log.retention.ms"), "60000");
	ck_assert_str_eq(meta_image_broker_config(img, 2, "log.cleanup.policy"), "delete,compact");
	ck_assert_int_eq(alter(META_RESOURCE_BROKER, "", true, &ro, 1), WIRE_ERR_INVALID_CONFIG);
	ck_assert_str_eq(res.message, "Cannot update these configs dynamically: num.partitions");
	ck_assert_int_eq(alter(META_RESOURCE_BROKER, "", true, &bad, 1), WIRE_ERR_INVALID_CONFIG);
	ck_assert_int_eq(alter(META_RESOURCE_BROKER, "x1", true, &ok1, 1),
	                 WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(alter(META_RESOURCE_BROKER, "", true, &del, 1), WIRE_ERR_NONE);
	commit();
	ck_assert_ptr_null(meta_image_broker_config(img, -1, "log.retention.ms"));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("meta_ctl");
	TCase *tc = tcase_create("ctl");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, create_topic_round_trip);
	tcase_add_test(tc, create_defaults_and_validate_only);
	tcase_add_test(tc, create_topic_errors);
	tcase_add_test(tc, manual_assignment);
	tcase_add_test(tc, record_versions_follow_mv);
	tcase_add_test(tc, delete_topics);
	tcase_add_test(tc, create_partitions);
	tcase_add_test(tc, incremental_alter_topic);
	tcase_add_test(tc, alter_errors);
	tcase_add_test(tc, legacy_alter_replaces);
	tcase_add_test(tc, broker_configs);
	suite_add_tcase(s, tc);
	return s;
}
