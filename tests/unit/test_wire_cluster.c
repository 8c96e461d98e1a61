/*
 * test_wire_cluster.c: the codecs of the broker-lifecycle RPCs and request forwarding:
 * Envelope (58), BrokerRegistration (62), BrokerHeartbeat (63), UnregisterBroker (64) and
 * ControllerRegistration (70), plus the error codes they answer with.
 *
 * - Round trips of every version of every request and response with a non-default value in
 *   every field, tagged and nullable ones included: after decoding, fields present in the
 *   version hold the value, absent ones their default (expectations written here from Kafka's
 *   JSON schemas, independently of the .def files); re-encoding gives the same bytes.
 * - Byte-exact encodings assembled by hand from the schema layout, at least one per api:
 *   null and non-null compact bytes and strings, uuids, nested arrays of structs, arrays of
 *   uuids, and a tagged array (BrokerHeartbeat v1 OfflineLogDirs).
 * - Every strict prefix of every encoding is SL_EMALFORMED.
 */
#include "check_main.h"
#include "kerr.h"
#include "wire.h"
#include "wire_test_util.h"

#include <stdlib.h>
#include <string.h>

static struct sl_arena arena;
static struct sl_buf buf;

static void setup(void)
{
	sl_arena_init(&arena, 4096, 1u << 20);
	sl_buf_init(&buf, WT_BUF_MAX);
}

static void teardown(void)
{
	sl_arena_free(&arena);
	sl_buf_free(&buf);
}

#define STR WT_STR
#define CK WT_CK

static const uint8_t inner_req[] = {0x00, 0x13, 0x00, 0x07, 0x00, 0x00, 0x00, 0x2a};
static const uint8_t principal[] = {'U', ':', 'a', 'l', 'i', 'c', 'e'};
static const uint8_t addr4[] = {127, 0, 0, 1};
static const uint8_t inner_rsp[] = {0x00, 0x00, 0x00, 0x2a, 0x00, 0x00};

#define BYTES(a) ((struct wire_bytes){(a), (int32_t)sizeof(a)})

static void ck_bytes_eq(struct wire_bytes got, const uint8_t *want, int32_t n)
{
	ck_assert_int_eq(got.len, n);
	if (n > 0)
		ck_assert(memcmp(got.ptr, want, (size_t)n) == 0);
}

/* ---- Envelope (58) ------------------------------------------------------------------------- */

static void env_req_build(void *p)
{
	struct wire_envelope_request *m = p;

	wire_envelope_request_init(m);
	m->request_data = BYTES(inner_req);
	m->request_principal = BYTES(principal);
	m->client_host_address = BYTES(addr4);
}

static void env_req_check(const void *p, int16_t v)
{
	const struct wire_envelope_request *m = p;

	(void)v;
	ck_bytes_eq(m->request_data, inner_req, (int32_t)sizeof(inner_req));
	ck_bytes_eq(m->request_principal, principal, (int32_t)sizeof(principal));
	ck_bytes_eq(m->client_host_address, addr4, (int32_t)sizeof(addr4));
}

static void env_rsp_build(void *p)
{
	struct wire_envelope_response *m = p;

	wire_envelope_response_init(m);
	m->response_data = BYTES(inner_rsp);
	m->error_code = WIRE_ERR_NOT_CONTROLLER;
}

static void env_rsp_check(const void *p, int16_t v)
{
	const struct wire_envelope_response *m = p;

	(void)v;
	ck_bytes_eq(m->response_data, inner_rsp, (int32_t)sizeof(inner_rsp));
	ck_assert_int_eq(m->error_code, 41);
}

/* ---- BrokerRegistration (62) --------------------------------------------------------------- */

static struct wire_broker_registration_request_listener brq_lis[2];
static struct wire_broker_registration_request_feature brq_feat[2];
static struct sl_uuid brq_dirs[2];

