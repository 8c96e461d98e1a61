/*
 * replica.c: the broker's partition table (the partitions of the committed image whose replicas
 * include this broker, kraft.md §5.6) and the lifecycle of the partition logs behind them.
 *
 * Two hash tables index the live partitions: by (topic name, partition) through
 * brk_partition.next and by (topic id, partition) through entry.id_next. brk_partitions_apply
 * walks meta_image_diff:
 *   partition_removed     drop (below);
 *   partition_added       if hosted: topic overrides to storage (keys storage does not know are
 *                         ignored), stor_log_manager_create with the topic id, leader epoch and
 *                         leadership from the image;
 *   partition_changed     no longer hosted: drop; newly hosted: as added; else leader epoch and
 *                         leadership from the image; a lost leadership wakes the parked fetches
 *                         (they answer NOT_LEADER_OR_FOLLOWER);
 *   topic_config_changed  overrides to storage.
 * Drop = unlink from both tables, mark deleted, move to the graveyard; the log is deleted once
 * no storage operation is in flight, the memory freed once the log is gone and no parked fetch
 * waits on the partition (Kafka deletes the log of a partition reassigned away, too).
 *
 * Leader epochs: produce stamps p->leader_epoch into each batch and the log's epoch cache gains
 * (epoch, base offset) at the first append of a new epoch. Kafka's makeLeader records the new
 * epoch at the log end at once; storage has no call for that, so OffsetForLeaderEpoch fills the
 * gap (offsets_epoch.c): until the first append, the current epoch ends at the log end.
 *
 * Invariants:
 *   - a live entry is in both tables exactly once; a graveyard entry in neither;
 *   - p->high_watermark == the log's durable offset as of the last brk_partition_advance, and
 *     never decreases;
 *   - a log is deleted only at appends_in_flight == 0, and never inside a storage callback
 *     (deferred to the sweep timer);
 *   - a partition re-created under the same name while the old log still exists gets its log
 *     only after the old one is deleted (until then log == NULL: KAFKA_STORAGE_ERROR);
 *   - a log whose partition.metadata names another topic id belongs to an older incarnation of
 *     the topic and is deleted and re-created (this assumes brk_set_image is given images from
 *     the end of the metadata replay onwards, never an older intermediate one).
 */
#include "brk_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT_BUCKETS_MIN 64u
#define PT_SCRATCH_MAX ((size_t)256 << 20)
#define PT_SWEEP_RETRY_MS 10

struct pt_entry {
	struct brk_partition p; /* first: brk_partition * <-> pt_entry * */
	struct pt_entry *id_next;
	struct pt_entry *grave_next;
	struct brk *b;
	struct stor_durable_wait hw_wait;
	int64_t hw_want; /* highest offset asked for by brk_partition_want_durable */
	bool hw_waiting;
	bool needs_log; /* live entry waiting for an older log of its name to be deleted */
	bool log_gone;  /* graveyard: the log was deleted (or there was none) */
	bool orphan;    /* the table was destroyed while an op was in flight */
};

/* The deferred-work timer; heap-allocated so that it can outlive a destroyed table. */
struct pt_sweep {
	struct io_op op;
	struct brk_partitions *pt; /* NULL once the table is gone: the callback frees this */
	bool in_flight;
};

struct brk_partitions {
	struct pt_entry **by_name;
	struct pt_entry **by_id;
	size_t bucket_count; /* power of two */
	size_t count;
	struct pt_entry *graveyard;
	struct pt_sweep *sweep;
	struct sl_buf scratch[2];
};

static struct pt_entry *entry_of(struct brk_partition *p)
{
	return (struct pt_entry *)p;
}

static uint64_t hash_bytes(const void *data, size_t n, int32_t partition)
{
	const uint8_t *s = data;
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	h = (h ^ (uint32_t)partition) * 1099511628211ull;
	return h ^ (h >> 29);
}

static size_t name_slot(const struct brk_partitions *pt, const char *name, size_t len,
                        int32_t partition)
{
	return (size_t)hash_bytes(name, len, partition) & (pt->bucket_count - 1);
}

static size_t id_slot(const struct brk_partitions *pt, struct sl_uuid id, int32_t partition)
{
	return (size_t)hash_bytes(id.b, sizeof(id.b), partition) & (pt->bucket_count - 1);
}

