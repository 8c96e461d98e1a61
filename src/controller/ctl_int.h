/*
 * ctl_int.h: private state of the controller service (controller.c, brokers.c).
 */
#ifndef SL_CTL_INT_H
#define SL_CTL_INT_H

#include "controller.h"

struct ctl_prop; /* controller.c */

/* The active controller's view of one broker's heartbeat session (kraft.md §5.3). Sessions are
 * memory only: a controller that becomes active gives every registered broker a fresh one. */
struct ctl_session {
	int32_t broker_id;
	int64_t last_contact_ms; /* last registration or heartbeat (monotonic clock) */
	int64_t metadata_offset; /* CurrentMetadataOffset of the last heartbeat (-1 = none) */
	int64_t shutdown_offset; /* last offset of its controlled-shutdown records (-1 = none) */
	unsigned transitions;    /* fence/unfence/shutdown proposals in flight */
	bool heard;              /* this controller got a heartbeat/registration in it */
};

struct ctl {
	struct raft *log;
	struct io_loop *loop;
	struct meta_image *committed;
	struct meta_image *spec; /* NULL when nothing is in flight */
	size_t inflight;
	struct ctl_prop *last; /* the newest proposal in flight (NULL when none) */
	struct meta_ctl_env env;
	char cluster_id[64];
	int64_t session_timeout_ms;
	bool active; /* raft_is_active at the last tick */
	struct ctl_session *sessions;
	size_t session_count;
	size_t session_cap;
	struct sl_arena scratch; /* records of one decision; reset after it */
	char log_ctx[32];
};

/* brokers.c */
struct ctl_session *ctl_session_get(struct ctl *c, int32_t broker_id, bool create);
void ctl_sessions_free(struct ctl *c);

#endif
