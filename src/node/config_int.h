/*
 * config_int.h: private helpers shared by config.c (key table, typed values, loading),
 * config_listeners.c (roles, listeners, quorum, directories) and config_validate.c (the
 * cross-key KRaft rules).
 */
#ifndef SL_NODE_CONFIG_INT_H
#define SL_NODE_CONFIG_INT_H

#include "config.h"

struct cfg_ctx {
	const struct sl_props *props; /* file values with overrides applied */
	struct node_config *c;
	struct node_config_warnings *w; /* may be NULL */
	char *err;
	size_t err_len;
};

/* A comma-separated list item, trimmed, borrowed from the value string. */
struct cfg_tok {
	const char *p;
	size_t n;
};

/* The configured value of key, else its default; NULL when neither exists. */
const char *cfg_value(const struct cfg_ctx *x, const char *key);
/* True when key was given in the file or as an override. */
bool cfg_is_set(const struct cfg_ctx *x, const char *key);

/* "Invalid value <v> for configuration <key>: <why>"; returns SL_ECONFIG. */
enum sl_err cfg_bad(struct cfg_ctx *x, const char *key, const char *v, size_t v_len,
                    const char *why_fmt, ...) SL_PRINTF(5, 6);
/* A cross-key error sentence; returns SL_ECONFIG. */
enum sl_err cfg_fail(struct cfg_ctx *x, const char *fmt, ...) SL_PRINTF(2, 3);
void cfg_warn(struct cfg_ctx *x, const char *fmt, ...) SL_PRINTF(2, 3);

/* Next non-empty item of a comma-separated list at *cursor (advanced). */
bool cfg_next_token(const char **cursor, struct cfg_tok *out);
bool cfg_tok_eq(struct cfg_tok t, const char *s);
bool cfg_tok_ieq(struct cfg_tok t, const char *s);
/* Strict decimal integer in [min, max]; false on junk, sign-only, overflow or range. */
bool cfg_parse_i64(const char *p, size_t n, int64_t min, int64_t max, int64_t *out);

/* config_listeners.c: the structured keys. */
enum sl_err cfg_parse_structured(struct cfg_ctx *x) SL_MUST_USE;
/* config_validate.c: KafkaConfig.validateValues' KRaft rules. */
enum sl_err cfg_validate(struct cfg_ctx *x) SL_MUST_USE;

#endif
