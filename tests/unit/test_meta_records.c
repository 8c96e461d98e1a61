/*
 * test_meta_records.c: metadata record codecs and the ApiMessageAndVersion frame: round trips
 * of every version with non-default values, tagged-field defaults, hand-computed bytes,
 * frame version 0 rejected, truncation.
 */
#include "check_main.h"
#include "metadata.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sl_arena arena;
static struct sl_buf buf;

static void setup(void)
{
	sl_arena_init(&arena, 4096, 1u << 20);
	sl_buf_init(&buf, 1u << 20);
}

static void teardown(void)
{
	sl_arena_free(&arena);
	sl_buf_free(&buf);
}

static struct sl_uuid uuid_of(uint8_t seed)
{
	struct sl_uuid u;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed * 3 + i);
	return u;
}

/* Frames and encodes `in` (record key at v), then reads the frame, decodes into out, checks
 * exact consumption and that re-encoding gives the same bytes; also every strict prefix of
 * the encoding must be SL_EMALFORMED. */
static void roundtrip(int16_t key, int16_t v, const void *in, void *out)
{
	struct wire_reader r;
	struct sl_buf again;
	int16_t got_key, got_v;

	sl_buf_reset(&buf);
	meta_frame_put(&buf, key, v);
	meta_record_encode_any(&buf, key, v, in);
	ck_assert_int_eq(sl_buf_err(&buf), SL_OK);
	wire_reader_init(&r, buf.data, buf.len, &arena);
	ck_assert_int_eq(meta_frame_get(&r, &got_key, &got_v), SL_OK);
	ck_assert_int_eq(got_key, key);
	ck_assert_int_eq(got_v, v);
	ck_assert_int_eq(meta_record_decode_any(&r, key, v, out), SL_OK);
	ck_assert(wire_reader_done(&r));
	sl_buf_init(&again, 1u << 20);
	meta_frame_put(&again, key, v);
	meta_record_encode_any(&again, key, v, out);
	ck_assert_uint_eq(again.len, buf.len);
	ck_assert_mem_eq(again.data, buf.data, buf.len);
	sl_buf_free(&again);
	for (size_t n = 0; n < buf.len; n++) {
		_Alignas(16) uint8_t scratch[512];
		enum sl_err err;

		ck_assert_uint_ge(sizeof(scratch), meta_record_struct_size(key));
		wire_reader_init(&r, buf.data, n, &arena);
		err = meta_frame_get(&r, &got_key, &got_v);
		if (err == SL_OK)
			err = meta_record_decode_any(&r, key, v, scratch);
		ck_assert_msg(err == SL_EMALFORMED, "key %d v%d prefix %zu: %s", key, v, n,
		              sl_err_name(err));
	}
}

START_TEST(feature_level_bytes)
{
	struct meta_feature_level_record in, out;
	static const uint8_t want[] = {0x01, 0x0c, 0x00, 0x11, 'm',  'e',  't', 'a',
	                               'd',  'a',  't',  'a',  '.',  'v',  'e', 'r',
	                               's',  'i',  'o',  'n',  0x00, 0x15, 0x00};

	meta_feature_level_record_init(&in);
	in.name = wire_str_c("metadata.version");
	in.feature_level = 21;
	meta_frame_put(&buf, 12, 0);
	meta_feature_level_record_encode(&buf, 0, &in);
	ck_assert_uint_eq(buf.len, sizeof(want));
	ck_assert_mem_eq(buf.data, want, sizeof(want));
	roundtrip(12, 0, &in, &out);
	ck_assert(wire_str_eq(out.name, "metadata.version"));
	ck_assert_int_eq(out.feature_level, 21);
}
END_TEST

