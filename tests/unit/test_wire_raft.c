/*
 * test_wire_raft.c: the codecs of the KRaft RPCs: Vote (52), BeginQuorumEpoch (53),
 * EndQuorumEpoch (54), DescribeQuorum (55) and FetchSnapshot (59).
 *
 * - Round trips of every version of every request and response with a non-default value in
 *   every field, tagged and nullable ones included: after decoding, fields present in the
 *   version hold the value, absent ones their default (expectations written here from Kafka's
 *   JSON schemas, independently of the .def files); re-encoding gives the same bytes.
 * - Byte-exact encodings assembled by hand from the schema layout, at least one per api,
 *   covering classic (BeginQuorumEpoch/EndQuorumEpoch v0) and flexible encodings, a null
 *   string, a nested non-tagged struct and tagged scalars, uuids and arrays.
 * - Every strict prefix of every encoding is SL_EMALFORMED.
 */
#include "check_main.h"
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
#define ARR WT_ARR
#define CK WT_CK

static const uint8_t snap_bytes[] = {0x00, 0x11, 0x22, 0x33};
#define SNAP ((struct wire_bytes){snap_bytes, (int32_t)sizeof(snap_bytes)})

/* ---- Vote (52) ----------------------------------------------------------------------------- */

static struct wire_vote_request_partition_data vrq_part;
static struct wire_vote_request_topic_data vrq_topic;

static void vote_req_build(void *p)
{
	struct wire_vote_request *m = p;

	wire_vote_request_init(m);
	m->cluster_id = STR("cid");
	m->voter_id = 3;
	vrq_part = (struct wire_vote_request_partition_data){0,           7, 2,    wt_uuid(1),
	                                                     wt_uuid(40), 6, 1234, true};
	vrq_topic.topic_name = STR("__cluster_metadata");
	vrq_topic.partitions_count = 1;
	vrq_topic.partitions = &vrq_part;
	m->topics_count = 1;
	m->topics = &vrq_topic;
}

static void vote_req_check(const void *p, int16_t v)
{
	const struct wire_vote_request *m = p;

	wt_ck_str(m->cluster_id, "cid");
	CK(m->voter_id, v >= 1, 3, -1);
	ck_assert_int_eq(m->topics_count, 1);
	wt_ck_str(m->topics[0].topic_name, "__cluster_metadata");
	ck_assert_int_eq(m->topics[0].partitions_count, 1);
	const struct wire_vote_request_partition_data *x = &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition_index, 0);
	ck_assert_int_eq(x->candidate_epoch, 7);
	ck_assert_int_eq(x->candidate_id, 2);
	wt_ck_uuid(x->candidate_directory_id, v >= 1, 1);
	wt_ck_uuid(x->voter_directory_id, v >= 1, 40);
	ck_assert_int_eq(x->last_offset_epoch, 6);
	ck_assert_int_eq(x->last_offset, 1234);
	ck_assert(x->pre_vote == (v >= 2)); /* KIP-996, v2 only */
}

static struct wire_vote_response_partition_data vrs_part;
static struct wire_vote_response_topic_data vrs_topic;
static struct wire_vote_response_node_endpoint vrs_node;

static void vote_rsp_build(void *p)
{
	struct wire_vote_response *m = p;

	wire_vote_response_init(m);
	m->error_code = 1;
	vrs_part = (struct wire_vote_response_partition_data){0, 5, 2, 7, true};
	vrs_topic.topic_name = STR("__cluster_metadata");
	vrs_topic.partitions_count = 1;
	vrs_topic.partitions = &vrs_part;
	m->topics_count = 1;
	m->topics = &vrs_topic;
	vrs_node = (struct wire_vote_response_node_endpoint){2, STR("ctl2"), 9093};
	m->node_endpoints_count = 1;
	m->node_endpoints = &vrs_node;
}

static void vote_rsp_check(const void *p, int16_t v)
{
	const struct wire_vote_response *m = p;

	ck_assert_int_eq(m->error_code, 1);
	ck_assert_int_eq(m->topics_count, 1);
	wt_ck_str(m->topics[0].topic_name, "__cluster_metadata");
	const struct wire_vote_response_partition_data *x = &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition_index, 0);
	ck_assert_int_eq(x->error_code, 5);
	ck_assert_int_eq(x->leader_id, 2);
	ck_assert_int_eq(x->leader_epoch, 7);
	ck_assert(x->vote_granted);
	CK(m->node_endpoints_count, v >= 1, 1, 0);
	if (v >= 1) {
		ck_assert_int_eq(m->node_endpoints[0].node_id, 2);
		wt_ck_str(m->node_endpoints[0].host, "ctl2");
		ck_assert_uint_eq(m->node_endpoints[0].port, 9093);
	}
}

/* ---- BeginQuorumEpoch (53) ----------------------------------------------------------------- */

