/*
 * peer_conn.c: one outbound TCP connection of a net_peer (peer.h): connect, ApiVersions
 * negotiation, pipelined sends, response framing and decoding.
 *
 *   CONNECTING --connect ok--> NEGOTIATING --ApiVersions ok--> READY
 *        \__________________________\___________________________\__--> CLOSED (detached)
 *
 * Invariants:
 *   - At most one send and one recv (or the connect) in flight; out is appended to only while
 *     no send is in flight, and frames are copied into it, so request slots can be reused
 *     (after a failure) while the kernel still reads out.
 *   - Responses are decoded in place in `in`; `in` is not touched while a user callback that
 *     may look at the decoded response runs (recv is restarted only after the frames are
 *     handled).
 *   - A size prefix above max_response_bytes closes the connection before the frame is
 *     buffered; `in` never grows past max_response_bytes + 4 + PEER_RECV_CHUNK.
 *   - A CLOSED connection has peer == NULL and frees itself once no op is in flight and no
 *     callback of its own is running (busy).
 */
#include "peer_int.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void conn_maybe_free(struct peer_conn *c)
{
	if (c->state != PEER_CONN_CLOSED || c->busy || c->connect_in_flight || c->recv_in_flight ||
	    c->send_in_flight || c->cancel_rd_in_flight || c->cancel_wr_in_flight)
		return;
	if (c->fd >= 0)
		close(c->fd);
	sl_buf_free(&c->out);
	sl_buf_free(&c->in);
	free(c);
}

static void conn_cancel_done(struct io_op *op, void *ctx)
{
	struct peer_conn *c = ctx;
	if (op == &c->cancel_rd_op)
		c->cancel_rd_in_flight = false;
	else
		c->cancel_wr_in_flight = false;
	conn_maybe_free(c);
}

void peer_conn_close(struct peer_conn *c)
{
	if (c->state == PEER_CONN_CLOSED)
		return;
	c->state = PEER_CONN_CLOSED;
	c->peer = NULL;
	/* shutdown wakes a blocked recv or send on either backend; cancel makes sure. */
	(void)shutdown(c->fd, SHUT_RDWR);
	struct io_op *rd = c->connect_in_flight ? &c->connect_op
	                   : c->recv_in_flight  ? &c->recv_op
	                                        : NULL;
	if (rd != NULL) {
		c->cancel_rd_in_flight = true;
		io_cancel(c->loop, &c->cancel_rd_op, rd, conn_cancel_done, c);
	}
	if (c->send_in_flight) {
		c->cancel_wr_in_flight = true;
		io_cancel(c->loop, &c->cancel_wr_op, &c->send_op, conn_cancel_done, c);
	}
	conn_maybe_free(c);
}

/* Ends a callback of c: frees the peer if it was destroyed meanwhile, and c if closed. */
static void conn_cb_end(struct peer_conn *c, struct net_peer *p)
{
	c->busy = false;
	if (p != NULL && p->destroyed)
		peer_maybe_free(p);
	conn_maybe_free(c);
}

/* Fails the connection (and every pending request). false: the caller must stop. */
static bool conn_fail(struct peer_conn *c, enum sl_err head_err, enum sl_err err, const char *fmt,
                      ...) SL_PRINTF(4, 5);
static bool conn_fail(struct peer_conn *c, enum sl_err head_err, enum sl_err err, const char *fmt,
                      ...)
{
	struct net_peer *p = c->peer;
	SL_ASSERT(p != NULL && p->conn == c);
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	(void)peer_conn_failed(p, head_err, err, reason);
	return false;
}

/* ---- sending ------------------------------------------------------------------------------- */

static void conn_send_done(struct io_op *op, void *ctx);

static void conn_send_out(struct peer_conn *c)
{
	SL_ASSERT(!c->send_in_flight);
	SL_ASSERT(c->out_sent < c->out.len);
	c->send_in_flight = true;
	io_send(c->loop, &c->send_op, c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent,
	        conn_send_done, c);
}

static int32_t conn_next_corr(struct net_peer *p)
{
	p->next_corr = p->next_corr == INT32_MAX ? 1 : p->next_corr + 1;
	return p->next_corr;
}

