/*
 * topic_config.c: Kafka's topic-level config keys (LogConfig / TopicConfig, Kafka 3.9): type,
 * default, the broker key they default from, and the validator (ConfigDef ranges, ValidString,
 * ValidList, ThrottledReplicaListValidator). Values are parsed as ConfigDef.parseType does:
 * surrounding whitespace is ignored; booleans are true/false in any case; lists split on ','.
 * Error texts follow ConfigException: "Invalid value V for configuration K: reason".
 *
 * The table is sorted by name (tests check it), so lookups binary-search.
 */
#include "meta_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum cfg_check {
	CHK_NONE,
	CHK_RANGE,     /* integer in [min, max] */
	CHK_DRANGE,    /* double in [0, 1] */
	CHK_ENUM,      /* one of allowed */
	CHK_LIST,      /* every element one of allowed */
	CHK_THROTTLED, /* "", "*" or partition:broker,... */
	CHK_GZIP,      /* -1 or 1..9 */
	CHK_VERSION    /* n.n[.n][-IVn] */
};

struct cfg_entry {
	struct meta_topic_config_def def; /* first: def pointers convert back */
	enum cfg_check check;
	int64_t min;
	int64_t max;
	const char *const *allowed;
};

#define I32MAX INT32_MAX
#define I64MAX INT64_MAX
#define LMAX "9223372036854775807"

static const char *const cleanup_policies[] = {"compact", "delete", NULL};
static const char *const compression_types[] = {"uncompressed", "zstd",     "lz4", "snappy",
                                                "gzip",         "producer", NULL};
static const char *const timestamp_types[] = {"CreateTime", "LogAppendTime", NULL};

#define E(n, bk, dflt, ty, chk, lo, hi, al, d)                              \
	{                                                                   \
		{n, bk, dflt, ty, d}, chk, (int64_t)(lo), (int64_t)(hi), al \
	}

