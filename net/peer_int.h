/*
 * peer_int.h: private structures of the outbound peer client (peer.c: requests, queues,
 * timer, callbacks; peer_conn.c: one TCP connection).
 *
 * Lifetimes: a net_peer owns its request slots; a peer_conn owns its socket and buffers. When
 * a connection fails it is detached at once (conn->peer = NULL, peer->conn = NULL), so a new
 * one can start while the old one waits for its io ops to end and then frees itself. The
 * peer itself is freed once destroyed, outside every callback (depth == 0) and with its timer
 * op completed.
 *
 * Request slot states: FREE (on the free list) -> QUEUED (encoded, not sent; queued list) ->
 * SENT (copied into a connection's out buffer, awaiting its response; sent list) -> FAILING
 * (failing list, done() about to run) -> FREE. A QUEUED slot can also go straight to FAILING
 * (timeout, connection failure, destroy). The lists are FIFO; every SENT slot is older than
 * every QUEUED one, so the earliest deadline is at the head of sent, else of queued.
 */
#ifndef SL_NET_PEER_INT_H
#define SL_NET_PEER_INT_H

#include "peer.h"

#include "frame.h"
#include "wire.h"

#include <netinet/in.h>
#include <sys/socket.h>

#define PEER_RECV_CHUNK (64u * 1024u)   /* recv size while no large frame is pending */
#define PEER_KEEP_BYTES (1024u * 1024u) /* buffers above this are freed when idle */
#define PEER_ARENA_CHUNK (64u * 1024u)
#define PEER_CLIENT_ID_MAX 128
#define PEER_ADDR_MAX 300

enum peer_slot_state { PEER_SLOT_FREE, PEER_SLOT_QUEUED, PEER_SLOT_SENT, PEER_SLOT_FAILING };

struct peer_slot {
	struct peer_slot *next;
	enum peer_slot_state state;
	struct sl_buf frame; /* size prefix + header + body; correlation id patched on send */
	size_t header_len;   /* prefix + header bytes in frame */
	int16_t api_key;
	int16_t version;      /* the version frame is encoded at */
	bool version_auto;    /* sent with -1: re-encode at the negotiated version if needed */
	int32_t corr;         /* correlation id once SENT */
	int64_t deadline_ms;  /* monotonic */
	enum sl_err fail_err; /* while FAILING */
	net_peer_done_fn *done;
	void *ctx;
};

struct peer_list {
	struct peer_slot *head;
	struct peer_slot *tail;
	unsigned count;
};

enum peer_conn_state {
	PEER_CONN_CONNECTING,
	PEER_CONN_NEGOTIATING,
	PEER_CONN_READY,
	PEER_CONN_CLOSED
};

struct peer_conn {
	struct net_peer *peer; /* NULL once detached */
	struct io_loop *loop;
	int fd;
	enum peer_conn_state state;
	int64_t deadline_ms; /* connect + negotiation deadline */
	struct io_op connect_op, recv_op, send_op, cancel_rd_op, cancel_wr_op;
	bool connect_in_flight, recv_in_flight, send_in_flight;
	bool cancel_rd_in_flight, cancel_wr_in_flight;
	bool busy;         /* one of its callbacks is running: not freed yet */
	bool apiv_resend;  /* ApiVersions to resend at apiv_version once out is idle */
	struct sl_buf out; /* frames being sent (a copy: slots may be reused meanwhile) */
	size_t out_sent;
	struct sl_buf in; /* received bytes; a complete frame is handled in place */
	size_t in_start;
	int32_t apiv_corr;
	int16_t apiv_version;
};

struct net_peer {
	struct io_loop *loop;
	struct net_peer_opts opts; /* addr / client_id point into this struct */
	char addr[PEER_ADDR_MAX];
	char client_id[PEER_CLIENT_ID_MAX];
	char log_ctx[PEER_ADDR_MAX + 8];
	struct sockaddr_storage sa;
	socklen_t sa_len;

	struct peer_slot *slots;
	struct peer_slot *free_slots;
	struct peer_list queued;
	struct peer_list sent;
	struct peer_list failing;

	struct peer_conn *conn;   /* NULL when idle or backing off */
	int64_t backoff_until_ms; /* no connect before this */
	int32_t next_corr;
	bool negotiated;
	int16_t versions[NET_FRAME_KEYS]; /* highest common, -1 */
	int16_t server_lo[NET_FRAME_KEYS];
	int16_t server_hi[NET_FRAME_KEYS];

	struct sl_arena arena; /* one decoded response at a time */
	struct sl_buf scratch; /* re-encoding a version_auto request */

	struct io_op timer_op, timer_cancel_op;
	bool timer_in_flight, timer_cancel_in_flight;
	int64_t timer_at_ms;

	bool down_logged; /* a failure was logged since the last READY connection */
	unsigned depth;   /* user callbacks running (nesting) */
	bool destroyed;
	struct net_peer_stats stats;
};

/* peer.c, for peer_conn.c */
void peer_list_push(struct peer_list *l, struct peer_slot *s);
struct peer_slot *peer_list_pop(struct peer_list *l);
/* Fails every pending request (sent and queued) and detaches c: sent requests get head_err
 * for the first one and err for the others, queued ones err. Starts the backoff. Runs
 * callbacks; returns false when the peer was destroyed by one of them. */
bool peer_conn_failed(struct net_peer *p, enum sl_err head_err, enum sl_err err,
                      const char *reason);
/* Completes the head of sent with a decoded response. false when the peer was destroyed. */
bool peer_complete(struct net_peer *p, const void *resp, int16_t version);
/* Fails one slot (not on any list) with err, running its callback. false when destroyed. */
bool peer_fail_one(struct net_peer *p, struct peer_slot *s, enum sl_err err);
/* Called by the connection when it reaches READY or has room to send. */
void peer_conn_ready(struct net_peer *p);
/* Arms the timer for the nearest deadline. */
void peer_arm_timer(struct net_peer *p);
/* Frees p if destroyed and nothing refers to it any more. */
void peer_maybe_free(struct net_peer *p);

/* peer_conn.c */
enum sl_err peer_conn_open(struct net_peer *p, struct peer_conn **out);
/* Detaches c from its peer and closes it; it frees itself once its ops end. */
void peer_conn_close(struct peer_conn *c);
/* Copies queued requests into the out buffer and sends them (if no send is in flight). */
void peer_conn_transmit(struct peer_conn *c);

#endif
