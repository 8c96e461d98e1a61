/*
 * test_quorum_cli.c: `sluice quorum describe` (tools/quorum_cmd.c).
 *
 * - quorum_print on canned DescribeQuorum responses: the exact text of --status and
 *   --replication (Kafka's layout, written out here by hand), with and without the KIP-853
 *   fields, with no leader, and the error paths (Kafka error names, exit 1, nothing printed).
 * - The whole command against a fake server: a forked child on a loopback socket answers
 *   ApiVersions, DescribeCluster and DescribeQuorum with responses built by the generated
 *   encoder, checks what the tool asked (topic __cluster_metadata partition 0, at the highest
 *   version both sides support) and reports through its exit status.
 * - Usage errors exit 2 without touching the network; --help exits 0.
 */
#include "check_main.h"
#include "quorum_cmd.h"
#include "tools.h"
#include "wire.h"
#include "wire_test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLUSTER_ID "MkU3OEVBNTcwNTJENDM2Qg"
#define OUT_MAX 8192

/* ---- the canned response ------------------------------------------------------------------- */

static struct wire_describe_quorum_response_replica_state voters[3];
static struct wire_describe_quorum_response_replica_state observers[1];
static struct wire_describe_quorum_response_partition_data part;
static struct wire_describe_quorum_response_topic_data topic;
static struct wire_describe_quorum_response_listener listeners[3];
static struct wire_describe_quorum_response_node nodes[3];

/* Voters 1 (leader), 2 and 3 (lags 10 offsets, caught up 1000 ms before the leader), observer
 * 4; voter 3 has no directory id; nodes 1-3 with one CONTROLLER listener each (v2 fields). */
static void canned(struct wire_describe_quorum_response *m)
{
	static const char *const hosts[3] = {"h1", "h2", "h3"};

	wire_describe_quorum_response_init(m);
	voters[0] =
	        (struct wire_describe_quorum_response_replica_state){1, wt_uuid(1), 100, -1, 5000};
	voters[1] = (struct wire_describe_quorum_response_replica_state){2, wt_uuid(2), 100, 4990,
	                                                                 4990};
	voters[2] = (struct wire_describe_quorum_response_replica_state){3, SL_UUID_ZERO, 90, 4980,
	                                                                 4000};
	observers[0] =
	        (struct wire_describe_quorum_response_replica_state){4, wt_uuid(4), 80, 4970, 3500};
	wire_describe_quorum_response_partition_data_init(&part);
	part.partition_index = 0;
	part.leader_id = 1;
	part.leader_epoch = 5;
	part.high_watermark = 95;
	WT_ARR(part.current_voters, voters);
	WT_ARR(part.observers, observers);
	topic.topic_name = WT_STR("__cluster_metadata");
	topic.partitions_count = 1;
	topic.partitions = &part;
	m->topics_count = 1;
	m->topics = &topic;
	for (int i = 0; i < 3; i++) {
		listeners[i] = (struct wire_describe_quorum_response_listener){
		        WT_STR("CONTROLLER"), WT_STR(hosts[i]), (uint16_t)(9093 + i)};
		nodes[i].node_id = i + 1;
		nodes[i].listeners_count = 1;
		nodes[i].listeners = &listeners[i];
	}
	WT_ARR(m->nodes, nodes);
}

static const char status_v2[] =
        "ClusterId:              " CLUSTER_ID "\n"
        "LeaderId:               1\n"
        "LeaderEpoch:            5\n"
        "HighWatermark:          95\n"
        "MaxFollowerLag:         10\n"
        "MaxFollowerLagTimeMs:   1000\n"
        "CurrentVoters:          [{\"id\": 1, \"directoryId\": \"AQIDBAUGBwgJCgsMDQ4PEA\", "
        "\"endpoints\": [\"CONTROLLER://h1:9093\"]}, {\"id\": 2, \"directoryId\": "
        "\"AgMEBQYHCAkKCwwNDg8QEQ\", \"endpoints\": [\"CONTROLLER://h2:9094\"]}, {\"id\": 3, "
        "\"endpoints\": [\"CONTROLLER://h3:9095\"]}]\n"
        "CurrentObservers:       [{\"id\": 4, \"directoryId\": \"BAUGBwgJCgsMDQ4PEBESEw\"}]\n";

