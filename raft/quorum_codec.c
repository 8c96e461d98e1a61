/*
 * quorum_codec.c: wire <-> raft_msg for the Raft RPCs (kraft.md §3.2). Inbound: decode,
 * validate the partition and cluster id, step. Answers: encode the core's response message.
 * Outbound: encode the core's request, and step the decoded response.
 */
#include "raft_int.h"

#include "kerr.h"
#include "peer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METADATA_TOPIC "__cluster_metadata"

static const struct sl_uuid metadata_topic_id = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

static bool str_is(struct wire_str s, const char *want)
{
	return s.ptr != NULL && (size_t)s.len == strlen(want) &&
	       memcmp(s.ptr, want, (size_t)s.len) == 0;
}

static struct wire_str cstr(const char *s)
{
	return (struct wire_str){.ptr = s, .len = (int32_t)strlen(s)};
}

/* INCONSISTENT_CLUSTER_ID for a present, different cluster id; else NONE. */
static int16_t cluster_check(const struct raft *r, struct wire_str id)
{
	if (id.ptr == NULL || id.len <= 0 || r->cluster_id[0] == '\0')
		return WIRE_ERR_NONE;
	return str_is(id, r->cluster_id) ? WIRE_ERR_NONE : WIRE_ERR_INCONSISTENT_CLUSTER_ID;
}

/* The partition check shared by every RPC: one topic, one partition, ours. */
static int16_t partition_check(int32_t topics, struct wire_str name, int32_t parts, int32_t index)
{
	if (topics != 1 || parts != 1)
		return WIRE_ERR_INVALID_REQUEST;
	if (!str_is(name, METADATA_TOPIC) || index != 0)
		return WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	return WIRE_ERR_NONE;
}

static struct raft_msg new_msg(enum raft_msg_type t, int32_t from)
{
	struct raft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = t;
	m.from = from;
	m.leader_id = -1;
	m.diverging_epoch = -1;
	m.diverging_end_offset = -1;
	m.snapshot_id = (struct raft_snapshot_id){.end_offset = -1, .epoch = -1};
	m.records_from = -1;
	return m;
}

/* ---- Vote --------------------------------------------------------------------------------- */

static void vote_reply(struct sl_buf *out, int16_t version, int16_t top, int16_t err,
                       int32_t leader, int32_t epoch, bool granted)
{
	struct wire_vote_response_partition_data p;
	wire_vote_response_partition_data_init(&p);
	p.error_code = err;
	p.leader_id = leader;
	p.leader_epoch = epoch;
	p.vote_granted = granted;
	struct wire_vote_response_topic_data t;
	wire_vote_response_topic_data_init(&t);
	t.topic_name = cstr(METADATA_TOPIC);
	t.partitions = &p;
	t.partitions_count = 1;
	struct wire_vote_response resp;
	wire_vote_response_init(&resp);
	resp.error_code = top;
	resp.topics = &t;
	resp.topics_count = top == WIRE_ERR_NONE ? 1 : 0;
	wire_vote_response_encode(out, version, &resp);
}

enum sl_err raft_rpc_vote(struct raft *r, int16_t version, struct wire_reader *body,
                          struct sl_buf *out)
{
	struct wire_vote_request q;
	if (wire_vote_request_decode(body, version, &q) != SL_OK || !wire_reader_done(body))
		return SL_EMALFORMED;
	int16_t top = cluster_check(r, q.cluster_id);
	const struct wire_vote_request_partition_data *p = NULL;
	if (top == WIRE_ERR_NONE) {
		const struct wire_vote_request_topic_data *t =
		        q.topics_count > 0 ? &q.topics[0] : NULL;
		top = t == NULL
		              ? WIRE_ERR_INVALID_REQUEST
		              : partition_check(q.topics_count, t->topic_name, t->partitions_count,
		                                t->partitions_count > 0
		                                        ? t->partitions[0].partition_index
		                                        : -1);
		if (top == WIRE_ERR_NONE)
			p = &t->partitions[0];
	}
	if (top != WIRE_ERR_NONE) {
		vote_reply(out, version, top, WIRE_ERR_NONE, -1, -1, false);
		return SL_OK;
	}
	struct raft_msg m = new_msg(RAFT_VOTE_REQ, p->candidate_id);
	m.epoch = p->candidate_epoch;
	m.last_epoch = p->last_offset_epoch;
	m.last_offset = p->last_offset;
	m.pre_vote = version >= 2 && p->pre_vote;
	struct raft_rpc_call c = {.api_key = 52, .version = version};
	if (!raft_step_inbound(r, &m, out, &c))
		vote_reply(out, version, WIRE_ERR_NONE, WIRE_ERR_BROKER_NOT_AVAILABLE, -1, -1,
		           false);
	return SL_OK;
}

