/*
 * meta_int.h: private structures of the metadata image (image.c, delta.c, image_diff.c) and
 * helpers shared by the controller decisions (controller_logic.c, records_out.c).
 *
 * Ownership: an image holds one reference on each topic object and on its cluster object.
 * A topic object with refs == 1 that sits in a delta's working image belongs to that delta
 * alone and may be changed in place; anything with refs > 1 is shared and is copied first.
 * Every string and array inside a topic or cluster object is owned by that object (malloc).
 */
#ifndef SL_META_INT_H
#define SL_META_INT_H

#include "metadata.h"

/* A topic shared by images. pub is first so a const struct meta_topic * converts back. */
struct meta_topic_obj {
	struct meta_topic pub;
	uint32_t refs;
	struct meta_partition *parts; /* == pub.partitions; each replicas/isr block malloc'd */
	int32_t part_cap;
	struct meta_config *cfgs; /* == pub.configs; name/value malloc'd */
	size_t cfg_cap;
};

struct meta_broker_config {
	int32_t broker_id; /* -1 = cluster default ("") */
	char *name;
	char *value;
};

struct meta_feature {
	char *name;
	int16_t level;
};

/* Cluster-level state: brokers, controllers, broker configs, features. Copied as a whole on change.
 */
struct meta_cluster {
	uint32_t refs;
	size_t broker_count;
	struct meta_broker *brokers; /* ascending broker_id; strings/arrays malloc'd */
	size_t controller_count;
	struct meta_controller *controllers; /* ascending controller_id; strings/arrays malloc'd */
	size_t bconf_count;
	struct meta_broker_config *bconfs; /* ascending (broker_id, name) */
	size_t feature_count;
	struct meta_feature *features; /* ascending name */
	int16_t metadata_version;
	int8_t zk_migration_state;
	int64_t next_producer_id;
};

struct meta_image {
	uint32_t refs;
	int64_t offset;
	struct meta_cluster *cluster;
	size_t topic_count;
	size_t topic_cap;
	struct meta_topic_obj **topics; /* ascending name (strcmp) */
	size_t id_cap;                  /* power of two, > 2 * topic_count; 0 = no table */
	struct meta_topic_obj **id_slots;
};

static inline struct meta_topic_obj *meta_topic_obj_of(const struct meta_topic *t)
{
	return (struct meta_topic_obj *)(uintptr_t)t;
}

/* ---- topic objects (image.c) ---- */
struct meta_topic_obj *meta_topic_obj_new(const char *name, size_t name_len, struct sl_uuid id);
struct meta_topic_obj *meta_topic_obj_clone(const struct meta_topic_obj *t);
void meta_topic_obj_unref(struct meta_topic_obj *t);
/* Sets (value != NULL) or removes a topic override. false on ENOMEM. */
bool meta_topic_obj_set_config(struct meta_topic_obj *t, const char *name, size_t name_len,
                               const char *value, size_t value_len);
/* Copies replicas/isr into partition slot id (id <= partition_count). false on ENOMEM. */
bool meta_topic_obj_set_partition(struct meta_topic_obj *t, const struct meta_partition *p);

/* ---- clusters (image.c) ---- */
struct meta_cluster *meta_cluster_new(void);
struct meta_cluster *meta_cluster_clone(const struct meta_cluster *c);
void meta_cluster_unref(struct meta_cluster *c);
bool meta_cluster_set_bconf(struct meta_cluster *c, int32_t broker_id, const char *name,
                            size_t name_len, const char *value, size_t value_len);
bool meta_cluster_set_feature(struct meta_cluster *c, const char *name, size_t name_len,
                              int16_t level);
/* Index of broker id or -(insertion point) - 1. */
ptrdiff_t meta_cluster_broker_index(const struct meta_cluster *c, int32_t broker_id);
void meta_broker_free(struct meta_broker *b);
/* Deep copy of a broker registration into *out. false on ENOMEM (out then freed). */
bool meta_broker_copy(struct meta_broker *out, const struct meta_broker *in);
int16_t meta_cluster_feature_level(const struct meta_cluster *c, const char *name);
/* Index of controller id or -(insertion point) - 1. */
ptrdiff_t meta_cluster_controller_index(const struct meta_cluster *c, int32_t controller_id);
void meta_controller_free(struct meta_controller *m);
/* Deep copy of a controller registration into *out. false on ENOMEM (out then freed). */
bool meta_controller_copy(struct meta_controller *out, const struct meta_controller *in);
/* Inserts m (the cluster takes its strings and arrays), replacing a registration with the same
 * id. false on ENOMEM (m then freed). */
bool meta_cluster_put_controller(struct meta_cluster *c, struct meta_controller *m);

/* ---- image topic tables (image.c) ---- */
/* Copies the tables of src (taking references on topics and cluster) into a new image. */
struct meta_image *meta_image_copy(const struct meta_image *src);
/* Inserts t (the image takes the caller's reference). false on ENOMEM. */
bool meta_image_insert_topic(struct meta_image *img, struct meta_topic_obj *t);
/* Removes the topic (drops the image's reference). */
void meta_image_remove_topic(struct meta_image *img, struct meta_topic_obj *t);
/* Replaces old with new_t at the same name/id (drops old's reference, takes new_t's). */
void meta_image_replace_topic(struct meta_image *img, struct meta_topic_obj *old,
                              struct meta_topic_obj *new_t);
/* Index of name in topics, or -(insertion point) - 1. */
ptrdiff_t meta_image_topic_index(const struct meta_image *img, const char *name, size_t len);

/* ---- helpers shared by the decisions ---- */
/* Kafka's '.'/'_' collision: equal after mapping '.' to '_'. */
bool meta_topic_names_collide(const char *a, size_t a_len, const char *b, size_t b_len);
/* Appends one framed record (key, version, struct) to out. false when out is full
 * (META_BATCH_RECORDS_MAX) or the arena is exhausted. */
bool meta_records_add(struct meta_records *out, int16_t key, int16_t version, const void *rec);

#endif
