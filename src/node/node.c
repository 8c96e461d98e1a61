/*
 * node.c: start-up, the event loop and shut-down of a node.
 *
 * Start-up: verify the formatted dirs (node_dirs_verify, Kafka's rules) -> create the io loop
 * (sluice.io.backend) -> open the partition logs of log.dirs (broker role) -> open the metadata
 * log, replaying it into the node's image (node_meta.c) -> create the controller (controller
 * role) over that image -> create the broker with the data path and give it the image (it
 * creates the logs of every partition the image holds) -> listen on every listener -> log the
 * metadata loaded and one line with the listeners and the io backend. A controller-only node
 * opens the metadata log but no partition logs; its listeners answer ApiVersions.
 *
 * The broker and the controller are created after the replay, so the replay only builds the
 * image; from then on every committed batch reaches both through node_meta_apply.
 *
 * Signals: SIGTERM and SIGINT are caught by a handler that writes the signal number to a
 * socketpair; the loop reads the other end with io_recv. (A signalfd read would be a file read,
 * which the sync backend runs to completion, blocking the loop; a socket works the same on
 * both backends.)
 *
 * Shut-down: net_server_stop (no new requests), brk_stop (parked fetches answered), run the
 * loop until net has stopped, the broker has no request waiting and no metadata proposal is in
 * flight; then the partition logs are closed clean (checkpoints, .kafka_cleanshutdown) and the
 * metadata log closed. A metadata batch that fails to apply after start-up stops the node the
 * same way.
 */
#include "node.h"

#include "broker.h"
#include "controller.h"
#include "io.h"
#include "net.h"
#include "node_int.h"
#include "raft.h"
#include "storage.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct node {
	const struct node_config *config;
	struct node_dirs_state dirs;
	struct io_loop *loop;
	struct brk *brk;
	struct net_server *net;
	struct stor_log_manager *logs; /* NULL on a controller-only node */
	struct raft *raft;
	struct ctl *ctl; /* NULL without the controller role */
	struct node_meta meta;
	bool meta_ready; /* node_meta_init succeeded */
	struct brk_config_entry *configs;
	size_t config_count;
	const char *log_dir_ptrs[NODE_MAX_DIRS];
	int sig_fds[2]; /* [0] read by the loop, [1] written by the handler */
	struct io_op sig_op;
	struct io_op sig_cancel_op;
	bool sig_in_flight;
	bool sig_cancel_in_flight;
	uint8_t sig_buf[16];
	bool stopping;
	/* The periodic tick (controller sessions, broker heartbeats). */
	struct io_op tick_op;
	struct io_op tick_cancel_op;
	bool tick_in_flight;
	bool tick_cancel_in_flight;
	/* Start-up: broker listeners open once the broker is unfenced (Kafka's BrokerServer). */
	bool broker_listening;
	bool started_logged;
	int64_t next_wait_log_ms;
	/* SIGTERM on a broker: controlled shutdown first (leaderships move away). */
	bool controlled_shutdown;
	int64_t controlled_shutdown_deadline_ms;
	int64_t controlled_shutdown_start_ms;
	size_t listen_order[NODE_MAX_LISTENERS]; /* config index of net listener i */
	size_t listen_count;
	char controller_addr[300]; /* own controller listener, "host:port" ("" = none) */
	char log_ctx[32];
};

/* The only global: where the async-signal handler reports a signal. */
static volatile sig_atomic_t node_signal_fd = -1;

static void node_signal_handler(int signo)
{
	int saved = errno;
	uint8_t b = (uint8_t)signo;
	if (node_signal_fd >= 0)
		(void)!write(node_signal_fd, &b, 1);
	errno = saved;
}

/* Stops taking requests; the loop then drains what is in flight. */
static void node_begin_stop(struct node *n)
{
	n->stopping = true;
	raft_shutdown(n->raft); /* a leader hands over before the listeners close */
	net_server_stop(n->net);
	brk_stop(n->brk);
}

static void sig_arm(struct node *n);

/* A stop request (signal): a registered broker first hands its leaderships over (controlled
 * shutdown, kraft.md §5.3); a second signal, the deadline or a node without a broker role
 * stops at once. */
