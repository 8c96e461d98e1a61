/*
 * sync.c: the synchronous backend: plain syscalls with io_uring's semantics.
 *
 * Starting an op only queues it (cancels are resolved at once, but still delivered later).
 * Each io_loop_run_once():
 *   1. runs every queued op once: file ops to completion, socket ops as a non-blocking
 *      attempt (EAGAIN / EINPROGRESS -> IO_ST_WAITING);
 *   2. poll(2)s the waiting socket ops, with a timeout bounded by the nearest timer deadline
 *      (0 if anything already completed);
 *   3. retries the socket ops poll reported ready, then expires due timers.
 * Callbacks then run from the front end. All waiting state lives on the active list; the poll
 * arrays are loop-owned and grow by doubling (never per op).
 */
#include "io_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#define SYNC_POLL_CAP_MIN 64u

enum sl_err io_sync_init(struct io_loop *loop, char *err, size_t err_len)
{
	size_t cap = SL_MAX(loop->queue_depth, SYNC_POLL_CAP_MIN);
	loop->pfds = calloc(cap, sizeof(*loop->pfds));
	loop->pops = calloc(cap, sizeof(*loop->pops));
	if (loop->pfds == NULL || loop->pops == NULL) {
		io_sync_fini(loop);
		snprintf(err, err_len, "out of memory for the poll set");
		return SL_ENOMEM;
	}
	loop->poll_cap = cap;
	return SL_OK;
}

void io_sync_fini(struct io_loop *loop)
{
	free(loop->pfds);
	free(loop->pops);
	loop->pfds = NULL;
	loop->pops = NULL;
	loop->poll_cap = 0;
}

static bool is_socket_op(const struct io_op *op)
{
	switch (op->kind) {
	case IO_OP_ACCEPT:
	case IO_OP_CONNECT:
	case IO_OP_RECV:
	case IO_OP_SEND:
		return true;
	case IO_OP_WRITEV:
		return op->u.vec.offset == IO_OFFSET_NONE;
	case IO_OP_SPLICE:
	case IO_OP_SENDFILE:
		return true; /* non-blocking attempt, then poll op->fd (the output) for POLLOUT */
	default:
		return false;
	}
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_NONBLOCK) == 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	/* On failure the op's own syscall reports the problem (EBADF, ENOTSOCK, ...). */
}

static void sync_cancel(struct io_loop *loop, struct io_op *op)
{
	struct io_op *target = op->u.cancel.target;
	if (target->in_flight && target->state != IO_ST_COMPLETED && target->kind != IO_OP_NONE) {
		io_op_finish(loop, target, -ECANCELED);
		io_op_finish(loop, op, 0);
	} else {
		io_op_finish(loop, op, -ENOENT);
	}
}

void io_sync_start(struct io_loop *loop, struct io_op *op)
{
	switch (op->kind) {
	case IO_OP_CANCEL:
		sync_cancel(loop, op);
		return;
	case IO_OP_TIMEOUT:
		op->u.timeout.deadline_ns = sl_mono_ns() + op->u.timeout.duration_ms * 1000000;
		op->state = IO_ST_WAITING;
		return;
	default:
		break;
	}
	if (is_socket_op(op))
		set_nonblock(op->fd);
	op->state = IO_ST_QUEUED;
}

/* ---- syscalls: each returns the result or -errno --------------------------------------- */

static int64_t neg_errno(ssize_t r)
{
	return r < 0 ? -(int64_t)errno : (int64_t)r;
}

