/*
 * cli_int.h: helpers shared by the client commands `sluice topic|produce|consume`
 * (tools/cli_common.c; private to tools/).
 *
 * Every client command takes --bootstrap-server HOST:PORT (default localhost:9092),
 * --timeout-ms N and --help; errors are one line on stderr, "error: ..." for failures (exit
 * 1) and "sluice <cmd>: ..." plus a hint for usage errors (exit 2). Kafka error codes are
 * printed with Kafka's name and message: "error: topic 'x': UNKNOWN_TOPIC_OR_PARTITION: This
 * server does not host this topic-partition".
 */
#ifndef SL_TOOLS_CLI_INT_H
#define SL_TOOLS_CLI_INT_H

#include "base.h"
#include "net.h"
#include "wire.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

#define CLI_DEFAULT_BOOTSTRAP "localhost:9092"
#define CLI_DEFAULT_TIMEOUT_MS 30000
#define CLI_ARENA_LIMIT_BYTES (512u * 1024u * 1024u)

/* Kafka api keys used by the commands. */
#define CLI_API_PRODUCE 0
#define CLI_API_FETCH 1
#define CLI_API_LIST_OFFSETS 2
#define CLI_API_METADATA 3
#define CLI_API_CREATE_TOPICS 19
#define CLI_API_DELETE_TOPICS 20
#define CLI_API_DESCRIBE_CONFIGS 32
#define CLI_API_INCREMENTAL_ALTER_CONFIGS 44

#define CLI_RESOURCE_TOPIC 2 /* ConfigResource.Type.TOPIC */

/* getopt_long values of the common options. */
enum { CLI_OPT_BOOTSTRAP = 1000, CLI_OPT_TIMEOUT, CLI_OPT_FIRST_CUSTOM };

/* clang-format off */
#define CLI_COMMON_LONG_OPTIONS                                               \
	{"bootstrap-server", required_argument, NULL, CLI_OPT_BOOTSTRAP},     \
	{"timeout-ms", required_argument, NULL, CLI_OPT_TIMEOUT},             \
	{"help", no_argument, NULL, 'h'}
/* clang-format on */

/* State of one client command: its name, the common options, the connection and an arena
 * for request arrays and decoded responses (reset by the command between exchanges). */
struct cli {
	const char *cmd; /* "topic create", "produce": used in messages */
	const char *bootstrap;
	int64_t timeout_ms;
	bool timeout_set;
	struct net_client *client;
	struct sl_arena arena;
};

/* Sets defaults; the arena is ready. Free with cli_free. */
void cli_init(struct cli *c, const char *cmd);
void cli_free(struct cli *c);

/* Prints "sluice <cmd>: <message>" and a --help hint on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli *c, const char *fmt, ...) SL_PRINTF(2, 3);
/* Reports getopt's '?' / ':' for the option at argv[optind - 1]; returns CLI_EXIT_USAGE. */
int cli_getopt_error(const struct cli *c, int opt, char **argv);
/* Handles a common option (CLI_OPT_BOOTSTRAP, CLI_OPT_TIMEOUT): returns 0 when handled, -1
 * when opt is not a common option, CLI_EXIT_USAGE (message printed) on a bad value. */
int cli_common_option(struct cli *c, int opt, const char *arg);
/* Parses an integer option value in [min, max]; prints a usage error naming flag otherwise. */
bool cli_parse_int(const struct cli *c, const char *flag, const char *s, int64_t min, int64_t max,
                   int64_t *out);

/* Prints "error: <fmt>" on stderr. Returns CLI_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) SL_PRINTF(1, 2);
/* Prints "error: <what>: <KAFKA_NAME>: <message>" where message is msg when not null/empty,
 * else Kafka's default message for code. Returns CLI_EXIT_FAIL. */
int cli_kafka_error(const char *what, int16_t code, struct wire_str msg);
/* cli_kafka_error with what = "topic '<topic>'". Returns CLI_EXIT_FAIL. */
int cli_topic_error(const char *topic, int16_t code, struct wire_str msg);

/* Connects to c->bootstrap with c->timeout_ms. Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_connect(struct cli *c);
/* The version to use for api_key, at least min_version; prints an error and returns -1 when
 * the broker offers none. */
int16_t cli_version(const struct cli *c, int16_t api_key, int16_t min_version);
/* Sends req at version and decodes into resp (NULL: no response expected) with the command's
 * timeout plus extra_ms. Returns 0 or CLI_EXIT_FAIL (message printed). */
int cli_call(struct cli *c, int16_t api_key, int16_t version, const void *req, void *resp,
             int64_t extra_ms);

/* A wire string's length for "%.*s" (0 for null) and its bytes. */
static inline int cli_len(struct wire_str s)
{
	return s.len > 0 ? s.len : 0;
}
static inline const char *cli_ptr(struct wire_str s)
{
	return s.len > 0 ? s.ptr : "";
}
/* Copies a wire string into the arena as a C string; NULL when the arena is exhausted. */
char *cli_strdup(struct cli *c, struct wire_str s);
/* Splits "key=value" (key non-empty) in place into *key and *value. */
bool cli_split_kv(char *s, char **key, char **value);

/* Metadata for one topic (names[0]) or every topic (names == NULL). The response lives in the
 * arena until it is reset. Returns 0 or CLI_EXIT_FAIL. */
int cli_metadata(struct cli *c, const char *const *names, int32_t count,
                 struct wire_metadata_response *out, int16_t *version);
/* Metadata of the one topic `topic`: *out = its entry (its arrays live in the arena until it
 * is reset). Returns 0, or CLI_EXIT_FAIL (message printed) when the call fails or the broker
 * answers other than one topic, an error for it, or no partitions. */
int cli_topic_metadata(struct cli *c, const char *topic, struct wire_metadata_response_topic *out);

/* A throughput line on stderr at most once a second: "sent 120000 records, 11.9 MB/s". */
struct cli_progress {
	const char *verb; /* "sent", "received" */
	int64_t start_ms;
	int64_t last_ms;
	uint64_t records;
	uint64_t bytes;
	bool printed;
};
void cli_progress_init(struct cli_progress *p, const char *verb);
/* Adds to the totals and prints a line when a second has passed since the last one. */
void cli_progress_add(struct cli_progress *p, uint64_t records, uint64_t bytes);
/* Prints the final summary line ("sent 1000 records (12.3 KB) in 0.05 s, 0.2 MB/s"). */
void cli_progress_done(struct cli_progress *p);

/* Kafka's name of a DescribeConfigs config source ("DYNAMIC_TOPIC_CONFIG"). */
const char *cli_config_source_name(int8_t source);

#endif
