/*
 * test_wire_apis.c: the codecs of the issue-4 apis (Produce, Fetch, ListOffsets, CreateTopics,
 * DeleteTopics, CreatePartitions, DeleteRecords, DescribeConfigs, AlterConfigs,
 * IncrementalAlterConfigs, DescribeCluster, OffsetForLeaderEpoch, DescribeLogDirs).
 *
 * - Round trips of every version of every request and response, with a non-default value in
 *   every field: after decoding, fields present in the version hold the value, absent ones
 *   their default (the expectations are written here from Kafka's schemas, independently of
 *   the .def files); re-encoding the decoded struct gives the same bytes.
 * - Byte-exact encodings assembled by hand from the spec layout: Produce v3 request, Fetch v4
 *   response, Produce v10 response with the tagged CurrentLeader struct (written only when it
 *   differs from its default).
 * - Every strict prefix of every encoding (in an exact-size heap block) is SL_EMALFORMED.
 */
#include "check_main.h"
#include "wire.h"

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

/* got must be val when the field is present in the version, else its default. */
#define CK(got, present, val, dflt) ck_assert_int_eq((got), (present) ? (val) : (dflt))

static void ck_bytes(const struct sl_buf *b, const uint8_t *want, size_t n)
{
	ck_assert_int_eq(sl_buf_err(b), SL_OK);
	ck_assert_uint_eq(b->len, n);
	for (size_t i = 0; i < n; i++) {
		if (b->data[i] != want[i])
			ck_abort_msg("byte %zu: got 0x%02x want 0x%02x", i, b->data[i], want[i]);
	}
}

/* want NULL = the null string. */
static void ck_str(struct wire_str s, const char *want)
{
	if (want == NULL) {
		ck_assert_int_eq(s.len, -1);
		return;
	}
	ck_assert_msg(wire_str_eq(s, want), "string '%.*s' != '%s'", s.len < 0 ? 0 : (int)s.len,
	              s.ptr ? s.ptr : "", want);
}

static void ck_sv(struct wire_str s, bool present, const char *val, const char *dflt)
{
	ck_str(s, present ? val : dflt);
}

static struct sl_uuid uuid_of(uint8_t seed)
{
	struct sl_uuid u;

	for (int i = 0; i < 16; i++)
		u.b[i] = (uint8_t)(seed + i);
	return u;
}

static void ck_uuid(struct sl_uuid u, bool present, uint8_t seed)
{
	struct sl_uuid want = present ? uuid_of(seed) : SL_UUID_ZERO;

	ck_assert(sl_uuid_eq(&u, &want));
}

static const uint8_t rec_bytes[] = {0xde, 0xad, 0xbe, 0xef, 0x01};

static void ck_records(struct wire_bytes b)
{
	ck_assert_int_eq(b.len, (int32_t)sizeof(rec_bytes));
	ck_assert(memcmp(b.ptr, rec_bytes, sizeof(rec_bytes)) == 0);
}

