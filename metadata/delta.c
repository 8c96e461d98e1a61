/*
 * delta.c: applying metadata records to a copy-on-write view of an image (MetadataDelta).
 *
 * The delta owns a private working image whose pointer arrays were copied from the base; the
 * topic and cluster objects stay shared until a record changes one of them (then it is
 * cloned first: an object with refs == 1 in the working image belongs to the delta alone).
 * Publishing hands the working image out as the next image. Applying is strict: a record
 * that contradicts the image (kraft.md §4) is SL_ECORRUPT and the delta becomes unusable.
 *
 * Records: RegisterBroker (0), UnregisterBroker (1), Topic (2), Partition (3, v0-2), Config
 * (4; TOPIC and BROKER resources, others ignored), PartitionChange (5), Fence/Unfence (7/8),
 * RemoveTopic (9), FeatureLevel (12), ProducerIds (15), BrokerRegistrationChange (17), NoOp
 * (20), ZkMigrationState (21), Begin/End/AbortTransaction (23-25: no-ops here; the loader
 * decides when to publish or discard a delta), RegisterController (27; a later registration
 * of the same id replaces the earlier). Keys without a definition are skipped.
 */
#include "meta_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DELTA_ARENA_LIMIT (64u << 20) /* decoded arrays of one record value */

struct meta_delta {
	struct meta_image *base;
	struct meta_image *work;
	bool broken;
	struct sl_arena arena;
};

struct apply_ctx {
	struct meta_delta *d;
	char *err;
	size_t err_len;
};

SL_PRINTF(2, 3) static enum sl_err corrupt(struct apply_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->err_len, fmt, ap);
		va_end(ap);
	}
	return SL_ECORRUPT;
}

static enum sl_err no_memory(struct apply_ctx *c)
{
	if (c->err_len > 0)
		snprintf(c->err, c->err_len, "out of memory applying a metadata record");
	return SL_ENOMEM;
}

enum sl_err meta_delta_create(struct meta_image *base, struct meta_delta **out)
{
	struct meta_delta *d = calloc(1, sizeof(*d));

	SL_ASSERT(base != NULL);
	if (d == NULL)
		return SL_ENOMEM;
	d->work = meta_image_copy(base);
	if (d->work == NULL) {
		free(d);
		return SL_ENOMEM;
	}
	meta_image_ref(base);
	d->base = base;
	sl_arena_init(&d->arena, 16384, DELTA_ARENA_LIMIT);
	*out = d;
	return SL_OK;
}

void meta_delta_destroy(struct meta_delta *d)
{
	if (d == NULL)
		return;
	meta_image_unref(d->work);
	meta_image_unref(d->base);
	sl_arena_free(&d->arena);
	free(d);
}

const struct meta_image *meta_delta_view(struct meta_delta *d)
{
	return d->work;
}

struct meta_image *meta_delta_publish(struct meta_delta *d, int64_t offset)
{
	struct meta_image *img = d->work;

	SL_ASSERT(!d->broken);
	SL_ASSERT(offset >= d->base->offset);
	img->offset = offset;
	d->work = NULL;
	meta_image_unref(d->base);
	sl_arena_free(&d->arena);
	free(d);
	return img;
}

/* The working image's topic, made private to the delta (cloned when shared). */
static struct meta_topic_obj *cow_topic(struct meta_delta *d, const struct meta_topic *t)
{
	struct meta_topic_obj *obj = meta_topic_obj_of(t), *copy;

	if (obj->refs == 1)
		return obj;
	copy = meta_topic_obj_clone(obj);
	if (copy != NULL)
		meta_image_replace_topic(d->work, obj, copy);
	return copy;
}

static struct meta_cluster *cow_cluster(struct meta_delta *d)
{
	struct meta_cluster *c = d->work->cluster, *copy;

	if (c->refs == 1)
		return c;
	copy = meta_cluster_clone(c);
	if (copy != NULL) {
		meta_cluster_unref(c);
		d->work->cluster = copy;
	}
	return copy;
}

