/*
 * quorum_cmd.h: the output side of `sluice quorum describe` (tools/quorum_cmd.c), separate from
 * the network side so tests can format a canned DescribeQuorum response (private to tools/ and
 * its tests).
 */
#ifndef SL_TOOLS_QUORUM_CMD_H
#define SL_TOOLS_QUORUM_CMD_H

#include "wire.h"

#include <stdio.h>

enum quorum_mode {
	QUORUM_STATUS,      /* --status: the key/value summary */
	QUORUM_REPLICATION, /* --replication: one table row per replica */
};

/* The metadata partition the command asks about. */
#define QUORUM_TOPIC "__cluster_metadata"
#define QUORUM_PARTITION 0

/* Prints resp (a decoded DescribeQuorum response, any version) to out in Kafka's
 * kafka-metadata-quorum.sh layout. cluster_id (NULL = unknown: the ClusterId line is left out)
 * only appears in QUORUM_STATUS. A top-level or partition error code, or a response without
 * __cluster_metadata partition 0, prints one "error: ..." line on stderr (Kafka's error name and
 * message) and returns CLI exit code 1 with nothing on out; otherwise returns 0. Borrows resp. */
int quorum_print(FILE *out, const struct wire_describe_quorum_response *resp, enum quorum_mode mode,
                 const char *cluster_id);

#endif
