/*
 * topics_admin.c: CreateTopics (key 19, v0-7), DeleteTopics (key 20, v0-6) and
 * CreatePartitions (key 37, v0-3).
 *
 * Each topic is decided against the controller's view (committed + in flight) with the pure
 * decisions of metadata.h and proposed on its own (Kafka's per-topic results: one topic's
 * failure does not fail the others); the next topic's decision sees the previous one's
 * records. The reply is sent once every proposal committed, so a Metadata request sent after
 * it sees the change. validate_only decides without proposing.
 *
 * Checks before the controller (Kafka's ControllerApis): a name given more than once gets one
 * INVALID_REQUEST result ("Duplicate topic name.") and none of its entries is acted on; no
 * controller on this node: NOT_CONTROLLER. DeleteTopics: delete.topic.enable=false gives
 * TOPIC_DELETION_DISABLED (INVALID_REQUEST below v3, as Kafka); v6 entries naming both a name
 * and an id, or a duplicate id, are INVALID_REQUEST.
 *
 * CreateTopics v5+ replies carry the resolved partition count and replication factor and every
 * topic config with its effective value and source (as DescribeConfigs); v7+ the topic id.
 */
#include "admin_int.h"

#include <string.h>

#define DUP_NAME_MSG "Duplicate topic name."

/* ---- duplicate names (CreateTopics, CreatePartitions) --------------------------------------- */

/* Finds the duplicated names among names[0..n) (*dup, *first: see brk_admin_dups) and begins
 * the request's batch. false: no memory (nothing begun). */
static bool ta_begin(struct brk_request *r, struct brk_admin_batch *batch,
                     const struct wire_str *names, size_t n, brk_admin_encode_fn *encode, void *ctx,
                     const char *what, bool **dup, size_t **first)
{
	*dup = brk_admin_dups(r, names, n, first);
	if (*dup == NULL)
		return false;
	brk_admin_begin(batch, r, encode, ctx, WIRE_ERR_UNKNOWN_SERVER_ERROR, what);
	return true;
}

/* Entry i of a request whose duplicate marks are dup/first: false when its name is unique;
 * otherwise sets op's INVALID_REQUEST result, kept only by the name's first entry (*omit for
 * the others), and returns true: the entry is not acted on. */
static bool ta_dup_entry(const bool *dup, const size_t *first, size_t i, struct brk_admin_op *op,
                         bool *omit)
{
	if (!dup[i])
		return false;
	*omit = first[i] != i;
	op->error_code = WIRE_ERR_INVALID_REQUEST;
	op->error_message = DUP_NAME_MSG;
	return true;
}

/* ---- CreateTopics ------------------------------------------------------------------------- */

struct ct_item {
	const struct wire_create_topics_request_creatable_topic *in;
	struct brk_admin_op op;
	bool omit; /* a later entry of a duplicated name: no result of its own */
	struct sl_uuid id;
	int32_t num_partitions;
	int16_t replication_factor;
	struct meta_config_kv *kv;
	size_t kv_count;
};

struct ct_state {
	struct brk_admin_batch batch;
	struct ct_item *items;
	size_t count;
	bool validate_only;
};

/* Fills spec from the request entry (arrays in request memory). false: no memory. */
static bool ct_spec(struct brk_request *r, struct ct_item *it, struct meta_topic_spec *spec)
{
	const struct wire_create_topics_request_creatable_topic *in = it->in;
	size_t na = in->assignments_count > 0 ? (size_t)in->assignments_count : 0;
	size_t nc = in->configs_count > 0 ? (size_t)in->configs_count : 0;
	struct meta_replica_assignment *as = sl_arena_calloc(r->frame->arena, na + 1, sizeof(*as));
	it->kv = sl_arena_calloc(r->frame->arena, nc + 1, sizeof(*it->kv));
	if (as == NULL || it->kv == NULL)
		return false;
	for (size_t i = 0; i < na; i++) {
		const struct wire_create_topics_request_creatable_replica_assignment *a =
		        &in->assignments[i];
		as[i] = (struct meta_replica_assignment){
		        .partition_index = a->partition_index,
		        .broker_id_count = a->broker_ids_count > 0 ? a->broker_ids_count : 0,
		        .broker_ids = a->broker_ids};
	}
	for (size_t i = 0; i < nc; i++)
		it->kv[i] = (struct meta_config_kv){in->configs[i].name, in->configs[i].value};
	it->kv_count = nc;
	*spec = (struct meta_topic_spec){.name = in->name,
	                                 .num_partitions = in->num_partitions,
	                                 .replication_factor = in->replication_factor,
	                                 .assignment_count = na,
	                                 .assignments = as,
	                                 .config_count = nc,
	                                 .configs = it->kv};
	return true;
}