static struct wire_begin_quorum_epoch_request_partition_data bqrq_part;
static struct wire_begin_quorum_epoch_request_topic_data bqrq_topic;
static struct wire_begin_quorum_epoch_request_leader_endpoint bqrq_ep;

static void bqe_req_build(void *p)
{
	struct wire_begin_quorum_epoch_request *m = p;

	wire_begin_quorum_epoch_request_init(m);
	m->cluster_id = STR("cid");
	m->voter_id = 4;
	bqrq_part = (struct wire_begin_quorum_epoch_request_partition_data){0, wt_uuid(9), 1, 8};
	bqrq_topic.topic_name = STR("__cluster_metadata");
	bqrq_topic.partitions_count = 1;
	bqrq_topic.partitions = &bqrq_part;
	m->topics_count = 1;
	m->topics = &bqrq_topic;
	bqrq_ep = (struct wire_begin_quorum_epoch_request_leader_endpoint){STR("CONTROLLER"),
	                                                                   STR("h1"), 9093};
	m->leader_endpoints_count = 1;
	m->leader_endpoints = &bqrq_ep;
}

static void bqe_req_check(const void *p, int16_t v)
{
	const struct wire_begin_quorum_epoch_request *m = p;

	wt_ck_str(m->cluster_id, "cid");
	CK(m->voter_id, v >= 1, 4, -1);
	ck_assert_int_eq(m->topics_count, 1);
	wt_ck_str(m->topics[0].topic_name, "__cluster_metadata");
	ck_assert_int_eq(m->topics[0].partitions_count, 1);
	const struct wire_begin_quorum_epoch_request_partition_data *x =
	        &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition_index, 0);
	wt_ck_uuid(x->voter_directory_id, v >= 1, 9);
	ck_assert_int_eq(x->leader_id, 1);
	ck_assert_int_eq(x->leader_epoch, 8);
	CK(m->leader_endpoints_count, v >= 1, 1, 0);
	if (v >= 1) {
		wt_ck_str(m->leader_endpoints[0].name, "CONTROLLER");
		wt_ck_str(m->leader_endpoints[0].host, "h1");
		ck_assert_uint_eq(m->leader_endpoints[0].port, 9093);
	}
}

static struct wire_begin_quorum_epoch_response_partition_data bqrs_part;
static struct wire_begin_quorum_epoch_response_topic_data bqrs_topic;
static struct wire_begin_quorum_epoch_response_node_endpoint bqrs_node;

static void bqe_rsp_build(void *p)
{
	struct wire_begin_quorum_epoch_response *m = p;

	wire_begin_quorum_epoch_response_init(m);
	m->error_code = 2;
	bqrs_part = (struct wire_begin_quorum_epoch_response_partition_data){0, 3, 1, 8};
	bqrs_topic.topic_name = STR("__cluster_metadata");
	bqrs_topic.partitions_count = 1;
	bqrs_topic.partitions = &bqrs_part;
	m->topics_count = 1;
	m->topics = &bqrs_topic;
	bqrs_node = (struct wire_begin_quorum_epoch_response_node_endpoint){1, STR("h1"), 65535};
	m->node_endpoints_count = 1;
	m->node_endpoints = &bqrs_node;
}

static void bqe_rsp_check(const void *p, int16_t v)
{
	const struct wire_begin_quorum_epoch_response *m = p;

	ck_assert_int_eq(m->error_code, 2);
	ck_assert_int_eq(m->topics_count, 1);
	wt_ck_str(m->topics[0].topic_name, "__cluster_metadata");
	const struct wire_begin_quorum_epoch_response_partition_data *x =
	        &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition_index, 0);
	ck_assert_int_eq(x->error_code, 3);
	ck_assert_int_eq(x->leader_id, 1);
	ck_assert_int_eq(x->leader_epoch, 8);
	CK(m->node_endpoints_count, v >= 1, 1, 0);
	if (v >= 1) {
		ck_assert_int_eq(m->node_endpoints[0].node_id, 1);
		wt_ck_str(m->node_endpoints[0].host, "h1");
		ck_assert_uint_eq(m->node_endpoints[0].port, 65535);
	}
}

/* ---- EndQuorumEpoch (54) ------------------------------------------------------------------- */

static int32_t eqrq_succ[] = {3, 2};
static struct wire_end_quorum_epoch_request_replica_info eqrq_cand[2];
static struct wire_end_quorum_epoch_request_partition_data eqrq_part;
static struct wire_end_quorum_epoch_request_topic_data eqrq_topic;
static struct wire_end_quorum_epoch_request_leader_endpoint eqrq_ep;

