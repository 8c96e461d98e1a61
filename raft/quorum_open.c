/*
 * quorum_open.c: opening and closing the metadata quorum (raft.h): quorum-state, the log,
 * the core's initial state, bootstrap records, and the blocking start-up of a single voter.
 *
 * `<metadata_dir>/__cluster_metadata-0` is an ordinary storage-engine log opened on its own
 * (no log manager), always with full recovery: a torn tail is cut at the first incomplete
 * batch. Nothing after it was acknowledged by this node (followers fetch again only after an
 * fdatasync; the leader counts its own end only once durable).
 *
 * quorum-state is Kafka's QuorumStateData JSON (v0 layout): leaderId, leaderEpoch, votedId,
 * appliedOffset, currentVoters, data_version; written through stor_file_write_atomic (temp
 * file, fsync, rename, directory fsync) before the core's decision is acted on.
 */
#include "raft_int.h"

#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUORUM_STATE_MAX_BYTES 65536
#define SINGLE_VOTER_START_MS 30000
#define RESIGN_WAIT_MS 500 /* at most this long for the EndQuorumEpoch answers */

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

enum sl_err raft_quorum_state_write(struct raft *r, const struct raft_hard_state *hs, char *err,
                                    size_t err_len)
{
	char path[RAFT_PATH_BYTES + 32];
	snprintf(path, sizeof(path), "%s/%s", r->dir, RAFT_QUORUM_STATE_NAME);
	char text[1024];
	size_t n = (size_t)snprintf(text, sizeof(text),
	                            "{\"clusterId\":\"\",\"leaderId\":%d,\"leaderEpoch\":%d,"
	                            "\"votedId\":%d,\"appliedOffset\":0,\"currentVoters\":[",
	                            (int)hs->leader_id, (int)hs->epoch, (int)hs->voted_id);
	for (uint32_t i = 0; i < r->cfg.voter_count && n < sizeof(text) - 64; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s{\"voterId\":%d}",
		                      i > 0 ? "," : "", (int)r->cfg.voters[i]);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "],\"data_version\":0}");
	enum sl_err e = stor_file_write_atomic(path, text, n, err, err_len);
	if (e == SL_OK)
		r->persisted = *hs;
	return e;
}

static enum sl_err read_text(const char *path, char **out, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return SL_ENOENT;
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
	*out = text;
	return SL_OK;
}

/* Loads quorum-state into *hs (a missing file = epoch 0, nobody). */
static enum sl_err quorum_state_load(struct raft *r, struct raft_hard_state *hs, char *err,
                                     size_t err_len)
{
	*hs = (struct raft_hard_state){.epoch = 0, .voted_id = -1, .leader_id = -1};
	char path[RAFT_PATH_BYTES + 32];
	snprintf(path, sizeof(path), "%s/%s", r->dir, RAFT_QUORUM_STATE_NAME);
	char *text = NULL;
	enum sl_err e = read_text(path, &text, err, err_len);
	if (e == SL_ENOENT)
		return SL_OK;
	if (e != SL_OK)
		return e;
	int64_t epoch = -1, leader = -1, voted = -1;
	bool ok = json_int(text, "leaderEpoch", &epoch) && epoch >= 0 && epoch <= INT32_MAX;
	if (ok && json_int(text, "leaderId", &leader))
		ok = leader >= -1 && leader <= INT32_MAX;
	if (ok && json_int(text, "votedId", &voted))
		ok = voted >= -1 && voted <= INT32_MAX;
	free(text);
	if (!ok) {
		snprintf(err, err_len, "%s: no valid leaderEpoch/leaderId/votedId", path);
		return SL_ECORRUPT;
	}
	*hs = (struct raft_hard_state){
	        .epoch = (int32_t)epoch, .voted_id = (int32_t)voted, .leader_id = (int32_t)leader};
	r->persisted = *hs;
	return SL_OK;
}

/* ---- the log -------------------------------------------------------------------------------- */

