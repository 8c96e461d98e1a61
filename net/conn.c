/*
 * conn.c: one client connection: framing, request slots, ordered responses, closing.
 *
 * Read path: recv into rbuf; frame as many complete requests as there are free slots (each
 * frame is copied into its slot's arena, so rbuf can be reused at once); a frame that is not
 * complete yet is received straight into its slot's arena (READING), which bounds rbuf to
 * NET_RBUF_BYTES whatever the frame size. Reading pauses while every slot is in use.
 *
 * Write path (send.c): the answered slots at the head of the ring go out in order, memory by
 * writev and file ranges by splice, sendfile or a copy. A slot is reset (arena, response
 * buffer, release callback) only once its last byte has been sent or its connection is gone.
 *
 * See net_int.h for the state diagram and the rule for freeing a connection.
 */
#include "net_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void net_conn_check_invariants(const struct net_conn *c)
{
	SL_ASSERT(c->used <= c->slot_count);
	SL_ASSERT(c->head < c->slot_count);
	SL_ASSERT(c->rstart <= c->rend);
	SL_ASSERT(c->rend <= NET_RBUF_BYTES);
	unsigned dispatched = 0;
	size_t frame_bytes = 0;
	for (unsigned i = 0; i < c->slot_count; i++) {
		const struct net_slot *slot = &c->slots[(c->head + i) % c->slot_count];
		SL_ASSERT((slot->state != NET_SLOT_FREE) == (i < c->used));
		if (slot->state == NET_SLOT_DISPATCHED)
			dispatched++;
		if (slot->state == NET_SLOT_CLOSE)
			SL_ASSERT(c->close_pending);
		frame_bytes += slot->frame_size;
		if (slot->state == NET_SLOT_READING) {
			SL_ASSERT(slot == c->reading);
			SL_ASSERT(i == c->used - 1); /* only the newest request can be incomplete */
			SL_ASSERT(slot->frame_filled < slot->frame_size);
		}
	}
	SL_ASSERT(dispatched == c->handlers_outstanding);
	SL_ASSERT(frame_bytes == c->frame_bytes);
	SL_ASSERT(c->used <= 1 || c->frame_bytes <= (size_t)c->srv->opts.request_max_bytes);
	SL_ASSERT(c->reading == NULL || c->reading->state == NET_SLOT_READING);
	SL_ASSERT(c->send_offset == 0 || c->used > 0);
	net_send_check_invariants(c);
}

static struct net_slot *slot_at(struct net_conn *c, unsigned i)
{
	return &c->slots[(c->head + i) % c->slot_count];
}

void net_slot_release(struct net_slot *slot)
{
	SL_ASSERT(slot->conn->frame_bytes >= slot->frame_size);
	slot->conn->frame_bytes -= slot->frame_size;
	if (slot->req.release != NULL) {
		net_release_fn *fn = slot->req.release;
		slot->req.release = NULL;
		fn(&slot->req, slot->req.release_ctx);
	}
	slot->files = NULL; /* arena memory */
	slot->file_count = 0;
	slot->file_cap = 0;
	slot->file_bytes = 0;
	sl_arena_reset(&slot->arena);
	if (slot->resp.cap > NET_RESP_KEEP_BYTES) {
		size_t max = slot->resp.max_bytes;
		sl_buf_free(&slot->resp);
		sl_buf_init(&slot->resp, max);
	}
	sl_buf_reset(&slot->resp);
	slot->state = NET_SLOT_FREE;
	slot->frame_mem = NULL;
	slot->frame_filled = 0;
	slot->frame_size = 0;
	slot->close_reason = NULL;
}

static void conn_free(struct net_conn *c)
{
	/* Responses never sent still hand their files back. */
	for (unsigned i = 0; i < c->used; i++)
		net_slot_release(slot_at(c, i));
	net_conn_send_fini(c);
	for (unsigned i = 0; i < c->slot_count; i++) {
		sl_arena_free(&c->slots[i].arena);
		sl_buf_free(&c->slots[i].resp);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->slots);
	free(c->iov);
	free(c->rbuf);
	free(c);
}

