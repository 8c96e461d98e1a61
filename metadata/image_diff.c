/*
 * image_diff.c: what changed between two images, for the broker's publishers (Kafka's
 * TopicsDelta.localChanges in spirit). Topics are matched by id, so a topic deleted and
 * re-created under the same name shows as removed partitions then added partitions. Topic
 * objects shared by both images (same pointer) are skipped without looking inside.
 */
#include "meta_int.h"

#include <string.h>

static bool ints_eq(const int32_t *a, int32_t na, const int32_t *b, int32_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, sizeof(int32_t) * (size_t)na) == 0);
}

static bool partition_eq(const struct meta_partition *a, const struct meta_partition *b)
{
	return a->leader == b->leader && a->leader_epoch == b->leader_epoch &&
	       a->partition_epoch == b->partition_epoch &&
	       ints_eq(a->replicas, a->replica_count, b->replicas, b->replica_count) &&
	       ints_eq(a->isr, a->isr_count, b->isr, b->isr_count);
}

static bool configs_eq(const struct meta_topic *a, const struct meta_topic *b)
{
	if (a->config_count != b->config_count)
		return false;
	for (size_t i = 0; i < a->config_count; i++) {
		if (strcmp(a->configs[i].name, b->configs[i].name) != 0 ||
		    strcmp(a->configs[i].value, b->configs[i].value) != 0)
			return false;
	}
	return true;
}

static const struct meta_topic *same_topic(const struct meta_image *img, const struct meta_topic *t)
{
	return img == NULL ? NULL : meta_image_topic_by_id(img, t->id);
}

static void diff_removed(const struct meta_image *old_img, const struct meta_image *new_img,
                         const struct meta_diff_ops *ops, void *ctx)
{
	size_t n = old_img == NULL ? 0 : meta_image_topic_count(old_img);

	if (ops->partition_removed == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct meta_topic *o = meta_image_topic_at(old_img, i);
		const struct meta_topic *nt = same_topic(new_img, o);
		int32_t keep = nt == NULL ? 0 : nt->partition_count;

		if (nt == o)
			continue;
		for (int32_t p = keep; p < o->partition_count; p++)
			ops->partition_removed(ctx, o, p);
	}
}

void meta_image_diff(const struct meta_image *old_img, const struct meta_image *new_img,
                     const struct meta_diff_ops *ops, void *ctx)
{
	size_t n = new_img == NULL ? 0 : meta_image_topic_count(new_img);

	diff_removed(old_img, new_img, ops, ctx);
	for (size_t i = 0; i < n; i++) {
		const struct meta_topic *t = meta_image_topic_at(new_img, i);
		const struct meta_topic *o = same_topic(old_img, t);
		int32_t had = o == NULL ? 0 : SL_MIN(o->partition_count, t->partition_count);

		if (o == t)
			continue;
		for (int32_t p = had; p < t->partition_count && ops->partition_added; p++)
			ops->partition_added(ctx, t, p);
	}
	for (size_t i = 0; i < n; i++) {
		const struct meta_topic *t = meta_image_topic_at(new_img, i);
		const struct meta_topic *o = same_topic(old_img, t);
		int32_t had;

		if (o == t || o == NULL)
			continue;
		had = SL_MIN(o->partition_count, t->partition_count);
		for (int32_t p = 0; p < had && ops->partition_changed; p++) {
			if (!partition_eq(&o->partitions[p], &t->partitions[p]))
				ops->partition_changed(ctx, t, p);
		}
		if (ops->topic_config_changed && !configs_eq(o, t))
			ops->topic_config_changed(ctx, t);
	}
}