enum sl_err brk_partitions_create(struct brk *b)
{
	struct brk_partitions *pt = calloc(1, sizeof(*pt));
	if (pt == NULL)
		return SL_ENOMEM;
	pt->bucket_count = PT_BUCKETS_MIN;
	pt->by_name = calloc(pt->bucket_count, sizeof(*pt->by_name));
	pt->by_id = calloc(pt->bucket_count, sizeof(*pt->by_id));
	pt->sweep = calloc(1, sizeof(*pt->sweep));
	if (pt->by_name == NULL || pt->by_id == NULL || pt->sweep == NULL) {
		free(pt->by_name);
		free(pt->by_id);
		free(pt->sweep);
		free(pt);
		return SL_ENOMEM;
	}
	pt->sweep->pt = pt;
	sl_buf_init(&pt->scratch[0], PT_SCRATCH_MAX);
	sl_buf_init(&pt->scratch[1], PT_SCRATCH_MAX);
	b->parts = pt;
	return SL_OK;
}

static bool entry_busy(const struct pt_entry *e)
{
	return e->p.appends_in_flight > 0 || e->p.waits != NULL;
}

/* Frees e now, or leaves it to its last callback when an operation is still in flight. */
static void entry_drop(struct pt_entry *e)
{
	if (e->p.appends_in_flight > 0) {
		e->orphan = true;
		return;
	}
	free(e);
}

void brk_partitions_destroy(struct brk *b)
{
	struct brk_partitions *pt = b->parts;
	if (pt == NULL)
		return;
	for (size_t i = 0; i < pt->bucket_count; i++) {
		struct pt_entry *e = pt->by_name[i];
		while (e != NULL) {
			struct pt_entry *next = (struct pt_entry *)e->p.next;
			entry_drop(e);
			e = next;
		}
	}
	while (pt->graveyard != NULL) {
		struct pt_entry *e = pt->graveyard;
		pt->graveyard = e->grave_next;
		entry_drop(e);
	}
	if (pt->sweep->in_flight)
		pt->sweep->pt = NULL; /* its callback frees it */
	else
		free(pt->sweep);
	sl_buf_free(&pt->scratch[0]);
	sl_buf_free(&pt->scratch[1]);
	free(pt->by_name);
	free(pt->by_id);
	free(pt);
	b->parts = NULL;
}

struct sl_buf *brk_scratch(struct brk *b, unsigned i)
{
	SL_ASSERT(i < 2);
	return &b->parts->scratch[i];
}

struct brk_partition *brk_partition_get(struct brk *b, struct wire_str topic, int32_t partition)
{
	struct brk_partitions *pt = b->parts;
	if (topic.len <= 0 || topic.len > META_TOPIC_NAME_MAX || partition < 0)
		return NULL;
	size_t len = (size_t)topic.len;
	for (struct pt_entry *e = pt->by_name[name_slot(pt, topic.ptr, len, partition)]; e != NULL;
	     e = (struct pt_entry *)e->p.next) {
		if (e->p.partition == partition && strlen(e->p.topic) == len &&
		    memcmp(e->p.topic, topic.ptr, len) == 0)
			return &e->p;
	}
	return NULL;
}

struct brk_partition *brk_partition_by_id(struct brk *b, struct sl_uuid topic_id, int32_t partition)
{
	struct brk_partitions *pt = b->parts;
	for (struct pt_entry *e = pt->by_id[id_slot(pt, topic_id, partition)]; e != NULL;
	     e = e->id_next) {
		if (e->p.partition == partition && sl_uuid_eq(&e->p.topic_id, &topic_id))
			return &e->p;
	}
	return NULL;
}

static void table_link(struct brk_partitions *pt, struct pt_entry *e)
{
	size_t n = name_slot(pt, e->p.topic, strlen(e->p.topic), e->p.partition);
	e->p.next = pt->by_name[n] != NULL ? &pt->by_name[n]->p : NULL;
	pt->by_name[n] = e;
	size_t i = id_slot(pt, e->p.topic_id, e->p.partition);
	e->id_next = pt->by_id[i];
	pt->by_id[i] = e;
}

/* Doubles the bucket arrays when the load passes 2 (a failed grow keeps the old ones). */
static void table_grow(struct brk_partitions *pt)
{
	if (pt->count < 2 * pt->bucket_count)
		return;
	size_t old_count = pt->bucket_count;
	struct pt_entry **old_names = pt->by_name;
	struct pt_entry **names = calloc(old_count * 2, sizeof(*names));
	struct pt_entry **ids = calloc(old_count * 2, sizeof(*ids));
	if (names == NULL || ids == NULL) {
		free(names);
		free(ids);
		return;
	}
	free(pt->by_id);
	pt->by_name = names;
	pt->by_id = ids;
	pt->bucket_count = old_count * 2;
	for (size_t i = 0; i < old_count; i++) {
		struct pt_entry *e = old_names[i];
		while (e != NULL) {
			struct pt_entry *next = (struct pt_entry *)e->p.next;
			table_link(pt, e);
			e = next;
		}
	}
	free(old_names);
}

