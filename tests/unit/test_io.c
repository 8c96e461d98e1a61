/*
 * test_io.c: the io library on both backends. Every case is a Check loop test whose index
 * selects the backend (0 = uring, 1 = sync), so each behaviour is asserted on each backend.
 *
 * Every callback asserts it was not delivered from inside the call that started its op
 * (g_in_start is set around every start call).
 */
#include "check_main.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const enum io_backend backends[] = {IO_BACKEND_URING, IO_BACKEND_SYNC};

static bool g_in_start;

#define START(call)                 \
	do {                        \
		g_in_start = true;  \
		call;               \
		g_in_start = false; \
	} while (0)

/* What one op's callback saw. */
struct rec {
	int calls;
	enum sl_err err;
	int errno_value;
	int64_t res;
	int64_t done_ns;
};

static void rec_done(struct io_op *op, void *ctx)
{
	struct rec *r = ctx;
	ck_assert_msg(!g_in_start, "completion delivered from inside the starting call");
	ck_assert(!op->in_flight);
	r->calls++;
	r->err = op->err;
	r->errno_value = op->errno_value;
	r->res = op->res;
	r->done_ns = sl_mono_ns();
}

static struct io_loop *loop_new(int i, unsigned queue_depth)
{
	struct io_loop_opts opts = {.backend = backends[i], .queue_depth = queue_depth};
	struct io_loop *loop = NULL;
	char err[256];
	enum sl_err e = io_loop_create(&opts, &loop, err, sizeof(err));
	ck_assert_msg(e == SL_OK, "%s: %s", io_backend_name(backends[i]), err);
	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(io_loop_backend(loop), backends[i]);
	ck_assert_uint_eq(io_loop_pending(loop), 0);
	return loop;
}

/* Runs the loop until r has been called `calls` times (10 s deadline, no sleeping). */
static void run_until(struct io_loop *loop, const struct rec *r, int calls)
{
	int64_t deadline = sl_mono_ms() + 10000;
	while (r->calls < calls) {
		ck_assert_msg(sl_mono_ms() < deadline, "op did not complete in 10 s");
		(void)io_loop_run_once(loop, 100);
	}
	ck_assert_int_eq(r->calls, calls);
}

static void run_until_idle(struct io_loop *loop)
{
	int64_t deadline = sl_mono_ms() + 10000;
	while (io_loop_pending(loop) > 0) {
		ck_assert_msg(sl_mono_ms() < deadline, "ops did not complete in 10 s");
		(void)io_loop_run_once(loop, 100);
	}
}

static void make_tmpdir(char *path, size_t len)
{
	snprintf(path, len, "/tmp/sl_io_test_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(path));
}

static int tcp_listener(struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)addr, sizeof(*addr)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	socklen_t len = sizeof(*addr);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	return fd;
}

/* Connects a client to a listener through the loop; returns the accepted fd. */
static int tcp_pair(struct io_loop *loop, int *client_fd)
{
	struct sockaddr_in addr;
	int lfd = tcp_listener(&addr);
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(cfd, 0);
	struct io_op acc = {0}, con = {0};
	struct rec racc = {0}, rcon = {0};
	START(io_accept(loop, &acc, lfd, rec_done, &racc));
	START(io_connect(loop, &con, cfd, (struct sockaddr *)&addr, sizeof(addr), rec_done, &rcon));
	ck_assert_uint_eq(io_loop_pending(loop), 2);
	run_until(loop, &racc, 1);
	run_until(loop, &rcon, 1);
	ck_assert_msg(racc.err == SL_OK, "accept: %s", sl_err_name(racc.err));
	ck_assert_msg(rcon.err == SL_OK, "connect: %s", sl_err_name(rcon.err));
	ck_assert_int_ge(racc.res, 0);
	ck_assert_int_eq(rcon.res, 0);
	ck_assert_int_eq(acc.u.sock.addr.ss_family, AF_INET);
	ck_assert_int_ge(acc.u.sock.addr_len, (int)sizeof(struct sockaddr_in));
	close(lfd);
	*client_fd = cfd;
	return (int)racc.res;
}

