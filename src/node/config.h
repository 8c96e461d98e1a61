/*
 * config.h: a node's configuration, read from Kafka's own `server.properties` keys.
 *
 * node_config_load() parses the file, applies `--override key=value` pairs, fills defaults,
 * and validates with the KRaft rules of Kafka's KafkaConfig (docs/configuration.md). An invalid
 * value is reported as one line naming the key, the value and what is allowed; unknown keys
 * produce one warning each (returned to the caller, who logs them).
 *
 * node_dirs_verify() is the start-up check of the formatted directories (the rules of Kafka's
 * KafkaRaftServer.initializeLogDirs), shared by `server start` and `storage info`.
 */
#ifndef SL_NODE_CONFIG_H
#define SL_NODE_CONFIG_H

#include "base.h"
#include "storage.h"

#include <stdbool.h>
#include <stdint.h>

#define NODE_MAX_LISTENERS 16
#define NODE_MAX_DIRS 32
#define NODE_MAX_VOTERS 64
#define NODE_NAME_MAX 128
#define NODE_HOST_MAX 256
#define NODE_PATH_MAX 1024

enum node_role { NODE_ROLE_BROKER = 1, NODE_ROLE_CONTROLLER = 2 };

enum node_security_protocol {
	NODE_SEC_PLAINTEXT,
	NODE_SEC_SSL,
	NODE_SEC_SASL_PLAINTEXT,
	NODE_SEC_SASL_SSL,
};

struct node_listener {
	char name[NODE_NAME_MAX]; /* "PLAINTEXT", "CONTROLLER", ... upper-case as written */
	char host[NODE_HOST_MAX]; /* "" = all interfaces (bind) / default host (advertise) */
	uint16_t port;
	enum node_security_protocol protocol; /* from listener.security.protocol.map */
	bool is_controller;                   /* name is in controller.listener.names */
};

struct node_voter {
	int32_t id;
	char host[NODE_HOST_MAX];
	uint16_t port;
};

#define NODE_KEY_NAME_MAX 64
#define NODE_KEY_VALUE_MAX 256
#define NODE_MAX_SET_KEYS 160

struct node_config {
	unsigned roles; /* bitmask of enum node_role; never 0 after a successful load */
	int32_t node_id;
	struct node_listener listeners[NODE_MAX_LISTENERS];
	size_t listener_count;
	struct node_listener advertised[NODE_MAX_LISTENERS]; /* = listeners when not set */
	size_t advertised_count;
	char controller_listener_names[NODE_MAX_LISTENERS][NODE_NAME_MAX];
	size_t controller_listener_name_count;
	char inter_broker_listener_name[NODE_NAME_MAX];
	struct node_voter voters[NODE_MAX_VOTERS]; /* controller.quorum.voters */
	size_t voter_count;
	char bootstrap_servers[NODE_MAX_VOTERS]
	                      [NODE_HOST_MAX]; /* controller.quorum.bootstrap.servers,
	                                          "host:port" */
	size_t bootstrap_server_count;
	char log_dirs[NODE_MAX_DIRS][NODE_PATH_MAX];
	size_t log_dir_count;
	char metadata_log_dir[NODE_PATH_MAX]; /* = log_dirs[0] when not set */
	char rack[NODE_HOST_MAX];             /* broker.rack; "" = none */

	/* Socket server (SocketServerConfigs). */
	int32_t socket_request_max_bytes;    /* socket.request.max.bytes, 104857600 */
	int32_t max_connections;             /* max.connections, 2147483647 */
	int64_t connections_max_idle_ms;     /* connections.max.idle.ms, 600000 */
	int32_t socket_send_buffer_bytes;    /* socket.send.buffer.bytes, 102400; -1 = OS default */
	int32_t socket_receive_buffer_bytes; /* socket.receive.buffer.bytes, 102400; -1 = OS default
	                                      */

