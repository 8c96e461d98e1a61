/*
 * quorum_rpc.c: the Raft RPCs on the wire (kraft.md §3.1-3.2, §3.12): inbound requests are
 * decoded into raft_msg and stepped into the core, whose answers are encoded back; the core's
 * outbound requests go to the other voters through net_peer and their responses are stepped
 * in. Every RPC names exactly one partition, __cluster_metadata-0 (topic id Uuid(0,1) from
 * Fetch v13); a request naming anything else is INVALID_REQUEST (count) or
 * UNKNOWN_TOPIC_OR_PARTITION; a ClusterId that is present and differs is
 * INCONSISTENT_CLUSTER_ID. Inbound request ids have the high bit set so they never collide
 * with the core's own.
 */
#include "raft_int.h"

#include "peer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INBOUND_BIT (1ull << 63)

/* Parses the batch headers of records into r->batches; false if they do not parse. */
bool raft_parse_batches(struct raft *r, const uint8_t *p, size_t len, uint32_t *count)
{
	uint32_t n = 0;
	for (size_t pos = 0; pos < len;) {
		struct stor_batch_view v;
		size_t used;
		if (stor_batch_parse(p + pos, len - pos, &v, &used) != SL_OK)
			break; /* a partial batch at the end of a fetch is normal */
		if (n == r->batches_cap) {
			size_t cap = r->batches_cap ? r->batches_cap * 2 : 64;
			struct raft_batch *b = realloc(r->batches, cap * sizeof(*b));
			if (b == NULL)
				return false;
			r->batches = b;
			r->batches_cap = cap;
		}
		r->batches[n++] = (struct raft_batch){
		        .base_offset = v.h.base_offset,
		        .last_offset = v.h.base_offset + v.h.last_offset_delta,
		        .epoch = v.h.partition_leader_epoch,
		};
		pos += used;
	}
	*count = n;
	return true;
}

/* ---- inbound --------------------------------------------------------------------------------- */

bool raft_step_inbound(struct raft *r, struct raft_msg *m, struct sl_buf *out,
                       const struct raft_rpc_call *c)
{
	m->req_id = INBOUND_BIT | r->next_inbound_id++;
	m->to = r->node_id;
	r->sync_req_id = m->req_id;
	r->sync_out = out;
	r->sync_answered = false;
	r->sync_call = *c;
	raft_core_step(r->core, raft_now(), m);
	raft_process(r);
	r->sync_req_id = 0;
	r->sync_out = NULL;
	return r->sync_answered;
}

enum sl_err raft_handle_rpc(struct raft *r, int16_t api_key, int16_t version,
                            struct wire_reader *body, struct sl_buf *out, raft_rpc_done_fn *done,
                            void *ctx)
{
	if (r->closing)
		return SL_ECLOSED;
	switch (api_key) {
	case 52:
		return raft_rpc_vote(r, version, body, out);
	case 53:
		return raft_rpc_begin(r, version, body, out);
	case 54:
		return raft_rpc_end(r, version, body, out);
	case 55:
		return raft_rpc_describe(r, version, body, out);
	case 1:
		return raft_rpc_fetch(r, version, body, out, done, ctx);
	case 59:
		return raft_rpc_fetch_snapshot(r, version, body, out);
	default:
		return SL_EUNSUPPORTED;
	}
}

void raft_answer(struct raft *r, const struct raft_msg *m)
{
	if (m->req_id == r->sync_req_id && r->sync_out != NULL) {
		raft_encode_answer(r, m, &r->sync_call, r->sync_out);
		r->sync_answered = true;
		return;
	}
	struct raft_inbound **pp = &r->inbound;
	while (*pp != NULL && (*pp)->req_id != m->req_id)
		pp = &(*pp)->next;
	struct raft_inbound *in = *pp;
	if (in == NULL)
		return; /* its connection is gone, or a duplicate */
	*pp = in->next;
	sl_buf_reset(&r->rpc_buf);
	struct raft_rpc_call c = {
	        .api_key = in->api_key, .version = in->version, .max_bytes = in->max_bytes};
	raft_encode_answer(r, m, &c, &r->rpc_buf);
	in->done(in->ctx, r->rpc_buf.data, r->rpc_buf.len);
	free(in);
}

void raft_inbound_drop_all(struct raft *r)
{
	while (r->inbound != NULL) {
		struct raft_inbound *in = r->inbound;
		r->inbound = in->next;
		in->done(in->ctx, NULL, 0);
		free(in);
	}
}

/* ---- outbound -------------------------------------------------------------------------------- */

static struct raft_peer *peer_for(struct raft *r, int32_t id)
{
	for (uint32_t i = 0; i < r->peer_count; i++) {
		struct raft_peer *p = &r->peers[i];
		if (p->id != id)
			continue;
		if (p->peer == NULL) {
			struct net_peer_opts o = {
			        .loop = r->loop,
			        .addr = p->addr,
			        .client_id = "sluice-raft",
			        .connect_timeout_ms = r->cfg.request_timeout_ms,
			        .request_timeout_ms = r->cfg.request_timeout_ms,
			        .reconnect_backoff_ms = r->cfg.retry_backoff_ms,
			        .max_response_bytes = (size_t)RAFT_FETCH_MAX_BYTES * 2,
			};
			char err[256] = "";
			if (net_peer_create(&o, &p->peer, err, sizeof(err)) != SL_OK) {
				SL_WARN(r->log_ctx, "voter %d at %s: %s", (int)id, p->addr, err);
				return NULL;
			}
		}
		return p;
	}
	return NULL;
}

void raft_send(struct raft *r, const struct raft_msg *m)
{
	struct raft_peer *p = peer_for(r, m->to);
	if (p == NULL)
		return;
	struct raft_out *oc = malloc(sizeof(*oc));
	if (oc == NULL)
		return;
	*oc = (struct raft_out){.r = r, .type = m->type, .to = m->to, .req_id = m->req_id};
	if (raft_send_request(r, p->peer, m, oc) != SL_OK)
		free(oc);
}

void raft_peers_destroy(struct raft *r)
{
	for (uint32_t i = 0; i < r->peer_count; i++) {
		net_peer_destroy(r->peers[i].peer);
		r->peers[i].peer = NULL;
	}
}
