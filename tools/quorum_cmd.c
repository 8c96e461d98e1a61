/*
 * quorum_cmd.c: `sluice quorum describe [--status | --replication]`, the equivalent of Kafka's
 * `kafka-metadata-quorum.sh describe`: one DescribeQuorum request (topic __cluster_metadata,
 * partition 0, the highest version both sides support) through the synchronous client of
 * net.h, printed in Kafka's layout (quorum_print, quorum_cmd.h).
 *
 * --status prints `Label:` padded to 24 columns and the value, as Kafka's tool does; the
 * ClusterId line comes from DescribeCluster when the server offers it and is left out
 * otherwise. Voters and observers are printed as Kafka 3.9+ does:
 * [{"id": 1, "directoryId": "...", "endpoints": ["CONTROLLER://host:9093"]}, ...], leaving
 * out a zero directory id and empty endpoints (DescribeQuorum v0/v1 carry neither).
 * --replication prints Kafka's table (ToolsUtils.prettyPrintTable: every cell padded to its
 * column's width and followed by a tab): leader first, then the other voters, then observers.
 *
 * Invariants: arguments are all parsed before connecting, so a usage error (exit 2) never
 * touches the network; every failure prints exactly one "error: ..." line (exit 1); nothing in
 * the response is trusted: counts come from the decoder and every index is bounded by them.
 */
#include "tools.h"

#include "cli_int.h"
#include "quorum_cmd.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define QUORUM_API_DESCRIBE_QUORUM 55
#define QUORUM_API_DESCRIBE_CLUSTER 60
#define QUORUM_ENDPOINT_CONTROLLER 2 /* DescribeCluster EndpointType (KIP-919) */
#define QUORUM_COLS 7
#define QUORUM_CELL_MAX 64

typedef struct wire_describe_quorum_response_replica_state quorum_replica;

enum {
	QUORUM_OPT_STATUS = CLI_OPT_FIRST_CUSTOM,
	QUORUM_OPT_REPLICATION,
	QUORUM_OPT_BOOTSTRAP_CONTROLLER,
};

static const struct option quorum_options[] = {
        CLI_COMMON_LONG_OPTIONS,
        {"status", no_argument, NULL, QUORUM_OPT_STATUS},
        {"replication", no_argument, NULL, QUORUM_OPT_REPLICATION},
        {"bootstrap-controller", required_argument, NULL, QUORUM_OPT_BOOTSTRAP_CONTROLLER},
        {NULL, 0, NULL, 0},
};

/* ---- formatting ---------------------------------------------------------------------------- */

/* The voter that is the leader, or NULL (no leader, or it is not among the voters). */
static const quorum_replica *
quorum_leader(const struct wire_describe_quorum_response_partition_data *p)
{
	for (int32_t i = 0; i < p->current_voters_count; i++)
		if (p->current_voters[i].replica_id == p->leader_id)
			return &p->current_voters[i];
	return NULL;
}

/* The node entry (DescribeQuorum v2+) of replica id, or NULL. */
static const struct wire_describe_quorum_response_node *
quorum_node(const struct wire_describe_quorum_response *resp, int32_t id)
{
	for (int32_t i = 0; i < resp->nodes_count; i++)
		if (resp->nodes[i].node_id == id)
			return &resp->nodes[i];
	return NULL;
}

/* [{"id": 1, "directoryId": "...", "endpoints": ["NAME://host:port"]}, ...] */
static void quorum_print_replicas(FILE *out, const struct wire_describe_quorum_response *resp,
                                  const quorum_replica *r, int32_t count)
{
	fputc('[', out);
	for (int32_t i = 0; i < count; i++) {
		fprintf(out, "%s{\"id\": %" PRId32, i > 0 ? ", " : "", r[i].replica_id);
		if (!sl_uuid_is_zero(&r[i].replica_directory_id)) {
			char dir[SL_UUID_STR_LEN + 1];
			sl_uuid_to_str(&r[i].replica_directory_id, dir);
			fprintf(out, ", \"directoryId\": \"%s\"", dir);
		}
		const struct wire_describe_quorum_response_node *n =
		        quorum_node(resp, r[i].replica_id);
		if (n != NULL && n->listeners_count > 0) {
			fputs(", \"endpoints\": [", out);
			for (int32_t j = 0; j < n->listeners_count; j++) {
				const struct wire_describe_quorum_response_listener *l =
				        &n->listeners[j];
				fprintf(out, "%s\"%.*s://%.*s:%u\"", j > 0 ? ", " : "",
				        cli_len(l->name), cli_ptr(l->name), cli_len(l->host),
				        cli_ptr(l->host), (unsigned)l->port);
			}
			fputc(']', out);
		}
		fputc('}', out);
	}
	fputs("]\n", out);
}