static void table_unlink(struct brk_partitions *pt, struct pt_entry *e)
{
	size_t n = name_slot(pt, e->p.topic, strlen(e->p.topic), e->p.partition);
	struct pt_entry **pp = &pt->by_name[n];
	while (*pp != e) {
		SL_ASSERT(*pp != NULL);
		pp = (struct pt_entry **)&(*pp)->p.next;
	}
	*pp = (struct pt_entry *)e->p.next;
	e->p.next = NULL;
	struct pt_entry **ip = &pt->by_id[id_slot(pt, e->p.topic_id, e->p.partition)];
	while (*ip != e) {
		SL_ASSERT(*ip != NULL);
		ip = &(*ip)->id_next;
	}
	*ip = e->id_next;
	e->id_next = NULL;
	SL_ASSERT(pt->count > 0);
	pt->count--;
}

/* ---- high watermark ------------------------------------------------------------------- */

int16_t brk_partition_log_error(const struct brk_partition *p)
{
	if (p->log == NULL || stor_log_offline(p->log))
		return WIRE_ERR_KAFKA_STORAGE_ERROR;
	return WIRE_ERR_NONE;
}

int16_t brk_partition_epoch_error(const struct brk_partition *p, int32_t current_leader_epoch)
{
	if (current_leader_epoch < 0 || current_leader_epoch == p->leader_epoch)
		return WIRE_ERR_NONE;
	return current_leader_epoch < p->leader_epoch ? WIRE_ERR_FENCED_LEADER_EPOCH
	                                              : WIRE_ERR_UNKNOWN_LEADER_EPOCH;
}

const struct meta_partition *brk_image_partition(const struct brk *b, struct wire_str topic,
                                                 int32_t partition)
{
	if (b->image == NULL || topic.len <= 0 || partition < 0)
		return NULL;
	const struct meta_topic *t = meta_image_topic(b->image, topic.ptr, (size_t)topic.len);
	if (t == NULL || partition >= t->partition_count)
		return NULL;
	return &t->partitions[partition];
}

const struct meta_partition *brk_image_partition_by_id(const struct brk *b, struct sl_uuid topic_id,
                                                       int32_t partition)
{
	if (b->image == NULL || partition < 0)
		return NULL;
	const struct meta_topic *t = meta_image_topic_by_id(b->image, topic_id);
	if (t == NULL || partition >= t->partition_count)
		return NULL;
	return &t->partitions[partition];
}

int16_t brk_partition_absent_error(const struct brk *b, struct wire_str topic, int32_t partition)
{
	return brk_image_partition(b, topic, partition) != NULL
	               ? WIRE_ERR_NOT_LEADER_OR_FOLLOWER
	               : WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION;
}

int16_t brk_partition_absent_error_by_id(const struct brk *b, struct sl_uuid topic_id,
                                         int32_t partition)
{
	if (b->image == NULL || meta_image_topic_by_id(b->image, topic_id) == NULL)
		return WIRE_ERR_UNKNOWN_TOPIC_ID;
	return brk_image_partition_by_id(b, topic_id, partition) != NULL
	               ? WIRE_ERR_NOT_LEADER_OR_FOLLOWER
	               : WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION;
}

struct brk_partition *brk_partition_lookup(struct brk *b, struct wire_str topic, int32_t partition,
                                           int32_t current_leader_epoch, int16_t *error)
{
	struct brk_partition *p = brk_partition_get(b, topic, partition);
	if (p == NULL || p->deleted) {
		*error = brk_partition_absent_error(b, topic, partition);
		return NULL;
	}
	/* Kafka's Partition.localLogWithEpochOrThrow: the epoch first, then leadership. */
	*error = brk_partition_epoch_error(p, current_leader_epoch);
	if (*error == WIRE_ERR_NONE && !p->is_leader)
		*error = WIRE_ERR_NOT_LEADER_OR_FOLLOWER;
	if (*error == WIRE_ERR_NONE)
		*error = brk_partition_log_error(p);
	return *error == WIRE_ERR_NONE ? p : NULL;
}

