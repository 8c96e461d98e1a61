/*
 * log_manager.c: every partition log of a node's log dirs (Kafka's LogManager).
 *
 * Start-up (blocking): per log dir, read recovery-point-offset-checkpoint,
 * log-start-offset-checkpoint and the clean-shutdown marker (then remove the marker, so a
 * crash from now on is seen as unclean); remove `*-delete` dirs left by an interrupted
 * delete; open every `<topic>-<partition>` dir (partition after the LAST '-'), recovering
 * only segments at or after the recovery point (none after a clean shutdown).
 * Runtime: a periodic io_timeout runs tick(): the flush.ms policy, retention every
 * log.retention.check.interval.ms, checkpoints every log.flush.offset.checkpoint.interval.ms,
 * and closing the fds of deleted segments. Clean shutdown fdatasyncs, writes indexes,
 * checkpoints and the marker.
 *
 * Lookups go through a chained hash table on (topic, partition); logs[] is the dense list.
 * Invariant: every log is in logs[] exactly once and in its bucket exactly once.
 */
#include "log_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTX "log-manager"
#define MGR_DIRS_MAX 64

struct topic_override {
	char topic[STOR_TOPIC_NAME_MAX + 1];
	struct stor_log_config cfg;
};

struct stor_log_manager {
	struct io_loop *loop;
	struct stor_log_manager_opts opts;
	char dirs[MGR_DIRS_MAX][LOG_PATH_BYTES];
	uint32_t dir_logs[MGR_DIRS_MAX];
	size_t dir_count;
	struct topic_override *overrides;
	size_t override_count;
	struct stor_log **logs;
	size_t log_count;
	size_t log_cap;
	struct stor_log **buckets;
	size_t bucket_count; /* power of two */
	int64_t last_retention_ms;
	int64_t last_checkpoint_ms;
	struct io_op timer_op;
	struct io_op cancel_op;
	bool timer_running;
	bool closing;
	/* Deleted logs whose files are unlinked but whose fds stay open until
	 * file.delete.delay.ms has passed: a Fetch response already queued with a file range of
	 * one of them must still send valid bytes (chained through hash_next). */
	struct stor_log *graveyard;
};

