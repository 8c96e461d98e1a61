/*
 * test_net_zerocopy.c: responses made of memory and file ranges (net_resp_add_file), on every
 * io backend and every file-range mode (splice, sendfile, copy), over loopback TCP and
 * socketpairs.
 *
 * Each request frame is a 4-byte script index; the handler builds the response the script
 * describes (memory runs and ranges of a patterned file) and the client checks every byte.
 * Ranges larger than the pipe and the copy buffer, and a slow reader, force partial sends.
 * Conditions are awaited by running the loop with a deadline, never by sleeping.
 */
#include "check_main.h"

#include "io.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEADLINE_MS 10000
#define FILE_BYTES (4u << 20)
#define PIECES_MAX 8
#define SCRIPTS_MAX 16
#define HELD_MAX 16

/* Loop index -> (backend, mode): 3 modes x 2 backends. */
static const enum io_backend backends[] = {IO_BACKEND_URING, IO_BACKEND_SYNC};
static const enum net_zero_copy modes[] = {NET_ZC_SPLICE, NET_ZC_SENDFILE, NET_ZC_COPY};
#define COMBOS ((int)(SL_ARRAY_LEN(backends) * SL_ARRAY_LEN(modes)))

struct piece {
	char kind; /* 'M' memory (len patterned bytes), 'F' file range */
	uint64_t offset;
	size_t len;
};

struct script {
	struct piece p[PIECES_MAX];
	int count;
};

struct tzc {
	struct io_loop *loop;
	struct net_server *srv;
	int client;
	int file;
	struct script scripts[SCRIPTS_MAX];
	bool hold;
	struct net_request *held[HELD_MAX];
	int held_count;
	int dispatched;
	int released;
	enum sl_err add_err; /* what the last net_resp_add_file returned */
};

static struct tzc T;

static uint8_t file_byte(uint64_t i)
{
	return (uint8_t)((i * 13u + (i >> 9)) & 0xff);
}

static uint8_t mem_byte(int script, size_t i)
{
	return (uint8_t)(0x80 ^ (script * 29) ^ (int)(i * 7u));
}

static void t_release(struct net_request *req, void *ctx)
{
	(void)req;
	ck_assert_ptr_eq(ctx, &T);
	T.released++;
}

static void build_response(struct net_request *req, int idx)
{
	const struct script *s = &T.scripts[idx];
	req->release = t_release;
	req->release_ctx = &T;
	for (int k = 0; k < s->count; k++) {
		const struct piece *p = &s->p[k];
		if (p->kind == 'M') {
			for (size_t i = 0; i < p->len; i++)
				sl_buf_put_u8(req->resp, mem_byte(idx, i));
		} else {
			T.add_err = net_resp_add_file(req, T.file, p->offset, p->len);
		}
	}
	net_respond(req);
}

static void t_dispatch(struct net_request *req, void *ctx)
{
	(void)ctx;
	T.dispatched++;
	ck_assert_uint_eq(req->frame_len, 4);
	int idx = (int)sl_load_be32(req->frame);
	ck_assert_int_lt(idx, SCRIPTS_MAX);
	if (T.hold) {
		ck_assert_int_lt(T.held_count, HELD_MAX);
		T.held[T.held_count++] = req;
		return;
	}
	build_response(req, idx);
}

static int pattern_file(void)
{
	char path[] = "/tmp/sl_zc_test_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	uint8_t *buf = malloc(FILE_BYTES);
	ck_assert_ptr_nonnull(buf);
	for (uint64_t i = 0; i < FILE_BYTES; i++)
		buf[i] = file_byte(i);
	ck_assert_int_eq(pwrite(fd, buf, FILE_BYTES, 0), (ssize_t)FILE_BYTES);
	free(buf);
	return fd;
}

static void setup_combo(int i, size_t response_max_bytes)
{
	signal(SIGPIPE, SIG_IGN); /* splice and sendfile cannot say MSG_NOSIGNAL */
	memset(&T, 0, sizeof(T));
	T.client = -1;
	struct io_loop_opts lo = {.backend = backends[i / (int)SL_ARRAY_LEN(modes)]};
	char err[256];
	ck_assert_msg(io_loop_create(&lo, &T.loop, err, sizeof(err)) == SL_OK, "%s", err);
	struct net_server_opts o = {
	        .request_max_bytes = 1 << 20,
	        .max_connections = 10,
	        .send_buffer_bytes = -1,
	        .recv_buffer_bytes = -1,
	        .response_max_bytes = response_max_bytes,
	        .zero_copy = modes[i % (int)SL_ARRAY_LEN(modes)],
	        .dispatch = t_dispatch,
	        .dispatch_ctx = &T,
	};
	ck_assert_int_eq(net_server_create(T.loop, &o, &T.srv), SL_OK);
	enum net_zero_copy want = o.zero_copy;
	if (want == NET_ZC_SENDFILE && lo.backend == IO_BACKEND_URING)
		want = NET_ZC_SPLICE;
	ck_assert_int_eq(net_server_zero_copy(T.srv), want);
	T.file = pattern_file();
}

