/*
 * test_meta_image.c: the metadata image and deltas: record sequences, structural sharing
 * between images, reference counting (run under ASan for leaks and use-after-free), strict
 * replay errors, malformed frames, broker registrations and configs, the id index under many
 * inserts and removals, and the diff callbacks.
 */
#include "check_main.h"
#include "metadata.h"

#include <stdio.h>
#include <string.h>

static struct sl_buf buf;
static char err[256];

static void setup(void)
{
	sl_buf_init(&buf, 1u << 20);
}

static void teardown(void)
{
	sl_buf_free(&buf);
}

static struct sl_uuid uid(uint8_t seed)
{
	struct sl_uuid u;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed * 7 + i + 1);
	return u;
}

static enum sl_err apply(struct meta_delta *d, int16_t key, int16_t v, const void *rec)
{
	sl_buf_reset(&buf);
	meta_frame_put(&buf, key, v);
	meta_record_encode_any(&buf, key, v, rec);
	ck_assert_int_eq(sl_buf_err(&buf), SL_OK);
	err[0] = '\0';
	return meta_delta_apply(d, buf.data, buf.len, err, sizeof(err));
}

static void apply_ok(struct meta_delta *d, int16_t key, int16_t v, const void *rec)
{
	enum sl_err e = apply(d, key, v, rec);

	ck_assert_msg(e == SL_OK, "apply key %d: %s %s", key, sl_err_name(e), err);
	meta_image_check_invariants(meta_delta_view(d));
}

static void add_topic(struct meta_delta *d, const char *name, struct sl_uuid id)
{
	struct meta_topic_record r;

	meta_topic_record_init(&r);
	r.name = wire_str_c(name);
	r.topic_id = id;
	apply_ok(d, META_REC_TOPIC, 0, &r);
}

static enum sl_err add_partition(struct meta_delta *d, struct sl_uuid id, int32_t p, int32_t leader)
{
	int32_t replicas[3] = {leader, leader + 1, leader + 2};
	struct meta_partition_record r;

	meta_partition_record_init(&r);
	r.partition_id = p;
	r.topic_id = id;
	r.replicas_count = 3;
	r.replicas = replicas;
	r.isr_count = 2;
	r.isr = replicas;
	r.leader = leader;
	r.leader_epoch = 4;
	r.partition_epoch = 9;
	return apply(d, META_REC_PARTITION, 0, &r);
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

static struct meta_delta *delta_over(struct meta_image *img)
{
	struct meta_delta *d;

	ck_assert_int_eq(meta_delta_create(img, &d), SL_OK);
	return d;
}

/* Image with topics "a" (uid 1, 2 partitions) and "b" (uid 2, 1 partition), MV 17. */
static struct meta_image *two_topics(void)
{
	struct meta_image *empty = meta_image_create_empty();
	struct meta_delta *d = delta_over(empty);
	struct meta_feature_level_record f;
	struct meta_image *img;

