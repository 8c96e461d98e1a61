/*
 * uring.c: the io_uring backend (liburing 2.3).
 *
 * Every op gets one sqe whose user_data is the op itself; internal sqes (the cancels issued by
 * io_loop_destroy) carry user_data 0 and their cqes are ignored. Sqes are only prepared by the
 * start calls and submitted by io_loop_run_once() (or earlier when the SQ is full). Draining
 * converts negative cqe->res once (io_op_finish) and moves the op to the done list; callbacks
 * run later, from the front end.
 *
 * Invariant: an op on the active list has exactly one cqe still to come.
 */
#include "io_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Opcodes we use; a kernel lacking any of them is refused at start-up. */
static const struct {
	int opcode;
	const char *name;
} required_ops[] = {
        {IORING_OP_ACCEPT, "IORING_OP_ACCEPT"},
        {IORING_OP_CONNECT, "IORING_OP_CONNECT"},
        {IORING_OP_RECV, "IORING_OP_RECV"},
        {IORING_OP_SEND, "IORING_OP_SEND"},
        {IORING_OP_SENDMSG, "IORING_OP_SENDMSG"},
        {IORING_OP_WRITEV, "IORING_OP_WRITEV"},
        {IORING_OP_READ, "IORING_OP_READ"},
        {IORING_OP_WRITE, "IORING_OP_WRITE"},
        {IORING_OP_FSYNC, "IORING_OP_FSYNC"},
        {IORING_OP_OPENAT, "IORING_OP_OPENAT"},
        {IORING_OP_CLOSE, "IORING_OP_CLOSE"},
        {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT"},
        {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"},
        {IORING_OP_SPLICE, "IORING_OP_SPLICE"},
};

/* How long io_loop_destroy waits for canceled ops to let go of their buffers. */
#define RING_DESTROY_WAIT_NS (10 * 1000000000LL)

static enum sl_err ring_probe(struct io_loop *loop, char *err, size_t err_len)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&loop->ring);
	if (probe == NULL) {
		snprintf(err, err_len, "io_uring_get_probe_ring failed");
		return SL_EUNSUPPORTED;
	}
	enum sl_err e = SL_OK;
	for (size_t i = 0; i < SL_ARRAY_LEN(required_ops); i++) {
		if (!io_uring_opcode_supported(probe, required_ops[i].opcode)) {
			snprintf(err, err_len, "io_uring lacks opcode %s", required_ops[i].name);
			e = SL_EUNSUPPORTED;
			break;
		}
	}
	io_uring_free_probe(probe);
	return e;
}

enum sl_err io_ring_init(struct io_loop *loop, char *err, size_t err_len)
{
	struct io_uring_params params;
	memset(&params, 0, sizeof(params));
	params.flags = IORING_SETUP_CLAMP;
	int r = io_uring_queue_init_params(loop->queue_depth, &loop->ring, &params);
	if (r < 0) {
		snprintf(err, err_len, "io_uring_queue_init: %s", strerror(-r));
		return -r == ENOSYS ? SL_EUNSUPPORTED : sl_err_from_errno(-r);
	}
	enum sl_err e = ring_probe(loop, err, err_len);
	if (e != SL_OK) {
		io_uring_queue_exit(&loop->ring);
		return e;
	}
	loop->ring_ready = true;
	return SL_OK;
}

/* Moves every available cqe's op to the done list. Returns the number of cqes seen. */
static unsigned ring_drain(struct io_loop *loop)
{
	struct io_uring_cqe *cqe;
	unsigned head;
	unsigned seen = 0;
	io_uring_for_each_cqe(&loop->ring, head, cqe)
	{
		seen++;
		if (cqe->user_data == 0 || cqe->user_data == LIBURING_UDATA_TIMEOUT)
			continue;
		struct io_op *op = io_uring_cqe_get_data(cqe);
		SL_ASSERT(op->state == IO_ST_SUBMITTED);
		int64_t res = cqe->res;
		if (op->kind == IO_OP_TIMEOUT && res == -ETIME)
			res = 0; /* the timer expired: that is success */
		io_op_finish(loop, op, res);
	}
	io_uring_cq_advance(&loop->ring, seen);
	return seen;
}

