/*
 * quorum_snap.c: snapshots of the metadata quorum (kraft.md §3.9): loading the latest at
 * start-up, taking them (size and time triggers), retention, serving FetchSnapshot and
 * installing one downloaded from the leader.
 *
 * Rules:
 *   - a snapshot is taken only of applied (committed) state, at a batch boundary: id =
 *     (applied end, epoch of the last applied batch); the bootstrap snapshot 0-0 is never
 *     loaded or served;
 *   - retention keeps the newest RAFT_SNAPSHOTS_KEPT snapshots; log segments wholly below the
 *     oldest kept one are deleted (the log start moves up to it), never above the applied end;
 *   - installing: the .part is validated and frozen, the log is emptied to start at the
 *     snapshot's end, the state machine is reset and loaded from the file, then the core is
 *     told. Every failure takes the log offline (the node stops) rather than guessing.
 */
#include "raft_int.h"

#include "snapshot.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAFT_SNAPSHOTS_KEPT 2
#define SNAPSHOT_ARENA_LIMIT (1u << 30)

static bool is_bootstrap(struct raft_snapshot_id id)
{
	return id.end_offset == 0 && id.epoch == 0;
}

/* ---- start-up -------------------------------------------------------------------------------- */

enum sl_err raft_snapshots_open(struct raft *r, struct raft_snapshot_id *latest, int64_t *size,
                                char *err, size_t err_len)
{
	*latest = (struct raft_snapshot_id){.end_offset = -1, .epoch = -1};
	*size = 0;
	struct raft_snapshot_id *ids = NULL;
	size_t n = 0;
	enum sl_err e = raft_snapshot_list(r->dir, true, &ids, &n, err, err_len);
	if (e == SL_ENOENT)
		return SL_OK;
	if (e != SL_OK)
		return e;
	for (size_t i = n; i-- > 0;) {
		if (!is_bootstrap(ids[i])) {
			*latest = ids[i];
			break;
		}
	}
	free(ids);
	if (latest->end_offset < 0)
		return SL_OK;
	char path[RAFT_SNAPSHOT_PATH_MAX];
	if (!raft_snapshot_path(path, sizeof(path), r->dir, *latest)) {
		snprintf(err, err_len, "%s: path too long", r->dir);
		return SL_EINVAL;
	}
	struct raft_snapshot_info info;
	e = raft_snapshot_read(path, r->apply, r->apply_ctx, &info, err, err_len);
	if (e != SL_OK)
		return e;
	*size = info.size;
	r->applied = latest->end_offset;
	r->applied_epoch = latest->epoch;
	r->snap = *latest;
	r->snap_size = info.size;
	r->data_seen = true;
	r->last_snapshot_ms = raft_now();
	SL_INFO(r->log_ctx, "loaded snapshot %s (%" PRId64 " bytes)", path, info.size);
	/* A crash right after a download: the log may end before the snapshot. */
	struct stor_log_state st;
	stor_log_get_state(r->log, &st);
	if (st.end_offset < latest->end_offset || st.log_start_offset > latest->end_offset) {
		e = stor_log_truncate_fully(r->log, latest->end_offset);
		if (e != SL_OK) {
			snprintf(err, err_len, "%s: cannot restart the log at %" PRId64, r->dir,
			         latest->end_offset);
			return e;
		}
	}
	return SL_OK;
}

/* ---- taking, retention --------------------------------------------------------------------- */