#define STR(s) wire_str_c(s)
#define REC ((struct wire_bytes){rec_bytes, (int32_t)sizeof(rec_bytes)})
#define ARR(field, arr) \
	((field##_count) = (int32_t)(sizeof(arr) / sizeof((arr)[0])), (field) = (arr))

/* ---- Produce ------------------------------------------------------------------------------- */

static struct wire_produce_request_partition_produce_data prq_part[2];
static struct wire_produce_request_topic_produce_data prq_topic;

static void produce_req_build(void *p)
{
	struct wire_produce_request *m = p;

	wire_produce_request_init(m);
	m->transactional_id = STR("txn-1");
	m->acks = -1;
	m->timeout_ms = 1500;
	prq_part[0] = (struct wire_produce_request_partition_produce_data){3, REC};
	prq_part[1] = (struct wire_produce_request_partition_produce_data){7, {NULL, -1}};
	prq_topic.name = STR("orders");
	ARR(prq_topic.partition_data, prq_part);
	m->topic_data_count = 1;
	m->topic_data = &prq_topic;
}

static void produce_req_check(const void *p, int16_t v)
{
	const struct wire_produce_request *m = p;

	ck_sv(m->transactional_id, v >= 3, "txn-1", NULL);
	ck_assert_int_eq(m->acks, -1);
	ck_assert_int_eq(m->timeout_ms, 1500);
	ck_assert_int_eq(m->topic_data_count, 1);
	ck_str(m->topic_data[0].name, "orders");
	ck_assert_int_eq(m->topic_data[0].partition_data_count, 2);
	ck_assert_int_eq(m->topic_data[0].partition_data[0].index, 3);
	ck_records(m->topic_data[0].partition_data[0].records);
	ck_assert_int_eq(m->topic_data[0].partition_data[1].index, 7);
	ck_assert_int_eq(m->topic_data[0].partition_data[1].records.len, -1);
}

static struct wire_produce_response_batch_index_and_error_message prs_rerr;
static struct wire_produce_response_partition_produce_response prs_part;
static struct wire_produce_response_topic_produce_response prs_topic;
static struct wire_produce_response_node_endpoint prs_node;

static void produce_rsp_build(void *p)
{
	struct wire_produce_response *m = p;

	wire_produce_response_init(m);
	wire_produce_response_partition_produce_response_init(&prs_part);
	prs_rerr.batch_index = 2;
	prs_rerr.batch_index_error_message = STR("bad record");
	prs_part.index = 3;
	prs_part.error_code = 6;
	prs_part.base_offset = 100;
	prs_part.log_append_time_ms = 1700000000000;
	prs_part.log_start_offset = 50;
	prs_part.record_errors_count = 1;
	prs_part.record_errors = &prs_rerr;
	prs_part.error_message = STR("oops");
	prs_part.current_leader.leader_id = 4;
	prs_part.current_leader.leader_epoch = 9;
	prs_topic.name = STR("orders");
	prs_topic.partition_responses_count = 1;
	prs_topic.partition_responses = &prs_part;
	m->responses_count = 1;
	m->responses = &prs_topic;
	m->throttle_time_ms = 10;
	prs_node = (struct wire_produce_response_node_endpoint){4, STR("h4"), 9092, STR("r1")};
	m->node_endpoints_count = 1;
	m->node_endpoints = &prs_node;
}

static void produce_rsp_check(const void *p, int16_t v)
{
	const struct wire_produce_response *m = p;
	const struct wire_produce_response_partition_produce_response *x;

	ck_assert_int_eq(m->responses_count, 1);
	ck_str(m->responses[0].name, "orders");
	ck_assert_int_eq(m->responses[0].partition_responses_count, 1);
	x = &m->responses[0].partition_responses[0];
	ck_assert_int_eq(x->index, 3);
	ck_assert_int_eq(x->error_code, 6);
	ck_assert_int_eq(x->base_offset, 100);
	CK(x->log_append_time_ms, v >= 2, 1700000000000, -1);
	CK(x->log_start_offset, v >= 5, 50, -1);
	CK(x->record_errors_count, v >= 8, 1, 0);
	if (v >= 8) {
		ck_assert_int_eq(x->record_errors[0].batch_index, 2);
		ck_str(x->record_errors[0].batch_index_error_message, "bad record");
	}
	ck_sv(x->error_message, v >= 8, "oops", NULL);
	CK(x->current_leader.leader_id, v >= 10, 4, -1);
	CK(x->current_leader.leader_epoch, v >= 10, 9, -1);
	CK(m->throttle_time_ms, v >= 1, 10, 0);
	CK(m->node_endpoints_count, v >= 10, 1, 0);
	if (v >= 10) {
		ck_assert_int_eq(m->node_endpoints[0].node_id, 4);
		ck_str(m->node_endpoints[0].host, "h4");
		ck_assert_int_eq(m->node_endpoints[0].port, 9092);
		ck_str(m->node_endpoints[0].rack, "r1");
	}
}

/* ---- Fetch --------------------------------------------------------------------------------- */

static struct wire_fetch_request_partition frq_part;
static struct wire_fetch_request_topic frq_topic;
static struct wire_fetch_request_forgotten_topic frq_forgot;
static int32_t frq_forgot_parts[] = {1, 2};

static void fetch_req_build(void *p)
{
	struct wire_fetch_request *m = p;

	wire_fetch_request_init(m);
	m->cluster_id = STR("cluster-1");
	m->replica_id = 3;
	m->replica_state.replica_id = 5;
	m->replica_state.replica_epoch = 77;
	m->max_wait_ms = 500;
	m->min_bytes = 1;
	m->max_bytes = 1000;
	m->isolation_level = 1;
	m->session_id = 8;
	m->session_epoch = 2;
	frq_part = (struct wire_fetch_request_partition){4, 6, 99, 5, 11, 65536};
	frq_topic.topic = STR("t");
	frq_topic.topic_id = uuid_of(1);
	frq_topic.partitions_count = 1;
	frq_topic.partitions = &frq_part;
	m->topics_count = 1;
	m->topics = &frq_topic;
	frq_forgot.topic = STR("gone");
	frq_forgot.topic_id = uuid_of(2);
	ARR(frq_forgot.partitions, frq_forgot_parts);
	m->forgotten_topics_data_count = 1;
	m->forgotten_topics_data = &frq_forgot;
	m->rack_id = STR("rack-a");
}

static void fetch_req_check(const void *p, int16_t v)
{
	const struct wire_fetch_request *m = p;
	const struct wire_fetch_request_partition *x;

	ck_sv(m->cluster_id, v >= 12, "cluster-1", NULL);
	CK(m->replica_id, v <= 14, 3, -1);
	CK(m->replica_state.replica_id, v >= 15, 5, -1);
	CK(m->replica_state.replica_epoch, v >= 15, 77, -1);
	ck_assert_int_eq(m->max_wait_ms, 500);
	ck_assert_int_eq(m->min_bytes, 1);
	CK(m->max_bytes, v >= 3, 1000, INT32_MAX);
	CK(m->isolation_level, v >= 4, 1, 0);
	CK(m->session_id, v >= 7, 8, 0);
	CK(m->session_epoch, v >= 7, 2, -1);
	ck_assert_int_eq(m->topics_count, 1);
	ck_sv(m->topics[0].topic, v <= 12, "t", "");
	ck_uuid(m->topics[0].topic_id, v >= 13, 1);
	ck_assert_int_eq(m->topics[0].partitions_count, 1);
	x = &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition, 4);
	CK(x->current_leader_epoch, v >= 9, 6, -1);
	ck_assert_int_eq(x->fetch_offset, 99);
	CK(x->last_fetched_epoch, v >= 12, 5, -1);
	CK(x->log_start_offset, v >= 5, 11, -1);
	ck_assert_int_eq(x->partition_max_bytes, 65536);
	CK(m->forgotten_topics_data_count, v >= 7, 1, 0);
	if (v >= 7) {
		ck_sv(m->forgotten_topics_data[0].topic, v <= 12, "gone", "");
		ck_uuid(m->forgotten_topics_data[0].topic_id, v >= 13, 2);
		ck_assert_int_eq(m->forgotten_topics_data[0].partitions_count, 2);
		ck_assert_int_eq(m->forgotten_topics_data[0].partitions[1], 2);
	}
	ck_sv(m->rack_id, v >= 11, "rack-a", "");
}

static struct wire_fetch_response_aborted_transaction frs_aborted = {1000, 25};
static struct wire_fetch_response_partition_data frs_part;
static struct wire_fetch_response_fetchable_topic_response frs_topic;
static struct wire_fetch_response_node_endpoint frs_node;

static void fetch_rsp_build(void *p)
{
	struct wire_fetch_response *m = p;

	wire_fetch_response_init(m);
	m->throttle_time_ms = 5;
	m->error_code = 1;
	m->session_id = 9;
	frs_part = (struct wire_fetch_response_partition_data){
	        .partition_index = 2,
	        .error_code = 3,
	        .high_watermark = 40,
	        .last_stable_offset = 30,
	        .log_start_offset = 10,
	        .diverging_epoch = {2, 20},
	        .current_leader = {1, 7},
	        .snapshot_id = {15, 3},
	        .aborted_transactions_count = 1,
	        .aborted_transactions = &frs_aborted,
	        .preferred_read_replica = 2,
	        .records = REC,
	};
	frs_topic.topic = STR("t");
	frs_topic.topic_id = uuid_of(3);
	frs_topic.partitions_count = 1;
	frs_topic.partitions = &frs_part;
	m->responses_count = 1;
	m->responses = &frs_topic;
	frs_node = (struct wire_fetch_response_node_endpoint){1, STR("h1"), 9093, {NULL, -1}};
	m->node_endpoints_count = 1;
	m->node_endpoints = &frs_node;
}

static void fetch_rsp_check(const void *p, int16_t v)
{
	const struct wire_fetch_response *m = p;
	const struct wire_fetch_response_partition_data *x;

	CK(m->throttle_time_ms, v >= 1, 5, 0);
	CK(m->error_code, v >= 7, 1, 0);
	CK(m->session_id, v >= 7, 9, 0);
	ck_assert_int_eq(m->responses_count, 1);
	ck_sv(m->responses[0].topic, v <= 12, "t", "");
	ck_uuid(m->responses[0].topic_id, v >= 13, 3);
	ck_assert_int_eq(m->responses[0].partitions_count, 1);
	x = &m->responses[0].partitions[0];
	ck_assert_int_eq(x->partition_index, 2);
	ck_assert_int_eq(x->error_code, 3);
	ck_assert_int_eq(x->high_watermark, 40);
	CK(x->last_stable_offset, v >= 4, 30, -1);
	CK(x->log_start_offset, v >= 5, 10, -1);
	CK(x->diverging_epoch.epoch, v >= 12, 2, -1);
	CK(x->diverging_epoch.end_offset, v >= 12, 20, -1);
	CK(x->current_leader.leader_id, v >= 12, 1, -1);
	CK(x->current_leader.leader_epoch, v >= 12, 7, -1);
	CK(x->snapshot_id.end_offset, v >= 12, 15, -1);
	CK(x->snapshot_id.epoch, v >= 12, 3, -1);
	CK(x->aborted_transactions_count, v >= 4, 1, 0);
	if (v >= 4) {
		ck_assert_int_eq(x->aborted_transactions[0].producer_id, 1000);
		ck_assert_int_eq(x->aborted_transactions[0].first_offset, 25);
	}
	CK(x->preferred_read_replica, v >= 11, 2, -1);
	ck_records(x->records);
	CK(m->node_endpoints_count, v >= 16, 1, 0);
	if (v >= 16) {
		ck_assert_int_eq(m->node_endpoints[0].node_id, 1);
		ck_str(m->node_endpoints[0].host, "h1");
		ck_assert_int_eq(m->node_endpoints[0].port, 9093);
		ck_str(m->node_endpoints[0].rack, NULL);
	}
}

/* ---- ListOffsets --------------------------------------------------------------------------- */

static struct wire_list_offsets_request_partition lorq_part = {1, 4, -2, 3};
static struct wire_list_offsets_request_topic lorq_topic;

static void list_offsets_req_build(void *p)
{
	struct wire_list_offsets_request *m = p;

	wire_list_offsets_request_init(m);
	m->replica_id = 7;
	m->isolation_level = 1;
	lorq_topic.name = STR("t");
	lorq_topic.partitions_count = 1;
	lorq_topic.partitions = &lorq_part;
	m->topics_count = 1;
	m->topics = &lorq_topic;
}

static void list_offsets_req_check(const void *p, int16_t v)
{
	const struct wire_list_offsets_request *m = p;
	const struct wire_list_offsets_request_partition *x;

	ck_assert_int_eq(m->replica_id, 7);
	CK(m->isolation_level, v >= 2, 1, 0);
	ck_assert_int_eq(m->topics_count, 1);
	ck_str(m->topics[0].name, "t");
	ck_assert_int_eq(m->topics[0].partitions_count, 1);
	x = &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition_index, 1);
	CK(x->current_leader_epoch, v >= 4, 4, -1);
	ck_assert_int_eq(x->timestamp, -2);
	CK(x->max_num_offsets, v == 0, 3, 1);
}

