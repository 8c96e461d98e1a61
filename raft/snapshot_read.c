/*
 * snapshot_read.c: reading and checking KRaft snapshot files (snapshot.h) batch by batch,
 * and serving byte ranges of a frozen snapshot (FetchSnapshot).
 *
 * The file is untrusted: each batch's declared length is checked against the file size and
 * RAFT_BATCH_BYTES_MAX (plus slack) before anything is read, each batch is fully parsed
 * (stor_batch_parse: CRC, lengths, record walk), and the snapshot structure is checked as a
 * small state machine: HEADER (expect the header control batch) -> DATA (data batches, or the
 * footer control batch) -> DONE (nothing may follow).
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_BATCH_READ_MAX (RAFT_BATCH_BYTES_MAX + (1u << 20))

enum snap_state { SNAP_HEADER, SNAP_DATA, SNAP_DONE };

struct snap_reader {
	const char *path;
	int fd;
	int64_t size;
	int64_t pos; /* byte position of the current batch */
	enum snap_state state;
	int64_t next_offset;
	struct raft_snapshot_info info;
	struct sl_buf buf;
	char *err;
	size_t err_len;
};

SL_PRINTF(3, 4)
static enum sl_err fail(struct snap_reader *r, enum sl_err code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->err == NULL || r->err_len == 0)
		return code;
	n = snprintf(r->err, r->err_len, "%s: ", r->path);
	if (n < 0 || (size_t)n >= r->err_len)
		return code;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

static enum sl_err read_exact(struct snap_reader *r, uint8_t *p, size_t n, int64_t at)
{
	while (n > 0) {
		ssize_t k = pread(r->fd, p, n, (off_t)at);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return fail(r, sl_err_from_errno(errno),
			            "read error at byte %" PRId64 ": %s", at, strerror(errno));
		if (k == 0)
			return fail(r, SL_ECORRUPT, "truncated batch at byte %" PRId64, r->pos);
		p += k;
		n -= (size_t)k;
		at += k;
	}
	return SL_OK;
}

/* Reads and parses the batch at r->pos into v. */
static enum sl_err next_batch(struct snap_reader *r, struct stor_batch_view *v)
{
	uint8_t head[STOR_BATCH_LOG_OVERHEAD];
	int64_t left = r->size - r->pos;
	size_t size, used;
	enum sl_err e;

	if (left < STOR_BATCH_LOG_OVERHEAD)
		return fail(r, SL_ECORRUPT,
		            "truncated batch at byte %" PRId64 " (%" PRId64 " bytes left)", r->pos,
		            left);
	e = read_exact(r, head, sizeof(head), r->pos);
	if (e != SL_OK)
		return e;
	if (stor_batch_peek_size(head, sizeof(head), &size) != SL_OK)
		return fail(r, SL_ECORRUPT, "bad batch length at byte %" PRId64, r->pos);
	if (size > SNAP_BATCH_READ_MAX)
		return fail(r, SL_ECORRUPT,
		            "batch at byte %" PRId64 " claims %zu bytes (over the limit)", r->pos,
		            size);
	if ((int64_t)size > left)
		return fail(r, SL_ECORRUPT,
		            "truncated batch at byte %" PRId64 ": %zu bytes declared, %" PRId64
		            " left",
		            r->pos, size, left);
	sl_buf_reset(&r->buf);
	if (sl_buf_extend(&r->buf, size) == NULL)
		return fail(r, SL_ENOMEM, "out of memory reading a %zu-byte batch", size);
	e = read_exact(r, r->buf.data, size, r->pos);
	if (e != SL_OK)
		return e;
	e = stor_batch_parse(r->buf.data, size, v, &used);
	if (e == SL_ECORRUPT)
		return fail(r, SL_ECORRUPT, "CRC mismatch in the batch at byte %" PRId64, r->pos);
	if (e == SL_EUNSUPPORTED)
		return fail(r, SL_ECORRUPT,
		            "batch at byte %" PRId64
		            " is compressed or not magic 2 (not a snapshot)",
		            r->pos);
	if (e != SL_OK || used != size)
		return fail(r, SL_ECORRUPT, "malformed batch at byte %" PRId64, r->pos);
	return SL_OK;
}

/* The control records of the first batch: SnapshotHeader, then KRaftVersion / Voters. */
static enum sl_err check_header_batch(struct snap_reader *r, const struct stor_batch_view *v)
{
	struct stor_record_iter it;
	struct stor_record rec;
	int32_t i = 0;

