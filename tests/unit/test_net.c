/*
 * test_net.c: the network server's framing state machine, ordering and limits, driven
 * through a real io loop (both backends) over socketpairs and loopback TCP.
 *
 * The dispatch callback here either echoes the frame at once or holds the request so a test
 * can answer later, in any order. Conditions are awaited by running the loop with a deadline,
 * never by sleeping.
 */
#include "check_main.h"

#include "io.h"
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HELD_MAX 1200
#define DEADLINE_MS 5000

struct tnet {
	struct io_loop *loop;
	struct net_server *srv;
	int client; /* our end of the socketpair / TCP socket */
	bool hold;  /* hold requests instead of echoing */
	struct net_request *held[HELD_MAX];
	int held_count;
	int dispatched;
	uint8_t last[1 << 20];
	size_t last_len;
};

static struct tnet T;

static void echo(struct net_request *req)
{
	sl_buf_append(req->resp, req->frame, req->frame_len);
	net_respond(req);
}

static void t_dispatch(struct net_request *req, void *ctx)
{
	struct tnet *t = ctx;
	t->dispatched++;
	t->last_len = SL_MIN(req->frame_len, sizeof(t->last));
	memcpy(t->last, req->frame, t->last_len);
	ck_assert_ptr_nonnull(req->arena);
	ck_assert(strncmp(req->log_ctx, "conn=", 5) == 0);
	if (t->hold) {
		ck_assert_int_lt(t->held_count, HELD_MAX);
		t->held[t->held_count++] = req;
		return;
	}
	echo(req);
}

static void setup_opts(int backend, struct net_server_opts *o)
{
	memset(&T, 0, sizeof(T));
	struct io_loop_opts lo = {.backend = backend == 0 ? IO_BACKEND_SYNC : IO_BACKEND_URING};
	char err[256];
	/* No silent fallback: a uring case that ran on sync would pass without testing uring. */
	ck_assert_msg(io_loop_create(&lo, &T.loop, err, sizeof(err)) == SL_OK, "%s", err);
	o->request_max_bytes = o->request_max_bytes ? o->request_max_bytes : 1 << 20;
	o->max_connections = o->max_connections ? o->max_connections : 100;
	o->send_buffer_bytes = -1;
	o->recv_buffer_bytes = -1;
	o->dispatch = t_dispatch;
	o->dispatch_ctx = &T;
	ck_assert_int_eq(net_server_create(T.loop, o, &T.srv), SL_OK);
}