static int64_t lors_old[] = {10, 20};
static struct wire_list_offsets_response_partition_response lors_part;
static struct wire_list_offsets_response_topic_response lors_topic;

static void list_offsets_rsp_build(void *p)
{
	struct wire_list_offsets_response *m = p;

	wire_list_offsets_response_init(m);
	m->throttle_time_ms = 6;
	lors_part = (struct wire_list_offsets_response_partition_response){.partition_index = 1,
	                                                                   .error_code = 2,
	                                                                   .timestamp = 111,
	                                                                   .offset = 222,
	                                                                   .leader_epoch = 4};
	ARR(lors_part.old_style_offsets, lors_old);
	lors_topic.name = STR("t");
	lors_topic.partitions_count = 1;
	lors_topic.partitions = &lors_part;
	m->topics_count = 1;
	m->topics = &lors_topic;
}

static void list_offsets_rsp_check(const void *p, int16_t v)
{
	const struct wire_list_offsets_response *m = p;
	const struct wire_list_offsets_response_partition_response *x;

	CK(m->throttle_time_ms, v >= 2, 6, 0);
	ck_assert_int_eq(m->topics_count, 1);
	ck_str(m->topics[0].name, "t");
	x = &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition_index, 1);
	ck_assert_int_eq(x->error_code, 2);
	CK(x->old_style_offsets_count, v == 0, 2, 0);
	if (v == 0)
		ck_assert_int_eq(x->old_style_offsets[1], 20);
	CK(x->timestamp, v >= 1, 111, -1);
	CK(x->offset, v >= 1, 222, -1);
	CK(x->leader_epoch, v >= 4, 4, -1);
}

/* ---- CreateTopics -------------------------------------------------------------------------- */

static int32_t broker_ids[] = {1, 2};
static struct wire_create_topics_request_creatable_replica_assignment ctrq_assign;
static struct wire_create_topics_request_creatable_topic_config ctrq_cfg;
static struct wire_create_topics_request_creatable_topic ctrq_topic;

static void create_topics_req_build(void *p)
{
	struct wire_create_topics_request *m = p;

	wire_create_topics_request_init(m);
	ctrq_assign.partition_index = 0;
	ARR(ctrq_assign.broker_ids, broker_ids);
	ctrq_cfg.name = STR("cleanup.policy");
	ctrq_cfg.value = STR("compact");
	ctrq_topic = (struct wire_create_topics_request_creatable_topic){
	        STR("t"), 3, 2, 1, &ctrq_assign, 1, &ctrq_cfg};
	m->topics_count = 1;
	m->topics = &ctrq_topic;
	m->timeout_ms = 5000;
	m->validate_only = true;
}

static void create_topics_req_check(const void *p, int16_t v)
{
	const struct wire_create_topics_request *m = p;
	const struct wire_create_topics_request_creatable_topic *x = &m->topics[0];

	ck_assert_int_eq(m->topics_count, 1);
	ck_str(x->name, "t");
	ck_assert_int_eq(x->num_partitions, 3);
	ck_assert_int_eq(x->replication_factor, 2);
	ck_assert_int_eq(x->assignments_count, 1);
	ck_assert_int_eq(x->assignments[0].broker_ids_count, 2);
	ck_assert_int_eq(x->assignments[0].broker_ids[1], 2);
	ck_assert_int_eq(x->configs_count, 1);
	ck_str(x->configs[0].name, "cleanup.policy");
	ck_str(x->configs[0].value, "compact");
	ck_assert_int_eq(m->timeout_ms, 5000);
	CK(m->validate_only, v >= 1, true, false);
}

static struct wire_create_topics_response_creatable_topic_configs ctrs_cfg;
static struct wire_create_topics_response_creatable_topic_result ctrs_topic;

static void create_topics_rsp_build(void *p)
{
	struct wire_create_topics_response *m = p;

	wire_create_topics_response_init(m);
	m->throttle_time_ms = 4;
	ctrs_cfg = (struct wire_create_topics_response_creatable_topic_configs){
	        STR("retention.ms"), STR("1000"), true, 5, true};
	ctrs_topic = (struct wire_create_topics_response_creatable_topic_result){
	        .name = STR("t"),
	        .topic_id = uuid_of(4),
	        .error_code = 36,
	        .error_message = STR("exists"),
	        .topic_config_error_code = 29,
	        .num_partitions = 3,
	        .replication_factor = 2,
	        .configs_count = 1,
	        .configs = &ctrs_cfg,
	};
	m->topics_count = 1;
	m->topics = &ctrs_topic;
}

static void create_topics_rsp_check(const void *p, int16_t v)
{
	const struct wire_create_topics_response *m = p;
	const struct wire_create_topics_response_creatable_topic_result *x = &m->topics[0];

	CK(m->throttle_time_ms, v >= 2, 4, 0);
	ck_assert_int_eq(m->topics_count, 1);
	ck_str(x->name, "t");
	ck_uuid(x->topic_id, v >= 7, 4);
	ck_assert_int_eq(x->error_code, 36);
	ck_sv(x->error_message, v >= 1, "exists", "");
	CK(x->topic_config_error_code, v >= 5, 29, 0);
	CK(x->num_partitions, v >= 5, 3, -1);
	CK(x->replication_factor, v >= 5, 2, -1);
	CK(x->configs_count, v >= 5, 1, 0);
	if (v >= 5) {
		ck_str(x->configs[0].name, "retention.ms");
		ck_str(x->configs[0].value, "1000");
		ck_assert(x->configs[0].read_only);
		ck_assert_int_eq(x->configs[0].config_source, 5);
		ck_assert(x->configs[0].is_sensitive);
	}
}

/* ---- DeleteTopics -------------------------------------------------------------------------- */

static struct wire_delete_topics_request_delete_topic_state dtrq_state;
static struct wire_str dtrq_names[2];

