/*
 * send.c: the write side of a connection: responses made of memory and file ranges, sent in
 * request order.
 *
 * A DONE slot's response is a list of segments: memory [0, files[0].mem_at), file range 0,
 * memory [files[0].mem_at, files[1].mem_at), file range 1, ..., memory [.., resp.len). Even
 * segment indexes are memory, odd ones file ranges; memory segments may be empty. The cursor
 * (head slot, send_seg, send_offset) is the next byte to put on the socket.
 *
 * One op at a time (send_op), chosen by what is at the cursor:
 *   - memory: one writev of every memory segment from the cursor up to the next file range,
 *     across consecutive DONE slots (bounded by iov_cap);
 *   - a file range, by the server's mode (enum net_zero_copy):
 *       SPLICE:   file -> pipe (FILE_IN, up to the pipe's capacity), then pipe -> socket
 *                 (FILE_OUT) until the pipe is empty;
 *       COPY:     pread into copy_buf (FILE_IN), then send from it (FILE_OUT);
 *       SENDFILE: sendfile straight to the socket (SENDFILE).
 *
 * Invariants: stage_have > 0 only at a file segment, and the staged bytes are exactly the
 * next stage_have bytes of that range (they must go out before anything else). A slot is
 * released only when the cursor has passed its last segment. A file range that ends early
 * (read or splice returns 0) closes the connection: the size prefix has already been sent.
 */
#include "net_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Chosen by measuring CPU per MB on the reference machine (docs/performance.md). */
#define NET_ZC_DEFAULT_URING NET_ZC_COPY
#define NET_ZC_DEFAULT_SYNC NET_ZC_SPLICE

const char *net_zero_copy_name(enum net_zero_copy m)
{
	switch (m) {
	case NET_ZC_DEFAULT:
		return "auto";
	case NET_ZC_SPLICE:
		return "splice";
	case NET_ZC_SENDFILE:
		return "sendfile";
	case NET_ZC_COPY:
		return "copy";
	}
	return "?";
}

enum sl_err net_zero_copy_parse(const char *s, enum net_zero_copy *out)
{
	SL_ASSERT(out != NULL);
	if (s == NULL)
		return SL_EINVAL;
	static const enum net_zero_copy all[] = {NET_ZC_DEFAULT, NET_ZC_SPLICE, NET_ZC_SENDFILE,
	                                         NET_ZC_COPY};
	for (size_t i = 0; i < SL_ARRAY_LEN(all); i++) {
		if (strcasecmp(s, net_zero_copy_name(all[i])) == 0) {
			*out = all[i];
			return SL_OK;
		}
	}
	return SL_EINVAL;
}

enum net_zero_copy net_zero_copy_resolve(enum net_zero_copy want, enum io_backend backend)
{
	SL_ASSERT(backend != IO_BACKEND_AUTO);
	if (want == NET_ZC_DEFAULT)
		want = backend == IO_BACKEND_URING ? NET_ZC_DEFAULT_URING : NET_ZC_DEFAULT_SYNC;
	if (want == NET_ZC_SENDFILE && backend == IO_BACKEND_URING)
		want = NET_ZC_SPLICE; /* io_uring has no sendfile opcode */
	return want;
}

enum net_zero_copy net_server_zero_copy(const struct net_server *s)
{
	return s->zero_copy;
}

/* ---- segments ------------------------------------------------------------------------- */

static struct net_slot *slot_nth(struct net_conn *c, unsigned i)
{
	return &c->slots[(c->head + i) % c->slot_count];
}

static unsigned seg_count(const struct net_slot *slot)
{
	return 2 * slot->file_count + 1;
}

static size_t seg_mem_start(const struct net_slot *slot, unsigned j)
{
	return j == 0 ? 0 : slot->files[j / 2 - 1].mem_at;
}

static size_t seg_len(const struct net_slot *slot, unsigned j)
{
	SL_ASSERT(j < seg_count(slot));
	if (j % 2 == 1)
		return slot->files[j / 2].len;
	size_t end = j / 2 < slot->file_count ? slot->files[j / 2].mem_at : slot->resp.len;
	return end - seg_mem_start(slot, j);
}