static void retention(struct raft *r)
{
	struct raft_snapshot_id *ids = NULL;
	size_t n = 0;
	char err[512] = "";
	if (raft_snapshot_list(r->dir, false, &ids, &n, err, sizeof(err)) != SL_OK)
		return;
	size_t real = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_bootstrap(ids[i]))
			ids[real++] = ids[i];
	for (size_t i = 0; i + RAFT_SNAPSHOTS_KEPT < real; i++)
		if (raft_snapshot_delete(r->dir, ids[i], err, sizeof(err)) != SL_OK)
			SL_WARN(r->log_ctx, "snapshot retention: %s", err);
	int64_t oldest = real > RAFT_SNAPSHOTS_KEPT ? ids[real - RAFT_SNAPSHOTS_KEPT].end_offset
	                 : real > 0                 ? ids[0].end_offset
	                                            : -1;
	free(ids);
	if (oldest <= 0)
		return;
	struct stor_log_state st;
	stor_log_get_state(r->log, &st);
	/* Never past what this node holds durably (a follower applies up to the leader's HW,
	 * which can be above its own flushed end). */
	int64_t start = SL_MIN(oldest, SL_MIN(r->applied, st.durable_offset));
	if (start <= st.log_start_offset)
		return;
	uint32_t deleted = 0;
	if (stor_log_advance_start_offset(r->log, start) != SL_OK ||
	    stor_log_apply_retention(r->log, sl_wall_ms(), start, &deleted) != SL_OK) {
		SL_WARN(r->log_ctx, "metadata log retention below %" PRId64 " failed", start);
		return;
	}
	raft_core_log_start_advanced(r->core, start);
	SL_DEBUG(r->log_ctx, "metadata log start now %" PRId64 " (%u segments deleted)", start,
	         deleted);
}

enum sl_err raft_snapshot_now(struct raft *r)
{
	if (r->image_records == NULL || r->offline)
		return SL_EUNSUPPORTED;
	if (r->applied <= 0 || r->applied == r->snap.end_offset)
		return SL_OK;
	struct sl_arena arena;
	sl_arena_init(&arena, 1u << 20, SNAPSHOT_ARENA_LIMIT);
	struct wire_bytes *values = NULL;
	size_t count = 0;
	enum sl_err e = r->image_records(r->snapshot_ctx, &arena, &values, &count);
	struct raft_snapshot_id id = {.end_offset = r->applied, .epoch = r->applied_epoch};
	char err[512] = "";
	if (e == SL_OK) {
		struct raft_snapshot_opts o = {.epoch = id.epoch,
		                               .last_contained_timestamp = r->applied_ts,
		                               .append_time_ms = sl_wall_ms(),
		                               .kraft_version = 0};
		e = raft_snapshot_write(r->dir, id, &o, values, count, err, sizeof(err));
	}
	sl_arena_free(&arena);
	if (e != SL_OK) {
		SL_WARN(r->log_ctx, "snapshot at %" PRId64 " not taken: %s", id.end_offset,
		        err[0] ? err : sl_err_msg(e));
		return e;
	}
	char path[RAFT_SNAPSHOT_PATH_MAX];
	struct raft_snapshot_file f;
	int64_t size = 0;
	if (raft_snapshot_open(r->dir, id, &f, err, sizeof(err)) == SL_OK) {
		size = f.size;
		raft_snapshot_close(&f);
	}
	(void)raft_snapshot_path(path, sizeof(path), r->dir, id);
	SL_INFO(r->log_ctx, "snapshot %s: %zu records, %" PRId64 " bytes", path, count, size);
	r->snap = id;
	r->snap_size = size;
	r->bytes_since_snapshot = 0;
	r->last_snapshot_ms = raft_now();
	raft_core_snapshot_taken(r->core, id, size);
	retention(r);
	return SL_OK;
}

void raft_snapshot_maybe(struct raft *r, int64_t now)
{
	if (r->image_records == NULL || r->offline || r->closing)
		return;
	if (r->applied <= r->snap.end_offset || r->applied <= 0)
		return;
	bool by_size = r->bytes_since_snapshot >= r->snapshot_max_new_bytes;
	bool by_time =
	        r->snapshot_interval_ms > 0 && now - r->last_snapshot_ms >= r->snapshot_interval_ms;
	if ((by_size || by_time) && raft_snapshot_now(r) != SL_OK)
		r->last_snapshot_ms = now; /* logged; retry after the interval, not at once */
}