	meta_feature_level_record_init(&f);
	f.name = wire_str_c("metadata.version");
	f.feature_level = 17;
	apply_ok(d, META_REC_FEATURE_LEVEL, 0, &f);
	add_topic(d, "b", uid(2));
	add_topic(d, "a", uid(1));
	ck_assert_int_eq(add_partition(d, uid(1), 0, 1), SL_OK);
	ck_assert_int_eq(add_partition(d, uid(1), 1, 2), SL_OK);
	ck_assert_int_eq(add_partition(d, uid(2), 0, 3), SL_OK);
	set_config(d, META_RESOURCE_TOPIC, "a", "retention.ms", "1000");
	img = meta_delta_publish(d, 10);
	meta_image_unref(empty);
	meta_image_check_invariants(img);
	return img;
}

START_TEST(empty_image)
{
	struct meta_image *img = meta_image_create_empty();

	ck_assert_ptr_nonnull(img);
	meta_image_check_invariants(img);
	ck_assert_int_eq(meta_image_offset(img), -1);
	ck_assert_int_eq(meta_image_metadata_version(img), 0);
	ck_assert_uint_eq(meta_image_topic_count(img), 0);
	ck_assert_ptr_null(meta_image_topic(img, "a", 1));
	ck_assert_ptr_null(meta_image_topic_by_id(img, uid(1)));
	ck_assert_uint_eq(meta_image_broker_count(img), 0);
	meta_image_unref(img);
	meta_image_unref(NULL);
}
END_TEST

START_TEST(apply_sequence)
{
	struct meta_image *img = two_topics();
	const struct meta_topic *a = meta_image_topic(img, "a", 1);

	ck_assert_int_eq(meta_image_offset(img), 10);
	ck_assert_int_eq(meta_image_metadata_version(img), 17);
	ck_assert_int_eq(meta_image_feature_level(img, "metadata.version"), 17);
	ck_assert_uint_eq(meta_image_topic_count(img), 2);
	ck_assert_str_eq(meta_image_topic_at(img, 0)->name, "a");
	ck_assert_str_eq(meta_image_topic_at(img, 1)->name, "b");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(meta_image_topic_by_id(img, uid(1)), a);
	ck_assert_int_eq(a->partition_count, 2);
	ck_assert_int_eq(a->partitions[1].partition_id, 1);
	ck_assert_int_eq(a->partitions[1].leader, 2);
	ck_assert_int_eq(a->partitions[1].leader_epoch, 4);
	ck_assert_int_eq(a->partitions[1].partition_epoch, 9);
	ck_assert_int_eq(a->partitions[1].replica_count, 3);
	ck_assert_int_eq(a->partitions[1].replicas[2], 4);
	ck_assert_int_eq(a->partitions[1].isr_count, 2);
	ck_assert_int_eq(a->partitions[1].isr[1], 3);
	ck_assert_str_eq(meta_topic_config(a, "retention.ms"), "1000");
	ck_assert_ptr_null(meta_topic_config(a, "segment.ms"));
	ck_assert_ptr_null(meta_image_topic(img, "ab", 2));
	ck_assert_ptr_nonnull(meta_image_topic(img, "abc", 1)); /* counted length */
	meta_image_unref(img);
}
END_TEST

START_TEST(structural_sharing)
{
	struct meta_image *img1 = two_topics(), *img2, *img3;
	const struct meta_topic *a1 = meta_image_topic(img1, "a", 1);
	const struct meta_topic *b1 = meta_image_topic(img1, "b", 1);
	struct meta_delta *d = delta_over(img1);

	set_config(d, META_RESOURCE_TOPIC, "a", "retention.ms", "2000");
	set_config(d, META_RESOURCE_TOPIC, "a", "cleanup.policy", "compact");
	img2 = meta_delta_publish(d, 11);
	meta_image_check_invariants(img2);
	ck_assert_ptr_eq(meta_image_topic(img2, "b", 1), b1);
	ck_assert_ptr_ne(meta_image_topic(img2, "a", 1), a1);
	ck_assert_str_eq(meta_topic_config(a1, "retention.ms"), "1000"); /* old image unchanged */
	ck_assert_str_eq(meta_topic_config(meta_image_topic(img2, "a", 1), "retention.ms"), "2000");
	ck_assert_uint_eq(meta_image_topic(img2, "a", 1)->config_count, 2);
	/* the newest image outlives the old one, and a reader's extra reference keeps it alive */
	meta_image_ref(img2);
	meta_image_unref(img1);
	meta_image_check_invariants(img2);
	ck_assert_ptr_eq(meta_image_topic(img2, "b", 1), b1);
	d = delta_over(img2);
	img3 = meta_delta_publish(d, 11); /* empty delta: everything shared */
	ck_assert_ptr_eq(meta_image_topic(img3, "a", 1), meta_image_topic(img2, "a", 1));
	meta_image_unref(img2);
	meta_image_unref(img2);
	meta_image_check_invariants(img3);
	ck_assert_int_eq(meta_image_topic(img3, "b", 1)->partitions[0].leader, 3);
	meta_image_unref(img3);
}
END_TEST

START_TEST(strict_errors)
{
	struct meta_image *img = two_topics();
	struct meta_delta *d;
	struct meta_topic_record t;
	struct meta_config_record c;

	d = delta_over(img);
	ck_assert_int_eq(add_partition(d, uid(9), 0, 1), SL_ECORRUPT);
	ck_assert_msg(strstr(err, "unknown topic id") != NULL, "%s", err);
	ck_assert_int_eq(add_partition(d, uid(1), 2, 1), SL_ECORRUPT); /* unusable now */
	ck_assert_msg(strstr(err, "earlier error") != NULL, "%s", err);
	meta_delta_destroy(d);

	d = delta_over(img);
	ck_assert_int_eq(add_partition(d, uid(1), 3, 1), SL_ECORRUPT);
	ck_assert_msg(strstr(err, "out of order") != NULL, "%s", err);
	meta_delta_destroy(d);

	d = delta_over(img);
	meta_topic_record_init(&t);
	t.name = wire_str_c("a");
	t.topic_id = uid(50);
	ck_assert_int_eq(apply(d, META_REC_TOPIC, 0, &t), SL_ECORRUPT);
	ck_assert_msg(strstr(err, "already exists") != NULL, "%s", err);
	meta_delta_destroy(d);

	d = delta_over(img);
	t.name = wire_str_c("zz");
	t.topic_id = uid(2);
	ck_assert_int_eq(apply(d, META_REC_TOPIC, 0, &t), SL_ECORRUPT);
	ck_assert_msg(strstr(err, "id") != NULL, "%s", err);
	meta_delta_destroy(d);

	d = delta_over(img);
	t.name = wire_str_c("../etc");
	t.topic_id = uid(60);
	ck_assert_int_eq(apply(d, META_REC_TOPIC, 0, &t), SL_ECORRUPT);
	meta_delta_destroy(d);

	d = delta_over(img);
	meta_config_record_init(&c);
	c.resource_type = META_RESOURCE_TOPIC;
	c.resource_name = wire_str_c("nope");
	c.name = wire_str_c("retention.ms");
	c.value = wire_str_c("1");
	ck_assert_int_eq(apply(d, META_REC_CONFIG, 0, &c), SL_ECORRUPT);
	meta_delta_destroy(d);

	d = delta_over(img);
	remove_topic(d, uid(1));
	ck_assert_int_eq(add_partition(d, uid(1), 2, 1), SL_ECORRUPT);
	meta_delta_destroy(d);
	meta_image_check_invariants(img);
	ck_assert_int_eq(meta_image_topic(img, "a", 1)->partition_count, 2);
	meta_image_unref(img);
}
END_TEST

START_TEST(malformed_and_unknown)
{
	struct meta_image *img = meta_image_create_empty();
	struct meta_delta *d = delta_over(img);
	static const uint8_t frame0[] = {0x00, 0x14, 0x00, 0x00};
	static const uint8_t unknown[] = {0x01, 0x63, 0x00, 0x05, 0x06};
	static const uint8_t noop_trailing[] = {0x01, 0x14, 0x00, 0x00, 0x00};
	static const uint8_t noop[] = {0x01, 0x14, 0x00, 0x00};
	static const uint8_t topic_v9[] = {0x01, 0x02, 0x09, 0x00};

	ck_assert_int_eq(meta_delta_apply(d, unknown, sizeof(unknown), err, sizeof(err)), SL_OK);
	ck_assert_int_eq(meta_delta_apply(d, noop, sizeof(noop), err, sizeof(err)), SL_OK);
	ck_assert_int_eq(meta_delta_apply(d, frame0, sizeof(frame0), err, sizeof(err)),
	                 SL_EMALFORMED);
	meta_delta_destroy(d);
	d = delta_over(img);
	ck_assert_int_eq(
	        meta_delta_apply(d, noop_trailing, sizeof(noop_trailing), err, sizeof(err)),
	        SL_EMALFORMED);
	meta_delta_destroy(d);
	d = delta_over(img);
	ck_assert_int_eq(meta_delta_apply(d, topic_v9, sizeof(topic_v9), err, sizeof(err)),
	                 SL_EMALFORMED);
	ck_assert_msg(strstr(err, "TopicRecord") != NULL, "%s", err);
	meta_delta_destroy(d);
	d = delta_over(img);
	ck_assert_int_eq(meta_delta_apply(d, noop, 2, err, sizeof(err)), SL_EMALFORMED);
	meta_delta_destroy(d);
	meta_image_unref(img);
}
END_TEST

START_TEST(partition_change_epochs)
{
	struct meta_image *img = two_topics(), *img2;
	struct meta_delta *d = delta_over(img);
	struct meta_partition_change_record r;
	int32_t isr[1] = {2};
	const struct meta_partition *p;

	meta_partition_change_record_init(&r);
	r.topic_id = uid(1);
	r.partition_id = 1;
	r.isr_count = 1;
	r.isr = isr;
	apply_ok(d, META_REC_PARTITION_CHANGE, 0, &r);
	p = &meta_image_topic(meta_delta_view(d), "a", 1)->partitions[1];
	ck_assert_int_eq(p->leader, 2);
	ck_assert_int_eq(p->leader_epoch, 4); /* leader -2: no bump */
	ck_assert_int_eq(p->partition_epoch, 10);
	ck_assert_int_eq(p->isr_count, 1);
	meta_partition_change_record_init(&r);
	r.topic_id = uid(1);
	r.partition_id = 1;
	r.leader = 3;
	apply_ok(d, META_REC_PARTITION_CHANGE, 1, &r);
	p = &meta_image_topic(meta_delta_view(d), "a", 1)->partitions[1];
	ck_assert_int_eq(p->leader, 3);
	ck_assert_int_eq(p->leader_epoch, 5);
	ck_assert_int_eq(p->partition_epoch, 11);
	ck_assert_int_eq(p->isr_count, 1); /* unchanged (null) */
	ck_assert_int_eq(p->replica_count, 3);
	img2 = meta_delta_publish(d, 12);
	/* the old image still sees the old partition */
	ck_assert_int_eq(meta_image_topic(img, "a", 1)->partitions[1].leader_epoch, 4);
	r.partition_id = 7;
	d = delta_over(img2);
	ck_assert_int_eq(apply(d, META_REC_PARTITION_CHANGE, 0, &r), SL_ECORRUPT);
	meta_delta_destroy(d);
	meta_image_unref(img);
	meta_image_unref(img2);
}
END_TEST

static void register_broker(struct meta_delta *d, int32_t id, int64_t epoch)
{
	struct meta_register_broker_record r;
	struct meta_register_broker_record_broker_endpoint ep;

	meta_register_broker_record_init(&r);
	meta_register_broker_record_broker_endpoint_init(&ep);
	ep.name = wire_str_c("PLAINTEXT");
	ep.host = wire_str_c("localhost");
	ep.port = (uint16_t)(9092 + id);
	r.broker_id = id;
	r.broker_epoch = epoch;
	r.end_points_count = 1;
	r.end_points = &ep;
	r.rack = wire_str_c(id == 2 ? "r1" : NULL);
	apply_ok(d, META_REC_REGISTER_BROKER, 1, &r);
}

START_TEST(brokers_and_configs)
{
	struct meta_image *img = meta_image_create_empty(), *img2;
	struct meta_delta *d = delta_over(img);
	struct meta_broker_registration_change_record ch;
	struct meta_unregister_broker_record un;
	const struct meta_broker *b;

	register_broker(d, 2, 100);
	register_broker(d, 1, 50);
	ck_assert_uint_eq(meta_image_broker_count(meta_delta_view(d)), 2);
	b = meta_image_broker(meta_delta_view(d), 2);
	ck_assert_ptr_nonnull(b);
	ck_assert(b->fenced);
	ck_assert_str_eq(b->rack, "r1");
	ck_assert_uint_eq(b->endpoint_count, 1);
	ck_assert_str_eq(b->endpoints[0].host, "localhost");
	ck_assert_int_eq(b->endpoints[0].port, 9094);
	ck_assert_int_eq(meta_image_broker_at(meta_delta_view(d), 0)->broker_id, 1);
	meta_broker_registration_change_record_init(&ch);
	ch.broker_id = 2;
	ch.broker_epoch = 100;
	ch.fenced = -1;
	apply_ok(d, META_REC_BROKER_REGISTRATION_CHANGE, 0, &ch);
	ck_assert(!meta_image_broker(meta_delta_view(d), 2)->fenced);
	set_config(d, META_RESOURCE_BROKER, "", "log.retention.ms", "5");
	set_config(d, META_RESOURCE_BROKER, "1", "log.retention.ms", "6");
	img2 = meta_delta_publish(d, 3);
	ck_assert_str_eq(meta_image_broker_config(img2, -1, "log.retention.ms"), "5");
	ck_assert_str_eq(meta_image_broker_config(img2, 1, "log.retention.ms"), "6");
	ck_assert_ptr_null(meta_image_broker_config(img2, 2, "log.retention.ms"));
	ck_assert_ptr_null(meta_image_broker(img, 1)); /* base untouched */
	d = delta_over(img2);
	set_config(d, META_RESOURCE_BROKER, "", "log.retention.ms", NULL);
	ch.broker_epoch = 99; /* stale epoch */
	ck_assert_int_eq(apply(d, META_REC_BROKER_REGISTRATION_CHANGE, 0, &ch), SL_ECORRUPT);
	meta_delta_destroy(d);
	d = delta_over(img2);
	set_config(d, META_RESOURCE_BROKER, "", "log.retention.ms", NULL);
	ck_assert_ptr_null(meta_image_broker_config(meta_delta_view(d), -1, "log.retention.ms"));
	meta_unregister_broker_record_init(&un);
	un.broker_id = 1;
	un.broker_epoch = 50;
	apply_ok(d, META_REC_UNREGISTER_BROKER, 0, &un);
	ck_assert_ptr_null(meta_image_broker(meta_delta_view(d), 1));
	ck_assert_ptr_nonnull(meta_image_broker(img2, 1));
	ck_assert_int_eq(apply(d, META_REC_UNREGISTER_BROKER, 0, &un), SL_ECORRUPT);
	meta_delta_destroy(d);
	meta_image_unref(img);
	meta_image_unref(img2);
}
END_TEST

START_TEST(many_topics_index)
{
	struct meta_image *img = meta_image_create_empty(), *img2;
	struct meta_delta *d = delta_over(img);
	char name[32];

	for (int i = 0; i < 600; i++) {
		struct sl_uuid id = uid((uint8_t)i);

		id.b[0] = (uint8_t)(i >> 8);
		snprintf(name, sizeof(name), "t%04d", (i * 7919) % 600);
		add_topic(d, name, id);
		ck_assert_int_eq(add_partition(d, id, 0, 1), SL_OK);
	}
	for (int i = 0; i < 600; i += 2) {
		struct sl_uuid id = uid((uint8_t)i);

		id.b[0] = (uint8_t)(i >> 8);
		remove_topic(d, id);
	}
	img2 = meta_delta_publish(d, 700);
	meta_image_check_invariants(img2);
	ck_assert_uint_eq(meta_image_topic_count(img2), 300);
	for (int i = 0; i < 600; i++) {
		struct sl_uuid id = uid((uint8_t)i);

		id.b[0] = (uint8_t)(i >> 8);
		ck_assert((meta_image_topic_by_id(img2, id) != NULL) == (i % 2 == 1));
	}
	meta_image_unref(img);
	meta_image_unref(img2);
}
END_TEST

struct diff_log {
	char text[2048];
};

static void log_add(struct diff_log *l, const char *what, const char *topic, int32_t p)
{
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "%s:%s-%d ", what, topic, p);
}