START_TEST(test_backend_names)
{
	enum io_backend b = IO_BACKEND_SYNC;
	ck_assert_int_eq(io_backend_parse("uring", &b), SL_OK);
	ck_assert_int_eq(b, IO_BACKEND_URING);
	ck_assert_int_eq(io_backend_parse("AUTO", &b), SL_OK);
	ck_assert_int_eq(b, IO_BACKEND_AUTO);
	ck_assert_int_eq(io_backend_parse("sync", &b), SL_OK);
	ck_assert_int_eq(b, IO_BACKEND_SYNC);
	ck_assert_int_eq(io_backend_parse("epoll", &b), SL_EINVAL);
	ck_assert_int_eq(io_backend_parse("", &b), SL_EINVAL);
	ck_assert_str_eq(io_backend_name(IO_BACKEND_URING), "uring");
	ck_assert_str_eq(io_backend_name(IO_BACKEND_SYNC), "sync");
	ck_assert_str_eq(io_backend_name(IO_BACKEND_AUTO), "auto");

	struct io_loop_opts opts = {.backend = IO_BACKEND_AUTO};
	struct io_loop *loop = NULL;
	char err[256];
	ck_assert_int_eq(io_loop_create(&opts, &loop, err, sizeof(err)), SL_OK);
	ck_assert_int_ne(io_loop_backend(loop), IO_BACKEND_AUTO);
	ck_assert_int_eq(io_loop_run_once(loop, -1), 0); /* nothing pending: no blocking */
	io_loop_destroy(loop);
}
END_TEST

START_TEST(test_file_roundtrip)
{
	struct io_loop *loop = loop_new(_i, 0);
	char dir[64];
	make_tmpdir(dir, sizeof(dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);

	struct io_op op = {0};
	struct rec r = {0};
	START(io_openat(loop, &op, dfd, "f", O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644, rec_done,
	                &r));
	ck_assert_int_eq(r.calls, 0);
	run_until(loop, &r, 1);
	ck_assert_int_eq(r.err, SL_OK);
	int fd = (int)r.res;
	ck_assert_int_ge(fd, 0);

	struct io_op w1 = {0}, w2 = {0};
	struct rec rw1 = {0}, rw2 = {0};
	START(io_write(loop, &w1, fd, "hello", 5, 0, rec_done, &rw1));
	START(io_write(loop, &w2, fd, "world", 5, 4096, rec_done, &rw2));
	run_until_idle(loop);
	ck_assert_int_eq(rw1.calls, 1);
	ck_assert_int_eq(rw2.calls, 1);
	ck_assert_int_eq(rw1.err, SL_OK);
	ck_assert_int_eq(rw1.res, 5);
	ck_assert_int_eq(rw2.res, 5);

	struct rec rs = {0};
	START(io_fsync(loop, &op, fd, true, rec_done, &rs));
	run_until(loop, &rs, 1);
	ck_assert_int_eq(rs.err, SL_OK);
	START(io_fsync(loop, &op, fd, false, rec_done, &rs));
	run_until(loop, &rs, 2);
	ck_assert_int_eq(rs.err, SL_OK);

	char buf[16] = {0};
	struct rec rr = {0};
	START(io_read(loop, &op, fd, buf, 5, 0, rec_done, &rr));
	run_until(loop, &rr, 1);
	ck_assert_int_eq(rr.res, 5);
	ck_assert_mem_eq(buf, "hello", 5);
	START(io_read(loop, &op, fd, buf, sizeof(buf), 4096, rec_done, &rr));
	run_until(loop, &rr, 2);
	ck_assert_int_eq(rr.res, 5); /* short read at end of file */
	ck_assert_mem_eq(buf, "world", 5);
	START(io_read(loop, &op, fd, buf, sizeof(buf), 1 << 20, rec_done, &rr));
	run_until(loop, &rr, 3);
	ck_assert_int_eq(rr.err, SL_OK);
	ck_assert_int_eq(rr.res, 0);                             /* past the end */
	START(io_read(loop, &op, fd, buf, 5, 2, rec_done, &rr)); /* a hole reads as zeros */
	run_until(loop, &rr, 4);
	ck_assert_mem_eq(buf, "llo\0\0", 5);

	struct rec rc = {0};
	START(io_close(loop, &op, fd, rec_done, &rc));
	run_until(loop, &rc, 1);
	ck_assert_int_eq(rc.err, SL_OK);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1); /* really closed */
	ck_assert_uint_eq(io_loop_pending(loop), 0);

	ck_assert_int_eq(unlinkat(dfd, "f", 0), 0);
	close(dfd);
	ck_assert_int_eq(rmdir(dir), 0);
	io_loop_destroy(loop);
}
END_TEST

