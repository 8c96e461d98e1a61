/*
 * brk_int.h: private declarations of the broker's request layer (the .c files of src/broker/).
 */
#ifndef SL_BRK_INT_H
#define SL_BRK_INT_H

#include "broker.h"
#include "controller.h"
#include "storage.h"
#include "wire.h"

#define BRK_HOST_MAX 256
#define BRK_CLUSTER_ID_MAX 64

struct brk_partitions;     /* replica.c */
struct brk_fetch_sessions; /* fetch_session.c */

struct brk {
	int32_t node_id;
	char cluster_id[BRK_CLUSTER_ID_MAX];
	char advertised_host[BRK_HOST_MAX];
	uint16_t advertised_port;
	struct brk_opts opts;     /* strings above copied; pointers borrowed */
	struct meta_image *image; /* committed image (own reference); NULL before the first */
	struct brk_partitions *parts;
	struct brk_fetch_sessions *sessions;
	unsigned pending; /* requests answered later (brk_busy) */
	bool stopping;
};

/* ---- the partition table (replica.c) ------------------------------------------------------
 * One entry per partition this broker leads (single node: every partition of the image). The
 * high watermark is the durable offset: a consumer never sees a record a crash could lose. */
struct brk_fetch_wait; /* fetch.c */

struct brk_partition {
	char topic[META_TOPIC_NAME_MAX + 1];
	int32_t partition;
	struct sl_uuid topic_id;
	int32_t leader_epoch;
	struct stor_log *log;         /* NULL while offline / not yet created */
	int64_t high_watermark;       /* = durable offset of the log */
	unsigned appends_in_flight;   /* the log may be deleted only at 0 */
	bool deleted;                 /* removed from the image; freed when idle */
	struct brk_fetch_wait *waits; /* parked fetches that read this partition */
	struct brk_partition *next;   /* hash chain (replica.c) */
};

enum sl_err brk_partitions_create(struct brk *b) SL_MUST_USE;
void brk_partitions_destroy(struct brk *b);
/* NULL when this broker has no such partition (UNKNOWN_TOPIC_OR_PARTITION). */
struct brk_partition *brk_partition_get(struct brk *b, struct wire_str topic, int32_t partition);
struct brk_partition *brk_partition_by_id(struct brk *b, struct sl_uuid topic_id,
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

/* Auto-creation of topics named by Metadata (auto.create.topics.enable) and Produce is not
 * done by Produce (Kafka: only Metadata creates). metadata.c. */
/* KIP-511: the reply to an ApiVersions request of a version we do not know. */
void brk_api_versions_unsupported(struct sl_buf *resp, int32_t correlation_id);

/* Sets r->reason and returns BRK_CLOSE. */
enum brk_outcome brk_close(struct brk_request *r, const char *fmt, ...) SL_PRINTF(2, 3);

/* errors.c */
/* The authorized-operations bitfield of the cluster resource when no authorizer is
 * configured (every operation Kafka supports on CLUSTER is allowed). */
int32_t brk_cluster_operations_all(void);
/* Kafka's "not requested" value for *_authorized_operations. */
#define BRK_AUTHORIZED_OPS_OMITTED INT32_MIN

#endif
