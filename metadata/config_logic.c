/*
 * config_logic.c: the pure controller decision for AlterConfigs and IncrementalAlterConfigs
 * (Kafka's ConfigurationControlManager): compute the new override set of one resource,
 * validate it, and append one ConfigRecord per changed key (null value = delete).
 *
 * TOPIC resources accept every key of the topic config table. BROKER resources ("" = the
 * cluster-wide default, or a broker id) accept only the broker keys that are defaults of a
 * topic config (log.retention.ms, log.segment.bytes, compression.type, ...: the keys Kafka's
 * DynamicLogConfig updates at run time), validated as their topic key; any other key is
 * INVALID_CONFIG "Cannot update these configs dynamically". As Kafka does, a BROKER change is
 * written even when the value is unchanged (it triggers a reload), a TOPIC change only when
 * it changes something.
 */
#include "meta_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* One key of the resource after the change. value NULL = no override. */
struct new_kv {
	struct wire_str name;
	const char *value;
	size_t value_len;
	const struct meta_topic_config_def *def;
};

struct alter {
	const struct meta_image *view;
	const struct meta_topic *topic; /* TOPIC resources */
	int32_t broker_id;              /* BROKER resources */
	bool broker;
	struct sl_arena *arena;
	struct meta_ctl_result *res;
};

