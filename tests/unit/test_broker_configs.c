/*
 * test_broker_configs.c: DescribeConfigs, AlterConfigs and IncrementalAlterConfigs through
 * brk_handle() with a real metadata log, controller and image (admin_test_util.h): effective
 * values and their sources, synonyms, types and documentation, filters, every error path, and
 * that an alter's reply comes after the change is in the broker's image.
 */
#include "admin_test_util.h"

/* ---- DescribeConfigs ------------------------------------------------------------------------ */

struct dc_res {
	int8_t type;
	const char *name;
	const char *const *keys; /* NULL = all */
	int32_t key_count;
};

static void dc_request(int16_t v, const struct dc_res *in, size_t n, bool synonyms, bool docs)
{
	at_begin(32, v);
	struct wire_describe_configs_request req;
	wire_describe_configs_request_init(&req);
	struct wire_describe_configs_request_resource rs[4];
	struct wire_str keys[4][8];
	ck_assert_uint_le(n, 4);
	for (size_t i = 0; i < n; i++) {
		wire_describe_configs_request_resource_init(&rs[i]);
		rs[i].resource_type = in[i].type;
		rs[i].resource_name = wire_str_c(in[i].name);
		rs[i].configuration_keys_count = -1;
		if (in[i].keys != NULL) {
			ck_assert_int_le(in[i].key_count, 8);
			for (int32_t k = 0; k < in[i].key_count; k++)
				keys[i][k] = wire_str_c(in[i].keys[k]);
			rs[i].configuration_keys_count = in[i].key_count;
			rs[i].configuration_keys = keys[i];
		}
	}
	req.resources_count = (int32_t)n;
	req.resources = rs;
	req.include_synonyms = synonyms;
	req.include_documentation = docs;
	wire_describe_configs_request_encode(&A.req, v, &req);
}

static void dc_decode(struct wire_describe_configs_response *resp)
{
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_reader r;
	at_resp_reader(&r);
	ck_assert_int_eq(wire_describe_configs_response_decode(&r, A.api_version, resp), SL_OK);
	ck_assert(wire_reader_done(&r));
}

static const struct wire_describe_configs_response_resource_result *
dc_find(const struct wire_describe_configs_response_result *res, const char *name)
{
	for (int32_t i = 0; i < res->configs_count; i++) {
		if (wire_str_eq(res->configs[i].name, name))
			return &res->configs[i];
	}
	return NULL;
}

/* The described topic's value of key (source, value). */
static void dc_topic_value(const char *topic, const char *key, int8_t *source, char *value,
                           size_t value_len)
{
	const char *keys[1] = {key};
	struct dc_res in = {2, topic, keys, 1};
	dc_request(4, &in, 1, false, false);
	struct wire_describe_configs_response resp;
	dc_decode(&resp);
	ck_assert_int_eq(resp.results[0].error_code, 0);
	ck_assert_int_eq(resp.results[0].configs_count, 1);
	const struct wire_describe_configs_response_resource_result *c =
	        &resp.results[0].configs[0];
	*source = c->config_source;
	ck_assert_int_ge(c->value.len, 0);
	snprintf(value, value_len, "%.*s", (int)c->value.len, c->value.ptr);
}

