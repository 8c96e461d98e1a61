/*
 * test_node_discover.c: src/node/discover.c, the start-up discovery of the controller quorum
 * through controller.quorum.bootstrap.servers.
 *
 * - node_discover_parse on hand-built DescribeQuorum v2 answers: the voters with the listener
 *   named controller.listener.names[0] (else the first), and every rejected answer: top-level
 *   or partition error (NOT_LEADER_OR_FOLLOWER), no __cluster_metadata-0, no voters, more than
 *   RAFT_VOTERS_MAX, a duplicate or negative id, a voter without a node entry, without
 *   listeners, with an empty or oversized host or port 0.
 * - node_discover_voters on a real loop against a closed loopback port: SL_ETIMEDOUT after the
 *   configured timeout with err naming the server and the last error; SL_ECANCELED
 *   ("interrupted") at once when the signal socket holds a byte; no io op left pending.
 */
#include "check_main.h"
#include "io.h"
#include "kerr.h"
#include "node_int.h"
#include "wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NV 3

/* An answer from leader 2 with voters 1..3; node i has listeners "PLAIN" and "CTRL". */
struct answer {
	struct wire_describe_quorum_response resp;
	struct wire_describe_quorum_response_topic_data topic;
	struct wire_describe_quorum_response_partition_data part;
	struct wire_describe_quorum_response_replica_state voters[RAFT_VOTERS_MAX + 1];
	struct wire_describe_quorum_response_node nodes[RAFT_VOTERS_MAX + 1];
	struct wire_describe_quorum_response_listener lis[RAFT_VOTERS_MAX + 1][2];
	char hosts[RAFT_VOTERS_MAX + 1][2][32];
};

static void answer_init(struct answer *a)
{
	memset(a, 0, sizeof(*a));
	wire_describe_quorum_response_init(&a->resp);
	wire_describe_quorum_response_topic_data_init(&a->topic);
	wire_describe_quorum_response_partition_data_init(&a->part);
	a->part.leader_id = 2;
	a->part.leader_epoch = 7;
	a->part.current_voters = a->voters;
	a->part.current_voters_count = NV;
	a->topic.topic_name = wire_str_c("__cluster_metadata");
	a->topic.partitions = &a->part;
	a->topic.partitions_count = 1;
	a->resp.topics = &a->topic;
	a->resp.topics_count = 1;
	a->resp.nodes = a->nodes;
	a->resp.nodes_count = NV;
	for (int i = 0; i < RAFT_VOTERS_MAX + 1; i++) {
		wire_describe_quorum_response_replica_state_init(&a->voters[i]);
		a->voters[i].replica_id = i + 1;
		wire_describe_quorum_response_node_init(&a->nodes[i]);
		a->nodes[i].node_id = i + 1;
		a->nodes[i].listeners = a->lis[i];
		a->nodes[i].listeners_count = 2;
		const char *names[2] = {"PLAIN", "CTRL"};
		for (int k = 0; k < 2; k++) {
			snprintf(a->hosts[i][k], sizeof(a->hosts[i][k]), "10.0.%d.%d", k, i + 1);
			wire_describe_quorum_response_listener_init(&a->lis[i][k]);
			a->lis[i][k].name = wire_str_c(names[k]);
			a->lis[i][k].host = wire_str_c(a->hosts[i][k]);
			a->lis[i][k].port = (uint16_t)(9000 + 100 * k + i + 1);
		}
	}
}

static enum sl_err parse(const struct answer *a, const char *listener, struct raft_voter *out,
                         uint32_t *count, char *err, size_t err_len)
{
	err[0] = '\0';
	return node_discover_parse(&a->resp, listener, out, count, err, err_len);
}

