/*
 * produce_cmd.c: `sluice produce --topic T [options]`: sends lines from stdin or a file as
 * records (the kafka-console-producer.sh / `kcat -P` subset a developer needs).
 *
 * Each line (without its '\n'; a last line without one counts too) is one record; with
 * --key-separator S the bytes before the first S are the key and the rest the value (a line
 * without S has a null key, as kcat does). Every record gets the --header pairs and the
 * current wall-clock time (CreateTime).
 *
 * Partitioning: --partition N sends everything to N; otherwise a keyed record goes to
 * murmur2(key) & 0x7fffffff % partitions, exactly Kafka's default partitioner, and null-key
 * records stick to one partition until a request has been sent, then move to the next one
 * (round-robin, a simplified KIP-480 sticky partitioner).
 *
 * Batching: records accumulate per partition; when a partition's batch would pass
 * --batch-size bytes, or the oldest pending record is --linger-ms old and no more input is
 * ready, or at end of input, every pending partition becomes one RecordBatch v2 (compressed
 * with --compression) and all of them go in one Produce request. Requests are sent one at a
 * time and never retried: the first error (a Kafka error code, a timeout, a lost connection)
 * is printed with Kafka's error name and ends the run with exit 1. The records already
 * acknowledged stay written.
 */
#include "tools.h"

#include "batch.h"
#include "cli_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROD_HEADERS_MAX 64
#define PROD_LINE_MAX (4u * 1024u * 1024u)
#define PROD_RECORDS_PER_BATCH_MAX 100000u
#define PROD_RECORD_OVERHEAD 24 /* length, attributes, deltas and lengths as varints */
#define PROD_REQUEST_BYTES_MAX (256u * 1024u * 1024u)

enum {
	PROD_OPT_TOPIC = CLI_OPT_FIRST_CUSTOM,
	PROD_OPT_PARTITION,
	PROD_OPT_KEY_SEP,
	PROD_OPT_HEADER,
	PROD_OPT_COMPRESSION,
	PROD_OPT_ACKS,
	PROD_OPT_FILE,
	PROD_OPT_BATCH_SIZE,
	PROD_OPT_LINGER,
};

struct prod_record {
	size_t key_off;
	int32_t key_len; /* -1 = null */
	size_t value_off;
	int32_t value_len;
	int64_t timestamp_ms;
};

/* The records waiting for one partition. */
struct prod_part {
	struct sl_buf data; /* key and value bytes */
	struct prod_record *recs;
	size_t count;
	size_t cap;
	size_t batch_bytes; /* estimate of the uncompressed batch */
	int64_t first_ms;   /* monotonic time of the oldest pending record */
	size_t out_off;     /* where its batch starts in prod.batches while a request is built */
	size_t out_len;
};

/* Buffered reader of lines from a file descriptor. */
struct prod_reader {
	int fd;
	uint8_t *buf;
	size_t start;
	size_t end;
	size_t cap;
	uint64_t line_no;
	bool eof;
};

struct prod {
	struct cli cli;
	const char *topic;
	int32_t partition; /* -1 = partitioner */
	const char *key_sep;
	size_t key_sep_len;
	struct stor_header_in headers[PROD_HEADERS_MAX];
	size_t header_count;
	int compression;
	int16_t acks;
	const char *file;
	int64_t batch_size;
	int64_t linger_ms;
	int32_t partition_count;
	struct prod_part *parts;
	int32_t sticky; /* partition of null-key records */
	size_t pending; /* records waiting, all partitions */
	struct stor_record_in *recs_in;
	struct sl_buf batches;
	struct sl_buf scratch;
	struct cli_progress progress;
	struct prod_reader rd;
};

