/*
 * storage_bootstrap.c: what `sluice storage format` writes besides meta.properties: the
 * metadata.version table and feature levels (kraft.md §1.2-1.3, §10), the dynamic voter list of
 * --initial-controllers (Kafka's DynamicVoter / DynamicVoters), and the bytes of
 * bootstrap.checkpoint and of the 0-0 bootstrap snapshot (kraft.md §1.4, §3.10, §4.1), built
 * with the shared snapshot writer raft/snapshot.h (same format as a KRaft snapshot).
 *
 * Errors are printed on stderr here (they are the CLI's messages); functions returning int
 * give -1 to continue or an exit code.
 */
#include "storage_int.h"

#include "metadata.h"
#include "snapshot.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_KEY_FEATURE_LEVEL 12

/* ---- metadata.version and features (kraft.md §10) -------------------------------------- */

static const struct tools_release releases[] = {
        {"3.0-IV1", 1, true},  {"3.1-IV0", 2, true},  {"3.2-IV0", 3, true},   {"3.3-IV0", 4, true},
        {"3.3-IV1", 5, true},  {"3.3-IV2", 6, true},  {"3.3-IV3", 7, true},   {"3.4-IV0", 8, true},
        {"3.5-IV0", 9, true},  {"3.5-IV1", 10, true}, {"3.5-IV2", 11, true},  {"3.6-IV0", 12, true},
        {"3.6-IV1", 13, true}, {"3.6-IV2", 14, true}, {"3.7-IV0", 15, true},  {"3.7-IV1", 16, true},
        {"3.7-IV2", 17, true}, {"3.7-IV3", 18, true}, {"3.7-IV4", 19, true},  {"3.8-IV0", 20, true},
        {"3.9-IV0", 21, true}, {"4.0-IV0", 22, true}, {"4.0-IV1", 23, false},
};
#define MV_MIN_BOOTSTRAP 4 /* 3.3-IV0 */
#define MV_LATEST_PRODUCTION 22

/* Other features: name, highest level, metadata.version level needed for level 1. */
struct feature_def {
	const char *name;
	int16_t max_level;
	int16_t min_mv_for_level1;
};

static const struct feature_def feature_defs[TOOLS_FEATURE_COUNT] = {
        {"group.version", 1, 22},
        {"kraft.version", 1, 0},
        {"transaction.version", 2, 0},
};

/* "3.9-IV0", or "3.9" = the last IV of that release. */
static const struct tools_release *release_by_name(const char *s)
{
	const struct tools_release *found = NULL;
	size_t n = strlen(s);
	for (size_t i = 0; i < SL_ARRAY_LEN(releases); i++) {
		const char *r = releases[i].name;
		if (strcmp(r, s) == 0)
			return &releases[i];
		if (strncmp(r, s, n) == 0 && r[n] == '-' && releases[i].production)
			found = &releases[i];
	}
	return found;
}

static const struct tools_release *release_by_level(int64_t level)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(releases); i++) {
		if (releases[i].level == level)
			return &releases[i];
	}
	return NULL;
}

/* ---- initial controllers (Kafka's DynamicVoter / DynamicVoters) -------------------------- */

