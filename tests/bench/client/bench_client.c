/*
 * bench_client.c: sluice_bench_client, the client-level benchmark (not a test).
 *
 * Drives a broker with librdkafka (the C client users run) and, in the same run, librdkafka's
 * in-memory mock cluster (rdkafka_mock.h) as the reference peer, alternating runs:
 *   produce    N records of 100 B and 1 KiB, acks=all, as fast as the client goes
 *   consume    the records back from the beginning (legacy consumer: no group needed)
 *   e2e        end-to-end latency at a paced rate (10k and 50k msg/s): the value carries the
 *              send time; a consumer started at the end measures arrival - send
 *   wake       the same at 50 msg/s with fetch.wait.max.ms=500: a parked fetch must wake on
 *              arrival, so latency stays far below 500 ms
 * Each target runs in its own process (sluice: started by the script; the mock: a child this
 * program forks), so broker CPU per message is read from /proc/<pid>/stat.
 *
 *   sluice_bench_client --sluice HOST:PORT --sluice-pid PID [--runs 3] [--records N]
 *
 * Prints one table per metric with the median of the runs and the Sluice/mock ratio.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS_MAX 9
#define LAT_MAX 400000

struct target {
	const char *name;
	char bootstrap[256];
	pid_t pid;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* utime + stime of pid in microseconds (from /proc/<pid>/stat), or -1. */
static int64_t proc_cpu_us(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	char buf[2048];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	unsigned long ut = 0, st = 0;
	/* fields after ")": state(3) ... utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	return (int64_t)(ut + st) * 1000000 / hz;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "sluice_bench_client: %s: %s\n", what, detail);
	exit(1);
}

static rd_kafka_t *make_client(rd_kafka_type_t type, const char *bootstrap, const char *const *kv)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) !=
	    RD_KAFKA_CONF_OK)
		die("conf", err);
	for (size_t i = 0; kv != NULL && kv[i] != NULL; i += 2) {
		if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], err, sizeof(err)) != RD_KAFKA_CONF_OK)
			die("conf", err);
	}
	rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (rk == NULL)
		die("rd_kafka_new", err);
	return rk;
}

/* ---- the mock cluster in a child process ------------------------------------------------ */

static void mock_child(int wfd, int rfd)
{
	rd_kafka_t *rk = make_client(RD_KAFKA_PRODUCER, "", (const char *const[]){NULL});
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
	if (mc == NULL)
		die("mock", "rd_kafka_mock_cluster_new failed");
	/* The mock does not serve CreateTopics: create every topic a round uses up front. */
	static const char *const kinds[] = {"p100", "p1k", "e2e10", "e2e50", "wake"};
	for (int run = 0; run < RUNS_MAX; run++) {
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			char topic[64];
			snprintf(topic, sizeof(topic), "bench-%s-%d", kinds[k], run);
			if (rd_kafka_mock_topic_create(mc, topic, 1, 1) !=
			    RD_KAFKA_RESP_ERR_NO_ERROR)
				die("mock", "rd_kafka_mock_topic_create failed");
		}
	}
	const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
	dprintf(wfd, "%s\n", bs);
	close(wfd);
	char c;
	while (read(rfd, &c, 1) > 0) /* until the parent closes the pipe */
		;
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	_exit(0);
}

static int mock_stop_fd = -1;