/* A loopback TCP connection whose server end the net server adopts. */
static void adopt_tcp(void)
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	socklen_t alen = sizeof(a);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	T.client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(T.client, (struct sockaddr *)&a, sizeof(a)), 0);
	int sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(sfd, 0);
	close(lfd);
	/* A small receive buffer keeps the server's sends short. */
	int small = 16384;
	ck_assert_int_eq(setsockopt(T.client, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	ck_assert_int_eq(fcntl(T.client, F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(net_server_adopt(T.srv, sfd, "tcp", NULL), SL_OK);
}

static void adopt_pair(void)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	T.client = sv[0];
	ck_assert_int_eq(fcntl(T.client, F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(net_server_adopt(T.srv, sv[1], "pair", NULL), SL_OK);
}

static void teardown_all(void)
{
	if (T.client >= 0)
		close(T.client);
	for (int i = 0; i < T.held_count; i++)
		net_respond(T.held[i]);
	net_server_stop(T.srv);
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (!net_server_stopped(T.srv) && sl_mono_ms() < deadline)
		io_loop_run_once(T.loop, 10);
	ck_assert(net_server_stopped(T.srv));
	/* Every request's release ran exactly once, whether or not it was sent. */
	ck_assert_int_eq(T.released, T.dispatched);
	net_server_destroy(T.srv);
	io_loop_destroy(T.loop);
	close(T.file);
}

static void pump(void)
{
	io_loop_run_once(T.loop, 2);
	net_server_check_invariants(T.srv);
}

static void send_request(int idx)
{
	uint8_t f[8];
	sl_store_be32(f, 4);
	sl_store_be32(f + 4, (uint32_t)idx);
	ck_assert_int_eq(send(T.client, f, sizeof(f), MSG_NOSIGNAL), 8);
}

/* Reads up to n bytes (fewer at EOF), running the loop meanwhile; chunk bounds each recv
 * (a slow reader). Returns the bytes read. */
static size_t recv_some(uint8_t *b, size_t n, size_t chunk)
{
	size_t got = 0;
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (got < n) {
		ssize_t r = recv(T.client, b + got, SL_MIN(n - got, chunk), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			break;
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
		ck_assert_msg(sl_mono_ms() < deadline, "timed out waiting for a response");
		pump();
	}
	return got;
}

static size_t script_bytes(const struct script *s)
{
	size_t n = 0;
	for (int k = 0; k < s->count; k++)
		n += s->p[k].len;
	return n;
}

/* Receives script idx's response and checks the size prefix and every byte. */
static void expect_response(int idx, size_t chunk)
{
	const struct script *s = &T.scripts[idx];
	size_t total = script_bytes(s);
	uint8_t hdr[4];
	ck_assert_uint_eq(recv_some(hdr, 4, chunk), 4);
	ck_assert_uint_eq(sl_load_be32(hdr), total);
	uint8_t *buf = malloc(total + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(recv_some(buf, total, chunk), total);
	/* One assertion for the whole response: Check's per-assert bookkeeping is slow. */
	size_t at = 0;
	int bad_piece = -1;
	size_t bad_at = 0;
	for (int k = 0; k < s->count && bad_piece < 0; k++) {
		const struct piece *p = &s->p[k];
		for (size_t i = 0; i < p->len; i++, at++) {
			uint8_t want = p->kind == 'M' ? mem_byte(idx, i) : file_byte(p->offset + i);
			if (buf[at] != want) {
				bad_piece = k;
				bad_at = i;
				break;
			}
		}
	}
	ck_assert_msg(bad_piece < 0, "script %d piece %d byte %zu differs", idx, bad_piece, bad_at);
	free(buf);
}

static void set_script(int idx, const struct piece *p, int count)
{
	ck_assert_int_le(count, PIECES_MAX);
	memcpy(T.scripts[idx].p, p, (size_t)count * sizeof(*p));
	T.scripts[idx].count = count;
}

/* Layouts that cover every segment shape, pipelined, checked byte for byte. */
static void define_mixed_scripts(void)
{
	set_script(0, (struct piece[]){{'M', 0, 10}}, 1);   /* memory only */
	set_script(1, (struct piece[]){{'F', 0, 4096}}, 1); /* a range right after */
	set_script(2,
	           (struct piece[]){{'M', 0, 7},
	                            {'F', 777, 100000}, /* header, mem between */
	                            {'M', 0, 3},
	                            {'F', 3, 5},
	                            {'M', 0, 9}},
	           5);
	set_script(3, (struct piece[]){{'F', 1 << 20, 10}, {'F', 5000, 20}}, 2); /* back to back */
	set_script(4, (struct piece[]){{'M', 0, 5}, {'F', 100, 1000}, {'F', 1100, 2000}}, 3);
	/* Larger than the pipe (1 MiB) and the copy buffer (256 KiB): many partial moves. */
	set_script(5, (struct piece[]){{'M', 0, 1}, {'F', 12345, (3u << 20) + 17}}, 2);
	set_script(6, (struct piece[]){{'M', 0, 4}}, 1);
}

static void run_mixed(size_t chunk)
{
	define_mixed_scripts();
	for (int i = 0; i <= 6; i++)
		send_request(i);
	for (int i = 0; i <= 6; i++)
		expect_response(i, chunk);
	ck_assert_int_eq(T.dispatched, 7);
	for (int r = 0; r < 5 && T.released < 7; r++)
		pump();
	ck_assert_int_eq(T.released, 7);
}

START_TEST(mixed_pieces_tcp)
{
	setup_combo(_i, 0);
	adopt_tcp();
	run_mixed(1 << 20);
	teardown_all();
}
END_TEST

START_TEST(mixed_pieces_pair_slow_reader)
{
	setup_combo(_i, 0);
	adopt_pair();
	run_mixed(3000);
	teardown_all();
}
END_TEST

/* Handlers finishing in reverse order: responses with files still leave in request order. */
START_TEST(out_of_order_handlers)
{
	setup_combo(_i, 0);
	adopt_tcp();
	set_script(0, (struct piece[]){{'M', 0, 3}, {'F', 0, 300000}}, 2);
	set_script(1, (struct piece[]){{'F', 99, 50}, {'M', 0, 2}}, 2);
	set_script(2, (struct piece[]){{'M', 0, 6}, {'F', 2 << 20, 700000}, {'M', 0, 1}}, 3);
	T.hold = true;
	for (int i = 0; i < 3; i++)
		send_request(i);
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (T.dispatched < 3 && sl_mono_ms() < deadline)
		pump();
	ck_assert_int_eq(T.dispatched, 3);
	for (int i = 2; i >= 0; i--) {
		struct net_request *req = T.held[i];
		T.held[i] = NULL;
		T.held_count--;
		build_response(req, (int)sl_load_be32(req->frame));
		pump();
	}
	for (int i = 0; i < 3; i++)
		expect_response(i, 1 << 20);
	teardown_all();
}
END_TEST

/* A range past the end of the file cannot be sent: the connection closes after the earlier
 * response, and the release callback still runs. */
START_TEST(range_past_eof_closes)
{
	setup_combo(_i, 0);
	adopt_pair();
	set_script(0, (struct piece[]){{'M', 0, 5}, {'F', 0, 1000}}, 2);
	set_script(1, (struct piece[]){{'M', 0, 5}, {'F', FILE_BYTES - 100, 5000}}, 2);
	send_request(0);
	send_request(1);
	expect_response(0, 1 << 20);
	uint8_t hdr[4];
	ck_assert_uint_eq(recv_some(hdr, 4, 4), 4);
	ck_assert_uint_eq(sl_load_be32(hdr), 5005);
	uint8_t buf[8192];
	size_t got = recv_some(buf, sizeof(buf), sizeof(buf));
	ck_assert_uint_lt(got, 5005); /* the size promised more than the file holds */
	ck_assert_uint_le(got, 105);
	struct net_server_stats st;
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	do {
		pump();
		net_server_stats(T.srv, &st);
	} while (st.connections > 0 && sl_mono_ms() < deadline);
	ck_assert_uint_eq(st.connections, 0);
	ck_assert_int_eq(T.released, 2);
	teardown_all();
}
END_TEST

/* A range over response_max_bytes is refused and leaves the response as it was. */
START_TEST(range_over_response_max)
{
	setup_combo(_i, 1000);
	adopt_pair();
	set_script(0, (struct piece[]){{'M', 0, 10}, {'F', 0, 991}}, 2);
	set_script(1, (struct piece[]){{'M', 0, 10}, {'F', 0, 990}}, 2);
	send_request(0);
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	while (T.dispatched < 1 && sl_mono_ms() < deadline)
		pump();
	ck_assert_int_eq(T.add_err, SL_ETOOBIG);
	T.scripts[0].count = 1; /* what was actually sent */
	expect_response(0, 1 << 20);
	send_request(1);
	expect_response(1, 1 << 20);
	ck_assert_int_eq(T.add_err, SL_OK);
	teardown_all();
}
END_TEST

/* The peer goes away in the middle of a large file range: the connection is freed and every
 * release runs. */
START_TEST(peer_gone_mid_range)
{
	setup_combo(_i, 0);
	adopt_tcp();
	set_script(0, (struct piece[]){{'F', 0, FILE_BYTES}}, 1);
	set_script(1, (struct piece[]){{'F', 0, FILE_BYTES}}, 1);
	send_request(0);
	send_request(1);
	uint8_t buf[4096];
	ck_assert_uint_eq(recv_some(buf, sizeof(buf), sizeof(buf)), sizeof(buf));
	close(T.client);
	T.client = -1;
	struct net_server_stats st;
	int64_t deadline = sl_mono_ms() + DEADLINE_MS;
	do {
		pump();
		net_server_stats(T.srv, &st);
	} while (st.connections > 0 && sl_mono_ms() < deadline);
	ck_assert_uint_eq(st.connections, 0);
	ck_assert_int_eq(T.released, 2);
	teardown_all();
}
END_TEST

START_TEST(mode_names)
{
	enum net_zero_copy m = NET_ZC_COPY;
	ck_assert_int_eq(net_zero_copy_parse("splice", &m), SL_OK);
	ck_assert_int_eq(m, NET_ZC_SPLICE);
	ck_assert_int_eq(net_zero_copy_parse("SendFile", &m), SL_OK);
	ck_assert_int_eq(m, NET_ZC_SENDFILE);
	ck_assert_int_eq(net_zero_copy_parse("copy", &m), SL_OK);
	ck_assert_int_eq(m, NET_ZC_COPY);
	ck_assert_int_eq(net_zero_copy_parse("AUTO", &m), SL_OK);
	ck_assert_int_eq(m, NET_ZC_DEFAULT);
	ck_assert_int_eq(net_zero_copy_parse("mmap", &m), SL_EINVAL);
	ck_assert_int_eq(net_zero_copy_parse("", &m), SL_EINVAL);
	ck_assert_int_eq(net_zero_copy_parse(NULL, &m), SL_EINVAL);
	ck_assert_str_eq(net_zero_copy_name(NET_ZC_SPLICE), "splice");
	ck_assert_str_eq(net_zero_copy_name(NET_ZC_SENDFILE), "sendfile");
	ck_assert_str_eq(net_zero_copy_name(NET_ZC_COPY), "copy");
	ck_assert_str_eq(net_zero_copy_name(NET_ZC_DEFAULT), "auto");

	/* DEFAULT resolves to a concrete mode; uring never reports sendfile. */
	for (size_t b = 0; b < SL_ARRAY_LEN(backends); b++) {
		struct io_loop_opts lo = {.backend = backends[b]};
		struct io_loop *loop = NULL;
		char err[256];
		ck_assert_int_eq(io_loop_create(&lo, &loop, err, sizeof(err)), SL_OK);
		struct net_server_opts o = {
		        .request_max_bytes = 100, .max_connections = 1, .dispatch = t_dispatch};
		struct net_server *srv = NULL;
		ck_assert_int_eq(net_server_create(loop, &o, &srv), SL_OK);
		enum net_zero_copy got = net_server_zero_copy(srv);
		ck_assert_int_ne(got, NET_ZC_DEFAULT);
		if (backends[b] == IO_BACKEND_URING)
			ck_assert_int_ne(got, NET_ZC_SENDFILE);
		net_server_destroy(srv);
		io_loop_destroy(loop);
	}
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("net_zerocopy");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mode_names);
	tcase_add_loop_test(tc, mixed_pieces_tcp, 0, COMBOS);
	tcase_add_loop_test(tc, mixed_pieces_pair_slow_reader, 0, COMBOS);
	tcase_add_loop_test(tc, out_of_order_handlers, 0, COMBOS);
	tcase_add_loop_test(tc, range_past_eof_closes, 0, COMBOS);
	tcase_add_loop_test(tc, range_over_response_max, 0, COMBOS);
	tcase_add_loop_test(tc, peer_gone_mid_range, 0, COMBOS);
	suite_add_tcase(s, tc);
	return s;
}
