/*
 * forward.c: admin requests that change metadata, sent on by a broker to the active
 * controller inside an Envelope (key 58, Kafka's ForwardingManager), and the controller's side
 * that unwraps and answers them.
 *
 * Broker side: the client's request frame (header and body, unchanged) travels as the
 * envelope's RequestData; the controller's ResponseData is the complete response (header with
 * the client's correlation id, and body), sent to the client as it is. NOT_CONTROLLER on the
 * envelope, a lost connection or a timeout are retried, at the controller the channel picks
 * next, every FWD_RETRY_MS until FWD_DEADLINE_MS after the request arrived: the client never
 * sees NOT_CONTROLLER for it. Past the deadline, or for another envelope error, the request is
 * answered by its own handler with that error on every item (r->forward_error), as a broker
 * without a controller would.
 *
 * Controller side (controller listener): the envelope is answered NOT_CONTROLLER unless this
 * node is the active controller; the inner request must be one of the forwardable APIs
 * (INVALID_REQUEST otherwise) and is handled by the ordinary handler, marked forwarded so it
 * decides locally and never forwards again.
 */
#include "brk_int.h"

#include "peer.h"
#include "raft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FWD_RETRY_MS 100
#define FWD_DEADLINE_MS 30000
#define FWD_INNER_RESP_MAX (64u << 20)

/* Kafka's DefaultPrincipalData v0 for User:ANONYMOUS (KafkaPrincipalSerde): version int16,
 * compact strings type and name, tokenAuthenticated false, no tagged fields. */
static const uint8_t fwd_principal[] = {0,   0,   5,   'U', 's', 'e', 'r', 10, 'A', 'N',
                                        'O', 'N', 'Y', 'M', 'O', 'U', 'S', 0,  0};
static const uint8_t fwd_client_host[] = {127, 0, 0, 1};

static bool forwardable(int16_t key)
{
	switch (key) {
	case 19: /* CreateTopics */
	case 20: /* DeleteTopics */
	case 33: /* AlterConfigs */
	case 37: /* CreatePartitions */
	case 44: /* IncrementalAlterConfigs */
	case 55: /* DescribeQuorum */
	case 64: /* UnregisterBroker */
		return true;
	default:
		return false;
	}
}

/* ---- broker side ------------------------------------------------------------------------ */

struct fwd_state {
	struct brk_request *r;
	int64_t deadline_ms;
	int32_t target;
	unsigned attempts;
	int16_t last_error;
	struct io_op timer;
};

bool brk_should_forward(const struct brk_request *r)
{
	const struct brk *b = r->brk;
	if (r->frame->forwarded || r->forward_error != 0 || b->opts.raft == NULL ||
	    b->opts.loop == NULL || b->channel == NULL)
		return false;
	/* The active controller in this process decides at once. */
	return !(b->opts.ctl != NULL && raft_is_active(b->opts.raft));
}

static void fwd_send(struct fwd_state *st);

/* Answers with the handler itself, every item failing with code. */
static void fwd_give_up(struct fwd_state *st, int16_t code)
{
	struct brk_request *r = st->r;
	const struct brk_frame *f = r->frame;
	if (f->log_ctx != NULL)
		SL_WARN(f->log_ctx,
		        "forwarding api key %d to the controller failed after %u tries: %s",
		        (int)r->header.api_key, st->attempts, wire_err_name(code));
	r->forward_error = code;
	/* Run the handler again from the start of the body. */
	wire_reader_init(&r->body, f->data, f->len, f->arena);
	struct wire_request_header h;
	if (wire_request_header_decode(&r->body, &h) != SL_OK) {
		brk_request_finish(r, brk_close(r, "request header no longer decodes"));
		return;
	}
	r->resp->len = r->resp_start;
	wire_response_header_encode(r->resp, wire_response_header_version(h.api_key, h.api_version),
	                            h.correlation_id);
	const struct brk_api *api = brk_api_find(h.api_key);
	enum brk_outcome o = api->handler(r);
	SL_ASSERT(o != BRK_PENDING); /* forward_error: decided without the controller */
	brk_request_finish(r, o);
}

static void fwd_retry_timer(struct io_op *op, void *ctx)
{
	(void)op;
	fwd_send(ctx);
}