static void mock_start(struct target *t)
{
	int up[2], down[2];
	if (pipe(up) != 0 || pipe(down) != 0)
		die("pipe", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		mock_child(up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	mock_stop_fd = down[1];
	FILE *f = fdopen(up[0], "r");
	if (f == NULL || fgets(t->bootstrap, sizeof(t->bootstrap), f) == NULL)
		die("mock", "no bootstrap address from the child");
	fclose(f);
	t->bootstrap[strcspn(t->bootstrap, "\n")] = '\0';
	t->pid = pid;
}

static void mock_stop(struct target *t)
{
	close(mock_stop_fd);
	waitpid(t->pid, NULL, 0);
}

/* ---- topics ------------------------------------------------------------------------------ */

static void create_topic(const struct target *t, const char *topic)
{
	if (strcmp(t->name, "mock") == 0)
		return; /* created by the mock child (mock_child) */
	rd_kafka_t *rk = make_client(RD_KAFKA_PRODUCER, t->bootstrap, (const char *const[]){NULL});
	char err[256];
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, 1, err, sizeof(err));
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
	if (ev == NULL)
		die("CreateTopics", "timed out");
	const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
	size_t n = 0;
	const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
	if (n != 1 ||
	    (rd_kafka_topic_result_error(tr[0]) != RD_KAFKA_RESP_ERR_NO_ERROR &&
	     rd_kafka_topic_result_error(tr[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS))
		die("CreateTopics",
		    n == 1 ? rd_kafka_topic_result_error_string(tr[0]) : "no result");
	rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
	rd_kafka_destroy(rk);
}

/* ---- produce ----------------------------------------------------------------------------- */

struct dr_state {
	long delivered;
	long failed;
	int64_t last_ns;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct dr_state *s = opaque;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
		s->failed++;
	else
		s->delivered++;
	s->last_ns = now_ns();
}

struct result {
	double msgs_per_s;
	double mb_per_s;
	double cpu_us_per_msg;
	double p50_ms, p99_ms, p999_ms;
};

static void produce_run(const struct target *t, const char *topic, size_t size, long n,
                        struct result *out)
{
	struct dr_state s = {0};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];
	const char *kv[] = {"bootstrap.servers",
	                    t->bootstrap,
	                    "acks",
	                    "all",
	                    "linger.ms",
	                    "5",
	                    "queue.buffering.max.messages",
	                    "1000000",
	                    "compression.type",
	                    "none",
	                    NULL};
	for (size_t i = 0; kv[i] != NULL; i += 2)
		rd_kafka_conf_set(conf, kv[i], kv[i + 1], err, sizeof(err));
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, &s);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL)
		die("producer", err);
	char *payload = malloc(size);
	memset(payload, 'x', size);
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	/* Warm up the connection and metadata first. */
	rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, payload, size, NULL, 0, NULL);
	rd_kafka_flush(rk, 10000);
	s.delivered = 0;
	int64_t cpu0 = proc_cpu_us(t->pid);
	int64_t t0 = now_ns();
	for (long i = 0; i < n; i++) {
		while (rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, payload, size, NULL, 0,
		                        NULL) != 0)
			rd_kafka_poll(rk, 1);
		if ((i & 1023) == 0)
			rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 60000);
	int64_t cpu1 = proc_cpu_us(t->pid);
	double secs = (double)(s.last_ns - t0) / 1e9;
	if (s.delivered != n || s.failed != 0)
		fprintf(stderr, "warning: %s: %ld of %ld delivered, %ld failed\n", t->name,
		        s.delivered, n, s.failed);
	out->msgs_per_s = (double)s.delivered / secs;
	out->mb_per_s = (double)s.delivered * (double)size / secs / 1e6;
	out->cpu_us_per_msg = (double)(cpu1 - cpu0) / (double)(n > 0 ? n : 1);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	free(payload);
}

/* ---- consume ----------------------------------------------------------------------------- */

static void consume_run(const struct target *t, const char *topic, long n, struct result *out)
{
	rd_kafka_t *rk = make_client(RD_KAFKA_CONSUMER, t->bootstrap,
	                             (const char *const[]){"fetch.wait.max.ms", "100", NULL});
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	int64_t cpu0 = proc_cpu_us(t->pid);
	int64_t t0 = now_ns();
	rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_BEGINNING);
	long got = 0;
	size_t bytes = 0;
	rd_kafka_message_t *msgs[1024];
	int64_t deadline = now_ns() + 60 * 1000000000LL;
	while (got < n && now_ns() < deadline) {
		/* consume_batch waits until the array is full or the timeout passes: keep the
		 * timeout short so the last partial array does not idle. */
		ssize_t k = rd_kafka_consume_batch(rkt, 0, 5, msgs, 1024);
		for (ssize_t i = 0; i < k; i++) {
			if (msgs[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
				got++;
				bytes += msgs[i]->len;
			}
			rd_kafka_message_destroy(msgs[i]);
		}
	}
	int64_t t1 = now_ns();
	int64_t cpu1 = proc_cpu_us(t->pid);
	rd_kafka_consume_stop(rkt, 0);
	if (got < n)
		fprintf(stderr, "warning: %s: consumed %ld of %ld\n", t->name, got, n);
	double secs = (double)(t1 - t0) / 1e9;
	out->msgs_per_s = (double)got / secs;
	out->mb_per_s = (double)bytes / secs / 1e6;
	out->cpu_us_per_msg = (double)(cpu1 - cpu0) / (double)(got > 0 ? got : 1);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
}

/* ---- end-to-end latency ------------------------------------------------------------------ */

struct e2e {
	const struct target *t;
	const char *topic;
	const char *fetch_wait_ms;
	long n;
	double lat_ms[LAT_MAX];
	long got;
	volatile int ready;
};