static int64_t run_file_op(struct io_op *op)
{
	ssize_t r;
	bool pos = op->u.rw.offset == IO_OFFSET_NONE;
	switch (op->kind) {
	case IO_OP_READ:
		do
			r = pos ? read(op->fd, op->u.rw.buf, op->u.rw.len)
			        : pread(op->fd, op->u.rw.buf, op->u.rw.len, (off_t)op->u.rw.offset);
		while (r < 0 && errno == EINTR);
		return neg_errno(r);
	case IO_OP_WRITE:
		do
			r = pos ? write(op->fd, op->u.rw.buf, op->u.rw.len)
			        : pwrite(op->fd, op->u.rw.buf, op->u.rw.len,
			                 (off_t)op->u.rw.offset);
		while (r < 0 && errno == EINTR);
		return neg_errno(r);
	case IO_OP_WRITEV:
		do
			r = pwritev(op->fd, op->u.vec.iov, op->u.vec.iov_count,
			            (off_t)op->u.vec.offset);
		while (r < 0 && errno == EINTR);
		return neg_errno(r);
	case IO_OP_FSYNC:
		do
			r = op->u.datasync ? fdatasync(op->fd) : fsync(op->fd);
		while (r < 0 && errno == EINTR);
		return neg_errno(r);
	case IO_OP_OPENAT:
		do
			r = openat(op->fd, op->u.open.path, op->u.open.flags,
			           (mode_t)op->u.open.mode);
		while (r < 0 && errno == EINTR);
		return neg_errno(r);
	case IO_OP_CLOSE:
		r = close(op->fd); /* never retried: the fd is gone even on EINTR */
		return r < 0 && errno == EINTR ? 0 : neg_errno(r);
	default:
		SL_UNREACHABLE();
	}
}

static int64_t run_connect(struct io_op *op)
{
	if (op->state == IO_ST_WAITING) {
		int so_error = 0;
		socklen_t len = sizeof(so_error);
		if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
			return -(int64_t)errno;
		return so_error == 0 ? 0 : -(int64_t)so_error;
	}
	int r = connect(op->fd, (const struct sockaddr *)&op->u.sock.addr, op->u.sock.addr_len);
	if (r < 0 && (errno == EINPROGRESS || errno == EINTR))
		return -EINPROGRESS;
	return neg_errno(r);
}

