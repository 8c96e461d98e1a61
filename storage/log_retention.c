/*
 * log_retention.c: truncation (diverging replicas), the log start offset (DeleteRecords),
 * time / size retention, and deferred closing of deleted segments.
 *
 * Deleting a segment unlinks its three files at once (so a crash cannot bring them back
 * past a later checkpoint) but keeps its fd open for file.delete.delay.ms, so a file range
 * handed to the network (stor_log_read) stays valid while a send is in flight; stor_log_reap
 * closes it afterwards. A segment whose fdatasync is in flight is never closed.
 *
 * Retention never deletes the active segment, nor anything not wholly below both the high
 * watermark given by the caller and durable_offset.
 */
#include "log_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void stor_log_bury(struct stor_log *log, size_t i, size_t n, int64_t now_ms)
{
	SL_ASSERT(i + n <= log->seg_count);
	static const char *const exts[] = {"log", "index", "timeindex"};
	for (size_t k = i; k < i + n; k++) {
		struct log_seg *seg = log->segs[k];
		for (size_t x = 0; x < SL_ARRAY_LEN(exts); x++) {
			char path[LOG_PATH_BYTES + 64];
			stor_segment_path(path, sizeof(path), log->dir, seg->s.base_offset,
			                  exts[x]);
			(void)unlink(path);
		}
		seg->delete_at_ms = now_ms + log->cfg.file_delete_delay_ms;
		seg->grave_next = log->grave;
		log->grave = seg;
	}
	memmove(log->segs + i, log->segs + i + n, (log->seg_count - i - n) * sizeof(log->segs[0]));
	log->seg_count -= n;
}

void stor_log_reap(struct stor_log *log, int64_t now_ms, bool force)
{
	struct log_seg **pp = &log->grave;
	while (*pp != NULL) {
		struct log_seg *seg = *pp;
		bool due = force || now_ms >= seg->delete_at_ms;
		SL_ASSERT(!(force && seg == log->round_seg));
		if (!due || seg == log->round_seg) {
			pp = &seg->grave_next;
			continue;
		}
		*pp = seg->grave_next;
		stor_segment_close(&seg->s);
		free(seg);
	}
}

static enum sl_err epochs_truncate(struct stor_log *log)
{
	size_t keep = log->epoch_count;
	while (keep > 0 && log->epochs[keep - 1].start_offset >= log->end_offset)
		keep--;
	if (keep == log->epoch_count)
		return SL_OK;
	log->epoch_count = keep;
	return stor_log_write_epochs(log);
}

/* Empties the log and restarts it at offset (Kafka's truncateFullyAndStartAt). */
static enum sl_err restart_at(struct stor_log *log, int64_t offset)
{
	stor_log_bury(log, 0, log->seg_count, sl_wall_ms());
	struct log_seg *seg = calloc(1, sizeof(*seg));
	if (seg == NULL)
		return SL_ENOMEM;
	struct stor_segment_limits lim;
	stor_log_limits(&log->cfg, &lim);
	char err[256] = "";
	enum sl_err e = stor_segment_create(&seg->s, log->dir, offset, &lim, err, sizeof(err));
	if (e != SL_OK) {
		free(seg);
		stor_log_set_offline(log, e, err[0] ? err : "restart");
		return SL_EIO;
	}
	SL_ASSERT(log->seg_cap > 0);
	log->segs[0] = seg;
	log->seg_count = 1;
	log->log_start_offset = log->end_offset = log->written_offset = offset;
	log->durable_offset = offset;
	log->round_target = SL_MIN(log->round_target, offset);
	log->epoch_count = 0;
	return stor_log_write_epochs(log);
}

/* Clamps watermarks after segs[i] was truncated and later segments removed. */
static void clamp_after_truncate(struct stor_log *log)
{
	struct log_seg *act = stor_log_active(log);
	act->written_bytes = SL_MIN(act->written_bytes, act->s.size_bytes);
	act->durable_bytes = SL_MIN(act->durable_bytes, act->s.size_bytes);
	act->flush_bytes = SL_MIN(act->flush_bytes, act->s.size_bytes);
	log->end_offset = log->written_offset = act->s.next_offset;
	log->durable_offset = SL_MIN(log->durable_offset, log->end_offset);
	log->round_target = SL_MIN(log->round_target, log->end_offset);
}

/* Lowers the durable offset to rp and, for a managed log, rewrites the dir's
 * recovery-point checkpoint BEFORE the files change (Kafka checkpoints after truncateTo):
 * with the old, higher recovery point a crash after new appends at the cut would make the
 * next start trust (not scan) the cut segment's unsynced new tail. Failure: offline. */
static enum sl_err lower_recovery_point(struct stor_log *log, int64_t rp)
{
	if (rp < log->durable_offset)
		log->durable_offset = rp;
	if (log->mgr == NULL)
		return SL_OK;
	char err[256] = "";
	enum sl_err e = stor_log_manager_checkpoint_dir(log->mgr, log->parent, err, sizeof(err));
	if (e != SL_OK) {
		stor_log_set_offline(log, e, err[0] ? err : "recovery-point checkpoint");
		return SL_EIO;
	}
	return SL_OK;
}