static enum sl_err apply_topic(struct apply_ctx *c, const struct meta_topic_record *r)
{
	struct meta_image *w = c->d->work;
	struct meta_topic_obj *t;
	const struct meta_topic *old;
	char id[SL_UUID_STR_LEN + 1];

	sl_uuid_to_str(&r->topic_id, id);
	if (!meta_topic_name_legal(r->name))
		return corrupt(c, "TopicRecord: illegal topic name '%.*s'",
		               (int)SL_MAX(0, r->name.len), r->name.ptr ? r->name.ptr : "");
	if (sl_uuid_is_zero(&r->topic_id) || sl_uuid_eq(&r->topic_id, &SL_UUID_METADATA))
		return corrupt(c, "TopicRecord %.*s: reserved topic id %s", (int)r->name.len,
		               r->name.ptr, id);
	old = meta_image_topic(w, r->name.ptr, (size_t)r->name.len);
	if (old != NULL)
		return corrupt(c, "TopicRecord: topic %.*s already exists (id %s)",
		               (int)r->name.len, r->name.ptr, id);
	if (meta_image_topic_by_id(w, r->topic_id) != NULL)
		return corrupt(c, "TopicRecord %.*s: topic id %s already in use", (int)r->name.len,
		               r->name.ptr, id);
	t = meta_topic_obj_new(r->name.ptr, (size_t)r->name.len, r->topic_id);
	if (t == NULL)
		return no_memory(c);
	if (!meta_image_insert_topic(w, t)) {
		meta_topic_obj_unref(t);
		return no_memory(c);
	}
	return SL_OK;
}

static enum sl_err find_topic(struct apply_ctx *c, const char *what, struct sl_uuid id,
                              struct meta_topic_obj **out)
{
	const struct meta_topic *t = meta_image_topic_by_id(c->d->work, id);
	char s[SL_UUID_STR_LEN + 1];

	if (t == NULL) {
		sl_uuid_to_str(&id, s);
		return corrupt(c, "%s: unknown topic id %s", what, s);
	}
	*out = cow_topic(c->d, t);
	return *out == NULL ? no_memory(c) : SL_OK;
}

static bool replicas_sane(const int32_t *a, int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		if (a[i] < 0)
			return false;
	}
	return true;
}

static enum sl_err apply_partition(struct apply_ctx *c, const struct meta_partition_record *r)
{
	struct meta_topic_obj *t;
	struct meta_partition p;
	enum sl_err err = find_topic(c, "PartitionRecord", r->topic_id, &t);

	if (err != SL_OK)
		return err;
	if (r->partition_id < 0 || r->partition_id > t->pub.partition_count)
		return corrupt(c,
		               "PartitionRecord %s-%" PRId32 ": out of order (topic has %" PRId32
		               " partitions)",
		               t->pub.name, r->partition_id, t->pub.partition_count);
	if (r->replicas_count < 0 || r->isr_count < 0 ||
	    !replicas_sane(r->replicas, r->replicas_count) ||
	    !replicas_sane(r->isr, r->isr_count) || r->leader < -1 || r->leader_epoch < -1 ||
	    r->partition_epoch < -1)
		return corrupt(c,
		               "PartitionRecord %s-%" PRId32 ": invalid leader, epoch or replicas",
		               t->pub.name, r->partition_id);
	p = (struct meta_partition){
	        .partition_id = r->partition_id,
	        .leader = r->leader,
	        .leader_epoch = r->leader_epoch,
	        .partition_epoch = r->partition_epoch,
	        .replica_count = r->replicas_count,
	        .replicas = r->replicas,
	        .isr_count = r->isr_count,
	        .isr = r->isr,
	};
	return meta_topic_obj_set_partition(t, &p) ? SL_OK : no_memory(c);
}

/* PartitionChangeRecord replay (PartitionRegistration.merge): partition epoch + 1 always,
 * leader epoch + 1 iff the leader field is not -2 (kraft.md §5.4). */
