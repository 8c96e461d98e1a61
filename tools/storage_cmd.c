/*
 * storage_cmd.c: `sluice storage random-uuid | format | info` (Kafka's kafka-storage.sh:
 * StorageTool and Formatter; kraft.md §1).
 *
 * format writes, into every not yet formatted dir of log.dirs ∪ metadata.log.dir (sorted):
 * bootstrap.checkpoint (SnapshotHeader control batch, FeatureLevelRecord data batch,
 * SnapshotFooter control batch), with --standalone / --initial-controllers the bootstrap
 * snapshot __cluster_metadata-0/00000000000000000000-0000000000.checkpoint in the metadata
 * dir, and last meta.properties (so a dir counts as formatted only once everything else is
 * durable). Nothing is written when any check fails. Messages follow Kafka's wording; errors
 * go to stderr; exit code 0 success, 1 failure, 2 usage error.
 */
#include "storage.h"
#include "storage_int.h"
#include "tools.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FEATURES 16
#define MAX_OVERRIDES 64
#define EXIT_USAGE 2

/* ---- options ------------------------------------------------------------------------- */

struct format_opts {
	const char *config;
	const char *cluster_id;
	const char *release;
	bool ignore_formatted;
	bool standalone;
	bool no_initial_controllers;
	const char *initial_controllers;
	const char *features[MAX_FEATURES];
	size_t feature_count;
	struct node_override overrides[MAX_OVERRIDES];
	size_t override_count;
};

enum opt_id {
	OPT_CONFIG,
	OPT_CLUSTER_ID,
	OPT_IGNORE,
	OPT_STANDALONE,
	OPT_INITIAL,
	OPT_NO_INITIAL,
	OPT_RELEASE,
	OPT_FEATURE,
	OPT_OVERRIDE,
};

struct opt_def {
	const char *lng;
	char shrt;
	bool has_arg;
	enum opt_id id;
};

static const struct opt_def format_options[] = {
        {"config", 'c', true, OPT_CONFIG},
        {"cluster-id", 't', true, OPT_CLUSTER_ID},
        {"ignore-formatted", 'g', false, OPT_IGNORE},
        {"standalone", 's', false, OPT_STANDALONE},
        {"initial-controllers", 'I', true, OPT_INITIAL},
        {"no-initial-controllers", 'N', false, OPT_NO_INITIAL},
        {"release-version", 'r', true, OPT_RELEASE},
        {"feature", 'f', true, OPT_FEATURE},
        {"override", 0, true, OPT_OVERRIDE},
};

static void usage_main(FILE *out)
{
	fprintf(out, "usage: sluice storage <command> [options]\n"
	             "\n"
	             "commands:\n"
	             "  random-uuid   print a new random cluster id\n"
	             "  format        format the log directories of a node\n"
	             "  info          describe the log directories of a node\n"
	             "\n"
	             "Run `sluice storage <command> --help` for a command's options.\n");
}

static void usage_random_uuid(FILE *out)
{
	fprintf(out,
	        "usage: sluice storage random-uuid\n"
	        "\n"
	        "Prints a random Kafka Uuid (22 base64url characters) to use as cluster id.\n");
}

static void usage_format(FILE *out)
{
	fprintf(out,
	        "usage: sluice storage format -c FILE -t CLUSTER_ID [options]\n"
	        "\n"
	        "Writes meta.properties and bootstrap.checkpoint into every directory of\n"
	        "log.dirs and metadata.log.dir.\n"
	        "\n"
	        "  -c, --config FILE               server properties file (required)\n"
	        "  -t, --cluster-id ID             cluster id (required; -t=ID if it starts with "
	        "-)\n"
	        "  -g, --ignore-formatted          skip directories that are already formatted\n"
	        "  -r, --release-version V         initial metadata.version, e.g. 3.9 or 3.9-IV0\n"
	        "                                  (default 4.0-IV0)\n"
	        "  -f, --feature NAME=LEVEL        initial feature level (repeatable): "
	        "group.version,\n"
	        "                                  kraft.version, transaction.version,\n"
	        "                                  metadata.version (not with -r)\n"
	        "  -s, --standalone                a one-voter dynamic quorum of this controller\n"
	        "  -I, --initial-controllers LIST  dynamic quorum: id@host:port:directoryId,...\n"
	        "  -N, --no-initial-controllers    dynamic quorum member added later\n"
	        "      --override KEY=VALUE        override a configuration key (repeatable)\n"
	        "  -h, --help                      show this help\n");
}

