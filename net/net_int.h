/*
 * net_int.h: private structures of the network server (the .c files of net/ only).
 *
 * Connection states:
 *
 *   OPEN ──(server stop)──> DRAINING ──(all answered responses sent / deadline)──┐
 *     │                                                                          v
 *     └──(EOF, error, bad frame, idle, close request, over limit)──────────> CLOSED
 *
 *   CLOSED: the socket is shut down; the connection is freed once no io op is in flight,
 *   no handler holds one of its requests and no caller frame is using it (holds == 0).
 *
 * Reading stops (the recv in flight is cancelled, bytes that still arrive are dropped) once a
 * slot is CLOSE: no request after one that closes the connection may reach a handler. Frames are
 * admitted while the used slots' frames add up to at most request_max_bytes (one frame is always
 * admitted), so a client that never reads its answers pins at most that much frame memory.
 *
 * Request slots form a ring in request order: slots[head .. head+used) are in use. A slot is
 * READING (its frame is being received straight into its arena), DISPATCHED (a handler owns
 * it), DONE (response ready) or CLOSE (the handler asked to close after earlier responses).
 * Only the head slots are ever sent, which is what keeps responses in request order.
 */
#ifndef SL_NET_INT_H
#define SL_NET_INT_H

#include "net.h"

#include <sys/uio.h>

#define NET_RBUF_BYTES (64 * 1024) /* per-connection read buffer for small frames */
#define NET_LISTENERS_MAX 16
#define NET_ARENA_CHUNK_BYTES 8192
#define NET_ARENA_EXTRA_BYTES (32u << 20) /* handling budget beyond the frame itself */
#define NET_RESP_KEEP_BYTES (1u << 20)    /* larger response buffers are freed after use */
#define NET_ACCEPT_RETRY_MS 100
#define NET_LISTEN_BACKLOG 512
#define NET_IOV_EXTRA 64            /* iovecs per writev beyond one per slot */
#define NET_COPY_BYTES (256u << 10) /* COPY mode: per-connection staging buffer */
#define NET_PIPE_BYTES (1u << 20)   /* SPLICE mode: pipe capacity asked for */
#define NET_FILE_REFS_MIN 8         /* first allocation of a slot's file-range array */

enum net_slot_state {
	NET_SLOT_FREE,
	NET_SLOT_READING,
	NET_SLOT_DISPATCHED,
	NET_SLOT_DONE,
	NET_SLOT_CLOSE,
};

struct net_conn;

/* A file range of a response, inserted after resp byte mem_at (which counts the 4-byte size
 * prefix). A slot's ranges are in append order, so mem_at never decreases. */
struct net_file_ref {
	size_t mem_at;
	int fd;
	uint64_t offset;
	size_t len;
};

/* Where the send path is (net_conn.send_stage). */
enum net_send_stage {
	NET_SEND_IDLE,
	NET_SEND_MEM,      /* writev of response memory */
	NET_SEND_FILE_IN,  /* COPY: pread into copy_buf; SPLICE: file -> pipe */
	NET_SEND_FILE_OUT, /* COPY: send from copy_buf; SPLICE: pipe -> socket */
	NET_SEND_SENDFILE, /* SENDFILE: file -> socket */
};

struct net_slot {
	struct net_request req; /* handed to the dispatch callback */
	struct net_conn *conn;
	enum net_slot_state state;
	struct sl_arena arena;
	struct sl_buf resp;  /* 4-byte size prefix, then what the handler appended */
	uint8_t *frame_mem;  /* READING: destination of the frame body, in arena */
	size_t frame_filled; /* READING: bytes of the body received so far */
	size_t frame_size;
	const char *close_reason;   /* CLOSE */
	struct net_file_ref *files; /* in arena; file_count used of file_cap */
	unsigned file_count;
	unsigned file_cap;
	uint64_t file_bytes; /* sum of files[].len */
};

enum net_conn_state { NET_CONN_OPEN, NET_CONN_DRAINING, NET_CONN_CLOSED };

struct net_listener {
	struct net_server *srv;
	int fd;
	char name[64];
	char addr[NET_PEER_MAX];
	bool is_controller;
	bool closed;
	bool accept_in_flight;
	bool retry_in_flight;
	bool cancel_in_flight;
	struct io_op accept_op;
	struct io_op retry_op;
	struct io_op cancel_op;
};

