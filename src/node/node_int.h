/*
 * node_int.h: private to src/node: the pieces node.c wires together.
 *
 * node_meta.c keeps the node's committed metadata image and is the metadata log's apply
 * callback; node_configs.c turns the node config into the broker's DescribeConfigs listing.
 */
#ifndef SL_NODE_INT_H
#define SL_NODE_INT_H

#include "broker.h"
#include "config.h"
#include "controller.h"
#include "metadata.h"
#include "raft.h"

#include <stdbool.h>
#include <stddef.h>

/* The committed metadata state of a node. brk and ctl are NULL during the start-up replay
 * (they are created from the replayed image) and set once they exist. */
struct node_meta {
	struct meta_image *img; /* own reference; never NULL after node_meta_init */
	struct brk *brk;        /* borrowed */
	struct ctl *ctl;        /* borrowed */
	bool failed;            /* a committed batch did not apply after start-up: stop */
	bool loading;           /* a snapshot replaces the image: publish only at the end */
	const char *log_ctx;    /* borrowed */
};

/* An empty image. SL_ENOMEM. */
enum sl_err node_meta_init(struct node_meta *m, const char *log_ctx) SL_MUST_USE;
void node_meta_fini(struct node_meta *m);

/* raft_apply_fn (ctx = struct node_meta): a delta over the current image, every value
 * applied, published at the batch's last offset, then handed to the broker (brk_set_image)
 * and the controller (ctl_on_commit). A record the image rejects: err says which, and after
 * start-up m->failed is set so the node stops. */
/* raft_load_fn: a snapshot from the leader replaces the image (begin: start from empty; end:
 * hand the loaded image to the broker and the controller). */
void node_meta_load(void *ctx, bool begin);
/* raft_image_records_fn: the committed image as records (a snapshot). */
enum sl_err node_meta_records(void *ctx, struct sl_arena *arena, struct wire_bytes **values,
                              size_t *count);
enum sl_err node_meta_apply(void *ctx, int64_t base_offset, const struct wire_bytes *values,
                            size_t count, char *err, size_t err_len);

/* Topics and partitions of the image (for the start-up log line). */
void node_meta_counts(const struct meta_image *img, size_t *topics, size_t *partitions);

/* The broker config listing (brk_opts.configs): every key of the node config table, sorted by
 * name; value = the text set in the file / an override (source STATIC_BROKER_CONFIG) or the
 * default (DEFAULT_CONFIG; NULL when the key has none); keys containing "password" are
 * sensitive with a null value. Strings borrow from c and the static key table, so c must
 * outlive the listing. *out is malloc'd (free()). SL_ENOMEM. */
#define NODE_CONFIG_SOURCE_STATIC_BROKER 4
#define NODE_CONFIG_SOURCE_DEFAULT 5
enum sl_err node_broker_configs(const struct node_config *c, struct brk_config_entry **out,
                                size_t *count) SL_MUST_USE;

/* A broker-only node with controller.quorum.bootstrap.servers and no controller.quorum.voters:
 * asks the bootstrap servers in turn (DescribeQuorum v2, __cluster_metadata-0) until a leader
 * answers, and returns its current voters with their controller listeners (the one named
 * controller.listener.names[0], else the first) in out[0..*count) (cap RAFT_VOTERS_MAX).
 * Blocking: runs loop itself; destroys its peers and drains their io ops before returning.
 * Errors (err says which servers and the last error): SL_ETIMEDOUT after
 * initial.broker.registration.timeout.ms, SL_ECANCELED ("interrupted") once a byte can be read
 * from sig_fd (-1 = none), SL_ECONFIG when this node's id is one of the voters, SL_EINVAL for
 * a bootstrap address the peer rejects, SL_ENOMEM. */
enum sl_err node_discover_voters(struct io_loop *loop, const struct node_config *c, int sig_fd,
                                 struct raft_voter *out, uint32_t *count, char *err,
                                 size_t err_len) SL_MUST_USE;
/* The voters of one DescribeQuorum v2 answer (pure; for node_discover_voters and tests): SL_OK
 * with out[0..*count) filled; SL_EAGAIN when it is an error answer (NOT_LEADER_OR_FOLLOWER,
 * ...), SL_EMALFORMED when the voters are unusable (none, over RAFT_VOTERS_MAX, a duplicate,
 * a voter without a node entry or without a host and port); err says why. */
enum sl_err node_discover_parse(const struct wire_describe_quorum_response *resp,
                                const char *listener, struct raft_voter *out, uint32_t *count,
                                char *err, size_t err_len) SL_MUST_USE;

/* The log manager's options from the log.* keys of c (log_dirs borrowed from c). */
void node_log_manager_opts(const struct node_config *c, const char **dirs,
                           struct stor_log_manager_opts *o);

#endif
