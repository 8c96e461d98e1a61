/*
 * produce.c: Produce (key 0), v0-v11 (Kafka's ReplicaManager.appendRecords + LogValidator for
 * a partition leader).
 *
 * Per request: acks must be -1, 0 or 1, else every partition gets INVALID_REQUIRED_ACKS.
 * Per partition entry, in request order:
 *   1. unknown topic/partition -> UNKNOWN_TOPIC_OR_PARTITION; this broker does not lead it
 *      (not a replica, a follower, or no leader) -> NOT_LEADER_OR_FOLLOWER, with v10+ the
 *      image's current_leader and the leader's node_endpoints entry when it is alive on the
 *      request's listener (KIP-951); log missing/offline -> KAFKA_STORAGE_ERROR; acks=-1 with
 *      an ISR smaller than min.insync.replicas -> NOT_ENOUGH_REPLICAS;
 *   2. every batch is checked before anything is appended (all or nothing per entry): no batch
 *      at all -> INVALID_RECORD; magic 0/1 (message sets, which Produce v0-v2 carry) ->
 *      UNSUPPORTED_FOR_MESSAGE_FORMAT: this broker stores RecordBatch v2 only and does not
 *      up-convert; a batch larger than the topic's max.message.bytes -> MESSAGE_TOO_LARGE;
 *      stor_batch_validate with Kafka's client rules -> CORRUPT_MESSAGE / INVALID_RECORD /
 *      UNSUPPORTED_COMPRESSION_TYPE / MESSAGE_TOO_LARGE (decompressed records area over
 *      PRODUCE_RECORDS_MAX); a CreateTime batch's maxTimestamp is set to its records' maximum
 *      (Kafka's LogValidator does the same: the client's header value is not trusted);
 *   3. topic compression.type (else the broker's; "producer" = keep) different from a batch's
 *      codec -> the records are recompressed into request memory;
 *   4. each batch is appended (several batches in one entry are accepted, each appended; Kafka
 *      rejects them with INVALID_RECORD for v3+, this broker is lenient). The batch bytes are
 *      rewritten in place by the log (base offset, epoch, LogAppendTime): the frame is request
 *      memory that lives until the response.
 * Completion: acks=1 answers once every append callback ran; acks=-1 waits for the last offset
 * of each partition to be durable (stor_log_wait_durable: one fdatasync round covers many
 * requests); acks=0 sends nothing (BRK_NO_RESPONSE) once appended, or closes the connection
 * when a partition failed (Kafka's way of telling an acks=0 producer). For acks 0/1 the high
 * watermark still follows through brk_partition_want_durable.
 * Reply: base_offset, log_append_time_ms (-1 unless LogAppendTime), log_start_offset (v5+),
 * error_message and record_errors (v8+) for validation errors. timeout_ms is not used: a single
 * node never waits for other replicas. transactional_id is ignored (no transactions).
 */
#include "brk_data.h"

#include <stdlib.h>
#include <string.h>

#define PRODUCE_RECORDS_MAX ((size_t)64 << 20) /* decompressed records area of one batch */
#define PRODUCE_MAGIC_OFFSET 16                /* magic byte: same place in v0/v1 and v2 */

struct prod_req;

struct prod_batch {
	uint8_t *data;
	size_t len;
};

struct prod_part {
	struct prod_req *pr;
	struct brk_partition *p;
	struct wire_produce_response_partition_produce_response *out;
	struct prod_batch *batches;
	struct stor_append *appends;
	uint32_t batch_count;
	uint32_t appends_pending;
	int64_t end_offset; /* after the last appended batch */
	struct stor_durable_wait dw;
};

struct prod_req {
	struct brk_request *r;
	int16_t version;
	int16_t acks;
	unsigned pending; /* partitions still waiting on storage */
	bool failed;      /* some partition has an error (acks=0 closes) */
	bool oom;         /* the reply could not be laid out: close */
	struct wire_produce_response resp;
};

static void part_error(struct prod_part *pp, int16_t code, const char *message)
{
	pp->out->error_code = code;
	pp->out->base_offset = -1;
	pp->out->log_append_time_ms = -1;
	pp->out->log_start_offset = -1;
	if (message != NULL)
		pp->out->error_message = wire_str_c(message);
	pp->pr->failed = true;
}

