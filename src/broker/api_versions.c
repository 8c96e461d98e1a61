/*
 * api_versions.c: ApiVersions (key 18), KIP-35 / KIP-511.
 *
 * The advertised ranges come from the API table (brk_api_ranges), filtered by the listener the
 * request arrived on. v3+ requests must name the client software with
 * [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? or get INVALID_REQUEST with no api keys, as
 * Kafka's ApiVersionsRequest.isValid does. A version we do not know gets the v0-format
 * UNSUPPORTED_VERSION reply listing only ApiVersions (KIP-511), built by hand because the
 * requested version has no codec.
 */
#include "brk_int.h"

#define BRK_API_VERSIONS_KEY 18
#define BRK_API_RANGES_MAX 128

static bool ascii_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Kafka's pattern for ClientSoftwareName / ClientSoftwareVersion. */
static bool software_field_valid(struct wire_str s)
{
	if (s.len <= 0)
		return false;
	for (int32_t i = 0; i < s.len; i++) {
		char ch = s.ptr[i];
		bool edge = i == 0 || i == s.len - 1;
		if (ascii_alnum(ch))
			continue;
		if (!edge && (ch == '-' || ch == '.'))
			continue;
		return false;
	}
	return true;
}

void brk_api_versions_unsupported(struct sl_buf *resp, int32_t correlation_id)
{
	const struct brk_api *api = brk_api_find(BRK_API_VERSIONS_KEY);
	SL_ASSERT(api != NULL);
	wire_response_header_encode(resp, 0, correlation_id);
	struct wire_api_versions_response_api_version entry = {
	        .api_key = BRK_API_VERSIONS_KEY,
	        .min_version = api->min_version,
	        .max_version = api->max_version,
	};
	struct wire_api_versions_response body;
	wire_api_versions_response_init(&body);
	body.error_code = WIRE_ERR_UNSUPPORTED_VERSION;
	body.api_keys_count = 1;
	body.api_keys = &entry;
	wire_api_versions_response_encode(resp, 0, &body);
}

enum brk_outcome brk_handle_api_versions(struct brk_request *r)
{
	int16_t v = r->header.api_version;
	struct wire_api_versions_request req;
	if (wire_api_versions_request_decode(&r->body, v, &req) != SL_OK)
		return brk_close(r, "malformed ApiVersions v%d request", v);
	if (!wire_reader_done(&r->body))
		return brk_close(r, "%zu unexpected bytes after the ApiVersions v%d request body",
		                 wire_reader_left(&r->body), v);
	struct wire_api_versions_response resp;
	wire_api_versions_response_init(&resp);
	resp.api_keys_count = 0;
	if (v >= 3 && (!software_field_valid(req.client_software_name) ||
	               !software_field_valid(req.client_software_version))) {
		resp.error_code = WIRE_ERR_INVALID_REQUEST;
		wire_api_versions_response_encode(r->resp, v, &resp);
		return BRK_RESPOND;
	}
	struct brk_api_range ranges[BRK_API_RANGES_MAX];
	size_t n = brk_api_ranges(r->frame->is_controller_listener, ranges, BRK_API_RANGES_MAX);
	SL_ASSERT(n <= BRK_API_RANGES_MAX);
	struct wire_api_versions_response_api_version *keys =
	        sl_arena_calloc(r->frame->arena, n, sizeof(*keys));
	if (keys == NULL)
		return brk_close(r, "out of request memory for the ApiVersions response");
	for (size_t i = 0; i < n; i++) {
		keys[i].api_key = ranges[i].api_key;
		keys[i].min_version = ranges[i].min_version;
		keys[i].max_version = ranges[i].max_version;
	}
	resp.error_code = WIRE_ERR_NONE;
	resp.api_keys_count = (int32_t)n;
	resp.api_keys = keys;
	wire_api_versions_response_encode(r->resp, v, &resp);
	return BRK_RESPOND;
}