int64_t raft_snapshot_end(const struct raft *r)
{
	return r->snap.end_offset;
}

/* ---- FetchSnapshot: serving ------------------------------------------------------------------ */

bool raft_snapshot_chunk(struct raft *r, struct raft_snapshot_id id, int64_t position,
                         int32_t max_bytes, const uint8_t **p, size_t *len)
{
	*p = NULL;
	*len = 0;
	struct raft_snapshot_file f;
	char err[512] = "";
	if (raft_snapshot_open(r->dir, id, &f, err, sizeof(err)) != SL_OK)
		return false;
	size_t want = (size_t)SL_MIN((int64_t)RAFT_FETCH_MAX_BYTES, SL_MAX((int64_t)max_bytes, 1));
	want = (size_t)SL_MIN((int64_t)want, SL_MAX((int64_t)0, f.size - position));
	sl_buf_reset(&r->recbuf);
	uint8_t *dst = sl_buf_extend(&r->recbuf, want);
	size_t got = 0;
	bool ok = dst != NULL && raft_snapshot_read_at(&f, position, dst, want, &got) == SL_OK;
	raft_snapshot_close(&f);
	if (!ok)
		return false;
	*p = r->recbuf.data;
	*len = got;
	return true;
}

/* ---- FetchSnapshot: installing ------------------------------------------------------------- */

void raft_snapshot_write_chunk(struct raft *r, struct raft_snapshot_id id, int64_t position,
                               int64_t len)
{
	char err[512] = "";
	if (position == 0) {
		raft_snapshot_part_abort(&r->part);
		if (raft_snapshot_part_open(&r->part, r->dir, id, err, sizeof(err)) != SL_OK) {
			raft_fail_all(r, err);
			return;
		}
	}
	if (r->part.fd < 0 || len < 0 || (size_t)len > r->step_records_len) {
		raft_fail_all(r, "a snapshot chunk without a download in progress");
		return;
	}
	if (raft_snapshot_part_write_at(&r->part, position, r->step_records, (size_t)len, err,
	                                sizeof(err)) != SL_OK)
		raft_fail_all(r, err);
}

void raft_snapshot_install(struct raft *r, struct raft_snapshot_id id)
{
	char err[512] = "";
	struct raft_snapshot_info info;
	if (r->part.fd < 0) {
		raft_fail_all(r, "snapshot install without a download");
		return;
	}
	if (raft_snapshot_part_freeze(&r->part, &info, err, sizeof(err)) != SL_OK) {
		raft_fail_all(r, err);
		return;
	}
	if (stor_log_truncate_fully(r->log, id.end_offset) != SL_OK) {
		raft_fail_all(r, "cannot empty the log for a snapshot");
		return;
	}
	char path[RAFT_SNAPSHOT_PATH_MAX];
	(void)raft_snapshot_path(path, sizeof(path), r->dir, id);
	if (r->on_load != NULL)
		r->on_load(r->snapshot_ctx, true);
	enum sl_err e = raft_snapshot_read(path, r->apply, r->apply_ctx, NULL, err, sizeof(err));
	if (r->on_load != NULL)
		r->on_load(r->snapshot_ctx, false);
	if (e != SL_OK) {
		raft_fail_all(r, err[0] ? err : "cannot load the downloaded snapshot");
		return;
	}
	SL_INFO(r->log_ctx, "installed snapshot %s from the leader (%" PRId64 " bytes)", path,
	        info.size);
	r->applied = id.end_offset;
	r->applied_epoch = id.epoch;
	r->snap = id;
	r->snap_size = info.size;
	r->data_seen = true;
	r->hw = SL_MAX(r->hw, id.end_offset);
	r->last_snapshot_ms = raft_now();
	r->bytes_since_snapshot = 0;
	raft_core_snapshot_installed(r->core, raft_now(), id, info.size);
	retention(r);
}
