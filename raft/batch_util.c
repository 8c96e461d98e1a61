/*
 * batch_util.c: building and reading the record batches of the metadata log (raft.h's on-disk
 * format): one uncompressed RecordBatch v2 per proposal, null keys, framed record values.
 */
#include "raft_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum sl_err raft_scratch_reserve(struct raft *r, size_t n)
{
	if (n <= r->vals_cap)
		return SL_OK;
	size_t cap = SL_MAX(n, r->vals_cap * 2);
	struct wire_bytes *v = realloc(r->vals, cap * sizeof(*v));
	if (v == NULL)
		return SL_ENOMEM;
	r->vals = v;
	struct stor_record_in *rec = realloc(r->recs, cap * sizeof(*rec));
	if (rec == NULL)
		return SL_ENOMEM;
	r->recs = rec;
	r->vals_cap = cap;
	return SL_OK;
}

enum sl_err raft_build_batch(struct raft *r, const struct wire_bytes *values, size_t count,
                             int64_t now_ms)
{
	if (count == 0 || count > RAFT_BATCH_RECORDS_MAX)
		return SL_EINVAL;
	uint64_t bytes = STOR_BATCH_HEADER_BYTES;
	for (size_t i = 0; i < count; i++) {
		if (values[i].len < 0 || (values[i].len > 0 && values[i].ptr == NULL))
			return SL_EINVAL;
		bytes += (uint64_t)values[i].len + RAFT_RECORD_OVERHEAD_MAX;
	}
	if (bytes > RAFT_BATCH_BYTES_MAX)
		return SL_EINVAL;
	enum sl_err e = raft_scratch_reserve(r, count);
	if (e != SL_OK)
		return e;
	for (size_t i = 0; i < count; i++) {
		static const uint8_t empty[1];
		r->recs[i] = (struct stor_record_in){
		        .value = values[i].len > 0 ? values[i].ptr : empty,
		        .value_len = values[i].len,
		};
	}
	struct stor_batch_params p;
	stor_batch_params_init(&p, now_ms);
	p.partition_leader_epoch = r->epoch;
	sl_buf_reset(&r->build);
	e = stor_batch_build(&r->build, &p, r->recs, count);
	if (e == SL_ETOOBIG)
		return SL_EINVAL;
	return e;
}

enum sl_err raft_batch_values(struct raft *r, const struct stor_batch_view *v, size_t *count,
                              char *err, size_t err_len)
{
	size_t n = (size_t)v->h.record_count;
	if (n > RAFT_BATCH_RECORDS_MAX) {
		snprintf(err, err_len, "%s: batch at offset %" PRId64 " has %zu records (max %d)",
		         r->dir, v->h.base_offset, n, RAFT_BATCH_RECORDS_MAX);
		return SL_ECORRUPT;
	}
	enum sl_err e = raft_scratch_reserve(r, n);
	if (e != SL_OK)
		return e;
	struct stor_record_iter it;
	stor_record_iter_init(&it, v);
	struct stor_record rec;
	size_t i = 0;
	while ((e = stor_record_next(&it, &rec)) == SL_OK) {
		if (i >= n || rec.value == NULL || rec.offset_delta != (int32_t)i) {
			snprintf(err, err_len,
			         "%s: record %zu of the batch at offset %" PRId64
			         " has a null value or a bad offset delta",
			         r->dir, i, v->h.base_offset);
			return SL_ECORRUPT;
		}
		r->vals[i++] = (struct wire_bytes){rec.value, rec.value_len};
	}
	if (e != SL_ENOENT || i != n) {
		snprintf(err, err_len, "%s: malformed records in the batch at offset %" PRId64,
		         r->dir, v->h.base_offset);
		return SL_ECORRUPT;
	}
	*count = n;
	return SL_OK;
}

enum sl_err raft_read_range(const struct stor_file_range *range, struct sl_buf *buf)
{
	sl_buf_reset(buf);
	if (range->len > buf->max_bytes)
		return SL_ETOOBIG;
	uint8_t *p = sl_buf_extend(buf, (size_t)range->len);
	if (p == NULL)
		return SL_ENOMEM;
	size_t done = 0;
	while (done < range->len) {
		ssize_t n = pread(range->fd, p + done, (size_t)range->len - done,
		                  (off_t)(range->position + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? SL_ECORRUPT : sl_err_from_errno(errno);
		done += (size_t)n;
	}
	return SL_OK;
}