static void adopt_pair(void)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	T.client = sv[0];
	ck_assert_int_eq(fcntl(T.client, F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(net_server_adopt(T.srv, sv[1], "pair", NULL), SL_OK);
}

static void teardown_all(void)
{
	if (T.client >= 0)
		close(T.client);
	for (int i = 0; i < T.held_count; i++)
		net_respond(T.held[i]); /* hand back whatever a failed test left held */
	net_server_stop(T.srv);
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (!net_server_stopped(T.srv) && sl_mono_ms() < deadline)
		io_loop_run_once(T.loop, 10);
	ck_assert(net_server_stopped(T.srv));
	net_server_destroy(T.srv);
	io_loop_destroy(T.loop);
}

static void run_until_dispatched(int n)
{
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (T.dispatched < n && sl_mono_ms() < deadline) {
		io_loop_run_once(T.loop, 10);
		net_server_check_invariants(T.srv);
	}
	ck_assert_int_eq(T.dispatched, n);
}

/* Runs the loop a few rounds so anything that would happen does. */
static void settle(void)
{
	for (int i = 0; i < 5; i++) {
		io_loop_run_once(T.loop, 1);
		net_server_check_invariants(T.srv);
	}
}

static void send_all(const void *p, size_t n)
{
	const uint8_t *b = p;
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (n > 0) {
		ssize_t w = send(T.client, b, n, MSG_NOSIGNAL);
		if (w > 0) {
			b += w;
			n -= (size_t)w;
			continue;
		}
		ck_assert(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
		ck_assert(sl_mono_ms() < deadline);
		io_loop_run_once(T.loop, 2);
	}
}

/* Sends what the peer will take: stops once no byte has gone for 50 loop rounds. */
static size_t send_some(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t sent = 0;
	for (int idle = 0; sent < n && idle < 50;) {
		ssize_t w = send(T.client, b + sent, n - sent, MSG_NOSIGNAL);
		if (w > 0) {
			sent += (size_t)w;
			idle = 0;
			continue;
		}
		ck_assert(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
		io_loop_run_once(T.loop, 2);
		idle++;
	}
	return sent;
}

static void send_frame(const void *body, uint32_t len)
{
	uint8_t hdr[4];
	sl_store_be32(hdr, len);
	send_all(hdr, 4);
	send_all(body, len);
}

/* Reads exactly n bytes, running the loop meanwhile. Returns false on EOF. */
static bool recv_exact(void *p, size_t n)
{
	uint8_t *b = p;
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (n > 0) {
		ssize_t r = recv(T.client, b, n, 0);
		if (r == 0)
			return false;
		if (r > 0) {
			b += r;
			n -= (size_t)r;
			continue;
		}
		if (errno == ECONNRESET)
			return false;
		ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
		ck_assert_msg(sl_mono_ms() < deadline, "timed out waiting for a response");
		io_loop_run_once(T.loop, 2);
		net_server_check_invariants(T.srv);
	}
	return true;
}

/* Reads one response frame; returns its length (body into out). */
static uint32_t recv_frame(void *out, size_t cap)
{
	uint8_t hdr[4];
	ck_assert(recv_exact(hdr, 4));
	uint32_t len = sl_load_be32(hdr);
	ck_assert_uint_le(len, cap);
	ck_assert(recv_exact(out, len));
	return len;
}

static void expect_eof(void)
{
	uint8_t b[64];
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	for (;;) {
		ssize_t r = recv(T.client, b, sizeof(b), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return;
		ck_assert_msg(r < 0, "unexpected data instead of a close");
		ck_assert_msg(sl_mono_ms() < deadline, "connection was not closed");
		io_loop_run_once(T.loop, 2);
	}
}

/* ---- tests ---------------------------------------------------------------------------------- */

START_TEST(frame_split_byte_by_byte)
{
	struct net_server_opts o = {0};
	setup_opts(_i, &o);
	adopt_pair();
	uint8_t frame[4 + 60];
	sl_store_be32(frame, 60);
	for (int i = 0; i < 60; i++)
		frame[4 + i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < sizeof(frame); i++) {
		send_all(&frame[i], 1);
		settle();
		ck_assert_int_eq(T.dispatched, i + 1 == sizeof(frame) ? 1 : 0);
	}
	ck_assert_uint_eq(T.last_len, 60);
	ck_assert_mem_eq(T.last, frame + 4, 60);
	uint8_t resp[100];
	ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 60);
	ck_assert_mem_eq(resp, frame + 4, 60);
	teardown_all();
}
END_TEST

static void bad_size_case(int backend, uint32_t size)
{
	struct net_server_opts o = {.request_max_bytes = 1024};
	setup_opts(backend, &o);
	adopt_pair();
	uint8_t hdr[8];
	sl_store_be32(hdr, size);
	memset(hdr + 4, 0xab, 4);
	send_all(hdr, sizeof(hdr));
	expect_eof();
	struct net_server_stats st;
	net_server_stats(T.srv, &st);
	ck_assert_uint_eq(st.closed_bad_frame, 1);
	ck_assert_int_eq(T.dispatched, 0);
	teardown_all();
}

START_TEST(size_zero_closes)
{
	bad_size_case(_i, 0);
}
END_TEST

START_TEST(size_negative_closes)
{
	bad_size_case(_i, 0xffffffffu);
}
END_TEST

START_TEST(size_too_big_closes)
{
	bad_size_case(_i, 1025);
}
END_TEST

START_TEST(size_at_limit_is_served)
{
	struct net_server_opts o = {.request_max_bytes = 1024};
	setup_opts(_i, &o);
	adopt_pair();
	static uint8_t body[1024];
	memset(body, 0x5a, sizeof(body));
	send_frame(body, sizeof(body));
	static uint8_t resp[2048];
	ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 1024);
	ck_assert_mem_eq(resp, body, 1024);
	teardown_all();
}
END_TEST

START_TEST(big_frame_direct_read)
{
	struct net_server_opts o = {.request_max_bytes = 1 << 20};
	setup_opts(_i, &o);
	adopt_pair();
	size_t n = 700 * 1024; /* well past the 64 KiB read buffer */
	uint8_t *body = malloc(n);
	ck_assert_ptr_nonnull(body);
	for (size_t i = 0; i < n; i++)
		body[i] = (uint8_t)(i % 251);
	send_frame(body, (uint32_t)n);
	run_until_dispatched(1);
	ck_assert_uint_eq(T.last_len, n);
	ck_assert_mem_eq(T.last, body, n);
	uint8_t *resp = malloc(n);
	ck_assert_uint_eq(recv_frame(resp, n), n);
	ck_assert_mem_eq(resp, body, n);
	free(body);
	free(resp);
	teardown_all();
}
END_TEST

START_TEST(out_of_order_completion_in_order_responses)
{
	struct net_server_opts o = {0};
	setup_opts(_i, &o);
	adopt_pair();
	T.hold = true;
	for (uint8_t i = 1; i <= 3; i++)
		send_frame(&i, 1);
	run_until_dispatched(3);
	/* Answer 3, then 2: nothing may leave before 1 is answered. */
	echo(T.held[2]);
	echo(T.held[1]);
	settle();
	uint8_t b;
	ck_assert_int_lt(recv(T.client, &b, 1, 0), 0);
	echo(T.held[0]);
	T.held_count = 0;
	for (uint8_t i = 1; i <= 3; i++) {
		uint8_t resp[8];
		ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 1);
		ck_assert_uint_eq(resp[0], i);
	}
	teardown_all();
}
END_TEST

/* Produce acks=0: a request answered with net_respond_none sends nothing; the responses
 * around it still arrive, in order. */
START_TEST(respond_none_sends_nothing)
{
	struct net_server_opts o = {0};
	setup_opts(_i, &o);
	adopt_pair();
	T.hold = true;
	for (uint8_t i = 1; i <= 4; i++)
		send_frame(&i, 1);
	run_until_dispatched(4);
	sl_buf_append(T.held[1]->resp, "junk", 4); /* discarded */
	net_respond_none(T.held[1]);
	net_respond_none(T.held[0]);
	echo(T.held[3]);
	settle();
	uint8_t b;
	ck_assert_int_lt(recv(T.client, &b, 1, 0), 0); /* 3 not answered yet */
	echo(T.held[2]);
	T.held_count = 0;
	for (uint8_t i = 3; i <= 4; i++) {
		uint8_t resp[8];
		ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 1);
		ck_assert_uint_eq(resp[0], i);
	}
	settle();
	ck_assert_int_lt(recv(T.client, &b, 1, 0), 0);
	teardown_all();
}
END_TEST