static void usage_info(FILE *out)
{
	fprintf(out,
	        "usage: sluice storage info -c FILE [--override KEY=VALUE]...\n"
	        "\n"
	        "Describes the directories of log.dirs and metadata.log.dir: whether they are\n"
	        "formatted and with which cluster id, node id and directory id. Exits 1 if a\n"
	        "problem is found.\n");
}

static int usage_error(const char *cmd, const char *fmt, ...) SL_PRINTF(2, 3);
static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sluice storage %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nRun `sluice storage %s --help` for usage.\n", cmd);
	va_end(ap);
	return EXIT_USAGE;
}

static enum sl_err opt_store(struct format_opts *o, enum opt_id id, const char *v)
{
	switch (id) {
	case OPT_CONFIG:
		o->config = v;
		break;
	case OPT_CLUSTER_ID:
		o->cluster_id = v;
		break;
	case OPT_IGNORE:
		o->ignore_formatted = true;
		break;
	case OPT_STANDALONE:
		o->standalone = true;
		break;
	case OPT_INITIAL:
		o->initial_controllers = v;
		break;
	case OPT_NO_INITIAL:
		o->no_initial_controllers = true;
		break;
	case OPT_RELEASE:
		o->release = v;
		break;
	case OPT_FEATURE:
		if (o->feature_count == MAX_FEATURES)
			return SL_ELIMIT;
		o->features[o->feature_count++] = v;
		break;
	case OPT_OVERRIDE: {
		char err[256];
		if (o->override_count == MAX_OVERRIDES)
			return SL_ELIMIT;
		if (node_override_parse(v, &o->overrides[o->override_count], err, sizeof(err)) !=
		    SL_OK)
			return SL_EINVAL;
		o->override_count++;
		break;
	}
	}
	return SL_OK;
}

static const struct opt_def *opt_find(const struct opt_def *defs, size_t n, const char *lng,
                                      size_t lng_len, char shrt)
{
	for (size_t i = 0; i < n; i++) {
		if (lng != NULL && strlen(defs[i].lng) == lng_len &&
		    strncmp(defs[i].lng, lng, lng_len) == 0)
			return &defs[i];
		if (lng == NULL && shrt != 0 && defs[i].shrt == shrt)
			return &defs[i];
	}
	return NULL;
}

/* Parses argv[2..] against defs. Returns -1 to continue, else an exit code. */
static int parse_opts(const char *cmd, int argc, char **argv, const struct opt_def *defs,
                      size_t ndefs, struct format_opts *o, void (*usage)(FILE *))
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		const struct opt_def *d = NULL;
		const char *val = NULL;
		if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
			const char *eq = strchr(a + 2, '=');
			size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			d = opt_find(defs, ndefs, a + 2, n, 0);
			val = eq ? eq + 1 : NULL;
		} else if (a[0] == '-' && a[1] != '\0') {
			d = opt_find(defs, ndefs, NULL, 0, a[1]);
			if (a[2] != '\0')
				val = a[2] == '=' ? a + 3 : a + 2;
		}
		if (d == NULL)
			return usage_error(cmd, "unrecognized argument '%s'", a);
		if (!d->has_arg && val != NULL)
			return usage_error(cmd, "option '%s' takes no value", a);
		if (d->has_arg && val == NULL) {
			if (i + 1 >= argc)
				return usage_error(cmd, "option '%s' needs a value", a);
			val = argv[++i];
		}
		enum sl_err e = opt_store(o, d->id, val);
		if (e == SL_ELIMIT)
			return usage_error(cmd, "too many '%s' options", a);
		if (e != SL_OK)
			return usage_error(cmd, "invalid --override '%s': expected KEY=VALUE", val);
	}
	return -1;
}

/* ---- random-uuid ------------------------------------------------------------------------ */

static int cmd_random_uuid(int argc, char **argv)
{
	if (argc > 2) {
		if (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
			usage_random_uuid(stdout);
			return 0;
		}
		return usage_error("random-uuid", "unrecognized argument '%s'", argv[2]);
	}
	struct sl_uuid u;
	if (sl_uuid_random(&u) != SL_OK) {
		fprintf(stderr, "cannot get random bytes from the kernel\n");
		return 1;
	}
	char s[SL_UUID_STR_LEN + 1];
	sl_uuid_to_str(&u, s);
	printf("%s\n", s);
	return 0;
}

