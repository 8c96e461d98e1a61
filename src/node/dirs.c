/*
 * dirs.c: the formatted-directory checks shared by `server start` and `storage format/info`
 * (Kafka's MetaPropertiesEnsemble and KafkaRaftServer.initializeLogDirs).
 *
 * A node's directories are log.dirs ∪ metadata.log.dir. Each must hold a version 1
 * meta.properties; all must agree on cluster.id and node.id; directory ids must be unique
 * and not reserved. A missing directory.id is generated and written back at start-up.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t node_config_all_dirs(const struct node_config *c, const char **out, size_t out_cap)
{
	SL_ASSERT(c != NULL);
	SL_ASSERT(out_cap >= c->log_dir_count + 1);
	size_t n = 0;
	for (size_t i = 0; i < c->log_dir_count; i++)
		out[n++] = c->log_dirs[i];
	bool have_meta = false;
	for (size_t i = 0; i < n; i++)
		have_meta = have_meta || strcmp(out[i], c->metadata_log_dir) == 0;
	if (!have_meta)
		out[n++] = c->metadata_log_dir;
	qsort(out, n, sizeof(out[0]), cmp_str);
	return n;
}

void node_dir_ensemble_load(struct node_dir_ensemble *ens, const char *const *dirs, size_t count)
{
	SL_ASSERT(ens != NULL);
	SL_ASSERT(count <= SL_ARRAY_LEN(ens->dirs));
	memset(ens, 0, sizeof(*ens));
	ens->count = count;
	for (size_t i = 0; i < count; i++) {
		ens->dirs[i] = dirs[i];
		struct stat st;
		if (stat(dirs[i], &st) == 0 && !S_ISDIR(st.st_mode)) {
			ens->status[i] = NODE_DIR_ERROR;
			snprintf(ens->error[i], sizeof(ens->error[i]), "%s is not a directory",
			         dirs[i]);
			continue;
		}
		enum sl_err e = stor_meta_props_read(dirs[i], &ens->props[i], ens->error[i],
		                                     sizeof(ens->error[i]));
		ens->status[i] = e == SL_OK         ? NODE_DIR_FORMATTED
		                 : e == SL_ENOENT   ? NODE_DIR_EMPTY
		                 : e == SL_ECORRUPT ? NODE_DIR_CORRUPT
		                                    : NODE_DIR_ERROR;
		if (e == SL_ENOENT)
			ens->error[i][0] = '\0';
	}
}

static void set_err(char *err, size_t err_len, const char *fmt, ...) SL_PRINTF(3, 4);
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	if (err == NULL || err_len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* Checks directory ids of FORMATTED dirs: not reserved, no duplicates. */
static enum sl_err verify_directory_ids(const struct node_dir_ensemble *ens, char *err,
                                        size_t err_len)
{
	for (size_t i = 0; i < ens->count; i++) {
		const struct stor_meta_props *p = &ens->props[i];
		if (ens->status[i] != NODE_DIR_FORMATTED || !p->has_directory_id)
			continue;
		char u[SL_UUID_STR_LEN + 1];
		sl_uuid_to_str(&p->directory_id, u);
		if (sl_uuid_is_reserved(&p->directory_id)) {
			set_err(err, err_len, "Invalid reserved directory ID %s found in %s", u,
			        ens->dirs[i]);
			return SL_ECONFIG;
		}
		for (size_t j = 0; j < i; j++) {
			if (ens->status[j] == NODE_DIR_FORMATTED &&
			    ens->props[j].has_directory_id &&
			    sl_uuid_eq(&ens->props[j].directory_id, &p->directory_id)) {
				set_err(err, err_len,
				        "Duplicate directory ID %s found. It was the ID of %s, but "
				        "also "
				        "of %s",
				        u, ens->dirs[j], ens->dirs[i]);
				return SL_ECONFIG;
			}
		}
	}
	return SL_OK;
}

enum sl_err node_dir_ensemble_verify(const struct node_dir_ensemble *ens,
                                     const char *expected_cluster_id, int32_t expected_node_id,
                                     char *err, size_t err_len)
{
	SL_ASSERT(ens != NULL);
	const char *cluster = expected_cluster_id;
	int64_t node = expected_node_id >= 0 ? expected_node_id : -1;
	for (size_t i = 0; i < ens->count; i++) {
		const struct stor_meta_props *p = &ens->props[i];
		const char *dir = ens->dirs[i];
		if (ens->status[i] != NODE_DIR_FORMATTED)
			continue;
		if (!p->has_cluster_id) {
			if (p->version == 1) {
				set_err(err, err_len,
				        "cluster.id was not specified in the v1 file: %s/%s", dir,
				        STOR_META_PROPERTIES_NAME);
				return SL_ECONFIG;
			}
		} else if (cluster == NULL) {
			cluster = p->cluster_id;
		} else if (strcmp(cluster, p->cluster_id) != 0) {
			set_err(err, err_len,
			        "Invalid cluster.id in: %s/%s. Expected %s, but read %s", dir,
			        STOR_META_PROPERTIES_NAME, cluster, p->cluster_id);
			return SL_ECONFIG;
		}
		if (!p->has_node_id) {
			if (p->version == 1) {
				set_err(err, err_len, "node.id was not specified in %s/%s", dir,
				        STOR_META_PROPERTIES_NAME);
				return SL_ECONFIG;
			}
		} else if (node < 0) {
			node = p->node_id;
		} else if (p->node_id != node) {
			set_err(err, err_len,
			        "Stored node id %d doesn't match previous node id %lld in %s/%s. "
			        "If "
			        "you moved your data, make sure your configured node id matches. "
			        "If "
			        "you intend to create a new node, you should remove all data in "
			        "your "
			        "data directories.",
			        (int)p->node_id, (long long)node, dir, STOR_META_PROPERTIES_NAME);
			return SL_ECONFIG;
		}
	}
	return verify_directory_ids(ens, err, err_len);
}

