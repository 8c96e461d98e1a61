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
#include "io.h"
#include "metadata.h"
#include "net.h"

#include <stdbool.h>
#include <stdint.h>

struct stor_log_manager;
struct ctl;

/* One broker config as DescribeConfigs lists it (read-only listing). Strings borrowed for the
 * broker's life. source: Kafka's ConfigSource (4 = STATIC_BROKER_CONFIG, 5 = DEFAULT_CONFIG). */
struct brk_config_entry {
	const char *name;
	const char *value; /* NULL = null (sensitive or unset) */
	int8_t source;
	bool is_sensitive;
	const char *type;          /* "STRING", "INT", "LONG", "BOOLEAN", "LIST", ... */
	const char *documentation; /* may be NULL */
};

struct raft;

struct brk_opts {
	int32_t node_id;
	const char *cluster_id; /* copied; from the formatted dirs */
	/* The data path (all may be NULL / 0 for a broker that serves only ApiVersions and
	 * Metadata, as in unit tests). Borrowed for the broker's life. */
	struct io_loop *loop;
	struct stor_log_manager *logs;
	struct ctl *ctl;             /* the controller (combined mode: in this process) */
	struct raft *raft;           /* the metadata quorum (controllers): Raft RPCs; may be NULL */
	const char *const *log_dirs; /* DescribeLogDirs */
	size_t log_dir_count;
	bool auto_create_topics_enable;     /* auto.create.topics.enable */
	bool delete_topic_enable;           /* delete.topic.enable */
	int32_t num_partitions;             /* num.partitions (auto-created topics) */
	int16_t default_replication_factor; /* default.replication.factor */
	int32_t fetch_max_bytes;            /* fetch.max.bytes (broker cap), 57671680 */
	int32_t max_incremental_fetch_session_cache_slots; /* 1000 */
	const struct brk_config_entry *configs;            /* every broker config, sorted by name */
	size_t config_count;
	/* Talking to the controllers (registration, heartbeats, forwarded admin requests). */
	const char *controller_fallback_addr;  /* "host:port" of this node's own controller
	                                        * listener, used when raft knows no voter address;
	                                        * borrowed; NULL = none */
	int64_t controller_request_timeout_ms; /* per request to a controller; <= 0 = 30000 */
};

struct brk;

/* Checks the API table against the wire definitions (asserts: a mismatch is a build bug),
 * then creates a broker. *out is owned by the caller. SL_ENOMEM or SL_EINVAL. */
enum sl_err brk_create(const struct brk_opts *opts, struct brk **out) SL_MUST_USE;
void brk_destroy(struct brk *b);

/* A new committed metadata image (takes a reference; drops the one on the previous image).
 * The broker acts on the difference: creates the logs of new partitions (partition.metadata
 * with the topic id), deletes the logs of removed ones (once no append is in flight), applies
 * changed topic configs, and answers parked requests that now have an answer. */
void brk_set_image(struct brk *b, struct meta_image *img);
/* The current image (borrowed; NULL before the first brk_set_image). */
const struct meta_image *brk_image(const struct brk *b);

/* Begins shutdown: parked fetches are answered now, new requests still get answers. */
void brk_stop(struct brk *b);
/* True while requests wait on storage or the controller (the node keeps its loop running). */
bool brk_busy(const struct brk *b);

/* net_dispatch_fn: ctx is the struct brk. Answers every request exactly once. */
void brk_dispatch(struct net_request *req, void *ctx);

/* ---- the broker lifecycle (lifecycle.c, kraft.md §5) -----------------------------------------
 * Registration with the active controller, heartbeats, unfencing, controlled shutdown. Driven
 * by brk_lifecycle_tick (the node calls it every few tens of ms). Without brk_lifecycle_start
 * (a controller-only node, unit tests) the state is always RUNNING. */
