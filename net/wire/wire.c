/*
 * wire.c: request/response headers and the api table.
 *
 * Header versions follow Kafka's ApiMessageType rules: request header v2 and response header
 * v1 for flexible api versions, else request v1 / response v0; two exceptions: ApiVersions
 * responses always use header v0 (so a client that does not yet know the broker's versions can
 * parse them, KIP-511) and ControlledShutdown v0 requests use header v0 (no client id).
 */
#include "wire.h"

#define WIRE_KEY_CONTROLLED_SHUTDOWN 7
#define WIRE_KEY_API_VERSIONS 18

const struct wire_api_info *wire_api_info(int16_t key)
{
	for (size_t i = 0; i < wire_api_table_count; i++) {
		if (wire_api_table[i].key == key)
			return &wire_api_table[i];
	}
	return NULL;
}

/* True when (key, version) uses the flexible encodings: from the full definitions when we have
 * them, else from the flexible-version table of every Kafka api (defs/apis.def). */
static bool is_flexible(int16_t api_key, int16_t api_version)
{
	const struct wire_api_info *info = wire_api_info(api_key);
	int16_t flexible_min = info != NULL ? info->flexible_min : wire_api_flexible_min(api_key);

	return flexible_min >= 0 && api_version >= flexible_min;
}

int16_t wire_request_header_version(int16_t api_key, int16_t api_version)
{
	if (api_key == WIRE_KEY_CONTROLLED_SHUTDOWN && api_version == 0)
		return 0;
	return is_flexible(api_key, api_version) ? 2 : 1;
}

int16_t wire_response_header_version(int16_t api_key, int16_t api_version)
{
	if (api_key == WIRE_KEY_API_VERSIONS)
		return 0;
	return is_flexible(api_key, api_version) ? 1 : 0;
}

enum sl_err wire_request_header_decode(struct wire_reader *r, struct wire_request_header *out)
{
	struct wire_reader peek = *r;
	int16_t key, version;
	enum sl_err err;

	err = wire_get_i16(&peek, &key);
	if (err != SL_OK)
		return err;
	err = wire_get_i16(&peek, &version);
	if (err != SL_OK)
		return err;
	return wire_request_header_decode_v(r, wire_request_header_version(key, version), out);
}

void wire_request_header_encode(struct sl_buf *b, const struct wire_request_header *h)
{
	wire_request_header_encode_v(b, wire_request_header_version(h->api_key, h->api_version), h);
}

void wire_response_header_encode(struct sl_buf *b, int16_t header_version, int32_t correlation_id)
{
	struct wire_response_header h;

	SL_ASSERT(header_version == 0 || header_version == 1);
	wire_response_header_init(&h);
	h.correlation_id = correlation_id;
	wire_response_header_encode_v(b, header_version, &h);
}

enum sl_err wire_response_header_decode(struct wire_reader *r, int16_t header_version,
                                        int32_t *correlation_id)
{
	struct wire_response_header h;
	enum sl_err err;

	if (header_version != 0 && header_version != 1)
		return SL_EINVAL;
	err = wire_response_header_decode_v(r, header_version, &h);
	if (err == SL_OK)
		*correlation_id = h.correlation_id;
	return err;
}
