/*
 * snapshot.c: building and writing KRaft snapshot files (snapshot.h): the batch layout, file
 * names, the .part writer (also used for FetchSnapshot downloads), listing and deletion.
 *
 * Batches are built one at a time into a scratch buffer and handed to an emitter (append to a
 * buffer, or write to the .part file), so a snapshot never needs to be in memory as a whole.
 * Offsets count from 0 across batches: header batch at 0 (1 or 3 records), data batches
 * after it, the footer batch last.
 */
#include "snapshot.h"

#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Upper bound of one record's framing in a batch (length, attributes, deltas, key and value
 * lengths, header count). */
#define SNAP_RECORD_OVERHEAD_MAX 32
#define SNAP_SCRATCH_MAX (RAFT_BATCH_BYTES_MAX + (1u << 20))
#define SNAP_RECS_CHUNK 256

SL_PRINTF(3, 4) static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* ---- building ------------------------------------------------------------------------------ */

typedef enum sl_err emit_fn(void *ctx, const uint8_t *p, size_t n);

struct builder {
	const struct raft_snapshot_opts *o;
	emit_fn *emit;
	void *ctx;
	struct sl_buf scratch;
	int64_t next_offset;
};

static void params_for(const struct builder *b, struct stor_batch_params *p)
{
	stor_batch_params_init(p, b->o->append_time_ms);
	p->base_offset = b->next_offset;
	p->partition_leader_epoch = b->o->epoch;
}

static enum sl_err flush_scratch(struct builder *b, enum sl_err e, size_t records)
{
	if (e == SL_OK)
		e = b->emit(b->ctx, b->scratch.data, b->scratch.len);
	if (e == SL_OK)
		b->next_offset += (int64_t)records;
	sl_buf_reset(&b->scratch);
	return e;
}

static enum sl_err control_batch(struct builder *b, const enum stor_control_type *types,
                                 struct sl_buf *msgs, size_t count)
{
	const uint8_t *vals[3];
	size_t lens[3];
	struct stor_batch_params p;

	SL_ASSERT(count <= 3);
	for (size_t i = 0; i < count; i++) {
		if (sl_buf_err(&msgs[i]) != SL_OK)
			return SL_ENOMEM;
		vals[i] = msgs[i].data != NULL ? msgs[i].data : (const uint8_t *)"";
		lens[i] = msgs[i].len;
	}
	params_for(b, &p);
	return flush_scratch(b, stor_batch_build_control(&b->scratch, &p, types, vals, lens, count),
	                     count);
}

static void encode_voters(struct sl_buf *m, const struct raft_snapshot_opts *o,
                          struct wire_voters_record_voter *voters,
                          struct wire_voters_record_endpoint *eps)
{
	struct wire_voters_record vr;

	wire_voters_record_init(&vr);
	vr.version = 0;
	vr.voters_count = (int32_t)o->voter_count;
	vr.voters = voters;
	for (size_t i = 0; i < o->voter_count; i++) {
		const struct raft_snapshot_voter *v = &o->voters[i];

		wire_voters_record_voter_init(&voters[i]);
		wire_voters_record_endpoint_init(&eps[i]);
		eps[i].name = wire_str_c(v->listener);
		eps[i].host = wire_str_c(v->host);
		eps[i].port = v->port;
		voters[i].voter_id = v->id;
		voters[i].voter_directory_id = v->directory_id;
		voters[i].endpoints_count = 1;
		voters[i].endpoints = &eps[i];
		voters[i].kraft_version_feature.min_supported_version = v->min_kraft_version;
		voters[i].kraft_version_feature.max_supported_version = v->max_kraft_version;
	}
	wire_voters_record_encode(m, 0, &vr);
}

static enum sl_err header_batch(struct builder *b)
{
	const struct raft_snapshot_opts *o = b->o;
	const enum stor_control_type types[3] = {STOR_CONTROL_SNAPSHOT_HEADER,
	                                         STOR_CONTROL_KRAFT_VERSION,
	                                         STOR_CONTROL_KRAFT_VOTERS};
	size_t n = o->voter_count > 0 ? 3 : 1;
	struct wire_voters_record_voter *voters = NULL;
	struct wire_voters_record_endpoint *eps = NULL;
	struct sl_buf m[3];
	enum sl_err e = SL_OK;

