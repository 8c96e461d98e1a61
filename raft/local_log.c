/*
 * local_log.c: the single-node metadata log (raft.h): open, bootstrap, replay and close.
 *
 * `<metadata_dir>/__cluster_metadata-0` is an ordinary storage-engine log opened on its own
 * (no log manager). It is always opened with full recovery (no recovery point is kept), so a
 * torn tail left by a crash is cut at the first incomplete batch; nothing after it was ever
 * acknowledged, because a proposal completes only once its batch is fdatasynced.
 *
 * Start-up order: quorum-state (epoch; written when missing), partition.metadata (topic id
 * Uuid(0,1)), open + recover, bootstrap.checkpoint's data records as the first batches when
 * the log is empty (durably, before anything is applied), then every batch through apply.
 * Everything here is blocking (start-up and shutdown); proposals are in local_propose.c.
 */
#include "raft_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLAY_READ_BYTES (1u << 20)
#define QUORUM_STATE_MAX_BYTES 65536

/* ---- scratch, building, values ------------------------------------------------------------ */

enum sl_err raft_scratch_reserve(struct raft *r, size_t n)
{
	if (n <= r->vals_cap)
		return SL_OK;
	size_t cap = SL_MAX(n, r->vals_cap * 2);
	struct wire_bytes *v = realloc(r->vals, cap * sizeof(*v));
	if (v == NULL)
		return SL_ENOMEM;
	r->vals = v;
	struct stor_record_in *rec = realloc(r->recs, cap * sizeof(*rec));
	if (rec == NULL)
		return SL_ENOMEM;
	r->recs = rec;
	r->vals_cap = cap;
	return SL_OK;
}

enum sl_err raft_build_batch(struct raft *r, const struct wire_bytes *values, size_t count,
                             int64_t now_ms)
{
	if (count == 0 || count > RAFT_BATCH_RECORDS_MAX)
		return SL_EINVAL;
	uint64_t bytes = STOR_BATCH_HEADER_BYTES;
	for (size_t i = 0; i < count; i++) {
		if (values[i].len < 0 || (values[i].len > 0 && values[i].ptr == NULL))
			return SL_EINVAL;
		bytes += (uint64_t)values[i].len + RAFT_RECORD_OVERHEAD_MAX;
	}
	if (bytes > RAFT_BATCH_BYTES_MAX)
		return SL_EINVAL;
	enum sl_err e = raft_scratch_reserve(r, count);
	if (e != SL_OK)
		return e;
	for (size_t i = 0; i < count; i++) {
		static const uint8_t empty[1];
		r->recs[i] = (struct stor_record_in){
		        .value = values[i].len > 0 ? values[i].ptr : empty,
		        .value_len = values[i].len,
		};
	}
	struct stor_batch_params p;
	stor_batch_params_init(&p, now_ms);
	p.partition_leader_epoch = r->epoch;
	sl_buf_reset(&r->build);
	e = stor_batch_build(&r->build, &p, r->recs, count);
	if (e == SL_ETOOBIG)
		return SL_EINVAL;
	return e;
}

enum sl_err raft_batch_values(struct raft *r, const struct stor_batch_view *v, size_t *count,
                              char *err, size_t err_len)
{
	size_t n = (size_t)v->h.record_count;
	if (n > RAFT_BATCH_RECORDS_MAX) {
		snprintf(err, err_len, "%s: batch at offset %" PRId64 " has %zu records (max %d)",
		         r->dir, v->h.base_offset, n, RAFT_BATCH_RECORDS_MAX);
		return SL_ECORRUPT;
	}
	enum sl_err e = raft_scratch_reserve(r, n);
	if (e != SL_OK)
		return e;
	struct stor_record_iter it;
	stor_record_iter_init(&it, v);
	struct stor_record rec;
	size_t i = 0;
	while ((e = stor_record_next(&it, &rec)) == SL_OK) {
		if (i >= n || rec.value == NULL || rec.offset_delta != (int32_t)i) {
			snprintf(err, err_len,
			         "%s: record %zu of the batch at offset %" PRId64
			         " has a null value or a bad offset delta",
			         r->dir, i, v->h.base_offset);
			return SL_ECORRUPT;
		}
		r->vals[i++] = (struct wire_bytes){rec.value, rec.value_len};
	}
	if (e != SL_ENOENT || i != n) {
		snprintf(err, err_len, "%s: malformed records in the batch at offset %" PRId64,
		         r->dir, v->h.base_offset);
		return SL_ECORRUPT;
	}
	*count = n;
	return SL_OK;
}

