/*
 * test_wire_malformed.c: hostile input to the Kafka codec. Every strict prefix of a valid
 * encoding must fail with SL_EMALFORMED (never crash, never succeed); absurd counts, negative
 * lengths, compact-length overflow and bad varints are SL_EMALFORMED; arena exhaustion is
 * SL_ENOMEM. Meant to run under ASan/UBSan as well (-DSLUICE_SANITIZE=ON).
 */
#include "check_main.h"
#include "wire.h"

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

/* Decodes every strict prefix of buf (copied to an exact-size heap block so ASan sees any
 * overread) and expects SL_EMALFORMED; then the whole buffer must decode. */
static void check_prefixes(bool response, int16_t key, int16_t v)
{
	void *out = calloc(1, response ? wire_response_struct_size(key)
	                               : wire_request_struct_size(key));

	ck_assert_ptr_nonnull(out);
	for (size_t n = 0; n <= buf.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct wire_reader r;
		enum sl_err err;

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, buf.data, n);
		sl_arena_reset(&arena);
		wire_reader_init(&r, copy, n, &arena);
		err = response ? wire_response_decode_any(&r, key, v, out)
		               : wire_request_decode_any(&r, key, v, out);
		if (n < buf.len)
			ck_assert_msg(err == SL_EMALFORMED, "key %d v%d prefix %zu/%zu: %s", key, v,
			              n, buf.len, sl_err_name(err));
		else
			ck_assert_msg(err == SL_OK && wire_reader_done(&r), "full decode: %s",
			              sl_err_name(err));
		free(copy);
	}
	free(out);
}

static struct wire_metadata_response_partition part;
static struct wire_metadata_response_topic topic;
static struct wire_metadata_response_broker broker;
static int32_t nodes[] = {1, 2, 3};

static void build_metadata_response(struct wire_metadata_response *m)
{
	wire_metadata_response_broker_init(&broker);
	broker.node_id = 1;
	broker.host = wire_str_c("localhost");
	broker.port = 9092;
	broker.rack = wire_str_c("r1");
	wire_metadata_response_partition_init(&part);
	part.replica_nodes_count = 3;
	part.replica_nodes = nodes;
	part.isr_nodes_count = 2;
	part.isr_nodes = nodes;
	part.offline_replicas_count = 1;
	part.offline_replicas = nodes;
	wire_metadata_response_topic_init(&topic);
	topic.name = wire_str_c("t");
	topic.partitions_count = 1;
	topic.partitions = &part;
	wire_metadata_response_init(m);
	m->brokers_count = 1;
	m->brokers = &broker;
	m->cluster_id = wire_str_c("cid");
	m->topics_count = 1;
	m->topics = &topic;
}

START_TEST(truncated_everywhere)
{
	struct wire_metadata_response m;
	struct wire_api_versions_response av;
	struct wire_api_versions_response_api_version k = {18, 0, 4};
	struct wire_api_versions_response_supported_feature_key f = {{"x", 1}, 0, 1};
	struct wire_metadata_request_topic rt;
	struct wire_metadata_request mr;
	struct wire_api_versions_request ar;

	build_metadata_response(&m);
	for (int16_t v = 0; v <= 12; v++) {
		sl_buf_reset(&buf);
		wire_metadata_response_encode(&buf, v, &m);
		check_prefixes(true, 3, v);
	}
	wire_metadata_request_topic_init(&rt);
	rt.name = wire_str_c("orders");
	wire_metadata_request_init(&mr);
	mr.topics_count = 1;
	mr.topics = &rt;
	for (int16_t v = 0; v <= 12; v++) {
		sl_buf_reset(&buf);
		wire_metadata_request_encode(&buf, v, &mr);
		check_prefixes(false, 3, v);
	}
	wire_api_versions_response_init(&av);
	av.api_keys_count = 1;
	av.api_keys = &k;
	av.supported_features_count = 1;
	av.supported_features = &f;
	av.finalized_features_epoch = 3;
	av.zk_migration_ready = true;
	wire_api_versions_request_init(&ar);
	ar.client_software_name = wire_str_c("n");
	ar.client_software_version = wire_str_c("v");
	for (int16_t v = 0; v <= 4; v++) {
		sl_buf_reset(&buf);
		wire_api_versions_response_encode(&buf, v, &av);
		check_prefixes(true, 18, v);
		sl_buf_reset(&buf);
		wire_api_versions_request_encode(&buf, v, &ar);
		check_prefixes(false, 18, v);
	}
}
END_TEST

static enum sl_err decode_rsp(const uint8_t *p, size_t n, int16_t key, int16_t v)
{
	_Alignas(16) static uint8_t out[1024]; /* room for any message struct */
	struct wire_reader r;

