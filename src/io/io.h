/*
 * io.h: completion-based asynchronous I/O (L2; uses base and liburing).
 *
 * The caller owns a `struct io_op` per operation in flight (usually embedded in a connection
 * or a request), starts it with one of the io_* calls, and later gets exactly one call of its
 * `done` callback from inside io_loop_run(). Completions are never delivered from inside the
 * call that started the operation, on either backend, so callers need not handle re-entrancy.
 *
 * Backends:
 *   - uring: io_uring (liburing). Opcodes are probed at start-up; a missing one is an error
 *     that names it.
 *   - sync:  plain syscalls. File operations run when the loop runs; socket operations wait for
 *     readiness with poll(2) and then run the non-blocking syscall. Same semantics as uring.
 *   - auto:  uring if it initialises and has every opcode, else sync (logged once).
 *
 * Ownership: buffers and iovecs passed in are borrowed until the op's callback fires; the op
 * itself must stay alive (and unmodified) until then. An op must be zeroed before its first
 * use (`struct io_op op = {0}` or calloc); it may be restarted from inside its own callback.
 * No allocation happens per op. Single-threaded: one loop per thread.
 */
#ifndef SL_IO_H
#define SL_IO_H

#include "base.h"

#include <linux/time_types.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

enum io_backend { IO_BACKEND_AUTO, IO_BACKEND_URING, IO_BACKEND_SYNC };

/* "auto", "uring", "sync". */
const char *io_backend_name(enum io_backend b);
enum sl_err io_backend_parse(const char *s, enum io_backend *out) SL_MUST_USE;

struct io_loop;
struct io_op;

/* Called once per op. op->err is SL_OK or the converted error; op->res is the syscall's
 * non-negative result (bytes, new fd, ...). */
typedef void io_done_fn(struct io_op *op, void *ctx);

enum io_op_kind {
	IO_OP_NONE,
	IO_OP_ACCEPT,
	IO_OP_CONNECT,
	IO_OP_RECV,
	IO_OP_SEND,
	IO_OP_WRITEV,
	IO_OP_READ,
	IO_OP_WRITE,
	IO_OP_FSYNC,
	IO_OP_OPENAT,
	IO_OP_CLOSE,
	IO_OP_TIMEOUT,
	IO_OP_CANCEL,
	IO_OP_SPLICE,
	IO_OP_SENDFILE,
};

struct io_op {
	/* Set by io_* before submission; read-only for the caller. */
	enum io_op_kind kind;
	io_done_fn *done;
	void *ctx;
	/* Results, valid inside done(). */
	enum sl_err err;
	int errno_value; /* the raw errno when err != SL_OK, for logging */
	int64_t res;
	/* Private to the backends (except u.sock after an accept: the peer address). */
	int fd;
	union {
		struct {
			void *buf;
			size_t len;
			uint64_t offset;
		} rw;
		struct {
			const struct iovec *iov;
			int iov_count;
			uint64_t offset;
			struct msghdr msg; /* sendmsg form (offset == IO_OFFSET_NONE) */
		} vec;
		struct {
			struct sockaddr_storage addr;
			socklen_t addr_len;
		} sock;
		struct {
			const char *path;
			int flags;
			unsigned mode;
		} open;
		struct {
			int64_t deadline_ns; /* sync: CLOCK_MONOTONIC */
			int64_t duration_ms;
			struct __kernel_timespec ts; /* uring: read by the kernel */
		} timeout;
		struct {
			struct io_op *target;
		} cancel;
		struct {
			int fd_in; /* op->fd is the output fd */
			uint64_t off_in;
			uint64_t off_out;
			size_t len;
		} splice; /* also sendfile (off_out unused) */
		bool datasync;
	} u;
	struct io_op *next; /* backend queues */
	struct io_op *prev;
	uint8_t state;  /* backend-private progress (io_int.h) */
	bool in_flight; /* started and its callback has not run yet */
};

struct io_loop_opts {
	enum io_backend backend;
	unsigned queue_depth; /* io_uring SQ entries; 0 = 256 */
};

/* Creates a loop. On failure err names the reason ("io_uring_queue_init: Operation not
 * permitted", "io_uring lacks opcode IORING_OP_SEND", ...). *out is owned by the caller. */
enum sl_err io_loop_create(const struct io_loop_opts *opts, struct io_loop **out, char *err,
                           size_t err_len) SL_MUST_USE;
/* Cancels every op still in flight, waits (bounded) until the kernel has let go of their
 * buffers, and frees the loop. No callback runs after (or during) this call. Not to be called
 * from inside a callback. NULL is a no-op. */
void io_loop_destroy(struct io_loop *loop);
/* The backend actually in use (never AUTO). */
enum io_backend io_loop_backend(const struct io_loop *loop);

/* Submits what is queued, waits up to timeout_ms (-1 = until at least one completion) and
 * runs the callbacks of every completion that arrived. Returns the number of callbacks run.
 * With nothing pending it returns 0 at once rather than block forever. Callbacks may start
 * new ops (they are submitted by the next call) but must not call run_once or destroy. Ops in
 * flight together are not ordered with respect to each other. */
int io_loop_run_once(struct io_loop *loop, int timeout_ms);
/* Number of ops started but not yet completed. */
unsigned io_loop_pending(const struct io_loop *loop);