static enum sl_err open_log(struct raft *r, uint64_t segment_bytes, char *err, size_t err_len)
{
	enum sl_err e = stor_mkdirs(r->dir, err, err_len);
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
	        .recovery_point = 0, /* always recover: the log is small */
	        .log_start_offset = 0,
	        .clean_shutdown = false,
	        .create = true,
	};
	return stor_log_open(r->loop, &a, &r->log, NULL, err, err_len);
}

/* The epochs of the log, ascending, from the storage engine's leader-epoch cache. */
static uint32_t log_epochs(struct raft *r, int64_t log_start)
{
	struct raft_epoch_entry rev[RAFT_EPOCH_CAP];
	uint32_t n = 0;
	int32_t ask = INT32_MAX;
	while (n < RAFT_EPOCH_CAP) {
		int32_t e;
		int64_t end;
		stor_log_end_offset_for_epoch(r->log, ask, &e, &end);
		if (e < 0)
			break;
		rev[n].epoch = e;
		rev[n].start_offset = log_start; /* fixed below by the next older epoch's end */
		if (n > 0)
			rev[n - 1].start_offset = end;
		n++;
		if (e == 0)
			break;
		ask = e - 1;
	}
	uint32_t out = 0;
	for (uint32_t i = n; i-- > 0;) {
		if (out > 0 && rev[i].start_offset <= r->epochs[out - 1].start_offset)
			r->epochs[out - 1] = rev[i]; /* an empty epoch: keep the newer */
		else
			r->epochs[out++] = rev[i];
	}
	return out;
}

/* ---- bootstrap ------------------------------------------------------------------------------ */

static void bootstrap_done(void *ctx, enum sl_err err, int64_t last_offset)
{
	struct raft *r = ctx;
	(void)last_offset;
	if (err != SL_OK && err != SL_ECANCELED)
		SL_ERROR(r->log_ctx, "bootstrap records: %s", sl_err_msg(err));
}

/* Proposes the gathered values vals[0..n) as one batch. */
static enum sl_err bootstrap_flush(struct raft *r, struct wire_bytes *vals, size_t n)
{
	if (n == 0)
		return SL_OK;
	return raft_propose(r, vals, n, bootstrap_done, r);
}

static enum sl_err bootstrap_append(struct raft *r, const struct sl_buf *file)
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
		if (e != SL_OK)
			break;
		pos += used;
		if (stor_batch_is_control(&v))
			continue;
		struct stor_record_iter it;
		stor_record_iter_init(&it, &v);
		struct stor_record rec;
		while (e == SL_OK && stor_record_next(&it, &rec) == SL_OK) {
			if (rec.value == NULL) {
				e = SL_ECORRUPT;
				break;
			}
			uint64_t add = (uint64_t)rec.value_len + RAFT_RECORD_OVERHEAD_MAX;
			if (n == RAFT_BATCH_RECORDS_MAX || bytes + add > RAFT_BATCH_BYTES_MAX) {
				e = bootstrap_flush(r, vals, n);
				n = 0;
				bytes = STOR_BATCH_HEADER_BYTES;
			}
			vals[n++] = (struct wire_bytes){rec.value, rec.value_len};
			bytes += add;
		}
	}
	if (e == SL_OK)
		e = bootstrap_flush(r, vals, n);
	free(vals);
	return e;
}

void raft_write_bootstrap(struct raft *r)
{
	char path[RAFT_PATH_BYTES + 64];
	snprintf(path, sizeof(path), "%s/%s", r->metadata_dir, STOR_BOOTSTRAP_CHECKPOINT_NAME);
	struct sl_buf file;
	sl_buf_init(&file, STOR_CHECKPOINT_MAX_BYTES);
	char why[256] = "";
	enum sl_err e = stor_checkpoint_read(path, &file, why, sizeof(why));
	if (e == SL_ENOENT)
		SL_WARN(r->log_ctx,
		        "%s is missing: the metadata log starts without bootstrap records", path);
	else if (e != SL_OK)
		SL_ERROR(r->log_ctx, "%s: %s", path, why[0] ? why : sl_err_msg(e));
	else if ((e = bootstrap_append(r, &file)) != SL_OK)
		SL_ERROR(r->log_ctx, "%s: cannot write the bootstrap records: %s", path,
		         sl_err_msg(e));
	sl_buf_free(&file);
}