/* splice(2) / sendfile(2), non-blocking on the output side. */
static ssize_t run_splice(struct io_op *op)
{
	loff_t off_in = (loff_t)op->u.splice.off_in;
	loff_t off_out = (loff_t)op->u.splice.off_out;
	if (op->kind == IO_OP_SENDFILE)
		return sendfile(op->fd, op->u.splice.fd_in, &off_in, op->u.splice.len);
	return splice(op->u.splice.fd_in, op->u.splice.off_in == IO_OFFSET_NONE ? NULL : &off_in,
	              op->fd, op->u.splice.off_out == IO_OFFSET_NONE ? NULL : &off_out,
	              op->u.splice.len, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
}

/* One non-blocking attempt. -EAGAIN (or -EINPROGRESS for connect) means "wait for poll". */
static int64_t run_socket_op(struct io_op *op)
{
	ssize_t r;
	switch (op->kind) {
	case IO_OP_ACCEPT:
		op->u.sock.addr_len = sizeof(op->u.sock.addr);
		r = accept4(op->fd, (struct sockaddr *)&op->u.sock.addr, &op->u.sock.addr_len,
		            SOCK_NONBLOCK | SOCK_CLOEXEC);
		break;
	case IO_OP_CONNECT:
		return run_connect(op);
	case IO_OP_RECV:
		r = recv(op->fd, op->u.rw.buf, op->u.rw.len, MSG_DONTWAIT);
		break;
	case IO_OP_SEND:
		r = send(op->fd, op->u.rw.buf, op->u.rw.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		break;
	case IO_OP_WRITEV:
		r = sendmsg(op->fd, &op->u.vec.msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		break;
	case IO_OP_SPLICE:
	case IO_OP_SENDFILE:
		r = run_splice(op);
		break;
	default:
		SL_UNREACHABLE();
	}
	if (r < 0 && (errno == EWOULDBLOCK || errno == EINTR))
		return -EAGAIN;
	return neg_errno(r);
}

static void try_socket_op(struct io_loop *loop, struct io_op *op)
{
	int64_t res = run_socket_op(op);
	if (res == -EAGAIN || res == -EINPROGRESS)
		op->state = IO_ST_WAITING;
	else
		io_op_finish(loop, op, res);
}

/* Step 1: every op started since the last run gets its first attempt. */
static void run_queued(struct io_loop *loop)
{
	struct io_op *op = loop->active_head;
	while (op != NULL) {
		struct io_op *next = op->next; /* op may move to the done list */
		if (op->state == IO_ST_QUEUED) {
			if (is_socket_op(op))
				try_socket_op(loop, op);
			else
				io_op_finish(loop, op, run_file_op(op));
		}
		op = next;
	}
}

/* Milliseconds until the nearest timer (rounded up), or -1 if there is none. */
static int nearest_timer_ms(const struct io_loop *loop, int64_t now_ns)
{
	int64_t best = -1;
	for (const struct io_op *op = loop->active_head; op != NULL; op = op->next) {
		if (op->kind != IO_OP_TIMEOUT)
			continue;
		int64_t left = op->u.timeout.deadline_ns - now_ns;
		int64_t ms = left <= 0 ? 0 : (left + 999999) / 1000000;
		if (best < 0 || ms < best)
			best = ms;
	}
	return best < 0 ? -1 : (int)SL_MIN(best, (int64_t)INT_MAX);
}

static bool grow_poll_set(struct io_loop *loop)
{
	size_t cap = loop->poll_cap * 2;
	struct pollfd *pfds = realloc(loop->pfds, cap * sizeof(*pfds));
	if (pfds == NULL)
		return false;
	loop->pfds = pfds;
	struct io_op **pops = realloc(loop->pops, cap * sizeof(*pops));
	if (pops == NULL)
		return false;
	loop->pops = pops;
	loop->poll_cap = cap;
	return true;
}

static size_t build_poll_set(struct io_loop *loop)
{
	size_t n = 0;
	for (struct io_op *op = loop->active_head; op != NULL; op = op->next) {
		if (op->state != IO_ST_WAITING || !is_socket_op(op))
			continue;
		if (n == loop->poll_cap && !grow_poll_set(loop))
			break; /* out of memory: the rest wait for a later round */
		bool in = op->kind == IO_OP_ACCEPT || op->kind == IO_OP_RECV;
		loop->pfds[n].fd = op->fd;
		loop->pfds[n].events = in ? POLLIN : POLLOUT;
		loop->pfds[n].revents = 0;
		loop->pops[n] = op;
		n++;
	}
	return n;
}

static void expire_timers(struct io_loop *loop)
{
	int64_t now = sl_mono_ns();
	struct io_op *op = loop->active_head;
	while (op != NULL) {
		struct io_op *next = op->next;
		if (op->kind == IO_OP_TIMEOUT && op->u.timeout.deadline_ns <= now)
			io_op_finish(loop, op, 0);
		op = next;
	}
}

void io_sync_reap(struct io_loop *loop, int timeout_ms)
{
	run_queued(loop);
	int wait_ms = loop->done_head != NULL ? 0 : timeout_ms;
	int timer_ms = nearest_timer_ms(loop, sl_mono_ns());
	if (timer_ms >= 0 && (wait_ms < 0 || timer_ms < wait_ms))
		wait_ms = timer_ms;
	size_t n = build_poll_set(loop);
	if (n == 0 && wait_ms < 0)
		return; /* nothing could ever wake us */
	int ready = poll(loop->pfds, (nfds_t)n, wait_ms);
	if (ready < 0 && errno != EINTR)
		SL_WARN("io", "poll: %s", strerror(errno));
	for (size_t i = 0; ready > 0 && i < n; i++) {
		if (loop->pfds[i].revents == 0)
			continue;
		if ((loop->pfds[i].revents & POLLNVAL) != 0) {
			io_op_finish(loop, loop->pops[i], -EBADF);
			continue;
		}
		try_socket_op(loop, loop->pops[i]);
	}
	expire_timers(loop);
}
