/*
 * errors.c: Kafka's numeric codes used by the broker, in one place (STYLE.md: Kafka error
 * codes appear only in the wire layer and one mapping file). Values from Kafka's
 * org.apache.kafka.common.protocol.Errors and acl.AclOperation.
 */
#include "brk_int.h"

int16_t brk_error_code(enum brk_error e)
{
	switch (e) {
	case BRK_ERR_NONE:
		return 0;
	case BRK_ERR_UNKNOWN_TOPIC_OR_PARTITION:
		return 3;
	case BRK_ERR_INVALID_TOPIC:
		return 17; /* INVALID_TOPIC_EXCEPTION */
	case BRK_ERR_UNSUPPORTED_VERSION:
		return 35;
	case BRK_ERR_INVALID_REQUEST:
		return 42;
	case BRK_ERR_UNKNOWN_TOPIC_ID:
		return 100;
	}
	SL_UNREACHABLE();
}

/* AclOperation codes. */
enum {
	ACL_OP_CREATE = 5,
	ACL_OP_ALTER = 7,
	ACL_OP_DESCRIBE = 8,
	ACL_OP_CLUSTER_ACTION = 9,
	ACL_OP_DESCRIBE_CONFIGS = 10,
	ACL_OP_ALTER_CONFIGS = 11,
	ACL_OP_IDEMPOTENT_WRITE = 12,
};

int32_t brk_cluster_operations_all(void)
{
	/* Kafka's supported operations on the CLUSTER resource. */
	return (1 << ACL_OP_CREATE) | (1 << ACL_OP_ALTER) | (1 << ACL_OP_DESCRIBE) |
	       (1 << ACL_OP_CLUSTER_ACTION) | (1 << ACL_OP_DESCRIBE_CONFIGS) |
	       (1 << ACL_OP_ALTER_CONFIGS) | (1 << ACL_OP_IDEMPOTENT_WRITE);
}