static void prod_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice produce --topic T [options] [< lines]\n"
	        "\n"
	        "Sends each input line as one record.\n"
	        "\n"
	        "options:\n"
	        "  --topic T                     topic to write to (required)\n"
	        "  --partition N                 write every record to partition N (default:\n"
	        "                                murmur2 of the key; null keys round-robin)\n"
	        "  --key-separator S             split each line at the first S into key and "
	        "value\n"
	        "  --header k=v                  add this header to every record (repeatable)\n"
	        "  --compression C               none|gzip|snappy|lz4|zstd (default none)\n"
	        "  --acks A                      0|1|all (default all)\n"
	        "  --file F                      read lines from F instead of stdin\n"
	        "  --batch-size N                bytes per partition batch (default 16384)\n"
	        "  --linger-ms N                 wait at most N ms for more input before sending\n"
	        "                                a partial batch (default 5)\n"
	        "  --bootstrap-server HOST:PORT  broker (default localhost:9092)\n"
	        "  --timeout-ms N                request timeout (default 30000)\n"
	        "  -h, --help                    show this help\n");
}

/* Kafka's Utils.murmur2 (seed 0x9747b28c), on unsigned 32-bit arithmetic. */
static uint32_t prod_murmur2(const uint8_t *data, size_t len)
{
	const uint32_t m = 0x5bd1e995u;
	uint32_t h = 0x9747b28cu ^ (uint32_t)len;
	size_t n4 = len / 4;
	for (size_t i = 0; i < n4; i++) {
		const uint8_t *p = data + i * 4;
		uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		             (uint32_t)p[3] << 24;
		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
	}
	const uint8_t *tail = data + (len & ~(size_t)3);
	size_t rest = len % 4;
	if (rest == 3)
		h ^= (uint32_t)tail[2] << 16;
	if (rest >= 2)
		h ^= (uint32_t)tail[1] << 8;
	if (rest >= 1) {
		h ^= tail[0];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

/* ---- input ----------------------------------------------------------------------------- */

enum prod_read { PROD_LINE, PROD_EOF, PROD_IDLE, PROD_ERROR };

/* Next line into *line and *len (valid until the next call). wait_ms: how long to wait for input
 * when no complete line is buffered (-1 forever); PROD_IDLE when that time passed. */
static enum prod_read prod_next_line(struct prod_reader *r, int wait_ms, const uint8_t **line,
                                     size_t *len)
{
	for (;;) {
		uint8_t *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl != NULL || (r->eof && r->end > r->start)) {
			size_t stop = nl != NULL ? (size_t)(nl - r->buf) : r->end;
			*line = r->buf + r->start;
			*len = stop - r->start;
			r->start = nl != NULL ? stop + 1 : stop;
			r->line_no++;
			return PROD_LINE;
		}
		if (r->eof)
			return PROD_EOF;
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->end == r->cap) {
			cli_fail("line %llu is longer than %u bytes",
			         (unsigned long long)r->line_no + 1, PROD_LINE_MAX);
			return PROD_ERROR;
		}
		if (wait_ms >= 0) {
			struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
			int n = poll(&pfd, 1, wait_ms);
			if (n == 0)
				return PROD_IDLE;
			if (n < 0 && errno != EINTR) {
				cli_fail("cannot read input: %s", strerror(errno));
				return PROD_ERROR;
			}
		}
		ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0) {
			cli_fail("cannot read input: %s", strerror(errno));
			return PROD_ERROR;
		}
		if (got == 0)
			r->eof = true;
		r->end += (size_t)got;
	}
}

/* ---- sending --------------------------------------------------------------------------- */

/* Appends partition p's pending records as one batch to pr->batches. */
static int prod_build_batch(struct prod *pr, struct prod_part *p)
{
	int64_t base_ts = p->recs[0].timestamp_ms;
	int64_t max_ts = base_ts;
	for (size_t i = 0; i < p->count; i++) {
		const struct prod_record *r = &p->recs[i];
		struct stor_record_in *in = &pr->recs_in[i];
		memset(in, 0, sizeof(*in));
		in->timestamp_delta = r->timestamp_ms - base_ts;
		in->key = r->key_len >= 0 ? p->data.data + r->key_off : NULL;
		in->key_len = r->key_len;
		in->value = p->data.data + r->value_off;
		in->value_len = r->value_len;
		in->headers = pr->headers;
		in->header_count = pr->header_count;
		max_ts = SL_MAX(max_ts, r->timestamp_ms);
	}
	struct stor_batch_params params;
	stor_batch_params_init(&params, base_ts);
	params.max_timestamp = max_ts;
	params.attributes = (int16_t)pr->compression;
	params.scratch = &pr->scratch;
	p->out_off = pr->batches.len;
	enum sl_err e = stor_batch_build(&pr->batches, &params, pr->recs_in, p->count);
	if (e != SL_OK)
		return cli_fail("cannot build a record batch: %s", sl_err_msg(e));
	p->out_len = pr->batches.len - p->out_off;
	return 0;
}