static void delete_topics_req_build(void *p)
{
	struct wire_delete_topics_request *m = p;

	wire_delete_topics_request_init(m);
	dtrq_state.name = STR("t");
	dtrq_state.topic_id = uuid_of(5);
	m->topics_count = 1;
	m->topics = &dtrq_state;
	dtrq_names[0] = STR("a");
	dtrq_names[1] = STR("bb");
	ARR(m->topic_names, dtrq_names);
	m->timeout_ms = 3000;
}

static void delete_topics_req_check(const void *p, int16_t v)
{
	const struct wire_delete_topics_request *m = p;

	CK(m->topics_count, v >= 6, 1, 0);
	if (v >= 6) {
		ck_str(m->topics[0].name, "t");
		ck_uuid(m->topics[0].topic_id, true, 5);
	}
	CK(m->topic_names_count, v <= 5, 2, 0);
	if (v <= 5)
		ck_str(m->topic_names[1], "bb");
	ck_assert_int_eq(m->timeout_ms, 3000);
}

static struct wire_delete_topics_response_deletable_topic_result dtrs_res;

static void delete_topics_rsp_build(void *p)
{
	struct wire_delete_topics_response *m = p;

	wire_delete_topics_response_init(m);
	m->throttle_time_ms = 2;
	dtrs_res = (struct wire_delete_topics_response_deletable_topic_result){STR("t"), uuid_of(6),
	                                                                       3, STR("unknown")};
	m->responses_count = 1;
	m->responses = &dtrs_res;
}

static void delete_topics_rsp_check(const void *p, int16_t v)
{
	const struct wire_delete_topics_response *m = p;

	CK(m->throttle_time_ms, v >= 1, 2, 0);
	ck_assert_int_eq(m->responses_count, 1);
	ck_str(m->responses[0].name, "t");
	ck_uuid(m->responses[0].topic_id, v >= 6, 6);
	ck_assert_int_eq(m->responses[0].error_code, 3);
	ck_sv(m->responses[0].error_message, v >= 5, "unknown", NULL);
}

/* ---- CreatePartitions ---------------------------------------------------------------------- */

static struct wire_create_partitions_request_assignment cprq_assign;
static struct wire_create_partitions_request_topic cprq_topic;

static void create_partitions_req_build(void *p)
{
	struct wire_create_partitions_request *m = p;

	wire_create_partitions_request_init(m);
	ARR(cprq_assign.broker_ids, broker_ids);
	cprq_topic = (struct wire_create_partitions_request_topic){STR("t"), 6, 1, &cprq_assign};
	m->topics_count = 1;
	m->topics = &cprq_topic;
	m->timeout_ms = 1000;
	m->validate_only = true;
}

static void create_partitions_req_check(const void *p, int16_t v)
{
	const struct wire_create_partitions_request *m = p;

	(void)v;
	ck_assert_int_eq(m->topics_count, 1);
	ck_str(m->topics[0].name, "t");
	ck_assert_int_eq(m->topics[0].count, 6);
	ck_assert_int_eq(m->topics[0].assignments_count, 1);
	ck_assert_int_eq(m->topics[0].assignments[0].broker_ids_count, 2);
	ck_assert_int_eq(m->topics[0].assignments[0].broker_ids[0], 1);
	ck_assert_int_eq(m->timeout_ms, 1000);
	ck_assert(m->validate_only);
}

static struct wire_create_partitions_response_topic_result cprs_res;

static void create_partitions_rsp_build(void *p)
{
	struct wire_create_partitions_response *m = p;

	wire_create_partitions_response_init(m);
	m->throttle_time_ms = 1;
	cprs_res = (struct wire_create_partitions_response_topic_result){STR("t"), 37, STR("m")};
	m->results_count = 1;
	m->results = &cprs_res;
}

static void create_partitions_rsp_check(const void *p, int16_t v)
{
	const struct wire_create_partitions_response *m = p;

	(void)v;
	ck_assert_int_eq(m->throttle_time_ms, 1);
	ck_assert_int_eq(m->results_count, 1);
	ck_str(m->results[0].name, "t");
	ck_assert_int_eq(m->results[0].error_code, 37);
	ck_str(m->results[0].error_message, "m");
}

/* ---- DeleteRecords ------------------------------------------------------------------------- */

static struct wire_delete_records_request_partition drrq_part = {4, 42};
static struct wire_delete_records_request_topic drrq_topic;

static void delete_records_req_build(void *p)
{
	struct wire_delete_records_request *m = p;

	wire_delete_records_request_init(m);
	drrq_topic = (struct wire_delete_records_request_topic){STR("t"), 1, &drrq_part};
	m->topics_count = 1;
	m->topics = &drrq_topic;
	m->timeout_ms = 100;
}

static void delete_records_req_check(const void *p, int16_t v)
{
	const struct wire_delete_records_request *m = p;

	(void)v;
	ck_assert_int_eq(m->topics_count, 1);
	ck_str(m->topics[0].name, "t");
	ck_assert_int_eq(m->topics[0].partitions_count, 1);
	ck_assert_int_eq(m->topics[0].partitions[0].partition_index, 4);
	ck_assert_int_eq(m->topics[0].partitions[0].offset, 42);
	ck_assert_int_eq(m->timeout_ms, 100);
}

static struct wire_delete_records_response_partition_result drrs_part = {4, 42, 1};
static struct wire_delete_records_response_topic_result drrs_topic;

static void delete_records_rsp_build(void *p)
{
	struct wire_delete_records_response *m = p;

	wire_delete_records_response_init(m);
	m->throttle_time_ms = 3;
	drrs_topic = (struct wire_delete_records_response_topic_result){STR("t"), 1, &drrs_part};
	m->topics_count = 1;
	m->topics = &drrs_topic;
}

static void delete_records_rsp_check(const void *p, int16_t v)
{
	const struct wire_delete_records_response *m = p;

	(void)v;
	ck_assert_int_eq(m->throttle_time_ms, 3);
	ck_assert_int_eq(m->topics_count, 1);
	ck_str(m->topics[0].name, "t");
	ck_assert_int_eq(m->topics[0].partitions[0].partition_index, 4);
	ck_assert_int_eq(m->topics[0].partitions[0].low_watermark, 42);
	ck_assert_int_eq(m->topics[0].partitions[0].error_code, 1);
}

/* ---- DescribeConfigs ----------------------------------------------------------------------- */

static struct wire_str dcrq_keys[1];
static struct wire_describe_configs_request_resource dcrq_res;

static void describe_configs_req_build(void *p)
{
	struct wire_describe_configs_request *m = p;

	wire_describe_configs_request_init(m);
	dcrq_keys[0] = STR("retention.ms");
	dcrq_res = (struct wire_describe_configs_request_resource){2, STR("t"), 1, dcrq_keys};
	m->resources_count = 1;
	m->resources = &dcrq_res;
	m->include_synonyms = true;
	m->include_documentation = true;
}

static void describe_configs_req_check(const void *p, int16_t v)
{
	const struct wire_describe_configs_request *m = p;

	ck_assert_int_eq(m->resources_count, 1);
	ck_assert_int_eq(m->resources[0].resource_type, 2);
	ck_str(m->resources[0].resource_name, "t");
	ck_assert_int_eq(m->resources[0].configuration_keys_count, 1);
	ck_str(m->resources[0].configuration_keys[0], "retention.ms");
	CK(m->include_synonyms, v >= 1, true, false);
	CK(m->include_documentation, v >= 3, true, false);
}