	/* Topic defaults used by later issues; parsed and validated now. */
	int32_t num_partitions;             /* num.partitions, 1 */
	int16_t default_replication_factor; /* default.replication.factor, 1 */
	bool auto_create_topics_enable;     /* auto.create.topics.enable, true */
	int32_t min_insync_replicas;        /* min.insync.replicas, 1 */

	/* Log (ServerLogConfigs); used by the storage engine. */
	int32_t log_segment_bytes;   /* log.segment.bytes, 1073741824 */
	int64_t log_roll_ms;         /* log.roll.ms, else log.roll.hours (168) */
	int64_t log_retention_ms;    /* log.retention.ms, else .minutes, else .hours (168);
	                                -1 = unlimited */
	int64_t log_retention_bytes; /* log.retention.bytes, -1 = unlimited */
	int64_t log_retention_check_interval_ms; /* log.retention.check.interval.ms, 300000 */
	int32_t log_index_interval_bytes;        /* log.index.interval.bytes, 4096 */
	int32_t log_index_size_max_bytes;        /* log.index.size.max.bytes, 10485760 */
	int64_t log_flush_interval_messages;     /* log.flush.interval.messages, INT64_MAX */
	int64_t log_flush_interval_ms;           /* log.flush.interval.ms, INT64_MAX when unset */
	int32_t message_max_bytes;               /* message.max.bytes, 1048588 */
	char compression_type[16];               /* compression.type, "producer" */
	bool log_message_timestamp_log_append;   /* log.message.timestamp.type=LogAppendTime */
	int64_t log_segment_delete_delay_ms;     /* log.segment.delete.delay.ms, 60000 */
	int64_t log_flush_scheduler_interval_ms; /* log.flush.scheduler.interval.ms, 1000 */
	int64_t log_flush_offset_checkpoint_interval_ms; /* ...checkpoint.interval.ms, 60000 */

	/* Fetch (ServerConfigs). */
	int32_t fetch_max_bytes;                           /* fetch.max.bytes, 57671680 */
	int32_t max_incremental_fetch_session_cache_slots; /* ..., 1000 */

	/* Replication and internal topics (ReplicationConfigs, coordinator configs). */
	int64_t replica_lag_time_max_ms;          /* replica.lag.time.max.ms, 30000 */
	bool unclean_leader_election_enable;      /* unclean.leader.election.enable, false */
	bool auto_leader_rebalance_enable;        /* auto.leader.rebalance.enable, true */
	bool delete_topic_enable;                 /* delete.topic.enable, true */
	int16_t offsets_topic_replication_factor; /* offsets.topic.replication.factor, 3 */
	int32_t offsets_topic_num_partitions;     /* offsets.topic.num.partitions, 50 */
	int16_t transaction_state_log_replication_factor; /* ...replication.factor, 3 */
	int32_t transaction_state_log_min_isr;            /* transaction.state.log.min.isr, 2 */
	int32_t transaction_state_log_num_partitions;     /* ...num.partitions, 50 */
	int32_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms, 3000 */

	/* KRaft quorum (QuorumConfig). */
	int32_t quorum_election_timeout_ms;     /* controller.quorum.election.timeout.ms, 1000 */
	int32_t quorum_fetch_timeout_ms;        /* controller.quorum.fetch.timeout.ms, 2000 */
	int32_t quorum_election_backoff_max_ms; /* controller.quorum.election.backoff.max.ms, 1000
	                                         */
	int32_t quorum_append_linger_ms;        /* controller.quorum.append.linger.ms, 25 */
	int32_t quorum_request_timeout_ms;      /* controller.quorum.request.timeout.ms, 2000 */
	int32_t quorum_retry_backoff_ms;        /* controller.quorum.retry.backoff.ms, 20 */

	/* Broker lifecycle (KRaftConfigs). */
	int32_t broker_heartbeat_interval_ms;           /* broker.heartbeat.interval.ms, 2000 */
	int32_t broker_session_timeout_ms;              /* broker.session.timeout.ms, 9000 */
	int64_t initial_broker_registration_timeout_ms; /* ..., 60000 */

