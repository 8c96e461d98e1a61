/*
 * cluster_run.c: the process side of `sluice cluster` (cluster_int.h): format every node, start
 * each as a child `sluice server start -c DIR/node-<id>/server.properties` (stdout and stderr
 * appended to DIR/node-<id>/server.log), wait for the listeners, then supervise until
 * SIGINT/SIGTERM.
 *
 * Signals: SIGINT, SIGTERM and SIGCHLD are blocked for the whole run and taken synchronously
 * with sigtimedwait(), so there are no handlers and no races with waitpid(). Children get the
 * default mask back before exec, their own process group (a terminal's Ctrl-C reaches only
 * this process, which then stops the nodes in order) and PR_SET_PDEATHSIG=SIGTERM (if this
 * process dies, its nodes are stopped too).
 *
 * Stop order: broker-only nodes first, then the nodes with the controller role (the quorum
 * stays up while brokers shut down in a controlled way). Each group gets SIGTERM at once and
 * CLUSTER_STOP_TIMEOUT_MS to exit; a node still running then is SIGKILLed with a message. A
 * second SIGINT/SIGTERM while stopping kills what is left at once.
 *
 * A node that exits on its own while the cluster runs is reported (id, roles, status, log) and
 * the others keep running, so fencing and failover can be watched; when every node has exited
 * the command exits 1.
 */
#include "cluster_int.h"
#include "tools.h"

#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CLUSTER_POLL_MS 50
#define CLUSTER_TAIL_BYTES 2048

enum cluster_event { CLUSTER_EV_NONE, CLUSTER_EV_CHILD, CLUSTER_EV_STOP };

static sigset_t cluster_sigs;

/* Waits up to timeout_ms for SIGINT/SIGTERM (CLUSTER_EV_STOP) or SIGCHLD. */
static enum cluster_event cluster_wait_signal(int64_t timeout_ms)
{
	if (timeout_ms < 0)
		timeout_ms = 0;
	struct timespec ts = {.tv_sec = (time_t)(timeout_ms / 1000),
	                      .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
	int sig = sigtimedwait(&cluster_sigs, NULL, &ts);
	if (sig == SIGINT || sig == SIGTERM)
		return CLUSTER_EV_STOP;
	if (sig == SIGCHLD)
		return CLUSTER_EV_CHILD;
	return CLUSTER_EV_NONE;
}

static void cluster_describe_status(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "was killed by signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else
		snprintf(out, len, "ended with status %d", status);
}

/* Prints the last lines of a node's log, indented, to stderr. */
static void cluster_print_tail(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[CLUSTER_TAIL_BYTES + 1];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > CLUSTER_TAIL_BYTES ? size - CLUSTER_TAIL_BYTES : 0;
	ssize_t n = pread(fd, buf, CLUSTER_TAIL_BYTES, from);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	const char *p = buf;
	if (from > 0 && strchr(p, '\n') != NULL)
		p = strchr(p, '\n') + 1;
	fprintf(stderr, "---- last lines of %s ----\n", path);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		int line_len = nl != NULL ? (int)(nl - p) : (int)strlen(p);
		fprintf(stderr, "  %.*s\n", line_len, p);
		p += line_len + (nl != NULL);
	}
}

/* Reaps every exited child. Unexpected exits (not while stopping) are reported. Returns the
 * number of nodes reaped. */
static size_t cluster_reap(struct cluster *c)
{
	size_t reaped = 0;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < c->node_count; i++) {
			struct cluster_node *n = &c->nodes[i];
			if (n->pid != pid)
				continue;
			n->pid = 0;
			n->exited = true;
			n->status = status;
			reaped++;
			if (!c->stopping) {
				char how[96];
				cluster_describe_status(status, how, sizeof(how));
				fprintf(stderr, "node %d (%s) %s unexpectedly; log: %s\n", n->id,
				        cluster_roles(n), how, n->log);
			}
		}
	}
	return reaped;
}

static size_t cluster_running_count(const struct cluster *c)
{
	size_t count = 0;
	for (size_t i = 0; i < c->node_count; i++)
		count += c->nodes[i].pid != 0;
	return count;
}

/* In a child: stdin from /dev/null, stdout and stderr appended to log. */
static void cluster_child_io(const char *log)
{
	int in = open("/dev/null", O_RDONLY);
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (in < 0 || out < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(out, STDERR_FILENO) < 0)
		_exit(127);
	close(in);
	close(out);
}

/* In a child before exec: default signal mask, own process group, die with the parent. */
static void cluster_child_signals(pid_t parent)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
}