static void on_removed(void *ctx, const struct meta_topic *t, int32_t p)
{
	log_add(ctx, "rm", t->name, p);
}

static void on_added(void *ctx, const struct meta_topic *t, int32_t p)
{
	log_add(ctx, "add", t->name, p);
}

static void on_changed(void *ctx, const struct meta_topic *t, int32_t p)
{
	log_add(ctx, "chg", t->name, p);
}

static void on_config(void *ctx, const struct meta_topic *t)
{
	log_add(ctx, "cfg", t->name, -1);
}

static const struct meta_diff_ops diff_ops = {on_removed, on_added, on_changed, on_config};

START_TEST(diff_callbacks)
{
	struct meta_image *img = two_topics(), *img2;
	struct meta_delta *d = delta_over(img);
	struct diff_log l = {{0}};
	struct meta_partition_change_record r;

	meta_image_diff(NULL, img, &diff_ops, &l);
	ck_assert_str_eq(l.text, "add:a-0 add:a-1 add:b-0 ");
	l.text[0] = '\0';
	meta_image_diff(img, NULL, &diff_ops, &l);
	ck_assert_str_eq(l.text, "rm:a-0 rm:a-1 rm:b-0 ");
	l.text[0] = '\0';
	meta_image_diff(img, img, &diff_ops, &l);
	ck_assert_str_eq(l.text, "");

	/* re-create "a" with another id and one partition, change b's config and leader */
	remove_topic(d, uid(1));
	add_topic(d, "a", uid(77));
	ck_assert_int_eq(add_partition(d, uid(77), 0, 5), SL_OK);
	set_config(d, META_RESOURCE_TOPIC, "b", "segment.ms", "100");
	meta_partition_change_record_init(&r);
	r.topic_id = uid(2);
	r.partition_id = 0;
	r.leader = 4;
	apply_ok(d, META_REC_PARTITION_CHANGE, 0, &r);
	ck_assert_int_eq(add_partition(d, uid(2), 1, 1), SL_OK);
	img2 = meta_delta_publish(d, 20);
	meta_image_diff(img, img2, &diff_ops, &l);
	ck_assert_str_eq(l.text, "rm:a-0 rm:a-1 add:a-0 add:b-1 chg:b-0 cfg:b--1 ");
	meta_image_unref(img);
	meta_image_unref(img2);
}
END_TEST