/* Checks a Produce response: every partition we sent must be answered without error. */
static int prod_check_response(struct prod *pr, const struct wire_produce_response *resp,
                               int32_t expected)
{
	int32_t answered = 0;
	for (int32_t t = 0; t < resp->responses_count; t++) {
		const struct wire_produce_response_topic_produce_response *tr = &resp->responses[t];
		for (int32_t i = 0; i < tr->partition_responses_count; i++) {
			const struct wire_produce_response_partition_produce_response *r =
			        &tr->partition_responses[i];
			answered++;
			if (r->error_code == WIRE_ERR_NONE)
				continue;
			char what[300];
			snprintf(what, sizeof(what), "topic '%s' partition %d", pr->topic,
			         r->index);
			return cli_kafka_error(what, r->error_code, r->error_message);
		}
	}
	if (answered != expected)
		return cli_fail("Produce: %d partitions sent, %d answered", expected, answered);
	return 0;
}

/* Sends every pending partition in one Produce request and waits for its answer. */
static int prod_flush(struct prod *pr)
{
	if (pr->pending == 0)
		return 0;
	struct cli *c = &pr->cli;
	sl_arena_reset(&c->arena);
	sl_buf_reset(&pr->batches);
	int32_t n = 0;
	uint64_t records = 0;
	uint64_t bytes = 0;
	for (int32_t i = 0; i < pr->partition_count; i++) {
		struct prod_part *p = &pr->parts[i];
		if (p->count == 0)
			continue;
		if (prod_build_batch(pr, p) != 0)
			return CLI_EXIT_FAIL;
		n++;
		records += p->count;
		bytes += p->data.len;
	}
	struct wire_produce_request_partition_produce_data *pd =
	        sl_arena_calloc(&c->arena, (size_t)n, sizeof(*pd));
	if (pd == NULL)
		return cli_fail("out of memory");
	int32_t k = 0;
	for (int32_t i = 0; i < pr->partition_count; i++) {
		struct prod_part *p = &pr->parts[i];
		if (p->count == 0)
			continue;
		wire_produce_request_partition_produce_data_init(&pd[k]);
		pd[k].index = i;
		pd[k].records =
		        (struct wire_bytes){pr->batches.data + p->out_off, (int32_t)p->out_len};
		k++;
		p->count = 0;
		p->batch_bytes = 0;
		sl_buf_reset(&p->data);
	}
	pr->pending = 0;
	struct wire_produce_request_topic_produce_data td;
	wire_produce_request_topic_produce_data_init(&td);
	td.name = wire_str_c(pr->topic);
	td.partition_data = pd;
	td.partition_data_count = n;
	struct wire_produce_request req;
	wire_produce_request_init(&req);
	req.acks = pr->acks;
	req.timeout_ms = (int32_t)c->timeout_ms;
	req.topic_data = &td;
	req.topic_data_count = 1;
	int16_t v = net_client_version(c->client, CLI_API_PRODUCE);
	struct wire_produce_response resp;
	wire_produce_response_init(&resp);
	if (cli_call(c, CLI_API_PRODUCE, v, &req, pr->acks == 0 ? NULL : &resp, 0) != 0)
		return CLI_EXIT_FAIL;
	if (pr->acks != 0 && prod_check_response(pr, &resp, n) != 0)
		return CLI_EXIT_FAIL;
	cli_progress_add(&pr->progress, records, bytes);
	if (pr->partition < 0)
		pr->sticky = (pr->sticky + 1) % pr->partition_count;
	return 0;
}

