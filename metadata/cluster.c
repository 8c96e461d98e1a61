/*
 * cluster.c: the cluster-level part of an image (registered brokers and controllers, broker
 * and cluster configs, finalized features, migration state, producer id block), one
 * reference-counted object shared by images and copied as a whole by a delta that changes it.
 *
 * Invariants: brokers strictly ascending by id; controllers strictly ascending by id (one
 * registration per id, endpoints with non-NULL name and host); broker configs strictly ascending by
 * (broker_id, name) with broker_id -1 for the cluster default; features strictly ascending by
 * name, never with level 0; metadata_version mirrors the "metadata.version" feature.
 */
#include "meta_int.h"

#include <stdlib.h>
#include <string.h>

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *dup_opt(const char *s)
{
	return s == NULL ? NULL : dup_n(s, strlen(s));
}

struct meta_cluster *meta_cluster_new(void)
{
	struct meta_cluster *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->refs = 1;
	c->zk_migration_state = -1;
	return c;
}

void meta_broker_free(struct meta_broker *b)
{
	for (size_t i = 0; i < b->endpoint_count; i++) {
		free((void *)(uintptr_t)b->endpoints[i].name);
		free((void *)(uintptr_t)b->endpoints[i].host);
	}
	free((void *)(uintptr_t)b->endpoints);
	free((void *)(uintptr_t)b->rack);
	memset(b, 0, sizeof(*b));
}

bool meta_broker_copy(struct meta_broker *out, const struct meta_broker *in)
{
	struct meta_endpoint *eps = calloc(SL_MAX((size_t)1, in->endpoint_count), sizeof(*eps));

	*out = *in;
	out->endpoints = eps;
	out->endpoint_count = 0;
	out->rack = NULL;
	if (eps == NULL)
		return false;
	for (size_t i = 0; i < in->endpoint_count; i++) {
		eps[i] = in->endpoints[i];
		eps[i].name = dup_opt(in->endpoints[i].name);
		eps[i].host = dup_opt(in->endpoints[i].host);
		out->endpoint_count++;
		if (eps[i].name == NULL || eps[i].host == NULL)
			goto fail;
	}
	if (in->rack != NULL && (out->rack = dup_opt(in->rack)) == NULL)
		goto fail;
	return true;
fail:
	meta_broker_free(out);
	return false;
}

static void endpoints_free(const struct meta_endpoint *eps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((void *)(uintptr_t)eps[i].name);
		free((void *)(uintptr_t)eps[i].host);
	}
	free((void *)(uintptr_t)eps);
}

/* A deep copy of n endpoints in *out (at least one slot); *copied says how many were copied
 * (the caller frees them on failure). false on ENOMEM. */
static bool endpoints_copy(const struct meta_endpoint **out, size_t *copied,
                           const struct meta_endpoint *in, size_t n)
{
	struct meta_endpoint *eps = calloc(SL_MAX((size_t)1, n), sizeof(*eps));

	*out = eps;
	*copied = 0;
	if (eps == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		eps[i] = in[i];
		eps[i].name = dup_opt(in[i].name);
		eps[i].host = dup_opt(in[i].host);
		(*copied)++;
		if (eps[i].name == NULL || eps[i].host == NULL)
			return false;
	}
	return true;
}

void meta_controller_free(struct meta_controller *m)
{
	endpoints_free(m->endpoints, m->endpoint_count);
	memset(m, 0, sizeof(*m));
}

bool meta_controller_copy(struct meta_controller *out, const struct meta_controller *in)
{
	*out = *in;
	if (endpoints_copy(&out->endpoints, &out->endpoint_count, in->endpoints,
	                   in->endpoint_count))
		return true;
	meta_controller_free(out);
	return false;
}

ptrdiff_t meta_cluster_controller_index(const struct meta_cluster *c, int32_t controller_id)
{
	size_t lo = 0, hi = c->controller_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->controllers[mid].controller_id == controller_id)
			return (ptrdiff_t)mid;
		if (c->controllers[mid].controller_id > controller_id)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(ptrdiff_t)lo - 1;
}

bool meta_cluster_put_controller(struct meta_cluster *c, struct meta_controller *m)
{
	ptrdiff_t i = meta_cluster_controller_index(c, m->controller_id);
	struct meta_controller *n;

	if (i >= 0) {
		meta_controller_free(&c->controllers[i]);
		c->controllers[i] = *m;
		return true;
	}
	n = realloc(c->controllers, sizeof(*n) * (c->controller_count + 1));
	if (n == NULL) {
		meta_controller_free(m);
		return false;
	}
	c->controllers = n;
	i = -i - 1;
	memmove(&n[i + 1], &n[i], sizeof(*n) * (c->controller_count - (size_t)i));
	n[i] = *m;
	c->controller_count++;
	return true;
}