static struct wire_describe_configs_response_synonym dcrs_syn;
static struct wire_describe_configs_response_resource_result dcrs_cfg;
static struct wire_describe_configs_response_result dcrs_res;

static void describe_configs_rsp_build(void *p)
{
	struct wire_describe_configs_response *m = p;

	wire_describe_configs_response_init(m);
	m->throttle_time_ms = 2;
	dcrs_syn = (struct wire_describe_configs_response_synonym){STR("log.retention.ms"),
	                                                           STR("9"), 5};
	dcrs_cfg = (struct wire_describe_configs_response_resource_result){
	        .name = STR("retention.ms"),
	        .value = STR("1000"),
	        .read_only = true,
	        .is_default = true,
	        .config_source = 4,
	        .is_sensitive = true,
	        .synonyms_count = 1,
	        .synonyms = &dcrs_syn,
	        .config_type = 5,
	        .documentation = STR("doc"),
	};
	dcrs_res = (struct wire_describe_configs_response_result){1,        STR("e"), 2,
	                                                          STR("t"), 1,        &dcrs_cfg};
	m->results_count = 1;
	m->results = &dcrs_res;
}

static void describe_configs_rsp_check(const void *p, int16_t v)
{
	const struct wire_describe_configs_response *m = p;
	const struct wire_describe_configs_response_resource_result *x;

	ck_assert_int_eq(m->throttle_time_ms, 2);
	ck_assert_int_eq(m->results_count, 1);
	ck_assert_int_eq(m->results[0].error_code, 1);
	ck_str(m->results[0].error_message, "e");
	ck_assert_int_eq(m->results[0].resource_type, 2);
	ck_str(m->results[0].resource_name, "t");
	ck_assert_int_eq(m->results[0].configs_count, 1);
	x = &m->results[0].configs[0];
	ck_str(x->name, "retention.ms");
	ck_str(x->value, "1000");
	ck_assert(x->read_only);
	CK(x->is_default, v == 0, true, false);
	CK(x->config_source, v >= 1, 4, -1);
	ck_assert(x->is_sensitive);
	CK(x->synonyms_count, v >= 1, 1, 0);
	if (v >= 1) {
		ck_str(x->synonyms[0].name, "log.retention.ms");
		ck_str(x->synonyms[0].value, "9");
		ck_assert_int_eq(x->synonyms[0].source, 5);
	}
	CK(x->config_type, v >= 3, 5, 0);
	ck_sv(x->documentation, v >= 3, "doc", "");
}

/* ---- AlterConfigs and IncrementalAlterConfigs ---------------------------------------------- */

static struct wire_alter_configs_request_alterable_config acrq_cfg;
static struct wire_alter_configs_request_resource acrq_res;

static void alter_configs_req_build(void *p)
{
	struct wire_alter_configs_request *m = p;

	wire_alter_configs_request_init(m);
	acrq_cfg = (struct wire_alter_configs_request_alterable_config){STR("k"), {NULL, -1}};
	acrq_res = (struct wire_alter_configs_request_resource){2, STR("t"), 1, &acrq_cfg};
	m->resources_count = 1;
	m->resources = &acrq_res;
	m->validate_only = true;
}

static void alter_configs_req_check(const void *p, int16_t v)
{
	const struct wire_alter_configs_request *m = p;

	(void)v;
	ck_assert_int_eq(m->resources_count, 1);
	ck_assert_int_eq(m->resources[0].resource_type, 2);
	ck_str(m->resources[0].resource_name, "t");
	ck_assert_int_eq(m->resources[0].configs_count, 1);
	ck_str(m->resources[0].configs[0].name, "k");
	ck_str(m->resources[0].configs[0].value, NULL);
	ck_assert(m->validate_only);
}

static struct wire_alter_configs_response_resource_response acrs_res;

static void alter_configs_rsp_build(void *p)
{
	struct wire_alter_configs_response *m = p;

	wire_alter_configs_response_init(m);
	m->throttle_time_ms = 1;
	acrs_res =
	        (struct wire_alter_configs_response_resource_response){40, STR("m"), 2, STR("t")};
	m->responses_count = 1;
	m->responses = &acrs_res;
}

static void alter_configs_rsp_check(const void *p, int16_t v)
{
	const struct wire_alter_configs_response *m = p;

	(void)v;
	ck_assert_int_eq(m->throttle_time_ms, 1);
	ck_assert_int_eq(m->responses_count, 1);
	ck_assert_int_eq(m->responses[0].error_code, 40);
	ck_str(m->responses[0].error_message, "m");
	ck_assert_int_eq(m->responses[0].resource_type, 2);
	ck_str(m->responses[0].resource_name, "t");
}

static struct wire_incremental_alter_configs_request_alterable_config iarq_cfg;
static struct wire_incremental_alter_configs_request_alter_configs_resource iarq_res;

static void inc_alter_configs_req_build(void *p)
{
	struct wire_incremental_alter_configs_request *m = p;

	wire_incremental_alter_configs_request_init(m);
	iarq_cfg = (struct wire_incremental_alter_configs_request_alterable_config){STR("k"), 1,
	                                                                            STR("v")};
	iarq_res = (struct wire_incremental_alter_configs_request_alter_configs_resource){
	        2, STR("t"), 1, &iarq_cfg};
	m->resources_count = 1;
	m->resources = &iarq_res;
	m->validate_only = true;
}

static void inc_alter_configs_req_check(const void *p, int16_t v)
{
	const struct wire_incremental_alter_configs_request *m = p;

	(void)v;
	ck_assert_int_eq(m->resources_count, 1);
	ck_assert_int_eq(m->resources[0].resource_type, 2);
	ck_str(m->resources[0].resource_name, "t");
	ck_assert_int_eq(m->resources[0].configs_count, 1);
	ck_str(m->resources[0].configs[0].name, "k");
	ck_assert_int_eq(m->resources[0].configs[0].config_operation, 1);
	ck_str(m->resources[0].configs[0].value, "v");
	ck_assert(m->validate_only);
}

static struct wire_incremental_alter_configs_response_alter_configs_resource_response iars_res;

static void inc_alter_configs_rsp_build(void *p)
{
	struct wire_incremental_alter_configs_response *m = p;

	wire_incremental_alter_configs_response_init(m);
	m->throttle_time_ms = 1;
	iars_res = (struct wire_incremental_alter_configs_response_alter_configs_resource_response){
	        40, STR("m"), 2, STR("t")};
	m->responses_count = 1;
	m->responses = &iars_res;
}

static void inc_alter_configs_rsp_check(const void *p, int16_t v)
{
	const struct wire_incremental_alter_configs_response *m = p;

	(void)v;
	ck_assert_int_eq(m->throttle_time_ms, 1);
	ck_assert_int_eq(m->responses_count, 1);
	ck_assert_int_eq(m->responses[0].error_code, 40);
	ck_str(m->responses[0].error_message, "m");
	ck_assert_int_eq(m->responses[0].resource_type, 2);
	ck_str(m->responses[0].resource_name, "t");
}

/* ---- DescribeCluster ----------------------------------------------------------------------- */

static void describe_cluster_req_build(void *p)
{
	struct wire_describe_cluster_request *m = p;

	wire_describe_cluster_request_init(m);
	m->include_cluster_authorized_operations = true;
	m->endpoint_type = 2;
}

