/*
 * configs.c: DescribeConfigs (key 32, v0-4), AlterConfigs (key 33, v0-2) and
 * IncrementalAlterConfigs (key 44, v0-1), and the resolution of effective config values.
 *
 * DescribeConfigs
 *   TOPIC (2): every key of the topic config table (metadata.h) with its effective value, in
 *     precedence order: the topic's override (DYNAMIC_TOPIC_CONFIG 1), the broker's synonym
 *     key set dynamically for this broker (2) or as the cluster default (3), set in the static
 *     config (STATIC_BROKER_CONFIG 4), the broker's default value of the synonym, or Kafka's
 *     topic default (DEFAULT_CONFIG 5). Unknown topic: UNKNOWN_TOPIC_OR_PARTITION; illegal
 *     name: INVALID_TOPIC_EXCEPTION.
 *   BROKER (4): name = this node's id as text: every entry of brk->opts.configs (dynamic
 *     overrides from the image first); read_only unless the controller logic accepts a dynamic
 *     change of the key. Name "": the cluster-wide dynamic defaults only (Kafka's behaviour).
 *     Another name: INVALID_REQUEST.
 *   Other resource types (BROKER_LOGGER included: not supported): INVALID_REQUEST.
 *   configuration_keys (non-null) filters the keys; synonyms (v1+) and config_type and
 *   documentation (v3+) only when requested.
 * AlterConfigs / IncrementalAlterConfigs: per resource, duplicates in the request and
 *   duplicate keys inside a resource are INVALID_REQUEST (Kafka's ConfigAdminManager), no
 *   controller is NOT_CONTROLLER; otherwise meta_ctl_alter_configs decides against
 *   ctl_view() and the records are proposed (validate_only: decided, not proposed). The reply
 *   is sent once every proposal committed.
 */
#include "admin_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- effective values ---------------------------------------------------------------------- */

const struct brk_config_entry *brk_config_entry_find(const struct brk *b, const char *name,
                                                     size_t len)
{
	for (size_t i = 0; i < b->opts.config_count; i++) {
		const struct brk_config_entry *e = &b->opts.configs[i];
		if (strlen(e->name) == len && memcmp(e->name, name, len) == 0)
			return e;
	}
	return NULL;
}

int8_t brk_config_type_code(const char *type)
{
	static const char *const names[] = {"",     "BOOLEAN", "STRING", "INT",   "SHORT",
	                                    "LONG", "DOUBLE",  "LIST",   "CLASS", "PASSWORD"};
	if (type == NULL)
		return 0;
	for (size_t i = 1; i < SL_ARRAY_LEN(names); i++) {
		if (strcmp(names[i], type) == 0)
			return (int8_t)i;
	}
	return 0;
}

static bool override_find(const struct brk_topic_overrides *o, const char *name,
                          struct wire_str *out)
{
	if (o->topic != NULL) {
		const char *v = meta_topic_config(o->topic, name);
		if (v == NULL)
			return false;
		*out = wire_str_c(v);
		return true;
	}
	bool found = false;
	for (size_t i = 0; i < o->kv_count; i++) {
		if (o->kv[i].value.len >= 0 && wire_str_eq(o->kv[i].name, name)) {
			*out = o->kv[i].value;
			found = true;
		}
	}
	return found;
}

/* Appends the broker-level synonyms of key (dynamic, then static); true when the static
 * config holds the key's default (then nothing weaker exists). */
static bool broker_synonyms(const struct brk *b, const char *key, struct brk_config_synonym *syn,
                            size_t *n)
{
	if (b->image != NULL) {
		const char *v = meta_image_broker_config(b->image, b->node_id, key);
		if (v != NULL)
			syn[(*n)++] = (struct brk_config_synonym){key, wire_str_c(v),
			                                          BRK_SRC_DYNAMIC_BROKER};
		v = meta_image_broker_config(b->image, -1, key);
		if (v != NULL)
			syn[(*n)++] = (struct brk_config_synonym){key, wire_str_c(v),
			                                          BRK_SRC_DYNAMIC_DEFAULT};
	}
	const struct brk_config_entry *e = brk_config_entry_find(b, key, strlen(key));
	if (e == NULL || e->value == NULL)
		return false;
	int8_t src = e->source == BRK_SRC_STATIC_BROKER ? BRK_SRC_STATIC_BROKER : BRK_SRC_DEFAULT;
	syn[(*n)++] = (struct brk_config_synonym){key, wire_str_c(e->value), src};
	return src == BRK_SRC_DEFAULT;
}

