/*
 * peer.c: the outbound peer client's request side (peer.h): request slots and their queues,
 * the single timer (request deadlines, connect deadline, reconnect backoff), callbacks and
 * the peer's lifetime. The TCP connection itself is peer_conn.c.
 *
 * Invariants (net_peer_check_invariants):
 *   - Every slot is in exactly one place: the free list, queued, sent or failing, and its
 *     state says which; pending = queued + sent + failing.
 *   - sent is non-empty only while a READY connection exists; sent holds strictly
 *     increasing correlation ids (responses must arrive in that order).
 *   - User callbacks run only through peer_call, which counts their nesting (depth); the peer
 *     is freed only at depth 0, once destroyed and its timer op has completed.
 *   - done() never runs inside net_peer_send: work that would fail a request there is put on
 *     the failing list and drained from the next loop callback (a 0 ms timer).
 */
#include "peer_int.h"

#include "net.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEER_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define PEER_DEFAULT_REQUEST_TIMEOUT_MS 30000
#define PEER_DEFAULT_MAX_BYTES (64u * 1024u * 1024u)
#define PEER_DEFAULT_MAX_PENDING 128
#define PEER_MAX_PENDING_LIMIT 65536

/* ---- lists -------------------------------------------------------------------------------- */

void peer_list_push(struct peer_list *l, struct peer_slot *s)
{
	s->next = NULL;
	if (l->tail != NULL)
		l->tail->next = s;
	else
		l->head = s;
	l->tail = s;
	l->count++;
}

struct peer_slot *peer_list_pop(struct peer_list *l)
{
	struct peer_slot *s = l->head;
	if (s == NULL)
		return NULL;
	l->head = s->next;
	if (l->head == NULL)
		l->tail = NULL;
	s->next = NULL;
	SL_ASSERT(l->count > 0);
	l->count--;
	return s;
}

static void slot_put(struct net_peer *p, struct peer_slot *s)
{
	if (s->frame.cap > PEER_KEEP_BYTES) {
		size_t max = s->frame.max_bytes;
		sl_buf_free(&s->frame);
		sl_buf_init(&s->frame, max);
	}
	sl_buf_reset(&s->frame);
	s->state = PEER_SLOT_FREE;
	s->done = NULL;
	s->ctx = NULL;
	s->next = p->free_slots;
	p->free_slots = s;
}

/* ---- callbacks ---------------------------------------------------------------------------- */

/* Frees s's slot, then runs its callback. Returns false when the peer has been destroyed. */
static bool peer_call(struct net_peer *p, struct peer_slot *s, enum sl_err err, const void *resp,
                      int16_t version)
{
	net_peer_done_fn *done = s->done;
	void *ctx = s->ctx;
	slot_put(p, s);
	if (err == SL_ETIMEDOUT)
		p->stats.timeouts++;
	else if (err == SL_OK)
		p->stats.responses++;
	p->depth++;
	done(ctx, err, err == SL_OK ? resp : NULL, err == SL_OK ? version : -1);
	SL_ASSERT(p->depth > 0);
	p->depth--;
	return !p->destroyed;
}

static void peer_fail_push(struct net_peer *p, struct peer_slot *s, enum sl_err err)
{
	s->state = PEER_SLOT_FAILING;
	s->fail_err = err;
	peer_list_push(&p->failing, s);
}

/* Runs the callbacks of the failing list, oldest first. false when the peer was destroyed. */
static bool peer_drain(struct net_peer *p)
{
	struct peer_slot *s;
	while (!p->destroyed && (s = peer_list_pop(&p->failing)) != NULL)
		if (!peer_call(p, s, s->fail_err, NULL, -1))
			return false;
	return !p->destroyed;
}

bool peer_fail_one(struct net_peer *p, struct peer_slot *s, enum sl_err err)
{
	peer_fail_push(p, s, err);
	return peer_drain(p);
}

bool peer_complete(struct net_peer *p, const void *resp, int16_t version)
{
	struct peer_slot *s = peer_list_pop(&p->sent);
	SL_ASSERT(s != NULL);
	SL_ASSERT(s->state == PEER_SLOT_SENT);
	return peer_call(p, s, SL_OK, resp, version);
}

