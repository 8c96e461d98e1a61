/*
 * test_net_peer.c: the asynchronous outbound client (net/peer.h) against a real net_server on
 * loopback, on both io backends: negotiation (KIP-511 fallback, re-encoding at the negotiated
 * version), pipelining, timeouts, refused and lost connections with reconnects, destroy with
 * requests in flight, and the limits. Conditions are awaited by running the loop with a
 * deadline, never by sleeping.
 */
#include "check_main.h"

#include "io.h"
#include "net.h"
#include "peer.h"
#include "wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEADLINE_MS 5000
#define HELD_MAX 64
#define REQ_MAX 64
#define KEY_METADATA 3
#define KEY_API_VERSIONS 18

enum srv_mode { MODE_ANSWER, MODE_HOLD, MODE_CLOSE, MODE_HUGE, MODE_BAD_CORR };

struct tsrv {
	struct net_server *srv;
	uint16_t port;
	enum srv_mode mode;
	int16_t metadata_max; /* advertised */
	int16_t apiv_max;     /* advertised; a higher request gets UNSUPPORTED_VERSION */
	int16_t last_version; /* of the last Metadata request */
	int apiv_requests;
	int requests;
	struct net_request *held[HELD_MAX];
	int held_count;
};

struct treq {
	int idx;
	int calls;
	enum sl_err err;
	int16_t version;
	int order;       /* completion order */
	int64_t done_ms; /* when done() ran */
	char name[32];
	int32_t controller_id;
};

struct tpeer {
	struct io_loop *loop;
	struct tsrv s;
	struct net_peer *peer;
	struct treq reqs[REQ_MAX];
	int completed;
	int destroy_at; /* destroy the peer from inside this request's callback (-1 = never) */
	int chain_at;   /* send one more request from inside this request's callback */
	bool after_destroy;
};

static struct tpeer T;

/* ---- the server ------------------------------------------------------------------------- */

static void srv_api_versions(struct net_request *req, const struct wire_request_header *h)
{
	struct tsrv *s = &T.s;
	s->apiv_requests++;
	struct wire_api_versions_response r;
	wire_api_versions_response_init(&r);
	int16_t v = h->api_version;
	r.api_keys = sl_arena_calloc(req->arena, wire_api_table_count,
	                             sizeof(struct wire_api_versions_response_api_version));
	ck_assert_ptr_nonnull(r.api_keys);
	if (v > s->apiv_max) {
		/* KIP-511: a v0 body naming our ApiVersions range. */
		r.error_code = WIRE_ERR_UNSUPPORTED_VERSION;
		r.api_keys_count = 1;
		r.api_keys[0] = (struct wire_api_versions_response_api_version){
		        .api_key = KEY_API_VERSIONS, .min_version = 0, .max_version = s->apiv_max};
		v = 0;
	} else {
		for (size_t i = 0; i < wire_api_table_count; i++) {
			const struct wire_api_info *a = &wire_api_table[i];
			int16_t hi = a->key == KEY_METADATA ? s->metadata_max : a->max_version;
			r.api_keys[r.api_keys_count++] =
			        (struct wire_api_versions_response_api_version){
			                .api_key = a->key,
			                .min_version = a->min_version,
			                .max_version = hi};
		}
	}
	wire_response_header_encode(req->resp, 0, h->correlation_id);
	wire_api_versions_response_encode(req->resp, v, &r);
	net_respond(req);
}