size_t brk_topic_config_synonyms(const struct brk *b, const struct meta_topic_config_def *def,
                                 const struct brk_topic_overrides *o,
                                 struct brk_config_synonym syn[BRK_SYNONYMS_MAX])
{
	size_t n = 0;
	struct wire_str v;
	if (override_find(o, def->name, &v))
		syn[n++] = (struct brk_config_synonym){def->name, v, BRK_SRC_TOPIC};
	if (def->broker_key != NULL && broker_synonyms(b, def->broker_key, syn, &n))
		return n;
	syn[n++] = (struct brk_config_synonym){def->name, wire_str_c(def->default_value),
	                                       BRK_SRC_DEFAULT};
	SL_ASSERT(n <= BRK_SYNONYMS_MAX);
	return n;
}

/* ---- DescribeConfigs ------------------------------------------------------------------------- */

typedef struct wire_describe_configs_response_resource_result brk_dc_entry;

struct dc_ctx {
	struct brk_request *r;
	const struct wire_describe_configs_request *req;
	const struct wire_describe_configs_request_resource *res;
	struct wire_describe_configs_response_result *out;
};

static bool key_wanted(const struct wire_describe_configs_request_resource *res, const char *name)
{
	if (res->configuration_keys_count < 0)
		return true;
	for (int32_t i = 0; i < res->configuration_keys_count; i++) {
		if (wire_str_eq(res->configuration_keys[i], name))
			return true;
	}
	return false;
}

struct dc_entry_in {
	const char *name;
	const struct brk_config_synonym *syn;
	size_t syn_count;
	bool read_only;
	bool sensitive;
	const char *type;
	const char *doc;
};

/* false when request memory ran out. */
static bool dc_entry_fill(struct dc_ctx *c, brk_dc_entry *e, const struct dc_entry_in *in)
{
	wire_describe_configs_response_resource_result_init(e);
	SL_ASSERT(in->syn_count > 0);
	e->name = wire_str_c(in->name);
	e->value = in->sensitive ? wire_str_c(NULL) : in->syn[0].value;
	e->read_only = in->read_only;
	e->config_source = in->syn[0].source;
	e->is_default = in->syn[0].source == BRK_SRC_DEFAULT;
	e->is_sensitive = in->sensitive;
	e->config_type = brk_config_type_code(in->type);
	e->documentation = wire_str_c(c->req->include_documentation ? in->doc : NULL);
	e->synonyms_count = 0;
	e->synonyms = NULL;
	if (!c->req->include_synonyms)
		return true;
	struct wire_describe_configs_response_synonym *s =
	        sl_arena_calloc(c->r->frame->arena, in->syn_count, sizeof(*s));
	if (s == NULL)
		return false;
	for (size_t i = 0; i < in->syn_count; i++) {
		wire_describe_configs_response_synonym_init(&s[i]);
		s[i].name = wire_str_c(in->syn[i].name);
		s[i].value = in->sensitive ? wire_str_c(NULL) : in->syn[i].value;
		s[i].source = in->syn[i].source;
	}
	e->synonyms_count = (int32_t)in->syn_count;
	e->synonyms = s;
	return true;
}

static void dc_error(struct dc_ctx *c, int16_t code, const char *msg)
{
	c->out->error_code = code;
	c->out->error_message = wire_str_c(msg);
	c->out->configs_count = 0;
}