void meta_cluster_unref(struct meta_cluster *c)
{
	SL_ASSERT(c->refs > 0);
	if (--c->refs > 0)
		return;
	for (size_t i = 0; i < c->broker_count; i++)
		meta_broker_free(&c->brokers[i]);
	for (size_t i = 0; i < c->controller_count; i++)
		meta_controller_free(&c->controllers[i]);
	for (size_t i = 0; i < c->bconf_count; i++) {
		free(c->bconfs[i].name);
		free(c->bconfs[i].value);
	}
	for (size_t i = 0; i < c->feature_count; i++)
		free(c->features[i].name);
	free(c->brokers);
	free(c->controllers);
	free(c->bconfs);
	free(c->features);
	free(c);
}

struct meta_cluster *meta_cluster_clone(const struct meta_cluster *src)
{
	struct meta_cluster *c = meta_cluster_new();

	if (c == NULL)
		return NULL;
	c->metadata_version = src->metadata_version;
	c->zk_migration_state = src->zk_migration_state;
	c->next_producer_id = src->next_producer_id;
	c->brokers = calloc(SL_MAX((size_t)1, src->broker_count), sizeof(*c->brokers));
	c->controllers = calloc(SL_MAX((size_t)1, src->controller_count), sizeof(*c->controllers));
	c->bconfs = calloc(SL_MAX((size_t)1, src->bconf_count), sizeof(*c->bconfs));
	c->features = calloc(SL_MAX((size_t)1, src->feature_count), sizeof(*c->features));
	if (c->brokers == NULL || c->controllers == NULL || c->bconfs == NULL ||
	    c->features == NULL)
		goto fail;
	for (size_t i = 0; i < src->broker_count; i++) {
		if (!meta_broker_copy(&c->brokers[i], &src->brokers[i]))
			goto fail;
		c->broker_count++;
	}
	for (size_t i = 0; i < src->controller_count; i++) {
		if (!meta_controller_copy(&c->controllers[i], &src->controllers[i]))
			goto fail;
		c->controller_count++;
	}
	for (size_t i = 0; i < src->bconf_count; i++) {
		struct meta_broker_config *b = &c->bconfs[i];

		b->broker_id = src->bconfs[i].broker_id;
		b->name = dup_opt(src->bconfs[i].name);
		b->value = dup_opt(src->bconfs[i].value);
		c->bconf_count++;
		if (b->name == NULL || b->value == NULL)
			goto fail;
	}
	for (size_t i = 0; i < src->feature_count; i++) {
		c->features[i].level = src->features[i].level;
		c->features[i].name = dup_opt(src->features[i].name);
		c->feature_count++;
		if (c->features[i].name == NULL)
			goto fail;
	}
	return c;
fail:
	meta_cluster_unref(c);
	return NULL;
}

static int bconf_cmp(const struct meta_broker_config *a, int32_t id, const char *name, size_t len)
{
	size_t alen;
	int c;

	if (a->broker_id != id)
		return a->broker_id < id ? -1 : 1;
	alen = strlen(a->name);
	c = memcmp(a->name, name, SL_MIN(alen, len));
	if (c != 0)
		return c;
	return alen < len ? -1 : alen > len ? 1 : 0;
}

/* Index of (id, name) or -(insertion point) - 1. */
static ptrdiff_t bconf_find(const struct meta_cluster *c, int32_t id, const char *name, size_t len)
{
	size_t lo = 0, hi = c->bconf_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = bconf_cmp(&c->bconfs[mid], id, name, len);

		if (r == 0)
			return (ptrdiff_t)mid;
		if (r > 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(ptrdiff_t)lo - 1;
}

bool meta_cluster_set_bconf(struct meta_cluster *c, int32_t broker_id, const char *name,
                            size_t name_len, const char *value, size_t value_len)
{
	ptrdiff_t i = bconf_find(c, broker_id, name, name_len);
	struct meta_broker_config *n;
	char *v;

	if (value == NULL) {
		if (i < 0)
			return true;
		free(c->bconfs[i].name);
		free(c->bconfs[i].value);
		memmove(&c->bconfs[i], &c->bconfs[i + 1],
		        sizeof(*n) * (c->bconf_count - (size_t)i - 1));
		c->bconf_count--;
		return true;
	}
	v = dup_n(value, value_len);
	if (v == NULL)
		return false;
	if (i >= 0) {
		free(c->bconfs[i].value);
		c->bconfs[i].value = v;
		return true;
	}
	n = realloc(c->bconfs, sizeof(*n) * (c->bconf_count + 1));
	if (n == NULL) {
		free(v);
		return false;
	}
	c->bconfs = n;
	i = -i - 1;
	memmove(&n[i + 1], &n[i], sizeof(*n) * (c->bconf_count - (size_t)i));
	n[i] = (struct meta_broker_config){broker_id, dup_n(name, name_len), v};
	c->bconf_count++;
	if (n[i].name == NULL) {
		free(v);
		memmove(&n[i], &n[i + 1], sizeof(*n) * (c->bconf_count - (size_t)i - 1));
		c->bconf_count--;
		return false;
	}
	return true;
}

static ptrdiff_t feature_find(const struct meta_cluster *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->feature_count; i++) {
		if (strlen(c->features[i].name) == len &&
		    memcmp(c->features[i].name, name, len) == 0)
			return (ptrdiff_t)i;
	}
	return -1;
}