START_TEST(simple_records)
{
	struct meta_topic_record t = {wire_str_c("orders"), uuid_of(1)}, t2;
	struct meta_remove_topic_record rt = {uuid_of(2)}, rt2;
	struct meta_no_op_record nop, nop2;
	struct meta_zk_migration_state_record zk = {4}, zk2;
	struct meta_config_record c, c2;
	struct sl_uuid u1 = uuid_of(1), u2 = uuid_of(2);

	roundtrip(2, 0, &t, &t2);
	ck_assert(wire_str_eq(t2.name, "orders"));
	ck_assert(sl_uuid_eq(&t2.topic_id, &u1));
	roundtrip(9, 0, &rt, &rt2);
	ck_assert(sl_uuid_eq(&rt2.topic_id, &u2));
	meta_no_op_record_init(&nop);
	roundtrip(20, 0, &nop, &nop2);
	ck_assert_uint_eq(buf.len, 4); /* frame 3 bytes + empty tag section */
	roundtrip(21, 0, &zk, &zk2);
	ck_assert_int_eq(zk2.zk_migration_state, 4);

	meta_config_record_init(&c);
	c.resource_type = 2;
	c.resource_name = wire_str_c("orders");
	c.name = wire_str_c("retention.ms");
	c.value = wire_str_c("1000");
	roundtrip(4, 0, &c, &c2);
	ck_assert_int_eq(c2.resource_type, 2);
	ck_assert(wire_str_eq(c2.value, "1000"));
	c.value = wire_str_c(NULL); /* delete */
	roundtrip(4, 0, &c, &c2);
	ck_assert_int_eq(c2.value.len, -1);
	ck_assert(wire_str_eq(c2.name, "retention.ms"));
}
END_TEST

START_TEST(partition_record_all_versions)
{
	int32_t replicas[] = {1, 2, 3}, isr[] = {1, 2}, removing[] = {3}, adding[] = {4};
	int32_t elr[] = {2}, lke[] = {5, 6};
	struct sl_uuid dirs[3] = {uuid_of(7), uuid_of(8), uuid_of(9)};

	for (int16_t v = 0; v <= 2; v++) {
		struct meta_partition_record in, out;
		meta_partition_record_init(&in);
		ck_assert_int_eq(in.partition_id, -1);
		ck_assert_int_eq(in.leader, -1);
		ck_assert_int_eq(in.eligible_leader_replicas_count, -1);
		in.partition_id = 5;
		in.topic_id = uuid_of(1);
		in.replicas_count = 3;
		in.replicas = replicas;
		in.isr_count = 2;
		in.isr = isr;
		in.removing_replicas_count = 1;
		in.removing_replicas = removing;
		in.adding_replicas_count = 1;
		in.adding_replicas = adding;
		in.leader = 1;
		in.leader_recovery_state = 1;
		in.leader_epoch = 10;
		in.partition_epoch = 11;
		in.directories_count = 3;
		in.directories = dirs;
		in.eligible_leader_replicas_count = 1;
		in.eligible_leader_replicas = elr;
		in.last_known_elr_count = 2;
		in.last_known_elr = lke;
		roundtrip(3, v, &in, &out);
		ck_assert_int_eq(out.partition_id, 5);
		ck_assert_int_eq(out.replicas_count, 3);
		ck_assert_int_eq(out.replicas[2], 3);
		ck_assert_int_eq(out.isr[1], 2);
		ck_assert_int_eq(out.removing_replicas[0], 3);
		ck_assert_int_eq(out.adding_replicas[0], 4);
		ck_assert_int_eq(out.leader, 1);
		ck_assert_int_eq(out.leader_recovery_state, 1);
		ck_assert_int_eq(out.leader_epoch, 10);
		ck_assert_int_eq(out.partition_epoch, 11);
		ck_assert_int_eq(out.directories_count, v >= 1 ? 3 : 0);
		if (v >= 1)
			ck_assert(sl_uuid_eq(&out.directories[2], &dirs[2]));
		ck_assert_int_eq(out.eligible_leader_replicas_count, v >= 2 ? 1 : -1);
		ck_assert_int_eq(out.last_known_elr_count, v >= 2 ? 2 : -1);
		if (v >= 2)
			ck_assert_int_eq(out.last_known_elr[1], 6);
	}
}
END_TEST