/* ---- BeginQuorumEpoch / EndQuorumEpoch ------------------------------------------------------- */

static void begin_reply(struct sl_buf *out, int16_t version, int16_t top, int16_t err,
                        int32_t leader, int32_t epoch)
{
	struct wire_begin_quorum_epoch_response_partition_data p;
	wire_begin_quorum_epoch_response_partition_data_init(&p);
	p.error_code = err;
	p.leader_id = leader;
	p.leader_epoch = epoch;
	struct wire_begin_quorum_epoch_response_topic_data t;
	wire_begin_quorum_epoch_response_topic_data_init(&t);
	t.topic_name = cstr(METADATA_TOPIC);
	t.partitions = &p;
	t.partitions_count = 1;
	struct wire_begin_quorum_epoch_response resp;
	wire_begin_quorum_epoch_response_init(&resp);
	resp.error_code = top;
	resp.topics = &t;
	resp.topics_count = top == WIRE_ERR_NONE ? 1 : 0;
	wire_begin_quorum_epoch_response_encode(out, version, &resp);
}

enum sl_err raft_rpc_begin(struct raft *r, int16_t version, struct wire_reader *body,
                           struct sl_buf *out)
{
	struct wire_begin_quorum_epoch_request q;
	if (wire_begin_quorum_epoch_request_decode(body, version, &q) != SL_OK ||
	    !wire_reader_done(body))
		return SL_EMALFORMED;
	int16_t top = cluster_check(r, q.cluster_id);
	const struct wire_begin_quorum_epoch_request_partition_data *p = NULL;
	if (top == WIRE_ERR_NONE) {
		const struct wire_begin_quorum_epoch_request_topic_data *t =
		        q.topics_count > 0 ? &q.topics[0] : NULL;
		top = t == NULL
		              ? WIRE_ERR_INVALID_REQUEST
		              : partition_check(q.topics_count, t->topic_name, t->partitions_count,
		                                t->partitions_count > 0
		                                        ? t->partitions[0].partition_index
		                                        : -1);
		if (top == WIRE_ERR_NONE)
			p = &t->partitions[0];
	}
	if (top != WIRE_ERR_NONE) {
		begin_reply(out, version, top, WIRE_ERR_NONE, -1, -1);
		return SL_OK;
	}
	struct raft_msg m = new_msg(RAFT_BEGIN_REQ, p->leader_id);
	m.epoch = p->leader_epoch;
	m.leader_id = p->leader_id;
	struct raft_rpc_call c = {.api_key = 53, .version = version};
	if (!raft_step_inbound(r, &m, out, &c))
		begin_reply(out, version, WIRE_ERR_NONE, WIRE_ERR_BROKER_NOT_AVAILABLE, -1, -1);
	return SL_OK;
}

static void end_reply(struct sl_buf *out, int16_t version, int16_t top, int16_t err, int32_t leader,
                      int32_t epoch)
{
	struct wire_end_quorum_epoch_response_partition_data p;
	wire_end_quorum_epoch_response_partition_data_init(&p);
	p.error_code = err;
	p.leader_id = leader;
	p.leader_epoch = epoch;
	struct wire_end_quorum_epoch_response_topic_data t;
	wire_end_quorum_epoch_response_topic_data_init(&t);
	t.topic_name = cstr(METADATA_TOPIC);
	t.partitions = &p;
	t.partitions_count = 1;
	struct wire_end_quorum_epoch_response resp;
	wire_end_quorum_epoch_response_init(&resp);
	resp.error_code = top;
	resp.topics = &t;
	resp.topics_count = top == WIRE_ERR_NONE ? 1 : 0;
	wire_end_quorum_epoch_response_encode(out, version, &resp);
}

