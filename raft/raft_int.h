/*
 * raft_int.h: private to raft/. The local single-node metadata log shared by local_log.c
 * (open, bootstrap, replay, close) and local_propose.c (proposals).
 *
 * Invariants:
 *   - props is the list of proposals in offset order; a proposal leaves it only once its
 *     done callback ran and storage holds no callback of it any more (pending == 0);
 *   - committed_end <= the storage log's end offset; every batch below committed_end has been
 *     passed to apply, in order, exactly once;
 *   - once offline, no proposal is accepted and every listed proposal has been finished
 *     (done called with SL_EIO) or is being finished by raft_fail_all.
 */
#ifndef SL_RAFT_INT_H
#define SL_RAFT_INT_H

#include "raft.h"
#include "storage.h"

#define RAFT_PATH_BYTES 1024
/* Upper bound of one record's framing inside a batch (length, attributes, deltas, key and
 * value lengths, header count), used to keep a batch under RAFT_BATCH_BYTES_MAX. */
#define RAFT_RECORD_OVERHEAD_MAX 32
#define RAFT_QUORUM_STATE_NAME "quorum-state"

struct raft_prop {
	struct raft *r;
	struct raft_prop *next;
	struct stor_append app;
	struct stor_durable_wait wait;
	raft_propose_done_fn *done;
	void *ctx;
	unsigned pending; /* storage callbacks still to come (append, durable wait) */
	bool durable;     /* appended and covered by an fdatasync */
	bool finished;    /* done has been called */
	size_t len;
	uint8_t batch[]; /* the RecordBatch (storage rewrites baseOffset / epoch) */
};

struct raft {
	struct io_loop *loop;
	struct stor_log *log;
	char metadata_dir[RAFT_PATH_BYTES];
	char dir[RAFT_PATH_BYTES]; /* <metadata_dir>/__cluster_metadata-0 */
	int32_t node_id;
	int32_t epoch;
	raft_apply_fn *apply;
	void *apply_ctx;
	int64_t committed_end; /* offset after the last applied batch */
	struct raft_prop *head;
	struct raft_prop *tail;
	bool offline;
	bool draining;
	/* Reused scratch: the records of a batch being built, the values of a batch applied. */
	struct stor_record_in *recs;
	struct wire_bytes *vals;
	size_t vals_cap;
	struct sl_buf build;
	char log_ctx[64];
};

/* local_log.c */
/* Collects the values of an uncompressed, parsed data batch into r->vals. SL_ECORRUPT (err
 * set) for a record with a null value or an offset delta that is not its index. */
enum sl_err raft_batch_values(struct raft *r, const struct stor_batch_view *v, size_t *count,
                              char *err, size_t err_len) SL_MUST_USE;
/* Makes room for n values/records in r->vals and r->recs. SL_ENOMEM. */
enum sl_err raft_scratch_reserve(struct raft *r, size_t n) SL_MUST_USE;
/* Builds one batch of count values into r->build (reset first), CreateTime = now_ms.
 * SL_EINVAL if it would not fit RAFT_BATCH_BYTES_MAX. */
enum sl_err raft_build_batch(struct raft *r, const struct wire_bytes *values, size_t count,
                             int64_t now_ms) SL_MUST_USE;

/* local_propose.c */
/* Takes the log offline and finishes every unfinished proposal with SL_EIO. */
void raft_fail_all(struct raft *r, const char *why);
/* Frees the proposals that are finished and no longer referenced by storage (close). */
void raft_props_release(struct raft *r);

#endif