/* ---- the voter set of a bootstrapped quorum ------------------------------------------------ */

struct voters_scan {
	struct raft *r;
	struct raft_opts *o;
};

/* The VotersRecord of the bootstrap snapshot's header batch into o->voters. */
static enum sl_err voters_batch(void *ctx, const struct stor_batch_view *v, char *err,
                                size_t err_len)
{
	struct voters_scan *vs = ctx;
	if (!stor_batch_is_control(v))
		return SL_OK;
	struct stor_record_iter it;
	stor_record_iter_init(&it, v);
	struct stor_record rec;
	while (stor_record_next(&it, &rec) == SL_OK) {
		if (rec.key == NULL || rec.key_len != 4 || rec.value == NULL)
			continue;
		uint16_t type = sl_load_be16(rec.key + 2);
		if ((type == STOR_CONTROL_KRAFT_VERSION || type == STOR_CONTROL_KRAFT_VOTERS) &&
		    vs->r->boot_ctrl_count < 2 &&
		    (size_t)rec.value_len <= sizeof(vs->r->boot_ctrl[0])) {
			/* kept for the first leader, which writes them into the log */
			size_t i = vs->r->boot_ctrl_count++;
			vs->r->boot_ctrl_type[i] = type;
			vs->r->boot_ctrl_len[i] = (size_t)rec.value_len;
			memcpy(vs->r->boot_ctrl[i], rec.value, (size_t)rec.value_len);
		}
		if (type != STOR_CONTROL_KRAFT_VOTERS)
			continue;
		struct sl_arena arena;
		sl_arena_init(&arena, 4096, 1 << 20);
		struct wire_reader rd;
		wire_reader_init(&rd, rec.value, (size_t)rec.value_len, &arena);
		struct wire_voters_record vr;
		enum sl_err e = wire_voters_record_decode(&rd, 0, &vr);
		for (int32_t i = 0; e == SL_OK && i < vr.voters_count; i++) {
			const struct wire_voters_record_voter *x = &vr.voters[i];
			if (vs->o->voter_count >= RAFT_VOTERS_MAX || x->endpoints_count < 1) {
				e = SL_ECORRUPT;
				break;
			}
			struct raft_voter *dst = &vs->o->voters[vs->o->voter_count++];
			dst->id = x->voter_id;
			snprintf(dst->host, sizeof(dst->host), "%.*s",
			         (int)x->endpoints[0].host.len,
			         x->endpoints[0].host.ptr != NULL ? x->endpoints[0].host.ptr : "");
			dst->port = x->endpoints[0].port;
		}
		sl_arena_free(&arena);
		if (e != SL_OK) {
			snprintf(err, err_len, "bad VotersRecord in the bootstrap snapshot");
			return SL_ECORRUPT;
		}
	}
	return SL_OK;
}

/* Without controller.quorum.voters, a quorum formatted with --standalone/--initial-controllers
 * takes its voters from the VotersRecord of the 0-0 bootstrap snapshot (KIP-853). */
static enum sl_err bootstrap_voters(struct raft *r, struct raft_opts *o, char *err, size_t err_len)
{
	char path[RAFT_SNAPSHOT_PATH_MAX];
	struct raft_snapshot_id zero = {.end_offset = 0, .epoch = 0};
	if (!raft_snapshot_path(path, sizeof(path), r->dir, zero) || access(path, F_OK) != 0)
		return SL_OK;
	struct voters_scan vs = {.r = r, .o = o};
	enum sl_err e = raft_snapshot_read_batches(path, voters_batch, &vs, NULL, err, err_len);
	if (e == SL_OK && o->voter_count > 0)
		SL_INFO(r->log_ctx, "%u voters from the bootstrap snapshot %s", o->voter_count,
		        path);
	return e;
}

