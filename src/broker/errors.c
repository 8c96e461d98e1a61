/*
 * errors.c: ACL operation bits (Kafka's acl.AclOperation). Error codes are in net/wire/kerr.h.
 */
#include "brk_int.h"

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
