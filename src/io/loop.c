/*
 * loop.c: the io front end shared by both backends: loop creation and backend choice, the
 * io_* calls that fill in an op and hand it to the backend, the active/done bookkeeping, and
 * delivery of callbacks.
 *
 * Invariants (see io_int.h): an op is on `active` from its start until the backend calls
 * io_op_finish(), then on `done` until io_loop_run_once() runs its callback. Callbacks run
 * only from io_loop_run_once(), so a start call never re-enters the caller. Nothing here
 * allocates per op; ops are owned by the caller.
 */
#include "io_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IO_QUEUE_DEPTH_DEFAULT 256u
#define IO_TIMEOUT_MAX_MS (1000LL * 1000 * 1000 * 1000) /* ~31 years */

const char *io_backend_name(enum io_backend b)
{
	switch (b) {
	case IO_BACKEND_AUTO:
		return "auto";
	case IO_BACKEND_URING:
		return "uring";
	case IO_BACKEND_SYNC:
		return "sync";
	}
	return "?";
}

enum sl_err io_backend_parse(const char *s, enum io_backend *out)
{
	SL_ASSERT(out != NULL);
	if (s == NULL)
		return SL_EINVAL;
	static const enum io_backend all[] = {IO_BACKEND_AUTO, IO_BACKEND_URING, IO_BACKEND_SYNC};
	for (size_t i = 0; i < SL_ARRAY_LEN(all); i++) {
		if (strcasecmp(s, io_backend_name(all[i])) == 0) {
			*out = all[i];
			return SL_OK;
		}
	}
	return SL_EINVAL;
}

/* ---- lists --------------------------------------------------------------------------------- */

void io_active_push(struct io_loop *loop, struct io_op *op)
{
	op->next = NULL;
	op->prev = loop->active_tail;
	if (loop->active_tail != NULL)
		loop->active_tail->next = op;
	else
		loop->active_head = op;
	loop->active_tail = op;
}

void io_active_unlink(struct io_loop *loop, struct io_op *op)
{
	if (op->prev != NULL)
		op->prev->next = op->next;
	else
		loop->active_head = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	else
		loop->active_tail = op->prev;
	op->next = NULL;
	op->prev = NULL;
}

void io_op_finish(struct io_loop *loop, struct io_op *op, int64_t res)
{
	SL_ASSERT(op->in_flight);
	SL_ASSERT(op->state != IO_ST_COMPLETED);
	io_active_unlink(loop, op);
	if (res < 0) {
		op->errno_value = (int)-res;
		op->err = sl_err_from_errno(op->errno_value);
		if (op->err == SL_OK)
			op->err = SL_ESYS;
		op->res = 0;
	} else {
		op->errno_value = 0;
		op->err = SL_OK;
		op->res = res;
	}
	op->state = IO_ST_COMPLETED;
	if (loop->done_tail != NULL)
		loop->done_tail->next = op;
	else
		loop->done_head = op;
	loop->done_tail = op;
}

/* ---- loop ---------------------------------------------------------------------------------- */

static enum sl_err loop_init_backend(struct io_loop *loop, enum io_backend want, char *err,
                                     size_t err_len)
{
	if (want == IO_BACKEND_SYNC) {
		loop->backend = IO_BACKEND_SYNC;
		return io_sync_init(loop, err, err_len);
	}
	enum sl_err e = io_ring_init(loop, err, err_len);
	if (e == SL_OK) {
		loop->backend = IO_BACKEND_URING;
		return SL_OK;
	}
	if (want == IO_BACKEND_URING)
		return e;
	SL_WARN("io", "io_uring unavailable (%s); using the sync backend", err);
	loop->backend = IO_BACKEND_SYNC;
	return io_sync_init(loop, err, err_len);
}

enum sl_err io_loop_create(const struct io_loop_opts *opts, struct io_loop **out, char *err,
                           size_t err_len)
{
	SL_ASSERT(out != NULL);
	*out = NULL;
	char scratch[256];
	if (err == NULL || err_len == 0) {
		err = scratch;
		err_len = sizeof(scratch);
	}
	err[0] = '\0';
	struct io_loop *loop = calloc(1, sizeof(*loop));
	if (loop == NULL) {
		snprintf(err, err_len, "out of memory");
		return SL_ENOMEM;
	}
	enum io_backend want = opts != NULL ? opts->backend : IO_BACKEND_AUTO;
	loop->queue_depth =
	        opts != NULL && opts->queue_depth != 0 ? opts->queue_depth : IO_QUEUE_DEPTH_DEFAULT;
	enum sl_err e = loop_init_backend(loop, want, err, err_len);
	if (e != SL_OK) {
		free(loop);
		return e;
	}
	*out = loop;
	return SL_OK;
}

static void forget_list(struct io_op *op)
{
	while (op != NULL) {
		struct io_op *next = op->next;
		op->in_flight = false;
		op->next = NULL;
		op->prev = NULL;
		op = next;
	}
}