/* Kafka's error for a validation problem (batch.h lists the mapping). */
static int16_t problem_code(enum stor_batch_problem pb)
{
	switch (pb) {
	case STOR_PROBLEM_NONE:
		return WIRE_ERR_NONE;
	case STOR_PROBLEM_TRUNCATED:
	case STOR_PROBLEM_CRC:
	case STOR_PROBLEM_DECOMPRESS:
		return WIRE_ERR_CORRUPT_MESSAGE;
	case STOR_PROBLEM_COMPRESSION:
		return WIRE_ERR_UNSUPPORTED_COMPRESSION_TYPE;
	case STOR_PROBLEM_TOO_BIG:
		return WIRE_ERR_MESSAGE_TOO_LARGE;
	case STOR_PROBLEM_MAGIC:
	case STOR_PROBLEM_COUNT:
	case STOR_PROBLEM_RECORD:
	case STOR_PROBLEM_OFFSETS:
	case STOR_PROBLEM_CONTROL:
	case STOR_PROBLEM_PRODUCER:
	case STOR_PROBLEM_TIMESTAMP:
		return WIRE_ERR_INVALID_RECORD;
	}
	return WIRE_ERR_CORRUPT_MESSAGE;
}

/* compression.type as a codec id; -1 = "producer" (keep the batch's codec). */
static int target_codec(struct brk *b, const char *topic)
{
	const char *v = NULL;
	if (b->image != NULL) {
		const struct meta_topic *t = meta_image_topic(b->image, topic, strlen(topic));
		if (t != NULL)
			v = meta_topic_config(t, "compression.type");
	}
	for (size_t i = 0; v == NULL && i < b->opts.config_count; i++) {
		if (strcmp(b->opts.configs[i].name, "compression.type") == 0)
			v = b->opts.configs[i].value;
	}
	static const char *const names[] = {"uncompressed", "gzip", "snappy", "lz4", "zstd"};
	for (int c = 0; v != NULL && c < (int)SL_ARRAY_LEN(names); c++) {
		if (strcmp(v, names[c]) == 0)
			return c;
	}
	return -1;
}

/* Rebuilds a validated batch with codec `to` into request memory. raw = its records area. */
static enum sl_err recompress(struct prod_req *pr, const struct stor_batch_view *v,
                              const uint8_t *raw, size_t raw_len, int to, struct prod_batch *out)
{
	struct sl_buf *nb = brk_scratch(pr->r->brk, 1);
	sl_buf_reset(nb);
	sl_buf_append(nb, v->data, STOR_BATCH_HEADER_BYTES);
	if (sl_buf_err(nb) != SL_OK)
		return SL_ENOMEM;
	enum sl_err e = SL_OK;
	if (to == STOR_COMPRESSION_NONE)
		sl_buf_append(nb, raw, raw_len);
	else
		e = stor_compress((enum stor_compression)to, 0, raw, raw_len, nb);
	if (e == SL_OK)
		e = sl_buf_err(nb);
	if (e != SL_OK)
		return e;
	if (nb->len - STOR_BATCH_LOG_OVERHEAD > INT32_MAX)
		return SL_ETOOBIG;
	uint16_t attrs = sl_load_be16(nb->data + STOR_BATCH_ATTRIBUTES_OFFSET);
	attrs = (uint16_t)((attrs & ~STOR_BATCH_ATTR_COMPRESSION_MASK) | (unsigned)to);
	sl_store_be16(nb->data + STOR_BATCH_ATTRIBUTES_OFFSET, attrs);
	sl_store_be32(nb->data + 8, (uint32_t)(nb->len - STOR_BATCH_LOG_OVERHEAD));
	uint32_t crc = sl_crc32c(0, nb->data + STOR_BATCH_ATTRIBUTES_OFFSET,
	                         nb->len - STOR_BATCH_ATTRIBUTES_OFFSET);
	sl_store_be32(nb->data + STOR_BATCH_CRC_OFFSET, crc);
	out->data = sl_arena_alloc(pr->r->frame->arena, nb->len);
	if (out->data == NULL)
		return SL_ENOMEM;
	memcpy(out->data, nb->data, nb->len);
	out->len = nb->len;
	return SL_OK;
}

