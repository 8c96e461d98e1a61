/*
 * broker_logic.c: the pure broker lifecycle decisions of the controller (kraft.md §5.2-5.4):
 * the heartbeat state machine (BrokerHeartbeatManager.calculateNextBrokerState), registration
 * (ClusterControlManager.registerBroker), and the records of fencing, unfencing, controlled
 * shutdown and unregistration with the leader/ISR moves they imply (ReplicationControlManager
 * .generateLeaderAndIsrUpdates + PartitionChangeBuilder, without ELR and without unclean
 * elections).
 *
 * Invariants: the view is never changed; every function either appends its whole list of
 * records to out or leaves out exactly as it was (count restored on failure). Records are
 * ordered as Kafka orders them: moves before FenceBroker/UnregisterBroker/RegisterBroker,
 * after UnfenceBroker and the controlled-shutdown change record.
 */
#include "meta_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MV_3_3_IV3 7  /* InControlledShutdown in records (RegisterBroker v1, change v1) */
#define MV_3_6_IV0 12 /* from here an ISR shrink no longer bumps the leader epoch */

enum meta_broker_hb_state meta_broker_next_state(enum meta_broker_hb_state cur, bool want_fence,
                                                 bool want_shutdown, bool caught_up,
                                                 bool leads_partitions, bool others_caught_up)
{
	switch (cur) {
	case META_HB_FENCED:
		if (want_shutdown)
			return META_HB_SHUTDOWN_NOW;
		return !want_fence && caught_up ? META_HB_UNFENCED : META_HB_FENCED;
	case META_HB_UNFENCED:
		if (want_fence)
			return want_shutdown ? META_HB_SHUTDOWN_NOW : META_HB_FENCED;
		if (want_shutdown)
			return leads_partitions ? META_HB_CONTROLLED_SHUTDOWN
			                        : META_HB_SHUTDOWN_NOW;
		return META_HB_UNFENCED;
	case META_HB_CONTROLLED_SHUTDOWN:
		if (leads_partitions || !others_caught_up)
			return META_HB_CONTROLLED_SHUTDOWN;
		return META_HB_SHUTDOWN_NOW;
	case META_HB_SHUTDOWN_NOW:
	default:
		return META_HB_SHUTDOWN_NOW;
	}
}

/* ---- leader and ISR moves --------------------------------------------------------------- */

/* One batch of moves: remove = the broker losing ISR membership and leadership (-1 = none),
 * add = a broker acceptable as leader although the view still shows it fenced (-1 = none). */
struct moves {
	const struct meta_image *view;
	int16_t mv;
	int32_t remove;
	int32_t add;
	struct meta_records *out;
};

static bool contains(const int32_t *a, int32_t n, int32_t id)
{
	for (int32_t i = 0; i < n; i++) {
		if (a[i] == id)
			return true;
	}
	return false;
}

static bool acceptable(const struct moves *m, int32_t id)
{
	const struct meta_broker *b;

	if (id < 0 || id == m->remove)
		return false;
	if (id == m->add)
		return true;
	b = meta_image_broker(m->view, id);
	return b != NULL && !b->fenced && !b->in_controlled_shutdown;
}

/* PartitionChangeBuilder for one partition: target ISR = ISR - remove (unchanged when that
 * would empty it), then the election; a record only when the leader or the ISR changes. */
static bool move_partition(const struct moves *m, const struct meta_topic *t,
                           const struct meta_partition *p)
{
	struct meta_partition_change_record r;
	int32_t *isr =
	        sl_arena_alloc(m->out->arena, sizeof(int32_t) * (size_t)SL_MAX(1, p->isr_count));
	int32_t n = 0, leader = p->leader;
	bool isr_changed;

	if (isr == NULL)
		return false;
	for (int32_t i = 0; i < p->isr_count; i++) {
		if (p->isr[i] != m->remove)
			isr[n++] = p->isr[i];
	}
	if (n == 0) { /* without ELR the last ISR member stays */
		n = p->isr_count;
		if (n > 0)
			memcpy(isr, p->isr, sizeof(int32_t) * (size_t)n);
	}
	isr_changed = n != p->isr_count;
	if (!(contains(isr, n, leader) && acceptable(m, leader))) {
		leader = -1;
		for (int32_t i = 0; i < p->replica_count && leader < 0; i++) {
			if (contains(isr, n, p->replicas[i]) && acceptable(m, p->replicas[i]))
				leader = p->replicas[i];
		}
	}
	if (leader == p->leader && !isr_changed)
		return true;
	meta_partition_change_record_init(&r);
	r.partition_id = p->partition_id;
	r.topic_id = t->id;
	if (isr_changed) {
		r.isr_count = n;
		r.isr = isr;
	}
	if (leader != p->leader || m->mv < MV_3_6_IV0)
		r.leader = leader; /* below 3.6-IV0 an ISR shrink re-sets it: epoch bump */
	return meta_records_add(m->out, META_REC_PARTITION_CHANGE,
	                        meta_partition_record_version(m->mv), &r);
}

