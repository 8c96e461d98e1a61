/*
 * cluster_cmd.c: `sluice cluster`: a local N-node cluster on loopback for trying things out.
 *
 *   sluice cluster [--nodes N | --controllers C --brokers B] [--dir DIR] [--base-port P]
 *                  [--rack-count R] [-o key=value]... [--print-config]
 *
 * This file parses the options, plans the nodes (ids, roles, ports, racks: see cluster_int.h),
 * creates DIR and writes DIR/node-<id>/server.properties, checks every file with the node's
 * own config loader, and hands over to cluster_run() (cluster_run.c). --print-config prints
 * the files instead and touches nothing. Usage errors name the option and exit 2.
 */
#include "cluster_int.h"
#include "tools.h"

#include "base.h"
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLUSTER_DEFAULT_NODES 3
#define CLUSTER_PRINT_BASE_PORT 9092 /* --print-config without --base-port */
#define CLUSTER_PRINT_DIR "/tmp/sluice-cluster"

/* Keys that sluice cluster sets per node; -o cannot change them. */
static const char *const cluster_fixed_keys[] = {
        "process.roles",
        "node.id",
        "broker.id",
        "listeners",
        "advertised.listeners",
        "controller.listener.names",
        "listener.security.protocol.map",
        "controller.quorum.voters",
        "controller.quorum.bootstrap.servers",
        "log.dirs",
        "log.dir",
        "metadata.log.dir",
};

struct cluster_opts {
	int64_t nodes; /* 0 = not given */
	int64_t controllers;
	int64_t brokers;
	int64_t base_port;  /* 0 = free ports */
	int64_t rack_count; /* 0 = no broker.rack */
	const char *dir;    /* NULL = a new directory under $TMPDIR */
	bool print_config;
};

static void cluster_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice cluster [--nodes N | --controllers C --brokers B] [--dir DIR]\n"
	        "                      [--base-port P] [--rack-count R] [-o key=value]...\n"
	        "                      [--print-config]\n"
	        "\n"
	        "Formats and runs a local cluster on 127.0.0.1 in the foreground; Ctrl-C stops "
	        "it.\n"
	        "\n"
	        "options:\n"
	        "  --nodes N            combined mode (default, N=3): nodes 1..N, each\n"
	        "                       broker+controller, all of them voters\n"
	        "  --controllers C      split mode: controllers are nodes 1..C ...\n"
	        "  --brokers B          ... and brokers nodes C+1..C+B (give both)\n"
	        "  --dir DIR            where node-<id>/ directories go; must be empty or new\n"
	        "                       (default: a new $TMPDIR/sluice-cluster-XXXXXX)\n"
	        "  --base-port P        broker ports P, P+1, ... then controller ports\n"
	        "                       (default: free ports chosen by the system)\n"
	        "  --rack-count R       broker.rack=rack-0..rack-<R-1>, round robin over brokers\n"
	        "  -o, --override k=v   add a config key to every node (repeatable)\n"
	        "  --print-config       print the generated server.properties files and exit\n"
	        "  -h, --help           show this help\n");
}

static int cluster_usage_error(const char *fmt, ...) SL_PRINTF(1, 2);
static int cluster_usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sluice cluster: %s\nRun 'sluice cluster --help' for usage.\n", msg);
	return 2;
}

static bool cluster_parse_int(const char *flag, const char *s, int64_t min, int64_t max,
                              int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		cluster_usage_error(
		        "invalid value '%s' for %s (expected an integer from %lld to %lld)", s,
		        flag, (long long)min, (long long)max);
		return false;
	}
	*out = v;
	return true;
}

/* Checks one -o value: key=value, a plain key that sluice cluster does not set itself, and
 * nothing that would change the meaning of a properties file. */
static int cluster_check_override(const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg)
		return cluster_usage_error("-o needs key=value, got '%s'", arg);
	if (strpbrk(arg, "\n\r\\") != NULL)
		return cluster_usage_error("-o '%s': line breaks and backslashes are not allowed",
		                           arg);
	size_t key_len = (size_t)(eq - arg);
	for (size_t i = 0; i < key_len; i++) {
		if (arg[i] == ' ' || arg[i] == '\t' || arg[i] == ':' || arg[i] == '#' ||
		    arg[i] == '!')
			return cluster_usage_error("-o '%s': invalid key", arg);
	}
	for (size_t i = 0; i < SL_ARRAY_LEN(cluster_fixed_keys); i++) {
		if (strlen(cluster_fixed_keys[i]) == key_len &&
		    memcmp(cluster_fixed_keys[i], arg, key_len) == 0)
			return cluster_usage_error("-o %.*s: sluice cluster sets this key itself",
			                           (int)key_len, arg);
	}
	return 0;
}