/* Columns padded to their widest cell (6, 22, 12, 3, 18, 21, 8), each followed by a tab. */
static const char replication_v2[] =
        "NodeId\tDirectoryId           \tLogEndOffset\tLag\tLastFetchTimestamp\t"
        "LastCaughtUpTimestamp\tStatus  \t\n"
        "1     \tAQIDBAUGBwgJCgsMDQ4PEA\t100         \t0  \t-1                \t"
        "5000                 \tLeader  \t\n"
        "2     \tAgMEBQYHCAkKCwwNDg8QEQ\t100         \t0  \t4990              \t"
        "4990                 \tFollower\t\n"
        "3     \tAAAAAAAAAAAAAAAAAAAAAA\t90          \t10 \t4980              \t"
        "4000                 \tFollower\t\n"
        "4     \tBAUGBwgJCgsMDQ4PEBESEw\t80          \t20 \t4970              \t"
        "3500                 \tObserver\t\n";

/* quorum_print into a string; returns its exit code. */
static int print_to(char *out, size_t n, const struct wire_describe_quorum_response *m,
                    enum quorum_mode mode, const char *cluster_id)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	int rc = quorum_print(f, m, mode, cluster_id);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_lt(len, n);
	memcpy(out, text, len + 1);
	free(text);
	return rc;
}

START_TEST(status_layout)
{
	struct wire_describe_quorum_response m;
	char out[OUT_MAX];

	canned(&m);
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_STATUS, CLUSTER_ID), 0);
	ck_assert_str_eq(out, status_v2);
}
END_TEST

START_TEST(replication_layout)
{
	struct wire_describe_quorum_response m;
	char out[OUT_MAX];

	canned(&m);
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_REPLICATION, NULL), 0);
	ck_assert_str_eq(out, replication_v2);
}
END_TEST

/* What DescribeQuorum v0/v1 carry: no directory ids, no nodes; no cluster id known. */
START_TEST(status_without_kip853_fields)
{
	struct wire_describe_quorum_response m;
	char out[OUT_MAX];

	canned(&m);
	m.nodes_count = 0;
	for (int i = 0; i < 3; i++)
		voters[i].replica_directory_id = SL_UUID_ZERO;
	observers[0].replica_directory_id = SL_UUID_ZERO;
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_STATUS, NULL), 0);
	ck_assert_str_eq(out, "LeaderId:               1\n"
	                      "LeaderEpoch:            5\n"
	                      "HighWatermark:          95\n"
	                      "MaxFollowerLag:         10\n"
	                      "MaxFollowerLagTimeMs:   1000\n"
	                      "CurrentVoters:          [{\"id\": 1}, {\"id\": 2}, {\"id\": 3}]\n"
	                      "CurrentObservers:       [{\"id\": 4}]\n");
}
END_TEST

/* A single voter is its own slowest follower: lag 0, lag time 0; unknown caught-up times give
 * -1; no leader gives -1 and no Leader row. */
START_TEST(lag_edge_cases)
{
	struct wire_describe_quorum_response m;
	char out[OUT_MAX];

	canned(&m);
	part.current_voters_count = 1;
	part.observers_count = 0;
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_STATUS, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "MaxFollowerLag:         0\n"
	                                  "MaxFollowerLagTimeMs:   0\n"));
	canned(&m);
	voters[2].last_caught_up_timestamp = -1;
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_STATUS, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "MaxFollowerLag:         10\n"
	                                  "MaxFollowerLagTimeMs:   -1\n"));
	canned(&m);
	part.leader_id = -1;
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_STATUS, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "LeaderId:               -1\n"));
	ck_assert_ptr_nonnull(strstr(out, "MaxFollowerLag:         -1\n"
	                                  "MaxFollowerLagTimeMs:   -1\n"));
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_REPLICATION, NULL), 0);
	ck_assert_ptr_null(strstr(out, "Leader "));
	ck_assert_ptr_nonnull(strstr(out, "1     \tAQIDBAUGBwgJCgsMDQ4PEA\t100         \t-1 \t"));
	ck_assert_ptr_nonnull(strstr(out, "\tObserver\t\n"));
}
END_TEST