static void ct_item_run(struct ct_state *st, struct ct_item *it)
{
	struct brk_request *r = st->batch.r;
	struct ctl *c = brk_admin_ctl(r, &it->op.error_code, &it->op.error_message);
	if (c == NULL)
		return;
	struct meta_topic_spec spec;
	enum sl_err e = ct_spec(r, it, &spec) ? ctl_new_topic_id(c, &spec.new_id) : SL_ENOMEM;
	if (e != SL_OK) {
		it->op.error_code = WIRE_ERR_UNKNOWN_SERVER_ERROR;
		it->op.error_message = sl_err_msg(e);
		return;
	}
	struct meta_records recs;
	meta_records_init(&recs, r->frame->arena);
	struct meta_ctl_result res = {0};
	meta_ctl_create_topic(ctl_view(c), ctl_env(c), &spec, st->validate_only, &recs,
	                      &it->num_partitions, &it->replication_factor, &res);
	if (res.error_code == WIRE_ERR_NONE && !st->validate_only)
		it->id = spec.new_id;
	brk_admin_settle(&st->batch, &it->op, &recs, &res, st->validate_only);
}

/* The topic's configs as CreateTopics v5+ reports them. false: no memory. */
static bool ct_configs(struct brk_request *r, const struct ct_item *it,
                       struct wire_create_topics_response_creatable_topic_result *o)
{
	size_t n = meta_topic_config_def_count();
	struct wire_create_topics_response_creatable_topic_configs *cs =
	        sl_arena_calloc(r->frame->arena, n + 1, sizeof(*cs));
	if (cs == NULL)
		return false;
	struct brk_topic_overrides ov = {.kv = it->kv, .kv_count = it->kv_count};
	for (size_t i = 0; i < n; i++) {
		const struct meta_topic_config_def *def = meta_topic_config_def_at(i);
		struct brk_config_synonym syn[BRK_SYNONYMS_MAX];
		(void)brk_topic_config_synonyms(r->brk, def, &ov, syn);
		wire_create_topics_response_creatable_topic_configs_init(&cs[i]);
		cs[i].name = wire_str_c(def->name);
		cs[i].value = syn[0].value;
		cs[i].read_only = false;
		cs[i].config_source = syn[0].source;
		cs[i].is_sensitive = false;
	}
	o->configs_count = (int32_t)n;
	o->configs = cs;
	return true;
}

static enum brk_outcome ct_encode(struct brk_admin_batch *batch)
{
	struct ct_state *st = batch->ctx;
	struct brk_request *r = batch->r;
	int16_t v = r->header.api_version;
	struct wire_create_topics_response resp;
	wire_create_topics_response_init(&resp);
	resp.topics = sl_arena_calloc(r->frame->arena, st->count + 1, sizeof(*resp.topics));
	if (resp.topics == NULL)
		return brk_close(r, "out of request memory for the CreateTopics response");
	size_t k = 0;
	for (size_t i = 0; i < st->count; i++) {
		const struct ct_item *it = &st->items[i];
		if (it->omit)
			continue;
		struct wire_create_topics_response_creatable_topic_result *o = &resp.topics[k++];
		wire_create_topics_response_creatable_topic_result_init(o);
		o->name = it->in->name;
		o->error_code = it->op.error_code;
		o->error_message = wire_str_c(it->op.error_message);
		o->configs_count = 0;
		if (it->op.error_code != WIRE_ERR_NONE)
			continue;
		o->topic_id = it->id;
		o->num_partitions = it->num_partitions;
		o->replication_factor = it->replication_factor;
		if (v >= 5 && !ct_configs(r, it, o))
			return brk_close(r, "out of request memory for the CreateTopics response");
	}
	resp.topics_count = (int32_t)k;
	wire_create_topics_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}