START_TEST(inflight_limit_is_back_pressure)
{
	struct net_server_opts o = {.inflight_max = 4};
	setup_opts(_i, &o);
	adopt_pair();
	T.hold = true;
	for (uint8_t i = 0; i < 10; i++)
		send_frame(&i, 1);
	run_until_dispatched(4);
	settle();
	ck_assert_int_eq(T.dispatched, 4); /* the fifth waits for a free slot */
	int answered = 0;
	while (answered < 10) {
		int held = T.held_count;
		T.held_count = 0;
		for (int i = 0; i < held; i++)
			echo(T.held[i]);
		answered += held;
		for (int i = 0; i < held; i++) {
			uint8_t resp[8];
			ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 1);
			ck_assert_uint_eq(resp[0], (uint8_t)(answered - held + i));
		}
		if (answered < 10)
			run_until_dispatched(SL_MIN(answered + 4, 10));
		ck_assert_int_le(T.held_count, 4);
	}
	teardown_all();
}
END_TEST

START_TEST(pipelined_many_in_order)
{
	struct net_server_opts o = {0};
	setup_opts(_i, &o);
	adopt_pair();
	enum { N = 10000, BATCH = 1000 };
	/* Batches keep both directions' socket buffers from filling while we only write. */
	for (uint32_t base = 0; base < N; base += BATCH) {
		static uint8_t frames[BATCH * 8];
		for (uint32_t i = 0; i < BATCH; i++) {
			sl_store_be32(frames + i * 8, 4);
			sl_store_be32(frames + i * 8 + 4, base + i);
		}
		send_all(frames, sizeof(frames));
		for (uint32_t i = 0; i < BATCH; i++) {
			uint8_t resp[8];
			ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 4);
			ck_assert_uint_eq(sl_load_be32(resp), base + i);
		}
	}
	ck_assert_int_eq(T.dispatched, N);
	teardown_all();
}
END_TEST

