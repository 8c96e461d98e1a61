/*
 * discover.c: a broker-only node configured with controller.quorum.bootstrap.servers (KIP-853)
 * and no controller.quorum.voters learns the voter set once, at start-up, with DescribeQuorum
 * v2 (`__cluster_metadata` partition 0): the leader's answer names the current voters and, in
 * `nodes`, their listeners. The metadata log then runs as an observer of those voters.
 *
 * Kafka's brokers learn the leader from Fetch responses instead; asking once is enough here
 * because the node only needs addresses to fetch from (a follower redirects it to the leader).
 *
 * Invariants: at most one request is in flight; a reply is used only when both error codes are
 * 0 and every voter has a node entry with a usable listener (everything from the network is
 * checked against RAFT_VOTERS_MAX and the sizes of struct raft_voter); on return every peer
 * has been destroyed and the loop has run until their io ops completed.
 */
#include "kerr.h"
#include "node_int.h"
#include "peer.h"
#include "wire.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DISCOVER_RETRY_MS 100
#define DISCOVER_LOG_EVERY_MS 5000
#define DISCOVER_REQUEST_TIMEOUT_MS 2000
#define DISCOVER_DRAIN_MS 2000
#define DISCOVER_METADATA_TOPIC "__cluster_metadata"
#define DISCOVER_API_DESCRIBE_QUORUM 55
#define DISCOVER_VERSION 2 /* the first with `nodes` */

static const struct wire_describe_quorum_response_node *
find_node(const struct wire_describe_quorum_response *resp, int32_t id)
{
	for (int32_t i = 0; resp->nodes != NULL && i < resp->nodes_count; i++)
		if (resp->nodes[i].node_id == id)
			return &resp->nodes[i];
	return NULL;
}

/* The listener named listener, else the first; NULL when there is none. */
static const struct wire_describe_quorum_response_listener *
pick_listener(const struct wire_describe_quorum_response_node *n, const char *listener)
{
	if (n->listeners == NULL || n->listeners_count <= 0)
		return NULL;
	for (int32_t i = 0; i < n->listeners_count; i++)
		if (listener != NULL && wire_str_eq(n->listeners[i].name, listener))
			return &n->listeners[i];
	return &n->listeners[0];
}

static enum sl_err voter_from_node(const struct wire_describe_quorum_response *resp, int32_t id,
                                   const char *listener, struct raft_voter *out, char *err,
                                   size_t err_len)
{
	const struct wire_describe_quorum_response_node *n = find_node(resp, id);
	if (n == NULL) {
		snprintf(err, err_len, "voter %d has no entry in the nodes of the answer", (int)id);
		return SL_EMALFORMED;
	}
	const struct wire_describe_quorum_response_listener *l = pick_listener(n, listener);
	if (l == NULL || l->host.ptr == NULL || l->host.len <= 0 ||
	    (size_t)l->host.len >= sizeof(out->host) ||
	    memchr(l->host.ptr, '\0', (size_t)l->host.len) || l->port == 0) {
		snprintf(err, err_len, "voter %d has no usable listener (host and port)", (int)id);
		return SL_EMALFORMED;
	}
	out->id = id;
	memcpy(out->host, l->host.ptr, (size_t)l->host.len);
	out->host[l->host.len] = '\0';
	out->port = l->port;
	return SL_OK;
}

/* The partition __cluster_metadata-0 of a leader's answer, or NULL with err set. */
static const struct wire_describe_quorum_response_partition_data *
leader_partition(const struct wire_describe_quorum_response *resp, char *err, size_t err_len)
{
	if (resp->error_code != WIRE_ERR_NONE) {
		snprintf(err, err_len, "DescribeQuorum failed: %s",
		         wire_err_name(resp->error_code));
		return NULL;
	}
	for (int32_t t = 0; resp->topics != NULL && t < resp->topics_count; t++) {
		const struct wire_describe_quorum_response_topic_data *td = &resp->topics[t];
		if (!wire_str_eq(td->topic_name, DISCOVER_METADATA_TOPIC))
			continue;
		for (int32_t p = 0; td->partitions != NULL && p < td->partitions_count; p++) {
			const struct wire_describe_quorum_response_partition_data *pd =
			        &td->partitions[p];
			if (pd->partition_index != 0)
				continue;
			if (pd->error_code == WIRE_ERR_NONE)
				return pd;
			snprintf(err, err_len, "DescribeQuorum: %s", wire_err_name(pd->error_code));
			return NULL;
		}
	}
	snprintf(err, err_len, "DescribeQuorum answer without %s-0", DISCOVER_METADATA_TOPIC);
	return NULL;
}

