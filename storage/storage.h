/*
 * storage.h: public header of the L3 `sl_storage` library.
 *
 * For now it holds the per-directory files written by `sluice storage format`:
 * meta.properties (Kafka's MetaProperties, version 0 or 1) and checkpoint files
 * (bootstrap.checkpoint and KRaft snapshots: a sequence of RecordBatch v2), plus the
 * crash-safe "write temp file, fsync, rename, fsync directory" helper they share. These run
 * at start-up or admin time and use plain blocking POSIX calls, not the io loop.
 *
 * Invariant: a file written by these functions is either absent, its previous version, or
 * complete and durable; readers never see a partial file under the final name.
 */
#ifndef SL_STORAGE_H
#define SL_STORAGE_H

#include "base.h"
#include "batch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STOR_META_PROPERTIES_NAME "meta.properties"
#define STOR_BOOTSTRAP_CHECKPOINT_NAME "bootstrap.checkpoint"
#define STOR_METADATA_PARTITION_DIR "__cluster_metadata-0"
#define STOR_BOOTSTRAP_SNAPSHOT_NAME "00000000000000000000-0000000000.checkpoint"
#define STOR_CLUSTER_ID_MAX 256
#define STOR_CHECKPOINT_MAX_BYTES (64u << 20)

/* ---- files -------------------------------------------------------------------------- */

/* Writes data to `<path>.tmp`, fsyncs it, renames it over path and fsyncs the parent
 * directory. Borrows everything. SL_EIO / SL_ENOSPC / SL_EACCES / ... with err naming the
 * path and the failing step; the temp file is removed on failure. */
enum sl_err stor_file_write_atomic(const char *path, const void *data, size_t len, char *err,
                                   size_t err_len) SL_MUST_USE;

/* Creates dir and any missing parents (mode 0755), like `mkdir -p`. SL_EEXIST with err if a
 * path component exists and is not a directory. */
enum sl_err stor_mkdirs(const char *dir, char *err, size_t err_len) SL_MUST_USE;

/* fsync(2) of a directory so that a rename or create inside it is durable. */
enum sl_err stor_dir_fsync(const char *dir) SL_MUST_USE;

/* ---- meta.properties ------------------------------------------------------------------ */

/* Kafka's MetaProperties. Version 0 (legacy ZooKeeper) reads the node id from broker.id;
 * version 1 (KRaft) requires cluster.id and node.id. */
struct stor_meta_props {
	int version; /* 0 or 1 */
	bool has_cluster_id;
	char cluster_id[STOR_CLUSTER_ID_MAX];
	bool has_node_id;
	int32_t node_id;
	bool has_directory_id;
	struct sl_uuid directory_id;
};

/* Reads <dir>/meta.properties. SL_ENOENT if the file does not exist; SL_EIO if it cannot be
 * read; SL_ECORRUPT if it does not parse or breaks the rules. err gets the reason without the
 * path ("Unknown meta.properties version number 7", "cluster.id was not found.", "line 3:
 * ..."); callers add the path. */
enum sl_err stor_meta_props_read(const char *dir, struct stor_meta_props *out, char *err,
                                 size_t err_len) SL_MUST_USE;

/* Writes <dir>/meta.properties atomically (stor_file_write_atomic): "#" and "#<date>" comment
 * lines, then the present keys in sorted order. SL_EINVAL if mp breaks the version's rules. */
enum sl_err stor_meta_props_write(const char *dir, const struct stor_meta_props *mp, char *err,
                                  size_t err_len) SL_MUST_USE;

/* Formats mp the way `kafka-storage info` prints it: "{cluster.id=X, directory.id=Y,
 * node.id=1, version=1}" (sorted keys, absent keys left out). Truncates to out_len. */
void stor_meta_props_describe(const struct stor_meta_props *mp, char *out, size_t out_len);

/* ---- checkpoint files ------------------------------------------------------------------ */

/* Writes already-built batches (concatenated, each a valid RecordBatch v2) to path with
 * stor_file_write_atomic. SL_EINVAL if the bytes are not a sequence of valid batches. */
enum sl_err stor_checkpoint_write(const char *path, const uint8_t *batches, size_t len, char *err,
                                  size_t err_len) SL_MUST_USE;

/* Reads path into out (appended; out's max_bytes bounds the size) and checks that the file
 * is a sequence of valid batches (CRC, lengths, counts). Iterate it with stor_batch_parse.
 * SL_ENOENT missing, SL_EIO read error, SL_ETOOBIG over out's limit, SL_ECORRUPT with the
 * byte position of the first bad batch in err. */
enum sl_err stor_checkpoint_read(const char *path, struct sl_buf *out, char *err,
                                 size_t err_len) SL_MUST_USE;

#endif