enum sl_err raft_rpc_end(struct raft *r, int16_t version, struct wire_reader *body,
                         struct sl_buf *out)
{
	struct wire_end_quorum_epoch_request q;
	if (wire_end_quorum_epoch_request_decode(body, version, &q) != SL_OK ||
	    !wire_reader_done(body))
		return SL_EMALFORMED;
	int16_t top = cluster_check(r, q.cluster_id);
	const struct wire_end_quorum_epoch_request_partition_data *p = NULL;
	if (top == WIRE_ERR_NONE) {
		const struct wire_end_quorum_epoch_request_topic_data *t =
		        q.topics_count > 0 ? &q.topics[0] : NULL;
		top = t == NULL
		              ? WIRE_ERR_INVALID_REQUEST
		              : partition_check(q.topics_count, t->topic_name, t->partitions_count,
		                                t->partitions_count > 0
		                                        ? t->partitions[0].partition_index
		                                        : -1);
		if (top == WIRE_ERR_NONE)
			p = &t->partitions[0];
	}
	if (top != WIRE_ERR_NONE) {
		end_reply(out, version, top, WIRE_ERR_NONE, -1, -1);
		return SL_OK;
	}
	struct raft_msg m = new_msg(RAFT_END_REQ, p->leader_id);
	m.epoch = p->leader_epoch;
	m.leader_id = p->leader_id;
	if (version == 0) {
		for (int32_t i = 0;
		     i < p->preferred_successors_count && m.successor_count < RAFT_CORE_VOTERS_MAX;
		     i++)
			m.successors[m.successor_count++] = p->preferred_successors[i];
	} else {
		for (int32_t i = 0;
		     i < p->preferred_candidates_count && m.successor_count < RAFT_CORE_VOTERS_MAX;
		     i++)
			m.successors[m.successor_count++] = p->preferred_candidates[i].candidate_id;
	}
	struct raft_rpc_call c = {.api_key = 54, .version = version};
	if (!raft_step_inbound(r, &m, out, &c))
		end_reply(out, version, WIRE_ERR_NONE, WIRE_ERR_BROKER_NOT_AVAILABLE, -1, -1);
	return SL_OK;
}

/* ---- Fetch ------------------------------------------------------------------------------------
 */

/* Encodes a Fetch response for the metadata partition; records (may be empty) attached. */
static void fetch_reply(struct sl_buf *out, int16_t version, int16_t top, const struct raft_msg *m,
                        int16_t err, const uint8_t *records, size_t records_len)
{
	struct wire_fetch_response_partition_data p;
	wire_fetch_response_partition_data_init(&p);
	p.partition_index = 0;
	p.error_code = err;
	if (m != NULL) {
		p.high_watermark = m->high_watermark;
		p.log_start_offset = m->log_start;
		p.last_stable_offset = m->high_watermark;
		p.current_leader.leader_id = m->leader_id;
		p.current_leader.leader_epoch = m->epoch;
		if (m->diverging_epoch >= 0) {
			p.diverging_epoch.epoch = m->diverging_epoch;
			p.diverging_epoch.end_offset = m->diverging_end_offset;
		}
		if (m->snapshot_id.end_offset >= 0) {
			p.snapshot_id.end_offset = m->snapshot_id.end_offset;
			p.snapshot_id.epoch = m->snapshot_id.epoch;
		}
	}
	p.records = (struct wire_bytes){.ptr = records_len > 0 ? records : (const uint8_t *)"",
	                                .len = (int32_t)records_len};
	struct wire_fetch_response_fetchable_topic_response t;
	wire_fetch_response_fetchable_topic_response_init(&t);
	t.topic = cstr(METADATA_TOPIC);
	t.topic_id = metadata_topic_id;
	t.partitions = &p;
	t.partitions_count = 1;
	struct wire_fetch_response resp;
	wire_fetch_response_init(&resp);
	resp.error_code = top;
	resp.responses = &t;
	resp.responses_count = top == WIRE_ERR_NONE ? 1 : 0;
	wire_fetch_response_encode(out, version, &resp);
}

enum sl_err raft_rpc_fetch(struct raft *r, int16_t version, struct wire_reader *body,
                           struct sl_buf *out, raft_rpc_done_fn *done, void *ctx)
{
	struct wire_fetch_request q;
	if (wire_fetch_request_decode(body, version, &q) != SL_OK || !wire_reader_done(body))
		return SL_EMALFORMED;
	int16_t top = version >= 12 ? cluster_check(r, q.cluster_id) : WIRE_ERR_NONE;
	const struct wire_fetch_request_partition *p = NULL;
	if (top == WIRE_ERR_NONE) {
		const struct wire_fetch_request_topic *t = q.topics_count > 0 ? &q.topics[0] : NULL;
		if (t == NULL || q.topics_count != 1 || t->partitions_count != 1)
			top = WIRE_ERR_INVALID_REQUEST;
		else if ((version >= 13 ? !sl_uuid_eq(&t->topic_id, &metadata_topic_id)
		                        : !str_is(t->topic, METADATA_TOPIC)) ||
		         t->partitions[0].partition != 0)
			top = WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		else
			p = &t->partitions[0];
	}
	if (top != WIRE_ERR_NONE) {
		fetch_reply(out, version, top, NULL, WIRE_ERR_NONE, NULL, 0);
		return SL_OK;
	}
	int32_t replica = version >= 15 ? q.replica_state.replica_id : q.replica_id;
	struct raft_msg m = new_msg(RAFT_FETCH_REQ, replica);
	m.epoch = p->current_leader_epoch;
	m.fetch_offset = p->fetch_offset;
	m.last_fetched_epoch = p->last_fetched_epoch;
	m.max_wait_ms = q.max_wait_ms;
	int32_t max_bytes = SL_MIN(p->partition_max_bytes, version >= 3 ? q.max_bytes : INT32_MAX);
	struct raft_rpc_call c = {.api_key = 1, .version = version, .max_bytes = max_bytes};
	if (raft_step_inbound(r, &m, out, &c))
		return SL_OK;
	struct raft_inbound *in = calloc(1, sizeof(*in));
	if (in == NULL) {
		fetch_reply(out, version, WIRE_ERR_NONE, NULL, WIRE_ERR_BROKER_NOT_AVAILABLE, NULL,
		            0);
		return SL_OK;
	}
	*in = (struct raft_inbound){.req_id = m.req_id,
	                            .api_key = 1,
	                            .version = version,
	                            .max_bytes = max_bytes,
	                            .done = done,
	                            .ctx = ctx,
	                            .next = r->inbound};
	r->inbound = in;
	return SL_EAGAIN;
}

