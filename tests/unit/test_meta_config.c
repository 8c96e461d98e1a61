/*
 * test_meta_config.c: the topic config table: sorted and searchable, Kafka's defaults and
 * broker synonyms, every default passing its own validator, and the validators' ranges,
 * enums, lists, booleans, doubles and whitespace handling with ConfigException-style text.
 */
#include "check_main.h"
#include "metadata.h"

#include <string.h>

static bool valid(const char *key, const char *value)
{
	const struct meta_topic_config_def *d = meta_topic_config_def_find(key, strlen(key));
	char err[256];

	ck_assert_msg(d != NULL, "no def for %s", key);
	return meta_topic_config_valid(d, value, strlen(value), err, sizeof(err));
}

START_TEST(table_sorted_and_found)
{
	size_t n = meta_topic_config_def_count();

	ck_assert_uint_ge(n, 30);
	for (size_t i = 0; i < n; i++) {
		const struct meta_topic_config_def *d = meta_topic_config_def_at(i);
		char err[256];

		if (i > 0)
			ck_assert_int_lt(strcmp(meta_topic_config_def_at(i - 1)->name, d->name), 0);
		ck_assert_ptr_eq(meta_topic_config_def_find(d->name, strlen(d->name)), d);
		ck_assert_msg(meta_topic_config_valid(d, d->default_value, strlen(d->default_value),
		                                      err, sizeof(err)),
		              "default of %s: %s", d->name, err);
		ck_assert_ptr_nonnull(d->type);
		ck_assert_ptr_nonnull(d->doc);
	}
	ck_assert_ptr_null(meta_topic_config_def_find("retention", 9));
	ck_assert_ptr_null(meta_topic_config_def_find("retention.msx", 13));
	ck_assert_ptr_null(meta_topic_config_def_find("", 0));
	ck_assert_ptr_nonnull(meta_topic_config_def_find("retention.msx", 12));
}
END_TEST

START_TEST(kafka_defaults)
{
	static const char *const want[][3] = {
	        {"retention.ms", "604800000", "log.retention.ms"},
	        {"retention.bytes", "-1", "log.retention.bytes"},
	        {"segment.bytes", "1073741824", "log.segment.bytes"},
	        {"segment.ms", "604800000", "log.roll.ms"},
	        {"cleanup.policy", "delete", "log.cleanup.policy"},
	        {"compression.type", "producer", "compression.type"},
	        {"max.message.bytes", "1048588", "message.max.bytes"},
	        {"min.insync.replicas", "1", "min.insync.replicas"},
	        {"message.timestamp.type", "CreateTime", "log.message.timestamp.type"},
	        {"segment.index.bytes", "10485760", "log.index.size.max.bytes"},
	        {"min.cleanable.dirty.ratio", "0.5", "log.cleaner.min.cleanable.ratio"},
	        {"delete.retention.ms", "86400000", "log.cleaner.delete.retention.ms"},
	        {"file.delete.delay.ms", "60000", "log.segment.delete.delay.ms"},
	        {"flush.messages", "9223372036854775807", "log.flush.interval.messages"},
	        {"local.retention.ms", "-2", "log.local.retention.ms"},
	        {"unclean.leader.election.enable", "false", "unclean.leader.election.enable"},
	};

	for (size_t i = 0; i < SL_ARRAY_LEN(want); i++) {
		const struct meta_topic_config_def *d =
		        meta_topic_config_def_find(want[i][0], strlen(want[i][0]));

		ck_assert_ptr_nonnull(d);
		ck_assert_str_eq(d->default_value, want[i][1]);
		ck_assert_str_eq(d->broker_key, want[i][2]);
	}
	ck_assert_ptr_null(meta_topic_config_def_find("remote.storage.enable", 21)->broker_key);
	ck_assert_str_eq(meta_topic_config_def_find("cleanup.policy", 14)->type, "LIST");
	ck_assert_str_eq(meta_topic_config_def_find("retention.ms", 12)->type, "LONG");
}
END_TEST