bool peer_conn_failed(struct net_peer *p, enum sl_err head_err, enum sl_err err, const char *reason)
{
	struct peer_conn *c = p->conn;
	SL_ASSERT(c != NULL);
	/* Once per outage at INFO: a voter that is down is retried every backoff. */
	if (reason != NULL && !p->down_logged)
		SL_INFO(p->log_ctx, "connection failed: %s", reason);
	else if (reason != NULL)
		SL_DEBUG(p->log_ctx, "connection failed again: %s", reason);
	p->down_logged = true;
	p->stats.failures++;
	p->conn = NULL;
	peer_conn_close(c);
	int64_t now = sl_mono_ms();
	p->backoff_until_ms = now + p->opts.reconnect_backoff_ms;
	bool first = true;
	struct peer_slot *s;
	while ((s = peer_list_pop(&p->sent)) != NULL) {
		/* A request past its deadline timed out, whatever else happened. */
		peer_fail_push(p, s, s->deadline_ms <= now ? SL_ETIMEDOUT : first ? head_err : err);
		first = false;
	}
	while ((s = peer_list_pop(&p->queued)) != NULL)
		peer_fail_push(p, s, s->deadline_ms <= now ? SL_ETIMEDOUT : first ? head_err : err);
	if (!peer_drain(p))
		return false;
	peer_arm_timer(p);
	return true;
}

/* ---- timer --------------------------------------------------------------------------------- */

static void peer_timer_done(struct io_op *op, void *ctx);

static void peer_timer_cancel_done(struct io_op *op, void *ctx)
{
	(void)op;
	struct net_peer *p = ctx;
	p->timer_cancel_in_flight = false;
	peer_maybe_free(p);
}

/* The earliest moment something is due, INT64_MAX when nothing is. */
static int64_t peer_next_due(const struct net_peer *p)
{
	int64_t next = INT64_MAX;
	if (p->failing.head != NULL)
		return 0;
	if (p->conn != NULL && p->conn->state != PEER_CONN_READY)
		next = p->conn->deadline_ms;
	if (p->sent.head != NULL)
		next = SL_MIN(next, p->sent.head->deadline_ms);
	else if (p->queued.head != NULL)
		next = SL_MIN(next, p->queued.head->deadline_ms);
	if (p->conn == NULL && p->queued.head != NULL)
		next = SL_MIN(next, p->backoff_until_ms);
	return next;
}

void peer_arm_timer(struct net_peer *p)
{
	if (p->destroyed)
		return;
	int64_t next = peer_next_due(p);
	if (next == INT64_MAX)
		return;
	if (p->timer_in_flight) {
		if (p->timer_at_ms > next && !p->timer_cancel_in_flight) {
			p->timer_cancel_in_flight = true; /* its completion re-arms */
			io_cancel(p->loop, &p->timer_cancel_op, &p->timer_op,
			          peer_timer_cancel_done, p);
		}
		return;
	}
	int64_t now = sl_mono_ms();
	p->timer_in_flight = true;
	p->timer_at_ms = next;
	io_timeout(p->loop, &p->timer_op, next > now ? next - now : 0, peer_timer_done, p);
}

/* Starts a connection for the queued requests. Failures go to the failing list. */
static void peer_connect(struct net_peer *p)
{
	SL_ASSERT(p->conn == NULL);
	p->stats.connects++;
	enum sl_err e = peer_conn_open(p, &p->conn);
	if (e == SL_OK)
		return;
	p->conn = NULL;
	SL_WARN(p->log_ctx, "cannot open a connection: %s", sl_err_msg(e));
	p->stats.failures++;
	p->backoff_until_ms = sl_mono_ms() + p->opts.reconnect_backoff_ms;
	struct peer_slot *s;
	while ((s = peer_list_pop(&p->queued)) != NULL)
		peer_fail_push(p, s, e);
}