static void eqe_req_build(void *p)
{
	struct wire_end_quorum_epoch_request *m = p;

	wire_end_quorum_epoch_request_init(m);
	m->cluster_id = STR("cid");
	wire_end_quorum_epoch_request_partition_data_init(&eqrq_part);
	eqrq_part.partition_index = 0;
	eqrq_part.leader_id = 1;
	eqrq_part.leader_epoch = 9;
	ARR(eqrq_part.preferred_successors, eqrq_succ);
	eqrq_cand[0] = (struct wire_end_quorum_epoch_request_replica_info){3, wt_uuid(3)};
	eqrq_cand[1] = (struct wire_end_quorum_epoch_request_replica_info){2, wt_uuid(2)};
	ARR(eqrq_part.preferred_candidates, eqrq_cand);
	eqrq_topic.topic_name = STR("__cluster_metadata");
	eqrq_topic.partitions_count = 1;
	eqrq_topic.partitions = &eqrq_part;
	m->topics_count = 1;
	m->topics = &eqrq_topic;
	eqrq_ep = (struct wire_end_quorum_epoch_request_leader_endpoint){STR("CONTROLLER"),
	                                                                 STR("h1"), 9093};
	m->leader_endpoints_count = 1;
	m->leader_endpoints = &eqrq_ep;
}

static void eqe_req_check(const void *p, int16_t v)
{
	const struct wire_end_quorum_epoch_request *m = p;

	wt_ck_str(m->cluster_id, "cid");
	ck_assert_int_eq(m->topics_count, 1);
	wt_ck_str(m->topics[0].topic_name, "__cluster_metadata");
	const struct wire_end_quorum_epoch_request_partition_data *x = &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition_index, 0);
	ck_assert_int_eq(x->leader_id, 1);
	ck_assert_int_eq(x->leader_epoch, 9);
	CK(x->preferred_successors_count, v == 0, 2, 0);
	if (v == 0) {
		ck_assert_int_eq(x->preferred_successors[0], 3);
		ck_assert_int_eq(x->preferred_successors[1], 2);
	}
	CK(x->preferred_candidates_count, v >= 1, 2, 0);
	if (v >= 1) {
		ck_assert_int_eq(x->preferred_candidates[0].candidate_id, 3);
		wt_ck_uuid(x->preferred_candidates[0].candidate_directory_id, true, 3);
		ck_assert_int_eq(x->preferred_candidates[1].candidate_id, 2);
		wt_ck_uuid(x->preferred_candidates[1].candidate_directory_id, true, 2);
	}
	CK(m->leader_endpoints_count, v >= 1, 1, 0);
	if (v >= 1) {
		wt_ck_str(m->leader_endpoints[0].name, "CONTROLLER");
		wt_ck_str(m->leader_endpoints[0].host, "h1");
		ck_assert_uint_eq(m->leader_endpoints[0].port, 9093);
	}
}

static struct wire_end_quorum_epoch_response_partition_data eqrs_part;
static struct wire_end_quorum_epoch_response_topic_data eqrs_topic;
static struct wire_end_quorum_epoch_response_node_endpoint eqrs_node;

static void eqe_rsp_build(void *p)
{
	struct wire_end_quorum_epoch_response *m = p;

	wire_end_quorum_epoch_response_init(m);
	m->error_code = 4;
	eqrs_part = (struct wire_end_quorum_epoch_response_partition_data){0, 6, 2, 10};
	eqrs_topic.topic_name = STR("__cluster_metadata");
	eqrs_topic.partitions_count = 1;
	eqrs_topic.partitions = &eqrs_part;
	m->topics_count = 1;
	m->topics = &eqrs_topic;
	eqrs_node = (struct wire_end_quorum_epoch_response_node_endpoint){2, STR("h2"), 19093};
	m->node_endpoints_count = 1;
	m->node_endpoints = &eqrs_node;
}

static void eqe_rsp_check(const void *p, int16_t v)
{
	const struct wire_end_quorum_epoch_response *m = p;

	ck_assert_int_eq(m->error_code, 4);
	ck_assert_int_eq(m->topics_count, 1);
	const struct wire_end_quorum_epoch_response_partition_data *x = &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition_index, 0);
	ck_assert_int_eq(x->error_code, 6);
	ck_assert_int_eq(x->leader_id, 2);
	ck_assert_int_eq(x->leader_epoch, 10);
	CK(m->node_endpoints_count, v >= 1, 1, 0);
	if (v >= 1) {
		ck_assert_int_eq(m->node_endpoints[0].node_id, 2);
		wt_ck_str(m->node_endpoints[0].host, "h2");
		ck_assert_uint_eq(m->node_endpoints[0].port, 19093);
	}
}

/* ---- DescribeQuorum (55) ------------------------------------------------------------------- */

static struct wire_describe_quorum_request_partition_data dqrq_part[2] = {{0}, {1}};
static struct wire_describe_quorum_request_topic_data dqrq_topic;

static void dq_req_build(void *p)
{
	struct wire_describe_quorum_request *m = p;

	wire_describe_quorum_request_init(m);
	dqrq_topic.topic_name = STR("__cluster_metadata");
	ARR(dqrq_topic.partitions, dqrq_part);
	m->topics_count = 1;
	m->topics = &dqrq_topic;
}