static void describe_cluster_req_check(const void *p, int16_t v)
{
	const struct wire_describe_cluster_request *m = p;

	ck_assert(m->include_cluster_authorized_operations);
	CK(m->endpoint_type, v >= 1, 2, 1);
}

static struct wire_describe_cluster_response_broker dcl_broker;

static void describe_cluster_rsp_build(void *p)
{
	struct wire_describe_cluster_response *m = p;

	wire_describe_cluster_response_init(m);
	m->throttle_time_ms = 3;
	m->error_code = 1;
	m->error_message = STR("m");
	m->endpoint_type = 2;
	m->cluster_id = STR("cid");
	m->controller_id = 1;
	dcl_broker = (struct wire_describe_cluster_response_broker){1, STR("h"), 9092, STR("r")};
	m->brokers_count = 1;
	m->brokers = &dcl_broker;
	m->cluster_authorized_operations = 0x0f;
}

static void describe_cluster_rsp_check(const void *p, int16_t v)
{
	const struct wire_describe_cluster_response *m = p;

	ck_assert_int_eq(m->throttle_time_ms, 3);
	ck_assert_int_eq(m->error_code, 1);
	ck_str(m->error_message, "m");
	CK(m->endpoint_type, v >= 1, 2, 1);
	ck_str(m->cluster_id, "cid");
	ck_assert_int_eq(m->controller_id, 1);
	ck_assert_int_eq(m->brokers_count, 1);
	ck_assert_int_eq(m->brokers[0].broker_id, 1);
	ck_str(m->brokers[0].host, "h");
	ck_assert_int_eq(m->brokers[0].port, 9092);
	ck_str(m->brokers[0].rack, "r");
	ck_assert_int_eq(m->cluster_authorized_operations, 0x0f);
}

/* ---- OffsetForLeaderEpoch ------------------------------------------------------------------ */

static struct wire_offset_for_leader_epoch_request_offset_for_leader_partition oerq_part = {2, 5,
                                                                                            4};
static struct wire_offset_for_leader_epoch_request_offset_for_leader_topic oerq_topic;

static void ofle_req_build(void *p)
{
	struct wire_offset_for_leader_epoch_request *m = p;

	wire_offset_for_leader_epoch_request_init(m);
	m->replica_id = 1;
	oerq_topic = (struct wire_offset_for_leader_epoch_request_offset_for_leader_topic){
	        STR("t"), 1, &oerq_part};
	m->topics_count = 1;
	m->topics = &oerq_topic;
}

static void ofle_req_check(const void *p, int16_t v)
{
	const struct wire_offset_for_leader_epoch_request *m = p;

	CK(m->replica_id, v >= 3, 1, -2);
	ck_assert_int_eq(m->topics_count, 1);
	ck_str(m->topics[0].topic, "t");
	ck_assert_int_eq(m->topics[0].partitions_count, 1);
	ck_assert_int_eq(m->topics[0].partitions[0].partition, 2);
	CK(m->topics[0].partitions[0].current_leader_epoch, v >= 2, 5, -1);
	ck_assert_int_eq(m->topics[0].partitions[0].leader_epoch, 4);
}

static struct wire_offset_for_leader_epoch_response_epoch_end_offset oers_part = {1, 2, 4, 77};
static struct wire_offset_for_leader_epoch_response_offset_for_leader_topic_result oers_topic;

static void ofle_rsp_build(void *p)
{
	struct wire_offset_for_leader_epoch_response *m = p;

	wire_offset_for_leader_epoch_response_init(m);
	m->throttle_time_ms = 2;
	oers_topic = (struct wire_offset_for_leader_epoch_response_offset_for_leader_topic_result){
	        STR("t"), 1, &oers_part};
	m->topics_count = 1;
	m->topics = &oers_topic;
}

static void ofle_rsp_check(const void *p, int16_t v)
{
	const struct wire_offset_for_leader_epoch_response *m = p;
	const struct wire_offset_for_leader_epoch_response_epoch_end_offset *x;

	CK(m->throttle_time_ms, v >= 2, 2, 0);
	ck_assert_int_eq(m->topics_count, 1);
	ck_str(m->topics[0].topic, "t");
	x = &m->topics[0].partitions[0];
	ck_assert_int_eq(x->error_code, 1);
	ck_assert_int_eq(x->partition, 2);
	CK(x->leader_epoch, v >= 1, 4, -1);
	ck_assert_int_eq(x->end_offset, 77);
}

/* ---- DescribeLogDirs ----------------------------------------------------------------------- */

static int32_t dlrq_parts[] = {0, 1};
static struct wire_describe_log_dirs_request_describable_log_dir_topic dlrq_topic;

static void describe_log_dirs_req_build(void *p)
{
	struct wire_describe_log_dirs_request *m = p;

	wire_describe_log_dirs_request_init(m);
	dlrq_topic.topic = STR("t");
	ARR(dlrq_topic.partitions, dlrq_parts);
	m->topics_count = 1;
	m->topics = &dlrq_topic;
}

static void describe_log_dirs_req_check(const void *p, int16_t v)
{
	const struct wire_describe_log_dirs_request *m = p;

	(void)v;
	ck_assert_int_eq(m->topics_count, 1);
	ck_str(m->topics[0].topic, "t");
	ck_assert_int_eq(m->topics[0].partitions_count, 2);
	ck_assert_int_eq(m->topics[0].partitions[1], 1);
}

static struct wire_describe_log_dirs_response_partition dlrs_part = {0, 100, 5, true};
static struct wire_describe_log_dirs_response_topic dlrs_topic;
static struct wire_describe_log_dirs_response_result dlrs_res;

static void describe_log_dirs_rsp_build(void *p)
{
	struct wire_describe_log_dirs_response *m = p;

	wire_describe_log_dirs_response_init(m);
	m->throttle_time_ms = 1;
	m->error_code = 2;
	dlrs_topic = (struct wire_describe_log_dirs_response_topic){STR("t"), 1, &dlrs_part};
	dlrs_res = (struct wire_describe_log_dirs_response_result){1,           STR("/d"), 1,
	                                                           &dlrs_topic, 1000,      500};
	m->results_count = 1;
	m->results = &dlrs_res;
}

static void describe_log_dirs_rsp_check(const void *p, int16_t v)
{
	const struct wire_describe_log_dirs_response *m = p;
	const struct wire_describe_log_dirs_response_result *x = &m->results[0];

	ck_assert_int_eq(m->throttle_time_ms, 1);
	CK(m->error_code, v >= 3, 2, 0);
	ck_assert_int_eq(m->results_count, 1);
	ck_assert_int_eq(x->error_code, 1);
	ck_str(x->log_dir, "/d");
	ck_assert_int_eq(x->topics_count, 1);
	ck_str(x->topics[0].name, "t");
	ck_assert_int_eq(x->topics[0].partitions[0].partition_index, 0);
	ck_assert_int_eq(x->topics[0].partitions[0].partition_size, 100);
	ck_assert_int_eq(x->topics[0].partitions[0].offset_lag, 5);
	ck_assert(x->topics[0].partitions[0].is_future_key);
	CK(x->total_bytes, v >= 4, 1000, -1);
	CK(x->usable_bytes, v >= 4, 500, -1);
}

/* ---- the table and the generic tests ------------------------------------------------------- */

struct api_case {
	int16_t key, lo, hi;
	void (*req_build)(void *);
	void (*req_check)(const void *, int16_t);
	void (*rsp_build)(void *);
	void (*rsp_check)(const void *, int16_t);
};

