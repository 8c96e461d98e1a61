/*
 * metadata.c: Metadata (key 3), v0-v12, from the committed metadata image (brk->image).
 *
 * Brokers (Kafka's KRaftMetadataCache, cluster.c): every registered, unfenced broker of the
 * image with its endpoint of the listener the request arrived on (host, port, rack); brokers
 * without that listener are left out; none before any registration. ClusterId (v2+) from the
 * formatted dirs; ControllerId (v1+) = brk_client_controller_id (this broker when alive, else
 * the lowest alive broker, else -1). Topics: an all-topics request (v0: empty array; v1+:
 * null) lists every topic of the image; each requested name gets the topic, or
 * INVALID_TOPIC_EXCEPTION for an illegal name, or UNKNOWN_TOPIC_OR_PARTITION; a topic asked for
 * by id (v10+, null name) gets the topic or UNKNOWN_TOPIC_ID. A topic: its id (v10+),
 * is_internal false, and per partition the leader, leader epoch (v7+), replicas, ISR and
 * offline replicas (v5+: replicas whose broker is unregistered, fenced or lacks the listener).
 * A leader that is -1 or unregistered -> LEADER_NOT_AVAILABLE, one without the listener ->
 * LISTENER_NOT_FOUND; either way leader_id -1 (Kafka's partitionMetadata). Authorized
 * operations (v8+): INT32_MIN unless requested; no authorizer exists, so a requested bitfield
 * lists every operation.
 *
 * Auto-creation (auto.create.topics.enable, and allow_auto_topic_creation v4+; v0-3 always
 * allow): an unknown legal topic named by the request is created through the controller with
 * num.partitions and default.replication.factor, and the request WAITS for the commit, then
 * answers with the new topic (leader set). Kafka instead answers LEADER_NOT_AVAILABLE at once
 * and lets the client retry; waiting is a single fsync here and spares every client
 * (librdkafka/kcat, kafka-python, kafkajs) a retry round with its backoff, while a client that
 * does get LEADER_NOT_AVAILABLE (the topic is being created by another request, or the
 * proposal failed) still retries as it would with Kafka. A creation the controller refuses
 * reports its error (INVALID_REPLICATION_FACTOR, INVALID_TOPIC_EXCEPTION, ...).
 */
#include "admin_int.h"

#include <string.h>

/* AclOperation codes of the operations Kafka supports on a TOPIC resource. */
enum {
	ACL_OP_READ = 3,
	ACL_OP_WRITE = 4,
	ACL_OP_CREATE = 5,
	ACL_OP_DELETE = 6,
	ACL_OP_ALTER = 7,
	ACL_OP_DESCRIBE = 8,
	ACL_OP_DESCRIBE_CONFIGS = 10,
	ACL_OP_ALTER_CONFIGS = 11,
};

int32_t brk_topic_operations_all(void)
{
	return (1 << ACL_OP_READ) | (1 << ACL_OP_WRITE) | (1 << ACL_OP_CREATE) |
	       (1 << ACL_OP_DELETE) | (1 << ACL_OP_ALTER) | (1 << ACL_OP_DESCRIBE) |
	       (1 << ACL_OP_DESCRIBE_CONFIGS) | (1 << ACL_OP_ALTER_CONFIGS);
}

/* A requested topic not found in the image: the error it gets. */
struct md_want {
	struct brk_admin_op op; /* the creation's error (NONE when not created here) */
	int16_t missing_error;  /* when not in the image and not created here */
	bool created;           /* proposed by this request */
};

struct md_state {
	struct brk_admin_batch batch;
	struct wire_metadata_request req;
	struct md_want *want; /* per requested topic */
};

/* Fills p from the image partition mp as seen on listener. false: no memory. */
static bool partition_from_image(struct brk_request *r, const struct meta_partition *mp,
                                 const char *listener, struct wire_metadata_response_partition *p)
{
	struct brk *b = r->brk;
	wire_metadata_response_partition_init(p);
	p->partition_index = mp->partition_id;
	p->leader_epoch = mp->leader_epoch;
	bool registered = false;
	if (brk_alive_endpoint(b, mp->leader, listener, &registered) != NULL) {
		p->leader_id = mp->leader;
		p->error_code = WIRE_ERR_NONE;
	} else {
		p->leader_id = -1;
		p->error_code =
		        registered ? WIRE_ERR_LISTENER_NOT_FOUND : WIRE_ERR_LEADER_NOT_AVAILABLE;
	}
	/* The codec only reads the arrays; the image outlives this call. */
	p->replica_nodes_count = mp->replica_count;
	p->replica_nodes = (int32_t *)mp->replicas;
	p->isr_nodes_count = mp->isr_count;
	p->isr_nodes = (int32_t *)mp->isr;
	size_t nr = mp->replica_count > 0 ? (size_t)mp->replica_count : 0;
	int32_t *off = sl_arena_calloc(r->frame->arena, nr + 1, sizeof(*off));
	if (off == NULL)
		return false;
	int32_t k = 0;
	for (size_t j = 0; j < nr; j++) {
		if (brk_alive_endpoint(b, mp->replicas[j], listener, NULL) == NULL)
			off[k++] = mp->replicas[j];
	}
	p->offline_replicas_count = k;
	p->offline_replicas = off;
	return true;
}