/* ---- accumulating ---------------------------------------------------------------------- */

static int32_t prod_choose(const struct prod *pr, const uint8_t *key, int32_t key_len)
{
	if (pr->partition >= 0)
		return pr->partition;
	if (key == NULL)
		return pr->sticky;
	uint32_t h = prod_murmur2(key, (size_t)key_len) & 0x7fffffffu;
	return (int32_t)(h % (uint32_t)pr->partition_count);
}

/* Queues one line as a record, flushing first when its partition's batch is full. */
static int prod_add(struct prod *pr, const uint8_t *line, size_t len)
{
	const uint8_t *key = NULL;
	size_t key_len = 0;
	const uint8_t *value = line;
	size_t value_len = len;
	if (pr->key_sep != NULL) {
		const uint8_t *sep = memmem(line, len, pr->key_sep, pr->key_sep_len);
		if (sep != NULL) {
			key = line;
			key_len = (size_t)(sep - line);
			value = sep + pr->key_sep_len;
			value_len = len - key_len - pr->key_sep_len;
		}
	}
	int32_t pi = prod_choose(pr, key, (int32_t)key_len);
	struct prod_part *p = &pr->parts[pi];
	size_t size = key_len + value_len + PROD_RECORD_OVERHEAD;
	if (p->count > 0 && (p->batch_bytes + size > (size_t)pr->batch_size ||
	                     p->count >= PROD_RECORDS_PER_BATCH_MAX)) {
		if (prod_flush(pr) != 0)
			return CLI_EXIT_FAIL;
		pi = prod_choose(pr, key, (int32_t)key_len); /* the sticky partition may move */
		p = &pr->parts[pi];
	}
	if (p->count == p->cap) {
		size_t cap = p->cap == 0 ? 256 : p->cap * 2;
		struct prod_record *recs = realloc(p->recs, cap * sizeof(*recs));
		if (recs == NULL)
			return cli_fail("out of memory");
		p->recs = recs;
		p->cap = cap;
	}
	struct prod_record *r = &p->recs[p->count];
	r->key_off = p->data.len;
	r->key_len = key != NULL ? (int32_t)key_len : -1;
	sl_buf_append(&p->data, key != NULL ? key : (const uint8_t *)"", key_len);
	r->value_off = p->data.len;
	r->value_len = (int32_t)value_len;
	sl_buf_append(&p->data, value, value_len);
	if (sl_buf_err(&p->data) != SL_OK)
		return cli_fail("out of memory");
	r->timestamp_ms = sl_wall_ms();
	if (p->count == 0)
		p->first_ms = sl_mono_ms();
	p->count++;
	p->batch_bytes += size;
	pr->pending++;
	return 0;
}

/* ms until the oldest pending record has lingered long enough; -1 when nothing waits. */
static int prod_linger_left(const struct prod *pr)
{
	if (pr->pending == 0)
		return -1;
	int64_t oldest = INT64_MAX;
	for (int32_t i = 0; i < pr->partition_count; i++)
		if (pr->parts[i].count > 0)
			oldest = SL_MIN(oldest, pr->parts[i].first_ms);
	int64_t left = oldest + pr->linger_ms - sl_mono_ms();
	return left < 0 ? 0 : (int)SL_MIN(left, INT32_MAX);
}

static int prod_loop(struct prod *pr)
{
	for (;;) {
		if (prod_linger_left(pr) == 0 && prod_flush(pr) != 0)
			return CLI_EXIT_FAIL;
		const uint8_t *line;
		size_t len;
		enum prod_read rr = prod_next_line(&pr->rd, prod_linger_left(pr), &line, &len);
		if (rr == PROD_ERROR)
			return CLI_EXIT_FAIL;
		if (rr == PROD_EOF)
			return prod_flush(pr);
		if (rr == PROD_IDLE) {
			if (prod_flush(pr) != 0)
				return CLI_EXIT_FAIL;
			continue;
		}
		if (prod_add(pr, line, len) != 0)
			return CLI_EXIT_FAIL;
	}
}