void brk_partition_advance(struct brk *b, struct brk_partition *p)
{
	if (p->log == NULL || p->deleted)
		return;
	struct stor_log_state st;
	stor_log_get_state(p->log, &st);
	if (st.durable_offset <= p->high_watermark)
		return;
	p->high_watermark = st.durable_offset;
	stor_log_set_high_watermark(p->log, p->high_watermark);
	brk_fetch_wake(b, p);
}

static void sweep_start(struct brk *b, int64_t delay_ms);

void brk_partition_op_begin(struct brk_partition *p)
{
	p->appends_in_flight++;
}

void brk_partition_op_end(struct brk *b, struct brk_partition *p)
{
	SL_ASSERT(p->appends_in_flight > 0);
	p->appends_in_flight--;
	struct pt_entry *e = entry_of(p);
	if (e->orphan) {
		if (p->appends_in_flight == 0)
			free(e);
		return;
	}
	if (p->deleted && p->appends_in_flight == 0)
		sweep_start(b, 0);
}

static void hw_wait_arm(struct brk *b, struct pt_entry *e);

static void hw_wait_done(struct stor_durable_wait *w, void *ctx)
{
	struct pt_entry *e = ctx;
	(void)w;
	e->hw_waiting = false;
	struct brk *b = e->b;
	bool orphan = e->orphan;
	brk_partition_op_end(b, &e->p); /* may free an orphan */
	if (orphan)
		return;
	brk_partition_advance(b, &e->p);
	hw_wait_arm(b, e);
}

static void hw_wait_arm(struct brk *b, struct pt_entry *e)
{
	struct brk_partition *p = &e->p;
	if (e->hw_waiting || p->log == NULL || p->deleted || e->hw_want <= p->high_watermark)
		return;
	brk_partition_op_begin(p);
	enum sl_err err = stor_log_wait_durable(p->log, &e->hw_wait, e->hw_want, hw_wait_done, e);
	if (err == SL_EAGAIN) {
		e->hw_waiting = true;
		return;
	}
	brk_partition_op_end(b, p);
	if (err == SL_OK)
		brk_partition_advance(b, p);
}

void brk_partition_want_durable(struct brk *b, struct brk_partition *p, int64_t offset)
{
	struct pt_entry *e = entry_of(p);
	if (offset > e->hw_want)
		e->hw_want = offset;
	hw_wait_arm(b, e);
}

/* ---- logs ------------------------------------------------------------------------------ */

static bool graveyard_holds_log(struct brk_partitions *pt, const struct pt_entry *e)
{
	for (struct pt_entry *g = pt->graveyard; g != NULL; g = g->grave_next) {
		if (!g->log_gone && g->p.partition == e->p.partition &&
		    strcmp(g->p.topic, e->p.topic) == 0)
			return true;
	}
	return false;
}

/* Deletes a removed partition's log when nothing is in flight. */
static void grave_try_delete(struct brk *b, struct pt_entry *g)
{
	if (g->log_gone || g->p.appends_in_flight > 0)
		return;
	char err[256] = "";
	enum sl_err e = SL_ENOENT;
	if (b->opts.logs != NULL)
		e = stor_log_manager_delete(b->opts.logs, g->p.topic, g->p.partition, err,
		                            sizeof(err));
	if (e == SL_EAGAIN) {
		sweep_start(b, PT_SWEEP_RETRY_MS); /* a flush round of the log is still running */
		return;
	}
	if (e != SL_OK && e != SL_ENOENT)
		SL_ERROR("broker", "deleting the log of %s-%d failed: %s (%s); left on disk",
		         g->p.topic, (int)g->p.partition, sl_err_name(e), err);
	else if (e == SL_OK)
		SL_INFO("broker", "deleted the log of removed partition %s-%d", g->p.topic,
		        (int)g->p.partition);
	g->log_gone = true;
	g->p.log = NULL;
}