static void quorum_print_status(FILE *out, const struct wire_describe_quorum_response *resp,
                                const struct wire_describe_quorum_response_partition_data *p,
                                const char *cluster_id)
{
	const quorum_replica *leader = quorum_leader(p);
	int64_t lag = -1, lag_ms = -1;
	if (leader != NULL) {
		/* Kafka: the first voter with the smallest log end offset lags the most. */
		const quorum_replica *slow = &p->current_voters[0];
		for (int32_t i = 1; i < p->current_voters_count; i++)
			if (p->current_voters[i].log_end_offset < slow->log_end_offset)
				slow = &p->current_voters[i];
		lag = leader->log_end_offset - slow->log_end_offset;
		if (slow == leader)
			lag_ms = 0;
		else if (leader->last_caught_up_timestamp >= 0 &&
		         slow->last_caught_up_timestamp >= 0)
			lag_ms = leader->last_caught_up_timestamp - slow->last_caught_up_timestamp;
	}
	if (cluster_id != NULL)
		fprintf(out, "%-24s%s\n", "ClusterId:", cluster_id);
	fprintf(out, "%-24s%" PRId32 "\n", "LeaderId:", p->leader_id);
	fprintf(out, "%-24s%" PRId32 "\n", "LeaderEpoch:", p->leader_epoch);
	fprintf(out, "%-24s%" PRId64 "\n", "HighWatermark:", p->high_watermark);
	fprintf(out, "%-24s%" PRId64 "\n", "MaxFollowerLag:", lag);
	fprintf(out, "%-24s%" PRId64 "\n", "MaxFollowerLagTimeMs:", lag_ms);
	fprintf(out, "%-24s", "CurrentVoters:");
	quorum_print_replicas(out, resp, p->current_voters, p->current_voters_count);
	fprintf(out, "%-24s", "CurrentObservers:");
	quorum_print_replicas(out, resp, p->observers, p->observers_count);
}

/* Replication table rows: the leader, the other voters, the observers. */
struct quorum_rows {
	const struct wire_describe_quorum_response_partition_data *p;
	const quorum_replica *leader; /* NULL: no row "Leader", lag -1 */
	int32_t count;
};

static const char *const quorum_headers[QUORUM_COLS] = {
        "NodeId", "DirectoryId",        "LogEndOffset",
        "Lag",    "LastFetchTimestamp", "LastCaughtUpTimestamp",
        "Status"};

/* Row i's replica and status. */
static const quorum_replica *quorum_row(const struct quorum_rows *t, int32_t i, const char **status)
{
	const struct wire_describe_quorum_response_partition_data *p = t->p;
	if (t->leader != NULL) {
		if (i == 0) {
			*status = "Leader";
			return t->leader;
		}
		i--;
	}
	for (int32_t v = 0; v < p->current_voters_count; v++) {
		if (&p->current_voters[v] == t->leader)
			continue;
		if (i-- == 0) {
			*status = "Follower";
			return &p->current_voters[v];
		}
	}
	*status = "Observer";
	return &p->observers[i];
}

/* Cell (row, col) of the table into dst; row -1 is the header. */
static void quorum_cell(const struct quorum_rows *t, int32_t row, int col, char *dst, size_t n)
{
	if (row < 0) {
		snprintf(dst, n, "%s", quorum_headers[col]);
		return;
	}
	const char *status;
	const quorum_replica *r = quorum_row(t, row, &status);
	char dir[SL_UUID_STR_LEN + 1];
	switch (col) {
	case 0:
		snprintf(dst, n, "%" PRId32, r->replica_id);
		break;
	case 1:
		sl_uuid_to_str(&r->replica_directory_id, dir);
		snprintf(dst, n, "%s", dir);
		break;
	case 2:
		snprintf(dst, n, "%" PRId64, r->log_end_offset);
		break;
	case 3:
		snprintf(dst, n, "%" PRId64,
		         t->leader != NULL ? t->leader->log_end_offset - r->log_end_offset : -1);
		break;
	case 4:
		snprintf(dst, n, "%" PRId64,
		         r->last_fetch_timestamp >= 0 ? r->last_fetch_timestamp : -1);
		break;
	case 5:
		snprintf(dst, n, "%" PRId64,
		         r->last_caught_up_timestamp >= 0 ? r->last_caught_up_timestamp : -1);
		break;
	default:
		snprintf(dst, n, "%s", status);
		break;
	}
}