START_TEST(test_writev_file)
{
	struct io_loop *loop = loop_new(_i, 0);
	char path[] = "/tmp/sl_io_wv_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);

	static const char a[] = "abc", b[] = "", c[] = "defgh";
	struct iovec iov[3] = {
	        {.iov_base = (void *)a, .iov_len = 3},
	        {.iov_base = (void *)b, .iov_len = 0},
	        {.iov_base = (void *)c, .iov_len = 5},
	};
	struct io_op op = {0};
	struct rec r = {0};
	START(io_writev(loop, &op, fd, iov, 3, 10, rec_done, &r));
	ck_assert(op.in_flight);
	run_until(loop, &r, 1);
	ck_assert(!op.in_flight);
	ck_assert_int_eq(r.err, SL_OK);
	ck_assert_int_eq(r.res, 8);
	char buf[32];
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 0), 18);
	ck_assert_mem_eq(buf + 10, "abcdefgh", 8);
	ck_assert_mem_eq(buf, "\0\0\0\0\0\0\0\0\0\0", 10);
	close(fd);
	io_loop_destroy(loop);
}
END_TEST

START_TEST(test_open_missing)
{
	struct io_loop *loop = loop_new(_i, 0);
	struct io_op op = {0};
	struct rec r = {0};
	START(io_openat(loop, &op, AT_FDCWD, "/nonexistent-sl-io/dir/file", O_RDONLY, 0, rec_done,
	                &r));
	run_until(loop, &r, 1);
	ck_assert_int_eq(r.err, SL_ENOENT);
	ck_assert_int_eq(r.errno_value, ENOENT);
	ck_assert_int_eq(r.res, 0);

	/* A read on a bad fd reports EBADF without crashing either backend. */
	char buf[4];
	START(io_read(loop, &op, 1000000, buf, sizeof(buf), 0, rec_done, &r));
	run_until(loop, &r, 2);
	ck_assert_int_ne(r.err, SL_OK);
	ck_assert_int_eq(r.errno_value, EBADF);
	io_loop_destroy(loop);
}
END_TEST

START_TEST(test_tcp_roundtrip)
{
	struct io_loop *loop = loop_new(_i, 0);
	int cfd = -1;
	int sfd = tcp_pair(loop, &cfd);

	struct io_op send_op = {0}, recv_op = {0};
	struct rec rs = {0}, rr = {0};
	char buf[64] = {0};
	/* Post the receive first, so it really waits for data. */
	START(io_recv(loop, &recv_op, sfd, buf, sizeof(buf), rec_done, &rr));
	ck_assert_int_eq(io_loop_run_once(loop, 0), 0);
	START(io_send(loop, &send_op, cfd, "ping", 4, rec_done, &rs));
	run_until(loop, &rs, 1);
	run_until(loop, &rr, 1);
	ck_assert_int_eq(rs.err, SL_OK);
	ck_assert_int_eq(rs.res, 4);
	ck_assert_int_eq(rr.err, SL_OK);
	ck_assert_int_eq(rr.res, 4);
	ck_assert_mem_eq(buf, "ping", 4);

	/* The server closes; the client's receive sees end of stream. */
	struct io_op close_op = {0};
	struct rec rc = {0};
	START(io_recv(loop, &recv_op, cfd, buf, sizeof(buf), rec_done, &rr));
	START(io_close(loop, &close_op, sfd, rec_done, &rc));
	run_until(loop, &rc, 1);
	run_until(loop, &rr, 2);
	ck_assert_int_eq(rc.err, SL_OK);
	ck_assert_int_eq(rr.err, SL_OK);
	ck_assert_int_eq(rr.res, 0);
	close(cfd);
	ck_assert_uint_eq(io_loop_pending(loop), 0);
	io_loop_destroy(loop);
}
END_TEST

START_TEST(test_connect_refused)
{
	struct io_loop *loop = loop_new(_i, 0);
	/* Take a free port and release it without listening. */
	int tmp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(tmp, (struct sockaddr *)&addr, sizeof(addr)), 0);
	socklen_t len = sizeof(addr);
	ck_assert_int_eq(getsockname(tmp, (struct sockaddr *)&addr, &len), 0);
	close(tmp);

	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct io_op op = {0};
	struct rec r = {0};
	START(io_connect(loop, &op, fd, (struct sockaddr *)&addr, sizeof(addr), rec_done, &r));
	run_until(loop, &r, 1);
	ck_assert_msg(r.err == SL_ECONNREFUSED, "got %s", sl_err_name(r.err));
	ck_assert_int_eq(r.errno_value, ECONNREFUSED);
	close(fd);
	io_loop_destroy(loop);
}
END_TEST

START_TEST(test_send_closed_peer)
{
	struct io_loop *loop = loop_new(_i, 0);
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	struct io_op op = {0};
	struct rec r = {0};
	/* Without MSG_NOSIGNAL this would kill the test process with SIGPIPE. */
	START(io_send(loop, &op, sv[0], "x", 1, rec_done, &r));
	run_until(loop, &r, 1);
	ck_assert_msg(r.err == SL_ECLOSED, "got %s", sl_err_name(r.err));
	ck_assert_int_eq(r.errno_value, EPIPE);

	struct iovec iov = {.iov_base = "yz", .iov_len = 2};
	START(io_writev(loop, &op, sv[0], &iov, 1, IO_OFFSET_NONE, rec_done, &r));
	run_until(loop, &r, 2);
	ck_assert_msg(r.err == SL_ECLOSED, "writev got %s", sl_err_name(r.err));
	close(sv[0]);
	io_loop_destroy(loop);
}
END_TEST