/* ---- open / close --------------------------------------------------------------------------- */

static void raft_free(struct raft *r)
{
	sl_buf_free(&r->build);
	sl_buf_free(&r->readbuf);
	sl_buf_free(&r->rpc_buf);
	sl_buf_free(&r->recbuf);
	free(r->vals);
	free(r->recs);
	free(r->batches);
	raft_snapshot_part_abort(&r->part);
	free(r->core);
	free(r);
}

static void set_config(struct raft *r, const struct raft_opts *o)
{
	struct raft_core_config *c = &r->cfg;
	memset(c, 0, sizeof(*c));
	c->node_id = o->node_id;
	snprintf(r->listener_name, sizeof(r->listener_name), "%.*s",
	         (int)sizeof(o->listener_name) - 1,
	         o->listener_name[0] != '\0' ? o->listener_name : "CONTROLLER");
	if (o->voter_count == 0) {
		c->voters[0] = o->node_id;
		c->voter_count = 1;
	}
	for (uint32_t i = 0; i < o->voter_count && i < RAFT_VOTERS_MAX; i++) {
		c->voters[c->voter_count++] = o->voters[i].id;
		r->voter_addrs[r->voter_addr_count++] = o->voters[i];
		bool self = o->voters[i].id == o->node_id;
		char *addr = self ? r->self_addr : r->peers[r->peer_count].addr;
		bool v6 = strchr(o->voters[i].host, ':') != NULL;
		snprintf(addr, sizeof(r->self_addr), v6 ? "[%s]:%u" : "%s:%u", o->voters[i].host,
		         (unsigned)o->voters[i].port);
		if (!self)
			r->peers[r->peer_count++].id = o->voters[i].id;
	}
	c->election_timeout_ms = o->election_timeout_ms > 0 ? o->election_timeout_ms : 1000;
	c->fetch_timeout_ms = o->fetch_timeout_ms > 0 ? o->fetch_timeout_ms : 2000;
	c->election_backoff_max_ms =
	        o->election_backoff_max_ms > 0 ? o->election_backoff_max_ms : 1000;
	c->request_timeout_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms : 2000;
	c->retry_backoff_ms = o->retry_backoff_ms > 0 ? o->retry_backoff_ms : 20;
	/* Kafka's MaxWaitMs is 500; a parked fetch must return well inside the follower's fetch
	 * timeout, or tuned (short) timeouts would make followers campaign against a live leader.
	 */
	c->fetch_max_wait_ms = SL_MIN(500, c->fetch_timeout_ms / 4);
	c->pre_vote = true;
	struct sl_uuid u;
	uint64_t seed = (uint64_t)sl_mono_ns();
	if (sl_uuid_random(&u) == SL_OK)
		seed ^= sl_load_be64(u.b);
	c->seed = seed;
	c->epoch_buf = r->epochs;
	c->epoch_cap = RAFT_EPOCH_CAP;
	c->out_buf = r->outbox;
	c->out_cap = RAFT_OUTBOX_CAP;
}

static enum sl_err init_core(struct raft *r, char *err, size_t err_len)
{
	struct raft_hard_state hs;
	enum sl_err e = quorum_state_load(r, &hs, err, err_len);
	if (e != SL_OK)
		return e;
	struct raft_snapshot_id snap;
	int64_t snap_size;
	e = raft_snapshots_open(r, &snap, &snap_size, err, err_len);
	if (e != SL_OK)
		return e;
	struct stor_log_state st;
	stor_log_get_state(r->log, &st);
	uint32_t ne = log_epochs(r, st.log_start_offset);
	struct raft_epoch_entry *copy = calloc(ne + 1, sizeof(*copy));
	if (copy == NULL)
		return SL_ENOMEM;
	memcpy(copy, r->epochs, ne * sizeof(*copy));
	struct raft_log_state ls = {.start_offset = st.log_start_offset,
	                            .end_offset = st.end_offset,
	                            .snapshot = snap,
	                            .snapshot_size = snap_size,
	                            .epochs = copy,
	                            .epoch_count = ne};
	if (snap.end_offset < 0)
		r->applied = st.log_start_offset;
	r->core = calloc(1, raft_core_size());
	char why[256] = "";
	bool ok = r->core != NULL &&
	          raft_core_init(r->core, &r->cfg, &hs, &ls, raft_now(), why, sizeof(why));
	free(copy);
	if (!ok) {
		snprintf(err, err_len, "%s: cannot start the quorum: %s", r->dir,
		         r->core == NULL ? "out of memory" : why);
		return r->core == NULL ? SL_ENOMEM : SL_ECONFIG;
	}
	return SL_OK;
}