enum brk_state { /* Kafka's BrokerState numbers */
	         BRK_STATE_STARTING = 1,
	         BRK_STATE_RECOVERY = 2,
	         BRK_STATE_RUNNING = 3,
	         BRK_STATE_PENDING_CONTROLLED_SHUTDOWN = 6,
	         BRK_STATE_SHUTTING_DOWN = 7,
};
/* An advertised broker listener (strings copied by brk_lifecycle_start). */
struct brk_listener_ad {
	const char *name;
	const char *host;
	uint16_t port;
	int16_t security_protocol; /* 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL */
};
struct brk_lifecycle_opts {
	const struct brk_listener_ad *listeners; /* at most 16 */
	size_t listener_count;
	const char *rack;              /* broker.rack; NULL = none */
	int64_t heartbeat_interval_ms; /* broker.heartbeat.interval.ms */
};
/* Starts registering (needs opts.loop and opts.raft). SL_ENOMEM, or SL_ESYS without
 * randomness for the incarnation id. */
enum sl_err brk_lifecycle_start(struct brk *b, const struct brk_lifecycle_opts *o) SL_MUST_USE;
/* Sends the next registration/heartbeat when one is due. */
void brk_lifecycle_tick(struct brk *b, int64_t now_ms);
enum brk_state brk_lifecycle_state(const struct brk *b);
/* sl_mono_ms() of the last answer without error from a controller (0 = none yet). */
int64_t brk_lifecycle_last_contact_ms(const struct brk *b);
/* Begins the controlled shutdown: heartbeats with WantShutDown until the controller has moved
 * every leadership away (state SHUTTING_DOWN). At once SHUTTING_DOWN when never registered. */
void brk_lifecycle_shutdown(struct brk *b);

/* ControllerRegistration (KIP-919, ctl_register.c): a controller node announces its
 * listeners (copied) to the active controller; the tick sends until img (the committed image)
 * holds this incarnation. */
enum sl_err brk_controller_registration_start(struct brk *b, const struct brk_listener_ad *ls,
                                              size_t n) SL_MUST_USE;
void brk_controller_registration_tick(struct brk *b, const struct meta_image *img, int64_t now_ms);

/* What to do with a handled request. */
enum brk_outcome {
	BRK_RESPOND,     /* resp holds the response header and body */
	BRK_CLOSE,       /* close the connection; reason says why (one log line) */
	BRK_PENDING,     /* answered later through the frame's done callback */
	BRK_NO_RESPONSE, /* finished, nothing is sent (Produce with acks=0) */
};

struct brk_frame;
/* A pending request's end: outcome BRK_RESPOND, BRK_NO_RESPONSE or BRK_CLOSE (reason in the buffer
 * given to brk_handle). Runs from a loop callback. */
typedef void brk_frame_done_fn(const struct brk_frame *f, enum brk_outcome outcome, void *ctx);

/* One request frame (the bytes after the size prefix), borrowed for the call. */
struct brk_frame {
	const uint8_t *data;
	size_t len;
	struct sl_arena *arena; /* request-lifetime memory */
	bool is_controller_listener;
	/* Name of the listener the request arrived on (net_request.listener); NULL = unknown
	 * (Metadata then lists each broker's first endpoint). */
	const char *listener;
	bool forwarded;      /* the inner request of an Envelope: decided here, never forwarded */
	const char *log_ctx; /* for log lines; may be NULL */
	/* Required for APIs that may answer later (Produce acks!=0, Fetch, admin). The frame,
	 * arena, resp and reason buffers stay alive until done runs. */
	brk_frame_done_fn *done;
	void *done_ctx;
	struct net_request *net_req; /* for net_resp_add_file (zero-copy); NULL = copy bytes */
};

/* Handles one request: appends the response header and body to resp (no size prefix) and
 * returns BRK_RESPOND, or returns BRK_CLOSE with a reason of at most reason_len bytes, or
 * returns BRK_PENDING and later calls f->done with one of the other two. */
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