static int cluster_parse_option(struct cluster *c, struct cluster_opts *o, const char *a,
                                const char *v)
{
	if (strcmp(a, "--nodes") == 0)
		return cluster_parse_int(a, v, 1, CLUSTER_NODES_MAX, &o->nodes) ? 0 : 2;
	if (strcmp(a, "--controllers") == 0)
		return cluster_parse_int(a, v, 1, CLUSTER_NODES_MAX - 1, &o->controllers) ? 0 : 2;
	if (strcmp(a, "--brokers") == 0)
		return cluster_parse_int(a, v, 1, CLUSTER_NODES_MAX - 1, &o->brokers) ? 0 : 2;
	if (strcmp(a, "--base-port") == 0)
		return cluster_parse_int(a, v, 1024, 65535, &o->base_port) ? 0 : 2;
	if (strcmp(a, "--rack-count") == 0)
		return cluster_parse_int(a, v, 1, CLUSTER_NODES_MAX, &o->rack_count) ? 0 : 2;
	if (strcmp(a, "--dir") == 0) {
		if (v[0] == '\0' || strlen(v) > CLUSTER_DIR_MAX)
			return cluster_usage_error("--dir must be 1 to %d bytes", CLUSTER_DIR_MAX);
		/* The path is written into server.properties. */
		if (strpbrk(v, "\n\r\\") != NULL)
			return cluster_usage_error(
			        "--dir must not contain a line break or a backslash");
		o->dir = v;
		return 0;
	}
	/* -o / --override */
	if (c->override_count == CLUSTER_OVERRIDES_MAX)
		return cluster_usage_error("too many -o options (at most %d)",
		                           CLUSTER_OVERRIDES_MAX);
	int rc = cluster_check_override(v);
	if (rc == 0)
		c->overrides[c->override_count++] = v;
	return rc;
}

static bool cluster_takes_value(const char *a)
{
	static const char *const names[] = {"--nodes",     "--controllers", "--brokers",
	                                    "--base-port", "--rack-count",  "--dir",
	                                    "-o",          "--override"};
	for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
		if (strcmp(a, names[i]) == 0)
			return true;
	}
	return false;
}

/* Returns -1 to go on, 0 after --help, or the usage-error exit code. */
static int cluster_parse_args(struct cluster *c, struct cluster_opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cluster_usage(stdout);
			return 0;
		}
		if (strcmp(a, "--print-config") == 0) {
			o->print_config = true;
			continue;
		}
		if (!cluster_takes_value(a))
			return cluster_usage_error("unknown option '%s'", a);
		if (i + 1 >= argc)
			return cluster_usage_error("option '%s' needs a value", a);
		int rc = cluster_parse_option(c, o, a, argv[++i]);
		if (rc != 0)
			return rc;
	}
	bool split = o->controllers != 0 || o->brokers != 0;
	if (split && o->nodes != 0)
		return cluster_usage_error(
		        "--nodes cannot be combined with --controllers/--brokers");
	if (split && (o->controllers == 0 || o->brokers == 0))
		return cluster_usage_error("split mode needs both --controllers and --brokers");
	if (o->controllers + o->brokers > CLUSTER_NODES_MAX)
		return cluster_usage_error("--controllers + --brokers must be at most %d",
		                           CLUSTER_NODES_MAX);
	if (!split && o->nodes == 0)
		o->nodes = CLUSTER_DEFAULT_NODES;
	int64_t broker_count = split ? o->brokers : o->nodes;
	if (o->rack_count > broker_count)
		return cluster_usage_error("--rack-count %lld is more than the %lld brokers",
		                           (long long)o->rack_count, (long long)broker_count);
	return -1;
}

