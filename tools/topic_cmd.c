/*
 * topic_cmd.c: `sluice topic create|list|describe|delete|alter-config|describe-config`,
 * topic administration over the Kafka protocol (the kafka-topics.sh / kafka-configs.sh
 * subset a developer needs), through the synchronous client of net.h.
 *
 * Every sub-command parses all of its arguments before connecting, so a usage error (exit 2)
 * never touches the network. A Kafka error code in a response is printed with Kafka's name
 * and message and gives exit 1, except the ones --if-not-exists / --if-exists waive.
 */
#include "tools.h"

#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPIC_CONFIGS_MAX 256
#define TOPIC_NAMES_MAX 1024

enum {
	TOPIC_OPT_PARTITIONS = CLI_OPT_FIRST_CUSTOM,
	TOPIC_OPT_RF,
	TOPIC_OPT_CONFIG,
	TOPIC_OPT_IF_NOT_EXISTS,
	TOPIC_OPT_IF_EXISTS,
	TOPIC_OPT_SET,
	TOPIC_OPT_DELETE,
	TOPIC_OPT_ALL,
};

/* Bit per option a sub-command accepts. */
#define TOPIC_ALLOW(opt) (1u << ((opt)-CLI_OPT_FIRST_CUSTOM))

struct topic_args {
	struct cli cli;
	const char *names[TOPIC_NAMES_MAX];
	int32_t name_count;
	int32_t partitions;         /* -1 = broker default */
	int16_t replication_factor; /* -1 = broker default */
	char *config_keys[TOPIC_CONFIGS_MAX];
	char *config_values[TOPIC_CONFIGS_MAX]; /* NULL = --delete */
	int32_t config_count;
	bool if_not_exists;
	bool if_exists;
	bool all;
};

struct topic_sub {
	const char *name;
	unsigned allowed;  /* TOPIC_ALLOW bits */
	int32_t names_min; /* positional topic names */
	int32_t names_max;
	const char *synopsis; /* after "sluice topic NAME " */
	int (*run)(struct topic_args *a);
};

static void topic_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice topic <command> [options]\n"
	        "\n"
	        "commands:\n"
	        "  create NAME [--partitions N] [--replication-factor N] [--config k=v]...\n"
	        "         [--if-not-exists]\n"
	        "  list\n"
	        "  describe [NAME...]            topic id, partitions, leader, replicas, isr,\n"
	        "                                configs set on the topic\n"
	        "  delete NAME [--if-exists]\n"
	        "  alter-config NAME [--set k=v]... [--delete k]...\n"
	        "  describe-config NAME [--all]  configs set on the topic (--all: every config)\n"
	        "\n"
	        "common options:\n"
	        "  --bootstrap-server HOST:PORT  broker to talk to (default localhost:9092)\n"
	        "  --timeout-ms N                request timeout (default 30000)\n"
	        "  -h, --help                    show this help\n");
}

/* ---- create ---------------------------------------------------------------------------- */

static int topic_create(struct topic_args *a)
{
	struct cli *c = &a->cli;
	int16_t v = cli_version(c, CLI_API_CREATE_TOPICS, 0);
	if (v < 0)
		return CLI_EXIT_FAIL;
	struct wire_create_topics_request req;
	wire_create_topics_request_init(&req);
	struct wire_create_topics_request_creatable_topic t;
	wire_create_topics_request_creatable_topic_init(&t);
	struct wire_create_topics_request_creatable_topic_config cfg[TOPIC_CONFIGS_MAX];
	t.name = wire_str_c(a->names[0]);
	/* -1 (the broker's default) needs v4+ (KIP-464); older brokers get Kafka's old default. */
	t.num_partitions = a->partitions >= 0 || v >= 4 ? a->partitions : 1;
	t.replication_factor = a->replication_factor >= 0 || v >= 4 ? a->replication_factor : 1;
	for (int32_t i = 0; i < a->config_count; i++) {
		wire_create_topics_request_creatable_topic_config_init(&cfg[i]);
		cfg[i].name = wire_str_c(a->config_keys[i]);
		cfg[i].value = wire_str_c(a->config_values[i]);
	}
	t.configs = cfg;
	t.configs_count = a->config_count;
	req.topics = &t;
	req.topics_count = 1;
	req.timeout_ms = (int32_t)c->timeout_ms;
	struct wire_create_topics_response resp;
	wire_create_topics_response_init(&resp);
	if (cli_call(c, CLI_API_CREATE_TOPICS, v, &req, &resp, 0) != 0)
		return CLI_EXIT_FAIL;
	if (resp.topics_count != 1)
		return cli_fail("CreateTopics: expected 1 result, got %d", resp.topics_count);
	const struct wire_create_topics_response_creatable_topic_result *r = &resp.topics[0];
	if (r->error_code == WIRE_ERR_TOPIC_ALREADY_EXISTS && a->if_not_exists)
		return CLI_EXIT_OK;
	if (r->error_code != WIRE_ERR_NONE) {
		return cli_topic_error(a->names[0], r->error_code, r->error_message);
	}
	printf("Created topic %s.\n", a->names[0]);
	return CLI_EXIT_OK;
}