static void srv_metadata(struct net_request *req, const struct wire_request_header *h,
                         struct wire_reader *rd)
{
	struct wire_metadata_request q;
	ck_assert_int_eq(wire_metadata_request_decode(rd, h->api_version, &q), SL_OK);
	ck_assert(wire_reader_done(rd));
	struct wire_metadata_response r;
	wire_metadata_response_init(&r);
	r.controller_id = q.topics_count;
	struct wire_metadata_response_topic t;
	wire_metadata_response_topic_init(&t);
	if (q.topics_count > 0) {
		t.name = q.topics[0].name;
		r.topics = &t;
		r.topics_count = 1;
	}
	int32_t corr = h->correlation_id + (T.s.mode == MODE_BAD_CORR ? 1000 : 0);
	wire_response_header_encode(
	        req->resp, wire_response_header_version(KEY_METADATA, h->api_version), corr);
	wire_metadata_response_encode(req->resp, h->api_version, &r);
	if (T.s.mode == MODE_HUGE)
		ck_assert_ptr_nonnull(sl_buf_extend(req->resp, 1 << 20)); /* junk after the body */
	net_respond(req);
}

static void srv_dispatch(struct net_request *req, void *ctx)
{
	struct tsrv *s = ctx;
	struct wire_reader rd;
	wire_reader_init(&rd, req->frame, req->frame_len, req->arena);
	struct wire_request_header h;
	ck_assert_int_eq(wire_request_header_decode(&rd, &h), SL_OK);
	ck_assert(wire_str_eq(h.client_id, "test-peer"));
	if (h.api_key == KEY_API_VERSIONS) {
		srv_api_versions(req, &h);
		return;
	}
	ck_assert_int_eq(h.api_key, KEY_METADATA);
	s->requests++;
	s->last_version = h.api_version;
	switch (s->mode) {
	case MODE_HOLD:
		ck_assert_int_lt(s->held_count, HELD_MAX);
		s->held[s->held_count++] = req;
		return;
	case MODE_CLOSE:
		net_respond_close(req, "test closes");
		return;
	default:
		srv_metadata(req, &h, &rd);
		return;
	}
}

static void srv_release_held(void)
{
	for (int i = 0; i < T.s.held_count; i++)
		net_respond_none(T.s.held[i]);
	T.s.held_count = 0;
}

static void srv_start(uint16_t port)
{
	struct net_server_opts o = {
	        .request_max_bytes = 1 << 20,
	        .max_connections = 16,
	        .send_buffer_bytes = -1,
	        .recv_buffer_bytes = -1,
	        .dispatch = srv_dispatch,
	        .dispatch_ctx = &T.s,
	};
	ck_assert_int_eq(net_server_create(T.loop, &o, &T.s.srv), SL_OK);
	char err[256];
	ck_assert_msg(net_server_listen(T.s.srv, "PLAINTEXT", false, "127.0.0.1", port, &T.s.port,
	                                err, sizeof(err)) == SL_OK,
	              "%s", err);
}

/* ---- fixture --------------------------------------------------------------------------- */

static void setup_loop(int backend)
{
	memset(&T, 0, sizeof(T));
	T.destroy_at = -1;
	T.chain_at = -1;
	T.s.metadata_max = wire_api_info(KEY_METADATA)->max_version;
	T.s.apiv_max = wire_api_info(KEY_API_VERSIONS)->max_version;
	struct io_loop_opts lo = {.backend = backend == 0 ? IO_BACKEND_SYNC : IO_BACKEND_URING};
	char err[256];
	/* No silent fallback: a uring case that ran on sync would pass without testing uring. */
	ck_assert_msg(io_loop_create(&lo, &T.loop, err, sizeof(err)) == SL_OK, "%s", err);
}