/* ---- quorum-state ------------------------------------------------------------------------- */

/* The integer after "key": in a JSON text, or false. Only what our own files and Kafka's
 * QuorumStateData need: optional spaces, an optional '-', digits. */
static bool json_int(const char *text, const char *key, int64_t *out)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = strstr(text, pat);
	if (p == NULL)
		return false;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p++ != ':')
		return false;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	bool neg = *p == '-';
	if (neg)
		p++;
	if (*p < '0' || *p > '9')
		return false;
	int64_t v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	*out = neg ? -v : v;
	return true;
}

static enum sl_err quorum_state_write(struct raft *r, char *err, size_t err_len)
{
	char path[RAFT_PATH_BYTES + 32];
	snprintf(path, sizeof(path), "%s/%s", r->dir, RAFT_QUORUM_STATE_NAME);
	char text[256];
	int n = snprintf(text, sizeof(text),
	                 "{\"leaderId\":%d,\"leaderEpoch\":%d,\"votedId\":-1,\"appliedOffset\":0,"
	                 "\"currentVoters\":null,\"data_version\":0}",
	                 (int)r->node_id, (int)r->epoch);
	return stor_file_write_atomic(path, text, (size_t)n, err, err_len);
}

/* Reads the epoch from quorum-state, or writes the file with epoch 1 when it is missing. */
static enum sl_err quorum_state_load(struct raft *r, char *err, size_t err_len)
{
	char path[RAFT_PATH_BYTES + 32];
	snprintf(path, sizeof(path), "%s/%s", r->dir, RAFT_QUORUM_STATE_NAME);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		r->epoch = 1;
		return quorum_state_write(r, err, err_len);
	}
	if (fd < 0) {
		int e = errno;
		snprintf(err, err_len, "cannot open %s: %s", path, strerror(e));
		return sl_err_from_errno(e);
	}
	char *text = malloc(QUORUM_STATE_MAX_BYTES + 1);
	if (text == NULL) {
		close(fd);
		return SL_ENOMEM;
	}
	size_t len = 0;
	ssize_t got;
	while (len < QUORUM_STATE_MAX_BYTES &&
	       (got = read(fd, text + len, QUORUM_STATE_MAX_BYTES - len)) > 0)
		len += (size_t)got;
	close(fd);
	text[len] = '\0';
	int64_t epoch = -1;
	bool ok = json_int(text, "leaderEpoch", &epoch) && epoch >= 0 && epoch <= INT32_MAX;
	free(text);
	if (!ok) {
		snprintf(err, err_len, "%s: no valid leaderEpoch", path);
		return SL_ECORRUPT;
	}
	r->epoch = (int32_t)epoch;
	return SL_OK;
}

/* ---- blocking append (bootstrap) ----------------------------------------------------------- */

struct sync_append {
	struct stor_append app;
	struct stor_durable_wait wait;
	bool appended;
	bool durable;
};

static void sync_appended(struct stor_append *a, void *ctx)
{
	(void)a;
	((struct sync_append *)ctx)->appended = true;
}

static void sync_durable(struct stor_durable_wait *w, void *ctx)
{
	(void)w;
	((struct sync_append *)ctx)->durable = true;
}

