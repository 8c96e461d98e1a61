/*
 * controller_logic.c: the pure controller decisions for CreateTopics, DeleteTopics and
 * CreatePartitions (Kafka's ReplicationControlManager): validate against a view, append the
 * records that carry out the change, report Kafka's error code and message. No I/O, no
 * mutation of the view; on any error out is left exactly as it was.
 *
 * Placement: meta_place_replicas (placement.c, Kafka's StripedReplicaPlacer) over the
 * brokers registered in the view, seeded by env->random mixed with the topic id (so the
 * topics of one request differ). Manual assignments must name registered brokers. A new
 * partition starts with leader = its first active replica (unfenced, not in controlled
 * shutdown; the first replica when placed automatically), leader epoch 0, partition epoch 0,
 * and ISR = [leader] only: partition replication does not exist yet, so no follower can be in
 * sync (PartitionRecord v0, or v1 with UNASSIGNED directories from metadata.version 3.7-IV2:
 * meta_partition_record_version()).
 */
#include "meta_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

SL_PRINTF(3, 4) static void fail(struct meta_ctl_result *res, int16_t code, const char *fmt, ...)
{
	va_list ap;

	res->error_code = code;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

static void ok(struct meta_ctl_result *res)
{
	res->error_code = WIRE_ERR_NONE;
	res->message[0] = '\0';
}

static void too_many_records(struct meta_ctl_result *res)
{
	fail(res, WIRE_ERR_POLICY_VIOLATION, "Excessively large number of partitions per request.");
}

static void out_of_memory(struct meta_ctl_result *res, struct meta_records *out, size_t mark)
{
	out->count = mark;
	fail(res, WIRE_ERR_UNKNOWN_SERVER_ERROR, "Out of memory building metadata records.");
}

/* Topic.validate's checks and messages; true when legal. */
static bool check_name(struct wire_str n, struct meta_ctl_result *res)
{
	if (meta_topic_name_legal(n))
		return true;
	if (n.len <= 0)
		fail(res, WIRE_ERR_INVALID_TOPIC_EXCEPTION,
		     "Topic name is illegal, it can't be empty");
	else if ((n.len == 1 && n.ptr[0] == '.') || (n.len == 2 && memcmp(n.ptr, "..", 2) == 0))
		fail(res, WIRE_ERR_INVALID_TOPIC_EXCEPTION, "Topic name cannot be \".\" or \"..\"");
	else if (n.len > META_TOPIC_NAME_MAX)
		fail(res, WIRE_ERR_INVALID_TOPIC_EXCEPTION,
		     "Topic name is illegal, it can't be longer than %d characters, topic name: "
		     "%.*s",
		     META_TOPIC_NAME_MAX, 100, n.ptr);
	else
		fail(res, WIRE_ERR_INVALID_TOPIC_EXCEPTION,
		     "Topic name \"%.*s\" is illegal, it contains a character other than ASCII "
		     "alphanumerics, '.', '_' and '-'",
		     (int)SL_MIN(n.len, 100), n.ptr);
	return false;
}

/* Name rules, then TOPIC_ALREADY_EXISTS, then the '.'/'_' collision (Kafka reports an exact
 * match as TOPIC_ALREADY_EXISTS even when other names collide). */
static bool check_new_name(const struct meta_image *view, struct wire_str n,
                           struct meta_ctl_result *res)
{
	if (!check_name(n, res))
		return false;
	if (meta_image_topic(view, n.ptr, (size_t)n.len) != NULL) {
		fail(res, WIRE_ERR_TOPIC_ALREADY_EXISTS, "Topic '%.*s' already exists.", (int)n.len,
		     n.ptr);
		return false;
	}
	if (memchr(n.ptr, '.', (size_t)n.len) == NULL && memchr(n.ptr, '_', (size_t)n.len) == NULL)
		return true;
	for (size_t i = 0; i < meta_image_topic_count(view); i++) {
		const struct meta_topic *t = meta_image_topic_at(view, i);

		if (meta_topic_names_collide(n.ptr, (size_t)n.len, t->name, strlen(t->name))) {
			fail(res, WIRE_ERR_INVALID_TOPIC_EXCEPTION,
			     "Topic '%.*s' collides with existing topic: %s", (int)n.len, n.ptr,
			     t->name);
			return false;
		}
	}
	return true;
}

static bool check_create_configs(const struct meta_topic_spec *s, struct meta_ctl_result *res)
{
	for (size_t i = 0; i < s->config_count; i++) {
		const struct meta_config_kv *kv = &s->configs[i];
		const struct meta_topic_config_def *def =
		        meta_topic_config_def_find(kv->name.ptr, (size_t)SL_MAX(0, kv->name.len));

		if (def == NULL) {
			fail(res, WIRE_ERR_INVALID_CONFIG, "Unknown topic config name: %.*s",
			     (int)SL_MIN(SL_MAX(0, kv->name.len), 100),
			     kv->name.ptr ? kv->name.ptr : "");
			return false;
		}
		if (kv->value.len < 0) {
			fail(res, WIRE_ERR_INVALID_CONFIG,
			     "Null value not supported for topic configs: %s", def->name);
			return false;
		}
		if (!meta_topic_config_valid(def, kv->value.ptr, (size_t)kv->value.len,
		                             res->message, sizeof(res->message))) {
			res->error_code = WIRE_ERR_INVALID_CONFIG;
			return false;
		}
	}
	return true;
}

static bool broker_active(const struct meta_image *view, int32_t id)
{
	const struct meta_broker *b = meta_image_broker(view, id);

	return b != NULL && !b->fenced && !b->in_controlled_shutdown;
}

/* The first active replica (the new partition's leader), or -1. */
static int32_t first_active(const struct meta_image *view, const int32_t *replicas, int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		if (broker_active(view, replicas[i]))
			return replicas[i];
	}
	return -1;
}

