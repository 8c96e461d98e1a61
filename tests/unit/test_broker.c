/*
 * test_broker.c: the broker's request layer through brk_handle(): the ApiVersions reply is
 * the API table, the KIP-511 reply bytes, ApiVersions v3+ validation, Metadata replies for
 * every version (an image holding only this broker's registration: topics unknown; with
 * topics: test_broker_admin.c, several brokers: test_broker_cluster.c), the admin APIs'
 * advertised ranges, and the requests that must close the connection.
 */
#include "check_main.h"

#include "broker.h"
#include "metadata.h"
#include "wire.h"

#include <string.h>

#define NODE_ID 7
#define CLUSTER_ID "MkU3OEVBNTcwNTJENDM2Qk"

struct tb {
	struct brk *brk;
	struct sl_arena arena;
	struct sl_buf req;
	struct sl_buf resp;
	char reason[256];
};

static struct tb B;

/* Gives the broker an image in which it is registered and unfenced at broker.example:19092
 * (Metadata lists registered brokers only). */
static void register_self(void)
{
	struct meta_image *empty = meta_image_create_empty();
	ck_assert_ptr_nonnull(empty);
	struct meta_delta *d = NULL;
	ck_assert_int_eq(meta_delta_create(empty, &d), SL_OK);
	meta_image_unref(empty);
	struct meta_register_broker_record_broker_endpoint ep;
	meta_register_broker_record_broker_endpoint_init(&ep);
	ep.name = wire_str_c("PLAINTEXT");
	ep.host = wire_str_c("broker.example");
	ep.port = 19092;
	struct meta_register_broker_record r;
	meta_register_broker_record_init(&r);
	r.broker_id = NODE_ID;
	r.broker_epoch = 1;
	r.end_points_count = 1;
	r.end_points = &ep;
	r.rack = wire_str_c(NULL);
	r.fenced = false;
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	meta_frame_put(&b, META_REC_REGISTER_BROKER, 1);
	meta_register_broker_record_encode(&b, 1, &r);
	ck_assert_int_eq(sl_buf_err(&b), SL_OK);
	char err[256];
	ck_assert_msg(meta_delta_apply(d, b.data, b.len, err, sizeof(err)) == SL_OK, "%s", err);
	sl_buf_free(&b);
	struct meta_image *img = meta_delta_publish(d, 1);
	ck_assert_ptr_nonnull(img);
	brk_set_image(B.brk, img);
	meta_image_unref(img);
}

static void setup(void)
{
	struct brk_opts o = {.node_id = NODE_ID, .cluster_id = CLUSTER_ID};
	ck_assert_int_eq(brk_create(&o, &B.brk), SL_OK);
	register_self();
	sl_arena_init(&B.arena, 4096, 1 << 24);
	sl_buf_init(&B.req, 1 << 20);
	sl_buf_init(&B.resp, 1 << 20);
}

static void teardown(void)
{
	brk_destroy(B.brk);
	sl_arena_free(&B.arena);
	sl_buf_free(&B.req);
	sl_buf_free(&B.resp);
}

static void begin(int16_t key, int16_t version, int32_t correlation_id)
{
	sl_buf_reset(&B.req);
	sl_buf_reset(&B.resp);
	sl_arena_reset(&B.arena);
	B.reason[0] = '\0';
	struct wire_request_header h;
	wire_request_header_init(&h);
	h.api_key = key;
	h.api_version = version;
	h.correlation_id = correlation_id;
	h.client_id = wire_str_c("test-client");
	wire_request_header_encode(&B.req, &h);
}

static enum brk_outcome handle(bool controller)
{
	ck_assert_int_eq(sl_buf_err(&B.req), SL_OK);
	struct brk_frame f = {.data = B.req.data,
	                      .len = B.req.len,
	                      .arena = &B.arena,
	                      .is_controller_listener = controller,
	                      .log_ctx = "test"};
	return brk_handle(B.brk, &f, &B.resp, B.reason, sizeof(B.reason));
}

/* Checks the response header (v0 or v1) and leaves r at the body. */
static void resp_reader(struct wire_reader *r, int16_t header_version, int32_t correlation_id)
{
	wire_reader_init(r, B.resp.data, B.resp.len, &B.arena);
	int32_t cid;
	ck_assert_int_eq(wire_response_header_decode(r, header_version, &cid), SL_OK);
	ck_assert_int_eq(cid, correlation_id);
}

