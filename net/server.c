/*
 * server.c: the net_server object: options, listeners, the periodic tick (idle connections,
 * stop deadline) and the graceful stop.
 *
 * Stop sequence: listeners stop accepting; every connection drains (no more reads, answered
 * responses are still sent) and closes; after stop_timeout_ms whatever is left is closed
 * hard. The server is stopped once no connection, listener op or tick op remains, so the
 * owner can run the loop until net_server_stopped() and then destroy everything.
 */
#include "net_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NET_DEFAULT_INFLIGHT 32
#define NET_DEFAULT_RESPONSE_MAX ((size_t)128 << 20)
#define NET_DEFAULT_STOP_MS 5000
#define NET_STOP_TICK_MS 20

static void tick_arm(struct net_server *s);

enum sl_err net_server_create(struct io_loop *loop, const struct net_server_opts *opts,
                              struct net_server **out)
{
	SL_ASSERT(loop != NULL);
	SL_ASSERT(opts != NULL);
	if (opts->dispatch == NULL || opts->request_max_bytes <= 0 || opts->max_connections < 0)
		return SL_EINVAL;
	struct net_server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SL_ENOMEM;
	s->loop = loop;
	s->opts = *opts;
	if (s->opts.inflight_max == 0)
		s->opts.inflight_max = NET_DEFAULT_INFLIGHT;
	if (s->opts.response_max_bytes == 0)
		s->opts.response_max_bytes = NET_DEFAULT_RESPONSE_MAX;
	if (s->opts.stop_timeout_ms <= 0)
		s->opts.stop_timeout_ms = NET_DEFAULT_STOP_MS;
	s->zero_copy = net_zero_copy_resolve(opts->zero_copy, io_loop_backend(loop));
	if (s->zero_copy != opts->zero_copy && opts->zero_copy != NET_ZC_DEFAULT)
		SL_INFO("net",
		        "sluice.net.zero.copy=%s is not available on the %s io backend; using %s",
		        net_zero_copy_name(opts->zero_copy), io_backend_name(io_loop_backend(loop)),
		        net_zero_copy_name(s->zero_copy));
	*out = s;
	return SL_OK;
}

enum sl_err net_server_listen(struct net_server *s, const char *name, bool is_controller,
                              const char *host, uint16_t port, uint16_t *bound_port, char *err,
                              size_t err_len)
{
	SL_ASSERT(!s->stopping);
	if (s->listener_count == NET_LISTENERS_MAX) {
		snprintf(err, err_len, "too many listeners (max %d)", NET_LISTENERS_MAX);
		return SL_ELIMIT;
	}
	struct net_listener *l = &s->listeners[s->listener_count];
	memset(l, 0, sizeof(*l));
	l->srv = s;
	l->fd = -1;
	l->is_controller = is_controller;
	snprintf(l->name, sizeof(l->name), "%s", name);
	enum sl_err e = net_listener_open(l, host, port, bound_port, err, err_len);
	if (e != SL_OK)
		return e;
	s->listener_count++;
	net_listener_start(l);
	tick_arm(s);
	return SL_OK;
}

enum sl_err net_server_adopt(struct net_server *s, int fd, const char *peer, uint64_t *conn_id)
{
	SL_ASSERT(!s->stopping);
	s->stats.accepted++;
	if (s->conn_count >= (unsigned)s->opts.max_connections) {
		s->stats.rejected_over_limit++;
		close(fd);
		return SL_ELIMIT;
	}
	enum sl_err e = net_conn_open(s, fd, "adopted", false, peer, conn_id);
	if (e != SL_OK) {
		close(fd);
		return e;
	}
	tick_arm(s);
	return SL_OK;
}

void net_server_conn_gone(struct net_server *s, struct net_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	SL_ASSERT(s->conn_count > 0);
	s->conn_count--;
	s->stats.connections = s->conn_count;
}

static int64_t tick_period_ms(const struct net_server *s)
{
	if (s->stopping)
		return NET_STOP_TICK_MS;
	if (s->opts.idle_ms <= 0)
		return 1000;
	int64_t p = s->opts.idle_ms / 4;
	return p < 10 ? 10 : p > 1000 ? 1000 : p;
}