enum brk_outcome brk_handle_create_topics(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_create_topics_request req;
	if (!brk_decode_ok(r, wire_create_topics_request_decode(&r->body, v, &req), "CreateTopics"))
		return BRK_CLOSE;
	if (brk_should_forward(r))
		return brk_forward(r);
	size_t n = req.topics_count > 0 ? (size_t)req.topics_count : 0;
	struct ct_state *st = sl_arena_calloc(r->frame->arena, 1, sizeof(*st));
	struct wire_str *names = sl_arena_calloc(r->frame->arena, n + 1, sizeof(*names));
	struct ct_item *items = sl_arena_calloc(r->frame->arena, n + 1, sizeof(*items));
	if (st == NULL || names == NULL || items == NULL)
		return brk_close(r, "out of request memory for CreateTopics");
	for (size_t i = 0; i < n; i++)
		names[i] = req.topics[i].name;
	st->items = items;
	st->count = n;
	st->validate_only = req.validate_only;
	bool *dup;
	size_t *first;
	if (!ta_begin(r, &st->batch, names, n, ct_encode, st, "CreateTopics", &dup, &first))
		return brk_close(r, "out of request memory for CreateTopics");
	for (size_t i = 0; i < n; i++) {
		struct ct_item *it = &items[i];
		it->in = &req.topics[i];
		it->op.batch = &st->batch;
		it->num_partitions = -1;
		it->replication_factor = -1;
		if (!ta_dup_entry(dup, first, i, &it->op, &it->omit))
			ct_item_run(st, it);
	}
	return brk_admin_end(&st->batch);
}

/* ---- DeleteTopics --------------------------------------------------------------------------- */

struct dt_item {
	struct wire_str name; /* requested (null when by id) */
	struct sl_uuid id;    /* requested (zero when by name) */
	struct brk_admin_op op;
	bool omit;
	struct wire_str name_out; /* the deleted topic's name (request memory) */
	struct sl_uuid id_out;
};

struct dt_state {
	struct brk_admin_batch batch;
	struct dt_item *items;
	size_t count;
};

static enum brk_outcome dt_encode(struct brk_admin_batch *batch)
{
	struct dt_state *st = batch->ctx;
	struct brk_request *r = batch->r;
	int16_t v = r->header.api_version;
	struct wire_delete_topics_response resp;
	wire_delete_topics_response_init(&resp);
	resp.responses = sl_arena_calloc(r->frame->arena, st->count + 1, sizeof(*resp.responses));
	if (resp.responses == NULL)
		return brk_close(r, "out of request memory for the DeleteTopics response");
	size_t k = 0;
	for (size_t i = 0; i < st->count; i++) {
		const struct dt_item *it = &st->items[i];
		if (it->omit)
			continue;
		struct wire_delete_topics_response_deletable_topic_result *o = &resp.responses[k++];
		wire_delete_topics_response_deletable_topic_result_init(o);
		o->name = it->name.len >= 0 ? it->name : it->name_out;
		o->topic_id = sl_uuid_is_zero(&it->id) ? it->id_out : it->id;
		o->error_code = it->op.error_code;
		o->error_message = wire_str_c(it->op.error_message);
	}
	resp.responses_count = (int32_t)k;
	wire_delete_topics_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}

/* The error of an entry before the controller decides, or NONE. */
static int16_t dt_precheck(struct brk_request *r, const struct dt_item *it, bool dup,
                           const char **msg)
{
	int16_t v = r->header.api_version;
	if (!r->brk->opts.delete_topic_enable) {
		*msg = "Topic deletion is disabled.";
		return v < 3 ? WIRE_ERR_INVALID_REQUEST : WIRE_ERR_TOPIC_DELETION_DISABLED;
	}
	if (it->name.len >= 0 && !sl_uuid_is_zero(&it->id)) {
		*msg = "You may not specify both topic name and topic id.";
		return WIRE_ERR_INVALID_REQUEST;
	}
	if (dup) {
		*msg = it->name.len >= 0 ? DUP_NAME_MSG : "Duplicate topic id.";
		return WIRE_ERR_INVALID_REQUEST;
	}
	int16_t code = WIRE_ERR_NONE;
	*msg = NULL;
	(void)brk_admin_ctl(r, &code, msg);
	return code;
}

