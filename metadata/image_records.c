/*
 * image_records.c: an image as the list of records that rebuild it from the empty image (the
 * data part of a KRaft snapshot; Kafka's MetadataImage.write).
 *
 * Order (each record only refers to what precedes it, so meta_delta_apply accepts the list
 * on an empty image): FeatureLevelRecords (metadata.version first, then the others by name),
 * ZkMigrationStateRecord (when one was ever written), RegisterBrokerRecords (ascending id),
 * RegisterControllerRecords (ascending id), broker ConfigRecords (cluster default "" first, then
 * ascending broker id and name), per topic in name order TopicRecord + PartitionRecords (ascending
 * id) + topic ConfigRecords, then ProducerIdsRecord (when any block was handed out).
 *
 * Invariant: replaying the list into an empty image gives an image equal to the input in
 * everything the image holds. Fields the image does not keep (a broker's or a controller's
 * supported features, a broker's log dirs, adding/removing replicas, partition directories) are
 * written with their defaults; PartitionRecord directories are UNASSIGNED (zero uuid) as the
 * controller writes.
 */
#include "meta_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_RECORD_MAX (8u << 20) /* one record value */

struct emit {
	meta_record_sink_fn *sink;
	void *ctx;
	struct sl_buf buf;
};

static enum sl_err emit(struct emit *e, int16_t key, int16_t version, const void *rec)
{
	enum sl_err err;

	sl_buf_reset(&e->buf);
	meta_frame_put(&e->buf, key, version);
	meta_record_encode_any(&e->buf, key, version, rec);
	err = sl_buf_err(&e->buf);
	if (err != SL_OK)
		return err == SL_ENOMEM ? SL_ENOMEM : SL_ETOOBIG;
	return e->sink(e->ctx, e->buf.data, e->buf.len);
}

static enum sl_err emit_feature(struct emit *e, const char *name, int16_t level)
{
	struct meta_feature_level_record r;

	meta_feature_level_record_init(&r);
	r.name = wire_str_c(name);
	r.feature_level = level;
	return emit(e, META_REC_FEATURE_LEVEL, 0, &r);
}

static enum sl_err emit_features(struct emit *e, const struct meta_cluster *c)
{
	enum sl_err err = SL_OK;

	if (c->metadata_version != 0)
		err = emit_feature(e, "metadata.version", c->metadata_version);
	for (size_t i = 0; err == SL_OK && i < c->feature_count; i++) {
		if (strcmp(c->features[i].name, "metadata.version") != 0)
			err = emit_feature(e, c->features[i].name, c->features[i].level);
	}
	if (err == SL_OK && c->zk_migration_state != -1) {
		struct meta_zk_migration_state_record z;

		meta_zk_migration_state_record_init(&z);
		z.zk_migration_state = c->zk_migration_state;
		err = emit(e, META_REC_ZK_MIGRATION_STATE, 0, &z);
	}
	return err;
}

/* RegisterBrokerRecord version by metadata.version (kraft.md §4), at least 1 when the broker
 * is in controlled shutdown (v0 cannot say so). */
static int16_t register_version(int16_t mv, const struct meta_broker *b)
{
	int16_t v = mv >= META_MV_3_7_IV2 ? 3 : mv >= META_MV_3_4_IV0 ? 2 : mv >= 7 ? 1 : 0;

	return b->in_controlled_shutdown && v < 1 ? 1 : v;
}

static enum sl_err emit_broker(struct emit *e, int16_t mv, const struct meta_broker *b)
{
	struct meta_register_broker_record r;
	struct meta_register_broker_record_broker_endpoint eps[16];
	struct meta_register_broker_record_broker_endpoint *ep = eps;
	enum sl_err err;