static void fwd_retry(struct fwd_state *st, int16_t code)
{
	st->last_error = code;
	brk_channel_failed(st->r->brk, st->target);
	if (sl_mono_ms() + FWD_RETRY_MS >= st->deadline_ms || st->r->brk->stopping) {
		fwd_give_up(st,
		            code == WIRE_ERR_NOT_CONTROLLER ? WIRE_ERR_REQUEST_TIMED_OUT : code);
		return;
	}
	memset(&st->timer, 0, sizeof(st->timer));
	io_timeout(st->r->brk->opts.loop, &st->timer, FWD_RETRY_MS, fwd_retry_timer, st);
}

static void fwd_answered(void *ctx, enum sl_err err, const void *resp, int16_t version)
{
	(void)version;
	struct fwd_state *st = ctx;
	struct brk_request *r = st->r;
	if (err != SL_OK) {
		if (err == SL_ECANCELED) { /* the broker is closing */
			fwd_give_up(st, WIRE_ERR_REQUEST_TIMED_OUT);
			return;
		}
		fwd_retry(st, WIRE_ERR_REQUEST_TIMED_OUT);
		return;
	}
	const struct wire_envelope_response *e = resp;
	if (e->error_code == WIRE_ERR_NOT_CONTROLLER) {
		fwd_retry(st, e->error_code);
		return;
	}
	const struct wire_bytes *d = &e->response_data;
	if (e->error_code != WIRE_ERR_NONE || d->len < 4 ||
	    (int32_t)sl_load_be32(d->ptr) != r->header.correlation_id) {
		fwd_give_up(st, e->error_code != WIRE_ERR_NONE ? e->error_code
		                                               : WIRE_ERR_UNKNOWN_SERVER_ERROR);
		return;
	}
	r->resp->len = r->resp_start;
	sl_buf_append(r->resp, d->ptr, (size_t)d->len);
	if (sl_buf_err(r->resp) != SL_OK) {
		brk_request_finish(r, brk_close(r, "out of memory for a forwarded response"));
		return;
	}
	brk_request_finish(r, BRK_RESPOND);
}

static void fwd_send(struct fwd_state *st)
{
	struct brk_request *r = st->r;
	struct net_peer *p = brk_channel_target(r->brk, &st->target);
	st->attempts++;
	if (p == NULL) {
		fwd_retry(st, WIRE_ERR_NOT_CONTROLLER);
		return;
	}
	struct wire_envelope_request q;
	wire_envelope_request_init(&q);
	q.request_data = (struct wire_bytes){r->frame->data, (int32_t)r->frame->len};
	q.request_principal = (struct wire_bytes){fwd_principal, (int32_t)sizeof(fwd_principal)};
	q.client_host_address =
	        (struct wire_bytes){fwd_client_host, (int32_t)sizeof(fwd_client_host)};
	enum sl_err e = net_peer_send(p, 58, 0, &q, fwd_answered, st);
	if (e != SL_OK)
		fwd_retry(st, WIRE_ERR_REQUEST_TIMED_OUT);
}

enum brk_outcome brk_forward(struct brk_request *r)
{
	struct fwd_state *st = sl_arena_calloc(r->frame->arena, 1, sizeof(*st));
	if (st == NULL || r->frame->len > INT32_MAX)
		return brk_close(r, "out of request memory to forward api key %d",
		                 (int)r->header.api_key);
	st->r = r;
	st->deadline_ms = sl_mono_ms() + FWD_DEADLINE_MS;
	enum brk_outcome o = brk_request_park(r);
	fwd_send(st);
	return o;
}

/* ---- controller side -------------------------------------------------------------------- */

struct env_state {
	struct brk_request *outer;
	struct brk_frame frame;
	struct sl_buf resp;
	char reason[256];
};

/* Encodes the Envelope response (error or inner response) into the outer request's resp. */
static void env_reply(struct brk_request *r, int16_t error, const struct sl_buf *inner)
{
	struct wire_envelope_response out;
	wire_envelope_response_init(&out);
	out.error_code = error;
	out.response_data = inner != NULL ? (struct wire_bytes){inner->data, (int32_t)inner->len}
	                                  : (struct wire_bytes){NULL, -1};
	wire_envelope_response_encode(r->resp, r->header.api_version, &out);
}

static enum brk_outcome env_finish(struct env_state *st, enum brk_outcome inner)
{
	struct brk_request *r = st->outer;
	if (inner == BRK_RESPOND)
		env_reply(r, WIRE_ERR_NONE, &st->resp);
	else
		env_reply(r, WIRE_ERR_INVALID_REQUEST, NULL);
	if (inner == BRK_CLOSE && r->frame->log_ctx != NULL)
		SL_WARN(r->frame->log_ctx, "forwarded request rejected: %s", st->reason);
	sl_buf_free(&st->resp);
	return sl_buf_err(r->resp) == SL_OK
	               ? BRK_RESPOND
	               : brk_close(r, "out of memory for an envelope response");
}