static void dt_item_run(struct dt_state *st, struct dt_item *it, bool dup)
{
	struct brk_request *r = st->batch.r;
	it->op.batch = &st->batch;
	it->name_out = wire_str_c(NULL);
	it->op.error_code = dt_precheck(r, it, dup, &it->op.error_message);
	if (it->op.error_code != WIRE_ERR_NONE)
		return;
	struct ctl *c = r->brk->opts.ctl;
	struct meta_records recs;
	meta_records_init(&recs, r->frame->arena);
	struct meta_ctl_result res = {0};
	const char *name_out = NULL;
	meta_ctl_delete_topic(ctl_view(c), it->name, it->id, &recs, &it->id_out, &name_out, &res);
	brk_admin_set_result(r, &it->op, &res);
	if (res.error_code != WIRE_ERR_NONE)
		return;
	/* The view's memory may go with the next proposal: copy the name now. */
	if (name_out != NULL) {
		char *copy = sl_arena_strndup(r->frame->arena, name_out, strlen(name_out));
		it->name_out = wire_str_c(copy);
	}
	brk_admin_propose(&st->batch, &it->op, &recs);
}

/* Fills the items from a v0-5 (names) or v6 (name or id) request. false: no memory. */
static bool dt_items(struct brk_request *r, const struct wire_delete_topics_request *req,
                     struct dt_state *st)
{
	int16_t v = r->header.api_version;
	int32_t count = v >= 6 ? req->topics_count : req->topic_names_count;
	st->count = count > 0 ? (size_t)count : 0;
	st->items = sl_arena_calloc(r->frame->arena, st->count + 1, sizeof(*st->items));
	if (st->items == NULL)
		return false;
	for (size_t i = 0; i < st->count; i++) {
		struct dt_item *it = &st->items[i];
		if (v >= 6) {
			it->name = req->topics[i].name;
			it->id = req->topics[i].topic_id;
		} else {
			it->name = req->topic_names[i];
			it->id = SL_UUID_ZERO;
		}
	}
	return true;
}

/* dup[i]: the entry's name (or, by id, its id) occurs more than once. */
static bool *dt_dups(struct brk_request *r, struct dt_state *st, size_t **first)
{
	size_t n = st->count;
	struct wire_str *keys = sl_arena_calloc(r->frame->arena, 2 * n + 1, sizeof(*keys));
	if (keys == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct dt_item *it = &st->items[i];
		/* Names and ids in separate halves of one key space: prefix 'n' or 'i'. */
		size_t len = it->name.len >= 0 ? (size_t)it->name.len : sizeof(it->id.b);
		char *k = sl_arena_alloc(r->frame->arena, len + 1);
		if (k == NULL)
			return NULL;
		k[0] = it->name.len >= 0 ? 'n' : 'i';
		if (it->name.len > 0)
			memcpy(k + 1, it->name.ptr, len);
		else if (it->name.len < 0)
			memcpy(k + 1, it->id.b, len);
		keys[i] = (struct wire_str){k, (int32_t)(len + 1)};
	}
	return brk_admin_dups(r, keys, n, first);
}

enum brk_outcome brk_handle_delete_topics(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_delete_topics_request req;
	if (!brk_decode_ok(r, wire_delete_topics_request_decode(&r->body, v, &req), "DeleteTopics"))
		return BRK_CLOSE;
	if (brk_should_forward(r))
		return brk_forward(r);
	struct dt_state *st = sl_arena_calloc(r->frame->arena, 1, sizeof(*st));
	if (st == NULL || !dt_items(r, &req, st))
		return brk_close(r, "out of request memory for DeleteTopics");
	size_t *first;
	bool *dup = dt_dups(r, st, &first);
	if (dup == NULL)
		return brk_close(r, "out of request memory for DeleteTopics");
	brk_admin_begin(&st->batch, r, dt_encode, st, WIRE_ERR_UNKNOWN_SERVER_ERROR,
	                "DeleteTopics");
	for (size_t i = 0; i < st->count; i++) {
		st->items[i].omit = dup[i] && first[i] != i;
		dt_item_run(st, &st->items[i], dup[i]);
	}
	return brk_admin_end(&st->batch);
}

/* ---- CreatePartitions ------------------------------------------------------------------------ */

struct cp_item {
	const struct wire_create_partitions_request_topic *in;
	struct brk_admin_op op;
	bool omit;
};

struct cp_state {
	struct brk_admin_batch batch;
	struct cp_item *items;
	size_t count;
	bool validate_only;
};

