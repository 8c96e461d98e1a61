/*
 * cli_common.c: what `sluice topic|produce|consume` share (cli_int.h): the common options,
 * error printing with Kafka's error names, the connection, Metadata, and the progress line.
 *
 * Invariant: every failure path prints exactly one "error: ..." line (or a usage message)
 * before returning its exit code, so callers only propagate the code.
 */
#include "cli_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_init(struct cli *c, const char *cmd)
{
	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->bootstrap = CLI_DEFAULT_BOOTSTRAP;
	c->timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
	sl_arena_init(&c->arena, 64 * 1024, CLI_ARENA_LIMIT_BYTES);
}

void cli_free(struct cli *c)
{
	net_client_close(c->client);
	c->client = NULL;
	sl_arena_free(&c->arena);
}

int cli_usage_error(const struct cli *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sluice %s: %s\nRun 'sluice %s --help' for usage.\n", c->cmd, msg, c->cmd);
	return CLI_EXIT_USAGE;
}

int cli_getopt_error(const struct cli *c, int opt, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (opt == ':')
		return cli_usage_error(c, "option '%s' needs a value", arg);
	if (optopt != 0 && optopt < 256 && strncmp(arg, "--", 2) != 0)
		return cli_usage_error(c, "unknown option '-%c'", optopt);
	return cli_usage_error(c, "unknown option '%s'", arg);
}

bool cli_parse_int(const struct cli *c, const char *flag, const char *s, int64_t min, int64_t max,
                   int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		cli_usage_error(c,
		                "invalid value '%s' for %s (expected an integer from %" PRId64
		                " to %" PRId64 ")",
		                s, flag, min, max);
		return false;
	}
	*out = v;
	return true;
}

int cli_common_option(struct cli *c, int opt, const char *arg)
{
	int64_t v;
	switch (opt) {
	case CLI_OPT_BOOTSTRAP:
		if (arg[0] == '\0')
			return cli_usage_error(c, "--bootstrap-server needs HOST:PORT");
		c->bootstrap = arg;
		return 0;
	case CLI_OPT_TIMEOUT:
		if (!cli_parse_int(c, "--timeout-ms", arg, 1, INT32_MAX, &v))
			return CLI_EXIT_USAGE;
		c->timeout_ms = v;
		c->timeout_set = true;
		return 0;
	default:
		return -1;
	}
}

int cli_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "error: %s\n", msg);
	return CLI_EXIT_FAIL;
}

int cli_kafka_error(const char *what, int16_t code, struct wire_str msg)
{
	if (msg.len > 0)
		return cli_fail("%s: %s: %.*s", what, wire_err_name(code), msg.len, msg.ptr);
	return cli_fail("%s: %s: %s", what, wire_err_name(code), wire_err_message(code));
}

int cli_topic_error(const char *topic, int16_t code, struct wire_str msg)
{
	char what[300];
	snprintf(what, sizeof(what), "topic '%s'", topic);
	return cli_kafka_error(what, code, msg);
}

int cli_connect(struct cli *c)
{
	char err[NET_CLIENT_ERR_MAX];
	if (net_client_connect(c->bootstrap, "sluice-cli", c->timeout_ms, &c->client, err,
	                       sizeof(err)) != SL_OK) {
		c->client = NULL;
		return cli_fail("%s", err);
	}
	return 0;
}

int16_t cli_version(const struct cli *c, int16_t api_key, int16_t min_version)
{
	int16_t v = net_client_version(c->client, api_key);
	if (v < min_version) {
		const struct wire_api_info *info = wire_api_info(api_key);
		cli_fail("the broker at %s does not support %s v%d or later", c->bootstrap,
		         info != NULL ? info->name : "this api", min_version);
		return -1;
	}
	return v;
}

int cli_call(struct cli *c, int16_t api_key, int16_t version, const void *req, void *resp,
             int64_t extra_ms)
{
	char err[NET_CLIENT_ERR_MAX];
	if (net_client_call(c->client, api_key, version, req, resp, &c->arena,
	                    c->timeout_ms + extra_ms, err, sizeof(err)) != SL_OK)
		return cli_fail("%s", err);
	return 0;
}

