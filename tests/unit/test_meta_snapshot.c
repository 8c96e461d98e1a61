/*
 * test_meta_snapshot.c: an image as records (meta_image_records / meta_image_to_records):
 * images built through deltas (topics, partitions, partition changes, configs, deletions,
 * brokers, features, producer ids) and seeded random images are turned into records, replayed
 * into the empty image, and the result compared field by field with the original (and with
 * meta_image_diff, which must report nothing). Also the record order and versions, sink
 * errors, and the record-to-text lines of `sluice metadata dump`.
 */
#include "check_main.h"
#include "meta_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sl_buf buf;
static struct sl_arena arena;
static char err[256];

static void setup(void)
{
	sl_buf_init(&buf, 1u << 20);
	sl_arena_init(&arena, 1u << 16, 256u << 20);
}

static void teardown(void)
{
	sl_buf_free(&buf);
	sl_arena_free(&arena);
}

static struct sl_uuid uid(uint32_t seed)
{
	struct sl_uuid u;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed * 7 + (uint32_t)i + 1);
	u.b[0] = (uint8_t)(seed >> 8) | 0x80; /* never zero / reserved */
	return u;
}

static void apply_ok(struct meta_delta *d, int16_t key, int16_t v, const void *rec)
{
	enum sl_err e;

	sl_buf_reset(&buf);
	meta_frame_put(&buf, key, v);
	meta_record_encode_any(&buf, key, v, rec);
	ck_assert_int_eq(sl_buf_err(&buf), SL_OK);
	e = meta_delta_apply(d, buf.data, buf.len, err, sizeof(err));
	ck_assert_msg(e == SL_OK, "apply key %d: %s %s", key, sl_err_name(e), err);
}

static void feature(struct meta_delta *d, const char *name, int16_t level)
{
	struct meta_feature_level_record r;

	meta_feature_level_record_init(&r);
	r.name = wire_str_c(name);
	r.feature_level = level;
	apply_ok(d, META_REC_FEATURE_LEVEL, 0, &r);
}

static void add_topic(struct meta_delta *d, const char *name, struct sl_uuid id)
{
	struct meta_topic_record r;

	meta_topic_record_init(&r);
	r.name = wire_str_c(name);
	r.topic_id = id;
	apply_ok(d, META_REC_TOPIC, 0, &r);
}

static void add_partition(struct meta_delta *d, struct sl_uuid id, int32_t p, const int32_t *reps,
                          int32_t n, int32_t isr_n, int32_t leader, int32_t epoch)
{
	struct meta_partition_record r;

	meta_partition_record_init(&r);
	r.partition_id = p;
	r.topic_id = id;
	r.replicas_count = n;
	r.replicas = (int32_t *)(uintptr_t)reps;
	r.isr_count = isr_n;
	r.isr = (int32_t *)(uintptr_t)reps;
	r.leader = leader;
	r.leader_epoch = epoch;
	r.partition_epoch = epoch * 2;
	apply_ok(d, META_REC_PARTITION, 0, &r);
}

static void change_leader(struct meta_delta *d, struct sl_uuid id, int32_t p, int32_t leader,
                          const int32_t *isr, int32_t isr_n)
{
	struct meta_partition_change_record r;

	meta_partition_change_record_init(&r);
	r.partition_id = p;
	r.topic_id = id;
	r.leader = leader;
	r.isr_count = isr_n;
	r.isr = (int32_t *)(uintptr_t)isr;
	apply_ok(d, META_REC_PARTITION_CHANGE, 0, &r);
}

static void set_config(struct meta_delta *d, int8_t type, const char *res, const char *name,
                       const char *value)
{
	struct meta_config_record r;

	meta_config_record_init(&r);
	r.resource_type = type;
	r.resource_name = wire_str_c(res);
	r.name = wire_str_c(name);
	r.value = wire_str_c(value);
	apply_ok(d, META_REC_CONFIG, 0, &r);
}

static void remove_topic(struct meta_delta *d, struct sl_uuid id)
{
	struct meta_remove_topic_record r;

	meta_remove_topic_record_init(&r);
	r.topic_id = id;
	apply_ok(d, META_REC_REMOVE_TOPIC, 0, &r);
}