static void breg_req_build(void *p)
{
	struct wire_broker_registration_request *m = p;

	wire_broker_registration_request_init(m);
	m->broker_id = 4;
	m->cluster_id = STR("MkU3OEVBNTcwNTJENDM2Qg");
	m->incarnation_id = wt_uuid(1);
	brq_lis[0] = (struct wire_broker_registration_request_listener){STR("PLAINTEXT"), STR("b4"),
	                                                                9092, 0};
	brq_lis[1] =
	        (struct wire_broker_registration_request_listener){STR("SSL"), STR("b4"), 65535, 1};
	m->listeners_count = 2;
	m->listeners = brq_lis;
	brq_feat[0] =
	        (struct wire_broker_registration_request_feature){STR("metadata.version"), 1, 21};
	brq_feat[1] = (struct wire_broker_registration_request_feature){STR("kraft.version"), 0, 1};
	m->features_count = 2;
	m->features = brq_feat;
	m->rack = STR("rack-a");
	m->is_migrating_zk_broker = true;
	brq_dirs[0] = wt_uuid(50);
	brq_dirs[1] = wt_uuid(70);
	m->log_dirs_count = 2;
	m->log_dirs = brq_dirs;
	m->previous_broker_epoch = 123456789012;
}

static void breg_req_check(const void *p, int16_t v)
{
	const struct wire_broker_registration_request *m = p;

	ck_assert_int_eq(m->broker_id, 4);
	wt_ck_str(m->cluster_id, "MkU3OEVBNTcwNTJENDM2Qg");
	wt_ck_uuid(m->incarnation_id, true, 1);
	ck_assert_int_eq(m->listeners_count, 2);
	wt_ck_str(m->listeners[0].name, "PLAINTEXT");
	wt_ck_str(m->listeners[0].host, "b4");
	ck_assert_uint_eq(m->listeners[0].port, 9092);
	ck_assert_int_eq(m->listeners[0].security_protocol, 0);
	wt_ck_str(m->listeners[1].name, "SSL");
	ck_assert_uint_eq(m->listeners[1].port, 65535);
	ck_assert_int_eq(m->listeners[1].security_protocol, 1);
	ck_assert_int_eq(m->features_count, 2);
	wt_ck_str(m->features[0].name, "metadata.version");
	ck_assert_int_eq(m->features[0].min_supported_version, 1);
	ck_assert_int_eq(m->features[0].max_supported_version, 21);
	wt_ck_str(m->features[1].name, "kraft.version");
	ck_assert_int_eq(m->features[1].min_supported_version, 0);
	ck_assert_int_eq(m->features[1].max_supported_version, 1);
	wt_ck_str(m->rack, "rack-a");
	ck_assert(m->is_migrating_zk_broker == (v >= 1));
	CK(m->log_dirs_count, v >= 2, 2, 0);
	if (v >= 2) {
		wt_ck_uuid(m->log_dirs[0], true, 50);
		wt_ck_uuid(m->log_dirs[1], true, 70);
	}
	if (v >= 3)
		ck_assert_int_eq(m->previous_broker_epoch, 123456789012);
	else
		ck_assert_int_eq(m->previous_broker_epoch, -1);
}

static void breg_rsp_build(void *p)
{
	struct wire_broker_registration_response *m = p;

	wire_broker_registration_response_init(m);
	m->throttle_time_ms = 250;
	m->error_code = WIRE_ERR_DUPLICATE_BROKER_REGISTRATION;
	m->broker_epoch = 4242;
}

static void breg_rsp_check(const void *p, int16_t v)
{
	const struct wire_broker_registration_response *m = p;

	(void)v;
	ck_assert_int_eq(m->throttle_time_ms, 250);
	ck_assert_int_eq(m->error_code, 101);
	ck_assert_int_eq(m->broker_epoch, 4242);
}

/* ---- BrokerHeartbeat (63) ------------------------------------------------------------------ */

static struct sl_uuid bhq_dirs[3];