/* Reads the records the core wants sent (whole batches from `from`, up to max_bytes). */
static void fetch_records(struct raft *r, int64_t from, int32_t max_bytes, const uint8_t **p,
                          size_t *len)
{
	*p = NULL;
	*len = 0;
	struct stor_read_result res;
	uint64_t cap = (uint64_t)SL_MIN((int64_t)RAFT_FETCH_MAX_BYTES, SL_MAX(max_bytes, 1));
	if (stor_log_read(r->log, from, cap, -1, &res) != SL_OK || res.range.len == 0)
		return;
	if (raft_read_range(&res.range, &r->recbuf) != SL_OK)
		return;
	*p = r->recbuf.data;
	*len = r->recbuf.len;
}

/* ---- FetchSnapshot --------------------------------------------------------------------------- */

static void snap_reply(struct sl_buf *out, int16_t version, int16_t top, const struct raft_msg *m,
                       int16_t err, const uint8_t *chunk, size_t chunk_len)
{
	struct wire_fetch_snapshot_response_partition_snapshot p;
	wire_fetch_snapshot_response_partition_snapshot_init(&p);
	p.index = 0;
	p.error_code = err;
	if (m != NULL) {
		p.snapshot_id.end_offset = m->snapshot_id.end_offset;
		p.snapshot_id.epoch = m->snapshot_id.epoch;
		p.current_leader.leader_id = m->leader_id;
		p.current_leader.leader_epoch = m->epoch;
		p.size = m->size;
		p.position = m->position;
	}
	p.unaligned_records = (struct wire_bytes){
	        .ptr = chunk_len > 0 ? chunk : (const uint8_t *)"", .len = (int32_t)chunk_len};
	struct wire_fetch_snapshot_response_topic_snapshot t;
	wire_fetch_snapshot_response_topic_snapshot_init(&t);
	t.name = cstr(METADATA_TOPIC);
	t.partitions = &p;
	t.partitions_count = 1;
	struct wire_fetch_snapshot_response resp;
	wire_fetch_snapshot_response_init(&resp);
	resp.error_code = top;
	resp.topics = &t;
	resp.topics_count = top == WIRE_ERR_NONE ? 1 : 0;
	wire_fetch_snapshot_response_encode(out, version, &resp);
}

enum sl_err raft_rpc_fetch_snapshot(struct raft *r, int16_t version, struct wire_reader *body,
                                    struct sl_buf *out)
{
	struct wire_fetch_snapshot_request q;
	if (wire_fetch_snapshot_request_decode(body, version, &q) != SL_OK ||
	    !wire_reader_done(body))
		return SL_EMALFORMED;
	int16_t top = cluster_check(r, q.cluster_id);
	const struct wire_fetch_snapshot_request_partition_snapshot *p = NULL;
	if (top == WIRE_ERR_NONE) {
		const struct wire_fetch_snapshot_request_topic_snapshot *t =
		        q.topics_count > 0 ? &q.topics[0] : NULL;
		top = t == NULL
		              ? WIRE_ERR_INVALID_REQUEST
		              : partition_check(q.topics_count, t->name, t->partitions_count,
		                                t->partitions_count > 0 ? t->partitions[0].partition
		                                                        : -1);
		if (top == WIRE_ERR_NONE)
			p = &t->partitions[0];
	}
	if (top != WIRE_ERR_NONE) {
		snap_reply(out, version, top, NULL, WIRE_ERR_NONE, NULL, 0);
		return SL_OK;
	}
	struct raft_msg m = new_msg(RAFT_SNAP_REQ, q.replica_id);
	m.epoch = p->current_leader_epoch;
	m.snapshot_id.end_offset = p->snapshot_id.end_offset;
	m.snapshot_id.epoch = p->snapshot_id.epoch;
	m.position = p->position;
	struct raft_rpc_call c = {.api_key = 59, .version = version, .max_bytes = q.max_bytes};
	if (!raft_step_inbound(r, &m, out, &c))
		snap_reply(out, version, WIRE_ERR_NONE, NULL, WIRE_ERR_BROKER_NOT_AVAILABLE, NULL,
		           0);
	return SL_OK;
}

