/*
 * metadata_cmd.c: `sluice metadata dump`: prints the metadata log (`__cluster_metadata-0`
 * segments), its snapshots and bootstrap.checkpoint in readable form, offline (the node
 * should be stopped; files are only read).
 *
 * Output: per file a "== <path> (<kind>)" line; per batch a line with base offset, last
 * offset, epoch, record count, control/data and timestamp; per record an indented line with
 * its offset and meta_record_format / meta_control_record_format text. Files are untrusted:
 * a bad batch stops that file with "error: <path>: ..." on stderr, the other files are still
 * printed, and the exit code is 1.
 */
#include "tools.h"

#include "config.h"
#include "metadata.h"
#include "snapshot.h"
#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DUMP_BATCH_MAX (RAFT_BATCH_BYTES_MAX + (1u << 20))
#define DUMP_FILES_MAX 100000

struct dump {
	struct sl_buf line;
	struct sl_arena arena;
	struct sl_buf batch;
	int failures;
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice metadata dump [--metadata-dir DIR | -c FILE] [--snapshots-only |\n"
	        "                            --log-only] [FILE...]\n"
	        "\n"
	        "Prints the KRaft metadata log: every batch (offsets, epoch, records, control or\n"
	        "data, timestamp) and every record of bootstrap.checkpoint, the snapshots\n"
	        "(__cluster_metadata-0/*.checkpoint) and the log segments (*.log) of the metadata\n"
	        "directory. Run it while the node is stopped.\n"
	        "\n"
	        "  --metadata-dir DIR   the metadata.log.dir to read\n"
	        "  -c, --config FILE    take metadata.log.dir (else log.dirs[0]) from FILE\n"
	        "  --snapshots-only     only bootstrap.checkpoint and the snapshots\n"
	        "  --log-only           only the log segments\n"
	        "  FILE...              dump these files instead (*.checkpoint: snapshot format,\n"
	        "                       anything else: log segment)\n");
}

/* ---- one batch ---------------------------------------------------------------------------- */

static void print_batch(struct dump *d, const struct stor_batch_view *v)
{
	struct stor_record_iter it;
	struct stor_record rec;
	bool control = stor_batch_is_control(v);

	printf("batch baseOffset=%" PRId64 " lastOffset=%" PRId64 " epoch=%" PRId32
	       " records=%" PRId32 " %s timestamp=%" PRId64 " size=%zu\n",
	       v->h.base_offset, v->h.base_offset + v->h.last_offset_delta,
	       v->h.partition_leader_epoch, v->h.record_count, control ? "control" : "data",
	       v->h.max_timestamp, v->size);
	stor_record_iter_init(&it, v);
	while (stor_record_next(&it, &rec) == SL_OK) {
		int16_t type;

		sl_buf_reset(&d->line);
		sl_arena_reset(&d->arena);
		if (!control)
			meta_record_format(&d->line, rec.value, (size_t)SL_MAX(0, rec.value_len),
			                   &d->arena);
		else if (stor_control_key_parse(&rec, &type) != SL_OK)
			sl_buf_printf(&d->line, "<bad control record key>");
		else
			meta_control_record_format(&d->line, type, rec.value,
			                           (size_t)SL_MAX(0, rec.value_len), &d->arena);
		if (sl_buf_err(&d->line) != SL_OK) {
			sl_buf_reset(&d->line);
			sl_buf_printf(&d->line, "<record too large to print>");
		}
		printf("  offset=%" PRId64 " %.*s\n", v->h.base_offset + rec.offset_delta,
		       (int)d->line.len, (const char *)d->line.data);
	}
}

/* ---- snapshots ------------------------------------------------------------------------------ */

static enum sl_err snapshot_batch(void *ctx, const struct stor_batch_view *v, char *err,
                                  size_t err_len)
{
	(void)err;
	(void)err_len;
	print_batch(ctx, v);
	return SL_OK;
}

static void dump_snapshot(struct dump *d, const char *path)
{
	struct raft_snapshot_info info;
	char err[1200];

	printf("== %s (snapshot)\n", path);
	if (raft_snapshot_read_batches(path, snapshot_batch, d, &info, err, sizeof(err)) != SL_OK) {
		fflush(stdout);
		fprintf(stderr, "error: %s\n", err);
		d->failures++;
		return;
	}
	printf("end: %" PRId64 " data records, lastContainedLogTimestamp=%" PRId64 ", %" PRId64
	       " bytes\n",
	       info.data_records, info.last_contained_timestamp, info.size);
}