/* validateManualPartitionAssignment: non-empty, registered brokers, no duplicates, and the
 * same replica count as the other partitions (rf > 0 when known); then at least one active
 * replica to lead partition `partition`. */
static bool check_assignment(const struct meta_image *view, const struct meta_replica_assignment *a,
                             int32_t partition, int32_t rf, struct meta_ctl_result *res)
{
	if (a->broker_id_count <= 0) {
		fail(res, WIRE_ERR_INVALID_REPLICA_ASSIGNMENT,
		     "The manual partition assignment includes an empty replica list.");
		return false;
	}
	for (int32_t i = 0; i < a->broker_id_count; i++) {
		int32_t b = a->broker_ids[i];

		if (meta_image_broker(view, b) == NULL) {
			fail(res, WIRE_ERR_INVALID_REPLICA_ASSIGNMENT,
			     "The manual partition assignment includes broker %" PRId32
			     ", but no such broker is registered.",
			     b);
			return false;
		}
		for (int32_t j = 0; j < i; j++) {
			if (a->broker_ids[j] == b) {
				fail(res, WIRE_ERR_INVALID_REPLICA_ASSIGNMENT,
				     "The manual partition assignment includes the broker %" PRId32
				     " more than once.",
				     b);
				return false;
			}
		}
	}
	if (rf > 0 && a->broker_id_count != rf) {
		fail(res, WIRE_ERR_INVALID_REPLICA_ASSIGNMENT,
		     "The manual partition assignment includes a partition with %" PRId32
		     " replica(s), but this is not consistent with previous partitions, which have "
		     "%" PRId32 " replica(s).",
		     a->broker_id_count, rf);
		return false;
	}
	if (first_active(view, a->broker_ids, a->broker_id_count) < 0) {
		fail(res, WIRE_ERR_INVALID_REPLICA_ASSIGNMENT,
		     "All brokers specified in the manual partition assignment for partition "
		     "%" PRId32 " are fenced or in controlled shutdown.",
		     partition);
		return false;
	}
	return true;
}

/* Replica lists for count partitions of rf replicas (arena memory) from the placer; the
 * placer's errors prefixed as CreateTopics reports them when prefix. */