/* One batch at data[0..n): validated, maybe recompressed. Returns the Kafka error code. */
static int16_t check_batch(struct prod_part *pp, uint8_t *data, size_t n, int32_t max_bytes,
                           int codec_to, struct prod_batch *out, size_t *consumed)
{
	if (n > PRODUCE_MAGIC_OFFSET && data[PRODUCE_MAGIC_OFFSET] < STOR_BATCH_MAGIC) {
		part_error(
		        pp, WIRE_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT,
		        "message format v0/v1 is not supported: produce RecordBatch v2 (magic 2)");
		return WIRE_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
	}
	size_t size;
	if (stor_batch_peek_size(data, n, &size) == SL_OK && size <= n && max_bytes > 0 &&
	    size > (size_t)max_bytes) {
		part_error(pp, WIRE_ERR_MESSAGE_TOO_LARGE, "batch larger than max.message.bytes");
		return WIRE_ERR_MESSAGE_TOO_LARGE;
	}
	struct stor_validate_opts vo = {.records_bytes_max = PRODUCE_RECORDS_MAX, .client = true};
	struct stor_batch_view v;
	struct stor_validate_info info;
	struct sl_buf *scratch = brk_scratch(pp->pr->r->brk, 0);
	enum sl_err e = stor_batch_validate(data, n, &vo, scratch, &v, consumed, &info);
	if (e == SL_ENOMEM) {
		part_error(pp, WIRE_ERR_UNKNOWN_SERVER_ERROR, "out of memory validating the batch");
		return WIRE_ERR_UNKNOWN_SERVER_ERROR;
	}
	if (e != SL_OK) {
		int16_t code = problem_code(info.problem);
		part_error(pp, code, stor_batch_problem_name(info.problem));
		if (info.record_index >= 0 && code == WIRE_ERR_INVALID_RECORD) {
			struct wire_produce_response_batch_index_and_error_message *re =
			        sl_arena_calloc(pp->pr->r->frame->arena, 1, sizeof(*re));
			if (re != NULL) {
				re->batch_index = info.record_index;
				re->batch_index_error_message =
				        wire_str_c(stor_batch_problem_name(info.problem));
				pp->out->record_errors = re;
				pp->out->record_errors_count = 1;
			}
		}
		return code;
	}
	out->data = data;
	out->len = *consumed;
	if ((v.h.attributes & STOR_BATCH_ATTR_LOG_APPEND_TIME) == 0 &&
	    v.h.max_timestamp != info.max_timestamp) {
		/* Kafka's LogValidator sets a CreateTime batch's maxTimestamp from its records: the
		 * client's value is not trusted (retention and the time index read it). */
		sl_store_be64(data + 35, (uint64_t)info.max_timestamp);
		sl_store_be32(data + STOR_BATCH_CRC_OFFSET,
		              sl_crc32c(0, data + STOR_BATCH_ATTRIBUTES_OFFSET,
		                        *consumed - STOR_BATCH_ATTRIBUTES_OFFSET));
	}
	int from = stor_batch_compression(&v);
	if (codec_to < 0 || codec_to == from)
		return WIRE_ERR_NONE;
	const uint8_t *raw = from == STOR_COMPRESSION_NONE ? v.records : scratch->data;
	size_t raw_len = from == STOR_COMPRESSION_NONE ? v.records_len : scratch->len;
	e = recompress(pp->pr, &v, raw, raw_len, codec_to, out);
	if (e == SL_OK && max_bytes > 0 && out->len > (size_t)max_bytes)
		e = SL_ETOOBIG;
	if (e != SL_OK) {
		int16_t code = e == SL_ETOOBIG ? WIRE_ERR_MESSAGE_TOO_LARGE
		                               : WIRE_ERR_UNKNOWN_SERVER_ERROR;
		part_error(pp, code, "recompression to the topic's compression.type failed");
		return code;
	}
	return WIRE_ERR_NONE;
}

