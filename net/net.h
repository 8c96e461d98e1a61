/*
 * net.h: the Kafka network server (L3; uses base and io).
 *
 * A net_server owns listening sockets and client connections on one io_loop. It frames
 * requests (4-byte big-endian size, then the body), bounds them by request_max_bytes, and
 * hands every complete frame to one dispatch callback registered by a higher layer (the
 * broker); net never looks inside a frame. The callback answers later, possibly
 * asynchronously, with net_respond() or net_respond_close(). Responses leave each connection
 * strictly in request order, whatever order the handlers finish in.
 *
 * Invariants:
 *   - At most inflight_max requests per connection are between "frame read" and "response
 *     sent", and their frames add up to at most request_max_bytes (a single frame may be as
 *     large as request_max_bytes); past either bound the connection stops reading
 *     (back-pressure).
 *   - Each request owns an arena (decode/handle/encode) and a response buffer; both are reset
 *     when the response has been sent, never earlier.
 *   - Bad framing (size <= 0 or > request_max_bytes) closes that connection only, with one
 *     log line naming the connection, the peer and the reason.
 *   - No call blocks the loop; every socket operation goes through io.
 */
#ifndef SL_NET_H
#define SL_NET_H

#include "base.h"
#include "io.h"

#include <stdbool.h>
#include <stdint.h>

struct net_server;
struct net_request;

/* How file ranges of a response (net_resp_add_file) reach a plaintext socket
 * (sluice.net.zero.copy). SPLICE: file -> per-connection pipe -> socket with splice(2), no
 * user-space copy, on both io backends. SENDFILE: sendfile(2) straight to the socket; the
 * sync backend only (io_uring has no sendfile opcode), so on uring it runs as SPLICE. COPY:
 * pread into a per-connection buffer, then send. DEFAULT ("auto") is resolved at
 * net_server_create to the cheapest in CPU per byte as measured on the reference machine
 * (docs/performance.md): COPY on uring (io_uring punts every splice to a worker thread),
 * SPLICE on sync. */
enum net_zero_copy { NET_ZC_DEFAULT, NET_ZC_SPLICE, NET_ZC_SENDFILE, NET_ZC_COPY };

/* "auto" (DEFAULT), "splice", "sendfile", "copy". */
const char *net_zero_copy_name(enum net_zero_copy m);
/* Parses "auto" / "splice" / "sendfile" / "copy" (case-insensitive). SL_EINVAL otherwise. */
enum sl_err net_zero_copy_parse(const char *s, enum net_zero_copy *out) SL_MUST_USE;

/* Called once when a request's slot is released: its response has been sent in full, or its
 * connection was closed first. File descriptors passed to net_resp_add_file may be closed (or
 * their segment unpinned) from here on, not before. Runs inside a loop callback. */
typedef void net_release_fn(struct net_request *req, void *ctx);

/* Called once per complete request frame. The request (and everything it points to) is
 * borrowed until the callee calls net_respond() or net_respond_close() for it, exactly once;
 * that call may happen inside the callback or later from any other loop callback. */
typedef void net_dispatch_fn(struct net_request *req, void *ctx);

#define NET_PEER_MAX 64    /* "[ipv6]:port" */
#define NET_LOG_CTX_MAX 96 /* "conn=<id> peer=<ip:port>" */

struct net_request {
	/* Read-only for the handler. */
	uint64_t conn_id;
	const char *log_ctx;  /* "conn=<id> peer=<ip:port>", valid while the request lives */
	const char *listener; /* listener name ("PLAINTEXT", "CONTROLLER", "adopted") */
	bool is_controller_listener;
	const uint8_t *frame; /* the request body after the size prefix; in arena */
	size_t frame_len;     /* > 0 and <= request_max_bytes */
	/* For the handler. */
	struct sl_arena *arena; /* request-lifetime memory; reset after the response is sent */
	struct sl_buf *resp;    /* append the response header and body here (no size prefix) */
	/* Optional, set by the handler before responding; cleared when the request arrives. */
	net_release_fn *release;
	void *release_ctx;
};