	for (size_t i = 0; i < 3; i++)
		sl_buf_init(&m[i], RAFT_BATCH_BYTES_MAX);
	struct wire_snapshot_header_record h;
	wire_snapshot_header_record_init(&h);
	h.version = 0;
	h.last_contained_log_timestamp = o->last_contained_timestamp;
	wire_snapshot_header_record_encode(&m[0], 0, &h);
	if (n == 3) {
		struct wire_kraft_version_record kv;

		wire_kraft_version_record_init(&kv);
		kv.version = 0;
		kv.kraft_version = o->kraft_version;
		wire_kraft_version_record_encode(&m[1], 0, &kv);
		voters = calloc(o->voter_count, sizeof(*voters));
		eps = calloc(o->voter_count, sizeof(*eps));
		if (voters == NULL || eps == NULL)
			e = SL_ENOMEM;
		else
			encode_voters(&m[2], o, voters, eps);
	}
	if (e == SL_OK)
		e = control_batch(b, types, m, n);
	free(voters);
	free(eps);
	for (size_t i = 0; i < 3; i++)
		sl_buf_free(&m[i]);
	return e;
}

static enum sl_err footer_batch(struct builder *b)
{
	struct sl_buf m;
	struct wire_snapshot_footer_record f;
	enum stor_control_type t = STOR_CONTROL_SNAPSHOT_FOOTER;
	enum sl_err e;

	sl_buf_init(&m, 1024);
	wire_snapshot_footer_record_init(&f);
	f.version = 0;
	wire_snapshot_footer_record_encode(&m, 0, &f);
	e = control_batch(b, &t, &m, 1);
	sl_buf_free(&m);
	return e;
}

/* Data batches: as many values per batch as fit RAFT_BATCH_RECORDS_MAX / _BYTES_MAX. */
static enum sl_err data_batches(struct builder *b, const struct wire_bytes *values, size_t count)
{
	struct stor_record_in *recs = calloc(RAFT_BATCH_RECORDS_MAX, sizeof(*recs));
	size_t i = 0;
	enum sl_err e = SL_OK;

	if (recs == NULL)
		return SL_ENOMEM;
	while (e == SL_OK && i < count) {
		size_t n = 0;
		uint64_t bytes = STOR_BATCH_HEADER_BYTES;
		struct stor_batch_params p;

		while (i + n < count && n < RAFT_BATCH_RECORDS_MAX) {
			const struct wire_bytes *v = &values[i + n];
			uint64_t add = (uint64_t)SL_MAX(0, v->len) + SNAP_RECORD_OVERHEAD_MAX;

			if (v->len < 0 || v->ptr == NULL ||
			    add + STOR_BATCH_HEADER_BYTES > RAFT_BATCH_BYTES_MAX) {
				free(recs);
				return SL_EINVAL;
			}
			if (n > 0 && bytes + add > RAFT_BATCH_BYTES_MAX)
				break;
			recs[n] = (struct stor_record_in){.value = v->ptr, .value_len = v->len};
			bytes += add;
			n++;
		}
		params_for(b, &p);
		e = flush_scratch(b, stor_batch_build(&b->scratch, &p, recs, n), n);
		i += n;
	}
	free(recs);
	return e;
}

static enum sl_err build_all(const struct raft_snapshot_opts *o, const struct wire_bytes *values,
                             size_t count, emit_fn *emit, void *ctx)
{
	struct builder b = {.o = o, .emit = emit, .ctx = ctx};
	enum sl_err e;

	SL_ASSERT(o->voter_count == 0 || o->voters != NULL);
	sl_buf_init(&b.scratch, SNAP_SCRATCH_MAX);
	e = header_batch(&b);
	if (e == SL_OK)
		e = data_batches(&b, values, count);
	if (e == SL_OK)
		e = footer_batch(&b);
	sl_buf_free(&b.scratch);
	return e;
}

static enum sl_err emit_to_buf(void *ctx, const uint8_t *p, size_t n)
{
	struct sl_buf *out = ctx;

	sl_buf_append(out, p, n);
	return sl_buf_err(out) == SL_OK ? SL_OK : SL_ENOMEM;
}

enum sl_err raft_snapshot_build(struct sl_buf *out, const struct raft_snapshot_opts *o,
                                const struct wire_bytes *values, size_t count)
{
	size_t before = out->len;
	enum sl_err e = build_all(o, values, count, emit_to_buf, out);

	if (e != SL_OK && sl_buf_err(out) == SL_OK)
		out->len = before;
	return e;
}

/* ---- names --------------------------------------------------------------------------------- */