/* Moves the cursor past finished segments and releases the slots sent in full. */
static void cursor_settle(struct net_conn *c)
{
	while (c->used > 0) {
		struct net_slot *slot = slot_nth(c, 0);
		if (slot->state != NET_SLOT_DONE)
			return;
		if (c->send_seg < seg_count(slot)) {
			if (c->send_offset < seg_len(slot, c->send_seg))
				return;
			c->send_seg++;
			c->send_offset = 0;
			continue;
		}
		net_slot_release(slot);
		c->head = (c->head + 1) % c->slot_count;
		c->used--;
		c->send_seg = 0;
		c->send_offset = 0;
	}
	c->send_seg = 0;
	c->send_offset = 0;
}

/* Consumes n bytes that reached the socket. */
static void cursor_advance(struct net_conn *c, size_t n)
{
	cursor_settle(c);
	while (n > 0) {
		SL_ASSERT(c->used > 0);
		struct net_slot *slot = slot_nth(c, 0);
		SL_ASSERT(slot->state == NET_SLOT_DONE);
		size_t take = SL_MIN(n, seg_len(slot, c->send_seg) - c->send_offset);
		SL_ASSERT(take > 0);
		c->send_offset += take;
		n -= take;
		cursor_settle(c);
	}
}

/* Fills iov with the memory segments from the cursor up to the next file range. */
static int gather_mem(struct net_conn *c)
{
	unsigned count = 0;
	for (unsigned i = 0; i < c->used; i++) {
		struct net_slot *slot = slot_nth(c, i);
		if (slot->state != NET_SLOT_DONE)
			break;
		size_t skip = i == 0 ? c->send_offset : 0;
		for (unsigned j = i == 0 ? c->send_seg : 0; j < seg_count(slot); j++, skip = 0) {
			if (j % 2 == 1)
				return (int)count; /* ranges are never empty */
			size_t len = seg_len(slot, j) - skip;
			if (len == 0)
				continue;
			if (count == c->iov_cap)
				return (int)count;
			c->iov[count].iov_base = slot->resp.data + seg_mem_start(slot, j) + skip;
			c->iov[count].iov_len = len;
			count++;
		}
	}
	return (int)count;
}

/* ---- file ranges ---------------------------------------------------------------------- */

static bool ensure_pipe(struct net_conn *c)
{
	if (c->pipe_fds[0] >= 0)
		return true;
	if (pipe2(c->pipe_fds, O_CLOEXEC) < 0) {
		SL_WARN(c->log_ctx, "closing connection: pipe2: %s", strerror(errno));
		c->pipe_fds[0] = c->pipe_fds[1] = -1;
		net_conn_close(c, NULL);
		return false;
	}
	/* Larger pipes halve the round trips; past pipe-user-pages-soft the kernel refuses and
	 * the default capacity is used. */
	(void)fcntl(c->pipe_fds[1], F_SETPIPE_SZ, (int)NET_PIPE_BYTES);
	int cap = fcntl(c->pipe_fds[1], F_GETPIPE_SZ);
	c->pipe_bytes = cap > 0 ? (size_t)cap : 4096;
	return true;
}

static bool ensure_copy_buf(struct net_conn *c)
{
	if (c->copy_buf != NULL)
		return true;
	c->copy_buf = malloc(NET_COPY_BYTES);
	if (c->copy_buf != NULL)
		return true;
	SL_WARN(c->log_ctx, "closing connection: no memory for the copy buffer");
	net_conn_close(c, NULL);
	return false;
}

static void send_done(struct io_op *op, void *ctx);

/* Starts moving the file range at the cursor (nothing staged). */
static void start_file(struct net_conn *c)
{
	struct net_slot *slot = slot_nth(c, 0);
	const struct net_file_ref *f = &slot->files[c->send_seg / 2];
	SL_ASSERT(c->send_offset < f->len);
	uint64_t pos = f->offset + c->send_offset;
	size_t left = f->len - c->send_offset;
	struct io_loop *loop = c->srv->loop;
	switch (c->srv->zero_copy) {
	case NET_ZC_SENDFILE:
		c->send_stage = NET_SEND_SENDFILE;
		c->send_in_flight = true;
		io_sendfile(loop, &c->send_op, c->fd, f->fd, pos, left, send_done, c);
		return;
	case NET_ZC_SPLICE:
		if (!ensure_pipe(c))
			return;
		c->send_stage = NET_SEND_FILE_IN;
		c->send_in_flight = true;
		io_splice(loop, &c->send_op, f->fd, pos, c->pipe_fds[1], IO_OFFSET_NONE,
		          SL_MIN(left, c->pipe_bytes), send_done, c);
		return;
	case NET_ZC_COPY:
		if (!ensure_copy_buf(c))
			return;
		c->send_stage = NET_SEND_FILE_IN;
		c->send_in_flight = true;
		io_read(loop, &c->send_op, f->fd, c->copy_buf, SL_MIN(left, (size_t)NET_COPY_BYTES),
		        pos, send_done, c);
		return;
	case NET_ZC_DEFAULT:
		break;
	}
	SL_UNREACHABLE();
}