static bool dc_topic(struct dc_ctx *c)
{
	struct brk *b = c->r->brk;
	struct wire_str name = c->res->resource_name;
	if (!meta_topic_name_legal(name)) {
		dc_error(c, WIRE_ERR_INVALID_TOPIC_EXCEPTION,
		         brk_admin_msg(c->r, "Topic name '%.*s' is illegal", (int)name.len,
		                       name.ptr));
		return true;
	}
	const struct meta_topic *t =
	        b->image != NULL ? meta_image_topic(b->image, name.ptr, (size_t)name.len) : NULL;
	if (t == NULL) {
		dc_error(c, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION,
		         brk_admin_msg(c->r, "Topic '%.*s' does not exist", (int)name.len,
		                       name.ptr));
		return true;
	}
	size_t n = meta_topic_config_def_count();
	brk_dc_entry *e = sl_arena_calloc(c->r->frame->arena, n > 0 ? n : 1, sizeof(*e));
	if (e == NULL)
		return false;
	struct brk_topic_overrides o = {.topic = t};
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct meta_topic_config_def *def = meta_topic_config_def_at(i);
		if (!key_wanted(c->res, def->name))
			continue;
		struct brk_config_synonym syn[BRK_SYNONYMS_MAX];
		struct dc_entry_in in = {.name = def->name,
		                         .syn = syn,
		                         .syn_count = brk_topic_config_synonyms(b, def, &o, syn),
		                         .type = def->type,
		                         .doc = def->doc};
		if (!dc_entry_fill(c, &e[k++], &in))
			return false;
	}
	c->out->configs_count = (int32_t)k;
	c->out->configs = e;
	return true;
}

/* True when the controller logic accepts a dynamic change of broker key name: asked as a
 * validate-only IncrementalAlterConfigs DELETE on this broker (no value to validate). */
static bool broker_key_dynamic(struct brk_request *r, const struct meta_image *view,
                               struct wire_str node_name, const char *name)
{
	if (view == NULL)
		return false;
	struct meta_config_change ch = {
	        .name = wire_str_c(name), .value = wire_str_c(NULL), .op = META_CONFIG_DELETE};
	struct meta_records recs;
	meta_records_init(&recs, r->frame->arena);
	struct meta_ctl_result res = {0};
	meta_ctl_alter_configs(view, META_RESOURCE_BROKER, node_name, true, &ch, 1, true, &recs,
	                       &res);
	return res.error_code == WIRE_ERR_NONE;
}

static const struct meta_image *decision_view(struct brk *b)
{
	return b->opts.ctl != NULL ? ctl_view(b->opts.ctl) : b->image;
}

/* Resource "": the cluster-wide dynamic defaults (DYNAMIC_DEFAULT_BROKER_CONFIG). */
static bool dc_broker_defaults(struct dc_ctx *c, brk_dc_entry *e)
{
	struct brk *b = c->r->brk;
	size_t k = 0;
	for (size_t i = 0; i < b->opts.config_count && b->image != NULL; i++) {
		const struct brk_config_entry *ce = &b->opts.configs[i];
		const char *v = meta_image_broker_config(b->image, -1, ce->name);
		if (v == NULL || !key_wanted(c->res, ce->name))
			continue;
		struct brk_config_synonym syn = {ce->name, wire_str_c(v), BRK_SRC_DYNAMIC_DEFAULT};
		struct dc_entry_in in = {.name = ce->name,
		                         .syn = &syn,
		                         .syn_count = 1,
		                         .sensitive = ce->is_sensitive,
		                         .type = ce->type,
		                         .doc = ce->documentation};
		if (!dc_entry_fill(c, &e[k++], &in))
			return false;
	}
	c->out->configs_count = (int32_t)k;
	c->out->configs = e;
	return true;
}