/* Ids, roles and racks. */
static void cluster_plan_nodes(struct cluster *c, const struct cluster_opts *o)
{
	bool split = o->controllers != 0;
	c->node_count = (size_t)(split ? o->controllers + o->brokers : o->nodes);
	SL_ASSERT(c->node_count >= 1 && c->node_count <= CLUSTER_NODES_MAX);
	int32_t broker_index = 0;
	for (size_t i = 0; i < c->node_count; i++) {
		struct cluster_node *n = &c->nodes[i];
		memset(n, 0, sizeof(*n));
		n->id = (int32_t)i + 1;
		n->controller = !split || (int64_t)i < o->controllers;
		n->broker = !split || (int64_t)i >= o->controllers;
		n->rack = -1;
		if (n->broker && o->rack_count > 0)
			n->rack = broker_index % (int32_t)o->rack_count;
		if (n->broker)
			broker_index++;
	}
}

/* count free loopback ports from the kernel; the sockets stay bound until every port has been
 * picked so no port is handed out twice. */
static int cluster_free_ports(uint16_t *ports, size_t count)
{
	int fds[2 * CLUSTER_NODES_MAX];
	SL_ASSERT(count <= SL_ARRAY_LEN(fds));
	size_t opened = 0;
	int rc = 0;
	for (; opened < count; opened++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t len = sizeof(sa);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
			fprintf(stderr, "sluice cluster: cannot find a free port: %s\n",
			        strerror(errno));
			if (fd >= 0)
				close(fd);
			rc = -1;
			break;
		}
		fds[opened] = fd;
		ports[opened] = ntohs(sa.sin_port);
	}
	for (size_t i = 0; i < opened; i++)
		close(fds[i]);
	return rc;
}

/* Fails (message naming the port) when port cannot be bound on 127.0.0.1 now. */
static int cluster_check_port(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
	          bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	int saved = errno;
	if (fd >= 0)
		close(fd);
	if (ok)
		return 0;
	fprintf(stderr, "sluice cluster: port %u (from --base-port) is not free: %s\n", port,
	        strerror(saved));
	return 1;
}

/* Brokers' ports first, in id order, then the controllers'. */
static int cluster_plan_ports(struct cluster *c, int64_t base_port, bool print_config)
{
	size_t count = 0;
	for (size_t i = 0; i < c->node_count; i++)
		count += (size_t)c->nodes[i].broker + (size_t)c->nodes[i].controller;
	uint16_t ports[2 * CLUSTER_NODES_MAX];
	if (base_port == 0) {
		if (cluster_free_ports(ports, count) != 0)
			return 1;
	} else {
		if (base_port + (int64_t)count - 1 > 65535)
			return cluster_usage_error("--base-port %lld leaves no room for %zu ports",
			                           (long long)base_port, count);
		for (size_t i = 0; i < count; i++)
			ports[i] = (uint16_t)(base_port + (int64_t)i);
	}
	for (size_t i = 0; base_port != 0 && !print_config && i < count; i++) {
		if (cluster_check_port(ports[i]) != 0)
			return 1;
	}
	size_t next = 0;
	for (size_t i = 0; i < c->node_count; i++) {
		if (c->nodes[i].broker)
			c->nodes[i].broker_port = ports[next++];
	}
	for (size_t i = 0; i < c->node_count; i++) {
		if (c->nodes[i].controller)
			c->nodes[i].controller_port = ports[next++];
	}
	SL_ASSERT(next == count);
	return 0;
}

const char *cluster_roles(const struct cluster_node *n)
{
	if (n->broker && n->controller)
		return "broker,controller";
	return n->broker ? "broker" : "controller";
}

static bool cluster_overridden(const struct cluster *c, const char *key)
{
	size_t len = strlen(key);
	for (size_t i = 0; i < c->override_count; i++) {
		if (strncmp(c->overrides[i], key, len) == 0 && c->overrides[i][len] == '=')
			return true;
	}
	return false;
}

static void cluster_key(FILE *out, const struct cluster *c, const char *key, const char *fmt, ...)
        SL_PRINTF(4, 5);
static void cluster_key(FILE *out, const struct cluster *c, const char *key, const char *fmt, ...)
{
	if (cluster_overridden(c, key))
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(out, "%s=", key);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	va_end(ap);
}