/* Sends bytes already staged in the pipe or the copy buffer. */
static void send_staged(struct net_conn *c)
{
	SL_ASSERT(c->stage_have > 0);
	c->send_stage = NET_SEND_FILE_OUT;
	c->send_in_flight = true;
	if (c->srv->zero_copy == NET_ZC_SPLICE) {
		io_splice(c->srv->loop, &c->send_op, c->pipe_fds[0], IO_OFFSET_NONE, c->fd,
		          IO_OFFSET_NONE, c->stage_have, send_done, c);
	} else {
		SL_ASSERT(c->srv->zero_copy == NET_ZC_COPY);
		io_send(c->srv->loop, &c->send_op, c->fd, c->copy_buf + c->stage_sent,
		        c->stage_have, send_done, c);
	}
}

/* ---- the send loop -------------------------------------------------------------------- */

/* Applies a successful completion. False if the connection was closed. */
static bool send_apply(struct net_conn *c, enum net_send_stage stage, size_t n)
{
	if (n == 0) {
		if (stage == NET_SEND_FILE_IN || stage == NET_SEND_SENDFILE)
			SL_WARN(c->log_ctx,
			        "closing connection: a response's file range ends early");
		else
			SL_WARN(c->log_ctx, "closing connection: send made no progress");
		net_conn_close(c, NULL);
		return false;
	}
	if (stage == NET_SEND_FILE_IN) {
		SL_ASSERT(c->stage_have == 0);
		c->stage_have = n;
		c->stage_sent = 0;
		return true;
	}
	if (stage == NET_SEND_FILE_OUT) {
		SL_ASSERT(n <= c->stage_have);
		c->stage_have -= n;
		c->stage_sent += n;
	}
	c->last_active_ms = sl_mono_ms();
	cursor_advance(c, n);
	return true;
}

static void send_done(struct io_op *op, void *ctx)
{
	struct net_conn *c = ctx;
	enum net_send_stage stage = c->send_stage;
	c->send_in_flight = false;
	c->send_stage = NET_SEND_IDLE;
	if (c->state == NET_CONN_CLOSED) {
		net_conn_maybe_free(c);
		return;
	}
	if (op->err != SL_OK) {
		SL_INFO(c->log_ctx, "closing connection: %s failed: %s",
		        stage == NET_SEND_FILE_IN ? "reading a response's file range" : "send",
		        strerror(op->errno_value));
		net_conn_close(c, NULL);
		return;
	}
	if (!send_apply(c, stage, (size_t)op->res))
		return;
	c->holds++;
	net_conn_try_send(c);
	net_conn_try_read(c);
	c->holds--;
	net_conn_maybe_free(c);
}

void net_conn_try_send(struct net_conn *c)
{
	if (c->state == NET_CONN_CLOSED || c->send_in_flight)
		return;
	if (c->stage_have > 0) {
		send_staged(c);
		return;
	}
	cursor_settle(c);
	if (c->used > 0) {
		struct net_slot *slot = slot_nth(c, 0);
		if (slot->state == NET_SLOT_CLOSE) {
			SL_ASSERT(c->send_seg == 0 && c->send_offset == 0);
			net_conn_close(c, slot->close_reason);
			return;
		}
		if (slot->state == NET_SLOT_DONE) {
			if (c->send_seg % 2 == 1) {
				start_file(c);
				return;
			}
			int count = gather_mem(c);
			SL_ASSERT(count > 0);
			c->send_stage = NET_SEND_MEM;
			c->send_in_flight = true;
			io_writev(c->srv->loop, &c->send_op, c->fd, c->iov, count, IO_OFFSET_NONE,
			          send_done, c);
			return;
		}
	}
	if (c->state == NET_CONN_DRAINING && (c->used == 0 || (c->reading != NULL && c->used == 1)))
		net_conn_close(c, NULL);
}