bool raft_snapshot_path(char *out, size_t out_len, const char *dir, struct raft_snapshot_id id)
{
	char name[64];
	int n = snprintf(name, sizeof(name), "%020" PRId64 "-%010" PRId32 "%s", id.end_offset,
	                 id.epoch, RAFT_SNAPSHOT_SUFFIX);
	size_t dl = strlen(dir);
	if (n <= 0 || (size_t)n >= sizeof(name) || dl + 1 + (size_t)n + 1 > out_len)
		return false;
	memcpy(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, name, (size_t)n + 1);
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

bool raft_snapshot_parse_name(const char *name, struct raft_snapshot_id *out)
{
	int64_t off = 0, ep = 0;

	if (strlen(name) != RAFT_SNAPSHOT_NAME_LEN || name[20] != '-' ||
	    strcmp(name + 31, RAFT_SNAPSHOT_SUFFIX) != 0 || !all_digits(name, 20) ||
	    !all_digits(name + 21, 10))
		return false;
	for (int i = 0; i < 20; i++) {
		int d = name[i] - '0';

		if (off > (INT64_MAX - d) / 10)
			return false;
		off = off * 10 + d;
	}
	for (int i = 21; i < 31; i++)
		ep = ep * 10 + (name[i] - '0');
	if (ep > INT32_MAX)
		return false;
	out->end_offset = off;
	out->epoch = (int32_t)ep;
	return true;
}

/* ---- the .part writer ------------------------------------------------------------------------ */

enum sl_err raft_snapshot_part_open(struct raft_snapshot_part *p, const char *dir,
                                    struct raft_snapshot_id id, char *err, size_t err_len)
{
	char final[RAFT_SNAPSHOT_PATH_MAX];

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->id = id;
	if (id.end_offset < 0 || id.epoch < 0 ||
	    !raft_snapshot_path(final, sizeof(final), dir, id) ||
	    (size_t)snprintf(p->dir, sizeof(p->dir), "%s", dir) >= sizeof(p->dir) ||
	    (size_t)snprintf(p->path, sizeof(p->path), "%s.part", final) >= sizeof(p->path)) {
		set_err(err, err_len, "invalid snapshot id or path too long in %s", dir);
		return SL_EINVAL;
	}
	p->fd = open(p->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (p->fd < 0) {
		int en = errno;

		set_err(err, err_len, "cannot create %s: %s", p->path, strerror(en));
		return sl_err_from_errno(en);
	}
	return SL_OK;
}

enum sl_err raft_snapshot_part_write_at(struct raft_snapshot_part *p, int64_t position,
                                        const uint8_t *data, size_t len, char *err, size_t err_len)
{
	SL_ASSERT(p->fd >= 0);
	if (position != p->size) {
		set_err(err, err_len,
		        "%s: write at %" PRId64 ", but the file has %" PRId64 " bytes", p->path,
		        position, p->size);
		return SL_EINVAL;
	}
	while (len > 0) {
		ssize_t k = pwrite(p->fd, data, len, (off_t)p->size);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int en = k < 0 ? errno : EIO;

			set_err(err, err_len, "cannot write %s: %s", p->path, strerror(en));
			return sl_err_from_errno(en);
		}
		data += k;
		len -= (size_t)k;
		p->size += k;
	}
	return SL_OK;
}

void raft_snapshot_part_abort(struct raft_snapshot_part *p)
{
	if (p->fd < 0)
		return;
	close(p->fd);
	p->fd = -1;
	unlink(p->path);
}

enum sl_err raft_snapshot_part_freeze(struct raft_snapshot_part *p, struct raft_snapshot_info *info,
                                      char *err, size_t err_len)
{
	char final[RAFT_SNAPSHOT_PATH_MAX];
	enum sl_err e;

	SL_ASSERT(p->fd >= 0);
	if (fsync(p->fd) != 0) {
		int en = errno;

		set_err(err, err_len, "fsync of %s failed: %s", p->path, strerror(en));
		raft_snapshot_part_abort(p);
		return sl_err_from_errno(en);
	}
	e = raft_snapshot_read_batches(p->path, NULL, NULL, info, err, err_len);
	if (e != SL_OK) {
		raft_snapshot_part_abort(p);
		return e;
	}
	close(p->fd);
	p->fd = -1;
	(void)raft_snapshot_path(final, sizeof(final), p->dir, p->id);
	if (rename(p->path, final) != 0) {
		int en = errno;

		set_err(err, err_len, "cannot rename %s to %s: %s", p->path, final, strerror(en));
		unlink(p->path);
		return sl_err_from_errno(en);
	}
	e = stor_dir_fsync(p->dir);
	if (e != SL_OK)
		set_err(err, err_len, "fsync of directory %s failed: %s", p->dir, sl_err_msg(e));
	return e;
}

struct part_emit {
	struct raft_snapshot_part *p;
	char *err;
	size_t err_len;
};

static enum sl_err emit_to_part(void *ctx, const uint8_t *data, size_t n)
{
	struct part_emit *pe = ctx;

	return raft_snapshot_part_write_at(pe->p, pe->p->size, data, n, pe->err, pe->err_len);
}

enum sl_err raft_snapshot_write(const char *dir, struct raft_snapshot_id id,
                                const struct raft_snapshot_opts *o, const struct wire_bytes *values,
                                size_t count, char *err, size_t err_len)
{
	struct raft_snapshot_part p;
	struct part_emit pe = {&p, err, err_len};
	enum sl_err e = raft_snapshot_part_open(&p, dir, id, err, err_len);

	if (e != SL_OK)
		return e;
	set_err(err, err_len, "%s", "");
	e = build_all(o, values, count, emit_to_part, &pe);
	if (e != SL_OK) {
		if (err != NULL && err_len > 0 && err[0] == '\0')
			set_err(err, err_len, "cannot build snapshot %s: %s", p.path,
			        sl_err_msg(e));
		raft_snapshot_part_abort(&p);
		return e;
	}
	return raft_snapshot_part_freeze(&p, NULL, err, err_len);
}

/* ---- listing and deleting ---------------------------------------------------------------------
 */

static int id_cmp(const void *a, const void *b)
{
	const struct raft_snapshot_id *x = a, *y = b;

	if (x->end_offset != y->end_offset)
		return x->end_offset < y->end_offset ? -1 : 1;
	return (x->epoch > y->epoch) - (x->epoch < y->epoch);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Removes a stray .part / .deleted file; true when one was removed. */
static bool cleanup_entry(const char *dir, const char *name)
{
	char path[RAFT_SNAPSHOT_PATH_MAX];

	if (!ends_with(name, RAFT_SNAPSHOT_PART_SUFFIX) &&
	    !ends_with(name, RAFT_SNAPSHOT_DELETED_SUFFIX))
		return false;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return false;
	return unlink(path) == 0;
}

enum sl_err raft_snapshot_list(const char *dir, bool cleanup, struct raft_snapshot_id **ids,
                               size_t *count, char *err, size_t err_len)
{
	DIR *d = opendir(dir);
	struct raft_snapshot_id *out = NULL;
	size_t n = 0, cap = 0;
	bool removed = false;
	struct dirent *de;

	*ids = NULL;
	*count = 0;
	if (d == NULL) {
		int en = errno;

		set_err(err, err_len, "cannot open directory %s: %s", dir, strerror(en));
		return sl_err_from_errno(en);
	}
	while ((de = readdir(d)) != NULL) {
		struct raft_snapshot_id id;

		if (cleanup && cleanup_entry(dir, de->d_name)) {
			removed = true;
			continue;
		}
		if (!raft_snapshot_parse_name(de->d_name, &id))
			continue;
		if (n == cap) {
			size_t nc = SL_MAX((size_t)8, cap * 2);
			struct raft_snapshot_id *g = realloc(out, nc * sizeof(*g));

			if (g == NULL) {
				closedir(d);
				free(out);
				set_err(err, err_len, "out of memory listing %s", dir);
				return SL_ENOMEM;
			}
			out = g;
			cap = nc;
		}
		out[n++] = id;
	}
	closedir(d);
	if (removed && stor_dir_fsync(dir) != SL_OK)
		SL_WARN("raft", "fsync of directory %s failed after removing partial snapshots",
		        dir);
	if (n > 0)
		qsort(out, n, sizeof(*out), id_cmp);
	*ids = out;
	*count = n;
	return SL_OK;
}

enum sl_err raft_snapshot_delete(const char *dir, struct raft_snapshot_id id, char *err,
                                 size_t err_len)
{
	char path[RAFT_SNAPSHOT_PATH_MAX];
	enum sl_err e;

	if (!raft_snapshot_path(path, sizeof(path), dir, id)) {
		set_err(err, err_len, "path too long in %s", dir);
		return SL_EINVAL;
	}
	if (unlink(path) != 0) {
		int en = errno;

		set_err(err, err_len, "cannot delete %s: %s", path, strerror(en));
		return sl_err_from_errno(en);
	}
	e = stor_dir_fsync(dir);
	if (e != SL_OK)
		set_err(err, err_len, "fsync of directory %s failed: %s", dir, sl_err_msg(e));
	return e;
}