struct net_server_opts {
	int32_t request_max_bytes;    /* socket.request.max.bytes, > 0 */
	int32_t max_connections;      /* max.connections, > 0 */
	int64_t idle_ms;              /* connections.max.idle.ms; <= 0 disables idle closing */
	int32_t send_buffer_bytes;    /* SO_SNDBUF, -1 = OS default */
	int32_t recv_buffer_bytes;    /* SO_RCVBUF, -1 = OS default */
	unsigned inflight_max;        /* per-connection pipelining limit; 0 = 32 */
	size_t response_max_bytes;    /* per response; 0 = 128 MiB */
	int64_t stop_timeout_ms;      /* graceful stop: wait this long for responses; 0 = 5000 */
	enum net_zero_copy zero_copy; /* sluice.net.zero.copy; DEFAULT = the measured best */
	net_dispatch_fn *dispatch;    /* required */
	void *dispatch_ctx;
};

/* Creates a server on loop (borrowed; must outlive the server). Nothing listens yet. *out is
 * owned by the caller and released with net_server_destroy(). SL_EINVAL on bad options. */
enum sl_err net_server_create(struct io_loop *loop, const struct net_server_opts *opts,
                              struct net_server **out) SL_MUST_USE;

/* Binds and listens on host:port ("" = all interfaces, IPv6 and IPv4 when the kernel allows
 * a dual-stack socket), SO_REUSEADDR, and starts accepting. port 0 picks a free port; the
 * bound port is written to *bound_port (may be NULL). name is copied ("PLAINTEXT"...).
 * Errors (SL_EADDRINUSE, SL_EINVAL for an unresolvable host, ...) write one line to err. */
enum sl_err net_server_listen(struct net_server *s, const char *name, bool is_controller,
                              const char *host, uint16_t port, uint16_t *bound_port, char *err,
                              size_t err_len) SL_MUST_USE;

/* Takes ownership of a connected socket (tests use socketpairs) and serves it as a client
 * connection. peer names it in logs. Returns the connection id via *conn_id (may be NULL).
 * SL_ELIMIT when max_connections is reached (fd is closed). */
enum sl_err net_server_adopt(struct net_server *s, int fd, const char *peer,
                             uint64_t *conn_id) SL_MUST_USE;

/* Appends len bytes of file fd starting at offset to the response, after what req->resp holds
 * now: later appends to req->resp go after the range. So a response is memory, file range,
 * memory, file range, ...; the size prefix counts them all. The bytes are not read now: they
 * go from the file to the socket when the response is sent (splice, sendfile or a copy; see
 * enum net_zero_copy). fd is borrowed until req->release runs (or, without a release
 * callback, until the connection is gone). The file must still hold the whole range then:
 * a range that ends early cannot be patched up on the wire, so the connection is closed.
 * len == 0 adds nothing. Errors: SL_ETOOBIG if the response would exceed response_max_bytes,
 * SL_ENOMEM if the request's arena is exhausted; the response is unchanged either way. */
enum sl_err net_resp_add_file(struct net_request *req, int fd, uint64_t offset,
                              size_t len) SL_MUST_USE;

/* The file-range mode a server actually uses (never DEFAULT; never SENDFILE on uring). */
enum net_zero_copy net_server_zero_copy(const struct net_server *s);

/* Finishes a request: the response is req->resp's contents. Takes the request back. */
void net_respond(struct net_request *req);
/* Finishes a request that gets no response at all (Produce with acks=0): nothing is sent for
 * it, later responses still leave in order. Anything in req->resp is discarded. */
void net_respond_none(struct net_request *req);
/* Finishes a request without a response and closes its connection once every earlier
 * response has been sent (Kafka closes on an unsupported version or a malformed request).
 * From this call on the connection reads nothing more and dispatches no later request.
 * reason is logged once with the connection context. */
void net_respond_close(struct net_request *req, const char *reason);

/* Begins a graceful stop: stop accepting, stop reading, send what is already answered
 * (bounded by stop_timeout_ms), then close every connection. Idempotent. */
void net_server_stop(struct net_server *s);
/* True once a stop has finished: no connection, no listener and no io op left. */
bool net_server_stopped(const struct net_server *s);
/* Frees a server; it must be stopped (or never have listened nor adopted). */
void net_server_destroy(struct net_server *s);

