/*
 * node.h: one Sluice node's life: start-up checks, wiring of the layers, the event loop and
 * a clean shut-down on SIGTERM / SIGINT.
 *
 * Everything a node owns hangs off its struct node (no globals; the one exception is the
 * descriptor the async-signal handler writes to).
 */
#ifndef SL_NODE_H
#define SL_NODE_H

#include "base.h"
#include "config.h"

#include <stddef.h>

/* Runs a node with config c (borrowed for the call) until SIGTERM or SIGINT, then stops
 * gracefully (no new connections; answered responses are sent, bounded) and returns SL_OK.
 * Start-up failures return an error with one line in err (unformatted or mismatched dirs
 * with Kafka's message, a listener that cannot bind, an io backend that cannot start, a log dir
 * or metadata log that cannot be opened, a metadata record the image rejects on replay). */
enum sl_err node_run(const struct node_config *c, char *err, size_t err_len) SL_MUST_USE;

#endif
