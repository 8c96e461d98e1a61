/*
 * frame.c: request framing, response decoding and ApiVersions negotiation helpers shared by
 * the blocking tool client (client.c) and the asynchronous peer client (peer.c).
 *
 * Invariants: every length read from a response is checked by the wire reader; a response
 * body must be consumed exactly; versions tables only ever hold -1 or a version inside both
 * the server's and our codec's range.
 */
#include "frame.h"

enum sl_err net_frame_encode_request(struct sl_buf *out, int16_t api_key, int16_t version,
                                     int32_t correlation_id, const char *client_id, const void *req,
                                     size_t *header_len)
{
	size_t start = out->len;
	sl_buf_put_be32(out, 0);
	struct wire_request_header h;
	wire_request_header_init(&h);
	h.api_key = api_key;
	h.api_version = version;
	h.correlation_id = correlation_id;
	h.client_id = wire_str_c(client_id);
	wire_request_header_encode(out, &h);
	size_t hlen = out->len - start;
	wire_request_encode_any(out, api_key, version, req);
	if (sl_buf_err(out) != SL_OK)
		return SL_ENOMEM;
	SL_ASSERT(out->len >= start + 4);
	SL_ASSERT(out->len - start - 4 <= INT32_MAX);
	sl_store_be32(out->data + start, (uint32_t)(out->len - start - 4));
	if (header_len != NULL)
		*header_len = hlen;
	return SL_OK;
}

enum sl_err net_frame_decode_response(const uint8_t *body, size_t len, int16_t api_key,
                                      int16_t version, int32_t expected_corr, void *resp,
                                      struct sl_arena *arena)
{
	struct wire_reader r;
	wire_reader_init(&r, body, len, arena);
	int32_t corr;
	if (wire_response_header_decode(&r, wire_response_header_version(api_key, version),
	                                &corr) != SL_OK)
		return SL_EMALFORMED;
	if (corr != expected_corr)
		return SL_EMALFORMED;
	enum sl_err e = wire_response_decode_any(&r, api_key, version, resp);
	if (e != SL_OK)
		return e == SL_ENOMEM ? SL_ENOMEM : SL_EMALFORMED;
	return wire_reader_done(&r) ? SL_OK : SL_EMALFORMED;
}

void net_frame_api_versions_request(struct wire_api_versions_request *req,
                                    const char *software_name)
{
	wire_api_versions_request_init(req);
	req->client_software_name = wire_str_c(software_name);
	req->client_software_version = wire_str_c("0.1.0");
}

enum sl_err net_frame_decode_api_versions(const uint8_t *body, size_t len, int16_t version,
                                          int32_t expected_corr,
                                          struct wire_api_versions_response *resp,
                                          struct sl_arena *arena)
{
	wire_api_versions_response_init(resp);
	enum sl_err e = net_frame_decode_response(body, len, NET_FRAME_API_VERSIONS, version,
	                                          expected_corr, resp, arena);
	if (e != SL_OK && version > 0) {
		wire_api_versions_response_init(resp);
		e = net_frame_decode_response(body, len, NET_FRAME_API_VERSIONS, 0, expected_corr,
		                              resp, arena);
	}
	return e;
}

int16_t net_frame_api_versions_retry(const struct wire_api_versions_response *resp, int16_t sent)
{
	const struct wire_api_info *info = wire_api_info(NET_FRAME_API_VERSIONS);
	SL_ASSERT(info != NULL);
	int16_t theirs = -1;
	for (int32_t i = 0; i < resp->api_keys_count; i++)
		if (resp->api_keys[i].api_key == NET_FRAME_API_VERSIONS)
			theirs = resp->api_keys[i].max_version;
	if (theirs >= info->min_version && theirs < sent)
		return theirs;
	return -1;
}

void net_frame_versions(const struct wire_api_versions_response *resp, int16_t *versions,
                        int16_t *lo, int16_t *hi)
{
	for (size_t k = 0; k < NET_FRAME_KEYS; k++) {
		versions[k] = -1;
		if (lo != NULL)
			lo[k] = -1;
		if (hi != NULL)
			hi[k] = -1;
	}
	for (int32_t i = 0; i < resp->api_keys_count; i++) {
		const struct wire_api_versions_response_api_version *a = &resp->api_keys[i];
		if (a->api_key < 0 || a->api_key >= NET_FRAME_KEYS)
			continue;
		if (lo != NULL && hi != NULL && a->min_version <= a->max_version) {
			lo[a->api_key] = a->min_version;
			hi[a->api_key] = a->max_version;
		}
		const struct wire_api_info *ours = wire_api_info(a->api_key);
		if (ours == NULL)
			continue;
		int16_t h = SL_MIN(ours->max_version, a->max_version);
		int16_t l = SL_MAX(ours->min_version, a->min_version);
		versions[a->api_key] = h >= l ? h : -1;
	}
}