static enum brk_outcome cp_encode(struct brk_admin_batch *batch)
{
	struct cp_state *st = batch->ctx;
	struct brk_request *r = batch->r;
	struct wire_create_partitions_response resp;
	wire_create_partitions_response_init(&resp);
	resp.results = sl_arena_calloc(r->frame->arena, st->count + 1, sizeof(*resp.results));
	if (resp.results == NULL)
		return brk_close(r, "out of request memory for the CreatePartitions response");
	size_t k = 0;
	for (size_t i = 0; i < st->count; i++) {
		const struct cp_item *it = &st->items[i];
		if (it->omit)
			continue;
		struct wire_create_partitions_response_topic_result *o = &resp.results[k++];
		wire_create_partitions_response_topic_result_init(o);
		o->name = it->in->name;
		o->error_code = it->op.error_code;
		o->error_message = wire_str_c(it->op.error_message);
	}
	resp.results_count = (int32_t)k;
	wire_create_partitions_response_encode(r->resp, r->header.api_version, &resp);
	return BRK_RESPOND;
}

static void cp_item_run(struct cp_state *st, struct cp_item *it)
{
	struct brk_request *r = st->batch.r;
	struct ctl *c = brk_admin_ctl(r, &it->op.error_code, &it->op.error_message);
	if (c == NULL)
		return;
	const struct meta_image *view = ctl_view(c);
	const struct wire_create_partitions_request_topic *in = it->in;
	/* New partitions are numbered from the current count (Kafka: assignments in order). */
	const struct meta_topic *t =
	        in->name.len > 0 ? meta_image_topic(view, in->name.ptr, (size_t)in->name.len)
	                         : NULL;
	int32_t base = t != NULL ? t->partition_count : 0;
	size_t na = in->assignments_count > 0 ? (size_t)in->assignments_count : 0;
	struct meta_replica_assignment *as = sl_arena_calloc(r->frame->arena, na + 1, sizeof(*as));
	if (as == NULL) {
		it->op.error_code = WIRE_ERR_UNKNOWN_SERVER_ERROR;
		it->op.error_message = "out of request memory";
		return;
	}
	for (size_t i = 0; i < na; i++)
		as[i] = (struct meta_replica_assignment){
		        .partition_index = base + (int32_t)i,
		        .broker_id_count = in->assignments[i].broker_ids_count > 0
		                                   ? in->assignments[i].broker_ids_count
		                                   : 0,
		        .broker_ids = in->assignments[i].broker_ids};
	struct meta_records recs;
	meta_records_init(&recs, r->frame->arena);
	struct meta_ctl_result res = {0};
	meta_ctl_create_partitions(view, ctl_env(c), in->name, in->count, na, as, st->validate_only,
	                           &recs, &res);
	brk_admin_settle(&st->batch, &it->op, &recs, &res, st->validate_only);
}

enum brk_outcome brk_handle_create_partitions(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_create_partitions_request req;
	if (!brk_decode_ok(r, wire_create_partitions_request_decode(&r->body, v, &req),
	                   "CreatePartitions"))
		return BRK_CLOSE;
	if (brk_should_forward(r))
		return brk_forward(r);
	size_t n = req.topics_count > 0 ? (size_t)req.topics_count : 0;
	struct cp_state *st = sl_arena_calloc(r->frame->arena, 1, sizeof(*st));
	struct wire_str *names = sl_arena_calloc(r->frame->arena, n + 1, sizeof(*names));
	struct cp_item *items = sl_arena_calloc(r->frame->arena, n + 1, sizeof(*items));
	if (st == NULL || names == NULL || items == NULL)
		return brk_close(r, "out of request memory for CreatePartitions");
	for (size_t i = 0; i < n; i++)
		names[i] = req.topics[i].name;
	st->items = items;
	st->count = n;
	st->validate_only = req.validate_only;
	bool *dup;
	size_t *first;
	if (!ta_begin(r, &st->batch, names, n, cp_encode, st, "CreatePartitions", &dup, &first))
		return brk_close(r, "out of request memory for CreatePartitions");
	for (size_t i = 0; i < n; i++) {
		struct cp_item *it = &items[i];
		it->in = &req.topics[i];
		it->op.batch = &st->batch;
		if (!ta_dup_entry(dup, first, i, &it->op, &it->omit))
			cp_item_run(st, it);
	}
	return brk_admin_end(&st->batch);
}