static void cluster_write_listeners(FILE *out, const struct cluster *c,
                                    const struct cluster_node *n)
{
	char l[128] = "";
	if (n->broker && n->controller)
		snprintf(l, sizeof(l), "PLAINTEXT://127.0.0.1:%u,CONTROLLER://127.0.0.1:%u",
		         n->broker_port, n->controller_port);
	else if (n->broker)
		snprintf(l, sizeof(l), "PLAINTEXT://127.0.0.1:%u", n->broker_port);
	else
		snprintf(l, sizeof(l), "CONTROLLER://127.0.0.1:%u", n->controller_port);
	cluster_key(out, c, "listeners", "%s", l);
	cluster_key(out, c, "advertised.listeners", "%s", l);
	cluster_key(out, c, "controller.listener.names", "CONTROLLER");
	cluster_key(out, c, "listener.security.protocol.map",
	            "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
	char voters[CLUSTER_NODES_MAX * 24] = "";
	size_t used = 0;
	for (size_t i = 0; i < c->node_count; i++) {
		const struct cluster_node *v = &c->nodes[i];
		if (!v->controller)
			continue;
		int w = snprintf(voters + used, sizeof(voters) - used, "%s%d@127.0.0.1:%u",
		                 used > 0 ? "," : "", v->id, v->controller_port);
		SL_ASSERT(w > 0 && (size_t)w < sizeof(voters) - used);
		used += (size_t)w;
	}
	cluster_key(out, c, "controller.quorum.voters", "%s", voters);
}

int cluster_write_properties(FILE *out, const struct cluster *c, const struct cluster_node *n)
{
	fprintf(out, "# Generated by `sluice cluster`: node %d (%s)", n->id, cluster_roles(n));
	if (c->cluster_id[0] != '\0')
		fprintf(out, " of cluster %s", c->cluster_id);
	fprintf(out, ".\n");
	cluster_key(out, c, "process.roles", "%s", cluster_roles(n));
	cluster_key(out, c, "node.id", "%d", n->id);
	cluster_write_listeners(out, c, n);
	cluster_key(out, c, "log.dirs", "%s/data", n->dir);
	cluster_key(out, c, "metadata.log.dir", "%s/metadata", n->dir);
	/* Kafka's defaults, written out so they are easy to find and change. The interval is
	 * the broker's; the session timeout is read by the controllers. */
	if (n->broker)
		cluster_key(out, c, "broker.heartbeat.interval.ms", "2000");
	if (n->controller)
		cluster_key(out, c, "broker.session.timeout.ms", "9000");
	if (n->rack >= 0)
		cluster_key(out, c, "broker.rack", "rack-%d", n->rack);
	if (c->override_count > 0)
		fprintf(out, "# -o options\n");
	for (size_t i = 0; i < c->override_count; i++)
		fprintf(out, "%s\n", c->overrides[i]);
	return ferror(out) ? -1 : 0;
}

static int cluster_set_paths(struct cluster *c)
{
	for (size_t i = 0; i < c->node_count; i++) {
		struct cluster_node *n = &c->nodes[i];
		int a = snprintf(n->dir, sizeof(n->dir), "%s/node-%d", c->dir, n->id);
		int b = snprintf(n->config, sizeof(n->config), "%s/node-%d/server.properties",
		                 c->dir, n->id);
		int d = snprintf(n->log, sizeof(n->log), "%s/node-%d/server.log", c->dir, n->id);
		if (a < 0 || b < 0 || d < 0 || (size_t)a >= sizeof(n->dir) ||
		    (size_t)b >= sizeof(n->config) || (size_t)d >= sizeof(n->log))
			return cluster_usage_error("--dir is too long");
	}
	return 0;
}

/* Creates DIR: new under $TMPDIR, or the given one, which must be new or empty. */
static int cluster_make_dir(struct cluster *c, const char *dir)
{
	if (dir == NULL) {
		const char *tmp = getenv("TMPDIR");
		if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > CLUSTER_DIR_MAX - 32 ||
		    strpbrk(tmp, "\n\r\\") != NULL)
			tmp = "/tmp";
		snprintf(c->dir, sizeof(c->dir), "%s/sluice-cluster-XXXXXX", tmp);
		if (mkdtemp(c->dir) == NULL) {
			fprintf(stderr, "sluice cluster: cannot create a directory in %s: %s\n",
			        tmp, strerror(errno));
			return 1;
		}
		return 0;
	}
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST) {
		fprintf(stderr, "sluice cluster: cannot create --dir %s: %s\n", dir,
		        strerror(errno));
		return 1;
	}
	DIR *d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "sluice cluster: cannot open --dir %s: %s\n", dir, strerror(errno));
		return 1;
	}
	const struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)) != NULL)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	if (!empty) {
		fprintf(stderr,
		        "sluice cluster: --dir %s is not empty (every run formats a new cluster; "
		        "pick a new or empty directory)\n",
		        dir);
		return 1;
	}
	return 0;
}