START_TEST(idle_connection_closed)
{
	struct net_server_opts o = {.idle_ms = 50};
	setup_opts(_i, &o);
	adopt_pair();
	uint8_t half[6] = {0, 0, 0, 10, 1, 2}; /* a frame of 10 bytes, 2 sent, then silence */
	send_all(half, sizeof(half));
	expect_eof();
	struct net_server_stats st;
	net_server_stats(T.srv, &st);
	ck_assert_uint_eq(st.closed_idle, 1);
	ck_assert_int_eq(T.dispatched, 0);
	teardown_all();
}
END_TEST

START_TEST(graceful_stop_sends_answered)
{
	struct net_server_opts o = {0};
	setup_opts(_i, &o);
	adopt_pair();
	T.hold = true;
	uint8_t x = 42;
	send_frame(&x, 1);
	run_until_dispatched(1);
	net_server_stop(T.srv);
	settle();
	ck_assert(!net_server_stopped(T.srv)); /* waits for the held request */
	echo(T.held[0]);
	T.held_count = 0;
	uint8_t resp[8];
	ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 1);
	ck_assert_uint_eq(resp[0], 42);
	expect_eof();
	teardown_all();
}
END_TEST

static int tcp_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

START_TEST(listener_and_max_connections)
{
	struct net_server_opts o = {.max_connections = 1};
	setup_opts(_i, &o);
	uint16_t port = 0;
	char err[256];
	ck_assert_int_eq(
	        net_server_listen(T.srv, "PLAINTEXT", false, "", 0, &port, err, sizeof(err)),
	        SL_OK);
	ck_assert_uint_gt(port, 0);
	T.client = tcp_connect(port);
	uint8_t x = 7;
	send_frame(&x, 1);
	uint8_t resp[8];
	ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 1);
	ck_assert_uint_eq(resp[0], 7);
	int first = T.client;
	T.client = tcp_connect(port); /* over the limit: accepted, then closed */
	expect_eof();
	close(T.client);
	T.client = first;
	struct net_server_stats st;
	net_server_stats(T.srv, &st);
	ck_assert_uint_eq(st.rejected_over_limit, 1);
	ck_assert_uint_eq(st.connections, 1);
	send_frame(&x, 1); /* the first connection still works */
	ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 1);
	teardown_all();
}
END_TEST

static void respond_close(struct net_request *req, void *ctx)
{
	(void)ctx;
	net_respond_close(req, "test asked to close");
}