enum sl_err node_discover_parse(const struct wire_describe_quorum_response *resp,
                                const char *listener, struct raft_voter *out, uint32_t *count,
                                char *err, size_t err_len)
{
	*count = 0;
	const struct wire_describe_quorum_response_partition_data *p =
	        leader_partition(resp, err, err_len);
	if (p == NULL)
		return SL_EAGAIN;
	if (p->current_voters == NULL || p->current_voters_count <= 0 ||
	    p->current_voters_count > RAFT_VOTERS_MAX) {
		snprintf(err, err_len, "DescribeQuorum answer with %d voters (1-%d expected)",
		         (int)p->current_voters_count, RAFT_VOTERS_MAX);
		return SL_EMALFORMED;
	}
	for (int32_t i = 0; i < p->current_voters_count; i++) {
		int32_t id = p->current_voters[i].replica_id;
		if (id < 0) {
			snprintf(err, err_len, "DescribeQuorum answer with voter id %d", (int)id);
			return SL_EMALFORMED;
		}
		for (int32_t j = 0; j < i; j++) {
			if (p->current_voters[j].replica_id == id) {
				snprintf(err, err_len, "DescribeQuorum answer lists voter %d twice",
				         (int)id);
				return SL_EMALFORMED;
			}
		}
		enum sl_err e = voter_from_node(resp, id, listener, &out[i], err, err_len);
		if (e != SL_OK)
			return e;
	}
	*count = (uint32_t)p->current_voters_count;
	return SL_OK;
}

/* ---- the start-up loop ----------------------------------------------------------------------
 */

struct discover {
	struct io_loop *loop;
	const struct node_config *c;
	struct net_peer *peers[NODE_MAX_VOTERS];
	size_t next;    /* the bootstrap server asked next */
	size_t current; /* the one asked last */
	bool in_flight;
	bool found;
	struct raft_voter voters[RAFT_VOTERS_MAX];
	uint32_t voter_count;
	int32_t leader_id;
	int32_t leader_epoch;
	char last_err[704];
	char servers[1024]; /* comma-joined, for the log and err */
};

static void discover_done(void *ctx, enum sl_err err, const void *resp, int16_t version)
{
	struct discover *d = ctx;
	d->in_flight = false;
	const char *addr = d->c->bootstrap_servers[d->current];
	if (err != SL_OK) {
		snprintf(d->last_err, sizeof(d->last_err), "%s: %s", addr, sl_err_msg(err));
		return;
	}
	SL_ASSERT(version == DISCOVER_VERSION);
	const struct wire_describe_quorum_response *r = resp;
	const char *listener = d->c->controller_listener_name_count > 0
	                               ? d->c->controller_listener_names[0]
	                               : NULL;
	char why[400] = "";
	uint32_t n = 0;
	if (node_discover_parse(r, listener, d->voters, &n, why, sizeof(why)) != SL_OK) {
		snprintf(d->last_err, sizeof(d->last_err), "%s: %s", addr, why);
		return;
	}
	const struct wire_describe_quorum_response_partition_data *p =
	        leader_partition(r, why, sizeof(why));
	SL_ASSERT(p != NULL); /* node_discover_parse accepted it */
	d->voter_count = n;
	d->found = true;
	d->leader_id = p->leader_id;
	d->leader_epoch = p->leader_epoch;
}