/* A single voter leads at once: run the loop until everything in the log is applied. */
static enum sl_err single_voter_start(struct raft *r, int64_t end, char *err, size_t err_len)
{
	int64_t deadline = raft_now() + SINGLE_VOTER_START_MS;
	while (!r->offline && (r->applied < end || !r->active || raft_busy(r)) &&
	       raft_now() < deadline)
		io_loop_run_once(r->loop, 100);
	if (r->offline) {
		snprintf(err, err_len, "%s", r->offline_why);
		return r->offline_err != SL_OK ? r->offline_err : SL_EIO;
	}
	if (r->applied < end || !r->active || raft_busy(r)) {
		snprintf(err, err_len, "%s: start-up did not commit the log within %d ms", r->dir,
		         SINGLE_VOTER_START_MS);
		return SL_ETIMEDOUT;
	}
	return SL_OK;
}

static enum sl_err open_all(struct raft *r, const struct raft_opts *o, char *err, size_t err_len)
{
	enum sl_err e = open_log(r, o->segment_bytes, err, err_len);
	if (e == SL_OK)
		e = init_core(r, err, err_len);
	if (e != SL_OK)
		return e;
	struct stor_log_state st;
	stor_log_get_state(r->log, &st);
	if (st.end_offset == 0 && r->snap.end_offset < 0) {
		/* An empty log needs the bootstrap records of `sluice storage format`. */
		char path[RAFT_PATH_BYTES + 64];
		snprintf(path, sizeof(path), "%s/%s", r->metadata_dir,
		         STOR_BOOTSTRAP_CHECKPOINT_NAME);
		if (access(path, F_OK) != 0) {
			snprintf(err, err_len,
			         "%s is missing and the metadata log is empty (run `sluice storage "
			         "format`)",
			         path);
			return SL_ENOENT;
		}
	}
	raft_process(r);
	if (r->offline) {
		snprintf(err, err_len, "%s", r->offline_why);
		return r->offline_err != SL_OK ? r->offline_err : SL_EIO;
	}
	if (r->cfg.voter_count == 1 && r->cfg.voters[0] == r->node_id)
		return single_voter_start(r, st.end_offset, err, err_len);
	return SL_OK;
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
	r->noop_interval_ms = o->noop_interval_ms;
	r->image_records = o->image_records;
	r->on_load = o->on_load;
	r->snapshot_ctx = o->snapshot_ctx;
	r->snapshot_max_new_bytes =
	        o->snapshot_max_new_bytes > 0 ? o->snapshot_max_new_bytes : (20 << 20);
	r->snapshot_interval_ms = o->snapshot_interval_ms;
	r->snap = (struct raft_snapshot_id){.end_offset = -1, .epoch = -1};
	r->part.fd = -1;
	r->last_snapshot_ms = raft_now();
	r->applied_epoch = -1;
	r->hw = -1;
	r->epoch_start = -1;
	r->leader_id = -1;
	r->next_inbound_id = 1;
	snprintf(r->cluster_id, sizeof(r->cluster_id), "%s",
	         o->cluster_id != NULL ? o->cluster_id : "");
	sl_buf_init(&r->build, RAFT_BATCH_BYTES_MAX);
	sl_buf_init(&r->readbuf, (size_t)RAFT_BATCH_BYTES_MAX * 2);
	sl_buf_init(&r->rpc_buf, (size_t)RAFT_BATCH_BYTES_MAX * 2);
	sl_buf_init(&r->recbuf, (size_t)RAFT_BATCH_BYTES_MAX * 2);
	snprintf(r->log_ctx, sizeof(r->log_ctx), "raft node=%d", (int)o->node_id);
	struct raft_opts opts = *o; /* the voters may come from the bootstrap snapshot */
	o = &opts;
	int n1 = snprintf(r->metadata_dir, sizeof(r->metadata_dir), "%s", o->metadata_dir);
	int n2 = snprintf(r->dir, sizeof(r->dir), "%s/%s", o->metadata_dir,
	                  STOR_METADATA_PARTITION_DIR);
	if (n1 < 0 || (size_t)n2 >= sizeof(r->dir) || (size_t)n1 >= sizeof(r->metadata_dir)) {
		snprintf(err, err_len, "metadata.log.dir too long: %s", o->metadata_dir);
		raft_free(r);
		return SL_EINVAL;
	}
	enum sl_err e = SL_OK;
	if (o->voter_count == 0)
		e = bootstrap_voters(r, &opts, err, err_len);
	if (e == SL_OK && o->voter_count == 0 && o->voters_required) {
		snprintf(err, err_len,
		         "no voter set: controller.quorum.voters is empty and "
		         "%s/bootstrap.checkpoint "
		         "has no VotersRecord (format the controllers with --standalone or "
		         "--initial-controllers, or set controller.quorum.voters)",
		         o->metadata_dir);
		e = SL_ECONFIG;
	}
	set_config(r, o);
	if (e == SL_OK)
		e = open_all(r, o, err, err_len);
	if (e != SL_OK) {
		if (err_len > 0 && err[0] == '\0')
			snprintf(err, err_len, "%s: %s", r->dir, sl_err_msg(e));
		raft_close(r);
		return e;
	}
	*out = r;
	return SL_OK;
}

