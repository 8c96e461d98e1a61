/*
 * test_wire.c: the Kafka codec's well-formed paths: hand-computed byte-exact encodings,
 * request/response headers, tagged fields, and round trips of every version of ApiVersions and
 * Metadata (requests and responses) and of the Raft control records, with non-default values
 * in every field present in the version.
 */
#include "check_main.h"
#include "wire.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MAX (1u << 20)

static struct sl_arena arena;
static struct sl_buf buf;

static void setup(void)
{
	sl_arena_init(&arena, 4096, 1u << 20);
	sl_buf_init(&buf, BUF_MAX);
}

static void teardown(void)
{
	sl_arena_free(&arena);
	sl_buf_free(&buf);
}

static void ck_bytes(const struct sl_buf *b, const uint8_t *want, size_t n)
{
	ck_assert_int_eq(sl_buf_err(b), SL_OK);
	ck_assert_uint_eq(b->len, n);
	for (size_t i = 0; i < n; i++) {
		if (b->data[i] != want[i])
			ck_abort_msg("byte %zu: got 0x%02x want 0x%02x", i, b->data[i], want[i]);
	}
}

static void ck_str(struct wire_str s, const char *want)
{
	if (want == NULL) {
		ck_assert_int_eq(s.len, -1);
		return;
	}
	ck_assert_msg(wire_str_eq(s, want), "string '%.*s' != '%s'", s.len < 0 ? 0 : (int)s.len,
	              s.ptr ? s.ptr : "", want);
}

static struct sl_uuid uuid_of(uint8_t seed)
{
	struct sl_uuid u;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed + i);
	return u;
}

/* Encodes in (key's request or response at v), decodes into out, checks the decode consumed
 * everything and that re-encoding the decoded struct gives the same bytes. */
static void roundtrip(bool response, int16_t key, int16_t v, const void *in, void *out)
{
	struct sl_buf again;
	struct wire_reader r;

	sl_buf_reset(&buf);
	if (response)
		wire_response_encode_any(&buf, key, v, in);
	else
		wire_request_encode_any(&buf, key, v, in);
	ck_assert_int_eq(sl_buf_err(&buf), SL_OK);
	wire_reader_init(&r, buf.data, buf.len, &arena);
	if (response)
		ck_assert_int_eq(wire_response_decode_any(&r, key, v, out), SL_OK);
	else
		ck_assert_int_eq(wire_request_decode_any(&r, key, v, out), SL_OK);
	ck_assert_msg(wire_reader_done(&r), "v%d: %zu trailing bytes", v, wire_reader_left(&r));
	sl_buf_init(&again, BUF_MAX);
	if (response)
		wire_response_encode_any(&again, key, v, out);
	else
		wire_request_encode_any(&again, key, v, out);
	ck_bytes(&again, buf.data, buf.len);
	sl_buf_free(&again);
}

/* ---- byte-exact encodings ------------------------------------------------------------------ */

START_TEST(api_versions_v0_response_bytes)
{
	struct wire_api_versions_response rsp;
	struct wire_api_versions_response_api_version k = {18, 0, 4};
	static const uint8_t want[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	                               0x00, 0x12, 0x00, 0x00, 0x00, 0x04};

	wire_api_versions_response_init(&rsp);
	rsp.api_keys_count = 1;
	rsp.api_keys = &k;
	rsp.throttle_time_ms = 99;        /* absent in v0 */
	rsp.finalized_features_epoch = 7; /* absent in v0 */
	wire_api_versions_response_encode(&buf, 0, &rsp);
	ck_bytes(&buf, want, sizeof(want));
}
END_TEST