#define CASE(key, lo, hi, n)                                                            \
	{                                                                               \
		key, lo, hi, n##_req_build, n##_req_check, n##_rsp_build, n##_rsp_check \
	}
static const struct api_case cases[] = {
        CASE(0, 0, 11, produce),
        CASE(1, 0, 16, fetch),
        CASE(2, 0, 9, list_offsets),
        CASE(19, 0, 7, create_topics),
        CASE(20, 0, 6, delete_topics),
        CASE(21, 0, 2, delete_records),
        CASE(23, 0, 4, ofle),
        CASE(32, 0, 4, describe_configs),
        CASE(33, 0, 2, alter_configs),
        CASE(35, 0, 4, describe_log_dirs),
        CASE(37, 0, 3, create_partitions),
        CASE(44, 0, 1, inc_alter_configs),
        CASE(60, 0, 1, describe_cluster),
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void encode_any(bool response, int16_t key, int16_t v, const void *in, struct sl_buf *b)
{
	if (response)
		wire_response_encode_any(b, key, v, in);
	else
		wire_request_encode_any(b, key, v, in);
	ck_assert_int_eq(sl_buf_err(b), SL_OK);
}

static enum sl_err decode_any(bool response, int16_t key, int16_t v, struct wire_reader *r,
                              void *out)
{
	return response ? wire_response_decode_any(r, key, v, out)
	                : wire_request_decode_any(r, key, v, out);
}

/* Builds, encodes, decodes (exactly), checks the fields, re-encodes to the same bytes. */
static void roundtrip_one(const struct api_case *c, bool response, int16_t v)
{
	size_t size =
	        response ? wire_response_struct_size(c->key) : wire_request_struct_size(c->key);
	void *in = calloc(1, size), *out = calloc(1, size);
	struct wire_reader r;
	struct sl_buf again;

	ck_assert_uint_gt(size, 0);
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	(response ? c->rsp_build : c->req_build)(in);
	sl_buf_reset(&buf);
	encode_any(response, c->key, v, in, &buf);
	sl_arena_reset(&arena);
	wire_reader_init(&r, buf.data, buf.len, &arena);
	ck_assert_msg(decode_any(response, c->key, v, &r, out) == SL_OK, "key %d v%d", c->key, v);
	ck_assert_msg(wire_reader_done(&r), "key %d v%d: %zu trailing", c->key, v,
	              wire_reader_left(&r));
	(response ? c->rsp_check : c->req_check)(out, v);
	sl_buf_init(&again, BUF_MAX);
	encode_any(response, c->key, v, out, &again);
	ck_bytes(&again, buf.data, buf.len);
	sl_buf_free(&again);
	free(in);
	free(out);
}

START_TEST(roundtrip_every_version)
{
	const struct api_case *c = &cases[_i];
	const struct wire_api_info *info = wire_api_info(c->key);

	ck_assert_ptr_nonnull(info);
	ck_assert_int_eq(info->min_version, c->lo);
	ck_assert_int_eq(info->max_version, c->hi);
	for (int16_t v = c->lo; v <= c->hi; v++) {
		roundtrip_one(c, false, v);
		roundtrip_one(c, true, v);
	}
	/* One past the top is not ours. */
	struct wire_reader r;
	static const uint8_t z[4] = {0};
	void *out = calloc(1, wire_request_struct_size(c->key));
	wire_reader_init(&r, z, sizeof(z), &arena);
	ck_assert_int_eq(wire_request_decode_any(&r, c->key, (int16_t)(c->hi + 1), out),
	                 SL_EUNSUPPORTED);
	free(out);
}
END_TEST

/* Decodes every strict prefix of buf (copied to an exact-size heap block so ASan sees any
 * overread) and expects SL_EMALFORMED; the whole buffer must decode exactly. */
static void check_prefixes(bool response, int16_t key, int16_t v)
{
	size_t size = response ? wire_response_struct_size(key) : wire_request_struct_size(key);
	void *out = calloc(1, size);

	ck_assert_ptr_nonnull(out);
	for (size_t n = 0; n <= buf.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct wire_reader r;
		enum sl_err err;

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, buf.data, n);
		sl_arena_reset(&arena);
		wire_reader_init(&r, copy, n, &arena);
		err = decode_any(response, key, v, &r, out);
		if (n < buf.len)
			ck_assert_msg(err == SL_EMALFORMED, "key %d v%d prefix %zu/%zu: %s", key, v,
			              n, buf.len, sl_err_name(err));
		else
			ck_assert_msg(err == SL_OK && wire_reader_done(&r), "full: %s",
			              sl_err_name(err));
		free(copy);
	}
	free(out);
}

START_TEST(truncated_everywhere)
{
	const struct api_case *c = &cases[_i];

	for (int16_t v = c->lo; v <= c->hi; v++) {
		for (int resp = 0; resp < 2; resp++) {
			size_t size = resp ? wire_response_struct_size(c->key)
			                   : wire_request_struct_size(c->key);
			void *in = calloc(1, size);

			ck_assert_ptr_nonnull(in);
			(resp ? c->rsp_build : c->req_build)(in);
			sl_buf_reset(&buf);
			encode_any(resp, c->key, v, in, &buf);
			check_prefixes(resp, c->key, v);
			free(in);
		}
	}
}
END_TEST

/* ---- byte-exact encodings ------------------------------------------------------------------ */