static bool place(const struct meta_image *view, const struct meta_ctl_env *env,
                  struct sl_uuid topic_id, int32_t count, int32_t rf, bool prefix,
                  struct sl_arena *arena, int32_t **replicas, struct meta_ctl_result *res)
{
	uint64_t seed = env->random ^ sl_load_be64(topic_id.b) ^ sl_load_be64(topic_id.b + 8);
	struct meta_ctl_result pr;

	*replicas = NULL;
	/* First a dry run (no partitions): the factor is checked before rf * count is sized. */
	if (meta_place_replicas(view, seed, 0, rf, arena, NULL, &pr)) {
		*replicas = sl_arena_alloc(arena, sizeof(int32_t) * (size_t)count * (size_t)rf);
		if (*replicas == NULL) {
			fail(res, WIRE_ERR_UNKNOWN_SERVER_ERROR, "Out of memory placing replicas.");
			return false;
		}
		if (meta_place_replicas(view, seed, count, rf, arena, *replicas, &pr))
			return true;
	}
	if (prefix && pr.error_code == WIRE_ERR_INVALID_REPLICATION_FACTOR)
		fail(res, pr.error_code,
		     "Unable to replicate the partition %" PRId32 " time(s): %s", rf, pr.message);
	else
		*res = pr;
	return false;
}

/* Appends one PartitionRecord for a new partition: leader = the first active replica,
 * ISR = [leader] (check_assignment / the placer made sure there is one). */
static bool add_partition(struct meta_records *out, const struct meta_image *view,
                          const struct meta_ctl_env *env, struct sl_uuid topic_id,
                          int32_t partition, const int32_t *replicas, int32_t rf)
{
	struct meta_partition_record pr;
	int16_t v = meta_partition_record_version(env->metadata_version);
	int32_t *leader = sl_arena_alloc(out->arena, sizeof(int32_t));

	if (leader == NULL)
		return false;
	*leader = first_active(view, replicas, rf);
	SL_ASSERT(*leader >= 0);
	meta_partition_record_init(&pr);
	pr.partition_id = partition;
	pr.topic_id = topic_id;
	pr.replicas_count = rf;
	pr.replicas = (int32_t *)(uintptr_t)replicas;
	pr.isr_count = 1;
	pr.isr = leader;
	pr.leader = *leader;
	pr.leader_epoch = 0;
	pr.partition_epoch = 0;
	if (v >= 1) {
		pr.directories_count = rf;
		pr.directories = sl_arena_calloc(out->arena, (size_t)rf, sizeof(struct sl_uuid));
		if (pr.directories == NULL)
			return false;
	}
	return meta_records_add(out, META_REC_PARTITION, v, &pr);
}

/* Resolves partitions and replication factor (auto or manual); false with res set. */
static bool plan_topic(const struct meta_image *view, const struct meta_ctl_env *env,
                       const struct meta_topic_spec *s, int32_t *np, int16_t *rf,
                       struct meta_ctl_result *res)
{
	if (s->assignment_count > 0) {
		if (s->replication_factor != -1) {
			fail(res, WIRE_ERR_INVALID_REQUEST,
			     "A manual partition assignment was specified, but replication factor "
			     "was "
			     "not set to -1.");
			return false;
		}
		if (s->num_partitions != -1) {
			fail(res, WIRE_ERR_INVALID_REQUEST,
			     "A manual partition assignment was specified, but numPartitions was "
			     "not "
			     "set to -1.");
			return false;
		}
		for (size_t i = 0; i < s->assignment_count; i++) {
			const struct meta_replica_assignment *a = &s->assignments[i];

			if (a->partition_index != (int32_t)i) {
				fail(res, WIRE_ERR_INVALID_REPLICA_ASSIGNMENT,
				     "partitions should be a consecutive 0-based integer sequence");
				return false;
			}
			if (!check_assignment(view, a, (int32_t)i,
			                      i == 0 ? 0 : s->assignments[0].broker_id_count, res))
				return false;
		}
		if (s->assignment_count > INT32_MAX ||
		    s->assignments[0].broker_id_count > INT16_MAX) {
			too_many_records(res);
			return false;
		}
		*np = (int32_t)s->assignment_count;
		*rf = (int16_t)s->assignments[0].broker_id_count;
		return true;
	}
	*rf = s->replication_factor == -1 ? env->default_replication_factor : s->replication_factor;
	*np = s->num_partitions == -1 ? env->num_partitions : s->num_partitions;
	if (s->replication_factor < -1 || *rf <= 0) {
		fail(res, WIRE_ERR_INVALID_REPLICATION_FACTOR,
		     "Replication factor must be larger than 0, or -1 to use the default value.");
		return false;
	}
	if (s->num_partitions < -1 || *np <= 0) {
		fail(res, WIRE_ERR_INVALID_PARTITIONS,
		     "Number of partitions was set to an invalid non-positive value.");
		return false;
	}
	return true;
}