static void register_broker(struct meta_delta *d, int32_t id, int64_t epoch, const char *rack,
                            bool shutdown)
{
	struct meta_register_broker_record r;
	struct meta_register_broker_record_broker_endpoint ep[2];

	meta_register_broker_record_init(&r);
	for (int i = 0; i < 2; i++) {
		meta_register_broker_record_broker_endpoint_init(&ep[i]);
		ep[i].name = wire_str_c(i ? "CONTROLLER" : "PLAINTEXT");
		ep[i].host = wire_str_c("host with space");
		ep[i].port = (uint16_t)(9092 + id * 2 + i);
		ep[i].security_protocol = (int16_t)i;
	}
	r.broker_id = id;
	r.broker_epoch = epoch;
	r.incarnation_id = uid((uint32_t)id + 1000);
	r.end_points_count = 1 + (id % 2);
	r.end_points = ep;
	r.rack = wire_str_c(rack);
	r.fenced = (id % 3) == 0;
	r.in_controlled_shutdown = shutdown;
	apply_ok(d, META_REC_REGISTER_BROKER, 1, &r);
}

static void producer_ids(struct meta_delta *d, int64_t next)
{
	struct meta_producer_ids_record r;

	meta_producer_ids_record_init(&r);
	r.broker_id = 1;
	r.broker_epoch = 5;
	r.next_producer_id = next;
	apply_ok(d, META_REC_PRODUCER_IDS, 0, &r);
}

/* ---- comparison -------------------------------------------------------------------------- */

static void assert_ints(const int32_t *a, int32_t na, const int32_t *b, int32_t nb)
{
	ck_assert_int_eq(na, nb);
	for (int32_t i = 0; i < na; i++)
		ck_assert_int_eq(a[i], b[i]);
}

static void assert_topic_eq(const struct meta_topic *a, const struct meta_topic *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert(sl_uuid_eq(&a->id, &b->id));
	ck_assert_int_eq(a->partition_count, b->partition_count);
	for (int32_t p = 0; p < a->partition_count; p++) {
		const struct meta_partition *x = &a->partitions[p], *y = &b->partitions[p];

		ck_assert_int_eq(x->partition_id, y->partition_id);
		ck_assert_int_eq(x->leader, y->leader);
		ck_assert_int_eq(x->leader_epoch, y->leader_epoch);
		ck_assert_int_eq(x->partition_epoch, y->partition_epoch);
		assert_ints(x->replicas, x->replica_count, y->replicas, y->replica_count);
		assert_ints(x->isr, x->isr_count, y->isr, y->isr_count);
	}
	ck_assert_uint_eq(a->config_count, b->config_count);
	for (size_t i = 0; i < a->config_count; i++) {
		ck_assert_str_eq(a->configs[i].name, b->configs[i].name);
		ck_assert_str_eq(a->configs[i].value, b->configs[i].value);
	}
}

static void assert_broker_eq(const struct meta_broker *a, const struct meta_broker *b)
{
	ck_assert_int_eq(a->broker_id, b->broker_id);
	ck_assert_int_eq(a->broker_epoch, b->broker_epoch);
	ck_assert(sl_uuid_eq(&a->incarnation_id, &b->incarnation_id));
	ck_assert_int_eq(a->fenced, b->fenced);
	ck_assert_int_eq(a->in_controlled_shutdown, b->in_controlled_shutdown);
	ck_assert_int_eq(a->rack == NULL, b->rack == NULL);
	if (a->rack != NULL)
		ck_assert_str_eq(a->rack, b->rack);
	ck_assert_uint_eq(a->endpoint_count, b->endpoint_count);
	for (size_t i = 0; i < a->endpoint_count; i++) {
		ck_assert_str_eq(a->endpoints[i].name, b->endpoints[i].name);
		ck_assert_str_eq(a->endpoints[i].host, b->endpoints[i].host);
		ck_assert_int_eq(a->endpoints[i].port, b->endpoints[i].port);
		ck_assert_int_eq(a->endpoints[i].security_protocol,
		                 b->endpoints[i].security_protocol);
	}
}