START_TEST(numeric_ranges)
{
	char err[256];
	const struct meta_topic_config_def *d = meta_topic_config_def_find("retention.ms", 12);

	ck_assert(valid("retention.ms", "-1"));
	ck_assert(valid("retention.ms", " 1000 "));
	ck_assert(!meta_topic_config_valid(d, "-2", 2, err, sizeof(err)));
	ck_assert_str_eq(err, "Invalid value -2 for configuration retention.ms: Value must be at "
	                      "least -1");
	ck_assert(!meta_topic_config_valid(d, "abc", 3, err, sizeof(err)));
	ck_assert_str_eq(err, "Invalid value abc for configuration retention.ms: Not a number of "
	                      "type LONG");
	ck_assert(!valid("retention.ms", ""));
	ck_assert(!valid("retention.ms", "1.5"));
	ck_assert(!valid("retention.ms", "99999999999999999999"));
	ck_assert(valid("retention.bytes", "-12345")); /* no validator */
	ck_assert(valid("segment.bytes", "14"));
	ck_assert(!valid("segment.bytes", "13"));
	ck_assert(!valid("segment.bytes", "2147483648")); /* INT */
	ck_assert(valid("segment.bytes", "2147483647"));
	ck_assert(!valid("segment.ms", "0"));
	ck_assert(!valid("min.insync.replicas", "0"));
	ck_assert(!valid("flush.messages", "0"));
	ck_assert(valid("flush.ms", "0"));
	ck_assert(valid("local.retention.bytes", "-2"));
	ck_assert(!valid("local.retention.bytes", "-3"));
	ck_assert(valid("compression.gzip.level", "-1"));
	ck_assert(!valid("compression.gzip.level", "0"));
	ck_assert(valid("compression.gzip.level", "9"));
	ck_assert(!valid("compression.lz4.level", "18"));
	ck_assert(valid("compression.zstd.level", "-131072"));
	ck_assert(!valid("compression.zstd.level", "23"));
	ck_assert(valid("min.cleanable.dirty.ratio", "0"));
	ck_assert(valid("min.cleanable.dirty.ratio", "1.0"));
	ck_assert(!valid("min.cleanable.dirty.ratio", "1.01"));
	ck_assert(!valid("min.cleanable.dirty.ratio", "x"));
}
END_TEST

START_TEST(enums_lists_booleans)
{
	char err[256];
	const struct meta_topic_config_def *d = meta_topic_config_def_find("compression.type", 16);
	static const char *const codecs[] = {"uncompressed", "zstd", "lz4",
	                                     "snappy",       "gzip", "producer"};

	for (size_t i = 0; i < SL_ARRAY_LEN(codecs); i++)
		ck_assert(valid("compression.type", codecs[i]));
	ck_assert(!meta_topic_config_valid(d, "brotli", 6, err, sizeof(err)));
	ck_assert_msg(strstr(err, "String must be one of: uncompressed, zstd, lz4, snappy, gzip, "
	                          "producer") != NULL,
	              "%s", err);
	ck_assert(!valid("compression.type", "GZIP"));
	ck_assert(valid("cleanup.policy", "compact"));
	ck_assert(valid("cleanup.policy", "compact,delete"));
	ck_assert(valid("cleanup.policy", "delete, compact"));
	ck_assert(!valid("cleanup.policy", "compact,remove"));
	ck_assert(valid("message.timestamp.type", "LogAppendTime"));
	ck_assert(!valid("message.timestamp.type", "logappendtime"));
	ck_assert(valid("preallocate", "TRUE"));
	ck_assert(valid("preallocate", " false"));
	ck_assert(!valid("preallocate", "yes"));
	ck_assert(valid("leader.replication.throttled.replicas", "*"));
	ck_assert(valid("leader.replication.throttled.replicas", "0:1,1:2"));
	ck_assert(valid("leader.replication.throttled.replicas", ""));
	ck_assert(!valid("leader.replication.throttled.replicas", "0:x"));
	ck_assert(valid("message.format.version", "2.8-IV1"));
	ck_assert(!valid("message.format.version", "banana"));
	ck_assert(!meta_topic_config_valid(d, "gzip\0x", 6, err, sizeof(err)));
}
END_TEST

START_TEST(topic_name_rules)
{
	char long_name[300];

	memset(long_name, 'a', sizeof(long_name));
	ck_assert(meta_topic_name_legal(wire_str_c("orders.v1_x-Y9")));
	ck_assert(!meta_topic_name_legal(wire_str_c("")));
	ck_assert(!meta_topic_name_legal(wire_str_c(NULL)));
	ck_assert(!meta_topic_name_legal(wire_str_c(".")));
	ck_assert(!meta_topic_name_legal(wire_str_c("..")));
	ck_assert(meta_topic_name_legal(wire_str_c("...")));
	ck_assert(!meta_topic_name_legal(wire_str_c("a/b")));
	ck_assert(!meta_topic_name_legal(wire_str_c("a b")));
	ck_assert(meta_topic_name_legal((struct wire_str){long_name, 249}));
	ck_assert(!meta_topic_name_legal((struct wire_str){long_name, 250}));
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("meta_config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, table_sorted_and_found);
	tcase_add_test(tc, kafka_defaults);
	tcase_add_test(tc, numeric_ranges);
	tcase_add_test(tc, enums_lists_booleans);
	tcase_add_test(tc, topic_name_rules);
	suite_add_tcase(s, tc);
	return s;
}