/* placed: np * rf replicas from the placer, or NULL for a manual assignment. */
static bool add_topic_records(struct meta_records *out, const struct meta_image *view,
                              const struct meta_ctl_env *env, const struct meta_topic_spec *s,
                              int32_t np, int16_t rf, const int32_t *placed)
{
	struct meta_topic_record tr;

	meta_topic_record_init(&tr);
	tr.name = s->name;
	tr.topic_id = s->new_id;
	if (!meta_records_add(out, META_REC_TOPIC, 0, &tr))
		return false;
	for (size_t i = 0; i < s->config_count; i++) {
		struct meta_config_record cr;
		bool later = false;

		for (size_t j = i + 1; j < s->config_count && !later; j++) /* last one wins */
			later = s->configs[j].name.len == s->configs[i].name.len &&
			        memcmp(s->configs[j].name.ptr, s->configs[i].name.ptr,
			               (size_t)s->configs[i].name.len) == 0;
		if (later)
			continue;
		meta_config_record_init(&cr);
		cr.resource_type = META_RESOURCE_TOPIC;
		cr.resource_name = s->name;
		cr.name = s->configs[i].name;
		cr.value = s->configs[i].value;
		if (!meta_records_add(out, META_REC_CONFIG, 0, &cr))
			return false;
	}
	for (int32_t k = 0; k < np; k++) {
		const int32_t *replicas = placed != NULL ? placed + (size_t)k * (size_t)rf
		                                         : s->assignments[k].broker_ids;

		if (!add_partition(out, view, env, s->new_id, k, replicas, rf))
			return false;
	}
	return true;
}

void meta_ctl_create_topic(const struct meta_image *view, const struct meta_ctl_env *env,
                           const struct meta_topic_spec *spec, bool validate_only,
                           struct meta_records *out, int32_t *num_partitions_out,
                           int16_t *replication_factor_out, struct meta_ctl_result *res)
{
	size_t mark = out->count;
	int32_t np = -1;
	int16_t rf = -1;
	int32_t *placed = NULL;

	ok(res);
	*num_partitions_out = spec->num_partitions;
	*replication_factor_out = spec->replication_factor;
	SL_ASSERT(!sl_uuid_is_zero(&spec->new_id));
	if (!check_new_name(view, spec->name, res) || !check_create_configs(spec, res) ||
	    !plan_topic(view, env, spec, &np, &rf, res))
		return;
	if ((size_t)np + spec->config_count + 1 > META_BATCH_RECORDS_MAX - out->count) {
		too_many_records(res);
		return;
	}
	if (spec->assignment_count == 0 &&
	    !place(view, env, spec->new_id, np, rf, true, out->arena, &placed, res))
		return;
	*num_partitions_out = np;
	*replication_factor_out = rf;
	if (validate_only)
		return;
	if (!add_topic_records(out, view, env, spec, np, rf, placed))
		out_of_memory(res, out, mark);
}

void meta_ctl_delete_topic(const struct meta_image *view, struct wire_str name, struct sl_uuid id,
                           struct meta_records *out, struct sl_uuid *id_out, const char **name_out,
                           struct meta_ctl_result *res)
{
	const struct meta_topic *t;
	struct meta_remove_topic_record rr;