void net_conn_maybe_free(struct net_conn *c)
{
	if (c->state != NET_CONN_CLOSED || c->holds > 0 || c->recv_in_flight || c->send_in_flight ||
	    c->cancel_in_flight || c->handlers_outstanding > 0)
		return;
	struct net_server *s = c->srv;
	net_server_conn_gone(s, c);
	conn_free(c);
	net_server_check_stopped(s);
}

enum sl_err net_conn_open(struct net_server *s, int fd, const char *listener_name,
                          bool is_controller, const char *peer, uint64_t *conn_id)
{
	struct net_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SL_ENOMEM;
	c->srv = s;
	c->fd = fd;
	c->id = ++s->next_conn_id;
	c->listener_name = listener_name;
	c->is_controller = is_controller;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	snprintf(c->log_ctx, sizeof(c->log_ctx), "conn=%llu peer=%s", (unsigned long long)c->id,
	         c->peer);
	c->slot_count = s->opts.inflight_max;
	c->pipe_fds[0] = -1;
	c->pipe_fds[1] = -1;
	c->iov_cap = SL_MIN(c->slot_count + NET_IOV_EXTRA, (unsigned)IOV_MAX); /* writev's limit */
	c->rbuf = malloc(NET_RBUF_BYTES);
	c->slots = calloc(c->slot_count, sizeof(*c->slots));
	c->iov = calloc(c->iov_cap, sizeof(*c->iov));
	if (c->rbuf == NULL || c->slots == NULL || c->iov == NULL) {
		c->fd = -1; /* the caller closes fd on failure */
		if (c->slots == NULL)
			c->slot_count = 0; /* conn_free walks the slots */
		conn_free(c);
		return SL_ENOMEM;
	}
	size_t arena_limit = (size_t)s->opts.request_max_bytes + NET_ARENA_EXTRA_BYTES;
	for (unsigned i = 0; i < c->slot_count; i++) {
		struct net_slot *slot = &c->slots[i];
		slot->conn = c;
		sl_arena_init(&slot->arena, NET_ARENA_CHUNK_BYTES, arena_limit);
		sl_buf_init(&slot->resp, s->opts.response_max_bytes + 4);
	}
	c->last_active_ms = sl_mono_ms();
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->conn_count++;
	s->stats.connections = s->conn_count;
	if (conn_id != NULL)
		*conn_id = c->id;
	SL_DEBUG(c->log_ctx, "connection opened on listener %s", listener_name);
	net_conn_try_read(c);
	return SL_OK;
}

static void cancel_done(struct io_op *op, void *ctx)
{
	(void)op;
	struct net_conn *c = ctx;
	c->cancel_in_flight = false;
	net_conn_maybe_free(c);
}

/* Cancels the recv in flight, if any (one cancel at a time; shutdown() backs it up). */
static void conn_cancel_recv(struct net_conn *c)
{
	if (!c->recv_in_flight || c->cancel_in_flight)
		return;
	c->cancel_in_flight = true;
	io_cancel(c->srv->loop, &c->cancel_op, &c->recv_op, cancel_done, c);
}

void net_conn_close(struct net_conn *c, const char *reason)
{
	if (c->state == NET_CONN_CLOSED)
		return;
	if (reason != NULL)
		SL_INFO(c->log_ctx, "closing connection: %s", reason);
	c->state = NET_CONN_CLOSED;
	/* Wakes a recv or send in flight on either backend; the fd is closed once they end. */
	(void)shutdown(c->fd, SHUT_RDWR);
	conn_cancel_recv(c);
	net_conn_maybe_free(c);
}

void net_conn_drain(struct net_conn *c)
{
	if (c->state != NET_CONN_OPEN)
		return;
	c->state = NET_CONN_DRAINING;
	conn_cancel_recv(c);
	if (c->used == 0 || (c->reading != NULL && c->used == 1))
		net_conn_close(c, NULL);
}

/* ---- framing ---------------------------------------------------------------------------- */

static void conn_bad_frame(struct net_conn *c, int32_t size)
{
	char reason[160];
	if (size <= 0)
		snprintf(reason, sizeof(reason), "invalid request size %d (must be > 0)", size);
	else
		snprintf(reason, sizeof(reason),
		         "request size %d exceeds socket.request.max.bytes %d", size,
		         c->srv->opts.request_max_bytes);
	c->srv->stats.closed_bad_frame++;
	SL_WARN(c->log_ctx, "closing connection: %s", reason);
	net_conn_close(c, NULL);
}

