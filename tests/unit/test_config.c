/* test_config.c: server.properties loading and the KRaft validation rules (src/node/config*). */
#include "check_main.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_KV 32

static const char *const combined[] = {
        "process.roles=broker,controller",
        "node.id=1",
        "controller.quorum.voters=1@localhost:9093",
        "listeners=PLAINTEXT://:9092,CONTROLLER://:9093",
        "advertised.listeners=PLAINTEXT://localhost:9092",
        "controller.listener.names=CONTROLLER",
        "log.dirs=/tmp/sl-a",
        NULL,
};

static const char *const controller_only[] = {
        "process.roles=controller",
        "node.id=1",
        "controller.quorum.voters=1@localhost:9093",
        "listeners=CONTROLLER://:9093",
        "controller.listener.names=CONTROLLER",
        "log.dirs=/tmp/sl-a",
        NULL,
};

static const char *const broker_only[] = {
        "process.roles=broker",
        "node.id=2",
        "controller.quorum.voters=1@localhost:9093",
        "listeners=PLAINTEXT://:9092",
        "advertised.listeners=PLAINTEXT://localhost:9092",
        "controller.listener.names=CONTROLLER",
        "log.dirs=/tmp/sl-a",
        NULL,
};

/* Loads base + extra (extra "key=value" entries override base ones) with no file. */
static enum sl_err load(const char *const *base, const char *const *extra, struct node_config *c,
                        struct node_config_warnings *w, char *err, size_t err_len)
{
	struct node_override ov[MAX_KV];
	size_t n = 0;
	for (size_t i = 0; base != NULL && base[i] != NULL; i++)
		ck_assert_int_eq(node_override_parse(base[i], &ov[n++], NULL, 0), SL_OK);
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		ck_assert_int_eq(node_override_parse(extra[i], &ov[n++], NULL, 0), SL_OK);
	return node_config_load(NULL, ov, n, c, w, err, err_len);
}