static void quorum_print_replication(FILE *out,
                                     const struct wire_describe_quorum_response_partition_data *p)
{
	struct quorum_rows t = {.p = p, .leader = quorum_leader(p)};
	t.count = p->current_voters_count + p->observers_count;
	size_t width[QUORUM_COLS] = {0};
	char cell[QUORUM_CELL_MAX];
	for (int32_t row = -1; row < t.count; row++) {
		for (int col = 0; col < QUORUM_COLS; col++) {
			quorum_cell(&t, row, col, cell, sizeof(cell));
			width[col] = SL_MAX(width[col], strlen(cell));
		}
	}
	for (int32_t row = -1; row < t.count; row++) {
		for (int col = 0; col < QUORUM_COLS; col++) {
			quorum_cell(&t, row, col, cell, sizeof(cell));
			fprintf(out, "%-*s\t", (int)width[col], cell);
		}
		fputc('\n', out);
	}
}

int quorum_print(FILE *out, const struct wire_describe_quorum_response *resp, enum quorum_mode mode,
                 const char *cluster_id)
{
	if (resp->error_code != WIRE_ERR_NONE)
		return cli_kafka_error("DescribeQuorum", resp->error_code, resp->error_message);
	const struct wire_describe_quorum_response_partition_data *p = NULL;
	for (int32_t i = 0; i < resp->topics_count && p == NULL; i++) {
		const struct wire_describe_quorum_response_topic_data *t = &resp->topics[i];
		if (!wire_str_eq(t->topic_name, QUORUM_TOPIC))
			continue;
		for (int32_t j = 0; j < t->partitions_count && p == NULL; j++)
			if (t->partitions[j].partition_index == QUORUM_PARTITION)
				p = &t->partitions[j];
	}
	if (p == NULL)
		return cli_fail("DescribeQuorum: the response has no %s-%d", QUORUM_TOPIC,
		                QUORUM_PARTITION);
	if (p->error_code != WIRE_ERR_NONE)
		return cli_kafka_error("DescribeQuorum " QUORUM_TOPIC "-0", p->error_code,
		                       p->error_message);
	if (mode == QUORUM_STATUS)
		quorum_print_status(out, resp, p, cluster_id);
	else
		quorum_print_replication(out, p);
	return CLI_EXIT_OK;
}

/* ---- the command --------------------------------------------------------------------------- */

struct quorum_args {
	struct cli cli;
	enum quorum_mode mode;
	bool mode_set;
	bool controller; /* --bootstrap-controller */
	bool bootstrap_set;
};

static void quorum_usage(FILE *out)
{
	fprintf(out, "usage: sluice quorum describe [--status | --replication]\n"
	             "       [--bootstrap-server HOST:PORT | --bootstrap-controller HOST:PORT]\n"
	             "       [--timeout-ms N]\n"
	             "\n"
	             "Describes the KRaft metadata quorum (kafka-metadata-quorum.sh describe).\n"
	             "  --status                          leader, epoch, high watermark, lag, "
	             "voters and\n"
	             "                                    observers (the default)\n"
	             "  --replication                     one row per voter and observer\n"
	             "  --bootstrap-server HOST:PORT      a broker (default localhost:9092)\n"
	             "  --bootstrap-controller HOST:PORT  a controller\n"
	             "  --timeout-ms N                    request timeout (default 30000)\n"
	             "  -h, --help                        show this help\n");
}

/* One option of `quorum describe`. Returns 0 or CLI_EXIT_USAGE (printed). */
static int quorum_option(struct quorum_args *a, int opt, const char *arg)
{
	if (opt == CLI_OPT_BOOTSTRAP || opt == QUORUM_OPT_BOOTSTRAP_CONTROLLER) {
		if (a->bootstrap_set)
			return cli_usage_error(&a->cli, "give only one of --bootstrap-server and "
			                                "--bootstrap-controller");
		a->bootstrap_set = true;
		a->controller = opt == QUORUM_OPT_BOOTSTRAP_CONTROLLER;
		if (arg[0] == '\0')
			return cli_usage_error(&a->cli, "%s needs HOST:PORT",
			                       a->controller ? "--bootstrap-controller"
			                                     : "--bootstrap-server");
		a->cli.bootstrap = arg;
		return 0;
	}
	int rc = cli_common_option(&a->cli, opt, arg);
	if (rc >= 0)
		return rc;
	enum quorum_mode m = opt == QUORUM_OPT_STATUS ? QUORUM_STATUS : QUORUM_REPLICATION;
	if (a->mode_set && a->mode != m)
		return cli_usage_error(&a->cli, "give only one of --status and --replication");
	a->mode = m;
	a->mode_set = true;
	return 0;
}

