/*
 * flush.c: the group-commit flush scheduler in front of fdatasync.
 *
 * Per log at most one flush round is in flight. A round snapshots written_offset as its
 * target and, for every segment with written but not durable bytes (usually just the active
 * one; more after a roll), fdatasyncs the .log file in turn; when the last one completes,
 * durable_offset becomes the target (the recovery point) and every waiter at or below it is
 * called in offset order. Appends go on while a round is in flight; the next round covers all
 * of them (group commit: one fdatasync per log per round, however many requests appended).
 * Rounds of different logs run in parallel on the io loop.
 *
 * When a round starts: a waiter wants an offset that is already written (acks=all data is
 * flushed before the ack, Redpanda's choice), or Kafka's flush.messages / flush.ms policy
 * says so for data nobody waits for. A failed fdatasync is never retried: the log goes
 * offline and every waiter gets SL_EIO.
 *
 * Truncation during a round clamps round_target and the segments' flush sizes (log_retention.c)
 * so a round never reports re-appended bytes as durable.
 */
#include "log_int.h"

#include <stdio.h>

static void round_next(struct stor_log *log);

static void waiters_release(struct stor_log *log)
{
	while (log->waiters != NULL && log->waiters->offset <= log->durable_offset) {
		struct stor_durable_wait *w = log->waiters;
		log->waiters = w->next;
		w->next = NULL;
		w->err = SL_OK;
		w->done(w, w->ctx);
	}
}

void stor_flush_fail_waiters(struct stor_log *log)
{
	while (log->waiters != NULL) {
		struct stor_durable_wait *w = log->waiters;
		log->waiters = w->next;
		w->next = NULL;
		w->err = SL_EIO;
		w->done(w, w->ctx);
	}
}

static void round_start(struct stor_log *log)
{
	SL_ASSERT(!log->flushing);
	SL_ASSERT(!log->offline);
	log->flushing = true;
	log->round_target = log->written_offset;
	log->unflushed_messages = 0;
	for (size_t i = 0; i < log->seg_count; i++) {
		struct log_seg *seg = log->segs[i];
		seg->in_round = seg->written_bytes > seg->durable_bytes;
		seg->flush_bytes = seg->written_bytes;
	}
	round_next(log);
}

static void round_finish(struct stor_log *log)
{
	log->flushing = false;
	log->flush_rounds++;
	log->last_flush_ms = sl_wall_ms();
	int64_t target = SL_MIN(log->round_target, log->written_offset);
	if (target > log->durable_offset)
		log->durable_offset = target;
	waiters_release(log);
	stor_flush_on_written(log);
}

static void round_fsync_done(struct io_op *op, void *ctx)
{
	struct stor_log *log = ctx;
	struct log_seg *seg = log->round_seg;
	SL_ASSERT(seg != NULL);
	log->round_seg = NULL;
	seg->in_round = false;
	if (op->err != SL_OK) {
		char what[LOG_PATH_BYTES + 64];
		snprintf(what, sizeof(what), "fdatasync %s (errno %d)", seg->s.log_path,
		         op->errno_value);
		log->flushing = false;
		for (size_t i = 0; i < log->seg_count; i++)
			log->segs[i]->in_round = false;
		stor_log_set_offline(log, op->err, what);
		return;
	}
	uint64_t now_durable = SL_MIN(seg->flush_bytes, seg->written_bytes);
	if (now_durable > seg->durable_bytes)
		seg->durable_bytes = now_durable;
	round_next(log);
}

static void round_next(struct stor_log *log)
{
	for (size_t i = 0; i < log->seg_count; i++) {
		struct log_seg *seg = log->segs[i];
		if (!seg->in_round)
			continue;
		log->round_seg = seg;
		io_fsync(log->loop, &log->flush_op, seg->s.log_fd, true, round_fsync_done, log);
		return;
	}
	round_finish(log);
}

void stor_flush_on_written(struct stor_log *log)
{
	if (log->flushing || log->offline || log->written_offset <= log->durable_offset)
		return;
	bool wanted = log->waiters != NULL && log->waiters->offset <= log->written_offset;
	bool policy = log->unflushed_messages >= log->cfg.flush_messages;
	if (wanted || policy)
		round_start(log);
}

void stor_log_flush(struct stor_log *log)
{
	if (!log->flushing && !log->offline && log->written_offset > log->durable_offset)
		round_start(log);
}

void stor_log_flush_policy(struct stor_log *log, int64_t now_ms)
{
	if (log->flushing || log->offline || log->written_offset <= log->durable_offset)
		return;
	if (log->unflushed_messages >= log->cfg.flush_messages ||
	    now_ms - log->last_flush_ms >= log->cfg.flush_ms)
		round_start(log);
}

uint64_t stor_log_flush_rounds(const struct stor_log *log)
{
	return log->flush_rounds;
}

enum sl_err stor_log_wait_durable(struct stor_log *log, struct stor_durable_wait *w, int64_t offset,
                                  stor_durable_fn *done, void *ctx)
{
	SL_ASSERT(w != NULL);
	SL_ASSERT(done != NULL);
	if (log->offline)
		return SL_EIO;
	if (offset <= log->durable_offset)
		return SL_OK;
	*w = (struct stor_durable_wait){.err = SL_OK, .offset = offset, .done = done, .ctx = ctx};
	struct stor_durable_wait **pp = &log->waiters;
	while (*pp != NULL && (*pp)->offset <= offset)
		pp = &(*pp)->next;
	w->next = *pp;
	*pp = w;
	stor_flush_on_written(log);
	return SL_EAGAIN;
}