/* ---- list / describe --------------------------------------------------------------------- */

static int topic_cmp_name(const void *x, const void *y)
{
	const struct wire_metadata_response_topic *a = x;
	const struct wire_metadata_response_topic *b = y;
	int n = SL_MIN(cli_len(a->name), cli_len(b->name));
	int r = memcmp(cli_ptr(a->name), cli_ptr(b->name), (size_t)n);
	return r != 0 ? r : cli_len(a->name) - cli_len(b->name);
}

static int topic_list(struct topic_args *a)
{
	struct wire_metadata_response md;
	int16_t v;
	if (cli_metadata(&a->cli, NULL, 0, &md, &v) != 0)
		return CLI_EXIT_FAIL;
	qsort(md.topics, (size_t)SL_MAX(md.topics_count, 0), sizeof(*md.topics), topic_cmp_name);
	for (int32_t i = 0; i < md.topics_count; i++)
		if (md.topics[i].error_code == WIRE_ERR_NONE)
			printf("%.*s\n", cli_len(md.topics[i].name), cli_ptr(md.topics[i].name));
	return CLI_EXIT_OK;
}

static void topic_print_ids(const char *label, const int32_t *ids, int32_t count)
{
	printf("\t%s: ", label);
	for (int32_t i = 0; i < count; i++)
		printf("%s%d", i > 0 ? "," : "", ids[i]);
}

/* DescribeConfigs (version v) of every config of topic `name` into resp. Returns 0 or
 * CLI_EXIT_FAIL (message printed). */
static int topic_describe_configs(struct cli *c, int16_t v, struct wire_str name,
                                  struct wire_describe_configs_response *resp)
{
	struct wire_describe_configs_request req;
	wire_describe_configs_request_init(&req);
	struct wire_describe_configs_request_resource res;
	wire_describe_configs_request_resource_init(&res);
	res.resource_type = CLI_RESOURCE_TOPIC;
	res.resource_name = name;
	res.configuration_keys_count = -1;
	req.resources = &res;
	req.resources_count = 1;
	wire_describe_configs_response_init(resp);
	return cli_call(c, CLI_API_DESCRIBE_CONFIGS, v, &req, resp, 0);
}

/* The topic's own configs (source DYNAMIC_TOPIC_CONFIG) as "k=v,k=v"; "" when the broker
 * cannot describe configs. Allocated from the arena. */
static const char *topic_overrides(struct cli *c, struct wire_str name)
{
	int16_t v = net_client_version(c->client, CLI_API_DESCRIBE_CONFIGS);
	if (v < 1)
		return "";
	struct wire_describe_configs_response resp;
	if (topic_describe_configs(c, v, name, &resp) != 0)
		return NULL;
	struct sl_buf b;
	sl_buf_init(&b, 1u << 20);
	for (int32_t i = 0; i < resp.results_count && resp.results[i].error_code == 0; i++) {
		const struct wire_describe_configs_response_result *r = &resp.results[i];
		for (int32_t j = 0; j < r->configs_count; j++) {
			const struct wire_describe_configs_response_resource_result *e =
			        &r->configs[j];
			if (e->config_source != 1)
				continue;
			sl_buf_printf(&b, "%s%.*s=%.*s", b.len > 0 ? "," : "", cli_len(e->name),
			              cli_ptr(e->name), cli_len(e->value), cli_ptr(e->value));
		}
	}
	char *s = sl_arena_strndup(&c->arena, b.data != NULL ? (const char *)b.data : "", b.len);
	sl_buf_free(&b);
	return s != NULL ? s : "";
}

