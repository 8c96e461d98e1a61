/* test_format.c: `sluice storage format/info` (tools/storage_cmd.c), meta.properties and
 * checkpoint files (storage/), and node_dirs_verify (src/node/dirs.c). */
#include "batch.h"
#include "check_main.h"
#include "config.h"
#include "metadata.h"
#include "storage.h"
#include "tools.h"
#include "wire.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static char out_text[16384];
static char err_text[16384];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/sl-test-format-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void read_text(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Writes <root>/server.properties: `roles` with dirs d1, d2 and metadata dir meta. */
static void write_config(const char *extra)
{
	char path[1024], text[2048];
	snprintf(path, sizeof(path), "%s/server.properties", root);
	snprintf(text, sizeof(text),
	         "node.id=1\n"
	         "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
	         "advertised.listeners=PLAINTEXT://localhost:9092\n"
	         "controller.listener.names=CONTROLLER\n"
	         "log.dirs=%s/d1,%s/d2\n"
	         "metadata.log.dir=%s/meta\n"
	         "%s",
	         root, root, root, extra);
	write_text(path, text);
}

static const char *const COMBINED = "process.roles=broker,controller\n"
                                    "controller.quorum.voters=1@localhost:9093\n";
static const char *const DYNAMIC = "process.roles=controller\n"
                                   "listeners=CONTROLLER://:9093\n"
                                   "advertised.listeners=\n"
                                   "controller.quorum.bootstrap.servers=localhost:9093\n";

/* Runs `sluice storage <args...>` with stdout/stderr captured into out_text / err_text. */
static int run(const char *first, ...)
{
	char *argv[32];
	int argc = 0;
	char cfg[1024];
	snprintf(cfg, sizeof(cfg), "%s/server.properties", root);
	argv[argc++] = (char *)"storage";
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a != NULL; a = va_arg(ap, const char *))
		argv[argc++] = strcmp(a, "CFG") == 0 ? cfg : (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	char opath[1024], epath[1024];
	snprintf(opath, sizeof(opath), "%s/.out", root);
	snprintf(epath, sizeof(epath), "%s/.err", root);
	fflush(stdout);
	fflush(stderr);
	int o = dup(1), e = dup(2);
	int fo = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int fe = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fo, 1);
	dup2(fe, 2);
	int rc = tools_storage_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(o, 1);
	dup2(e, 2);
	close(o);
	close(e);
	close(fo);
	close(fe);
	read_text(opath, out_text, sizeof(out_text));
	read_text(epath, err_text, sizeof(err_text));
	return rc;
}

static void dir_path(char *out, size_t n, const char *sub)
{
	snprintf(out, n, "%s/%s", root, sub);
}

static void meta_of(const char *sub, struct stor_meta_props *mp)
{
	char dir[1024], err[1024];
	dir_path(dir, sizeof(dir), sub);
	ck_assert_msg(stor_meta_props_read(dir, mp, err, sizeof(err)) == SL_OK, "%s", err);
}

/* Loads a checkpoint file and returns the batches in views (count returned). */
static size_t load_batches(const char *path, struct sl_buf *buf, struct stor_batch_view *v,
                           size_t cap)
{
	char err[1024];
	sl_buf_init(buf, STOR_CHECKPOINT_MAX_BYTES);
	ck_assert_msg(stor_checkpoint_read(path, buf, err, sizeof(err)) == SL_OK, "%s", err);
	size_t n = 0, pos = 0;
	while (pos < buf->len) {
		size_t used;
		ck_assert_uint_lt(n, cap);
		ck_assert_int_eq(stor_batch_parse(buf->data + pos, buf->len - pos, &v[n], &used),
		                 SL_OK);
		pos += used;
		n++;
	}
	return n;
}

static int16_t control_type(const struct stor_record *r)
{
	int16_t t = -1;
	ck_assert_int_eq(stor_control_key_parse(r, &t), SL_OK);
	return t;
}

