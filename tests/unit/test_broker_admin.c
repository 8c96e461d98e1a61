/*
 * test_broker_admin.c: CreateTopics, DeleteTopics, CreatePartitions, DescribeCluster and
 * Metadata (topics from the image, auto-creation) through brk_handle() with a real metadata
 * log, controller and image (admin_test_util.h): every version, every error path, and that a
 * reply comes only after the change is in the broker's image.
 */
#include "admin_test_util.h"

/* ---- CreateTopics --------------------------------------------------------------------------- */

START_TEST(create_topics_every_version)
{
	int16_t v = (int16_t)_i;
	char name[32];
	snprintf(name, sizeof(name), "orders-v%d", v);
	struct at_topic_in in = {name, 3, 1, "cleanup.policy", "compact"};
	at_create_topics_request(v, &in, 1, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_create_topics_response resp;
	at_create_topics_decode(&resp);
	ck_assert_int_eq(resp.topics_count, 1);
	const struct wire_create_topics_response_creatable_topic_result *t = &resp.topics[0];
	ck_assert(wire_str_eq(t->name, name));
	ck_assert_int_eq(t->error_code, 0);
	if (v >= 1)
		ck_assert_int_eq(t->error_message.len, -1);
	/* The reply came after the commit: the broker's image has the topic. */
	const struct meta_topic *mt = at_topic(name);
	ck_assert_ptr_nonnull(mt);
	ck_assert_int_eq(mt->partition_count, 3);
	ck_assert_str_eq(meta_topic_config(mt, "cleanup.policy"), "compact");
	for (int p = 0; p < 3; p++) {
		ck_assert_int_eq(mt->partitions[p].leader, AT_NODE_ID);
		ck_assert_int_eq(mt->partitions[p].replica_count, 1);
	}
	if (v >= 7)
		ck_assert(sl_uuid_eq(&t->topic_id, &mt->id));
	if (v < 5)
		return;
	ck_assert_int_eq(t->num_partitions, 3);
	ck_assert_int_eq(t->replication_factor, 1);
	ck_assert_int_eq(t->configs_count, (int32_t)meta_topic_config_def_count());
	bool saw_policy = false, saw_retention = false, saw_segment = false;
	for (int32_t i = 0; i < t->configs_count; i++) {
		const struct wire_create_topics_response_creatable_topic_configs *c =
		        &t->configs[i];
		ck_assert(!c->read_only);
		ck_assert(!c->is_sensitive);
		if (wire_str_eq(c->name, "cleanup.policy")) {
			saw_policy = true;
			ck_assert(wire_str_eq(c->value, "compact"));
			ck_assert_int_eq(c->config_source, 1); /* DYNAMIC_TOPIC_CONFIG */
		} else if (wire_str_eq(c->name, "retention.ms")) {
			saw_retention = true;
			ck_assert(wire_str_eq(c->value, "3600000"));
			ck_assert_int_eq(c->config_source, 4); /* STATIC_BROKER_CONFIG */
		} else if (wire_str_eq(c->name, "segment.ms")) {
			saw_segment = true;
			ck_assert(wire_str_eq(c->value, "604800000"));
			ck_assert_int_eq(c->config_source, 5); /* DEFAULT_CONFIG */
		}
	}
	ck_assert(saw_policy && saw_retention && saw_segment);
}
END_TEST

static int16_t create_one_error(int16_t v, const struct at_topic_in *in)
{
	at_create_topics_request(v, in, 1, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_create_topics_response resp;
	at_create_topics_decode(&resp);
	ck_assert_int_eq(resp.topics_count, 1);
	ck_assert(wire_str_eq(resp.topics[0].name, in->name));
	if (resp.topics[0].error_code != 0 && v >= 1)
		ck_assert_int_gt(resp.topics[0].error_message.len, 0);
	if (resp.topics[0].error_code != 0 && v >= 5) {
		ck_assert_int_eq(resp.topics[0].num_partitions, -1);
		ck_assert_int_eq(resp.topics[0].replication_factor, -1);
	}
	return resp.topics[0].error_code;
}

START_TEST(create_topics_errors)
{
	at_create_topic("exists", 1);
	for (int16_t v = 0; v <= 7; v++) {
		struct at_topic_in dup = {"exists", 1, 1, NULL, NULL};
		ck_assert_int_eq(create_one_error(v, &dup), WIRE_ERR_TOPIC_ALREADY_EXISTS);
		struct at_topic_in bad_name = {"bad name!", 1, 1, NULL, NULL};
		ck_assert_int_eq(create_one_error(v, &bad_name), WIRE_ERR_INVALID_TOPIC_EXCEPTION);
		struct at_topic_in dot = {"..", 1, 1, NULL, NULL};
		ck_assert_int_eq(create_one_error(v, &dot), WIRE_ERR_INVALID_TOPIC_EXCEPTION);
		struct at_topic_in zero = {"zero-parts", 0, 1, NULL, NULL};
		ck_assert_int_eq(create_one_error(v, &zero), WIRE_ERR_INVALID_PARTITIONS);
		struct at_topic_in rf = {"rf-three", 1, 3, NULL, NULL};
		ck_assert_int_eq(create_one_error(v, &rf), WIRE_ERR_INVALID_REPLICATION_FACTOR);
		struct at_topic_in cfg = {"bad-config", 1, 1, "retention.ms", "soon"};
		ck_assert_int_eq(create_one_error(v, &cfg), WIRE_ERR_INVALID_CONFIG);
		struct at_topic_in key = {"bad-key", 1, 1, "no.such.key", "1"};
		ck_assert_int_eq(create_one_error(v, &key), WIRE_ERR_INVALID_CONFIG);
		struct at_topic_in pol = {"bad-policy", 1, 1, "cleanup.policy", "shred"};
		ck_assert_int_eq(create_one_error(v, &pol), WIRE_ERR_INVALID_CONFIG);
	}
	/* None of the failed topics was created. */
	ck_assert_ptr_null(at_topic("zero-parts"));
	ck_assert_ptr_null(at_topic("rf-three"));
	ck_assert_ptr_null(at_topic("bad-config"));
	ck_assert_int_eq(meta_image_topic_count(brk_image(A.brk)), 1);
}
END_TEST

START_TEST(create_topics_collision)
{
	/* Kafka: "a.b" and "a_b" collide in metric names. */
	at_create_topic("a.b", 1);
	struct at_topic_in in = {"a_b", 1, 1, NULL, NULL};
	int16_t e = create_one_error(4, &in);
	ck_assert(e == WIRE_ERR_TOPIC_ALREADY_EXISTS || e == WIRE_ERR_INVALID_TOPIC_EXCEPTION);
	ck_assert_ptr_null(at_topic("a_b"));
}
END_TEST

START_TEST(create_topics_duplicates_and_mixed)
{
	/* "twice" twice: one INVALID_REQUEST result and no topic; the others are created. */
	struct at_topic_in in[4] = {
	        {"twice", 1, 1, NULL, NULL},
	        {"fine-1", 2, 1, NULL, NULL},
	        {"twice", 1, 1, NULL, NULL},
	        {"bad name", 1, 1, NULL, NULL},
	};
	at_create_topics_request(4, in, 4, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_create_topics_response resp;
	at_create_topics_decode(&resp);
	ck_assert_int_eq(resp.topics_count, 3);
	int seen = 0;
	for (int32_t i = 0; i < resp.topics_count; i++) {
		const struct wire_create_topics_response_creatable_topic_result *t =
		        &resp.topics[i];
		if (wire_str_eq(t->name, "twice")) {
			ck_assert_int_eq(t->error_code, WIRE_ERR_INVALID_REQUEST);
			seen |= 1;
		} else if (wire_str_eq(t->name, "fine-1")) {
			ck_assert_int_eq(t->error_code, 0);
			seen |= 2;
		} else {
			ck_assert(wire_str_eq(t->name, "bad name"));
			ck_assert_int_eq(t->error_code, WIRE_ERR_INVALID_TOPIC_EXCEPTION);
			seen |= 4;
		}
	}
	ck_assert_int_eq(seen, 7);
	ck_assert_ptr_null(at_topic("twice"));
	ck_assert_ptr_nonnull(at_topic("fine-1"));
	/* Several topics in one request, each its own proposal. */
	struct at_topic_in three[3] = {
	        {"m-1", 1, 1, NULL, NULL}, {"m-2", 2, 1, NULL, NULL}, {"m-3", 3, 1, NULL, NULL}};
	at_create_topics_request(7, three, 3, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	at_create_topics_decode(&resp);
	ck_assert_int_eq(resp.topics_count, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(resp.topics[i].error_code, 0);
		const struct meta_topic *mt = at_topic(three[i].name);
		ck_assert_ptr_nonnull(mt);
		ck_assert_int_eq(mt->partition_count, i + 1);
		ck_assert(sl_uuid_eq(&resp.topics[i].topic_id, &mt->id));
	}
}
END_TEST

START_TEST(create_topics_validate_only_and_defaults)
{
	struct at_topic_in in = {"dry-run", 4, 1, "retention.ms", "1000"};
	at_create_topics_request(5, &in, 1, true);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_create_topics_response resp;
	at_create_topics_decode(&resp);
	ck_assert_int_eq(resp.topics[0].error_code, 0);
	ck_assert_int_eq(resp.topics[0].num_partitions, 4);
	ck_assert_ptr_null(at_topic("dry-run"));
	bool saw = false;
	for (int32_t i = 0; i < resp.topics[0].configs_count; i++) {
		if (wire_str_eq(resp.topics[0].configs[i].name, "retention.ms")) {
			saw = true;
			ck_assert(wire_str_eq(resp.topics[0].configs[i].value, "1000"));
			ck_assert_int_eq(resp.topics[0].configs[i].config_source, 1);
		}
	}
	ck_assert(saw);
	/* validate_only still reports errors. */
	struct at_topic_in bad = {"dry-bad", 0, 1, NULL, NULL};
	at_create_topics_request(5, &bad, 1, true);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	at_create_topics_decode(&resp);
	ck_assert_int_eq(resp.topics[0].error_code, WIRE_ERR_INVALID_PARTITIONS);
	/* -1 / -1 (KIP-464, v4+): the controller's num.partitions and default.replication.factor.
	 */
	struct at_topic_in dflt = {"defaults", -1, -1, NULL, NULL};
	at_create_topics_request(7, &dflt, 1, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	at_create_topics_decode(&resp);
	ck_assert_int_eq(resp.topics[0].error_code, 0);
	ck_assert_int_eq(resp.topics[0].num_partitions, 1);
	ck_assert_int_eq(resp.topics[0].replication_factor, 1);
	ck_assert_int_eq(at_topic("defaults")->partition_count, 1);
}
END_TEST

START_TEST(create_topics_manual_assignment)
{
	at_begin(19, 4);
	struct wire_create_topics_request req;
	wire_create_topics_request_init(&req);
	struct wire_create_topics_request_creatable_topic t;
	wire_create_topics_request_creatable_topic_init(&t);
	int32_t good[1] = {AT_NODE_ID};
	int32_t bad[1] = {42};
	struct wire_create_topics_request_creatable_replica_assignment as[2];
	for (int i = 0; i < 2; i++) {
		wire_create_topics_request_creatable_replica_assignment_init(&as[i]);
		as[i].partition_index = i;
		as[i].broker_ids_count = 1;
		as[i].broker_ids = good;
	}
	t.name = wire_str_c("assigned");
	t.num_partitions = -1;
	t.replication_factor = -1;
	t.assignments_count = 2;
	t.assignments = as;
	t.configs_count = 0;
	req.topics_count = 1;
	req.topics = &t;
	wire_create_topics_request_encode(&A.req, 4, &req);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_create_topics_response resp;
	at_create_topics_decode(&resp);
	ck_assert_int_eq(resp.topics[0].error_code, 0);
	ck_assert_int_eq(at_topic("assigned")->partition_count, 2);
	/* A replica on a broker that does not exist. */
	at_begin(19, 4);
	as[1].broker_ids = bad;
	t.name = wire_str_c("assigned-bad");
	wire_create_topics_request_encode(&A.req, 4, &req);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	at_create_topics_decode(&resp);
	ck_assert_int_eq(resp.topics[0].error_code, WIRE_ERR_INVALID_REPLICA_ASSIGNMENT);
	ck_assert_ptr_null(at_topic("assigned-bad"));
}
END_TEST

START_TEST(admin_requests_that_close)
{
	/* Trailing bytes and truncated bodies close the connection, for every admin api. */
	static const int16_t keys[][2] = {{19, 7}, {20, 6}, {37, 3}, {60, 1}, {3, 12}};
	for (size_t i = 0; i < SL_ARRAY_LEN(keys); i++) {
		at_begin(keys[i][0], keys[i][1]);
		sl_buf_put_be32(&A.req, 1000); /* an array count far beyond the body */
		ck_assert_int_eq(at_handle(), BRK_CLOSE);
		ck_assert_int_gt(strlen(A.reason), 0);
	}
	struct at_topic_in in = {"never", 1, 1, NULL, NULL};
	at_create_topics_request(3, &in, 1, false);
	sl_buf_append(&A.req, "xx", 2);
	ck_assert_int_eq(at_handle(), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(A.reason, "2 unexpected bytes"));
	ck_assert_ptr_null(at_topic("never"));
	at_begin(60, 0);
	struct wire_describe_cluster_request dc;
	wire_describe_cluster_request_init(&dc);
	wire_describe_cluster_request_encode(&A.req, 0, &dc);
	sl_buf_append(&A.req, "x", 1);
	ck_assert_int_eq(at_handle(), BRK_CLOSE);
}
END_TEST

/* ---- DeleteTopics ---------------------------------------------------------------------------- */

struct dt_in {
	const char *name; /* NULL = by id */
	struct sl_uuid id;
};

static void delete_request(int16_t v, const struct dt_in *in, size_t n)
{
	at_begin(20, v);
	struct wire_delete_topics_request req;
	wire_delete_topics_request_init(&req);
	struct wire_delete_topics_request_delete_topic_state ts[8];
	struct wire_str names[8];
	ck_assert_uint_le(n, 8);
	for (size_t i = 0; i < n; i++) {
		wire_delete_topics_request_delete_topic_state_init(&ts[i]);
		ts[i].name = wire_str_c(in[i].name);
		ts[i].topic_id = in[i].id;
		names[i] = wire_str_c(in[i].name);
	}
	if (v >= 6) {
		req.topics_count = (int32_t)n;
		req.topics = ts;
	} else {
		req.topic_names_count = (int32_t)n;
		req.topic_names = names;
	}
	req.timeout_ms = 30000;
	wire_delete_topics_request_encode(&A.req, v, &req);
}

static void delete_decode(struct wire_delete_topics_response *resp)
{
	struct wire_reader r;
	at_resp_reader(&r);
	ck_assert_int_eq(wire_delete_topics_response_decode(&r, A.api_version, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
}

START_TEST(delete_topics_every_version)
{
	int16_t v = (int16_t)_i;
	at_create_topic("doomed", 2);
	struct sl_uuid id = at_topic("doomed")->id;
	struct dt_in in = {v >= 6 ? NULL : "doomed", v >= 6 ? id : SL_UUID_ZERO};
	delete_request(v, &in, 1);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_delete_topics_response resp;
	delete_decode(&resp);
	ck_assert_int_eq(resp.responses_count, 1);
	ck_assert_int_eq(resp.responses[0].error_code, 0);
	ck_assert(wire_str_eq(resp.responses[0].name, "doomed"));
	if (v >= 6)
		ck_assert(sl_uuid_eq(&resp.responses[0].topic_id, &id));
	ck_assert_ptr_null(at_topic("doomed"));
	/* Deleted: asking again is UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID. */
	delete_request(v, &in, 1);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	delete_decode(&resp);
	ck_assert_int_eq(resp.responses[0].error_code,
	                 v >= 6 ? WIRE_ERR_UNKNOWN_TOPIC_ID : WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	if (v >= 6)
		ck_assert_int_eq(resp.responses[0].name.len, -1);
	/* Re-created under the same name: a new id. */
	at_create_topic("doomed", 1);
	ck_assert(!sl_uuid_eq(&at_topic("doomed")->id, &id));
}
END_TEST

START_TEST(delete_topics_errors)
{
	at_create_topic("keep", 1);
	at_create_topic("gone", 1);
	struct sl_uuid keep_id = at_topic("keep")->id;
	struct sl_uuid unknown = {{0}};
	unknown.b[15] = 0x42;
	struct dt_in in[5] = {
	        {"keep", keep_id},                              /* both name and id */
	        {"gone", SL_UUID_ZERO}, {"gone", SL_UUID_ZERO}, /* duplicate name */
	        {NULL, unknown},        {"nope", SL_UUID_ZERO},
	};
	delete_request(6, in, 5);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_delete_topics_response resp;
	delete_decode(&resp);
	ck_assert_int_eq(resp.responses_count, 4); /* one result for the duplicated name */
	ck_assert_int_eq(resp.responses[0].error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert(wire_str_eq(resp.responses[1].name, "gone"));
	ck_assert_int_eq(resp.responses[1].error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(resp.responses[2].error_code, WIRE_ERR_UNKNOWN_TOPIC_ID);
	ck_assert_int_eq(resp.responses[2].topic_id.b[15], 0x42);
	ck_assert_int_eq(resp.responses[3].error_code, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_ptr_nonnull(at_topic("keep"));
	ck_assert_ptr_nonnull(at_topic("gone"));
	/* Duplicate ids. */
	struct dt_in ids[2] = {{NULL, keep_id}, {NULL, keep_id}};
	delete_request(6, ids, 2);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	delete_decode(&resp);
	ck_assert_int_eq(resp.responses_count, 1);
	ck_assert_int_eq(resp.responses[0].error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_ptr_nonnull(at_topic("keep"));
}
END_TEST

START_TEST(delete_topics_disabled)
{
	at_teardown();
	struct at_opts o = {.delete_disabled = true};
	at_setup_opts(&o);
	at_create_topic("stays", 1);
	for (int16_t v = 0; v <= 6; v++) {
		struct dt_in in = {"stays", SL_UUID_ZERO};
		delete_request(v, &in, 1);
		ck_assert_int_eq(at_handle(), BRK_RESPOND);
		struct wire_delete_topics_response resp;
		delete_decode(&resp);
		ck_assert_int_eq(resp.responses_count, 1);
		/* Kafka: INVALID_REQUEST below v3 (no TOPIC_DELETION_DISABLED then). */
		ck_assert_int_eq(resp.responses[0].error_code,
		                 v < 3 ? WIRE_ERR_INVALID_REQUEST
		                       : WIRE_ERR_TOPIC_DELETION_DISABLED);
	}
	ck_assert_ptr_nonnull(at_topic("stays"));
}
END_TEST

/* ---- CreatePartitions ------------------------------------------------------------------------ */

static void cp_request(int16_t v, const char *const *names, const int32_t *counts, size_t n,
                       bool validate_only)
{
	at_begin(37, v);
	struct wire_create_partitions_request req;
	wire_create_partitions_request_init(&req);
	struct wire_create_partitions_request_topic ts[8];
	ck_assert_uint_le(n, 8);
	for (size_t i = 0; i < n; i++) {
		wire_create_partitions_request_topic_init(&ts[i]);
		ts[i].name = wire_str_c(names[i]);
		ts[i].count = counts[i];
		ts[i].assignments_count = -1;
	}
	req.topics_count = (int32_t)n;
	req.topics = ts;
	req.timeout_ms = 30000;
	req.validate_only = validate_only;
	wire_create_partitions_request_encode(&A.req, v, &req);
}

static void cp_decode(struct wire_create_partitions_response *resp)
{
	struct wire_reader r;
	at_resp_reader(&r);
	ck_assert_int_eq(wire_create_partitions_response_decode(&r, A.api_version, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
}

START_TEST(create_partitions_every_version)
{
	int16_t v = (int16_t)_i;
	at_create_topic("grow", 1);
	const char *names[1] = {"grow"};
	int32_t counts[1] = {3};
	cp_request(v, names, counts, 1, true);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_create_partitions_response resp;
	cp_decode(&resp);
	ck_assert_int_eq(resp.results_count, 1);
	ck_assert_int_eq(resp.results[0].error_code, 0);
	ck_assert_int_eq(at_topic("grow")->partition_count, 1); /* validate_only */
	cp_request(v, names, counts, 1, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	cp_decode(&resp);
	ck_assert(wire_str_eq(resp.results[0].name, "grow"));
	ck_assert_int_eq(resp.results[0].error_code, 0);
	const struct meta_topic *mt = at_topic("grow");
	ck_assert_int_eq(mt->partition_count, 3);
	ck_assert_int_eq(mt->partitions[2].leader, AT_NODE_ID);
}
END_TEST

START_TEST(create_partitions_errors)
{
	at_create_topic("two", 2);
	const char *names[5] = {"two", "missing", "dup", "dup", "two-b"};
	int32_t counts[5] = {2, 4, 4, 4, 1};
	at_create_topic("two-b", 2);
	at_create_topic("dup", 1);
	cp_request(1, names, counts, 5, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_create_partitions_response resp;
	cp_decode(&resp);
	ck_assert_int_eq(resp.results_count, 4);
	ck_assert_int_eq(resp.results[0].error_code, WIRE_ERR_INVALID_PARTITIONS); /* not larger */
	ck_assert_int_gt(resp.results[0].error_message.len, 0);
	ck_assert_int_eq(resp.results[1].error_code, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert(wire_str_eq(resp.results[2].name, "dup"));
	ck_assert_int_eq(resp.results[2].error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(resp.results[3].error_code, WIRE_ERR_INVALID_PARTITIONS); /* smaller */
	ck_assert_int_eq(at_topic("dup")->partition_count, 1);
	ck_assert_int_eq(at_topic("two-b")->partition_count, 2);
}
END_TEST

/* ---- no controller -----------------------------------------------------------------------------
 */

START_TEST(no_controller)
{
	at_teardown();
	struct at_opts o = {.no_controller = true, .auto_create = true};
	at_setup_opts(&o);
	struct at_topic_in in = {"x", 1, 1, NULL, NULL};
	ck_assert_int_eq(create_one_error(7, &in), WIRE_ERR_NOT_CONTROLLER);
	struct dt_in d = {"x", SL_UUID_ZERO};
	delete_request(4, &d, 1);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_delete_topics_response dresp;
	delete_decode(&dresp);
	ck_assert_int_eq(dresp.responses[0].error_code, WIRE_ERR_NOT_CONTROLLER);
	const char *names[1] = {"x"};
	int32_t counts[1] = {2};
	cp_request(2, names, counts, 1, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_create_partitions_response cresp;
	cp_decode(&cresp);
	ck_assert_int_eq(cresp.results[0].error_code, WIRE_ERR_NOT_CONTROLLER);
	/* Metadata cannot auto-create without a controller: the topic is unknown. */
	at_begin(3, 4);
	struct wire_metadata_request mr;
	wire_metadata_request_init(&mr);
	struct wire_metadata_request_topic mt;
	wire_metadata_request_topic_init(&mt);
	mt.name = wire_str_c("x");
	mr.topics_count = 1;
	mr.topics = &mt;
	wire_metadata_request_encode(&A.req, 4, &mr);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_reader r;
	at_resp_reader(&r);
	struct wire_metadata_response resp;
	ck_assert_int_eq(wire_metadata_response_decode(&r, 4, &resp), SL_OK);
	ck_assert_int_eq(resp.topics[0].error_code, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}
END_TEST

/* ---- DescribeCluster ----------------------------------------------------------------------------
 */

static void describe_cluster(int16_t v, bool ops, int8_t endpoint_type,
                             struct wire_describe_cluster_response *resp)
{
	at_begin(60, v);
	struct wire_describe_cluster_request req;
	wire_describe_cluster_request_init(&req);
	req.include_cluster_authorized_operations = ops;
	req.endpoint_type = endpoint_type;
	wire_describe_cluster_request_encode(&A.req, v, &req);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_reader r;
	at_resp_reader(&r);
	ck_assert_int_eq(wire_describe_cluster_response_decode(&r, v, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
}

START_TEST(describe_cluster_every_version)
{
	int16_t v = (int16_t)_i;
	struct wire_describe_cluster_response resp;
	describe_cluster(v, false, 1, &resp);
	ck_assert_int_eq(resp.error_code, 0);
	ck_assert(wire_str_eq(resp.cluster_id, AT_CLUSTER_ID));
	ck_assert_int_eq(resp.controller_id, AT_NODE_ID);
	ck_assert_int_eq(resp.brokers_count, 1);
	ck_assert_int_eq(resp.brokers[0].broker_id, AT_NODE_ID);
	ck_assert(wire_str_eq(resp.brokers[0].host, "broker.example"));
	ck_assert_int_eq(resp.brokers[0].port, 19092);
	ck_assert_int_eq(resp.brokers[0].rack.len, -1);
	ck_assert_int_eq(resp.cluster_authorized_operations, INT32_MIN);
	if (v >= 1)
		ck_assert_int_eq(resp.endpoint_type, 1);
	describe_cluster(v, true, 1, &resp);
	ck_assert_int_ne(resp.cluster_authorized_operations, INT32_MIN);
	ck_assert_int_ne(resp.cluster_authorized_operations & (1 << 8), 0); /* DESCRIBE */
	if (v < 1)
		return;
	describe_cluster(v, false, 2, &resp);   /* controllers: not on a broker listener */
	ck_assert_int_eq(resp.error_code, 114); /* MISMATCHED_ENDPOINT_TYPE */
	ck_assert_int_eq(resp.brokers_count, 0);
	describe_cluster(v, false, 7, &resp);
	ck_assert_int_eq(resp.error_code, 115); /* UNSUPPORTED_ENDPOINT_TYPE */
}
END_TEST

/* ---- Metadata ----------------------------------------------------------------------------------
 */

static void metadata_request(int16_t v, const char *const *names, int n, bool allow_auto)
{
	at_begin(3, v);
	struct wire_metadata_request req;
	wire_metadata_request_init(&req);
	struct wire_metadata_request_topic ts[8];
	ck_assert_int_le(n, 8);
	for (int i = 0; i < n; i++) {
		wire_metadata_request_topic_init(&ts[i]);
		ts[i].name = wire_str_c(names[i]);
	}
	if (n < 0) {
		req.topics_count = v == 0 ? 0 : -1; /* all topics */
	} else {
		req.topics_count = n;
		req.topics = ts;
	}
	req.allow_auto_topic_creation = allow_auto;
	req.include_topic_authorized_operations = v >= 8;
	wire_metadata_request_encode(&A.req, v, &req);
}

static void metadata_decode(struct wire_metadata_response *resp)
{
	struct wire_reader r;
	at_resp_reader(&r);
	ck_assert_int_eq(wire_metadata_response_decode(&r, A.api_version, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(resp->brokers_count, 1);
	ck_assert_int_eq(resp->brokers[0].node_id, AT_NODE_ID);
}

static const struct wire_metadata_response_topic *
find_topic(const struct wire_metadata_response *resp, const char *name)
{
	for (int32_t i = 0; i < resp->topics_count; i++) {
		if (wire_str_eq(resp->topics[i].name, name))
			return &resp->topics[i];
	}
	return NULL;
}

static void check_topic(int16_t v, const struct wire_metadata_response_topic *t, const char *name,
                        int32_t partitions)
{
	ck_assert_ptr_nonnull(t);
	const struct meta_topic *mt = at_topic(name);
	ck_assert_ptr_nonnull(mt);
	ck_assert_int_eq(t->error_code, 0);
	ck_assert(!t->is_internal);
	ck_assert_int_eq(t->partitions_count, partitions);
	if (v >= 10)
		ck_assert(sl_uuid_eq(&t->topic_id, &mt->id));
	if (v >= 8)
		ck_assert_int_ne(t->topic_authorized_operations, INT32_MIN);
	for (int32_t p = 0; p < partitions; p++) {
		const struct wire_metadata_response_partition *mp = &t->partitions[p];
		ck_assert_int_eq(mp->error_code, 0);
		ck_assert_int_eq(mp->partition_index, p);
		ck_assert_int_eq(mp->leader_id, AT_NODE_ID);
		if (v >= 7)
			ck_assert_int_eq(mp->leader_epoch, mt->partitions[p].leader_epoch);
		ck_assert_int_eq(mp->replica_nodes_count, 1);
		ck_assert_int_eq(mp->replica_nodes[0], AT_NODE_ID);
		ck_assert_int_eq(mp->isr_nodes_count, 1);
		ck_assert_int_eq(mp->isr_nodes[0], AT_NODE_ID);
		ck_assert_int_eq(mp->offline_replicas_count, 0);
	}
}

START_TEST(metadata_topics_every_version)
{
	int16_t v = (int16_t)_i;
	at_create_topic("alpha", 3);
	at_create_topic("beta", 1);
	/* All topics. */
	metadata_request(v, NULL, -1, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_metadata_response resp;
	metadata_decode(&resp);
	ck_assert_int_eq(resp.topics_count, 2);
	check_topic(v, find_topic(&resp, "alpha"), "alpha", 3);
	check_topic(v, find_topic(&resp, "beta"), "beta", 1);
	/* Named topics: known, unknown (auto-creation not allowed), illegal. */
	const char *names[3] = {"beta", "unknown", "bad name"};
	metadata_request(v, names, 3, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	metadata_decode(&resp);
	ck_assert_int_eq(resp.topics_count, 3);
	check_topic(v, &resp.topics[0], "beta", 1);
	/* v0-3 always allow auto-creation (created with num.partitions = 3). */
	if (v < 4) {
		check_topic(v, &resp.topics[1], "unknown", 3);
	} else {
		ck_assert_int_eq(resp.topics[1].error_code, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
		ck_assert_ptr_null(at_topic("unknown"));
	}
	ck_assert_int_eq(resp.topics[2].error_code, WIRE_ERR_INVALID_TOPIC_EXCEPTION);
	/* An empty list (v1+) asks for no topics. */
	if (v >= 1) {
		metadata_request(v, names, 0, false);
		ck_assert_int_eq(at_handle(), BRK_RESPOND);
		metadata_decode(&resp);
		ck_assert_int_eq(resp.topics_count, 0);
	}
}
END_TEST

START_TEST(metadata_by_topic_id)
{
	at_create_topic("by-id", 2);
	struct sl_uuid id = at_topic("by-id")->id;
	at_begin(3, 12);
	struct wire_metadata_request req;
	wire_metadata_request_init(&req);
	struct wire_metadata_request_topic ts[2];
	wire_metadata_request_topic_init(&ts[0]);
	wire_metadata_request_topic_init(&ts[1]);
	ts[0].name = wire_str_c(NULL);
	ts[0].topic_id = id;
	ts[1].name = wire_str_c(NULL);
	ts[1].topic_id.b[3] = 9;
	req.topics_count = 2;
	req.topics = ts;
	req.include_topic_authorized_operations = true;
	wire_metadata_request_encode(&A.req, 12, &req);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_metadata_response resp;
	metadata_decode(&resp);
	ck_assert_int_eq(resp.topics_count, 2);
	ck_assert(wire_str_eq(resp.topics[0].name, "by-id"));
	check_topic(12, &resp.topics[0], "by-id", 2);
	ck_assert_int_eq(resp.topics[1].error_code, WIRE_ERR_UNKNOWN_TOPIC_ID);
	ck_assert_int_eq(resp.topics[1].topic_id.b[3], 9);
	ck_assert_int_eq(resp.topics[1].name.len, -1);
}
END_TEST

static void propose_done(void *ctx, enum sl_err err)
{
	ck_assert_int_eq(err, SL_OK);
	(*(int *)ctx)++;
}

/* Appends one framed record value (arena memory) to recs. */
static void add_record(struct meta_records *recs, struct wire_bytes *vals, struct sl_buf *b)
{
	uint8_t *copy = sl_arena_alloc(&A.arena, b->len);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, b->data, b->len);
	vals[recs->count++] = (struct wire_bytes){copy, (int32_t)b->len};
	sl_buf_reset(b);
}

START_TEST(metadata_leaderless_partition)
{
	/* A partition without a leader, with a replica on a broker that is not this one (written
	 * straight to the log, as a controller of a larger cluster would): LEADER_NOT_AVAILABLE
	 * for the partition and the other replica listed offline (v5+). */
	sl_arena_reset(&A.arena);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 16);
	struct wire_bytes vals[2];
	struct meta_records recs;
	meta_records_init(&recs, &A.arena);
	recs.values = vals;
	recs.cap = 2;
	struct sl_uuid id = {{0}};
	id.b[0] = 0x5a;
	id.b[15] = 0x01;
	struct meta_topic_record t;
	meta_topic_record_init(&t);
	t.name = wire_str_c("headless");
	t.topic_id = id;
	meta_frame_put(&b, META_REC_TOPIC, 0);
	meta_topic_record_encode(&b, 0, &t);
	add_record(&recs, vals, &b);
	int32_t replicas[2] = {AT_NODE_ID, 2};
	struct meta_partition_record pr;
	meta_partition_record_init(&pr);
	pr.partition_id = 0;
	pr.topic_id = id;
	pr.replicas_count = 2;
	pr.replicas = replicas;
	pr.isr_count = 1;
	pr.isr = replicas;
	pr.leader = -1;
	pr.leader_epoch = 4;
	meta_frame_put(&b, META_REC_PARTITION, 0);
	meta_partition_record_encode(&b, 0, &pr);
	add_record(&recs, vals, &b);
	sl_buf_free(&b);
	int done = 0;
	ck_assert_int_eq(ctl_propose(A.ctl, &recs, propose_done, &done), SL_OK);
	int64_t deadline = sl_mono_ms() + 20000;
	while (done == 0) {
		ck_assert(sl_mono_ms() < deadline);
		(void)io_loop_run_once(A.loop, 50);
	}
	ck_assert_ptr_nonnull(at_topic("headless"));
	for (int16_t v = 0; v <= 12; v++) {
		const char *names[1] = {"headless"};
		metadata_request(v, names, 1, false);
		ck_assert_int_eq(at_handle(), BRK_RESPOND);
		struct wire_metadata_response resp;
		metadata_decode(&resp);
		const struct wire_metadata_response_partition *p = &resp.topics[0].partitions[0];
		ck_assert_int_eq(resp.topics[0].error_code, 0);
		ck_assert_int_eq(p->error_code, WIRE_ERR_LEADER_NOT_AVAILABLE);
		ck_assert_int_eq(p->leader_id, -1);
		ck_assert_int_eq(p->replica_nodes_count, 2);
		if (v >= 5) {
			ck_assert_int_eq(p->offline_replicas_count, 1);
			ck_assert_int_eq(p->offline_replicas[0], 2);
		}
		if (v >= 7)
			ck_assert_int_eq(p->leader_epoch, 4);
		if (v >= 10)
			ck_assert_int_eq(resp.topics[0].topic_id.b[0], 0x5a);
	}
}
END_TEST

START_TEST(metadata_auto_create)
{
	/* Allowed (v4+ flag): the reply waits for the commit and carries the new topic. */
	const char *names[3] = {"auto-1", "auto-1", "auto-2"};
	metadata_request(9, names, 3, true);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_metadata_response resp;
	metadata_decode(&resp);
	ck_assert_int_eq(resp.topics_count, 3);
	check_topic(9, &resp.topics[0], "auto-1", 3); /* num.partitions of the broker */
	check_topic(9, &resp.topics[1], "auto-1", 3);
	check_topic(9, &resp.topics[2], "auto-2", 3);
	ck_assert_int_eq(meta_image_topic_count(brk_image(A.brk)), 2);
	/* Illegal names are never created. */
	const char *bad[1] = {"no/slash"};
	metadata_request(9, bad, 1, true);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	metadata_decode(&resp);
	ck_assert_int_eq(resp.topics[0].error_code, WIRE_ERR_INVALID_TOPIC_EXCEPTION);
	/* A name that collides with an existing one cannot be created. */
	at_create_topic("x.y", 1);
	const char *coll[1] = {"x_y"};
	metadata_request(9, coll, 1, true);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	metadata_decode(&resp);
	ck_assert_int_eq(resp.topics[0].error_code, WIRE_ERR_INVALID_TOPIC_EXCEPTION);
	ck_assert_ptr_null(at_topic("x_y"));
}
END_TEST

START_TEST(metadata_auto_create_disabled)
{
	at_teardown();
	struct at_opts o = {.auto_create = false};
	at_setup_opts(&o);
	for (int16_t v = 0; v <= 12; v++) {
		const char *names[1] = {"not-created"};
		metadata_request(v, names, 1, true);
		ck_assert_int_eq(at_handle(), BRK_RESPOND);
		struct wire_metadata_response resp;
		metadata_decode(&resp);
		ck_assert_int_eq(resp.topics[0].error_code, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	}
	ck_assert_ptr_null(at_topic("not-created"));
}
END_TEST

START_TEST(metadata_auto_create_bad_replication_factor)
{
	at_teardown();
	struct at_opts o = {.auto_create = true, .default_replication_factor = 3};
	at_setup_opts(&o);
	const char *names[1] = {"needs-three"};
	metadata_request(1, names, 1, true);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_metadata_response resp;
	metadata_decode(&resp);
	ck_assert_int_eq(resp.topics[0].error_code, WIRE_ERR_INVALID_REPLICATION_FACTOR);
	ck_assert_ptr_null(at_topic("needs-three"));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("broker_admin");
	TCase *tc = tcase_create("admin");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, at_setup, at_teardown);
	tcase_add_loop_test(tc, create_topics_every_version, 0, 8);
	tcase_add_test(tc, create_topics_errors);
	tcase_add_test(tc, create_topics_collision);
	tcase_add_test(tc, create_topics_duplicates_and_mixed);
	tcase_add_test(tc, create_topics_validate_only_and_defaults);
	tcase_add_test(tc, create_topics_manual_assignment);
	tcase_add_test(tc, admin_requests_that_close);
	tcase_add_loop_test(tc, delete_topics_every_version, 0, 7);
	tcase_add_test(tc, delete_topics_errors);
	tcase_add_test(tc, delete_topics_disabled);
	tcase_add_loop_test(tc, create_partitions_every_version, 0, 4);
	tcase_add_test(tc, create_partitions_errors);
	tcase_add_test(tc, no_controller);
	tcase_add_loop_test(tc, describe_cluster_every_version, 0, 2);
	tcase_add_loop_test(tc, metadata_topics_every_version, 0, 13);
	tcase_add_test(tc, metadata_by_topic_id);
	tcase_add_test(tc, metadata_leaderless_partition);
	tcase_add_test(tc, metadata_auto_create);
	tcase_add_test(tc, metadata_auto_create_disabled);
	tcase_add_test(tc, metadata_auto_create_bad_replication_factor);
	suite_add_tcase(s, tc);
	return s;
}