START_TEST(error_responses)
{
	struct wire_describe_quorum_response m;
	char out[OUT_MAX];

	canned(&m);
	m.error_code = 41; /* NOT_CONTROLLER */
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_STATUS, NULL), 1);
	ck_assert_str_eq(out, "");
	canned(&m);
	part.error_code = 6; /* NOT_LEADER_OR_FOLLOWER */
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_REPLICATION, NULL), 1);
	ck_assert_str_eq(out, "");
	canned(&m);
	part.partition_index = 1;
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_STATUS, NULL), 1);
	ck_assert_str_eq(out, "");
	canned(&m);
	m.topics_count = 0;
	ck_assert_int_eq(print_to(out, sizeof(out), &m, QUORUM_STATUS, NULL), 1);
}
END_TEST

/* ---- the command against a fake server ----------------------------------------------------- */

struct fake {
	int16_t dq_max;      /* DescribeQuorum versions offered: 0..dq_max */
	bool cluster;        /* offer DescribeCluster */
	int16_t part_error;  /* error code of the partition in the answer */
	int expect_dq_calls; /* DescribeQuorum requests the tool must send */
	uint16_t port;
	pid_t pid;
};

static bool io_full(int fd, uint8_t *p, size_t n, bool write_it)
{
	while (n > 0) {
		ssize_t k = write_it ? write(fd, p, n) : read(fd, p, n);
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* The body of the answer to one request, after the response header. Returns false when the
 * request is not what the tool should send. */
static bool fake_body(const struct fake *f, const struct wire_request_header *h,
                      struct wire_reader *r, struct sl_buf *b)
{
	if (h->api_key == 18) {
		struct wire_api_versions_response_api_version keys[3] = {
		        {18, 0, 4}, {55, 0, f->dq_max}, {60, 0, 1}};
		struct wire_api_versions_response rsp;
		wire_api_versions_response_init(&rsp);
		rsp.api_keys = keys;
		rsp.api_keys_count = f->cluster ? 3 : 2;
		wire_api_versions_response_encode(b, h->api_version, &rsp);
		return true;
	}
	if (h->api_key == 60 && f->cluster) {
		struct wire_describe_cluster_response rsp;
		wire_describe_cluster_response_init(&rsp);
		rsp.cluster_id = WT_STR(CLUSTER_ID);
		wire_describe_cluster_response_encode(b, h->api_version, &rsp);
		return true;
	}
	if (h->api_key != 55 || h->api_version != f->dq_max)
		return false;
	struct wire_describe_quorum_request req;
	if (wire_describe_quorum_request_decode(r, h->api_version, &req) != SL_OK ||
	    !wire_reader_done(r) || req.topics_count != 1 ||
	    !wire_str_eq(req.topics[0].topic_name, "__cluster_metadata") ||
	    req.topics[0].partitions_count != 1 || req.topics[0].partitions[0].partition_index != 0)
		return false;
	struct wire_describe_quorum_response rsp;
	canned(&rsp);
	part.error_code = f->part_error;
	wire_describe_quorum_response_encode(b, h->api_version, &rsp);
	return true;
}

/* The child: one connection, requests until the client closes. Exit 0 when every request
 * was as expected and DescribeQuorum came expect_dq_calls times. */
static void fake_serve(const struct fake *f, int ls)
{
	struct sl_arena a;
	struct sl_buf b;
	int fd = accept(ls, NULL, NULL);
	int dq_calls = 0;
	uint8_t frame[65536];

	sl_arena_init(&a, 4096, 1u << 20);
	sl_buf_init(&b, 1u << 20);
	while (fd >= 0) {
		uint8_t sz[4];
		if (!io_full(fd, sz, 4, false))
			break;
		uint32_t n = (uint32_t)sz[0] << 24 | (uint32_t)sz[1] << 16 | (uint32_t)sz[2] << 8 |
		             sz[3];
		if (n > sizeof(frame) || !io_full(fd, frame, n, false))
			_exit(10);
		struct wire_reader r;
		struct wire_request_header h;
		sl_arena_reset(&a);
		wire_reader_init(&r, frame, n, &a);
		if (wire_request_header_decode(&r, &h) != SL_OK)
			_exit(11);
		sl_buf_reset(&b);
		wire_put_i32(&b, 0);
		wire_response_header_encode(&b,
		                            wire_response_header_version(h.api_key, h.api_version),
		                            h.correlation_id);
		if (!fake_body(f, &h, &r, &b))
			_exit(12);
		dq_calls += h.api_key == 55;
		uint32_t len = (uint32_t)b.len - 4;
		b.data[0] = (uint8_t)(len >> 24);
		b.data[1] = (uint8_t)(len >> 16);
		b.data[2] = (uint8_t)(len >> 8);
		b.data[3] = (uint8_t)len;
		if (!io_full(fd, b.data, b.len, true))
			_exit(13);
	}
	_exit(dq_calls == f->expect_dq_calls ? 0 : 14);
}

static void fake_start(struct fake *f)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(ls, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(ls, 1), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		alarm(20); /* never outlive a stuck test */
		fake_serve(f, ls);
	}
	close(ls);
}

/* The child's exit status (0 = the tool sent what it should). */
static int fake_wait(const struct fake *f)
{
	int st = 0;
	ck_assert_int_eq(waitpid(f->pid, &st, 0), f->pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Runs tools_quorum_main(argv) with stdout and stderr captured into out / err. */
static int run_tool(char **argv, char *out, char *err)
{
	FILE *fo = tmpfile(), *fe = tmpfile();
	int save_out = dup(1), save_err = dup(2);
	int argc = 0;

	ck_assert_ptr_nonnull(fo);
	ck_assert_ptr_nonnull(fe);
	while (argv[argc] != NULL)
		argc++;
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	int rc = tools_quorum_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save_out, 1);
	dup2(save_err, 2);
	close(save_out);
	close(save_err);
	FILE *fs[2] = {fo, fe};
	char *bufs[2] = {out, err};
	for (int i = 0; i < 2; i++) {
		rewind(fs[i]);
		size_t n = fread(bufs[i], 1, OUT_MAX - 1, fs[i]);
		bufs[i][n] = '\0';
		fclose(fs[i]);
	}
	return rc;
}

START_TEST(describe_status_end_to_end)
{
	struct fake f = {.dq_max = 2, .cluster = true, .expect_dq_calls = 1};
	char addr[64], out[OUT_MAX], err[OUT_MAX];

	fake_start(&f);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", f.port);
	char *argv[] = {"quorum", "describe", "--bootstrap-server", addr, "--status", NULL};
	ck_assert_int_eq(run_tool(argv, out, err), 0);
	ck_assert_int_eq(fake_wait(&f), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(out, status_v2);
}
END_TEST

/* DescribeQuorum v1 (the fake offers no more): directory ids and endpoints are not on the wire;
 * no DescribeCluster: no ClusterId line. The default mode is --status. */
START_TEST(describe_v1_without_cluster_id)
{
	struct fake f = {.dq_max = 1, .cluster = false, .expect_dq_calls = 1};
	char addr[64], out[OUT_MAX], err[OUT_MAX];

	fake_start(&f);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", f.port);
	char *argv[] = {"quorum", "describe", "--bootstrap-controller", addr, NULL};
	ck_assert_int_eq(run_tool(argv, out, err), 0);
	ck_assert_int_eq(fake_wait(&f), 0);
	ck_assert_str_eq(err, "");
	ck_assert(strncmp(out, "LeaderId:               1\n", 26) == 0);
	ck_assert_ptr_nonnull(
	        strstr(out, "CurrentVoters:          [{\"id\": 1}, {\"id\": 2}, {\"id\": 3}]\n"));
}
END_TEST

START_TEST(describe_replication_end_to_end)
{
	struct fake f = {.dq_max = 2, .cluster = true, .expect_dq_calls = 1};
	char addr[64], out[OUT_MAX], err[OUT_MAX];

	fake_start(&f);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", f.port);
	char *argv[] = {"quorum", "describe", "--replication", "--bootstrap-server", addr, NULL};
	ck_assert_int_eq(run_tool(argv, out, err), 0);
	ck_assert_int_eq(fake_wait(&f), 0);
	ck_assert_str_eq(out, replication_v2);
}
END_TEST

START_TEST(describe_partition_error)
{
	struct fake f = {.dq_max = 2, .cluster = true, .part_error = 6, .expect_dq_calls = 1};
	char addr[64], out[OUT_MAX], err[OUT_MAX];

	fake_start(&f);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", f.port);
	char *argv[] = {"quorum", "describe", "--bootstrap-server", addr, NULL};
	ck_assert_int_eq(run_tool(argv, out, err), 1);
	ck_assert_int_eq(fake_wait(&f), 0);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "error: DescribeQuorum __cluster_metadata-0: NOT_LEADER_OR_FOLLOWER: "
	                      "This server is not the leader for that topic-partition\n");
}
END_TEST

START_TEST(connection_refused)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	char addr[64], out[OUT_MAX], err[OUT_MAX];

	/* A port that was just free and has no listener. */
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	close(s);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	char *argv[] = {"quorum", "describe", "--bootstrap-server", addr, "--timeout-ms",
	                "2000",   NULL};
	ck_assert_int_eq(run_tool(argv, out, err), 1);
	ck_assert(strncmp(err, "error: ", 7) == 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(usage_errors)
{
	char out[OUT_MAX], err[OUT_MAX];
	char *both_modes[] = {"quorum", "describe", "--status", "--replication", NULL};
	char *both_servers[] = {
	        "quorum", "describe", "--bootstrap-server", "a:1", "--bootstrap-controller",
	        "b:2",    NULL};
	char *unknown_opt[] = {"quorum", "describe", "--bogus", NULL};
	char *extra_arg[] = {"quorum", "describe", "x", NULL};
	char *bad_timeout[] = {"quorum", "describe", "--timeout-ms", "0", NULL};
	char *unknown_cmd[] = {"quorum", "elect", NULL};
	char *none[] = {"quorum", NULL};
	char *help[] = {"quorum", "describe", "--help", NULL};
	char *help_top[] = {"quorum", "--help", NULL};

	ck_assert_int_eq(run_tool(both_modes, out, err), 2);
	ck_assert_ptr_nonnull(strstr(err, "--status and --replication"));
	ck_assert_int_eq(run_tool(both_servers, out, err), 2);
	ck_assert_ptr_nonnull(strstr(err, "--bootstrap-controller"));
	ck_assert_int_eq(run_tool(unknown_opt, out, err), 2);
	ck_assert_ptr_nonnull(strstr(err, "unknown option '--bogus'"));
	ck_assert_int_eq(run_tool(extra_arg, out, err), 2);
	ck_assert_int_eq(run_tool(bad_timeout, out, err), 2);
	ck_assert_int_eq(run_tool(unknown_cmd, out, err), 2);
	ck_assert_ptr_nonnull(strstr(err, "unknown command 'elect'"));
	ck_assert_int_eq(run_tool(none, out, err), 2);
	ck_assert_int_eq(run_tool(help, out, err), 0);
	ck_assert(strncmp(out, "usage: sluice quorum describe", 29) == 0);
	ck_assert_int_eq(run_tool(help_top, out, err), 0);
	ck_assert(strncmp(out, "usage: sluice quorum describe", 29) == 0);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("quorum_cli");
	TCase *tf = tcase_create("format");
	TCase *tc = tcase_create("command");

	tcase_add_test(tf, status_layout);
	tcase_add_test(tf, replication_layout);
	tcase_add_test(tf, status_without_kip853_fields);
	tcase_add_test(tf, lag_edge_cases);
	tcase_add_test(tf, error_responses);
	suite_add_tcase(s, tf);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, describe_status_end_to_end);
	tcase_add_test(tc, describe_v1_without_cluster_id);
	tcase_add_test(tc, describe_replication_end_to_end);
	tcase_add_test(tc, describe_partition_error);
	tcase_add_test(tc, connection_refused);
	tcase_add_test(tc, usage_errors);
	suite_add_tcase(s, tc);
	return s;
}
