/*
 * brk_int.h: private declarations of the broker's request layer (the .c files of src/broker/).
 */
#ifndef SL_BRK_INT_H
#define SL_BRK_INT_H

#include "broker.h"
#include "wire.h"

#define BRK_HOST_MAX 256
#define BRK_CLUSTER_ID_MAX 64

struct brk {
	int32_t node_id;
	char cluster_id[BRK_CLUSTER_ID_MAX];
	char advertised_host[BRK_HOST_MAX];
	uint16_t advertised_port;
};

/* A decoded request header and the body still to decode. Lives for one brk_handle call. */
struct brk_request {
	struct brk *brk;
	const struct brk_frame *frame;
	struct wire_request_header header;
	struct wire_reader body; /* positioned after the header */
	struct sl_buf *resp;     /* the response header is already in it */
	char *reason;            /* BRK_CLOSE reason */
	size_t reason_len;
};

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
/* KIP-511: the reply to an ApiVersions request of a version we do not know. */
void brk_api_versions_unsupported(struct sl_buf *resp, int32_t correlation_id);

/* Sets r->reason and returns BRK_CLOSE. */
enum brk_outcome brk_close(struct brk_request *r, const char *fmt, ...) SL_PRINTF(2, 3);

/* errors.c: the one place Kafka error codes (and ACL operation bits) are spelled out. */
enum brk_error {
	BRK_ERR_NONE,
	BRK_ERR_UNKNOWN_TOPIC_OR_PARTITION,
	BRK_ERR_INVALID_TOPIC,
	BRK_ERR_UNSUPPORTED_VERSION,
	BRK_ERR_INVALID_REQUEST,
	BRK_ERR_UNKNOWN_TOPIC_ID,
};
int16_t brk_error_code(enum brk_error e);
/* The authorized-operations bitfield of the cluster resource when no authorizer is
 * configured (every operation Kafka supports on CLUSTER is allowed). */
int32_t brk_cluster_operations_all(void);
/* Kafka's "not requested" value for *_authorized_operations. */
#define BRK_AUTHORIZED_OPS_OMITTED INT32_MIN

#endif
