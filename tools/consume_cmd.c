/*
 * consume_cmd.c: `sluice consume --topic T [options]`: prints the records of a topic (the
 * kafka-console-consumer.sh / `kcat -C` subset a developer needs). No consumer group: the
 * positions live in this process only.
 *
 * Start position per partition: --from-beginning (ListOffsets EARLIEST), --offset N, --timestamp
 * MS (the first offset whose timestamp is >= MS, or the end when there is none) or, by default,
 * the end (LATEST): only records produced after the start are printed. Then a Fetch loop over
 * every selected partition (max_wait 500 ms): each complete batch is checked (CRC), its
 * records decompressed (storage/batch) and printed with --format; records before the position
 * (inside a compressed batch that starts earlier) and control batches are skipped.
 *
 * Exit: 0 after --count records, or when --timeout-ms passes without a new record (without
 * --timeout-ms it waits for ever, like kcat without -e); 1 on any error (printed with Kafka's
 * error name); 2 on a usage error. Here --timeout-ms is that idle time; each request itself
 * gets 30 s plus the fetch wait.
 */
#include "tools.h"

#include "batch.h"
#include "cli_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONS_MAX_WAIT_MS 500
#define CONS_PARTITION_BYTES 1048576
#define CONS_PARTITION_BYTES_MAX (64 * 1048576)
#define CONS_FETCH_BYTES (50 * 1048576)
#define CONS_DECOMPRESS_CAP (256u * 1048576u)
#define CONS_REQUEST_TIMEOUT_MS 30000
#define CONS_FETCH_V_NAMES 12 /* last Fetch version that names topics */

enum {
	CONS_OPT_TOPIC = CLI_OPT_FIRST_CUSTOM,
	CONS_OPT_PARTITION,
	CONS_OPT_FROM_BEGINNING,
	CONS_OPT_OFFSET,
	CONS_OPT_TIMESTAMP,
	CONS_OPT_COUNT,
	CONS_OPT_FORMAT,
};

enum cons_start { CONS_START_END, CONS_START_BEGINNING, CONS_START_OFFSET, CONS_START_TIMESTAMP };

struct cons_part {
	int32_t index;
	int64_t position;
	int32_t max_bytes;
};

struct cons {
	struct cli cli;
	const char *topic;
	int32_t partition; /* -1 = all */
	enum cons_start start;
	int starts_given;
	int64_t start_value;
	int64_t count;   /* -1 = unlimited */
	int64_t idle_ms; /* -1 = wait for ever */
	const char *format;
	struct sl_uuid topic_id;
	struct cons_part *parts;
	int32_t part_count;
	int64_t printed;
	struct sl_buf scratch;
};

static void cons_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice consume --topic T [options]\n"
	        "\n"
	        "Prints records of a topic (no consumer group).\n"
	        "\n"
	        "options:\n"
	        "  --topic T                     topic to read (required)\n"
	        "  --partition N                 read only partition N (default: all)\n"
	        "  --from-beginning              start at the earliest offset\n"
	        "  --offset N                    start at offset N\n"
	        "  --timestamp MS                start at the first record with timestamp >= MS\n"
	        "                                (default start: the end, new records only)\n"
	        "  --count N                     exit 0 after N records\n"
	        "  --timeout-ms N                exit 0 after N ms without a new record\n"
	        "                                (default: wait for ever)\n"
	        "  --format FMT                  output format (default \"%%v\\n\"): %%k key, %%v\n"
	        "                                value, %%t timestamp, %%o offset, %%p partition,\n"
	        "                                %%h headers (k=v,k=v), %%%% a %%; \\n \\t \\\\ "
	        "escapes\n"
	        "  --bootstrap-server HOST:PORT  broker (default localhost:9092)\n"
	        "  -h, --help                    show this help\n");
}

/* ---- output ---------------------------------------------------------------------------- */

static void cons_put_bytes(const uint8_t *p, int32_t len)
{
	if (p != NULL && len > 0)
		fwrite(p, 1, (size_t)len, stdout);
}

static void cons_put_headers(const struct stor_record *r)
{
	struct stor_header_iter it;
	stor_header_iter_init(&it, r);
	struct stor_header h;
	bool first = true;
	while (stor_header_next(&it, &h) == SL_OK) {
		if (!first)
			fputc(',', stdout);
		first = false;
		cons_put_bytes(h.key, h.key_len);
		fputc('=', stdout);
		cons_put_bytes(h.value, h.value_len);
	}
}

