/*
 * brk_int.h: private declarations of the broker's request layer (the .c files of src/broker/).
 */
#ifndef SL_BRK_INT_H
#define SL_BRK_INT_H

#include "broker.h"
#include "controller.h"
#include "storage.h"
#include "wire.h"

#define BRK_CLUSTER_ID_MAX 64

struct brk_partitions;     /* replica.c */
struct brk_fetch_sessions; /* fetch_session.c */

struct brk {
	int32_t node_id;
	char cluster_id[BRK_CLUSTER_ID_MAX];
	struct brk_opts opts;     /* strings above copied; pointers borrowed */
	struct meta_image *image; /* committed image (own reference); NULL before the first */
	struct brk_partitions *parts;
	struct brk_fetch_sessions *sessions;
	struct brk_channel *channel;     /* connections to the controllers (channel.c) */
	struct brk_lifecycle *lifecycle; /* lifecycle.c; NULL when not started */
	struct brk_ctl_reg *ctl_reg;     /* ctl_register.c; NULL when not started */
	unsigned pending;                /* requests answered later (brk_busy) */
	bool stopping;
};

/* ---- the controllers (channel.c) --------------------------------------------------------- */
struct net_peer;
enum sl_err brk_channel_create(struct brk *b) SL_MUST_USE;
/* Fails every request in flight (their callbacks run) and frees the connections. */
void brk_channel_destroy(struct brk *b);
/* The connection to the controller to ask now (*id_out its id), or NULL when none is known. */
struct net_peer *brk_channel_target(struct brk *b, int32_t *id_out);
/* A request to controller id failed (connection, timeout, NOT_CONTROLLER): try another. */
void brk_channel_failed(struct brk *b, int32_t id);
void brk_lifecycle_free(struct brk *b);               /* lifecycle.c */
void brk_controller_registration_free(struct brk *b); /* ctl_register.c */

/* ---- the partition table (replica.c) ------------------------------------------------------
 * One entry per partition this broker hosts: node_id is in the partition's replicas in the
 * committed image (Kafka's ReplicaManager.applyDelta localChanges). Only hosted partitions have
 * a log here. The broker leads a hosted partition iff the image's leader is node_id
 * (is_leader); only the leader serves Produce, Fetch (consumers), ListOffsets, DeleteRecords
 * and OffsetForLeaderEpoch, others get NOT_LEADER_OR_FOLLOWER. The high watermark is the
 * durable offset: a consumer never sees a record a crash could lose. */
struct brk_fetch_wait; /* fetch.c */

struct brk_partition {
	char topic[META_TOPIC_NAME_MAX + 1];
	int32_t partition;
	struct sl_uuid topic_id;
	int32_t leader_epoch;         /* from the image (also while a follower) */
	bool is_leader;               /* the image's leader == this broker */
	struct stor_log *log;         /* NULL while offline / not yet created */
	int64_t high_watermark;       /* = durable offset of the log */
	unsigned appends_in_flight;   /* the log may be deleted only at 0 */
	bool deleted;                 /* removed from the image; freed when idle */
	struct brk_fetch_wait *waits; /* parked fetches that read this partition */
	struct brk_partition *next;   /* hash chain (replica.c) */
};

enum sl_err brk_partitions_create(struct brk *b) SL_MUST_USE;
void brk_partitions_destroy(struct brk *b);
/* NULL when this broker does not host such a partition (see brk_partition_absent_error). */
struct brk_partition *brk_partition_get(struct brk *b, struct wire_str topic, int32_t partition);
struct brk_partition *brk_partition_by_id(struct brk *b, struct sl_uuid topic_id,
                                          int32_t partition);
/* The error for a partition this broker has no live entry for, or does not lead, from the
 * image: UNKNOWN_TOPIC_OR_PARTITION when the topic is unknown or the index out of range, else
 * NOT_LEADER_OR_FOLLOWER. The _by_id form answers UNKNOWN_TOPIC_ID for an unknown topic id. */
int16_t brk_partition_absent_error(const struct brk *b, struct wire_str topic, int32_t partition);
int16_t brk_partition_absent_error_by_id(const struct brk *b, struct sl_uuid topic_id,
                                         int32_t partition);
/* The image's partition (topic by name / id), or NULL. Borrowed from b->image. */
const struct meta_partition *brk_image_partition(const struct brk *b, struct wire_str topic,
                                                 int32_t partition);
const struct meta_partition *brk_image_partition_by_id(const struct brk *b, struct sl_uuid topic_id,
                                                       int32_t partition);
