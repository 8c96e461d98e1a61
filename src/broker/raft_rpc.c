/*
 * raft_rpc.c: the Raft RPCs a controller listener serves (Vote, BeginQuorumEpoch,
 * EndQuorumEpoch, FetchSnapshot, Fetch of __cluster_metadata) and DescribeQuorum, handed to
 * the node's metadata quorum (raft.h), which decodes, answers now or later (a Fetch long
 * poll), and encodes the response body.
 */
#include "brk_int.h"

#include "raft.h"

#include <stdio.h>
#include <string.h>

static void raft_answered(void *ctx, const uint8_t *body, size_t len)
{
	struct brk_request *r = ctx;
	if (body == NULL) {
		snprintf(r->reason, r->reason_len, "the metadata quorum is closing");
		brk_request_finish(r, BRK_CLOSE);
		return;
	}
	uint8_t *dst = sl_buf_extend(r->resp, len);
	if (dst == NULL) {
		snprintf(r->reason, r->reason_len, "out of memory for a Raft response");
		brk_request_finish(r, BRK_CLOSE);
		return;
	}
	memcpy(dst, body, len);
	brk_request_finish(r, BRK_RESPOND);
}

enum brk_outcome brk_handle_raft(struct brk_request *r)
{
	struct raft *raft = r->brk->opts.raft;
	int16_t key = r->header.api_key;
	if (key == 55 && !r->frame->is_controller_listener) {
		/* DescribeQuorum on a broker listener: the active controller answers. */
		if (brk_should_forward(r))
			return brk_forward(r);
		if (r->forward_error != 0) {
			struct wire_describe_quorum_response out;
			wire_describe_quorum_response_init(&out);
			out.error_code = r->forward_error;
			wire_describe_quorum_response_encode(r->resp, r->header.api_version, &out);
			return BRK_RESPOND;
		}
	}
	if (raft == NULL)
		return brk_close(r, "api key %d needs the metadata quorum, which this node lacks",
		                 (int)key);
	/* Park first: a Fetch may be answered later, from the loop. */
	enum sl_err e = raft_handle_rpc(raft, key, r->header.api_version, &r->body, r->resp,
	                                raft_answered, r);
	switch (e) {
	case SL_OK:
		return BRK_RESPOND;
	case SL_EAGAIN:
		return brk_request_park(r);
	case SL_EMALFORMED:
		return brk_close(r, "malformed api key %d request body", (int)key);
	default:
		return brk_close(r, "api key %d: %s", (int)key, sl_err_msg(e));
	}
}
