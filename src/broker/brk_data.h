/*
 * brk_data.h: private declarations shared by the broker's data-plane files (replica.c,
 * produce.c, list_offsets.c, delete_records.c, offsets_epoch.c, log_dirs.c) on top of brk_int.h.
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

#endif