/* Moves every partition where remove is in the ISR (or leads), or with leaderless_only every
 * leaderless partition. */
static bool move_all(const struct moves *m, bool leaderless_only)
{
	for (size_t i = 0; i < meta_image_topic_count(m->view); i++) {
		const struct meta_topic *t = meta_image_topic_at(m->view, i);

		for (int32_t k = 0; k < t->partition_count; k++) {
			const struct meta_partition *p = &t->partitions[k];
			bool touch = leaderless_only
			                     ? p->leader < 0
			                     : p->leader == m->remove ||
			                               contains(p->isr, p->isr_count, m->remove);

			if (touch && !move_partition(m, t, p))
				return false;
		}
	}
	return true;
}

static struct moves moves_of(const struct meta_image *view, const struct meta_ctl_env *env,
                             int32_t remove, int32_t add, struct meta_records *out)
{
	return (struct moves){.view = view,
	                      .mv = env->metadata_version,
	                      .remove = remove,
	                      .add = add,
	                      .out = out};
}

int32_t meta_broker_leader_count(const struct meta_image *view, int32_t broker_id)
{
	int32_t count = 0;

	for (size_t i = 0; i < meta_image_topic_count(view); i++) {
		const struct meta_topic *t = meta_image_topic_at(view, i);

		for (int32_t k = 0; k < t->partition_count; k++)
			count += t->partitions[k].leader == broker_id ? 1 : 0;
	}
	return count;
}

/* ---- registration change records ------------------------------------------------------- */

/* fenced: 1 fence, -1 unfence, 0 none; shutdown: 1 = enter controlled shutdown. */
static bool add_change(struct meta_records *out, int16_t mv, const struct meta_broker *b,
                       int8_t fenced, int8_t shutdown)
{
	if (mv >= META_MV_3_3_IV2) {
		struct meta_broker_registration_change_record r;

		meta_broker_registration_change_record_init(&r);
		r.broker_id = b->broker_id;
		r.broker_epoch = b->broker_epoch;
		r.fenced = fenced;
		r.in_controlled_shutdown = shutdown;
		return meta_records_add(out, META_REC_BROKER_REGISTRATION_CHANGE,
		                        shutdown != 0 ? 1 : 0, &r);
	}
	SL_ASSERT(shutdown == 0);
	if (fenced > 0) {
		struct meta_fence_broker_record r;

		meta_fence_broker_record_init(&r);
		r.id = b->broker_id;
		r.epoch = b->broker_epoch;
		return meta_records_add(out, META_REC_FENCE_BROKER, 0, &r);
	}
	struct meta_unfence_broker_record r;

	meta_unfence_broker_record_init(&r);
	r.id = b->broker_id;
	r.epoch = b->broker_epoch;
	return meta_records_add(out, META_REC_UNFENCE_BROKER, 0, &r);
}

static enum sl_err done(struct meta_records *out, size_t mark, bool ok)
{
	if (ok)
		return SL_OK;
	out->count = mark;
	return SL_ENOMEM;
}

enum sl_err meta_ctl_fence_broker(const struct meta_image *view, const struct meta_ctl_env *env,
                                  int32_t broker_id, struct meta_records *out)
{
	const struct meta_broker *b = meta_image_broker(view, broker_id);
	struct moves m = moves_of(view, env, broker_id, -1, out);
	size_t mark = out->count;

	if (b == NULL)
		return SL_OK;
	return done(out, mark,
	            move_all(&m, false) &&
	                    (b->fenced || add_change(out, env->metadata_version, b, 1, 0)));
}