static void peer_open(uint16_t port, const struct net_peer_opts *extra)
{
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
	struct net_peer_opts o = extra != NULL ? *extra : (struct net_peer_opts){0};
	o.loop = T.loop;
	o.addr = addr; /* copied */
	o.client_id = "test-peer";
	if (o.connect_timeout_ms == 0)
		o.connect_timeout_ms = 2000;
	if (o.request_timeout_ms == 0)
		o.request_timeout_ms = 2000;
	char err[256];
	ck_assert_msg(net_peer_create(&o, &T.peer, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_str_eq(net_peer_addr(T.peer), addr);
	ck_assert(!net_peer_connected(T.peer));
	ck_assert_int_eq(net_peer_version(T.peer, KEY_METADATA), -1);
}

static void teardown_all(void)
{
	net_peer_destroy(T.peer);
	T.peer = NULL;
	if (T.s.srv != NULL) {
		srv_release_held();
		net_server_stop(T.s.srv);
		int64_t deadline = sl_mono_ms() + DEADLINE_MS;
		while (!net_server_stopped(T.s.srv) && sl_mono_ms() < deadline)
			io_loop_run_once(T.loop, 10);
		ck_assert(net_server_stopped(T.s.srv));
		net_server_destroy(T.s.srv);
	}
	/* Let the peer's canceled ops complete so its memory is released (ASan checks). */
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (io_loop_pending(T.loop) > 0 && sl_mono_ms() < deadline)
		io_loop_run_once(T.loop, 10);
	ck_assert_uint_eq(io_loop_pending(T.loop), 0);
	io_loop_destroy(T.loop);
}

static void run_steps(int n)
{
	for (int i = 0; i < n; i++) {
		io_loop_run_once(T.loop, 1);
		if (T.peer != NULL)
			net_peer_check_invariants(T.peer);
	}
}

/* ---- the client --------------------------------------------------------------------------- */

static void send_metadata(int idx, int16_t version);

static void t_done(void *ctx, enum sl_err err, const void *resp, int16_t version)
{
	struct treq *r = ctx;
	ck_assert(!T.after_destroy);
	r->calls++;
	r->err = err;
	r->version = version;
	r->order = T.completed++;
	r->done_ms = sl_mono_ms();
	if (err == SL_OK) {
		const struct wire_metadata_response *m = resp;
		ck_assert_ptr_nonnull(m);
		r->controller_id = m->controller_id;
		ck_assert_int_eq(m->topics_count, 1);
		snprintf(r->name, sizeof(r->name), "%.*s", (int)m->topics[0].name.len,
		         m->topics[0].name.ptr);
	} else {
		ck_assert_ptr_null(resp);
		ck_assert_int_eq(version, -1);
	}
	if (r->idx == T.chain_at)
		send_metadata(r->idx + 1, -1);
	if (r->idx == T.destroy_at) {
		net_peer_destroy(T.peer); /* the rest complete with SL_ECANCELED right here */
		T.peer = NULL;
		T.after_destroy = true;
	}
}

static enum sl_err try_send(int idx, int16_t version)
{
	ck_assert_int_lt(idx, REQ_MAX);
	struct treq *r = &T.reqs[idx];
	memset(r, 0, sizeof(*r));
	r->idx = idx;
	r->err = SL_ESYS;
	char name[32];
	snprintf(name, sizeof(name), "topic-%d", idx);
	struct wire_metadata_request_topic t;
	wire_metadata_request_topic_init(&t);
	t.name = wire_str_c(name);
	struct wire_metadata_request q;
	wire_metadata_request_init(&q);
	q.topics = &t;
	q.topics_count = 1;
	return net_peer_send(T.peer, KEY_METADATA, version, &q, t_done, r);
}

static void send_metadata(int idx, int16_t version)
{
	ck_assert_int_eq(try_send(idx, version), SL_OK);
}

static void run_until_completed(int n)
{
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (T.completed < n && sl_mono_ms() < deadline)
		run_steps(1);
	ck_assert_int_eq(T.completed, n);
}

static void assert_ok(int idx)
{
	const struct treq *r = &T.reqs[idx];
	ck_assert_int_eq(r->calls, 1);
	ck_assert_msg(r->err == SL_OK, "request %d: %s", idx, sl_err_name(r->err));
	char want[32];
	snprintf(want, sizeof(want), "topic-%d", idx);
	ck_assert_str_eq(r->name, want);
	ck_assert_int_eq(r->controller_id, 1);
}

static void assert_err(int idx, enum sl_err e)
{
	const struct treq *r = &T.reqs[idx];
	ck_assert_int_eq(r->calls, 1);
	ck_assert_msg(r->err == e, "request %d: %s, expected %s", idx, sl_err_name(r->err),
	              sl_err_name(e));
}

static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- tests --------------------------------------------------------------------------------- */

/* Requests sent before the connection exists are queued, sent pipelined after ApiVersions and
 * answered in order with their own responses; a callback may send the next request. */
START_TEST(pipelined_in_order)
{
	setup_loop(_i);
	srv_start(0);
	peer_open(T.s.port, NULL);
	enum { N = 40 };
	for (int i = 0; i < N; i++)
		send_metadata(i, -1);
	ck_assert_uint_eq(net_peer_pending(T.peer), N);
	T.chain_at = N - 1;
	run_until_completed(N + 1);
	for (int i = 0; i <= N; i++) {
		assert_ok(i);
		ck_assert_int_eq(T.reqs[i].order, i);
		ck_assert_int_eq(T.reqs[i].version, wire_api_info(KEY_METADATA)->max_version);
	}
	ck_assert(net_peer_connected(T.peer));
	ck_assert_int_eq(net_peer_version(T.peer, KEY_METADATA),
	                 wire_api_info(KEY_METADATA)->max_version);
	ck_assert_uint_eq(net_peer_pending(T.peer), 0);
	struct net_peer_stats st;
	net_peer_stats(T.peer, &st);
	ck_assert_uint_eq(st.connects, 1);
	ck_assert_uint_eq(st.connected, 1);
	ck_assert_uint_eq(st.requests, N + 1);
	ck_assert_uint_eq(st.responses, N + 1);
	ck_assert_int_eq(T.s.apiv_requests, 1);
	ck_assert_int_eq(T.s.requests, N + 1);
	teardown_all();
}
END_TEST

/* KIP-511: the server knows an older ApiVersions (answers UNSUPPORTED_VERSION with a v0 body)
 * and an older Metadata; a -1 request queued before negotiation is re-encoded and sent at the
 * negotiated version; an explicit version the server lacks is refused at once. */
START_TEST(negotiation_fallback_and_reencode)
{
	setup_loop(_i);
	T.s.apiv_max = 2;
	T.s.metadata_max = 4;
	srv_start(0);
	peer_open(T.s.port, NULL);
	send_metadata(0, -1);
	run_until_completed(1);
	assert_ok(0);
	ck_assert_int_eq(T.reqs[0].version, 4);
	ck_assert_int_eq(T.s.last_version, 4);
	ck_assert_int_eq(T.s.apiv_requests, 2);
	ck_assert_int_eq(net_peer_version(T.peer, KEY_METADATA), 4);
	ck_assert_int_eq(try_send(1, 9), SL_EUNSUPPORTED);
	ck_assert_int_eq(try_send(1, 99), SL_EINVAL);
	send_metadata(1, 1);
	run_until_completed(2);
	assert_ok(1);
	ck_assert_int_eq(T.reqs[1].version, 1);
	ck_assert_int_eq(T.s.last_version, 1);
	teardown_all();
}
END_TEST

/* A server that never answers: the request times out, the connection is dropped, and the
 * next request reconnects and succeeds. */
START_TEST(never_answered_times_out)
{
	setup_loop(_i);
	srv_start(0);
	struct net_peer_opts o = {.request_timeout_ms = 150, .reconnect_backoff_ms = 10};
	peer_open(T.s.port, &o);
	T.s.mode = MODE_HOLD;
	int64_t start = sl_mono_ms();
	send_metadata(0, -1);
	run_until_completed(1);
	assert_err(0, SL_ETIMEDOUT);
	ck_assert_int_ge(sl_mono_ms() - start, 150);
	ck_assert(!net_peer_connected(T.peer));
	srv_release_held();
	T.s.mode = MODE_ANSWER;
	send_metadata(1, -1);
	run_until_completed(2);
	assert_ok(1);
	struct net_peer_stats st;
	net_peer_stats(T.peer, &st);
	ck_assert_uint_eq(st.connects, 2);
	ck_assert_uint_eq(st.timeouts, 1);
	teardown_all();
}
END_TEST

/* Nobody listens: connection refused; once the server listens, the next send reconnects
 * (after the backoff) and succeeds. */
START_TEST(refused_then_reconnect)
{
	setup_loop(_i);
	uint16_t port = free_port();
	struct net_peer_opts o = {.reconnect_backoff_ms = 50};
	peer_open(port, &o);
	send_metadata(0, -1);
	send_metadata(1, -1);
	run_until_completed(2);
	assert_err(0, SL_ECONNREFUSED);
	assert_err(1, SL_ECONNREFUSED);
	srv_start(port);
	send_metadata(2, -1); /* waits out the backoff, then connects */
	run_until_completed(3);
	assert_ok(2);
	/* The reconnect waited for the backoff, counted from the failure (just before done). */
	ck_assert_int_ge(T.reqs[2].done_ms - T.reqs[1].done_ms, 45);
	struct net_peer_stats st;
	net_peer_stats(T.peer, &st);
	ck_assert_uint_eq(st.connects, 2);
	ck_assert_uint_eq(st.failures, 1);
	teardown_all();
}
END_TEST

/* The server closes the connection: every pending request fails; the next one reconnects. */
START_TEST(server_close_fails_pending)
{
	setup_loop(_i);
	srv_start(0);
	peer_open(T.s.port, NULL);
	send_metadata(0, -1);
	run_until_completed(1);
	assert_ok(0);
	T.s.mode = MODE_CLOSE;
	for (int i = 1; i <= 3; i++)
		send_metadata(i, -1);
	run_until_completed(4);
	for (int i = 1; i <= 3; i++)
		assert_err(i, SL_ECLOSED);
	T.s.mode = MODE_ANSWER;
	send_metadata(4, -1);
	run_until_completed(5);
	assert_ok(4);
	struct net_peer_stats st;
	net_peer_stats(T.peer, &st);
	ck_assert_uint_eq(st.connects, 2);
	ck_assert_uint_eq(st.connected, 2);
	teardown_all();
}
END_TEST

/* Destroy with requests in flight: each completes once with SL_ECANCELED inside the destroy
 * call, none after it; memory is released once the loop has run (ASan). */
START_TEST(destroy_in_flight)
{
	setup_loop(_i);
	srv_start(0);
	peer_open(T.s.port, NULL);
	T.s.mode = MODE_HOLD;
	for (int i = 0; i < 5; i++)
		send_metadata(i, -1);
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (T.s.held_count < 5 && sl_mono_ms() < deadline)
		run_steps(1);
	ck_assert_int_eq(T.s.held_count, 5);
	send_metadata(5, -1); /* maybe still queued */
	net_peer_destroy(T.peer);
	T.peer = NULL;
	T.after_destroy = true;
	ck_assert_int_eq(T.completed, 6);
	for (int i = 0; i < 6; i++) {
		assert_err(i, SL_ECANCELED);
		ck_assert_int_eq(T.reqs[i].order, i);
	}
	run_steps(20);
	teardown_all();
}
END_TEST

/* Destroy from inside a callback, and destroy while still connecting. */
START_TEST(destroy_from_callback_and_connecting)
{
	setup_loop(_i);
	srv_start(0);
	peer_open(T.s.port, NULL);
	T.destroy_at = 0;
	for (int i = 0; i < 3; i++)
		send_metadata(i, -1);
	run_until_completed(3);
	assert_ok(0);
	assert_err(1, SL_ECANCELED);
	assert_err(2, SL_ECANCELED);
	run_steps(20);
	ck_assert_int_eq(T.completed, 3);
	/* A second peer destroyed right after its connect started. */
	T.after_destroy = false;
	T.destroy_at = -1;
	peer_open(T.s.port, NULL);
	send_metadata(3, -1);
	net_peer_destroy(T.peer);
	T.peer = NULL;
	assert_err(3, SL_ECANCELED);
	teardown_all();
}
END_TEST

/* A response frame above max_response_bytes is refused and closes the connection; a
 * response with an unknown correlation id too. Later requests reconnect. */
START_TEST(oversized_and_bad_correlation)
{
	setup_loop(_i);
	srv_start(0);
	struct net_peer_opts o = {.max_response_bytes = 64 * 1024};
	peer_open(T.s.port, &o);
	T.s.mode = MODE_HUGE;
	send_metadata(0, -1);
	send_metadata(1, -1);
	run_until_completed(2);
	assert_err(0, SL_ETOOBIG);
	assert_err(1, SL_ECLOSED);
	T.s.mode = MODE_BAD_CORR;
	send_metadata(2, -1);
	run_until_completed(3);
	assert_err(2, SL_EMALFORMED);
	T.s.mode = MODE_ANSWER;
	send_metadata(3, -1);
	run_until_completed(4);
	assert_ok(3);
	struct net_peer_stats st;
	net_peer_stats(T.peer, &st);
	ck_assert_uint_eq(st.connects, 3);
	teardown_all();
}
END_TEST

/* max_pending bounds the requests pending; bad arguments are refused without a callback. */
START_TEST(pending_limit)
{
	setup_loop(_i);
	srv_start(0);
	struct net_peer_opts o = {.max_pending = 4};
	peer_open(T.s.port, &o);
	T.s.mode = MODE_HOLD;
	for (int i = 0; i < 4; i++)
		send_metadata(i, -1);
	ck_assert_int_eq(try_send(4, -1), SL_ELIMIT);
	struct wire_metadata_request q;
	wire_metadata_request_init(&q);
	ck_assert_int_eq(net_peer_send(T.peer, 9999, -1, &q, t_done, &T.reqs[5]), SL_EINVAL);
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (T.s.held_count < 4 && sl_mono_ms() < deadline)
		run_steps(1);
	ck_assert_int_eq(T.s.held_count, 4);
	ck_assert_uint_eq(net_peer_pending(T.peer), 4);
	ck_assert_int_eq(try_send(4, -1), SL_ELIMIT);
	ck_assert_int_eq(T.completed, 0);
	teardown_all(); /* destroy cancels the four */
	for (int i = 0; i < 4; i++)
		assert_err(i, SL_ECANCELED);
	ck_assert_int_eq(T.reqs[4].calls, 0);
}
END_TEST

/* A bad address is refused at create; "localhost" resolves without a lookup. */
START_TEST(create_addresses)
{
	setup_loop(_i);
	char err[256];
	struct net_peer *p = NULL;
	struct net_peer_opts o = {.loop = T.loop, .addr = "127.0.0.1:notaport"};
	ck_assert_int_eq(net_peer_create(&o, &p, err, sizeof(err)), SL_EINVAL);
	ck_assert(strstr(err, "127.0.0.1:notaport") != NULL);
	o.addr = "[::1]:9092";
	ck_assert_int_eq(net_peer_create(&o, &p, err, sizeof(err)), SL_OK);
	net_peer_destroy(p);
	srv_start(0);
	char addr[64];
	snprintf(addr, sizeof(addr), "localhost:%u", (unsigned)T.s.port);
	o.addr = addr;
	o.client_id = "test-peer";
	ck_assert_int_eq(net_peer_create(&o, &T.peer, err, sizeof(err)), SL_OK);
	send_metadata(0, -1);
	run_until_completed(1);
	assert_ok(0);
	teardown_all();
}
END_TEST

/* A server that accepts the connection but never answers ApiVersions: the connect timeout
 * (which covers the negotiation) fails the queued request with SL_ETIMEDOUT. */
START_TEST(silent_server_connect_timeout)
{
	setup_loop(_i);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0); /* the kernel completes the handshake; no accept */
	socklen_t len = sizeof(a);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
	struct net_peer_opts o = {.connect_timeout_ms = 100, .request_timeout_ms = 5000};
	peer_open(ntohs(a.sin_port), &o);
	int64_t start = sl_mono_ms();
	send_metadata(0, -1);
	run_until_completed(1);
	assert_err(0, SL_ETIMEDOUT);
	ck_assert_int_ge(sl_mono_ms() - start, 100);
	ck_assert_int_lt(sl_mono_ms() - start, 4000);
	ck_assert(!net_peer_connected(T.peer));
	teardown_all();
	close(lfd);
}
END_TEST

/* The blocking tool client (client.c) shares the framing and negotiation helpers
 * (frame.c): it negotiates with the KIP-511 fallback and calls Metadata at the negotiated
 * version against the same server, which runs its loop on a thread here. */
static volatile bool srv_thread_stop;

static void *srv_thread(void *arg)
{
	(void)arg;
	while (!srv_thread_stop)
		io_loop_run_once(T.loop, 5);
	return NULL;
}

START_TEST(blocking_client_negotiates)
{
	setup_loop(_i);
	T.s.apiv_max = 2;
	T.s.metadata_max = 4;
	srv_start(0);
	srv_thread_stop = false;
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, srv_thread, NULL), 0);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)T.s.port);
	char err[NET_CLIENT_ERR_MAX] = "";
	struct net_client *c = NULL;
	enum sl_err e = net_client_connect(addr, "test-peer", 3000, &c, err, sizeof(err));
	ck_assert_msg(e == SL_OK, "%s", err);
	ck_assert_int_eq(net_client_version(c, KEY_METADATA), 4);
	struct wire_metadata_request_topic t;
	wire_metadata_request_topic_init(&t);
	t.name = wire_str_c("topic-x");
	struct wire_metadata_request q;
	wire_metadata_request_init(&q);
	q.topics = &t;
	q.topics_count = 1;
	struct wire_metadata_response r;
	struct sl_arena arena;
	sl_arena_init(&arena, 4096, 1 << 20);
	e = net_client_call(c, KEY_METADATA, 4, &q, &r, &arena, 3000, err, sizeof(err));
	ck_assert_msg(e == SL_OK, "%s", err);
	ck_assert_int_eq(r.topics_count, 1);
	ck_assert(wire_str_eq(r.topics[0].name, "topic-x"));
	net_client_close(c);
	sl_arena_free(&arena);
	srv_thread_stop = true;
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(T.s.apiv_requests, 2);
	ck_assert_int_eq(T.s.last_version, 4);
	teardown_all();
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_peer");
	TCase *tc = tcase_create("peer");
	tcase_set_timeout(tc, 60);
	/* _i = 0: sync backend, 1: io_uring backend. */
	tcase_add_loop_test(tc, pipelined_in_order, 0, 2);
	tcase_add_loop_test(tc, negotiation_fallback_and_reencode, 0, 2);
	tcase_add_loop_test(tc, never_answered_times_out, 0, 2);
	tcase_add_loop_test(tc, refused_then_reconnect, 0, 2);
	tcase_add_loop_test(tc, server_close_fails_pending, 0, 2);
	tcase_add_loop_test(tc, destroy_in_flight, 0, 2);
	tcase_add_loop_test(tc, destroy_from_callback_and_connecting, 0, 2);
	tcase_add_loop_test(tc, oversized_and_bad_correlation, 0, 2);
	tcase_add_loop_test(tc, pending_limit, 0, 2);
	tcase_add_loop_test(tc, create_addresses, 0, 2);
	tcase_add_loop_test(tc, silent_server_connect_timeout, 0, 2);
	tcase_add_loop_test(tc, blocking_client_negotiates, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