struct net_conn {
	struct net_server *srv;
	struct net_conn *prev;
	struct net_conn *next;
	uint64_t id;
	int fd;
	enum net_conn_state state;
	const char *listener_name;
	bool is_controller;
	char peer[NET_PEER_MAX];
	char log_ctx[NET_LOG_CTX_MAX];
	int64_t last_active_ms;
	unsigned holds; /* caller frames using the connection; it is not freed while > 0 */

	/* Read side: rbuf[rstart, rend) holds received bytes not yet framed. */
	uint8_t *rbuf;
	size_t rstart;
	size_t rend;
	struct net_slot *reading; /* slot receiving a frame body directly, or NULL */
	size_t frame_bytes;       /* sum of frame_size over the used slots (the byte budget) */
	bool close_pending;       /* a slot is CLOSE: read and dispatch nothing more */
	bool recv_in_flight;
	struct io_op recv_op;

	/* Request slots (ring). */
	struct net_slot *slots;
	unsigned slot_count;
	unsigned head;
	unsigned used;
	unsigned handlers_outstanding; /* slots in DISPATCHED */

	/* Write side (send.c). The cursor is (head slot, segment send_seg, send_offset bytes
	 * into it); a slot's segments alternate memory and file ranges (net_file_ref). Bytes
	 * staged (in the pipe or copy_buf) but not yet on the socket are stage_have; they are
	 * the next bytes of the current file segment. */
	bool send_in_flight;
	enum net_send_stage send_stage;
	struct io_op send_op;
	struct iovec *iov; /* iov_cap entries */
	unsigned iov_cap;
	unsigned send_seg;
	size_t send_offset;
	size_t stage_have;
	size_t stage_sent; /* COPY: copy_buf[stage_sent, stage_sent + stage_have) is unsent */
	uint8_t *copy_buf; /* COPY: NET_COPY_BYTES, allocated on first use */
	int pipe_fds[2];   /* SPLICE: created on first use; -1 until then */
	size_t pipe_bytes; /* SPLICE: the pipe's capacity */

	bool cancel_in_flight;
	struct io_op cancel_op;
};

struct net_server {
	struct io_loop *loop;
	struct net_server_opts opts;
	struct net_listener listeners[NET_LISTENERS_MAX];
	size_t listener_count;
	struct net_conn *conns; /* doubly linked list of open/closing connections */
	unsigned conn_count;
	uint64_t next_conn_id;
	struct net_server_stats stats;

	enum net_zero_copy zero_copy; /* resolved: SPLICE, SENDFILE (sync only) or COPY */
	bool stopping;
	int64_t stop_deadline_ms;
	bool tick_in_flight;
	bool tick_cancel_in_flight;
	struct io_op tick_op;
	struct io_op tick_cancel_op;
};

/* conn.c */
enum sl_err net_conn_open(struct net_server *s, int fd, const char *listener_name,
                          bool is_controller, const char *peer, uint64_t *conn_id) SL_MUST_USE;
void net_conn_close(struct net_conn *c, const char *reason);
void net_conn_drain(struct net_conn *c);
void net_conn_check_invariants(const struct net_conn *c);
void net_conn_try_read(struct net_conn *c);
/* Frees a closed connection once nothing refers to it any more. */
void net_conn_maybe_free(struct net_conn *c);
/* Resets a slot whose response has been sent (or whose connection is gone); runs
 * req.release. */
void net_slot_release(struct net_slot *slot);
/* send.c */
/* Starts sending what the head slots have answered, if nothing is in flight. */
void net_conn_try_send(struct net_conn *c);
/* Frees the send path's lazily created resources (pipe, copy buffer). */
void net_conn_send_fini(struct net_conn *c);
void net_send_check_invariants(const struct net_conn *c);
/* The mode a server uses: DEFAULT becomes the measured best for the backend; SENDFILE on
 * uring becomes SPLICE. */
enum net_zero_copy net_zero_copy_resolve(enum net_zero_copy want, enum io_backend backend);
/* server.c */
void net_server_conn_gone(struct net_server *s, struct net_conn *c);
void net_server_check_stopped(struct net_server *s);
/* listener.c */
enum sl_err net_listener_open(struct net_listener *l, const char *host, uint16_t port,
                              uint16_t *bound_port, char *err, size_t err_len) SL_MUST_USE;
void net_listener_start(struct net_listener *l);
void net_listener_stop(struct net_listener *l);
bool net_listener_idle(const struct net_listener *l);
/* Formats a socket address as "ip:port" / "[ip6]:port". */
void net_format_addr(const struct sockaddr *sa, char *out, size_t out_len);

#endif
