/*
 * admin_int.h: private helpers shared by the broker's admin handlers (topics_admin.c,
 * configs.c, metadata.c): a request waiting on several controller proposals, and the
 * resolution of effective config values (override > dynamic broker > static broker > default).
 *
 * Proposal flow (one proposal per topic or resource, like Kafka's per-item results): a handler
 * decides each item against ctl_view(), proposes it with brk_admin_propose() (the next item's
 * decision sees the previous one's effect) and ends with brk_admin_end(): when every proposal
 * already finished the reply is encoded at once (BRK_RESPOND), otherwise the request is parked
 * and the reply is encoded from the last proposal's done callback. Invariant: the encode
 * callback runs exactly once, after every op's error is final.
 */
#ifndef SL_BRK_ADMIN_INT_H
#define SL_BRK_ADMIN_INT_H

#include "brk_data.h" /* brk_int.h and the request helpers */

/* Kafka's ConfigSource. */
enum brk_config_source {
	BRK_SRC_UNKNOWN = 0,
	BRK_SRC_TOPIC = 1,           /* DYNAMIC_TOPIC_CONFIG */
	BRK_SRC_DYNAMIC_BROKER = 2,  /* DYNAMIC_BROKER_CONFIG */
	BRK_SRC_DYNAMIC_DEFAULT = 3, /* DYNAMIC_DEFAULT_BROKER_CONFIG */
	BRK_SRC_STATIC_BROKER = 4,   /* STATIC_BROKER_CONFIG */
	BRK_SRC_DEFAULT = 5,         /* DEFAULT_CONFIG */
};

struct brk_admin_batch;
/* Encodes the reply into r->resp (BRK_RESPOND) or sets the reason (BRK_CLOSE). */
typedef enum brk_outcome brk_admin_encode_fn(struct brk_admin_batch *batch);

struct brk_admin_batch {
	struct brk_request *r;
	brk_admin_encode_fn *encode;
	void *ctx;                /* the handler's state */
	unsigned outstanding;     /* proposals not done + 1 while submitting */
	bool parked;              /* the handler returned BRK_PENDING */
	int16_t propose_error;    /* error code for a proposal that failed */
	const char *propose_what; /* "CreateTopics", for the log line */
};

/* One proposed item; error_code/error_message are final when encode runs. */
struct brk_admin_op {
	struct brk_admin_batch *batch;
	int16_t error_code;
	const char *error_message; /* NULL = null; static or arena memory */
};

/* The controller an admin item is decided with, or NULL with *code and *msg set: the
 * forwarding error (r->forward_error), or NOT_CONTROLLER when this node has no controller. */
struct ctl *brk_admin_ctl(struct brk_request *r, int16_t *code, const char **msg);

/* propose_error: the code an op gets when its proposal fails (log offline). */
void brk_admin_begin(struct brk_admin_batch *batch, struct brk_request *r,
                     brk_admin_encode_fn *encode, void *ctx, int16_t propose_error,
                     const char *what);
/* Proposes recs (may be empty: completes at once) for op through brk->opts.ctl (not NULL).
 * op must live in request memory; its error is set on failure. */
void brk_admin_propose(struct brk_admin_batch *batch, struct brk_admin_op *op,
                       const struct meta_records *recs);
/* Ends submission: encodes now, or parks the request until the last proposal is done. */
enum brk_outcome brk_admin_end(struct brk_admin_batch *batch);

/* Marks in dup[i] (request memory, count entries) every name that occurs more than once in
 * names[0..count) (O(n log n)); *first_out (if not NULL) gets, per entry, the smallest index
 * holding the same name (itself when unique). NULL when the arena is exhausted. Null names
 * never match. */
bool *brk_admin_dups(struct brk_request *r, const struct wire_str *names, size_t count,
                     size_t **first_out);

/* Copies a wire_str into NUL-terminated request memory; NULL for null or no memory. */
char *brk_admin_strdup(struct brk_request *r, struct wire_str s);
/* Kafka-style message in request memory (NULL when the arena is exhausted). */
const char *brk_admin_msg(struct brk_request *r, const char *fmt, ...) SL_PRINTF(2, 3);
/* The controller's result as an op error (message NULL when empty). */
void brk_admin_set_result(struct brk_request *r, struct brk_admin_op *op,
                          const struct meta_ctl_result *res);
/* Ends op's decision by the controller: op's error from res (brk_admin_set_result) and, when
 * res accepted the change and !validate_only, the proposal of recs (brk_admin_propose). */
void brk_admin_settle(struct brk_admin_batch *batch, struct brk_admin_op *op,
                      const struct meta_records *recs, const struct meta_ctl_result *res,
                      bool validate_only);

/* ---- config values (configs.c) ------------------------------------------------------------ */

#define BRK_SYNONYMS_MAX 5

struct brk_config_synonym {
	const char *name;
	struct wire_str value;
	int8_t source;
};

/* Where a topic's overrides come from: a committed topic, or a CreateTopics request. */
struct brk_topic_overrides {
	const struct meta_topic *topic;  /* may be NULL */
	const struct meta_config_kv *kv; /* request configs (last one wins) */
	size_t kv_count;
};

/* The synonyms of topic config def in precedence order (the first is the effective value);
 * always at least one (the default). Returns the count. */
size_t brk_topic_config_synonyms(const struct brk *b, const struct meta_topic_config_def *def,
                                 const struct brk_topic_overrides *o,
                                 struct brk_config_synonym syn[BRK_SYNONYMS_MAX]);
/* The broker's static entry for name (opts.configs), or NULL. */
const struct brk_config_entry *brk_config_entry_find(const struct brk *b, const char *name,
                                                     size_t len);
/* Kafka's ConfigType code of our type text ("LONG" -> 5), 0 = UNKNOWN. */
int8_t brk_config_type_code(const char *type);

/* ---- topics in Metadata replies (metadata.c) ----------------------------------------------- */
/* Kafka's supported operations on a TOPIC resource (no authorizer: all allowed). */
int32_t brk_topic_operations_all(void);

#endif