static void bhb_req_build(void *p)
{
	struct wire_broker_heartbeat_request *m = p;

	wire_broker_heartbeat_request_init(m);
	m->broker_id = 2;
	m->broker_epoch = 77;
	m->current_metadata_offset = 1 << 20;
	m->want_fence = true;
	m->want_shut_down = true;
	for (int i = 0; i < 3; i++)
		bhq_dirs[i] = wt_uuid((uint8_t)(10 * (i + 1)));
	m->offline_log_dirs_count = 3;
	m->offline_log_dirs = bhq_dirs;
}

static void bhb_req_check(const void *p, int16_t v)
{
	const struct wire_broker_heartbeat_request *m = p;

	ck_assert_int_eq(m->broker_id, 2);
	ck_assert_int_eq(m->broker_epoch, 77);
	ck_assert_int_eq(m->current_metadata_offset, 1 << 20);
	ck_assert(m->want_fence);
	ck_assert(m->want_shut_down);
	CK(m->offline_log_dirs_count, v >= 1, 3, 0);
	for (int i = 0; v >= 1 && i < 3; i++)
		wt_ck_uuid(m->offline_log_dirs[i], true, (uint8_t)(10 * (i + 1)));
}

static void bhb_rsp_build(void *p)
{
	struct wire_broker_heartbeat_response *m = p;

	wire_broker_heartbeat_response_init(m);
	m->throttle_time_ms = 9;
	m->error_code = WIRE_ERR_STALE_BROKER_EPOCH;
	m->is_caught_up = true;
	m->is_fenced = false; /* default true */
	m->should_shut_down = true;
}

static void bhb_rsp_check(const void *p, int16_t v)
{
	const struct wire_broker_heartbeat_response *m = p;

	(void)v;
	ck_assert_int_eq(m->throttle_time_ms, 9);
	ck_assert_int_eq(m->error_code, 77);
	ck_assert(m->is_caught_up);
	ck_assert(!m->is_fenced);
	ck_assert(m->should_shut_down);
}

/* ---- UnregisterBroker (64) ----------------------------------------------------------------- */

static void unreg_req_build(void *p)
{
	struct wire_unregister_broker_request *m = p;

	wire_unregister_broker_request_init(m);
	m->broker_id = 2147483647;
}

static void unreg_req_check(const void *p, int16_t v)
{
	(void)v;
	ck_assert_int_eq(((const struct wire_unregister_broker_request *)p)->broker_id, 2147483647);
}

static void unreg_rsp_build(void *p)
{
	struct wire_unregister_broker_response *m = p;

	wire_unregister_broker_response_init(m);
	m->throttle_time_ms = 1;
	m->error_code = WIRE_ERR_BROKER_ID_NOT_REGISTERED;
	m->error_message = STR("broker 9 is not registered");
}

static void unreg_rsp_check(const void *p, int16_t v)
{
	const struct wire_unregister_broker_response *m = p;

	(void)v;
	ck_assert_int_eq(m->throttle_time_ms, 1);
	ck_assert_int_eq(m->error_code, 102);
	wt_ck_str(m->error_message, "broker 9 is not registered");
}

/* ---- ControllerRegistration (70) ----------------------------------------------------------- */

static struct wire_controller_registration_request_listener crq_lis[1];
static struct wire_controller_registration_request_feature crq_feat[3];

static void creg_req_build(void *p)
{
	struct wire_controller_registration_request *m = p;

	wire_controller_registration_request_init(m);
	m->controller_id = 3000;
	m->incarnation_id = wt_uuid(200);
	m->zk_migration_ready = true;
	crq_lis[0] = (struct wire_controller_registration_request_listener){
	        STR("CONTROLLER"), STR("ctl.example"), 9093, 3};
	m->listeners_count = 1;
	m->listeners = crq_lis;
	crq_feat[0] = (struct wire_controller_registration_request_feature){STR("metadata.version"),
	                                                                    1, 21};
	crq_feat[1] =
	        (struct wire_controller_registration_request_feature){STR("kraft.version"), 0, 1};
	crq_feat[2] =
	        (struct wire_controller_registration_request_feature){STR("group.version"), 0, -3};
	m->features_count = 3;
	m->features = crq_feat;
}