static void assert_cluster_eq(const struct meta_cluster *a, const struct meta_cluster *b)
{
	ck_assert_int_eq(a->metadata_version, b->metadata_version);
	ck_assert_int_eq(a->zk_migration_state, b->zk_migration_state);
	ck_assert_int_eq(a->next_producer_id, b->next_producer_id);
	ck_assert_uint_eq(a->feature_count, b->feature_count);
	for (size_t i = 0; i < a->feature_count; i++) {
		ck_assert_str_eq(a->features[i].name, b->features[i].name);
		ck_assert_int_eq(a->features[i].level, b->features[i].level);
	}
	ck_assert_uint_eq(a->bconf_count, b->bconf_count);
	for (size_t i = 0; i < a->bconf_count; i++) {
		ck_assert_int_eq(a->bconfs[i].broker_id, b->bconfs[i].broker_id);
		ck_assert_str_eq(a->bconfs[i].name, b->bconfs[i].name);
		ck_assert_str_eq(a->bconfs[i].value, b->bconfs[i].value);
	}
	ck_assert_uint_eq(a->broker_count, b->broker_count);
	for (size_t i = 0; i < a->broker_count; i++)
		assert_broker_eq(&a->brokers[i], &b->brokers[i]);
}

static int diff_calls;

static void on_part(void *ctx, const struct meta_topic *t, int32_t p)
{
	(void)ctx;
	(void)t;
	(void)p;
	diff_calls++;
}

static void on_cfg(void *ctx, const struct meta_topic *t)
{
	(void)ctx;
	(void)t;
	diff_calls++;
}

static void assert_images_eq(const struct meta_image *a, const struct meta_image *b)
{
	const struct meta_diff_ops ops = {on_part, on_part, on_part, on_cfg};

	ck_assert_uint_eq(meta_image_topic_count(a), meta_image_topic_count(b));
	for (size_t i = 0; i < meta_image_topic_count(a); i++)
		assert_topic_eq(meta_image_topic_at(a, i), meta_image_topic_at(b, i));
	assert_cluster_eq(a->cluster, b->cluster);
	diff_calls = 0;
	meta_image_diff(a, b, &ops, NULL);
	ck_assert_int_eq(diff_calls, 0);
}

/* Records of img replayed into the empty image; returns the rebuilt image (refcount 1). */
static struct meta_image *rebuild(const struct meta_image *img, size_t *count_out)
{
	struct wire_bytes *vals;
	size_t count;
	struct meta_image *empty = meta_image_create_empty(), *out;
	struct meta_delta *d;

	sl_arena_reset(&arena);
	ck_assert_int_eq(meta_image_to_records(img, &arena, &vals, &count), SL_OK);
	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	for (size_t i = 0; i < count; i++) {
		enum sl_err e =
		        meta_delta_apply(d, vals[i].ptr, (size_t)vals[i].len, err, sizeof(err));

		ck_assert_msg(e == SL_OK, "record %zu: %s", i, err);
	}
	out = meta_delta_publish(d, meta_image_offset(img));
	meta_image_unref(empty);
	meta_image_check_invariants(out);
	if (count_out != NULL)
		*count_out = count;
	return out;
}

static void assert_roundtrip(const struct meta_image *img)
{
	struct meta_image *again = rebuild(img, NULL);

	assert_images_eq(img, again);
	meta_image_unref(again);
}

/* ---- tests ------------------------------------------------------------------------------- */

START_TEST(empty_image_has_no_records)
{
	struct meta_image *img = meta_image_create_empty();
	size_t n = 99;
	struct meta_image *again = rebuild(img, &n);

	ck_assert_uint_eq(n, 0);
	assert_images_eq(img, again);
	meta_image_unref(again);
	meta_image_unref(img);
}
END_TEST