/* ---- DescribeQuorum ---------------------------------------------------------------------------
 */

/* DescribeQuorum v2 `nodes` (KIP-853): every configured voter with one listener, its
 * controller listener (the address this node sends Raft RPCs to). Brokers configured with
 * controller.quorum.bootstrap.servers learn the voters' addresses from it. */
static int32_t describe_nodes(const struct raft *r,
                              struct wire_describe_quorum_response_node *nodes,
                              struct wire_describe_quorum_response_listener *listeners)
{
	SL_ASSERT(r->voter_addr_count <= RAFT_VOTERS_MAX);
	for (uint32_t i = 0; i < r->voter_addr_count; i++) {
		const struct raft_voter *v = &r->voter_addrs[i];
		wire_describe_quorum_response_listener_init(&listeners[i]);
		listeners[i].name = cstr(r->listener_name);
		listeners[i].host = cstr(v->host);
		listeners[i].port = v->port;
		wire_describe_quorum_response_node_init(&nodes[i]);
		nodes[i].node_id = v->id;
		nodes[i].listeners = &listeners[i];
		nodes[i].listeners_count = 1;
	}
	return (int32_t)r->voter_addr_count;
}

enum sl_err raft_rpc_describe(struct raft *r, int16_t version, struct wire_reader *body,
                              struct sl_buf *out)
{
	struct wire_describe_quorum_request q;
	if (wire_describe_quorum_request_decode(body, version, &q) != SL_OK ||
	    !wire_reader_done(body))
		return SL_EMALFORMED;
	int16_t top = WIRE_ERR_NONE;
	const struct wire_describe_quorum_request_topic_data *t =
	        q.topics_count > 0 ? &q.topics[0] : NULL;
	top = t == NULL ? WIRE_ERR_INVALID_REQUEST
	                : partition_check(q.topics_count, t->topic_name, t->partitions_count,
	                                  t->partitions_count > 0 ? t->partitions[0].partition_index
	                                                          : -1);
	struct raft_replica_state reps[RAFT_CORE_VOTERS_MAX + RAFT_CORE_OBSERVERS_MAX];
	uint32_t nv = 0;
	int64_t now = raft_now();
	uint32_t n = raft_core_replicas(r->core, now, reps, SL_ARRAY_LEN(reps), &nv);
	struct wire_describe_quorum_response_replica_state
	        rs[RAFT_CORE_VOTERS_MAX + RAFT_CORE_OBSERVERS_MAX];
	int64_t wall = sl_wall_ms();
	for (uint32_t i = 0; i < n; i++) {
		wire_describe_quorum_response_replica_state_init(&rs[i]);
		rs[i].replica_id = reps[i].id;
		rs[i].log_end_offset = reps[i].log_end_offset;
		rs[i].last_fetch_timestamp =
		        reps[i].last_fetch_ms >= 0 ? wall - (now - reps[i].last_fetch_ms) : -1;
		rs[i].last_caught_up_timestamp = reps[i].last_caught_up_ms >= 0
		                                         ? wall - (now - reps[i].last_caught_up_ms)
		                                         : -1;
	}
	struct wire_describe_quorum_response_partition_data p;
	wire_describe_quorum_response_partition_data_init(&p);
	p.partition_index = 0;
	if (raft_core_role(r->core) != RAFT_LEADER) {
		p.error_code = WIRE_ERR_NOT_LEADER_OR_FOLLOWER;
		n = nv = 0;
	}
	p.leader_id = raft_core_leader_id(r->core);
	p.leader_epoch = raft_core_epoch(r->core);
	p.high_watermark = raft_core_high_watermark(r->core);
	p.current_voters = rs;
	p.current_voters_count = (int32_t)nv;
	p.observers = rs + nv;
	p.observers_count = (int32_t)(n - nv);
	struct wire_describe_quorum_response_topic_data rt;
	wire_describe_quorum_response_topic_data_init(&rt);
	rt.topic_name = cstr(METADATA_TOPIC);
	rt.partitions = &p;
	rt.partitions_count = 1;
	struct wire_describe_quorum_response resp;
	wire_describe_quorum_response_init(&resp);
	resp.error_code = top;
	resp.topics = &rt;
	resp.topics_count = top == WIRE_ERR_NONE ? 1 : 0;
	struct wire_describe_quorum_response_node nodes[RAFT_VOTERS_MAX];
	struct wire_describe_quorum_response_listener listeners[RAFT_VOTERS_MAX];
	if (top == WIRE_ERR_NONE && p.error_code == WIRE_ERR_NONE)
		resp.nodes_count = describe_nodes(r, nodes, listeners);
	resp.nodes = nodes;
	wire_describe_quorum_response_encode(out, version, &resp);
	return SL_OK;
}

