/*
 * test_placement.c: meta_place_replicas (Kafka's StripedReplicaPlacer) over views built by
 * applying RegisterBrokerRecords: rack striping (rack spread before broker spread), fenced
 * brokers last and never first, controlled-shutdown brokers unused, balanced leaders,
 * errors (factor too high, all fenced, non-positive), determinism per seed.
 */
#include "check_main.h"
#include "metadata.h"

#include <string.h>

static struct sl_arena arena;
static struct meta_image *img;
static struct meta_ctl_result res;

struct bspec {
	int32_t id;
	const char *rack;
	bool fenced;
	bool shutdown;
};

static void build(const struct bspec *bs, size_t n)
{
	struct meta_delta *d;
	char err[256];

	meta_image_unref(img);
	img = meta_image_create_empty();
	ck_assert_int_eq(meta_delta_create(img, &d), SL_OK);
	for (size_t i = 0; i < n; i++) {
		struct meta_register_broker_record r;
		struct sl_buf b;

		meta_register_broker_record_init(&r);
		r.broker_id = bs[i].id;
		r.broker_epoch = 10 + (int64_t)i;
		r.incarnation_id.b[0] = (uint8_t)(i + 1);
		r.rack = bs[i].rack != NULL ? wire_str_c(bs[i].rack) : (struct wire_str){NULL, -1};
		r.fenced = bs[i].fenced;
		r.in_controlled_shutdown = bs[i].shutdown;
		sl_buf_init(&b, 4096);
		meta_frame_put(&b, META_REC_REGISTER_BROKER, 1);
		meta_register_broker_record_encode(&b, 1, &r);
		ck_assert_int_eq(sl_buf_err(&b), SL_OK);
		ck_assert_msg(meta_delta_apply(d, b.data, b.len, err, sizeof(err)) == SL_OK, "%s",
		              err);
		sl_buf_free(&b);
	}
	meta_image_unref(img);
	img = meta_delta_publish(d, (int64_t)n);
}

static void setup(void)
{
	sl_arena_init(&arena, 4096, 64u << 20);
	img = NULL;
}

static void teardown(void)
{
	meta_image_unref(img);
	sl_arena_free(&arena);
}

static const struct bspec *spec_of(int32_t id, const struct bspec *bs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (bs[i].id == id)
			return &bs[i];
	}
	ck_abort_msg("broker %d was not usable", id);
	return NULL;
}

/* Places np x rf with seed; asserts success, distinct replicas, unfenced and usable leaders. */
static int32_t *place_ok(const struct bspec *bs, size_t n, uint64_t seed, int32_t np, int32_t rf)
{
	int32_t *out = sl_arena_alloc(&arena, sizeof(int32_t) * (size_t)(np * rf));

	ck_assert_ptr_nonnull(out);
	ck_assert_msg(meta_place_replicas(img, seed, np, rf, &arena, out, &res), "%s", res.message);
	ck_assert_int_eq(res.error_code, WIRE_ERR_NONE);
	for (int32_t p = 0; p < np; p++) {
		const int32_t *r = out + p * rf;

		ck_assert(!spec_of(r[0], bs, n)->fenced);
		for (int32_t i = 0; i < rf; i++) {
			ck_assert(!spec_of(r[i], bs, n)->shutdown);
			for (int32_t j = 0; j < i; j++)
				ck_assert_int_ne(r[i], r[j]);
		}
	}
	return out;
}

START_TEST(racks_striped_first)
{
	static const struct bspec bs[] = {{1, "a", false, false}, {2, "a", false, false},
	                                  {3, "a", false, false}, {4, "a", false, false},
	                                  {5, "b", false, false}, {6, "c", false, false}};
	int32_t *out;

	build(bs, SL_ARRAY_LEN(bs));
	for (uint64_t seed = 0; seed < 20; seed++) {
		out = place_ok(bs, SL_ARRAY_LEN(bs), seed, 30, 3);
		for (int32_t p = 0; p < 30; p++) {
			bool seen[3] = {false, false, false};

			for (int32_t i = 0; i < 3; i++)
				seen[spec_of(out[p * 3 + i], bs, 6)->rack[0] - 'a'] = true;
			/* rack spread wins: one replica in each rack, even though rack a is big */
			ck_assert(seen[0] && seen[1] && seen[2]);
		}
	}
}
END_TEST

START_TEST(no_rack_balanced_leaders)
{
	static const struct bspec bs[] = {{1, NULL, false, false}, {2, NULL, false, false},
	                                  {3, NULL, false, false}, {4, NULL, false, false},
	                                  {5, NULL, false, false}, {6, NULL, false, false}};
	int leaders[7] = {0}, replicas[7] = {0};
	int32_t *out;

	build(bs, SL_ARRAY_LEN(bs));
	out = place_ok(bs, 6, 7, 60, 3);
	for (int32_t p = 0; p < 60; p++) {
		leaders[out[p * 3]]++;
		for (int32_t i = 0; i < 3; i++)
			replicas[out[p * 3 + i]]++;
	}
	for (int id = 1; id <= 6; id++) {
		ck_assert_int_eq(leaders[id],
		                 10); /* every round of 6 partitions: each leads once */
		ck_assert_int_ge(replicas[id], 20);
		ck_assert_int_le(replicas[id], 40);
	}
}
END_TEST