void net_conn_send_fini(struct net_conn *c)
{
	SL_ASSERT(!c->send_in_flight);
	for (int i = 0; i < 2; i++) {
		if (c->pipe_fds[i] >= 0)
			close(c->pipe_fds[i]);
		c->pipe_fds[i] = -1;
	}
	free(c->copy_buf);
	c->copy_buf = NULL;
	c->stage_have = 0;
}

/* ---- building responses --------------------------------------------------------------- */

enum sl_err net_resp_add_file(struct net_request *req, int fd, uint64_t offset, size_t len)
{
	struct net_slot *slot = (struct net_slot *)req;
	SL_ASSERT(slot->state == NET_SLOT_DISPATCHED);
	SL_ASSERT(fd >= 0);
	SL_ASSERT(slot->resp.len >= 4);
	if (len == 0)
		return SL_OK;
	size_t max = slot->conn->srv->opts.response_max_bytes;
	if (len > max || offset > UINT64_MAX - len)
		return SL_ETOOBIG;
	uint64_t total = (uint64_t)(slot->resp.len - 4) + slot->file_bytes + len;
	if (total > max || total > INT32_MAX)
		return SL_ETOOBIG;
	struct net_file_ref *last =
	        slot->file_count > 0 ? &slot->files[slot->file_count - 1] : NULL;
	if (last != NULL && last->fd == fd && last->mem_at == slot->resp.len &&
	    last->offset + last->len == offset) {
		last->len += len; /* adjacent batches of one segment: one range */
		slot->file_bytes += len;
		return SL_OK;
	}
	if (slot->file_count == slot->file_cap) {
		unsigned cap = slot->file_cap == 0 ? NET_FILE_REFS_MIN : slot->file_cap * 2;
		struct net_file_ref *files = sl_arena_alloc(&slot->arena, cap * sizeof(*files));
		if (files == NULL)
			return SL_ENOMEM;
		if (slot->file_count > 0)
			memcpy(files, slot->files, slot->file_count * sizeof(*files));
		slot->files = files; /* the old array stays in the arena until the reset */
		slot->file_cap = cap;
	}
	slot->files[slot->file_count++] = (struct net_file_ref){
	        .mem_at = slot->resp.len, .fd = fd, .offset = offset, .len = len};
	slot->file_bytes += len;
	return SL_OK;
}

void net_send_check_invariants(const struct net_conn *c)
{
	SL_ASSERT(c->send_in_flight || c->send_stage == NET_SEND_IDLE);
	SL_ASSERT(c->stage_sent + c->stage_have <= NET_COPY_BYTES ||
	          c->srv->zero_copy != NET_ZC_COPY);
	for (unsigned i = 0; i < c->used; i++) {
		const struct net_slot *slot = &c->slots[(c->head + i) % c->slot_count];
		SL_ASSERT(slot->file_count <= slot->file_cap);
		uint64_t sum = 0;
		size_t at = 4;
		for (unsigned k = 0; k < slot->file_count; k++) {
			SL_ASSERT(slot->files[k].mem_at >= at);
			SL_ASSERT(slot->files[k].len > 0);
			at = slot->files[k].mem_at;
			sum += slot->files[k].len;
		}
		SL_ASSERT(sum == slot->file_bytes);
		SL_ASSERT(slot->file_count == 0 || at <= slot->resp.len);
	}
	if (c->stage_have > 0) {
		SL_ASSERT(c->used > 0);
		const struct net_slot *slot = &c->slots[c->head];
		SL_ASSERT(slot->state == NET_SLOT_DONE);
		SL_ASSERT(c->send_seg % 2 == 1);
		SL_ASSERT(c->send_seg < 2 * slot->file_count + 1);
		SL_ASSERT(c->stage_have <= slot->files[c->send_seg / 2].len - c->send_offset);
		SL_ASSERT(c->srv->zero_copy != NET_ZC_SENDFILE);
	}
}