/* Fills t from the image topic mt. false: no memory. */
static bool topic_from_image(struct brk_request *r, const struct meta_topic *mt, bool ops,
                             const char *listener, struct wire_metadata_response_topic *t)
{
	wire_metadata_response_topic_init(t);
	t->error_code = WIRE_ERR_NONE;
	t->name = wire_str_c(mt->name);
	t->topic_id = mt->id;
	t->is_internal = false;
	t->topic_authorized_operations =
	        ops ? brk_topic_operations_all() : BRK_AUTHORIZED_OPS_OMITTED;
	size_t np = mt->partition_count > 0 ? (size_t)mt->partition_count : 0;
	struct wire_metadata_response_partition *ps =
	        sl_arena_calloc(r->frame->arena, np + 1, sizeof(*ps));
	if (ps == NULL)
		return false;
	for (size_t i = 0; i < np; i++) {
		if (!partition_from_image(r, &mt->partitions[i], listener, &ps[i]))
			return false;
	}
	t->partitions_count = (int32_t)np;
	t->partitions = ps;
	return true;
}

static void topic_missing(const struct wire_metadata_request_topic *want, int16_t error,
                          struct wire_metadata_response_topic *t)
{
	wire_metadata_response_topic_init(t);
	t->partitions_count = 0;
	t->topic_authorized_operations = BRK_AUTHORIZED_OPS_OMITTED;
	t->name = want->name;
	t->topic_id = want->name.len < 0 ? want->topic_id : SL_UUID_ZERO;
	t->error_code = error;
}

static const struct meta_topic *image_lookup(const struct brk *b,
                                             const struct wire_metadata_request_topic *want)
{
	if (b->image == NULL)
		return NULL;
	if (want->name.len < 0)
		return meta_image_topic_by_id(b->image, want->topic_id);
	return meta_image_topic(b->image, want->name.ptr, (size_t)want->name.len);
}

/* The topics of the reply: every topic of the image, or the requested ones. */
static bool md_topics(struct md_state *st, struct wire_metadata_response *resp)
{
	struct brk_request *r = st->batch.r;
	struct brk *b = r->brk;
	const struct wire_metadata_request *req = &st->req;
	int16_t v = r->header.api_version;
	bool ops = req->include_topic_authorized_operations;
	bool all = req->topics_count < 0 || (v == 0 && req->topics_count == 0);
	const char *listener = brk_listener_effective(b, r->frame->listener);
	size_t n = all ? (b->image != NULL ? meta_image_topic_count(b->image) : 0)
	               : (size_t)req->topics_count;
	struct wire_metadata_response_topic *ts =
	        sl_arena_calloc(r->frame->arena, n + 1, sizeof(*ts));
	if (ts == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (all) {
			if (!topic_from_image(r, meta_image_topic_at(b->image, i), ops, listener,
			                      &ts[i]))
				return false;
			continue;
		}
		const struct wire_metadata_request_topic *want = &req->topics[i];
		const struct meta_topic *mt = image_lookup(b, want);
		const struct md_want *w = &st->want[i];
		if (mt != NULL) {
			if (!topic_from_image(r, mt, ops, listener, &ts[i]))
				return false;
		} else {
			int16_t err = w->created ? WIRE_ERR_LEADER_NOT_AVAILABLE : w->missing_error;
			topic_missing(want,
			              w->op.error_code != WIRE_ERR_NONE ? w->op.error_code : err,
			              &ts[i]);
		}
	}
	resp->topics_count = (int32_t)n;
	resp->topics = ts;
	return true;
}

static enum brk_outcome md_encode(struct brk_admin_batch *batch)
{
	struct md_state *st = batch->ctx;
	struct brk_request *r = batch->r;
	struct brk *b = r->brk;
	size_t n;
	const char *listener = brk_listener_effective(b, r->frame->listener);
	struct brk_live_broker *live = brk_live_brokers(b, listener, r->frame->arena, &n);
	struct wire_metadata_response_broker *brokers =
	        sl_arena_calloc(r->frame->arena, n + 1, sizeof(*brokers));
	if (live == NULL || brokers == NULL)
		return brk_close(r, "out of request memory for the Metadata response");
	for (size_t i = 0; i < n; i++) {
		wire_metadata_response_broker_init(&brokers[i]);
		brokers[i].node_id = live[i].broker->broker_id;
		brokers[i].host = wire_str_c(live[i].endpoint->host);
		brokers[i].port = live[i].endpoint->port;
		brokers[i].rack = wire_str_c(live[i].broker->rack);
	}