enum sl_err stor_log_truncate(struct stor_log *log, int64_t offset)
{
	if (log->offline)
		return SL_EIO;
	if (log->inflight_count > 0)
		return SL_EAGAIN;
	if (offset >= log->end_offset)
		return SL_OK;
	if (offset < log->log_start_offset) {
		enum sl_err le = lower_recovery_point(log, SL_MIN(offset, log->durable_offset));
		return le != SL_OK ? le : restart_at(log, offset);
	}
	size_t i = stor_log_seg_index(log, offset);
	struct log_seg *seg = log->segs[i];
	uint64_t pos = 0;
	enum sl_err e = SL_OK;
	if (offset > seg->s.base_offset)
		e = stor_segment_find_offset(&seg->s, offset, &pos);
	int64_t cut = offset;
	if (e == SL_OK && pos < seg->s.size_bytes && offset > seg->s.base_offset) {
		uint8_t h[8];
		if (pread(seg->s.log_fd, h, sizeof(h), (off_t)pos) != (ssize_t)sizeof(h))
			e = SL_EIO;
		cut = (int64_t)sl_load_be64(h);
	}
	if (e == SL_OK && cut < log->log_start_offset) {
		enum sl_err le = lower_recovery_point(log, SL_MIN(offset, log->durable_offset));
		return le != SL_OK ? le : restart_at(log, offset);
	}
	if (e == SL_OK) {
		cut = SL_MAX(cut, seg->s.base_offset);
		if (lower_recovery_point(log, cut) != SL_OK)
			return SL_EIO;
		e = stor_segment_truncate(&seg->s, cut);
	}
	if (e != SL_OK) {
		stor_log_set_offline(log, e, "truncate");
		return SL_EIO;
	}
	if (i + 1 < log->seg_count) {
		stor_log_bury(log, i + 1, log->seg_count - i - 1, sl_wall_ms());
		/* The unlinks must be durable before new data reuses their offsets. */
		e = stor_dir_fsync(log->dir);
		if (e != SL_OK) {
			stor_log_set_offline(log, e, "fsync of the partition directory");
			return SL_EIO;
		}
	}
	clamp_after_truncate(log);
	stor_log_check_invariants(log);
	return epochs_truncate(log);
}

enum sl_err stor_log_truncate_fully(struct stor_log *log, int64_t offset)
{
	if (log->offline)
		return SL_EIO;
	if (log->inflight_count > 0)
		return SL_EAGAIN;
	if (offset < 0)
		return SL_EINVAL;
	enum sl_err e = lower_recovery_point(log, SL_MIN(offset, log->log_start_offset));
	if (e == SL_OK)
		e = restart_at(log, offset);
	if (e == SL_OK)
		e = stor_dir_fsync(log->dir);
	if (e != SL_OK && !log->offline)
		stor_log_set_offline(log, e, "truncate fully");
	return e == SL_OK ? SL_OK : SL_EIO;
}

enum sl_err stor_log_advance_start_offset(struct stor_log *log, int64_t offset)
{
	if (log->offline)
		return SL_EIO;
	if (offset > log->written_offset || offset < 0)
		return SL_EINVAL;
	if (offset > log->log_start_offset)
		log->log_start_offset = offset;
	return SL_OK;
}

/* Whether segs[k] goes (the caller walks oldest first and stops at the first keeper). */
static bool deletable(const struct stor_log *log, const struct log_seg *seg, int64_t now_ms,
                      uint64_t total, int64_t bound)
{
	if (seg->s.next_offset > bound)
		return false;
	if (seg->s.next_offset <= log->log_start_offset)
		return true;
	const struct stor_log_config *c = &log->cfg;
	if (c->retention_ms >= 0 && now_ms - seg->s.max_timestamp > c->retention_ms)
		return true;
	return c->retention_bytes >= 0 && total - seg->s.size_bytes >= (uint64_t)c->retention_bytes;
}

enum sl_err stor_log_apply_retention(struct stor_log *log, int64_t now_ms, int64_t max_offset,
                                     uint32_t *deleted)
{
	if (deleted != NULL)
		*deleted = 0;
	if (log->offline)
		return SL_EIO;
	int64_t bound = log->durable_offset;
	if (max_offset >= 0)
		bound = SL_MIN(bound, max_offset);
	uint64_t total = 0;
	for (size_t i = 0; i < log->seg_count; i++)
		total += log->segs[i]->s.size_bytes;
	size_t n = 0;
	while (n + 1 < log->seg_count && deletable(log, log->segs[n], now_ms, total, bound)) {
		total -= log->segs[n]->s.size_bytes;
		n++;
	}
	if (n > 0) {
		stor_log_bury(log, 0, n, now_ms);
		log->log_start_offset = SL_MAX(log->log_start_offset, log->segs[0]->s.base_offset);
		SL_INFO("log", "%s-%d: retention deleted %zu segment(s); log start %lld",
		        log->topic, log->partition, n, (long long)log->log_start_offset);
	}
	if (deleted != NULL)
		*deleted = (uint32_t)n;
	stor_log_reap(log, now_ms, false);
	return SL_OK;
}
