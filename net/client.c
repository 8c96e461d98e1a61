/*
 * client.c: a small synchronous Kafka client for the command-line tools (net.h, "client").
 *
 * One non-blocking TCP socket (every wait is a poll() bounded by the caller's deadline, so
 * nothing blocks past a timeout), one request in flight. A request is framed as a 4-byte
 * big-endian size, the request header (v1 or v2, wire_request_header_version) and the body;
 * the response is read whole into a reusable buffer, its header checked against the
 * correlation id we sent, and its body decoded with the generated codec, which must consume
 * every byte.
 *
 * Invariants:
 *   - fd >= 0 while the client is usable; after any I/O or protocol error it is closed and
 *     set to -1, so a half-read response can never be mistaken for the next one.
 *   - versions[k] is -1 or inside both the broker's and our codec's range for key k.
 *   - A response frame is at most NET_CLIENT_FRAME_MAX bytes; nothing larger is allocated.
 */
#include "net.h"

#include "frame.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_CLIENT_FRAME_MAX (256u * 1024u * 1024u)
#define NET_CLIENT_REQUEST_MAX (256u * 1024u * 1024u)
#define NET_CLIENT_KEYS NET_FRAME_KEYS
#define NET_CLIENT_HOST_MAX 256
#define NET_CLIENT_ID_MAX 128
#define NET_CLIENT_API_VERSIONS 18
#define NET_CLIENT_ARENA_BYTES (1u << 20)

struct net_client {
	int fd;
	int32_t correlation_id;
	char addr[NET_CLIENT_HOST_MAX + 16];
	char client_id[NET_CLIENT_ID_MAX];
	int16_t versions[NET_CLIENT_KEYS];
	struct sl_buf out; /* the request being sent */
	struct sl_buf in;  /* the last response frame (views of decoded responses point here) */
};

enum sl_err net_client_parse_addr(const char *addr, char *host, size_t host_len, uint16_t *port)
{
	const char *h = addr;
	size_t hlen;
	const char *p = NULL;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (close == NULL)
			return SL_EINVAL;
		h = addr + 1;
		hlen = (size_t)(close - h);
		if (close[1] == ':')
			p = close + 2;
		else if (close[1] != '\0')
			return SL_EINVAL;
	} else {
		const char *colon = strrchr(addr, ':');
		if (colon != NULL && strchr(addr, ':') != colon)
			colon = NULL; /* a bare IPv6 address: no port */
		hlen = colon != NULL ? (size_t)(colon - addr) : strlen(addr);
		p = colon != NULL ? colon + 1 : NULL;
	}
	if (hlen == 0 || hlen >= host_len)
		return SL_EINVAL;
	long v = NET_CLIENT_DEFAULT_PORT;
	if (p != NULL) {
		char *end;
		errno = 0;
		v = strtol(p, &end, 10);
		if (*p == '\0' || *end != '\0' || errno != 0 || v < 1 || v > 65535)
			return SL_EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)v;
	return SL_OK;
}

/* Milliseconds left until deadline_ms (monotonic), at least 0, as an int for poll(). */
static int client_left_ms(int64_t deadline_ms)
{
	int64_t left = deadline_ms - sl_mono_ms();
	if (left < 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Waits until fd is ready for events or the deadline passes. */
static enum sl_err client_wait(int fd, short events, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int n = poll(&pfd, 1, client_left_ms(deadline_ms));
		if (n > 0)
			return SL_OK;
		if (n == 0)
			return SL_ETIMEDOUT;
		if (errno != EINTR)
			return sl_err_from_errno(errno);
	}
}

/* Connects one resolved address; *sys_errno gets the reason on failure. */
static int client_connect_one(const struct addrinfo *ai, int64_t deadline_ms, int *sys_errno)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                ai->ai_protocol);
	if (fd < 0) {
		*sys_errno = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS) {
			*sys_errno = errno;
			close(fd);
			return -1;
		}
		if (client_wait(fd, POLLOUT, deadline_ms) != SL_OK) {
			*sys_errno = ETIMEDOUT;
			close(fd);
			return -1;
		}
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
			*sys_errno = soerr != 0 ? soerr : errno;
			close(fd);
			return -1;
		}
	}
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Resolves host:port and connects the first address that accepts. */
static enum sl_err client_open(struct net_client *c, const char *host, uint16_t port,
                               int64_t deadline_ms, char *err, size_t err_len)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char port_str[8];
	snprintf(port_str, sizeof(port_str), "%u", (unsigned)port);
	int rc = getaddrinfo(host, port_str, &hints, &res);
	if (rc != 0) {
		snprintf(err, err_len, "cannot connect to %s: %s", c->addr, gai_strerror(rc));
		return SL_EINVAL;
	}
	int sys_errno = ECONNREFUSED;
	for (const struct addrinfo *ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next)
		c->fd = client_connect_one(ai, deadline_ms, &sys_errno);
	freeaddrinfo(res);
	if (c->fd >= 0)
		return SL_OK;
	snprintf(err, err_len, "cannot connect to %s: %s", c->addr,
	         sys_errno == ETIMEDOUT ? "Connection timed out" : strerror(sys_errno));
	return sl_err_from_errno(sys_errno);
}