static void creg_req_check(const void *p, int16_t v)
{
	const struct wire_controller_registration_request *m = p;

	(void)v;
	ck_assert_int_eq(m->controller_id, 3000);
	wt_ck_uuid(m->incarnation_id, true, 200);
	ck_assert(m->zk_migration_ready);
	ck_assert_int_eq(m->listeners_count, 1);
	wt_ck_str(m->listeners[0].name, "CONTROLLER");
	wt_ck_str(m->listeners[0].host, "ctl.example");
	ck_assert_uint_eq(m->listeners[0].port, 9093);
	ck_assert_int_eq(m->listeners[0].security_protocol, 3);
	ck_assert_int_eq(m->features_count, 3);
	wt_ck_str(m->features[0].name, "metadata.version");
	ck_assert_int_eq(m->features[0].max_supported_version, 21);
	wt_ck_str(m->features[1].name, "kraft.version");
	wt_ck_str(m->features[2].name, "group.version");
	ck_assert_int_eq(m->features[2].min_supported_version, 0);
	ck_assert_int_eq(m->features[2].max_supported_version, -3);
}

static void creg_rsp_build(void *p)
{
	struct wire_controller_registration_response *m = p;

	wire_controller_registration_response_init(m);
	m->throttle_time_ms = 3;
	m->error_code = WIRE_ERR_NOT_CONTROLLER;
	m->error_message = STR("not the active controller");
}

static void creg_rsp_check(const void *p, int16_t v)
{
	const struct wire_controller_registration_response *m = p;

	(void)v;
	ck_assert_int_eq(m->throttle_time_ms, 3);
	ck_assert_int_eq(m->error_code, 41);
	wt_ck_str(m->error_message, "not the active controller");
}

/* ---- the table and the generic tests ------------------------------------------------------- */

struct api_case {
	int16_t key, lo, hi, flex_min;
	void (*req_build)(void *);
	void (*req_check)(const void *, int16_t);
	void (*rsp_build)(void *);
	void (*rsp_check)(const void *, int16_t);
};

#define CASE(key, lo, hi, flex, n)                                                            \
	{                                                                                     \
		key, lo, hi, flex, n##_req_build, n##_req_check, n##_rsp_build, n##_rsp_check \
	}