/* Sends DescribeQuorum v2 to the next bootstrap server; a failure to queue it counts as that
 * server's error. */
static void discover_send(struct discover *d)
{
	struct wire_describe_quorum_request_partition_data part;
	wire_describe_quorum_request_partition_data_init(&part);
	part.partition_index = 0;
	struct wire_describe_quorum_request_topic_data topic;
	wire_describe_quorum_request_topic_data_init(&topic);
	topic.topic_name = wire_str_c(DISCOVER_METADATA_TOPIC);
	topic.partitions = &part;
	topic.partitions_count = 1;
	struct wire_describe_quorum_request req;
	wire_describe_quorum_request_init(&req);
	req.topics = &topic;
	req.topics_count = 1;
	d->current = d->next;
	d->next = (d->next + 1) % d->c->bootstrap_server_count;
	enum sl_err e = net_peer_send(d->peers[d->current], DISCOVER_API_DESCRIBE_QUORUM,
	                              DISCOVER_VERSION, &req, discover_done, d);
	if (e == SL_OK)
		d->in_flight = true;
	else
		snprintf(d->last_err, sizeof(d->last_err), "%s: %s",
		         d->c->bootstrap_servers[d->current], sl_err_msg(e));
}

/* True when a byte could be read from sig_fd (a signal arrived). */
static bool interrupted(int sig_fd)
{
	if (sig_fd < 0)
		return false;
	struct pollfd pfd = {.fd = sig_fd, .events = POLLIN};
	if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
		return false;
	char b;
	return read(sig_fd, &b, 1) > 0;
}

static enum sl_err discover_peers_create(struct discover *d, char *err, size_t err_len)
{
	const struct node_config *c = d->c;
	int64_t timeout = c->quorum_request_timeout_ms > 0 ? c->quorum_request_timeout_ms
	                                                   : DISCOVER_REQUEST_TIMEOUT_MS;
	size_t used = 0;
	for (size_t i = 0; i < c->bootstrap_server_count; i++) {
		struct net_peer_opts po = {.loop = d->loop,
		                           .addr = c->bootstrap_servers[i],
		                           .connect_timeout_ms = timeout,
		                           .request_timeout_ms = timeout,
		                           .reconnect_backoff_ms = 0,
		                           .max_pending = 4};
		char why[256] = "";
		enum sl_err e = net_peer_create(&po, &d->peers[i], why, sizeof(why));
		if (e != SL_OK) {
			snprintf(err, err_len, "controller.quorum.bootstrap.servers: %s: %s",
			         c->bootstrap_servers[i], why[0] ? why : sl_err_msg(e));
			return e;
		}
		if (used < sizeof(d->servers)) {
			int w = snprintf(d->servers + used, sizeof(d->servers) - used, "%s%s",
			                 i ? "," : "", c->bootstrap_servers[i]);
			used += w > 0 ? (size_t)w : 0;
		}
	}
	return SL_OK;
}

/* Destroys the peers (a request in flight gets SL_ECANCELED) and runs the loop until their io
 * ops have completed (net/peer.h), bounded. */
static void discover_peers_destroy(struct discover *d, unsigned pending_before)
{
	for (size_t i = 0; i < NODE_MAX_VOTERS; i++) {
		net_peer_destroy(d->peers[i]);
		d->peers[i] = NULL;
	}
	int64_t deadline = sl_mono_ms() + DISCOVER_DRAIN_MS;
	while (io_loop_pending(d->loop) > pending_before && sl_mono_ms() < deadline)
		(void)io_loop_run_once(d->loop, 10);
}