	/* Metadata log (KRaftConfigs / MetadataLogConfig). */
	int32_t metadata_log_segment_bytes;     /* metadata.log.segment.bytes, 1073741824 */
	int32_t metadata_log_segment_min_bytes; /* metadata.log.segment.min.bytes, 8388608 */
	int64_t metadata_log_segment_ms;        /* metadata.log.segment.ms, 604800000 */
	int32_t metadata_max_idle_interval_ms;  /* metadata.max.idle.interval.ms, 500; 0 = off */
	int64_t metadata_snapshot_max_new_record_bytes; /* metadata.log.max.record.bytes.between.
	                                                   snapshots, 20971520 */
	int64_t metadata_snapshot_max_interval_ms;      /* metadata.log.max.snapshot.interval.ms,
	                                                   3600000; 0 = off */
	int64_t metadata_max_retention_bytes; /* metadata.max.retention.bytes, 104857600 */
	int64_t metadata_max_retention_ms;    /* metadata.max.retention.ms, 604800000 */

	/* Used by `storage format`. */
	bool unstable_feature_versions_enable;  /* unstable.feature.versions.enable, false */
	char inter_broker_protocol_version[32]; /* inter.broker.protocol.version, "" if unset */

	/* Sluice-specific keys (prefix "sluice."). */
	int io_backend;              /* sluice.io.backend: enum io_backend value, "auto" */
	int net_zero_copy;           /* sluice.net.zero.copy: enum net_zero_copy value, "auto" */
	enum sl_log_level log_level; /* sluice.log.level, "info" */

	/* The keys set explicitly (file or override), with their text, in key-table order:
	 * DescribeConfigs reports them as STATIC_BROKER_CONFIG. */
	struct node_config_set {
		char name[NODE_KEY_NAME_MAX];
		char value[NODE_KEY_VALUE_MAX];
	} set[NODE_MAX_SET_KEYS];
	size_t set_count;
};

/* The text of a key set explicitly in the file or by an override, or NULL. */
const char *node_config_set_value(const struct node_config *c, const char *name);

/* ---- the key table (docs/configuration.md is checked against it) --------------------- */

enum node_config_type {
	NODE_CFG_BOOLEAN,
	NODE_CFG_SHORT,
	NODE_CFG_INT,
	NODE_CFG_LONG,
	NODE_CFG_STRING,
	NODE_CFG_LIST,
};

struct node_config_key {
	const char *name;
	enum node_config_type type;
	const char *default_value; /* NULL: no default (unset) */
	int64_t min;               /* numeric types: allowed range */
	int64_t max;
	const char *choices; /* STRING / LIST: comma-separated allowed values, NULL = any */
	const char *valid;   /* further rules in words, "" if none */
	const char *doc;
	size_t offset; /* internal: field in struct node_config, or SIZE_MAX */
	size_t width;  /* internal: bytes of that field */
};

/* Every key node_config_load() knows, in documentation order. Static storage. */
size_t node_config_key_count(void);
const struct node_config_key *node_config_key_at(size_t i);
/* The entry for name, or NULL. */
const struct node_config_key *node_config_key_find(const char *name);

/* One `key=value` from the command line. Borrowed strings. */
struct node_override {
	const char *key;
	const char *value;
	size_t key_len; /* bytes of key; 0 = key is NUL-terminated (set by node_override_parse,
	                   whose key points into "key=value") */
};

/* Warnings (unknown keys, ignored values) collected while loading; the caller logs them. */
#define NODE_MAX_WARNINGS 64
struct node_config_warnings {
	char text[NODE_MAX_WARNINGS][256];
	size_t count;
};