/* Opens (or creates) the log of a live entry; log stays NULL on failure. */
static void entry_open_log(struct brk *b, struct pt_entry *e)
{
	struct brk_partition *p = &e->p;
	if (b->opts.logs == NULL || p->log != NULL)
		return;
	if (graveyard_holds_log(b->parts, e)) {
		e->needs_log = true;
		sweep_start(b, 0);
		return;
	}
	e->needs_log = false;
	char err[256] = "";
	struct stor_log *log = NULL;
	enum sl_err r = stor_log_manager_create(b->opts.logs, p->topic, p->partition, &p->topic_id,
	                                        &log, err, sizeof(err));
	struct sl_uuid on_disk;
	if (r == SL_OK &&
	    stor_partition_metadata_read(stor_log_dir(log), &on_disk, err, sizeof(err)) == SL_OK &&
	    !sl_uuid_eq(&on_disk, &p->topic_id)) {
		/* Left over from an older topic of the same name (deleted before its log was). */
		SL_WARN("broker", "log of %s-%d belongs to an older topic id: deleting it",
		        p->topic, (int)p->partition);
		r = stor_log_manager_delete(b->opts.logs, p->topic, p->partition, err, sizeof(err));
		if (r == SL_OK)
			r = stor_log_manager_create(b->opts.logs, p->topic, p->partition,
			                            &p->topic_id, &log, err, sizeof(err));
	}
	if (r != SL_OK) {
		SL_ERROR("broker", "cannot open the log of %s-%d: %s (%s); partition offline",
		         p->topic, (int)p->partition, sl_err_name(r), err);
		return;
	}
	p->log = log;
	struct stor_log_state st;
	stor_log_get_state(log, &st);
	p->high_watermark = st.durable_offset;
	stor_log_set_high_watermark(log, p->high_watermark);
	/* Data written but not yet durable (recovered tail): make it visible once synced. */
	if (st.written_offset > st.durable_offset)
		brk_partition_want_durable(b, p, st.written_offset);
}

/* Frees graveyard entries whose log is gone and that nothing references. */
static void graveyard_collect(struct brk *b)
{
	struct pt_entry **gp = &b->parts->graveyard;
	while (*gp != NULL) {
		struct pt_entry *g = *gp;
		grave_try_delete(b, g);
		if (g->log_gone && !entry_busy(g)) {
			*gp = g->grave_next;
			free(g);
		} else {
			gp = &g->grave_next;
		}
	}
}

static void sweep_run(struct brk *b)
{
	struct brk_partitions *pt = b->parts;
	graveyard_collect(b);
	for (size_t i = 0; i < pt->bucket_count; i++) {
		for (struct pt_entry *e = pt->by_name[i]; e != NULL;
		     e = (struct pt_entry *)e->p.next) {
			if (e->needs_log)
				entry_open_log(b, e);
		}
	}
}

static void sweep_done(struct io_op *op, void *ctx)
{
	struct pt_sweep *s = (struct pt_sweep *)op;
	s->in_flight = false;
	if (s->pt == NULL) {
		free(s);
		return;
	}
	sweep_run(ctx);
}

static void sweep_start(struct brk *b, int64_t delay_ms)
{
	struct pt_sweep *s = b->parts->sweep;
	if (s->in_flight)
		return;
	if (b->opts.loop == NULL) {
		/* No loop (tests without storage): nothing can be in flight either. */
		return;
	}
	memset(&s->op, 0, sizeof(s->op));
	s->in_flight = true;
	io_timeout(b->opts.loop, &s->op, delay_ms, sweep_done, b);
}

void brk_partition_release_if_idle(struct brk *b, struct brk_partition *p)
{
	if (p->deleted && !entry_busy(entry_of(p)))
		sweep_start(b, 0);
}

/* ---- applying an image ------------------------------------------------------------------- */

struct apply_ctx {
	struct brk *b;
	const struct meta_topic *configured; /* last topic whose overrides went to storage */
};

/* The topic's overrides to storage; keys storage does not hold are not its business. */
static void topic_config_push(struct brk *b, const struct meta_topic *t)
{
	struct stor_log_manager *m = b->opts.logs;
	if (m == NULL)
		return;
	struct sl_props props = {0};
	char err[256] = "";
	for (size_t i = 0; i < t->config_count; i++) {
		struct stor_log_config probe;
		stor_log_config_init(&probe);
		const struct meta_config *c = &t->configs[i];
		if (stor_log_config_set(&probe, c->name, c->value, err, sizeof(err)) == SL_ENOENT)
			continue;
		if (sl_props_set(&props, c->name, c->value) != SL_OK) {
			SL_ERROR("broker", "out of memory applying the configs of topic %s",
			         t->name);
			sl_props_free(&props);
			return;
		}
	}
	enum sl_err e = stor_log_manager_set_topic_config(
	        m, t->name, props.count > 0 ? &props : NULL, err, sizeof(err));
	if (e != SL_OK)
		SL_ERROR("broker", "topic %s: config not applied to its logs: %s (%s)", t->name,
		         sl_err_name(e), err);
	sl_props_free(&props);
}