/* Prints one record with the format (validated by cons_check_format). */
static void cons_print(const struct cons *cs, int32_t partition, int64_t offset, int64_t timestamp,
                       const struct stor_record *r)
{
	for (const char *f = cs->format; *f != '\0'; f++) {
		if (*f == '\\' && f[1] != '\0') {
			f++;
			fputc(*f == 'n' ? '\n' : *f == 't' ? '\t' : *f, stdout);
			continue;
		}
		if (*f != '%' || f[1] == '\0') {
			fputc(*f, stdout);
			continue;
		}
		f++;
		switch (*f) {
		case 'k':
			cons_put_bytes(r->key, r->key_len);
			break;
		case 'v':
			cons_put_bytes(r->value, r->value_len);
			break;
		case 't':
			printf("%" PRId64, timestamp);
			break;
		case 'o':
			printf("%" PRId64, offset);
			break;
		case 'p':
			printf("%" PRId32, partition);
			break;
		case 'h':
			cons_put_headers(r);
			break;
		default:
			fputc(*f, stdout);
			break;
		}
	}
}

static bool cons_check_format(const char *f, char *bad)
{
	for (; *f != '\0'; f++) {
		if (*f == '\\' && f[1] != '\0') {
			f++;
			if (strchr("nt\\", *f) == NULL) {
				*bad = *f;
				return false;
			}
		} else if (*f == '%') {
			f++;
			if (*f == '\0' || strchr("kvtoph%", *f) == NULL) {
				*bad = *f != '\0' ? *f : '%';
				return false;
			}
		}
	}
	return true;
}

/* ---- records --------------------------------------------------------------------------- */

/* Prints the records of one batch at or after p->position. Returns 0, 1 on error, or 100
 * when --count is reached. */
static int cons_batch(struct cons *cs, struct cons_part *p, const struct stor_batch_view *b)
{
	int64_t next = b->h.base_offset + b->h.last_offset_delta + 1;
	if (stor_batch_is_control(b) || next <= p->position) {
		p->position = SL_MAX(p->position, next);
		return 0;
	}
	struct stor_record_iter it;
	enum sl_err e = stor_batch_records_open(b, &cs->scratch, CONS_DECOMPRESS_CAP, &it);
	if (e != SL_OK)
		return cli_fail(
		        "topic '%s' partition %d: cannot decompress the batch at offset %" PRId64
		        ": %s",
		        cs->topic, p->index, b->h.base_offset, sl_err_msg(e));
	struct stor_record r;
	while ((e = stor_record_next(&it, &r)) == SL_OK) {
		int64_t offset = b->h.base_offset + r.offset_delta;
		if (offset < p->position)
			continue;
		int64_t ts = (b->h.attributes & STOR_BATCH_ATTR_LOG_APPEND_TIME) != 0
		                     ? b->h.max_timestamp
		                     : b->h.base_timestamp + r.timestamp_delta;
		cons_print(cs, p->index, offset, ts, &r);
		p->position = offset + 1;
		cs->printed++;
		if (cs->count >= 0 && cs->printed >= cs->count)
			return 100;
	}
	if (e != SL_ENOENT)
		return cli_fail(
		        "topic '%s' partition %d: malformed record in the batch at offset %" PRId64,
		        cs->topic, p->index, b->h.base_offset);
	p->position = SL_MAX(p->position, next);
	return 0;
}

/* Walks the complete batches of one partition's records. */
static int cons_records(struct cons *cs, struct cons_part *p, struct wire_bytes rec)
{
	const uint8_t *at = rec.ptr;
	size_t left = rec.len > 0 ? (size_t)rec.len : 0;
	bool any = false;
	while (left >= STOR_BATCH_LOG_OVERHEAD) {
		size_t size;
		if (stor_batch_peek_size(at, left, &size) != SL_OK)
			return cli_fail("topic '%s' partition %d: malformed batch", cs->topic,
			                p->index);
		if (size > left)
			break; /* a partial batch at the end of the response */
		struct stor_batch_view b;
		size_t used;
		enum sl_err e = stor_batch_parse_header(at, left, &b, &used);
		if (e != SL_OK)
			return cli_fail("topic '%s' partition %d: bad batch near offset %" PRId64
			                ": %s",
			                cs->topic, p->index, p->position, sl_err_msg(e));
		int rc = cons_batch(cs, p, &b);
		if (rc != 0)
			return rc;
		any = true;
		at += used;
		left -= used;
	}
	if (!any && left > 0 && p->max_bytes < CONS_PARTITION_BYTES_MAX)
		p->max_bytes *= 2; /* the next batch is larger than what we asked for */
	return 0;
}