/* Everything time-driven: connect deadline, request deadlines, the end of a backoff. */
static void peer_tick(struct net_peer *p)
{
	int64_t now = sl_mono_ms();
	if (!peer_drain(p))
		return;
	if (p->conn != NULL && p->conn->state != PEER_CONN_READY && p->conn->deadline_ms <= now &&
	    !peer_conn_failed(p, SL_ETIMEDOUT, SL_ETIMEDOUT, "connect timed out"))
		return;
	if (p->sent.head != NULL && p->sent.head->deadline_ms <= now &&
	    !peer_conn_failed(p, SL_ETIMEDOUT, SL_ECLOSED, "request timed out"))
		return;
	while (p->sent.head == NULL && p->queued.head != NULL && p->queued.head->deadline_ms <= now)
		if (!peer_fail_one(p, peer_list_pop(&p->queued), SL_ETIMEDOUT))
			return;
	if (p->conn == NULL && p->queued.head != NULL && now >= p->backoff_until_ms)
		peer_connect(p);
	if (!peer_drain(p))
		return;
	peer_arm_timer(p);
}

static void peer_timer_done(struct io_op *op, void *ctx)
{
	(void)op;
	struct net_peer *p = ctx;
	p->timer_in_flight = false;
	if (!p->destroyed)
		peer_tick(p);
	peer_maybe_free(p);
}

void peer_conn_ready(struct net_peer *p)
{
	if (p->conn != NULL)
		peer_conn_transmit(p->conn);
	if (peer_drain(p))
		peer_arm_timer(p);
}

/* ---- lifetime ------------------------------------------------------------------------------ */

void peer_maybe_free(struct net_peer *p)
{
	if (!p->destroyed || p->depth > 0 || p->timer_in_flight || p->timer_cancel_in_flight)
		return;
	SL_ASSERT(p->conn == NULL);
	for (unsigned i = 0; i < p->opts.max_pending; i++)
		sl_buf_free(&p->slots[i].frame);
	free(p->slots);
	sl_arena_free(&p->arena);
	sl_buf_free(&p->scratch);
	free(p);
}

/* Resolves host into p->sa: numeric, "localhost", or one getaddrinfo call. */
static enum sl_err peer_resolve(struct net_peer *p, const char *host, uint16_t port, char *err,
                                size_t err_len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&p->sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&p->sa;
	memset(&p->sa, 0, sizeof(p->sa));
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		p->sa_len = sizeof(*v4);
		return SL_OK;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		p->sa_len = sizeof(*v6);
		return SL_OK;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char port_str[8];
	snprintf(port_str, sizeof(port_str), "%u", (unsigned)port);
	int rc = getaddrinfo(host, port_str, &hints, &res);
	if (rc != 0 || res == NULL || res->ai_addrlen > sizeof(p->sa)) {
		snprintf(err, err_len, "cannot resolve %s: %s", p->addr,
		         rc != 0 ? gai_strerror(rc) : "no address");
		if (res != NULL)
			freeaddrinfo(res);
		return SL_EINVAL;
	}
	memcpy(&p->sa, res->ai_addr, res->ai_addrlen);
	p->sa_len = res->ai_addrlen;
	freeaddrinfo(res);
	return SL_OK;
}

/* Copies and defaults the options. */
static enum sl_err peer_set_opts(struct net_peer *p, const struct net_peer_opts *o, char *err,
                                 size_t err_len)
{
	p->opts = *o;
	if (o->loop == NULL || o->addr == NULL || strlen(o->addr) >= sizeof(p->addr) ||
	    (o->client_id != NULL && strlen(o->client_id) >= sizeof(p->client_id)) ||
	    o->max_pending > PEER_MAX_PENDING_LIMIT) {
		snprintf(err, err_len, "invalid peer options");
		return SL_EINVAL;
	}
	snprintf(p->addr, sizeof(p->addr), "%s", o->addr);
	snprintf(p->client_id, sizeof(p->client_id), "%s",
	         o->client_id != NULL ? o->client_id : "sluice");
	snprintf(p->log_ctx, sizeof(p->log_ctx), "peer=%s", p->addr);
	p->opts.addr = p->addr;
	p->opts.client_id = p->client_id;
	if (p->opts.connect_timeout_ms <= 0)
		p->opts.connect_timeout_ms = PEER_DEFAULT_CONNECT_TIMEOUT_MS;
	if (p->opts.request_timeout_ms <= 0)
		p->opts.request_timeout_ms = PEER_DEFAULT_REQUEST_TIMEOUT_MS;
	if (p->opts.reconnect_backoff_ms < 0)
		p->opts.reconnect_backoff_ms = 0;
	if (p->opts.max_response_bytes == 0 || p->opts.max_response_bytes > INT32_MAX)
		p->opts.max_response_bytes = PEER_DEFAULT_MAX_BYTES;
	if (p->opts.max_request_bytes == 0 || p->opts.max_request_bytes > INT32_MAX)
		p->opts.max_request_bytes = PEER_DEFAULT_MAX_BYTES;
	if (p->opts.max_pending == 0)
		p->opts.max_pending = PEER_DEFAULT_MAX_PENDING;
	return SL_OK;
}