static bool dc_broker(struct dc_ctx *c)
{
	struct brk *b = c->r->brk;
	struct wire_str name = c->res->resource_name;
	char id[16];
	snprintf(id, sizeof(id), "%d", (int)b->node_id);
	size_t n = b->opts.config_count;
	brk_dc_entry *e = sl_arena_calloc(c->r->frame->arena, n > 0 ? n : 1, sizeof(*e));
	if (e == NULL)
		return false;
	if (name.len == 0)
		return dc_broker_defaults(c, e);
	if (!wire_str_eq(name, id)) {
		dc_error(c, WIRE_ERR_INVALID_REQUEST,
		         brk_admin_msg(c->r,
		                       "Unexpected broker id, expected %s or empty string, but "
		                       "received %.*s",
		                       id, (int)(name.len > 0 ? name.len : 0), name.ptr));
		return true;
	}
	const struct meta_image *view = decision_view(b);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct brk_config_entry *ce = &b->opts.configs[i];
		if (!key_wanted(c->res, ce->name))
			continue;
		struct brk_config_synonym syn[BRK_SYNONYMS_MAX];
		size_t sn = 0;
		(void)broker_synonyms(b, ce->name, syn, &sn);
		if (sn == 0) /* no value anywhere (unset or sensitive) */
			syn[sn++] = (struct brk_config_synonym){ce->name, wire_str_c(ce->value),
			                                        ce->source};
		struct dc_entry_in in = {
		        .name = ce->name,
		        .syn = syn,
		        .syn_count = sn,
		        .read_only = !broker_key_dynamic(c->r, view, name, ce->name),
		        .sensitive = ce->is_sensitive,
		        .type = ce->type,
		        .doc = ce->documentation,
		};
		if (!dc_entry_fill(c, &e[k++], &in))
			return false;
	}
	c->out->configs_count = (int32_t)k;
	c->out->configs = e;
	return true;
}

static bool dc_resource(struct dc_ctx *c)
{
	wire_describe_configs_response_result_init(c->out);
	c->out->error_code = WIRE_ERR_NONE;
	c->out->error_message = wire_str_c(NULL);
	c->out->resource_type = c->res->resource_type;
	c->out->resource_name = c->res->resource_name;
	c->out->configs_count = 0;
	switch (c->res->resource_type) {
	case META_RESOURCE_TOPIC:
		return dc_topic(c);
	case META_RESOURCE_BROKER:
		return dc_broker(c);
	default:
		dc_error(c, WIRE_ERR_INVALID_REQUEST,
		         brk_admin_msg(c->r, "Unsupported resource type %d",
		                       (int)c->res->resource_type));
		return true;
	}
}

enum brk_outcome brk_handle_describe_configs(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_describe_configs_request req;
	if (!brk_decode_ok(r, wire_describe_configs_request_decode(&r->body, v, &req),
	                   "DescribeConfigs"))
		return BRK_CLOSE;
	size_t n = req.resources_count > 0 ? (size_t)req.resources_count : 0;
	struct wire_describe_configs_response resp;
	wire_describe_configs_response_init(&resp);
	resp.results_count = (int32_t)n;
	resp.results = sl_arena_calloc(r->frame->arena, n > 0 ? n : 1, sizeof(*resp.results));
	if (resp.results == NULL)
		return brk_close(r, "out of request memory for the DescribeConfigs response");
	for (size_t i = 0; i < n; i++) {
		struct dc_ctx c = {
		        .r = r, .req = &req, .res = &req.resources[i], .out = &resp.results[i]};
		if (!dc_resource(&c))
			return brk_close(r,
			                 "out of request memory for the DescribeConfigs response");
	}
	wire_describe_configs_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}

/* ---- AlterConfigs / IncrementalAlterConfigs ---------------------------------------------------
 */

struct ac_item {
	int8_t type;
	struct wire_str name;
	struct meta_config_change *changes;
	size_t change_count;
	struct brk_admin_op op;
};

struct ac_state {
	struct brk_admin_batch batch;
	struct ac_item *items;
	size_t count;
	bool incremental;
	bool validate_only;
};

/* The error of item before asking the controller, or NONE. */
static int16_t ac_precheck(struct brk_request *r, struct ac_item *it, bool dup_resource,
                           const char **msg)
{
	if (dup_resource) {
		*msg = "Each resource must appear at most once.";
		return WIRE_ERR_INVALID_REQUEST;
	}
	if (it->type != META_RESOURCE_TOPIC && it->type != META_RESOURCE_BROKER) {
		*msg = brk_admin_msg(r, "Unsupported resource type %d", (int)it->type);
		return WIRE_ERR_INVALID_REQUEST;
	}
	struct wire_str *keys =
	        sl_arena_calloc(r->frame->arena, it->change_count + 1, sizeof(*keys));
	if (keys == NULL) {
		*msg = "out of request memory";
		return WIRE_ERR_UNKNOWN_SERVER_ERROR;
	}
	for (size_t i = 0; i < it->change_count; i++)
		keys[i] = it->changes[i].name;
	bool *dup = brk_admin_dups(r, keys, it->change_count, NULL);
	for (size_t i = 0; dup != NULL && i < it->change_count; i++) {
		if (dup[i]) {
			*msg = "Error due to duplicate config keys";
			return WIRE_ERR_INVALID_REQUEST;
		}
	}
	int16_t code = WIRE_ERR_NONE;
	*msg = NULL;
	(void)brk_admin_ctl(r, &code, msg);
	return code;
}