	ok(res);
	*id_out = id;
	*name_out = NULL;
	if (name.len >= 0 && !sl_uuid_is_zero(&id)) {
		fail(res, WIRE_ERR_INVALID_REQUEST,
		     "You may not specify both topic name and topic id.");
		return;
	}
	if (name.len < 0 && sl_uuid_is_zero(&id)) {
		fail(res, WIRE_ERR_INVALID_REQUEST, "Neither topic name nor id were specified.");
		return;
	}
	if (name.len >= 0) {
		t = meta_image_topic(view, name.ptr, (size_t)name.len);
		if (t == NULL) {
			fail(res, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION,
			     "This server does not host this topic-partition.");
			return;
		}
	} else {
		t = meta_image_topic_by_id(view, id);
		if (t == NULL) {
			fail(res, WIRE_ERR_UNKNOWN_TOPIC_ID,
			     "This server does not host this topic ID.");
			return;
		}
	}
	*id_out = t->id;
	*name_out = t->name;
	meta_remove_topic_record_init(&rr);
	rr.topic_id = t->id;
	if (!meta_records_add(out, META_REC_REMOVE_TOPIC, 0, &rr))
		out_of_memory(res, out, out->count);
}

static bool check_new_assignments(const struct meta_image *view, int32_t first, int32_t rf,
                                  int32_t additional, size_t count,
                                  const struct meta_replica_assignment *as,
                                  struct meta_ctl_result *res)
{
	if (count != (size_t)additional) {
		fail(res, WIRE_ERR_INVALID_REPLICA_ASSIGNMENT,
		     "Attempted to add %" PRId32
		     " additional partition(s), but only %zu assignment(s) "
		     "were specified.",
		     additional, count);
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		if (!check_assignment(view, &as[i], first + (int32_t)i, rf, res))
			return false;
	}
	return true;
}

void meta_ctl_create_partitions(const struct meta_image *view, const struct meta_ctl_env *env,
                                struct wire_str name, int32_t new_total, size_t assignment_count,
                                const struct meta_replica_assignment *assignments,
                                bool validate_only, struct meta_records *out,
                                struct meta_ctl_result *res)
{
	const struct meta_topic *t =
	        name.len < 0 ? NULL : meta_image_topic(view, name.ptr, (size_t)name.len);
	size_t mark = out->count;
	int32_t rf, additional;
	int32_t *placed = NULL;

	ok(res);
	if (t == NULL) {
		fail(res, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION,
		     "This server does not host this topic-partition.");
		return;
	}
	if (new_total < t->partition_count) {
		fail(res, WIRE_ERR_INVALID_PARTITIONS,
		     "The topic %s currently has %" PRId32 " partition(s); %" PRId32
		     " would not be an increase.",
		     t->name, t->partition_count, new_total);
		return;
	}
	if (new_total == t->partition_count) {
		fail(res, WIRE_ERR_INVALID_PARTITIONS,
		     "Topic already has %" PRId32 " partition(s).", new_total);
		return;
	}
	additional = new_total - t->partition_count;
	rf = t->partition_count > 0 ? t->partitions[0].replica_count
	                            : env->default_replication_factor;
	if (assignment_count > 0 && !check_new_assignments(view, t->partition_count, rf, additional,
	                                                   assignment_count, assignments, res))
		return;
	if ((size_t)additional > META_BATCH_RECORDS_MAX - out->count) {
		too_many_records(res);
		return;
	}
	if (assignment_count == 0 &&
	    !place(view, env, t->id, additional, rf, false, out->arena, &placed, res))
		return;
	if (validate_only)
		return;
	for (int32_t k = 0; k < additional; k++) {
		int32_t p = t->partition_count + k;
		bool done =
		        assignment_count > 0
		                ? add_partition(out, view, env, t->id, p, assignments[k].broker_ids,
		                                assignments[k].broker_id_count)
		                : add_partition(out, view, env, t->id, p,
		                                placed + (size_t)k * (size_t)rf, rf);

		if (!done) {
			out_of_memory(res, out, mark);
			return;
		}
	}
}