static void api_versions_request(int16_t v, const char *name, const char *version)
{
	begin(18, v, 100 + v);
	struct wire_api_versions_request req;
	wire_api_versions_request_init(&req);
	req.client_software_name = wire_str_c(name);
	req.client_software_version = wire_str_c(version);
	wire_api_versions_request_encode(&B.req, v, &req);
}

START_TEST(api_versions_lists_table)
{
	int16_t v = (int16_t)_i;
	api_versions_request(v, "sluice-test", "1.0");
	ck_assert_int_eq(handle(false), BRK_RESPOND);
	struct wire_reader r;
	resp_reader(&r, 0, 100 + v); /* ApiVersions responses always use header v0 */
	struct wire_api_versions_response resp;
	ck_assert_int_eq(wire_api_versions_response_decode(&r, v, &resp), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(resp.error_code, 0);
	struct brk_api_range ranges[64];
	size_t n = brk_api_ranges(false, ranges, 64);
	ck_assert_int_eq(resp.api_keys_count, (int32_t)n);
	bool saw_metadata = false;
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(resp.api_keys[i].api_key, ranges[i].api_key);
		ck_assert_int_eq(resp.api_keys[i].min_version, ranges[i].min_version);
		ck_assert_int_eq(resp.api_keys[i].max_version, ranges[i].max_version);
		const struct wire_api_info *info = wire_api_info(ranges[i].api_key);
		ck_assert_ptr_nonnull(info);
		ck_assert_int_ge(ranges[i].min_version, info->min_version);
		ck_assert_int_le(ranges[i].max_version, info->max_version);
		if (ranges[i].api_key == 3) {
			saw_metadata = true;
			ck_assert_int_eq(ranges[i].min_version, 0);
			ck_assert_int_eq(ranges[i].max_version, 12);
		}
	}
	ck_assert(saw_metadata);
}
END_TEST

START_TEST(api_versions_controller_listener)
{
	api_versions_request(3, "sluice-test", "1.0");
	ck_assert_int_eq(handle(true), BRK_RESPOND);
	struct wire_reader r;
	resp_reader(&r, 0, 103);
	struct wire_api_versions_response resp;
	ck_assert_int_eq(wire_api_versions_response_decode(&r, 3, &resp), SL_OK);
	/* The Raft RPCs and ApiVersions, in table order: Fetch (of __cluster_metadata),
	 * ApiVersions, Vote, BeginQuorumEpoch, EndQuorumEpoch, DescribeQuorum, FetchSnapshot. */
	static const int16_t want[] = {1, 18, 52, 53, 54, 55, 58, 59, 62, 63, 64, 70};
	ck_assert_int_eq(resp.api_keys_count, (int)SL_ARRAY_LEN(want));
	for (size_t i = 0; i < SL_ARRAY_LEN(want); i++)
		ck_assert_int_eq(resp.api_keys[i].api_key, want[i]);
	/* Metadata is not served on a controller listener: Kafka closes. */
	begin(3, 1, 5);
	struct wire_metadata_request mr;
	wire_metadata_request_init(&mr);
	wire_metadata_request_encode(&B.req, 1, &mr);
	ck_assert_int_eq(handle(true), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(B.reason, "controller"));
}
END_TEST

START_TEST(api_versions_kip511_bytes)
{
	begin(18, 5, 0x01020304);
	sl_buf_append(&B.req, "\x00\x00", 2); /* whatever a v5 body would be: not parsed */
	ck_assert_int_eq(handle(false), BRK_RESPOND);
	static const uint8_t want[] = {
	        0x01, 0x02, 0x03, 0x04,             /* correlation id, header v0 */
	        0x00, 35,                           /* UNSUPPORTED_VERSION */
	        0x00, 0x00, 0x00, 0x01,             /* one api key */
	        0x00, 18,   0x00, 0x00, 0x00, 0x04, /* ApiVersions 0-4 */
	};
	ck_assert_uint_eq(B.resp.len, sizeof(want));
	ck_assert_mem_eq(B.resp.data, want, sizeof(want));
}
END_TEST