static const struct cfg_entry entries[] = {
        E("cleanup.policy", "log.cleanup.policy", "delete", "LIST", CHK_LIST, 0, 0,
          cleanup_policies, "delete and/or compact old segments"),
        E("compression.gzip.level", "compression.gzip.level", "-1", "INT", CHK_GZIP, 0, 0, NULL,
          "gzip level when compression.type is gzip"),
        E("compression.lz4.level", "compression.lz4.level", "9", "INT", CHK_RANGE, 1, 17, NULL,
          "lz4 level when compression.type is lz4"),
        E("compression.type", "compression.type", "producer", "STRING", CHK_ENUM, 0, 0,
          compression_types, "final compression of the topic's batches"),
        E("compression.zstd.level", "compression.zstd.level", "3", "INT", CHK_RANGE, -131072, 22,
          NULL, "zstd level when compression.type is zstd"),
        E("delete.retention.ms", "log.cleaner.delete.retention.ms", "86400000", "LONG", CHK_RANGE,
          0, I64MAX, NULL, "how long delete tombstones are kept in compacted topics"),
        E("file.delete.delay.ms", "log.segment.delete.delay.ms", "60000", "LONG", CHK_RANGE, 0,
          I64MAX, NULL, "wait before deleting a file from the filesystem"),
        E("flush.messages", "log.flush.interval.messages", LMAX, "LONG", CHK_RANGE, 1, I64MAX, NULL,
          "messages between forced fsyncs"),
        E("flush.ms", "log.flush.interval.ms", LMAX, "LONG", CHK_RANGE, 0, I64MAX, NULL,
          "time between forced fsyncs"),
        E("follower.replication.throttled.replicas", NULL, "", "LIST", CHK_THROTTLED, 0, 0, NULL,
          "replicas throttled on the follower side"),
        E("index.interval.bytes", "log.index.interval.bytes", "4096", "INT", CHK_RANGE, 0, I32MAX,
          NULL, "bytes between offset index entries"),
        E("leader.replication.throttled.replicas", NULL, "", "LIST", CHK_THROTTLED, 0, 0, NULL,
          "replicas throttled on the leader side"),
        E("local.retention.bytes", "log.local.retention.bytes", "-2", "LONG", CHK_RANGE, -2, I64MAX,
          NULL, "local bytes kept with tiered storage (-2 = retention.bytes)"),
        E("local.retention.ms", "log.local.retention.ms", "-2", "LONG", CHK_RANGE, -2, I64MAX, NULL,
          "local time kept with tiered storage (-2 = retention.ms)"),
        E("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", LMAX, "LONG", CHK_RANGE, 1,
          I64MAX, NULL, "maximum time a message stays uncompacted"),
        E("max.message.bytes", "message.max.bytes", "1048588", "INT", CHK_RANGE, 0, I32MAX, NULL,
          "largest record batch size allowed"),
        E("message.downconversion.enable", "log.message.downconversion.enable", "true", "BOOLEAN",
          CHK_NONE, 0, 0, NULL, "down-convert for old fetch versions"),
        E("message.format.version", "log.message.format.version", "3.0-IV1", "STRING", CHK_VERSION,
          0, 0, NULL, "deprecated; ignored since 3.0"),
        E("message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms", LMAX, "LONG",
          CHK_RANGE, 0, I64MAX, NULL, "allowed lead of a record timestamp over the broker's"),
        E("message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms", LMAX, "LONG",
          CHK_RANGE, 0, I64MAX, NULL, "allowed lag of a record timestamp behind the broker's"),
        E("message.timestamp.difference.max.ms", "log.message.timestamp.difference.max.ms", LMAX,
          "LONG", CHK_RANGE, 0, I64MAX, NULL, "deprecated: before/after.max.ms"),
        E("message.timestamp.type", "log.message.timestamp.type", "CreateTime", "STRING", CHK_ENUM,
          0, 0, timestamp_types, "CreateTime or LogAppendTime"),
        E("min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", "0.5", "DOUBLE",
          CHK_DRANGE, 0, 1, NULL, "dirty ratio that triggers compaction"),
        E("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", "0", "LONG", CHK_RANGE, 0,
          I64MAX, NULL, "minimum time a message stays uncompacted"),
        E("min.insync.replicas", "min.insync.replicas", "1", "INT", CHK_RANGE, 1, I32MAX, NULL,
          "replicas that must acknowledge acks=all writes"),
        E("preallocate", "log.preallocate", "false", "BOOLEAN", CHK_NONE, 0, 0, NULL,
          "preallocate segment files"),
        E("remote.log.copy.disable", NULL, "false", "BOOLEAN", CHK_NONE, 0, 0, NULL,
          "stop copying to tiered storage"),
        E("remote.log.delete.on.disable", NULL, "false", "BOOLEAN", CHK_NONE, 0, 0, NULL,
          "delete tiered data when tiering is disabled"),
        E("remote.storage.enable", NULL, "false", "BOOLEAN", CHK_NONE, 0, 0, NULL,
          "tiered storage for the topic"),
        E("retention.bytes", "log.retention.bytes", "-1", "LONG", CHK_NONE, 0, 0, NULL,
          "partition size before old segments are deleted (-1 = no limit)"),
        E("retention.ms", "log.retention.ms", "604800000", "LONG", CHK_RANGE, -1, I64MAX, NULL,
          "time before old segments are deleted (-1 = no limit)"),
        E("segment.bytes", "log.segment.bytes", "1073741824", "INT", CHK_RANGE, 14, I32MAX, NULL,
          "segment file size"),
        E("segment.index.bytes", "log.index.size.max.bytes", "10485760", "INT", CHK_RANGE, 4,
          I32MAX, NULL, "offset index size"),
        E("segment.jitter.ms", "log.roll.jitter.ms", "0", "LONG", CHK_RANGE, 0, I64MAX, NULL,
          "random jitter subtracted from segment.ms"),
        E("segment.ms", "log.roll.ms", "604800000", "LONG", CHK_RANGE, 1, I64MAX, NULL,
          "time before a segment is rolled"),
        E("unclean.leader.election.enable", "unclean.leader.election.enable", "false", "BOOLEAN",
          CHK_NONE, 0, 0, NULL, "elect out-of-sync replicas as a last resort"),
};

size_t meta_topic_config_def_count(void)
{
	return SL_ARRAY_LEN(entries);
}

const struct meta_topic_config_def *meta_topic_config_def_at(size_t i)
{
	SL_ASSERT(i < SL_ARRAY_LEN(entries));
	return &entries[i].def;
}

const struct meta_topic_config_def *meta_topic_config_def_find(const char *name, size_t len)
{
	size_t lo = 0, hi = SL_ARRAY_LEN(entries);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *n = entries[mid].def.name;
		size_t nl = strlen(n);
		int c = memcmp(name, n, SL_MIN(len, nl));

		if (c == 0)
			c = len < nl ? -1 : len > nl ? 1 : 0;
		if (c == 0)
			return &entries[mid].def;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims Java-style whitespace into a NUL-terminated copy (truncated at cap - 1: values that
 * long fail every numeric check anyway). */
static void trim_copy(const char *v, size_t len, char *out, size_t cap)
{
	while (len > 0 && is_space(v[0])) {
		v++;
		len--;
	}
	while (len > 0 && is_space(v[len - 1]))
		len--;
	len = SL_MIN(len, cap - 1);
	memcpy(out, v, len);
	out[len] = '\0';
}

static bool parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s[0] == '\0' || is_space(s[0]))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static bool in_set(const char *s, size_t len, const char *const *allowed)
{
	for (size_t i = 0; allowed[i] != NULL; i++) {
		if (strlen(allowed[i]) == len && memcmp(allowed[i], s, len) == 0)
			return true;
	}
	return false;
}

static void join_set(const char *const *allowed, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; allowed[i] != NULL && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "", allowed[i]);
}