/* ---- start offsets ---------------------------------------------------------------------- */

/* ListOffsets for every partition at timestamp ts (-1 latest, -2 earliest); fills out[i]. */
static int cons_list_offsets(struct cons *cs, int64_t ts, int64_t *out)
{
	struct cli *c = &cs->cli;
	int16_t v = cli_version(c, CLI_API_LIST_OFFSETS, 1);
	if (v < 0)
		return CLI_EXIT_FAIL;
	struct wire_list_offsets_request_partition *lp =
	        sl_arena_calloc(&c->arena, (size_t)cs->part_count, sizeof(*lp));
	if (lp == NULL)
		return cli_fail("out of memory");
	for (int32_t i = 0; i < cs->part_count; i++) {
		wire_list_offsets_request_partition_init(&lp[i]);
		lp[i].partition_index = cs->parts[i].index;
		lp[i].timestamp = ts;
	}
	struct wire_list_offsets_request_topic t;
	wire_list_offsets_request_topic_init(&t);
	t.name = wire_str_c(cs->topic);
	t.partitions = lp;
	t.partitions_count = cs->part_count;
	struct wire_list_offsets_request req;
	wire_list_offsets_request_init(&req);
	req.replica_id = -1;
	req.topics = &t;
	req.topics_count = 1;
	struct wire_list_offsets_response resp;
	wire_list_offsets_response_init(&resp);
	if (cli_call(c, CLI_API_LIST_OFFSETS, v, &req, &resp, 0) != 0)
		return CLI_EXIT_FAIL;
	int32_t found = 0;
	for (int32_t ti = 0; ti < resp.topics_count; ti++) {
		const struct wire_list_offsets_response_topic_response *tr = &resp.topics[ti];
		for (int32_t i = 0; i < tr->partitions_count; i++) {
			const struct wire_list_offsets_response_partition_response *r =
			        &tr->partitions[i];
			char what[300];
			snprintf(what, sizeof(what), "topic '%s' partition %d", cs->topic,
			         r->partition_index);
			if (r->error_code != WIRE_ERR_NONE)
				return cli_kafka_error(what, r->error_code,
				                       (struct wire_str){NULL, -1});
			for (int32_t k = 0; k < cs->part_count; k++) {
				if (cs->parts[k].index == r->partition_index) {
					out[k] = r->offset;
					found++;
				}
			}
		}
	}
	if (found != cs->part_count)
		return cli_fail("ListOffsets: %d of %d partitions answered", found, cs->part_count);
	return 0;
}

static int cons_resolve_start(struct cons *cs)
{
	int64_t *first = sl_arena_calloc(&cs->cli.arena, (size_t)cs->part_count, sizeof(int64_t));
	int64_t *end = sl_arena_calloc(&cs->cli.arena, (size_t)cs->part_count, sizeof(int64_t));
	if (first == NULL || end == NULL)
		return cli_fail("out of memory");
	int rc = 0;
	switch (cs->start) {
	case CONS_START_OFFSET:
		for (int32_t i = 0; i < cs->part_count; i++)
			first[i] = cs->start_value;
		break;
	case CONS_START_BEGINNING:
		rc = cons_list_offsets(cs, -2, first);
		break;
	case CONS_START_END:
		rc = cons_list_offsets(cs, -1, first);
		break;
	case CONS_START_TIMESTAMP:
		rc = cons_list_offsets(cs, -1, end);
		if (rc == 0)
			rc = cons_list_offsets(cs, cs->start_value, first);
		for (int32_t i = 0; rc == 0 && i < cs->part_count; i++)
			if (first[i] < 0)
				first[i] = end[i]; /* no record at or after the timestamp */
		break;
	}
	for (int32_t i = 0; rc == 0 && i < cs->part_count; i++)
		cs->parts[i].position = first[i];
	return rc;
}

/* ---- fetch loop ------------------------------------------------------------------------ */

static struct cons_part *cons_find(struct cons *cs, int32_t index)
{
	for (int32_t i = 0; i < cs->part_count; i++)
		if (cs->parts[i].index == index)
			return &cs->parts[i];
	return NULL;
}

/* Handles one partition of a Fetch response. */
static int cons_partition(struct cons *cs, const struct wire_fetch_response_partition_data *pd)
{
	struct cons_part *p = cons_find(cs, pd->partition_index);
	if (p == NULL)
		return 0;
	if (pd->error_code != WIRE_ERR_NONE) {
		char what[300];
		snprintf(what, sizeof(what), "topic '%s' partition %d (offset %" PRId64 ")",
		         cs->topic, p->index, p->position);
		return cli_kafka_error(what, pd->error_code, (struct wire_str){NULL, -1});
	}
	return cons_records(cs, p, pd->records);
}