static int cluster_write_file(const struct cluster *c, const struct cluster_node *n)
{
	if (mkdir(n->dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "sluice cluster: cannot create %s: %s\n", n->dir, strerror(errno));
		return 1;
	}
	FILE *f = fopen(n->config, "w");
	if (f == NULL) {
		fprintf(stderr, "sluice cluster: cannot write %s: %s\n", n->config,
		        strerror(errno));
		return 1;
	}
	int rc = cluster_write_properties(f, c, n);
	if (fclose(f) != 0 || rc != 0) {
		fprintf(stderr, "sluice cluster: cannot write %s\n", n->config);
		return 1;
	}
	return 0;
}

/* Loads every written file with the node's own config code: a bad -o value fails here, once,
 * before anything is started. Distinct warnings are printed once. */
static int cluster_check_configs(const struct cluster *c)
{
	static struct node_config config; /* large */
	static struct node_config_warnings warnings;
	static char seen[NODE_MAX_WARNINGS][256];
	size_t seen_count = 0;
	for (size_t i = 0; i < c->node_count; i++) {
		const struct cluster_node *n = &c->nodes[i];
		char err[1024] = "";
		warnings.count = 0;
		if (node_config_load(n->config, NULL, 0, &config, &warnings, err, sizeof(err)) !=
		    SL_OK) {
			fprintf(stderr, "sluice cluster: node %d (%s): %s\n", n->id, n->config,
			        err);
			return 1;
		}
		for (size_t w = 0; w < warnings.count; w++) {
			bool dup = false;
			for (size_t s = 0; s < seen_count && !dup; s++)
				dup = strcmp(seen[s], warnings.text[w]) == 0;
			if (dup || seen_count == NODE_MAX_WARNINGS)
				continue;
			snprintf(seen[seen_count++], sizeof(seen[0]), "%s", warnings.text[w]);
			fprintf(stderr, "warning: %s\n", warnings.text[w]);
		}
	}
	return 0;
}

static int cluster_print_config(struct cluster *c, const struct cluster_opts *o)
{
	snprintf(c->dir, sizeof(c->dir), "%s", o->dir != NULL ? o->dir : CLUSTER_PRINT_DIR);
	int rc = cluster_set_paths(c);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < c->node_count; i++) {
		printf("%s# ==== %s ====\n", i > 0 ? "\n" : "", c->nodes[i].config);
		if (cluster_write_properties(stdout, c, &c->nodes[i]) != 0)
			return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* A random cluster id as `sluice storage random-uuid` prints it; one starting with '-' is
 * re-rolled (it would look like an option to other tools). */
static int cluster_new_id(char out[SL_UUID_STR_LEN + 1])
{
	for (int tries = 0; tries < 64; tries++) {
		struct sl_uuid id;
		if (sl_uuid_random(&id) != SL_OK)
			break;
		sl_uuid_to_str(&id, out);
		if (out[0] != '-')
			return 0;
	}
	fprintf(stderr, "sluice cluster: cannot generate a cluster id\n");
	return -1;
}

int tools_cluster_main(int argc, char **argv)
{
	static struct cluster c; /* large; one per process */
	memset(&c, 0, sizeof(c));
	struct cluster_opts o = {0};
	int rc = cluster_parse_args(&c, &o, argc, argv);
	if (rc >= 0)
		return rc;
	cluster_plan_nodes(&c, &o);
	if (o.print_config && o.base_port == 0)
		o.base_port = CLUSTER_PRINT_BASE_PORT;
	rc = cluster_plan_ports(&c, o.base_port, o.print_config);
	if (rc != 0)
		return rc;
	if (o.print_config)
		return cluster_print_config(&c, &o);

	if (cluster_new_id(c.cluster_id) != 0)
		return 1;
	rc = cluster_make_dir(&c, o.dir);
	if (rc != 0)
		return rc;
	rc = cluster_set_paths(&c);
	for (size_t i = 0; rc == 0 && i < c.node_count; i++)
		rc = cluster_write_file(&c, &c.nodes[i]);
	if (rc == 0)
		rc = cluster_check_configs(&c);
	if (rc != 0)
		return rc;
	return cluster_run(&c);
}