/* A rich image: everything the image holds, after changes and deletions. */
static struct meta_image *rich_image(int16_t mv)
{
	struct meta_image *empty = meta_image_create_empty(), *img;
	struct meta_delta *d;
	const int32_t reps[] = {1, 2, 3};
	const int32_t isr1[] = {3};

	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	feature(d, "metadata.version", mv);
	feature(d, "transaction.version", 2);
	feature(d, "group.version", 1);
	feature(d, "group.version", 0); /* removed again */
	register_broker(d, 2, 100, "rack-a", false);
	register_broker(d, 1, 50, NULL, true);
	register_broker(d, 3, 7, "", false);
	set_config(d, META_RESOURCE_BROKER, "", "log.retention.ms", "5");
	set_config(d, META_RESOURCE_BROKER, "2", "log.retention.ms", "6");
	set_config(d, META_RESOURCE_BROKER, "2", "num.io.threads", "");
	add_topic(d, "orders", uid(1));
	add_topic(d, "gone", uid(2));
	add_topic(d, "logs.v1", uid(3));
	add_partition(d, uid(1), 0, reps, 3, 3, 1, 0);
	add_partition(d, uid(1), 1, reps + 1, 2, 1, 2, 4);
	add_partition(d, uid(2), 0, reps, 1, 1, 1, 0);
	add_partition(d, uid(3), 0, reps, 0, 0, -1, 0);
	change_leader(d, uid(1), 0, 3, isr1, 1);
	change_leader(d, uid(1), 1, -2, reps, 3);
	set_config(d, META_RESOURCE_TOPIC, "orders", "retention.ms", "1000");
	set_config(d, META_RESOURCE_TOPIC, "orders", "cleanup.policy", "compact,delete");
	set_config(d, META_RESOURCE_TOPIC, "orders", "retention.ms", NULL);
	set_config(d, META_RESOURCE_TOPIC, "orders", "segment.ms", "60000");
	set_config(d, META_RESOURCE_TOPIC, "gone", "segment.ms", "1");
	remove_topic(d, uid(2));
	add_topic(d, "gone", uid(4)); /* re-created under a new id */
	add_partition(d, uid(4), 0, reps, 3, 2, 2, 1);
	producer_ids(d, 1000);
	producer_ids(d, 2000);
	img = meta_delta_publish(d, 42);
	meta_image_unref(empty);
	return img;
}

START_TEST(rich_image_roundtrip)
{
	struct meta_image *img = rich_image(META_MV_3_9_IV0);
	struct meta_image *again;
	size_t n;

	ck_assert_uint_eq(meta_image_topic_count(img), 3);
	ck_assert_ptr_null(meta_topic_config(meta_image_topic(img, "orders", 6), "retention.ms"));
	again = rebuild(img, &n);
	assert_images_eq(img, again);
	ck_assert_int_eq(meta_image_offset(again), 42);
	ck_assert_str_eq(meta_image_broker_config(again, 2, "num.io.threads"), "");
	ck_assert_int_eq(meta_image_broker(again, 1)->in_controlled_shutdown, true);
	ck_assert_ptr_null(meta_image_broker(again, 1)->rack);
	ck_assert_int_eq(meta_image_next_producer_id(again), 2000);
	/* 2 features + 3 brokers + 3 broker configs + 3 topics + 4 partitions + 2 topic
	 * configs + 1 producer ids (zk migration state never written). */
	ck_assert_uint_eq(n, 18);
	meta_image_unref(again);
	meta_image_unref(img);
}
END_TEST

/* First record is metadata.version; PartitionRecord version follows metadata.version. */
START_TEST(order_and_versions)
{
	const int16_t mvs[] = {META_MV_3_3_IV2, META_MV_3_7_IV2};

	for (size_t k = 0; k < 2; k++) {
		struct meta_image *img = rich_image(mvs[k]);
		struct wire_bytes *vals;
		size_t n;
		int seen_topic = 0;

		sl_arena_reset(&arena);
		ck_assert_int_eq(meta_image_to_records(img, &arena, &vals, &n), SL_OK);
		for (size_t i = 0; i < n; i++) {
			struct wire_reader r;
			int16_t key, v;

			wire_reader_init(&r, vals[i].ptr, (size_t)vals[i].len, NULL);
			ck_assert_int_eq(meta_frame_get(&r, &key, &v), SL_OK);
			if (i == 0) {
				struct meta_feature_level_record f;

				ck_assert_int_eq(key, META_REC_FEATURE_LEVEL);
				ck_assert_int_eq(meta_feature_level_record_decode(&r, 0, &f),
				                 SL_OK);
				ck_assert(wire_str_eq(f.name, "metadata.version"));
				ck_assert_int_eq(f.feature_level, mvs[k]);
			}
			if (key == META_REC_TOPIC)
				seen_topic = 1;
			if (key == META_REC_PARTITION) {
				ck_assert(seen_topic);
				ck_assert_int_eq(v, k == 0 ? 0 : 1);
			}
			if (key == META_REC_REGISTER_BROKER)
				ck_assert(!seen_topic);
			if (i == n - 1)
				ck_assert_int_eq(key, META_REC_PRODUCER_IDS);
		}
		assert_roundtrip(img);
		meta_image_unref(img);
	}
}
END_TEST