static void client_fail(struct net_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static enum sl_err client_send_all(struct net_client *c, const uint8_t *p, size_t n,
                                   int64_t deadline_ms)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == EPIPE || errno == ECONNRESET ? SL_ECLOSED
			                                             : sl_err_from_errno(errno);
		enum sl_err e = client_wait(c->fd, POLLOUT, deadline_ms);
		if (e != SL_OK)
			return e;
	}
	return SL_OK;
}

static enum sl_err client_recv_all(struct net_client *c, uint8_t *p, size_t n, int64_t deadline_ms)
{
	while (n > 0) {
		ssize_t r = recv(c->fd, p, n, 0);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0)
			return SL_ECLOSED;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == ECONNRESET ? SL_ECLOSED : sl_err_from_errno(errno);
		enum sl_err e = client_wait(c->fd, POLLIN, deadline_ms);
		if (e != SL_OK)
			return e;
	}
	return SL_OK;
}

/* Reads one response frame into c->in (without its size prefix). */
static enum sl_err client_read_frame(struct net_client *c, int64_t deadline_ms)
{
	uint8_t size_be[4];
	enum sl_err e = client_recv_all(c, size_be, sizeof(size_be), deadline_ms);
	if (e != SL_OK)
		return e;
	int32_t size = (int32_t)sl_load_be32(size_be);
	if (size < 4 || (uint32_t)size > NET_CLIENT_FRAME_MAX)
		return SL_EMALFORMED;
	sl_buf_reset(&c->in);
	uint8_t *dst = sl_buf_extend(&c->in, (size_t)size);
	if (dst == NULL)
		return SL_ENOMEM;
	return client_recv_all(c, dst, (size_t)size, deadline_ms);
}

/* Encodes header + body into c->out with the size prefix. */
static enum sl_err client_encode(struct net_client *c, int16_t api_key, int16_t version,
                                 const void *req)
{
	sl_buf_reset(&c->out);
	return net_frame_encode_request(&c->out, api_key, version, ++c->correlation_id,
	                                c->client_id, req, NULL);
}

static const char *client_err_text(enum sl_err e)
{
	switch (e) {
	case SL_ETIMEDOUT:
		return "timed out waiting for a response";
	case SL_ECLOSED:
		return "the broker closed the connection";
	case SL_EMALFORMED:
		return "malformed response";
	case SL_ENOMEM:
		return "response or request too large";
	default:
		return sl_err_msg(e);
	}
}

/* Decodes the frame in c->in: response header, then the body, which must be consumed. */
static enum sl_err client_decode(struct net_client *c, int16_t api_key, int16_t version, void *resp,
                                 struct sl_arena *arena)
{
	return net_frame_decode_response(c->in.data, c->in.len, api_key, version, c->correlation_id,
	                                 resp, arena);
}

enum sl_err net_client_call(struct net_client *c, int16_t api_key, int16_t version, const void *req,
                            void *resp, struct sl_arena *arena, int64_t timeout_ms, char *err,
                            size_t err_len)
{
	const struct wire_api_info *info = wire_api_info(api_key);
	SL_ASSERT(info != NULL);
	SL_ASSERT(version >= info->min_version && version <= info->max_version);
	if (c->fd < 0) {
		snprintf(err, err_len, "%s: connection already failed", c->addr);
		return SL_ECLOSED;
	}
	int64_t deadline_ms = sl_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	enum sl_err e = client_encode(c, api_key, version, req);
	if (e == SL_OK)
		e = client_send_all(c, c->out.data, c->out.len, deadline_ms);
	if (e == SL_OK && resp != NULL)
		e = client_read_frame(c, deadline_ms);
	if (e == SL_OK && resp != NULL)
		e = client_decode(c, api_key, version, resp, arena);
	if (e != SL_OK) {
		snprintf(err, err_len, "%s (%s v%d): %s", c->addr, info->name, version,
		         client_err_text(e));
		client_fail(c);
	}
	return e;
}