	if (b->endpoint_count > SL_ARRAY_LEN(eps)) {
		ep = calloc(b->endpoint_count, sizeof(*ep));
		if (ep == NULL)
			return SL_ENOMEM;
	}
	meta_register_broker_record_init(&r);
	r.broker_id = b->broker_id;
	r.incarnation_id = b->incarnation_id;
	r.broker_epoch = b->broker_epoch;
	r.end_points_count = (int32_t)b->endpoint_count;
	r.end_points = ep;
	for (size_t i = 0; i < b->endpoint_count; i++) {
		meta_register_broker_record_broker_endpoint_init(&ep[i]);
		ep[i].name = wire_str_c(b->endpoints[i].name);
		ep[i].host = wire_str_c(b->endpoints[i].host);
		ep[i].port = b->endpoints[i].port;
		ep[i].security_protocol = b->endpoints[i].security_protocol;
	}
	r.rack = b->rack != NULL ? wire_str_c(b->rack) : (struct wire_str){NULL, -1};
	r.fenced = b->fenced;
	r.in_controlled_shutdown = b->in_controlled_shutdown;
	err = emit(e, META_REC_REGISTER_BROKER, register_version(mv, b), &r);
	if (ep != eps)
		free(ep);
	return err;
}

static enum sl_err emit_controller(struct emit *e, const struct meta_controller *m)
{
	struct meta_register_controller_record r;
	struct meta_register_controller_record_controller_endpoint eps[16];
	struct meta_register_controller_record_controller_endpoint *ep = eps;
	enum sl_err err;

	if (m->endpoint_count > SL_ARRAY_LEN(eps)) {
		ep = calloc(m->endpoint_count, sizeof(*ep));
		if (ep == NULL)
			return SL_ENOMEM;
	}
	meta_register_controller_record_init(&r);
	r.controller_id = m->controller_id;
	r.incarnation_id = m->incarnation_id;
	r.zk_migration_ready = m->zk_migration_ready;
	r.end_points_count = (int32_t)m->endpoint_count;
	r.end_points = ep;
	for (size_t i = 0; i < m->endpoint_count; i++) {
		meta_register_controller_record_controller_endpoint_init(&ep[i]);
		ep[i].name = wire_str_c(m->endpoints[i].name);
		ep[i].host = wire_str_c(m->endpoints[i].host);
		ep[i].port = m->endpoints[i].port;
		ep[i].security_protocol = m->endpoints[i].security_protocol;
	}
	err = emit(e, META_REC_REGISTER_CONTROLLER, 0, &r);
	if (ep != eps)
		free(ep);
	return err;
}

static enum sl_err emit_config(struct emit *e, int8_t type, const char *resource, const char *name,
                               const char *value)
{
	struct meta_config_record r;

	meta_config_record_init(&r);
	r.resource_type = type;
	r.resource_name = wire_str_c(resource);
	r.name = wire_str_c(name);
	r.value = wire_str_c(value);
	return emit(e, META_REC_CONFIG, 0, &r);
}

static enum sl_err emit_cluster(struct emit *e, const struct meta_cluster *c)
{
	enum sl_err err = SL_OK;
	char id[16];

	for (size_t i = 0; err == SL_OK && i < c->broker_count; i++)
		err = emit_broker(e, c->metadata_version, &c->brokers[i]);
	for (size_t i = 0; err == SL_OK && i < c->controller_count; i++)
		err = emit_controller(e, &c->controllers[i]);
	for (size_t i = 0; err == SL_OK && i < c->bconf_count; i++) {
		const struct meta_broker_config *bc = &c->bconfs[i];

		if (bc->broker_id < 0)
			id[0] = '\0';
		else
			snprintf(id, sizeof(id), "%" PRId32, bc->broker_id);
		err = emit_config(e, META_RESOURCE_BROKER, id, bc->name, bc->value);
	}
	return err;
}