	stor_record_iter_init(&it, v);
	while (stor_record_next(&it, &rec) == SL_OK) {
		int16_t type;
		struct wire_reader wr;

		if (stor_control_key_parse(&rec, &type) != SL_OK || rec.value == NULL)
			return fail(r, SL_ECORRUPT,
			            "bad control record in the batch at byte %" PRId64, r->pos);
		wire_reader_init(&wr, rec.value, (size_t)rec.value_len, NULL);
		if (i == 0) {
			struct wire_snapshot_header_record h;

			if (type != STOR_CONTROL_SNAPSHOT_HEADER ||
			    wire_snapshot_header_record_decode(&wr, 0, &h) != SL_OK ||
			    !wire_reader_done(&wr))
				return fail(r, SL_ECORRUPT,
				            "does not start with a SnapshotHeader record");
			r->info.last_contained_timestamp = h.last_contained_log_timestamp;
		} else if (type == STOR_CONTROL_KRAFT_VERSION) {
			struct wire_kraft_version_record kv;

			if (wire_kraft_version_record_decode(&wr, 0, &kv) != SL_OK ||
			    !wire_reader_done(&wr))
				return fail(r, SL_ECORRUPT, "malformed KRaftVersionRecord");
			r->info.kraft_version = kv.kraft_version;
		} else if (type == STOR_CONTROL_KRAFT_VOTERS) {
			r->info.has_voters = true;
		} else {
			return fail(r, SL_ECORRUPT,
			            "unexpected control record type %d in the header batch", type);
		}
		i++;
	}
	r->info.epoch = v->h.partition_leader_epoch;
	return SL_OK;
}

static enum sl_err check_footer_batch(struct snap_reader *r, const struct stor_batch_view *v)
{
	struct stor_record_iter it;
	struct stor_record rec;

	stor_record_iter_init(&it, v);
	while (stor_record_next(&it, &rec) == SL_OK) {
		int16_t type;
		struct wire_reader wr;
		struct wire_snapshot_footer_record f;

		if (stor_control_key_parse(&rec, &type) != SL_OK || rec.value == NULL)
			return fail(r, SL_ECORRUPT,
			            "bad control record in the batch at byte %" PRId64, r->pos);
		if (type != STOR_CONTROL_SNAPSHOT_FOOTER)
			return fail(
			        r, SL_ECORRUPT,
			        "unexpected control record type %d in the batch at byte %" PRId64,
			        type, r->pos);
		wire_reader_init(&wr, rec.value, (size_t)rec.value_len, NULL);
		if (wire_snapshot_footer_record_decode(&wr, 0, &f) != SL_OK ||
		    !wire_reader_done(&wr))
			return fail(r, SL_ECORRUPT, "malformed SnapshotFooter record");
	}
	return SL_OK;
}

static enum sl_err check_data_batch(struct snap_reader *r, const struct stor_batch_view *v)
{
	struct stor_record_iter it;
	struct stor_record rec;

	stor_record_iter_init(&it, v);
	while (stor_record_next(&it, &rec) == SL_OK) {
		if (rec.value == NULL)
			return fail(r, SL_ECORRUPT,
			            "null record value in the batch at byte %" PRId64, r->pos);
	}
	r->info.data_records += v->h.record_count;
	return SL_OK;
}

static enum sl_err check_batch(struct snap_reader *r, const struct stor_batch_view *v)
{
	bool control = stor_batch_is_control(v);
	enum sl_err e;

	if (r->state == SNAP_DONE)
		return fail(r, SL_ECORRUPT, "data after the SnapshotFooter at byte %" PRId64,
		            r->pos);
	if (v->h.base_offset != r->next_offset || v->h.record_count < 1)
		return fail(r, SL_ECORRUPT,
		            "batch at byte %" PRId64 " has base offset %" PRId64
		            ", expected %" PRId64,
		            r->pos, v->h.base_offset, r->next_offset);
	if (r->state == SNAP_HEADER) {
		if (!control)
			return fail(r, SL_ECORRUPT, "does not start with a SnapshotHeader record");
		e = check_header_batch(r, v);
		r->state = SNAP_DATA;
	} else if (control) {
		e = check_footer_batch(r, v);
		r->state = SNAP_DONE;
	} else {
		e = check_data_batch(r, v);
	}
	r->next_offset = v->h.base_offset + v->h.last_offset_delta + 1;
	return e;
}

enum sl_err raft_snapshot_read_batches(const char *path, raft_snapshot_batch_fn *fn, void *ctx,
                                       struct raft_snapshot_info *info, char *err, size_t err_len)
{
	struct snap_reader r = {.path = path, .err = err, .err_len = err_len};
	struct stat st;
	enum sl_err e = SL_OK;

