/*
 * image.c: the immutable, reference-counted metadata image and its shared parts.
 *
 * An image is a sorted array of pointers to topic objects plus an open-addressing id index
 * (linear probing, power-of-two size, load <= 1/2) and one cluster object (brokers,
 * controllers, broker configs, features). Topic and cluster objects are reference counted and
 * shared between images: publishing a delta copies only the pointer arrays, and a delta copies a
 * topic only when a record changes it (meta_int.h). Invariants (meta_image_check_invariants):
 * topics strictly ascending by name, ids unique and all found through the index, partition i has
 * partition_id i, configs strictly ascending by name, brokers and controllers ascending by id.
 */
#include "meta_int.h"

#include <stdlib.h>
#include <string.h>

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- topic objects ---------------------------------------------------------------------- */

struct meta_topic_obj *meta_topic_obj_new(const char *name, size_t name_len, struct sl_uuid id)
{
	struct meta_topic_obj *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->pub.name = dup_n(name, name_len);
	if (t->pub.name == NULL) {
		free(t);
		return NULL;
	}
	t->pub.id = id;
	t->refs = 1;
	return t;
}

static int32_t *copy_ints(const int32_t *a, int32_t na, const int32_t *b, int32_t nb)
{
	int32_t *p = malloc(sizeof(int32_t) * (size_t)SL_MAX(1, na + nb));

	if (p == NULL)
		return NULL;
	if (na > 0)
		memcpy(p, a, sizeof(int32_t) * (size_t)na);
	if (nb > 0)
		memcpy(p + na, b, sizeof(int32_t) * (size_t)nb);
	return p;
}

static void part_free(struct meta_partition *p)
{
	free((void *)(uintptr_t)p->replicas);
	p->replicas = NULL;
	p->isr = NULL;
}

bool meta_topic_obj_set_partition(struct meta_topic_obj *t, const struct meta_partition *p)
{
	struct meta_partition np = *p;
	int32_t *block;

	SL_ASSERT(p->partition_id >= 0 && p->partition_id <= t->pub.partition_count);
	SL_ASSERT(p->replica_count >= 0 && p->isr_count >= 0);
	if (p->partition_id == t->pub.partition_count && t->pub.partition_count == t->part_cap) {
		int32_t cap = SL_MAX(4, t->part_cap * 2);
		struct meta_partition *n = realloc(t->parts, sizeof(*n) * (size_t)cap);

		if (n == NULL)
			return false;
		t->parts = n;
		t->part_cap = cap;
		t->pub.partitions = n;
	}
	block = copy_ints(p->replicas, p->replica_count, p->isr, p->isr_count);
	if (block == NULL)
		return false;
	np.replicas = block;
	np.isr = block + p->replica_count;
	if (p->partition_id < t->pub.partition_count)
		part_free(&t->parts[p->partition_id]);
	else
		t->pub.partition_count++;
	t->parts[p->partition_id] = np;
	return true;
}

static bool cfg_insert(struct meta_topic_obj *t, size_t at, const char *name, size_t name_len,
                       const char *value, size_t value_len)
{
	struct meta_config c;

	if (t->pub.config_count == t->cfg_cap) {
		size_t cap = SL_MAX((size_t)4, t->cfg_cap * 2);
		struct meta_config *n = realloc(t->cfgs, sizeof(*n) * cap);

		if (n == NULL)
			return false;
		t->cfgs = n;
		t->cfg_cap = cap;
		t->pub.configs = n;
	}
	c.name = dup_n(name, name_len);
	c.value = dup_n(value, value_len);
	if (c.name == NULL || c.value == NULL) {
		free((void *)(uintptr_t)c.name);
		free((void *)(uintptr_t)c.value);
		return false;
	}
	memmove(&t->cfgs[at + 1], &t->cfgs[at], sizeof(c) * (t->pub.config_count - at));
	t->cfgs[at] = c;
	t->pub.config_count++;
	return true;
}