static enum sl_err emit_partition(struct emit *e, int16_t version, struct sl_uuid topic_id,
                                  const struct meta_partition *p)
{
	struct meta_partition_record r;
	struct sl_uuid dirs[16];
	struct sl_uuid *d = dirs;
	enum sl_err err;

	meta_partition_record_init(&r);
	r.partition_id = p->partition_id;
	r.topic_id = topic_id;
	r.replicas_count = p->replica_count;
	r.replicas = (int32_t *)(uintptr_t)p->replicas;
	r.isr_count = p->isr_count;
	r.isr = (int32_t *)(uintptr_t)p->isr;
	r.leader = p->leader;
	r.leader_epoch = p->leader_epoch;
	r.partition_epoch = p->partition_epoch;
	if (version >= 1) {
		if ((size_t)p->replica_count > SL_ARRAY_LEN(dirs)) {
			d = calloc((size_t)p->replica_count, sizeof(*d));
			if (d == NULL)
				return SL_ENOMEM;
		} else {
			memset(dirs, 0, sizeof(dirs));
		}
		r.directories_count = p->replica_count;
		r.directories = d;
	}
	err = emit(e, META_REC_PARTITION, version, &r);
	if (d != dirs)
		free(d);
	return err;
}

static enum sl_err emit_topic(struct emit *e, int16_t mv, const struct meta_topic *t)
{
	struct meta_topic_record r;
	int16_t pv = meta_partition_record_version(mv);
	enum sl_err err;

	meta_topic_record_init(&r);
	r.name = wire_str_c(t->name);
	r.topic_id = t->id;
	err = emit(e, META_REC_TOPIC, 0, &r);
	for (int32_t i = 0; err == SL_OK && i < t->partition_count; i++)
		err = emit_partition(e, pv, t->id, &t->partitions[i]);
	for (size_t i = 0; err == SL_OK && i < t->config_count; i++)
		err = emit_config(e, META_RESOURCE_TOPIC, t->name, t->configs[i].name,
		                  t->configs[i].value);
	return err;
}

enum sl_err meta_image_records(const struct meta_image *img, meta_record_sink_fn *sink, void *ctx)
{
	struct emit e = {.sink = sink, .ctx = ctx};
	const struct meta_cluster *c = img->cluster;
	enum sl_err err;

	sl_buf_init(&e.buf, IMAGE_RECORD_MAX);
	err = emit_features(&e, c);
	if (err == SL_OK)
		err = emit_cluster(&e, c);
	for (size_t i = 0; err == SL_OK && i < img->topic_count; i++)
		err = emit_topic(&e, c->metadata_version, &img->topics[i]->pub);
	if (err == SL_OK && c->next_producer_id != 0) {
		struct meta_producer_ids_record p;

		meta_producer_ids_record_init(&p);
		p.broker_id = -1;
		p.broker_epoch = -1;
		p.next_producer_id = c->next_producer_id;
		err = emit(&e, META_REC_PRODUCER_IDS, 0, &p);
	}
	sl_buf_free(&e.buf);
	return err;
}

struct collect {
	struct sl_arena *arena;
	struct wire_bytes *values;
	size_t count;
	size_t cap;
};

static enum sl_err collect_one(void *ctx, const uint8_t *value, size_t len)
{
	struct collect *c = ctx;
	uint8_t *copy;

	if (c->count == c->cap) {
		size_t cap = SL_MAX((size_t)64, c->cap * 2);
		struct wire_bytes *n = sl_arena_alloc(c->arena, sizeof(*n) * cap);

		if (n == NULL)
			return SL_ENOMEM;
		if (c->count > 0)
			memcpy(n, c->values, sizeof(*n) * c->count);
		c->values = n;
		c->cap = cap;
	}
	copy = sl_arena_alloc(c->arena, SL_MAX(len, (size_t)1));
	if (copy == NULL)
		return SL_ENOMEM;
	memcpy(copy, value, len);
	c->values[c->count++] = (struct wire_bytes){copy, (int32_t)len};
	return SL_OK;
}

enum sl_err meta_image_to_records(const struct meta_image *img, struct sl_arena *arena,
                                  struct wire_bytes **values, size_t *count)
{
	struct collect c = {.arena = arena};
	enum sl_err err = meta_image_records(img, collect_one, &c);

	*values = err == SL_OK ? c.values : NULL;
	*count = err == SL_OK ? c.count : 0;
	return err;
}