/* Formats one node in a forked child (the storage command's own code, output in the node's
 * log). Returns 0 or 1 (message printed). */
static int cluster_format_node(const struct cluster *c, const struct cluster_node *n)
{
	char id_arg[64];
	snprintf(id_arg, sizeof(id_arg), "--cluster-id=%s", c->cluster_id);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "sluice cluster: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		cluster_child_io(n->log);
		char *args[] = {"storage", "format", "-c", (char *)n->config, id_arg, NULL};
		int rc = tools_storage_main(5, args);
		fflush(stdout);
		fflush(stderr);
		_exit(rc);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "sluice cluster: waitpid: %s\n", strerror(errno));
			return 1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	fprintf(stderr, "sluice cluster: formatting node %d failed; log: %s\n", n->id, n->log);
	cluster_print_tail(n->log);
	return 1;
}

static int cluster_spawn(struct cluster_node *n)
{
	pid_t parent = getpid();
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "sluice cluster: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		cluster_child_io(n->log);
		cluster_child_signals(parent);
		char *args[] = {"sluice", "server", "start", "-c", n->config, NULL};
		execv("/proc/self/exe", args);
		fprintf(stderr, "sluice cluster: cannot run /proc/self/exe: %s\n", strerror(errno));
		_exit(127);
	}
	n->pid = pid;
	n->exited = false;
	return 0;
}