static enum sl_err apply_partition_change(struct apply_ctx *c,
                                          const struct meta_partition_change_record *r)
{
	struct meta_topic_obj *t;
	struct meta_partition p;
	enum sl_err err = find_topic(c, "PartitionChangeRecord", r->topic_id, &t);

	if (err != SL_OK)
		return err;
	if (r->partition_id < 0 || r->partition_id >= t->pub.partition_count)
		return corrupt(c, "PartitionChangeRecord %s-%" PRId32 ": no such partition",
		               t->pub.name, r->partition_id);
	if (r->leader < -2 || (r->isr_count > 0 && !replicas_sane(r->isr, r->isr_count)) ||
	    (r->replicas_count > 0 && !replicas_sane(r->replicas, r->replicas_count)))
		return corrupt(c,
		               "PartitionChangeRecord %s-%" PRId32 ": invalid leader or replicas",
		               t->pub.name, r->partition_id);
	p = t->parts[r->partition_id];
	if (r->isr_count >= 0) {
		p.isr_count = r->isr_count;
		p.isr = r->isr;
	}
	if (r->replicas_count >= 0) {
		p.replica_count = r->replicas_count;
		p.replicas = r->replicas;
	}
	if (r->leader != -2) {
		p.leader = r->leader;
		p.leader_epoch++;
	}
	p.partition_epoch++;
	return meta_topic_obj_set_partition(t, &p) ? SL_OK : no_memory(c);
}

static enum sl_err apply_remove_topic(struct apply_ctx *c, const struct meta_remove_topic_record *r)
{
	const struct meta_topic *t = meta_image_topic_by_id(c->d->work, r->topic_id);
	char s[SL_UUID_STR_LEN + 1];

	if (t == NULL) {
		sl_uuid_to_str(&r->topic_id, s);
		return corrupt(c, "RemoveTopicRecord: unknown topic id %s", s);
	}
	meta_image_remove_topic(c->d->work, meta_topic_obj_of(t));
	return SL_OK;
}