START_TEST(api_versions_v3_request_bytes)
{
	struct wire_api_versions_request req, got;
	struct wire_reader r;
	static const uint8_t want[] = {0x05, 'k', 'c', 'a', 't', 0x04, '1', '.', '7', 0x00};

	wire_api_versions_request_init(&req);
	req.client_software_name = wire_str_c("kcat");
	req.client_software_version = wire_str_c("1.7");
	wire_api_versions_request_encode(&buf, 3, &req);
	ck_bytes(&buf, want, sizeof(want));
	wire_reader_init(&r, want, sizeof(want), &arena);
	ck_assert_int_eq(wire_api_versions_request_decode(&r, 3, &got), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_str(got.client_software_name, "kcat");
	ck_str(got.client_software_version, "1.7");
	/* v2 has no body at all. */
	sl_buf_reset(&buf);
	wire_api_versions_request_encode(&buf, 2, &req);
	ck_assert_uint_eq(buf.len, 0);
}
END_TEST

START_TEST(api_versions_v3_response_bytes)
{
	struct wire_api_versions_response rsp;
	struct wire_api_versions_response_api_version k = {3, 0, 12};
	/* error 0, compact array (1+1), one key + its empty tag section, throttle 0, then one
	 * tagged field: count 1, tag 1, size 8, int64 5. */
	static const uint8_t want[] = {0x00, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x0c,
	                               0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x08, 0x00,
	                               0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05};

	wire_api_versions_response_init(&rsp);
	rsp.api_keys_count = 1;
	rsp.api_keys = &k;
	rsp.finalized_features_epoch = 5; /* the only non-default tagged field */
	wire_api_versions_response_encode(&buf, 3, &rsp);
	ck_bytes(&buf, want, sizeof(want));
}
END_TEST

START_TEST(metadata_v0_v1_topics_semantics)
{
	struct wire_metadata_request req, got;
	struct wire_reader r;
	static const uint8_t empty[] = {0x00, 0x00, 0x00, 0x00};
	static const uint8_t null_arr[] = {0xff, 0xff, 0xff, 0xff};

	/* v0: an empty array means all topics; a null array cannot be sent, it encodes as empty. */
	wire_metadata_request_init(&req);
	req.topics_count = 0;
	wire_metadata_request_encode(&buf, 0, &req);
	ck_bytes(&buf, empty, sizeof(empty));
	sl_buf_reset(&buf);
	req.topics_count = -1;
	wire_metadata_request_encode(&buf, 0, &req);
	ck_bytes(&buf, empty, sizeof(empty));
	/* v0 rejects a null array on decode. */
	wire_reader_init(&r, null_arr, sizeof(null_arr), &arena);
	ck_assert_int_eq(wire_metadata_request_decode(&r, 0, &got), SL_EMALFORMED);
	/* v1: null means all topics, distinct from empty. */
	sl_buf_reset(&buf);
	wire_metadata_request_encode(&buf, 1, &req);
	ck_bytes(&buf, null_arr, sizeof(null_arr));
	wire_reader_init(&r, null_arr, sizeof(null_arr), &arena);
	ck_assert_int_eq(wire_metadata_request_decode(&r, 1, &got), SL_OK);
	ck_assert_int_eq(got.topics_count, -1);
	ck_assert(got.allow_auto_topic_creation); /* v4+ field absent: default true */
	wire_reader_init(&r, empty, sizeof(empty), &arena);
	ck_assert_int_eq(wire_metadata_request_decode(&r, 1, &got), SL_OK);
	ck_assert_int_eq(got.topics_count, 0);
}
END_TEST

START_TEST(metadata_v0_request_one_topic_bytes)
{
	struct wire_metadata_request req;
	struct wire_metadata_request_topic t;
	static const uint8_t want[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 'f', 'o', 'o'};
	static const uint8_t want9[] = {0x02, 0x04, 'f', 'o', 'o', 0x00, 0x01, 0x00, 0x00, 0x00};

	wire_metadata_request_init(&req);
	wire_metadata_request_topic_init(&t);
	t.name = wire_str_c("foo");
	req.topics_count = 1;
	req.topics = &t;
	wire_metadata_request_encode(&buf, 0, &req);
	ck_bytes(&buf, want, sizeof(want));
	/* v9: compact array, compact string, topic tags, allow_auto=1, cluster ops, topic ops,
	 * tags. */
	sl_buf_reset(&buf);
	wire_metadata_request_encode(&buf, 9, &req);
	ck_bytes(&buf, want9, sizeof(want9));
}
END_TEST

/* ---- headers --------------------------------------------------------------------------------- */

START_TEST(header_versions)
{
	ck_assert_int_eq(wire_request_header_version(18, 0), 1);
	ck_assert_int_eq(wire_request_header_version(18, 3), 2);
	ck_assert_int_eq(wire_request_header_version(18, 4), 2);
	ck_assert_int_eq(wire_request_header_version(18, 9), 2);  /* unknown version, flexible */
	ck_assert_int_eq(wire_response_header_version(18, 3), 0); /* KIP-511 */
	ck_assert_int_eq(wire_request_header_version(3, 8), 1);
	ck_assert_int_eq(wire_request_header_version(3, 9), 2);
	ck_assert_int_eq(wire_response_header_version(3, 8), 0);
	ck_assert_int_eq(wire_response_header_version(3, 12), 1);
	/* Keys without definitions use apis.def. */
	ck_assert_int_eq(wire_request_header_version(0, 8), 1); /* Produce flexible 9+ */
	ck_assert_int_eq(wire_request_header_version(0, 9), 2);
	ck_assert_int_eq(wire_response_header_version(1, 12), 1); /* Fetch 12+ */
	ck_assert_int_eq(wire_request_header_version(17, 1), 1);  /* SaslHandshake never */
	ck_assert_int_eq(wire_request_header_version(7, 0), 0);   /* ControlledShutdown v0 */
	ck_assert_int_eq(wire_request_header_version(7, 3), 2);
	ck_assert_int_eq(wire_request_header_version(999, 5), 1); /* unknown key */
	ck_assert_int_eq(wire_response_header_version(-1, 5), 0);
	ck_assert_ptr_nonnull(wire_api_info(18));
	ck_assert_ptr_nonnull(wire_api_info(3));
	ck_assert_ptr_nonnull(wire_api_info(0)); /* Produce (issue 4) */
	ck_assert_ptr_null(wire_api_info(4));
	ck_assert_int_eq(wire_api_info(3)->max_version, 12);
	ck_assert_int_eq(wire_api_info(3)->flexible_min, 9);
	ck_assert_str_eq(wire_api_info(18)->name, "ApiVersions");
}
END_TEST

START_TEST(request_header_v1_v2_v0)
{
	struct wire_request_header h, got;
	struct wire_reader r;
	static const uint8_t v1[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00,
	                             0x00, 0x07, 0x00, 0x01, 'c',  0xaa};
	static const uint8_t v2[] = {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00,
	                             0x07, 0x00, 0x01, 'c',  0x00, 0xaa};
	static const uint8_t v0[] = {0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0xaa};

	wire_request_header_init(&h);
	h.api_key = 3;
	h.api_version = 1;
	h.correlation_id = 7;
	h.client_id = wire_str_c("c");
	wire_request_header_encode(&buf, &h);
	ck_bytes(&buf, v1, sizeof(v1) - 1);
	wire_reader_init(&r, v1, sizeof(v1), &arena);
	ck_assert_int_eq(wire_request_header_decode(&r, &got), SL_OK);
	ck_assert_int_eq(wire_reader_left(&r), 1); /* the body byte is left for the caller */
	ck_assert_int_eq(got.api_key, 3);
	ck_assert_int_eq(got.api_version, 1);
	ck_assert_int_eq(got.correlation_id, 7);
	ck_str(got.client_id, "c");

	h.api_key = 18;
	h.api_version = 3;
	sl_buf_reset(&buf);
	wire_request_header_encode(&buf, &h);
	ck_bytes(&buf, v2, sizeof(v2) - 1);
	wire_reader_init(&r, v2, sizeof(v2), &arena);
	ck_assert_int_eq(wire_request_header_decode(&r, &got), SL_OK);
	ck_assert_int_eq(wire_reader_left(&r), 1);
	ck_str(got.client_id, "c");

	h.api_key = 7;
	h.api_version = 0;
	sl_buf_reset(&buf);
	wire_request_header_encode(&buf, &h);
	ck_bytes(&buf, v0, sizeof(v0) - 1);
	wire_reader_init(&r, v0, sizeof(v0), &arena);
	ck_assert_int_eq(wire_request_header_decode(&r, &got), SL_OK);
	ck_assert_int_eq(wire_reader_left(&r), 1);
	ck_assert_int_eq(got.correlation_id, 7);
	ck_assert_int_eq(got.client_id.len, 0); /* absent in v0: default "" */
}
END_TEST

START_TEST(request_header_null_client_id_and_tags)
{
	/* v2 header with a null client id and an unknown tagged field (tag 5, 2 bytes). */
	static const uint8_t in[] = {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x01, 0x00,
	                             0xff, 0xff, 0x01, 0x05, 0x02, 0xde, 0xad};
	struct wire_request_header got;
	struct wire_reader r;

	wire_reader_init(&r, in, sizeof(in), &arena);
	ck_assert_int_eq(wire_request_header_decode(&r, &got), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(got.correlation_id, 256);
	ck_assert_int_eq(got.client_id.len, -1);
	ck_assert_ptr_null(got.client_id.ptr);
}
END_TEST

START_TEST(response_headers)
{
	struct wire_reader r;
	int32_t corr = 0;
	static const uint8_t v0[] = {0x01, 0x02, 0x03, 0x04};
	static const uint8_t v1[] = {0x01, 0x02, 0x03, 0x04, 0x00};

	wire_response_header_encode(&buf, 0, 0x01020304);
	ck_bytes(&buf, v0, sizeof(v0));
	sl_buf_reset(&buf);
	wire_response_header_encode(&buf, 1, 0x01020304);
	ck_bytes(&buf, v1, sizeof(v1));
	wire_reader_init(&r, v1, sizeof(v1), NULL);
	ck_assert_int_eq(wire_response_header_decode(&r, 1, &corr), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(corr, 0x01020304);
	wire_reader_init(&r, v0, sizeof(v0), NULL);
	ck_assert_int_eq(wire_response_header_decode(&r, 0, &corr), SL_OK);
	ck_assert(wire_reader_done(&r));
	wire_reader_init(&r, v0, sizeof(v0), NULL);
	ck_assert_int_eq(wire_response_header_decode(&r, 1, &corr), SL_EMALFORMED);
}
END_TEST

/* ---- tagged fields --------------------------------------------------------------------------- */

START_TEST(tagged_unknown_skipped_known_read)
{
	/* ApiVersions v3 response: error 0, no keys, throttle 0, tags: 7 (unknown, 3 bytes), 1
	 * (epoch 0x0102), 3 (zk_migration_ready). */
	static const uint8_t in[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0x07,
	                             0x03, 0xaa, 0xbb, 0xcc, 0x01, 0x08, 0x00, 0x00, 0x00,
	                             0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x01, 0x01};
	struct wire_api_versions_response got;
	struct wire_reader r;

	wire_reader_init(&r, in, sizeof(in), &arena);
	ck_assert_int_eq(wire_api_versions_response_decode(&r, 3, &got), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(got.api_keys_count, 0);
	ck_assert_int_eq(got.finalized_features_epoch, 0x0102);
	ck_assert(got.zk_migration_ready);
	ck_assert_int_eq(got.supported_features_count, 0);
	/* Re-encoding drops the unknown tag and orders known ones. */
	wire_api_versions_response_encode(&buf, 3, &got);
	ck_assert_uint_eq(buf.len, sizeof(in) - 5);
	/* Without the tags, the defaults come back. */
	static const uint8_t bare[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00};
	wire_reader_init(&r, bare, sizeof(bare), &arena);
	ck_assert_int_eq(wire_api_versions_response_decode(&r, 3, &got), SL_OK);
	ck_assert_int_eq(got.finalized_features_epoch, -1);
	ck_assert(!got.zk_migration_ready);
	/* A known tag whose payload is shorter than its field is malformed. */
	static const uint8_t short_tag[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	                                    0x00, 0x01, 0x01, 0x02, 0x00, 0x01};
	wire_reader_init(&r, short_tag, sizeof(short_tag), &arena);
	ck_assert_int_eq(wire_api_versions_response_decode(&r, 3, &got), SL_EMALFORMED);
}
END_TEST

/* ---- round trips of every version ------------------------------------------------------------ */

START_TEST(api_versions_request_all_versions)
{
	for (int16_t v = 0; v <= 4; v++) {
		struct wire_api_versions_request in, out;
		wire_api_versions_request_init(&in);
		in.client_software_name = wire_str_c("sluice-test");
		in.client_software_version = wire_str_c("0.1.0");
		roundtrip(false, 18, v, &in, &out);
		ck_str(out.client_software_name, v >= 3 ? "sluice-test" : "");
		ck_str(out.client_software_version, v >= 3 ? "0.1.0" : "");
	}
}
END_TEST

START_TEST(api_versions_response_all_versions)
{
	struct wire_api_versions_response_api_version keys[2] = {{18, 0, 4}, {3, 1, 12}};
	struct wire_api_versions_response_supported_feature_key sf = {
	        {"metadata.version", 16}, 1, 21};
	struct wire_api_versions_response_finalized_feature_key ff = {{"kraft.version", 13}, 1, 0};

	for (int16_t v = 0; v <= 4; v++) {
		struct wire_api_versions_response in, out;
		wire_api_versions_response_init(&in);
		in.error_code = 35;
		in.api_keys_count = 2;
		in.api_keys = keys;
		in.throttle_time_ms = 1234;
		in.supported_features_count = 1;
		in.supported_features = &sf;
		in.finalized_features_epoch = 77;
		in.finalized_features_count = 1;
		in.finalized_features = &ff;
		in.zk_migration_ready = true;
		roundtrip(true, 18, v, &in, &out);
		ck_assert_int_eq(out.error_code, 35);
		ck_assert_int_eq(out.api_keys_count, 2);
		ck_assert_int_eq(out.api_keys[1].api_key, 3);
		ck_assert_int_eq(out.api_keys[1].min_version, 1);
		ck_assert_int_eq(out.api_keys[1].max_version, 12);
		ck_assert_int_eq(out.throttle_time_ms, v >= 1 ? 1234 : 0);
		ck_assert_int_eq(out.supported_features_count, v >= 3 ? 1 : 0);
		ck_assert_int_eq(out.finalized_features_epoch, v >= 3 ? 77 : -1);
		ck_assert_int_eq(out.finalized_features_count, v >= 3 ? 1 : 0);
		ck_assert(out.zk_migration_ready == (v >= 3));
		if (v >= 3) {
			ck_str(out.supported_features[0].name, "metadata.version");
			ck_assert_int_eq(out.supported_features[0].min_version, 1);
			ck_assert_int_eq(out.supported_features[0].max_version, 21);
			ck_str(out.finalized_features[0].name, "kraft.version");
			ck_assert_int_eq(out.finalized_features[0].max_version_level, 1);
			ck_assert_int_eq(out.finalized_features[0].min_version_level, 0);
		}
	}
}
END_TEST

START_TEST(metadata_request_all_versions)
{
	struct wire_metadata_request_topic topics[2];

	wire_metadata_request_topic_init(&topics[0]);
	wire_metadata_request_topic_init(&topics[1]);
	topics[0].topic_id = uuid_of(1);
	topics[0].name = wire_str_c("orders");
	topics[1].topic_id = uuid_of(40);
	topics[1].name = wire_str_c(NULL); /* null name (by id) from v10 */
	for (int16_t v = 0; v <= 12; v++) {
		struct wire_metadata_request in, out;
		struct sl_uuid id1 = uuid_of(40);
		wire_metadata_request_init(&in);
		in.topics_count = 2;
		in.topics = topics;
		in.allow_auto_topic_creation = false;
		in.include_cluster_authorized_operations = true;
		in.include_topic_authorized_operations = true;
		roundtrip(false, 3, v, &in, &out);
		ck_assert_int_eq(out.topics_count, 2);
		ck_str(out.topics[0].name, "orders");
		ck_str(out.topics[1].name, v >= 10 ? NULL : "");
		ck_assert(sl_uuid_is_zero(&out.topics[0].topic_id) == (v < 10));
		ck_assert(sl_uuid_eq(&out.topics[1].topic_id, &id1) == (v >= 10));
		ck_assert(out.allow_auto_topic_creation == (v < 4));
		ck_assert(out.include_cluster_authorized_operations == (v >= 8 && v <= 10));
		ck_assert(out.include_topic_authorized_operations == (v >= 8));
	}
}
END_TEST

static void check_metadata_response(const struct wire_metadata_response *out, int16_t v)
{
	struct sl_uuid id = uuid_of(9);

	ck_assert_int_eq(out->throttle_time_ms, v >= 3 ? 250 : 0);
	ck_assert_int_eq(out->brokers_count, 2);
	ck_assert_int_eq(out->brokers[1].node_id, 2);
	ck_str(out->brokers[1].host, "b2.example");
	ck_assert_int_eq(out->brokers[1].port, 9093);
	ck_str(out->brokers[0].rack, v >= 1 ? "rack-a" : NULL);
	ck_str(out->brokers[1].rack, NULL);
	ck_str(out->cluster_id, v >= 2 ? "MkU3OEVBNTcwNTJENDM2Qg" : NULL);
	ck_assert_int_eq(out->controller_id, v >= 1 ? 2 : -1);
	ck_assert_int_eq(out->topics_count, 2);
	ck_assert_int_eq(out->topics[0].error_code, 3);
	ck_str(out->topics[0].name, "orders");
	ck_str(out->topics[1].name, v >= 12 ? NULL : "");
	ck_assert(sl_uuid_eq(&out->topics[0].topic_id, &id) == (v >= 10));
	ck_assert(out->topics[0].is_internal == (v >= 1));
	ck_assert_int_eq(out->topics[0].topic_authorized_operations, v >= 8 ? 0x0ff8 : INT32_MIN);
	ck_assert_int_eq(out->cluster_authorized_operations,
	                 v >= 8 && v <= 10 ? 0x1ff0 : INT32_MIN);
	ck_assert_int_eq(out->topics[0].partitions_count, 1);
	ck_assert_int_eq(out->topics[1].partitions_count, 0);
	const struct wire_metadata_response_partition *p = &out->topics[0].partitions[0];
	ck_assert_int_eq(p->error_code, 9);
	ck_assert_int_eq(p->partition_index, 4);
	ck_assert_int_eq(p->leader_id, 1);
	ck_assert_int_eq(p->leader_epoch, v >= 7 ? 17 : -1);
	ck_assert_int_eq(p->replica_nodes_count, 3);
	ck_assert_int_eq(p->replica_nodes[2], 3);
	ck_assert_int_eq(p->isr_nodes_count, 2);
	ck_assert_int_eq(p->isr_nodes[1], 2);
	ck_assert_int_eq(p->offline_replicas_count, v >= 5 ? 1 : 0);
	if (v >= 5)
		ck_assert_int_eq(p->offline_replicas[0], 3);
}

START_TEST(metadata_response_all_versions)
{
	int32_t replicas[] = {1, 2, 3}, isr[] = {1, 2}, offline[] = {3};
	struct wire_metadata_response_broker brokers[2];
	struct wire_metadata_response_partition part;
	struct wire_metadata_response_topic topics[2];

	wire_metadata_response_broker_init(&brokers[0]);
	wire_metadata_response_broker_init(&brokers[1]);
	brokers[0] = (struct wire_metadata_response_broker){1, wire_str_c("b1.example"), 9092,
	                                                    wire_str_c("rack-a")};
	brokers[1] = (struct wire_metadata_response_broker){2, wire_str_c("b2.example"), 9093,
	                                                    wire_str_c(NULL)};
	wire_metadata_response_partition_init(&part);
	part.error_code = 9;
	part.partition_index = 4;
	part.leader_id = 1;
	part.leader_epoch = 17;
	part.replica_nodes_count = 3;
	part.replica_nodes = replicas;
	part.isr_nodes_count = 2;
	part.isr_nodes = isr;
	part.offline_replicas_count = 1;
	part.offline_replicas = offline;
	for (int i = 0; i < 2; i++)
		wire_metadata_response_topic_init(&topics[i]);
	topics[0].error_code = 3;
	topics[0].name = wire_str_c("orders");
	topics[0].topic_id = uuid_of(9);
	topics[0].is_internal = true;
	topics[0].partitions_count = 1;
	topics[0].partitions = &part;
	topics[0].topic_authorized_operations = 0x0ff8;
	topics[1].error_code = 100;
	topics[1].name = wire_str_c(NULL);
	for (int16_t v = 0; v <= 12; v++) {
		struct wire_metadata_response in, out;
		wire_metadata_response_init(&in);
		in.throttle_time_ms = 250;
		in.brokers_count = 2;
		in.brokers = brokers;
		in.cluster_id = wire_str_c("MkU3OEVBNTcwNTJENDM2Qg");
		in.controller_id = 2;
		in.topics_count = 2;
		in.topics = topics;
		in.cluster_authorized_operations = 0x1ff0;
		roundtrip(true, 3, v, &in, &out);
		check_metadata_response(&out, v);
	}
}
END_TEST

START_TEST(control_records_roundtrip)
{
	struct wire_voters_record_endpoint eps[2] = {
	        {wire_str_c("CONTROLLER"), wire_str_c("h1"), 9093},
	        {wire_str_c("SSL"), wire_str_c("h1"), 65535}};
	struct wire_voters_record_voter voter;
	struct wire_voters_record vr, vr2;
	struct wire_reader r;

	wire_voters_record_voter_init(&voter);
	voter.voter_id = 3;
	voter.voter_directory_id = uuid_of(100);
	voter.endpoints_count = 2;
	voter.endpoints = eps;
	voter.kraft_version_feature.min_supported_version = 0;
	voter.kraft_version_feature.max_supported_version = 1;
	wire_voters_record_init(&vr);
	vr.voters_count = 1;
	vr.voters = &voter;
	wire_voters_record_encode(&buf, 0, &vr);
	wire_reader_init(&r, buf.data, buf.len, &arena);
	ck_assert_int_eq(wire_voters_record_decode(&r, 0, &vr2), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(vr2.voters_count, 1);
	ck_assert_int_eq(vr2.voters[0].endpoints_count, 2);
	ck_assert_uint_eq(vr2.voters[0].endpoints[1].port, 65535);
	ck_str(vr2.voters[0].endpoints[0].name, "CONTROLLER");
	ck_assert_int_eq(vr2.voters[0].kraft_version_feature.max_supported_version, 1);
	ck_assert_int_eq(wire_voters_record_decode(&r, 1, &vr2), SL_EUNSUPPORTED);

	/* LeaderChangeMessage: the voter's directory id exists only from v1. */
	struct wire_leader_change_message_voter voters[2] = {{1, uuid_of(1)}, {2, uuid_of(2)}};
	for (int16_t v = 0; v <= 1; v++) {
		struct wire_leader_change_message lc, lc2;
		wire_leader_change_message_init(&lc);
		lc.version = 0;
		lc.leader_id = 2;
		lc.voters_count = 2;
		lc.voters = voters;
		lc.granting_voters_count = 1;
		lc.granting_voters = &voters[1];
		sl_buf_reset(&buf);
		wire_leader_change_message_encode(&buf, v, &lc);
		/* v0: 2 + 4 + (1 + 2*(4+1)) + (1 + 5) + 1 */
		ck_assert_uint_eq(buf.len, v == 0 ? 24 : 24 + 3 * 16);
		wire_reader_init(&r, buf.data, buf.len, &arena);
		ck_assert_int_eq(wire_leader_change_message_decode(&r, v, &lc2), SL_OK);
		ck_assert(wire_reader_done(&r));
		ck_assert_int_eq(lc2.granting_voters[0].voter_id, 2);
		ck_assert(sl_uuid_is_zero(&lc2.granting_voters[0].voter_directory_id) == (v == 0));
	}

	struct wire_snapshot_header_record sh = {0, 1700000000000}, sh2;
	static const uint8_t sh_bytes[] = {0x00, 0x00, 0x00, 0x00, 0x01, 0x8b,
	                                   0xcf, 0xe5, 0x68, 0x00, 0x00};
	sl_buf_reset(&buf);
	wire_snapshot_header_record_encode(&buf, 0, &sh);
	ck_bytes(&buf, sh_bytes, sizeof(sh_bytes));
	wire_reader_init(&r, sh_bytes, sizeof(sh_bytes), &arena);
	ck_assert_int_eq(wire_snapshot_header_record_decode(&r, 0, &sh2), SL_OK);
	ck_assert_int_eq(sh2.last_contained_log_timestamp, 1700000000000);

	struct wire_snapshot_footer_record sf = {0};
	static const uint8_t sf_bytes[] = {0x00, 0x00, 0x00};
	sl_buf_reset(&buf);
	wire_snapshot_footer_record_encode(&buf, 0, &sf);
	ck_bytes(&buf, sf_bytes, sizeof(sf_bytes));

	struct wire_kraft_version_record kv = {0, 1}, kv2;
	static const uint8_t kv_bytes[] = {0x00, 0x00, 0x00, 0x01, 0x00};
	sl_buf_reset(&buf);
	wire_kraft_version_record_encode(&buf, 0, &kv);
	ck_bytes(&buf, kv_bytes, sizeof(kv_bytes));
	wire_reader_init(&r, kv_bytes, sizeof(kv_bytes), &arena);
	ck_assert_int_eq(wire_kraft_version_record_decode(&r, 0, &kv2), SL_OK);
	ck_assert_int_eq(kv2.kraft_version, 1);
}
END_TEST

START_TEST(unsupported_versions_and_keys)
{
	struct wire_reader r;
	struct wire_metadata_request req;
	static const uint8_t z[8] = {0};

	wire_reader_init(&r, z, sizeof(z), &arena);
	ck_assert_int_eq(wire_metadata_request_decode(&r, 13, &req), SL_EUNSUPPORTED);
	ck_assert_int_eq(wire_metadata_request_decode(&r, -1, &req), SL_EUNSUPPORTED);
	ck_assert_int_eq(wire_request_decode_any(&r, 4, 3, &req), SL_EUNSUPPORTED);
	ck_assert_uint_eq(wire_request_struct_size(4), 0);
	ck_assert_uint_eq(wire_request_struct_size(3), sizeof(struct wire_metadata_request));
	ck_assert_uint_eq(wire_response_struct_size(18), sizeof(struct wire_api_versions_response));
}
END_TEST

/* libFuzzer names the inputs it adds to a corpus directory by their SHA-1 (40 hex digits);
 * only the hand-made seeds are checked. */
static bool is_fuzzer_output(const char *name)
{
	size_t n = strlen(name);

	return n == 40 && strspn(name, "0123456789abcdef") == 40;
}

/* The fuzz seeds (tests/fuzz/gen_seeds.py) are hand-assembled independently of the generator:
 * each must decode exactly with the version in its header. */
START_TEST(fuzz_seeds_decode_exactly)
{
	const char *src = getenv("SLUICE_SOURCE_DIR");
	char path[2048];
	DIR *dir;
	struct dirent *de;
	int count = 0;

	ck_assert_ptr_nonnull(src);
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/request", src);
	dir = opendir(path);
	ck_assert_msg(dir != NULL, "cannot open %s", path);
	while ((de = readdir(dir)) != NULL) {
		_Alignas(16) static uint8_t body[4096], data[4096];
		struct wire_request_header h;
		struct wire_reader r;
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
		ck_assert_int_eq(wire_request_header_decode(&r, &h), SL_OK);
		ck_assert_msg(wire_request_decode_any(&r, h.api_key, h.api_version, body) == SL_OK,
		              "%s", de->d_name);
		ck_assert_msg(wire_reader_done(&r), "%s: trailing bytes", de->d_name);
		count++;
	}
	closedir(dir);
	ck_assert_int_ge(count, 5);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("codec");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, api_versions_v0_response_bytes);
	tcase_add_test(tc, api_versions_v3_request_bytes);
	tcase_add_test(tc, api_versions_v3_response_bytes);
	tcase_add_test(tc, metadata_v0_v1_topics_semantics);
	tcase_add_test(tc, metadata_v0_request_one_topic_bytes);
	tcase_add_test(tc, header_versions);
	tcase_add_test(tc, request_header_v1_v2_v0);
	tcase_add_test(tc, request_header_null_client_id_and_tags);
	tcase_add_test(tc, response_headers);
	tcase_add_test(tc, tagged_unknown_skipped_known_read);
	tcase_add_test(tc, api_versions_request_all_versions);
	tcase_add_test(tc, api_versions_response_all_versions);
	tcase_add_test(tc, metadata_request_all_versions);
	tcase_add_test(tc, metadata_response_all_versions);
	tcase_add_test(tc, control_records_roundtrip);
	tcase_add_test(tc, unsupported_versions_and_keys);
	tcase_add_test(tc, fuzz_seeds_decode_exactly);
	suite_add_tcase(s, tc);
	return s;
}