void io_loop_destroy(struct io_loop *loop)
{
	if (loop == NULL)
		return;
	if (loop->backend == IO_BACKEND_URING)
		io_ring_fini(loop);
	else
		io_sync_fini(loop);
	forget_list(loop->active_head);
	forget_list(loop->done_head);
	free(loop);
}

enum io_backend io_loop_backend(const struct io_loop *loop)
{
	SL_ASSERT(loop != NULL);
	return loop->backend;
}

unsigned io_loop_pending(const struct io_loop *loop)
{
	SL_ASSERT(loop != NULL);
	return loop->pending;
}

int io_loop_run_once(struct io_loop *loop, int timeout_ms)
{
	SL_ASSERT(loop != NULL);
	if (loop->pending == 0)
		return 0;
	int wait_ms = loop->done_head != NULL ? 0 : timeout_ms;
	if (loop->backend == IO_BACKEND_URING)
		io_ring_reap(loop, wait_ms);
	else
		io_sync_reap(loop, wait_ms);

	/* Detach first: ops started (or finished) by callbacks go to the next round. */
	struct io_op *op = loop->done_head;
	loop->done_head = NULL;
	loop->done_tail = NULL;
	int count = 0;
	while (op != NULL) {
		struct io_op *next = op->next;
		SL_ASSERT(op->in_flight);
		SL_ASSERT(loop->pending > 0);
		op->next = NULL;
		op->in_flight = false;
		loop->pending--;
		count++;
		op->done(op, op->ctx); /* may reuse op */
		op = next;
	}
	return count;
}

/* ---- starting ops -------------------------------------------------------------------------- */

static void op_prepare(struct io_op *op, enum io_op_kind kind, int fd, io_done_fn *done, void *ctx)
{
	SL_ASSERT(op != NULL);
	SL_ASSERT(done != NULL);
	SL_ASSERT(!op->in_flight);
	op->kind = kind;
	op->done = done;
	op->ctx = ctx;
	op->err = SL_OK;
	op->errno_value = 0;
	op->res = 0;
	op->fd = fd;
	op->next = NULL;
	op->prev = NULL;
	op->state = IO_ST_QUEUED;
}

static void op_submit(struct io_loop *loop, struct io_op *op)
{
	SL_ASSERT(loop != NULL);
	op->in_flight = true;
	loop->pending++;
	io_active_push(loop, op);
	if (loop->backend == IO_BACKEND_URING)
		io_ring_start(loop, op);
	else
		io_sync_start(loop, op);
}

void io_accept(struct io_loop *loop, struct io_op *op, int listen_fd, io_done_fn *done, void *ctx)
{
	op_prepare(op, IO_OP_ACCEPT, listen_fd, done, ctx);
	memset(&op->u.sock.addr, 0, sizeof(op->u.sock.addr));
	op->u.sock.addr_len = sizeof(op->u.sock.addr);
	op_submit(loop, op);
}

void io_connect(struct io_loop *loop, struct io_op *op, int fd, const struct sockaddr *addr,
                socklen_t addr_len, io_done_fn *done, void *ctx)
{
	SL_ASSERT(addr != NULL);
	SL_ASSERT(addr_len <= sizeof(op->u.sock.addr));
	op_prepare(op, IO_OP_CONNECT, fd, done, ctx);
	memset(&op->u.sock.addr, 0, sizeof(op->u.sock.addr));
	memcpy(&op->u.sock.addr, addr, addr_len);
	op->u.sock.addr_len = addr_len;
	op_submit(loop, op);
}

void io_recv(struct io_loop *loop, struct io_op *op, int fd, void *buf, size_t len,
             io_done_fn *done, void *ctx)
{
	SL_ASSERT(buf != NULL || len == 0);
	op_prepare(op, IO_OP_RECV, fd, done, ctx);
	op->u.rw.buf = buf;
	op->u.rw.len = SL_MIN(len, IO_RW_MAX);
	op->u.rw.offset = IO_OFFSET_NONE;
	op_submit(loop, op);
}

void io_send(struct io_loop *loop, struct io_op *op, int fd, const void *buf, size_t len,
             io_done_fn *done, void *ctx)
{
	SL_ASSERT(buf != NULL || len == 0);
	op_prepare(op, IO_OP_SEND, fd, done, ctx);
	op->u.rw.buf = (void *)buf; /* never written through */
	op->u.rw.len = SL_MIN(len, IO_RW_MAX);
	op->u.rw.offset = IO_OFFSET_NONE;
	op_submit(loop, op);
}

