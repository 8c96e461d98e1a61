/*
 * test_meta_controllers.c: registered controllers in the metadata image (RegisterControllerRecord,
 * key 27, KIP-919).
 *
 * - Applying registrations: lookup by id, ascending order whatever the record order, every
 *   field kept (id, incarnation, zk_migration_ready, endpoints), unknown ids give NULL.
 * - A second registration of the same id replaces the first, in the same delta and in a delta
 *   over a published image (whose own view stays unchanged: the cluster part is copied on
 *   write). A negative id is SL_ECORRUPT; a truncated record SL_EMALFORMED.
 * - Snapshot round trip: meta_image_to_records puts RegisterControllerRecords right after the
 *   RegisterBrokerRecords (before configs and topics), and replaying them into a fresh delta
 *   gives the same controllers (more endpoints than the encoder's stack array, too).
 * - The `sluice metadata dump` line of a RegisterControllerRecord, byte for byte.
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
	sl_arena_init(&arena, 1u << 16, 64u << 20);
}

static void teardown(void)
{
	sl_buf_free(&buf);
	sl_arena_free(&arena);
}

static struct sl_uuid uid(uint8_t seed)
{
	struct sl_uuid u;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed + i);
	return u;
}

static enum sl_err apply(struct meta_delta *d, int16_t key, int16_t v, const void *rec)
{
	sl_buf_reset(&buf);
	meta_frame_put(&buf, key, v);
	meta_record_encode_any(&buf, key, v, rec);
	ck_assert_int_eq(sl_buf_err(&buf), SL_OK);
	return meta_delta_apply(d, buf.data, buf.len, err, sizeof(err));
}

static void apply_ok(struct meta_delta *d, int16_t key, int16_t v, const void *rec)
{
	enum sl_err e = apply(d, key, v, rec);

	ck_assert_msg(e == SL_OK, "apply key %d: %s %s", key, sl_err_name(e), err);
}

static struct meta_delta *delta_over(struct meta_image *img)
{
	struct meta_delta *d;

	ck_assert_int_eq(meta_delta_create(img, &d), SL_OK);
	return d;
}

/* RegisterControllerRecord for id with n endpoints "L<i>" on host "h<id>", port 9000 + i,
 * security protocol i % 4, and one supported feature. */
static void register_controller(struct meta_delta *d, int32_t id, uint8_t inc, bool zk, int32_t n)
{
	struct meta_register_controller_record r;
	struct meta_register_controller_record_controller_endpoint eps[40];
	struct meta_register_controller_record_controller_feature f;
	char names[40][8], host[16];

	ck_assert_int_le(n, 40);
	meta_register_controller_record_init(&r);
	r.controller_id = id;
	r.incarnation_id = uid(inc);
	r.zk_migration_ready = zk;
	snprintf(host, sizeof(host), "h%d", (int)id);
	for (int32_t i = 0; i < n; i++) {
		meta_register_controller_record_controller_endpoint_init(&eps[i]);
		snprintf(names[i], sizeof(names[i]), "L%d", (int)i);
		eps[i].name = wire_str_c(names[i]);
		eps[i].host = wire_str_c(host);
		eps[i].port = (uint16_t)(9000 + i);
		eps[i].security_protocol = (int16_t)(i % 4);
	}
	r.end_points_count = n;
	r.end_points = eps;
	meta_register_controller_record_controller_feature_init(&f);
	f.name = wire_str_c("kraft.version");
	f.min_supported_version = 0;
	f.max_supported_version = 1;
	r.features_count = 1;
	r.features = &f;
	apply_ok(d, META_REC_REGISTER_CONTROLLER, 0, &r);
}

/* c is what register_controller(id, inc, zk, n) wrote. */
static void check_controller(const struct meta_controller *c, int32_t id, uint8_t inc, bool zk,
                             size_t n)
{
	struct sl_uuid want = uid(inc);
	char name[8], host[16];

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->controller_id, id);
	ck_assert(sl_uuid_eq(&c->incarnation_id, &want));
	ck_assert_int_eq(c->zk_migration_ready, zk);
	ck_assert_uint_eq(c->endpoint_count, n);
	snprintf(host, sizeof(host), "h%d", (int)id);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "L%d", (int)i);
		ck_assert_str_eq(c->endpoints[i].name, name);
		ck_assert_str_eq(c->endpoints[i].host, host);
		ck_assert_uint_eq(c->endpoints[i].port, 9000 + i);
		ck_assert_int_eq(c->endpoints[i].security_protocol, (int)(i % 4));
	}
}