/* Takes p out of the table; its log is deleted when idle (see the file comment). */
static void partition_drop(struct brk *b, struct brk_partition *p)
{
	struct pt_entry *e = entry_of(p);
	table_unlink(b->parts, e);
	p->deleted = true;
	p->is_leader = false;
	e->needs_log = false;
	e->log_gone = p->log == NULL;
	e->grave_next = b->parts->graveyard;
	b->parts->graveyard = e;
	/* Parked fetches answer UNKNOWN_TOPIC_OR_PARTITION, or NOT_LEADER_OR_FOLLOWER when the
	 * partition lives on elsewhere. */
	brk_fetch_wake(b, p);
	graveyard_collect(b);
}

static void on_removed(void *ctx, const struct meta_topic *old_topic, int32_t partition)
{
	struct apply_ctx *ac = ctx;
	struct brk_partition *p = brk_partition_by_id(ac->b, old_topic->id, partition);
	if (p != NULL)
		partition_drop(ac->b, p);
}

/* Whether this broker is one of mp's replicas. */
static bool hosted(const struct brk *b, const struct meta_partition *mp)
{
	for (int32_t i = 0; i < mp->replica_count; i++) {
		if (mp->replicas[i] == b->node_id)
			return true;
	}
	return false;
}

static void on_added(void *ctx, const struct meta_topic *t, int32_t partition)
{
	struct apply_ctx *ac = ctx;
	struct brk *b = ac->b;
	if (partition < 0 || partition >= t->partition_count)
		return;
	const struct meta_partition *mp = &t->partitions[partition];
	if (!hosted(b, mp) || brk_partition_by_id(b, t->id, partition) != NULL)
		return;
	struct pt_entry *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		SL_ERROR("broker", "out of memory adding partition %s-%d", t->name, (int)partition);
		return;
	}
	snprintf(e->p.topic, sizeof(e->p.topic), "%s", t->name);
	e->p.partition = partition;
	e->p.topic_id = t->id;
	e->p.leader_epoch = mp->leader_epoch;
	e->p.is_leader = mp->leader == b->node_id;
	e->p.high_watermark = 0;
	e->b = b;
	if (ac->configured != t) {
		topic_config_push(b, t);
		ac->configured = t;
	}
	table_link(b->parts, e);
	b->parts->count++;
	table_grow(b->parts);
	entry_open_log(b, e);
}

static void on_changed(void *ctx, const struct meta_topic *t, int32_t partition)
{
	struct apply_ctx *ac = ctx;
	struct brk *b = ac->b;
	if (partition < 0 || partition >= t->partition_count)
		return;
	const struct meta_partition *mp = &t->partitions[partition];
	struct brk_partition *p = brk_partition_by_id(b, t->id, partition);
	if (p == NULL) {
		on_added(ctx, t, partition); /* newly hosted (or not hosted: nothing) */
		return;
	}
	if (!hosted(b, mp)) {
		SL_INFO("broker", "partition %s-%d was reassigned away from this broker", p->topic,
		        (int)p->partition);
		partition_drop(b, p);
		return;
	}
	bool was_leader = p->is_leader;
	p->leader_epoch = mp->leader_epoch;
	p->is_leader = mp->leader == b->node_id;
	if (was_leader != p->is_leader)
		SL_INFO("broker", "partition %s-%d: %s at leader epoch %d", p->topic,
		        (int)p->partition, p->is_leader ? "now the leader" : "no longer the leader",
		        (int)p->leader_epoch);
	if (was_leader && !p->is_leader)
		brk_fetch_wake(b, p); /* parked fetches answer NOT_LEADER_OR_FOLLOWER */
}

static void on_config(void *ctx, const struct meta_topic *t)
{
	struct apply_ctx *ac = ctx;
	if (ac->configured != t)
		topic_config_push(ac->b, t);
	ac->configured = t;
}

void brk_partitions_apply(struct brk *b, const struct meta_image *old_img,
                          const struct meta_image *new_img)
{
	static const struct meta_diff_ops ops = {
	        .partition_removed = on_removed,
	        .partition_added = on_added,
	        .partition_changed = on_changed,
	        .topic_config_changed = on_config,
	};
	struct apply_ctx ac = {.b = b};
	meta_image_diff(old_img, new_img, &ops, &ac);
}