static enum sl_err discover_run(struct discover *d, int sig_fd, const char *log_ctx, char *err,
                                size_t err_len)
{
	const struct node_config *c = d->c;
	int64_t start = sl_mono_ms();
	int64_t deadline = start + c->initial_broker_registration_timeout_ms;
	int64_t next_try = start;
	int64_t next_log = start + DISCOVER_LOG_EVERY_MS;
	for (;;) {
		if (interrupted(sig_fd)) {
			snprintf(err, err_len, "interrupted");
			return SL_ECANCELED;
		}
		int64_t now = sl_mono_ms();
		if (now >= deadline) {
			snprintf(err, err_len,
			         "no leader of the controller quorum answered at "
			         "controller.quorum.bootstrap.servers=%s within %" PRId64
			         " ms (initial.broker.registration.timeout.ms); last error: %s",
			         d->servers, c->initial_broker_registration_timeout_ms,
			         d->last_err[0] ? d->last_err : "none");
			return SL_ETIMEDOUT;
		}
		if (now >= next_log) {
			SL_INFO(log_ctx, "waiting for the controller quorum at %s: %s", d->servers,
			        d->last_err[0] ? d->last_err : "no answer yet");
			next_log = now + DISCOVER_LOG_EVERY_MS;
		}
		if (!d->in_flight && now >= next_try) {
			discover_send(d);
			if (!d->in_flight)
				next_try = now + DISCOVER_RETRY_MS;
		}
		bool sent = d->in_flight;
		(void)io_loop_run_once(d->loop, 20);
		if (d->found)
			return SL_OK;
		if (sent && !d->in_flight) /* failed: the next server after a pause */
			next_try = sl_mono_ms() + DISCOVER_RETRY_MS;
	}
}

static void log_found(const struct discover *d, const char *log_ctx)
{
	char text[1024];
	size_t used = 0;
	for (uint32_t i = 0; i < d->voter_count && used < sizeof(text); i++) {
		const struct raft_voter *v = &d->voters[i];
		bool v6 = strchr(v->host, ':') != NULL;
		int w = snprintf(text + used, sizeof(text) - used,
		                 v6 ? "%s%d@[%s]:%u" : "%s%d@%s:%u", i ? "," : "", (int)v->id,
		                 v->host, (unsigned)v->port);
		used += w > 0 ? (size_t)w : 0;
	}
	SL_INFO(log_ctx, "controller quorum from %s: voters %s, leader %d, epoch %d",
	        d->c->bootstrap_servers[d->current], text, (int)d->leader_id, (int)d->leader_epoch);
}

enum sl_err node_discover_voters(struct io_loop *loop, const struct node_config *c, int sig_fd,
                                 struct raft_voter *out, uint32_t *count, char *err, size_t err_len)
{
	SL_ASSERT(loop != NULL && c != NULL && out != NULL && count != NULL);
	SL_ASSERT(c->bootstrap_server_count > 0 && c->bootstrap_server_count <= NODE_MAX_VOTERS);
	*count = 0;
	char log_ctx[32];
	snprintf(log_ctx, sizeof(log_ctx), "node=%d", (int)c->node_id);
	struct discover *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, err_len, "cannot discover the controller quorum: out of memory");
		return SL_ENOMEM;
	}
	d->loop = loop;
	d->c = c;
	unsigned pending_before = io_loop_pending(loop);
	enum sl_err e = discover_peers_create(d, err, err_len);
	if (e == SL_OK) {
		SL_INFO(log_ctx, "asking controller.quorum.bootstrap.servers=%s for the voters",
		        d->servers);
		e = discover_run(d, sig_fd, log_ctx, err, err_len);
	}
	for (uint32_t i = 0; e == SL_OK && i < d->voter_count; i++) {
		if (d->voters[i].id == c->node_id) {
			/* validate_broker_only's rule, checked against the discovered voters. */
			snprintf(err, err_len,
			         "If process.roles contains just the 'broker' role, the node id %d "
			         "must not be included in the set of voters of the controller "
			         "quorum "
			         "(learned from controller.quorum.bootstrap.servers=%s)",
			         (int)c->node_id, d->servers);
			e = SL_ECONFIG;
		}
	}
	if (e == SL_OK) {
		log_found(d, log_ctx);
		memcpy(out, d->voters, d->voter_count * sizeof(*out));
		*count = d->voter_count;
	}
	discover_peers_destroy(d, pending_before);
	free(d);
	return e;
}