static bool parse_int_range(const char *p, size_t n, long long min, long long max, long long *out)
{
	char buf[24];
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	char *end = NULL;
	long long v = strtoll(buf, &end, 10);
	if (*end != '\0' || buf[0] == ' ' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* One "id@host:port:dirUuid" (IPv6 host in brackets). Returns an error text or NULL. */
static const char *dyn_voter_parse(const char *s, size_t n, struct tools_voter *out)
{
	const char *at = memchr(s, '@', n);
	if (at == NULL)
		return "No @ found in dynamic voter string.";
	if (at == s)
		return "Invalid @ at beginning of dynamic voter string.";
	long long id;
	if (!parse_int_range(s, (size_t)(at - s), INT32_MIN, INT32_MAX, &id))
		return "Failed to parse node id in dynamic voter string.";
	if (id < 0)
		return "Invalid negative node id in dynamic voter string.";
	const char *p = at + 1, *end = s + n;
	if (p == end)
		return "No hostname found after node id.";
	const char *host = p, *host_end;
	if (*p == '[') {
		host_end = memchr(p, ']', (size_t)(end - p));
		if (host_end == NULL)
			return "Hostname began with left bracket, but no right bracket was found.";
		host = p + 1;
		p = host_end + 1;
	} else {
		host_end = memchr(p, ':', (size_t)(end - p));
		if (host_end == NULL)
			return "No colon following hostname could be found.";
		p = host_end;
	}
	if (p == end || *p != ':')
		return "Port section must start with a colon.";
	p++;
	const char *colon = memchr(p, ':', (size_t)(end - p));
	if (colon == NULL)
		return "No colon following port could be found.";
	long long port;
	if (!parse_int_range(p, (size_t)(colon - p), INT32_MIN, INT32_MAX, &port))
		return "Failed to parse port in dynamic voter string.";
	if (port < 0 || port > 65535)
		return "Invalid port in dynamic voter string.";
	if ((size_t)(host_end - host) >= sizeof(out->host) || host_end == host)
		return "Invalid hostname in dynamic voter string.";
	if (sl_uuid_parse(colon + 1, (size_t)(end - colon - 1), &out->dir) != SL_OK)
		return "Failed to parse directory ID in dynamic voter string.";
	if (sl_uuid_is_reserved(&out->dir))
		return "Reserved directory ID in dynamic voter string.";
	out->id = (int32_t)id;
	memcpy(out->host, host, (size_t)(host_end - host));
	out->host[host_end - host] = '\0';
	out->port = (uint16_t)port;
	return NULL;
}

static int cmp_voter(const void *a, const void *b)
{
	const struct tools_voter *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

int tools_voters_parse(const char *s, struct tools_voters *out)
{
	out->count = 0;
	const char *p = s;
	while (*p != '\0') {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > 0) {
			if (out->count == NODE_MAX_VOTERS) {
				fprintf(stderr, "Too many voters in --initial-controllers.\n");
				return 1;
			}
			struct tools_voter *v = &out->v[out->count];
			const char *why = dyn_voter_parse(p, n, v);
			if (why != NULL) {
				fprintf(stderr, "Invalid --initial-controllers: %s\n", why);
				return 1;
			}
			for (size_t i = 0; i < out->count; i++) {
				if (out->v[i].id == v->id) {
					fprintf(stderr,
					        "Node id %d was specified more than once.\n",
					        (int)v->id);
					return 1;
				}
			}
			out->count++;
		}
		p = comma ? comma + 1 : p + strlen(p);
	}
	if (out->count == 0) {
		fprintf(stderr, "No voters given.\n");
		return 1;
	}
	qsort(out->v, out->count, sizeof(out->v[0]), cmp_voter);
	return -1;
}

const struct tools_voter *tools_voters_find(const struct tools_voters *d, int32_t id)
{
	for (size_t i = 0; i < d->count; i++) {
		if (d->v[i].id == id)
			return &d->v[i];
	}
	return NULL;
}

/* ---- features ------------------------------------------------------------------------- */

static int feature_index(const char *name, size_t n)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(feature_defs); i++) {
		if (strlen(feature_defs[i].name) == n &&
		    strncmp(feature_defs[i].name, name, n) == 0)
			return (int)i;
	}
	return -1;
}

