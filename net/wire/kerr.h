/*
 * kerr.h: Kafka's protocol error codes (org.apache.kafka.common.protocol.Errors), the one
 * place their numbers are spelled out (STYLE.md: error codes live in the wire layer).
 *
 * WIRE_ERR_<NAME> = Kafka's code; wire_err_name() gives Kafka's name ("TOPIC_ALREADY_EXISTS")
 * for CLI messages and logs, wire_err_message() Kafka's default message.
 */
#ifndef SL_WIRE_KERR_H
#define SL_WIRE_KERR_H

#include <stdint.h>

/* X(name, code, message) */
#define WIRE_ERR_LIST(X)                                                                           \
	X(UNKNOWN_SERVER_ERROR, -1, "The server experienced an unexpected error")                  \
	X(NONE, 0, "")                                                                             \
	X(OFFSET_OUT_OF_RANGE, 1, "The requested offset is not within the range of offsets")       \
	X(CORRUPT_MESSAGE, 2,                                                                      \
	  "The message contents does not match the message CRC or the "                            \
	  "message is otherwise corrupt")                                                          \
	X(UNKNOWN_TOPIC_OR_PARTITION, 3, "This server does not host this topic-partition")         \
	X(INVALID_FETCH_SIZE, 4, "The requested fetch size is invalid")                            \
	X(LEADER_NOT_AVAILABLE, 5, "There is no leader for this topic-partition")                  \
	X(NOT_LEADER_OR_FOLLOWER, 6, "This server is not the leader for that topic-partition")     \
	X(REQUEST_TIMED_OUT, 7, "The request timed out")                                           \
	X(BROKER_NOT_AVAILABLE, 8, "The broker is not available")                                  \
	X(REPLICA_NOT_AVAILABLE, 9,                                                                \
	  "The replica is not available for the requested "                                        \
	  "topic-partition")                                                                       \
	X(MESSAGE_TOO_LARGE, 10,                                                                   \
	  "The request included a message larger than the max message "                            \
	  "size the server will accept")                                                           \
	X(STALE_CONTROLLER_EPOCH, 11, "The controller moved to another broker")                    \
	X(OFFSET_METADATA_TOO_LARGE, 12, "The metadata field of the offset request was too large") \
	X(NETWORK_EXCEPTION, 13, "The server disconnected before a response was received")         \
	X(COORDINATOR_LOAD_IN_PROGRESS, 14,                                                        \
	  "The coordinator is loading and hence can't process "                                    \
	  "requests")                                                                              \
	X(COORDINATOR_NOT_AVAILABLE, 15, "The coordinator is not available")                       \
	X(NOT_COORDINATOR, 16, "This is not the correct coordinator")                              \
	X(INVALID_TOPIC_EXCEPTION, 17,                                                             \
	  "The request attempted to perform an operation on an "                                   \
	  "invalid topic")                                                                         \
	X(RECORD_LIST_TOO_LARGE, 18,                                                               \
	  "The request included message batch larger than the "                                    \
	  "configured segment size on the server")                                                 \
	X(NOT_ENOUGH_REPLICAS, 19,                                                                 \
	  "Messages are rejected since there are fewer in-sync "                                   \
	  "replicas than required")                                                                \
	X(NOT_ENOUGH_REPLICAS_AFTER_APPEND, 20,                                                    \
	  "Messages are written to the log, but to fewer "                                         \
	  "in-sync replicas than required")                                                        \
	X(INVALID_REQUIRED_ACKS, 21,                                                               \
	  "Produce request specified an invalid value for required "                               \
	  "acks")                                                                                  \
	X(ILLEGAL_GENERATION, 22, "Specified group generation id is not valid")                    \
	X(INVALID_TIMESTAMP, 32, "The timestamp of the message is out of acceptable range")        \
	X(UNSUPPORTED_SASL_MECHANISM, 33,                                                          \
	  "The broker does not support the requested SASL "                                        \
	  "mechanism")                                                                             \
	X(ILLEGAL_SASL_STATE, 34, "Request is not valid given the current SASL state")             \
	X(UNSUPPORTED_VERSION, 35, "The version of API is not supported")                          \
	X(TOPIC_ALREADY_EXISTS, 36, "Topic with this name already exists")                         \
	X(INVALID_PARTITIONS, 37, "Number of partitions is below 1")                               \
	X(INVALID_REPLICATION_FACTOR, 38,                                                          \
	  "Replication factor is below 1 or larger than the "                                      \
	  "number of available brokers")                                                           \
	X(INVALID_REPLICA_ASSIGNMENT, 39, "Replica assignment is invalid")                         \
	X(INVALID_CONFIG, 40, "Configuration is invalid")                                          \
	X(NOT_CONTROLLER, 41, "This is not the correct controller for this cluster")               \
	X(INVALID_REQUEST, 42,                                                                     \
	  "This most likely occurs because of a request being malformed by "                       \
	  "the client library or the message was sent to an incompatible "                         \
	  "broker")                                                                                \
	X(UNSUPPORTED_FOR_MESSAGE_FORMAT, 43,                                                      \
	  "The message format version on the broker does "                                         \
	  "not support the request")                                                               \
	X(POLICY_VIOLATION, 44, "Request parameters do not satisfy the configured policy")         \
	X(OUT_OF_ORDER_SEQUENCE_NUMBER, 45,                                                        \
	  "The broker received an out of order sequence "                                          \
	  "number")                                                                                \
	X(DUPLICATE_SEQUENCE_NUMBER, 46, "The broker received a duplicate sequence number")        \
	X(INVALID_PRODUCER_EPOCH, 47, "Producer attempted to produce with an old epoch")           \
	X(INVALID_TXN_STATE, 48,                                                                   \
	  "The producer attempted a transactional operation in an "                                \
	  "invalid state")                                                                         \
	X(CLUSTER_AUTHORIZATION_FAILED, 31, "Cluster authorization failed")                        \
	X(TOPIC_AUTHORIZATION_FAILED, 29, "Topic authorization failed")                            \
	X(KAFKA_STORAGE_ERROR, 56, "Disk error when trying to access log file on the disk")        \
	X(LOG_DIR_NOT_FOUND, 57,                                                                   \
	  "The user-specified log directory is not found in the broker "                           \
	  "config")                                                                                \
	X(UNKNOWN_PRODUCER_ID, 59,                                                                 \
	  "This exception is raised by the broker if it could not "                                \
	  "locate the producer metadata")                                                          \
	X(REASSIGNMENT_IN_PROGRESS, 60, "A partition reassignment is in progress")                 \
	X(OPERATION_NOT_ATTEMPTED, 55, "The broker did not attempt to execute this operation")     \
	X(FETCH_SESSION_ID_NOT_FOUND, 70, "The fetch session ID was not found")                    \
	X(INVALID_FETCH_SESSION_EPOCH, 71, "The fetch session epoch is invalid")                   \
	X(LISTENER_NOT_FOUND, 72,                                                                  \
	  "There is no listener on the leader broker that matches the "                            \
	  "listener on which metadata request was processed")                                      \
	X(TOPIC_DELETION_DISABLED, 73, "Topic deletion is disabled")                               \
	X(FENCED_LEADER_EPOCH, 74,                                                                 \
	  "The leader epoch in the request is older than the epoch on "                            \
	  "the broker")                                                                            \
	X(UNKNOWN_LEADER_EPOCH, 75,                                                                \
	  "The leader epoch in the request is newer than the epoch "                               \
	  "on the broker")                                                                         \
	X(UNSUPPORTED_COMPRESSION_TYPE, 76,                                                        \
	  "The requesting client does not support the "                                            \
	  "compression type of given partition")                                                   \
	X(OFFSET_NOT_AVAILABLE, 78,                                                                \
	  "The leader high watermark has not caught up from a recent "                             \
	  "leader election so the offsets cannot be guaranteed to be "                             \
	  "monotonically increasing")                                                              \
	X(PREFERRED_LEADER_NOT_AVAILABLE, 80, "The preferred leader was not available")            \
	X(INVALID_RECORD, 87,                                                                      \
	  "This record has failed the validation on broker and hence will "                        \
	  "be rejected")                                                                           \
	X(THROTTLING_QUOTA_EXCEEDED, 89, "The throttling quota has been exceeded")                 \
	X(RESOURCE_NOT_FOUND, 91,                                                                  \
	  "A request illegally referred to a resource that does not "                              \
	  "exist")                                                                                 \
	X(INCONSISTENT_TOPIC_ID, 103,                                                              \
	  "The log's topic ID did not match the topic ID in the "                                  \
	  "request")                                                                               \
	X(UNKNOWN_TOPIC_ID, 100, "This server does not host this topic ID")                        \
	X(SNAPSHOT_NOT_FOUND, 98, "Requested snapshot was not found")                              \
	X(POSITION_OUT_OF_RANGE, 99,                                                               \
	  "Requested position is not greater than or equal to zero, and less than the "            \
	  "size of the snapshot.")                                                                 \
	X(INVALID_VOTER_KEY, 125, "The voter key doesn't match the receiving replica's key.")      \
	X(FEATURE_UPDATE_FAILED, 96,                                                               \
	  "Unable to update finalized features due to an unexpected "                              \
	  "server error")                                                                          \
	X(INCONSISTENT_CLUSTER_ID, 104,                                                            \
	  "The clusterId in the request does not match that found "                                \
	  "on the server")                                                                         \
	X(FETCH_SESSION_TOPIC_ID_ERROR, 106,                                                       \
	  "The fetch session encountered inconsistent topic "                                      \
	  "ID usage")                                                                              \
	X(STALE_BROKER_EPOCH, 77, "Broker epoch has changed")                                      \
	X(DUPLICATE_BROKER_REGISTRATION, 101, "This broker ID is already in use")                  \
	X(BROKER_ID_NOT_REGISTERED, 102, "The given broker ID was not registered")                 \
	X(INELIGIBLE_REPLICA, 107, "The new ISR contains at least one ineligible replica")         \
	X(NEW_LEADER_ELECTED, 108,                                                                 \
	  "The AlterPartition request successfully updated the partition "                         \
	  "state but the leader has changed")                                                      \
	X(UNKNOWN_CONTROLLER_ID, 116, "This controller ID is not known")                           \
	X(INVALID_REGISTRATION, 119,                                                               \
	  "The controller has considered the broker registration to be "                           \
	  "invalid")                                                                               \
	X(MISMATCHED_ENDPOINT_TYPE, 114, "The request was sent to an endpoint of the wrong type")  \
	X(UNSUPPORTED_ENDPOINT_TYPE, 115, "This endpoint type is not supported yet")

enum wire_err {
#define WIRE_ERR_ENUM(name, code, msg) WIRE_ERR_##name = (code),
	WIRE_ERR_LIST(WIRE_ERR_ENUM)
#undef WIRE_ERR_ENUM
};

/* Kafka's name of code ("UNKNOWN_TOPIC_OR_PARTITION"), or "UNKNOWN_ERROR_CODE" for a code not
 * in the table. Static storage. */
const char *wire_err_name(int16_t code);
/* Kafka's default message for code; "" for NONE and unknown codes. Static storage. */
const char *wire_err_message(int16_t code);

#endif