/* Checks bootstrap.checkpoint in sub: header, FeatureLevelRecords == want, footer. */
static void check_bootstrap(const char *sub, const char *const *names, const int16_t *levels,
                            size_t count)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s/bootstrap.checkpoint", root, sub);
	struct sl_buf buf;
	struct stor_batch_view v[4];
	ck_assert_uint_eq(load_batches(path, &buf, v, 4), 3);
	struct stor_record_iter it;
	struct stor_record r;
	/* 1: SnapshotHeader control batch at offset 0. */
	ck_assert(stor_batch_is_control(&v[0]));
	ck_assert_int_eq(v[0].h.base_offset, 0);
	ck_assert_int_eq(v[0].h.partition_leader_epoch, 0);
	stor_record_iter_init(&it, &v[0]);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(control_type(&r), STOR_CONTROL_SNAPSHOT_HEADER);
	struct wire_reader rd;
	struct wire_snapshot_header_record hdr;
	wire_reader_init(&rd, r.value, (size_t)r.value_len, NULL);
	ck_assert_int_eq(wire_snapshot_header_record_decode(&rd, 0, &hdr), SL_OK);
	ck_assert(wire_reader_done(&rd));
	ck_assert_int_eq(hdr.version, 0);
	ck_assert_int_eq(hdr.last_contained_log_timestamp, 0);
	/* 2: data batch of framed FeatureLevelRecords. */
	ck_assert(!stor_batch_is_control(&v[1]));
	ck_assert_int_eq(v[1].h.base_offset, 1);
	ck_assert_int_eq(v[1].h.record_count, (int32_t)count);
	ck_assert_int_eq(v[1].h.producer_id, -1);
	stor_record_iter_init(&it, &v[1]);
	for (size_t i = 0; i < count; i++) {
		ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
		ck_assert_ptr_null(r.key);
		ck_assert_uint_eq(r.header_count, 0);
		int16_t key, ver;
		struct meta_feature_level_record fl;
		wire_reader_init(&rd, r.value, (size_t)r.value_len, NULL);
		ck_assert_int_eq(meta_frame_get(&rd, &key, &ver), SL_OK);
		ck_assert_int_eq(key, 12);
		ck_assert_int_eq(ver, 0);
		ck_assert_int_eq(meta_feature_level_record_decode(&rd, 0, &fl), SL_OK);
		ck_assert(wire_reader_done(&rd));
		ck_assert_msg(wire_str_eq(fl.name, names[i]), "record %zu: %.*s", i,
		              (int)fl.name.len, fl.name.ptr);
		ck_assert_int_eq(fl.feature_level, levels[i]);
	}
	ck_assert_int_eq(stor_record_next(&it, &r), SL_ENOENT);
	/* 3: SnapshotFooter control batch right after. */
	ck_assert(stor_batch_is_control(&v[2]));
	ck_assert_int_eq(v[2].h.base_offset, 1 + (int64_t)count);
	stor_record_iter_init(&it, &v[2]);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(control_type(&r), STOR_CONTROL_SNAPSHOT_FOOTER);
	sl_buf_free(&buf);
}

START_TEST(test_format_basic)
{
	write_config(COMBINED);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "MkU3OEVBNTcwNTJENDM2Qk", NULL), 0);
	char want[1024];
	snprintf(want, sizeof(want),
	         "Formatting data directory %s/d1 with metadata.version 4.0-IV0.\n"
	         "Formatting data directory %s/d2 with metadata.version 4.0-IV0.\n"
	         "Formatting metadata directory %s/meta with metadata.version 4.0-IV0.\n",
	         root, root, root);
	ck_assert_str_eq(out_text, want);
	struct stor_meta_props m[3];
	meta_of("d1", &m[0]);
	meta_of("d2", &m[1]);
	meta_of("meta", &m[2]);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(m[i].version, 1);
		ck_assert_str_eq(m[i].cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
		ck_assert_int_eq(m[i].node_id, 1);
		ck_assert(m[i].has_directory_id);
		ck_assert(!sl_uuid_is_reserved(&m[i].directory_id));
	}
	ck_assert(!sl_uuid_eq(&m[0].directory_id, &m[1].directory_id));
	ck_assert(!sl_uuid_eq(&m[1].directory_id, &m[2].directory_id));
	const char *names[] = {"metadata.version"};
	const int16_t levels[] = {22};
	check_bootstrap("d1", names, levels, 1);
	check_bootstrap("meta", names, levels, 1);
	char path[1024], text[1024];
	snprintf(path, sizeof(path), "%s/meta/meta.properties", root);
	read_text(path, text, sizeof(text));
	ck_assert_msg(strncmp(text, "#\n#", 3) == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "\nversion=1\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nnode.id=1\n"));
	snprintf(path, sizeof(path), "%s/meta/__cluster_metadata-0", root);
	ck_assert_int_ne(access(path, F_OK), 0); /* no bootstrap snapshot for static quorums */

	/* info: all formatted. */
	ck_assert_int_eq(run("info", "-c", "CFG", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out_text, "Found log directories:\n"));
	ck_assert_ptr_nonnull(strstr(out_text,
	                             "Found metadata: {cluster.id=MkU3OEVBNTcwNTJENDM2Qk, "
	                             "directory.id="));
	ck_assert_ptr_null(strstr(out_text, "problem"));
}
END_TEST