START_TEST(zk_migration_state_kept)
{
	struct meta_image *empty = meta_image_create_empty(), *img;
	struct meta_delta *d;
	struct meta_zk_migration_state_record z;

	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	feature(d, "metadata.version", META_MV_3_4_IV0);
	meta_zk_migration_state_record_init(&z);
	z.zk_migration_state = 0;
	apply_ok(d, META_REC_ZK_MIGRATION_STATE, 0, &z);
	img = meta_delta_publish(d, 1);
	ck_assert_int_eq(meta_image_zk_migration_state(img), 0);
	assert_roundtrip(img);
	meta_image_unref(img);
	meta_image_unref(empty);
}
END_TEST

static enum sl_err failing_sink(void *ctx, const uint8_t *value, size_t len)
{
	int *n = ctx;

	(void)value;
	ck_assert_uint_gt(len, 3);
	return ++*n == 3 ? SL_EIO : SL_OK;
}

START_TEST(sink_error_stops)
{
	struct meta_image *img = rich_image(META_MV_3_9_IV0);
	int n = 0;
	struct sl_arena tiny;
	struct wire_bytes *vals;
	size_t count;

	ck_assert_int_eq(meta_image_records(img, failing_sink, &n), SL_EIO);
	ck_assert_int_eq(n, 3);
	sl_arena_init(&tiny, 256, 512);
	ck_assert_int_eq(meta_image_to_records(img, &tiny, &vals, &count), SL_ENOMEM);
	ck_assert_ptr_null(vals);
	ck_assert_uint_eq(count, 0);
	sl_arena_free(&tiny);
	meta_image_unref(img);
}
END_TEST

/* Random images: seeded sequences of creates, partition changes, config sets/deletes,
 * partition additions, deletions, broker registrations and configs. */
static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 33) % n;
}

struct live_topic {
	char name[16];
	struct sl_uuid id;
	int32_t parts;
};

static void random_step(struct meta_delta *d, struct live_topic *t, size_t *n, uint32_t *next_id)
{
	static const char *const keys[] = {"retention.ms", "segment.bytes", "cleanup.policy",
	                                   "max.message.bytes"};
	int32_t reps[5];
	uint32_t op = rnd(10);
	struct live_topic *x = *n > 0 ? &t[rnd((uint32_t)*n)] : NULL;
	char v[24];

	for (int i = 0; i < 5; i++)
		reps[i] = (int32_t)rnd(8);
	snprintf(v, sizeof(v), "%u", rnd(100000));
	if (op <= 2 || x == NULL) {
		if (*n == 64)
			return;
		x = &t[(*n)++];
		snprintf(x->name, sizeof(x->name), "t%u", *next_id);
		x->id = uid((*next_id)++);
		x->parts = 1 + (int32_t)rnd(4);
		add_topic(d, x->name, x->id);
		for (int32_t p = 0; p < x->parts; p++)
			add_partition(d, x->id, p, reps, 1 + (int32_t)rnd(5), 1, reps[0],
			              (int32_t)rnd(9));
	} else if (op == 3) {
		change_leader(d, x->id, (int32_t)rnd((uint32_t)x->parts), rnd(2) ? reps[1] : -2,
		              reps, (int32_t)rnd(4));
	} else if (op == 4) {
		set_config(d, META_RESOURCE_TOPIC, x->name, keys[rnd(4)], rnd(3) ? v : NULL);
	} else if (op == 5) {
		add_partition(d, x->id, x->parts++, reps, 3, 2, -1, 0);
	} else if (op == 6) {
		remove_topic(d, x->id);
		*x = t[--*n];
	} else if (op == 7) {
		register_broker(d, (int32_t)rnd(6), rnd(1000), rnd(2) ? "r" : NULL, rnd(2));
	} else if (op == 8) {
		char b[8];

		if (rnd(3))
			snprintf(b, sizeof(b), "%u", rnd(4));
		else
			b[0] = '\0';
		set_config(d, META_RESOURCE_BROKER, b, keys[rnd(4)], rnd(3) ? v : NULL);
	} else {
		producer_ids(d, (int64_t)*next_id * 1000);
	}
}