static void ac_item_run(struct ac_state *st, struct ac_item *it, bool dup_resource)
{
	struct brk_request *r = st->batch.r;
	it->op.batch = &st->batch;
	it->op.error_code = ac_precheck(r, it, dup_resource, &it->op.error_message);
	if (it->op.error_code != WIRE_ERR_NONE)
		return;
	struct ctl *c = r->brk->opts.ctl;
	struct meta_records recs;
	meta_records_init(&recs, r->frame->arena);
	struct meta_ctl_result res = {0};
	meta_ctl_alter_configs(ctl_view(c), it->type, it->name, st->incremental, it->changes,
	                       it->change_count, st->validate_only, &recs, &res);
	brk_admin_settle(&st->batch, &it->op, &recs, &res, st->validate_only);
}

static enum brk_outcome ac_run(struct ac_state *st)
{
	struct brk_request *r = st->batch.r;
	struct wire_str *keys = sl_arena_calloc(r->frame->arena, st->count + 1, sizeof(*keys));
	if (keys == NULL)
		return brk_close(r, "out of request memory for the config resources");
	for (size_t i = 0; i < st->count; i++) {
		/* type byte + name: (type, name) pairs compare as one string. */
		int32_t len = st->items[i].name.len > 0 ? st->items[i].name.len : 0;
		char *k = sl_arena_alloc(r->frame->arena, (size_t)len + 1);
		if (k == NULL)
			return brk_close(r, "out of request memory for the config resources");
		k[0] = (char)st->items[i].type;
		if (len > 0)
			memcpy(k + 1, st->items[i].name.ptr, (size_t)len);
		keys[i] = (struct wire_str){k, len + 1};
	}
	bool *dup = brk_admin_dups(r, keys, st->count, NULL);
	if (dup == NULL)
		return brk_close(r, "out of request memory for the config resources");
	for (size_t i = 0; i < st->count; i++)
		ac_item_run(st, &st->items[i], dup[i]);
	return brk_admin_end(&st->batch);
}

static enum brk_outcome ac_encode(struct brk_admin_batch *batch)
{
	struct ac_state *st = batch->ctx;
	struct brk_request *r = batch->r;
	int16_t v = r->header.api_version;
	/* Both responses have the same layout; encode through the matching codec. */
	if (!st->incremental) {
		struct wire_alter_configs_response resp;
		wire_alter_configs_response_init(&resp);
		resp.responses =
		        sl_arena_calloc(r->frame->arena, st->count + 1, sizeof(*resp.responses));
		if (resp.responses == NULL)
			return brk_close(r, "out of request memory for the AlterConfigs response");
		resp.responses_count = (int32_t)st->count;
		for (size_t i = 0; i < st->count; i++) {
			struct wire_alter_configs_response_resource_response *o =
			        &resp.responses[i];
			wire_alter_configs_response_resource_response_init(o);
			o->error_code = st->items[i].op.error_code;
			o->error_message = wire_str_c(st->items[i].op.error_message);
			o->resource_type = st->items[i].type;
			o->resource_name = st->items[i].name;
		}
		wire_alter_configs_response_encode(r->resp, v, &resp);
		return BRK_RESPOND;
	}
	struct wire_incremental_alter_configs_response resp;
	wire_incremental_alter_configs_response_init(&resp);
	resp.responses = sl_arena_calloc(r->frame->arena, st->count + 1, sizeof(*resp.responses));
	if (resp.responses == NULL)
		return brk_close(r,
		                 "out of request memory for the IncrementalAlterConfigs response");
	resp.responses_count = (int32_t)st->count;
	for (size_t i = 0; i < st->count; i++) {
		struct wire_incremental_alter_configs_response_alter_configs_resource_response *o =
		        &resp.responses[i];
		wire_incremental_alter_configs_response_alter_configs_resource_response_init(o);
		o->error_code = st->items[i].op.error_code;
		o->error_message = wire_str_c(st->items[i].op.error_message);
		o->resource_type = st->items[i].type;
		o->resource_name = st->items[i].name;
	}
	wire_incremental_alter_configs_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}