/* ---- log segments ---------------------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0)
			return false;
	}
	return true;
}

static bool read_at(int fd, uint8_t *p, size_t n, int64_t at)
{
	while (n > 0) {
		ssize_t k = pread(fd, p, n, (off_t)at);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
		at += k;
	}
	return true;
}

/* The next batch at pos into d->batch and v; NULL error text on success, "" at a clean end. */
static const char *segment_batch(struct dump *d, int fd, int64_t pos, int64_t size,
                                 struct stor_batch_view *v)
{
	uint8_t head[STOR_BATCH_LOG_OVERHEAD];
	size_t n, used;
	enum sl_err e;

	if (size - pos < STOR_BATCH_LOG_OVERHEAD)
		return "truncated batch";
	if (!read_at(fd, head, sizeof(head), pos))
		return "read error";
	if (all_zero(head, sizeof(head)))
		return ""; /* preallocated / zero tail */
	if (stor_batch_peek_size(head, sizeof(head), &n) != SL_OK)
		return "bad batch length";
	if (n > DUMP_BATCH_MAX)
		return "batch length over the limit";
	if ((int64_t)n > size - pos)
		return "truncated batch";
	sl_buf_reset(&d->batch);
	if (sl_buf_extend(&d->batch, n) == NULL)
		return "out of memory";
	if (!read_at(fd, d->batch.data, n, pos))
		return "read error";
	e = stor_batch_parse(d->batch.data, n, v, &used);
	if (e == SL_ECORRUPT)
		return "CRC mismatch";
	if (e == SL_EUNSUPPORTED)
		return "compressed batch or magic not 2";
	return e == SL_OK ? NULL : "malformed batch";
}

static void dump_segment(struct dump *d, const char *path)
{
	struct stat st;
	int64_t pos = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	printf("== %s (log segment)\n", path);
	if (fd < 0 || fstat(fd, &st) != 0) {
		fflush(stdout);
		fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		d->failures++;
		return;
	}
	while (pos < st.st_size) {
		struct stor_batch_view v;
		const char *why = segment_batch(d, fd, pos, st.st_size, &v);

		if (why != NULL && why[0] == '\0')
			break;
		if (why != NULL) {
			fflush(stdout);
			fprintf(stderr, "error: %s: %s at byte %" PRId64 "\n", path, why, pos);
			d->failures++;
			break;
		}
		print_batch(d, &v);
		pos += (int64_t)v.size;
	}
	close(fd);
}

/* ---- the metadata directory ------------------------------------------------------------------ */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Sorted names in dir ending with suffix (names are zero-padded: sorted = by offset). */
static char **list_names(const char *dir, const char *suffix, size_t *count)
{
	DIR *dd = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	*count = 0;
	if (dd == NULL)
		return NULL;
	while ((de = readdir(dd)) != NULL && n < DUMP_FILES_MAX) {
		if (!ends_with(de->d_name, suffix) || de->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t nc = SL_MAX((size_t)16, cap * 2);
			char **g = realloc(names, nc * sizeof(*g));

			if (g == NULL)
				break;
			names = g;
			cap = nc;
		}
		names[n] = strdup(de->d_name);
		if (names[n] != NULL)
			n++;
	}
	closedir(dd);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	*count = n;
	return names;
}

static void dump_listed(struct dump *d, const char *dir, const char *suffix, bool snapshots)
{
	size_t n;
	char **names = list_names(dir, suffix, &n);
	char path[NODE_PATH_MAX + 300];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (snapshots)
			dump_snapshot(d, path);
		else
			dump_segment(d, path);
		free(names[i]);
	}
	free(names);
}

static int dump_dir(struct dump *d, const char *mdir, bool snapshots, bool log)
{
	char part[NODE_PATH_MAX + 64], boot[NODE_PATH_MAX + 64];
	struct stat st;

	snprintf(part, sizeof(part), "%s/%s", mdir, STOR_METADATA_PARTITION_DIR);
	snprintf(boot, sizeof(boot), "%s/%s", mdir, STOR_BOOTSTRAP_CHECKPOINT_NAME);
	if (stat(mdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "error: %s: not a directory\n", mdir);
		return 1;
	}
	if (snapshots && stat(boot, &st) == 0)
		dump_snapshot(d, boot);
	if (stat(part, &st) != 0) {
		printf("(no %s in %s: the metadata log was never started)\n",
		       STOR_METADATA_PARTITION_DIR, mdir);
		return d->failures > 0 ? 1 : 0;
	}
	if (snapshots)
		dump_listed(d, part, RAFT_SNAPSHOT_SUFFIX, true);
	if (log)
		dump_listed(d, part, ".log", false);
	return d->failures > 0 ? 1 : 0;
}