	r.info.kraft_version = -1;
	if (err != NULL && err_len > 0)
		err[0] = '\0';
	r.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0)
		return fail(&r, sl_err_from_errno(errno), "cannot open: %s", strerror(errno));
	if (fstat(r.fd, &st) != 0) {
		e = fail(&r, sl_err_from_errno(errno), "cannot stat: %s", strerror(errno));
		close(r.fd);
		return e;
	}
	r.size = st.st_size;
	sl_buf_init(&r.buf, SNAP_BATCH_READ_MAX);
	while (e == SL_OK && r.pos < r.size) {
		struct stor_batch_view v;

		e = next_batch(&r, &v);
		if (e == SL_OK)
			e = check_batch(&r, &v);
		if (e == SL_OK && fn != NULL)
			e = fn(ctx, &v, err, err_len);
		if (e == SL_OK)
			r.pos += (int64_t)v.size;
	}
	if (e == SL_OK && r.state != SNAP_DONE)
		e = fail(&r, SL_ECORRUPT,
		         r.size == 0 ? "empty file (not a snapshot)"
		                     : "no SnapshotFooter: the snapshot is incomplete");
	sl_buf_free(&r.buf);
	close(r.fd);
	if (e == SL_OK && info != NULL) {
		r.info.next_offset = r.next_offset;
		r.info.size = r.size;
		*info = r.info;
	}
	return e;
}

/* ---- data batches as values --------------------------------------------------------------------
 */

struct values_ctx {
	raft_apply_fn *apply;
	void *ctx;
	struct wire_bytes *vals;
	size_t cap;
};

static enum sl_err values_batch(void *ctx, const struct stor_batch_view *v, char *err,
                                size_t err_len)
{
	struct values_ctx *c = ctx;
	struct stor_record_iter it;
	struct stor_record rec;
	size_t n = 0;

	if (stor_batch_is_control(v))
		return SL_OK;
	if ((size_t)v->h.record_count > c->cap) {
		struct wire_bytes *g = realloc(c->vals, sizeof(*g) * (size_t)v->h.record_count);

		if (g == NULL)
			return SL_ENOMEM;
		c->vals = g;
		c->cap = (size_t)v->h.record_count;
	}
	stor_record_iter_init(&it, v);
	while (n < c->cap && stor_record_next(&it, &rec) == SL_OK)
		c->vals[n++] = (struct wire_bytes){rec.value, rec.value_len};
	return c->apply(c->ctx, v->h.base_offset, c->vals, n, err, err_len);
}

enum sl_err raft_snapshot_read(const char *path, raft_apply_fn *apply, void *ctx,
                               struct raft_snapshot_info *info, char *err, size_t err_len)
{
	struct values_ctx c = {.apply = apply, .ctx = ctx};
	enum sl_err e = raft_snapshot_read_batches(path, values_batch, &c, info, err, err_len);

	free(c.vals);
	return e;
}

/* ---- serving chunks ----------------------------------------------------------------------------
 */

enum sl_err raft_snapshot_open(const char *dir, struct raft_snapshot_id id,
                               struct raft_snapshot_file *f, char *err, size_t err_len)
{
	char path[RAFT_SNAPSHOT_PATH_MAX];
	struct stat st;
	int en;

	f->fd = -1;
	f->size = 0;
	if (!raft_snapshot_path(path, sizeof(path), dir, id)) {
		snprintf(err, err_len, "path too long in %s", dir);
		return SL_EINVAL;
	}
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		en = errno;
		snprintf(err, err_len, "cannot open %s: %s", path, strerror(en));
		return sl_err_from_errno(en);
	}
	if (fstat(f->fd, &st) != 0) {
		en = errno;
		snprintf(err, err_len, "cannot stat %s: %s", path, strerror(en));
		raft_snapshot_close(f);
		return sl_err_from_errno(en);
	}
	f->size = st.st_size;
	return SL_OK;
}

enum sl_err raft_snapshot_read_at(const struct raft_snapshot_file *f, int64_t position,
                                  uint8_t *buf, size_t len, size_t *got)
{
	size_t want, done = 0;

	*got = 0;
	if (f->fd < 0 || position < 0 || position > f->size)
		return SL_EINVAL;
	want = (size_t)SL_MIN((int64_t)len, f->size - position);
	while (done < want) {
		ssize_t k =
		        pread(f->fd, buf + done, want - done, (off_t)(position + (int64_t)done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return SL_EIO; /* shrank under us, or an I/O error */
		done += (size_t)k;
	}
	*got = done;
	return SL_OK;
}

void raft_snapshot_close(struct raft_snapshot_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