/* ---- answers ----------------------------------------------------------------------------------
 */

void raft_encode_answer(struct raft *r, const struct raft_msg *m, const struct raft_rpc_call *c,
                        struct sl_buf *out)
{
	switch (m->type) {
	case RAFT_VOTE_RESP:
		vote_reply(out, c->version, WIRE_ERR_NONE, m->error, m->leader_id, m->epoch,
		           m->granted);
		break;
	case RAFT_BEGIN_RESP:
		begin_reply(out, c->version, WIRE_ERR_NONE, m->error, m->leader_id, m->epoch);
		break;
	case RAFT_END_RESP:
		end_reply(out, c->version, WIRE_ERR_NONE, m->error, m->leader_id, m->epoch);
		break;
	case RAFT_FETCH_RESP: {
		const uint8_t *rec = NULL;
		size_t len = 0;
		if (m->error == WIRE_ERR_NONE && m->records_from >= 0)
			fetch_records(r, m->records_from, c->max_bytes, &rec, &len);
		fetch_reply(out, c->version, WIRE_ERR_NONE, m, m->error, rec, len);
		break;
	}
	case RAFT_SNAP_RESP: {
		const uint8_t *chunk = NULL;
		size_t len = 0;
		int16_t err = m->error;
		if (err == WIRE_ERR_NONE && !raft_snapshot_chunk(r, m->snapshot_id, m->position,
		                                                 c->max_bytes, &chunk, &len))
			err = WIRE_ERR_SNAPSHOT_NOT_FOUND;
		snap_reply(out, c->version, WIRE_ERR_NONE, m, err, chunk, len);
		break;
	}
	default:
		break;
	}
}

/* ---- outbound ---------------------------------------------------------------------------------
 */

static void step_response(struct raft *r, struct raft_msg *m)
{
	if (r->closing || r->offline)
		return;
	raft_core_step(r->core, raft_now(), m);
	raft_process(r);
}