START_TEST(random_images_roundtrip)
{
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct meta_image *img = meta_image_create_empty(), *next;
		struct live_topic topics[64];
		size_t n = 0;
		uint32_t next_id = 1;

		rng = seed;
		for (int round = 0; round < 4; round++) {
			struct meta_delta *d;

			ck_assert_int_eq(meta_delta_create(img, &d), SL_OK);
			if (round == 0)
				feature(d, "metadata.version",
				        (int16_t)(rnd(2) ? META_MV_3_9_IV0 : META_MV_3_3_IV2));
			for (int i = 0; i < 40; i++)
				random_step(d, topics, &n, &next_id);
			next = meta_delta_publish(d, meta_image_offset(img) + 40);
			meta_image_unref(img);
			img = next;
			assert_roundtrip(img);
		}
		meta_image_unref(img);
	}
}
END_TEST

/* ---- record text ------------------------------------------------------------------------- */

static const char *text_of(const struct wire_bytes *v)
{
	sl_buf_reset(&buf);
	meta_record_format(&buf, v->ptr, (size_t)v->len, &arena);
	sl_buf_put_u8(&buf, 0);
	ck_assert_int_eq(sl_buf_err(&buf), SL_OK);
	return (const char *)buf.data;
}

START_TEST(record_text_lines)
{
	struct meta_image *img = rich_image(META_MV_3_9_IV0);
	struct wire_bytes *vals;
	size_t n;
	bool topic = false, part = false, cfg = false, broker = false;
	char id[SL_UUID_STR_LEN + 1];
	char want[128];

	ck_assert_int_eq(meta_image_to_records(img, &arena, &vals, &n), SL_OK);
	sl_uuid_to_str(&(struct sl_uuid){0}, id);
	ck_assert_str_eq(text_of(&vals[0]),
	                 "FeatureLevelRecord name=metadata.version featureLevel=21 (v0)");
	for (size_t i = 0; i < n; i++) {
		const char *s = text_of(&vals[i]);
		struct sl_uuid u = uid(1);

		sl_uuid_to_str(&u, id);
		snprintf(want, sizeof(want), "TopicRecord name=orders topicId=%s (v0)", id);
		topic = topic || strcmp(s, want) == 0;
		snprintf(want, sizeof(want),
		         "PartitionRecord partitionId=0 topicId=%s replicas=[1,2,3] isr=[3]", id);
		part = part || strncmp(s, want, strlen(want)) == 0;
		cfg = cfg || strcmp(s, "ConfigRecord resourceType=2(TOPIC) resourceName=orders "
		                       "name=cleanup.policy value=compact,delete (v0)") == 0;
		broker = broker || strstr(s, "RegisterBrokerRecord brokerId=1 ") == s;
		if (strstr(s, "RegisterBrokerRecord brokerId=2 ") == s)
			ck_assert_ptr_nonnull(strstr(s, "host=\"host with space\" port=9096"));
	}
	ck_assert(topic && part && cfg && broker);
	meta_image_unref(img);
}
END_TEST