void io_writev(struct io_loop *loop, struct io_op *op, int fd, const struct iovec *iov,
               int iov_count, uint64_t offset, io_done_fn *done, void *ctx)
{
	SL_ASSERT(iov_count >= 0);
	SL_ASSERT(iov != NULL || iov_count == 0);
	op_prepare(op, IO_OP_WRITEV, fd, done, ctx);
	op->u.vec.iov = iov;
	op->u.vec.iov_count = iov_count;
	op->u.vec.offset = offset;
	memset(&op->u.vec.msg, 0, sizeof(op->u.vec.msg));
	op->u.vec.msg.msg_iov = (struct iovec *)iov; /* sendmsg only reads it */
	op->u.vec.msg.msg_iovlen = (size_t)iov_count;
	op_submit(loop, op);
}

void io_read(struct io_loop *loop, struct io_op *op, int fd, void *buf, size_t len, uint64_t offset,
             io_done_fn *done, void *ctx)
{
	SL_ASSERT(buf != NULL || len == 0);
	op_prepare(op, IO_OP_READ, fd, done, ctx);
	op->u.rw.buf = buf;
	op->u.rw.len = SL_MIN(len, IO_RW_MAX);
	op->u.rw.offset = offset;
	op_submit(loop, op);
}

void io_write(struct io_loop *loop, struct io_op *op, int fd, const void *buf, size_t len,
              uint64_t offset, io_done_fn *done, void *ctx)
{
	SL_ASSERT(buf != NULL || len == 0);
	op_prepare(op, IO_OP_WRITE, fd, done, ctx);
	op->u.rw.buf = (void *)buf; /* never written through */
	op->u.rw.len = SL_MIN(len, IO_RW_MAX);
	op->u.rw.offset = offset;
	op_submit(loop, op);
}

void io_fsync(struct io_loop *loop, struct io_op *op, int fd, bool datasync, io_done_fn *done,
              void *ctx)
{
	op_prepare(op, IO_OP_FSYNC, fd, done, ctx);
	op->u.datasync = datasync;
	op_submit(loop, op);
}

void io_openat(struct io_loop *loop, struct io_op *op, int dir_fd, const char *path, int flags,
               unsigned mode, io_done_fn *done, void *ctx)
{
	SL_ASSERT(path != NULL);
	op_prepare(op, IO_OP_OPENAT, dir_fd, done, ctx);
	op->u.open.path = path;
	op->u.open.flags = flags;
	op->u.open.mode = mode;
	op_submit(loop, op);
}

void io_close(struct io_loop *loop, struct io_op *op, int fd, io_done_fn *done, void *ctx)
{
	op_prepare(op, IO_OP_CLOSE, fd, done, ctx);
	op_submit(loop, op);
}

void io_timeout(struct io_loop *loop, struct io_op *op, int64_t timeout_ms, io_done_fn *done,
                void *ctx)
{
	op_prepare(op, IO_OP_TIMEOUT, -1, done, ctx);
	if (timeout_ms < 0)
		timeout_ms = 0;
	timeout_ms = SL_MIN(timeout_ms, IO_TIMEOUT_MAX_MS); /* keeps deadline_ns from overflowing */
	op->u.timeout.duration_ms = timeout_ms;
	op->u.timeout.deadline_ns = 0;
	op->u.timeout.ts.tv_sec = timeout_ms / 1000;
	op->u.timeout.ts.tv_nsec = (timeout_ms % 1000) * 1000000;
	op_submit(loop, op);
}

void io_cancel(struct io_loop *loop, struct io_op *op, struct io_op *target, io_done_fn *done,
               void *ctx)
{
	SL_ASSERT(target != NULL);
	SL_ASSERT(target != op);
	op_prepare(op, IO_OP_CANCEL, -1, done, ctx);
	op->u.cancel.target = target;
	op_submit(loop, op);
}

void io_splice(struct io_loop *loop, struct io_op *op, int fd_in, uint64_t off_in, int fd_out,
               uint64_t off_out, size_t len, io_done_fn *done, void *ctx)
{
	op_prepare(op, IO_OP_SPLICE, fd_out, done, ctx);
	op->u.splice.fd_in = fd_in;
	op->u.splice.off_in = off_in;
	op->u.splice.off_out = off_out;
	/* IORING_OP_SPLICE takes an unsigned; MAX_RW_COUNT bounds splice(2) anyway. */
	op->u.splice.len = SL_MIN(len, IO_RW_MAX);
	op_submit(loop, op);
}

void io_sendfile(struct io_loop *loop, struct io_op *op, int sock_fd, int file_fd, uint64_t offset,
                 size_t len, io_done_fn *done, void *ctx)
{
	SL_ASSERT(offset != IO_OFFSET_NONE);
	op_prepare(op, IO_OP_SENDFILE, sock_fd, done, ctx);
	op->u.splice.fd_in = file_fd;
	op->u.splice.off_in = offset;
	op->u.splice.off_out = IO_OFFSET_NONE;
	op->u.splice.len = SL_MIN(len, IO_RW_MAX);
	op_submit(loop, op);
}