SL_PRINTF(3, 4) static void fail(struct meta_ctl_result *res, int16_t code, const char *fmt, ...)
{
	va_list ap;

	res->error_code = code;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

#define NAME_ARG(s) (int)SL_MIN(SL_MAX(0, (s).len), 100), ((s).ptr ? (s).ptr : "")

static const struct meta_topic_config_def *def_for_broker_key(struct wire_str key)
{
	for (size_t i = 0; i < meta_topic_config_def_count(); i++) {
		const struct meta_topic_config_def *d = meta_topic_config_def_at(i);

		if (d->broker_key != NULL && key.len >= 0 && wire_str_eq(key, d->broker_key))
			return d;
	}
	return NULL;
}

static const struct meta_topic_config_def *resolve_key(const struct alter *a, struct wire_str key)
{
	const struct meta_topic_config_def *d;

	if (a->broker) {
		d = def_for_broker_key(key);
		if (d == NULL)
			fail(a->res, WIRE_ERR_INVALID_CONFIG,
			     "Cannot update these configs dynamically: %.*s", NAME_ARG(key));
		return d;
	}
	d = key.len < 0 ? NULL : meta_topic_config_def_find(key.ptr, (size_t)key.len);
	if (d == NULL)
		fail(a->res, WIRE_ERR_INVALID_CONFIG, "Unknown topic config name: %.*s",
		     NAME_ARG(key));
	return d;
}

/* The current override of a key, NUL-terminated (image memory) or NULL. */
static const char *current(const struct alter *a, struct wire_str key)
{
	char name[256];

	if (key.len < 0 || (size_t)key.len >= sizeof(name))
		return NULL;
	memcpy(name, key.ptr, (size_t)key.len);
	name[key.len] = '\0';
	if (a->broker)
		return meta_image_broker_config(a->view, a->broker_id, name);
	return meta_topic_config(a->topic, name);
}

static bool has_elem(const char *list, size_t len, const char *e, size_t elen)
{
	size_t i = 0;

	while (i < len) {
		const char *c = memchr(list + i, ',', len - i);
		size_t n = c ? (size_t)(c - (list + i)) : len - i;

		if (n == elen && memcmp(list + i, e, n) == 0)
			return true;
		i += n + 1;
	}
	return false;
}

/* APPEND / SUBTRACT on a LIST value (ConfigurationControlManager: the base is the override or
 * the default; elements are compared as text, empty elements dropped). */
static bool list_op(struct alter *a, const struct meta_topic_config_def *d, struct wire_str key,
                    const struct meta_config_change *ch, struct new_kv *kv)
{
	const char *base = current(a, key);
	size_t cap = (base ? strlen(base) : strlen(d->default_value)) + (size_t)ch->value.len + 2;
	char *outp = sl_arena_alloc(a->arena, cap);
	size_t n = 0;

	if (base == NULL)
		base = d->default_value;
	if (outp == NULL)
		return false;
	for (int pass = 0; pass < 2; pass++) {
		const char *src = pass == 0 ? base : ch->value.ptr;
		size_t len = pass == 0 ? strlen(base) : (size_t)ch->value.len, i = 0;

		if (pass == 1 && ch->op == META_CONFIG_SUBTRACT)
			break;
		while (i < len) {
			const char *c = memchr(src + i, ',', len - i);
			size_t el = c ? (size_t)(c - (src + i)) : len - i;
			bool drop = el == 0 || has_elem(outp, n, src + i, el) ||
			            (ch->op == META_CONFIG_SUBTRACT &&
			             has_elem(ch->value.ptr, (size_t)ch->value.len, src + i, el));

			if (!drop) {
				if (n > 0)
					outp[n++] = ',';
				memcpy(outp + n, src + i, el);
				n += el;
			}
			i += el + 1;
		}
	}
	outp[n] = '\0';
	kv->value = outp;
	kv->value_len = n;
	return true;
}

static const char *const op_names[] = {"SET", "DELETE", "APPEND", "SUBTRACT"};

/* Resolves one change into kv; false with res set (or ENOMEM with res unset). */
static bool resolve_change(struct alter *a, bool incremental, const struct meta_config_change *ch,
                           struct new_kv *kv)
{
	const struct meta_topic_config_def *d = resolve_key(a, ch->name);
	int op = incremental ? (int)ch->op : META_CONFIG_SET;

	if (d == NULL)
		return false;
	*kv = (struct new_kv){.name = ch->name, .def = d};
	if (op < META_CONFIG_SET || op > META_CONFIG_SUBTRACT) {
		fail(a->res, WIRE_ERR_INVALID_REQUEST, "Unknown alter config operation type %d",
		     op);
		return false;
	}
	if (op == META_CONFIG_DELETE || (!incremental && ch->value.len < 0))
		return true;
	if (ch->value.len < 0) {
		fail(a->res, WIRE_ERR_INVALID_REQUEST, "Null value not supported for %s of %.*s",
		     op_names[op], NAME_ARG(ch->name));
		return false;
	}
	if (op != META_CONFIG_SET && strcmp(d->type, "LIST") != 0) {
		fail(a->res, WIRE_ERR_INVALID_CONFIG,
		     "Can't %s to key %.*s because its type is not LIST.", op_names[op],
		     NAME_ARG(ch->name));
		return false;
	}
	if (op == META_CONFIG_SET) {
		kv->value = ch->value.ptr;
		kv->value_len = (size_t)ch->value.len;
	} else if (!list_op(a, d, ch->name, ch, kv)) {
		fail(a->res, WIRE_ERR_UNKNOWN_SERVER_ERROR, "Out of memory.");
		return false;
	}
	if (!meta_topic_config_valid(d, kv->value, kv->value_len, a->res->message,
	                             sizeof(a->res->message))) {
		a->res->error_code = WIRE_ERR_INVALID_CONFIG;
		return false;
	}
	return true;
}

static bool same_name(struct wire_str a, struct wire_str b)
{
	return a.len == b.len && (a.len <= 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

static bool add_config(struct meta_records *out, struct wire_str resource, int8_t type,
                       struct wire_str name, const char *value, size_t value_len)
{
	struct meta_config_record cr;

	meta_config_record_init(&cr);
	cr.resource_type = type;
	cr.resource_name = resource;
	cr.name = name;
	cr.value = value == NULL ? (struct wire_str){NULL, -1}
	                         : (struct wire_str){value, (int32_t)value_len};
	return meta_records_add(out, META_REC_CONFIG, 0, &cr);
}

/* Records for the resolved set; legacy mode also deletes overrides the set leaves out. */
static bool emit(struct alter *a, bool incremental, struct wire_str resource, int8_t type,
                 const struct new_kv *kvs, size_t n, struct meta_records *out)
{
	for (size_t i = 0; i < n; i++) {
		const char *cur = current(a, kvs[i].name);
		bool same =
		        (cur == NULL && kvs[i].value == NULL) ||
		        (cur != NULL && kvs[i].value != NULL && strlen(cur) == kvs[i].value_len &&
		         memcmp(cur, kvs[i].value, kvs[i].value_len) == 0);

		if ((!same || a->broker) &&
		    !add_config(out, resource, type, kvs[i].name, kvs[i].value, kvs[i].value_len))
			return false;
	}
	if (incremental || a->broker)
		return true; /* broker legacy: only the keys given (no listing of statics) */
	for (size_t j = 0; j < a->topic->config_count; j++) {
		struct wire_str k = wire_str_c(a->topic->configs[j].name);
		bool kept = false;

		for (size_t i = 0; i < n && !kept; i++)
			kept = same_name(kvs[i].name, k);
		if (!kept && !add_config(out, resource, type, k, NULL, 0))
			return false;
	}
	return true;
}

static bool parse_broker(struct wire_str s, int32_t *out)
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
	*out = (int32_t)v;
	return v <= INT32_MAX;
}

static bool resolve_resource(struct alter *a, int8_t type, struct wire_str name)
{
	if (type == META_RESOURCE_TOPIC) {
		a->topic =
		        name.len < 0 ? NULL : meta_image_topic(a->view, name.ptr, (size_t)name.len);
		if (a->topic == NULL)
			fail(a->res, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION,
			     "The topic '%.*s' does not exist.", NAME_ARG(name));
		return a->topic != NULL;
	}
	if (type == META_RESOURCE_BROKER) {
		a->broker = true;
		if (!parse_broker(name, &a->broker_id))
			fail(a->res, WIRE_ERR_INVALID_REQUEST, "Invalid broker name %.*s",
			     NAME_ARG(name));
		return a->res->error_code == WIRE_ERR_NONE;
	}
	fail(a->res, WIRE_ERR_INVALID_REQUEST, "Unsupported resource type %d", type);
	return false;
}

void meta_ctl_alter_configs(const struct meta_image *view, int8_t resource_type,
                            struct wire_str resource_name, bool incremental,
                            const struct meta_config_change *changes, size_t change_count,
                            bool validate_only, struct meta_records *out,
                            struct meta_ctl_result *res)
{
	struct alter a = {.view = view, .arena = out->arena, .res = res};
	size_t mark = out->count;
	struct new_kv *kvs;

	res->error_code = WIRE_ERR_NONE;
	res->message[0] = '\0';
	if (!resolve_resource(&a, resource_type, resource_name))
		return;
	for (size_t i = 0; i < change_count; i++) {
		for (size_t j = 0; j < i; j++) {
			if (same_name(changes[i].name, changes[j].name)) {
				fail(res, WIRE_ERR_INVALID_REQUEST,
				     "Error due to duplicate config keys");
				return;
			}
		}
	}
	kvs = sl_arena_calloc(out->arena, SL_MAX(change_count, (size_t)1), sizeof(*kvs));
	if (kvs == NULL) {
		fail(res, WIRE_ERR_UNKNOWN_SERVER_ERROR, "Out of memory.");
		return;
	}
	for (size_t i = 0; i < change_count; i++) {
		if (!resolve_change(&a, incremental, &changes[i], &kvs[i]))
			return;
	}
	if (change_count + (a.topic ? a.topic->config_count : 0) >
	    META_BATCH_RECORDS_MAX - out->count) {
		fail(res, WIRE_ERR_POLICY_VIOLATION, "Too many config changes in one request.");
		return;
	}
	if (validate_only)
		return;
	if (!emit(&a, incremental, resource_name, resource_type, kvs, change_count, out)) {
		out->count = mark;
		fail(res, WIRE_ERR_UNKNOWN_SERVER_ERROR,
		     "Out of memory building metadata records.");
	}
}