START_TEST(test_format_features)
{
	write_config(COMBINED);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t=-dash", "-f", "transaction.version=2", "-f",
	                     "group.version=1", NULL),
	                 0);
	const char *names[] = {"metadata.version", "group.version", "transaction.version"};
	const int16_t levels[] = {22, 1, 2};
	check_bootstrap("d2", names, levels, 3);
	struct stor_meta_props m;
	meta_of("d1", &m);
	ck_assert_str_eq(m.cluster_id, "-dash");
	teardown();
	setup();
	write_config(COMBINED);
	ck_assert_int_eq(
	        run("format", "-c", "CFG", "-t", "x", "-r", "3.9", "-f", "group.version=1", NULL),
	        1);
	ck_assert_str_eq(err_text, "group.version could not be set to 1 because it depends on "
	                           "metadata.version level 22\n");
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-r", "3.9", "-f",
	                     "metadata.version=21", NULL),
	                 1);
	ck_assert_ptr_nonnull(strstr(err_text, "Only one of the two can be supplied."));
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-r", "3.2-IV0", NULL), 1);
	ck_assert_str_eq(err_text, "metadata.version 3.2-IV0 is too old to be supported. The "
	                           "minimum is 3.3-IV0.\n");
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-r", "4.0-IV1", NULL), 1);
	ck_assert_str_eq(err_text, "metadata.version 4.0-IV1 is not yet stable.\n");
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-r", "9.9", NULL), 1);
	ck_assert_ptr_nonnull(strstr(err_text, "Unknown metadata.version '9.9'"));
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-f", "kraft.version=1", NULL), 1);
	ck_assert_ptr_nonnull(strstr(err_text, "Cannot set kraft.version to 1 unless KIP-853"));
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-f", "foo.version=1", NULL), 1);
	ck_assert_ptr_nonnull(strstr(err_text, "Unsupported feature: foo.version."));
	/* Nothing was written by the failed attempts. */
	char path[1024];
	dir_path(path, sizeof(path), "d1");
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-r", "3.9", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out_text, "with metadata.version 3.9-IV0.\n"));
	const char *names2[] = {"metadata.version"};
	const int16_t levels2[] = {21};
	check_bootstrap("meta", names2, levels2, 1);
}
END_TEST

START_TEST(test_format_already_formatted)
{
	write_config(COMBINED);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", NULL), 0);
	struct stor_meta_props before;
	meta_of("d1", &before);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", NULL), 1);
	char want[1024];
	snprintf(want, sizeof(want),
	         "Log directory %s/d1 is already formatted. Use --ignore-formatted to ignore this "
	         "directory and format the others.\n",
	         root);
	ck_assert_str_eq(err_text, want);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", "-g", NULL), 0);
	ck_assert_str_eq(out_text, "All of the log directories are already formatted.\n");
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "other", "-g", NULL), 1);
	snprintf(want, sizeof(want),
	         "Invalid cluster.id in: %s/d1/meta.properties. Expected other, but read abc\n",
	         root);
	ck_assert_str_eq(err_text, want);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", "-g", "--override", "node.id=2",
	                     "--override", "controller.quorum.voters=2@localhost:9093", NULL),
	                 1);
	ck_assert_ptr_nonnull(
	        strstr(err_text, "Stored node id 1 doesn't match previous node id 2 in "));
	struct stor_meta_props after;
	meta_of("d1", &after);
	ck_assert(sl_uuid_eq(&before.directory_id, &after.directory_id));

	/* -g formats only the new directory. */
	char extra[1024];
	snprintf(extra, sizeof(extra), "%slog.dirs=%s/d1,%s/d2,%s/d3\n", COMBINED, root, root,
	         root);
	write_config(extra);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", "-g", NULL), 0);
	snprintf(want, sizeof(want),
	         "Formatting data directory %s/d3 with metadata.version 4.0-IV0.\n", root);
	ck_assert_str_eq(out_text, want);
}
END_TEST