/* Applies an image change (brk_set_image calls it). */
void brk_partitions_apply(struct brk *b, const struct meta_image *old_img,
                          const struct meta_image *new_img);
/* The durable offset of p's log moved or data arrived: update the high watermark and wake
 * parked fetches (fetch.c: brk_fetch_wake). */
void brk_partition_advance(struct brk *b, struct brk_partition *p);
/* Partition memory is freed only when no append is in flight and no fetch waits on it. */
void brk_partition_release_if_idle(struct brk *b, struct brk_partition *p);

/* ---- fetch (fetch.c, fetch_session.c) ---------------------------------------------------- */
/* Wakes the parked fetches waiting on p (they re-check min.bytes and may answer). */
void brk_fetch_wake(struct brk *b, struct brk_partition *p);
/* Answers every parked fetch now (shutdown). */
void brk_fetch_stop(struct brk *b);
enum sl_err brk_fetch_sessions_create(struct brk *b) SL_MUST_USE;
void brk_fetch_sessions_destroy(struct brk *b);

/* A decoded request header and the body still to decode. Lives for one brk_handle call. */
/* A decoded request header and the body still to decode. Lives in the request's arena until
 * the request is answered (a handler returning BRK_PENDING keeps using it). */
struct brk_request {
	struct brk *brk;
	const struct brk_frame *frame;
	struct wire_request_header header;
	struct wire_reader body; /* positioned after the header */
	struct sl_buf *resp;     /* the response header is already in it */
	char *reason;            /* BRK_CLOSE reason */
	size_t reason_len;
	int16_t forward_error; /* forwarding failed: answer every item with this error */
	size_t resp_start;     /* resp->len before the response header (net's size prefix) */
};

/* Ends a request a handler answered with BRK_PENDING: outcome BRK_RESPOND (resp holds the
 * body) or BRK_CLOSE (reason set). Calls the frame's done callback. */
void brk_request_finish(struct brk_request *r, enum brk_outcome outcome);
/* Marks r pending (brk->pending++) and returns BRK_PENDING; the handler must later call
 * brk_request_finish exactly once. */
enum brk_outcome brk_request_park(struct brk_request *r);

typedef enum brk_outcome brk_handler_fn(struct brk_request *r);

/* Which listeners serve an API (Kafka's "listeners" of the message definitions). */
enum brk_listener_mask {
	BRK_ON_BROKER = 1,
	BRK_ON_CONTROLLER = 2,
};

struct brk_api {
	int16_t api_key;
	int16_t min_version;
	int16_t max_version;
	unsigned listeners; /* enum brk_listener_mask bits */
	brk_handler_fn *handler;
};

/* api_table.c */
const struct brk_api *brk_api_find(int16_t api_key);
/* Asserts every entry lies inside wire_api_info()'s range; called by brk_create. */
void brk_api_table_check(void);

/* Handlers. */
enum brk_outcome brk_handle_api_versions(struct brk_request *r);
enum brk_outcome brk_handle_metadata(struct brk_request *r);
enum brk_outcome brk_handle_produce(struct brk_request *r);                   /* produce.c */
enum brk_outcome brk_handle_fetch(struct brk_request *r);                     /* fetch.c */
enum brk_outcome brk_handle_list_offsets(struct brk_request *r);              /* list_offsets.c */
enum brk_outcome brk_handle_delete_records(struct brk_request *r);            /* delete_records.c */
enum brk_outcome brk_handle_offset_for_leader_epoch(struct brk_request *r);   /* offsets_epoch.c */
enum brk_outcome brk_handle_describe_log_dirs(struct brk_request *r);         /* log_dirs.c */
enum brk_outcome brk_handle_create_topics(struct brk_request *r);             /* topics_admin.c */
enum brk_outcome brk_handle_delete_topics(struct brk_request *r);             /* topics_admin.c */
enum brk_outcome brk_handle_create_partitions(struct brk_request *r);         /* topics_admin.c */
enum brk_outcome brk_handle_describe_configs(struct brk_request *r);          /* configs.c */
enum brk_outcome brk_handle_alter_configs(struct brk_request *r);             /* configs.c */
enum brk_outcome brk_handle_incremental_alter_configs(struct brk_request *r); /* configs.c */
enum brk_outcome brk_handle_describe_cluster(struct brk_request *r);          /* cluster.c */
enum brk_outcome brk_handle_find_coordinator(struct brk_request *r);          /* coordinator.c */
/* Vote, BeginQuorumEpoch, EndQuorumEpoch, DescribeQuorum, FetchSnapshot and a controller
 * listener's Fetch: handed to the metadata quorum (raft_rpc.c). */
