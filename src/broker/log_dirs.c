/*
 * log_dirs.c: DescribeLogDirs (key 35), v0-v4 (Kafka's ReplicaManager.describeLogDirs).
 *
 * One result per configured log dir, in configuration order, listing the partitions whose
 * log lives in it (the partitions this broker hosts, leader or follower): all of them when
 * topics is null, else the requested ones it hosts (others are left out, as Kafka does).
 * partition_size = the bytes of the log's live segments, offset_lag 0 (single node: no future
 * replica), is_future_key false. v4 adds total_bytes / usable_bytes from statvfs(2); a dir statvfs
 * cannot read gets KAFKA_STORAGE_ERROR (and -1 sizes). The top-level error_code (v3+) is NONE.
 */
#include "brk_data.h"

#include <string.h>
#include <sys/statvfs.h>

/* The partitions one request asks about, resolved to the broker's entries. */
struct ld_pick {
	struct brk_partition **parts;
	size_t count;
};

static bool in_dir(const struct brk_partition *p, const char *dir)
{
	if (p->log == NULL)
		return false;
	const char *path = stor_log_dir(p->log);
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/' && strchr(path + n + 1, '/') == NULL;
}

static enum sl_err pick_all(struct brk_request *r, struct ld_pick *out)
{
	const struct meta_image *img = r->brk->image;
	size_t total = 0;
	size_t tc = img != NULL ? meta_image_topic_count(img) : 0;
	for (size_t i = 0; i < tc; i++)
		total += (size_t)meta_image_topic_at(img, i)->partition_count;
	out->parts =
	        total > 0 ? sl_arena_calloc(r->frame->arena, total, sizeof(*out->parts)) : NULL;
	if (total > 0 && out->parts == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < tc; i++) {
		const struct meta_topic *t = meta_image_topic_at(img, i);
		for (int32_t k = 0; k < t->partition_count; k++) {
			struct brk_partition *p = brk_partition_by_id(r->brk, t->id, k);
			if (p != NULL)
				out->parts[out->count++] = p;
		}
	}
	return SL_OK;
}

static enum sl_err pick_some(struct brk_request *r,
                             const struct wire_describe_log_dirs_request *req, struct ld_pick *out)
{
	size_t total = 0;
	for (int32_t t = 0; t < req->topics_count; t++)
		total += (size_t)SL_MAX(req->topics[t].partitions_count, 0);
	out->parts =
	        total > 0 ? sl_arena_calloc(r->frame->arena, total, sizeof(*out->parts)) : NULL;
	if (total > 0 && out->parts == NULL)
		return SL_ENOMEM;
	for (int32_t t = 0; t < req->topics_count; t++) {
		const struct wire_describe_log_dirs_request_describable_log_dir_topic *in =
		        &req->topics[t];
		for (int32_t k = 0; k < in->partitions_count; k++) {
			struct brk_partition *p =
			        brk_partition_get(r->brk, in->topic, in->partitions[k]);
			bool dup = false;
			for (size_t j = 0; p != NULL && j < out->count; j++)
				dup = dup || out->parts[j] == p;
			if (p != NULL && !p->deleted && !dup)
				out->parts[out->count++] = p;
		}
	}
	return SL_OK;
}

/* Groups the picked partitions of one dir by topic (consecutive runs of the same name). */
static enum sl_err dir_fill(struct brk_request *r, const struct ld_pick *pick, const char *dir,
                            struct wire_describe_log_dirs_response_result *out)
{
	struct sl_arena *arena = r->frame->arena;
	out->topics_count = 0;
	if (pick->count == 0)
		return SL_OK;
	out->topics = sl_arena_calloc(arena, pick->count, sizeof(*out->topics));
	struct wire_describe_log_dirs_response_partition *parts =
	        sl_arena_calloc(arena, pick->count, sizeof(*parts));
	if (out->topics == NULL || parts == NULL)
		return SL_ENOMEM;
	bool *done = sl_arena_calloc(arena, pick->count, sizeof(*done));
	if (done == NULL)
		return SL_ENOMEM;
	size_t used = 0;
	for (size_t i = 0; i < pick->count; i++) {
		if (done[i] || !in_dir(pick->parts[i], dir))
			continue;
		struct wire_describe_log_dirs_response_topic *t = &out->topics[out->topics_count++];
		wire_describe_log_dirs_response_topic_init(t);
		t->name = wire_str_c(pick->parts[i]->topic);
		t->partitions = &parts[used];
		for (size_t j = i; j < pick->count; j++) {
			struct brk_partition *p = pick->parts[j];
			if (done[j] || !in_dir(p, dir) ||
			    strcmp(p->topic, pick->parts[i]->topic) != 0)
				continue;
			done[j] = true;
			struct stor_log_state st;
			stor_log_get_state(p->log, &st);
			struct wire_describe_log_dirs_response_partition *o = &parts[used++];
			wire_describe_log_dirs_response_partition_init(o);
			o->partition_index = p->partition;
			o->partition_size = (int64_t)st.size_bytes;
			o->offset_lag = 0;
			o->is_future_key = false;
			t->partitions_count++;
		}
	}
	return SL_OK;
}

enum brk_outcome brk_handle_describe_log_dirs(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_describe_log_dirs_request req;
	if (!brk_decode_ok(r, wire_describe_log_dirs_request_decode(&r->body, v, &req),
	                   "DescribeLogDirs"))
		return BRK_CLOSE;
	struct brk *b = r->brk;
	struct ld_pick pick = {0};
	enum sl_err e = req.topics_count < 0 ? pick_all(r, &pick) : pick_some(r, &req, &pick);
	struct wire_describe_log_dirs_response resp;
	wire_describe_log_dirs_response_init(&resp);
	resp.throttle_time_ms = 0;
	resp.error_code = WIRE_ERR_NONE;
	resp.results_count = (int32_t)b->opts.log_dir_count;
	if (e == SL_OK && b->opts.log_dir_count > 0) {
		resp.results = sl_arena_calloc(r->frame->arena, b->opts.log_dir_count,
		                               sizeof(*resp.results));
		e = resp.results == NULL ? SL_ENOMEM : SL_OK;
	}
	for (size_t i = 0; e == SL_OK && i < b->opts.log_dir_count; i++) {
		struct wire_describe_log_dirs_response_result *res = &resp.results[i];
		wire_describe_log_dirs_response_result_init(res);
		const char *dir = b->opts.log_dirs[i];
		res->log_dir = wire_str_c(dir);
		res->total_bytes = -1;
		res->usable_bytes = -1;
		struct statvfs sv;
		if (statvfs(dir, &sv) != 0) {
			res->error_code = WIRE_ERR_KAFKA_STORAGE_ERROR;
			continue;
		}
		res->error_code = WIRE_ERR_NONE;
		res->total_bytes = (int64_t)((uint64_t)sv.f_blocks * sv.f_frsize);
		res->usable_bytes = (int64_t)((uint64_t)sv.f_bavail * sv.f_frsize);
		e = dir_fill(r, &pick, dir, res);
	}
	if (e != SL_OK)
		return brk_close(r, "out of request memory (DescribeLogDirs v%d)", v);
	wire_describe_log_dirs_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}