START_TEST(test_parse_leader_answer)
{
	struct answer *a = malloc(sizeof(*a));
	ck_assert_ptr_nonnull(a);
	answer_init(a);
	struct raft_voter v[RAFT_VOTERS_MAX];
	uint32_t n = 99;
	char err[256];
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(n, NV);
	for (uint32_t i = 0; i < n; i++) {
		char want[32];
		snprintf(want, sizeof(want), "10.0.1.%u", i + 1);
		ck_assert_int_eq(v[i].id, (int32_t)i + 1);
		ck_assert_str_eq(v[i].host, want);
		ck_assert_uint_eq(v[i].port, 9100 + i + 1);
	}
	/* No listener of that name (or none given): the first. */
	ck_assert_int_eq(parse(a, "OTHER", v, &n, err, sizeof(err)), SL_OK);
	ck_assert_str_eq(v[0].host, "10.0.0.1");
	ck_assert_uint_eq(v[0].port, 9001);
	ck_assert_int_eq(parse(a, NULL, v, &n, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(v[2].port, 9003);
	/* Nodes in another order than the voters, with an extra node: matched by id. */
	struct wire_describe_quorum_response_node tmp = a->nodes[0];
	a->nodes[0] = a->nodes[2];
	a->nodes[2] = tmp;
	a->resp.nodes_count = NV + 1;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(n, NV);
	ck_assert_int_eq(v[0].id, 1);
	ck_assert_str_eq(v[0].host, "10.0.1.1");
	free(a);
}
END_TEST

START_TEST(test_parse_errors)
{
	struct answer *a = malloc(sizeof(*a));
	ck_assert_ptr_nonnull(a);
	struct raft_voter v[RAFT_VOTERS_MAX];
	uint32_t n = 99;
	char err[256];

	answer_init(a);
	a->part.error_code = WIRE_ERR_NOT_LEADER_OR_FOLLOWER;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EAGAIN);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(strstr(err, "NOT_LEADER_OR_FOLLOWER"));

	answer_init(a);
	a->resp.error_code = WIRE_ERR_CLUSTER_AUTHORIZATION_FAILED;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EAGAIN);
	ck_assert_ptr_nonnull(strstr(err, "CLUSTER_AUTHORIZATION_FAILED"));

	answer_init(a);
	a->topic.topic_name = wire_str_c("other");
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EAGAIN);
	ck_assert_ptr_nonnull(strstr(err, "__cluster_metadata-0"));

	answer_init(a);
	a->part.partition_index = 1;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EAGAIN);

	answer_init(a);
	a->resp.topics_count = 0;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EAGAIN);

	answer_init(a);
	a->part.current_voters_count = 0;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);

	answer_init(a);
	a->part.current_voters_count = RAFT_VOTERS_MAX + 1;
	a->resp.nodes_count = RAFT_VOTERS_MAX + 1;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);
	ck_assert_uint_eq(n, 0);

	answer_init(a); /* exactly the maximum is fine */
	a->part.current_voters_count = RAFT_VOTERS_MAX;
	a->resp.nodes_count = RAFT_VOTERS_MAX;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(n, RAFT_VOTERS_MAX);

	answer_init(a);
	a->voters[2].replica_id = 1;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "twice"));

	answer_init(a);
	a->voters[1].replica_id = -1;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);

	answer_init(a); /* voter 3 without a node entry */
	a->resp.nodes_count = 2;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "voter 3"));
	ck_assert_uint_eq(n, 0);

	answer_init(a); /* v0/v1-style answer: no nodes at all */
	a->resp.nodes_count = 0;
	a->resp.nodes = NULL;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);

	answer_init(a);
	a->nodes[1].listeners_count = 0;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "voter 2"));

	answer_init(a);
	a->lis[0][1].port = 0;
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);

	answer_init(a);
	a->lis[0][1].host = wire_str_c("");
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);

	answer_init(a);
	a->lis[0][1].host = (struct wire_str){.ptr = NULL, .len = -1};
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);

	static char big[300];
	memset(big, 'h', sizeof(big) - 1);
	answer_init(a);
	a->lis[0][1].host = wire_str_c(big); /* 299 bytes: over raft_voter.host */
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);

	answer_init(a);
	a->lis[0][1].host = (struct wire_str){.ptr = "a\0b", .len = 3};
	ck_assert_int_eq(parse(a, "CTRL", v, &n, err, sizeof(err)), SL_EMALFORMED);
	free(a);
}
END_TEST

/* ---- node_discover_voters on a real loop ---- */

/* A loopback port with nothing listening (bound, then closed). */
static uint16_t closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t len = sizeof(sa);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static struct node_config *config_with(uint16_t port, int64_t timeout_ms)
{
	struct node_config *c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->node_id = 4;
	c->roles = NODE_ROLE_BROKER;
	snprintf(c->controller_listener_names[0], sizeof(c->controller_listener_names[0]),
	         "CONTROLLER");
	c->controller_listener_name_count = 1;
	snprintf(c->bootstrap_servers[0], sizeof(c->bootstrap_servers[0]), "127.0.0.1:%u",
	         (unsigned)port);
	c->bootstrap_server_count = 1;
	c->initial_broker_registration_timeout_ms = timeout_ms;
	c->quorum_request_timeout_ms = 500;
	return c;
}

START_TEST(test_discover_timeout_and_interrupt)
{
	struct io_loop_opts lo = {.backend = _i == 0 ? IO_BACKEND_SYNC : IO_BACKEND_AUTO};
	struct io_loop *loop;
	char err[1024] = "";
	ck_assert_msg(io_loop_create(&lo, &loop, err, sizeof(err)) == SL_OK, "%s", err);
	uint16_t port = closed_port();
	struct node_config *c = config_with(port, 400);
	struct raft_voter v[RAFT_VOTERS_MAX];
	uint32_t n = 99;
	int64_t t0 = sl_mono_ms();
	ck_assert_int_eq(node_discover_voters(loop, c, -1, v, &n, err, sizeof(err)), SL_ETIMEDOUT);
	int64_t took = sl_mono_ms() - t0;
	ck_assert_int_ge(took, 400);
	ck_assert_int_lt(took, 5000);
	ck_assert_uint_eq(n, 0);
	ck_assert_msg(strstr(err, c->bootstrap_servers[0]) != NULL, "%s", err);
	ck_assert_msg(strstr(err, "refused") != NULL, "%s", err);
	ck_assert_uint_eq(io_loop_pending(loop), 0);

	/* A byte on the signal socket: interrupted at once, even with a long timeout. */
	c->initial_broker_registration_timeout_ms = 60000;
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	t0 = sl_mono_ms();
	ck_assert_int_eq(node_discover_voters(loop, c, sv[0], v, &n, err, sizeof(err)),
	                 SL_ECANCELED);
	ck_assert_int_lt(sl_mono_ms() - t0, 2000);
	ck_assert_str_eq(err, "interrupted");
	ck_assert_uint_eq(io_loop_pending(loop), 0);
	close(sv[0]);
	close(sv[1]);
	free(c);
	io_loop_destroy(loop);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("node_discover");
	TCase *tc = tcase_create("discover");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_leader_answer);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_loop_test(tc, test_discover_timeout_and_interrupt, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