enum brk_outcome brk_handle_raft(struct brk_request *r);

/* ---- forwarding to the active controller (forward.c) ---------------------------------------
 * A broker-listener admin handler starts with
 *     if (brk_should_forward(r)) return brk_forward(r);
 * true unless the request is itself forwarded, already failed to forward (r->forward_error,
 * which the handler then reports on every item), or the active controller runs in this node. */
bool brk_should_forward(const struct brk_request *r);
enum brk_outcome brk_forward(struct brk_request *r);
/* Auto-creation on a broker without the active controller (Kafka's AutoTopicCreationManager):
 * a CreateTopics for name is sent to the controller, fire and forget; the client's Metadata
 * gets LEADER_NOT_AVAILABLE and retries. */
void brk_forward_create_topic(struct brk *b, struct wire_str name, int32_t num_partitions,
                              int16_t replication_factor);
/* Envelope (58) on a controller listener. */
enum brk_outcome brk_handle_envelope(struct brk_request *r);
/* BrokerRegistration (62), BrokerHeartbeat (63), ControllerRegistration (70) on a controller
 * listener (ctl_rpc.c). */
enum brk_outcome brk_handle_broker_registration(struct brk_request *r);
enum brk_outcome brk_handle_broker_heartbeat(struct brk_request *r);
enum brk_outcome brk_handle_controller_registration(struct brk_request *r);
/* UnregisterBroker (64): forwarded from a broker listener, decided on the active controller. */
enum brk_outcome brk_handle_unregister_broker(struct brk_request *r);

/* Auto-creation of topics named by Metadata (auto.create.topics.enable) and Produce is not
 * done by Produce (Kafka: only Metadata creates). metadata.c. */
/* KIP-511: the reply to an ApiVersions request of a version we do not know. */
void brk_api_versions_unsupported(struct sl_buf *resp, int32_t correlation_id);

/* Sets r->reason and returns BRK_CLOSE. */
enum brk_outcome brk_close(struct brk_request *r, const char *fmt, ...) SL_PRINTF(2, 3);

/* ---- the cluster as clients see it (cluster.c) --------------------------------------------
 * Kafka's KRaftMetadataCache: a broker is alive when it is registered and not fenced; clients
 * get each broker's endpoint of the listener their request arrived on. */

/* The listener name to answer with for a request that arrived on `listener`: it, when this
 * broker's registration (or, unregistered, any broker's) has such an endpoint; else this
 * broker's first registered endpoint's name; NULL = each broker's first endpoint (a
 * registration lists only broker listeners, never controller ones). */
const char *brk_listener_effective(const struct brk *b, const char *listener);
/* br's endpoint named name (NULL: its first endpoint), or NULL when it has none. */
const struct meta_endpoint *brk_broker_endpoint(const struct meta_broker *br, const char *name);
/* An alive broker's endpoint on listener (brk_listener_effective's result): NULL when broker_id
 * is not registered, fenced, or lacks the listener. *registered tells the first case apart
 * (LEADER_NOT_AVAILABLE vs LISTENER_NOT_FOUND); may be NULL. */
const struct meta_endpoint *brk_alive_endpoint(const struct brk *b, int32_t broker_id,
                                               const char *listener, bool *registered);

struct brk_live_broker {
	const struct meta_broker *broker;     /* borrowed from b->image */
	const struct meta_endpoint *endpoint; /* on the request's listener */
};
/* Every alive broker with an endpoint on listener, ascending by id, in arena memory (never NULL
 * unless out of memory; *count may be 0). */
struct brk_live_broker *brk_live_brokers(const struct brk *b, const char *listener,
                                         struct sl_arena *arena, size_t *count);
/* The controller_id clients get: this broker when alive, else the lowest alive broker id, else
 * -1 (Kafka answers a random alive broker: clients cannot reach the controllers). */
int32_t brk_client_controller_id(const struct brk *b);

/* errors.c */
/* The authorized-operations bitfield of the cluster resource when no authorizer is
 * configured (every operation Kafka supports on CLUSTER is allowed). */
int32_t brk_cluster_operations_all(void);
/* Kafka's "not requested" value for *_authorized_operations. */
#define BRK_AUTHORIZED_OPS_OMITTED INT32_MIN

#endif