enum sl_err meta_ctl_unfence_broker(const struct meta_image *view, const struct meta_ctl_env *env,
                                    int32_t broker_id, struct meta_records *out)
{
	const struct meta_broker *b = meta_image_broker(view, broker_id);
	struct moves m = moves_of(view, env, -1, broker_id, out);
	size_t mark = out->count;

	if (b == NULL || !b->fenced)
		return SL_OK;
	return done(out, mark,
	            add_change(out, env->metadata_version, b, -1, 0) && move_all(&m, true));
}

enum sl_err meta_ctl_controlled_shutdown(const struct meta_image *view,
                                         const struct meta_ctl_env *env, int32_t broker_id,
                                         struct meta_records *out)
{
	const struct meta_broker *b = meta_image_broker(view, broker_id);
	struct moves m = moves_of(view, env, broker_id, -1, out);
	size_t mark = out->count;
	bool record =
	        b != NULL && !b->in_controlled_shutdown && env->metadata_version >= MV_3_3_IV3;

	if (b == NULL)
		return SL_OK;
	return done(out, mark,
	            (!record || add_change(out, env->metadata_version, b, 0, 1)) &&
	                    move_all(&m, false));
}

SL_PRINTF(3, 4) static void fail(struct meta_ctl_result *res, int16_t code, const char *fmt, ...)
{
	va_list ap;

	res->error_code = code;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

void meta_ctl_unregister_broker(const struct meta_image *view, const struct meta_ctl_env *env,
                                int32_t broker_id, struct meta_records *out,
                                struct meta_ctl_result *res)
{
	const struct meta_broker *b = meta_image_broker(view, broker_id);
	struct moves m = moves_of(view, env, broker_id, -1, out);
	struct meta_unregister_broker_record r;
	size_t mark = out->count;

	res->error_code = WIRE_ERR_NONE;
	res->message[0] = '\0';
	if (b == NULL) {
		fail(res, WIRE_ERR_BROKER_ID_NOT_REGISTERED,
		     "Broker ID %" PRId32 " is not currently registered", broker_id);
		return;
	}
	meta_unregister_broker_record_init(&r);
	r.broker_id = broker_id;
	r.broker_epoch = b->broker_epoch;
	if (done(out, mark,
	         move_all(&m, false) && meta_records_add(out, META_REC_UNREGISTER_BROKER, 0, &r)) !=
	    SL_OK)
		fail(res, WIRE_ERR_UNKNOWN_SERVER_ERROR,
		     "Out of memory building metadata records.");
}

/* ---- registration ----------------------------------------------------------------------- */

static const struct meta_feature_range *find_feature(const struct meta_broker_reg *reg,
                                                     const char *name)
{
	for (size_t i = 0; i < reg->feature_count; i++) {
		if (reg->features[i].name != NULL && strcmp(reg->features[i].name, name) == 0)
			return &reg->features[i];
	}
	return NULL;
}

/* Every finalized feature inside the broker's range (processRegistrationFeature). */
static bool check_features(const struct meta_image *view, const struct meta_broker_reg *reg,
                           struct meta_ctl_result *res)
{
	const struct meta_cluster *c = view->cluster;
	static const struct meta_feature_range mv_default = {"metadata.version", META_MV_3_0_IV1,
	                                                     META_MV_3_0_IV1};

	for (size_t i = 0; i < c->feature_count; i++) {
		const struct meta_feature *f = &c->features[i];
		const struct meta_feature_range *r = find_feature(reg, f->name);
		struct meta_feature_range none = {f->name, 0, 0};

		if (f->level <= 0)
			continue;
		if (r == NULL)
			r = strcmp(f->name, "metadata.version") == 0 ? &mv_default : &none;
		if (f->level < r->min_supported || f->level > r->max_supported) {
			fail(res, WIRE_ERR_UNSUPPORTED_VERSION,
			     "Unable to register because the broker does not support version %d of "
			     "%s. It wants a version between %d and %d, inclusive.",
			     f->level, f->name, r->min_supported, r->max_supported);
			return false;
		}
	}
	return true;
}

static int16_t register_record_version(int16_t mv)
{
	return mv >= META_MV_3_7_IV2 ? 3 : mv >= META_MV_3_4_IV0 ? 2 : mv >= MV_3_3_IV3 ? 1 : 0;
}

/* The RegisterBrokerRecord of a new incarnation (fenced) with the given epoch. */
static bool add_register(struct meta_records *out, int16_t mv, const struct meta_broker_reg *reg,
                         int64_t epoch)
{
	struct meta_register_broker_record r;
	size_t nf = reg->feature_count + (find_feature(reg, "metadata.version") == NULL ? 1 : 0);
	struct meta_register_broker_record_broker_endpoint *eps =
	        sl_arena_calloc(out->arena, SL_MAX((size_t)1, reg->endpoint_count), sizeof(*eps));
	struct meta_register_broker_record_broker_feature *fs =
	        sl_arena_calloc(out->arena, SL_MAX((size_t)1, nf), sizeof(*fs));

	if (eps == NULL || fs == NULL || reg->endpoint_count > INT32_MAX || nf > INT32_MAX)
		return false;
	meta_register_broker_record_init(&r);
	r.broker_id = reg->broker_id;
	r.incarnation_id = reg->incarnation_id;
	r.broker_epoch = epoch;
	r.end_points_count = (int32_t)reg->endpoint_count;
	r.end_points = eps;
	for (size_t i = 0; i < reg->endpoint_count; i++) {
		meta_register_broker_record_broker_endpoint_init(&eps[i]);
		eps[i].name = wire_str_c(reg->endpoints[i].name);
		eps[i].host = wire_str_c(reg->endpoints[i].host);
		eps[i].port = reg->endpoints[i].port;
		eps[i].security_protocol = reg->endpoints[i].security_protocol;
	}
	r.features_count = (int32_t)nf;
	r.features = fs;
	for (size_t i = 0; i < nf; i++) {
		const struct meta_feature_range *f =
		        i < reg->feature_count ? &reg->features[i] : NULL;

		meta_register_broker_record_broker_feature_init(&fs[i]);
		fs[i].name = wire_str_c(f != NULL ? f->name : "metadata.version");
		fs[i].min_supported_version = f != NULL ? f->min_supported : META_MV_3_0_IV1;
		fs[i].max_supported_version = f != NULL ? f->max_supported : META_MV_3_0_IV1;
	}
	r.rack = reg->rack != NULL ? wire_str_c(reg->rack) : (struct wire_str){NULL, -1};
	r.fenced = true;
	r.in_controlled_shutdown = false;
	return meta_records_add(out, META_REC_REGISTER_BROKER, register_record_version(mv), &r);
}

void meta_ctl_register_broker(const struct meta_image *view, const struct meta_ctl_env *env,
                              const struct meta_broker_reg *reg, bool session_valid,
                              int64_t next_offset, struct meta_records *out,
                              int64_t *broker_epoch_out, struct meta_ctl_result *res)
{
	const struct meta_broker *old = meta_image_broker(view, reg->broker_id);
	size_t mark = out->count;
	bool same = old != NULL && sl_uuid_eq(&old->incarnation_id, &reg->incarnation_id);
	struct moves m = moves_of(view, env, reg->broker_id, -1, out);

	res->error_code = WIRE_ERR_NONE;
	res->message[0] = '\0';
	*broker_epoch_out = -1;
	if (reg->broker_id < 0) {
		fail(res, WIRE_ERR_INVALID_REQUEST, "Invalid broker id %" PRId32, reg->broker_id);
		return;
	}
	if (old != NULL && session_valid && !same) {
		fail(res, WIRE_ERR_DUPLICATE_BROKER_REGISTRATION,
		     "Another broker is registered with that broker id. If the broker was recently "
		     "restarted this should self-resolve once the heartbeat manager expires the "
		     "broker's session.");
		return;
	}
	if (!check_features(view, reg, res))
		return;
	if (same) {
		*broker_epoch_out = old->broker_epoch;
		return;
	}
	if ((old != NULL && !old->fenced && !move_all(&m, false)) ||
	    !add_register(out, env->metadata_version, reg, next_offset + (int64_t)out->count)) {
		out->count = mark;
		fail(res, WIRE_ERR_UNKNOWN_SERVER_ERROR,
		     "Out of memory building metadata records.");
		return;
	}
	*broker_epoch_out = next_offset + (int64_t)out->count - 1;
}