static void node_request_stop(struct node *n)
{
	bool broker = (n->config->roles & NODE_ROLE_BROKER) != 0;
	if (n->controlled_shutdown || !broker || !n->broker_listening) {
		node_begin_stop(n);
		return;
	}
	n->controlled_shutdown = true;
	int64_t wait = SL_MAX((int64_t)n->config->broker_session_timeout_ms, (int64_t)10000);
	n->controlled_shutdown_start_ms = sl_mono_ms();
	n->controlled_shutdown_deadline_ms = n->controlled_shutdown_start_ms + wait;
	brk_lifecycle_shutdown(n->brk);
	SL_INFO(n->log_ctx,
	        "controlled shutdown: waiting up to %" PRId64 " ms for the controller to move "
	        "this broker's leaderships",
	        wait);
	sig_arm(n); /* a second signal stops at once */
}

static void sig_done(struct io_op *op, void *ctx)
{
	struct node *n = ctx;
	n->sig_in_flight = false;
	if (n->stopping)
		return;
	if (op->err != SL_OK || op->res <= 0) {
		SL_ERROR(n->log_ctx, "signal channel failed; shutting down");
	} else {
		int signo = n->sig_buf[op->res - 1];
		SL_INFO(n->log_ctx, "received %s, shutting down",
		        signo == SIGINT    ? "SIGINT"
		        : signo == SIGTERM ? "SIGTERM"
		                           : "a signal");
		node_request_stop(n);
		return;
	}
	node_begin_stop(n);
}

static void sig_arm(struct node *n)
{
	n->sig_in_flight = true;
	io_recv(n->loop, &n->sig_op, n->sig_fds[0], n->sig_buf, sizeof(n->sig_buf), sig_done, n);
}

static void sig_cancel_done(struct io_op *op, void *ctx)
{
	(void)op;
	struct node *n = ctx;
	n->sig_cancel_in_flight = false;
}

static enum sl_err signals_install(struct node *n, char *err, size_t err_len)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, n->sig_fds) != 0) {
		int e = errno;
		snprintf(err, err_len, "socketpair for signals: %s", strerror(e));
		return sl_err_from_errno(e);
	}
	node_signal_fd = n->sig_fds[1];
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = node_signal_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return SL_OK;
}

static void signals_remove(struct node *n)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	node_signal_fd = -1;
	for (int i = 0; i < 2; i++) {
		if (n->sig_fds[i] >= 0)
			close(n->sig_fds[i]);
		n->sig_fds[i] = -1;
	}
}

/* Partition logs (broker role) and the metadata log, replayed into n->meta. */
static enum sl_err node_open_logs(struct node *n, char *err, size_t err_len)
{
	const struct node_config *c = n->config;
	enum sl_err e = node_meta_init(&n->meta, n->log_ctx);
	if (e != SL_OK) {
		snprintf(err, err_len, "cannot create the metadata image: %s", sl_err_msg(e));
		return e;
	}
	n->meta_ready = true;
	if (c->roles & NODE_ROLE_BROKER) {
		struct stor_log_manager_opts mo;
		node_log_manager_opts(c, n->log_dir_ptrs, &mo);
		struct stor_startup_report rep;
		memset(&rep, 0, sizeof(rep));
		e = stor_log_manager_open(n->loop, &mo, &n->logs, &rep, err, err_len);
		if (e != SL_OK)
			return e;
		SL_INFO(n->log_ctx,
		        "log dirs: %u partitions, %u segments (%u recovered, %" PRIu64
		        " bytes truncated), clean shutdown %s, %" PRId64 " ms",
		        rep.partitions, rep.segments, rep.segments_recovered, rep.bytes_truncated,
		        rep.clean_shutdown ? "yes" : "no", rep.elapsed_ms);
	}
	struct raft_opts ro = {
	        .loop = n->loop,
	        .metadata_dir = c->metadata_log_dir,
	        .node_id = c->node_id,
	        .segment_bytes = (uint64_t)c->metadata_log_segment_bytes,
	        .apply = node_meta_apply,
	        .apply_ctx = &n->meta,
	        .cluster_id = n->dirs.cluster_id,
	        .election_timeout_ms = c->quorum_election_timeout_ms,
	        .fetch_timeout_ms = c->quorum_fetch_timeout_ms,
	        .election_backoff_max_ms = c->quorum_election_backoff_max_ms,
	        .request_timeout_ms = c->quorum_request_timeout_ms,
	        .retry_backoff_ms = c->quorum_retry_backoff_ms,
	        .noop_interval_ms = c->metadata_max_idle_interval_ms,
	        .snapshot_max_new_bytes = c->metadata_snapshot_max_new_record_bytes,
	        .snapshot_interval_ms = c->metadata_snapshot_max_interval_ms,
	        .image_records = node_meta_records,
	        .on_load = node_meta_load,
	        .snapshot_ctx = &n->meta,
	        .voters_required = true, /* never a private single-voter quorum */
	};
	if (c->voter_count > RAFT_VOTERS_MAX) {
		snprintf(err, err_len,
		         "controller.quorum.voters: %zu voters, at most %d are supported",
		         c->voter_count, RAFT_VOTERS_MAX);
		return SL_ECONFIG;
	}
	for (size_t i = 0; i < c->voter_count && i < RAFT_VOTERS_MAX; i++) {
		struct raft_voter *v = &ro.voters[ro.voter_count++];
		v->id = c->voters[i].id;
		snprintf(v->host, sizeof(v->host), "%s", c->voters[i].host);
		v->port = c->voters[i].port;
	}
	/* DescribeQuorum v2 `nodes` name the voters' listener; a broker-only node with only
	 * controller.quorum.bootstrap.servers learns the voters from the quorum (KIP-853). */
	if (c->controller_listener_name_count > 0)
		snprintf(ro.listener_name, sizeof(ro.listener_name), "%.*s",
		         (int)sizeof(ro.listener_name) - 1, c->controller_listener_names[0]);
	if (!(c->roles & NODE_ROLE_CONTROLLER) && c->voter_count == 0 &&
	    c->bootstrap_server_count > 0) {
		e = node_discover_voters(n->loop, c, n->sig_fds[0], ro.voters, &ro.voter_count, err,
		                         err_len);
		if (e != SL_OK)
			return e;
	}
	return raft_open(&ro, &n->raft, err, err_len);
}

