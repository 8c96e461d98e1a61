/*
 * handler_util.c: small steps every request handler repeats: checking the decode of a request
 * body (malformed, or bytes left after it, closes the connection with a log line) and laying
 * out a response array in request memory.
 *
 * Invariant: nothing here keeps state; every allocation is in the request's arena.
 */
#include "brk_data.h"

bool brk_decode_ok(struct brk_request *r, enum sl_err decoded, const char *api)
{
	int16_t v = r->header.api_version;
	if (decoded != SL_OK) {
		(void)brk_close(r, "malformed %s v%d request", api, v);
		return false;
	}
	if (!wire_reader_done(&r->body)) {
		(void)brk_close(r, "%zu unexpected bytes after the %s v%d request body",
		                wire_reader_left(&r->body), api, v);
		return false;
	}
	return true;
}

void *brk_resp_array(struct brk_request *r, int32_t count, size_t size, int32_t *count_out)
{
	size_t n = count > 0 ? (size_t)count : 0;
	*count_out = (int32_t)n;
	return sl_arena_calloc(r->frame->arena, n + 1, size);
}