/* Loads path (may be NULL: defaults + overrides only), applies overrides in order, validates.
 * On failure returns SL_ECONFIG (bad value), SL_ENOENT / SL_EIO (file) with one line in err,
 * e.g. "Invalid value abc for configuration node.id: Not a number of type INT". */
enum sl_err node_config_load(const char *path, const struct node_override *overrides,
                             size_t override_count, struct node_config *out,
                             struct node_config_warnings *warnings, char *err,
                             size_t err_len) SL_MUST_USE;

/* Parses "key=value" (as given to --override); SL_EINVAL with err if there is no '='. The
 * result borrows from arg. */
enum sl_err node_override_parse(const char *arg, struct node_override *out, char *err,
                                size_t err_len) SL_MUST_USE;

/* The first listener (in `listeners` order) that is not a controller listener, or NULL. */
const struct node_listener *node_config_broker_listener(const struct node_config *c);

/* Result of checking the formatted directories. */
struct node_dirs_state {
	char cluster_id[STOR_CLUSTER_ID_MAX];
	struct sl_uuid
	        directory_ids[NODE_MAX_DIRS + 1]; /* parallel to log_dirs, then metadata dir */
};

/* Checks every dir in log.dirs ∪ metadata.log.dir the way Kafka does at start-up: each has a
 * meta.properties with version 1 ("No `meta.properties` found in X (have you run
 * `sluice storage format` to format the directory?)"), all cluster ids equal, stored node.id
 * equals the configured one, directory ids unique; a missing directory.id is generated and the
 * file rewritten. SL_ECONFIG with err set on any problem. */
enum sl_err node_dirs_verify(const struct node_config *c, struct node_dirs_state *out, char *err,
                             size_t err_len) SL_MUST_USE;

/* All directories of c, log.dirs ∪ metadata.log.dir, de-duplicated and sorted by strcmp (the
 * order `storage format` and `storage info` use). Returns the count (<= NODE_MAX_DIRS + 1);
 * the pointers borrow from c. */
size_t node_config_all_dirs(const struct node_config *c, const char **out, size_t out_cap);

/* ---- meta.properties ensembles (shared by node_dirs_verify and `storage format`) ------ */

/* EMPTY: no meta.properties (or no directory); ERROR: cannot be read (I/O) or is not a
 * directory; CORRUPT: readable but invalid (syntax, unknown version, missing keys). */
enum node_dir_status { NODE_DIR_EMPTY, NODE_DIR_FORMATTED, NODE_DIR_ERROR, NODE_DIR_CORRUPT };

/* The meta.properties state of a set of directories (Kafka's MetaPropertiesEnsemble). */
struct node_dir_ensemble {
	size_t count;
	const char *dirs[NODE_MAX_DIRS + 1]; /* borrowed */
	enum node_dir_status status[NODE_MAX_DIRS + 1];
	struct stor_meta_props props[NODE_MAX_DIRS + 1]; /* valid when FORMATTED */
	char error[NODE_MAX_DIRS + 1][512];              /* set when ERROR / CORRUPT */
};

/* Loads <dir>/meta.properties of each dir into ens (status per dir). Never fails; borrows
 * dirs. */
void node_dir_ensemble_load(struct node_dir_ensemble *ens, const char *const *dirs, size_t count);

/* Kafka's MetaPropertiesEnsemble.verify over the FORMATTED dirs: cluster ids agree (with
 * expected_cluster_id when non-NULL: "Invalid cluster.id in: X/meta.properties. Expected A,
 * but read B"), node ids agree (with expected_node_id when >= 0: "Stored node id N doesn't
 * match previous node id M in X/meta.properties. ..."), version 1 files carry both, directory
 * ids are not reserved and not duplicated. SL_ECONFIG with err on the first problem. */
enum sl_err node_dir_ensemble_verify(const struct node_dir_ensemble *ens,
                                     const char *expected_cluster_id, int32_t expected_node_id,
                                     char *err, size_t err_len) SL_MUST_USE;

#endif