/* Sends ApiVersions at c->apiv_version (out must be idle). */
static void conn_send_api_versions(struct peer_conn *c)
{
	struct wire_api_versions_request req;
	net_frame_api_versions_request(&req, "sluice");
	c->apiv_resend = false;
	c->apiv_corr = conn_next_corr(c->peer);
	sl_buf_reset(&c->out);
	c->out_sent = 0;
	enum sl_err e = net_frame_encode_request(&c->out, NET_FRAME_API_VERSIONS, c->apiv_version,
	                                         c->apiv_corr, c->peer->client_id, &req, NULL);
	SL_ASSERT(e == SL_OK); /* a few dozen bytes */
	conn_send_out(c);
}

/* Re-encodes a version_auto request at the negotiated version. */
static enum sl_err conn_reencode(struct net_peer *p, struct peer_slot *s, int16_t want)
{
	size_t size = wire_request_struct_size(s->api_key);
	sl_arena_reset(&p->arena);
	void *req = sl_arena_alloc(&p->arena, size);
	if (req == NULL)
		return SL_ENOMEM;
	struct wire_reader r;
	wire_reader_init(&r, s->frame.data + s->header_len, s->frame.len - s->header_len,
	                 &p->arena);
	enum sl_err e = wire_request_decode_any(&r, s->api_key, s->version, req);
	if (e == SL_OK && !wire_reader_done(&r))
		e = SL_EMALFORMED; /* cannot happen: we encoded it */
	if (e != SL_OK) {
		sl_arena_reset(&p->arena);
		return e == SL_ENOMEM ? SL_ENOMEM : SL_EINVAL;
	}
	sl_buf_reset(&p->scratch);
	e = net_frame_encode_request(&p->scratch, s->api_key, want, 0, p->client_id, req,
	                             &s->header_len);
	sl_arena_reset(&p->arena);
	if (e != SL_OK)
		return SL_ETOOBIG;
	struct sl_buf tmp = s->frame;
	s->frame = p->scratch;
	p->scratch = tmp;
	s->version = want;
	return SL_OK;
}

/* Makes s sendable on the negotiated versions: SL_OK or the error to fail it with. */
static enum sl_err conn_check_version(struct net_peer *p, struct peer_slot *s)
{
	SL_ASSERT(p->negotiated);
	if (!s->version_auto)
		return s->version >= p->server_lo[s->api_key] &&
		                       s->version <= p->server_hi[s->api_key]
		               ? SL_OK
		               : SL_EUNSUPPORTED;
	int16_t want = p->versions[s->api_key];
	if (want < 0)
		return SL_EUNSUPPORTED;
	return want == s->version ? SL_OK : conn_reencode(p, s, want);
}

void peer_conn_transmit(struct peer_conn *c)
{
	struct net_peer *p = c->peer;
	if (p == NULL || c->state != PEER_CONN_READY || c->send_in_flight)
		return;
	sl_buf_reset(&c->out);
	c->out_sent = 0;
	struct peer_slot *s;
	while ((s = p->queued.head) != NULL) {
		enum sl_err e = conn_check_version(p, s);
		if (e != SL_OK) {
			SL_WARN(p->log_ctx, "cannot send api key %d: %s", s->api_key,
			        sl_err_msg(e));
			s = peer_list_pop(&p->queued);
			s->state = PEER_SLOT_FAILING;
			s->fail_err = e;
			peer_list_push(&p->failing, s); /* drained by the caller or the timer */
			continue;
		}
		if (c->out.len > 0 && c->out.len + s->frame.len > p->opts.max_request_bytes)
			break;
		s = peer_list_pop(&p->queued);
		s->corr = conn_next_corr(p);
		sl_store_be32(s->frame.data + NET_FRAME_CORR_OFFSET, (uint32_t)s->corr);
		sl_buf_append(&c->out, s->frame.data, s->frame.len);
		SL_ASSERT(sl_buf_err(&c->out) == SL_OK);
		s->state = PEER_SLOT_SENT;
		peer_list_push(&p->sent, s);
	}
	if (c->out.len > 0)
		conn_send_out(c);
}