static void slot_dispatch(struct net_conn *c, struct net_slot *slot)
{
	slot->state = NET_SLOT_DISPATCHED;
	c->handlers_outstanding++;
	c->srv->stats.requests++;
	struct net_request *r = &slot->req;
	r->conn_id = c->id;
	r->log_ctx = c->log_ctx;
	r->listener = c->listener_name;
	r->is_controller_listener = c->is_controller;
	r->frame = slot->frame_mem;
	r->frame_len = slot->frame_size;
	r->arena = &slot->arena;
	r->resp = &slot->resp;
	r->release = NULL;
	r->release_ctx = NULL;
	SL_ASSERT(slot->file_count == 0);
	sl_buf_reset(&slot->resp);
	sl_buf_put_be32(&slot->resp, 0); /* size prefix, patched by net_respond */
	c->srv->opts.dispatch(r, c->srv->opts.dispatch_ctx);
}

/* Starts the next request: a slot with frame memory for size bytes. NULL: closed. */
static struct net_slot *slot_begin(struct net_conn *c, int32_t size)
{
	struct net_slot *slot = slot_at(c, c->used);
	SL_ASSERT(slot->state == NET_SLOT_FREE);
	slot->frame_mem = sl_arena_alloc(&slot->arena, (size_t)size);
	if (slot->frame_mem == NULL) {
		SL_WARN(c->log_ctx, "closing connection: no memory for a %d-byte request", size);
		net_conn_close(c, NULL);
		return NULL;
	}
	slot->frame_size = (size_t)size;
	c->frame_bytes += (size_t)size;
	slot->frame_filled = 0;
	slot->state = NET_SLOT_READING;
	c->used++;
	return slot;
}

/* Frames what rbuf holds while slots (and the frame byte budget) are free. Returns false if
 * the connection closed. */
static bool conn_parse(struct net_conn *c)
{
	while (c->state == NET_CONN_OPEN && !c->close_pending && c->reading == NULL &&
	       c->used < c->slot_count) {
		size_t avail = c->rend - c->rstart;
		if (avail < 4)
			break;
		int32_t size = (int32_t)sl_load_be32(c->rbuf + c->rstart);
		if (size <= 0 || size > c->srv->opts.request_max_bytes) {
			conn_bad_frame(c, size);
			return false;
		}
		if (c->used > 0 &&
		    c->frame_bytes + (size_t)size > (size_t)c->srv->opts.request_max_bytes)
			break; /* resumed when an earlier request's response has been sent */
		struct net_slot *slot = slot_begin(c, size);
		if (slot == NULL)
			return false;
		size_t take = SL_MIN(avail - 4, (size_t)size);
		memcpy(slot->frame_mem, c->rbuf + c->rstart + 4, take);
		slot->frame_filled = take;
		c->rstart += 4 + take;
		if (take < (size_t)size) {
			c->reading = slot; /* the rest goes straight into the arena */
			break;
		}
		slot_dispatch(c, slot);
	}
	if (c->rstart == c->rend)
		c->rstart = c->rend = 0;
	return c->state != NET_CONN_CLOSED;
}

static void recv_done(struct io_op *op, void *ctx)
{
	struct net_conn *c = ctx;
	c->recv_in_flight = false;
	if (c->state != NET_CONN_OPEN || c->close_pending) {
		net_conn_maybe_free(c); /* what arrived after a close request is dropped */
		return;
	}
	if (op->err != SL_OK || op->res == 0) {
		if (op->err != SL_OK && op->err != SL_ECANCELED && op->err != SL_ECLOSED) {
			SL_INFO(c->log_ctx, "closing connection: recv failed: %s",
			        strerror(op->errno_value));
		} else {
			SL_DEBUG(c->log_ctx, "peer closed the connection");
		}
		net_conn_close(c, NULL);
		return;
	}
	c->last_active_ms = sl_mono_ms();
	size_t n = (size_t)op->res;
	c->holds++;
	if (c->reading != NULL) {
		struct net_slot *slot = c->reading;
		slot->frame_filled += n;
		SL_ASSERT(slot->frame_filled <= slot->frame_size);
		if (slot->frame_filled == slot->frame_size) {
			c->reading = NULL;
			slot_dispatch(c, slot);
		}
	} else {
		c->rend += n;
		SL_ASSERT(c->rend <= NET_RBUF_BYTES);
	}
	net_conn_try_read(c);
	c->holds--;
	net_conn_maybe_free(c);
}