bool raft_busy(const struct raft *r)
{
	for (const struct raft_append *a = r->head; a != NULL; a = a->next)
		if (a->is_proposal && !a->finished)
			return true;
	return false;
}

void raft_shutdown(struct raft *r)
{
	if (r == NULL || r->core == NULL || r->offline || r->closing)
		return;
	if (r->role != RAFT_LEADER || r->peer_count == 0)
		return;
	raft_core_resign(r->core, raft_now());
	raft_process(r);
	SL_INFO(r->log_ctx, "resigned the leadership of epoch %d on shutdown", (int)r->epoch);
}

/* Gives a resigned leader's EndQuorumEpoch requests a moment to reach the other voters. */
static void resign_on_close(struct raft *r)
{
	raft_shutdown(r);
	if (r->core == NULL || r->offline || r->role != RAFT_RESIGNED)
		return;
	int64_t deadline = raft_now() + RESIGN_WAIT_MS;
	bool pending = true;
	while (pending && raft_now() < deadline) {
		io_loop_run_once(r->loop, 10);
		pending = false;
		for (uint32_t i = 0; i < r->peer_count; i++)
			if (r->peers[i].peer != NULL && net_peer_pending(r->peers[i].peer) > 0)
				pending = true;
	}
}

void raft_close(struct raft *r)
{
	if (r == NULL)
		return;
	resign_on_close(r);
	r->closing = true;
	raft_inbound_drop_all(r);
	raft_fail_all(r, NULL); /* unfinished proposals: SL_ECANCELED */
	/* Storage callbacks of appends still in flight, the durable wait and the timer. */
	while (r->head != NULL || r->flush_pending || r->timer_armed) {
		io_loop_run_once(r->loop, 100);
		raft_process(r);
	}
	raft_peers_destroy(r);
	if (r->log != NULL) {
		enum sl_err e = stor_log_close(r->log, !r->offline);
		if (e != SL_OK)
			SL_WARN(r->log_ctx, "%s: close: %s", r->dir, sl_err_msg(e));
	}
	raft_free(r);
}