static void conn_send_done(struct io_op *op, void *ctx)
{
	struct peer_conn *c = ctx;
	struct net_peer *p = c->peer;
	c->send_in_flight = false;
	c->busy = true;
	if (p == NULL) {
		conn_cb_end(c, NULL);
		return;
	}
	if (op->err != SL_OK) {
		(void)conn_fail(c, SL_ECLOSED, SL_ECLOSED, "send: %s", sl_err_msg(op->err));
	} else {
		c->out_sent += (size_t)op->res;
		if (c->out_sent < c->out.len)
			conn_send_out(c);
		else if (c->apiv_resend)
			conn_send_api_versions(c);
		else if (c->state == PEER_CONN_READY)
			peer_conn_ready(p);
	}
	conn_cb_end(c, p);
}

/* ---- receiving ----------------------------------------------------------------------------- */

static void conn_recv_done(struct io_op *op, void *ctx);

/* Starts a recv: room for the rest of a pending large frame, else PEER_RECV_CHUNK. */
static bool conn_start_recv(struct peer_conn *c)
{
	if (c->in_start > 0) {
		size_t rest = c->in.len - c->in_start;
		memmove(c->in.data, c->in.data + c->in_start, rest);
		c->in.len = rest;
		c->in_start = 0;
	}
	if (c->in.len == 0 && c->in.cap > PEER_KEEP_BYTES) {
		size_t max = c->in.max_bytes;
		sl_buf_free(&c->in);
		sl_buf_init(&c->in, max);
	}
	size_t want = PEER_RECV_CHUNK;
	if (c->in.len >= 4) {
		size_t total = 4 + (size_t)sl_load_be32(c->in.data); /* checked by the framer */
		if (total > c->in.len)
			want = SL_MAX(want, total - c->in.len);
	}
	if (sl_buf_extend(&c->in, want) == NULL)
		return conn_fail(c, SL_ENOMEM, SL_ECLOSED, "receive buffer exhausted");
	c->in.len -= want;
	c->recv_in_flight = true;
	io_recv(c->loop, &c->recv_op, c->fd, c->in.data + c->in.len, want, conn_recv_done, c);
	return true;
}

/* The ApiVersions answer on a new connection. */
static bool conn_negotiated(struct peer_conn *c, const uint8_t *body, size_t len)
{
	struct net_peer *p = c->peer;
	struct wire_api_versions_response r;
	sl_arena_reset(&p->arena);
	enum sl_err e = net_frame_decode_api_versions(body, len, c->apiv_version, c->apiv_corr, &r,
	                                              &p->arena);
	if (e != SL_OK)
		return conn_fail(c, SL_EMALFORMED, SL_EMALFORMED, "bad ApiVersions response: %s",
		                 sl_err_msg(e));
	if (r.error_code == WIRE_ERR_UNSUPPORTED_VERSION) {
		int16_t v = net_frame_api_versions_retry(&r, c->apiv_version);
		if (v < 0)
			return conn_fail(c, SL_EUNSUPPORTED, SL_EUNSUPPORTED,
			                 "no common ApiVersions version");
		c->apiv_version = v;
		if (c->send_in_flight)
			c->apiv_resend = true;
		else
			conn_send_api_versions(c);
		return true;
	}
	if (r.error_code != WIRE_ERR_NONE)
		return conn_fail(c, SL_EUNSUPPORTED, SL_EUNSUPPORTED, "ApiVersions failed: %s",
		                 wire_err_name(r.error_code));
	net_frame_versions(&r, p->versions, p->server_lo, p->server_hi);
	sl_arena_reset(&p->arena);
	p->negotiated = true;
	p->down_logged = false;
	p->stats.connected++;
	c->state = PEER_CONN_READY;
	SL_DEBUG(p->log_ctx, "connected (ApiVersions v%d)", c->apiv_version);
	peer_conn_ready(p);
	return !p->destroyed && c->peer == p;
}

/* One response frame body (len >= 4). false: stop (connection failed or peer destroyed). */
static bool conn_handle_frame(struct peer_conn *c, const uint8_t *body, size_t len)
{
	struct net_peer *p = c->peer;
	if (c->state == PEER_CONN_NEGOTIATING)
		return conn_negotiated(c, body, len);
	SL_ASSERT(c->state == PEER_CONN_READY);
	struct peer_slot *s = p->sent.head;
	int32_t corr = (int32_t)sl_load_be32(body);
	if (s == NULL || corr != s->corr)
		return conn_fail(c, SL_EMALFORMED, SL_ECLOSED,
		                 "response with unexpected correlation id %d (expected %d)", corr,
		                 s != NULL ? s->corr : -1);
	sl_arena_reset(&p->arena);
	void *resp = sl_arena_alloc(&p->arena, wire_response_struct_size(s->api_key));
	enum sl_err e = resp == NULL ? SL_ENOMEM
	                             : net_frame_decode_response(body, len, s->api_key, s->version,
	                                                         s->corr, resp, &p->arena);
	if (e != SL_OK)
		return conn_fail(c, e, SL_ECLOSED, "undecodable response (api key %d v%d): %s",
		                 s->api_key, s->version, sl_err_msg(e));
	if (!peer_complete(p, resp, s->version))
		return false;
	sl_arena_reset(&p->arena);
	return c->peer == p;
}