/* The controller (controller role) over the replayed image. */
static enum sl_err node_open_controller(struct node *n, char *err, size_t err_len)
{
	const struct node_config *c = n->config;
	if (!(c->roles & NODE_ROLE_CONTROLLER))
		return SL_OK;
	struct ctl_opts co = {
	        .log = n->raft,
	        .image = n->meta.img,
	        .env = {.num_partitions = c->num_partitions,
	                .default_replication_factor = c->default_replication_factor,
	                .metadata_version = meta_image_metadata_version(n->meta.img)},
	        .cluster_id = n->dirs.cluster_id,
	        .session_timeout_ms = c->broker_session_timeout_ms,
	        .node_id = c->node_id,
	};
	enum sl_err e = ctl_create(&co, &n->ctl);
	if (e != SL_OK)
		snprintf(err, err_len, "cannot create the controller: %s", sl_err_msg(e));
	n->meta.ctl = n->ctl;
	return e;
}

static enum sl_err node_open_broker(struct node *n, char *err, size_t err_len)
{
	const struct node_config *c = n->config;
	bool broker = (c->roles & NODE_ROLE_BROKER) != 0;
	enum sl_err e = node_broker_configs(c, &n->configs, &n->config_count);
	if (e != SL_OK) {
		snprintf(err, err_len, "cannot list the broker configs: %s", sl_err_msg(e));
		return e;
	}
	struct brk_opts bo = {
	        .node_id = c->node_id,
	        .cluster_id = n->dirs.cluster_id,
	        .loop = n->loop,
	        .logs = n->logs,
	        .ctl = n->ctl,
	        .raft = n->raft,
	        .log_dirs = n->logs != NULL ? n->log_dir_ptrs : NULL,
	        .log_dir_count = n->logs != NULL ? c->log_dir_count : 0,
	        .auto_create_topics_enable = c->auto_create_topics_enable,
	        .delete_topic_enable = c->delete_topic_enable,
	        .num_partitions = c->num_partitions,
	        .default_replication_factor = c->default_replication_factor,
	        .fetch_max_bytes = c->fetch_max_bytes,
	        .max_incremental_fetch_session_cache_slots =
	                c->max_incremental_fetch_session_cache_slots,
	        .configs = n->configs,
	        .config_count = n->config_count,
	        .controller_fallback_addr = n->controller_addr,
	        .controller_request_timeout_ms = c->quorum_request_timeout_ms,
	};
	e = brk_create(&bo, &n->brk);
	if (e != SL_OK) {
		snprintf(err, err_len, "cannot create the broker: %s", sl_err_msg(e));
		return e;
	}
	if (broker) {
		/* From here on every committed batch reaches the broker; this first image makes
		 * it create the logs of every partition the replay found. */
		n->meta.brk = n->brk;
		brk_set_image(n->brk, n->meta.img);
	}
	return SL_OK;
}