static struct ac_state *ac_state_new(struct brk_request *r, int32_t count, bool incremental,
                                     bool validate_only)
{
	size_t n = count > 0 ? (size_t)count : 0;
	struct ac_state *st = sl_arena_calloc(r->frame->arena, 1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->items = sl_arena_calloc(r->frame->arena, n + 1, sizeof(*st->items));
	if (st->items == NULL)
		return NULL;
	st->count = n;
	st->incremental = incremental;
	st->validate_only = validate_only;
	brk_admin_begin(&st->batch, r, ac_encode, st, WIRE_ERR_UNKNOWN_SERVER_ERROR,
	                incremental ? "IncrementalAlterConfigs" : "AlterConfigs");
	return st;
}

/* Starts item it of a request: resource (type, name) with `count` config changes, whose
 * array (request memory) the caller fills. false: no memory. */
static bool ac_item_init(struct brk_request *r, struct ac_item *it, int8_t type,
                         struct wire_str name, int32_t count)
{
	size_t k = count > 0 ? (size_t)count : 0;
	it->type = type;
	it->name = name;
	it->change_count = k;
	it->changes = sl_arena_calloc(r->frame->arena, k + 1, sizeof(*it->changes));
	return it->changes != NULL;
}

enum brk_outcome brk_handle_alter_configs(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_alter_configs_request req;
	if (!brk_decode_ok(r, wire_alter_configs_request_decode(&r->body, v, &req), "AlterConfigs"))
		return BRK_CLOSE;
	if (brk_should_forward(r))
		return brk_forward(r);
	struct ac_state *st = ac_state_new(r, req.resources_count, false, req.validate_only);
	if (st == NULL)
		return brk_close(r, "out of request memory for AlterConfigs");
	for (size_t i = 0; i < st->count; i++) {
		const struct wire_alter_configs_request_resource *in = &req.resources[i];
		struct ac_item *it = &st->items[i];
		if (!ac_item_init(r, it, in->resource_type, in->resource_name, in->configs_count))
			return brk_close(r, "out of request memory for AlterConfigs");
		for (size_t j = 0; j < it->change_count; j++)
			it->changes[j] = (struct meta_config_change){.name = in->configs[j].name,
			                                             .value = in->configs[j].value,
			                                             .op = META_CONFIG_SET};
	}
	return ac_run(st);
}

enum brk_outcome brk_handle_incremental_alter_configs(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_incremental_alter_configs_request req;
	if (!brk_decode_ok(r, wire_incremental_alter_configs_request_decode(&r->body, v, &req),
	                   "IncrementalAlterConfigs"))
		return BRK_CLOSE;
	if (brk_should_forward(r))
		return brk_forward(r);
	struct ac_state *st = ac_state_new(r, req.resources_count, true, req.validate_only);
	if (st == NULL)
		return brk_close(r, "out of request memory for IncrementalAlterConfigs");
	for (size_t i = 0; i < st->count; i++) {
		const struct wire_incremental_alter_configs_request_alter_configs_resource *in =
		        &req.resources[i];
		struct ac_item *it = &st->items[i];
		if (!ac_item_init(r, it, in->resource_type, in->resource_name, in->configs_count))
			return brk_close(r, "out of request memory for IncrementalAlterConfigs");
		for (size_t j = 0; j < it->change_count; j++)
			it->changes[j] = (struct meta_config_change){
			        .name = in->configs[j].name,
			        .value = in->configs[j].value,
			        .op = (enum meta_config_op)in->configs[j].config_operation};
	}
	return ac_run(st);
}