START_TEST(respond_close_closes_after_earlier)
{
	struct net_server_opts o = {0};
	setup_opts(_i, &o);
	adopt_pair();
	T.hold = true;
	uint8_t a = 1, b = 2;
	send_frame(&a, 1);
	send_frame(&b, 1);
	run_until_dispatched(2);
	respond_close(T.held[1], NULL);
	echo(T.held[0]);
	T.held_count = 0;
	uint8_t resp[8];
	ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 1);
	ck_assert_uint_eq(resp[0], 1);
	expect_eof();
	teardown_all();
}
END_TEST

/* After a handler asks to close, no later request on that connection may reach a handler
 * (Kafka closes at once; a Produce behind a rejected request must not run), whether the later
 * frame arrives whole or was half-received when the close was asked for. */
START_TEST(no_dispatch_after_respond_close)
{
	struct net_server_opts o = {0};
	setup_opts(_i, &o);
	adopt_pair();
	T.hold = true;
	uint8_t a = 1, b = 2, c = 3;
	send_frame(&a, 1);
	send_frame(&b, 1);
	run_until_dispatched(2);
	static uint8_t big[60000];
	memset(big, 0x33, sizeof(big));
	uint8_t hdr[4];
	sl_store_be32(hdr, sizeof(big));
	send_all(hdr, 4);
	send_all(big, 1000); /* a frame in progress when the close is asked for */
	settle();
	respond_close(T.held[1], NULL); /* the first request is still with its handler */
	send_all(big + 1000, sizeof(big) - 1000);
	send_frame(&c, 1);
	for (int i = 0; i < 20; i++)
		settle();
	ck_assert_int_eq(T.dispatched, 2);
	echo(T.held[0]);
	T.held_count = 0;
	uint8_t resp[8];
	ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 1);
	ck_assert_uint_eq(resp[0], 1);
	expect_eof();
	ck_assert_int_eq(T.dispatched, 2);
	teardown_all();
}
END_TEST

/* A request held by its handler longer than connections.max.idle.ms, then answered: the
 * answer is activity, so the idle check (due at the same time) must not close the connection
 * before the response goes out. */
START_TEST(idle_check_spares_a_fresh_answer)
{
	struct net_server_opts o = {.idle_ms = 60};
	setup_opts(_i, &o);
	adopt_pair();
	T.hold = true;
	uint8_t x = 9;
	send_frame(&x, 1);
	run_until_dispatched(1);
	int64_t until = sl_mono_ms() + 200;
	while (sl_mono_ms() < until) /* held: never idle */
		io_loop_run_once(T.loop, 5);
	struct net_server_stats st;
	net_server_stats(T.srv, &st);
	ck_assert_uint_eq(st.closed_idle, 0);
	echo(T.held[0]);
	T.held_count = 0;
	/* Let the idle tick fall due before the loop sends the answer. */
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 40 * 1000000};
	nanosleep(&ts, NULL);
	uint8_t resp[8];
	ck_assert_msg(recv_exact(resp, 4), "connection closed before the answer was sent");
	ck_assert_uint_eq(sl_load_be32(resp), 1);
	ck_assert(recv_exact(resp, 1));
	ck_assert_uint_eq(resp[0], 9);
	net_server_stats(T.srv, &st);
	ck_assert_uint_eq(st.closed_idle, 0);
	teardown_all();
}
END_TEST

/* Pipelining is bounded in bytes too: frames already read but not yet answered may not add up
 * past socket.request.max.bytes (one frame of any legal size is always admitted), so a client
 * that never reads cannot make one connection hold inflight_max x request_max_bytes. */