/* Compares a counted name with a NUL-terminated one as strcmp would. */
static int name_cmp(const char *a, size_t a_len, const char *b)
{
	size_t b_len = strlen(b);
	int c = memcmp(a, b, SL_MIN(a_len, b_len));

	if (c != 0)
		return c;
	return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

static ptrdiff_t cfg_find(const struct meta_topic *t, const char *name, size_t len)
{
	size_t lo = 0, hi = t->config_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(name, len, t->configs[mid].name);

		if (c == 0)
			return (ptrdiff_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(ptrdiff_t)lo - 1;
}

bool meta_topic_obj_set_config(struct meta_topic_obj *t, const char *name, size_t name_len,
                               const char *value, size_t value_len)
{
	ptrdiff_t i = cfg_find(&t->pub, name, name_len);

	if (i < 0) {
		if (value == NULL)
			return true;
		return cfg_insert(t, (size_t)(-i - 1), name, name_len, value, value_len);
	}
	if (value == NULL) {
		free((void *)(uintptr_t)t->cfgs[i].name);
		free((void *)(uintptr_t)t->cfgs[i].value);
		memmove(&t->cfgs[i], &t->cfgs[i + 1],
		        sizeof(t->cfgs[0]) * (t->pub.config_count - (size_t)i - 1));
		t->pub.config_count--;
		return true;
	}
	char *v = dup_n(value, value_len);

	if (v == NULL)
		return false;
	free((void *)(uintptr_t)t->cfgs[i].value);
	t->cfgs[i].value = v;
	return true;
}

static void topic_obj_free(struct meta_topic_obj *t)
{
	for (int32_t i = 0; i < t->pub.partition_count; i++)
		part_free(&t->parts[i]);
	for (size_t i = 0; i < t->pub.config_count; i++) {
		free((void *)(uintptr_t)t->cfgs[i].name);
		free((void *)(uintptr_t)t->cfgs[i].value);
	}
	free(t->parts);
	free(t->cfgs);
	free((void *)(uintptr_t)t->pub.name);
	free(t);
}

void meta_topic_obj_unref(struct meta_topic_obj *t)
{
	SL_ASSERT(t->refs > 0);
	if (--t->refs == 0)
		topic_obj_free(t);
}

struct meta_topic_obj *meta_topic_obj_clone(const struct meta_topic_obj *src)
{
	struct meta_topic_obj *t =
	        meta_topic_obj_new(src->pub.name, strlen(src->pub.name), src->pub.id);

	if (t == NULL)
		return NULL;
	for (int32_t i = 0; i < src->pub.partition_count; i++) {
		if (!meta_topic_obj_set_partition(t, &src->parts[i]))
			goto fail;
	}
	for (size_t i = 0; i < src->pub.config_count; i++) {
		const struct meta_config *c = &src->cfgs[i];

		if (!cfg_insert(t, i, c->name, strlen(c->name), c->value, strlen(c->value)))
			goto fail;
	}
	return t;
fail:
	topic_obj_free(t);
	return NULL;
}

/* ---- the image --------------------------------------------------------------------------- */

struct meta_image *meta_image_create_empty(void)
{
	struct meta_image *img = calloc(1, sizeof(*img));

	if (img == NULL)
		return NULL;
	img->cluster = meta_cluster_new();
	if (img->cluster == NULL) {
		free(img);
		return NULL;
	}
	img->refs = 1;
	img->offset = -1;
	return img;
}

void meta_image_ref(struct meta_image *img)
{
	SL_ASSERT(img->refs > 0);
	img->refs++;
}

void meta_image_unref(struct meta_image *img)
{
	if (img == NULL)
		return;
	SL_ASSERT(img->refs > 0);
	if (--img->refs > 0)
		return;
	for (size_t i = 0; i < img->topic_count; i++)
		meta_topic_obj_unref(img->topics[i]);
	free(img->topics);
	free(img->id_slots);
	meta_cluster_unref(img->cluster);
	free(img);
}

static size_t id_hash(struct sl_uuid id)
{
	uint64_t h = sl_load_be64(id.b) ^ (sl_load_be64(id.b + 8) * 0x9E3779B97F4A7C15ull);

	return (size_t)(h ^ (h >> 29));
}

static void id_put(struct meta_topic_obj **slots, size_t cap, struct meta_topic_obj *t)
{
	size_t i = id_hash(t->pub.id) & (cap - 1);

	while (slots[i] != NULL)
		i = (i + 1) & (cap - 1);
	slots[i] = t;
}

static bool id_rebuild(struct meta_image *img, size_t cap)
{
	struct meta_topic_obj **slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return false;
	for (size_t i = 0; i < img->topic_count; i++)
		id_put(slots, cap, img->topics[i]);
	free(img->id_slots);
	img->id_slots = slots;
	img->id_cap = cap;
	return true;
}

static ptrdiff_t id_slot(const struct meta_image *img, struct sl_uuid id)
{
	if (img->id_cap == 0)
		return -1;
	for (size_t i = id_hash(id) & (img->id_cap - 1);; i = (i + 1) & (img->id_cap - 1)) {
		if (img->id_slots[i] == NULL)
			return -1;
		if (sl_uuid_eq(&img->id_slots[i]->pub.id, &id))
			return (ptrdiff_t)i;
	}
}

/* Backward-shift deletion keeps linear probing correct without tombstones. */
static void id_del(struct meta_image *img, size_t i)
{
	size_t mask = img->id_cap - 1;

	img->id_slots[i] = NULL;
	for (size_t j = (i + 1) & mask; img->id_slots[j] != NULL; j = (j + 1) & mask) {
		size_t home = id_hash(img->id_slots[j]->pub.id) & mask;

		/* Move j into the hole when its home is not cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			img->id_slots[i] = img->id_slots[j];
			img->id_slots[j] = NULL;
			i = j;
		}
	}
}

struct meta_image *meta_image_copy(const struct meta_image *src)
{
	struct meta_image *img = calloc(1, sizeof(*img));

	if (img == NULL)
		return NULL;
	img->refs = 1;
	img->offset = src->offset;
	img->topic_cap = SL_MAX((size_t)8, src->topic_count);
	img->topics = malloc(sizeof(*img->topics) * img->topic_cap);
	if (img->topics == NULL ||
	    (src->id_cap > 0 && !(img->id_slots = malloc(sizeof(*img->id_slots) * src->id_cap)))) {
		free(img->topics);
		free(img);
		return NULL;
	}
	if (src->topic_count > 0)
		memcpy(img->topics, src->topics, sizeof(*img->topics) * src->topic_count);
	img->topic_count = src->topic_count;
	for (size_t i = 0; i < img->topic_count; i++)
		img->topics[i]->refs++;
	if (src->id_cap > 0)
		memcpy(img->id_slots, src->id_slots, sizeof(*img->id_slots) * src->id_cap);
	img->id_cap = src->id_cap;
	img->cluster = src->cluster;
	img->cluster->refs++;
	return img;
}

ptrdiff_t meta_image_topic_index(const struct meta_image *img, const char *name, size_t len)
{
	size_t lo = 0, hi = img->topic_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_cmp(name, len, img->topics[mid]->pub.name);

		if (c == 0)
			return (ptrdiff_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(ptrdiff_t)lo - 1;
}

bool meta_image_insert_topic(struct meta_image *img, struct meta_topic_obj *t)
{
	const char *name = t->pub.name;
	ptrdiff_t at = meta_image_topic_index(img, name, strlen(name));

	SL_ASSERT(at < 0);
	SL_ASSERT(id_slot(img, t->pub.id) < 0);
	if (img->topic_count == img->topic_cap) {
		size_t cap = SL_MAX((size_t)8, img->topic_cap * 2);
		struct meta_topic_obj **n = realloc(img->topics, sizeof(*n) * cap);

		if (n == NULL)
			return false;
		img->topics = n;
		img->topic_cap = cap;
	}
	if ((img->topic_count + 1) * 2 >= img->id_cap) {
		if (!id_rebuild(img, SL_MAX((size_t)16, img->id_cap * 2)))
			return false;
	}
	size_t i = (size_t)(-at - 1);

	memmove(&img->topics[i + 1], &img->topics[i],
	        sizeof(img->topics[0]) * (img->topic_count - i));
	img->topics[i] = t;
	img->topic_count++;
	id_put(img->id_slots, img->id_cap, t);
	return true;
}

void meta_image_remove_topic(struct meta_image *img, struct meta_topic_obj *t)
{
	ptrdiff_t at = meta_image_topic_index(img, t->pub.name, strlen(t->pub.name));
	ptrdiff_t slot = id_slot(img, t->pub.id);

	SL_ASSERT(at >= 0 && img->topics[at] == t);
	SL_ASSERT(slot >= 0 && img->id_slots[slot] == t);
	memmove(&img->topics[at], &img->topics[at + 1],
	        sizeof(img->topics[0]) * (img->topic_count - (size_t)at - 1));
	img->topic_count--;
	id_del(img, (size_t)slot);
	meta_topic_obj_unref(t);
}

void meta_image_replace_topic(struct meta_image *img, struct meta_topic_obj *old,
                              struct meta_topic_obj *new_t)
{
	ptrdiff_t at = meta_image_topic_index(img, old->pub.name, strlen(old->pub.name));
	ptrdiff_t slot = id_slot(img, old->pub.id);

	SL_ASSERT(at >= 0 && img->topics[at] == old);
	SL_ASSERT(slot >= 0);
	SL_ASSERT(strcmp(old->pub.name, new_t->pub.name) == 0);
	SL_ASSERT(sl_uuid_eq(&old->pub.id, &new_t->pub.id));
	img->topics[at] = new_t;
	img->id_slots[slot] = new_t;
	meta_topic_obj_unref(old);
}

/* ---- public accessors --------------------------------------------------------------------- */

int64_t meta_image_offset(const struct meta_image *img)
{
	return img->offset;
}

int16_t meta_image_metadata_version(const struct meta_image *img)
{
	return img->cluster->metadata_version;
}

size_t meta_image_topic_count(const struct meta_image *img)
{
	return img->topic_count;
}

const struct meta_topic *meta_image_topic_at(const struct meta_image *img, size_t i)
{
	SL_ASSERT(i < img->topic_count);
	return &img->topics[i]->pub;
}

const struct meta_topic *meta_image_topic(const struct meta_image *img, const char *name,
                                          size_t name_len)
{
	ptrdiff_t at = meta_image_topic_index(img, name, name_len);

	return at < 0 ? NULL : &img->topics[at]->pub;
}

const struct meta_topic *meta_image_topic_by_id(const struct meta_image *img, struct sl_uuid id)
{
	ptrdiff_t slot = id_slot(img, id);

	return slot < 0 ? NULL : &img->id_slots[slot]->pub;
}

const char *meta_topic_config(const struct meta_topic *t, const char *name)
{
	ptrdiff_t i = cfg_find(t, name, strlen(name));

	return i < 0 ? NULL : t->configs[i].value;
}

/* ---- invariants ---------------------------------------------------------------------------- */

static void check_topic(const struct meta_topic_obj *t)
{
	const struct meta_topic *p = &t->pub;

	SL_ASSERT(t->refs > 0);
	SL_ASSERT(p->name != NULL && p->name[0] != '\0');
	SL_ASSERT(strlen(p->name) <= META_TOPIC_NAME_MAX);
	SL_ASSERT(!sl_uuid_is_zero(&p->id));
	SL_ASSERT(p->partitions == t->parts);
	SL_ASSERT(p->partition_count >= 0 && p->partition_count <= t->part_cap);
	for (int32_t i = 0; i < p->partition_count; i++) {
		const struct meta_partition *part = &p->partitions[i];

		SL_ASSERT(part->partition_id == i);
		SL_ASSERT(part->replica_count >= 0);
		SL_ASSERT(part->isr_count >= 0);
		SL_ASSERT(part->isr == part->replicas + part->replica_count);
		SL_ASSERT(part->leader >= -1);
	}
	SL_ASSERT(p->configs == t->cfgs);
	SL_ASSERT(p->config_count <= t->cfg_cap);
	for (size_t i = 0; i < p->config_count; i++) {
		SL_ASSERT(p->configs[i].name != NULL && p->configs[i].value != NULL);
		if (i > 0)
			SL_ASSERT(strcmp(p->configs[i - 1].name, p->configs[i].name) < 0);
	}
}

static void check_cluster(const struct meta_cluster *c)
{
	SL_ASSERT(c->refs > 0);
	for (size_t i = 1; i < c->broker_count; i++)
		SL_ASSERT(c->brokers[i - 1].broker_id < c->brokers[i].broker_id);
	for (size_t i = 0; i < c->controller_count; i++) {
		const struct meta_controller *m = &c->controllers[i];

		SL_ASSERT(m->controller_id >= 0);
		SL_ASSERT(i == 0 || c->controllers[i - 1].controller_id < m->controller_id);
		SL_ASSERT(m->endpoint_count == 0 || m->endpoints != NULL);
		for (size_t j = 0; j < m->endpoint_count; j++)
			SL_ASSERT(m->endpoints[j].name != NULL && m->endpoints[j].host != NULL);
	}
	for (size_t i = 1; i < c->bconf_count; i++) {
		const struct meta_broker_config *a = &c->bconfs[i - 1], *b = &c->bconfs[i];

		SL_ASSERT(a->broker_id < b->broker_id ||
		          (a->broker_id == b->broker_id && strcmp(a->name, b->name) < 0));
	}
	for (size_t i = 0; i < c->feature_count; i++) {
		SL_ASSERT(c->features[i].level != 0);
		if (i > 0)
			SL_ASSERT(strcmp(c->features[i - 1].name, c->features[i].name) < 0);
	}
	SL_ASSERT(c->metadata_version == meta_cluster_feature_level(c, "metadata.version"));
}

void meta_image_check_invariants(const struct meta_image *img)
{
	size_t in_index = 0;

	SL_ASSERT(img->refs > 0);
	SL_ASSERT(img->offset >= -1);
	SL_ASSERT(img->topic_count <= img->topic_cap || img->topic_count == 0);
	SL_ASSERT(img->id_cap == 0 || (img->id_cap & (img->id_cap - 1)) == 0);
	SL_ASSERT(img->topic_count == 0 || img->topic_count * 2 < img->id_cap);
	for (size_t i = 0; i < img->topic_count; i++) {
		const struct meta_topic_obj *t = img->topics[i];

		check_topic(t);
		if (i > 0)
			SL_ASSERT(strcmp(img->topics[i - 1]->pub.name, t->pub.name) < 0);
		SL_ASSERT(meta_image_topic_by_id(img, t->pub.id) == &t->pub);
	}
	for (size_t i = 0; i < img->id_cap; i++)
		in_index += img->id_slots[i] != NULL;
	SL_ASSERT(in_index == img->topic_count);
	check_cluster(img->cluster);
}