static void dq_req_check(const void *p, int16_t v)
{
	const struct wire_describe_quorum_request *m = p;

	(void)v;
	ck_assert_int_eq(m->topics_count, 1);
	wt_ck_str(m->topics[0].topic_name, "__cluster_metadata");
	ck_assert_int_eq(m->topics[0].partitions_count, 2);
	ck_assert_int_eq(m->topics[0].partitions[0].partition_index, 0);
	ck_assert_int_eq(m->topics[0].partitions[1].partition_index, 1);
}

static struct wire_describe_quorum_response_replica_state dqrs_voters[2];
static struct wire_describe_quorum_response_replica_state dqrs_obs[1];
static struct wire_describe_quorum_response_partition_data dqrs_part;
static struct wire_describe_quorum_response_topic_data dqrs_topic;
static struct wire_describe_quorum_response_listener dqrs_lis[2];
static struct wire_describe_quorum_response_node dqrs_node;

static void dq_rsp_build(void *p)
{
	struct wire_describe_quorum_response *m = p;

	wire_describe_quorum_response_init(m);
	m->error_code = 7;
	m->error_message = STR("top");
	dqrs_voters[0] = (struct wire_describe_quorum_response_replica_state){1, wt_uuid(1), 100,
	                                                                      1000, 1001};
	dqrs_voters[1] =
	        (struct wire_describe_quorum_response_replica_state){2, wt_uuid(2), 90, 2000, 2001};
	dqrs_obs[0] =
	        (struct wire_describe_quorum_response_replica_state){7, wt_uuid(7), 80, 3000, 3001};
	wire_describe_quorum_response_partition_data_init(&dqrs_part);
	dqrs_part.partition_index = 0;
	dqrs_part.error_code = 8;
	dqrs_part.error_message = (struct wire_str){NULL, -1};
	dqrs_part.leader_id = 1;
	dqrs_part.leader_epoch = 5;
	dqrs_part.high_watermark = 95;
	ARR(dqrs_part.current_voters, dqrs_voters);
	ARR(dqrs_part.observers, dqrs_obs);
	dqrs_topic.topic_name = STR("__cluster_metadata");
	dqrs_topic.partitions_count = 1;
	dqrs_topic.partitions = &dqrs_part;
	m->topics_count = 1;
	m->topics = &dqrs_topic;
	dqrs_lis[0] =
	        (struct wire_describe_quorum_response_listener){STR("CONTROLLER"), STR("h1"), 9093};
	dqrs_lis[1] = (struct wire_describe_quorum_response_listener){STR("SSL"), STR("h1"), 9094};
	dqrs_node.node_id = 1;
	ARR(dqrs_node.listeners, dqrs_lis);
	m->nodes_count = 1;
	m->nodes = &dqrs_node;
}

static void dq_ck_replica(const struct wire_describe_quorum_response_replica_state *r, int16_t v,
                          int32_t id, int64_t leo, int64_t fetch, int64_t caught)
{
	ck_assert_int_eq(r->replica_id, id);
	wt_ck_uuid(r->replica_directory_id, v >= 2, (uint8_t)id);
	ck_assert_int_eq(r->log_end_offset, leo);
	CK(r->last_fetch_timestamp, v >= 1, fetch, -1);
	CK(r->last_caught_up_timestamp, v >= 1, caught, -1);
}

static void dq_rsp_check(const void *p, int16_t v)
{
	const struct wire_describe_quorum_response *m = p;

	ck_assert_int_eq(m->error_code, 7);
	wt_ck_sv(m->error_message, v >= 2, "top", "");
	ck_assert_int_eq(m->topics_count, 1);
	wt_ck_str(m->topics[0].topic_name, "__cluster_metadata");
	const struct wire_describe_quorum_response_partition_data *x = &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition_index, 0);
	ck_assert_int_eq(x->error_code, 8);
	wt_ck_sv(x->error_message, v >= 2, NULL, "");
	ck_assert_int_eq(x->leader_id, 1);
	ck_assert_int_eq(x->leader_epoch, 5);
	ck_assert_int_eq(x->high_watermark, 95);
	ck_assert_int_eq(x->current_voters_count, 2);
	dq_ck_replica(&x->current_voters[0], v, 1, 100, 1000, 1001);
	dq_ck_replica(&x->current_voters[1], v, 2, 90, 2000, 2001);
	ck_assert_int_eq(x->observers_count, 1);
	dq_ck_replica(&x->observers[0], v, 7, 80, 3000, 3001);
	CK(m->nodes_count, v >= 2, 1, 0);
	if (v >= 2) {
		ck_assert_int_eq(m->nodes[0].node_id, 1);
		ck_assert_int_eq(m->nodes[0].listeners_count, 2);
		wt_ck_str(m->nodes[0].listeners[0].name, "CONTROLLER");
		wt_ck_str(m->nodes[0].listeners[0].host, "h1");
		ck_assert_uint_eq(m->nodes[0].listeners[0].port, 9093);
		wt_ck_str(m->nodes[0].listeners[1].name, "SSL");
		ck_assert_uint_eq(m->nodes[0].listeners[1].port, 9094);
	}
}