static int metadata_dir_from_config(const char *config, char *out, size_t out_len)
{
	struct node_config *c = calloc(1, sizeof(*c));
	struct node_config_warnings *w = calloc(1, sizeof(*w));
	char err[1024];
	enum sl_err e = SL_ENOMEM;

	if (c != NULL && w != NULL)
		e = node_config_load(config, NULL, 0, c, w, err, sizeof(err));
	if (e == SL_OK)
		snprintf(out, out_len, "%s", c->metadata_log_dir);
	else
		fprintf(stderr, "error: %s: %s\n", config, e == SL_ENOMEM ? "out of memory" : err);
	free(c);
	free(w);
	return e == SL_OK ? -1 : 1;
}

/* ---- options ----------------------------------------------------------------------------------
 */

enum { OPT_DIR = 1000, OPT_SNAPSHOTS_ONLY, OPT_LOG_ONLY };

struct dump_opts {
	const char *dir;
	const char *config;
	bool snapshots_only;
	bool log_only;
};

static int parse_opts(int argc, char **argv, struct dump_opts *o)
{
	static const struct option longs[] = {
	        {"metadata-dir", required_argument, NULL, OPT_DIR},
	        {"config", required_argument, NULL, 'c'},
	        {"snapshots-only", no_argument, NULL, OPT_SNAPSHOTS_ONLY},
	        {"log-only", no_argument, NULL, OPT_LOG_ONLY},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:h", longs, NULL)) != -1) {
		if (opt == OPT_DIR)
			o->dir = optarg;
		else if (opt == 'c')
			o->config = optarg;
		else if (opt == OPT_SNAPSHOTS_ONLY)
			o->snapshots_only = true;
		else if (opt == OPT_LOG_ONLY)
			o->log_only = true;
		else if (opt == 'h') {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "sluice metadata dump: %s option '%s'\n",
			        opt == ':' ? "missing value for" : "unknown", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if ((o->dir && o->config) || (o->snapshots_only && o->log_only)) {
		fprintf(stderr, "sluice metadata dump: --metadata-dir and -c, and --snapshots-only "
		                "and --log-only, exclude each other\n");
		return 2;
	}
	if (!o->dir && !o->config && optind >= argc) {
		fprintf(stderr,
		        "sluice metadata dump: give --metadata-dir DIR, -c FILE or files\n");
		usage(stderr);
		return 2;
	}
	return -1;
}

static int dump_main(int argc, char **argv)
{
	struct dump_opts o = {0};
	struct dump d = {0};
	char mdir[NODE_PATH_MAX];
	int rc = parse_opts(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (o.config != NULL && (rc = metadata_dir_from_config(o.config, mdir, sizeof(mdir))) >= 0)
		return rc;
	if (o.dir != NULL)
		snprintf(mdir, sizeof(mdir), "%s", o.dir);
	sl_buf_init(&d.line, 64u << 20);
	sl_buf_init(&d.batch, DUMP_BATCH_MAX);
	sl_arena_init(&d.arena, 1u << 16, 256u << 20);
	if (o.dir != NULL || o.config != NULL)
		rc = dump_dir(&d, mdir, !o.log_only, !o.snapshots_only);
	for (int i = optind; i < argc; i++) {
		if (ends_with(argv[i], RAFT_SNAPSHOT_SUFFIX) ||
		    ends_with(argv[i], ".checkpoint.part"))
			dump_snapshot(&d, argv[i]);
		else
			dump_segment(&d, argv[i]);
	}
	if (rc < 0 || rc == 0)
		rc = d.failures > 0 ? 1 : 0;
	sl_buf_free(&d.line);
	sl_buf_free(&d.batch);
	sl_arena_free(&d.arena);
	fflush(stdout);
	return rc;
}

int tools_metadata_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "dump") == 0)
		return dump_main(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "sluice metadata: expected the sub-command 'dump'\n");
	usage(stderr);
	return 2;
}