/* Applies one -f NAME=LEVEL; metadata.version sets *mv_level. */
static int feature_arg(const char *spec, struct tools_features *f, long long *mv_level)
{
	const char *eq = strchr(spec, '=');
	long long level;
	if (eq == NULL || eq == spec ||
	    !parse_int_range(eq + 1, strlen(eq + 1), 0, INT16_MAX, &level)) {
		fprintf(stderr,
		        "Invalid feature specification '%s': expected NAME=LEVEL with a "
		        "non-negative level.\n",
		        spec);
		return 1;
	}
	size_t n = (size_t)(eq - spec);
	if (n == 16 && strncmp(spec, "metadata.version", 16) == 0) {
		*mv_level = level;
		return -1;
	}
	int i = feature_index(spec, n);
	if (i < 0) {
		fprintf(stderr,
		        "Unsupported feature: %.*s. Supported features are: group.version, "
		        "kraft.version, metadata.version, transaction.version\n",
		        (int)n, spec);
		return 1;
	}
	if (level > feature_defs[i].max_level) {
		fprintf(stderr,
		        "Unsupported level %lld of feature %s: supported levels are 0-%d.\n", level,
		        feature_defs[i].name, (int)feature_defs[i].max_level);
		return 1;
	}
	f->level[i] = (int16_t)level;
	f->given[i] = true;
	return -1;
}

/* Picks metadata.version: -r, -f metadata.version, inter.broker.protocol.version, latest. */
static int resolve_mv(const char *release, const struct node_config *c, long long mv_level,
                      struct tools_features *f)
{
	const char *name = release;
	if (name != NULL && mv_level >= 0) {
		fprintf(stderr, "Both --release-version and --feature metadata.version were set. "
		                "Only one of the two can be supplied.\n");
		return 1;
	}
	if (name == NULL && mv_level < 0 && c->inter_broker_protocol_version[0] != '\0')
		name = c->inter_broker_protocol_version;
	if (name != NULL) {
		f->mv = release_by_name(name);
		if (f->mv == NULL) {
			fprintf(stderr,
			        "Unknown metadata.version '%s'. Supported metadata.version are: ",
			        name);
			for (size_t i = 0; i < SL_ARRAY_LEN(releases); i++)
				fprintf(stderr, "%s%s", i ? ", " : "", releases[i].name);
			fprintf(stderr, "\n");
			return 1;
		}
	} else if (mv_level >= 0) {
		f->mv = release_by_level(mv_level);
		if (f->mv == NULL) {
			fprintf(stderr, "Unknown metadata.version level %lld.\n", mv_level);
			return 1;
		}
	} else {
		f->mv = release_by_level(MV_LATEST_PRODUCTION);
	}
	if (f->mv->level < MV_MIN_BOOTSTRAP) {
		fprintf(stderr,
		        "metadata.version %s is too old to be supported. The minimum is "
		        "3.3-IV0.\n",
		        f->mv->name);
		return 1;
	}
	if (!f->mv->production && !c->unstable_feature_versions_enable) {
		fprintf(stderr, "metadata.version %s is not yet stable.\n", f->mv->name);
		return 1;
	}
	return -1;
}

int tools_features_resolve(const char *const *specs, size_t spec_count, const char *release,
                           const struct node_config *c, bool dynamic, struct tools_features *f)
{
	memset(f, 0, sizeof(*f));
	long long mv_level = -1;
	for (size_t i = 0; i < spec_count; i++) {
		int rc = feature_arg(specs[i], f, &mv_level);
		if (rc >= 0)
			return rc;
	}
	int rc = resolve_mv(release, c, mv_level, f);
	if (rc >= 0)
		return rc;
	int k = feature_index("kraft.version", 13);
	if (!f->given[k])
		f->level[k] = dynamic ? 1 : 0;
	if (dynamic && f->level[k] < 1) {
		fprintf(stderr,
		        "Cannot set kraft.version to %d if KIP-853 configuration is present. "
		        "Try removing the --feature flag for kraft.version.\n",
		        (int)f->level[k]);
		return 1;
	}
	if (!dynamic && f->level[k] > 0) {
		fprintf(stderr,
		        "Cannot set kraft.version to %d unless KIP-853 configuration is "
		        "present. Try removing the --feature flag for kraft.version.\n",
		        (int)f->level[k]);
		return 1;
	}
	for (size_t i = 0; i < SL_ARRAY_LEN(feature_defs); i++) {
		if (f->level[i] > 0 && f->mv->level < feature_defs[i].min_mv_for_level1) {
			fprintf(stderr,
			        "%s could not be set to %d because it depends on "
			        "metadata.version level %d\n",
			        feature_defs[i].name, (int)f->level[i],
			        (int)feature_defs[i].min_mv_for_level1);
			return 1;
		}
	}
	return -1;
}