/* One ApiVersions exchange at version. A broker that does not know the version answers
 * with a v0 body (KIP-511), so a body that does not decode at version is retried at v0. */
static enum sl_err client_api_versions(struct net_client *c, int16_t version,
                                       struct wire_api_versions_response *resp,
                                       struct sl_arena *arena, int64_t deadline_ms)
{
	struct wire_api_versions_request req;
	net_frame_api_versions_request(&req, "sluice-cli");
	wire_api_versions_response_init(resp);
	sl_arena_reset(arena);
	enum sl_err e = client_encode(c, NET_CLIENT_API_VERSIONS, version, &req);
	if (e == SL_OK)
		e = client_send_all(c, c->out.data, c->out.len, deadline_ms);
	if (e == SL_OK)
		e = client_read_frame(c, deadline_ms);
	if (e != SL_OK)
		return e;
	return net_frame_decode_api_versions(c->in.data, c->in.len, version, c->correlation_id,
	                                     resp, arena);
}

/* ApiVersions at our highest version; on UNSUPPORTED_VERSION retries once at the broker's
 * highest (listed in its error answer), then records the versions to use. */
static enum sl_err client_negotiate(struct net_client *c, int64_t deadline_ms, char *err,
                                    size_t err_len)
{
	const struct wire_api_info *info = wire_api_info(NET_CLIENT_API_VERSIONS);
	SL_ASSERT(info != NULL);
	struct sl_arena arena;
	sl_arena_init(&arena, 16384, NET_CLIENT_ARENA_BYTES);
	struct wire_api_versions_response resp;
	enum sl_err e = client_api_versions(c, info->max_version, &resp, &arena, deadline_ms);
	if (e == SL_OK && resp.error_code == WIRE_ERR_UNSUPPORTED_VERSION) {
		int16_t theirs = net_frame_api_versions_retry(&resp, info->max_version);
		if (theirs >= 0)
			e = client_api_versions(c, theirs, &resp, &arena, deadline_ms);
	}
	if (e != SL_OK) {
		snprintf(err, err_len, "%s (ApiVersions): %s", c->addr, client_err_text(e));
	} else if (resp.error_code != WIRE_ERR_NONE) {
		snprintf(err, err_len, "%s: ApiVersions failed: %s", c->addr,
		         wire_err_name(resp.error_code));
		e = SL_EUNSUPPORTED;
	} else {
		net_frame_versions(&resp, c->versions, NULL, NULL);
	}
	sl_arena_free(&arena);
	return e;
}

enum sl_err net_client_connect(const char *addr, const char *client_id, int64_t timeout_ms,
                               struct net_client **out, char *err, size_t err_len)
{
	char host[NET_CLIENT_HOST_MAX];
	uint16_t port;
	if (net_client_parse_addr(addr, host, sizeof(host), &port) != SL_OK) {
		snprintf(err, err_len, "invalid broker address '%s' (expected HOST:PORT)", addr);
		return SL_EINVAL;
	}
	struct net_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, err_len, "out of memory");
		return SL_ENOMEM;
	}
	c->fd = -1;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	snprintf(c->client_id, sizeof(c->client_id), "%s",
	         client_id != NULL ? client_id : "sluice-cli");
	for (size_t k = 0; k < NET_CLIENT_KEYS; k++)
		c->versions[k] = -1;
	sl_buf_init(&c->out, NET_CLIENT_REQUEST_MAX);
	sl_buf_init(&c->in, NET_CLIENT_FRAME_MAX);
	int64_t deadline_ms = sl_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	enum sl_err e = client_open(c, host, port, deadline_ms, err, err_len);
	if (e == SL_OK)
		e = client_negotiate(c, deadline_ms, err, err_len);
	if (e != SL_OK) {
		net_client_close(c);
		return e;
	}
	*out = c;
	return SL_OK;
}

void net_client_close(struct net_client *c)
{
	if (c == NULL)
		return;
	client_fail(c);
	sl_buf_free(&c->out);
	sl_buf_free(&c->in);
	free(c);
}

int16_t net_client_version(const struct net_client *c, int16_t api_key)
{
	if (api_key < 0 || api_key >= NET_CLIENT_KEYS)
		return -1;
	return c->versions[api_key];
}

const char *net_client_addr(const struct net_client *c)
{
	return c->addr;
}