START_TEST(test_timeout)
{
	struct io_loop *loop = loop_new(_i, 0);
	struct io_op op = {0};
	struct rec r = {0};
	int64_t start = sl_mono_ns();
	START(io_timeout(loop, &op, 50, rec_done, &r));
	ck_assert_uint_eq(io_loop_pending(loop), 1);
	run_until(loop, &r, 1);
	ck_assert_int_eq(r.err, SL_OK);
	int64_t elapsed_ms = (r.done_ns - start) / 1000000;
	ck_assert_int_ge(elapsed_ms, 50);
	ck_assert_int_lt(elapsed_ms, 50 + 2000);

	/* A zero timeout completes on a later run, not inside io_timeout. */
	START(io_timeout(loop, &op, 0, rec_done, &r));
	ck_assert_int_eq(r.calls, 1);
	run_until(loop, &r, 2);
	ck_assert_int_eq(r.err, SL_OK);

	/* run_once with a timeout and nothing due returns after roughly that long. */
	START(io_timeout(loop, &op, 5000, rec_done, &r));
	start = sl_mono_ns();
	ck_assert_int_eq(io_loop_run_once(loop, 30), 0);
	int64_t waited_ms = (sl_mono_ns() - start) / 1000000;
	ck_assert_int_ge(waited_ms, 25);
	ck_assert_int_lt(waited_ms, 2000);
	io_loop_destroy(loop); /* the 5 s timer is dropped without a callback */
	ck_assert_int_eq(r.calls, 2);
	ck_assert(!op.in_flight);
}
END_TEST

START_TEST(test_cancel)
{
	struct io_loop *loop = loop_new(_i, 0);
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	char buf[8];
	struct io_op recv_op = {0}, cancel_op = {0};
	struct rec rr = {0}, rc = {0};
	START(io_recv(loop, &recv_op, sv[0], buf, sizeof(buf), rec_done, &rr));
	ck_assert_int_eq(io_loop_run_once(loop, 0), 0); /* submitted and waiting */
	ck_assert_int_eq(io_loop_run_once(loop, 10), 0);
	START(io_cancel(loop, &cancel_op, &recv_op, rec_done, &rc));
	ck_assert_uint_eq(io_loop_pending(loop), 2);
	run_until(loop, &rr, 1);
	run_until(loop, &rc, 1);
	ck_assert_msg(rr.err == SL_ECANCELED, "recv got %s", sl_err_name(rr.err));
	ck_assert_int_eq(rc.err, SL_OK);
	ck_assert_uint_eq(io_loop_pending(loop), 0);

	/* Cancel in the same batch as the target: a long timeout. */
	struct io_op t = {0};
	struct rec rt = {0};
	int64_t start = sl_mono_ns();
	START(io_timeout(loop, &t, 60000, rec_done, &rt));
	START(io_cancel(loop, &cancel_op, &t, rec_done, &rc));
	run_until(loop, &rt, 1);
	run_until(loop, &rc, 2);
	ck_assert_int_eq(rt.err, SL_ECANCELED);
	ck_assert_int_eq(rc.err, SL_OK);
	ck_assert_int_lt((sl_mono_ns() - start) / 1000000, 5000);

	/* Canceling an op that already completed: the cancel reports ENOENT. */
	START(io_cancel(loop, &cancel_op, &t, rec_done, &rc));
	run_until(loop, &rc, 3);
	ck_assert_int_eq(rc.err, SL_ENOENT);
	ck_assert_int_eq(rt.calls, 1);

	/* Canceling a file write: either it was already done (cancel: ENOENT) or it never ran
	 * (write: ECANCELED, cancel: OK). Exactly one callback each, whichever way. */
	struct io_op w = {0};
	struct rec rw = {0};
	struct rec rc2 = {0};
	char path[] = "/tmp/sl_io_cancel_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	START(io_write(loop, &w, fd, "data", 4, 0, rec_done, &rw));
	START(io_cancel(loop, &cancel_op, &w, rec_done, &rc2));
	run_until_idle(loop);
	ck_assert_int_eq(rw.calls, 1);
	ck_assert_int_eq(rc2.calls, 1);
	if (rw.err == SL_OK) {
		ck_assert_int_eq(rw.res, 4);
		ck_assert_int_ne(rc2.err, SL_OK);
	} else {
		ck_assert_int_eq(rw.err, SL_ECANCELED);
		ck_assert_int_eq(rc2.err, SL_OK);
		ck_assert_int_eq(pread(fd, buf, sizeof(buf), 0), 0); /* the write never happened */
	}
	close(fd);

	/* The socket still works after the cancel. */
	ck_assert_int_eq(write(sv[1], "ok", 2), 2);
	START(io_recv(loop, &recv_op, sv[0], buf, sizeof(buf), rec_done, &rr));
	run_until(loop, &rr, 2);
	ck_assert_int_eq(rr.err, SL_OK);
	ck_assert_int_eq(rr.res, 2);
	close(sv[0]);
	close(sv[1]);
	io_loop_destroy(loop);
}
END_TEST