START_TEST(partition_record_tag_defaults)
{
	struct meta_partition_record in, out;
	struct wire_reader r;
	int32_t none[1];

	/* Default leader_recovery_state (0) and null ELR fields are not written: the record ends
	 * with an empty tag section. v2 layout: id 4, uuid 16, 4 compact empty arrays, leader 4,
	 * epochs 8, directories 1, tags 1 = 38 bytes. */
	meta_partition_record_init(&in);
	meta_partition_record_encode(&buf, 2, &in);
	ck_assert_uint_eq(buf.len, 38);
	ck_assert_uint_eq(buf.data[37], 0);
	/* An empty (non-null) ELR differs from the default and is written. */
	in.eligible_leader_replicas_count = 0;
	in.eligible_leader_replicas = none;
	sl_buf_reset(&buf);
	meta_partition_record_encode(&buf, 2, &in);
	ck_assert_uint_eq(buf.len, 41);
	ck_assert_uint_eq(buf.data[37], 1); /* one tagged field */
	ck_assert_uint_eq(buf.data[38], 1); /* tag 1 */
	ck_assert_uint_eq(buf.data[39], 1); /* size 1 */
	ck_assert_uint_eq(buf.data[40], 1); /* compact empty array */
	wire_reader_init(&r, buf.data, buf.len, &arena);
	ck_assert_int_eq(meta_partition_record_decode(&r, 2, &out), SL_OK);
	ck_assert_int_eq(out.eligible_leader_replicas_count, 0);
	ck_assert_int_eq(out.last_known_elr_count, -1);
	ck_assert_int_eq(out.leader_recovery_state, 0);
}
END_TEST

START_TEST(register_broker_all_versions)
{
	struct meta_register_broker_record_broker_endpoint eps[2] = {
	        {wire_str_c("PLAINTEXT"), wire_str_c("b1"), 9092, 0},
	        {wire_str_c("SSL"), wire_str_c("b1"), 9093, 1}};
	struct meta_register_broker_record_broker_feature feat = {wire_str_c("metadata.version"), 1,
	                                                          21};
	struct sl_uuid dirs[2] = {uuid_of(4), uuid_of(5)};

	for (int16_t v = 0; v <= 3; v++) {
		struct meta_register_broker_record in, out;
		meta_register_broker_record_init(&in);
		ck_assert(in.fenced); /* default true */
		in.broker_id = 7;
		in.is_migrating_zk_broker = true;
		in.incarnation_id = uuid_of(3);
		in.broker_epoch = 1234567890123;
		in.end_points_count = 2;
		in.end_points = eps;
		in.features_count = 1;
		in.features = &feat;
		in.rack = wire_str_c("rack-1");
		in.fenced = false;
		in.in_controlled_shutdown = true;
		in.log_dirs_count = 2;
		in.log_dirs = dirs;
		roundtrip(0, v, &in, &out);
		ck_assert_int_eq(out.broker_id, 7);
		ck_assert(out.is_migrating_zk_broker == (v >= 2));
		ck_assert_int_eq(out.broker_epoch, 1234567890123);
		ck_assert_int_eq(out.end_points_count, 2);
		ck_assert_uint_eq(out.end_points[1].port, 9093);
		ck_assert_int_eq(out.end_points[1].security_protocol, 1);
		ck_assert(wire_str_eq(out.features[0].name, "metadata.version"));
		ck_assert_int_eq(out.features[0].max_supported_version, 21);
		ck_assert(wire_str_eq(out.rack, "rack-1"));
		ck_assert(!out.fenced);
		ck_assert(out.in_controlled_shutdown == (v >= 1));
		ck_assert_int_eq(out.log_dirs_count, v >= 3 ? 2 : 0);
	}
}
END_TEST