static void graveyard_reap(struct stor_log_manager *m, int64_t now_ms, bool force);
static void set_err(char *err, size_t err_len, const char *fmt, ...) SL_PRINTF(3, 4);
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	if (err == NULL || err_len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* ---- config ------------------------------------------------------------------------------ */

void stor_log_config_init(struct stor_log_config *c)
{
	*c = (struct stor_log_config){
	        .segment_bytes = 1ull << 30,
	        .segment_ms = 7ll * 24 * 3600 * 1000,
	        .retention_ms = 7ll * 24 * 3600 * 1000,
	        .retention_bytes = -1,
	        .index_interval_bytes = 4096,
	        .flush_messages = INT64_MAX,
	        .flush_ms = INT64_MAX,
	        .max_message_bytes = 1048588,
	        .log_append_time = false,
	        .file_delete_delay_ms = 60000,
	};
}

static bool parse_num(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

enum sl_err stor_log_config_set(struct stor_log_config *c, const char *key, const char *value,
                                char *err, size_t err_len)
{
	static const struct {
		const char *key;
		int64_t lo, hi;
	} nums[] = {
	        {"segment.bytes", 14, INT32_MAX},
	        {"segment.ms", 1, INT64_MAX},
	        {"retention.ms", -1, INT64_MAX},
	        {"retention.bytes", -1, INT64_MAX},
	        {"index.interval.bytes", 1, INT32_MAX},
	        {"flush.messages", 1, INT64_MAX},
	        {"flush.ms", 0, INT64_MAX},
	        {"max.message.bytes", 0, INT32_MAX},
	        {"file.delete.delay.ms", 0, INT64_MAX},
	};
	if (strcmp(key, "message.timestamp.type") == 0) {
		if (strcmp(value, "CreateTime") != 0 && strcmp(value, "LogAppendTime") != 0) {
			set_err(err, err_len, "Invalid value %s for configuration %s", value, key);
			return SL_EINVAL;
		}
		c->log_append_time = strcmp(value, "LogAppendTime") == 0;
		return SL_OK;
	}
	for (size_t i = 0; i < SL_ARRAY_LEN(nums); i++) {
		if (strcmp(key, nums[i].key) != 0)
			continue;
		int64_t v = 0;
		if (!parse_num(value, nums[i].lo, nums[i].hi, &v)) {
			set_err(err, err_len, "Invalid value %s for configuration %s", value, key);
			return SL_EINVAL;
		}
		switch (i) {
		case 0:
			c->segment_bytes = (uint64_t)v;
			break;
		case 1:
			c->segment_ms = v;
			break;
		case 2:
			c->retention_ms = v;
			break;
		case 3:
			c->retention_bytes = v;
			break;
		case 4:
			c->index_interval_bytes = (uint32_t)v;
			break;
		case 5:
			c->flush_messages = v;
			break;
		case 6:
			c->flush_ms = v;
			break;
		case 7:
			c->max_message_bytes = (int32_t)v;
			break;
		default:
			c->file_delete_delay_ms = v;
			break;
		}
		return SL_OK;
	}
	set_err(err, err_len, "Unknown topic config name: %s", key);
	return SL_ENOENT;
}

void stor_log_manager_opts_init(struct stor_log_manager_opts *o)
{
	*o = (struct stor_log_manager_opts){
	        .retention_check_interval_ms = 300000,
	        .checkpoint_interval_ms = 60000,
	        .flush_scheduler_interval_ms = 1000,
	        .max_partitions = 100000,
	        .start_timer = true,
	};
	stor_log_config_init(&o->defaults);
}

static const struct topic_override *override_find(const struct stor_log_manager *m,
                                                  const char *topic)
{
	for (size_t i = 0; i < m->override_count; i++)
		if (strcmp(m->overrides[i].topic, topic) == 0)
			return &m->overrides[i];
	return NULL;
}

void stor_log_manager_topic_config(const struct stor_log_manager *m, const char *topic,
                                   struct stor_log_config *out)
{
	const struct topic_override *o = override_find(m, topic);
	*out = o != NULL ? o->cfg : m->opts.defaults;
}

/* ---- table ------------------------------------------------------------------------------- */

static uint64_t tp_hash(const char *topic, int32_t partition)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = topic; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return (h ^ (uint32_t)partition) * 1099511628211ull;
}

static enum sl_err table_grow(struct stor_log_manager *m)
{
	size_t n = m->bucket_count ? m->bucket_count * 2 : 64;
	struct stor_log **b = calloc(n, sizeof(*b));
	if (b == NULL)
		return SL_ENOMEM;
	free(m->buckets);
	m->buckets = b;
	m->bucket_count = n;
	for (size_t i = 0; i < m->log_count; i++) {
		struct stor_log *log = m->logs[i];
		size_t k = tp_hash(log->topic, log->partition) & (n - 1);
		log->hash_next = b[k];
		b[k] = log;
	}
	return SL_OK;
}

static enum sl_err table_add(struct stor_log_manager *m, struct stor_log *log)
{
	if (m->log_count >= m->opts.max_partitions)
		return SL_ELIMIT;
	if (m->log_count == m->log_cap) {
		size_t cap = m->log_cap ? m->log_cap * 2 : 64;
		struct stor_log **n = realloc(m->logs, cap * sizeof(*n));
		if (n == NULL)
			return SL_ENOMEM;
		m->logs = n;
		m->log_cap = cap;
	}
	m->logs[m->log_count++] = log;
	if (m->log_count * 2 > m->bucket_count)
		return table_grow(m); /* rebuilds every chain, log included */
	size_t k = tp_hash(log->topic, log->partition) & (m->bucket_count - 1);
	log->hash_next = m->buckets[k];
	m->buckets[k] = log;
	return SL_OK;
}

static void table_remove(struct stor_log_manager *m, struct stor_log *log)
{
	size_t k = tp_hash(log->topic, log->partition) & (m->bucket_count - 1);
	struct stor_log **pp = &m->buckets[k];
	while (*pp != log)
		pp = &(*pp)->hash_next;
	*pp = log->hash_next;
	for (size_t i = 0; i < m->log_count; i++) {
		if (m->logs[i] == log) {
			m->logs[i] = m->logs[--m->log_count];
			break;
		}
	}
}

struct stor_log *stor_log_manager_get(const struct stor_log_manager *m, const char *topic,
                                      int32_t partition)
{
	if (m->bucket_count == 0)
		return NULL;
	size_t k = tp_hash(topic, partition) & (m->bucket_count - 1);
	for (struct stor_log *l = m->buckets[k]; l != NULL; l = l->hash_next)
		if (l->partition == partition && strcmp(l->topic, topic) == 0)
			return l;
	return NULL;
}

size_t stor_log_manager_count(const struct stor_log_manager *m)
{
	return m->log_count;
}

struct stor_log *stor_log_manager_at(const struct stor_log_manager *m, size_t i)
{
	SL_ASSERT(i < m->log_count);
	return m->logs[i];
}

/* ---- start-up ---------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

static enum sl_err rm_tree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return sl_err_from_errno(errno);
	return SL_OK;
}

static int64_t ckpt_lookup(const struct stor_tp_offset *v, size_t n, const char *topic,
                           int32_t partition, int64_t dflt)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].partition == partition && strcmp(v[i].topic, topic) == 0)
			return v[i].offset;
	return dflt;
}

/* Reads one checkpoint; a missing or corrupt one means "unknown" (full recovery). */
static void ckpt_load(const char *dir, const char *name, struct stor_tp_offset **v, size_t *n)
{
	char path[LOG_PATH_BYTES + 64], err[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	enum sl_err e = stor_offset_checkpoint_read(path, v, n, err, sizeof(err));
	if (e != SL_OK && e != SL_ENOENT)
		SL_WARN(CTX, "ignoring %s (%s): full recovery", err, sl_err_name(e));
}

struct dir_ctx {
	struct stor_tp_offset *rp, *ls;
	size_t rp_n, ls_n;
	bool clean;
};

static enum sl_err open_one(struct stor_log_manager *m, size_t d, const struct dir_ctx *c,
                            const char *topic, int32_t partition, struct stor_startup_report *rep,
                            char *err, size_t err_len)
{
	if (stor_log_manager_get(m, topic, partition) != NULL) {
		set_err(err, err_len, "duplicate log dir for %s-%d found in %s", topic, partition,
		        m->dirs[d]);
		return SL_EEXIST;
	}
	struct stor_log_config cfg;
	stor_log_manager_topic_config(m, topic, &cfg);
	struct stor_log_open_args a = {
	        .parent = m->dirs[d],
	        .topic = topic,
	        .partition = partition,
	        .cfg = &cfg,
	        .recovery_point = ckpt_lookup(c->rp, c->rp_n, topic, partition, 0),
	        .log_start_offset = ckpt_lookup(c->ls, c->ls_n, topic, partition, 0),
	        .clean_shutdown = c->clean,
	};
	struct stor_log *log = NULL;
	enum sl_err e = stor_log_open(m->loop, &a, &log, rep, err, err_len);
	if (e != SL_OK)
		return e;
	log->mgr = m;
	e = table_add(m, log);
	if (e != SL_OK) {
		(void)stor_log_close(log, false);
		return e;
	}
	m->dir_logs[d]++;
	return SL_OK;
}

static enum sl_err open_dir_entries(struct stor_log_manager *m, size_t d, const struct dir_ctx *c,
                                    struct stor_startup_report *rep, char *err, size_t err_len)
{
	DIR *dh = opendir(m->dirs[d]);
	if (dh == NULL) {
		set_err(err, err_len, "%s: %s", m->dirs[d], strerror(errno));
		return sl_err_from_errno(errno);
	}
	enum sl_err e = SL_OK;
	struct dirent *de;
	while (e == SL_OK && (de = readdir(dh)) != NULL) {
		char path[LOG_PATH_BYTES * 2], topic[STOR_TOPIC_NAME_MAX + 1];
		int32_t partition;
		snprintf(path, sizeof(path), "%s/%s", m->dirs[d], de->d_name);
		struct stat st;
		if (de->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		size_t len = strlen(de->d_name);
		if (len > 7 && strcmp(de->d_name + len - 7, "-delete") == 0) {
			if (rm_tree(path) == SL_OK && rep != NULL)
				rep->leftovers_removed++;
			continue;
		}
		if (strcmp(de->d_name, STOR_METADATA_PARTITION_DIR) == 0 ||
		    stor_parse_partition_dir(de->d_name, topic, sizeof(topic), &partition) != SL_OK)
			continue;
		e = open_one(m, d, c, topic, partition, rep, err, err_len);
	}
	closedir(dh);
	return e;
}

static enum sl_err open_dir(struct stor_log_manager *m, size_t d, struct stor_startup_report *rep,
                            bool *all_clean, char *err, size_t err_len)
{
	enum sl_err e = stor_mkdirs(m->dirs[d], err, err_len);
	if (e != SL_OK)
		return e;
	struct dir_ctx c = {0};
	char marker[LOG_PATH_BYTES + 64];
	snprintf(marker, sizeof(marker), "%s/%s", m->dirs[d], STOR_CLEAN_SHUTDOWN_NAME);
	c.clean = access(marker, F_OK) == 0;
	*all_clean = *all_clean && c.clean;
	ckpt_load(m->dirs[d], STOR_RECOVERY_POINT_CHECKPOINT_NAME, &c.rp, &c.rp_n);
	ckpt_load(m->dirs[d], STOR_LOG_START_CHECKPOINT_NAME, &c.ls, &c.ls_n);
	e = open_dir_entries(m, d, &c, rep, err, err_len);
	if (e == SL_OK && c.clean) {
		/* From now on a crash must be seen as unclean. */
		if (unlink(marker) != 0 || stor_dir_fsync(m->dirs[d]) != SL_OK) {
			set_err(err, err_len, "%s: cannot remove the clean-shutdown marker",
			        marker);
			e = SL_EIO;
		}
	}
	free(c.rp);
	free(c.ls);
	return e;
}

static void timer_done(struct io_op *op, void *ctx);

static void timer_arm(struct stor_log_manager *m)
{
	m->timer_running = true;
	io_timeout(m->loop, &m->timer_op, m->opts.flush_scheduler_interval_ms, timer_done, m);
}

static void timer_done(struct io_op *op, void *ctx)
{
	(void)op;
	struct stor_log_manager *m = ctx;
	m->timer_running = false;
	if (m->closing)
		return;
	stor_log_manager_tick(m, sl_wall_ms());
	timer_arm(m);
}

enum sl_err stor_log_manager_open(struct io_loop *loop, const struct stor_log_manager_opts *o,
                                  struct stor_log_manager **out, struct stor_startup_report *rep,
                                  char *err, size_t err_len)
{
	SL_ASSERT(o->log_dir_count > 0);
	if (o->log_dir_count > MGR_DIRS_MAX) {
		set_err(err, err_len, "at most %d log dirs", MGR_DIRS_MAX);
		return SL_EINVAL;
	}
	int64_t t0 = sl_mono_ms();
	struct stor_log_manager *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return SL_ENOMEM;
	m->loop = loop;
	m->opts = *o;
	m->opts.log_dirs = NULL;
	m->dir_count = o->log_dir_count;
	m->last_retention_ms = m->last_checkpoint_ms = sl_wall_ms();
	struct stor_startup_report local = {0};
	if (rep == NULL)
		rep = &local;
	*rep = (struct stor_startup_report){0};
	bool all_clean = true;
	enum sl_err e = table_grow(m);
	for (size_t d = 0; e == SL_OK && d < m->dir_count; d++) {
		snprintf(m->dirs[d], sizeof(m->dirs[d]), "%s", o->log_dirs[d]);
		e = open_dir(m, d, rep, &all_clean, err, err_len);
	}
	if (e != SL_OK) {
		(void)stor_log_manager_close(m, false, NULL, 0);
		return e;
	}
	rep->clean_shutdown = all_clean;
	rep->elapsed_ms = sl_mono_ms() - t0;
	SL_INFO(CTX,
	        "loaded %u partitions, %u segments (%u recovered, %llu bytes scanned) in %lld "
	        "ms%s",
	        rep->partitions, rep->segments, rep->segments_recovered,
	        (unsigned long long)rep->bytes_scanned, (long long)rep->elapsed_ms,
	        all_clean ? " after a clean shutdown" : "");
	if (o->start_timer)
		timer_arm(m);
	*out = m;
	return SL_OK;
}

/* ---- admin ------------------------------------------------------------------------------- */

enum sl_err stor_log_manager_set_topic_config(struct stor_log_manager *m, const char *topic,
                                              const struct sl_props *props, char *err,
                                              size_t err_len)
{
	struct stor_log_config cfg = m->opts.defaults;
	for (size_t i = 0; props != NULL && i < props->count; i++) {
		enum sl_err e = stor_log_config_set(&cfg, props->items[i].key,
		                                    props->items[i].value, err, err_len);
		if (e != SL_OK)
			return e;
	}
	struct topic_override *o = (struct topic_override *)override_find(m, topic);
	if (props == NULL) {
		if (o != NULL)
			*o = m->overrides[--m->override_count];
	} else if (o != NULL) {
		o->cfg = cfg;
	} else {
		struct topic_override *n =
		        realloc(m->overrides, (m->override_count + 1) * sizeof(*n));
		if (n == NULL)
			return SL_ENOMEM;
		m->overrides = n;
		o = &n[m->override_count++];
		snprintf(o->topic, sizeof(o->topic), "%s", topic);
		o->cfg = cfg;
	}
	for (size_t i = 0; i < m->log_count; i++)
		if (strcmp(m->logs[i]->topic, topic) == 0)
			stor_log_set_config(m->logs[i], &cfg);
	return SL_OK;
}

enum sl_err stor_log_manager_create(struct stor_log_manager *m, const char *topic,
                                    int32_t partition, const struct sl_uuid *topic_id,
                                    struct stor_log **out, char *err, size_t err_len)
{
	char probe[STOR_TOPIC_NAME_MAX + 16], t[STOR_TOPIC_NAME_MAX + 1];
	int32_t p;
	snprintf(probe, sizeof(probe), "%s-%d", topic, (int)partition);
	if (strlen(topic) == 0 || strlen(topic) > STOR_TOPIC_NAME_MAX || partition < 0 ||
	    strchr(topic, '/') != NULL ||
	    stor_parse_partition_dir(probe, t, sizeof(t), &p) != SL_OK) {
		set_err(err, err_len, "invalid topic-partition %s", probe);
		return SL_EINVAL;
	}
	*out = stor_log_manager_get(m, topic, partition);
	if (*out != NULL)
		return SL_OK;
	/* Refuse before any file is created: a refused partition leaves nothing on disk. */
	if (m->log_count >= m->opts.max_partitions) {
		set_err(err, err_len,
		        "cannot create %s: the broker holds %zu partitions (limit %u)", probe,
		        m->log_count, m->opts.max_partitions);
		return SL_ELIMIT;
	}
	size_t d = 0;
	for (size_t i = 1; i < m->dir_count; i++)
		if (m->dir_logs[i] < m->dir_logs[d])
			d = i;
	struct stor_log_config cfg;
	stor_log_manager_topic_config(m, topic, &cfg);
	struct stor_log_open_args a = {
	        .parent = m->dirs[d],
	        .topic = topic,
	        .partition = partition,
	        .cfg = &cfg,
	        .create = true,
	};
	struct stor_log *log = NULL;
	enum sl_err e = stor_log_open(m->loop, &a, &log, NULL, err, err_len);
	if (e == SL_OK && topic_id != NULL)
		e = stor_partition_metadata_write(log->dir, topic_id, err, err_len);
	if (e == SL_OK)
		e = stor_dir_fsync(m->dirs[d]);
	if (e == SL_OK)
		e = table_add(m, log);
	if (e != SL_OK) {
		if (log != NULL)
			(void)stor_log_close(log, false);
		return e;
	}
	log->mgr = m;
	m->dir_logs[d]++;
	*out = log;
	return SL_OK;
}

enum sl_err stor_log_manager_delete(struct stor_log_manager *m, const char *topic,
                                    int32_t partition, char *err, size_t err_len)
{
	struct stor_log *log = stor_log_manager_get(m, topic, partition);
	if (log == NULL)
		return SL_ENOENT;
	if (stor_log_busy(log))
		return SL_EAGAIN;
	char from[LOG_PATH_BYTES], to[LOG_PATH_BYTES + 64], parent[LOG_PATH_BYTES];
	snprintf(from, sizeof(from), "%s", log->dir);
	snprintf(parent, sizeof(parent), "%s", log->parent);
	struct sl_uuid u;
	char us[SL_UUID_STR_LEN + 1] = "x";
	if (sl_uuid_random(&u) == SL_OK)
		sl_uuid_to_str(&u, us);
	for (char *c = us; *c; c++) /* keep the name free of '-' before the suffix */
		*c = *c == '-' ? '_' : *c;
	snprintf(to, sizeof(to), "%s.%s-delete", from, us);
	for (size_t d = 0; d < m->dir_count; d++)
		if (strcmp(m->dirs[d], parent) == 0)
			m->dir_logs[d]--;
	table_remove(m, log);
	log->buried_until_ms = sl_wall_ms() + log->cfg.file_delete_delay_ms;
	log->hash_next = m->graveyard;
	m->graveyard = log;
	if (rename(from, to) != 0) {
		set_err(err, err_len, "rename %s: %s", from, strerror(errno));
		return sl_err_from_errno(errno);
	}
	enum sl_err e = stor_dir_fsync(parent);
	if (e == SL_OK)
		e = rm_tree(to);
	if (e == SL_OK)
		e = stor_dir_fsync(parent);
	if (e != SL_OK)
		set_err(err, err_len, "removing %s: %s", to, sl_err_msg(e));
	return e;
}

/* ---- periodic work ----------------------------------------------------------------------- */

static enum sl_err write_dir_checkpoints(struct stor_log_manager *m, size_t d, char *err,
                                         size_t err_len)
{
	size_t n = 0;
	for (size_t i = 0; i < m->log_count; i++)
		n += strcmp(m->logs[i]->parent, m->dirs[d]) == 0;
	struct stor_tp_offset *rp = calloc(n + 1, sizeof(*rp));
	struct stor_tp_offset *ls = calloc(n + 1, sizeof(*ls));
	enum sl_err e = rp == NULL || ls == NULL ? SL_ENOMEM : SL_OK;
	size_t k = 0;
	for (size_t i = 0; e == SL_OK && i < m->log_count; i++) {
		const struct stor_log *log = m->logs[i];
		if (strcmp(log->parent, m->dirs[d]) != 0)
			continue;
		snprintf(rp[k].topic, sizeof(rp[k].topic), "%s", log->topic);
		rp[k].partition = log->partition;
		rp[k].offset = log->durable_offset;
		ls[k] = rp[k];
		ls[k].offset = log->log_start_offset;
		k++;
	}
	char path[LOG_PATH_BYTES + 64];
	if (e == SL_OK) {
		snprintf(path, sizeof(path), "%s/%s", m->dirs[d],
		         STOR_RECOVERY_POINT_CHECKPOINT_NAME);
		e = stor_offset_checkpoint_write(path, rp, k, err, err_len);
	}
	if (e == SL_OK) {
		snprintf(path, sizeof(path), "%s/%s", m->dirs[d], STOR_LOG_START_CHECKPOINT_NAME);
		e = stor_offset_checkpoint_write(path, ls, k, err, err_len);
	}
	free(rp);
	free(ls);
	return e;
}

enum sl_err stor_log_manager_checkpoint_dir(struct stor_log_manager *m, const char *parent,
                                            char *err, size_t err_len)
{
	for (size_t d = 0; d < m->dir_count; d++)
		if (strcmp(m->dirs[d], parent) == 0)
			return write_dir_checkpoints(m, d, err, err_len);
	set_err(err, err_len, "%s is not a log dir of this manager", parent);
	return SL_ENOENT;
}

enum sl_err stor_log_manager_write_checkpoints(struct stor_log_manager *m, char *err,
                                               size_t err_len)
{
	enum sl_err first = SL_OK;
	for (size_t d = 0; d < m->dir_count; d++) {
		enum sl_err e = write_dir_checkpoints(m, d, err, err_len);
		if (e != SL_OK && first == SL_OK)
			first = e;
	}
	return first;
}

void stor_log_manager_tick(struct stor_log_manager *m, int64_t now_ms)
{
	bool retention = now_ms - m->last_retention_ms >= m->opts.retention_check_interval_ms;
	if (retention)
		m->last_retention_ms = now_ms;
	for (size_t i = 0; i < m->log_count; i++) {
		struct stor_log *log = m->logs[i];
		stor_log_flush_policy(log, now_ms);
		if (!retention)
			stor_log_reap(log, now_ms, false);
		else if (stor_log_apply_retention(log, now_ms, log->high_watermark, NULL) != SL_OK)
			SL_DEBUG(CTX, "%s: offline, retention skipped", log->dir);
	}
	graveyard_reap(m, now_ms, false);
	if (now_ms - m->last_checkpoint_ms >= m->opts.checkpoint_interval_ms) {
		m->last_checkpoint_ms = now_ms;
		char err[256];
		if (stor_log_manager_write_checkpoints(m, err, sizeof(err)) != SL_OK)
			SL_ERROR(CTX, "checkpoint: %s", err);
	}
}

/* ---- shutdown ---------------------------------------------------------------------------- */

static void cancel_done(struct io_op *op, void *ctx)
{
	(void)op;
	(void)ctx;
}

static void timer_stop(struct stor_log_manager *m)
{
	m->closing = true;
	if (!m->timer_running)
		return;
	io_cancel(m->loop, &m->cancel_op, &m->timer_op, cancel_done, m);
	while (m->timer_running || m->cancel_op.in_flight)
		(void)io_loop_run_once(m->loop, 100);
}

/* Closes the deleted logs whose delay has passed (all of them when force). */
static void graveyard_reap(struct stor_log_manager *m, int64_t now_ms, bool force)
{
	struct stor_log **pp = &m->graveyard;
	while (*pp != NULL) {
		struct stor_log *log = *pp;
		if (!force && log->buried_until_ms > now_ms) {
			pp = &log->hash_next;
			continue;
		}
		*pp = log->hash_next;
		(void)stor_log_close(log, false);
	}
}

static void free_all(struct stor_log_manager *m)
{
	graveyard_reap(m, 0, true);
	for (size_t i = 0; i < m->log_count; i++)
		(void)stor_log_close(m->logs[i], false);
	free(m->logs);
	free(m->buckets);
	free(m->overrides);
	free(m);
}

static enum sl_err write_markers(struct stor_log_manager *m, char *err, size_t err_len)
{
	for (size_t d = 0; d < m->dir_count; d++) {
		char path[LOG_PATH_BYTES + 64];
		snprintf(path, sizeof(path), "%s/%s", m->dirs[d], STOR_CLEAN_SHUTDOWN_NAME);
		enum sl_err e = stor_file_write_atomic(path, "", 0, err, err_len);
		if (e != SL_OK)
			return e;
	}
	return SL_OK;
}

enum sl_err stor_log_manager_close(struct stor_log_manager *m, bool clean, char *err,
                                   size_t err_len)
{
	if (m == NULL)
		return SL_OK;
	for (size_t i = 0; clean && i < m->log_count; i++)
		if (stor_log_busy(m->logs[i]))
			return SL_EAGAIN;
	timer_stop(m);
	/* Unclean: the io loop still holds the logs' write and fsync ops; let them finish (their
	 * callbacks run) before the logs are freed. */
	for (size_t i = 0; !clean && i < m->log_count; i++)
		while (stor_log_busy(m->logs[i]))
			(void)io_loop_run_once(m->loop, 100);
	enum sl_err first = SL_OK;
	for (size_t i = 0; clean && i < m->log_count; i++) {
		enum sl_err e = stor_log_sync_all(m->logs[i]);
		if (e != SL_OK && first == SL_OK) {
			first = e;
			set_err(err, err_len, "%s: %s", m->logs[i]->dir, sl_err_msg(e));
		}
	}
	if (clean) {
		enum sl_err e = stor_log_manager_write_checkpoints(m, err, err_len);
		if (e == SL_OK && first == SL_OK)
			e = write_markers(m, err, err_len);
		if (first == SL_OK)
			first = e;
	}
	free_all(m);
	return first;
}

void stor_log_manager_test_power_loss(struct stor_log_manager *m, uint64_t *dropped_bytes)
{
	timer_stop(m);
	uint64_t dropped = 0;
	for (size_t i = 0; i < m->log_count; i++)
		dropped += stor_log_test_drop_unsynced(m->logs[i]);
	if (dropped_bytes != NULL)
		*dropped_bytes = dropped;
	free_all(m);
}