static void register_broker(struct meta_delta *d, int32_t id)
{
	struct meta_register_broker_record r;
	struct meta_register_broker_record_broker_endpoint ep;

	meta_register_broker_record_init(&r);
	r.broker_id = id;
	r.broker_epoch = 100 + id;
	r.incarnation_id = uid((uint8_t)(200 + id));
	meta_register_broker_record_broker_endpoint_init(&ep);
	ep.name = wire_str_c("PLAINTEXT");
	ep.host = wire_str_c("b");
	ep.port = 9092;
	r.end_points_count = 1;
	r.end_points = &ep;
	apply_ok(d, META_REC_REGISTER_BROKER, 1, &r);
}

static void feature(struct meta_delta *d, const char *name, int16_t level)
{
	struct meta_feature_level_record r;

	meta_feature_level_record_init(&r);
	r.name = wire_str_c(name);
	r.feature_level = level;
	apply_ok(d, META_REC_FEATURE_LEVEL, 0, &r);
}

static void set_broker_config(struct meta_delta *d, const char *name, const char *value)
{
	struct meta_config_record r;

	meta_config_record_init(&r);
	r.resource_type = META_RESOURCE_BROKER;
	r.resource_name = wire_str_c("");
	r.name = wire_str_c(name);
	r.value = wire_str_c(value);
	apply_ok(d, META_REC_CONFIG, 0, &r);
}

static void add_topic(struct meta_delta *d, const char *name, struct sl_uuid id)
{
	struct meta_topic_record r;

	meta_topic_record_init(&r);
	r.name = wire_str_c(name);
	r.topic_id = id;
	apply_ok(d, META_REC_TOPIC, 0, &r);
}

static void assert_controllers_eq(const struct meta_image *a, const struct meta_image *b)
{
	ck_assert_uint_eq(meta_image_controller_count(a), meta_image_controller_count(b));
	for (size_t i = 0; i < meta_image_controller_count(a); i++) {
		const struct meta_controller *x = meta_image_controller_at(a, i);
		const struct meta_controller *y = meta_image_controller_at(b, i);

		ck_assert_int_eq(x->controller_id, y->controller_id);
		ck_assert(sl_uuid_eq(&x->incarnation_id, &y->incarnation_id));
		ck_assert_int_eq(x->zk_migration_ready, y->zk_migration_ready);
		ck_assert_uint_eq(x->endpoint_count, y->endpoint_count);
		for (size_t j = 0; j < x->endpoint_count; j++) {
			ck_assert_str_eq(x->endpoints[j].name, y->endpoints[j].name);
			ck_assert_str_eq(x->endpoints[j].host, y->endpoints[j].host);
			ck_assert_uint_eq(x->endpoints[j].port, y->endpoints[j].port);
			ck_assert_int_eq(x->endpoints[j].security_protocol,
			                 y->endpoints[j].security_protocol);
		}
		ck_assert_ptr_eq(meta_image_controller(b, x->controller_id), y);
	}
}

/* ---- tests ------------------------------------------------------------------------------- */

START_TEST(apply_and_lookup)
{
	struct meta_image *empty = meta_image_create_empty(), *img;
	struct meta_delta *d = delta_over(empty);

	ck_assert_uint_eq(meta_image_controller_count(empty), 0);
	ck_assert_ptr_null(meta_image_controller(empty, 1));
	/* Out of id order: the image keeps them ascending. */
	register_controller(d, 3002, 30, false, 1);
	register_controller(d, 3000, 10, true, 2);
	register_controller(d, 3001, 20, false, 0);
	ck_assert_uint_eq(meta_image_controller_count(meta_delta_view(d)), 3);
	img = meta_delta_publish(d, 7);
	meta_image_check_invariants(img);
	ck_assert_uint_eq(meta_image_controller_count(img), 3);
	check_controller(meta_image_controller_at(img, 0), 3000, 10, true, 2);
	check_controller(meta_image_controller_at(img, 1), 3001, 20, false, 0);
	check_controller(meta_image_controller_at(img, 2), 3002, 30, false, 1);
	check_controller(meta_image_controller(img, 3001), 3001, 20, false, 0);
	ck_assert_ptr_eq(meta_image_controller(img, 3002), meta_image_controller_at(img, 2));
	ck_assert_ptr_null(meta_image_controller(img, 2999));
	ck_assert_ptr_null(meta_image_controller(img, 3003));
	ck_assert_ptr_null(meta_image_controller(img, 0));
	/* Controllers are not brokers. */
	ck_assert_uint_eq(meta_image_broker_count(img), 0);
	ck_assert_uint_eq(meta_image_controller_count(empty), 0);
	meta_image_unref(img);
	meta_image_unref(empty);
}
END_TEST