enum { MANY_TIMERS = 100, MANY_WRITES = 50 };

START_TEST(test_many_in_flight)
{
	/* A small ring so that starting 150 ops overflows the SQ and forces early submits. */
	struct io_loop *loop = loop_new(_i, 16);
	char path[] = "/tmp/sl_io_many_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);

	static struct io_op timers[MANY_TIMERS], writes[MANY_WRITES];
	static struct rec rt[MANY_TIMERS], rw[MANY_WRITES];
	static char data[MANY_WRITES][8];
	memset(timers, 0, sizeof(timers));
	memset(writes, 0, sizeof(writes));
	memset(rt, 0, sizeof(rt));
	memset(rw, 0, sizeof(rw));
	for (int i = 0; i < MANY_TIMERS; i++)
		START(io_timeout(loop, &timers[i], i % 20, rec_done, &rt[i]));
	for (int i = 0; i < MANY_WRITES; i++) {
		snprintf(data[i], sizeof(data[i]), "w%06u", (unsigned)i % 1000000u);
		START(io_write(loop, &writes[i], fd, data[i], 8, (uint64_t)i * 8, rec_done,
		               &rw[i]));
	}
	ck_assert_uint_eq(io_loop_pending(loop), MANY_TIMERS + MANY_WRITES);
	for (int i = 0; i < MANY_TIMERS; i++)
		ck_assert_int_eq(rt[i].calls, 0);
	run_until_idle(loop);
	for (int i = 0; i < MANY_TIMERS; i++) {
		ck_assert_int_eq(rt[i].calls, 1);
		ck_assert_int_eq(rt[i].err, SL_OK);
	}
	char buf[MANY_WRITES * 8];
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	for (int i = 0; i < MANY_WRITES; i++) {
		ck_assert_int_eq(rw[i].calls, 1);
		ck_assert_int_eq(rw[i].err, SL_OK);
		ck_assert_int_eq(rw[i].res, 8);
		ck_assert_mem_eq(buf + i * 8, data[i], 8);
	}
	/* Nothing completes twice: a few more empty runs change no counter. */
	ck_assert_int_eq(io_loop_run_once(loop, 0), 0);
	ck_assert_int_eq(rt[0].calls, 1);
	close(fd);
	io_loop_destroy(loop);
}
END_TEST

/* A callback that re-arms itself: ops started inside callbacks run on a later round. */
struct rearm {
	struct io_loop *loop;
	struct io_op op;
	int rounds;
	int runs_seen;
};

static void rearm_done(struct io_op *op, void *ctx)
{
	struct rearm *r = ctx;
	ck_assert_int_eq(op->err, SL_OK);
	r->rounds++;
	if (r->rounds < 5)
		io_timeout(r->loop, &r->op, 0, rearm_done, r);
}

START_TEST(test_no_reentrant_completion)
{
	struct io_loop *loop = loop_new(_i, 0);
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	char path[] = "/tmp/sl_io_re_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);

	/* Ops that could finish immediately must still wait for run_once. */
	struct io_op ops[4] = {{0}};
	struct rec r = {0};
	START(io_send(loop, &ops[0], sv[0], "a", 1, rec_done, &r));
	START(io_write(loop, &ops[1], fd, "b", 1, 0, rec_done, &r));
	START(io_timeout(loop, &ops[2], 0, rec_done, &r));
	START(io_fsync(loop, &ops[3], fd, true, rec_done, &r));
	ck_assert_int_eq(r.calls, 0);
	ck_assert_uint_eq(io_loop_pending(loop), 4);
	run_until(loop, &r, 4);
	ck_assert_uint_eq(io_loop_pending(loop), 0);

	/* Re-arming from a callback: one round per run_once call. */
	struct rearm ra = {.loop = loop};
	io_timeout(loop, &ra.op, 0, rearm_done, &ra);
	int runs = 0;
	while (ra.rounds < 5) {
		int n = io_loop_run_once(loop, 1000);
		ck_assert_int_le(n, 1);
		runs++;
		ck_assert_int_lt(runs, 100);
	}
	ck_assert_int_ge(runs, 5);
	ck_assert_uint_eq(io_loop_pending(loop), 0);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	io_loop_destroy(loop);
}
END_TEST

