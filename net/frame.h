/*
 * frame.h: pure helpers shared by the Kafka clients in net/ (client.c, peer.c): request
 * framing, response header and body decoding, and ApiVersions negotiation (KIP-511).
 * Private to net/. No I/O, no allocation besides the caller's buffer and arena.
 */
#ifndef SL_NET_FRAME_H
#define SL_NET_FRAME_H

#include "base.h"
#include "wire.h"

#include <stdint.h>

#define NET_FRAME_KEYS 128        /* api keys tracked by version tables */
#define NET_FRAME_API_VERSIONS 18 /* ApiVersions api key */

/* Appends one request frame to out: 4-byte size prefix, the request header (version chosen by
 * wire_request_header_version) with correlation_id and client_id (NUL-terminated, borrowed),
 * and req (a struct wire_<api>_request, borrowed) encoded at version, which must be inside
 * our codec's range. *header_len (may be NULL) gets the bytes of prefix + header. SL_ENOMEM
 * when out overflowed (out's contents are then unspecified). */
enum sl_err net_frame_encode_request(struct sl_buf *out, int16_t api_key, int16_t version,
                                     int32_t correlation_id, const char *client_id, const void *req,
                                     size_t *header_len) SL_MUST_USE;

/* The byte offset of the correlation id inside a frame written by net_frame_encode_request
 * (after the size prefix, api key and api version). */
#define NET_FRAME_CORR_OFFSET 8

/* Decodes a response frame body (no size prefix): the response header for api_key/version,
 * whose correlation id must equal expected_corr, then the body into resp (a struct
 * wire_<api>_response; views point into body, arrays come from arena), which must consume
 * every byte. SL_EMALFORMED, or SL_ENOMEM when the arena is exhausted. */
enum sl_err net_frame_decode_response(const uint8_t *body, size_t len, int16_t api_key,
                                      int16_t version, int32_t expected_corr, void *resp,
                                      struct sl_arena *arena) SL_MUST_USE;

/* Fills an ApiVersions request (v3+ client software name and version; borrowed strings). */
void net_frame_api_versions_request(struct wire_api_versions_request *req,
                                    const char *software_name);

/* Decodes an ApiVersions response body sent for a request at version: a server that does not
 * know that version answers with a v0 body (KIP-511), so a body that does not decode at
 * version is retried at v0. Same errors as net_frame_decode_response. */
enum sl_err net_frame_decode_api_versions(const uint8_t *body, size_t len, int16_t version,
                                          int32_t expected_corr,
                                          struct wire_api_versions_response *resp,
                                          struct sl_arena *arena) SL_MUST_USE;

/* After an ApiVersions answer with UNSUPPORTED_VERSION: the server's highest ApiVersions
 * version if it is inside our codec's range and lower than `sent`, else -1 (give up). */
int16_t net_frame_api_versions_retry(const struct wire_api_versions_response *resp, int16_t sent);

/* Fills versions[NET_FRAME_KEYS] with, per key, the highest version both the server (resp)
 * and our codec support, or -1. When lo/hi are not NULL they get the server's own range per
 * key (-1 when not offered). */
void net_frame_versions(const struct wire_api_versions_response *resp, int16_t *versions,
                        int16_t *lo, int16_t *hi);

#endif