/* ---- FetchSnapshot (59) -------------------------------------------------------------------- */

static struct wire_fetch_snapshot_request_partition_snapshot fsrq_part;
static struct wire_fetch_snapshot_request_topic_snapshot fsrq_topic;

static void fs_req_build(void *p)
{
	struct wire_fetch_snapshot_request *m = p;

	wire_fetch_snapshot_request_init(m);
	m->cluster_id = STR("cid");
	m->replica_id = 2;
	m->max_bytes = 4096;
	wire_fetch_snapshot_request_partition_snapshot_init(&fsrq_part);
	fsrq_part.partition = 0;
	fsrq_part.current_leader_epoch = 6;
	fsrq_part.snapshot_id.end_offset = 500;
	fsrq_part.snapshot_id.epoch = 5;
	fsrq_part.position = 8192;
	fsrq_part.replica_directory_id = wt_uuid(2);
	fsrq_topic.name = STR("__cluster_metadata");
	fsrq_topic.partitions_count = 1;
	fsrq_topic.partitions = &fsrq_part;
	m->topics_count = 1;
	m->topics = &fsrq_topic;
}

static void fs_req_check(const void *p, int16_t v)
{
	const struct wire_fetch_snapshot_request *m = p;

	wt_ck_str(m->cluster_id, "cid");
	ck_assert_int_eq(m->replica_id, 2);
	ck_assert_int_eq(m->max_bytes, 4096);
	ck_assert_int_eq(m->topics_count, 1);
	wt_ck_str(m->topics[0].name, "__cluster_metadata");
	const struct wire_fetch_snapshot_request_partition_snapshot *x =
	        &m->topics[0].partitions[0];
	ck_assert_int_eq(x->partition, 0);
	ck_assert_int_eq(x->current_leader_epoch, 6);
	ck_assert_int_eq(x->snapshot_id.end_offset, 500);
	ck_assert_int_eq(x->snapshot_id.epoch, 5);
	ck_assert_int_eq(x->position, 8192);
	wt_ck_uuid(x->replica_directory_id, v >= 1, 2);
}

static struct wire_fetch_snapshot_response_partition_snapshot fsrs_part;
static struct wire_fetch_snapshot_response_topic_snapshot fsrs_topic;
static struct wire_fetch_snapshot_response_node_endpoint fsrs_node;

static void fs_rsp_build(void *p)
{
	struct wire_fetch_snapshot_response *m = p;

	wire_fetch_snapshot_response_init(m);
	m->throttle_time_ms = 11;
	m->error_code = 12;
	wire_fetch_snapshot_response_partition_snapshot_init(&fsrs_part);
	fsrs_part.index = 0;
	fsrs_part.error_code = 13;
	fsrs_part.snapshot_id.end_offset = 500;
	fsrs_part.snapshot_id.epoch = 5;
	fsrs_part.current_leader.leader_id = 1;
	fsrs_part.current_leader.leader_epoch = 6;
	fsrs_part.size = 10000;
	fsrs_part.position = 8192;
	fsrs_part.unaligned_records = SNAP;
	fsrs_topic.name = STR("__cluster_metadata");
	fsrs_topic.partitions_count = 1;
	fsrs_topic.partitions = &fsrs_part;
	m->topics_count = 1;
	m->topics = &fsrs_topic;
	fsrs_node = (struct wire_fetch_snapshot_response_node_endpoint){1, STR("h1"), 9093};
	m->node_endpoints_count = 1;
	m->node_endpoints = &fsrs_node;
}