static int topic_describe_one(struct cli *c, const struct wire_metadata_response_topic *t)
{
	const char *configs = topic_overrides(c, t->name);
	if (configs == NULL)
		return CLI_EXIT_FAIL;
	char id[SL_UUID_STR_LEN + 1];
	sl_uuid_to_str(&t->topic_id, id);
	int32_t rf = t->partitions_count > 0 ? t->partitions[0].replica_nodes_count : 0;
	printf("Topic: %.*s\tTopicId: %s\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: "
	       "%s\n",
	       cli_len(t->name), cli_ptr(t->name), id, t->partitions_count, rf, configs);
	for (int32_t i = 0; i < t->partitions_count; i++) {
		const struct wire_metadata_response_partition *p = &t->partitions[i];
		printf("\tTopic: %.*s\tPartition: %d\tLeader: ", cli_len(t->name), cli_ptr(t->name),
		       p->partition_index);
		if (p->leader_id >= 0)
			printf("%d", p->leader_id);
		else
			printf("none");
		topic_print_ids("Replicas", p->replica_nodes, p->replica_nodes_count);
		topic_print_ids("Isr", p->isr_nodes, p->isr_nodes_count);
		printf("\n");
	}
	return CLI_EXIT_OK;
}

static int topic_cmp_partition(const void *x, const void *y)
{
	const struct wire_metadata_response_partition *a = x;
	const struct wire_metadata_response_partition *b = y;
	return (a->partition_index > b->partition_index) -
	       (a->partition_index < b->partition_index);
}