/* An sqe; when the SQ is full, submits (and drains the CQ if the kernel pushes back). */
static struct io_uring_sqe *ring_sqe(struct io_loop *loop)
{
	for (unsigned tries = 0;; tries++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);
		if (sqe != NULL)
			return sqe;
		int r = io_uring_submit(&loop->ring);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			SL_ERROR("io", "io_uring_submit: %s", strerror(-r));
			SL_UNREACHABLE();
		}
		if (r <= 0)
			ring_drain(loop);
		SL_ASSERT(tries < 1000000);
	}
}

static void ring_prep_socket(struct io_op *op, struct io_uring_sqe *sqe)
{
	switch (op->kind) {
	case IO_OP_ACCEPT:
		io_uring_prep_accept(sqe, op->fd, (struct sockaddr *)&op->u.sock.addr,
		                     &op->u.sock.addr_len, SOCK_CLOEXEC);
		break;
	case IO_OP_CONNECT:
		io_uring_prep_connect(sqe, op->fd, (struct sockaddr *)&op->u.sock.addr,
		                      op->u.sock.addr_len);
		break;
	case IO_OP_RECV:
		io_uring_prep_recv(sqe, op->fd, op->u.rw.buf, op->u.rw.len, 0);
		break;
	case IO_OP_SEND:
		io_uring_prep_send(sqe, op->fd, op->u.rw.buf, op->u.rw.len, MSG_NOSIGNAL);
		break;
	default:
		SL_UNREACHABLE();
	}
}

static void ring_prep(struct io_op *op, struct io_uring_sqe *sqe)
{
	switch (op->kind) {
	case IO_OP_WRITEV:
		if (op->u.vec.offset == IO_OFFSET_NONE)
			io_uring_prep_sendmsg(sqe, op->fd, &op->u.vec.msg, MSG_NOSIGNAL);
		else
			io_uring_prep_writev(sqe, op->fd, op->u.vec.iov,
			                     (unsigned)op->u.vec.iov_count, op->u.vec.offset);
		break;
	case IO_OP_READ:
		io_uring_prep_read(sqe, op->fd, op->u.rw.buf, (unsigned)op->u.rw.len,
		                   op->u.rw.offset);
		break;
	case IO_OP_WRITE:
		io_uring_prep_write(sqe, op->fd, op->u.rw.buf, (unsigned)op->u.rw.len,
		                    op->u.rw.offset);
		break;
	case IO_OP_FSYNC:
		io_uring_prep_fsync(sqe, op->fd, op->u.datasync ? IORING_FSYNC_DATASYNC : 0);
		break;
	case IO_OP_OPENAT:
		io_uring_prep_openat(sqe, op->fd, op->u.open.path, op->u.open.flags,
		                     op->u.open.mode);
		break;
	case IO_OP_CLOSE:
		io_uring_prep_close(sqe, op->fd);
		break;
	case IO_OP_TIMEOUT:
		io_uring_prep_timeout(sqe, &op->u.timeout.ts, 0, 0);
		break;
	case IO_OP_CANCEL:
		io_uring_prep_cancel(sqe, op->u.cancel.target, 0);
		break;
	case IO_OP_SPLICE:
		/* -1: "no offset" (pipe, socket, or the file position). */
		io_uring_prep_splice(
		        sqe, op->u.splice.fd_in,
		        op->u.splice.off_in == IO_OFFSET_NONE ? -1 : (int64_t)op->u.splice.off_in,
		        op->fd,
		        op->u.splice.off_out == IO_OFFSET_NONE ? -1 : (int64_t)op->u.splice.off_out,
		        (unsigned)op->u.splice.len, SPLICE_F_MOVE);
		break;
	default:
		ring_prep_socket(op, sqe);
		break;
	}
}

