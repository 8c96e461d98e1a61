/*
 * fetch_int.h: private declarations shared by fetch.c (handler, reads, long polls),
 * fetch_session.c (KIP-227 fetch sessions) and fetch_encode.c (the hand-written response
 * encoder with zero-copy record ranges).
 *
 * A Fetch request becomes one struct fetch_ctx in the request's arena: the partitions to read
 * (struct fetch_part, in response order), the session it belongs to, and, while it is parked
 * (long poll), the links into every fetched partition's waits list and its timer.
 *
 * Invariants:
 * - A parked fetch_ctx is on the broker's parked list and linked into the waits list of each
 *   of its known partitions until it is answered; once answered (`answered`) it is on no waits
 *   list, its response is encoded, and it is finished only when no io op of it is in flight
 *   (the timer and the cancel op live in the request's arena).
 * - A fetch_part's session entry pointer `sp` is used only while the session still has the
 *   id and generation recorded in the fetch_ctx (any structural change bumps the generation).
 */
#ifndef SL_FETCH_INT_H
#define SL_FETCH_INT_H

#include "brk_int.h"

#define FETCH_SESSION_EVICTION_MS 120000    /* Kafka's min.incremental.fetch.session.eviction.ms */
#define FETCH_SESSION_PARTITIONS_MAX 100000 /* partitions one session may hold */
/* Entries (capacity) of all sessions together (~300 bytes each): without it every slot could
 * hold FETCH_SESSION_PARTITIONS_MAX entries. A fetch over the budget is sessionless. */
#define FETCH_SESSIONS_PARTITIONS_TOTAL_MAX 150000

/* One partition of a fetch session (KIP-227 CachedPartition). */
struct fetch_session_part {
	char topic[META_TOPIC_NAME_MAX + 1];
	struct sl_uuid topic_id;
	int32_t partition;
	int64_t fetch_offset;
	int32_t partition_max_bytes;
	int64_t last_high_watermark; /* last value sent; -1 = never sent */
	int64_t last_log_start_offset;
};

/* A session slot; id 0 = free. */
struct fetch_session {
	int32_t id;
	int32_t epoch; /* the epoch the next incremental request must carry */
	bool uses_topic_ids;
	uint64_t gen;
	int64_t last_used_ms;
	uint32_t count;
	uint32_t cap;
	struct fetch_session_part *parts; /* malloc'd; grows only when partitions are added */
};

/* brk->sessions: the session cache and the parked fetches. */
struct brk_fetch_sessions {
	struct fetch_session *slots; /* max_incremental_fetch_session_cache_slots of them */
	uint32_t slot_count;
	uint32_t used;
	uint64_t parts_total;     /* sum of the sessions' cap, <= parts_total_max */
	uint64_t parts_total_max; /* FETCH_SESSIONS_PARTITIONS_TOTAL_MAX (tests lower it) */
	uint64_t gen_next;
	uint64_t rng;
	struct fetch_ctx *parked; /* doubly linked */
	unsigned parked_count;
	uint64_t wake_seq;
	int64_t (*now_ms)(void); /* monotonic clock (tests replace it) */
};

/* A link of a parked fetch in one partition's waits list. */
struct brk_fetch_wait {
	struct fetch_ctx *ctx;
	struct brk_partition *p;
	struct brk_fetch_wait *prev;
	struct brk_fetch_wait *next;
};

struct fetch_part {
	struct wire_str topic; /* view into the request frame or a copy in the arena */
	struct sl_uuid topic_id;
	int32_t partition;
	int64_t fetch_offset;
	int32_t partition_max_bytes;
	int16_t error;           /* known before reading (unknown partition, ...); else NONE */
	struct brk_partition *p; /* NULL when error != NONE */
	struct fetch_session_part *sp; /* session entry (see the invariants) or NULL */
	/* The last read (fetch_read_all). */
	int16_t result_error;
	int64_t high_watermark;
	int64_t log_start_offset;
	struct stor_file_range range;
	bool include; /* in the response (fetch_encode decides) */
};

struct fetch_ctx {
	struct brk *b;
	struct brk_request *r;
	int16_t version;
	int8_t isolation_level;
	int32_t min_bytes;
	int32_t max_bytes;
	int32_t max_wait_ms;
	bool from_follower; /* replica id >= 0: every partition NOT_LEADER_OR_FOLLOWER */
	int16_t error_code; /* top-level (session errors); then no partitions */
	int32_t session_id; /* in the reply */
	struct fetch_session *session;
	uint64_t session_gen;
	bool incremental;
	size_t part_count;
	struct fetch_part *parts;
	/* Result of the last fetch_read_all. */
	uint64_t bytes;
	bool has_error;
	/* Long poll. */
	struct brk_fetch_wait *links;
	size_t link_count;
	struct io_op timer;
	struct io_op cancel;
	unsigned ops_in_flight;
	bool answered;
	uint64_t wake_seq;
	struct fetch_ctx *prev;
	struct fetch_ctx *next;
};

/* ---- fetch_session.c ---- */
/* Resolves the request's partitions into ctx->parts according to its session fields (v7+;
 * below v7 every fetch is sessionless): creates, updates or closes sessions and sets
 * ctx->session_id, or sets ctx->error_code (FETCH_SESSION_ID_NOT_FOUND,
 * INVALID_FETCH_SESSION_EPOCH, FETCH_SESSION_TOPIC_ID_ERROR) with no partitions. SL_ENOMEM
 * when the request's arena is exhausted. */
enum sl_err fetch_session_resolve(struct fetch_ctx *ctx,
                                  const struct wire_fetch_request *req) SL_MUST_USE;
/* Resolves one requested partition (topic by name below v13, by id from v13). */
void fetch_part_resolve(struct fetch_ctx *ctx, struct fetch_part *fp);
/* The session entry of fp, or NULL if the session changed since the request resolved. */
struct fetch_session_part *fetch_session_entry(const struct fetch_ctx *ctx,
                                               const struct fetch_part *fp);
/* Test hook: replaces the session cache's clock (NULL restores the monotonic clock). */
void fetch_sessions_set_clock(struct brk *b, int64_t (*now_ms)(void));
/* TEST ONLY: lowers the partition budget of all sessions together (default
 * FETCH_SESSIONS_PARTITIONS_TOTAL_MAX) so a test reaches it with small requests. */
void fetch_sessions_set_partitions_total_max(struct brk *b, uint64_t max);
/* Sessions in use (tests). */
uint32_t fetch_sessions_used(const struct brk *b);

/* ---- fetch_encode.c ---- */
/* Decides which partitions go into the response (all, or for an incremental session only
 * those with news: records, a high watermark or log start change, an error), updates the
 * session's last-sent values, and appends the response body to r->resp: record bytes as file
 * ranges (net_resp_add_file) when the frame has a net request, else copied with pread.
 * Never fails: a range that cannot be added is sent as empty records. */
void fetch_encode(struct fetch_ctx *ctx);

#endif