/* Each comma-separated element (trimmed) passes ok(); an empty value is an empty list. */
static bool list_ok(const char *s, bool (*ok)(const char *, size_t, const char *const *),
                    const char *const *allowed)
{
	if (s[0] == '\0')
		return true;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		const char *e = s;

		while (len > 0 && is_space(*e)) {
			e++;
			len--;
		}
		while (len > 0 && is_space(e[len - 1]))
			len--;
		if (!ok(e, len, allowed))
			return false;
		if (comma == NULL)
			return true;
		s = comma + 1;
	}
}

static bool digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

static bool replica_ok(const char *s, size_t len, const char *const *unused)
{
	const char *colon = memchr(s, ':', len);

	(void)unused;
	return colon != NULL && digits(s, (size_t)(colon - s)) &&
	       digits(colon + 1, len - (size_t)(colon - s) - 1);
}

static bool version_ok(const char *s)
{
	size_t i = 0, parts = 0;

	for (;;) {
		size_t start = i;

		while (s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return false;
		parts++;
		if (s[i] != '.')
			break;
		i++;
	}
	if (parts < 2 || parts > 3)
		return false;
	if (s[i] == '\0')
		return true;
	return strncmp(s + i, "-IV", 3) == 0 && digits(s + i + 3, strlen(s + i + 3));
}

/* Fills why (ConfigException's reason) and returns false when v fails e's type/validator. */
static bool check_value(const struct cfg_entry *e, const char *v, char *why, size_t why_len)
{
	const char *ty = e->def.type;
	int64_t n;

	if (strcmp(ty, "BOOLEAN") == 0) {
		if (strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0)
			return true;
		snprintf(why, why_len, "Expected value to be either true or false");
		return false;
	}
	if (strcmp(ty, "DOUBLE") == 0) {
		char *end;
		double d;

		errno = 0;
		d = v[0] ? strtod(v, &end) : NAN;
		if (v[0] == '\0' || errno != 0 || *end != '\0' || isnan(d)) {
			snprintf(why, why_len, "Not a number of type DOUBLE");
			return false;
		}
		if (d < 0.0 || d > 1.0) {
			snprintf(why, why_len, "Value must be %s",
			         d < 0 ? "at least 0" : "no more than 1");
			return false;
		}
		return true;
	}
	if (strcmp(ty, "INT") == 0 || strcmp(ty, "LONG") == 0) {
		bool is_int = ty[0] == 'I';

		if (!parse_i64(v, &n) || (is_int && (n < INT32_MIN || n > INT32_MAX))) {
			snprintf(why, why_len, "Not a number of type %s", ty);
			return false;
		}
		if (e->check == CHK_GZIP && n != -1 && (n < 1 || n > 9)) {
			snprintf(why, why_len, "Value must be -1 or between 1 and 9");
			return false;
		}
		if (e->check == CHK_RANGE && n < e->min) {
			snprintf(why, why_len, "Value must be at least %" PRId64, e->min);
			return false;
		}
		if (e->check == CHK_RANGE && n > e->max) {
			snprintf(why, why_len, "Value must be no more than %" PRId64, e->max);
			return false;
		}
		return true;
	}
	return true; /* STRING and LIST: checked by the caller */
}

bool meta_topic_config_valid(const struct meta_topic_config_def *def, const char *value,
                             size_t value_len, char *err, size_t err_len)
{
	const struct cfg_entry *e = (const struct cfg_entry *)def;
	char v[512], why[200], set[128];
	bool ok = true;

	SL_ASSERT(e >= entries && e < entries + SL_ARRAY_LEN(entries));
	why[0] = '\0';
	trim_copy(value, value_len, v, sizeof(v));
	if (memchr(value, '\0', value_len) != NULL || value_len >= sizeof(v)) {
		snprintf(why, sizeof(why), "value too long or contains NUL");
		ok = false;
	} else if (e->check == CHK_ENUM || e->check == CHK_LIST) {
		ok = e->check == CHK_ENUM ? in_set(v, strlen(v), e->allowed)
		                          : list_ok(v, in_set, e->allowed);
		join_set(e->allowed, set, sizeof(set));
		if (!ok)
			snprintf(why, sizeof(why), "String must be one of: %s", set);
	} else if (e->check == CHK_THROTTLED) {
		ok = strcmp(v, "*") == 0 || list_ok(v, replica_ok, NULL);
		if (!ok)
			snprintf(why, sizeof(why),
			         "must be the literal '*' or a list of replicas in the following "
			         "format: [partitionId]:[brokerId],[partitionId]:[brokerId],...");
	} else if (e->check == CHK_VERSION) {
		ok = version_ok(v);
		if (!ok)
			snprintf(why, sizeof(why), "Version %.100s is not a valid version", v);
	} else {
		ok = check_value(e, v, why, sizeof(why));
	}
	if (!ok && err_len > 0)
		snprintf(err, err_len, "Invalid value %.*s for configuration %s: %s",
		         (int)SL_MIN(value_len, 200), value, def->name, why);
	return ok;
}