START_TEST(test_format_errors)
{
	write_config("process.roles=\n");
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", NULL), 1);
	ck_assert_str_eq(err_text, "The configuration file appears to be for a legacy cluster. "
	                           "Formatting is only supported for clusters in KRaft mode.\n");
	write_config(DYNAMIC);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", NULL), 1);
	ck_assert_str_eq(err_text,
	                 "Because controller.quorum.voters is not set on this controller, "
	                 "you must specify one of the following: --standalone, "
	                 "--initial-controllers, or --no-initial-controllers.\n");
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", "-s", "-N", NULL), 2);
	ck_assert_int_eq(run("format", "-c", "CFG", NULL), 2);
	ck_assert_int_eq(run("format", "-t", "x", NULL), 2);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "--bogus", NULL), 2);
	ck_assert_int_eq(run("format", "--help", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out_text, "--initial-controllers"));
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-I", "1@host:9093", NULL), 1);
	ck_assert_str_eq(err_text,
	                 "Invalid --initial-controllers: No colon following port could be "
	                 "found.\n");
	ck_assert_int_eq(
	        run("format", "-c", "CFG", "-t", "x", "-I", "1@a:1:AAAAAAAAAAAAAAAAAAAAAQ", NULL),
	        1);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-I",
	                     "1@a:1:nVK2QmdpSKaCu1HIOAfjKA,1@b:2:nVK2QmdpSKaCu1HIOAfjKQ", NULL),
	                 1);
	ck_assert_str_eq(err_text, "Node id 1 was specified more than once.\n");
	write_config("process.roles=broker\n"
	             "listeners=PLAINTEXT://:9092\n"
	             "controller.quorum.bootstrap.servers=localhost:9093\n");
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-s", NULL), 1);
	ck_assert_str_eq(err_text, "You can only use --standalone on a controller.\n");
	write_config(COMBINED);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "-s", NULL), 1);
	ck_assert_ptr_nonnull(strstr(err_text, "cannot be used when controller.quorum.voters"));
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "x", "--override", "node.id=abc", NULL),
	                 1);
	ck_assert_str_eq(err_text,
	                 "Invalid value abc for configuration node.id: Not a number of type "
	                 "INT\n");
	ck_assert_int_eq(run("bogus", NULL), 2);
	ck_assert_int_eq(run("random-uuid", NULL), 0);
	ck_assert_uint_eq(strlen(out_text), 23);
}
END_TEST

