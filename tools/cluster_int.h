/*
 * cluster_int.h: `sluice cluster` (tools/cluster_cmd.c: options, node plan, server.properties;
 * tools/cluster_run.c: formatting, child processes, signals). Private to tools/.
 *
 * A plan is N nodes on 127.0.0.1, every one in DIR/node-<id>. Combined mode: ids 1..N, each
 * broker+controller and a voter. Split mode: controllers are ids 1..C, brokers C+1..C+B.
 * Ports: the brokers' PLAINTEXT listeners take base, base+1, ... in id order, then the
 * controllers' CONTROLLER listeners continue from there (or any free loopback ports when no
 * base port is given). Invariants: node ids are 1..node_count in array order, every port in
 * the plan is distinct and non-zero, a node has a port exactly for each of its roles.
 */
#ifndef SL_TOOLS_CLUSTER_INT_H
#define SL_TOOLS_CLUSTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CLUSTER_NODES_MAX 32
#define CLUSTER_OVERRIDES_MAX 64
#define CLUSTER_DIR_MAX 400 /* bytes of DIR, so every derived path fits CLUSTER_PATH_MAX */
#define CLUSTER_PATH_MAX 512
#define CLUSTER_START_TIMEOUT_MS 60000
#define CLUSTER_STOP_TIMEOUT_MS 30000

struct cluster_node {
	int32_t id;
	bool broker;
	bool controller;
	uint16_t broker_port;          /* PLAINTEXT listener; 0 when not a broker */
	uint16_t controller_port;      /* CONTROLLER listener; 0 when not a controller */
	int32_t rack;                  /* broker.rack=rack-<rack>; -1 = not set */
	char dir[CLUSTER_PATH_MAX];    /* DIR/node-<id> */
	char config[CLUSTER_PATH_MAX]; /* DIR/node-<id>/server.properties */
	char log[CLUSTER_PATH_MAX];    /* DIR/node-<id>/server.log */
	/* Run state (cluster_run.c). */
	pid_t pid;  /* 0 = not started or reaped */
	int status; /* waitpid status once reaped */
	bool exited;
	bool killed; /* SIGKILL sent while stopping */
};

struct cluster {
	struct cluster_node nodes[CLUSTER_NODES_MAX];
	size_t node_count;
	char dir[CLUSTER_PATH_MAX];
	char cluster_id[32];                          /* empty in --print-config mode */
	const char *overrides[CLUSTER_OVERRIDES_MAX]; /* "key=value", borrowed from argv */
	size_t override_count;
	bool stopping;
};

/* Writes node n's server.properties text to out (generated keys, then the -o overrides, which
 * replace generated keys of the same name). Returns 0, or -1 when writing fails. */
int cluster_write_properties(FILE *out, const struct cluster *c, const struct cluster_node *n);

/* Formats every node's directories with c->cluster_id, starts every node, waits until each
 * accepts connections, prints the node table and the bootstrap servers, then waits for
 * SIGINT/SIGTERM and stops the nodes (brokers first, then controllers). Node config files must
 * have been written. Returns the process exit code: 0 after a clean stop, 1 when formatting
 * or start-up fails (the started nodes are stopped first) or a node did not exit cleanly. */
int cluster_run(struct cluster *c);

/* "broker,controller", "broker" or "controller". */
const char *cluster_roles(const struct cluster_node *n);

#endif