/* ---- file contents (the shared snapshot writer, raft/snapshot.h) --------------------------- */

/* bootstrap.checkpoint: header (LastContainedLogTimestamp 0), FeatureLevelRecords
 * (metadata.version first, then the other features with level > 0 by name, never
 * kraft.version), footer; epoch 0, every batch timestamp now_ms. */
enum sl_err tools_bootstrap_build(struct sl_buf *out, const struct tools_features *f,
                                  int64_t now_ms)
{
	struct sl_buf vals[1 + SL_ARRAY_LEN(feature_defs)];
	struct wire_bytes recs[1 + SL_ARRAY_LEN(feature_defs)];
	size_t n = 0;
	enum sl_err e = SL_OK;
	for (size_t i = 0; i <= SL_ARRAY_LEN(feature_defs); i++) {
		struct meta_feature_level_record r;
		meta_feature_level_record_init(&r);
		if (i == 0) {
			r.name = wire_str_c("metadata.version");
			r.feature_level = f->mv->level;
		} else {
			const char *name = feature_defs[i - 1].name;
			if (f->level[i - 1] <= 0 || strcmp(name, "kraft.version") == 0)
				continue;
			r.name = wire_str_c(name);
			r.feature_level = f->level[i - 1];
		}
		sl_buf_init(&vals[n], 1024);
		meta_frame_put(&vals[n], META_KEY_FEATURE_LEVEL, 0);
		meta_feature_level_record_encode(&vals[n], 0, &r);
		if (sl_buf_err(&vals[n]) != SL_OK)
			e = SL_ENOMEM;
		recs[n] = (struct wire_bytes){vals[n].data, (int32_t)vals[n].len};
		n++;
	}
	if (e == SL_OK) {
		struct raft_snapshot_opts o = {
		        .epoch = 0, .last_contained_timestamp = 0, .append_time_ms = now_ms};
		e = raft_snapshot_build(out, &o, recs, n);
	}
	for (size_t i = 0; i < n; i++)
		sl_buf_free(&vals[i]);
	return e;
}

/* The 0-0 bootstrap snapshot: [header (LastContainedLogTimestamp now_ms), KRaftVersionRecord,
 * VotersRecord] + [footer], no data. */
enum sl_err tools_snapshot_build(struct sl_buf *out, const struct tools_voters *dv,
                                 const char *listener_name, int16_t kraft_version, int64_t now_ms)
{
	struct raft_snapshot_voter voters[NODE_MAX_VOTERS];
	for (size_t i = 0; i < dv->count; i++) {
		voters[i] = (struct raft_snapshot_voter){
		        .id = dv->v[i].id,
		        .directory_id = dv->v[i].dir,
		        .listener = listener_name,
		        .host = dv->v[i].host,
		        .port = dv->v[i].port,
		        .min_kraft_version = 0,
		        .max_kraft_version = 1,
		};
	}
	struct raft_snapshot_opts o = {
	        .epoch = 0,
	        .last_contained_timestamp = now_ms,
	        .append_time_ms = now_ms,
	        .kraft_version = kraft_version,
	        .voters = voters,
	        .voter_count = dv->count,
	};
	if (dv->count == 0)
		return SL_EINVAL;
	return raft_snapshot_build(out, &o, NULL, 0);
}

int16_t tools_features_kraft_version(const struct tools_features *f)
{
	return f->level[feature_index("kraft.version", 13)];
}