static void on_response(void *ctx, enum sl_err err, const void *resp, int16_t version)
{
	struct raft_out *oc = ctx;
	struct raft *r = oc->r;
	struct raft_msg m = new_msg(RAFT_VOTE_RESP, oc->to);
	m.to = r->node_id;
	m.req_id = oc->req_id;
	bool ok = err == SL_OK && resp != NULL;
	(void)version;
	switch (oc->type) {
	case RAFT_VOTE_REQ: {
		const struct wire_vote_response *v = resp;
		m.type = RAFT_VOTE_RESP;
		ok = ok && v->error_code == 0 && v->topics_count == 1 &&
		     v->topics[0].partitions_count == 1;
		if (ok) {
			const struct wire_vote_response_partition_data *p =
			        &v->topics[0].partitions[0];
			m.error = p->error_code;
			m.leader_id = p->leader_id;
			m.epoch = p->leader_epoch;
			m.granted = p->vote_granted;
		}
		break;
	}
	case RAFT_BEGIN_REQ: {
		const struct wire_begin_quorum_epoch_response *v = resp;
		m.type = RAFT_BEGIN_RESP;
		ok = ok && v->error_code == 0 && v->topics_count == 1 &&
		     v->topics[0].partitions_count == 1;
		if (ok) {
			const struct wire_begin_quorum_epoch_response_partition_data *p =
			        &v->topics[0].partitions[0];
			m.error = p->error_code;
			m.leader_id = p->leader_id;
			m.epoch = p->leader_epoch;
		}
		break;
	}
	case RAFT_END_REQ: {
		const struct wire_end_quorum_epoch_response *v = resp;
		m.type = RAFT_END_RESP;
		ok = ok && v->error_code == 0 && v->topics_count == 1 &&
		     v->topics[0].partitions_count == 1;
		if (ok) {
			const struct wire_end_quorum_epoch_response_partition_data *p =
			        &v->topics[0].partitions[0];
			m.error = p->error_code;
			m.leader_id = p->leader_id;
			m.epoch = p->leader_epoch;
		}
		break;
	}
	case RAFT_FETCH_REQ: {
		const struct wire_fetch_response *v = resp;
		m.type = RAFT_FETCH_RESP;
		ok = ok && v->error_code == 0 && v->responses_count == 1 &&
		     v->responses[0].partitions_count == 1;
		if (ok) {
			const struct wire_fetch_response_partition_data *p =
			        &v->responses[0].partitions[0];
			m.error = p->error_code;
			m.leader_id = p->current_leader.leader_id;
			m.epoch = p->current_leader.leader_epoch;
			m.high_watermark = p->high_watermark;
			m.log_start = p->log_start_offset;
			if (p->diverging_epoch.epoch >= 0) {
				m.diverging_epoch = p->diverging_epoch.epoch;
				m.diverging_end_offset = p->diverging_epoch.end_offset;
			}
			if (p->snapshot_id.end_offset >= 0)
				m.snapshot_id = (struct raft_snapshot_id){
				        .end_offset = p->snapshot_id.end_offset,
				        .epoch = p->snapshot_id.epoch};
			uint32_t nb = 0;
			if (p->records.ptr != NULL && p->records.len > 0 &&
			    !raft_parse_batches(r, p->records.ptr, (size_t)p->records.len, &nb))
				ok = false;
			m.batches = r->batches;
			m.batch_count = nb;
			r->step_records = p->records.ptr;
			r->step_records_len = p->records.len > 0 ? (size_t)p->records.len : 0;
		}
		break;
	}
	case RAFT_SNAP_REQ: {
		const struct wire_fetch_snapshot_response *v = resp;
		m.type = RAFT_SNAP_RESP;
		ok = ok && v->error_code == 0 && v->topics_count == 1 &&
		     v->topics[0].partitions_count == 1;
		if (ok) {
			const struct wire_fetch_snapshot_response_partition_snapshot *p =
			        &v->topics[0].partitions[0];
			m.error = p->error_code;
			m.leader_id = p->current_leader.leader_id;
			m.epoch = p->current_leader.leader_epoch;
			m.snapshot_id =
			        (struct raft_snapshot_id){.end_offset = p->snapshot_id.end_offset,
			                                  .epoch = p->snapshot_id.epoch};
			m.size = p->size;
			m.position = p->position;
			m.chunk_len = p->unaligned_records.len > 0 ? p->unaligned_records.len : 0;
			r->step_records = p->unaligned_records.ptr;
			r->step_records_len = (size_t)m.chunk_len;
		}
		break;
	}
	default:
		ok = false;
		break;
	}
	free(oc);
	if (ok)
		step_response(r, &m);
	r->step_records = NULL;
	r->step_records_len = 0;
}

static enum sl_err send_vote(struct raft *r, struct net_peer *peer, const struct raft_msg *m,
                             void *ctx)
{
	struct wire_vote_request_partition_data p;
	wire_vote_request_partition_data_init(&p);
	p.partition_index = 0;
	p.candidate_epoch = m->epoch;
	p.candidate_id = r->node_id;
	p.last_offset_epoch = m->last_epoch;
	p.last_offset = m->last_offset;
	p.pre_vote = m->pre_vote;
	struct wire_vote_request_topic_data t;
	wire_vote_request_topic_data_init(&t);
	t.topic_name = cstr(METADATA_TOPIC);
	t.partitions = &p;
	t.partitions_count = 1;
	struct wire_vote_request q;
	wire_vote_request_init(&q);
	q.cluster_id = cstr(r->cluster_id);
	q.voter_id = m->to;
	q.topics = &t;
	q.topics_count = 1;
	/* Pre-vote needs Vote v2; every Sluice voter speaks it. */
	return net_peer_send(peer, 52, m->pre_vote ? 2 : -1, &q, on_response, ctx);
}

