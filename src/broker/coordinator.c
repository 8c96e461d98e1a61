/*
 * coordinator.c: FindCoordinator (key 10), v0-4 (key_type v1+; v4 batches keys, KIP-699).
 *
 * Sluice has no group or transaction coordinator yet, so every key of a known type (0 group,
 * 1 transaction) is answered COORDINATOR_NOT_AVAILABLE with node_id -1, host "" and port -1:
 * a retriable error, so clients keep asking in the background without breaking what does not
 * need a coordinator (assign()-based consumption, plain produce). Serving the API at all
 * matters: librdkafka 2.0.2 enables LZ4 only when ApiVersions lists FindCoordinator
 * (kraft.md §7.3). An unknown key_type (2, share groups, is v6+) gets INVALID_REQUEST.
 *
 * Invariant: v0-3 answer the single key at top level; v4 answers one coordinator per
 * coordinator_keys entry, in request order (a null array gets an empty one).
 */
#include "brk_int.h"

#include <stdio.h>

#define BRK_COORD_KEY_GROUP 0
#define BRK_COORD_KEY_TRANSACTION 1

static const char brk_coord_unavailable_msg[] =
        "consumer groups and transactions are not supported yet";

/* The error (and its message, in r's arena) that every key of key_type gets. */
static int16_t coord_error(struct brk_request *r, int8_t key_type, struct wire_str *message)
{
	if (key_type == BRK_COORD_KEY_GROUP || key_type == BRK_COORD_KEY_TRANSACTION) {
		*message = wire_str_c(brk_coord_unavailable_msg);
		return WIRE_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	enum { MSG_MAX = 64 };
	char *msg = sl_arena_alloc(r->frame->arena, MSG_MAX);
	if (msg != NULL)
		snprintf(msg, MSG_MAX, "Unknown coordinator key type %d", key_type);
	*message = wire_str_c(msg != NULL ? msg : "Unknown coordinator key type");
	return WIRE_ERR_INVALID_REQUEST;
}

enum brk_outcome brk_handle_find_coordinator(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_find_coordinator_request req;
	if (wire_find_coordinator_request_decode(&r->body, v, &req) != SL_OK)
		return brk_close(r, "malformed FindCoordinator v%d request", v);
	if (!wire_reader_done(&r->body))
		return brk_close(r,
		                 "%zu unexpected bytes after the FindCoordinator v%d request body",
		                 wire_reader_left(&r->body), v);
	struct wire_str message;
	int16_t err = coord_error(r, req.key_type, &message);

	struct wire_find_coordinator_response resp;
	wire_find_coordinator_response_init(&resp);
	resp.throttle_time_ms = 0;
	if (v < 4) {
		resp.error_code = err;
		resp.error_message = message;
		resp.node_id = -1;
		resp.host = wire_str_c("");
		resp.port = -1;
		wire_find_coordinator_response_encode(r->resp, v, &resp);
		return BRK_RESPOND;
	}
	resp.coordinators_count = req.coordinator_keys_count > 0 ? req.coordinator_keys_count : 0;
	if (resp.coordinators_count > 0) {
		resp.coordinators =
		        sl_arena_calloc(r->frame->arena, (size_t)resp.coordinators_count,
		                        sizeof(*resp.coordinators));
		if (resp.coordinators == NULL)
			return brk_close(r, "out of request memory (FindCoordinator v%d)", v);
	}
	for (int32_t i = 0; i < resp.coordinators_count; i++) {
		struct wire_find_coordinator_response_coordinator *c = &resp.coordinators[i];
		wire_find_coordinator_response_coordinator_init(c);
		c->key = req.coordinator_keys[i];
		c->node_id = -1;
		c->host = wire_str_c("");
		c->port = -1;
		c->error_code = err;
		c->error_message = message;
	}
	wire_find_coordinator_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}