/* ---- setup ----------------------------------------------------------------------------- */

static const struct option prod_options[] = {
        CLI_COMMON_LONG_OPTIONS,
        {"topic", required_argument, NULL, PROD_OPT_TOPIC},
        {"partition", required_argument, NULL, PROD_OPT_PARTITION},
        {"key-separator", required_argument, NULL, PROD_OPT_KEY_SEP},
        {"header", required_argument, NULL, PROD_OPT_HEADER},
        {"compression", required_argument, NULL, PROD_OPT_COMPRESSION},
        {"acks", required_argument, NULL, PROD_OPT_ACKS},
        {"file", required_argument, NULL, PROD_OPT_FILE},
        {"batch-size", required_argument, NULL, PROD_OPT_BATCH_SIZE},
        {"linger-ms", required_argument, NULL, PROD_OPT_LINGER},
        {NULL, 0, NULL, 0},
};

static int prod_parse_compression(struct prod *pr, const char *s)
{
	static const char *const names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
	for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			pr->compression = (int)i;
			return 0;
		}
	}
	return cli_usage_error(
	        &pr->cli, "invalid value '%s' for --compression (none|gzip|snappy|lz4|zstd)", s);
}

static int prod_option(struct prod *pr, int opt, char *arg)
{
	int64_t v;
	switch (opt) {
	case PROD_OPT_TOPIC:
		pr->topic = arg;
		return arg[0] != '\0' ? 0 : cli_usage_error(&pr->cli, "--topic is empty");
	case PROD_OPT_PARTITION:
		if (!cli_parse_int(&pr->cli, "--partition", arg, 0, INT32_MAX, &v))
			return CLI_EXIT_USAGE;
		pr->partition = (int32_t)v;
		return 0;
	case PROD_OPT_KEY_SEP:
		pr->key_sep = arg;
		pr->key_sep_len = strlen(arg);
		return arg[0] != '\0' ? 0 : cli_usage_error(&pr->cli, "--key-separator is empty");
	case PROD_OPT_HEADER: {
		char *k, *val;
		if (pr->header_count >= PROD_HEADERS_MAX)
			return cli_usage_error(&pr->cli, "too many --header options (at most %d)",
			                       PROD_HEADERS_MAX);
		if (!cli_split_kv(arg, &k, &val))
			return cli_usage_error(&pr->cli, "--header expects KEY=VALUE, got '%s'",
			                       arg);
		pr->headers[pr->header_count++] =
		        (struct stor_header_in){(const uint8_t *)k, (int32_t)strlen(k),
		                                (const uint8_t *)val, (int32_t)strlen(val)};
		return 0;
	}
	case PROD_OPT_COMPRESSION:
		return prod_parse_compression(pr, arg);
	case PROD_OPT_ACKS:
		if (strcmp(arg, "all") == 0 || strcmp(arg, "-1") == 0)
			pr->acks = -1;
		else if (strcmp(arg, "0") == 0 || strcmp(arg, "1") == 0)
			pr->acks = (int16_t)(arg[0] - '0');
		else
			return cli_usage_error(&pr->cli, "invalid value '%s' for --acks (0|1|all)",
			                       arg);
		return 0;
	case PROD_OPT_FILE:
		pr->file = arg;
		return 0;
	case PROD_OPT_BATCH_SIZE:
		if (!cli_parse_int(&pr->cli, "--batch-size", arg, 1, 64 * 1024 * 1024, &v))
			return CLI_EXIT_USAGE;
		pr->batch_size = v;
		return 0;
	case PROD_OPT_LINGER:
		if (!cli_parse_int(&pr->cli, "--linger-ms", arg, 0, 3600 * 1000, &v))
			return CLI_EXIT_USAGE;
		pr->linger_ms = v;
		return 0;
	default:
		SL_UNREACHABLE();
	}
}