static enum sl_err send_begin_end(struct raft *r, struct net_peer *peer, const struct raft_msg *m,
                                  void *ctx)
{
	if (m->type == RAFT_BEGIN_REQ) {
		struct wire_begin_quorum_epoch_request_partition_data p;
		wire_begin_quorum_epoch_request_partition_data_init(&p);
		p.leader_id = r->node_id;
		p.leader_epoch = m->epoch;
		struct wire_begin_quorum_epoch_request_topic_data t;
		wire_begin_quorum_epoch_request_topic_data_init(&t);
		t.topic_name = cstr(METADATA_TOPIC);
		t.partitions = &p;
		t.partitions_count = 1;
		struct wire_begin_quorum_epoch_request q;
		wire_begin_quorum_epoch_request_init(&q);
		q.cluster_id = cstr(r->cluster_id);
		q.voter_id = m->to;
		q.topics = &t;
		q.topics_count = 1;
		return net_peer_send(peer, 53, -1, &q, on_response, ctx);
	}
	struct wire_end_quorum_epoch_request_replica_info ri[RAFT_CORE_VOTERS_MAX];
	int32_t ids[RAFT_CORE_VOTERS_MAX];
	struct wire_end_quorum_epoch_request_partition_data p;
	wire_end_quorum_epoch_request_partition_data_init(&p);
	p.leader_id = r->node_id;
	p.leader_epoch = m->epoch;
	for (uint32_t i = 0; i < m->successor_count; i++) {
		ids[i] = m->successors[i];
		wire_end_quorum_epoch_request_replica_info_init(&ri[i]);
		ri[i].candidate_id = m->successors[i];
	}
	p.preferred_successors = ids;
	p.preferred_successors_count = (int32_t)m->successor_count;
	p.preferred_candidates = ri;
	p.preferred_candidates_count = (int32_t)m->successor_count;
	struct wire_end_quorum_epoch_request_topic_data t;
	wire_end_quorum_epoch_request_topic_data_init(&t);
	t.topic_name = cstr(METADATA_TOPIC);
	t.partitions = &p;
	t.partitions_count = 1;
	struct wire_end_quorum_epoch_request q;
	wire_end_quorum_epoch_request_init(&q);
	q.cluster_id = cstr(r->cluster_id);
	q.topics = &t;
	q.topics_count = 1;
	return net_peer_send(peer, 54, -1, &q, on_response, ctx);
}

static enum sl_err send_fetch(struct raft *r, struct net_peer *peer, const struct raft_msg *m,
                              void *ctx)
{
	struct wire_fetch_request_partition p;
	wire_fetch_request_partition_init(&p);
	p.partition = 0;
	p.current_leader_epoch = m->epoch;
	p.fetch_offset = m->fetch_offset;
	p.last_fetched_epoch = m->last_fetched_epoch;
	p.partition_max_bytes = (int32_t)RAFT_FETCH_MAX_BYTES;
	struct wire_fetch_request_topic t;
	wire_fetch_request_topic_init(&t);
	t.topic = cstr(METADATA_TOPIC);
	t.topic_id = metadata_topic_id;
	t.partitions = &p;
	t.partitions_count = 1;
	struct wire_fetch_request q;
	wire_fetch_request_init(&q);
	q.cluster_id = cstr(r->cluster_id);
	q.replica_id = r->node_id;
	q.replica_state.replica_id = r->node_id;
	q.replica_state.replica_epoch = -1;
	q.max_wait_ms = (int32_t)m->max_wait_ms;
	q.min_bytes = 0;
	q.max_bytes = (int32_t)RAFT_FETCH_MAX_BYTES;
	q.topics = &t;
	q.topics_count = 1;
	return net_peer_send(peer, 1, -1, &q, on_response, ctx);
}

static enum sl_err send_snapshot(struct raft *r, struct net_peer *peer, const struct raft_msg *m,
                                 void *ctx)
{
	struct wire_fetch_snapshot_request_partition_snapshot p;
	wire_fetch_snapshot_request_partition_snapshot_init(&p);
	p.partition = 0;
	p.current_leader_epoch = m->epoch;
	p.snapshot_id.end_offset = m->snapshot_id.end_offset;
	p.snapshot_id.epoch = m->snapshot_id.epoch;
	p.position = m->position;
	struct wire_fetch_snapshot_request_topic_snapshot t;
	wire_fetch_snapshot_request_topic_snapshot_init(&t);
	t.name = cstr(METADATA_TOPIC);
	t.partitions = &p;
	t.partitions_count = 1;
	struct wire_fetch_snapshot_request q;
	wire_fetch_snapshot_request_init(&q);
	q.cluster_id = cstr(r->cluster_id);
	q.replica_id = r->node_id;
	q.max_bytes = (int32_t)RAFT_FETCH_MAX_BYTES;
	q.topics = &t;
	q.topics_count = 1;
	return net_peer_send(peer, 59, -1, &q, on_response, ctx);
}

enum sl_err raft_send_request(struct raft *r, struct net_peer *peer, const struct raft_msg *m,
                              struct raft_out *oc)
{
	switch (m->type) {
	case RAFT_VOTE_REQ:
		return send_vote(r, peer, m, oc);
	case RAFT_BEGIN_REQ:
	case RAFT_END_REQ:
		return send_begin_end(r, peer, m, oc);
	case RAFT_FETCH_REQ:
		return send_fetch(r, peer, m, oc);
	case RAFT_SNAP_REQ:
		return send_snapshot(r, peer, m, oc);
	default:
		return SL_EINVAL;
	}
}