void io_ring_start(struct io_loop *loop, struct io_op *op)
{
	SL_ASSERT(loop->ring_ready);
	if (op->kind == IO_OP_SENDFILE) {
		/* No io_uring opcode: completes (later, from run_once) with SL_EUNSUPPORTED. */
		op->state = IO_ST_SUBMITTED;
		io_op_finish(loop, op, -EOPNOTSUPP);
		op->err = SL_EUNSUPPORTED; /* errno has no closer match in sl_err_from_errno */
		return;
	}
	struct io_uring_sqe *sqe = ring_sqe(loop);
	ring_prep(op, sqe);
	io_uring_sqe_set_data(sqe, op);
	op->state = IO_ST_SUBMITTED;
}

void io_ring_reap(struct io_loop *loop, int timeout_ms)
{
	struct io_uring_cqe *cqe = NULL;
	int r;
	if (timeout_ms == 0) {
		r = io_uring_submit(&loop->ring);
	} else if (timeout_ms < 0) {
		r = io_uring_submit_and_wait(&loop->ring, 1);
	} else {
		struct __kernel_timespec ts = {
		        .tv_sec = timeout_ms / 1000,
		        .tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
		};
		r = io_uring_submit_and_wait_timeout(&loop->ring, &cqe, 1, &ts, NULL);
	}
	if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY)
		SL_WARN("io", "io_uring submit/wait: %s", strerror(-r));
	ring_drain(loop);
}

/* ---- destroy ------------------------------------------------------------------------------- */

/* Drains cqes without delivering anything: ops are only marked completed (they stay on the
 * active list so the caller's iteration stays valid). Returns how many ops completed. */
static unsigned ring_forget_drain(struct io_loop *loop)
{
	struct io_uring_cqe *cqe;
	unsigned head;
	unsigned seen = 0;
	unsigned completed = 0;
	io_uring_for_each_cqe(&loop->ring, head, cqe)
	{
		seen++;
		if (cqe->user_data == 0 || cqe->user_data == LIBURING_UDATA_TIMEOUT)
			continue;
		struct io_op *op = io_uring_cqe_get_data(cqe);
		SL_ASSERT(op->state == IO_ST_SUBMITTED);
		op->state = IO_ST_COMPLETED;
		completed++;
	}
	io_uring_cq_advance(&loop->ring, seen);
	return completed;
}

static unsigned ring_count_active(const struct io_loop *loop)
{
	unsigned n = 0;
	for (const struct io_op *op = loop->active_head; op != NULL; op = op->next)
		n++;
	return n;
}

/* Issues an internal cancel (user_data 0) for every active op. */
static unsigned ring_cancel_all(struct io_loop *loop)
{
	unsigned completed = 0;
	for (struct io_op *op = loop->active_head; op != NULL; op = op->next) {
		if (op->kind == IO_OP_CANCEL || op->state != IO_ST_SUBMITTED)
			continue;
		struct io_uring_sqe *sqe = io_uring_get_sqe(&loop->ring);
		for (unsigned tries = 0; sqe == NULL && tries < 1000; tries++) {
			(void)io_uring_submit(&loop->ring);
			completed += ring_forget_drain(loop);
			sqe = io_uring_get_sqe(&loop->ring);
		}
		if (sqe == NULL)
			break; /* the wait below still bounds how long we give the kernel */
		io_uring_prep_cancel(sqe, op, 0);
		io_uring_sqe_set_data64(sqe, 0);
	}
	(void)io_uring_submit(&loop->ring);
	return completed;
}

void io_ring_fini(struct io_loop *loop)
{
	if (!loop->ring_ready)
		return;
	unsigned remaining = ring_count_active(loop);
	remaining -= ring_cancel_all(loop);
	int64_t deadline = sl_mono_ns() + RING_DESTROY_WAIT_NS;
	while (remaining > 0) {
		remaining -= ring_forget_drain(loop);
		if (remaining == 0)
			break;
		if (sl_mono_ns() > deadline) {
			/* Closing the ring now could let the kernel write into freed buffers. */
			SL_ERROR("io",
			         "io_loop_destroy: %u ops still in the kernel; leaking the ring",
			         remaining);
			loop->ring_ready = false;
			return;
		}
		struct io_uring_cqe *cqe = NULL;
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000000};
		(void)io_uring_submit_and_wait_timeout(&loop->ring, &cqe, 1, &ts, NULL);
	}
	io_uring_queue_exit(&loop->ring);
	loop->ring_ready = false;
}
