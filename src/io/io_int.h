/*
 * io_int.h: private to src/io. The loop struct shared by the front end (loop.c) and the two
 * backends (uring.c, sync.c).
 *
 * Invariants:
 *   - Every started op is on exactly one list until its callback runs: `active` (started, not
 *     completed; doubly linked through next/prev, in start order) or `done` (completed, callback
 *     still to come; FIFO through next).
 *   - op->in_flight is true exactly while the op is on one of those lists.
 *   - pending == number of ops on both lists.
 *   - Callbacks run only from io_loop_run_once(), after the op was taken off `done`.
 */
#ifndef SL_IO_INT_H
#define SL_IO_INT_H

#include "io.h"

#include <liburing.h>
#include <poll.h>

/* op->state values. */
enum io_op_state {
	IO_ST_QUEUED,    /* started; sync: no syscall issued yet */
	IO_ST_WAITING,   /* sync: waiting for socket readiness (connect: in progress) */
	IO_ST_SUBMITTED, /* uring: an sqe carries it */
	IO_ST_COMPLETED, /* on the done list */
};

/* Largest byte count a single read/write/send/recv asks for (Linux's MAX_RW_COUNT). */
#define IO_RW_MAX ((size_t)0x7ffff000)

struct io_loop {
	enum io_backend backend;
	unsigned queue_depth;
	unsigned pending;
	struct io_op *active_head;
	struct io_op *active_tail;
	struct io_op *done_head;
	struct io_op *done_tail;
	/* uring backend */
	struct io_uring ring;
	bool ring_ready;
	/* sync backend: poll set rebuilt on every run, grown (never per op) as needed */
	struct pollfd *pfds;
	struct io_op **pops;
	size_t poll_cap;
};

/* loop.c: list bookkeeping shared by the backends. */
void io_active_push(struct io_loop *loop, struct io_op *op);
void io_active_unlink(struct io_loop *loop, struct io_op *op);
/* Moves op from active to done with a raw result: res >= 0, or -errno. Converts once. */
void io_op_finish(struct io_loop *loop, struct io_op *op, int64_t res);

/* uring.c */
enum sl_err io_ring_init(struct io_loop *loop, char *err, size_t err_len);
void io_ring_fini(struct io_loop *loop);
void io_ring_start(struct io_loop *loop, struct io_op *op);
/* Submits, waits up to timeout_ms (-1 forever, 0 not at all) and moves completions to done. */
void io_ring_reap(struct io_loop *loop, int timeout_ms);

/* sync.c */
enum sl_err io_sync_init(struct io_loop *loop, char *err, size_t err_len);
void io_sync_fini(struct io_loop *loop);
void io_sync_start(struct io_loop *loop, struct io_op *op);
void io_sync_reap(struct io_loop *loop, int timeout_ms);

#endif