START_TEST(test_writev_socket)
{
	struct io_loop *loop = loop_new(_i, 0);
	int cfd = -1;
	int sfd = tcp_pair(loop, &cfd);
	static const char h[] = "head:", b1[] = "body-one,", b2[] = "body-two";
	struct iovec iov[3] = {
	        {.iov_base = (void *)h, .iov_len = 5},
	        {.iov_base = (void *)b1, .iov_len = 9},
	        {.iov_base = (void *)b2, .iov_len = 8},
	};
	struct io_op op = {0};
	struct rec r = {0};
	START(io_writev(loop, &op, cfd, iov, 3, IO_OFFSET_NONE, rec_done, &r));
	run_until(loop, &r, 1);
	ck_assert_int_eq(r.err, SL_OK);
	ck_assert_int_eq(r.res, 22);

	char buf[64];
	size_t got = 0;
	struct rec rr = {0};
	while (got < 22) {
		START(io_recv(loop, &op, sfd, buf + got, sizeof(buf) - got, rec_done, &rr));
		run_until(loop, &rr, rr.calls + 1);
		ck_assert_int_eq(rr.err, SL_OK);
		ck_assert_int_gt(rr.res, 0);
		got += (size_t)rr.res;
	}
	ck_assert_uint_eq(got, 22);
	ck_assert_mem_eq(buf, "head:body-one,body-two", 22);
	close(cfd);
	close(sfd);
	io_loop_destroy(loop);
}
END_TEST

START_TEST(test_destroy_with_pending)
{
	struct io_loop *loop = loop_new(_i, 0);
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	char buf[8];
	struct io_op recv_op = {0}, t1 = {0}, t2 = {0};
	struct rec r = {0};
	START(io_recv(loop, &recv_op, sv[0], buf, sizeof(buf), rec_done, &r));
	START(io_timeout(loop, &t1, 60000, rec_done, &r));
	ck_assert_int_eq(io_loop_run_once(loop, 0), 0);    /* submitted */
	START(io_timeout(loop, &t2, 60000, rec_done, &r)); /* queued only */
	ck_assert_uint_eq(io_loop_pending(loop), 3);
	int64_t start = sl_mono_ms();
	io_loop_destroy(loop);
	ck_assert_int_lt(sl_mono_ms() - start, 5000);
	ck_assert_int_eq(r.calls, 0);
	ck_assert(!recv_op.in_flight);
	ck_assert(!t1.in_flight);
	ck_assert(!t2.in_flight);
	/* The socket is untouched and usable. */
	ck_assert_int_eq(write(sv[1], "z", 1), 1);
	ck_assert_int_eq(read(sv[0], buf, sizeof(buf)), 1);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* ---- splice / sendfile -------------------------------------------------------------------- */

#define SPLICE_FILE_BYTES (4u << 20) /* larger than loopback socket buffers: forces waits */

static uint8_t pattern_byte(size_t i)
{
	return (uint8_t)((i * 7u + (i >> 11)) & 0xff);
}

/* A temporary file of `bytes` patterned bytes (already unlinked); returns its fd. */
static int pattern_file(size_t bytes)
{
	char path[] = "/tmp/sl_io_splice_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	uint8_t *buf = malloc(bytes);
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < bytes; i++)
		buf[i] = pattern_byte(i);
	ck_assert_int_eq(pwrite(fd, buf, bytes, 0), (ssize_t)bytes);
	free(buf);
	return fd;
}