/* Appends r->build and waits until it is durable, running the loop. */
static enum sl_err append_durably(struct raft *r, char *err, size_t err_len)
{
	struct sync_append s;
	memset(&s, 0, sizeof(s));
	enum sl_err e = stor_log_append(r->log, &s.app, r->build.data, r->build.len, r->epoch,
	                                sl_wall_ms(), sync_appended, &s);
	while (e == SL_OK && !s.appended)
		io_loop_run_once(r->loop, -1);
	if (e == SL_OK)
		e = s.app.err;
	if (e == SL_OK) {
		e = stor_log_wait_durable(r->log, &s.wait, s.app.last_offset + 1, sync_durable, &s);
		if (e == SL_EAGAIN) {
			while (!s.durable)
				io_loop_run_once(r->loop, -1);
			e = s.wait.err;
		}
	}
	if (e != SL_OK)
		snprintf(err, err_len, "%s: cannot write the bootstrap records: %s", r->dir,
		         sl_err_msg(e));
	return e;
}

/* ---- bootstrap ------------------------------------------------------------------------------ */

/* Appends the gathered values vals[0..n) as one batch. */
static enum sl_err bootstrap_flush(struct raft *r, struct wire_bytes *vals, size_t n, char *err,
                                   size_t err_len)
{
	if (n == 0)
		return SL_OK;
	enum sl_err e = raft_build_batch(r, vals, n, sl_wall_ms());
	if (e != SL_OK) {
		snprintf(err, err_len, "cannot build the bootstrap batch: %s", sl_err_msg(e));
		return e;
	}
	return append_durably(r, err, err_len);
}

/* Gathers the data records of the checkpoint into batches within the raft limits. */
static enum sl_err bootstrap_append(struct raft *r, const struct sl_buf *file, char *err,
                                    size_t err_len)
{
	struct wire_bytes *vals = calloc(RAFT_BATCH_RECORDS_MAX, sizeof(*vals));
	if (vals == NULL)
		return SL_ENOMEM;
	size_t n = 0;
	uint64_t bytes = STOR_BATCH_HEADER_BYTES;
	enum sl_err e = SL_OK;
	for (size_t pos = 0; pos < file->len && e == SL_OK;) {
		struct stor_batch_view v;
		size_t used;
		e = stor_batch_parse(file->data + pos, file->len - pos, &v, &used);
		if (e != SL_OK) {
			snprintf(err, err_len, "%s/%s: bad batch at byte %zu: %s", r->metadata_dir,
			         STOR_BOOTSTRAP_CHECKPOINT_NAME, pos, sl_err_msg(e));
			break;
		}
		pos += used;
		if (stor_batch_is_control(&v))
			continue;
		struct stor_record_iter it;
		stor_record_iter_init(&it, &v);
		struct stor_record rec;
		while (e == SL_OK && stor_record_next(&it, &rec) == SL_OK) {
			if (rec.value == NULL) {
				snprintf(err, err_len, "%s/%s: a record with a null value",
				         r->metadata_dir, STOR_BOOTSTRAP_CHECKPOINT_NAME);
				e = SL_ECORRUPT;
				break;
			}
			uint64_t add = (uint64_t)rec.value_len + RAFT_RECORD_OVERHEAD_MAX;
			if (n == RAFT_BATCH_RECORDS_MAX || bytes + add > RAFT_BATCH_BYTES_MAX) {
				e = bootstrap_flush(r, vals, n, err, err_len);
				n = 0;
				bytes = STOR_BATCH_HEADER_BYTES;
			}
			vals[n++] = (struct wire_bytes){rec.value, rec.value_len};
			bytes += add;
		}
	}
	if (e == SL_OK)
		e = bootstrap_flush(r, vals, n, err, err_len);
	free(vals);
	return e;
}

static enum sl_err bootstrap(struct raft *r, char *err, size_t err_len)
{
	char path[RAFT_PATH_BYTES + 64];
	snprintf(path, sizeof(path), "%s/%s", r->metadata_dir, STOR_BOOTSTRAP_CHECKPOINT_NAME);
	struct sl_buf file;
	sl_buf_init(&file, STOR_CHECKPOINT_MAX_BYTES);
	char why[256] = "";
	enum sl_err e = stor_checkpoint_read(path, &file, why, sizeof(why));
	if (e == SL_ENOENT)
		snprintf(
		        err, err_len,
		        "%s is missing and the metadata log is empty (run `sluice storage format`)",
		        path);
	else if (e != SL_OK)
		snprintf(err, err_len, "%s: %s", path, why[0] ? why : sl_err_msg(e));
	else
		e = bootstrap_append(r, &file, err, err_len);
	sl_buf_free(&file);
	return e;
}