	struct wire_metadata_response resp;
	wire_metadata_response_init(&resp);
	resp.throttle_time_ms = 0;
	resp.brokers_count = (int32_t)n;
	resp.brokers = brokers;
	resp.cluster_id = wire_str_c(b->cluster_id);
	resp.controller_id = brk_client_controller_id(b);
	resp.cluster_authorized_operations = st->req.include_cluster_authorized_operations
	                                             ? brk_cluster_operations_all()
	                                             : BRK_AUTHORIZED_OPS_OMITTED;
	if (!md_topics(st, &resp))
		return brk_close(r, "out of request memory for the Metadata response");
	wire_metadata_response_encode(r->resp, r->header.api_version, &resp);
	return BRK_RESPOND;
}

/* Starts the creation of the unknown topic want (legal name, auto-creation allowed). */
static void md_auto_create(struct md_state *st, const struct wire_metadata_request_topic *want,
                           struct md_want *w)
{
	struct brk_request *r = st->batch.r;
	struct brk *b = r->brk;
	if (brk_should_forward(r)) {
		/* The active controller is elsewhere: ask it, answer "not yet" now. */
		brk_forward_create_topic(
		        b, want->name, b->opts.num_partitions > 0 ? b->opts.num_partitions : -1,
		        b->opts.default_replication_factor > 0 ? b->opts.default_replication_factor
		                                               : -1);
		w->op.error_code = WIRE_ERR_LEADER_NOT_AVAILABLE;
		return;
	}
	struct ctl *c = b->opts.ctl;
	if (c == NULL) {
		w->op.error_code = WIRE_ERR_LEADER_NOT_AVAILABLE;
		return;
	}
	const struct meta_image *view = ctl_view(c);
	if (meta_image_topic(view, want->name.ptr, (size_t)want->name.len) != NULL) {
		/* Being created (proposed, not committed yet): the client retries. */
		w->op.error_code = WIRE_ERR_LEADER_NOT_AVAILABLE;
		return;
	}
	struct meta_topic_spec spec = {
	        .name = want->name,
	        .num_partitions = b->opts.num_partitions > 0 ? b->opts.num_partitions : -1,
	        .replication_factor = b->opts.default_replication_factor > 0
	                                      ? b->opts.default_replication_factor
	                                      : -1,
	};
	if (ctl_new_topic_id(c, &spec.new_id) != SL_OK) {
		w->op.error_code = WIRE_ERR_LEADER_NOT_AVAILABLE;
		return;
	}
	struct meta_records recs;
	meta_records_init(&recs, r->frame->arena);
	struct meta_ctl_result res = {0};
	int32_t np;
	int16_t rf;
	meta_ctl_create_topic(view, ctl_env(c), &spec, false, &recs, &np, &rf, &res);
	brk_admin_set_result(r, &w->op, &res);
	if (res.error_code == WIRE_ERR_NONE) {
		if (r->frame->log_ctx != NULL)
			SL_INFO(r->frame->log_ctx,
			        "auto-creating topic %.*s (%d partitions, replication factor %d)",
			        (int)want->name.len, want->name.ptr, (int)np, (int)rf);
		w->created = true;
		brk_admin_propose(&st->batch, &w->op, &recs);
	}
}

static bool auto_create_allowed(const struct brk_request *r, const struct wire_metadata_request *q)
{
	const struct brk *b = r->brk;
	bool asked = r->header.api_version < 4 || q->allow_auto_topic_creation;
	return asked && b->opts.auto_create_topics_enable &&
	       (b->opts.ctl != NULL || brk_should_forward(r));
}

enum brk_outcome brk_handle_metadata(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct md_state *st = sl_arena_calloc(r->frame->arena, 1, sizeof(*st));
	if (st == NULL)
		return brk_close(r, "out of request memory for Metadata");
	if (wire_metadata_request_decode(&r->body, v, &st->req) != SL_OK)
		return brk_close(r, "malformed Metadata v%d request", v);
	if (!wire_reader_done(&r->body))
		return brk_close(r, "%zu unexpected bytes after the Metadata v%d request body",
		                 wire_reader_left(&r->body), v);
	brk_admin_begin(&st->batch, r, md_encode, st, WIRE_ERR_LEADER_NOT_AVAILABLE,
	                "Metadata auto-creation");
	size_t n = st->req.topics_count > 0 ? (size_t)st->req.topics_count : 0;
	st->want = sl_arena_calloc(r->frame->arena, n + 1, sizeof(*st->want));
	if (st->want == NULL)
		return brk_close(r, "out of request memory for %zu Metadata topics", n);
	bool create = auto_create_allowed(r, &st->req);
	for (size_t i = 0; i < n; i++) {
		const struct wire_metadata_request_topic *want = &st->req.topics[i];
		struct md_want *w = &st->want[i];
		w->op.batch = &st->batch;
		if (want->name.len < 0) {
			w->missing_error = WIRE_ERR_UNKNOWN_TOPIC_ID;
			continue;
		}
		if (!meta_topic_name_legal(want->name)) {
			w->missing_error = WIRE_ERR_INVALID_TOPIC_EXCEPTION;
			continue;
		}
		w->missing_error = WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		if (create && image_lookup(r->brk, want) == NULL)
			md_auto_create(st, want, w);
	}
	return brk_admin_end(&st->batch);
}