enum sl_err net_peer_create(const struct net_peer_opts *o, struct net_peer **out, char *err,
                            size_t err_len)
{
	struct net_peer *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, err_len, "out of memory");
		return SL_ENOMEM;
	}
	enum sl_err e = peer_set_opts(p, o, err, err_len);
	char host[PEER_ADDR_MAX];
	uint16_t port = 0;
	if (e == SL_OK && net_client_parse_addr(p->addr, host, sizeof(host), &port) != SL_OK) {
		snprintf(err, err_len, "invalid address '%s' (expected HOST:PORT)", p->addr);
		e = SL_EINVAL;
	}
	if (e == SL_OK)
		e = peer_resolve(p, host, port, err, err_len);
	if (e == SL_OK) {
		p->slots = calloc(p->opts.max_pending, sizeof(*p->slots));
		if (p->slots == NULL) {
			snprintf(err, err_len, "out of memory");
			e = SL_ENOMEM;
		}
	}
	if (e != SL_OK) {
		free(p);
		return e;
	}
	p->loop = o->loop;
	for (unsigned i = p->opts.max_pending; i-- > 0;) {
		sl_buf_init(&p->slots[i].frame, p->opts.max_request_bytes);
		slot_put(p, &p->slots[i]);
	}
	for (size_t k = 0; k < NET_FRAME_KEYS; k++) {
		p->versions[k] = -1;
		p->server_lo[k] = -1;
		p->server_hi[k] = -1;
	}
	/* Decoded structs can be several times the wire size (arrays of wide structs). */
	sl_arena_init(&p->arena, PEER_ARENA_CHUNK,
	              SL_MAX(p->opts.max_response_bytes * 4, 1u << 20));
	sl_buf_init(&p->scratch, p->opts.max_request_bytes);
	*out = p;
	return SL_OK;
}

/* Picks the version for a send: SL_OK with *v / *auto_v set, or the error to return. */
static enum sl_err peer_pick_version(const struct net_peer *p, int16_t api_key, int16_t version,
                                     int16_t *v, bool *auto_v)
{
	const struct wire_api_info *info = wire_api_info(api_key);
	if (info == NULL || api_key < 0 || api_key >= NET_FRAME_KEYS)
		return SL_EINVAL;
	*auto_v = version == -1;
	if (version == -1) {
		*v = p->negotiated ? p->versions[api_key] : info->max_version;
		return *v >= 0 ? SL_OK : SL_EUNSUPPORTED;
	}
	if (version < info->min_version || version > info->max_version)
		return SL_EINVAL;
	if (p->negotiated && (version < p->server_lo[api_key] || version > p->server_hi[api_key]))
		return SL_EUNSUPPORTED;
	*v = version;
	return SL_OK;
}