START_TEST(pipelined_frames_bounded_in_bytes)
{
	struct net_server_opts o = {.request_max_bytes = 1 << 20, .inflight_max = 8};
	setup_opts(_i, &o);
	adopt_pair();
	T.hold = true;
	enum { FRAME = 600 * 1024 };
	uint8_t *a = malloc(4 + FRAME);
	uint8_t *b = malloc(4 + FRAME);
	uint8_t *resp = malloc(FRAME);
	ck_assert(a != NULL && b != NULL && resp != NULL);
	sl_store_be32(a, FRAME);
	memset(a + 4, 0x41, FRAME);
	sl_store_be32(b, FRAME);
	memset(b + 4, 0x42, FRAME);
	send_all(a, 4 + FRAME);
	run_until_dispatched(1);
	/* The second frame would take the connection past 1 MiB of unanswered frames: it is
	 * not read (so the client cannot send it all) until the first is answered. */
	size_t sent = send_some(b, 4 + FRAME);
	for (int i = 0; i < 10; i++)
		settle();
	ck_assert_int_eq(T.dispatched, 1);
	ck_assert_uint_lt(sent, 4 + FRAME);
	echo(T.held[0]);
	T.held_count = 0;
	ck_assert_uint_eq(recv_frame(resp, FRAME), FRAME);
	ck_assert_uint_eq(resp[0], 0x41);
	send_all(b + sent, 4 + FRAME - sent);
	run_until_dispatched(2);
	echo(T.held[0]);
	T.held_count = 0;
	ck_assert_uint_eq(recv_frame(resp, FRAME), FRAME);
	ck_assert_uint_eq(resp[FRAME - 1], 0x42);
	/* Small frames still pipeline up to inflight_max. */
	for (uint8_t i = 0; i < 8; i++)
		send_frame(&i, 1);
	run_until_dispatched(2 + 8);
	free(a);
	free(b);
	free(resp);
	teardown_all();
}
END_TEST

/* More answered responses than IOV_MAX at once must still go out (one writev is capped). */
START_TEST(many_answered_at_once)
{
	struct net_server_opts o = {.inflight_max = 1100};
	setup_opts(_i, &o);
	adopt_pair();
	T.hold = true;
	enum { N = 1100 };
	static uint8_t frames[N * 5];
	for (int i = 0; i < N; i++) {
		sl_store_be32(frames + i * 5, 1);
		frames[i * 5 + 4] = (uint8_t)i;
	}
	send_all(frames, sizeof(frames));
	run_until_dispatched(N);
	for (int i = N - 1; i >= 0; i--) /* the first answer releases them all at once */
		echo(T.held[i]);
	T.held_count = 0;
	for (int i = 0; i < N; i++) {
		uint8_t resp[8];
		ck_assert_uint_eq(recv_frame(resp, sizeof(resp)), 1);
		ck_assert_uint_eq(resp[0], (uint8_t)i);
	}
	teardown_all();
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("server");
	tcase_set_timeout(tc, 60);
	/* _i = 0: sync backend, 1: io_uring backend. */
	tcase_add_loop_test(tc, frame_split_byte_by_byte, 0, 2);
	tcase_add_loop_test(tc, size_zero_closes, 0, 2);
	tcase_add_loop_test(tc, size_negative_closes, 0, 2);
	tcase_add_loop_test(tc, size_too_big_closes, 0, 2);
	tcase_add_loop_test(tc, size_at_limit_is_served, 0, 2);
	tcase_add_loop_test(tc, big_frame_direct_read, 0, 2);
	tcase_add_loop_test(tc, respond_none_sends_nothing, 0, 2);
	tcase_add_loop_test(tc, out_of_order_completion_in_order_responses, 0, 2);
	tcase_add_loop_test(tc, inflight_limit_is_back_pressure, 0, 2);
	tcase_add_loop_test(tc, pipelined_many_in_order, 0, 2);
	tcase_add_loop_test(tc, idle_connection_closed, 0, 2);
	tcase_add_loop_test(tc, graceful_stop_sends_answered, 0, 2);
	tcase_add_loop_test(tc, listener_and_max_connections, 0, 2);
	tcase_add_loop_test(tc, respond_close_closes_after_earlier, 0, 2);
	tcase_add_loop_test(tc, no_dispatch_after_respond_close, 0, 2);
	tcase_add_loop_test(tc, idle_check_spares_a_fresh_answer, 0, 2);
	tcase_add_loop_test(tc, pipelined_frames_bounded_in_bytes, 0, 2);
	tcase_add_loop_test(tc, many_answered_at_once, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