START_TEST(record_text_bad_input)
{
	const uint8_t bad_frame[] = {0, 2, 0};
	const uint8_t unknown[] = {1, 99, 0};
	const uint8_t trailing[] = {1, 20, 0, 0, 7};
	const uint8_t truncated[] = {1, 2, 0, 4, 'a'};
	const uint8_t bad_version[] = {1, 2, 9, 0};
	struct {
		const uint8_t *p;
		size_t n;
		const char *want;
	} cases[] = {
	        {bad_frame, sizeof(bad_frame), "<malformed frame header, 3 bytes>"},
	        {unknown, sizeof(unknown), "<unknown record type 99 v0, 3 bytes>"},
	        {trailing, sizeof(trailing), "NoOpRecord(v0) <malformed body, 5 bytes>"},
	        {truncated, sizeof(truncated), "TopicRecord(v0) <malformed body, 5 bytes>"},
	        {bad_version, sizeof(bad_version),
	         "TopicRecord(v9) <unsupported version, 4 bytes>"},
	        {NULL, 0, "<null record value>"},
	};

	for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
		struct wire_bytes v = {cases[i].p, (int32_t)cases[i].n};

		ck_assert_str_eq(text_of(&v), cases[i].want);
	}
}
END_TEST

static const char *control_text(int16_t type, const struct sl_buf *m)
{
	static char out[512];

	sl_buf_reset(&buf);
	meta_control_record_format(&buf, type, m->data, m->len, &arena);
	ck_assert_uint_lt(buf.len, sizeof(out));
	memcpy(out, buf.data, buf.len);
	out[buf.len] = '\0';
	return out;
}

START_TEST(control_record_text)
{
	struct sl_buf m;
	struct wire_snapshot_header_record h = {0, 1234};
	struct wire_snapshot_footer_record f = {0};
	struct wire_kraft_version_record kv = {0, 1};
	struct wire_leader_change_message_voter lv[2] = {{1, {{0}}}, {2, {{0}}}};
	struct wire_leader_change_message lc = {0, 1, 2, lv, 1, lv};
	struct wire_voters_record_endpoint ep = {{"CONTROLLER", 10}, {"localhost", 9}, 9093};
	struct wire_voters_record_voter vv = {3, {{0}}, 1, &ep, {0, 1}};
	struct wire_voters_record vr = {0, 1, &vv};
	char id[SL_UUID_STR_LEN + 1];
	char want[256];

	sl_buf_init(&m, 1 << 16);
	wire_snapshot_header_record_encode(&m, 0, &h);
	ck_assert_str_eq(control_text(3, &m),
	                 "SnapshotHeader version=0 lastContainedLogTimestamp=1234");
	sl_buf_reset(&m);
	wire_snapshot_footer_record_encode(&m, 0, &f);
	ck_assert_str_eq(control_text(4, &m), "SnapshotFooter version=0");
	sl_buf_reset(&m);
	wire_kraft_version_record_encode(&m, 0, &kv);
	ck_assert_str_eq(control_text(5, &m), "KRaftVersion version=0 kraftVersion=1");
	sl_buf_reset(&m);
	wire_leader_change_message_encode(&m, 0, &lc);
	ck_assert_str_eq(control_text(2, &m),
	                 "LeaderChange version=0 leaderId=1 voters=[1,2] grantingVoters=[1]");
	sl_buf_reset(&m);
	wire_voters_record_encode(&m, 0, &vr);
	sl_uuid_to_str(&vv.voter_directory_id, id);
	snprintf(want, sizeof(want),
	         "Voters version=0 voters=[{voterId=3 voterDirectoryId=%s "
	         "endpoints=[CONTROLLER@localhost:9093] kraftVersionFeature=0-1}]",
	         id);
	ck_assert_str_eq(control_text(6, &m), want);
	/* Malformed: a footer body given as a header, and an unknown type. */
	sl_buf_reset(&m);
	wire_snapshot_footer_record_encode(&m, 0, &f);
	ck_assert_str_eq(control_text(3, &m), "SnapshotHeader <malformed body, 3 bytes>");
	ck_assert_str_eq(control_text(42, &m), "<unknown control record type 42, 3 bytes>");
	sl_buf_free(&m);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("meta_snapshot");
	TCase *tc = tcase_create("image_records");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, empty_image_has_no_records);
	tcase_add_test(tc, rich_image_roundtrip);
	tcase_add_test(tc, order_and_versions);
	tcase_add_test(tc, zk_migration_state_kept);
	tcase_add_test(tc, sink_error_stops);
	tcase_add_test(tc, random_images_roundtrip);
	tcase_add_test(tc, record_text_lines);
	tcase_add_test(tc, record_text_bad_input);
	tcase_add_test(tc, control_record_text);
	suite_add_tcase(s, tc);
	return s;
}