static int topic_describe(struct topic_args *a)
{
	struct wire_metadata_response md;
	int16_t v;
	if (cli_metadata(&a->cli, a->name_count > 0 ? a->names : NULL, a->name_count, &md, &v) != 0)
		return CLI_EXIT_FAIL;
	/* Check every requested topic before printing anything. */
	for (int32_t i = 0; i < md.topics_count; i++) {
		const struct wire_metadata_response_topic *t = &md.topics[i];
		if (t->error_code != WIRE_ERR_NONE && a->name_count > 0) {
			char what[300];
			snprintf(what, sizeof(what), "topic '%.*s'", cli_len(t->name),
			         cli_ptr(t->name));
			return cli_kafka_error(what, t->error_code, (struct wire_str){NULL, -1});
		}
	}
	/* Names are views into the receive buffer, which DescribeConfigs below reuses. */
	for (int32_t i = 0; i < md.topics_count; i++) {
		char *name = cli_strdup(&a->cli, md.topics[i].name);
		if (name == NULL)
			return cli_fail("out of memory");
		md.topics[i].name = wire_str_c(name);
	}
	qsort(md.topics, (size_t)SL_MAX(md.topics_count, 0), sizeof(*md.topics), topic_cmp_name);
	for (int32_t i = 0; i < md.topics_count; i++) {
		struct wire_metadata_response_topic *t = &md.topics[i];
		if (t->error_code != WIRE_ERR_NONE)
			continue;
		qsort(t->partitions, (size_t)SL_MAX(t->partitions_count, 0), sizeof(*t->partitions),
		      topic_cmp_partition);
		if (topic_describe_one(&a->cli, t) != 0)
			return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

/* ---- delete ---------------------------------------------------------------------------- */

static int topic_delete(struct topic_args *a)
{
	struct cli *c = &a->cli;
	int16_t v = cli_version(c, CLI_API_DELETE_TOPICS, 0);
	if (v < 0)
		return CLI_EXIT_FAIL;
	struct wire_delete_topics_request req;
	wire_delete_topics_request_init(&req);
	struct wire_delete_topics_request_delete_topic_state state;
	wire_delete_topics_request_delete_topic_state_init(&state);
	struct wire_str name = wire_str_c(a->names[0]);
	state.name = name;
	if (v >= 6) {
		req.topics = &state;
		req.topics_count = 1;
	} else {
		req.topic_names = &name;
		req.topic_names_count = 1;
	}
	req.timeout_ms = (int32_t)c->timeout_ms;
	struct wire_delete_topics_response resp;
	wire_delete_topics_response_init(&resp);
	if (cli_call(c, CLI_API_DELETE_TOPICS, v, &req, &resp, 0) != 0)
		return CLI_EXIT_FAIL;
	if (resp.responses_count != 1)
		return cli_fail("DeleteTopics: expected 1 result, got %d", resp.responses_count);
	int16_t code = resp.responses[0].error_code;
	if (code == WIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION && a->if_exists)
		return CLI_EXIT_OK;
	if (code != WIRE_ERR_NONE) {
		return cli_topic_error(a->names[0], code, resp.responses[0].error_message);
	}
	printf("Deleted topic %s.\n", a->names[0]);
	return CLI_EXIT_OK;
}

/* ---- alter-config / describe-config ---------------------------------------------------- */

static int topic_alter_config(struct topic_args *a)
{
	struct cli *c = &a->cli;
	int16_t v = cli_version(c, CLI_API_INCREMENTAL_ALTER_CONFIGS, 0);
	if (v < 0)
		return CLI_EXIT_FAIL;
	struct wire_incremental_alter_configs_request req;
	wire_incremental_alter_configs_request_init(&req);
	struct wire_incremental_alter_configs_request_alter_configs_resource res;
	wire_incremental_alter_configs_request_alter_configs_resource_init(&res);
	struct wire_incremental_alter_configs_request_alterable_config cfg[TOPIC_CONFIGS_MAX];
	for (int32_t i = 0; i < a->config_count; i++) {
		wire_incremental_alter_configs_request_alterable_config_init(&cfg[i]);
		cfg[i].name = wire_str_c(a->config_keys[i]);
		cfg[i].config_operation = a->config_values[i] != NULL ? 0 : 1; /* SET : DELETE */
		cfg[i].value = wire_str_c(a->config_values[i]);
	}
	res.resource_type = CLI_RESOURCE_TOPIC;
	res.resource_name = wire_str_c(a->names[0]);
	res.configs = cfg;
	res.configs_count = a->config_count;
	req.resources = &res;
	req.resources_count = 1;
	struct wire_incremental_alter_configs_response resp;
	wire_incremental_alter_configs_response_init(&resp);
	if (cli_call(c, CLI_API_INCREMENTAL_ALTER_CONFIGS, v, &req, &resp, 0) != 0)
		return CLI_EXIT_FAIL;
	if (resp.responses_count != 1)
		return cli_fail("IncrementalAlterConfigs: expected 1 result, got %d",
		                resp.responses_count);
	if (resp.responses[0].error_code != WIRE_ERR_NONE) {
		return cli_topic_error(a->names[0], resp.responses[0].error_code,
		                       resp.responses[0].error_message);
	}
	printf("Completed updating config for topic %s.\n", a->names[0]);
	return CLI_EXIT_OK;
}

static void topic_print_config(const struct wire_describe_configs_response_resource_result *e)
{
	if (e->value.len < 0 && e->is_sensitive)
		printf("%.*s=<sensitive>", cli_len(e->name), cli_ptr(e->name));
	else
		printf("%.*s=%.*s", cli_len(e->name), cli_ptr(e->name), cli_len(e->value),
		       cli_ptr(e->value));
	printf(" source=%s%s%s\n", cli_config_source_name(e->config_source),
	       e->read_only ? " read-only" : "", e->is_sensitive ? " sensitive" : "");
}

static int topic_describe_config(struct topic_args *a)
{
	struct cli *c = &a->cli;
	int16_t v = cli_version(c, CLI_API_DESCRIBE_CONFIGS, 1);
	if (v < 0)
		return CLI_EXIT_FAIL;
	struct wire_describe_configs_response resp;
	if (topic_describe_configs(c, v, wire_str_c(a->names[0]), &resp) != 0)
		return CLI_EXIT_FAIL;
	if (resp.results_count != 1)
		return cli_fail("DescribeConfigs: expected 1 result, got %d", resp.results_count);
	const struct wire_describe_configs_response_result *r = &resp.results[0];
	if (r->error_code != WIRE_ERR_NONE) {
		return cli_topic_error(a->names[0], r->error_code, r->error_message);
	}
	for (int32_t i = 0; i < r->configs_count; i++)
		if (a->all || r->configs[i].config_source == 1)
			topic_print_config(&r->configs[i]);
	return CLI_EXIT_OK;
}

/* ---- argument parsing ------------------------------------------------------------------ */

static const struct topic_sub topic_subs[] = {
        {"create",
         TOPIC_ALLOW(TOPIC_OPT_PARTITIONS) | TOPIC_ALLOW(TOPIC_OPT_RF) |
                 TOPIC_ALLOW(TOPIC_OPT_CONFIG) | TOPIC_ALLOW(TOPIC_OPT_IF_NOT_EXISTS),
         1, 1, "NAME [--partitions N] [--replication-factor N] [--config k=v]... [--if-not-exists]",
         topic_create},
        {"list", 0, 0, 0, "", topic_list},
        {"describe", 0, 0, TOPIC_NAMES_MAX, "[NAME...]", topic_describe},
        {"delete", TOPIC_ALLOW(TOPIC_OPT_IF_EXISTS), 1, 1, "NAME [--if-exists]", topic_delete},
        {"alter-config", TOPIC_ALLOW(TOPIC_OPT_SET) | TOPIC_ALLOW(TOPIC_OPT_DELETE), 1, 1,
         "NAME [--set k=v]... [--delete k]...", topic_alter_config},
        {"describe-config", TOPIC_ALLOW(TOPIC_OPT_ALL), 1, 1, "NAME [--all]",
         topic_describe_config},
};

static const struct option topic_options[] = {
        CLI_COMMON_LONG_OPTIONS,
        {"partitions", required_argument, NULL, TOPIC_OPT_PARTITIONS},
        {"replication-factor", required_argument, NULL, TOPIC_OPT_RF},
        {"config", required_argument, NULL, TOPIC_OPT_CONFIG},
        {"if-not-exists", no_argument, NULL, TOPIC_OPT_IF_NOT_EXISTS},
        {"if-exists", no_argument, NULL, TOPIC_OPT_IF_EXISTS},
        {"set", required_argument, NULL, TOPIC_OPT_SET},
        {"delete", required_argument, NULL, TOPIC_OPT_DELETE},
        {"all", no_argument, NULL, TOPIC_OPT_ALL},
        {NULL, 0, NULL, 0},
};

/* Adds a --config/--set (value != NULL) or --delete entry. */
static int topic_add_config(struct topic_args *a, const char *flag, char *arg, bool has_value)
{
	if (a->config_count >= TOPIC_CONFIGS_MAX)
		return cli_usage_error(&a->cli, "too many %s options (at most %d)", flag,
		                       TOPIC_CONFIGS_MAX);
	char *key = arg;
	char *value = NULL;
	if (has_value && !cli_split_kv(arg, &key, &value))
		return cli_usage_error(&a->cli, "%s expects KEY=VALUE, got '%s'", flag, arg);
	if (!has_value && (arg[0] == '\0' || strchr(arg, '=') != NULL))
		return cli_usage_error(&a->cli, "%s expects a config name, got '%s'", flag, arg);
	a->config_keys[a->config_count] = key;
	a->config_values[a->config_count] = value;
	a->config_count++;
	return 0;
}

static int topic_option(struct topic_args *a, int opt, char *arg)
{
	int64_t v;
	switch (opt) {
	case TOPIC_OPT_PARTITIONS:
		if (!cli_parse_int(&a->cli, "--partitions", arg, 1, INT32_MAX, &v))
			return CLI_EXIT_USAGE;
		a->partitions = (int32_t)v;
		return 0;
	case TOPIC_OPT_RF:
		if (!cli_parse_int(&a->cli, "--replication-factor", arg, 1, INT16_MAX, &v))
			return CLI_EXIT_USAGE;
		a->replication_factor = (int16_t)v;
		return 0;
	case TOPIC_OPT_CONFIG:
		return topic_add_config(a, "--config", arg, true);
	case TOPIC_OPT_SET:
		return topic_add_config(a, "--set", arg, true);
	case TOPIC_OPT_DELETE:
		return topic_add_config(a, "--delete", arg, false);
	case TOPIC_OPT_IF_NOT_EXISTS:
		a->if_not_exists = true;
		return 0;
	case TOPIC_OPT_IF_EXISTS:
		a->if_exists = true;
		return 0;
	case TOPIC_OPT_ALL:
		a->all = true;
		return 0;
	default:
		SL_UNREACHABLE();
	}
}

static void topic_sub_usage(const struct topic_sub *s, FILE *out)
{
	fprintf(out,
	        "usage: sluice topic %s %s\n"
	        "       [--bootstrap-server HOST:PORT] [--timeout-ms N]\n",
	        s->name, s->synopsis);
}

/* Parses argv (argv[0] = the sub-command name) into a. Returns 0, CLI_EXIT_OK + 100 for
 * --help (printed), or CLI_EXIT_USAGE. */
static int topic_parse(const struct topic_sub *s, struct topic_args *a, int argc, char **argv)
{
	optind = 0;
	opterr = 0;
	int opt;
	int li = -1;
	while ((opt = getopt_long(argc, argv, ":h", topic_options, &li)) != -1) {
		if (opt == '?' || opt == ':')
			return cli_getopt_error(&a->cli, opt, argv);
		if (opt == 'h') {
			topic_sub_usage(s, stdout);
			return 100;
		}
		int rc = cli_common_option(&a->cli, opt, optarg);
		if (rc >= 0) {
			if (rc != 0)
				return rc;
			continue;
		}
		if ((s->allowed & TOPIC_ALLOW(opt)) == 0)
			return cli_usage_error(&a->cli, "option '--%s' is not valid for 'topic %s'",
			                       li >= 0 ? topic_options[li].name : "?", s->name);
		rc = topic_option(a, opt, optarg);
		if (rc != 0)
			return rc;
	}
	for (int i = optind; i < argc; i++) {
		if (a->name_count >= s->names_max)
			return cli_usage_error(&a->cli, "unexpected argument '%s'", argv[i]);
		if (argv[i][0] == '\0')
			return cli_usage_error(&a->cli, "empty topic name");
		a->names[a->name_count++] = argv[i];
	}
	if (a->name_count < s->names_min)
		return cli_usage_error(&a->cli, "missing topic NAME");
	if (strcmp(s->name, "alter-config") == 0 && a->config_count == 0)
		return cli_usage_error(&a->cli, "nothing to change: give --set k=v or --delete k");
	return 0;
}

int tools_topic_main(int argc, char **argv)
{
	if (argc < 2) {
		topic_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		topic_usage(stdout);
		return CLI_EXIT_OK;
	}
	const struct topic_sub *s = NULL;
	for (size_t i = 0; i < SL_ARRAY_LEN(topic_subs); i++)
		if (strcmp(argv[1], topic_subs[i].name) == 0)
			s = &topic_subs[i];
	if (s == NULL) {
		fprintf(stderr, "sluice topic: unknown command '%s'\n\n", argv[1]);
		topic_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	static struct topic_args a; /* large; one per process */
	memset(&a, 0, sizeof(a));
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "topic %s", s->name);
	cli_init(&a.cli, cmd);
	a.partitions = -1;
	a.replication_factor = -1;
	int rc = topic_parse(s, &a, argc - 1, argv + 1);
	if (rc == 0)
		rc = cli_connect(&a.cli);
	if (rc == 0)
		rc = s->run(&a);
	cli_free(&a.cli);
	fflush(stdout);
	return rc == 100 ? CLI_EXIT_OK : rc;
}