/* Counters for tests and logs. */
struct net_server_stats {
	unsigned connections;         /* open now */
	uint64_t accepted;            /* total accepted (including rejected over the limit) */
	uint64_t rejected_over_limit; /* closed at once because of max_connections */
	uint64_t closed_bad_frame;    /* closed because of a bad size prefix */
	uint64_t closed_idle;         /* closed by connections.max.idle.ms */
	uint64_t requests;            /* frames dispatched */
};
void net_server_stats(const struct net_server *s, struct net_server_stats *out);

/* Asserts the server's and every connection's invariants (slot ring, counts, buffers). For
 * tests, after every step; O(connections x slots). */
void net_server_check_invariants(const struct net_server *s);

/* Address of listener i (in net_server_listen order): "host:port" with the bound port. */
const char *net_server_listener_addr(const struct net_server *s, size_t i);

/* ---- client: a small synchronous Kafka client for the command-line tools (client.c) ------ */

/* One blocking TCP connection to a broker, used by tools (never on a node's io loop). Every
 * socket operation waits with poll() under the caller's timeout. On connect the client sends
 * ApiVersions (the highest version of our codec; on UNSUPPORTED_VERSION it retries with the
 * broker's highest, KIP-511) and records, per api key, the highest version both the broker and
 * our codec (wire_api_info) support. Requests are sent one at a time with increasing
 * correlation ids; a response with another id, a short or oversized frame, or a body that
 * does not decode exactly is an error (the connection is then unusable). Not thread-safe. */
struct net_client;

#define NET_CLIENT_ERR_MAX 256
#define NET_CLIENT_DEFAULT_PORT 9092

/* Splits "host:port", "[v6]:port" or "host" (port NET_CLIENT_DEFAULT_PORT) into host (NUL-
 * terminated, at most host_len - 1 bytes) and port. SL_EINVAL on an empty host, a bad or
 * out-of-range port, or a host that does not fit. */
enum sl_err net_client_parse_addr(const char *addr, char *host, size_t host_len,
                                  uint16_t *port) SL_MUST_USE;

/* Connects to addr ("host:port", see net_client_parse_addr) within timeout_ms (every
 * resolved address is tried in turn) and negotiates versions. client_id is copied (NULL =
 * "sluice-cli"). On success *out is owned by the caller (net_client_close). On error writes
 * one line to err ("cannot connect to localhost:9092: Connection refused") and returns
 * SL_EINVAL (bad address), SL_ECONNREFUSED, SL_ETIMEDOUT, SL_ECLOSED, SL_EMALFORMED or
 * SL_ESYS. */
enum sl_err net_client_connect(const char *addr, const char *client_id, int64_t timeout_ms,
                               struct net_client **out, char *err, size_t err_len) SL_MUST_USE;

/* Closes the socket and frees the client. NULL is a no-op. */
void net_client_close(struct net_client *c);

/* The version chosen for api_key: the highest both sides support, or -1 when the broker does
 * not offer the api or no version overlaps. */
int16_t net_client_version(const struct net_client *c, int16_t api_key);

/* "host:port" as given to net_client_connect. Valid while c is. */
const char *net_client_addr(const struct net_client *c);

/* Sends request req (a struct wire_<api>_request, borrowed) for api_key at version (which
 * must be in our codec's range; normally net_client_version()) and, unless resp is NULL
 * (Produce with acks=0: no response comes), waits up to timeout_ms for the response and
 * decodes it into resp (a struct wire_<api>_response). Arrays of resp come from arena
 * (borrowed); strings and bytes are views into the client's receive buffer, valid until the
 * next net_client_call. Responses larger than the client's limit (256 MiB) are refused.
 * Errors (one line in err naming the broker): SL_ETIMEDOUT, SL_ECLOSED (the broker closed
 * the connection), SL_EMALFORMED (bad frame, wrong correlation id, undecodable body),
 * SL_ENOMEM (arena or buffer limit), SL_ESYS. After an error the client is unusable. */
enum sl_err net_client_call(struct net_client *c, int16_t api_key, int16_t version, const void *req,
                            void *resp, struct sl_arena *arena, int64_t timeout_ms, char *err,
                            size_t err_len) SL_MUST_USE;

#endif