static void *e2e_consumer(void *arg)
{
	struct e2e *e = arg;
	rd_kafka_t *rk = make_client(RD_KAFKA_CONSUMER, e->t->bootstrap,
	                             (const char *const[]){"fetch.wait.max.ms", e->fetch_wait_ms,
	                                                   "fetch.error.backoff.ms", "10", NULL});
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, e->topic, NULL);
	rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_END);
	/* Let the consumer resolve the end offset and park its first fetch. */
	rd_kafka_message_t *msgs[1024];
	int64_t settle = now_ns() + 1500000000LL;
	while (now_ns() < settle) {
		ssize_t k = rd_kafka_consume_batch(rkt, 0, 100, msgs, 1024);
		for (ssize_t i = 0; i < k; i++)
			rd_kafka_message_destroy(msgs[i]);
	}
	e->ready = 1;
	int64_t deadline = now_ns() + 120 * 1000000000LL;
	while (e->got < e->n && now_ns() < deadline) {
		/* One message at a time: it is returned as soon as it is in the client's queue
		 * (consume_batch would hold it until the array fills or its timeout passes). */
		rd_kafka_message_t *m = rd_kafka_consume(rkt, 0, 100);
		if (m == NULL)
			continue;
		int64_t now = now_ns();
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->len >= 8 && e->got < LAT_MAX) {
			int64_t sent;
			memcpy(&sent, m->payload, 8);
			e->lat_ms[e->got++] = (double)(now - sent) / 1e6;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consume_stop(rkt, 0);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

static double pct(const double *v, long n, double p)
{
	if (n == 0)
		return -1;
	long i = (long)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static void e2e_run(const struct target *t, const char *topic, long rate, long n,
                    const char *fetch_wait_ms, struct result *out)
{
	static struct e2e e;
	memset(&e, 0, sizeof(e));
	e.t = t;
	e.topic = topic;
	e.n = n;
	e.fetch_wait_ms = fetch_wait_ms;
	pthread_t th;
	pthread_create(&th, NULL, e2e_consumer, &e);
	while (!e.ready)
		usleep(1000);
	rd_kafka_t *rk = make_client(RD_KAFKA_PRODUCER, t->bootstrap,
	                             (const char *const[]){"acks", "all", "linger.ms", "0", NULL});
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	char payload[100];
	memset(payload, 'y', sizeof(payload));
	int64_t cpu0 = proc_cpu_us(t->pid);
	int64_t start = now_ns();
	/* Paced without spinning (2 cores are shared by client threads and the broker): sleep
	 * 100 us at a time and send every record that has come due. */
	for (long i = 0; i < n;) {
		int64_t due = start + i * (1000000000LL / rate);
		if (now_ns() < due) {
			rd_kafka_poll(rk, 0);
			usleep(100);
			continue;
		}
		int64_t ts = now_ns();
		memcpy(payload, &ts, 8);
		while (rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, payload, sizeof(payload), NULL,
		                        0, NULL) != 0)
			rd_kafka_poll(rk, 1);
		i++;
	}
	rd_kafka_flush(rk, 30000);
	pthread_join(th, NULL);
	int64_t cpu1 = proc_cpu_us(t->pid);
	qsort(e.lat_ms, (size_t)e.got, sizeof(double), cmp_double);
	out->msgs_per_s = (double)e.got / ((double)(now_ns() - start) / 1e9);
	out->mb_per_s = 0;
	out->cpu_us_per_msg = (double)(cpu1 - cpu0) / (double)(e.got > 0 ? e.got : 1);
	out->p50_ms = pct(e.lat_ms, e.got, 0.50);
	out->p99_ms = pct(e.lat_ms, e.got, 0.99);
	out->p999_ms = pct(e.lat_ms, e.got, 0.999);
	if (e.got < n)
		fprintf(stderr, "warning: %s: e2e got %ld of %ld\n", t->name, e.got, n);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
}

/* ---- the driver -------------------------------------------------------------------------- */

enum { M_P100, M_P1K, M_CONSUME, M_E2E10K, M_E2E50K, M_WAKE, M_COUNT };
static const char *const metric_names[M_COUNT] = {
        "produce 100 B acks=all", "produce 1 KiB acks=all", "consume 100 B from start",
        "e2e latency @10k msg/s", "e2e latency @50k msg/s", "e2e @50 msg/s, fetch.wait.max.ms=500",
};

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct series {
	double v[6][RUNS_MAX]; /* msgs/s, MB/s, cpu, p50, p99, p99.9 */
};

static void record(struct series *s, int run, const struct result *r)
{
	s->v[0][run] = r->msgs_per_s;
	s->v[1][run] = r->mb_per_s;
	s->v[2][run] = r->cpu_us_per_msg;
	s->v[3][run] = r->p50_ms;
	s->v[4][run] = r->p99_ms;
	s->v[5][run] = r->p999_ms;
}

static void one_round(const struct target *t, int run, long records, struct series *out)
{
	char topic[64];
	struct result r;
	memset(&r, 0, sizeof(r));
	snprintf(topic, sizeof(topic), "bench-p100-%d", run);
	create_topic(t, topic);
	produce_run(t, topic, 100, records, &r);
	record(&out[M_P100], run, &r);
	consume_run(t, topic, records, &r);
	record(&out[M_CONSUME], run, &r);
	snprintf(topic, sizeof(topic), "bench-p1k-%d", run);
	create_topic(t, topic);
	produce_run(t, topic, 1024, records / 4, &r);
	record(&out[M_P1K], run, &r);
	snprintf(topic, sizeof(topic), "bench-e2e10-%d", run);
	create_topic(t, topic);
	e2e_run(t, topic, 10000, 30000, "500", &r);
	record(&out[M_E2E10K], run, &r);
	snprintf(topic, sizeof(topic), "bench-e2e50-%d", run);
	create_topic(t, topic);
	e2e_run(t, topic, 50000, 100000, "500", &r);
	record(&out[M_E2E50K], run, &r);
	snprintf(topic, sizeof(topic), "bench-wake-%d", run);
	create_topic(t, topic);
	e2e_run(t, topic, 50, 100, "500", &r);
	record(&out[M_WAKE], run, &r);
}

static void print_row(const char *metric, const char *unit, double s, double m)
{
	printf("  %-40s %-12s %12.2f %12.2f %8.2f\n", metric, unit, s, m, m != 0 ? s / m : 0);
}

int main(int argc, char **argv)
{
	struct target sl = {.name = "sluice"}, mock = {.name = "mock"};
	int runs = 3;
	long records = 500000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sluice") == 0 && i + 1 < argc)
			snprintf(sl.bootstrap, sizeof(sl.bootstrap), "%s", argv[++i]);
		else if (strcmp(argv[i], "--sluice-pid") == 0 && i + 1 < argc)
			sl.pid = (pid_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
			records = atol(argv[++i]);
		else {
			fprintf(stderr,
			        "usage: %s --sluice HOST:PORT --sluice-pid PID [--runs N] "
			        "[--records N]\n",
			        argv[0]);
			return 2;
		}
	}
	if (sl.bootstrap[0] == '\0' || sl.pid <= 0 || runs < 1 || runs > RUNS_MAX ||
	    records < 1000) {
		fprintf(stderr, "need --sluice, --sluice-pid; runs 1..%d; records >= 1000\n",
		        RUNS_MAX);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	mock_start(&mock);
	static struct series s_sl[M_COUNT], s_mock[M_COUNT];
	for (int run = 0; run < runs; run++) {
		/* Alternate which target goes first so drift on a noisy machine hits both. */
		const struct target *first = run % 2 == 0 ? &sl : &mock;
		const struct target *second = run % 2 == 0 ? &mock : &sl;
		fprintf(stderr, "run %d/%d: %s\n", run + 1, runs, first->name);
		one_round(first, run, records, first == &sl ? s_sl : s_mock);
		fprintf(stderr, "run %d/%d: %s\n", run + 1, runs, second->name);
		one_round(second, run, records, second == &sl ? s_sl : s_mock);
	}
	mock_stop(&mock);
	printf("client benchmark: librdkafka %s, %d runs (medians), %ld records per produce run\n",
	       rd_kafka_version_str(), runs, records);
	printf("  %-40s %-12s %12s %12s %8s\n", "metric", "unit", "sluice", "mock", "ratio");
	for (int m = 0; m < M_COUNT; m++) {
		double a[6], b[6];
		for (int k = 0; k < 6; k++) {
			a[k] = median(s_sl[m].v[k], runs);
			b[k] = median(s_mock[m].v[k], runs);
		}
		if (m <= M_CONSUME) {
			print_row(metric_names[m], "msgs/s", a[0], b[0]);
			print_row("", "MB/s", a[1], b[1]);
		} else {
			print_row(metric_names[m], "p50 ms", a[3], b[3]);
			print_row("", "p99 ms", a[4], b[4]);
			print_row("", "p99.9 ms", a[5], b[5]);
		}
		print_row("", "broker CPU us/msg", a[2], b[2]);
	}
	return 0;
}
