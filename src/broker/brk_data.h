/*
 * brk_data.h: private declarations shared by the broker's data-plane files (replica.c,
 * produce.c, list_offsets.c, delete_records.c, offsets_epoch.c, log_dirs.c) on top of brk_int.h,
 * and the request helpers of handler_util.c that every handler may use (admin_int.h includes
 * this header).
 *
 * In-flight rule: every storage operation the broker starts on a partition's log (an append, a
 * durable wait) is bracketed by brk_partition_op_begin / brk_partition_op_end, so that
 * p->appends_in_flight counts them all; a removed partition's log is deleted, and its memory
 * freed, only when that count is 0 (stor_log_manager_delete refuses a busy log).
 */
#ifndef SL_BRK_DATA_H
#define SL_BRK_DATA_H

#include "brk_int.h"

/* Marks a storage operation on p's log as started / finished. op_end may be called from a
 * storage callback: the deletion of a removed partition's log is then deferred to a loop
 * callback of the broker (storage forbids deleting a log inside its own callback). */
void brk_partition_op_begin(struct brk_partition *p);
void brk_partition_op_end(struct brk *b, struct brk_partition *p);

/* Asks for p's high watermark to reach `offset` (every offset below it durable) without a
 * caller waiting (Produce acks 0/1): one waiter per partition (group commit), re-armed while
 * more is wanted; each completion calls brk_partition_advance. */
void brk_partition_want_durable(struct brk *b, struct brk_partition *p, int64_t offset);

/* Shared scratch buffers for synchronous work on the loop thread (validation of compressed
 * batches, recompression). Index 0 or 1; reset by the user; never kept across a callback. */
struct sl_buf *brk_scratch(struct brk *b, unsigned i);

/* The Kafka error of a partition whose log is missing or offline (KAFKA_STORAGE_ERROR), or
 * NONE. */
int16_t brk_partition_log_error(const struct brk_partition *p);

/* The error of a request's current_leader_epoch (-1 = not given) against p's epoch: NONE when
 * not given or equal, FENCED_LEADER_EPOCH when older, UNKNOWN_LEADER_EPOCH when newer (KIP-320). */
int16_t brk_partition_epoch_error(const struct brk_partition *p, int32_t current_leader_epoch);

/* The partition (topic, partition) a request writes, reads or trims, checked in Kafka's order:
 * no live entry -> brk_partition_absent_error (UNKNOWN_TOPIC_OR_PARTITION, or
 * NOT_LEADER_OR_FOLLOWER when the image has it but this broker is not a replica);
 * current_leader_epoch (-1 = not given) -> brk_partition_epoch_error; not the leader ->
 * NOT_LEADER_OR_FOLLOWER; log missing or offline -> KAFKA_STORAGE_ERROR. Returns the
 * partition (borrowed, valid until the next image change) with *error NONE, or NULL with
 * *error set. */
struct brk_partition *brk_partition_lookup(struct brk *b, struct wire_str topic, int32_t partition,
                                           int32_t current_leader_epoch, int16_t *error);

/* ---- request helpers (handler_util.c) ------------------------------------------------------ */

/* Checks the decode of r's body as `api` ("ListOffsets"): `decoded` is the result of the
 * wire_*_request_decode call, which must also have consumed the whole body. false: r is to be
 * closed (reason set: malformed, or trailing bytes); the handler returns BRK_CLOSE. */
bool brk_decode_ok(struct brk_request *r, enum sl_err decoded, const char *api) SL_MUST_USE;

/* A zeroed array for max(count, 0) response elements of `size` bytes in r's arena (one spare
 * element, so an empty array is not NULL); *count_out = max(count, 0). NULL when the arena is
 * exhausted. */
void *brk_resp_array(struct brk_request *r, int32_t count, size_t size, int32_t *count_out);

#endif
