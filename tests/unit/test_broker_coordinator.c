/*
 * test_broker_coordinator.c: FindCoordinator (key 10) through brk_handle(): ApiVersions lists
 * it (0-4, on broker listeners only), every key of type group or transaction is answered
 * COORDINATOR_NOT_AVAILABLE with node -1, host "" and port -1 in v0 (classic), v3 (flexible)
 * and v4 (batched keys, answered in order), an unknown key type gets INVALID_REQUEST, and
 * trailing bytes close the connection.
 */
#include "check_main.h"

#include "broker.h"
#include "wire.h"

#include <string.h>

#define K_FIND_COORDINATOR 10
#define UNAVAILABLE_MSG "consumer groups and transactions are not supported yet"

struct tc {
	struct brk *brk;
	struct sl_arena arena;
	struct sl_buf req;
	struct sl_buf resp;
	char reason[256];
};

static struct tc C;

static void setup(void)
{
	struct brk_opts o = {.node_id = 3, .cluster_id = "MkU3OEVBNTcwNTJENDM2Qk"};
	ck_assert_int_eq(brk_create(&o, &C.brk), SL_OK);
	sl_arena_init(&C.arena, 4096, 1 << 24);
	sl_buf_init(&C.req, 1 << 20);
	sl_buf_init(&C.resp, 1 << 20);
}

static void teardown(void)
{
	brk_destroy(C.brk);
	sl_arena_free(&C.arena);
	sl_buf_free(&C.req);
	sl_buf_free(&C.resp);
}

/* Encodes a FindCoordinator request: key (v0-3) or keys (v4). */
static void fc_request(int16_t v, int8_t key_type, const char *const *keys, int32_t n)
{
	sl_buf_reset(&C.req);
	sl_buf_reset(&C.resp);
	sl_arena_reset(&C.arena);
	C.reason[0] = '\0';
	struct wire_request_header h;
	wire_request_header_init(&h);
	h.api_key = K_FIND_COORDINATOR;
	h.api_version = v;
	h.correlation_id = 500 + v;
	h.client_id = wire_str_c("rdkafka");
	wire_request_header_encode(&C.req, &h);
	struct wire_find_coordinator_request req;
	wire_find_coordinator_request_init(&req);
	struct wire_str ks[8];
	ck_assert_int_le(n, 8);
	for (int32_t i = 0; i < n; i++)
		ks[i] = wire_str_c(keys[i]);
	if (v < 4) {
		ck_assert_int_eq(n, 1);
		req.key = ks[0];
	} else {
		req.coordinator_keys_count = n;
		req.coordinator_keys = ks;
	}
	req.key_type = key_type;
	wire_find_coordinator_request_encode(&C.req, v, &req);
}

static enum brk_outcome fc_handle(void)
{
	ck_assert_int_eq(sl_buf_err(&C.req), SL_OK);
	struct brk_frame f = {.data = C.req.data,
	                      .len = C.req.len,
	                      .arena = &C.arena,
	                      .is_controller_listener = false,
	                      .log_ctx = "test"};
	return brk_handle(C.brk, &f, &C.resp, C.reason, sizeof(C.reason));
}

