/*
 * node.c: start-up, the event loop and shut-down of a node.
 *
 * Start-up: verify the formatted dirs (node_dirs_verify, Kafka's rules) -> create the io loop
 * (sluice.io.backend) -> create the broker request layer -> listen on every listener -> log
 * one line with the listeners and the io backend. A controller-only node runs its controller
 * listeners the same way for now (they answer ApiVersions); Raft comes in a later issue.
 *
 * Signals: SIGTERM and SIGINT are caught by a handler that writes the signal number to a
 * socketpair; the loop reads the other end with io_recv. (A signalfd read would be a file read,
 * which the sync backend runs to completion, blocking the loop; a socket works the same on
 * both backends.)
 *
 * Shut-down: net_server_stop, then run the loop until net and the signal reader are idle.
 */
#include "node.h"

#include "broker.h"
#include "io.h"
#include "net.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct node {
	const struct node_config *config;
	struct node_dirs_state dirs;
	struct io_loop *loop;
	struct brk *brk;
	struct net_server *net;
	int sig_fds[2]; /* [0] read by the loop, [1] written by the handler */
	struct io_op sig_op;
	struct io_op sig_cancel_op;
	bool sig_in_flight;
	bool sig_cancel_in_flight;
	uint8_t sig_buf[16];
	bool stopping;
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
	}
	n->stopping = true;
	net_server_stop(n->net);
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

/* The broker listener clients are told about (Metadata), or NULL on a controller-only node. */
static const struct node_listener *advertised_broker(const struct node_config *c)
{
	for (size_t i = 0; i < c->advertised_count; i++) {
		if (!c->advertised[i].is_controller)
			return &c->advertised[i];
	}
	return NULL;
}

static enum sl_err node_wire(struct node *n, char *err, size_t err_len)
{
	const struct node_config *c = n->config;
	const struct node_listener *adv = advertised_broker(c);
	struct brk_opts bo = {
	        .node_id = c->node_id,
	        .cluster_id = n->dirs.cluster_id,
	        .advertised_host = adv != NULL ? adv->host : "",
	        .advertised_port = adv != NULL ? adv->port : 0,
	};
	enum sl_err e = brk_create(&bo, &n->brk);
	if (e != SL_OK) {
		snprintf(err, err_len, "cannot create the broker: %s", sl_err_msg(e));
		return e;
	}
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
	e = net_server_create(n->loop, &no, &n->net);
	if (e != SL_OK) {
		snprintf(err, err_len, "cannot create the network server: %s", sl_err_msg(e));
		return e;
	}
	for (size_t i = 0; i < c->listener_count; i++) {
		const struct node_listener *l = &c->listeners[i];
		e = net_server_listen(n->net, l->name, l->is_controller, l->host, l->port, NULL,
		                      err, err_len);
		if (e != SL_OK)
			return e;
	}
	return SL_OK;
}

static void log_started(struct node *n)
{
	const struct node_config *c = n->config;
	char listeners[1024] = "";
	size_t used = 0;
	for (size_t i = 0; i < c->listener_count && used < sizeof(listeners); i++) {
		int w = snprintf(listeners + used, sizeof(listeners) - used, "%s%s://%s",
		                 i ? "," : "", c->listeners[i].name,
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

/* Runs the loop until a signal has stopped the server and every op has finished. */
static void node_loop(struct node *n)
{
	for (;;) {
		if (n->stopping && net_server_stopped(n->net)) {
			if (!n->sig_in_flight && !n->sig_cancel_in_flight)
				break;
			if (n->sig_in_flight && !n->sig_cancel_in_flight) {
				n->sig_cancel_in_flight = true;
				io_cancel(n->loop, &n->sig_cancel_op, &n->sig_op, sig_cancel_done,
				          n);
			}
		}
		io_loop_run_once(n->loop, -1);
	}
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
	brk_destroy(n->brk);
	if (n->loop != NULL) {
		if (n->sig_in_flight && !n->sig_cancel_in_flight) {
			n->sig_cancel_in_flight = true;
			io_cancel(n->loop, &n->sig_cancel_op, &n->sig_op, sig_cancel_done, n);
		}
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
	log_started(&n);
	node_loop(&n);
	node_teardown(&n);
	SL_INFO(n.log_ctx, "stopped");
	return SL_OK;
}