/* Splits and checks every batch of the entry. false when the entry failed (error set). */
static bool check_records(struct prod_part *pp, struct wire_bytes records)
{
	struct brk *b = pp->pr->r->brk;
	if (records.len <= 0) {
		part_error(pp, WIRE_ERR_INVALID_RECORD,
		           "a produce request must have at least one record batch per partition");
		return false;
	}
	struct stor_log_config cfg;
	stor_log_manager_topic_config(b->opts.logs, pp->p->topic, &cfg);
	int codec_to = target_codec(b, pp->p->topic);
	/* Frame memory is the request's own (see the file comment): the log rewrites it. */
	uint8_t *data = (uint8_t *)(uintptr_t)records.ptr;
	size_t n = (size_t)records.len;
	size_t cap = n / STOR_BATCH_HEADER_BYTES + 1;
	pp->batches = sl_arena_calloc(pp->pr->r->frame->arena, cap, sizeof(*pp->batches));
	if (pp->batches == NULL) {
		part_error(pp, WIRE_ERR_UNKNOWN_SERVER_ERROR, "out of request memory");
		return false;
	}
	for (size_t off = 0; off < n;) {
		size_t consumed = 0;
		SL_ASSERT(pp->batch_count < cap);
		if (check_batch(pp, data + off, n - off, cfg.max_message_bytes, codec_to,
		                &pp->batches[pp->batch_count], &consumed) != WIRE_ERR_NONE)
			return false;
		SL_ASSERT(consumed > 0 && consumed <= n - off);
		off += consumed;
		pp->batch_count++;
	}
	return true;
}

static void req_complete(struct prod_req *pr);

static void part_complete(struct prod_part *pp)
{
	if (pp->out->error_code == WIRE_ERR_NONE && pp->p->log != NULL) {
		struct stor_log_state st;
		stor_log_get_state(pp->p->log, &st);
		pp->out->log_start_offset = st.log_start_offset;
	}
	SL_ASSERT(pp->pr->pending > 0);
	pp->pr->pending--;
	if (pp->pr->pending == 0)
		req_complete(pp->pr);
}

static void durable_done(struct stor_durable_wait *w, void *ctx)
{
	struct prod_part *pp = ctx;
	struct brk *b = pp->pr->r->brk;
	if (w->err != SL_OK)
		part_error(pp, WIRE_ERR_KAFKA_STORAGE_ERROR, "the log went offline");
	brk_partition_advance(b, pp->p);
	brk_partition_op_end(b, pp->p);
	part_complete(pp);
}

/* Every append of the entry ran its callback. */
static void part_appended(struct prod_part *pp)
{
	struct brk *b = pp->pr->r->brk;
	struct brk_partition *p = pp->p;
	if (pp->out->error_code != WIRE_ERR_NONE) {
		part_complete(pp);
		return;
	}
	if (pp->pr->acks != -1) {
		brk_partition_want_durable(b, p, pp->end_offset);
		part_complete(pp);
		return;
	}
	brk_partition_op_begin(p);
	enum sl_err e = stor_log_wait_durable(p->log, &pp->dw, pp->end_offset, durable_done, pp);
	if (e == SL_EAGAIN)
		return;
	brk_partition_op_end(b, p);
	if (e != SL_OK)
		part_error(pp, WIRE_ERR_KAFKA_STORAGE_ERROR, "the log went offline");
	brk_partition_advance(b, p);
	part_complete(pp);
}

static void append_done(struct stor_append *a, void *ctx)
{
	struct prod_part *pp = ctx;
	struct brk *b = pp->pr->r->brk;
	if (a->err != SL_OK) {
		if (pp->out->error_code == WIRE_ERR_NONE)
			part_error(pp, WIRE_ERR_KAFKA_STORAGE_ERROR, "the log went offline");
	} else if (a == &pp->appends[0]) {
		pp->out->log_append_time_ms = a->log_append_time_ms;
	}
	brk_partition_op_end(b, pp->p);
	SL_ASSERT(pp->appends_pending > 0);
	if (--pp->appends_pending == 0)
		part_appended(pp);
}

static int16_t append_error_code(enum sl_err e)
{
	switch (e) {
	case SL_ETOOBIG:
		return WIRE_ERR_MESSAGE_TOO_LARGE;
	case SL_EMALFORMED:
		return WIRE_ERR_CORRUPT_MESSAGE;
	default:
		return WIRE_ERR_KAFKA_STORAGE_ERROR;
	}
}