START_TEST(api_versions_v3_invalid_software_name)
{
	static const char *bad[][2] = {
	        {"", "1.0"}, {"-lead", "1.0"}, {"trail.", "1.0"}, {"sp ace", "1"}, {"ok", "1.0-"},
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		api_versions_request(3, bad[i][0], bad[i][1]);
		ck_assert_int_eq(handle(false), BRK_RESPOND);
		struct wire_reader r;
		resp_reader(&r, 0, 103);
		struct wire_api_versions_response resp;
		ck_assert_int_eq(wire_api_versions_response_decode(&r, 3, &resp), SL_OK);
		ck_assert_int_eq(resp.error_code, 42);
		ck_assert_int_eq(resp.api_keys_count, 0);
	}
	api_versions_request(4, "apache-kafka-java", "3.9.0");
	ck_assert_int_eq(handle(false), BRK_RESPOND);
	struct wire_reader r;
	resp_reader(&r, 0, 104);
	struct wire_api_versions_response resp;
	ck_assert_int_eq(wire_api_versions_response_decode(&r, 4, &resp), SL_OK);
	ck_assert_int_eq(resp.error_code, 0);
}
END_TEST

START_TEST(requests_that_close)
{
	/* Unknown api key. */
	begin(999, 0, 1);
	ck_assert_int_eq(handle(false), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(B.reason, "unknown API key 999"));
	/* Unsupported version of another API. */
	begin(3, 13, 1);
	ck_assert_int_eq(handle(false), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(B.reason, "unsupported version 13"));
	/* Shorter than a header. */
	begin(18, 0, 1);
	B.req.len = 6;
	ck_assert_int_eq(handle(false), BRK_CLOSE);
	/* Header cut inside the client id. */
	begin(18, 0, 1);
	B.req.len -= 3;
	ck_assert_int_eq(handle(false), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(B.reason, "malformed request header"));
	/* Trailing bytes after a valid ApiVersions v0 body. */
	api_versions_request(0, NULL, NULL);
	sl_buf_append(&B.req, "junk", 4);
	ck_assert_int_eq(handle(false), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(B.reason, "4 unexpected bytes"));
	/* Truncated Metadata body. */
	begin(3, 1, 1);
	sl_buf_put_be32(&B.req, 5); /* five topics announced, none follow */
	ck_assert_int_eq(handle(false), BRK_CLOSE);
}
END_TEST

static void metadata_request(int16_t v, bool all, bool by_id, bool include_ops)
{
	begin(3, v, 1000 + v);
	struct wire_metadata_request req;
	wire_metadata_request_init(&req);
	struct wire_metadata_request_topic topics[3];
	for (int i = 0; i < 3; i++)
		wire_metadata_request_topic_init(&topics[i]);
	topics[0].name = wire_str_c("orders");
	topics[1].name = wire_str_c("bad name!");
	topics[2].name = wire_str_c(NULL);
	topics[2].topic_id.b[15] = 0x77;
	if (all) {
		req.topics_count = v == 0 ? 0 : -1;
	} else {
		req.topics_count = by_id ? 3 : 2;
		req.topics = topics;
	}
	req.include_cluster_authorized_operations = include_ops;
	req.include_topic_authorized_operations = include_ops;
	wire_metadata_request_encode(&B.req, v, &req);
}