START_TEST(second_registration_replaces)
{
	struct meta_image *empty = meta_image_create_empty(), *one, *two;
	struct meta_delta *d = delta_over(empty);

	/* In one delta. */
	register_controller(d, 1, 10, false, 3);
	register_controller(d, 2, 20, false, 1);
	register_controller(d, 1, 11, true, 1);
	one = meta_delta_publish(d, 3);
	meta_image_check_invariants(one);
	ck_assert_uint_eq(meta_image_controller_count(one), 2);
	check_controller(meta_image_controller(one, 1), 1, 11, true, 1);
	check_controller(meta_image_controller(one, 2), 2, 20, false, 1);

	/* In a delta over a published image: the old image keeps its registration. */
	d = delta_over(one);
	register_controller(d, 2, 21, true, 4);
	two = meta_delta_publish(d, 4);
	meta_image_check_invariants(two);
	meta_image_check_invariants(one);
	ck_assert_uint_eq(meta_image_controller_count(two), 2);
	check_controller(meta_image_controller(two, 2), 2, 21, true, 4);
	check_controller(meta_image_controller(two, 1), 1, 11, true, 1);
	check_controller(meta_image_controller(one, 2), 2, 20, false, 1);
	ck_assert_ptr_ne(meta_image_controller(one, 1), meta_image_controller(two, 1));
	meta_image_unref(one);
	check_controller(meta_image_controller(two, 1), 1, 11, true, 1);
	meta_image_unref(two);
	meta_image_unref(empty);
}
END_TEST

START_TEST(bad_records)
{
	struct meta_image *empty = meta_image_create_empty();
	struct meta_delta *d = delta_over(empty);
	struct meta_register_controller_record r;
	size_t full;

	meta_register_controller_record_init(&r);
	r.controller_id = -1;
	ck_assert_int_eq(apply(d, META_REC_REGISTER_CONTROLLER, 0, &r), SL_ECORRUPT);
	ck_assert_msg(strstr(err, "RegisterControllerRecord") != NULL, "%s", err);
	meta_delta_destroy(d);

	/* Every strict prefix of a valid record is malformed (version 1 is unknown). */
	r.controller_id = 5;
	r.end_points_count = 0;
	sl_buf_reset(&buf);
	meta_frame_put(&buf, META_REC_REGISTER_CONTROLLER, 0);
	meta_record_encode_any(&buf, META_REC_REGISTER_CONTROLLER, 0, &r);
	full = buf.len;
	for (size_t n = 0; n < full; n++) {
		d = delta_over(empty);
		ck_assert_int_eq(meta_delta_apply(d, buf.data, n, err, sizeof(err)), SL_EMALFORMED);
		meta_delta_destroy(d);
	}
	buf.data[2] = 1; /* record version 1 */
	d = delta_over(empty);
	ck_assert_int_eq(meta_delta_apply(d, buf.data, full, err, sizeof(err)), SL_EMALFORMED);
	ck_assert_msg(strstr(err, "unsupported version") != NULL, "%s", err);
	meta_delta_destroy(d);
	buf.data[2] = 0;
	d = delta_over(empty);
	ck_assert_int_eq(meta_delta_apply(d, buf.data, full, err, sizeof(err)), SL_OK);
	ck_assert_ptr_nonnull(meta_image_controller(meta_delta_view(d), 5));
	meta_delta_destroy(d);
	meta_image_unref(empty);
}
END_TEST

static struct meta_image *cluster_image(void)
{
	struct meta_image *empty = meta_image_create_empty(), *img;
	struct meta_delta *d = delta_over(empty);

	feature(d, "metadata.version", META_MV_3_9_IV0);
	register_broker(d, 1);
	register_controller(d, 3001, 20, false, 2);
	register_controller(d, 3000, 10, true, 1);
	register_controller(d, 3002, 30, false, 20); /* more than emit's stack array */
	register_controller(d, 3003, 40, false, 0);
	set_broker_config(d, "log.retention.ms", "1000");
	add_topic(d, "t", uid(99));
	img = meta_delta_publish(d, 42);
	meta_image_unref(empty);
	meta_image_check_invariants(img);
	return img;
}