/* "" = -1 (cluster default), else a non-negative decimal broker id. */
static bool parse_broker_name(struct wire_str s, int32_t *out)
{
	int64_t v = 0;

	if (s.len == 0) {
		*out = -1;
		return true;
	}
	if (s.len < 0 || s.len > 10)
		return false;
	for (int32_t i = 0; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return false;
		v = v * 10 + (s.ptr[i] - '0');
	}
	if (v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

static enum sl_err apply_config(struct apply_ctx *c, const struct meta_config_record *r)
{
	const char *value = r->value.len < 0 ? NULL : r->value.ptr;
	size_t value_len = r->value.len < 0 ? 0 : (size_t)r->value.len;
	int32_t broker_id;

	if (r->name.len <= 0)
		return corrupt(c, "ConfigRecord: empty config name");
	if (value != NULL && memchr(value, '\0', value_len) != NULL)
		return corrupt(c, "ConfigRecord %.*s: NUL in value", (int)r->name.len, r->name.ptr);
	if (r->resource_type == META_RESOURCE_TOPIC) {
		const struct meta_topic *t = meta_image_topic(
		        c->d->work, r->resource_name.ptr, (size_t)SL_MAX(0, r->resource_name.len));
		struct meta_topic_obj *obj;

		if (t == NULL)
			return corrupt(c, "ConfigRecord %.*s: unknown topic '%.*s'",
			               (int)r->name.len, r->name.ptr,
			               (int)SL_MAX(0, r->resource_name.len),
			               r->resource_name.ptr ? r->resource_name.ptr : "");
		obj = cow_topic(c->d, t);
		if (obj == NULL || !meta_topic_obj_set_config(obj, r->name.ptr, (size_t)r->name.len,
		                                              value, value_len))
			return no_memory(c);
		return SL_OK;
	}
	if (r->resource_type != META_RESOURCE_BROKER)
		return SL_OK; /* loggers, client metrics, groups: not used by this broker */
	if (!parse_broker_name(r->resource_name, &broker_id))
		return corrupt(c, "ConfigRecord %.*s: invalid broker resource name '%.*s'",
		               (int)r->name.len, r->name.ptr, (int)SL_MAX(0, r->resource_name.len),
		               r->resource_name.ptr ? r->resource_name.ptr : "");
	struct meta_cluster *cl = cow_cluster(c->d);

	if (cl == NULL || !meta_cluster_set_bconf(cl, broker_id, r->name.ptr, (size_t)r->name.len,
	                                          value, value_len))
		return no_memory(c);
	return SL_OK;
}

static enum sl_err apply_feature(struct apply_ctx *c, const struct meta_feature_level_record *r)
{
	struct meta_cluster *cl;

	if (r->name.len <= 0 || r->feature_level < 0)
		return corrupt(c, "FeatureLevelRecord '%.*s': invalid name or level %d",
		               (int)SL_MAX(0, r->name.len), r->name.ptr ? r->name.ptr : "",
		               r->feature_level);
	cl = cow_cluster(c->d);
	if (cl == NULL ||
	    !meta_cluster_set_feature(cl, r->name.ptr, (size_t)r->name.len, r->feature_level))
		return no_memory(c);
	return SL_OK;
}

static char *str_dup(struct wire_str s)
{
	char *p = malloc((size_t)SL_MAX(0, s.len) + 1);

	if (p == NULL)
		return NULL;
	if (s.len > 0)
		memcpy(p, s.ptr, (size_t)s.len);
	p[SL_MAX(0, s.len)] = '\0';
	return p;
}

/* Builds an owned broker from the record; false on ENOMEM. */
static bool broker_from_record(struct meta_broker *b, const struct meta_register_broker_record *r)
{
	struct meta_endpoint *eps = calloc((size_t)SL_MAX(1, r->end_points_count), sizeof(*eps));

	*b = (struct meta_broker){
	        .broker_id = r->broker_id,
	        .broker_epoch = r->broker_epoch,
	        .incarnation_id = r->incarnation_id,
	        .fenced = r->fenced,
	        .in_controlled_shutdown = r->in_controlled_shutdown,
	        .endpoints = eps,
	};
	if (eps == NULL)
		return false;
	for (int32_t i = 0; i < r->end_points_count; i++) {
		eps[i].name = str_dup(r->end_points[i].name);
		eps[i].host = str_dup(r->end_points[i].host);
		eps[i].port = r->end_points[i].port;
		eps[i].security_protocol = r->end_points[i].security_protocol;
		b->endpoint_count++;
		if (eps[i].name == NULL || eps[i].host == NULL)
			goto fail;
	}
	if (r->rack.len >= 0 && (b->rack = str_dup(r->rack)) == NULL)
		goto fail;
	return true;
fail:
	meta_broker_free(b);
	return false;
}

static enum sl_err apply_register(struct apply_ctx *c, const struct meta_register_broker_record *r)
{
	struct meta_cluster *cl;
	struct meta_broker b, *n;
	ptrdiff_t i;

	if (r->broker_id < 0)
		return corrupt(c, "RegisterBrokerRecord: invalid broker id %" PRId32, r->broker_id);
	cl = cow_cluster(c->d);
	if (cl == NULL || !broker_from_record(&b, r))
		return no_memory(c);
	i = meta_cluster_broker_index(cl, r->broker_id);
	if (i >= 0) {
		meta_broker_free(&cl->brokers[i]);
		cl->brokers[i] = b;
		return SL_OK;
	}
	n = realloc(cl->brokers, sizeof(*n) * (cl->broker_count + 1));
	if (n == NULL) {
		meta_broker_free(&b);
		return no_memory(c);
	}
	cl->brokers = n;
	i = -i - 1;
	memmove(&n[i + 1], &n[i], sizeof(*n) * (cl->broker_count - (size_t)i));
	n[i] = b;
	cl->broker_count++;
	return SL_OK;
}

static enum sl_err apply_register_controller(struct apply_ctx *c,
                                             const struct meta_register_controller_record *r)
{
	struct meta_endpoint *eps;
	struct meta_controller m;
	struct meta_cluster *cl;

	if (r->controller_id < 0)
		return corrupt(c, "RegisterControllerRecord: invalid controller id %" PRId32,
		               r->controller_id);
	cl = cow_cluster(c->d);
	eps = calloc((size_t)SL_MAX(1, r->end_points_count), sizeof(*eps));
	m = (struct meta_controller){
	        .controller_id = r->controller_id,
	        .incarnation_id = r->incarnation_id,
	        .zk_migration_ready = r->zk_migration_ready,
	        .endpoints = eps,
	};
	if (cl == NULL || eps == NULL)
		goto fail;
	for (int32_t i = 0; i < r->end_points_count; i++) {
		eps[i].name = str_dup(r->end_points[i].name);
		eps[i].host = str_dup(r->end_points[i].host);
		eps[i].port = r->end_points[i].port;
		eps[i].security_protocol = r->end_points[i].security_protocol;
		m.endpoint_count++;
		if (eps[i].name == NULL || eps[i].host == NULL)
			goto fail;
	}
	if (!meta_cluster_put_controller(cl, &m))
		return no_memory(c);
	return SL_OK;
fail:
	meta_controller_free(&m);
	return no_memory(c);
}

/* The registered broker with this id and epoch, private to the delta. */
static enum sl_err find_broker(struct apply_ctx *c, const char *what, int32_t id, int64_t epoch,
                               struct meta_broker **out)
{
	struct meta_cluster *cl = c->d->work->cluster;
	ptrdiff_t i = meta_cluster_broker_index(cl, id);

	if (i < 0)
		return corrupt(c, "%s: broker %" PRId32 " is not registered", what, id);
	if (cl->brokers[i].broker_epoch != epoch)
		return corrupt(c,
		               "%s: broker %" PRId32 " epoch %" PRId64 ", registered with %" PRId64,
		               what, id, epoch, cl->brokers[i].broker_epoch);
	cl = cow_cluster(c->d);
	if (cl == NULL)
		return no_memory(c);
	*out = &cl->brokers[i];
	return SL_OK;
}

static enum sl_err apply_unregister(struct apply_ctx *c,
                                    const struct meta_unregister_broker_record *r)
{
	struct meta_broker *b;
	enum sl_err err =
	        find_broker(c, "UnregisterBrokerRecord", r->broker_id, r->broker_epoch, &b);
	struct meta_cluster *cl = c->d->work->cluster;

	if (err != SL_OK)
		return err;
	meta_broker_free(b);
	size_t i = (size_t)(b - cl->brokers);

	memmove(&cl->brokers[i], &cl->brokers[i + 1], sizeof(*b) * (cl->broker_count - i - 1));
	cl->broker_count--;
	return SL_OK;
}

static enum sl_err apply_fencing(struct apply_ctx *c, const char *what, int32_t id, int64_t epoch,
                                 int8_t fenced, int8_t shutdown)
{
	struct meta_broker *b;
	enum sl_err err;

	if (fenced < -1 || fenced > 1 || shutdown < 0 || shutdown > 1)
		return corrupt(c,
		               "%s: broker %" PRId32 " invalid fenced %d / controlled shutdown %d",
		               what, id, fenced, shutdown);
	err = find_broker(c, what, id, epoch, &b);
	if (err != SL_OK)
		return err;
	if (fenced != 0)
		b->fenced = fenced == 1;
	if (shutdown == 1)
		b->in_controlled_shutdown = true;
	return SL_OK;
}

static enum sl_err apply_misc(struct apply_ctx *c, int16_t key, const void *rec)
{
	struct meta_cluster *cl;

	if (key == META_REC_ZK_MIGRATION_STATE) {
		cl = cow_cluster(c->d);
		if (cl == NULL)
			return no_memory(c);
		cl->zk_migration_state =
		        ((const struct meta_zk_migration_state_record *)rec)->zk_migration_state;
		return SL_OK;
	}
	if (key == META_REC_PRODUCER_IDS) {
		const struct meta_producer_ids_record *r = rec;

		if (r->next_producer_id < c->d->work->cluster->next_producer_id)
			return corrupt(
			        c, "ProducerIdsRecord: next producer id %" PRId64 " below %" PRId64,
			        r->next_producer_id, c->d->work->cluster->next_producer_id);
		cl = cow_cluster(c->d);
		if (cl == NULL)
			return no_memory(c);
		cl->next_producer_id = r->next_producer_id;
		return SL_OK;
	}
	return SL_OK; /* NoOp, Begin/End/AbortTransaction */
}

static enum sl_err dispatch(struct apply_ctx *c, int16_t key, const void *rec)
{
	switch (key) {
	case META_REC_TOPIC:
		return apply_topic(c, rec);
	case META_REC_PARTITION:
		return apply_partition(c, rec);
	case META_REC_PARTITION_CHANGE:
		return apply_partition_change(c, rec);
	case META_REC_CONFIG:
		return apply_config(c, rec);
	case META_REC_REMOVE_TOPIC:
		return apply_remove_topic(c, rec);
	case META_REC_FEATURE_LEVEL:
		return apply_feature(c, rec);
	case META_REC_REGISTER_BROKER:
		return apply_register(c, rec);
	case META_REC_UNREGISTER_BROKER:
		return apply_unregister(c, rec);
	case META_REC_REGISTER_CONTROLLER:
		return apply_register_controller(c, rec);
	case META_REC_FENCE_BROKER: {
		const struct meta_fence_broker_record *r = rec;

		return apply_fencing(c, "FenceBrokerRecord", r->id, r->epoch, 1, 0);
	}
	case META_REC_UNFENCE_BROKER: {
		const struct meta_unfence_broker_record *r = rec;

		return apply_fencing(c, "UnfenceBrokerRecord", r->id, r->epoch, -1, 0);
	}
	case META_REC_BROKER_REGISTRATION_CHANGE: {
		const struct meta_broker_registration_change_record *r = rec;

		return apply_fencing(c, "BrokerRegistrationChangeRecord", r->broker_id,
		                     r->broker_epoch, r->fenced, r->in_controlled_shutdown);
	}
	default:
		return apply_misc(c, key, rec);
	}
}

enum sl_err meta_delta_apply(struct meta_delta *d, const uint8_t *value, size_t len, char *err,
                             size_t err_len)
{
	struct apply_ctx c = {d, err, err_len};
	const struct meta_record_info *info;
	struct wire_reader r;
	int16_t key, version;
	void *rec;
	enum sl_err e;

	if (err_len > 0)
		err[0] = '\0';
	if (d->broken)
		return corrupt(&c, "delta unusable after an earlier error");
	sl_arena_reset(&d->arena);
	wire_reader_init(&r, value, len, &d->arena);
	e = meta_frame_get(&r, &key, &version);
	if (e != SL_OK) {
		d->broken = true;
		(void)corrupt(&c, "bad metadata record frame (%zu bytes)", len);
		return SL_EMALFORMED;
	}
	info = meta_record_info(key);
	if (info == NULL)
		return SL_OK;
	rec = sl_arena_calloc(&d->arena, 1, meta_record_struct_size(key));
	if (rec == NULL)
		return no_memory(&c);
	e = meta_record_decode_any(&r, key, version, rec);
	if (e == SL_OK && !wire_reader_done(&r))
		e = SL_EMALFORMED;
	if (e != SL_OK) {
		d->broken = true;
		(void)corrupt(&c, "%s v%d: %s", info->name, version,
		              e == SL_EUNSUPPORTED ? "unsupported version" : sl_err_msg(e));
		return e == SL_ENOMEM ? SL_ENOMEM : SL_EMALFORMED;
	}
	e = dispatch(&c, key, rec);
	if (e != SL_OK)
		d->broken = true;
	return e;
}