START_TEST(test_format_standalone)
{
	write_config(DYNAMIC);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", "--standalone", NULL), 0);
	char want[1024];
	snprintf(want, sizeof(want),
	         "Formatting data directory %s/d1 with metadata.version 4.0-IV0.\n"
	         "Formatting data directory %s/d2 with metadata.version 4.0-IV0.\n"
	         "Formatting dynamic metadata voter directory %s/meta with metadata.version "
	         "4.0-IV0.\n",
	         root, root, root);
	ck_assert_str_eq(out_text, want);
	struct stor_meta_props meta;
	meta_of("meta", &meta);
	char path[1024];
	snprintf(path, sizeof(path),
	         "%s/meta/__cluster_metadata-0/00000000000000000000-0000000000.checkpoint", root);
	struct sl_buf buf;
	struct stor_batch_view v[3];
	ck_assert_uint_eq(load_batches(path, &buf, v, 3), 2);
	ck_assert(stor_batch_is_control(&v[0]));
	ck_assert_int_eq(v[0].h.base_offset, 0);
	ck_assert_int_eq(v[0].h.record_count, 3);
	struct stor_record_iter it;
	struct stor_record r;
	struct wire_reader rd;
	struct sl_arena arena;
	sl_arena_init(&arena, 4096, 1 << 20);
	stor_record_iter_init(&it, &v[0]);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(control_type(&r), STOR_CONTROL_SNAPSHOT_HEADER);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(control_type(&r), STOR_CONTROL_KRAFT_VERSION);
	struct wire_kraft_version_record kv;
	wire_reader_init(&rd, r.value, (size_t)r.value_len, NULL);
	ck_assert_int_eq(wire_kraft_version_record_decode(&rd, 0, &kv), SL_OK);
	ck_assert_int_eq(kv.kraft_version, 1);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(control_type(&r), STOR_CONTROL_KRAFT_VOTERS);
	struct wire_voters_record vr;
	wire_reader_init(&rd, r.value, (size_t)r.value_len, &arena);
	ck_assert_int_eq(wire_voters_record_decode(&rd, 0, &vr), SL_OK);
	ck_assert(wire_reader_done(&rd));
	ck_assert_int_eq(vr.voters_count, 1);
	ck_assert_int_eq(vr.voters[0].voter_id, 1);
	ck_assert(sl_uuid_eq(&vr.voters[0].voter_directory_id, &meta.directory_id));
	ck_assert_int_eq(vr.voters[0].endpoints_count, 1);
	ck_assert(wire_str_eq(vr.voters[0].endpoints[0].name, "CONTROLLER"));
	ck_assert(wire_str_eq(vr.voters[0].endpoints[0].host, "localhost"));
	ck_assert_int_eq(vr.voters[0].endpoints[0].port, 9093);
	ck_assert_int_eq(vr.voters[0].kraft_version_feature.min_supported_version, 0);
	ck_assert_int_eq(vr.voters[0].kraft_version_feature.max_supported_version, 1);
	ck_assert(stor_batch_is_control(&v[1]));
	ck_assert_int_eq(v[1].h.base_offset, 3);
	stor_record_iter_init(&it, &v[1]);
	ck_assert_int_eq(stor_record_next(&it, &r), SL_OK);
	ck_assert_int_eq(control_type(&r), STOR_CONTROL_SNAPSHOT_FOOTER);
	sl_arena_free(&arena);
	sl_buf_free(&buf);
	/* kraft.version is never a FeatureLevelRecord. */
	const char *names[] = {"metadata.version"};
	const int16_t levels[] = {22};
	check_bootstrap("meta", names, levels, 1);
	snprintf(path, sizeof(path), "%s/d1/__cluster_metadata-0", root);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(test_format_initial_controllers)
{
	write_config(DYNAMIC);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", "-I",
	                     "3@[::1]:9095:nVK2QmdpSKaCu1HIOAfjKQ,2@b:9094:nVK2QmdpSKaCu1HIOAfjKA",
	                     NULL),
	                 0);
	ck_assert_ptr_nonnull(strstr(out_text, "Formatting dynamic metadata directory "));
	struct stor_meta_props meta;
	meta_of("meta", &meta);
	char s[SL_UUID_STR_LEN + 1];
	sl_uuid_to_str(&meta.directory_id, s);
	ck_assert_str_ne(s, "nVK2QmdpSKaCu1HIOAfjKA");
	teardown();
	setup();
	write_config(DYNAMIC);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", "-I",
	                     "1@[::1]:9095:nVK2QmdpSKaCu1HIOAfjKQ", NULL),
	                 0);
	ck_assert_ptr_nonnull(strstr(out_text, "Formatting dynamic metadata voter directory "));
	meta_of("meta", &meta);
	sl_uuid_to_str(&meta.directory_id, s);
	ck_assert_str_eq(s, "nVK2QmdpSKaCu1HIOAfjKQ");
	teardown();
	setup();
	write_config(DYNAMIC);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "abc", "-N", NULL), 0);
	char path[1024];
	snprintf(path, sizeof(path), "%s/meta/__cluster_metadata-0", root);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

static void load_cfg(struct node_config *c)
{
	char path[1024], err[1024];
	snprintf(path, sizeof(path), "%s/server.properties", root);
	ck_assert_msg(node_config_load(path, NULL, 0, c, NULL, err, sizeof(err)) == SL_OK, "%s",
	              err);
}