START_TEST(frame_rules)
{
	struct wire_reader r;
	int16_t key, v;
	static const uint8_t v0_frame[] = {0x00, 0x0c, 0x00};
	static const uint8_t v2_frame[] = {0x02, 0x0c, 0x00};
	static const uint8_t big_key[] = {0x01, 0x80, 0x80, 0x02, 0x00}; /* key 32768 */
	static const uint8_t ok[] = {0x01, 0x80, 0x01, 0x03};            /* key 128, version 3 */

	wire_reader_init(&r, v0_frame, sizeof(v0_frame), NULL);
	ck_assert_int_eq(meta_frame_get(&r, &key, &v), SL_EMALFORMED);
	wire_reader_init(&r, v2_frame, sizeof(v2_frame), NULL);
	ck_assert_int_eq(meta_frame_get(&r, &key, &v), SL_EMALFORMED);
	wire_reader_init(&r, big_key, sizeof(big_key), NULL);
	ck_assert_int_eq(meta_frame_get(&r, &key, &v), SL_EMALFORMED);
	wire_reader_init(&r, ok, sizeof(ok), NULL);
	ck_assert_int_eq(meta_frame_get(&r, &key, &v), SL_OK);
	ck_assert_int_eq(key, 128);
	ck_assert_int_eq(v, 3);
	ck_assert(wire_reader_done(&r));
	ck_assert_ptr_null(meta_record_info(128));
	ck_assert_ptr_nonnull(meta_record_info(3));
	ck_assert_int_eq(meta_record_info(3)->max_version, 2);
	ck_assert_str_eq(meta_record_info(0)->name, "RegisterBrokerRecord");
	ck_assert_uint_eq(meta_record_struct_size(128), 0);
	wire_reader_init(&r, ok, sizeof(ok), &arena);
	ck_assert_int_eq(meta_record_decode_any(&r, 128, 0, NULL), SL_EUNSUPPORTED);
}
END_TEST

/* libFuzzer names the inputs it adds to a corpus directory by their SHA-1 (40 hex digits);
 * only the hand-made seeds are checked. */
static bool is_fuzzer_output(const char *name)
{
	size_t n = strlen(name);

	return n == 40 && strspn(name, "0123456789abcdef") == 40;
}

/* The fuzz seeds (tests/fuzz/gen_seeds.py, hand-assembled) must decode exactly. */
START_TEST(fuzz_seeds_decode_exactly)
{
	const char *src = getenv("SLUICE_SOURCE_DIR");
	char path[2048];
	DIR *dir;
	struct dirent *de;
	int count = 0;

	ck_assert_ptr_nonnull(src);
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/metadata_record", src);
	dir = opendir(path);
	ck_assert_msg(dir != NULL, "cannot open %s", path);
	while ((de = readdir(dir)) != NULL) {
		_Alignas(16) static uint8_t rec[1024], data[4096];
		struct wire_reader r;
		int16_t key, v;
		char file[2048 + 512];
		FILE *f;
		size_t n;

		if (de->d_name[0] == '.' || is_fuzzer_output(de->d_name))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		f = fopen(file, "rb");
		ck_assert_ptr_nonnull(f);
		n = fread(data, 1, sizeof(data), f);
		fclose(f);
		wire_reader_init(&r, data, n, &arena);
		ck_assert_int_eq(meta_frame_get(&r, &key, &v), SL_OK);
		ck_assert_msg(meta_record_decode_any(&r, key, v, rec) == SL_OK, "%s", de->d_name);
		ck_assert_msg(wire_reader_done(&r), "%s: trailing bytes", de->d_name);
		count++;
	}
	closedir(dir);
	ck_assert_int_ge(count, 5);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("meta_records");
	TCase *tc = tcase_create("records");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, feature_level_bytes);
	tcase_add_test(tc, simple_records);
	tcase_add_test(tc, partition_record_all_versions);
	tcase_add_test(tc, partition_record_tag_defaults);
	tcase_add_test(tc, register_broker_all_versions);
	tcase_add_test(tc, frame_rules);
	tcase_add_test(tc, fuzz_seeds_decode_exactly);
	suite_add_tcase(s, tc);
	return s;
}