/* Parses argv (argv[0] = "describe"). Returns 0, 100 for --help (printed), or CLI_EXIT_USAGE. */
static int quorum_parse(struct quorum_args *a, int argc, char **argv)
{
	optind = 0;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, ":h", quorum_options, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return cli_getopt_error(&a->cli, opt, argv);
		if (opt == 'h') {
			quorum_usage(stdout);
			return 100;
		}
		int rc = quorum_option(a, opt, optarg);
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error(&a->cli, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* The cluster id from DescribeCluster (arena copy), or NULL when the server does not offer it
 * or answers with an error: the ClusterId line is then left out, silently. A failed exchange
 * leaves the client unusable, so it is replaced by a new connection (*rc = its result). */
static const char *quorum_cluster_id(struct quorum_args *a, int *rc)
{
	struct cli *c = &a->cli;
	*rc = 0;
	int16_t v = net_client_version(c->client, QUORUM_API_DESCRIBE_CLUSTER);
	if (v < 0)
		return NULL;
	struct wire_describe_cluster_request req;
	wire_describe_cluster_request_init(&req);
	if (a->controller && v >= 1)
		req.endpoint_type = QUORUM_ENDPOINT_CONTROLLER;
	struct wire_describe_cluster_response resp;
	wire_describe_cluster_response_init(&resp);
	char err[NET_CLIENT_ERR_MAX];
	if (net_client_call(c->client, QUORUM_API_DESCRIBE_CLUSTER, v, &req, &resp, &c->arena,
	                    c->timeout_ms, err, sizeof(err)) != SL_OK) {
		net_client_close(c->client);
		c->client = NULL;
		*rc = cli_connect(c);
		return NULL;
	}
	if (resp.error_code != WIRE_ERR_NONE || resp.cluster_id.len <= 0)
		return NULL;
	return cli_strdup(c, resp.cluster_id);
}

static int quorum_describe(struct quorum_args *a)
{
	struct cli *c = &a->cli;
	int16_t v = cli_version(c, QUORUM_API_DESCRIBE_QUORUM, 0);
	if (v < 0)
		return CLI_EXIT_FAIL;
	const char *cluster_id = NULL;
	if (a->mode == QUORUM_STATUS) {
		int rc;
		cluster_id = quorum_cluster_id(a, &rc);
		if (rc != 0)
			return rc;
		v = cli_version(c, QUORUM_API_DESCRIBE_QUORUM, 0);
		if (v < 0)
			return CLI_EXIT_FAIL;
	}
	struct wire_describe_quorum_request_partition_data part = {QUORUM_PARTITION};
	struct wire_describe_quorum_request_topic_data topic = {wire_str_c(QUORUM_TOPIC), 1, &part};
	struct wire_describe_quorum_request req;
	wire_describe_quorum_request_init(&req);
	req.topics_count = 1;
	req.topics = &topic;
	struct wire_describe_quorum_response resp;
	wire_describe_quorum_response_init(&resp);
	if (cli_call(c, QUORUM_API_DESCRIBE_QUORUM, v, &req, &resp, 0) != 0)
		return CLI_EXIT_FAIL;
	return quorum_print(stdout, &resp, a->mode, cluster_id);
}

int tools_quorum_main(int argc, char **argv)
{
	if (argc < 2) {
		quorum_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		quorum_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "describe") != 0) {
		fprintf(stderr, "sluice quorum: unknown command '%s'\n\n", argv[1]);
		quorum_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	struct quorum_args a;
	memset(&a, 0, sizeof(a));
	cli_init(&a.cli, "quorum describe");
	a.mode = QUORUM_STATUS;
	int rc = quorum_parse(&a, argc - 1, argv + 1);
	if (rc == 0)
		rc = cli_connect(&a.cli);
	if (rc == 0)
		rc = quorum_describe(&a);
	cli_free(&a.cli);
	fflush(stdout);
	return rc == 100 ? CLI_EXIT_OK : rc;
}