/* Appends the checked batches; the entry is then pending until its callbacks ran. */
static void part_append(struct prod_part *pp)
{
	struct brk_partition *p = pp->p;
	pp->appends =
	        sl_arena_calloc(pp->pr->r->frame->arena, pp->batch_count, sizeof(*pp->appends));
	if (pp->appends == NULL) {
		part_error(pp, WIRE_ERR_UNKNOWN_SERVER_ERROR, "out of request memory");
		return;
	}
	int64_t now_ms = sl_wall_ms();
	pp->pr->pending++;
	pp->appends_pending = 1; /* held until every append is submitted */
	for (uint32_t i = 0; i < pp->batch_count; i++) {
		struct stor_append *a = &pp->appends[i];
		enum sl_err e = stor_log_append(p->log, a, pp->batches[i].data, pp->batches[i].len,
		                                p->leader_epoch, now_ms, append_done, pp);
		if (e != SL_OK) {
			part_error(pp, append_error_code(e), "the log refused the batch");
			break;
		}
		brk_partition_op_begin(p);
		pp->appends_pending++;
		if (i == 0)
			pp->out->base_offset = a->base_offset;
		pp->end_offset = a->last_offset + 1;
	}
	if (--pp->appends_pending == 0) {
		/* Nothing was submitted: the entry failed synchronously. */
		SL_ASSERT(pp->out->error_code != WIRE_ERR_NONE);
		pp->pr->pending--;
	}
}

/* acks=-1 needs the ISR to hold at least min.insync.replicas (topic, else broker, else 1). */
static bool enough_replicas(struct brk *b, const struct brk_partition *p)
{
	const char *v = NULL;
	const struct meta_topic *t =
	        b->image != NULL ? meta_image_topic(b->image, p->topic, strlen(p->topic)) : NULL;
	if (t == NULL || p->partition >= t->partition_count)
		return true;
	v = meta_topic_config(t, "min.insync.replicas");
	for (size_t i = 0; v == NULL && i < b->opts.config_count; i++) {
		if (strcmp(b->opts.configs[i].name, "min.insync.replicas") == 0)
			v = b->opts.configs[i].value;
	}
	long min_isr = v != NULL ? strtol(v, NULL, 10) : 1;
	return t->partitions[p->partition].isr_count >= min_isr;
}

/* KIP-951 (v10+): where the partition's leader is, for a NOT_LEADER_OR_FOLLOWER entry: the
 * image's leader and epoch, and the leader's endpoint once in node_endpoints when it is alive
 * on the request's listener. node_endpoints has room for every partition (req_start). */
static void part_redirect(struct prod_req *pr, struct prod_part *pp, struct wire_str topic,
                          int32_t partition)
{
	struct brk *b = pr->r->brk;
	const struct meta_partition *mp = brk_image_partition(b, topic, partition);
	if (pr->version < 10 || mp == NULL || mp->leader < 0)
		return;
	pp->out->current_leader.leader_id = mp->leader;
	pp->out->current_leader.leader_epoch = mp->leader_epoch;
	const char *listener = brk_listener_effective(b, pr->r->frame->listener);
	const struct meta_endpoint *ep = brk_alive_endpoint(b, mp->leader, listener, NULL);
	struct wire_produce_response *resp = &pr->resp;
	if (ep == NULL || resp->node_endpoints == NULL)
		return;
	for (int32_t i = 0; i < resp->node_endpoints_count; i++) {
		if (resp->node_endpoints[i].node_id == mp->leader)
			return;
	}
	struct wire_produce_response_node_endpoint *ne =
	        &resp->node_endpoints[resp->node_endpoints_count++];
	wire_produce_response_node_endpoint_init(ne);
	ne->node_id = mp->leader;
	ne->host = wire_str_c(ep->host);
	ne->port = ep->port;
	ne->rack = wire_str_c(meta_image_broker(b->image, mp->leader)->rack);
}

static void part_start(struct prod_req *pr, struct prod_part *pp, struct wire_str topic,
                       const struct wire_produce_request_partition_produce_data *in)
{
	struct brk *b = pr->r->brk;
	pp->out->index = in->index;
	pp->out->base_offset = -1;
	pp->out->log_append_time_ms = -1;
	pp->out->log_start_offset = -1;
	if (pr->acks != 0 && pr->acks != 1 && pr->acks != -1) {
		part_error(pp, WIRE_ERR_INVALID_REQUIRED_ACKS, NULL);
		return;
	}
	int16_t code;
	pp->p = brk_partition_lookup(b, topic, in->index, -1, &code);
	if (pp->p == NULL) {
		part_error(pp, code, NULL);
		if (code == WIRE_ERR_NOT_LEADER_OR_FOLLOWER)
			part_redirect(pr, pp, topic, in->index);
		return;
	}
	if (pr->acks == -1 && !enough_replicas(b, pp->p)) {
		part_error(pp, WIRE_ERR_NOT_ENOUGH_REPLICAS, NULL);
		return;
	}
	if (!check_records(pp, in->records))
		return;
	part_append(pp);
}