/* Handles the request and decodes the whole response (header v1 from v3 on). */
static void fc_decode(int16_t v, struct wire_find_coordinator_response *resp)
{
	ck_assert_int_eq(fc_handle(), BRK_RESPOND);
	struct wire_reader r;
	wire_reader_init(&r, C.resp.data, C.resp.len, &C.arena);
	int32_t cid;
	ck_assert_int_eq(wire_response_header_decode(&r, v >= 3 ? 1 : 0, &cid), SL_OK);
	ck_assert_int_eq(cid, 500 + v);
	ck_assert_int_eq(wire_find_coordinator_response_decode(&r, v, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
}

START_TEST(advertised_on_broker_listeners)
{
	struct brk_api_range ranges[64];
	size_t n = brk_api_ranges(false, ranges, 64);
	bool seen = false;
	for (size_t i = 0; i < n && i < 64; i++) {
		if (ranges[i].api_key == K_FIND_COORDINATOR) {
			seen = true;
			ck_assert_int_eq(ranges[i].min_version, 0); /* librdkafka needs 0 (§7.3) */
			ck_assert_int_eq(ranges[i].max_version, 4);
		}
	}
	ck_assert(seen);
	n = brk_api_ranges(true, ranges, 64);
	for (size_t i = 0; i < n && i < 64; i++)
		ck_assert_int_ne(ranges[i].api_key, K_FIND_COORDINATOR);
}
END_TEST

START_TEST(v0_group_key)
{
	const char *keys[] = {"my-group"};
	fc_request(0, 0, keys, 1);
	struct wire_find_coordinator_response resp;
	fc_decode(0, &resp);
	ck_assert_int_eq(resp.error_code, WIRE_ERR_COORDINATOR_NOT_AVAILABLE);
	ck_assert_int_eq(resp.node_id, -1);
	ck_assert_int_eq(resp.host.len, 0);
	ck_assert_int_eq(resp.port, -1);
	/* v0 has neither throttle time nor message: body is error, node, host, port only */
	ck_assert_uint_eq(C.resp.len, 4 + 2 + 4 + 2 + 4); /* header: correlation id */
}
END_TEST

START_TEST(v1_to_v3_every_key_type)
{
	for (int16_t v = 1; v <= 3; v++) {
		for (int8_t kt = 0; kt <= 1; kt++) {
			const char *keys[] = {kt == 0 ? "group-a" : "txn-a"};
			fc_request(v, kt, keys, 1);
			struct wire_find_coordinator_response resp;
			fc_decode(v, &resp);
			ck_assert_int_eq(resp.throttle_time_ms, 0);
			ck_assert_int_eq(resp.error_code, WIRE_ERR_COORDINATOR_NOT_AVAILABLE);
			ck_assert(wire_str_eq(resp.error_message, UNAVAILABLE_MSG));
			ck_assert_int_eq(resp.node_id, -1);
			ck_assert_int_eq(resp.host.len, 0);
			ck_assert_int_eq(resp.port, -1);
		}
	}
}
END_TEST

START_TEST(v3_unknown_key_type)
{
	const char *keys[] = {"share-group"};
	fc_request(3, 2, keys, 1);
	struct wire_find_coordinator_response resp;
	fc_decode(3, &resp);
	ck_assert_int_eq(resp.error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert(wire_str_eq(resp.error_message, "Unknown coordinator key type 2"));
	ck_assert_int_eq(resp.node_id, -1);
	ck_assert_int_eq(resp.port, -1);
}
END_TEST

START_TEST(v4_batched_keys_in_order)
{
	const char *keys[] = {"g1", "g2", "g3"};
	fc_request(4, 0, keys, 3);
	struct wire_find_coordinator_response resp;
	fc_decode(4, &resp);
	ck_assert_int_eq(resp.throttle_time_ms, 0);
	ck_assert_int_eq(resp.coordinators_count, 3);
	for (int32_t i = 0; i < 3; i++) {
		const struct wire_find_coordinator_response_coordinator *c = &resp.coordinators[i];
		ck_assert(wire_str_eq(c->key, keys[i]));
		ck_assert_int_eq(c->error_code, WIRE_ERR_COORDINATOR_NOT_AVAILABLE);
		ck_assert(wire_str_eq(c->error_message, UNAVAILABLE_MSG));
		ck_assert_int_eq(c->node_id, -1);
		ck_assert_int_eq(c->host.len, 0);
		ck_assert_int_eq(c->port, -1);
	}
	/* transactional ids likewise; an unknown type answers every key INVALID_REQUEST */
	const char *txn[] = {"t1"};
	fc_request(4, 1, txn, 1);
	fc_decode(4, &resp);
	ck_assert_int_eq(resp.coordinators_count, 1);
	ck_assert_int_eq(resp.coordinators[0].error_code, WIRE_ERR_COORDINATOR_NOT_AVAILABLE);
	fc_request(4, 7, keys, 2);
	fc_decode(4, &resp);
	ck_assert_int_eq(resp.coordinators_count, 2);
	for (int32_t i = 0; i < 2; i++) {
		ck_assert(wire_str_eq(resp.coordinators[i].key, keys[i]));
		ck_assert_int_eq(resp.coordinators[i].error_code, WIRE_ERR_INVALID_REQUEST);
	}
	/* no keys: an empty answer */
	fc_request(4, 0, keys, 0);
	fc_decode(4, &resp);
	ck_assert_int_eq(resp.coordinators_count, 0);
}
END_TEST

START_TEST(trailing_bytes_close)
{
	const char *keys[] = {"g"};
	fc_request(3, 0, keys, 1);
	sl_buf_put_u8(&C.req, 0x78);
	ck_assert_int_eq(fc_handle(), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(C.reason, "FindCoordinator"));
	/* truncated: the v0 key's length says 8 bytes, 2 follow */
	fc_request(0, 0, keys, 1);
	C.req.len -= 1;
	ck_assert_int_eq(fc_handle(), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(C.reason, "malformed FindCoordinator v0"));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("broker_coordinator");
	TCase *tc = tcase_create("find_coordinator");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, advertised_on_broker_listeners);
	tcase_add_test(tc, v0_group_key);
	tcase_add_test(tc, v1_to_v3_every_key_type);
	tcase_add_test(tc, v3_unknown_key_type);
	tcase_add_test(tc, v4_batched_keys_in_order);
	tcase_add_test(tc, trailing_bytes_close);
	suite_add_tcase(s, tc);
	return s;
}
