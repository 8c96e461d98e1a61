/*
 * node_meta.c: the node's committed metadata image, fed by the metadata log's apply callback.
 *
 * Invariant: m->img is the image after every batch raft has passed to apply, published at the
 * last offset of the newest batch; the broker and the controller (once they exist) have been
 * given that same image before apply returns, so a proposer's done callback (which raft runs
 * after apply) already sees its records everywhere.
 */
#include "node_int.h"

#include <inttypes.h>
#include <stdio.h>

enum sl_err node_meta_init(struct node_meta *m, const char *log_ctx)
{
	*m = (struct node_meta){.log_ctx = log_ctx};
	m->img = meta_image_create_empty();
	return m->img != NULL ? SL_OK : SL_ENOMEM;
}

void node_meta_fini(struct node_meta *m)
{
	meta_image_unref(m->img);
	m->img = NULL;
}

enum sl_err node_meta_apply(void *ctx, int64_t base_offset, const struct wire_bytes *values,
                            size_t count, char *err, size_t err_len)
{
	struct node_meta *m = ctx;
	struct meta_delta *d;
	enum sl_err e = meta_delta_create(m->img, &d);
	if (e != SL_OK) {
		snprintf(err, err_len, "metadata image: %s", sl_err_msg(e));
		return e;
	}
	for (size_t i = 0; i < count && e == SL_OK; i++) {
		char why[256] = "";
		e = meta_delta_apply(d, values[i].ptr, (size_t)values[i].len, why, sizeof(why));
		if (e != SL_OK)
			snprintf(err, err_len, "metadata record at offset %" PRId64 ": %s",
			         base_offset + (int64_t)i, why[0] ? why : sl_err_msg(e));
	}
	struct meta_image *next = NULL;
	if (e == SL_OK) {
		next = meta_delta_publish(d, base_offset + (int64_t)count - 1);
		if (next == NULL) {
			snprintf(err, err_len, "metadata image: out of memory");
			e = SL_ENOMEM;
		}
	} else {
		meta_delta_destroy(d);
	}
	if (e != SL_OK) {
		if (m->brk != NULL || m->ctl != NULL) {
			SL_ERROR(m->log_ctx, "%s; stopping", err);
			m->failed = true;
		}
		return e;
	}
	meta_image_unref(m->img);
	m->img = next;
	if (m->loading)
		return SL_OK;
	if (m->brk != NULL)
		brk_set_image(m->brk, next);
	if (m->ctl != NULL)
		ctl_on_commit(m->ctl, next);
	return SL_OK;
}

void node_meta_load(void *ctx, bool begin)
{
	struct node_meta *m = ctx;
	if (begin) {
		struct meta_image *empty = meta_image_create_empty();
		if (empty == NULL) {
			SL_ERROR(m->log_ctx, "snapshot load: out of memory; stopping");
			m->failed = true;
			return;
		}
		meta_image_unref(m->img);
		m->img = empty;
		m->loading = true;
		return;
	}
	m->loading = false;
	if (m->brk != NULL)
		brk_set_image(m->brk, m->img);
	if (m->ctl != NULL)
		ctl_on_commit(m->ctl, m->img);
}

enum sl_err node_meta_records(void *ctx, struct sl_arena *arena, struct wire_bytes **values,
                              size_t *count)
{
	struct node_meta *m = ctx;
	return meta_image_to_records(m->img, arena, values, count);
}

void node_meta_counts(const struct meta_image *img, size_t *topics, size_t *partitions)
{
	*topics = meta_image_topic_count(img);
	*partitions = 0;
	for (size_t i = 0; i < *topics; i++)
		*partitions += (size_t)meta_image_topic_at(img, i)->partition_count;
}