START_TEST(describe_topic_every_version)
{
	int16_t v = (int16_t)_i;
	struct at_topic_in in = {"described", 1, 1, "retention.ms", "5000"};
	at_create_topics_request(4, &in, 1, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	for (int opt = 0; opt < 2; opt++) {
		bool extra = opt == 1;
		struct dc_res r = {2, "described", NULL, 0};
		dc_request(v, &r, 1, extra, extra);
		struct wire_describe_configs_response resp;
		dc_decode(&resp);
		ck_assert_int_eq(resp.results_count, 1);
		const struct wire_describe_configs_response_result *res = &resp.results[0];
		ck_assert_int_eq(res->error_code, 0);
		ck_assert_int_eq(res->resource_type, 2);
		ck_assert(wire_str_eq(res->resource_name, "described"));
		ck_assert_int_eq(res->configs_count, (int32_t)meta_topic_config_def_count());
		const struct wire_describe_configs_response_resource_result *c;
		/* Override: DYNAMIC_TOPIC_CONFIG. */
		c = dc_find(res, "retention.ms");
		ck_assert_ptr_nonnull(c);
		ck_assert(wire_str_eq(c->value, "5000"));
		ck_assert(!c->read_only);
		ck_assert(!c->is_sensitive);
		if (v == 0)
			ck_assert(!c->is_default);
		if (v >= 1) {
			ck_assert_int_eq(c->config_source, 1);
			if (extra) {
				/* topic override, then the static broker value */
				ck_assert_int_ge(c->synonyms_count, 2);
				ck_assert(wire_str_eq(c->synonyms[0].name, "retention.ms"));
				ck_assert_int_eq(c->synonyms[0].source, 1);
				ck_assert(wire_str_eq(c->synonyms[1].name, "log.retention.ms"));
				ck_assert(wire_str_eq(c->synonyms[1].value, "3600000"));
				ck_assert_int_eq(c->synonyms[1].source, 4);
			} else {
				ck_assert_int_eq(c->synonyms_count, 0);
			}
		}
		if (v >= 3) {
			ck_assert_int_eq(c->config_type, 5); /* LONG, with or without docs */
			if (extra)
				ck_assert_int_gt(c->documentation.len, 0);
			else
				ck_assert_int_eq(c->documentation.len, -1);
		}
		/* The broker's default of the synonym (log.segment.bytes, source 5 in the config).
		 */
		c = dc_find(res, "segment.bytes");
		ck_assert_ptr_nonnull(c);
		ck_assert(wire_str_eq(c->value, "1073741824"));
		if (v == 0)
			ck_assert(c->is_default);
		else
			ck_assert_int_eq(c->config_source, 5);
		/* Kafka's default, no broker synonym in the config list. */
		c = dc_find(res, "cleanup.policy");
		ck_assert_ptr_nonnull(c);
		ck_assert(wire_str_eq(c->value, "delete"));
		if (v >= 1)
			ck_assert_int_eq(c->config_source, 5);
		if (v >= 3)
			ck_assert_int_eq(c->config_type, 7); /* LIST */
	}
}
END_TEST

START_TEST(describe_topic_filters_and_errors)
{
	at_create_topic("t", 1);
	const char *keys[3] = {"retention.ms", "no.such.key", "segment.bytes"};
	struct dc_res in[4] = {
	        {2, "t", keys, 3},
	        {2, "missing", NULL, 0},
	        {2, "bad name!", NULL, 0},
	        {9, "whatever", NULL, 0},
	};
	dc_request(2, in, 4, false, false);
	struct wire_describe_configs_response resp;
	dc_decode(&resp);
	ck_assert_int_eq(resp.results_count, 4);
	ck_assert_int_eq(resp.results[0].error_code, 0);
	ck_assert_int_eq(resp.results[0].configs_count, 2);
	ck_assert_ptr_nonnull(dc_find(&resp.results[0], "retention.ms"));
	ck_assert_ptr_nonnull(dc_find(&resp.results[0], "segment.bytes"));
	/* retention.ms: no override, the static broker value of log.retention.ms. */
	const struct wire_describe_configs_response_resource_result *c =
	        dc_find(&resp.results[0], "retention.ms");
	ck_assert(wire_str_eq(c->value, "3600000"));
	ck_assert_int_eq(c->config_source, 4);
	ck_assert_int_eq(resp.results[1].error_code, WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_gt(resp.results[1].error_message.len, 0);
	ck_assert_int_eq(resp.results[1].configs_count, 0);
	ck_assert_int_eq(resp.results[2].error_code, WIRE_ERR_INVALID_TOPIC_EXCEPTION);
	ck_assert_int_eq(resp.results[3].error_code, WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(resp.results[3].resource_type, 9);
	/* An empty key list selects nothing. */
	struct dc_res none = {2, "t", keys, 0};
	dc_request(1, &none, 1, false, false);
	dc_decode(&resp);
	ck_assert_int_eq(resp.results[0].configs_count, 0);
}
END_TEST

START_TEST(describe_broker)
{
	for (int16_t v = 0; v <= 4; v++) {
		struct dc_res in[2] = {{4, "1", NULL, 0}, {4, "2", NULL, 0}};
		dc_request(v, in, 2, v >= 1, v >= 3);
		struct wire_describe_configs_response resp;
		dc_decode(&resp);
		ck_assert_int_eq(resp.results[0].error_code, 0);
		ck_assert_int_eq(resp.results[0].configs_count, (int32_t)SL_ARRAY_LEN(at_configs));
		for (size_t i = 0; i < SL_ARRAY_LEN(at_configs); i++) {
			const struct wire_describe_configs_response_resource_result *c =
			        &resp.results[0].configs[i];
			ck_assert(wire_str_eq(c->name, at_configs[i].name));
			if (at_configs[i].is_sensitive) {
				ck_assert(c->is_sensitive);
				ck_assert_int_eq(c->value.len, -1);
			} else {
				ck_assert(wire_str_eq(c->value, at_configs[i].value));
			}
			if (v >= 1)
				ck_assert_int_eq(c->config_source, at_configs[i].source);
			if (v >= 3)
				ck_assert_int_eq(c->config_type,
				                 strcmp(at_configs[i].type, "PASSWORD") == 0 ? 9
				                 : strcmp(at_configs[i].type, "INT") == 0    ? 3
				                 : strcmp(at_configs[i].type, "LONG") == 0   ? 5
				                                                             : 1);
		}
		/* Static keys nobody may change dynamically are read-only. */
		ck_assert(dc_find(&resp.results[0], "num.partitions")->read_only);
		ck_assert(dc_find(&resp.results[0], "auto.create.topics.enable")->read_only);
		/* Broker defaults of topic configs may change at run time (DynamicLogConfig). */
		ck_assert(!dc_find(&resp.results[0], "log.retention.ms")->read_only);
		ck_assert(!dc_find(&resp.results[0], "message.max.bytes")->read_only);
		/* Another broker's id: INVALID_REQUEST. */
		ck_assert_int_eq(resp.results[1].error_code, WIRE_ERR_INVALID_REQUEST);
		ck_assert_int_eq(resp.results[1].configs_count, 0);
	}
	/* The cluster-default resource ("") lists only dynamic defaults: none yet. */
	struct dc_res dflt = {4, "", NULL, 0};
	dc_request(4, &dflt, 1, false, false);
	struct wire_describe_configs_response resp;
	dc_decode(&resp);
	ck_assert_int_eq(resp.results[0].error_code, 0);
	ck_assert_int_eq(resp.results[0].configs_count, 0);
}
END_TEST

/* ---- AlterConfigs ------------------------------------------------------------------------------
 */

struct ac_in {
	int8_t type;
	const char *name;
	const char *key; /* NULL = no configs */
	const char *value;
	int8_t op; /* IncrementalAlterConfigs */
	const char *key2;
};

static int8_t last_types[4]; /* resource types of the last alter request */

static void alter_request(int16_t key, int16_t v, const struct ac_in *in, size_t n,
                          bool validate_only)
{
	at_begin(key, v);
	ck_assert_uint_le(n, 4);
	for (size_t i = 0; i < n; i++)
		last_types[i] = in[i].type;
	if (key == 33) {
		struct wire_alter_configs_request req;
		wire_alter_configs_request_init(&req);
		struct wire_alter_configs_request_resource rs[4];
		struct wire_alter_configs_request_alterable_config cs[4][2];
		for (size_t i = 0; i < n; i++) {
			wire_alter_configs_request_resource_init(&rs[i]);
			rs[i].resource_type = in[i].type;
			rs[i].resource_name = wire_str_c(in[i].name);
			rs[i].configs_count = 0;
			for (int k = 0; k < 2; k++) {
				const char *name = k == 0 ? in[i].key : in[i].key2;
				if (name == NULL)
					continue;
				wire_alter_configs_request_alterable_config_init(&cs[i][k]);
				cs[i][k].name = wire_str_c(name);
				cs[i][k].value = wire_str_c(in[i].value);
				rs[i].configs_count = k + 1;
			}
			rs[i].configs = cs[i];
		}
		req.resources_count = (int32_t)n;
		req.resources = rs;
		req.validate_only = validate_only;
		wire_alter_configs_request_encode(&A.req, v, &req);
		return;
	}
	struct wire_incremental_alter_configs_request req;
	wire_incremental_alter_configs_request_init(&req);
	struct wire_incremental_alter_configs_request_alter_configs_resource rs[4];
	struct wire_incremental_alter_configs_request_alterable_config cs[4][2];
	for (size_t i = 0; i < n; i++) {
		wire_incremental_alter_configs_request_alter_configs_resource_init(&rs[i]);
		rs[i].resource_type = in[i].type;
		rs[i].resource_name = wire_str_c(in[i].name);
		rs[i].configs_count = 0;
		for (int k = 0; k < 2; k++) {
			const char *name = k == 0 ? in[i].key : in[i].key2;
			if (name == NULL)
				continue;
			wire_incremental_alter_configs_request_alterable_config_init(&cs[i][k]);
			cs[i][k].name = wire_str_c(name);
			cs[i][k].value = wire_str_c(in[i].value);
			cs[i][k].config_operation = in[i].op;
			rs[i].configs_count = k + 1;
		}
		rs[i].configs = cs[i];
	}
	req.resources_count = (int32_t)n;
	req.resources = rs;
	req.validate_only = validate_only;
	wire_incremental_alter_configs_request_encode(&A.req, v, &req);
}

/* Handles the request and returns the error codes of its resources in errs. */
static void alter_errors(int16_t *errs, size_t n)
{
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	struct wire_reader r;
	at_resp_reader(&r);
	if (A.api_key == 33) {
		struct wire_alter_configs_response resp;
		ck_assert_int_eq(wire_alter_configs_response_decode(&r, A.api_version, &resp),
		                 SL_OK);
		ck_assert(wire_reader_done(&r));
		ck_assert_int_eq(resp.responses_count, (int32_t)n);
		for (size_t i = 0; i < n; i++) {
			errs[i] = resp.responses[i].error_code;
			ck_assert_int_eq(resp.responses[i].resource_type, last_types[i]);
			if (errs[i] != 0)
				ck_assert_int_gt(resp.responses[i].error_message.len, 0);
			else
				ck_assert_int_eq(resp.responses[i].error_message.len, -1);
		}
		return;
	}
	struct wire_incremental_alter_configs_response resp;
	ck_assert_int_eq(wire_incremental_alter_configs_response_decode(&r, A.api_version, &resp),
	                 SL_OK);
	ck_assert(wire_reader_done(&r));
	ck_assert_int_eq(resp.responses_count, (int32_t)n);
	for (size_t i = 0; i < n; i++) {
		errs[i] = resp.responses[i].error_code;
		ck_assert_int_eq(resp.responses[i].resource_type, last_types[i]);
		if (errs[i] != 0)
			ck_assert_int_gt(resp.responses[i].error_message.len, 0);
	}
}

static int16_t alter_one(int16_t key, int16_t v, const struct ac_in *in, bool validate_only)
{
	alter_request(key, v, in, 1, validate_only);
	int16_t err;
	alter_errors(&err, 1);
	return err;
}

START_TEST(alter_configs_every_version)
{
	int16_t v = (int16_t)_i;
	struct at_topic_in t = {"altered", 1, 1, "cleanup.policy", "compact"};
	at_create_topics_request(4, &t, 1, false);
	ck_assert_int_eq(at_handle(), BRK_RESPOND);
	/* validate_only: accepted, nothing changes. */
	struct ac_in in = {2, "altered", "retention.ms", "7000", 0, NULL};
	ck_assert_int_eq(alter_one(33, v, &in, true), 0);
	ck_assert_ptr_null(meta_topic_config(at_topic("altered"), "retention.ms"));
	/* AlterConfigs replaces the whole set: cleanup.policy's override goes. */
	ck_assert_int_eq(alter_one(33, v, &in, false), 0);
	const struct meta_topic *mt = at_topic("altered");
	ck_assert_str_eq(meta_topic_config(mt, "retention.ms"), "7000");
	ck_assert_ptr_null(meta_topic_config(mt, "cleanup.policy"));
	int8_t src;
	char val[64];
	dc_topic_value("altered", "retention.ms", &src, val, sizeof(val));
	ck_assert_int_eq(src, 1);
	ck_assert_str_eq(val, "7000");
	dc_topic_value("altered", "cleanup.policy", &src, val, sizeof(val));
	ck_assert_int_eq(src, 5);
}
END_TEST

START_TEST(alter_configs_errors)
{
	at_create_topic("a1", 1);
	at_create_topic("a2", 1);
	struct ac_in in[4] = {
	        {2, "a1", "retention.ms", "soon", 0, NULL},        /* invalid value */
	        {2, "nope", "retention.ms", "1", 0, NULL},         /* unknown topic */
	        {2, "a2", "retention.ms", "1", 0, "retention.ms"}, /* duplicate key */
	        {9, "a1", "retention.ms", "1", 0, NULL},           /* unknown resource type */
	};
	alter_request(33, 1, in, 4, false);
	int16_t errs[4];
	alter_errors(errs, 4);
	ck_assert_int_eq(errs[0], WIRE_ERR_INVALID_CONFIG);
	ck_assert_int_eq(errs[1], WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	ck_assert_int_eq(errs[2], WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(errs[3], WIRE_ERR_INVALID_REQUEST);
	ck_assert_ptr_null(meta_topic_config(at_topic("a1"), "retention.ms"));
	ck_assert_ptr_null(meta_topic_config(at_topic("a2"), "retention.ms"));
	/* The same resource twice: both INVALID_REQUEST, nothing applied. */
	struct ac_in twice[2] = {{2, "a1", "retention.ms", "1", 0, NULL},
	                         {2, "a1", "retention.ms", "2", 0, NULL}};
	alter_request(33, 0, twice, 2, false);
	alter_errors(errs, 2);
	ck_assert_int_eq(errs[0], WIRE_ERR_INVALID_REQUEST);
	ck_assert_int_eq(errs[1], WIRE_ERR_INVALID_REQUEST);
	ck_assert_ptr_null(meta_topic_config(at_topic("a1"), "retention.ms"));
	/* Unknown key. */
	struct ac_in key = {2, "a1", "no.such.key", "1", 0, NULL};
	ck_assert_int_eq(alter_one(33, 2, &key, false), WIRE_ERR_INVALID_CONFIG);
	/* A read-only broker key cannot be changed dynamically. */
	struct ac_in ro = {4, "1", "num.partitions", "4", 0, NULL};
	ck_assert_int_eq(alter_one(33, 2, &ro, false), WIRE_ERR_INVALID_CONFIG);
}
END_TEST

START_TEST(incremental_alter_configs_every_version)
{
	int16_t v = (int16_t)_i;
	at_create_topic("inc", 1);
	struct ac_in set = {2, "inc", "retention.ms", "9000", 0, NULL};
	ck_assert_int_eq(alter_one(44, v, &set, true), 0); /* validate_only */
	ck_assert_ptr_null(meta_topic_config(at_topic("inc"), "retention.ms"));
	ck_assert_int_eq(alter_one(44, v, &set, false), 0);
	ck_assert_str_eq(meta_topic_config(at_topic("inc"), "retention.ms"), "9000");
	/* SET keeps the other overrides. */
	struct ac_in seg = {2, "inc", "segment.bytes", "100000", 0, NULL};
	ck_assert_int_eq(alter_one(44, v, &seg, false), 0);
	ck_assert_str_eq(meta_topic_config(at_topic("inc"), "retention.ms"), "9000");
	ck_assert_str_eq(meta_topic_config(at_topic("inc"), "segment.bytes"), "100000");
	/* APPEND to a list. */
	struct ac_in app = {2, "inc", "cleanup.policy", "compact", 2, NULL};
	ck_assert_int_eq(alter_one(44, v, &app, false), 0);
	const char *pol = meta_topic_config(at_topic("inc"), "cleanup.policy");
	ck_assert_ptr_nonnull(pol);
	ck_assert_ptr_nonnull(strstr(pol, "compact"));
	/* DELETE. */
	struct ac_in del = {2, "inc", "retention.ms", NULL, 1, NULL};
	ck_assert_int_eq(alter_one(44, v, &del, false), 0);
	ck_assert_ptr_null(meta_topic_config(at_topic("inc"), "retention.ms"));
	ck_assert_str_eq(meta_topic_config(at_topic("inc"), "segment.bytes"), "100000");
	/* Errors. */
	struct ac_in badop = {2, "inc", "retention.ms", "1", 9, NULL};
	ck_assert_int_eq(alter_one(44, v, &badop, false), WIRE_ERR_INVALID_REQUEST);
	struct ac_in badval = {2, "inc", "retention.ms", "x", 0, NULL};
	ck_assert_int_eq(alter_one(44, v, &badval, false), WIRE_ERR_INVALID_CONFIG);
	struct ac_in unknown = {2, "nope", "retention.ms", "1", 0, NULL};
	ck_assert_int_eq(alter_one(44, v, &unknown, false), WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	struct ac_in dupkey = {2, "inc", "retention.ms", "1", 0, "retention.ms"};
	ck_assert_int_eq(alter_one(44, v, &dupkey, false), WIRE_ERR_INVALID_REQUEST);
	ck_assert_ptr_null(meta_topic_config(at_topic("inc"), "retention.ms"));
}
END_TEST

START_TEST(alter_broker_configs)
{
	at_create_topic("follows", 1);
	/* log.retention.ms for this broker (DYNAMIC_BROKER_CONFIG) and as the cluster default
	 * (DYNAMIC_DEFAULT_BROKER_CONFIG). */
	struct ac_in mine = {4, "1", "log.retention.ms", "120000", 0, NULL};
	ck_assert_int_eq(alter_one(44, 1, &mine, true), 0); /* validate_only: nothing changes */
	ck_assert_ptr_null(
	        meta_image_broker_config(brk_image(A.brk), AT_NODE_ID, "log.retention.ms"));
	ck_assert_int_eq(alter_one(44, 1, &mine, false), 0);
	struct ac_in dflt = {4, "", "log.retention.ms", "240000", 0, NULL};
	ck_assert_int_eq(alter_one(44, 0, &dflt, false), 0);
	/* The broker resource: the per-broker value wins, its synonyms list all three. */
	const char *keys[1] = {"log.retention.ms"};
	struct dc_res br[2] = {{4, "1", keys, 1}, {4, "", NULL, 0}};
	dc_request(4, br, 2, true, false);
	struct wire_describe_configs_response resp;
	dc_decode(&resp);
	ck_assert_int_eq(resp.results[0].configs_count, 1);
	const struct wire_describe_configs_response_resource_result *c =
	        &resp.results[0].configs[0];
	ck_assert(wire_str_eq(c->value, "120000"));
	ck_assert_int_eq(c->config_source, 2);
	ck_assert(!c->read_only);
	ck_assert_int_eq(c->synonyms_count, 3);
	ck_assert_int_eq(c->synonyms[0].source, 2);
	ck_assert_int_eq(c->synonyms[1].source, 3);
	ck_assert(wire_str_eq(c->synonyms[1].value, "240000"));
	ck_assert_int_eq(c->synonyms[2].source, 4);
	ck_assert(wire_str_eq(c->synonyms[2].value, "3600000"));
	/* The cluster-default resource lists exactly the dynamic default. */
	ck_assert_int_eq(resp.results[1].error_code, 0);
	ck_assert_int_eq(resp.results[1].configs_count, 1);
	ck_assert(wire_str_eq(resp.results[1].configs[0].name, "log.retention.ms"));
	ck_assert(wire_str_eq(resp.results[1].configs[0].value, "240000"));
	ck_assert_int_eq(resp.results[1].configs[0].config_source, 3);
	/* A topic without an override follows the broker's dynamic value. */
	int8_t src;
	char val[64];
	dc_topic_value("follows", "retention.ms", &src, val, sizeof(val));
	ck_assert_int_eq(src, 2);
	ck_assert_str_eq(val, "120000");
	/* Deleting the per-broker value falls back to the cluster default. */
	struct ac_in del = {4, "1", "log.retention.ms", NULL, 1, NULL};
	ck_assert_int_eq(alter_one(44, 1, &del, false), 0);
	dc_topic_value("follows", "retention.ms", &src, val, sizeof(val));
	ck_assert_int_eq(src, 3);
	ck_assert_str_eq(val, "240000");
}
END_TEST

START_TEST(alter_configs_no_controller)
{
	at_teardown();
	struct at_opts o = {.no_controller = true};
	at_setup_opts(&o);
	struct ac_in in = {2, "t", "retention.ms", "1", 0, NULL};
	ck_assert_int_eq(alter_one(33, 0, &in, false), WIRE_ERR_NOT_CONTROLLER);
	ck_assert_int_eq(alter_one(44, 1, &in, false), WIRE_ERR_NOT_CONTROLLER);
	/* DescribeConfigs needs no controller: the broker's own configs. */
	struct dc_res br = {4, "1", NULL, 0};
	dc_request(4, &br, 1, false, false);
	struct wire_describe_configs_response resp;
	dc_decode(&resp);
	ck_assert_int_eq(resp.results[0].error_code, 0);
	ck_assert_int_eq(resp.results[0].configs_count, (int32_t)SL_ARRAY_LEN(at_configs));
}
END_TEST

START_TEST(configs_requests_that_close)
{
	static const int16_t keys[][2] = {{32, 4}, {33, 2}, {44, 1}, {32, 0}, {33, 0}, {44, 0}};
	for (size_t i = 0; i < SL_ARRAY_LEN(keys); i++) {
		at_begin(keys[i][0], keys[i][1]);
		sl_buf_put_be32(&A.req, 1000); /* more resources than bytes */
		ck_assert_int_eq(at_handle(), BRK_CLOSE);
		ck_assert_int_gt(strlen(A.reason), 0);
	}
	struct dc_res in = {2, "t", NULL, 0};
	dc_request(3, &in, 1, false, false);
	sl_buf_append(&A.req, "z", 1);
	ck_assert_int_eq(at_handle(), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(A.reason, "1 unexpected bytes"));
	struct ac_in ac = {2, "t", "retention.ms", "1", 0, NULL};
	alter_request(44, 1, &ac, 1, false);
	sl_buf_append(&A.req, "zz", 2);
	ck_assert_int_eq(at_handle(), BRK_CLOSE);
	ck_assert_ptr_nonnull(strstr(A.reason, "2 unexpected bytes"));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("broker_configs");
	TCase *tc = tcase_create("configs");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, at_setup, at_teardown);
	tcase_add_loop_test(tc, describe_topic_every_version, 0, 5);
	tcase_add_test(tc, describe_topic_filters_and_errors);
	tcase_add_test(tc, describe_broker);
	tcase_add_loop_test(tc, alter_configs_every_version, 0, 3);
	tcase_add_test(tc, alter_configs_errors);
	tcase_add_loop_test(tc, incremental_alter_configs_every_version, 0, 2);
	tcase_add_test(tc, alter_broker_configs);
	tcase_add_test(tc, alter_configs_no_controller);
	tcase_add_test(tc, configs_requests_that_close);
	suite_add_tcase(s, tc);
	return s;
}