/* Encodes the reply; the outcome for the frame. */
static enum brk_outcome req_outcome(struct prod_req *pr)
{
	if (pr->oom)
		return brk_close(pr->r, "out of request memory (Produce v%d)", pr->version);
	if (pr->acks == 0) {
		if (pr->failed)
			return brk_close(pr->r,
			                 "Produce with acks=0 failed on some partition: closing "
			                 "the connection (Kafka's answer to acks=0 errors)");
		return BRK_NO_RESPONSE;
	}
	wire_produce_response_encode(pr->r->resp, pr->version, &pr->resp);
	return BRK_RESPOND;
}

static void req_complete(struct prod_req *pr)
{
	brk_request_finish(pr->r, req_outcome(pr));
}

/* Lays out the reply like the request and starts every partition. */
static enum sl_err req_start(struct prod_req *pr, const struct wire_produce_request *req)
{
	struct sl_arena *arena = pr->r->frame->arena;
	int32_t tn = req->topic_data_count > 0 ? req->topic_data_count : 0;
	if (pr->version >= 10) {
		/* At most one endpoint per alive broker (part_redirect). */
		const struct meta_image *img = pr->r->brk->image;
		size_t nb = img != NULL ? meta_image_broker_count(img) : 0;
		pr->resp.node_endpoints =
		        sl_arena_calloc(arena, nb + 1, sizeof(*pr->resp.node_endpoints));
		if (pr->resp.node_endpoints == NULL)
			return SL_ENOMEM;
	}
	pr->resp.responses_count = tn;
	pr->resp.responses =
	        tn > 0 ? sl_arena_calloc(arena, (size_t)tn, sizeof(*pr->resp.responses)) : NULL;
	if (tn > 0 && pr->resp.responses == NULL)
		return SL_ENOMEM;
	for (int32_t t = 0; t < tn; t++) {
		const struct wire_produce_request_topic_produce_data *td = &req->topic_data[t];
		struct wire_produce_response_topic_produce_response *tr = &pr->resp.responses[t];
		wire_produce_response_topic_produce_response_init(tr);
		tr->name = td->name;
		int32_t pn = td->partition_data_count > 0 ? td->partition_data_count : 0;
		tr->partition_responses_count = pn;
		if (pn == 0)
			continue;
		tr->partition_responses =
		        sl_arena_calloc(arena, (size_t)pn, sizeof(*tr->partition_responses));
		struct prod_part *parts = sl_arena_calloc(arena, (size_t)pn, sizeof(*parts));
		if (tr->partition_responses == NULL || parts == NULL)
			return SL_ENOMEM;
		for (int32_t i = 0; i < pn; i++) {
			wire_produce_response_partition_produce_response_init(
			        &tr->partition_responses[i]);
			parts[i].pr = pr;
			parts[i].out = &tr->partition_responses[i];
			part_start(pr, &parts[i], td->name, &td->partition_data[i]);
		}
	}
	return SL_OK;
}

enum brk_outcome brk_handle_produce(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_produce_request req;
	if (!brk_decode_ok(r, wire_produce_request_decode(&r->body, v, &req), "Produce"))
		return BRK_CLOSE;
	if (r->frame->done == NULL)
		return brk_close(r, "Produce needs a caller that can answer later");
	struct prod_req *pr = sl_arena_calloc(r->frame->arena, 1, sizeof(*pr));
	if (pr == NULL)
		return brk_close(r, "out of request memory (Produce v%d)", v);
	pr->r = r;
	pr->version = v;
	pr->acks = req.acks;
	wire_produce_response_init(&pr->resp);
	pr->resp.throttle_time_ms = 0;
	pr->resp.node_endpoints_count = 0;
	/* Held while partitions start, so that none can finish the request early. */
	pr->pending = 1;
	enum sl_err e = req_start(pr, &req);
	pr->pending--;
	if (e != SL_OK) {
		if (pr->pending > 0) {
			/* Appends already in flight borrow the request: answer when they end. */
			pr->oom = true;
			return brk_request_park(r);
		}
		return brk_close(r, "out of request memory (Produce v%d)", v);
	}
	if (pr->pending > 0)
		return brk_request_park(r);
	return req_outcome(pr);
}