/* Returns 0, 100 after --help, or CLI_EXIT_USAGE. */
static int prod_parse(struct prod *pr, int argc, char **argv)
{
	optind = 0;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, ":h", prod_options, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return cli_getopt_error(&pr->cli, opt, argv);
		if (opt == 'h') {
			prod_usage(stdout);
			return 100;
		}
		int rc = cli_common_option(&pr->cli, opt, optarg);
		if (rc < 0)
			rc = prod_option(pr, opt, optarg);
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error(&pr->cli, "unexpected argument '%s'", argv[optind]);
	if (pr->topic == NULL)
		return cli_usage_error(&pr->cli, "missing required option --topic");
	return 0;
}

/* Looks the topic up and sizes the per-partition state. */
static int prod_prepare(struct prod *pr)
{
	struct cli *c = &pr->cli;
	if (cli_version(c, CLI_API_PRODUCE, 3) < 0) /* v3+: RecordBatch v2 only */
		return CLI_EXIT_FAIL;
	struct wire_metadata_response_topic md;
	if (cli_topic_metadata(c, pr->topic, &md) != 0)
		return CLI_EXIT_FAIL;
	pr->partition_count = md.partitions_count;
	if (pr->partition >= pr->partition_count)
		return cli_fail("topic '%s' has no partition %d (it has %d)", pr->topic,
		                pr->partition, pr->partition_count);
	pr->parts = calloc((size_t)pr->partition_count, sizeof(*pr->parts));
	pr->recs_in = calloc(PROD_RECORDS_PER_BATCH_MAX, sizeof(*pr->recs_in));
	pr->rd.buf = malloc(PROD_LINE_MAX);
	if (pr->parts == NULL || pr->recs_in == NULL || pr->rd.buf == NULL)
		return cli_fail("out of memory");
	pr->rd.cap = PROD_LINE_MAX;
	for (int32_t i = 0; i < pr->partition_count; i++)
		sl_buf_init(&pr->parts[i].data, PROD_REQUEST_BYTES_MAX);
	pr->sticky = (int32_t)((uint64_t)sl_mono_ns() % (uint64_t)pr->partition_count);
	return 0;
}

static void prod_free(struct prod *pr)
{
	if (pr->parts != NULL) {
		for (int32_t i = 0; i < pr->partition_count; i++) {
			sl_buf_free(&pr->parts[i].data);
			free(pr->parts[i].recs);
		}
	}
	free(pr->parts);
	free(pr->recs_in);
	free(pr->rd.buf);
	sl_buf_free(&pr->batches);
	sl_buf_free(&pr->scratch);
	if (pr->rd.fd > 0)
		close(pr->rd.fd);
	cli_free(&pr->cli);
}

int tools_produce_main(int argc, char **argv)
{
	static struct prod pr; /* large; one per process */
	memset(&pr, 0, sizeof(pr));
	cli_init(&pr.cli, "produce");
	pr.partition = -1;
	pr.acks = -1;
	pr.batch_size = 16384;
	pr.linger_ms = 5;
	sl_buf_init(&pr.batches, PROD_REQUEST_BYTES_MAX);
	sl_buf_init(&pr.scratch, PROD_REQUEST_BYTES_MAX);
	int rc = prod_parse(&pr, argc, argv);
	if (rc == 0 && pr.file != NULL) {
		pr.rd.fd = open(pr.file, O_RDONLY | O_CLOEXEC);
		if (pr.rd.fd < 0)
			rc = cli_fail("cannot open %s: %s", pr.file, strerror(errno));
	}
	if (rc == 0)
		rc = cli_connect(&pr.cli);
	if (rc == 0)
		rc = prod_prepare(&pr);
	if (rc == 0) {
		cli_progress_init(&pr.progress, "sent");
		rc = prod_loop(&pr);
		if (rc == 0)
			cli_progress_done(&pr.progress);
	}
	prod_free(&pr);
	return rc == 100 ? CLI_EXIT_OK : rc;
}