static void close_idle(struct net_server *s, int64_t now_ms)
{
	struct net_conn *c = s->conns;
	while (c != NULL) {
		struct net_conn *next = c->next;
		/* A request still with its handler (a long poll later) is not idleness. */
		if (c->state == NET_CONN_OPEN && c->handlers_outstanding == 0 &&
		    now_ms - c->last_active_ms >= s->opts.idle_ms) {
			s->stats.closed_idle++;
			SL_INFO(c->log_ctx,
			        "closing connection: idle for %lld ms (connections.max.idle.ms "
			        "%lld)",
			        (long long)(now_ms - c->last_active_ms),
			        (long long)s->opts.idle_ms);
			net_conn_close(c, NULL);
		}
		c = next;
	}
}

static void close_all(struct net_server *s, const char *reason)
{
	struct net_conn *c = s->conns;
	while (c != NULL) {
		struct net_conn *next = c->next;
		net_conn_close(c, reason);
		c = next;
	}
}

static void tick_done(struct io_op *op, void *ctx)
{
	(void)op;
	struct net_server *s = ctx;
	s->tick_in_flight = false;
	int64_t now = sl_mono_ms();
	if (s->stopping) {
		if (now >= s->stop_deadline_ms && s->conns != NULL)
			close_all(s, "server stopping: stop timeout reached");
		if (s->conn_count == 0) {
			net_server_check_stopped(s);
			return;
		}
	} else if (s->opts.idle_ms > 0) {
		close_idle(s, now);
	}
	tick_arm(s);
}

static void tick_arm(struct net_server *s)
{
	if (s->tick_in_flight)
		return;
	s->tick_in_flight = true;
	io_timeout(s->loop, &s->tick_op, tick_period_ms(s), tick_done, s);
}

static void tick_cancel_done(struct io_op *op, void *ctx)
{
	(void)op;
	struct net_server *s = ctx;
	s->tick_cancel_in_flight = false;
	net_server_check_stopped(s);
}

void net_server_check_stopped(struct net_server *s)
{
	if (!s->stopping || s->conn_count > 0)
		return;
	/* Nothing left to wait for: cut the tick short instead of letting it run out. */
	if (s->tick_in_flight && !s->tick_cancel_in_flight) {
		s->tick_cancel_in_flight = true;
		io_cancel(s->loop, &s->tick_cancel_op, &s->tick_op, tick_cancel_done, s);
	}
}

void net_server_stop(struct net_server *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	s->stop_deadline_ms = sl_mono_ms() + s->opts.stop_timeout_ms;
	for (size_t i = 0; i < s->listener_count; i++)
		net_listener_stop(&s->listeners[i]);
	struct net_conn *c = s->conns;
	while (c != NULL) {
		struct net_conn *next = c->next;
		net_conn_drain(c);
		c = next;
	}
	if (s->conn_count > 0)
		tick_arm(s);
	net_server_check_stopped(s);
}

bool net_server_stopped(const struct net_server *s)
{
	if (!s->stopping || s->conn_count > 0 || s->tick_in_flight || s->tick_cancel_in_flight)
		return false;
	for (size_t i = 0; i < s->listener_count; i++) {
		if (!net_listener_idle(&s->listeners[i]))
			return false;
	}
	return true;
}

void net_server_destroy(struct net_server *s)
{
	if (s == NULL)
		return;
	SL_ASSERT(s->conn_count == 0);
	SL_ASSERT(!s->tick_in_flight);
	for (size_t i = 0; i < s->listener_count; i++) {
		SL_ASSERT(net_listener_idle(&s->listeners[i]));
		if (s->listeners[i].fd >= 0)
			close(s->listeners[i].fd);
	}
	free(s);
}

void net_server_stats(const struct net_server *s, struct net_server_stats *out)
{
	*out = s->stats;
	out->connections = s->conn_count;
}

void net_server_check_invariants(const struct net_server *s)
{
	unsigned n = 0;
	for (const struct net_conn *c = s->conns; c != NULL; c = c->next) {
		SL_ASSERT(c->srv == s);
		SL_ASSERT(c->prev == NULL || c->prev->next == c);
		SL_ASSERT(c->next == NULL || c->next->prev == c);
		SL_ASSERT(!s->stopping || c->state != NET_CONN_OPEN);
		net_conn_check_invariants(c);
		n++;
	}
	SL_ASSERT(n == s->conn_count);
	SL_ASSERT(s->listener_count <= NET_LISTENERS_MAX);
}

const char *net_server_listener_addr(const struct net_server *s, size_t i)
{
	SL_ASSERT(i < s->listener_count);
	return s->listeners[i].addr;
}