/* Sockets (fd must be a socket; the sync backend puts it in non-blocking mode).
 * io_accept: res = the new connection's fd (close-on-exec; non-blocking on the sync backend);
 * the peer address is in op->u.sock.addr / addr_len inside done(). */
void io_accept(struct io_loop *loop, struct io_op *op, int listen_fd, io_done_fn *done, void *ctx);
void io_connect(struct io_loop *loop, struct io_op *op, int fd, const struct sockaddr *addr,
                socklen_t addr_len, io_done_fn *done, void *ctx);
/* res = bytes received; 0 means the peer closed. */
void io_recv(struct io_loop *loop, struct io_op *op, int fd, void *buf, size_t len,
             io_done_fn *done, void *ctx);
/* res = bytes sent (may be short). MSG_NOSIGNAL is always set. */
void io_send(struct io_loop *loop, struct io_op *op, int fd, const void *buf, size_t len,
             io_done_fn *done, void *ctx);
/* Files: pwritev at offset, or, with offset == IO_OFFSET_NONE, sendmsg(MSG_NOSIGNAL) on a
 * socket (IO_OFFSET_NONE means "fd is a socket"; on other fds it fails with ENOTSOCK).
 * iov[] itself is borrowed until completion. res = bytes written (may be short). */
#define IO_OFFSET_NONE UINT64_MAX
void io_writev(struct io_loop *loop, struct io_op *op, int fd, const struct iovec *iov,
               int iov_count, uint64_t offset, io_done_fn *done, void *ctx);

/* Files. offset == IO_OFFSET_NONE uses (and advances) the file position. res = bytes
 * (short at end of file for reads; 0 = at end of file). Lengths above 0x7ffff000 are clamped. */
void io_read(struct io_loop *loop, struct io_op *op, int fd, void *buf, size_t len, uint64_t offset,
             io_done_fn *done, void *ctx);
void io_write(struct io_loop *loop, struct io_op *op, int fd, const void *buf, size_t len,
              uint64_t offset, io_done_fn *done, void *ctx);
void io_fsync(struct io_loop *loop, struct io_op *op, int fd, bool datasync, io_done_fn *done,
              void *ctx);
/* res = the new fd. path is borrowed until completion. */
void io_openat(struct io_loop *loop, struct io_op *op, int dir_fd, const char *path, int flags,
               unsigned mode, io_done_fn *done, void *ctx);
void io_close(struct io_loop *loop, struct io_op *op, int fd, io_done_fn *done, void *ctx);

/* Zero-copy transfers (Linux splice(2) / sendfile(2)); the data never enters user space.
 *
 * io_splice moves up to len bytes from fd_in to fd_out; at least one of them must be a pipe
 * (else SL_EINVAL). off_in / off_out are file offsets, or IO_OFFSET_NONE for a pipe or socket
 * (a regular file's position is then used and advanced). res = bytes moved (may be short);
 * 0 = end of input. Backends: uring uses IORING_OP_SPLICE (the kernel runs it in a worker, so
 * a full socket or pipe blocks only that worker); sync makes one non-blocking attempt
 * (SPLICE_F_NONBLOCK; a non-blocking fd_out) and, while it would block, polls fd_out for
 * POLLOUT. So on the sync backend fd_in must hold the data already: a regular file, or a pipe
 * that holds at least len bytes (an empty input pipe would be waited on as if fd_out were
 * full). A file -> pipe -> socket send is two io_splice calls through a pipe the caller owns.
 *
 * io_sendfile sends up to len bytes of file_fd from offset to sock_fd (sendfile(2); the file
 * position is not used or changed). res = bytes sent (may be short); 0 = offset at or past the
 * end of the file. Sync backend only: io_uring has no sendfile opcode, so on the uring backend
 * it completes with SL_EUNSUPPORTED (callers use io_splice there).
 * Neither call can pass MSG_NOSIGNAL: writing into a socket whose peer has gone raises
 * SIGPIPE, so a process using them on sockets ignores SIGPIPE (the node does). */
void io_splice(struct io_loop *loop, struct io_op *op, int fd_in, uint64_t off_in, int fd_out,
               uint64_t off_out, size_t len, io_done_fn *done, void *ctx);
void io_sendfile(struct io_loop *loop, struct io_op *op, int sock_fd, int file_fd, uint64_t offset,
                 size_t len, io_done_fn *done, void *ctx);

/* Completes with SL_OK after timeout_ms (at least; negative = 0), or SL_ECANCELED if canceled. */
void io_timeout(struct io_loop *loop, struct io_op *op, int64_t timeout_ms, io_done_fn *done,
                void *ctx);
/* The cancel op itself completes with SL_OK if target was found and canceled, SL_ENOENT if
 * target was not in flight (already completed, perhaps with its callback still to come).
 * Asks for target to complete early with SL_ECANCELED (if it has not completed yet). Both
 * `op` and `target` complete; their order is unspecified. Works for every op kind on the sync
 * backend; on uring for whatever the kernel can cancel (sockets, timeouts). */
void io_cancel(struct io_loop *loop, struct io_op *op, struct io_op *target, io_done_fn *done,
               void *ctx);

#endif