/* Handles every complete frame in `in`. false: stop. */
static bool conn_handle_frames(struct peer_conn *c)
{
	for (;;) {
		size_t have = c->in.len - c->in_start;
		if (have < 4)
			return true;
		const uint8_t *f = c->in.data + c->in_start;
		uint32_t size = sl_load_be32(f);
		if (size > c->peer->opts.max_response_bytes)
			return conn_fail(c, SL_ETOOBIG, SL_ECLOSED,
			                 "response of %u bytes exceeds the limit of %zu", size,
			                 c->peer->opts.max_response_bytes);
		if (size < 4)
			return conn_fail(c, SL_EMALFORMED, SL_ECLOSED, "invalid response size %u",
			                 size);
		if (have - 4 < size)
			return true;
		c->in_start += 4 + (size_t)size;
		if (!conn_handle_frame(c, f + 4, size))
			return false;
	}
}

static void conn_recv_done(struct io_op *op, void *ctx)
{
	struct peer_conn *c = ctx;
	struct net_peer *p = c->peer;
	c->recv_in_flight = false;
	c->busy = true;
	if (p == NULL) {
		conn_cb_end(c, NULL);
		return;
	}
	if (op->err != SL_OK) {
		(void)conn_fail(c, SL_ECLOSED, SL_ECLOSED, "recv: %s", sl_err_msg(op->err));
	} else if (op->res == 0) {
		(void)conn_fail(c, SL_ECLOSED, SL_ECLOSED, "closed by the server");
	} else {
		c->in.len += (size_t)op->res;
		if (conn_handle_frames(c))
			(void)conn_start_recv(c);
	}
	conn_cb_end(c, p);
}

/* ---- connecting ---------------------------------------------------------------------------- */

static void conn_connect_done(struct io_op *op, void *ctx)
{
	struct peer_conn *c = ctx;
	struct net_peer *p = c->peer;
	c->connect_in_flight = false;
	c->busy = true;
	if (p == NULL) {
		conn_cb_end(c, NULL);
		return;
	}
	if (op->err != SL_OK) {
		enum sl_err e = op->err == SL_ETIMEDOUT || op->err == SL_ECONNREFUSED ? op->err
		                                                                      : SL_ECLOSED;
		(void)conn_fail(c, e, e, "connect: %s", strerror(op->errno_value));
	} else {
		c->state = PEER_CONN_NEGOTIATING;
		const struct wire_api_info *info = wire_api_info(NET_FRAME_API_VERSIONS);
		SL_ASSERT(info != NULL);
		c->apiv_version = info->max_version;
		conn_send_api_versions(c);
		(void)conn_start_recv(c);
	}
	conn_cb_end(c, p);
}

enum sl_err peer_conn_open(struct net_peer *p, struct peer_conn **out)
{
	struct peer_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SL_ENOMEM;
	/* Blocking mode: the sync backend makes it non-blocking itself; io_uring polls. */
	c->fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		enum sl_err e = sl_err_from_errno(errno);
		free(c);
		return e;
	}
	int one = 1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->peer = p;
	c->loop = p->loop;
	c->state = PEER_CONN_CONNECTING;
	c->deadline_ms = sl_mono_ms() + p->opts.connect_timeout_ms;
	sl_buf_init(&c->out, p->opts.max_request_bytes + 64);
	sl_buf_init(&c->in, p->opts.max_response_bytes + 4 + PEER_RECV_CHUNK);
	c->connect_in_flight = true;
	io_connect(c->loop, &c->connect_op, c->fd, (const struct sockaddr *)&p->sa, p->sa_len,
	           conn_connect_done, c);
	*out = c;
	return SL_OK;
}