static void env_inner_done(const struct brk_frame *f, enum brk_outcome outcome, void *ctx)
{
	(void)f;
	struct env_state *st = ctx;
	struct brk_request *r = st->outer;
	brk_request_finish(r, env_finish(st, outcome));
}

enum brk_outcome brk_handle_envelope(struct brk_request *r)
{
	struct wire_envelope_request q;
	if (wire_envelope_request_decode(&r->body, r->header.api_version, &q) != SL_OK ||
	    !wire_reader_done(&r->body))
		return brk_close(r, "malformed Envelope request");
	struct brk *b = r->brk;
	if (b->opts.ctl == NULL || b->opts.raft == NULL || !raft_is_active(b->opts.raft)) {
		env_reply(r, WIRE_ERR_NOT_CONTROLLER, NULL);
		return BRK_RESPOND;
	}
	const struct wire_bytes *d = &q.request_data;
	if (d->len < 8 || !forwardable((int16_t)sl_load_be16(d->ptr))) {
		env_reply(r, WIRE_ERR_INVALID_REQUEST, NULL);
		return BRK_RESPOND;
	}
	struct env_state *st = sl_arena_calloc(r->frame->arena, 1, sizeof(*st));
	if (st == NULL)
		return brk_close(r, "out of request memory for an Envelope");
	st->outer = r;
	sl_buf_init(&st->resp, FWD_INNER_RESP_MAX);
	st->frame = (struct brk_frame){
	        .data = d->ptr,
	        .len = (size_t)d->len,
	        .arena = r->frame->arena,
	        .is_controller_listener = false,
	        .forwarded = true,
	        .log_ctx = r->frame->log_ctx,
	        .done = env_inner_done,
	        .done_ctx = st,
	};
	enum brk_outcome o = brk_handle(b, &st->frame, &st->resp, st->reason, sizeof(st->reason));
	if (o == BRK_PENDING)
		return brk_request_park(r);
	return env_finish(st, o);
}

/* ---- auto-creation through the controller ----------------------------------------------- */

#define FWD_CREATE_FRAME_MAX (64u << 10)

static void fwd_create_answered(void *ctx, enum sl_err err, const void *resp, int16_t version)
{
	(void)version;
	struct brk *b = ctx;
	const struct wire_envelope_response *e = resp;
	if (err != SL_OK)
		SL_INFO("broker", "auto-creation request to the controller failed: %s",
		        sl_err_msg(err));
	else if (e->error_code != WIRE_ERR_NONE)
		brk_channel_failed(b, -1);
}

void brk_forward_create_topic(struct brk *b, struct wire_str name, int32_t num_partitions,
                              int16_t replication_factor)
{
	int32_t target;
	struct net_peer *p = brk_channel_target(b, &target);
	if (p == NULL || name.len <= 0)
		return;
	struct wire_create_topics_request_creatable_topic t;
	wire_create_topics_request_creatable_topic_init(&t);
	t.name = name;
	t.num_partitions = num_partitions;
	t.replication_factor = replication_factor;
	struct wire_create_topics_request q;
	wire_create_topics_request_init(&q);
	q.topics = &t;
	q.topics_count = 1;
	q.timeout_ms = FWD_DEADLINE_MS;
	struct wire_request_header h = {.api_key = 19,
	                                .api_version = 7,
	                                .correlation_id = 1,
	                                .client_id = wire_str_c("sluice-auto-create")};
	struct sl_buf frame;
	sl_buf_init(&frame, FWD_CREATE_FRAME_MAX);
	wire_request_header_encode(&frame, &h);
	wire_create_topics_request_encode(&frame, 7, &q);
	if (sl_buf_err(&frame) == SL_OK) {
		struct wire_envelope_request env;
		wire_envelope_request_init(&env);
		env.request_data = (struct wire_bytes){frame.data, (int32_t)frame.len};
		env.request_principal =
		        (struct wire_bytes){fwd_principal, (int32_t)sizeof(fwd_principal)};
		env.client_host_address =
		        (struct wire_bytes){fwd_client_host, (int32_t)sizeof(fwd_client_host)};
		enum sl_err e = net_peer_send(p, 58, 0, &env, fwd_create_answered, b);
		if (e != SL_OK)
			SL_INFO("broker", "auto-creation of %.*s not sent: %s", (int)name.len,
			        name.ptr, sl_err_msg(e));
	}
	sl_buf_free(&frame);
}