START_TEST(mixed_racks_no_rack_group)
{
	/* NULL rack is one group of its own next to the named racks */
	static const struct bspec bs[] = {{1, NULL, false, false},
	                                  {2, NULL, false, false},
	                                  {3, "x", false, false},
	                                  {4, "x", false, false}};
	int32_t *out;

	build(bs, SL_ARRAY_LEN(bs));
	out = place_ok(bs, 4, 3, 20, 2);
	for (int32_t p = 0; p < 20; p++) {
		bool a = spec_of(out[p * 2], bs, 4)->rack == NULL;
		bool b = spec_of(out[p * 2 + 1], bs, 4)->rack == NULL;

		ck_assert(a != b);
	}
}
END_TEST

START_TEST(fenced_last_never_leader)
{
	static const struct bspec bs[] = {{1, NULL, false, false},
	                                  {2, NULL, false, false},
	                                  {3, NULL, false, false},
	                                  {4, NULL, true, false},
	                                  {5, NULL, false, true}};
	int32_t *out;

	build(bs, SL_ARRAY_LEN(bs));
	for (uint64_t seed = 0; seed < 10; seed++) {
		out = place_ok(bs, 5, seed, 12, 3);
		for (int32_t i = 0; i < 36; i++)
			ck_assert_int_ne(out[i], 4); /* enough unfenced brokers: fenced unused */
		out = place_ok(bs, 5, seed, 12, 4);
		for (int32_t p = 0; p < 12; p++) {
			ck_assert_int_ne(out[p * 4], 4);
			ck_assert_int_eq(out[p * 4 + 3], 4); /* fenced only once unfenced ran out */
		}
	}
	/* broker 5 is in controlled shutdown: only 4 usable */
	ck_assert(!meta_place_replicas(img, 1, 1, 5, &arena, NULL, &res));
	ck_assert_int_eq(res.error_code, WIRE_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_str_eq(res.message, "The target replication factor of 5 cannot be reached "
	                              "because only 4 broker(s) are registered.");
}
END_TEST

START_TEST(fenced_rack_still_spread)
{
	static const struct bspec bs[] = {{1, "a", false, false},
	                                  {2, "a", false, false},
	                                  {3, "b", false, false},
	                                  {4, "c", true, false}};
	int32_t *out;

	build(bs, SL_ARRAY_LEN(bs));
	for (uint64_t seed = 0; seed < 10; seed++) {
		out = place_ok(bs, 4, seed, 9, 3);
		for (int32_t p = 0; p < 9; p++) {
			ck_assert_int_ne(out[p * 3], 4);
			ck_assert(out[p * 3 + 1] == 4 || out[p * 3 + 2] == 4);
		}
	}
}
END_TEST

START_TEST(errors)
{
	static const struct bspec fenced[] = {{1, NULL, true, false}, {2, "r", true, false}};
	static const struct bspec two[] = {{1, NULL, false, false}, {2, NULL, true, false}};
	int32_t one;

	build(NULL, 0);
	ck_assert(!meta_place_replicas(img, 1, 1, 1, &arena, &one, &res));
	ck_assert_int_eq(res.error_code, WIRE_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_str_eq(res.message, "All brokers are currently fenced.");
	build(fenced, 2);
	ck_assert(!meta_place_replicas(img, 1, 1, 1, &arena, &one, &res));
	ck_assert_str_eq(res.message, "All brokers are currently fenced.");
	build(two, 2);
	ck_assert(!meta_place_replicas(img, 1, 1, 3, &arena, NULL, &res));
	ck_assert_str_eq(res.message, "The target replication factor of 3 cannot be reached "
	                              "because only 2 broker(s) are registered.");
	ck_assert(!meta_place_replicas(img, 1, 1, 0, &arena, NULL, &res));
	ck_assert_int_eq(res.error_code, WIRE_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_str_eq(res.message,
	                 "Invalid replication factor 0: the replication factor must be positive.");
	ck_assert(meta_place_replicas(img, 1, 0, 2, &arena, NULL, &res)); /* dry run */
	place_ok(two, 2, 5, 4, 2);
}
END_TEST

START_TEST(deterministic_per_seed)
{
	static const struct bspec bs[] = {{1, "a", false, false}, {2, "b", false, false},
	                                  {3, "c", false, false}, {4, "a", false, false},
	                                  {5, "b", true, false},  {6, "c", false, false},
	                                  {7, NULL, false, false}};
	int32_t *a, *b;
	bool differs = false;

	build(bs, SL_ARRAY_LEN(bs));
	a = place_ok(bs, 7, 1234, 40, 3);
	b = place_ok(bs, 7, 1234, 40, 3);
	ck_assert_int_eq(memcmp(a, b, sizeof(int32_t) * 120), 0);
	for (uint64_t seed = 1; seed < 8 && !differs; seed++) {
		b = place_ok(bs, 7, 1234 + seed, 40, 3);
		differs = memcmp(a, b, sizeof(int32_t) * 120) != 0;
	}
	ck_assert(differs);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("placement");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, racks_striped_first);
	tcase_add_test(tc, no_rack_balanced_leaders);
	tcase_add_test(tc, mixed_racks_no_rack_group);
	tcase_add_test(tc, fenced_last_never_leader);
	tcase_add_test(tc, fenced_rack_still_spread);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, deterministic_per_seed);
	suite_add_tcase(s, tc);
	return s;
}