char *cli_strdup(struct cli *c, struct wire_str s)
{
	return sl_arena_strndup(&c->arena, cli_ptr(s), (size_t)cli_len(s));
}

bool cli_split_kv(char *s, char **key, char **value)
{
	char *eq = strchr(s, '=');
	if (eq == NULL || eq == s)
		return false;
	*eq = '\0';
	*key = s;
	*value = eq + 1;
	return true;
}

int cli_metadata(struct cli *c, const char *const *names, int32_t count,
                 struct wire_metadata_response *out, int16_t *version)
{
	int16_t v = cli_version(c, CLI_API_METADATA, 1);
	if (v < 0)
		return CLI_EXIT_FAIL;
	struct wire_metadata_request req;
	wire_metadata_request_init(&req);
	req.allow_auto_topic_creation = false;
	if (names == NULL) {
		req.topics_count = -1;
	} else {
		req.topics = sl_arena_calloc(&c->arena, (size_t)count + 1, sizeof(*req.topics));
		if (req.topics == NULL)
			return cli_fail("out of memory");
		req.topics_count = count;
		for (int32_t i = 0; i < count; i++) {
			wire_metadata_request_topic_init(&req.topics[i]);
			req.topics[i].name = wire_str_c(names[i]);
		}
	}
	wire_metadata_response_init(out);
	*version = v;
	return cli_call(c, CLI_API_METADATA, v, &req, out, 0);
}

void cli_progress_init(struct cli_progress *p, const char *verb)
{
	memset(p, 0, sizeof(*p));
	p->verb = verb;
	p->start_ms = sl_mono_ms();
	p->last_ms = p->start_ms;
}

static double cli_rate_mb(const struct cli_progress *p, int64_t now_ms)
{
	int64_t ms = now_ms - p->start_ms;
	if (ms <= 0)
		ms = 1;
	return (double)p->bytes / 1e6 / ((double)ms / 1000.0);
}

void cli_progress_add(struct cli_progress *p, uint64_t records, uint64_t bytes)
{
	p->records += records;
	p->bytes += bytes;
	int64_t now = sl_mono_ms();
	if (now - p->last_ms < 1000)
		return;
	p->last_ms = now;
	p->printed = true;
	fprintf(stderr, "%s %" PRIu64 " records, %.1f MB/s\n", p->verb, p->records,
	        cli_rate_mb(p, now));
}

void cli_progress_done(struct cli_progress *p)
{
	int64_t now = sl_mono_ms();
	fprintf(stderr, "%s %" PRIu64 " records (%" PRIu64 " bytes) in %.2f s, %.1f MB/s\n",
	        p->verb, p->records, p->bytes, (double)(now - p->start_ms) / 1000.0,
	        cli_rate_mb(p, now));
}

const char *cli_config_source_name(int8_t source)
{
	static const char *const names[] = {
	        "UNKNOWN",
	        "DYNAMIC_TOPIC_CONFIG",
	        "DYNAMIC_BROKER_CONFIG",
	        "DYNAMIC_DEFAULT_BROKER_CONFIG",
	        "STATIC_BROKER_CONFIG",
	        "DEFAULT_CONFIG",
	        "DYNAMIC_BROKER_LOGGER_CONFIG",
	        "CLIENT_METRICS_CONFIG",
	        "GROUP_CONFIG",
	};
	if (source < 0 || (size_t)source >= SL_ARRAY_LEN(names))
		return "UNKNOWN";
	return names[source];
}

int cli_topic_metadata(struct cli *c, const char *topic, struct wire_metadata_response_topic *out)
{
	struct wire_metadata_response md;
	int16_t v;
	if (cli_metadata(c, &topic, 1, &md, &v) != 0)
		return CLI_EXIT_FAIL;
	if (md.topics_count != 1)
		return cli_fail("topic '%s': Metadata returned %d topics", topic, md.topics_count);
	if (md.topics[0].error_code != WIRE_ERR_NONE)
		return cli_topic_error(topic, md.topics[0].error_code, (struct wire_str){NULL, -1});
	if (md.topics[0].partitions_count <= 0)
		return cli_fail("topic '%s' has no partitions", topic);
	*out = md.topics[0];
	return 0;
}