static void fs_rsp_check(const void *p, int16_t v)
{
	const struct wire_fetch_snapshot_response *m = p;

	ck_assert_int_eq(m->throttle_time_ms, 11);
	ck_assert_int_eq(m->error_code, 12);
	ck_assert_int_eq(m->topics_count, 1);
	wt_ck_str(m->topics[0].name, "__cluster_metadata");
	const struct wire_fetch_snapshot_response_partition_snapshot *x =
	        &m->topics[0].partitions[0];
	ck_assert_int_eq(x->index, 0);
	ck_assert_int_eq(x->error_code, 13);
	ck_assert_int_eq(x->snapshot_id.end_offset, 500);
	ck_assert_int_eq(x->snapshot_id.epoch, 5);
	ck_assert_int_eq(x->current_leader.leader_id, 1);
	ck_assert_int_eq(x->current_leader.leader_epoch, 6);
	ck_assert_int_eq(x->size, 10000);
	ck_assert_int_eq(x->position, 8192);
	ck_assert_int_eq(x->unaligned_records.len, (int32_t)sizeof(snap_bytes));
	ck_assert(memcmp(x->unaligned_records.ptr, snap_bytes, sizeof(snap_bytes)) == 0);
	CK(m->node_endpoints_count, v >= 1, 1, 0);
	if (v >= 1) {
		ck_assert_int_eq(m->node_endpoints[0].node_id, 1);
		wt_ck_str(m->node_endpoints[0].host, "h1");
		ck_assert_uint_eq(m->node_endpoints[0].port, 9093);
	}
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
/* Versions and first flexible versions as in Kafka's schemas (Vote v2: Kafka 4.0, KIP-996). */
static const struct api_case cases[] = {
        CASE(52, 0, 2, 0, vote), CASE(53, 0, 1, 1, bqe), CASE(54, 0, 1, 1, eqe),
        CASE(55, 0, 2, 0, dq),   CASE(59, 0, 1, 0, fs),
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
		/* Header versions follow the flexible versions. */
		ck_assert_int_eq(wire_request_header_version(c->key, v), v >= c->flex_min ? 2 : 1);
		ck_assert_int_eq(wire_response_header_version(c->key, v), v >= c->flex_min ? 1 : 0);
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

/* Vote v2 (KIP-996): v1's layout plus the PreVote flag after LastOffset. */
START_TEST(vote_v2_request_bytes)
{
	struct wire_vote_request req, got;
	struct wire_vote_request_partition_data part = {0,          5, 2,  wt_uuid(1),
	                                                wt_uuid(2), 4, 10, true};
	struct wire_vote_request_topic_data topic = {STR("m"), 1, &part};
	uint8_t want[96];
	size_t n = 0;
	const uint8_t head[] = {0x00,                    /* cluster_id null */
	                        0x00, 0x00, 0x00, 0x09,  /* voter_id 9 */
	                        0x02, 0x02, 'm',         /* [1] topic "m" */
	                        0x02,                    /* [1] partition */
	                        0x00, 0x00, 0x00, 0x00,  /* partition_index 0 */
	                        0x00, 0x00, 0x00, 0x05,  /* candidate (replica) epoch 5 */
	                        0x00, 0x00, 0x00, 0x02}; /* candidate (replica) id 2 */
	memcpy(want, head, sizeof(head));
	n = sizeof(head);
	for (int i = 0; i < 16; i++)
		want[n++] = (uint8_t)(1 + i); /* candidate directory id */
	for (int i = 0; i < 16; i++)
		want[n++] = (uint8_t)(2 + i);           /* voter directory id */
	const uint8_t tail[] = {0x00, 0x00, 0x00, 0x04, /* last epoch */
	                        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* last offset */
	                        0x01,                                           /* pre_vote true */
	                        0x00, 0x00, 0x00}; /* tagged sections */
	memcpy(want + n, tail, sizeof(tail));
	n += sizeof(tail);

	wire_vote_request_init(&req);
	req.voter_id = 9;
	req.topics_count = 1;
	req.topics = &topic;
	golden(false, 52, 2, &req, want, n, &got);
	ck_assert(got.topics[0].partitions[0].pre_vote);
}
END_TEST

START_TEST(vote_v0_request_bytes)
{
	struct wire_vote_request req, got;
	struct wire_vote_request_partition_data part = {0,          5, 2,  wt_uuid(1),
	                                                wt_uuid(2), 4, 10, false};
	struct wire_vote_request_topic_data topic = {STR("m"), 1, &part};
	/* Flexible v0: cluster_id null (compact 0), [1] topic "m", [1] partition 0, candidate
	 * epoch 5, candidate id 2 (directory ids are v1+), last offset epoch 4, last offset 10,
	 * then empty tagged sections of partition, topic and message. */
	static const uint8_t want[] = {0x00, 0x02, 0x02, 'm',  0x02, 0x00, 0x00, 0x00,
	                               0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
	                               0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
	                               0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00};

	wire_vote_request_init(&req);
	req.voter_id = 9; /* v1+: not written */
	req.topics_count = 1;
	req.topics = &topic;
	golden(false, 52, 0, &req, want, sizeof(want), &got);
	wt_ck_str(got.cluster_id, NULL);
	ck_assert_int_eq(got.voter_id, -1);
	ck_assert_int_eq(got.topics[0].partitions[0].candidate_epoch, 5);
	wt_ck_uuid(got.topics[0].partitions[0].candidate_directory_id, false, 0);
	ck_assert_int_eq(got.topics[0].partitions[0].last_offset, 10);
}
END_TEST

START_TEST(vote_v1_response_tagged_endpoints_bytes)
{
	struct wire_vote_response rsp, got;
	struct wire_vote_response_node_endpoint ep = {1, STR("h"), 9093};
	/* error 0, topics [] (compact 1), then one tagged field: tag 0, size 10: [1] endpoint
	 * {node 1, host "h", port 0x2385, no tags}. */
	static const uint8_t want[] = {0x00, 0x00, 0x01, 0x01, 0x00, 0x0a, 0x02, 0x00,
	                               0x00, 0x00, 0x01, 0x02, 'h',  0x23, 0x85, 0x00};

	wire_vote_response_init(&rsp);
	rsp.node_endpoints_count = 1;
	rsp.node_endpoints = &ep;
	golden(true, 52, 1, &rsp, want, sizeof(want), &got);
	ck_assert_int_eq(got.node_endpoints_count, 1);
	ck_assert_int_eq(got.node_endpoints[0].node_id, 1);
	wt_ck_str(got.node_endpoints[0].host, "h");
	ck_assert_uint_eq(got.node_endpoints[0].port, 9093);
	/* Without endpoints the tag is not written: a single 0x00 tag count. */
	rsp.node_endpoints_count = 0;
	sl_buf_reset(&buf);
	wire_vote_response_encode(&buf, 1, &rsp);
	ck_assert_uint_eq(buf.len, 4);
	ck_assert(memcmp(buf.data, want, 3) == 0);
	ck_assert_uint_eq(buf.data[3], 0x00);
}
END_TEST

START_TEST(begin_quorum_epoch_v0_classic_bytes)
{
	struct wire_begin_quorum_epoch_request req, got;
	struct wire_begin_quorum_epoch_request_partition_data part = {0, wt_uuid(1), 1, 3};
	struct wire_begin_quorum_epoch_request_topic_data topic = {STR("m"), 1, &part};
	struct wire_begin_quorum_epoch_response rsp, rgot;
	struct wire_begin_quorum_epoch_response_partition_data rpart = {0, 0, 1, 3};
	struct wire_begin_quorum_epoch_response_topic_data rtopic = {STR("m"), 1, &rpart};
	/* Classic v0: cluster_id int16 1 "c", topics int32 1, name int16 1 "m", partitions int32
	 * 1, partition 0, leader 1, epoch 3; no tagged sections. */
	static const uint8_t want[] = {0x00, 0x01, 'c',  0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	                               'm',  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	                               0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03};
	/* error 0, topics 1, "m", partitions 1, partition 0, error 0, leader 1, epoch 3. */
	static const uint8_t rwant[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'm',
	                                0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	                                0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03};

	wire_begin_quorum_epoch_request_init(&req);
	req.cluster_id = STR("c");
	req.topics_count = 1;
	req.topics = &topic;
	golden(false, 53, 0, &req, want, sizeof(want), &got);
	wt_ck_str(got.cluster_id, "c");
	ck_assert_int_eq(got.topics[0].partitions[0].leader_epoch, 3);
	wire_begin_quorum_epoch_response_init(&rsp);
	rsp.topics_count = 1;
	rsp.topics = &rtopic;
	golden(true, 53, 0, &rsp, rwant, sizeof(rwant), &rgot);
	ck_assert_int_eq(rgot.topics[0].partitions[0].leader_id, 1);
}
END_TEST

START_TEST(end_quorum_epoch_v0_classic_bytes)
{
	struct wire_end_quorum_epoch_request req, got;
	struct wire_end_quorum_epoch_request_partition_data part;
	struct wire_end_quorum_epoch_request_topic_data topic = {STR("m"), 1, &part};
	int32_t succ[] = {2, 3};
	/* Classic v0: cluster_id null (int16 -1), topics 1, "m", partitions 1, partition 0,
	 * leader 1, epoch 3, preferred successors int32 2: 2, 3. */
	static const uint8_t want[] = {0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'm',  0x00,
	                               0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	                               0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00,
	                               0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03};

	wire_end_quorum_epoch_request_init(&req);
	wire_end_quorum_epoch_request_partition_data_init(&part);
	part.leader_id = 1;
	part.leader_epoch = 3;
	ARR(part.preferred_successors, succ);
	req.topics_count = 1;
	req.topics = &topic;
	golden(false, 54, 0, &req, want, sizeof(want), &got);
	wt_ck_str(got.cluster_id, NULL);
	ck_assert_int_eq(got.topics[0].partitions[0].preferred_successors_count, 2);
	ck_assert_int_eq(got.topics[0].partitions[0].preferred_successors[1], 3);
}
END_TEST

START_TEST(describe_quorum_v1_bytes)
{
	struct wire_describe_quorum_request req, got;
	struct wire_describe_quorum_request_partition_data part = {0};
	struct wire_describe_quorum_request_topic_data topic = {STR("m"), 1, &part};
	struct wire_describe_quorum_response rsp, rgot;
	struct wire_describe_quorum_response_replica_state voter = {1, wt_uuid(1), 10, -1, 5};
	struct wire_describe_quorum_response_partition_data rpart;
	struct wire_describe_quorum_response_topic_data rtopic = {STR("m"), 1, &rpart};
	/* [1] topic "m" [1] partition 0, tags of partition, topic, message. */
	static const uint8_t want[] = {0x02, 0x02, 'm',  0x02, 0x00, 0x00,
	                               0x00, 0x00, 0x00, 0x00, 0x00};
	/* error 0, [1] topic "m", [1] partition 0 error 0 leader 1 epoch 2 hw 10, voters [1]:
	 * {id 1, leo 10, last fetch -1, caught up 5, tags}, observers [], tags x3. */
	static const uint8_t rwant[] = {
	        0x00, 0x00, 0x02, 0x02, 'm',  0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	        0x00, 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00};

	wire_describe_quorum_request_init(&req);
	req.topics_count = 1;
	req.topics = &topic;
	golden(false, 55, 1, &req, want, sizeof(want), &got);
	wire_describe_quorum_response_init(&rsp);
	wire_describe_quorum_response_partition_data_init(&rpart);
	rpart.leader_id = 1;
	rpart.leader_epoch = 2;
	rpart.high_watermark = 10;
	rpart.current_voters_count = 1;
	rpart.current_voters = &voter;
	rsp.error_message = STR("v2 only");
	rsp.topics_count = 1;
	rsp.topics = &rtopic;
	golden(true, 55, 1, &rsp, rwant, sizeof(rwant), &rgot);
	ck_assert_int_eq(rgot.topics[0].partitions[0].current_voters[0].last_fetch_timestamp, -1);
	ck_assert_int_eq(rgot.topics[0].partitions[0].current_voters[0].last_caught_up_timestamp,
	                 5);
	wt_ck_uuid(rgot.topics[0].partitions[0].current_voters[0].replica_directory_id, false, 0);
}
END_TEST

START_TEST(fetch_snapshot_v1_tagged_bytes)
{
	struct wire_fetch_snapshot_request req, got;
	struct wire_fetch_snapshot_request_partition_snapshot part;
	struct wire_fetch_snapshot_request_topic_snapshot topic = {STR("m"), 1, &part};
	uint8_t want[80];
	size_t n = 0;
	/* replica 2, max bytes 1024, [1] topic "m" [1] partition 0, leader epoch 3, snapshot id
	 * {end offset 100, epoch 2, tags}, position 0. */
	static const uint8_t head[] = {
	        0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x04, 0x00, 0x02, 0x02, 'm',  0x02, 0x00, 0x00,
	        0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64,
	        0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	/* Partition tags: 1 field, tag 0, size 16, the directory id. */
	static const uint8_t ptag[] = {0x01, 0x00, 0x10};
	/* Topic tags none; message tags: 1 field, tag 0 (cluster id), size 2, compact "c". */
	static const uint8_t tail[] = {0x00, 0x01, 0x00, 0x02, 0x02, 'c'};
	struct sl_uuid dir = wt_uuid(0x20);

	memcpy(want + n, head, sizeof(head));
	n += sizeof(head);
	memcpy(want + n, ptag, sizeof(ptag));
	n += sizeof(ptag);
	memcpy(want + n, dir.b, 16);
	n += 16;
	memcpy(want + n, tail, sizeof(tail));
	n += sizeof(tail);
	wire_fetch_snapshot_request_init(&req);
	wire_fetch_snapshot_request_partition_snapshot_init(&part);
	req.cluster_id = STR("c");
	req.replica_id = 2;
	req.max_bytes = 1024;
	part.current_leader_epoch = 3;
	part.snapshot_id.end_offset = 100;
	part.snapshot_id.epoch = 2;
	part.replica_directory_id = dir;
	req.topics_count = 1;
	req.topics = &topic;
	golden(false, 59, 1, &req, want, n, &got);
	wt_ck_str(got.cluster_id, "c");
	wt_ck_uuid(got.topics[0].partitions[0].replica_directory_id, true, 0x20);
	ck_assert_int_eq(got.topics[0].partitions[0].snapshot_id.end_offset, 100);
	/* v0: the directory id is not a field there, so no partition tag is written. */
	sl_buf_reset(&buf);
	wire_fetch_snapshot_request_encode(&buf, 0, &req);
	ck_assert_uint_eq(buf.len, n - sizeof(ptag) - 16 + 1);
	ck_assert_uint_eq(buf.data[sizeof(head)], 0x00);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("wire_raft");
	TCase *tc = tcase_create("raft_apis");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, roundtrip_every_version, 0, (int)NCASES);
	tcase_add_loop_test(tc, truncated_everywhere, 0, (int)NCASES);
	tcase_add_test(tc, vote_v0_request_bytes);
	tcase_add_test(tc, vote_v2_request_bytes);
	tcase_add_test(tc, vote_v1_response_tagged_endpoints_bytes);
	tcase_add_test(tc, begin_quorum_epoch_v0_classic_bytes);
	tcase_add_test(tc, end_quorum_epoch_v0_classic_bytes);
	tcase_add_test(tc, describe_quorum_v1_bytes);
	tcase_add_test(tc, fetch_snapshot_v1_tagged_bytes);
	suite_add_tcase(s, tc);
	return s;
}