static struct node_config *cfg_new(void)
{
	struct node_config *c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(test_defaults)
{
	struct node_config *c = cfg_new();
	char err[512] = "";
	ck_assert_msg(load(combined, NULL, c, NULL, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_uint_eq(c->roles, NODE_ROLE_BROKER | NODE_ROLE_CONTROLLER);
	ck_assert_int_eq(c->node_id, 1);
	ck_assert_int_eq(c->socket_request_max_bytes, 104857600);
	ck_assert_int_eq(c->max_connections, INT32_MAX);
	ck_assert_int_eq(c->connections_max_idle_ms, 600000);
	ck_assert_int_eq(c->socket_send_buffer_bytes, 102400);
	ck_assert_int_eq(c->socket_receive_buffer_bytes, 102400);
	ck_assert_int_eq(c->num_partitions, 1);
	ck_assert_int_eq(c->default_replication_factor, 1);
	ck_assert(c->auto_create_topics_enable);
	ck_assert_int_eq(c->min_insync_replicas, 1);
	ck_assert_int_eq(c->log_segment_bytes, 1073741824);
	ck_assert_int_eq(c->log_retention_ms, 168LL * 3600000);
	ck_assert_int_eq(c->log_retention_bytes, -1);
	ck_assert_int_eq(c->log_index_interval_bytes, 4096);
	ck_assert_int_eq(c->log_flush_interval_messages, INT64_MAX);
	ck_assert_int_eq(c->log_flush_interval_ms, INT64_MAX);
	ck_assert_int_eq(c->quorum_election_timeout_ms, 1000);
	ck_assert_int_eq(c->quorum_fetch_timeout_ms, 2000);
	ck_assert_int_eq(c->quorum_election_backoff_max_ms, 1000);
	ck_assert_int_eq(c->quorum_append_linger_ms, 25);
	ck_assert_int_eq(c->quorum_request_timeout_ms, 2000);
	ck_assert_int_eq(c->quorum_retry_backoff_ms, 20);
	ck_assert_int_eq(c->broker_heartbeat_interval_ms, 2000);
	ck_assert_int_eq(c->broker_session_timeout_ms, 9000);
	ck_assert_int_eq(c->metadata_log_segment_bytes, 1073741824);
	ck_assert_int_eq(c->metadata_max_idle_interval_ms, 500);
	ck_assert_int_eq(c->metadata_snapshot_max_new_record_bytes, 20971520);
	ck_assert_int_eq(c->metadata_snapshot_max_interval_ms, 3600000);
	ck_assert_int_eq(c->metadata_max_retention_bytes, 104857600);
	ck_assert_int_eq(c->metadata_max_retention_ms, 604800000);
	ck_assert_int_eq(c->io_backend, 0);
	ck_assert_int_eq(c->log_level, SL_LOG_INFO);
	ck_assert(!c->unstable_feature_versions_enable);
	ck_assert_str_eq(c->inter_broker_protocol_version, "");
	ck_assert_uint_eq(c->log_dir_count, 1);
	ck_assert_str_eq(c->log_dirs[0], "/tmp/sl-a");
	ck_assert_str_eq(c->metadata_log_dir, "/tmp/sl-a");
	ck_assert_str_eq(c->inter_broker_listener_name, "PLAINTEXT");
	ck_assert_uint_eq(c->listener_count, 2);
	ck_assert_str_eq(c->listeners[0].name, "PLAINTEXT");
	ck_assert_str_eq(c->listeners[0].host, "");
	ck_assert_int_eq(c->listeners[0].port, 9092);
	ck_assert(!c->listeners[0].is_controller);
	ck_assert(c->listeners[1].is_controller);
	ck_assert_int_eq(c->listeners[1].protocol, NODE_SEC_PLAINTEXT); /* implicit mapping */
	/* Advertised: the explicit broker listener plus the controller listener from listeners. */
	ck_assert_uint_eq(c->advertised_count, 2);
	ck_assert_str_eq(c->advertised[0].host, "localhost");
	ck_assert_str_eq(c->advertised[1].name, "CONTROLLER");
	ck_assert_uint_eq(c->voter_count, 1);
	ck_assert_int_eq(c->voters[0].id, 1);
	ck_assert_str_eq(c->voters[0].host, "localhost");
	ck_assert_int_eq(c->voters[0].port, 9093);
	ck_assert_ptr_eq(node_config_broker_listener(c), &c->listeners[0]);
	free(c);
}
END_TEST

START_TEST(test_values_and_derived)
{
	struct node_config *c = cfg_new();
	char err[512] = "";
	const char *const extra[] = {
	        "log.retention.minutes=5",
	        "num.partitions= 12 ",
	        "auto.create.topics.enable=FALSE",
	        "sluice.io.backend=sync",
	        "sluice.log.level=debug",
	        "log.dirs=/d1, /d2 ,/d3",
	        "metadata.log.dir=/m",
	        "log.flush.interval.ms=1000",
	        "inter.broker.protocol.version=3.9-IV0",
	        "connections.max.idle.ms=-1",
	        NULL,
	};
	ck_assert_msg(load(combined, extra, c, NULL, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_int_eq(c->log_retention_ms, 300000);
	ck_assert_int_eq(c->num_partitions, 12);
	ck_assert(!c->auto_create_topics_enable);
	ck_assert_int_eq(c->io_backend, 2);
	ck_assert_int_eq(c->log_level, SL_LOG_DEBUG);
	ck_assert_uint_eq(c->log_dir_count, 3);
	ck_assert_str_eq(c->log_dirs[1], "/d2");
	ck_assert_str_eq(c->metadata_log_dir, "/m");
	ck_assert_int_eq(c->log_flush_interval_ms, 1000);
	ck_assert_str_eq(c->inter_broker_protocol_version, "3.9-IV0");
	ck_assert_int_eq(c->connections_max_idle_ms, -1);
	const char *all[NODE_MAX_DIRS + 1];
	ck_assert_uint_eq(node_config_all_dirs(c, all, SL_ARRAY_LEN(all)), 4);
	ck_assert_str_eq(all[0], "/d1");
	ck_assert_str_eq(all[3], "/m");

	const char *const ms[] = {"log.retention.ms=-1", "log.retention.hours=1", NULL};
	ck_assert_msg(load(combined, ms, c, NULL, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_int_eq(c->log_retention_ms, -1);
	const char *const by_broker_id[] = {"node.id=", "broker.id=1", NULL};
	/* "node.id=" is an invalid INT, so drop node.id by using broker.id alone instead. */
	ck_assert_int_eq(load(combined, by_broker_id, c, NULL, err, sizeof(err)), SL_ECONFIG);
	ck_assert_str_eq(err, "Invalid value  for configuration node.id: Not a number of type INT");
	free(c);
}
END_TEST

START_TEST(test_broker_id_alone)
{
	static const char *const base[] = {
	        "process.roles=broker,controller",
	        "broker.id=1",
	        "controller.quorum.voters=1@localhost:9093",
	        "listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093",
	        "controller.listener.names=CONTROLLER",
	        NULL,
	};
	struct node_config *c = cfg_new();
	char err[512] = "";
	ck_assert_msg(load(base, NULL, c, NULL, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_int_eq(c->node_id, 1);
	ck_assert_str_eq(c->log_dirs[0], "/tmp/sluice-logs"); /* log.dir default */
	free(c);
}
END_TEST

START_TEST(test_listeners_ipv6_and_roles)
{
	struct node_config *c = cfg_new();
	char err[512] = "";
	const char *const v6[] = {
	        "listeners=PLAINTEXT://[::1]:9092,CONTROLLER://[fe80::1%eth0]:9093",
	        "advertised.listeners=plaintext://[::1]:9092",
	        "controller.quorum.voters=1@[::1]:9093",
	        NULL,
	};
	ck_assert_msg(load(combined, v6, c, NULL, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_str_eq(c->listeners[0].host, "::1");
	ck_assert_str_eq(c->listeners[1].host, "fe80::1%eth0");
	ck_assert_str_eq(c->advertised[0].name, "PLAINTEXT");
	ck_assert_str_eq(c->voters[0].host, "::1");

	ck_assert_msg(load(controller_only, NULL, c, NULL, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_uint_eq(c->roles, NODE_ROLE_CONTROLLER);
	ck_assert_ptr_null(node_config_broker_listener(c));

	struct node_config_warnings w;
	const char *const two[] = {"controller.listener.names=CONTROLLER,CTL2",
	                           "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,"
	                           "CONTROLLER:SSL,CTL2:PLAINTEXT",
	                           NULL};
	ck_assert_msg(load(broker_only, two, c, &w, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_uint_eq(c->roles, NODE_ROLE_BROKER);
	ck_assert_uint_eq(w.count, 1);
	ck_assert_ptr_nonnull(strstr(w.text[0], "only the first (CONTROLLER)"));
	/* Dynamic quorum: bootstrap servers instead of voters. */
	const char *const dyn[] = {"controller.quorum.voters=",
	                           "controller.quorum.bootstrap.servers=a:9093,[::1]:9094", NULL};
	ck_assert_msg(load(controller_only, dyn, c, NULL, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_uint_eq(c->voter_count, 0);
	ck_assert_uint_eq(c->bootstrap_server_count, 2);
	ck_assert_str_eq(c->bootstrap_servers[1], "[::1]:9094");
	free(c);
}
END_TEST

struct bad_case {
	const char *const *base;
	const char *extra[4];
	const char *error; /* expected exact text, or a prefix ending in '*' */
};

static const struct bad_case bad_cases[] = {
        {combined,
         {"node.id=abc"},
         "Invalid value abc for configuration node.id: Not a number of type INT"},
        {combined,
         {"node.id=1x"},
         "Invalid value 1x for configuration node.id: Not a number of type INT"},
        {combined,
         {"node.id=99999999999"},
         "Invalid value 99999999999 for configuration node.id: Not a number of type INT"},
        {combined,
         {"node.id=-5"},
         "Invalid value -5 for configuration node.id: Value must be at least 0"},
        {combined, {"broker.id=2"}, "You must set `node.id` to the same value as `broker.id`."},
        {combined,
         {"process.roles=foo"},
         "Invalid value foo for configuration process.roles: Unknown process role 'foo' (only "
         "'broker' and 'controller' are allowed roles)"},
        {combined,
         {"process.roles=broker,broker"},
         "Duplicate role names found in `process.roles`: broker,broker"},
        {combined, {"process.roles="}, "Missing configuration `process.roles`*"},
        {combined,
         {"num.partitions=0"},
         "Invalid value 0 for configuration num.partitions: Value must be at least 1"},
        {combined,
         {"default.replication.factor=40000"},
         "Invalid value 40000 for configuration default.replication.factor: Value must be no more "
         "than 32767"},
        {combined,
         {"socket.request.max.bytes=0"},
         "Invalid value 0 for configuration socket.request.max.bytes: Value must be at least 1"},
        {combined,
         {"log.flush.interval.messages=9223372036854775808"},
         "Invalid value 9223372036854775808 for configuration log.flush.interval.messages: Not a "
         "number of type LONG"},
        {combined,
         {"auto.create.topics.enable=yes"},
         "Invalid value yes for configuration auto.create.topics.enable: Expected value to be "
         "either true or false"},
        {combined,
         {"sluice.io.backend=epoll"},
         "Invalid value epoll for configuration sluice.io.backend: String must be one of: auto, "
         "uring, sync"},
        {combined,
         {"sluice.log.level=loud"},
         "Invalid value loud for configuration sluice.log.level: String must be one of: debug, "
         "info, warn, error, off"},
        {combined,
         {"log.retention.ms=0"},
         "log.retention.ms must be unlimited (-1) or, equal or greater than 1"},
        {combined,
         {"metadata.log.segment.bytes=1000"},
         "Invalid value 1000 for configuration metadata.log.segment.bytes: Value must be at least "
         "8388608 (metadata.log.segment.min.bytes)"},
        {combined,
         {"control.plane.listener.name=X"},
         "control.plane.listener.name is not supported in KRaft mode."},
        {combined,
         {"log.dirs=/a,/a"},
         "Invalid value /a,/a for configuration log.dirs: Duplicate log directory /a"},
        {combined,
         {"log.dirs= , "},
         "At least one log directory must be defined via log.dirs or log.dir."},
        {combined,
         {"controller.quorum.voters=1@0.0.0.0:9093"},
         "Invalid value 1@0.0.0.0:9093 for configuration controller.quorum.voters: Host string "
         "(0.0.0.0) is not routeable"},
        {combined,
         {"controller.quorum.voters=1@host"},
         "Invalid value 1@host for configuration controller.quorum.voters: Each entry must be "
         "{id}@{host}:{port} with id >= 0 and port 1-65535"},
        {combined,
         {"controller.quorum.voters=1@a:1,1@b:2"},
         "Invalid value 1@b:2 for configuration controller.quorum.voters: Duplicate voter id 1"},
        {combined,
         {"controller.quorum.voters=2@localhost:9093,3@x:1"},
         "If process.roles contains the 'controller' role, the node id 1 must be included in the "
         "set of voters controller.quorum.voters={2, 3}"},
        {combined,
         {"controller.quorum.voters="},
         "If using process.roles, either controller.quorum.voters or "
         "controller.quorum.bootstrap.servers must contain the set of bootstrap controllers or "
         "controller.quorum.voters must contain a parseable set of controllers."},
        {combined,
         {"controller.quorum.voters=", "controller.quorum.bootstrap.servers=a"},
         "Invalid value a for configuration controller.quorum.bootstrap.servers: Each entry must "
         "be {host}:{port} with port 1-65535"},
        {combined,
         {"controller.listener.names=", "listeners=PLAINTEXT://:9092"},
         "controller.listener.names must contain at least one value appearing in the 'listeners' "
         "configuration when running the KRaft controller role"},
        {combined,
         {"controller.listener.names=CONTROLLER,OTHER"},
         "controller.listener.names must only contain values appearing in the 'listeners' "
         "configuration when running the KRaft controller role"},
        {combined,
         {"listeners=PLAINTEXT://:9092,CONTROLLER://:9092"},
         "Invalid value PLAINTEXT://:9092,CONTROLLER://:9092 for configuration listeners: Each "
         "listener must have a different port"},
        {combined,
         {"listeners=PLAINTEXT://:9092,plaintext://:9093"},
         "Invalid value PLAINTEXT://:9092,plaintext://:9093 for configuration listeners: Each "
         "listener must have a different name"},
        {combined,
         {"listeners=PLAINTEXT:/:9092"},
         "Invalid value PLAINTEXT:/:9092 for configuration listeners: Unable to parse*"},
        {combined,
         {"listeners=PLAINTEXT://h:99999"},
         "Invalid value PLAINTEXT://h:99999 for configuration listeners: Unable to parse*"},
        {combined,
         {"listeners=PLAINTEXT://::1:9092"},
         "Invalid value PLAINTEXT://::1:9092 for configuration listeners: Unable to parse*"},
        {combined,
         {"listeners=FOO://:9092,CONTROLLER://:9093"},
         "No security protocol defined for listener FOO (listeners); add it to "
         "listener.security.protocol.map"},
        {combined,
         {"listener.security.protocol.map=PLAINTEXT:TLS"},
         "Invalid value PLAINTEXT:TLS for configuration listener.security.protocol.map: Map entry "
         "must be of the form NAME:PROTOCOL with PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, "
         "SASL_SSL"},
        {combined,
         {"listener.security.protocol.map=PLAINTEXT:PLAINTEXT"},
         "No security protocol defined for listener CONTROLLER (listeners); add it to "
         "listener.security.protocol.map"},
        {combined,
         {"advertised.listeners=PLAINTEXT://0.0.0.0:9092"},
         "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP "
         "address."},
        {controller_only,
         {"process.roles=broker,controller",
          "listeners=PLAINTEXT://0.0.0.0:9092,CONTROLLER://:9093"},
         "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP "
         "address."},
        {combined,
         {"advertised.listeners=SSL://h:9094"},
         "advertised.listeners listener names must be equal to or a subset of the ones defined in "
         "listeners. Found SSL,CONTROLLER. The valid options based on the current configuration "
         "are PLAINTEXT,CONTROLLER"},
        {combined,
         {"inter.broker.listener.name=CONTROLLER"},
         "inter.broker.listener.name must be a listener name defined in advertised.listeners. The "
         "valid options based on currently configured listeners are PLAINTEXT"},
        {combined,
         {"inter.broker.listener.name=PLAINTEXT", "security.inter.broker.protocol=PLAINTEXT"},
         "Only one of inter.broker.listener.name and security.inter.broker.protocol should be "
         "set."},
        {combined,
         {"listeners=CONTROLLER://:9093", "advertised.listeners="},
         "There must be at least one broker advertised listener. Perhaps all listeners appear in "
         "controller.listener.names?"},
        {combined,
         {"zookeeper.metadata.migration.enable=true"},
         "Invalid value true for configuration zookeeper.metadata.migration.enable: ZooKeeper "
         "migration is not supported"},
        {controller_only,
         {"listeners=CONTROLLER://:9093,PLAINTEXT://:9092"},
         "The listeners config must only contain KRaft controller listeners from "
         "controller.listener.names when process.roles=controller"},
        {broker_only,
         {"node.id=1"},
         "If process.roles contains just the 'broker' role, the node id 1 must not be included in "
         "the set of voters controller.quorum.voters={1}"},
        {broker_only,
         {"controller.listener.names="},
         "controller.listener.names must contain at least one value when running KRaft with just "
         "the broker role"},
        {broker_only,
         {"listeners=PLAINTEXT://:9092,CONTROLLER://:9093"},
         "controller.listener.names must not contain a value appearing in the 'listeners' "
         "configuration when running KRaft with just the broker role"},
        {broker_only,
         {"listener.security.protocol.map=PLAINTEXT:PLAINTEXT"},
         "Controller listener with name CONTROLLER defined in controller.listener.names not found "
         "in listener.security.protocol.map*"},
};

START_TEST(test_bad_values)
{
	struct node_config *c = cfg_new();
	for (size_t i = 0; i < SL_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *bc = &bad_cases[i];
		char err[1024] = "";
		enum sl_err e = load(bc->base, bc->extra, c, NULL, err, sizeof(err));
		ck_assert_msg(e == SL_ECONFIG, "case %zu (%s): got %s", i, bc->extra[0],
		              sl_err_name(e));
		size_t n = strlen(bc->error);
		if (bc->error[n - 1] == '*')
			ck_assert_msg(strncmp(err, bc->error, n - 1) == 0, "case %zu: got '%s'", i,
			              err);
		else
			ck_assert_msg(strcmp(err, bc->error) == 0, "case %zu: got '%s'", i, err);
		ck_assert_ptr_null(strchr(err, '\n'));
	}
	free(c);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_file_overrides_and_warnings)
{
	char path[] = "/tmp/sl-test-config-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	write_file(path, "# a comment\n"
	                 "process.roles=broker,controller\n"
	                 "node.id=1\n"
	                 "controller.quorum.voters=1@localhost:9093\n"
	                 "listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093\n"
	                 "controller.listener.names=CONTROLLER\n"
	                 "num.partitions=3\n"
	                 "no.such.key=1\n"
	                 "num.network.threads=3\n");
	struct node_config *c = cfg_new();
	struct node_config_warnings w;
	char err[512] = "";
	struct node_override ov[2];
	ck_assert_int_eq(node_override_parse("num.partitions=7", &ov[0], NULL, 0), SL_OK);
	ck_assert_int_eq(node_override_parse("other.unknown=x", &ov[1], NULL, 0), SL_OK);
	ck_assert_msg(node_config_load(path, ov, 2, c, &w, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_int_eq(c->num_partitions, 7);
	ck_assert_uint_eq(w.count, 2);
	ck_assert_str_eq(w.text[0], "Unknown configuration key 'no.such.key' (ignored)");
	ck_assert_str_eq(w.text[1], "Unknown configuration key 'other.unknown' (ignored)");

	write_file(path, "process.roles=broker\\u00zz\n");
	ck_assert_int_eq(node_config_load(path, NULL, 0, c, NULL, err, sizeof(err)), SL_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, path));
	unlink(path);
	ck_assert_int_eq(node_config_load(path, NULL, 0, c, NULL, err, sizeof(err)), SL_ENOENT);
	free(c);
}
END_TEST

START_TEST(test_override_parse)
{
	struct node_override o;
	char err[128];
	ck_assert_int_eq(node_override_parse("a.b=c=d", &o, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(o.key_len, 3);
	ck_assert_str_eq(o.value, "c=d");
	ck_assert_int_eq(node_override_parse("a.b=", &o, err, sizeof(err)), SL_OK);
	ck_assert_str_eq(o.value, "");
	ck_assert_int_eq(node_override_parse("novalue", &o, err, sizeof(err)), SL_EINVAL);
	ck_assert_str_eq(err, "Invalid override 'novalue': expected key=value");
	ck_assert_int_eq(node_override_parse("=v", &o, err, sizeof(err)), SL_EINVAL);
}
END_TEST

/* docs/configuration.md documents every key of the table. */
START_TEST(test_keys_documented)
{
	const char *src = getenv("SLUICE_SOURCE_DIR");
	ck_assert_msg(src != NULL, "SLUICE_SOURCE_DIR is not set");
	char path[1024];
	snprintf(path, sizeof(path), "%s/docs/configuration.md", src);
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	static char doc[256 * 1024];
	size_t n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	ck_assert_uint_gt(node_config_key_count(), 60);
	for (size_t i = 0; i < node_config_key_count(); i++) {
		const struct node_config_key *k = node_config_key_at(i);
		char needle[160];
		snprintf(needle, sizeof(needle), "`%s`", k->name);
		ck_assert_msg(strstr(doc, needle) != NULL, "%s is not documented", k->name);
		ck_assert_ptr_eq(node_config_key_find(k->name), k);
	}
	ck_assert_ptr_null(node_config_key_find("no.such.key"));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_values_and_derived);
	tcase_add_test(tc, test_broker_id_alone);
	tcase_add_test(tc, test_listeners_ipv6_and_roles);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_file_overrides_and_warnings);
	tcase_add_test(tc, test_override_parse);
	tcase_add_test(tc, test_keys_documented);
	suite_add_tcase(s, tc);
	return s;
}
