/*
 * log.c: the partition log: open / recover, the append path, rolling, close, and the
 * leader-epoch cache.
 *
 * Append path (no allocation): validate the batch header, roll if the active segment is full
 * or too old, rewrite baseOffset / partitionLeaderEpoch (and for LogAppendTime the
 * timestamp-type bit and maxTimestamp, recomputing the CRC), record it in the segment
 * (stor_segment_note_append), link the caller's stor_append into the in-flight FIFO and
 * io_write it at the segment's tail. Writes may complete out of order; a completion marks its
 * append complete and drain() pops the complete prefix of the FIFO in offset order, moving
 * written_offset and calling the callbacks. A short write is continued; a failed one takes
 * the log offline (fail_offset: that append and every later one report SL_EIO).
 *
 * Rolling (rare: segment.bytes / segment.ms) is blocking: the old segment's indexes are
 * written and fsynced, the new segment's files created and the directory fsynced. The old
 * segment's data is fsynced by the next flush round before the recovery point passes it.
 */
#include "log_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTX "log"

void stor_log_limits(const struct stor_log_config *c, struct stor_segment_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->segment_bytes = c->segment_bytes;
	lim->index_interval_bytes = c->index_interval_bytes;
	lim->max_batch_bytes = c->max_message_bytes;
}

struct log_seg *stor_log_active(const struct stor_log *log)
{
	SL_ASSERT(log->seg_count > 0);
	return log->segs[log->seg_count - 1];
}