/* Drains a socket on another thread and checks the pattern from `first` on. */
struct drain {
	int fd;
	size_t first;
	size_t want;
	size_t got;
	bool mismatch;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	/* The sync backend's connect left the socket non-blocking; this thread blocks. */
	int fl = fcntl(d->fd, F_GETFL);
	if (fl < 0 || fcntl(d->fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
		return NULL;
	uint8_t buf[65536];
	while (d->got < d->want) {
		ssize_t n = recv(d->fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != pattern_byte(d->first + d->got + (size_t)i))
				d->mismatch = true;
		}
		d->got += (size_t)n;
	}
	return NULL;
}

/* A file range to a socket through a pipe: file -> pipe, pipe -> socket, repeated. */
START_TEST(test_splice_file_pipe_socket)
{
	signal(SIGPIPE, SIG_IGN);
	struct io_loop *loop = loop_new(_i, 0);
	int cfd = -1;
	int sfd = tcp_pair(loop, &cfd);
	int file = pattern_file(SPLICE_FILE_BYTES);
	int pfd[2];
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	const size_t first = 1000; /* an unaligned start */
	struct drain d = {.fd = cfd, .first = first, .want = SPLICE_FILE_BYTES - first};
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, drain_main, &d), 0);

	struct io_op op = {0};
	struct rec r = {0};
	size_t off = first;
	while (off < SPLICE_FILE_BYTES) {
		START(io_splice(loop, &op, file, off, pfd[1], IO_OFFSET_NONE, 65536, rec_done, &r));
		run_until(loop, &r, r.calls + 1);
		ck_assert_msg(r.err == SL_OK, "file->pipe: %s", sl_err_name(r.err));
		ck_assert_int_gt(r.res, 0);
		ck_assert_int_le(r.res, 65536);
		size_t in_pipe = (size_t)r.res;
		while (in_pipe > 0) {
			START(io_splice(loop, &op, pfd[0], IO_OFFSET_NONE, sfd, IO_OFFSET_NONE,
			                in_pipe, rec_done, &r));
			run_until(loop, &r, r.calls + 1);
			ck_assert_msg(r.err == SL_OK, "pipe->socket: %s", sl_err_name(r.err));
			ck_assert_int_gt(r.res, 0);
			ck_assert_int_le(r.res, (int64_t)in_pipe);
			in_pipe -= (size_t)r.res;
			off += (size_t)r.res;
		}
	}
	ck_assert_uint_eq(off, SPLICE_FILE_BYTES);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_uint_eq(d.got, SPLICE_FILE_BYTES - first);
	ck_assert(!d.mismatch);
	/* The file position was not used: an explicit offset leaves it at 0. */
	ck_assert_int_eq(lseek(file, 0, SEEK_CUR), 0);
	close(pfd[0]);
	close(pfd[1]);
	close(file);
	close(cfd);
	close(sfd);
	io_loop_destroy(loop);
}
END_TEST

/* End of input: 0 bytes. Neither end a pipe: SL_EINVAL. A bad fd: SL_EBADF-like error. */
START_TEST(test_splice_edges)
{
	struct io_loop *loop = loop_new(_i, 0);
	int file = pattern_file(4096);
	int pfd[2];
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	struct io_op op = {0};
	struct rec r = {0};

	START(io_splice(loop, &op, file, 4096, pfd[1], IO_OFFSET_NONE, 100, rec_done, &r));
	run_until(loop, &r, 1);
	ck_assert_int_eq(r.err, SL_OK);
	ck_assert_int_eq(r.res, 0); /* at end of file */

	START(io_splice(loop, &op, file, 4000, pfd[1], IO_OFFSET_NONE, 1000, rec_done, &r));
	run_until(loop, &r, 2);
	ck_assert_int_eq(r.err, SL_OK);
	ck_assert_int_eq(r.res, 96); /* short: only 96 bytes left */
	uint8_t buf[128];
	ck_assert_int_eq(read(pfd[0], buf, sizeof(buf)), 96);
	for (size_t i = 0; i < 96; i++)
		ck_assert_uint_eq(buf[i], pattern_byte(4000 + i));

	int other = pattern_file(16);
	START(io_splice(loop, &op, file, 0, other, 0, 100, rec_done, &r));
	run_until(loop, &r, 3);
	ck_assert_int_eq(r.err, SL_EINVAL); /* no pipe on either side */
	ck_assert_int_eq(r.errno_value, EINVAL);

	START(io_splice(loop, &op, file, 0, 1 << 20, IO_OFFSET_NONE, 100, rec_done, &r));
	run_until(loop, &r, 4);
	ck_assert_int_ne(r.err, SL_OK); /* not an open fd */
	ck_assert_int_eq(r.errno_value, EBADF);
	ck_assert_uint_eq(io_loop_pending(loop), 0);
	close(other);
	close(pfd[0]);
	close(pfd[1]);
	close(file);
	io_loop_destroy(loop);
}
END_TEST