/* One Fetch of every partition at its position; prints what comes back. */
static int cons_fetch(struct cons *cs, int16_t v, int32_t max_wait_ms)
{
	struct cli *c = &cs->cli;
	sl_arena_reset(&c->arena);
	struct wire_fetch_request_partition *fp =
	        sl_arena_calloc(&c->arena, (size_t)cs->part_count, sizeof(*fp));
	if (fp == NULL)
		return cli_fail("out of memory");
	for (int32_t i = 0; i < cs->part_count; i++) {
		wire_fetch_request_partition_init(&fp[i]);
		fp[i].partition = cs->parts[i].index;
		fp[i].fetch_offset = cs->parts[i].position;
		fp[i].partition_max_bytes = cs->parts[i].max_bytes;
	}
	struct wire_fetch_request_topic t;
	wire_fetch_request_topic_init(&t);
	t.topic = wire_str_c(cs->topic);
	t.topic_id = cs->topic_id;
	t.partitions = fp;
	t.partitions_count = cs->part_count;
	struct wire_fetch_request req;
	wire_fetch_request_init(&req);
	req.replica_id = -1;
	req.max_wait_ms = max_wait_ms;
	req.min_bytes = 1;
	req.max_bytes = CONS_FETCH_BYTES;
	req.session_id = 0;
	req.session_epoch = -1; /* no fetch session (KIP-227) */
	req.topics = &t;
	req.topics_count = 1;
	struct wire_fetch_response resp;
	wire_fetch_response_init(&resp);
	if (cli_call(c, CLI_API_FETCH, v, &req, &resp, max_wait_ms) != 0)
		return CLI_EXIT_FAIL;
	if (resp.error_code != WIRE_ERR_NONE)
		return cli_kafka_error("Fetch", resp.error_code, (struct wire_str){NULL, -1});
	for (int32_t ti = 0; ti < resp.responses_count; ti++) {
		const struct wire_fetch_response_fetchable_topic_response *tr = &resp.responses[ti];
		for (int32_t i = 0; i < tr->partitions_count; i++) {
			int rc = cons_partition(cs, &tr->partitions[i]);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static int cons_loop(struct cons *cs)
{
	int16_t v = cli_version(&cs->cli, CLI_API_FETCH, 4);
	if (v < 0)
		return CLI_EXIT_FAIL;
	if (v > CONS_FETCH_V_NAMES && sl_uuid_is_zero(&cs->topic_id))
		v = CONS_FETCH_V_NAMES; /* Metadata gave no topic id: fetch by name */
	int64_t last_data_ms = sl_mono_ms();
	for (;;) {
		int64_t printed = cs->printed;
		int32_t wait = CONS_MAX_WAIT_MS;
		if (cs->idle_ms >= 0) {
			int64_t left = last_data_ms + cs->idle_ms - sl_mono_ms();
			if (left <= 0)
				return 0;
			wait = (int32_t)SL_MIN(left, CONS_MAX_WAIT_MS);
		}
		int rc = cons_fetch(cs, v, wait);
		if (fflush(stdout) != 0)
			return cli_fail("cannot write the output");
		if (rc != 0)
			return rc == 100 ? 0 : rc;
		if (cs->printed > printed)
			last_data_ms = sl_mono_ms();
	}
}

/* ---- setup ----------------------------------------------------------------------------- */

static const struct option cons_options[] = {
        CLI_COMMON_LONG_OPTIONS,
        {"topic", required_argument, NULL, CONS_OPT_TOPIC},
        {"partition", required_argument, NULL, CONS_OPT_PARTITION},
        {"from-beginning", no_argument, NULL, CONS_OPT_FROM_BEGINNING},
        {"offset", required_argument, NULL, CONS_OPT_OFFSET},
        {"timestamp", required_argument, NULL, CONS_OPT_TIMESTAMP},
        {"count", required_argument, NULL, CONS_OPT_COUNT},
        {"format", required_argument, NULL, CONS_OPT_FORMAT},
        {NULL, 0, NULL, 0},
};

static int cons_option(struct cons *cs, int opt, char *arg)
{
	int64_t v;
	char bad;
	switch (opt) {
	case CLI_OPT_TIMEOUT:
		if (!cli_parse_int(&cs->cli, "--timeout-ms", arg, 0, INT32_MAX, &cs->idle_ms))
			return CLI_EXIT_USAGE;
		return 0;
	case CONS_OPT_TOPIC:
		cs->topic = arg;
		return arg[0] != '\0' ? 0 : cli_usage_error(&cs->cli, "--topic is empty");
	case CONS_OPT_PARTITION:
		if (!cli_parse_int(&cs->cli, "--partition", arg, 0, INT32_MAX, &v))
			return CLI_EXIT_USAGE;
		cs->partition = (int32_t)v;
		return 0;
	case CONS_OPT_FROM_BEGINNING:
		cs->start = CONS_START_BEGINNING;
		cs->starts_given++;
		return 0;
	case CONS_OPT_OFFSET:
	case CONS_OPT_TIMESTAMP:
		if (!cli_parse_int(&cs->cli, opt == CONS_OPT_OFFSET ? "--offset" : "--timestamp",
		                   arg, 0, INT64_MAX, &cs->start_value))
			return CLI_EXIT_USAGE;
		cs->start = opt == CONS_OPT_OFFSET ? CONS_START_OFFSET : CONS_START_TIMESTAMP;
		cs->starts_given++;
		return 0;
	case CONS_OPT_COUNT:
		if (!cli_parse_int(&cs->cli, "--count", arg, 1, INT64_MAX, &cs->count))
			return CLI_EXIT_USAGE;
		return 0;
	case CONS_OPT_FORMAT:
		if (!cons_check_format(arg, &bad))
			return cli_usage_error(
			        &cs->cli, "--format: unknown sequence '%c%c' in '%s'",
			        strchr(arg, '%') != NULL && bad != '\\' ? '%' : '\\', bad, arg);
		cs->format = arg;
		return 0;
	default:
		SL_UNREACHABLE();
	}
}

/* Returns 0, 100 after --help, or CLI_EXIT_USAGE. */
static int cons_parse(struct cons *cs, int argc, char **argv)
{
	optind = 0;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, ":h", cons_options, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return cli_getopt_error(&cs->cli, opt, argv);
		if (opt == 'h') {
			cons_usage(stdout);
			return 100;
		}
		int rc = opt == CLI_OPT_TIMEOUT ? -1 : cli_common_option(&cs->cli, opt, optarg);
		if (rc < 0)
			rc = cons_option(cs, opt, optarg);
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error(&cs->cli, "unexpected argument '%s'", argv[optind]);
	if (cs->topic == NULL)
		return cli_usage_error(&cs->cli, "missing required option --topic");
	if (cs->starts_given > 1)
		return cli_usage_error(&cs->cli, "give at most one of --from-beginning, --offset, "
		                                 "--timestamp");
	return 0;
}

/* Looks the topic up and selects the partitions. */
static int cons_prepare(struct cons *cs)
{
	struct wire_metadata_response_topic md;
	if (cli_topic_metadata(&cs->cli, cs->topic, &md) != 0)
		return CLI_EXIT_FAIL;
	const struct wire_metadata_response_topic *t = &md;
	cs->topic_id = t->topic_id;
	cs->parts = calloc((size_t)t->partitions_count, sizeof(*cs->parts));
	if (cs->parts == NULL)
		return cli_fail("out of memory");
	for (int32_t i = 0; i < t->partitions_count; i++) {
		int32_t index = t->partitions[i].partition_index;
		if (cs->partition >= 0 && index != cs->partition)
			continue;
		cs->parts[cs->part_count++] = (struct cons_part){index, 0, CONS_PARTITION_BYTES};
	}
	if (cs->part_count == 0)
		return cli_fail("topic '%s' has no partition %d (it has %d)", cs->topic,
		                cs->partition, t->partitions_count);
	return cons_resolve_start(cs);
}

int tools_consume_main(int argc, char **argv)
{
	static struct cons cs;
	memset(&cs, 0, sizeof(cs));
	cli_init(&cs.cli, "consume");
	cs.cli.timeout_ms = CONS_REQUEST_TIMEOUT_MS;
	cs.partition = -1;
	cs.count = -1;
	cs.idle_ms = -1;
	cs.format = "%v\\n";
	sl_buf_init(&cs.scratch, CONS_DECOMPRESS_CAP);
	int rc = cons_parse(&cs, argc, argv);
	if (rc == 0)
		rc = cli_connect(&cs.cli);
	if (rc == 0)
		rc = cons_prepare(&cs);
	if (rc == 0 && cs.count != 0)
		rc = cons_loop(&cs);
	fflush(stdout);
	free(cs.parts);
	sl_buf_free(&cs.scratch);
	cli_free(&cs.cli);
	return rc == 100 ? CLI_EXIT_OK : rc;
}
