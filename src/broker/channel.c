/*
 * channel.c: the broker's connections to the controllers (brk_int.h): one net_peer per voter,
 * created on first use, and the choice of the controller a request goes to.
 *
 * Target: the quorum's leader as this node's Raft state knows it (an observer learns it from
 * its metadata fetches); while it is unknown, or after a failure with the known one, the voters
 * in turn. A node whose Raft knows no voter addresses (a single voter without
 * controller.quorum.voters) uses its own controller listener (fallback_addr).
 */
#include "brk_int.h"

#include "peer.h"
#include "raft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH_CONNECT_TIMEOUT_MS 3000
#define CH_RECONNECT_BACKOFF_MS 100
#define CH_FALLBACK_ID INT32_MIN

struct brk_channel_peer {
	int32_t id;
	char addr[300];
	struct net_peer *peer;
};

struct brk_channel {
	struct brk *b;
	struct brk_channel_peer peers[RAFT_VOTERS_MAX + 1];
	size_t peer_count;
	uint32_t rotation;
	int32_t avoid; /* leader id that just failed: rotate past it once */
	char client_id[64];
};

enum sl_err brk_channel_create(struct brk *b)
{
	struct brk_channel *ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return SL_ENOMEM;
	ch->b = b;
	ch->avoid = -1;
	snprintf(ch->client_id, sizeof(ch->client_id), "sluice-broker-%d", (int)b->node_id);
	b->channel = ch;
	return SL_OK;
}

void brk_channel_destroy(struct brk *b)
{
	struct brk_channel *ch = b->channel;
	if (ch == NULL)
		return;
	for (size_t i = 0; i < ch->peer_count; i++)
		net_peer_destroy(ch->peers[i].peer);
	free(ch);
	b->channel = NULL;
}

static struct net_peer *peer_for(struct brk_channel *ch, int32_t id, const char *addr)
{
	for (size_t i = 0; i < ch->peer_count; i++) {
		if (ch->peers[i].id == id && strcmp(ch->peers[i].addr, addr) == 0)
			return ch->peers[i].peer;
	}
	if (ch->peer_count == sizeof(ch->peers) / sizeof(ch->peers[0]))
		return NULL;
	struct brk_channel_peer *p = &ch->peers[ch->peer_count];
	p->id = id;
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	struct net_peer_opts o = {
	        .loop = ch->b->opts.loop,
	        .addr = p->addr,
	        .client_id = ch->client_id,
	        .connect_timeout_ms = CH_CONNECT_TIMEOUT_MS,
	        .request_timeout_ms = ch->b->opts.controller_request_timeout_ms,
	        .reconnect_backoff_ms = CH_RECONNECT_BACKOFF_MS,
	};
	char err[256] = "";
	if (net_peer_create(&o, &p->peer, err, sizeof(err)) != SL_OK) {
		SL_WARN("broker", "controller %d at %s: %s", (int)id, addr, err);
		return NULL;
	}
	ch->peer_count++;
	return p->peer;
}

struct net_peer *brk_channel_target(struct brk *b, int32_t *id_out)
{
	struct brk_channel *ch = b->channel;
	struct raft *r = b->opts.raft;
	if (ch == NULL || r == NULL || b->opts.loop == NULL)
		return NULL;
	int32_t leader = raft_leader_id(r);
	const char *addr = leader >= 0 ? raft_voter_addr(r, leader) : NULL;
	if (addr != NULL && leader != ch->avoid) {
		*id_out = leader;
		return peer_for(ch, leader, addr);
	}
	ch->avoid = -1;
	int32_t ids[RAFT_VOTERS_MAX];
	size_t n = SL_MIN(raft_voter_ids(r, ids, RAFT_VOTERS_MAX), (size_t)RAFT_VOTERS_MAX);
	for (size_t k = 0; k < n; k++) {
		int32_t id = ids[(ch->rotation + k) % n];
		addr = raft_voter_addr(r, id);
		if (addr != NULL) {
			*id_out = id;
			return peer_for(ch, id, addr);
		}
	}
	const char *fb = b->opts.controller_fallback_addr;
	if (fb == NULL || fb[0] == '\0')
		return NULL;
	*id_out = b->node_id;
	return peer_for(ch, CH_FALLBACK_ID, fb);
}

void brk_channel_failed(struct brk *b, int32_t id)
{
	struct brk_channel *ch = b->channel;
	if (ch == NULL)
		return;
	ch->rotation++;
	ch->avoid = id;
}