/* sendfile: the sync backend sends the range; uring has no opcode and says so. */
START_TEST(test_sendfile)
{
	signal(SIGPIPE, SIG_IGN);
	struct io_loop *loop = loop_new(_i, 0);
	int cfd = -1;
	int sfd = tcp_pair(loop, &cfd);
	int file = pattern_file(SPLICE_FILE_BYTES);
	struct io_op op = {0};
	struct rec r = {0};
	if (backends[_i] == IO_BACKEND_URING) {
		START(io_sendfile(loop, &op, sfd, file, 0, 4096, rec_done, &r));
		ck_assert(op.in_flight);
		run_until(loop, &r, 1);
		ck_assert_int_eq(r.err, SL_EUNSUPPORTED);
		ck_assert_uint_eq(io_loop_pending(loop), 0);
	} else {
		const size_t first = 12345;
		struct drain d = {.fd = cfd, .first = first, .want = SPLICE_FILE_BYTES - first};
		pthread_t th;
		ck_assert_int_eq(pthread_create(&th, NULL, drain_main, &d), 0);
		size_t off = first;
		while (off < SPLICE_FILE_BYTES) {
			START(io_sendfile(loop, &op, sfd, file, off, SPLICE_FILE_BYTES, rec_done,
			                  &r));
			run_until(loop, &r, r.calls + 1);
			ck_assert_msg(r.err == SL_OK, "sendfile: %s", sl_err_name(r.err));
			ck_assert_int_gt(r.res, 0);
			off += (size_t)r.res;
		}
		ck_assert_uint_eq(off, SPLICE_FILE_BYTES);
		ck_assert_int_eq(pthread_join(th, NULL), 0);
		ck_assert_uint_eq(d.got, SPLICE_FILE_BYTES - first);
		ck_assert(!d.mismatch);
		START(io_sendfile(loop, &op, sfd, file, SPLICE_FILE_BYTES, 100, rec_done, &r));
		run_until(loop, &r, r.calls + 1);
		ck_assert_int_eq(r.err, SL_OK);
		ck_assert_int_eq(r.res, 0); /* at end of file */
	}
	close(file);
	close(cfd);
	close(sfd);
	io_loop_destroy(loop);
}
END_TEST

/* A splice whose output socket's peer is gone fails (EPIPE or ECONNRESET), it does not hang. */
START_TEST(test_splice_closed_peer)
{
	signal(SIGPIPE, SIG_IGN);
	struct io_loop *loop = loop_new(_i, 0);
	int cfd = -1;
	int sfd = tcp_pair(loop, &cfd);
	close(cfd);
	int file = pattern_file(65536);
	int pfd[2];
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	struct io_op op = {0};
	struct rec r = {0};
	bool failed = false;
	for (int round = 0; round < 64 && !failed; round++) {
		START(io_splice(loop, &op, file, 0, pfd[1], IO_OFFSET_NONE, 65536, rec_done, &r));
		run_until(loop, &r, r.calls + 1);
		ck_assert_int_eq(r.err, SL_OK);
		size_t in_pipe = (size_t)r.res;
		while (in_pipe > 0 && !failed) {
			START(io_splice(loop, &op, pfd[0], IO_OFFSET_NONE, sfd, IO_OFFSET_NONE,
			                in_pipe, rec_done, &r));
			run_until(loop, &r, r.calls + 1);
			if (r.err != SL_OK)
				failed = true;
			else
				in_pipe -= (size_t)r.res;
		}
	}
	ck_assert_msg(failed, "splice to a closed peer never failed");
	ck_assert_msg(r.errno_value == EPIPE || r.errno_value == ECONNRESET, "errno %d",
	              r.errno_value);
	close(pfd[0]);
	close(pfd[1]);
	close(file);
	close(sfd);
	io_loop_destroy(loop);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("io");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	int n = (int)SL_ARRAY_LEN(backends);
	tcase_add_test(tc, test_backend_names);
	tcase_add_loop_test(tc, test_file_roundtrip, 0, n);
	tcase_add_loop_test(tc, test_writev_file, 0, n);
	tcase_add_loop_test(tc, test_open_missing, 0, n);
	tcase_add_loop_test(tc, test_tcp_roundtrip, 0, n);
	tcase_add_loop_test(tc, test_connect_refused, 0, n);
	tcase_add_loop_test(tc, test_send_closed_peer, 0, n);
	tcase_add_loop_test(tc, test_timeout, 0, n);
	tcase_add_loop_test(tc, test_cancel, 0, n);
	tcase_add_loop_test(tc, test_many_in_flight, 0, n);
	tcase_add_loop_test(tc, test_no_reentrant_completion, 0, n);
	tcase_add_loop_test(tc, test_writev_socket, 0, n);
	tcase_add_loop_test(tc, test_destroy_with_pending, 0, n);
	tcase_add_loop_test(tc, test_splice_file_pipe_socket, 0, n);
	tcase_add_loop_test(tc, test_splice_edges, 0, n);
	tcase_add_loop_test(tc, test_sendfile, 0, n);
	tcase_add_loop_test(tc, test_splice_closed_peer, 0, n);
	suite_add_tcase(s, tc);
	return s;
}