/* Versions and first flexible versions as in Kafka's schemas (all flexible from v0). */
static const struct api_case cases[] = {
        CASE(58, 0, 0, 0, env),   CASE(62, 0, 4, 0, breg), CASE(63, 0, 1, 0, bhb),
        CASE(64, 0, 0, 0, unreg), CASE(70, 0, 0, 0, creg),
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void *build(const struct api_case *c, bool response)
{
	size_t size =
	        response ? wire_response_struct_size(c->key) : wire_request_struct_size(c->key);
	void *in = calloc(1, size);

	ck_assert_uint_gt(size, 0);
	ck_assert_ptr_nonnull(in);
	(response ? c->rsp_build : c->req_build)(in);
	return in;
}

START_TEST(roundtrip_every_version)
{
	const struct api_case *c = &cases[_i];
	const struct wire_api_info *info = wire_api_info(c->key);

	ck_assert_ptr_nonnull(info);
	ck_assert_int_eq(info->min_version, c->lo);
	ck_assert_int_eq(info->max_version, c->hi);
	ck_assert_int_eq(info->flexible_min, c->flex_min);
	for (int16_t v = c->lo; v <= c->hi; v++) {
		for (int resp = 0; resp < 2; resp++) {
			void *in = build(c, resp);
			wt_roundtrip(resp, c->key, v, in, &buf, &arena,
			             resp ? c->rsp_check : c->req_check);
			free(in);
		}
		ck_assert_int_eq(wire_request_header_version(c->key, v), 2);
		ck_assert_int_eq(wire_response_header_version(c->key, v), 1);
	}
	/* One past the top is not ours. */
	struct wire_reader r;
	static const uint8_t z[4] = {0};
	void *out = calloc(1, wire_request_struct_size(c->key));
	wire_reader_init(&r, z, sizeof(z), &arena);
	ck_assert_int_eq(wire_request_decode_any(&r, c->key, (int16_t)(c->hi + 1), out),
	                 SL_EUNSUPPORTED);
	wire_reader_init(&r, z, sizeof(z), &arena);
	ck_assert_int_eq(wire_response_decode_any(&r, c->key, (int16_t)(c->hi + 1), out),
	                 SL_EUNSUPPORTED);
	free(out);
}
END_TEST

START_TEST(truncated_everywhere)
{
	const struct api_case *c = &cases[_i];

	for (int16_t v = c->lo; v <= c->hi; v++) {
		for (int resp = 0; resp < 2; resp++) {
			void *in = build(c, resp);
			sl_buf_reset(&buf);
			wt_encode(resp, c->key, v, in, &buf);
			wt_check_prefixes(resp, c->key, v, &buf, &arena);
			free(in);
		}
	}
}
END_TEST

/* ---- byte-exact encodings ------------------------------------------------------------------ */

/* Encodes in at v, compares with want, checks every prefix, then decodes want exactly into
 * out (its arrays in the arena, its views in want). */
static void golden(bool response, int16_t key, int16_t v, const void *in, const uint8_t *want,
                   size_t n, void *out)
{
	struct wire_reader r;

	sl_buf_reset(&buf);
	wt_encode(response, key, v, in, &buf);
	wt_ck_bytes(&buf, want, n);
	wt_check_prefixes(response, key, v, &buf, &arena);
	/* Last: out's arrays live in the arena, which the prefix checks reset. */
	sl_arena_reset(&arena);
	wire_reader_init(&r, want, n, &arena);
	ck_assert_int_eq(wt_decode(response, key, v, &r, out), SL_OK);
	ck_assert(wire_reader_done(&r));
}

/* Appends the 16 bytes of wt_uuid(seed). */
static size_t put_uuid(uint8_t *p, uint8_t seed)
{
	for (int i = 0; i < 16; i++)
		p[i] = (uint8_t)(seed + i);
	return 16;
}

START_TEST(envelope_v0_bytes)
{
	struct wire_envelope_request req, got;
	struct wire_envelope_response rsp, rgot;
	static const uint8_t data[] = {0xaa, 0xbb};
	/* request_data compact bytes (len+1 = 3), request_principal null (0), client_host_address
	 * 4 bytes (5), empty tagged section. */
	static const uint8_t want[] = {0x03, 0xaa, 0xbb, 0x00, 0x05, 0x7f, 0x00, 0x00, 0x01, 0x00};
	/* response_data null, error_code 41 (NOT_CONTROLLER), empty tagged section. */
	static const uint8_t rwant[] = {0x00, 0x00, 0x29, 0x00};

	wire_envelope_request_init(&req);
	req.request_data = BYTES(data);
	req.request_principal = (struct wire_bytes){NULL, -1};
	req.client_host_address = BYTES(addr4);
	golden(false, 58, 0, &req, want, sizeof(want), &got);
	ck_bytes_eq(got.request_data, data, 2);
	ck_assert_int_eq(got.request_principal.len, -1);
	ck_bytes_eq(got.client_host_address, addr4, 4);

	wire_envelope_response_init(&rsp);
	ck_assert_int_eq(rsp.response_data.len, -1); /* default null */
	rsp.error_code = WIRE_ERR_NOT_CONTROLLER;
	golden(true, 58, 0, &rsp, rwant, sizeof(rwant), &rgot);
	ck_assert_int_eq(rgot.response_data.len, -1);
	ck_assert_int_eq(rgot.error_code, 41);
}
END_TEST

START_TEST(broker_heartbeat_v0_bytes)
{
	struct wire_broker_heartbeat_request req, got;
	struct wire_broker_heartbeat_response rsp, rgot;
	/* broker_id 1, broker_epoch 10, current_metadata_offset 42, want_fence true,
	 * want_shut_down false, empty tagged section. */
	static const uint8_t want[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	                               0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00,
	                               0x00, 0x00, 0x00, 0x2a, 0x01, 0x00, 0x00};
	/* throttle 0, error 0, is_caught_up true, is_fenced false, should_shut_down false, tags. */
	static const uint8_t rwant[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};

	wire_broker_heartbeat_request_init(&req);
	ck_assert_int_eq(req.broker_epoch, -1); /* default */
	req.broker_id = 1;
	req.broker_epoch = 10;
	req.current_metadata_offset = 42;
	req.want_fence = true;
	golden(false, 63, 0, &req, want, sizeof(want), &got);
	ck_assert_int_eq(got.broker_epoch, 10);
	ck_assert(got.want_fence && !got.want_shut_down);
	ck_assert_int_eq(got.offline_log_dirs_count, 0);

	wire_broker_heartbeat_response_init(&rsp);
	ck_assert(rsp.is_fenced && !rsp.is_caught_up); /* defaults */
	rsp.is_caught_up = true;
	rsp.is_fenced = false;
	golden(true, 63, 0, &rsp, rwant, sizeof(rwant), &rgot);
	ck_assert(rgot.is_caught_up && !rgot.is_fenced && !rgot.should_shut_down);
}
END_TEST

START_TEST(broker_heartbeat_v1_tagged_offline_dirs_bytes)
{
	struct wire_broker_heartbeat_request req, got;
	struct sl_uuid dir = wt_uuid(0x40);
	uint8_t want[64];
	size_t n = 0;
	static const uint8_t head[] = {0x00, 0x00, 0x00, 0x03,                         /* id 3 */
	                               0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, /* epoch */
	                               0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -1 */
	                               0x00, 0x01,                                     /* flags */
	                               0x01,       /* one tagged field */
	                               0x00, 0x11, /* tag 0, 17 bytes */
	                               0x02};      /* [1] uuid */

	memcpy(want, head, sizeof(head));
	n = sizeof(head);
	n += put_uuid(want + n, 0x40);
	wire_broker_heartbeat_request_init(&req);
	req.broker_id = 3;
	req.broker_epoch = 256;
	req.current_metadata_offset = -1;
	req.want_shut_down = true;
	req.offline_log_dirs_count = 1;
	req.offline_log_dirs = &dir;
	golden(false, 63, 1, &req, want, n, &got);
	ck_assert_int_eq(got.offline_log_dirs_count, 1);
	wt_ck_uuid(got.offline_log_dirs[0], true, 0x40);
	ck_assert_int_eq(got.current_metadata_offset, -1);

	/* Without offline dirs the tag is not written: v1 equals v0. */
	req.offline_log_dirs_count = 0;
	sl_buf_reset(&buf);
	wt_encode(false, 63, 1, &req, &buf);
	ck_assert_uint_eq(buf.len, 23);
	ck_assert_int_eq(buf.data[22], 0x00);
}
END_TEST

START_TEST(broker_registration_bytes)
{
	struct wire_broker_registration_request req, got;
	struct wire_broker_registration_response rsp, rgot;
	struct wire_broker_registration_request_listener lis = {STR("P"), STR("h"), 9092, 0};
	struct wire_broker_registration_request_feature feat = {STR("m"), 1, 21};
	struct sl_uuid dir = wt_uuid(0x80);
	uint8_t want[128];
	size_t n = 0, n0;
	static const uint8_t id_cluster[] = {0x00, 0x00, 0x00, 0x01, 0x02, 'c'};
	static const uint8_t arrays[] = {
	        0x02,                                     /* [1] listener */
	        0x02, 'P',  0x02, 'h',  0x23, 0x84,       /* name, host, port 9092 */
	        0x00, 0x00, 0x00,                         /* security_protocol 0, tags */
	        0x02,                                     /* [1] feature */
	        0x02, 'm',  0x00, 0x01, 0x00, 0x15, 0x00, /* "m" 1..21, tags */
	        0x00};                                    /* rack null */
	/* v3: is_migrating_zk_broker false, [1] log dir, previous_broker_epoch 7. */
	static const uint8_t v3_tail[] = {0x00, 0x02};
	static const uint8_t v3_epoch[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00};
	/* throttle 0, error 0, broker_epoch 5, tags. */
	static const uint8_t rwant[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	                                0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00};

	memcpy(want, id_cluster, sizeof(id_cluster));
	n = sizeof(id_cluster);
	n += put_uuid(want + n, 1);
	memcpy(want + n, arrays, sizeof(arrays));
	n += sizeof(arrays);
	n0 = n;
	want[n0] = 0x00; /* v0: message tags right after rack */

	wire_broker_registration_request_init(&req);
	ck_assert_int_eq(req.previous_broker_epoch, -1);
	req.broker_id = 1;
	req.cluster_id = STR("c");
	req.incarnation_id = wt_uuid(1);
	req.listeners_count = 1;
	req.listeners = &lis;
	req.features_count = 1;
	req.features = &feat;
	req.rack = (struct wire_str){NULL, -1};
	req.log_dirs_count = 1; /* v2+: not written in v0 */
	req.log_dirs = &dir;
	req.previous_broker_epoch = 7; /* v3+ */
	golden(false, 62, 0, &req, want, n0 + 1, &got);
	wt_ck_str(got.rack, NULL);
	ck_assert_int_eq(got.log_dirs_count, 0);
	ck_assert_int_eq(got.previous_broker_epoch, -1);
	ck_assert_uint_eq(got.listeners[0].port, 9092);

	n = n0;
	memcpy(want + n, v3_tail, sizeof(v3_tail));
	n += sizeof(v3_tail);
	n += put_uuid(want + n, 0x80);
	memcpy(want + n, v3_epoch, sizeof(v3_epoch));
	n += sizeof(v3_epoch);
	for (int16_t v = 3; v <= 4; v++) { /* v4: v3's layout */
		golden(false, 62, v, &req, want, n, &got);
		ck_assert_int_eq(got.previous_broker_epoch, 7);
		wt_ck_uuid(got.log_dirs[0], true, 0x80);
	}

	wire_broker_registration_response_init(&rsp);
	ck_assert_int_eq(rsp.broker_epoch, -1);
	rsp.broker_epoch = 5;
	golden(true, 62, 0, &rsp, rwant, sizeof(rwant), &rgot);
	ck_assert_int_eq(rgot.broker_epoch, 5);
}
END_TEST

START_TEST(controller_registration_v0_bytes)
{
	struct wire_controller_registration_request req, got;
	struct wire_controller_registration_response rsp, rgot;
	struct wire_controller_registration_request_listener lis = {STR("C"), STR("h"), 9093, 0};
	uint8_t want[64];
	size_t n = 0;
	static const uint8_t head[] = {0x00, 0x00, 0x0b, 0xb8}; /* controller_id 3000 */
	static const uint8_t tail[] = {0x01,                    /* zk_migration_ready */
	                               0x02, 0x02, 'C',  0x02, 'h',  0x23,
	                               0x85, 0x00, 0x00, 0x00, 0x01, /* features [] */
	                               0x00};                        /* tags */
	/* throttle 0, error 0, error_message null, tags. */
	static const uint8_t rwant[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

	memcpy(want, head, sizeof(head));
	n = sizeof(head);
	n += put_uuid(want + n, 2);
	memcpy(want + n, tail, sizeof(tail));
	n += sizeof(tail);
	wire_controller_registration_request_init(&req);
	req.controller_id = 3000;
	req.incarnation_id = wt_uuid(2);
	req.zk_migration_ready = true;
	req.listeners_count = 1;
	req.listeners = &lis;
	golden(false, 70, 0, &req, want, n, &got);
	ck_assert_int_eq(got.controller_id, 3000);
	ck_assert_int_eq(got.features_count, 0);
	wt_ck_str(got.listeners[0].name, "C");

	wire_controller_registration_response_init(&rsp);
	rsp.error_message = (struct wire_str){NULL, -1};
	golden(true, 70, 0, &rsp, rwant, sizeof(rwant), &rgot);
	wt_ck_str(rgot.error_message, NULL);
}
END_TEST

START_TEST(unregister_broker_v0_bytes)
{
	struct wire_unregister_broker_request req, got;
	struct wire_unregister_broker_response rsp, rgot;
	static const uint8_t want[] = {0x00, 0x00, 0x00, 0x07, 0x00};
	/* throttle 0, error 102 (BROKER_ID_NOT_REGISTERED), error_message "x", tags. */
	static const uint8_t rwant[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x02, 'x', 0x00};

	wire_unregister_broker_request_init(&req);
	req.broker_id = 7;
	golden(false, 64, 0, &req, want, sizeof(want), &got);
	ck_assert_int_eq(got.broker_id, 7);

	wire_unregister_broker_response_init(&rsp);
	rsp.error_code = WIRE_ERR_BROKER_ID_NOT_REGISTERED;
	rsp.error_message = STR("x");
	golden(true, 64, 0, &rsp, rwant, sizeof(rwant), &rgot);
	ck_assert_int_eq(rgot.error_code, 102);
	wt_ck_str(rgot.error_message, "x");
}
END_TEST

/* A null where the schema does not allow one (Envelope request_data) is malformed. */
START_TEST(envelope_null_request_data_rejected)
{
	static const uint8_t bad[] = {0x00, 0x00, 0x01, 0x00};
	struct wire_envelope_request got;
	struct wire_reader r;

	wire_reader_init(&r, bad, sizeof(bad), &arena);
	ck_assert_int_eq(wire_envelope_request_decode(&r, 0, &got), SL_EMALFORMED);
}
END_TEST

START_TEST(lifecycle_error_codes)
{
	static const struct {
		int16_t code;
		const char *name;
	} want[] = {
	        {77, "STALE_BROKER_EPOCH"},
	        {101, "DUPLICATE_BROKER_REGISTRATION"},
	        {102, "BROKER_ID_NOT_REGISTERED"},
	        {104, "INCONSISTENT_CLUSTER_ID"},
	        {107, "INELIGIBLE_REPLICA"},
	        {108, "NEW_LEADER_ELECTED"},
	        {116, "UNKNOWN_CONTROLLER_ID"},
	        {119, "INVALID_REGISTRATION"},
	        {41, "NOT_CONTROLLER"},
	        {35, "UNSUPPORTED_VERSION"},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_str_eq(wire_err_name(want[i].code), want[i].name);
		ck_assert_str_ne(wire_err_message(want[i].code), "");
	}
	ck_assert_int_eq(WIRE_ERR_STALE_BROKER_EPOCH, 77);
	ck_assert_int_eq(WIRE_ERR_DUPLICATE_BROKER_REGISTRATION, 101);
	ck_assert_int_eq(WIRE_ERR_INELIGIBLE_REPLICA, 107);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("wire_cluster");
	TCase *tc = tcase_create("cluster_apis");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, roundtrip_every_version, 0, (int)NCASES);
	tcase_add_loop_test(tc, truncated_everywhere, 0, (int)NCASES);
	tcase_add_test(tc, envelope_v0_bytes);
	tcase_add_test(tc, broker_heartbeat_v0_bytes);
	tcase_add_test(tc, broker_heartbeat_v1_tagged_offline_dirs_bytes);
	tcase_add_test(tc, broker_registration_bytes);
	tcase_add_test(tc, controller_registration_v0_bytes);
	tcase_add_test(tc, unregister_broker_v0_bytes);
	tcase_add_test(tc, envelope_null_request_data_rejected);
	tcase_add_test(tc, lifecycle_error_codes);
	suite_add_tcase(s, tc);
	return s;
}