/* ---- config loading -------------------------------------------------------------------- */

/* Loads the config; a missing process.roles gets Kafka's "legacy cluster" message. Returns
 * -1 to continue, else an exit code. */
static int load_config(const struct format_opts *o, struct node_config *c, bool formatting)
{
	struct sl_props raw = {0};
	char err[1024];
	if (sl_props_load(o->config, &raw, err, sizeof(err)) == SL_OK) {
		const char *roles = sl_props_get(&raw, "process.roles");
		for (size_t i = 0; i < o->override_count; i++) {
			size_t n = o->overrides[i].key_len ? o->overrides[i].key_len
			                                   : strlen(o->overrides[i].key);
			if (n == 13 && strncmp(o->overrides[i].key, "process.roles", 13) == 0)
				roles = o->overrides[i].value;
		}
		bool legacy = roles == NULL || strspn(roles, " \t,") == strlen(roles);
		sl_props_free(&raw);
		if (legacy) {
			fprintf(stderr,
			        "The configuration file appears to be for a legacy cluster. "
			        "%s only supported for clusters in KRaft mode.\n",
			        formatting ? "Formatting is" : "Sluice is");
			return 1;
		}
	} else {
		sl_props_free(&raw);
	}
	struct node_config_warnings *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return 1;
	enum sl_err e = node_config_load(o->config, o->overrides, o->override_count, c, w, err,
	                                 sizeof(err));
	for (size_t i = 0; i < w->count; i++)
		fprintf(stderr, "WARN %s\n", w->text[i]);
	free(w);
	if (e != SL_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return -1;
}

/* ---- format ---------------------------------------------------------------------------- */

struct format_plan {
	const struct format_opts *o;
	const struct node_config *c;
	struct tools_features f;
	bool dynamic;
	struct tools_voters dv;
	struct node_dir_ensemble ens;
	struct sl_buf bootstrap;
	struct sl_buf snapshot;
};

/* --standalone: this controller alone, at its first advertised controller listener. */
static int standalone_voter(struct format_plan *p)
{
	const struct node_config *c = p->c;
	if ((c->roles & NODE_ROLE_CONTROLLER) == 0) {
		fprintf(stderr, "You can only use --standalone on a controller.\n");
		return 1;
	}
	const struct node_listener *l = NULL;
	for (size_t i = 0; i < c->advertised_count && l == NULL; i++) {
		if (c->advertised[i].is_controller)
			l = &c->advertised[i];
	}
	if (l == NULL) {
		fprintf(stderr, "No controller listeners found.\n");
		return 1;
	}
	struct tools_voter *v = &p->dv.v[0];
	v->id = c->node_id;
	snprintf(v->host, sizeof(v->host), "%s", l->host[0] != '\0' ? l->host : "localhost");
	v->port = l->port;
	if (sl_uuid_random(&v->dir) != SL_OK) {
		fprintf(stderr, "cannot get random bytes from the kernel\n");
		return 1;
	}
	p->dv.count = 1;
	return -1;
}

static int plan_quorum(struct format_plan *p)
{
	const struct format_opts *o = p->o;
	const struct node_config *c = p->c;
	int rc = -1;
	if (o->standalone)
		rc = standalone_voter(p);
	else if (o->initial_controllers != NULL)
		rc = tools_voters_parse(o->initial_controllers, &p->dv);
	if (rc >= 0)
		return rc;
	p->dynamic = o->standalone || o->initial_controllers != NULL;
	if (p->dynamic && c->voter_count > 0) {
		fprintf(stderr,
		        "--standalone and --initial-controllers set up a dynamic quorum and "
		        "cannot be used when controller.quorum.voters (a static quorum) is "
		        "set; use controller.quorum.bootstrap.servers instead.\n");
		return 1;
	}
	if ((c->roles & NODE_ROLE_CONTROLLER) && c->voter_count == 0 && !p->dynamic &&
	    !o->no_initial_controllers) {
		fprintf(stderr,
		        "Because controller.quorum.voters is not set on this controller, you "
		        "must specify one of the following: --standalone, "
		        "--initial-controllers, or --no-initial-controllers.\n");
		return 1;
	}
	return -1;
}

/* Checks the existing meta.properties files (Formatter.doFormat). */
static int plan_dirs(struct format_plan *p)
{
	const char *dirs[NODE_MAX_DIRS + 1];
	size_t n = node_config_all_dirs(p->c, dirs, SL_ARRAY_LEN(dirs));
	struct node_dir_ensemble *ens = &p->ens;
	node_dir_ensemble_load(ens, dirs, n);
	char err[1024];
	for (size_t i = 0; i < n; i++) {
		if (ens->status[i] == NODE_DIR_CORRUPT) {
			fprintf(stderr, "Error loading %s/%s: %s\n", ens->dirs[i],
			        STOR_META_PROPERTIES_NAME, ens->error[i]);
			return 1;
		}
	}
	if (node_dir_ensemble_verify(ens, p->o->cluster_id, p->c->node_id, err, sizeof(err)) !=
	    SL_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	size_t empty = 0, formatted = 0;
	for (size_t i = 0; i < n; i++) {
		if (ens->status[i] == NODE_DIR_FORMATTED && formatted++ == 0 &&
		    !p->o->ignore_formatted) {
			fprintf(stderr,
			        "Log directory %s is already formatted. Use --ignore-formatted "
			        "to ignore this directory and format the others.\n",
			        ens->dirs[i]);
			return 1;
		}
		empty += ens->status[i] == NODE_DIR_EMPTY;
	}
	for (size_t i = 0; i < n; i++) {
		if (ens->status[i] == NODE_DIR_ERROR)
			printf("I/O error trying to read log directory %s. Ignoring...\n",
			       ens->dirs[i]);
	}
	if (empty == 0 && formatted == 0) {
		fprintf(stderr, "No available log directories to format.\n");
		return 1;
	}
	if (empty == 0) {
		printf("All of the log directories are already formatted.\n");
		return 0;
	}
	return -1;
}

/* A random directory id used by no dir of the ensemble and no initial controller. */
static enum sl_err new_directory_id(const struct format_plan *p, struct sl_uuid *out)
{
	for (;;) {
		enum sl_err e = sl_uuid_random(out);
		if (e != SL_OK)
			return e;
		bool used = false;
		for (size_t i = 0; i < p->ens.count; i++)
			used = used || (p->ens.props[i].has_directory_id &&
			                sl_uuid_eq(&p->ens.props[i].directory_id, out));
		for (size_t i = 0; i < p->dv.count; i++)
			used = used || sl_uuid_eq(&p->dv.v[i].dir, out);
		if (!used)
			return SL_OK;
	}
}

static int write_file(const char *dir, const char *sub, const char *name, const struct sl_buf *b)
{
	char path[NODE_PATH_MAX + 128];
	char err[1024];
	snprintf(path, sizeof(path), "%s%s%s/%s", dir, sub ? "/" : "", sub ? sub : "", name);
	if (stor_checkpoint_write(path, b->data, b->len, err, sizeof(err)) != SL_OK) {
		fprintf(stderr, "Error while writing %s: %s\n", path, err);
		return 1;
	}
	return -1;
}

/* Formats one empty dir: bootstrap.checkpoint, snapshot (dynamic metadata dir), then
 * meta.properties last. */
static int format_dir(struct format_plan *p, size_t i)
{
	const char *dir = p->ens.dirs[i];
	bool meta = strcmp(dir, p->c->metadata_log_dir) == 0;
	const struct tools_voter *self =
	        p->dynamic ? tools_voters_find(&p->dv, p->c->node_id) : NULL;
	const char *type = !meta          ? "data directory"
	                   : !p->dynamic  ? "metadata directory"
	                   : self != NULL ? "dynamic metadata voter directory"
	                                  : "dynamic metadata directory";
	struct stor_meta_props mp;
	memset(&mp, 0, sizeof(mp));
	mp.version = 1;
	mp.has_cluster_id = true;
	snprintf(mp.cluster_id, sizeof(mp.cluster_id), "%s", p->o->cluster_id);
	mp.has_node_id = true;
	mp.node_id = p->c->node_id;
	mp.has_directory_id = true;
	if (meta && self != NULL)
		mp.directory_id = self->dir;
	else if (new_directory_id(p, &mp.directory_id) != SL_OK)
		return 1;
	printf("Formatting %s %s with metadata.version %s.\n", type, dir, p->f.mv->name);
	fflush(stdout);
	char err[1024];
	if (stor_mkdirs(dir, err, sizeof(err)) != SL_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int rc = write_file(dir, NULL, STOR_BOOTSTRAP_CHECKPOINT_NAME, &p->bootstrap);
	if (rc < 0 && meta && p->dynamic) {
		char sub[NODE_PATH_MAX + 64];
		snprintf(sub, sizeof(sub), "%s/%s", dir, STOR_METADATA_PARTITION_DIR);
		if (stor_mkdirs(sub, err, sizeof(err)) != SL_OK) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		rc = write_file(dir, STOR_METADATA_PARTITION_DIR, STOR_BOOTSTRAP_SNAPSHOT_NAME,
		                &p->snapshot);
	}
	if (rc >= 0)
		return rc;
	if (stor_meta_props_write(dir, &mp, err, sizeof(err)) != SL_OK) {
		fprintf(stderr, "Error while writing meta.properties file %s: %s\n", dir, err);
		return 1;
	}
	/* Only a freshly formatted dir can take an id now; keep later ids unique. */
	p->ens.props[i] = mp;
	return -1;
}

static int format_run(struct format_plan *p)
{
	const struct format_opts *o = p->o;
	if (o->cluster_id[0] == '\0' || strlen(o->cluster_id) >= STOR_CLUSTER_ID_MAX) {
		fprintf(stderr, "The cluster id must be 1 to %d bytes long.\n",
		        STOR_CLUSTER_ID_MAX - 1);
		return 1;
	}
	int rc = plan_quorum(p);
	if (rc < 0)
		rc = tools_features_resolve(o->features, o->feature_count, o->release, p->c,
		                            p->dynamic, &p->f);
	if (rc < 0)
		rc = plan_dirs(p);
	if (rc >= 0)
		return rc;
	int64_t now = sl_wall_ms();
	enum sl_err e = tools_bootstrap_build(&p->bootstrap, &p->f, now);
	if (e == SL_OK && p->dynamic)
		e = tools_snapshot_build(&p->snapshot, &p->dv, p->c->controller_listener_names[0],
		                         tools_features_kraft_version(&p->f), now);
	if (e != SL_OK) {
		fprintf(stderr, "Cannot build the bootstrap records: %s\n", sl_err_msg(e));
		return 1;
	}
	for (size_t i = 0; i < p->ens.count; i++) {
		if (p->ens.status[i] != NODE_DIR_EMPTY)
			continue;
		rc = format_dir(p, i);
		if (rc >= 0)
			return rc;
	}
	return 0;
}

static int cmd_format(int argc, char **argv)
{
	struct format_opts o;
	memset(&o, 0, sizeof(o));
	int rc = parse_opts("format", argc, argv, format_options, SL_ARRAY_LEN(format_options), &o,
	                    usage_format);
	if (rc >= 0)
		return rc;
	if (o.config == NULL)
		return usage_error("format", "the option %s is required", "--config/-c");
	if (o.cluster_id == NULL)
		return usage_error("format", "the option %s is required", "--cluster-id/-t");
	if (o.standalone + (o.initial_controllers != NULL) + o.no_initial_controllers > 1)
		return usage_error(
		        "format", "%s are mutually exclusive",
		        "--standalone, --initial-controllers and --no-initial-controllers");
	struct node_config *c = calloc(1, sizeof(*c));
	struct format_plan *p = calloc(1, sizeof(*p));
	if (c == NULL || p == NULL) {
		free(c);
		free(p);
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	rc = load_config(&o, c, true);
	if (rc < 0) {
		p->o = &o;
		p->c = c;
		sl_buf_init(&p->bootstrap, STOR_CHECKPOINT_MAX_BYTES);
		sl_buf_init(&p->snapshot, STOR_CHECKPOINT_MAX_BYTES);
		rc = format_run(p);
		sl_buf_free(&p->bootstrap);
		sl_buf_free(&p->snapshot);
	}
	free(p);
	free(c);
	return rc;
}

/* ---- info ------------------------------------------------------------------------------ */

struct info_report {
	char found[NODE_MAX_DIRS + 1][NODE_PATH_MAX];
	size_t found_count;
	char problems[2 * (NODE_MAX_DIRS + 1)][NODE_PATH_MAX + 600];
	size_t problem_count;
	bool have_meta;
	struct stor_meta_props meta;
};

static void info_problem(struct info_report *r, const char *fmt, ...) SL_PRINTF(2, 3);
static void info_problem(struct info_report *r, const char *fmt, ...)
{
	if (r->problem_count == SL_ARRAY_LEN(r->problems))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->problems[r->problem_count++], sizeof(r->problems[0]), fmt, ap);
	va_end(ap);
}

static void info_dir(struct info_report *r, const struct node_dir_ensemble *ens, size_t i)
{
	const char *dir = ens->dirs[i];
	struct stat st;
	if (stat(dir, &st) != 0) {
		info_problem(r, "%s does not exist", dir);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		info_problem(r, "%s is not a directory", dir);
		return;
	}
	snprintf(r->found[r->found_count++], sizeof(r->found[0]), "%s", dir);
	if (ens->status[i] == NODE_DIR_EMPTY) {
		info_problem(r, "%s is not formatted.", dir);
		return;
	}
	if (ens->status[i] != NODE_DIR_FORMATTED) {
		char path[NODE_PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/%s", dir, STOR_META_PROPERTIES_NAME);
		info_problem(r, "Error loading %s: %s", path, ens->error[i]);
		return;
	}
	const struct stor_meta_props *m = &ens->props[i];
	if (!r->have_meta) {
		r->meta = *m;
		r->have_meta = true;
	} else if (strcmp(r->meta.cluster_id, m->cluster_id) != 0 ||
	           r->meta.has_cluster_id != m->has_cluster_id) {
		info_problem(r, "Mismatched cluster IDs between storage directories.");
	} else if (r->meta.node_id != m->node_id || r->meta.has_node_id != m->has_node_id) {
		info_problem(r, "Mismatched node IDs between storage directories.");
	}
}

static void info_print(const struct info_report *r)
{
	if (r->found_count > 0) {
		printf("Found log director%s:\n", r->found_count == 1 ? "y" : "ies");
		for (size_t i = 0; i < r->found_count; i++)
			printf("  %s\n", r->found[i]);
		printf("\n");
	}
	if (r->have_meta) {
		char desc[1024];
		stor_meta_props_describe(&r->meta, desc, sizeof(desc));
		printf("Found metadata: %s\n\n", desc);
	}
	if (r->problem_count > 0) {
		printf("Found problem%s:\n", r->problem_count == 1 ? "" : "s");
		for (size_t i = 0; i < r->problem_count; i++)
			printf("  %s\n", r->problems[i]);
		printf("\n");
	}
}

static const struct opt_def info_options[] = {
        {"config", 'c', true, OPT_CONFIG},
        {"override", 0, true, OPT_OVERRIDE},
};

static int cmd_info(int argc, char **argv)
{
	struct format_opts o;
	memset(&o, 0, sizeof(o));
	int rc = parse_opts("info", argc, argv, info_options, SL_ARRAY_LEN(info_options), &o,
	                    usage_info);
	if (rc >= 0)
		return rc;
	if (o.config == NULL)
		return usage_error("info", "the option %s is required", "--config/-c");
	struct node_config *c = calloc(1, sizeof(*c));
	struct node_dir_ensemble *ens = calloc(1, sizeof(*ens));
	struct info_report *r = calloc(1, sizeof(*r));
	rc = c && ens && r ? load_config(&o, c, false) : 1;
	if (rc < 0) {
		const char *dirs[NODE_MAX_DIRS + 1];
		size_t n = node_config_all_dirs(c, dirs, SL_ARRAY_LEN(dirs));
		node_dir_ensemble_load(ens, dirs, n);
		for (size_t i = 0; i < n; i++)
			info_dir(r, ens, i);
		if (r->have_meta && r->meta.version == 0)
			info_problem(r,
			             "The configuration file appears to be for a cluster in KRaft "
			             "mode, but the directories are formatted for legacy mode.");
		info_print(r);
		rc = r->problem_count > 0 ? 1 : 0;
	}
	free(r);
	free(ens);
	free(c);
	return rc;
}

/* ---- entry point ----------------------------------------------------------------------- */

int tools_storage_main(int argc, char **argv)
{
	if (argc < 2) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		usage_main(stdout);
		return 0;
	}
	if (strcmp(sub, "random-uuid") == 0)
		return cmd_random_uuid(argc, argv);
	if (strcmp(sub, "format") == 0)
		return cmd_format(argc, argv);
	if (strcmp(sub, "info") == 0)
		return cmd_info(argc, argv);
	fprintf(stderr, "sluice storage: unknown command '%s'\n\n", sub);
	usage_main(stderr);
	return EXIT_USAGE;
}