bool meta_cluster_set_feature(struct meta_cluster *c, const char *name, size_t name_len,
                              int16_t level)
{
	ptrdiff_t i = feature_find(c, name, name_len);
	size_t at = 0;
	struct meta_feature *n;

	if (name_len == 16 && memcmp(name, "metadata.version", 16) == 0)
		c->metadata_version = level;
	if (i >= 0) {
		if (level != 0) {
			c->features[i].level = level;
			return true;
		}
		free(c->features[i].name);
		memmove(&c->features[i], &c->features[i + 1],
		        sizeof(*n) * (c->feature_count - (size_t)i - 1));
		c->feature_count--;
		return true;
	}
	if (level == 0)
		return true;
	n = realloc(c->features, sizeof(*n) * (c->feature_count + 1));
	if (n == NULL)
		return false;
	c->features = n;
	while (at < c->feature_count &&
	       bconf_cmp(&(struct meta_broker_config){.name = n[at].name}, 0, name, name_len) < 0)
		at++;
	memmove(&n[at + 1], &n[at], sizeof(*n) * (c->feature_count - at));
	n[at] = (struct meta_feature){dup_n(name, name_len), level};
	c->feature_count++;
	if (n[at].name == NULL) {
		memmove(&n[at], &n[at + 1], sizeof(*n) * (c->feature_count - at - 1));
		c->feature_count--;
		return false;
	}
	return true;
}

int16_t meta_cluster_feature_level(const struct meta_cluster *c, const char *name)
{
	ptrdiff_t i = feature_find(c, name, strlen(name));

	return i < 0 ? 0 : c->features[i].level;
}

ptrdiff_t meta_cluster_broker_index(const struct meta_cluster *c, int32_t broker_id)
{
	size_t lo = 0, hi = c->broker_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->brokers[mid].broker_id == broker_id)
			return (ptrdiff_t)mid;
		if (c->brokers[mid].broker_id > broker_id)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(ptrdiff_t)lo - 1;
}

/* ---- public accessors ---------------------------------------------------------------------- */

int16_t meta_image_feature_level(const struct meta_image *img, const char *name)
{
	return meta_cluster_feature_level(img->cluster, name);
}

int8_t meta_image_zk_migration_state(const struct meta_image *img)
{
	return img->cluster->zk_migration_state;
}

int64_t meta_image_next_producer_id(const struct meta_image *img)
{
	return img->cluster->next_producer_id;
}

size_t meta_image_broker_count(const struct meta_image *img)
{
	return img->cluster->broker_count;
}

const struct meta_broker *meta_image_broker_at(const struct meta_image *img, size_t i)
{
	SL_ASSERT(i < img->cluster->broker_count);
	return &img->cluster->brokers[i];
}

const struct meta_broker *meta_image_broker(const struct meta_image *img, int32_t broker_id)
{
	ptrdiff_t i = meta_cluster_broker_index(img->cluster, broker_id);

	return i < 0 ? NULL : &img->cluster->brokers[i];
}

size_t meta_image_controller_count(const struct meta_image *img)
{
	return img->cluster->controller_count;
}

const struct meta_controller *meta_image_controller_at(const struct meta_image *img, size_t i)
{
	SL_ASSERT(i < img->cluster->controller_count);
	return &img->cluster->controllers[i];
}

const struct meta_controller *meta_image_controller(const struct meta_image *img,
                                                    int32_t controller_id)
{
	ptrdiff_t i = meta_cluster_controller_index(img->cluster, controller_id);

	return i < 0 ? NULL : &img->cluster->controllers[i];
}

const char *meta_image_broker_config(const struct meta_image *img, int32_t broker_id,
                                     const char *name)
{
	ptrdiff_t i = bconf_find(img->cluster, broker_id, name, strlen(name));

	return i < 0 ? NULL : img->cluster->bconfs[i].value;
}
