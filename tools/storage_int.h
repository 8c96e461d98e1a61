/*
 * storage_int.h: private to `sluice storage` (storage_cmd.c: the CLI, format and info;
 * storage_bootstrap.c: metadata versions, features, dynamic voters and bootstrap file bytes).
 */
#ifndef SL_TOOLS_STORAGE_INT_H
#define SL_TOOLS_STORAGE_INT_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

/* One metadata.version (kraft.md §10). */
struct tools_release {
	const char *name; /* "3.9-IV0" */
	int16_t level;
	bool production;
};

#define TOOLS_FEATURE_COUNT 3 /* group.version, kraft.version, transaction.version */

/* Initial feature levels of a new cluster. */
struct tools_features {
	const struct tools_release *mv;
	int16_t level[TOOLS_FEATURE_COUNT];
	bool given[TOOLS_FEATURE_COUNT];
};

/* One --initial-controllers entry, id@host:port:directoryId. */
struct tools_voter {
	int32_t id;
	char host[NODE_HOST_MAX];
	uint16_t port;
	struct sl_uuid dir;
};

struct tools_voters {
	size_t count;
	struct tools_voter v[NODE_MAX_VOTERS]; /* sorted by id */
};

/* Picks metadata.version (release, a "metadata.version=N" spec, else
 * inter.broker.protocol.version when set, else 4.0-IV0) and the other features' levels
 * from the -f specs (kraft.version: 1 iff dynamic). Prints the error and returns 1 on bad
 * input; -1 on success. */
int tools_features_resolve(const char *const *specs, size_t spec_count, const char *release,
                           const struct node_config *c, bool dynamic, struct tools_features *f);
int16_t tools_features_kraft_version(const struct tools_features *f);

/* Parses a --initial-controllers list. Prints the error and returns 1, or -1 on success. */
int tools_voters_parse(const char *s, struct tools_voters *out);
const struct tools_voter *tools_voters_find(const struct tools_voters *d, int32_t id);

/* Appends bootstrap.checkpoint's batches: SnapshotHeader control batch (offset 0),
 * FeatureLevelRecord data batch (metadata.version first, then features with level > 0 by
 * name, never kraft.version), SnapshotFooter control batch. Epoch 0. */
enum sl_err tools_bootstrap_build(struct sl_buf *out, const struct tools_features *f,
                                  int64_t now_ms) SL_MUST_USE;
/* Appends the 0-0 bootstrap snapshot: one control batch [SnapshotHeader, KRaftVersionRecord,
 * VotersRecord (endpoint named listener_name, kraft.version range 0-1)], then a footer batch. */
enum sl_err tools_snapshot_build(struct sl_buf *out, const struct tools_voters *dv,
                                 const char *listener_name, int16_t kraft_version,
                                 int64_t now_ms) SL_MUST_USE;

#endif