START_TEST(test_dirs_verify)
{
	write_config(COMBINED);
	struct node_config *c = calloc(1, sizeof(*c));
	struct node_dirs_state *st = calloc(1, sizeof(*st));
	char err[1024];
	load_cfg(c);
	ck_assert_int_eq(node_dirs_verify(c, st, err, sizeof(err)), SL_ECONFIG);
	char want[1024];
	snprintf(want, sizeof(want),
	         "No `meta.properties` found in %s/d1 (have you run `sluice storage format` to "
	         "format the directory?)",
	         root);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(run("format", "-c", "CFG", "-t", "cid", NULL), 0);
	ck_assert_msg(node_dirs_verify(c, st, err, sizeof(err)) == SL_OK, "%s", err);
	ck_assert_str_eq(st->cluster_id, "cid");
	struct stor_meta_props m;
	meta_of("d2", &m);
	ck_assert(sl_uuid_eq(&st->directory_ids[1], &m.directory_id));
	meta_of("meta", &m);
	ck_assert(sl_uuid_eq(&st->directory_ids[2], &m.directory_id));

	/* A missing directory.id is generated and written back. */
	char dir[256], path[1024];
	dir_path(dir, sizeof(dir), "d1");
	snprintf(path, sizeof(path), "%s/meta.properties", dir);
	write_text(path, "version=1\ncluster.id=cid\nnode.id=1\n");
	ck_assert_msg(node_dirs_verify(c, st, err, sizeof(err)) == SL_OK, "%s", err);
	meta_of("d1", &m);
	ck_assert(m.has_directory_id);
	ck_assert(sl_uuid_eq(&st->directory_ids[0], &m.directory_id));

	/* Wrong node id, mismatched cluster ids, version 0, metadata partition in a data dir. */
	write_text(path, "version=1\ncluster.id=cid\nnode.id=7\n");
	ck_assert_int_eq(node_dirs_verify(c, st, err, sizeof(err)), SL_ECONFIG);
	ck_assert_msg(strncmp(err, "Stored node id 7 doesn't match previous node id 1 in ", 52) ==
	                      0,
	              "%s", err);
	write_text(path, "version=1\ncluster.id=other\nnode.id=1\n");
	ck_assert_int_eq(node_dirs_verify(c, st, err, sizeof(err)), SL_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "Invalid cluster.id in: "));
	write_text(path, "version=7\ncluster.id=cid\nnode.id=1\n");
	ck_assert_int_eq(node_dirs_verify(c, st, err, sizeof(err)), SL_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "Unknown meta.properties version number 7"));
	write_text(path, "broker.id=1\ncluster.id=cid\n");
	ck_assert_int_eq(node_dirs_verify(c, st, err, sizeof(err)), SL_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "needs version 1"));
	ck_assert_int_eq(run("info", "-c", "CFG", NULL), 1);
	ck_assert_ptr_nonnull(strstr(out_text, "Found metadata: {broker.id=1, cluster.id=cid, "
	                                       "version=0}\n"));
	ck_assert_ptr_nonnull(strstr(out_text, "Found problem:\n  The configuration file appears "
	                                       "to be for a cluster in KRaft mode, but the "
	                                       "directories are formatted for legacy mode.\n"));
	write_text(path, "version=1\ncluster.id=cid\nnode.id=7\n");
	ck_assert_int_eq(run("info", "-c", "CFG", NULL), 1);
	ck_assert_ptr_nonnull(strstr(out_text, "Found problems:\n  Mismatched node IDs between "
	                                       "storage directories.\n  Mismatched node IDs "
	                                       "between storage directories.\n"));
	write_text(path, "version=1\ncluster.id=zzz\nnode.id=1\n");
	ck_assert_int_eq(run("info", "-c", "CFG", NULL), 1);
	ck_assert_ptr_nonnull(strstr(out_text, "  Mismatched cluster IDs between storage "
	                                       "directories.\n"));
	write_text(path, "version=1\ncluster.id=cid\nnode.id=1\nversion=x\n");
	ck_assert_int_eq(run("info", "-c", "CFG", NULL), 1);
	ck_assert_ptr_nonnull(strstr(out_text, "/d1/meta.properties: Unable to read version as a "
	                                       "number: x\n"));
	write_text(path, "version=1\ncluster.id=cid\nnode.id=1\n");
	snprintf(path, sizeof(path), "%s/__cluster_metadata-0", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(node_dirs_verify(c, st, err, sizeof(err)), SL_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "Found unexpected metadata location in data directory"));
	free(st);
	free(c);
}
END_TEST

START_TEST(test_info_problems)
{
	write_config(COMBINED);
	ck_assert_int_eq(run("info", "-c", "CFG", NULL), 1);
	char want[2048];
	snprintf(want, sizeof(want),
	         "Found problems:\n  %s/d1 does not exist\n  %s/d2 does not exist\n  %s/meta does "
	         "not exist\n\n",
	         root, root, root);
	ck_assert_str_eq(out_text, want);
	char dir[1024];
	dir_path(dir, sizeof(dir), "d1");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(run("info", "-c", "CFG", NULL), 1);
	ck_assert_ptr_nonnull(strstr(out_text, "Found log directory:\n"));
	ck_assert_ptr_nonnull(strstr(out_text, "/d1 is not formatted.\n"));
	ck_assert_int_eq(run("info", NULL), 2);
	ck_assert_int_eq(run("info", "--help", NULL), 0);
}
END_TEST