START_TEST(produce_v3_request_bytes)
{
	struct wire_produce_request req, got;
	struct wire_produce_request_partition_produce_data part = {2, REC};
	struct wire_produce_request_topic_produce_data topic = {STR("t"), 1, &part};
	struct wire_reader r;
	/* transactional_id null (int16 -1), acks -1, timeout 30000, [1] topic "t", [1] partition
	 * 2, records int32 length 5 + bytes. */
	static const uint8_t want[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x75, 0x30,
	                               0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',  0x00,
	                               0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00,
	                               0x00, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x01};

	wire_produce_request_init(&req);
	req.acks = -1;
	req.timeout_ms = 30000;
	req.topic_data_count = 1;
	req.topic_data = &topic;
	wire_produce_request_encode(&buf, 3, &req);
	ck_bytes(&buf, want, sizeof(want));
	wire_reader_init(&r, want, sizeof(want), &arena);
	ck_assert_int_eq(wire_produce_request_decode(&r, 3, &got), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_str(got.transactional_id, NULL);
	ck_assert_int_eq(got.acks, -1);
	ck_assert_int_eq(got.timeout_ms, 30000);
	ck_str(got.topic_data[0].name, "t");
	ck_assert_int_eq(got.topic_data[0].partition_data[0].index, 2);
	ck_records(got.topic_data[0].partition_data[0].records);
}
END_TEST

START_TEST(fetch_v4_response_bytes)
{
	struct wire_fetch_response rsp, got;
	struct wire_fetch_response_aborted_transaction ab = {5, 3};
	struct wire_fetch_response_partition_data part;
	struct wire_fetch_response_fetchable_topic_response topic;
	struct wire_reader r;
	/* throttle 7, [1] topic "t", [1] partition 0, error 0, high watermark 10, last stable 9,
	 * [1] aborted {producer 5, first offset 3}, records int32 length 5 + bytes. */
	static const uint8_t want[] = {
	        0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',  0x00, 0x00, 0x00,
	        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x01, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x03, 0x00, 0x00, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x01};

	wire_fetch_response_init(&rsp);
	wire_fetch_response_partition_data_init(&part);
	wire_fetch_response_fetchable_topic_response_init(&topic);
	rsp.throttle_time_ms = 7;
	rsp.session_id = 99;       /* v7+: not written */
	part.log_start_offset = 4; /* v5+: not written */
	part.high_watermark = 10;
	part.last_stable_offset = 9;
	part.aborted_transactions_count = 1;
	part.aborted_transactions = &ab;
	part.records = REC;
	topic.topic = STR("t");
	topic.partitions_count = 1;
	topic.partitions = &part;
	rsp.responses_count = 1;
	rsp.responses = &topic;
	wire_fetch_response_encode(&buf, 4, &rsp);
	ck_bytes(&buf, want, sizeof(want));
	wire_reader_init(&r, want, sizeof(want), &arena);
	ck_assert_int_eq(wire_fetch_response_decode(&r, 4, &got), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(got.throttle_time_ms, 7);
	ck_assert_int_eq(got.session_id, 0);
	ck_assert_int_eq(got.responses[0].partitions[0].high_watermark, 10);
	ck_assert_int_eq(got.responses[0].partitions[0].last_stable_offset, 9);
	ck_assert_int_eq(got.responses[0].partitions[0].log_start_offset, -1);
	ck_assert_int_eq(got.responses[0].partitions[0].aborted_transactions[0].producer_id, 5);
	ck_assert_int_eq(got.responses[0].partitions[0].aborted_transactions[0].first_offset, 3);
	ck_records(got.responses[0].partitions[0].records);
}
END_TEST

/* Produce v10 response: [1] topic "t" [1] partition 0 error 6 offsets -1, no record errors,
 * null error message, then the partition's tagged section. */
static const uint8_t p10_head[] = {0x02, 0x02, 't',  0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
/* After the partition: topic tags 0, throttle 0, top-level tags 0. */
static const uint8_t p10_tail[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

static void p10_assemble(uint8_t *out, size_t *n, const uint8_t *tags, size_t tags_len)
{
	memcpy(out, p10_head, sizeof(p10_head));
	memcpy(out + sizeof(p10_head), tags, tags_len);
	memcpy(out + sizeof(p10_head) + tags_len, p10_tail, sizeof(p10_tail));
	*n = sizeof(p10_head) + tags_len + sizeof(p10_tail);
}

static void p10_build(struct wire_produce_response *rsp,
                      struct wire_produce_response_topic_produce_response *topic,
                      struct wire_produce_response_partition_produce_response *part)
{
	wire_produce_response_init(rsp);
	wire_produce_response_topic_produce_response_init(topic);
	wire_produce_response_partition_produce_response_init(part);
	part->error_code = 6;
	part->base_offset = -1;
	topic->name = STR("t");
	topic->partition_responses_count = 1;
	topic->partition_responses = part;
	rsp->responses_count = 1;
	rsp->responses = topic;
}

START_TEST(produce_v10_tagged_struct_bytes)
{
	struct wire_produce_response rsp, got;
	struct wire_produce_response_topic_produce_response topic;
	struct wire_produce_response_partition_produce_response part;
	struct wire_reader r;
	uint8_t want[64];
	size_t n;
	/* One tagged field: tag 0, size 9: leader id 1, leader epoch 5, empty tag section. */
	static const uint8_t tags[] = {0x01, 0x00, 0x09, 0x00, 0x00, 0x00,
	                               0x01, 0x00, 0x00, 0x00, 0x05, 0x00};
	static const uint8_t no_tags[] = {0x00};

	p10_build(&rsp, &topic, &part);
	part.current_leader.leader_id = 1;
	part.current_leader.leader_epoch = 5;
	wire_produce_response_encode(&buf, 10, &rsp);
	p10_assemble(want, &n, tags, sizeof(tags));
	ck_bytes(&buf, want, n);
	wire_reader_init(&r, want, n, &arena);
	ck_assert_int_eq(wire_produce_response_decode(&r, 10, &got), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(got.responses[0].partition_responses[0].current_leader.leader_id, 1);
	ck_assert_int_eq(got.responses[0].partition_responses[0].current_leader.leader_epoch, 5);
	ck_assert_int_eq(got.responses[0].partition_responses[0].error_code, 6);
	/* At its default ({-1, -1}) the struct is not written; decoding leaves the default. */
	part.current_leader.leader_id = -1;
	part.current_leader.leader_epoch = -1;
	sl_buf_reset(&buf);
	wire_produce_response_encode(&buf, 10, &rsp);
	p10_assemble(want, &n, no_tags, sizeof(no_tags));
	ck_bytes(&buf, want, n);
	wire_reader_init(&r, want, n, &arena);
	ck_assert_int_eq(wire_produce_response_decode(&r, 10, &got), SL_OK);
	ck_assert_int_eq(got.responses[0].partition_responses[0].current_leader.leader_id, -1);
	ck_assert_int_eq(got.responses[0].partition_responses[0].current_leader.leader_epoch, -1);
	/* One member off its default is enough to write it. */
	part.current_leader.leader_epoch = 5;
	sl_buf_reset(&buf);
	wire_produce_response_encode(&buf, 10, &rsp);
	ck_assert_uint_eq(buf.len, sizeof(p10_head) + sizeof(tags) + sizeof(p10_tail));
}
END_TEST

START_TEST(tagged_struct_subrange)
{
	struct wire_produce_response got;
	struct wire_reader r;
	uint8_t in[64];
	size_t n;
	/* Size 11: the struct plus two bytes it does not use (skipped). */
	static const uint8_t longer[] = {0x01, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x02,
	                                 0x00, 0x00, 0x00, 0x03, 0x00, 0xaa, 0xbb};
	/* Size 5: a payload too short for the struct. */
	static const uint8_t shorter[] = {0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x02, 0x00};
	/* Unknown tag 7 is skipped. */
	static const uint8_t unknown[] = {0x01, 0x07, 0x02, 0x12, 0x34};

	p10_assemble(in, &n, longer, sizeof(longer));
	wire_reader_init(&r, in, n, &arena);
	ck_assert_int_eq(wire_produce_response_decode(&r, 10, &got), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(got.responses[0].partition_responses[0].current_leader.leader_id, 2);
	ck_assert_int_eq(got.responses[0].partition_responses[0].current_leader.leader_epoch, 3);
	p10_assemble(in, &n, shorter, sizeof(shorter));
	wire_reader_init(&r, in, n, &arena);
	ck_assert_int_eq(wire_produce_response_decode(&r, 10, &got), SL_EMALFORMED);
	p10_assemble(in, &n, unknown, sizeof(unknown));
	wire_reader_init(&r, in, n, &arena);
	ck_assert_int_eq(wire_produce_response_decode(&r, 10, &got), SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(got.responses[0].partition_responses[0].current_leader.leader_id, -1);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("wire_apis");
	TCase *tc = tcase_create("apis");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, roundtrip_every_version, 0, (int)NCASES);
	tcase_add_loop_test(tc, truncated_everywhere, 0, (int)NCASES);
	tcase_add_test(tc, produce_v3_request_bytes);
	tcase_add_test(tc, fetch_v4_response_bytes);
	tcase_add_test(tc, produce_v10_tagged_struct_bytes);
	tcase_add_test(tc, tagged_struct_subrange);
	suite_add_tcase(s, tc);
	return s;
}
