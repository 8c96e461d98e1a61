/*
 * peer.h: an asynchronous outbound Kafka-protocol client on a node's io loop (L3; uses base,
 * io and wire). Controllers use it to send Raft RPCs (Vote, BeginQuorumEpoch,
 * EndQuorumEpoch, Fetch, FetchSnapshot) to each other; brokers to send to controllers.
 *
 * A net_peer is one destination "host:port" with at most one TCP connection at a time:
 *
 *     IDLE --send--> CONNECTING --connected--> NEGOTIATING --ApiVersions ok--> READY
 *       ^                |                         |                            |
 *       +----------------+-------- failure --------+----------------------------+
 *                  (every pending request fails; the next connect waits out the backoff)
 *
 * The connection is made lazily by the first send (and by the first send after a failure,
 * once reconnect_backoff_ms has passed since the failure). Each new connection negotiates
 * versions with ApiVersions first (our highest version; on UNSUPPORTED_VERSION once more at
 * the server's highest, KIP-511), then sends the queued requests, pipelined, with increasing
 * correlation ids. Responses must come back in request order (Kafka servers guarantee it).
 *
 * Invariants:
 *   - done() runs exactly once per accepted request (net_peer_send returned SL_OK), always
 *     from inside a loop callback or from inside net_peer_destroy, never from inside
 *     net_peer_send itself.
 *   - At most max_pending requests are pending (queued or awaiting a response); past that
 *     net_peer_send returns SL_ELIMIT (back-pressure, nothing allocated).
 *   - A response frame is at most max_response_bytes; a larger size prefix closes the
 *     connection before any of it is buffered.
 *   - No call blocks the loop (except the one-time name resolution in net_peer_create for a
 *     host name that is neither numeric nor "localhost").
 *   - Memory: request slots and their buffers are allocated at create / grown on first use
 *     and reused; a connection's buffers are allocated per connection, not per request.
 */
#ifndef SL_NET_PEER_H
#define SL_NET_PEER_H

#include "base.h"
#include "io.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_peer;

struct net_peer_opts {
	struct io_loop *loop;         /* required; borrowed, must outlive the peer's io ops */
	const char *addr;             /* "host:port", "[v6]:port"; copied */
	const char *client_id;        /* request header client id; copied; NULL = "sluice" */
	int64_t connect_timeout_ms;   /* TCP connect + ApiVersions; <= 0 = 10000 */
	int64_t request_timeout_ms;   /* per request, from net_peer_send; <= 0 = 30000 */
	int64_t reconnect_backoff_ms; /* after a failed or lost connection; < 0 = 0 */
	size_t max_response_bytes;    /* response frame size (after the prefix); 0 = 64 MiB */
	size_t max_request_bytes;     /* encoded request frame; 0 = 64 MiB */
	unsigned max_pending;         /* queued + awaiting a response; 0 = 128 */
};

/* Called exactly once per request. err is SL_OK and resp the decoded response (a
 * `const struct wire_<api>_response *` for the api key sent) at `version`, or err is:
 *   SL_ETIMEDOUT     no response within request_timeout_ms (or the connection could not be
 *                    made within connect_timeout_ms);
 *   SL_ECONNREFUSED  (or another connect error) the connection could not be made;
 *   SL_ECLOSED       the connection failed or was closed while the request was pending;
 *   SL_ETOOBIG       a response frame exceeded max_response_bytes (the connection closes);
 *   SL_EMALFORMED    a response had an unexpected correlation id, a bad frame or a body that
 *                    does not decode exactly (the connection closes);
 *   SL_EUNSUPPORTED  the server does not support the api or the requested version, or
 *                    ApiVersions failed;
 *   SL_ENOMEM        the decoded response exceeded the decode arena;
 *   SL_ECANCELED     net_peer_destroy was called while the request was pending.
 * On any error resp is NULL and version -1. resp (and every view/array inside it) is valid
 * only during the call. The callback may call net_peer_send and net_peer_destroy on this peer
 * (after destroy, it must not touch the peer again). */
typedef void net_peer_done_fn(void *ctx, enum sl_err err, const void *resp, int16_t version);

/* Creates a peer for o->addr on o->loop. Nothing connects until the first send. The address
 * is resolved here, once: numeric IPv4/IPv6 and "localhost" (127.0.0.1) without any lookup;
 * any other host name with getaddrinfo (blocking, the first address is used), so give
 * numeric addresses to peers created on a running loop. *out is owned by the caller
 * (net_peer_destroy). Errors (one line in err): SL_EINVAL for a bad address or options,
 * SL_ENOMEM. */
enum sl_err net_peer_create(const struct net_peer_opts *o, struct net_peer **out, char *err,
                            size_t err_len) SL_MUST_USE;

/* Queues a request: api_key with a `const struct wire_<api>_request *` req, at version, or at
 * the highest version both sides support when version is -1. req is encoded before this
 * returns (the caller may free it afterwards). With version -1 before the first negotiation,
 * the request is encoded at our codec's highest version and re-encoded at the negotiated
 * one before it is sent, so a field that exists only in older versions (and was dropped in
 * newer ones) must not be relied on with -1. done(ctx, ...) is called later, exactly once.
 * Errors (done is then never called): SL_EINVAL (api key without a codec definition, or a
 * version outside our codec's range), SL_EUNSUPPORTED (after a negotiation: the server does
 * not offer that version, or with -1 there is no common version), SL_ELIMIT (max_pending
 * requests pending), SL_ETOOBIG (encoded request over max_request_bytes), SL_ECANCELED (the
 * peer has been destroyed). Requests queued before the first negotiation are checked when
 * it completes and fail through done(SL_EUNSUPPORTED) if the server lacks the version. */
enum sl_err net_peer_send(struct net_peer *p, int16_t api_key, int16_t version, const void *req,
                          net_peer_done_fn *done, void *ctx) SL_MUST_USE;

/* The version -1 would pick for api_key: the highest both the server (at the last
 * negotiation; kept across reconnects) and our codec support; -1 until negotiated or when
 * there is no overlap. */
int16_t net_peer_version(const struct net_peer *p, int16_t api_key);

/* True while a negotiated connection is open (READY). */
bool net_peer_connected(const struct net_peer *p);

/* Requests accepted and not yet completed. */
unsigned net_peer_pending(const struct net_peer *p);

/* The address as given to net_peer_create. */
const char *net_peer_addr(const struct net_peer *p);

/* Counters for tests and logs. */
struct net_peer_stats {
	uint64_t connects;  /* connection attempts */
	uint64_t connected; /* connections that reached READY */
	uint64_t failures;  /* connections lost or refused */
	uint64_t requests;  /* accepted by net_peer_send */
	uint64_t responses; /* completed with SL_OK */
	uint64_t timeouts;  /* completed with SL_ETIMEDOUT */
};
void net_peer_stats(const struct net_peer *p, struct net_peer_stats *out);

/* Fails every pending request with done(SL_ECANCELED) (before returning; in request order),
 * closes the connection and frees the peer. No callback runs after it returns. The memory of
 * the peer and its connection is released once their io ops in flight have completed (at
 * once when none is): run the loop until io_loop_pending() allows (a few iterations) before
 * io_loop_destroy, or that memory leaks. May be called from inside a done callback of this
 * peer. NULL is a no-op. */
void net_peer_destroy(struct net_peer *p);

/* Asserts the peer's invariants (queues, counts, slot states). For tests. */
void net_peer_check_invariants(const struct net_peer *p);

#endif