void net_conn_try_read(struct net_conn *c)
{
	if (c->state != NET_CONN_OPEN || c->recv_in_flight || c->close_pending)
		return;
	SL_DASSERT((net_conn_check_invariants(c), true));
	/* Frames already buffered go first (they may have waited for a free slot). Callers
	 * hold the connection, so a close inside a handler cannot free it under us. */
	if (c->reading == NULL && !conn_parse(c))
		return;
	if (c->state != NET_CONN_OPEN || c->close_pending)
		return;
	if (c->reading != NULL) {
		struct net_slot *slot = c->reading;
		c->recv_in_flight = true;
		io_recv(c->srv->loop, &c->recv_op, c->fd, slot->frame_mem + slot->frame_filled,
		        slot->frame_size - slot->frame_filled, recv_done, c);
		return;
	}
	if (c->used == c->slot_count || c->rend - c->rstart >= 4)
		return; /* back-pressure (slots or bytes): resumed when a response has been sent */
	if (c->rstart > 0) {
		memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
		c->rend -= c->rstart;
		c->rstart = 0;
	}
	SL_ASSERT(c->rend < 4); /* conn_parse consumed every complete size prefix */
	c->recv_in_flight = true;
	io_recv(c->srv->loop, &c->recv_op, c->fd, c->rbuf + c->rend, NET_RBUF_BYTES - c->rend,
	        recv_done, c);
}

/* ---- responses (the send path is in send.c) ------------------------------------------ */

/* Common part of net_respond and net_respond_close. */
static void slot_finish(struct net_slot *slot, enum net_slot_state state)
{
	struct net_conn *c = slot->conn;
	SL_ASSERT(slot->state == NET_SLOT_DISPATCHED);
	SL_ASSERT(c->handlers_outstanding > 0);
	c->handlers_outstanding--;
	slot->state = state;
	/* An answer is activity: the idle check must not close the connection before it has
	 * been sent, however long the handler held the request. */
	c->last_active_ms = sl_mono_ms();
	c->holds++;
	if (state == NET_SLOT_CLOSE && !c->close_pending) {
		c->close_pending = true; /* nothing after this request may be dispatched */
		conn_cancel_recv(c);
	}
	if (c->state != NET_CONN_CLOSED)
		net_conn_try_send(c);
	c->holds--;
	net_conn_maybe_free(c);
}

void net_respond(struct net_request *req)
{
	struct net_slot *slot = (struct net_slot *)req;
	struct net_conn *c = slot->conn;
	SL_ASSERT(slot->resp.len >= 4);
	if (sl_buf_err(&slot->resp) != SL_OK) {
		slot->close_reason = "response larger than the response buffer limit";
		slot_finish(slot, NET_SLOT_CLOSE);
		return;
	}
	/* net_resp_add_file kept the total within response_max_bytes; memory appended after
	 * the last range may still push it over. */
	uint64_t body = slot->resp.len - 4 + slot->file_bytes;
	if (body > c->srv->opts.response_max_bytes || body > INT32_MAX) {
		slot->close_reason = "response larger than the response buffer limit";
		slot_finish(slot, NET_SLOT_CLOSE);
		return;
	}
	sl_store_be32(slot->resp.data, (uint32_t)body);
	slot_finish(slot, NET_SLOT_DONE);
}

void net_respond_none(struct net_request *req)
{
	struct net_slot *slot = (struct net_slot *)req;
	/* An empty slot (no memory, no file range) is released by the send cursor without
	 * writing a byte. */
	slot->resp.len = 0;
	slot->file_count = 0;
	slot->file_bytes = 0;
	slot_finish(slot, NET_SLOT_DONE);
}

void net_respond_close(struct net_request *req, const char *reason)
{
	struct net_slot *slot = (struct net_slot *)req;
	SL_ASSERT(reason != NULL);
	/* Copied: the caller's string may not outlive this call. */
	char *copy = sl_arena_strndup(&slot->arena, reason, strlen(reason));
	slot->close_reason = copy != NULL ? copy : "request rejected";
	slot_finish(slot, NET_SLOT_CLOSE);
}