START_TEST(test_meta_props_and_checkpoint_files)
{
	char dir[1024], err[1024], path[1200];
	dir_path(dir, sizeof(dir), "m");
	ck_assert_int_eq(stor_mkdirs(dir, err, sizeof(err)), SL_OK);
	struct stor_meta_props mp, back;
	memset(&mp, 0, sizeof(mp));
	mp.version = 1;
	mp.has_cluster_id = true;
	snprintf(mp.cluster_id, sizeof(mp.cluster_id), " a=b:c#d\\e\n");
	mp.has_node_id = true;
	mp.node_id = 42;
	ck_assert_int_eq(stor_meta_props_write(dir, &mp, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(stor_meta_props_read(dir, &back, err, sizeof(err)), SL_OK);
	ck_assert_str_eq(back.cluster_id, mp.cluster_id);
	ck_assert_int_eq(back.node_id, 42);
	ck_assert(!back.has_directory_id);
	char desc[256];
	stor_meta_props_describe(&back, desc, sizeof(desc));
	ck_assert_str_eq(desc, "{cluster.id= a=b:c#d\\e\n, node.id=42, version=1}");
	snprintf(path, sizeof(path), "%s/meta.properties.tmp", dir);
	ck_assert_int_ne(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/meta.properties", dir);
	write_text(path, "version=1\nnode.id=1\n");
	ck_assert_int_eq(stor_meta_props_read(dir, &back, err, sizeof(err)), SL_ECORRUPT);
	ck_assert_str_eq(err, "cluster.id was not found.");
	write_text(path, "version=0\nbroker.id=3\n");
	ck_assert_int_eq(stor_meta_props_read(dir, &back, err, sizeof(err)), SL_OK);
	ck_assert_int_eq(back.version, 0);
	ck_assert_int_eq(back.node_id, 3);
	unlink(path);
	ck_assert_int_eq(stor_meta_props_read(dir, &back, err, sizeof(err)), SL_ENOENT);

	/* Checkpoint files: only valid batches are written; corruption is found on read. */
	snprintf(path, sizeof(path), "%s/x.checkpoint", dir);
	const uint8_t junk[70] = {0};
	ck_assert_int_eq(stor_checkpoint_write(path, junk, sizeof(junk), err, sizeof(err)),
	                 SL_EINVAL);
	struct sl_buf b;
	sl_buf_init(&b, 1 << 20);
	struct stor_batch_params p;
	stor_batch_params_init(&p, 0);
	struct stor_record_in rec;
	memset(&rec, 0, sizeof(rec));
	ck_assert_int_eq(stor_batch_build(&b, &p, &rec, 1), SL_OK);
	ck_assert_int_eq(stor_checkpoint_write(path, b.data, b.len, err, sizeof(err)), SL_OK);
	struct sl_buf in;
	sl_buf_init(&in, 1 << 20);
	ck_assert_int_eq(stor_checkpoint_read(path, &in, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(in.len, b.len);
	ck_assert_mem_eq(in.data, b.data, b.len);
	b.data[b.len - 1] ^= 0xff;
	write_text(path, "");
	FILE *f = fopen(path, "wb");
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	sl_buf_reset(&in);
	ck_assert_int_eq(stor_checkpoint_read(path, &in, err, sizeof(err)), SL_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "invalid batch at byte 0"));
	sl_buf_free(&in);
	/* An empty file is an empty sequence of batches, also into a buffer that never
	 * allocated (data NULL: NULL + 0 was undefined behaviour, reported by clang's UBSan). */
	write_text(path, "");
	struct sl_buf fresh;
	sl_buf_init(&fresh, 1 << 20);
	ck_assert_int_eq(stor_checkpoint_read(path, &fresh, err, sizeof(err)), SL_OK);
	ck_assert_uint_eq(fresh.len, 0);
	sl_buf_free(&fresh);
	sl_buf_free(&b);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("format");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format_basic);
	tcase_add_test(tc, test_format_features);
	tcase_add_test(tc, test_format_already_formatted);
	tcase_add_test(tc, test_format_errors);
	tcase_add_test(tc, test_format_standalone);
	tcase_add_test(tc, test_format_initial_controllers);
	tcase_add_test(tc, test_dirs_verify);
	tcase_add_test(tc, test_info_problems);
	tcase_add_test(tc, test_meta_props_and_checkpoint_files);
	suite_add_tcase(s, tc);
	return s;
}