/* ---- replay --------------------------------------------------------------------------------- */

/* Reads [range) of a segment into buf (reset first). */
static enum sl_err read_range(const struct stor_file_range *range, struct sl_buf *buf)
{
	sl_buf_reset(buf);
	if (range->len > buf->max_bytes)
		return SL_ETOOBIG;
	uint8_t *p = sl_buf_extend(buf, (size_t)range->len);
	if (p == NULL)
		return SL_ENOMEM;
	size_t done = 0;
	while (done < range->len) {
		ssize_t n = pread(range->fd, p + done, (size_t)range->len - done,
		                  (off_t)(range->position + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? SL_ECORRUPT : sl_err_from_errno(errno);
		done += (size_t)n;
	}
	return SL_OK;
}

/* Applies every data batch in buf; *next = the offset after the last batch seen. */
static enum sl_err replay_chunk(struct raft *r, const struct sl_buf *buf, int64_t *next, char *err,
                                size_t err_len)
{
	for (size_t pos = 0; pos < buf->len;) {
		struct stor_batch_view v;
		size_t used;
		enum sl_err e = stor_batch_parse(buf->data + pos, buf->len - pos, &v, &used);
		if (e != SL_OK) {
			snprintf(err, err_len, "%s: bad batch at offset %" PRId64 ": %s", r->dir,
			         *next, sl_err_msg(e));
			return SL_ECORRUPT;
		}
		pos += used;
		if (v.h.base_offset != *next) {
			snprintf(err, err_len, "%s: batch at offset %" PRId64 ", expected %" PRId64,
			         r->dir, v.h.base_offset, *next);
			return SL_ECORRUPT;
		}
		*next = v.h.base_offset + v.h.last_offset_delta + 1;
		if (stor_batch_is_control(&v))
			continue;
		size_t n;
		e = raft_batch_values(r, &v, &n, err, err_len);
		if (e == SL_OK)
			e = r->apply(r->apply_ctx, v.h.base_offset, r->vals, n, err, err_len);
		if (e != SL_OK)
			return e;
		r->committed_end = *next;
	}
	return SL_OK;
}

static enum sl_err replay(struct raft *r, char *err, size_t err_len)
{
	struct stor_log_state st;
	stor_log_get_state(r->log, &st);
	struct sl_buf buf;
	sl_buf_init(&buf, (size_t)RAFT_BATCH_BYTES_MAX + REPLAY_READ_BYTES);
	int64_t next = st.log_start_offset;
	r->committed_end = next;
	enum sl_err e = SL_OK;
	while (e == SL_OK && next < st.written_offset) {
		struct stor_read_result res;
		e = stor_log_read(r->log, next, REPLAY_READ_BYTES, -1, &res);
		if (e == SL_OK && res.range.len == 0)
			e = SL_ECORRUPT;
		if (e == SL_OK)
			e = read_range(&res.range, &buf);
		if (e != SL_OK) {
			snprintf(err, err_len, "%s: cannot read at offset %" PRId64 ": %s", r->dir,
			         next, sl_err_msg(e));
			break;
		}
		e = replay_chunk(r, &buf, &next, err, err_len);
	}
	sl_buf_free(&buf);
	if (e == SL_OK)
		r->committed_end = next;
	return e;
}

/* ---- open / close --------------------------------------------------------------------------- */

static enum sl_err open_log(struct raft *r, uint64_t segment_bytes, char *err, size_t err_len)
{
	enum sl_err e = stor_mkdirs(r->dir, err, err_len);
	if (e == SL_OK)
		e = quorum_state_load(r, err, err_len);
	struct sl_uuid id;
	char why[256] = "";
	if (e == SL_OK && stor_partition_metadata_read(r->dir, &id, why, sizeof(why)) != SL_OK)
		e = stor_partition_metadata_write(r->dir, &SL_UUID_METADATA, err, err_len);
	if (e != SL_OK)
		return e;
	struct stor_log_config cfg;
	stor_log_config_init(&cfg);
	cfg.segment_bytes = segment_bytes != 0 ? segment_bytes : (1u << 30);
	cfg.retention_ms = -1;
	cfg.retention_bytes = -1;
	cfg.max_message_bytes = (int32_t)RAFT_BATCH_BYTES_MAX;
	struct stor_log_open_args a = {
	        .parent = r->metadata_dir,
	        .topic = "__cluster_metadata",
	        .partition = 0,
	        .cfg = &cfg,
	        .recovery_point = 0, /* always recover: the log is small, crashes are not */
	        .log_start_offset = 0,
	        .clean_shutdown = false,
	        .create = true,
	};
	return stor_log_open(r->loop, &a, &r->log, NULL, err, err_len);
}

static int64_t log_end(const struct raft *r)
{
	struct stor_log_state st;
	stor_log_get_state(r->log, &st);
	return st.end_offset;
}

static void raft_free(struct raft *r)
{
	sl_buf_free(&r->build);
	free(r->vals);
	free(r->recs);
	free(r);
}

enum sl_err raft_open(const struct raft_opts *o, struct raft **out, char *err, size_t err_len)
{
	SL_ASSERT(o->loop != NULL && o->metadata_dir != NULL && o->apply != NULL);
	if (err_len > 0)
		err[0] = '\0';
	struct raft *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return SL_ENOMEM;
	r->loop = o->loop;
	r->node_id = o->node_id;
	r->apply = o->apply;
	r->apply_ctx = o->apply_ctx;
	sl_buf_init(&r->build, RAFT_BATCH_BYTES_MAX);
	snprintf(r->log_ctx, sizeof(r->log_ctx), "metadata-log node=%d", (int)o->node_id);
	int n1 = snprintf(r->metadata_dir, sizeof(r->metadata_dir), "%s", o->metadata_dir);
	int n2 = snprintf(r->dir, sizeof(r->dir), "%s/%s", o->metadata_dir,
	                  STOR_METADATA_PARTITION_DIR);
	if (n1 < 0 || (size_t)n2 >= sizeof(r->dir) || (size_t)n1 >= sizeof(r->metadata_dir)) {
		snprintf(err, err_len, "metadata.log.dir too long: %s", o->metadata_dir);
		raft_free(r);
		return SL_EINVAL;
	}
	enum sl_err e = open_log(r, o->segment_bytes, err, err_len);
	if (e == SL_OK && log_end(r) == 0)
		e = bootstrap(r, err, err_len);
	if (e == SL_OK)
		e = replay(r, err, err_len);
	if (e != SL_OK) {
		if (err_len > 0 && err[0] == '\0')
			snprintf(err, err_len, "%s: %s", r->dir, sl_err_msg(e));
		if (r->log != NULL)
			(void)stor_log_close(r->log, false);
		raft_free(r);
		return e;
	}
	*out = r;
	return SL_OK;
}

int64_t raft_end_offset(const struct raft *r)
{
	return r->committed_end;
}

int32_t raft_epoch(const struct raft *r)
{
	return r->epoch;
}

int32_t raft_leader_id(const struct raft *r)
{
	return r->node_id;
}

bool raft_busy(const struct raft *r)
{
	return r->head != NULL;
}

void raft_close(struct raft *r)
{
	if (r == NULL)
		return;
	while (r->head != NULL) {
		io_loop_run_once(r->loop, -1);
		raft_props_release(r);
	}
	enum sl_err e = stor_log_close(r->log, !r->offline);
	if (e != SL_OK)
		SL_WARN(r->log_ctx, "%s: close: %s", r->dir, sl_err_msg(e));
	raft_free(r);
}