	ck_assert_uint_ge(sizeof(out), wire_response_struct_size(key));
	wire_reader_init(&r, p, n, &arena);
	return wire_response_decode_any(&r, key, v, out);
}

static enum sl_err decode_req(const uint8_t *p, size_t n, int16_t key, int16_t v)
{
	_Alignas(16) static uint8_t out[1024]; /* room for any message struct */
	struct wire_reader r;

	ck_assert_uint_ge(sizeof(out), wire_request_struct_size(key));
	wire_reader_init(&r, p, n, &arena);
	return wire_request_decode_any(&r, key, v, out);
}

START_TEST(huge_array_count)
{
	/* Metadata v1 response: brokers count INT32_MAX with 8 bytes left. */
	static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
	/* Compact count 2^32-2 (uvarint 0xffffffff). */
	static const uint8_t chuge[] = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0};
	/* Count -2. */
	static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0};
	/* Metadata v0 request announcing 4096 topics with 3 bytes left: rejected before allocating.
	 */
	static const uint8_t req_huge[] = {0x00, 0x00, 0x10, 0x00, 0x00, 0x01, 'a'};

	ck_assert_int_eq(decode_rsp(huge, sizeof(huge), 3, 1), SL_EMALFORMED);
	ck_assert_int_eq(decode_rsp(chuge, sizeof(chuge), 3, 9), SL_EMALFORMED);
	ck_assert_int_eq(decode_rsp(neg, sizeof(neg), 3, 1), SL_EMALFORMED);
	ck_assert_int_eq(decode_req(req_huge, sizeof(req_huge), 3, 0), SL_EMALFORMED);
	ck_assert_uint_eq(arena.allocated_bytes <= 4096 * 2, true);
}
END_TEST

