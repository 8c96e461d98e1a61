/*
 * broker.h: the broker's request layer (L5): the API table and the request handlers.
 *
 * net/ frames requests and calls brk_dispatch() (registered as its dispatch callback); the
 * broker decodes the header, looks the API up in its one static table (which is also the
 * only source of the versions ApiVersions advertises), runs the handler and answers through
 * net_respond(), or asks net to close the connection when Kafka would (unknown API key,
 * unsupported version of an API other than ApiVersions, malformed request).
 *
 * brk_handle() is the same logic as a pure function over a frame, for unit tests and for any
 * caller that is not a net connection.
 */
#ifndef SL_BROKER_H
#define SL_BROKER_H

#include "base.h"
#include "net.h"

#include <stdbool.h>
#include <stdint.h>

struct brk_opts {
	int32_t node_id;
	const char *cluster_id;      /* copied; from the formatted dirs */
	const char *advertised_host; /* copied; "" or NULL = "localhost" */
	uint16_t advertised_port;    /* of the first non-controller advertised listener */
};

struct brk;

/* Checks the API table against the wire definitions (asserts: a mismatch is a build bug),
 * then creates a broker. *out is owned by the caller. SL_ENOMEM or SL_EINVAL. */
enum sl_err brk_create(const struct brk_opts *opts, struct brk **out) SL_MUST_USE;
void brk_destroy(struct brk *b);

/* net_dispatch_fn: ctx is the struct brk. Answers every request exactly once. */
void brk_dispatch(struct net_request *req, void *ctx);

/* What to do with a handled request. */
enum brk_outcome {
	BRK_RESPOND, /* resp holds the response header and body */
	BRK_CLOSE,   /* close the connection; reason says why (one log line) */
};

/* One request frame (the bytes after the size prefix), borrowed for the call. */
struct brk_frame {
	const uint8_t *data;
	size_t len;
	struct sl_arena *arena; /* request-lifetime memory */
	bool is_controller_listener;
	const char *log_ctx; /* for log lines; may be NULL */
};

/* Handles one request synchronously: appends the response header and body to resp (no size
 * prefix) or returns BRK_CLOSE with a reason of at most reason_len bytes. */
enum brk_outcome brk_handle(struct brk *b, const struct brk_frame *f, struct sl_buf *resp,
                            char *reason, size_t reason_len);

/* One advertised API range, as ApiVersions reports it. */
struct brk_api_range {
	int16_t api_key;
	int16_t min_version;
	int16_t max_version;
};

/* The APIs served on a broker (false) or controller (true) listener, in table order. Writes up
 * to cap entries and returns how many the listener serves. */
size_t brk_api_ranges(bool controller_listener, struct brk_api_range *out, size_t cap);

#endif