enum sl_err net_peer_send(struct net_peer *p, int16_t api_key, int16_t version, const void *req,
                          net_peer_done_fn *done, void *ctx)
{
	SL_ASSERT(done != NULL);
	SL_ASSERT(req != NULL);
	if (p->destroyed)
		return SL_ECANCELED;
	int16_t v;
	bool auto_v;
	enum sl_err e = peer_pick_version(p, api_key, version, &v, &auto_v);
	if (e != SL_OK)
		return e;
	struct peer_slot *s = p->free_slots;
	if (s == NULL)
		return SL_ELIMIT;
	SL_ASSERT(s->state == PEER_SLOT_FREE);
	sl_buf_reset(&s->frame);
	if (net_frame_encode_request(&s->frame, api_key, v, 0, p->client_id, req, &s->header_len) !=
	    SL_OK) {
		sl_buf_reset(&s->frame);
		return SL_ETOOBIG;
	}
	p->free_slots = s->next;
	s->api_key = api_key;
	s->version = v;
	s->version_auto = auto_v;
	s->corr = 0;
	s->deadline_ms = sl_mono_ms() + p->opts.request_timeout_ms;
	s->done = done;
	s->ctx = ctx;
	s->state = PEER_SLOT_QUEUED;
	peer_list_push(&p->queued, s);
	p->stats.requests++;
	if (p->conn != NULL)
		peer_conn_transmit(p->conn);
	else if (sl_mono_ms() >= p->backoff_until_ms)
		peer_connect(p);
	peer_arm_timer(p);
	return SL_OK;
}

void net_peer_destroy(struct net_peer *p)
{
	if (p == NULL || p->destroyed)
		return;
	p->destroyed = true;
	if (p->conn != NULL) {
		struct peer_conn *c = p->conn;
		p->conn = NULL;
		peer_conn_close(c);
	}
	/* Callbacks still due keep their error; the rest are canceled, in request order. */
	struct peer_slot *s;
	while ((s = peer_list_pop(&p->sent)) != NULL)
		peer_fail_push(p, s, SL_ECANCELED);
	while ((s = peer_list_pop(&p->queued)) != NULL)
		peer_fail_push(p, s, SL_ECANCELED);
	while ((s = peer_list_pop(&p->failing)) != NULL)
		(void)peer_call(p, s, s->fail_err, NULL, -1);
	if (p->timer_in_flight && !p->timer_cancel_in_flight) {
		p->timer_cancel_in_flight = true;
		io_cancel(p->loop, &p->timer_cancel_op, &p->timer_op, peer_timer_cancel_done, p);
	}
	peer_maybe_free(p);
}

/* ---- queries ------------------------------------------------------------------------------- */

int16_t net_peer_version(const struct net_peer *p, int16_t api_key)
{
	if (api_key < 0 || api_key >= NET_FRAME_KEYS || !p->negotiated)
		return -1;
	return p->versions[api_key];
}

bool net_peer_connected(const struct net_peer *p)
{
	return p->conn != NULL && p->conn->state == PEER_CONN_READY;
}

unsigned net_peer_pending(const struct net_peer *p)
{
	return p->queued.count + p->sent.count + p->failing.count;
}

const char *net_peer_addr(const struct net_peer *p)
{
	return p->addr;
}

void net_peer_stats(const struct net_peer *p, struct net_peer_stats *out)
{
	*out = p->stats;
}

static unsigned check_list(const struct peer_list *l, enum peer_slot_state st)
{
	unsigned n = 0;
	const struct peer_slot *last = NULL;
	for (const struct peer_slot *s = l->head; s != NULL; s = s->next) {
		SL_ASSERT(s->state == st);
		SL_ASSERT(s->done != NULL);
		last = s;
		n++;
	}
	SL_ASSERT(last == l->tail);
	SL_ASSERT(n == l->count);
	return n;
}

void net_peer_check_invariants(const struct net_peer *p)
{
	SL_ASSERT(!p->destroyed);
	unsigned free_count = 0;
	for (const struct peer_slot *s = p->free_slots; s != NULL; s = s->next) {
		SL_ASSERT(s->state == PEER_SLOT_FREE);
		free_count++;
	}
	unsigned n = free_count + check_list(&p->queued, PEER_SLOT_QUEUED) +
	             check_list(&p->sent, PEER_SLOT_SENT) +
	             check_list(&p->failing, PEER_SLOT_FAILING);
	SL_ASSERT(n == p->opts.max_pending);
	SL_ASSERT(p->sent.count == 0 || net_peer_connected(p));
	for (const struct peer_slot *s = p->sent.head; s != NULL && s->next != NULL; s = s->next)
		SL_ASSERT(s->next->corr != s->corr); /* increasing, modulo the int32 wrap */
	SL_ASSERT(p->conn == NULL || p->conn->peer == p);
}