static void metadata_decode(int16_t v, struct wire_metadata_response *resp)
{
	struct wire_reader r;
	resp_reader(&r, v >= 9 ? 1 : 0, 1000 + v);
	ck_assert_int_eq(wire_metadata_response_decode(&r, v, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(resp->brokers_count, 1);
	ck_assert_int_eq(resp->brokers[0].node_id, NODE_ID);
	ck_assert(wire_str_eq(resp->brokers[0].host, "broker.example"));
	ck_assert_int_eq(resp->brokers[0].port, 19092);
	if (v >= 1) {
		ck_assert_int_eq(resp->controller_id, NODE_ID);
		ck_assert_int_eq(resp->brokers[0].rack.len, -1);
	}
	if (v >= 2)
		ck_assert(wire_str_eq(resp->cluster_id, CLUSTER_ID));
}

START_TEST(metadata_all_topics_every_version)
{
	int16_t v = (int16_t)_i;
	metadata_request(v, true, false, false);
	ck_assert_int_eq(handle(false), BRK_RESPOND);
	struct wire_metadata_response resp;
	metadata_decode(v, &resp);
	ck_assert_int_eq(resp.topics_count, 0);
	if (v >= 8 && v <= 10)
		ck_assert_int_eq(resp.cluster_authorized_operations, INT32_MIN);
}
END_TEST

START_TEST(metadata_named_topics_every_version)
{
	int16_t v = (int16_t)_i;
	bool by_id = v >= 10;
	metadata_request(v, false, by_id, v >= 8);
	ck_assert_int_eq(handle(false), BRK_RESPOND);
	struct wire_metadata_response resp;
	metadata_decode(v, &resp);
	ck_assert_int_eq(resp.topics_count, by_id ? 3 : 2);
	ck_assert(wire_str_eq(resp.topics[0].name, "orders"));
	ck_assert_int_eq(resp.topics[0].error_code, 3);  /* UNKNOWN_TOPIC_OR_PARTITION */
	ck_assert_int_eq(resp.topics[1].error_code, 17); /* INVALID_TOPIC_EXCEPTION */
	ck_assert_int_eq(resp.topics[0].partitions_count, 0);
	if (by_id) {
		ck_assert_int_eq(resp.topics[2].error_code, 100); /* UNKNOWN_TOPIC_ID */
		ck_assert_int_eq(resp.topics[2].topic_id.b[15], 0x77);
		if (v >= 12)
			ck_assert_int_eq(resp.topics[2].name.len, -1);
	}
	if (v >= 8) {
		ck_assert_int_eq(resp.topics[0].topic_authorized_operations, INT32_MIN);
		if (v <= 10)
			ck_assert_int_ne(resp.cluster_authorized_operations, INT32_MIN);
	}
}
END_TEST

START_TEST(metadata_v0_bytes)
{
	/* Metadata v0, all topics: exact bytes, as kafka-python's version probe reads them. */
	metadata_request(0, true, false, false);
	ck_assert_int_eq(handle(false), BRK_RESPOND);
	static const uint8_t want[] = {
	        0x00, 0x00, 0x03, 0xe8, /* correlation id 1000 */
	        0x00, 0x00, 0x00, 0x01, /* one broker */
	        0x00, 0x00, 0x00, 0x07, /* node 7 */
	        0x00, 14,   'b',  'r',  'o', 'k', 'e',  'r',  '.',  'e',
	        'x',  'a',  'm',  'p',  'l', 'e', 0x00, 0x00, 0x4a, 0x94, /* port 19092 */
	        0x00, 0x00, 0x00, 0x00,                                   /* no topics */
	};
	ck_assert_uint_eq(B.resp.len, sizeof(want));
	ck_assert_mem_eq(B.resp.data, want, sizeof(want));
}
END_TEST

START_TEST(api_versions_admin_ranges)
{
	/* The admin APIs (issue 4) with the versions the lead chose, on broker listeners only. */
	static const struct brk_api_range want[] = {
	        {3, 0, 12}, {19, 0, 7}, {20, 0, 6}, {32, 0, 4},
	        {33, 0, 2}, {37, 0, 3}, {44, 0, 1}, {60, 0, 1},
	};
	struct brk_api_range ranges[64];
	size_t n = brk_api_ranges(false, ranges, 64);
	ck_assert_uint_le(n, 64);
	for (size_t w = 0; w < SL_ARRAY_LEN(want); w++) {
		bool found = false;
		for (size_t i = 0; i < n; i++) {
			if (ranges[i].api_key != want[w].api_key)
				continue;
			found = true;
			ck_assert_int_eq(ranges[i].min_version, want[w].min_version);
			ck_assert_int_eq(ranges[i].max_version, want[w].max_version);
		}
		ck_assert_msg(found, "api key %d not advertised", want[w].api_key);
	}
	/* Sorted by key, no duplicates. */
	for (size_t i = 1; i < n; i++)
		ck_assert_int_lt(ranges[i - 1].api_key, ranges[i].api_key);
	size_t nc = brk_api_ranges(true, ranges, 64);
	for (size_t i = 0; i < nc; i++)
		ck_assert_int_ne(ranges[i].api_key, 19);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("broker");
	TCase *tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, api_versions_lists_table, 0, 5);
	tcase_add_test(tc, api_versions_controller_listener);
	tcase_add_test(tc, api_versions_kip511_bytes);
	tcase_add_test(tc, api_versions_v3_invalid_software_name);
	tcase_add_test(tc, requests_that_close);
	tcase_add_loop_test(tc, metadata_all_topics_every_version, 0, 13);
	tcase_add_loop_test(tc, metadata_named_topics_every_version, 0, 13);
	tcase_add_test(tc, metadata_v0_bytes);
	tcase_add_test(tc, api_versions_admin_ranges);
	suite_add_tcase(s, tc);
	return s;
}