START_TEST(bad_string_lengths)
{
	/* Metadata v0 request, one topic whose name length is -2. */
	static const uint8_t neg2[] = {0, 0, 0, 1, 0xff, 0xfe};
	/* ... -1: null, not allowed before v10. */
	static const uint8_t null_v0[] = {0, 0, 0, 1, 0xff, 0xff};
	/* v10 allows a null name: compact array 1 (+1), 16-byte id, name 0 (null), tags, then
	 * allow_auto, cluster ops, topic ops, tags. */
	uint8_t null_v10[1 + 16 + 1 + 1 + 4] = {0x02};
	/* A name longer than what remains. */
	static const uint8_t overrun[] = {0, 0, 0, 1, 0x00, 0x05, 'a', 'b'};
	/* Compact string length overflow: uvarint 0xffffffff means 2^32-2 bytes. */
	static const uint8_t coverflow[] = {0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'};
	/* Compact string longer than 32767 (length 40000 + 1). */
	static const uint8_t clong[] = {0x02, 0xc1, 0xb8, 0x02, 'a'};

	ck_assert_int_eq(decode_req(neg2, sizeof(neg2), 3, 0), SL_EMALFORMED);
	ck_assert_int_eq(decode_req(null_v0, sizeof(null_v0), 3, 0), SL_EMALFORMED);
	{
		struct wire_metadata_request out;
		struct wire_reader r;

		wire_reader_init(&r, null_v10, sizeof(null_v10), &arena);
		ck_assert_int_eq(wire_metadata_request_decode(&r, 10, &out), SL_OK);
		ck_assert(wire_reader_done(&r));
		ck_assert_int_eq(out.topics[0].name.len, -1);
	}
	ck_assert_int_eq(decode_req(overrun, sizeof(overrun), 3, 0), SL_EMALFORMED);
	ck_assert_int_eq(decode_req(coverflow, sizeof(coverflow), 3, 9), SL_EMALFORMED);
	ck_assert_int_eq(decode_req(clong, sizeof(clong), 3, 9), SL_EMALFORMED);
}
END_TEST

START_TEST(bad_varints)
{
	/* ApiVersions v3 request: the first compact string length is a 6-byte varint. */
	static const uint8_t too_long[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0x00};
	/* A 5-byte varint whose value needs more than 32 bits. */
	static const uint8_t too_big[] = {0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x00};
	/* Truncated varint (continuation bit on the last byte). */
	static const uint8_t cut[] = {0x01, 0x01, 0x80};
	/* Tag count that is fine, then a tag size past the end. */
	static const uint8_t tag_over[] = {0x01, 0x01, 0x01, 0x00, 0x10, 0x00};
	/* Tag count 2^32-1: the loop must stop at the first missing tag, not spin. */
	static const uint8_t many_tags[] = {0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f};

	ck_assert_int_eq(decode_req(too_long, sizeof(too_long), 18, 3), SL_EMALFORMED);
	ck_assert_int_eq(decode_req(too_big, sizeof(too_big), 18, 3), SL_EMALFORMED);
	ck_assert_int_eq(decode_req(cut, sizeof(cut), 18, 3), SL_EMALFORMED);
	ck_assert_int_eq(decode_req(tag_over, sizeof(tag_over), 18, 3), SL_EMALFORMED);
	ck_assert_int_eq(decode_req(many_tags, sizeof(many_tags), 18, 3), SL_EMALFORMED);
}
END_TEST

START_TEST(arena_exhaustion_is_enomem)
{
	struct sl_arena tiny;
	struct wire_metadata_response out;
	struct wire_reader r;
	int32_t many[2000];

	for (int i = 0; i < 2000; i++)
		many[i] = i;
	build_metadata_response(&out);
	part.replica_nodes_count = 2000;
	part.replica_nodes = many;
	wire_metadata_response_encode(&buf, 1, &out);
	ck_assert_int_eq(sl_buf_err(&buf), SL_OK);
	sl_arena_init(&tiny, 1024, 4096);
	wire_reader_init(&r, buf.data, buf.len, &tiny);
	ck_assert_int_eq(wire_metadata_response_decode(&r, 1, &out), SL_ENOMEM);
	sl_arena_free(&tiny);
	/* No arena at all: arrays cannot be allocated. */
	wire_reader_init(&r, buf.data, buf.len, NULL);
	ck_assert_int_eq(wire_metadata_response_decode(&r, 1, &out), SL_ENOMEM);
}
END_TEST

START_TEST(header_malformed)
{
	struct wire_request_header h;
	struct wire_reader r;
	static const uint8_t shorty[] = {0x00, 0x03, 0x00};
	static const uint8_t badid[] = {0x00, 0x03, 0x00, 0x01, 0, 0, 0, 1, 0xff, 0xfe};
	static const uint8_t v2_no_tags[] = {0x00, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x00};

	wire_reader_init(&r, shorty, sizeof(shorty), NULL);
	ck_assert_int_eq(wire_request_header_decode(&r, &h), SL_EMALFORMED);
	wire_reader_init(&r, badid, sizeof(badid), NULL);
	ck_assert_int_eq(wire_request_header_decode(&r, &h), SL_EMALFORMED);
	wire_reader_init(&r, v2_no_tags, sizeof(v2_no_tags), NULL);
	ck_assert_int_eq(wire_request_header_decode(&r, &h), SL_EMALFORMED);
}
END_TEST

/* An empty body may come from a buffer that never allocated (data NULL, len 0), e.g. an
 * ApiVersions v0-2 request encodes to nothing. wire_reader_init accepts (NULL, 0); computing
 * NULL + 0 was undefined behaviour that clang's UBSan reports (found by fuzz_request). */
START_TEST(empty_null_buffer)
{
	struct wire_reader r;
	struct wire_api_versions_request req;
	struct sl_buf empty;

	sl_buf_init(&empty, 64);
	wire_api_versions_request_init(&req);
	wire_api_versions_request_encode(&empty, 0, &req);
	ck_assert_int_eq(sl_buf_err(&empty), SL_OK);
	ck_assert_uint_eq(empty.len, 0);
	wire_reader_init(&r, empty.data, empty.len, &arena);
	ck_assert_uint_eq(wire_reader_left(&r), 0);
	ck_assert_int_eq(wire_api_versions_request_decode(&r, 0, &req), SL_OK);
	ck_assert(wire_reader_done(&r));
	wire_reader_init(&r, NULL, 0, NULL);
	ck_assert_int_eq(wire_api_versions_request_decode(&r, 3, &req), SL_EMALFORMED);
	ck_assert(wire_reader_done(&r));
	sl_buf_free(&empty);
}
END_TEST

START_TEST(encoder_overflow_is_flagged)
{
	struct sl_buf small;
	struct wire_metadata_response m;

	build_metadata_response(&m);
	sl_buf_init(&small, 8);
	wire_metadata_response_encode(&small, 12, &m);
	ck_assert_int_eq(sl_buf_err(&small), SL_ENOMEM);
	sl_buf_free(&small);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("wire_malformed");
	TCase *tc = tcase_create("malformed");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, truncated_everywhere);
	tcase_add_test(tc, huge_array_count);
	tcase_add_test(tc, bad_string_lengths);
	tcase_add_test(tc, bad_varints);
	tcase_add_test(tc, arena_exhaustion_is_enomem);
	tcase_add_test(tc, header_malformed);
	tcase_add_test(tc, empty_null_buffer);
	tcase_add_test(tc, encoder_overflow_is_flagged);
	suite_add_tcase(s, tc);
	return s;
}