START_TEST(transactions_and_misc_records)
{
	struct meta_image *img = meta_image_create_empty(), *img2;
	struct meta_delta *d = delta_over(img);
	struct meta_begin_transaction_record b;
	struct meta_end_transaction_record e;
	struct meta_zk_migration_state_record z;
	struct meta_producer_ids_record p;

	meta_begin_transaction_record_init(&b);
	b.name = wire_str_c("bootstrap");
	apply_ok(d, META_REC_BEGIN_TRANSACTION, 0, &b);
	meta_zk_migration_state_record_init(&z);
	apply_ok(d, META_REC_ZK_MIGRATION_STATE, 0, &z);
	meta_producer_ids_record_init(&p);
	p.next_producer_id = 1000;
	apply_ok(d, META_REC_PRODUCER_IDS, 0, &p);
	meta_end_transaction_record_init(&e);
	apply_ok(d, META_REC_END_TRANSACTION, 0, &e);
	img2 = meta_delta_publish(d, 5);
	ck_assert_int_eq(meta_image_zk_migration_state(img2), 0);
	ck_assert_int_eq(meta_image_zk_migration_state(img), -1);
	ck_assert_int_eq(meta_image_next_producer_id(img2), 1000);
	meta_image_unref(img);
	meta_image_unref(img2);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("meta_image");
	TCase *tc = tcase_create("image");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, empty_image);
	tcase_add_test(tc, apply_sequence);
	tcase_add_test(tc, structural_sharing);
	tcase_add_test(tc, strict_errors);
	tcase_add_test(tc, malformed_and_unknown);
	tcase_add_test(tc, partition_change_epochs);
	tcase_add_test(tc, brokers_and_configs);
	tcase_add_test(tc, many_topics_index);
	tcase_add_test(tc, diff_callbacks);
	tcase_add_test(tc, transactions_and_misc_records);
	suite_add_tcase(s, tc);
	return s;
}
