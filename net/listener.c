/*
 * listener.c: listening sockets and the accept loop.
 *
 * Each listener keeps exactly one accept in flight while it is open. An accept error other
 * than a cancel (EMFILE, ENFILE, ...) is logged and retried after NET_ACCEPT_RETRY_MS, so a
 * descriptor shortage cannot spin the loop. Over max.connections a new socket is accepted and
 * closed at once (with one log line), as Kafka's SocketServer does.
 */
#include "net_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void net_format_addr(const struct sockaddr *sa, char *out, size_t out_len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
		snprintf(out, out_len, "%s:%u", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, sizeof(ip));
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			snprintf(out, out_len, "%s:%u", ip, port);
		else
			snprintf(out, out_len, "[%s]:%u", ip, port);
	} else {
		snprintf(out, out_len, "local");
	}
}

/* Creates, binds and listens one socket for ai; -errno on failure. */
static int listen_one(int family, const struct sockaddr *addr, socklen_t addr_len, bool dual)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	int zero = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual ? &zero : &one, sizeof(int));
	if (bind(fd, addr, addr_len) != 0 || listen(fd, NET_LISTEN_BACKLOG) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* "" binds every interface: a dual-stack IPv6 socket, or IPv4 if IPv6 is unavailable. */
static int listen_any(uint16_t port)
{
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	in6.sin6_addr = in6addr_any;
	int fd = listen_one(AF_INET6, (struct sockaddr *)&in6, sizeof(in6), true);
	if (fd >= 0 || fd == -EADDRINUSE)
		return fd;
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
	in.sin_addr.s_addr = htonl(INADDR_ANY);
	return listen_one(AF_INET, (struct sockaddr *)&in, sizeof(in), false);
}

static int listen_host(const char *host, uint16_t port, char *err, size_t err_len)
{
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	                         .ai_family = AF_UNSPEC};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		snprintf(err, err_len, "cannot resolve listener host '%s': %s", host,
		         gai_strerror(rc));
		return -EINVAL;
	}
	int fd = -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = listen_one(ai->ai_family, ai->ai_addr, ai->ai_addrlen, false);
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, err_len, "cannot listen on %s:%u: %s", host, port, strerror(-fd));
	return fd;
}

enum sl_err net_listener_open(struct net_listener *l, const char *host, uint16_t port,
                              uint16_t *bound_port, char *err, size_t err_len)
{
	int fd;
	if (host[0] == '\0') {
		fd = listen_any(port);
		if (fd < 0)
			snprintf(err, err_len, "cannot listen on port %u: %s", port, strerror(-fd));
	} else {
		fd = listen_host(host, port, err, err_len);
	}
	if (fd < 0)
		return fd == -EINVAL ? SL_EINVAL : sl_err_from_errno(-fd);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		int e = errno;
		close(fd);
		snprintf(err, err_len, "getsockname: %s", strerror(e));
		return sl_err_from_errno(e);
	}
	uint16_t actual = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                                 : ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(l->addr, sizeof(l->addr), "%s:%u", host[0] ? host : "*", actual);
	l->fd = fd;
	l->closed = false;
	if (bound_port != NULL)
		*bound_port = actual;
	return SL_OK;
}

static void accept_arm(struct net_listener *l);

static void retry_done(struct io_op *op, void *ctx)
{
	(void)op;
	struct net_listener *l = ctx;
	l->retry_in_flight = false;
	if (l->closed) {
		net_server_check_stopped(l->srv);
		return;
	}
	accept_arm(l);
}

static void accepted(struct net_listener *l, int fd)
{
	struct net_server *s = l->srv;
	char peer[NET_PEER_MAX] = "?";
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		net_format_addr((struct sockaddr *)&ss, peer, sizeof(peer));
	s->stats.accepted++;
	/* Controller listeners carry the cluster's own traffic (Raft, broker heartbeats): like
	 * Kafka's protected inter-broker listener they are not limited by max.connections. */
	if (!l->is_controller && s->conn_count >= (unsigned)s->opts.max_connections) {
		s->stats.rejected_over_limit++;
		SL_WARN(NULL,
		        "listener %s: rejecting connection from %s: max.connections %d reached",
		        l->name, peer, s->opts.max_connections);
		close(fd);
		return;
	}
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->opts.send_buffer_bytes > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s->opts.send_buffer_bytes,
		                 sizeof(int));
	if (s->opts.recv_buffer_bytes > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &s->opts.recv_buffer_bytes,
		                 sizeof(int));
	if (net_conn_open(s, fd, l->name, l->is_controller, peer, NULL) != SL_OK) {
		SL_ERROR(NULL, "listener %s: out of memory for connection from %s", l->name, peer);
		close(fd);
	}
}

static void accept_done(struct io_op *op, void *ctx)
{
	struct net_listener *l = ctx;
	l->accept_in_flight = false;
	if (op->err == SL_OK && l->closed) {
		close((int)op->res);
	} else if (op->err == SL_OK) {
		accepted(l, (int)op->res);
	}
	if (l->closed) {
		net_server_check_stopped(l->srv);
		return;
	}
	if (op->err != SL_OK && op->err != SL_ECANCELED) {
		SL_WARN(NULL, "listener %s: accept failed: %s; retrying in %d ms", l->name,
		        strerror(op->errno_value), NET_ACCEPT_RETRY_MS);
		l->retry_in_flight = true;
		io_timeout(l->srv->loop, &l->retry_op, NET_ACCEPT_RETRY_MS, retry_done, l);
		return;
	}
	accept_arm(l);
}

static void accept_arm(struct net_listener *l)
{
	SL_ASSERT(!l->accept_in_flight);
	l->accept_in_flight = true;
	io_accept(l->srv->loop, &l->accept_op, l->fd, accept_done, l);
}

void net_listener_start(struct net_listener *l)
{
	accept_arm(l);
}

static void listener_cancel_done(struct io_op *op, void *ctx)
{
	(void)op;
	struct net_listener *l = ctx;
	l->cancel_in_flight = false;
	net_server_check_stopped(l->srv);
}

void net_listener_stop(struct net_listener *l)
{
	if (l->closed)
		return;
	l->closed = true;
	/* shutdown() wakes a pending accept on Linux; the cancel covers the io_uring case. */
	(void)shutdown(l->fd, SHUT_RDWR);
	if (l->accept_in_flight) {
		l->cancel_in_flight = true;
		io_cancel(l->srv->loop, &l->cancel_op, &l->accept_op, listener_cancel_done, l);
	}
	if (l->retry_in_flight && !l->cancel_in_flight) {
		l->cancel_in_flight = true;
		io_cancel(l->srv->loop, &l->cancel_op, &l->retry_op, listener_cancel_done, l);
	}
}

bool net_listener_idle(const struct net_listener *l)
{
	return !l->accept_in_flight && !l->retry_in_flight && !l->cancel_in_flight;
}