/* Generates a directory id that is not reserved and not used by any dir of ens. */
static enum sl_err fresh_directory_id(const struct node_dir_ensemble *ens, struct sl_uuid *out)
{
	for (;;) {
		enum sl_err e = sl_uuid_random(out);
		if (e != SL_OK)
			return e;
		bool used = false;
		for (size_t i = 0; i < ens->count; i++)
			used = used || (ens->props[i].has_directory_id &&
			                sl_uuid_eq(&ens->props[i].directory_id, out));
		if (!used)
			return SL_OK;
	}
}

/* Every dir must be formatted with version 1; __cluster_metadata-0 only in the metadata dir. */
static enum sl_err check_each_dir(const struct node_config *c, const struct node_dir_ensemble *ens,
                                  char *err, size_t err_len)
{
	for (size_t i = 0; i < ens->count; i++) {
		const char *dir = ens->dirs[i];
		if (ens->status[i] == NODE_DIR_ERROR || ens->status[i] == NODE_DIR_CORRUPT) {
			set_err(err, err_len, "Error loading %s/%s: %s", dir,
			        STOR_META_PROPERTIES_NAME, ens->error[i]);
			return SL_ECONFIG;
		}
		if (ens->status[i] == NODE_DIR_EMPTY) {
			set_err(err, err_len,
			        "No `meta.properties` found in %s (have you run `sluice storage "
			        "format` to format the directory?)",
			        dir);
			return SL_ECONFIG;
		}
		if (ens->props[i].version != 1) {
			set_err(err, err_len,
			        "%s/%s has version %d; Sluice runs in KRaft mode and needs version "
			        "1 "
			        "(format the directory with `sluice storage format`)",
			        dir, STOR_META_PROPERTIES_NAME, ens->props[i].version);
			return SL_ECONFIG;
		}
		char meta[NODE_PATH_MAX + 64];
		struct stat st;
		snprintf(meta, sizeof(meta), "%s/%s", dir, STOR_METADATA_PARTITION_DIR);
		if (strcmp(dir, c->metadata_log_dir) != 0 && stat(meta, &st) == 0) {
			set_err(err, err_len,
			        "Found unexpected metadata location in data directory `%s` (the "
			        "configured metadata directory is %s).",
			        meta, c->metadata_log_dir);
			return SL_ECONFIG;
		}
	}
	return SL_OK;
}

/* Index in ens of path, which is one of its dirs. */
static size_t ens_index(const struct node_dir_ensemble *ens, const char *path)
{
	for (size_t i = 0; i < ens->count; i++) {
		if (strcmp(ens->dirs[i], path) == 0)
			return i;
	}
	SL_UNREACHABLE();
}

enum sl_err node_dirs_verify(const struct node_config *c, struct node_dirs_state *out, char *err,
                             size_t err_len)
{
	SL_ASSERT(c != NULL);
	SL_ASSERT(out != NULL);
	const char *dirs[NODE_MAX_DIRS + 1];
	size_t n = node_config_all_dirs(c, dirs, SL_ARRAY_LEN(dirs));
	struct node_dir_ensemble *ens = calloc(1, sizeof(*ens));
	if (ens == NULL) {
		set_err(err, err_len, "out of memory");
		return SL_ENOMEM;
	}
	node_dir_ensemble_load(ens, dirs, n);
	enum sl_err e = check_each_dir(c, ens, err, err_len);
	if (e == SL_OK)
		e = node_dir_ensemble_verify(ens, NULL, c->node_id, err, err_len);
	for (size_t i = 0; e == SL_OK && i < n; i++) {
		struct stor_meta_props *p = &ens->props[i];
		if (p->has_directory_id)
			continue;
		e = fresh_directory_id(ens, &p->directory_id);
		if (e != SL_OK) {
			set_err(err, err_len, "cannot generate a directory id: %s", sl_err_msg(e));
			break;
		}
		p->has_directory_id = true;
		SL_INFO("node", "Rewriting %s/%s", ens->dirs[i], STOR_META_PROPERTIES_NAME);
		e = stor_meta_props_write(ens->dirs[i], p, err, err_len);
	}
	if (e == SL_OK) {
		memset(out, 0, sizeof(*out));
		snprintf(out->cluster_id, sizeof(out->cluster_id), "%s", ens->props[0].cluster_id);
		for (size_t i = 0; i < c->log_dir_count; i++)
			out->directory_ids[i] =
			        ens->props[ens_index(ens, c->log_dirs[i])].directory_id;
		size_t m = ens_index(ens, c->metadata_log_dir);
		out->directory_ids[c->log_dir_count] = ens->props[m].directory_id;
	}
	free(ens);
	return e == SL_OK ? SL_OK : SL_ECONFIG;
}