/* A port still held by a process just killed (kill -9; on io_uring the kernel releases the
 * ring's sockets asynchronously, tens of ms later) is retried this long before giving up. */
#define NODE_BIND_RETRY_MS 50
#define NODE_BIND_RETRY_FOR_MS 2000

/* Listens on l; an address in use is retried every NODE_BIND_RETRY_MS for up to
 * NODE_BIND_RETRY_FOR_MS (one INFO line), then fails with the same error as a first try.
 * Blocks: runs at start-up, before the loop serves anything. */
static enum sl_err node_listen_one(struct node *n, const struct node_listener *l, char *err,
                                   size_t err_len)
{
	int64_t deadline = sl_mono_ms() + NODE_BIND_RETRY_FOR_MS;
	bool logged = false;
	for (;;) {
		enum sl_err e = net_server_listen(n->net, l->name, l->is_controller, l->host,
		                                  l->port, NULL, err, err_len);
		if (e != SL_EADDRINUSE || sl_mono_ms() >= deadline)
			return e;
		if (!logged) {
			SL_INFO(n->log_ctx,
			        "listener %s: port %u in use; retrying every %d ms for up to %d ms",
			        l->name, (unsigned)l->port, NODE_BIND_RETRY_MS,
			        NODE_BIND_RETRY_FOR_MS);
			logged = true;
		}
		struct timespec ts = {.tv_sec = 0, .tv_nsec = NODE_BIND_RETRY_MS * 1000000L};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

/* Listens on the controller listeners (controllers = true) or on the others. */
static enum sl_err node_listen_some(struct node *n, bool controllers, char *err, size_t err_len)
{
	const struct node_config *c = n->config;
	for (size_t i = 0; i < c->listener_count; i++) {
		if (c->listeners[i].is_controller != controllers)
			continue;
		enum sl_err e = node_listen_one(n, &c->listeners[i], err, err_len);
		if (e != SL_OK)
			return e;
		if (controllers && n->controller_addr[0] == '\0') {
			const char *a = net_server_listener_addr(n->net, n->listen_count);
			if (strncmp(a, "0.0.0.0:", 8) == 0)
				snprintf(n->controller_addr, sizeof(n->controller_addr),
				         "127.0.0.1:%s", a + 8);
			else
				snprintf(n->controller_addr, sizeof(n->controller_addr), "%s", a);
		}
		n->listen_order[n->listen_count++] = i;
	}
	return SL_OK;
}

static enum sl_err node_listen(struct node *n, char *err, size_t err_len)
{
	const struct node_config *c = n->config;
	struct net_server_opts no = {
	        .request_max_bytes = c->socket_request_max_bytes,
	        .max_connections = c->max_connections,
	        .idle_ms = c->connections_max_idle_ms,
	        .send_buffer_bytes = c->socket_send_buffer_bytes,
	        .recv_buffer_bytes = c->socket_receive_buffer_bytes,
	        .dispatch = brk_dispatch,
	        .dispatch_ctx = n->brk,
	        .zero_copy = (enum net_zero_copy)c->net_zero_copy,
	};
	enum sl_err e = net_server_create(n->loop, &no, &n->net);
	if (e != SL_OK) {
		snprintf(err, err_len, "cannot create the network server: %s", sl_err_msg(e));
		return e;
	}
	/* The controller listeners first: in a combined node this broker registers through
	 * them. The broker listeners open once the broker is unfenced (node_loop). */
	return node_listen_some(n, true, err, err_len);
}

/* The advertised listeners of one kind (controller or broker), at most 16. */
static size_t node_ads(const struct node_config *c, bool controller,
                       struct brk_listener_ad ads[NODE_MAX_LISTENERS])
{
	size_t k = 0;
	for (size_t i = 0; i < c->advertised_count && k < 16; i++) {
		const struct node_listener *l = &c->advertised[i];
		if (l->is_controller != controller)
			continue;
		ads[k++] = (struct brk_listener_ad){.name = l->name,
		                                    .host = l->host[0] ? l->host : "localhost",
		                                    .port = l->port,
		                                    .security_protocol = (int16_t)l->protocol};
	}
	return k;
}

/* The broker's registration and heartbeats (kraft.md §5), as the advertised listeners; a
 * controller's registration (KIP-919). */
static enum sl_err node_start_lifecycle(struct node *n, char *err, size_t err_len)
{
	const struct node_config *c = n->config;
	struct brk_listener_ad ads[NODE_MAX_LISTENERS];
	if (c->roles & NODE_ROLE_CONTROLLER) {
		enum sl_err e =
		        brk_controller_registration_start(n->brk, ads, node_ads(c, true, ads));
		if (e != SL_OK) {
			snprintf(err, err_len, "cannot start the controller registration: %s",
			         sl_err_msg(e));
			return e;
		}
	}
	if (!(c->roles & NODE_ROLE_BROKER))
		return SL_OK;
	size_t k = node_ads(c, false, ads);
	struct brk_lifecycle_opts lo = {
	        .listeners = ads,
	        .listener_count = k,
	        .rack = c->rack[0] ? c->rack : NULL,
	        .heartbeat_interval_ms = c->broker_heartbeat_interval_ms,
	};
	enum sl_err e = brk_lifecycle_start(n->brk, &lo);
	if (e != SL_OK)
		snprintf(err, err_len, "cannot start the broker lifecycle: %s", sl_err_msg(e));
	return e;
}

static enum sl_err node_wire(struct node *n, char *err, size_t err_len)
{
	enum sl_err e = node_open_logs(n, err, err_len);
	if (e == SL_OK)
		e = node_open_controller(n, err, err_len);
	if (e == SL_OK)
		e = node_open_broker(n, err, err_len);
	if (e == SL_OK)
		e = node_listen(n, err, err_len);
	if (e == SL_OK)
		e = node_start_lifecycle(n, err, err_len);
	return e;
}

static void log_metadata(struct node *n)
{
	size_t topics, partitions;
	node_meta_counts(n->meta.img, &topics, &partitions);
	SL_INFO(n->log_ctx,
	        "metadata: %zu topics, %zu partitions loaded; metadata log end offset %" PRId64
	        ", image offset %" PRId64 ", epoch %d, metadata.version %d",
	        topics, partitions, raft_end_offset(n->raft), meta_image_offset(n->meta.img),
	        (int)raft_epoch(n->raft), (int)meta_image_metadata_version(n->meta.img));
}

static void log_started(struct node *n)
{
	const struct node_config *c = n->config;
	char listeners[1024] = "";
	size_t used = 0;
	for (size_t i = 0; i < n->listen_count && used < sizeof(listeners); i++) {
		int w = snprintf(listeners + used, sizeof(listeners) - used, "%s%s://%s",
		                 i ? "," : "", c->listeners[n->listen_order[i]].name,
		                 net_server_listener_addr(n->net, i));
		used += w > 0 ? (size_t)w : 0;
	}
	const char *roles = c->roles == (NODE_ROLE_BROKER | NODE_ROLE_CONTROLLER)
	                            ? "broker,controller"
	                    : c->roles == NODE_ROLE_BROKER ? "broker"
	                                                   : "controller";
	SL_INFO(n->log_ctx,
	        "started: roles=%s cluster.id=%s listeners=%s io.backend=%s zero.copy=%s", roles,
	        n->dirs.cluster_id, listeners, io_backend_name(io_loop_backend(n->loop)),
	        net_zero_copy_name(net_server_zero_copy(n->net)));
}

/* config.c stores these enums as ints (config stays free of the io and net layers). */
static_assert(IO_BACKEND_AUTO == 0 && IO_BACKEND_URING == 1 && IO_BACKEND_SYNC == 2,
              "sluice.io.backend values in config.c");
static_assert(NET_ZC_DEFAULT == 0 && NET_ZC_SPLICE == 1 && NET_ZC_SENDFILE == 2 && NET_ZC_COPY == 3,
              "sluice.net.zero.copy values in config.c");

/* ---- the tick and the start-up / controlled-shutdown phases ------------------------------- */

#define NODE_TICK_MS 25
#define NODE_WAIT_LOG_MS 5000

static void tick_arm(struct node *n);

static void tick_done(struct io_op *op, void *ctx)
{
	struct node *n = ctx;
	n->tick_in_flight = false;
	if (op->err == SL_ECANCELED || n->stopping)
		return;
	int64_t now = sl_mono_ms();
	if (n->ctl != NULL)
		ctl_tick(n->ctl, now);
	if (n->config->roles & NODE_ROLE_BROKER)
		brk_lifecycle_tick(n->brk, now);
	if (n->config->roles & NODE_ROLE_CONTROLLER)
		brk_controller_registration_tick(n->brk, n->meta.img, now);
	tick_arm(n);
}

static void tick_arm(struct node *n)
{
	memset(&n->tick_op, 0, sizeof(n->tick_op));
	n->tick_in_flight = true;
	io_timeout(n->loop, &n->tick_op, NODE_TICK_MS, tick_done, n);
}

static void tick_cancel_done(struct io_op *op, void *ctx)
{
	(void)op;
	struct node *n = ctx;
	n->tick_cancel_in_flight = false;
}

static void log_started(struct node *n);

/* Start-up: the broker listeners open once the controller has unfenced this broker. false
 * when the first registration did not succeed in time (err set). */
static bool node_open_broker_listeners(struct node *n, int64_t started_ms, char *err,
                                       size_t err_len)
{
	const struct node_config *c = n->config;
	int64_t now = sl_mono_ms();
	if (c->roles & NODE_ROLE_BROKER) {
		enum brk_state st = brk_lifecycle_state(n->brk);
		if (st != BRK_STATE_RUNNING) {
			if (now - started_ms > c->initial_broker_registration_timeout_ms &&
			    st == BRK_STATE_STARTING) {
				snprintf(err, err_len,
				         "the broker did not register with the controller quorum "
				         "within initial.broker.registration.timeout.ms (%" PRId64
				         " ms)",
				         c->initial_broker_registration_timeout_ms);
				return false;
			}
			if (now >= n->next_wait_log_ms) {
				if (n->next_wait_log_ms > 0)
					SL_INFO(n->log_ctx,
					        "waiting for the controller to register and "
					        "unfence "
					        "this broker (state %d, metadata offset %" PRId64
					        ")",
					        (int)st, raft_end_offset(n->raft));
				n->next_wait_log_ms = now + NODE_WAIT_LOG_MS;
			}
			return true;
		}
		enum sl_err e = node_listen_some(n, false, err, err_len);
		if (e != SL_OK)
			return false;
	}
	n->broker_listening = true;
	log_started(n);
	return true;
}

/* True once nothing the node must wait for is in flight. */
static bool node_drained(const struct node *n)
{
	return net_server_stopped(n->net) && !brk_busy(n->brk) && !raft_busy(n->raft);
}

/* A controlled shutdown that has not reached any active controller for this long stops
 * waiting: nobody is left to move the leaderships (the last voters of a cluster being
 * stopped, or every controller down). A controller failover takes less. */
#define NODE_SHUTDOWN_UNREACHABLE_MS 3000

/* Ends the controlled shutdown when it completed, timed out, or cannot complete. */
static void node_check_controlled_shutdown(struct node *n)
{
	int64_t now = sl_mono_ms();
	if (brk_lifecycle_state(n->brk) == BRK_STATE_SHUTTING_DOWN) {
		SL_INFO(n->log_ctx, "controlled shutdown complete");
		node_begin_stop(n);
		return;
	}
	if (now >= n->controlled_shutdown_deadline_ms) {
		SL_WARN(n->log_ctx, "controlled shutdown timed out; stopping anyway");
		node_begin_stop(n);
		return;
	}
	int64_t since =
	        SL_MAX(brk_lifecycle_last_contact_ms(n->brk), n->controlled_shutdown_start_ms);
	if (now - since >= NODE_SHUTDOWN_UNREACHABLE_MS) {
		SL_WARN(n->log_ctx,
		        "controlled shutdown: no active controller answered for %d ms; "
		        "stopping without it",
		        NODE_SHUTDOWN_UNREACHABLE_MS);
		node_begin_stop(n);
	}
}

/* Cancels the signal read and the tick; true once neither is in flight. */
static bool node_ops_idle(struct node *n)
{
	if (n->sig_in_flight && !n->sig_cancel_in_flight) {
		n->sig_cancel_in_flight = true;
		io_cancel(n->loop, &n->sig_cancel_op, &n->sig_op, sig_cancel_done, n);
	}
	if (n->tick_in_flight && !n->tick_cancel_in_flight) {
		n->tick_cancel_in_flight = true;
		io_cancel(n->loop, &n->tick_cancel_op, &n->tick_op, tick_cancel_done, n);
	}
	return !n->sig_in_flight && !n->sig_cancel_in_flight && !n->tick_in_flight &&
	       !n->tick_cancel_in_flight;
}

/* Runs the loop until a stop (signal or metadata failure) has drained every request. A
 * broker that never got unfenced within initial.broker.registration.timeout.ms fails with
 * SL_ETIMEDOUT (err set). */
static enum sl_err node_loop(struct node *n, char *err, size_t err_len)
{
	enum sl_err result = SL_OK;
	int64_t started_ms = sl_mono_ms();
	for (;;) {
		if (!n->stopping && n->meta.failed)
			node_begin_stop(n);
		if (!n->stopping && !n->broker_listening &&
		    !node_open_broker_listeners(n, started_ms, err, err_len)) {
			SL_ERROR(n->log_ctx, "%s", err);
			result = SL_ETIMEDOUT;
			node_begin_stop(n);
		}
		if (n->controlled_shutdown && !n->stopping)
			node_check_controlled_shutdown(n);
		if (n->stopping && node_drained(n) && node_ops_idle(n))
			break;
		io_loop_run_once(n->loop, -1);
	}
	return result;
}

/* Closes the partition logs clean (retrying while an append is still in flight), else not. */
static void node_close_logs(struct node *n)
{
	if (n->logs == NULL)
		return;
	char err[512] = "";
	int64_t deadline = sl_mono_ms() + 5000;
	enum sl_err e;
	while ((e = stor_log_manager_close(n->logs, true, err, sizeof(err))) == SL_EAGAIN &&
	       sl_mono_ms() < deadline)
		io_loop_run_once(n->loop, 10);
	if (e == SL_EAGAIN) {
		SL_WARN(n->log_ctx, "appends still in flight; closing the logs without a clean "
		                    "shutdown marker");
		e = stor_log_manager_close(n->logs, false, err, sizeof(err));
	}
	if (e != SL_OK)
		SL_ERROR(n->log_ctx, "closing the logs: %s", err[0] ? err : sl_err_msg(e));
	n->logs = NULL;
}

static void node_teardown(struct node *n)
{
	if (n->net != NULL && !net_server_stopped(n->net)) {
		/* A start-up failure after some listeners opened: stop them properly. */
		net_server_stop(n->net);
		while (!net_server_stopped(n->net))
			io_loop_run_once(n->loop, -1);
	}
	net_server_destroy(n->net);
	n->meta.brk = NULL;
	brk_destroy(n->brk);
	node_close_logs(n);
	raft_close(n->raft); /* waits for proposals still in flight (none after node_loop) */
	n->meta.ctl = NULL;
	ctl_destroy(n->ctl);
	if (n->meta_ready)
		node_meta_fini(&n->meta);
	free(n->configs);
	if (n->loop != NULL) {
		(void)node_ops_idle(n);
		while (io_loop_pending(n->loop) > 0)
			io_loop_run_once(n->loop, -1);
		io_loop_destroy(n->loop);
	}
	signals_remove(n);
}

enum sl_err node_run(const struct node_config *c, char *err, size_t err_len)
{
	struct node n;
	memset(&n, 0, sizeof(n));
	n.config = c;
	n.sig_fds[0] = n.sig_fds[1] = -1;
	snprintf(n.log_ctx, sizeof(n.log_ctx), "node=%d", c->node_id);
	sl_log_set_level(c->log_level);
	enum sl_err e = node_dirs_verify(c, &n.dirs, err, err_len);
	if (e != SL_OK)
		return e;
	struct io_loop_opts lo = {.backend = (enum io_backend)c->io_backend};
	e = io_loop_create(&lo, &n.loop, err, err_len);
	if (e == SL_OK)
		e = signals_install(&n, err, err_len);
	if (e == SL_OK)
		e = node_wire(&n, err, err_len);
	if (e != SL_OK) {
		node_teardown(&n);
		return e;
	}
	sig_arm(&n);
	tick_arm(&n);
	log_metadata(&n);
	e = node_loop(&n, err, err_len);
	node_teardown(&n);
	SL_INFO(n.log_ctx, "stopped");
	return e;
}