/* True when something accepts a TCP connection on 127.0.0.1:port. */
static bool cluster_port_open(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct timeval tv = {.tv_sec = 0, .tv_usec = 500000};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static uint16_t cluster_ready_port(const struct cluster_node *n)
{
	return n->broker ? n->broker_port : n->controller_port;
}

/* Waits until every node accepts connections on its broker listener (controller listener for
 * controller-only nodes). Returns 0, 1 on failure (message printed) or 130 when interrupted. */
static int cluster_wait_ready(struct cluster *c)
{
	bool ready[CLUSTER_NODES_MAX] = {false};
	size_t ready_count = 0;
	int64_t deadline = sl_mono_ms() + CLUSTER_START_TIMEOUT_MS;
	for (;;) {
		for (size_t i = 0; i < c->node_count; i++) {
			struct cluster_node *n = &c->nodes[i];
			if (n->exited) {
				char how[96];
				cluster_describe_status(n->status, how, sizeof(how));
				fprintf(stderr,
				        "sluice cluster: node %d (%s) %s during start-up; log: "
				        "%s\n",
				        n->id, cluster_roles(n), how, n->log);
				cluster_print_tail(n->log);
				return 1;
			}
			if (!ready[i] && cluster_port_open(cluster_ready_port(n))) {
				ready[i] = true;
				ready_count++;
			}
		}
		if (ready_count == c->node_count)
			return 0;
		int64_t now = sl_mono_ms();
		if (now >= deadline) {
			for (size_t i = 0; i < c->node_count; i++) {
				const struct cluster_node *n = &c->nodes[i];
				if (!ready[i])
					fprintf(stderr,
					        "sluice cluster: node %d (%s) is not accepting "
					        "connections on "
					        "127.0.0.1:%u after %d s; log: %s\n",
					        n->id, cluster_roles(n), cluster_ready_port(n),
					        CLUSTER_START_TIMEOUT_MS / 1000, n->log);
			}
			return 1;
		}
		enum cluster_event ev = cluster_wait_signal(CLUSTER_POLL_MS);
		if (ev == CLUSTER_EV_STOP)
			return 130;
		c->stopping = true; /* exits during start-up are reported above, not by reap */
		cluster_reap(c);
		c->stopping = false;
	}
}

/* SIGTERMs the running nodes of one group and waits for them; SIGKILL after the timeout or on
 * a second interrupt. Returns the number of nodes that did not exit with code 0. */
static size_t cluster_stop_group(struct cluster *c, bool controllers)
{
	bool in_group[CLUSTER_NODES_MAX] = {false};
	for (size_t i = 0; i < c->node_count; i++) {
		struct cluster_node *n = &c->nodes[i];
		in_group[i] = n->pid != 0 && n->controller == controllers;
		if (in_group[i])
			kill(n->pid, SIGTERM);
	}
	int64_t deadline = sl_mono_ms() + CLUSTER_STOP_TIMEOUT_MS;
	bool kill_now = false;
	for (;;) {
		cluster_reap(c);
		bool left = false;
		for (size_t i = 0; i < c->node_count; i++)
			left = left || (in_group[i] && c->nodes[i].pid != 0);
		if (!left)
			break;
		if (kill_now || sl_mono_ms() >= deadline) {
			for (size_t i = 0; i < c->node_count; i++) {
				struct cluster_node *n = &c->nodes[i];
				if (!in_group[i] || n->pid == 0 || n->killed)
					continue;
				n->killed = true;
				fprintf(stderr,
				        "node %d (%s) did not stop %s; killing it (log: %s)\n",
				        n->id, cluster_roles(n),
				        kill_now ? "before the second interrupt" : "within 30 s",
				        n->log);
				kill(n->pid, SIGKILL);
			}
			deadline = INT64_MAX;
			kill_now = false;
		}
		if (cluster_wait_signal(CLUSTER_POLL_MS) == CLUSTER_EV_STOP)
			kill_now = true;
	}
	size_t unclean = 0;
	for (size_t i = 0; i < c->node_count; i++) {
		const struct cluster_node *n = &c->nodes[i];
		if (!in_group[i] || (WIFEXITED(n->status) && WEXITSTATUS(n->status) == 0))
			continue;
		char how[96];
		cluster_describe_status(n->status, how, sizeof(how));
		fprintf(stderr, "node %d (%s) %s; log: %s\n", n->id, cluster_roles(n), how, n->log);
		unclean++;
	}
	return unclean;
}

/* Stops every running node, brokers first. Returns 0 when all exited cleanly, else 1. */
static int cluster_stop(struct cluster *c)
{
	c->stopping = true;
	cluster_reap(c);
	size_t unclean = cluster_stop_group(c, false);
	unclean += cluster_stop_group(c, true);
	printf("stopped\n");
	fflush(stdout);
	return unclean == 0 ? 0 : 1;
}

static void cluster_print_nodes(const struct cluster *c)
{
	for (size_t i = 0; i < c->node_count; i++) {
		const struct cluster_node *n = &c->nodes[i];
		char listeners[96] = "";
		if (n->broker && n->controller)
			snprintf(listeners, sizeof(listeners),
			         "PLAINTEXT://127.0.0.1:%u,CONTROLLER://127.0.0.1:%u",
			         n->broker_port, n->controller_port);
		else if (n->broker)
			snprintf(listeners, sizeof(listeners), "PLAINTEXT://127.0.0.1:%u",
			         n->broker_port);
		else
			snprintf(listeners, sizeof(listeners), "CONTROLLER://127.0.0.1:%u",
			         n->controller_port);
		printf("node %d  roles=%s  listeners=%s  pid=%d  log=%s\n", n->id, cluster_roles(n),
		       listeners, (int)n->pid, n->log);
	}
	printf("bootstrap servers: ");
	bool first = true;
	for (size_t i = 0; i < c->node_count; i++) {
		if (!c->nodes[i].broker)
			continue;
		printf("%s127.0.0.1:%u", first ? "" : ",", c->nodes[i].broker_port);
		first = false;
	}
	printf("\nrunning; press Ctrl-C (or send SIGTERM) to stop\n");
	fflush(stdout);
}

/* Supervises until SIGINT/SIGTERM or until every node has exited. */
static int cluster_supervise(struct cluster *c)
{
	for (;;) {
		enum cluster_event ev = cluster_wait_signal(1000);
		if (ev == CLUSTER_EV_STOP)
			return cluster_stop(c);
		cluster_reap(c);
		if (cluster_running_count(c) == 0) {
			fprintf(stderr, "sluice cluster: every node has exited\n");
			return 1;
		}
	}
}

int cluster_run(struct cluster *c)
{
	sigemptyset(&cluster_sigs);
	sigaddset(&cluster_sigs, SIGINT);
	sigaddset(&cluster_sigs, SIGTERM);
	sigaddset(&cluster_sigs, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &cluster_sigs, NULL) != 0) {
		fprintf(stderr, "sluice cluster: sigprocmask: %s\n", strerror(errno));
		return 1;
	}
	printf("cluster id: %s\ndirectory: %s\n", c->cluster_id, c->dir);
	fflush(stdout);
	for (size_t i = 0; i < c->node_count; i++) {
		if (cluster_format_node(c, &c->nodes[i]) != 0)
			return 1;
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < c->node_count; i++)
		rc = cluster_spawn(&c->nodes[i]);
	if (rc == 0)
		rc = cluster_wait_ready(c);
	if (rc != 0) {
		if (rc == 1)
			fprintf(stderr,
			        "sluice cluster: start-up failed; stopping the other nodes\n");
		int stop_rc = cluster_stop(c);
		return rc == 130 ? stop_rc : 1;
	}
	cluster_print_nodes(c);
	return cluster_supervise(c);
}