size_t stor_log_seg_index(const struct stor_log *log, int64_t offset)
{
	size_t lo = 0, hi = log->seg_count; /* find the last base <= offset */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (log->segs[mid]->s.base_offset <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

bool stor_log_busy(const struct stor_log *log)
{
	return log->inflight_count > 0 || log->flushing;
}

void stor_log_set_offline(struct stor_log *log, enum sl_err why, const char *what)
{
	if (log->offline)
		return;
	log->offline = true;
	SL_ERROR(CTX, "%s-%d offline: %s: %s (never retried; KAFKA_STORAGE_ERROR)", log->topic,
	         log->partition, what, sl_err_name(why));
	stor_flush_fail_waiters(log);
}

static enum sl_err segs_push(struct stor_log *log, struct log_seg *seg)
{
	if (log->seg_count == log->seg_cap) {
		size_t cap = log->seg_cap ? log->seg_cap * 2 : 8;
		struct log_seg **n = realloc(log->segs, cap * sizeof(*n));
		if (n == NULL)
			return SL_ENOMEM;
		log->segs = n;
		log->seg_cap = cap;
	}
	log->segs[log->seg_count++] = seg;
	return SL_OK;
}

/* Creates a new empty active segment at base (blocking). */
static enum sl_err seg_new(struct stor_log *log, int64_t base, char *err, size_t err_len)
{
	struct log_seg *seg = calloc(1, sizeof(*seg));
	if (seg == NULL)
		return SL_ENOMEM;
	struct stor_segment_limits lim;
	stor_log_limits(&log->cfg, &lim);
	enum sl_err e = stor_segment_create(&seg->s, log->dir, base, &lim, err, err_len);
	if (e != SL_OK) {
		free(seg); /* create leaves nothing behind on failure */
		return e;
	}
	e = segs_push(log, seg);
	if (e != SL_OK) {
		stor_segment_close(&seg->s);
		free(seg);
	}
	return e;
}

/* ---- epochs ------------------------------------------------------------------------------ */

enum sl_err stor_log_write_epochs(struct stor_log *log)
{
	char path[LOG_PATH_BYTES + 64], err[256];
	snprintf(path, sizeof(path), "%s/%s", log->dir, STOR_LEADER_EPOCH_CHECKPOINT_NAME);
	enum sl_err e =
	        stor_epoch_checkpoint_write(path, log->epochs, log->epoch_count, err, sizeof(err));
	if (e != SL_OK)
		stor_log_set_offline(log, e, err);
	return e;
}

static enum sl_err epoch_assign(struct stor_log *log, int32_t epoch, int64_t start)
{
	if (epoch < 0)
		return SL_OK;
	if (log->epoch_count > 0 && log->epochs[log->epoch_count - 1].epoch >= epoch)
		return SL_OK;
	if (log->epoch_count == LOG_EPOCHS_MAX) {
		memmove(log->epochs, log->epochs + 1,
		        (LOG_EPOCHS_MAX - 1) * sizeof(log->epochs[0]));
		log->epoch_count--;
	}
	log->epochs[log->epoch_count++] = (struct stor_epoch_entry){epoch, start};
	return stor_log_write_epochs(log);
}

void stor_log_end_offset_for_epoch(const struct stor_log *log, int32_t epoch, int32_t *epoch_out,
                                   int64_t *end_offset_out)
{
	*epoch_out = -1;
	*end_offset_out = -1;
	if (epoch < 0 || log->epoch_count == 0)
		return;
	if (log->epochs[log->epoch_count - 1].epoch == epoch) {
		*epoch_out = epoch;
		*end_offset_out = log->end_offset;
		return;
	}
	size_t higher = 0;
	while (higher < log->epoch_count && log->epochs[higher].epoch <= epoch)
		higher++;
	if (higher == log->epoch_count)
		return; /* beyond the latest epoch */
	*end_offset_out = log->epochs[higher].start_offset;
	*epoch_out = higher == 0 ? epoch : log->epochs[higher - 1].epoch;
}

/* ---- append ------------------------------------------------------------------------------ */

static void drain(struct stor_log *log)
{
	while (log->inflight_head != NULL && log->inflight_head->complete) {
		struct stor_append *a = log->inflight_head;
		log->inflight_head = a->next;
		if (log->inflight_head == NULL)
			log->inflight_tail = NULL;
		log->inflight_count--;
		a->next = NULL;
		if (a->err == SL_OK && a->base_offset < log->fail_offset) {
			struct log_seg *seg = a->seg;
			SL_ASSERT(log->written_offset == a->base_offset);
			log->written_offset = a->last_offset + 1;
			seg->written_bytes = a->position + a->len;
			log->unflushed_messages += a->last_offset - a->base_offset + 1;
		} else {
			a->err = SL_EIO;
		}
		a->done(a, a->ctx);
	}
	if (!log->offline)
		stor_flush_on_written(log);
}

static void write_group_done(struct io_op *op, void *ctx);

/* Fails every queued append that is not in a write yet (the log went offline). */
static void fail_unsubmitted(struct stor_log *log)
{
	for (struct stor_append *a = log->unsubmitted; a != NULL; a = a->next) {
		a->err = SL_EIO;
		a->complete = true;
	}
	log->unsubmitted = NULL;
}

/* Starts one io_writev covering the queued appends that follow each other in one segment
 * file, unless a group write is already in flight (its completion starts the next group). */
static void write_next_group(struct stor_log *log)
{
	if (log->writing || log->unsubmitted == NULL)
		return;
	if (log->offline) {
		fail_unsubmitted(log);
		drain(log);
		return;
	}
	struct stor_append *a = log->unsubmitted;
	struct log_seg *seg = a->seg;
	uint64_t len = 0;
	int n = 0;
	log->write_first = a;
	log->write_position = a->position;
	while (a != NULL && n < LOG_WRITE_IOV_MAX && a->seg == seg &&
	       a->position == log->write_position + len) {
		log->write_iov[n].iov_base = a->batch;
		log->write_iov[n].iov_len = a->len;
		len += a->len;
		n++;
		a = a->next;
	}
	SL_ASSERT(n > 0);
	log->unsubmitted = a;
	log->write_iov_first = 0;
	log->write_iov_count = n;
	log->write_len = len;
	log->write_done = 0;
	log->writing = true;
	log->write_calls++;
	io_writev(log->loop, &log->write_op, seg->s.log_fd, log->write_iov, n, log->write_position,
	          write_group_done, log);
}

/* After a short write: drops the written bytes from the front of the iovec and writes the
 * rest at the position where the kernel stopped. */
static void write_rest(struct stor_log *log, uint64_t written)
{
	while (written > 0) {
		struct iovec *v = &log->write_iov[log->write_iov_first];
		if (written >= v->iov_len) {
			written -= v->iov_len;
			log->write_iov_first++;
			continue;
		}
		v->iov_base = (uint8_t *)v->iov_base + written;
		v->iov_len -= written;
		written = 0;
	}
	SL_ASSERT(log->write_iov_first < log->write_iov_count);
	struct log_seg *seg = log->write_first->seg;
	log->write_calls++;
	io_writev(log->loop, &log->write_op, seg->s.log_fd, log->write_iov + log->write_iov_first,
	          log->write_iov_count - log->write_iov_first,
	          log->write_position + log->write_done, write_group_done, log);
}

static void write_group_done(struct io_op *op, void *ctx)
{
	struct stor_log *log = ctx;
	struct stor_append *first = log->write_first;
	int n = log->write_iov_count;
	if (op->err == SL_OK && op->res > 0) {
		log->write_done += (uint64_t)op->res;
		SL_ASSERT(log->write_done <= log->write_len);
		if (log->write_done < log->write_len) {
			write_rest(log, (uint64_t)op->res);
			return;
		}
		struct stor_append *a = first;
		for (int i = 0; i < n; i++, a = a->next)
			a->complete = true;
	} else {
		enum sl_err e = op->err != SL_OK ? op->err : SL_EIO;
		if (first->base_offset < log->fail_offset)
			log->fail_offset = first->base_offset;
		char what[96];
		snprintf(what, sizeof(what), "write of offsets from %lld: errno %d",
		         (long long)first->base_offset, op->errno_value);
		stor_log_set_offline(log, e, what);
		struct stor_append *a = first;
		for (int i = 0; i < n; i++, a = a->next) {
			a->err = e;
			a->complete = true;
		}
	}
	log->writing = false;
	log->write_first = NULL;
	drain(log);
	write_next_group(log);
}

/* Rolls when the batch does not fit or the active segment is older than segment.ms. */
static enum sl_err maybe_roll(struct stor_log *log, uint32_t len, int64_t last, int64_t now_ms)
{
	struct log_seg *seg = stor_log_active(log);
	bool empty = seg->s.next_offset == seg->s.base_offset;
	if (empty)
		return SL_OK;
	bool full = !stor_segment_has_room(&seg->s, len, last);
	bool old = seg->s.first_append_ms >= 0 &&
	           now_ms - seg->s.first_append_ms >= log->cfg.segment_ms;
	if (!full && !old)
		return SL_OK;
	char err[256] = "";
	enum sl_err e = stor_segment_write_indexes(&seg->s, err, sizeof(err));
	if (e == SL_OK)
		e = seg_new(log, log->end_offset, err, sizeof(err));
	if (e != SL_OK) {
		stor_log_set_offline(log, e, err[0] ? err : "roll");
		return SL_EIO;
	}
	SL_DEBUG(CTX, "%s-%d rolled at %lld", log->topic, log->partition,
	         (long long)log->end_offset);
	return SL_OK;
}

/* Checks the fixed header fields the log relies on. */
static enum sl_err header_check(const struct stor_log *log, const uint8_t *b, size_t len)
{
	if (len < STOR_BATCH_HEADER_BYTES || len > UINT32_MAX)
		return SL_EMALFORMED;
	int32_t blen = (int32_t)sl_load_be32(b + 8);
	if (blen < STOR_BATCH_HEADER_BYTES - STOR_BATCH_LOG_OVERHEAD ||
	    (size_t)blen + STOR_BATCH_LOG_OVERHEAD != len)
		return SL_EMALFORMED;
	if (b[16] != STOR_BATCH_MAGIC)
		return SL_EMALFORMED;
	int32_t lod = (int32_t)sl_load_be32(b + 23);
	int32_t count = (int32_t)sl_load_be32(b + 57);
	if (lod < 0 || count <= 0)
		return SL_EMALFORMED;
	if (len > (size_t)log->cfg.max_message_bytes)
		return SL_ETOOBIG;
	return SL_OK;
}

/* Rewrites the fields the log owns (Kafka's LogValidator for an uncompressed v2 batch). */
static int64_t batch_stamp(const struct stor_log *log, uint8_t *b, size_t len, int64_t base,
                           int32_t epoch, int64_t now_ms)
{
	sl_store_be64(b, (uint64_t)base);
	sl_store_be32(b + 12, (uint32_t)epoch);
	if (!log->cfg.log_append_time)
		return (int64_t)sl_load_be64(b + 35);
	uint16_t attr = sl_load_be16(b + STOR_BATCH_ATTRIBUTES_OFFSET);
	sl_store_be16(b + STOR_BATCH_ATTRIBUTES_OFFSET, attr | STOR_BATCH_ATTR_LOG_APPEND_TIME);
	sl_store_be64(b + 35, (uint64_t)now_ms);
	uint32_t crc =
	        sl_crc32c(0, b + STOR_BATCH_ATTRIBUTES_OFFSET, len - STOR_BATCH_ATTRIBUTES_OFFSET);
	sl_store_be32(b + STOR_BATCH_CRC_OFFSET, crc);
	return now_ms;
}

enum sl_err stor_log_append(struct stor_log *log, struct stor_append *a, uint8_t *batch, size_t len,
                            int32_t leader_epoch, int64_t now_ms, stor_append_fn *done, void *ctx)
{
	SL_ASSERT(log != NULL);
	SL_ASSERT(a != NULL);
	SL_ASSERT(batch != NULL);
	SL_ASSERT(done != NULL);
	SL_ASSERT(a->log == NULL || a->complete); /* not queued in a log */
	if (log->offline)
		return SL_EIO;
	enum sl_err e = header_check(log, batch, len);
	if (e != SL_OK)
		return e;
	int64_t base = log->end_offset;
	int64_t last = base + (int32_t)sl_load_be32(batch + 23);
	e = maybe_roll(log, (uint32_t)len, last, now_ms);
	if (e != SL_OK)
		return e;
	e = epoch_assign(log, leader_epoch, base);
	if (e != SL_OK)
		return SL_EIO;
	int64_t max_ts = batch_stamp(log, batch, len, base, leader_epoch, now_ms);
	struct log_seg *seg = stor_log_active(log);
	*a = (struct stor_append){
	        .err = SL_OK,
	        .base_offset = base,
	        .last_offset = last,
	        .log_append_time_ms = log->cfg.log_append_time ? now_ms : -1,
	        .log = log,
	        .done = done,
	        .ctx = ctx,
	        .batch = batch,
	        .len = len,
	        .position = seg->s.size_bytes,
	        .seg = seg,
	};
	stor_segment_note_append(&seg->s, (uint32_t)len, base, last, max_ts, now_ms);
	log->end_offset = last + 1;
	if (log->inflight_tail != NULL)
		log->inflight_tail->next = a;
	else
		log->inflight_head = a;
	log->inflight_tail = a;
	log->inflight_count++;
	log->appends++;
	if (log->unsubmitted == NULL)
		log->unsubmitted = a;
	write_next_group(log);
	return SL_OK;
}

/* ---- open -------------------------------------------------------------------------------- */

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

/* Removes leftovers (stor_segment_dir_cleanup), then lists segment base offsets (sorted,
 * malloc'd). */
static enum sl_err scan_dir(const char *dir, int64_t **bases, size_t *count,
                            struct stor_startup_report *rep, char *err, size_t err_len)
{
	size_t removed = 0, swaps = 0;
	enum sl_err ce = stor_segment_dir_cleanup(dir, &removed, &swaps, err, err_len);
	if (ce != SL_OK)
		return ce;
	if (rep != NULL)
		rep->leftovers_removed += (uint32_t)removed;
	if (swaps > 0) /* we never write .swap files (no compaction yet): leave them for a human */
		SL_WARN(CTX, "%s: ignoring %zu *.swap file(s)", dir, swaps);
	DIR *d = opendir(dir);
	if (d == NULL)
		return sl_err_from_errno(errno);
	size_t cap = 16, n = 0;
	int64_t *v = malloc(cap * sizeof(*v));
	enum sl_err e = v == NULL ? SL_ENOMEM : SL_OK;
	struct dirent *de;
	while (e == SL_OK && (de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		if (has_suffix(nm, ".tmp") || has_suffix(nm, ".swap") ||
		    has_suffix(nm, ".cleaned") || has_suffix(nm, ".deleted")) {
			if (unlinkat(dirfd(d), nm, 0) == 0 && rep != NULL)
				rep->leftovers_removed++;
			continue;
		}
		size_t len = strlen(nm);
		if (len != STOR_SEGMENT_NAME_DIGITS + 4 || !has_suffix(nm, ".log"))
			continue;
		bool digits = true;
		for (size_t i = 0; i < STOR_SEGMENT_NAME_DIGITS; i++)
			digits = digits && nm[i] >= '0' && nm[i] <= '9';
		if (!digits)
			continue;
		/* 20 digits can exceed int64; and a base so high that relative offsets (u32) would
		 * overflow int64 is no offset we ever write: refuse the log rather than guess. */
		errno = 0;
		long long base = strtoll(nm, NULL, 10);
		if (errno != 0 || base > INT64_MAX - (int64_t)UINT32_MAX) {
			snprintf(err, err_len, "%s/%s: segment base offset out of range", dir, nm);
			e = SL_ECORRUPT;
			break;
		}
		if (n == cap) {
			int64_t *nv = realloc(v, cap * 2 * sizeof(*nv));
			if (nv == NULL) {
				e = SL_ENOMEM;
				break;
			}
			v = nv;
			cap *= 2;
		}
		v[n++] = base;
	}
	closedir(d);
	if (e != SL_OK) {
		free(v);
		return e;
	}
	qsort(v, n, sizeof(*v), cmp_i64);
	*bases = v;
	*count = n;
	return SL_OK;
}

static enum sl_err load_epochs(struct stor_log *log, char *err, size_t err_len)
{
	char path[LOG_PATH_BYTES + 64];
	snprintf(path, sizeof(path), "%s/%s", log->dir, STOR_LEADER_EPOCH_CHECKPOINT_NAME);
	enum sl_err e = stor_epoch_checkpoint_read(path, log->epochs, LOG_EPOCHS_MAX,
	                                           &log->epoch_count, err, err_len);
	if (e == SL_ENOENT) {
		log->epoch_count = 0;
		return SL_OK;
	}
	return e;
}

/* Removes the three files of segment `base` by name (it is not opened: a segment that follows
 * a cut is deleted whatever its content). Missing files are not an error. */
static enum sl_err unlink_segment(const char *dir, int64_t base, char *err, size_t err_len)
{
	static const char *const exts[] = {"index", "timeindex", "log"};
	for (size_t x = 0; x < SL_ARRAY_LEN(exts); x++) {
		char path[LOG_PATH_BYTES + 64];
		stor_segment_path(path, sizeof(path), dir, base, exts[x]);
		if (unlink(path) != 0 && errno != ENOENT) {
			int en = errno;
			snprintf(err, err_len, "cannot delete %s: %s", path, strerror(en));
			return sl_err_from_errno(en);
		}
	}
	return SL_OK;
}

/* Opens segments; recovers those at or after the recovery point (all unless clean). */
static enum sl_err open_segments(struct stor_log *log, const struct stor_log_open_args *a,
                                 const int64_t *bases, size_t n, struct stor_startup_report *rep,
                                 char *err, size_t err_len)
{
	struct stor_segment_limits lim;
	stor_log_limits(&log->cfg, &lim);
	for (size_t i = 0; i < n; i++) {
		bool below = i + 1 < n && bases[i + 1] <= a->recovery_point;
		bool recover = !a->clean_shutdown && !below;
		struct log_seg *seg = calloc(1, sizeof(*seg));
		if (seg == NULL)
			return SL_ENOMEM;
		struct stor_recovery_report rr = {0};
		enum sl_err e = stor_segment_open(&seg->s, log->dir, bases[i], recover, &lim, &rr,
		                                  err, err_len);
		if (e == SL_OK && recover && fdatasync(seg->s.log_fd) != 0)
			e = sl_err_from_errno(errno);
		if (e == SL_OK)
			e = segs_push(log, seg);
		if (e != SL_OK) {
			stor_segment_close(&seg->s); /* the fd, when fdatasync or the push failed */
			free(seg);
			return e;
		}
		seg->written_bytes = seg->durable_bytes = seg->s.size_bytes;
		if (rep != NULL) {
			rep->segments++;
			rep->segments_recovered += recover;
			rep->bytes_scanned += rr.bytes_scanned;
			rep->bytes_truncated += rr.bytes_truncated;
		}
		bool gap = i + 1 < n && seg->s.next_offset < bases[i + 1];
		if (recover && (rr.bytes_truncated > 0 || gap) && i + 1 < n) {
			/* A torn segment, or one that lost its tail (power loss: later segments may
			 * have reached the disk while this one's last pages did not): everything
			 * after it would sit behind a hole and was never reported durable. */
			SL_WARN(CTX,
			        "%s: truncated %llu bytes in segment %lld; deleting %zu later "
			        "segments",
			        log->dir, (unsigned long long)rr.bytes_truncated,
			        (long long)bases[i], n - i - 1);
			for (size_t j = i + 1; j < n; j++) {
				e = unlink_segment(log->dir, bases[j], err, err_len);
				if (e != SL_OK)
					return e;
			}
			/* Durable before anything is appended after the cut: the deleted
			 * segments must not come back with offsets the new data reuses. */
			e = stor_dir_fsync(log->dir);
			if (e != SL_OK)
				snprintf(err, err_len, "fsync of directory %s failed: %s", log->dir,
				         sl_err_msg(e));
			return e;
		}
		if (i + 1 < n)
			stor_segment_seal(&seg->s);
	}
	return SL_OK;
}

static void log_free(struct stor_log *log)
{
	for (size_t i = 0; i < log->seg_count; i++) {
		stor_segment_close(&log->segs[i]->s);
		free(log->segs[i]);
	}
	free(log->segs);
	stor_log_reap(log, 0, true);
	free(log);
}

/* After opening: watermarks, log start, deleting segments below it, epoch truncation. */
static enum sl_err settle(struct stor_log *log, const struct stor_log_open_args *a, char *err,
                          size_t err_len)
{
	if (log->seg_count == 0) {
		enum sl_err e = seg_new(log, a->log_start_offset, err, err_len);
		if (e != SL_OK)
			return e;
	}
	struct log_seg *act = stor_log_active(log);
	log->end_offset = log->written_offset = log->durable_offset = act->s.next_offset;
	int64_t lso = SL_MAX(a->log_start_offset, log->segs[0]->s.base_offset);
	log->log_start_offset = SL_MIN(lso, log->end_offset);
	size_t below = 0;
	while (below + 1 < log->seg_count &&
	       log->segs[below]->s.next_offset <= log->log_start_offset)
		below++;
	if (below > 0)
		stor_log_bury(log, 0, below, 0);
	size_t keep = log->epoch_count;
	while (keep > 0 && log->epochs[keep - 1].start_offset >= log->end_offset)
		keep--;
	if (keep != log->epoch_count) {
		log->epoch_count = keep;
		return stor_log_write_epochs(log);
	}
	return SL_OK;
}

enum sl_err stor_log_open(struct io_loop *loop, const struct stor_log_open_args *a,
                          struct stor_log **out, struct stor_startup_report *rep, char *err,
                          size_t err_len)
{
	SL_ASSERT(a->partition >= 0);
	SL_ASSERT(strlen(a->topic) <= STOR_TOPIC_NAME_MAX);
	struct stor_log *log = calloc(1, sizeof(*log));
	if (log == NULL)
		return SL_ENOMEM;
	log->loop = loop;
	log->cfg = *a->cfg;
	log->partition = a->partition;
	log->fail_offset = INT64_MAX;
	log->high_watermark = -1;
	log->last_flush_ms = sl_wall_ms();
	snprintf(log->topic, sizeof(log->topic), "%s", a->topic);
	snprintf(log->parent, sizeof(log->parent), "%s", a->parent);
	snprintf(log->dir, sizeof(log->dir), "%s/%s-%d", a->parent, a->topic, (int)a->partition);
	enum sl_err e = SL_OK;
	if (a->create)
		e = stor_mkdirs(log->dir, err, err_len);
	int64_t *bases = NULL;
	size_t n = 0;
	if (e == SL_OK)
		e = scan_dir(log->dir, &bases, &n, rep, err, err_len);
	if (e == SL_OK)
		e = load_epochs(log, err, err_len);
	if (e == SL_OK)
		e = open_segments(log, a, bases, n, rep, err, err_len);
	free(bases);
	if (e == SL_OK)
		e = settle(log, a, err, err_len);
	if (e != SL_OK) {
		if (err != NULL && err_len > 0 && err[0] == '\0')
			snprintf(err, err_len, "%s: %s", log->dir, sl_err_msg(e));
		log_free(log);
		return e;
	}
	if (rep != NULL)
		rep->partitions++;
	stor_log_check_invariants(log);
	*out = log;
	return SL_OK;
}

enum sl_err stor_log_sync_all(struct stor_log *log)
{
	SL_ASSERT(!stor_log_busy(log));
	if (log->offline)
		return SL_EIO;
	enum sl_err e = SL_OK;
	for (size_t i = 0; i < log->seg_count && e == SL_OK; i++) {
		struct log_seg *seg = log->segs[i];
		if (seg->durable_bytes < seg->written_bytes) {
			if (fdatasync(seg->s.log_fd) != 0)
				e = sl_err_from_errno(errno);
			else
				seg->durable_bytes = seg->written_bytes;
		}
	}
	char err[256] = "";
	if (e == SL_OK)
		e = stor_segment_write_indexes(&stor_log_active(log)->s, err, sizeof(err));
	if (e != SL_OK) {
		stor_log_set_offline(log, e, err[0] ? err : "shutdown fdatasync");
		return e;
	}
	log->durable_offset = log->written_offset;
	return SL_OK;
}

enum sl_err stor_log_close(struct stor_log *log, bool clean)
{
	if (log == NULL)
		return SL_OK;
	enum sl_err e = clean ? stor_log_sync_all(log) : SL_OK;
	log_free(log);
	return e;
}

void stor_log_set_high_watermark(struct stor_log *log, int64_t hw)
{
	log->high_watermark = hw;
}

/* ---- state ------------------------------------------------------------------------------- */

void stor_log_get_state(const struct stor_log *log, struct stor_log_state *out)
{
	*out = (struct stor_log_state){
	        .log_start_offset = log->log_start_offset,
	        .end_offset = log->end_offset,
	        .written_offset = log->written_offset,
	        .durable_offset = log->durable_offset,
	        .segment_count = (uint32_t)log->seg_count,
	        .offline = log->offline,
	        .appends = log->appends,
	        .write_calls = log->write_calls,
	};
	for (size_t i = 0; i < log->seg_count; i++)
		out->size_bytes += log->segs[i]->s.size_bytes;
}

bool stor_log_offline(const struct stor_log *log)
{
	return log->offline;
}

const char *stor_log_dir(const struct stor_log *log)
{
	return log->dir;
}

const char *stor_log_topic(const struct stor_log *log)
{
	return log->topic;
}

int32_t stor_log_partition(const struct stor_log *log)
{
	return log->partition;
}

void stor_log_set_config(struct stor_log *log, const struct stor_log_config *c)
{
	log->cfg = *c;
}

void stor_log_check_invariants(const struct stor_log *log)
{
	SL_ASSERT(log->seg_count > 0);
	SL_ASSERT(log->durable_offset <= log->written_offset);
	SL_ASSERT(log->written_offset <= log->end_offset);
	SL_ASSERT(log->log_start_offset <= log->end_offset);
	SL_ASSERT(stor_log_active(log)->s.next_offset == log->end_offset);
	for (size_t i = 0; i < log->seg_count; i++) {
		const struct log_seg *seg = log->segs[i];
		SL_ASSERT(seg->durable_bytes <= seg->written_bytes);
		SL_ASSERT(seg->written_bytes <= seg->s.size_bytes);
		if (i > 0)
			SL_ASSERT(log->segs[i - 1]->s.next_offset <= seg->s.base_offset);
		SL_DASSERT((stor_segment_check_invariants(&seg->s), true));
	}
	if (log->inflight_head != NULL)
		SL_ASSERT(log->inflight_head->base_offset == log->written_offset || log->offline);
	else
		SL_ASSERT(log->written_offset == log->end_offset || log->offline);
	for (const struct stor_durable_wait *w = log->waiters; w != NULL; w = w->next) {
		SL_ASSERT(w->offset > log->durable_offset);
		if (w->next != NULL)
			SL_ASSERT(w->offset <= w->next->offset);
	}
}

uint64_t stor_log_test_drop_unsynced(struct stor_log *log)
{
	SL_ASSERT(!stor_log_busy(log));
	uint64_t dropped = 0;
	for (size_t i = 0; i < log->seg_count; i++) {
		struct log_seg *seg = log->segs[i];
		struct stat st;
		SL_ASSERT(fstat(seg->s.log_fd, &st) == 0);
		if ((uint64_t)st.st_size > seg->durable_bytes) {
			dropped += (uint64_t)st.st_size - seg->durable_bytes;
			SL_ASSERT(ftruncate(seg->s.log_fd, (off_t)seg->durable_bytes) == 0);
		}
	}
	return dropped;
}