START_TEST(snapshot_roundtrip)
{
	struct meta_image *img = cluster_image(), *empty = meta_image_create_empty(), *again;
	struct wire_bytes *vals;
	size_t n, controllers = 0;
	int16_t prev = -1;
	struct meta_delta *d;

	ck_assert_int_eq(meta_image_to_records(img, &arena, &vals, &n), SL_OK);
	/* Order: ... RegisterBroker, RegisterController x4 (ascending id), Config, Topic. */
	for (size_t i = 0; i < n; i++) {
		struct wire_reader r;
		int16_t key, v;

		wire_reader_init(&r, vals[i].ptr, (size_t)vals[i].len, &arena);
		ck_assert_int_eq(meta_frame_get(&r, &key, &v), SL_OK);
		if (key == META_REC_REGISTER_CONTROLLER) {
			struct meta_register_controller_record c;

			ck_assert_int_eq(v, 0);
			ck_assert(prev == META_REC_REGISTER_BROKER ||
			          prev == META_REC_REGISTER_CONTROLLER);
			ck_assert_int_eq(meta_register_controller_record_decode(&r, 0, &c), SL_OK);
			ck_assert(wire_reader_done(&r));
			ck_assert_int_eq(c.controller_id, 3000 + (int32_t)controllers);
			ck_assert_int_eq(c.features_count, 0); /* not kept by the image */
			controllers++;
		}
		if (prev == META_REC_REGISTER_CONTROLLER && key != META_REC_REGISTER_CONTROLLER)
			ck_assert_int_eq(key, META_REC_CONFIG);
		prev = key;
	}
	ck_assert_uint_eq(controllers, 4);

	d = delta_over(empty);
	for (size_t i = 0; i < n; i++) {
		enum sl_err e =
		        meta_delta_apply(d, vals[i].ptr, (size_t)vals[i].len, err, sizeof(err));

		ck_assert_msg(e == SL_OK, "record %zu: %s", i, err);
	}
	again = meta_delta_publish(d, meta_image_offset(img));
	meta_image_check_invariants(again);
	assert_controllers_eq(img, again);
	check_controller(meta_image_controller(again, 3002), 3002, 30, false, 20);
	check_controller(meta_image_controller(again, 3000), 3000, 10, true, 1);
	ck_assert_uint_eq(meta_image_broker_count(again), 1);
	ck_assert_uint_eq(meta_image_topic_count(again), 1);
	meta_image_unref(again);
	meta_image_unref(empty);
	meta_image_unref(img);
}
END_TEST

START_TEST(record_text)
{
	struct meta_register_controller_record r;
	struct meta_register_controller_record_controller_endpoint eps[2];
	struct meta_register_controller_record_controller_feature f;
	struct sl_uuid inc = uid(1);
	char id[SL_UUID_STR_LEN + 1], want[512];

	meta_register_controller_record_init(&r);
	r.controller_id = 3000;
	r.incarnation_id = inc;
	r.zk_migration_ready = true;
	eps[0] = (struct meta_register_controller_record_controller_endpoint){
	        wire_str_c("CONTROLLER"), wire_str_c("localhost"), 9093, 0};
	eps[1] = (struct meta_register_controller_record_controller_endpoint){
	        wire_str_c("SSL"), wire_str_c("a host"), 65535, 1};
	r.end_points_count = 2;
	r.end_points = eps;
	f = (struct meta_register_controller_record_controller_feature){wire_str_c("kraft.version"),
	                                                                0, 1};
	r.features_count = 1;
	r.features = &f;
	sl_buf_reset(&buf);
	meta_frame_put(&buf, META_REC_REGISTER_CONTROLLER, 0);
	meta_record_encode_any(&buf, META_REC_REGISTER_CONTROLLER, 0, &r);
	ck_assert_int_eq(sl_buf_err(&buf), SL_OK);

	struct sl_buf out;
	sl_buf_init(&out, 4096);
	meta_record_format(&out, buf.data, buf.len, &arena);
	sl_buf_put_u8(&out, 0);
	sl_uuid_to_str(&inc, id);
	snprintf(want, sizeof(want),
	         "RegisterControllerRecord controllerId=3000 incarnationId=%s "
	         "zkMigrationReady=true endPoints=[{name=CONTROLLER host=localhost port=9093 "
	         "securityProtocol=0},{name=SSL host=\"a host\" port=65535 securityProtocol=1}] "
	         "features=[{name=kraft.version min=0 max=1}] (v0)",
	         id);
	ck_assert_str_eq((const char *)out.data, want);

	/* A truncated one says so instead of printing fields. */
	sl_buf_reset(&out);
	meta_record_format(&out, buf.data, buf.len - 1, &arena);
	sl_buf_put_u8(&out, 0);
	snprintf(want, sizeof(want), "RegisterControllerRecord(v0) <malformed body, %zu bytes>",
	         buf.len - 1);
	ck_assert_str_eq((const char *)out.data, want);
	sl_buf_free(&out);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("meta_controllers");
	TCase *tc = tcase_create("controllers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, apply_and_lookup);
	tcase_add_test(tc, second_registration_replaces);
	tcase_add_test(tc, bad_records);
	tcase_add_test(tc, snapshot_roundtrip);
	tcase_add_test(tc, record_text);
	suite_add_tcase(s, tc);
	return s;
}
