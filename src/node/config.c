/*
 * config.c: the table of supported server.properties keys and node_config_load().
 *
 * Loading runs in three phases: (1) every key of the table gets its configured value or its
 * default, typed keys are parsed (Kafka's ConfigDef rules: trimmed, strict decimal, range) and
 * stored into their struct field; (2) structured keys (roles, listeners, quorum, dirs) are
 * parsed by config_listeners.c; (3) the cross-key KRaft rules of KafkaConfig.validateValues.
 * Keys that are not in the table produce a warning and are otherwise ignored. The table is
 * also the source of docs/configuration.md (a unit test checks that every key is documented).
 *
 * Invariant: after SL_OK every field of struct node_config holds a validated value.
 */
#include "config_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOF SIZE_MAX, 0
#define FLD(f) offsetof(struct node_config, f), sizeof(((struct node_config *)0)->f)
#define I32 INT32_MIN, INT32_MAX
#define I64 INT64_MIN, INT64_MAX
#define AT_LEAST(n) (n), INT32_MAX
#define AT_LEAST64(n) (n), INT64_MAX
#define DEFAULT_PROTOCOL_MAP \
	"PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"

static const struct node_config_key keys[] = {
        /* KRaft roles and quorum (KRaftConfigs, QuorumConfig). */
        {"process.roles", NODE_CFG_LIST, "", 0, 0, NULL, "required: broker, controller or both",
         "The roles this node plays: `broker` serves clients, `controller` is a voter of the "
         "metadata quorum; both = combined mode.",
         NOF},
        {"node.id", NODE_CFG_INT, "-1", I32, NULL, "required, >= 0",
         "The node id, unique in the cluster (brokers and controllers share one id space).", NOF},
        {"broker.id", NODE_CFG_INT, "-1", I32, NULL, "if set, must equal node.id",
         "Legacy synonym of node.id; used as node.id when node.id is not set.", NOF},
        {"controller.quorum.voters", NODE_CFG_LIST, "", 0, 0, NULL,
         "id@host:port entries; host not 0.0.0.0; ids unique",
         "Static quorum: the controller voters. A controller's node.id must be listed; a "
         "broker-only node's must not.",
         NOF},
        {"controller.quorum.bootstrap.servers", NODE_CFG_LIST, "", 0, 0, NULL, "host:port entries",
         "Dynamic quorum (KIP-853): controllers to contact to discover the leader (a broker-only "
         "node learns the voters from the leader's DescribeQuorum at start-up). One of this and "
         "controller.quorum.voters must be non-empty.",
         NOF},
        {"controller.listener.names", NODE_CFG_LIST, NULL, 0, 0, NULL,
         "required; see the listener rules",
         "Listener names used by the controller role; brokers use the first one to reach the "
         "controllers.",
         NOF},
        {"controller.quorum.election.timeout.ms", NODE_CFG_INT, "1000", AT_LEAST(1), NULL, "",
         "Base election timeout; the timer is this plus a random amount up to this.",
         FLD(quorum_election_timeout_ms)},
        {"controller.quorum.fetch.timeout.ms", NODE_CFG_INT, "2000", AT_LEAST(1), NULL, "",
         "A follower starts an election after this long without a successful fetch; the leader's "
         "check-quorum uses 1.5 times this.",
         FLD(quorum_fetch_timeout_ms)},
        {"controller.quorum.election.backoff.max.ms", NODE_CFG_INT, "1000", AT_LEAST(1), NULL, "",
         "Cap of the exponential back-off between failed elections.",
         FLD(quorum_election_backoff_max_ms)},
        {"controller.quorum.append.linger.ms", NODE_CFG_INT, "25", AT_LEAST(0), NULL, "",
         "How long the leader accumulates writes before flushing them to the log.",
         FLD(quorum_append_linger_ms)},
        {"controller.quorum.request.timeout.ms", NODE_CFG_INT, "2000", AT_LEAST(1), NULL, "",
         "Timeout of quorum RPCs.", FLD(quorum_request_timeout_ms)},
        {"controller.quorum.retry.backoff.ms", NODE_CFG_INT, "20", AT_LEAST(0), NULL, "",
         "Back-off before retrying a failed quorum RPC.", FLD(quorum_retry_backoff_ms)},
        {"sasl.mechanism.controller.protocol", NODE_CFG_STRING, "GSSAPI", 0, 0, NULL, "",
         "SASL mechanism used to reach controllers (accepted; SASL arrives later).", NOF},

        /* Listeners and the socket server (SocketServerConfigs). */
        {"listeners", NODE_CFG_LIST, "PLAINTEXT://:9092", 0, 0, NULL,
         "NAME://host:port entries ([::1] for IPv6, empty host = all interfaces); names and "
         "non-zero ports unique",
         "Addresses to listen on.", NOF},
        {"advertised.listeners", NODE_CFG_LIST, NULL, 0, 0, NULL,
         "NAME://host:port entries; names must be in listeners; no 0.0.0.0",
         "Addresses published to clients and other nodes; default = listeners. Controller "
         "listeners are filtered out of the broker's list.",
         NOF},
        {"listener.security.protocol.map", NODE_CFG_LIST, DEFAULT_PROTOCOL_MAP, 0, 0, NULL,
         "NAME:PROTOCOL entries, PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
         "Security protocol of each listener name. When left at the default and no SSL/SASL "
         "listener is in use, controller listener names map to PLAINTEXT implicitly.",
         NOF},
        {"inter.broker.listener.name", NODE_CFG_STRING, NULL, 0, 0, NULL,
         "must be an advertised broker listener; not together with security.inter.broker.protocol",
         "Listener used between brokers; default = the listener named after "
         "security.inter.broker.protocol.",
         NOF},
        {"security.inter.broker.protocol", NODE_CFG_STRING, "PLAINTEXT", 0, 0,
         "PLAINTEXT,SSL,SASL_PLAINTEXT,SASL_SSL", "",
         "Protocol (and so default listener name) used between brokers.", NOF},
        {"control.plane.listener.name", NODE_CFG_STRING, NULL, 0, 0, NULL,
         "must not be set (not supported in KRaft mode)", "ZooKeeper-mode only.", NOF},
        {"socket.request.max.bytes", NODE_CFG_INT, "104857600", AT_LEAST(1), NULL, "",
         "Largest request accepted (the 4-byte size prefix is checked against it).",
         FLD(socket_request_max_bytes)},
        {"max.connections", NODE_CFG_INT, "2147483647", AT_LEAST(0), NULL, "",
         "Maximum number of open client connections.", FLD(max_connections)},
        {"connections.max.idle.ms", NODE_CFG_LONG, "600000", I64, NULL, "",
         "Idle connections are closed after this long.", FLD(connections_max_idle_ms)},
        {"socket.send.buffer.bytes", NODE_CFG_INT, "102400", AT_LEAST(-1), NULL, "",
         "SO_SNDBUF of accepted sockets; -1 = OS default.", FLD(socket_send_buffer_bytes)},
        {"socket.receive.buffer.bytes", NODE_CFG_INT, "102400", AT_LEAST(-1), NULL, "",
         "SO_RCVBUF of accepted sockets; -1 = OS default.", FLD(socket_receive_buffer_bytes)},
        {"socket.listen.backlog.size", NODE_CFG_INT, "50", AT_LEAST(1), NULL, "",
         "listen(2) backlog (accepted).", NOF},
        {"num.network.threads", NODE_CFG_INT, "3", AT_LEAST(1), NULL, "",
         "Accepted for compatibility; Sluice runs one reactor thread.", NOF},
        {"num.io.threads", NODE_CFG_INT, "8", AT_LEAST(1), NULL, "",
         "Accepted for compatibility; Sluice runs one reactor thread.", NOF},
        {"queued.max.requests", NODE_CFG_INT, "500", AT_LEAST(1), NULL, "",
         "Accepted for compatibility.", NOF},
        {"background.threads", NODE_CFG_INT, "10", AT_LEAST(1), NULL, "",
         "Accepted for compatibility.", NOF},

        /* Directories. */
        {"log.dirs", NODE_CFG_LIST, NULL, 0, 0, NULL, "1 to 32 distinct paths",
         "Data directories; wins over log.dir.", NOF},
        {"log.dir", NODE_CFG_STRING, "/tmp/sluice-logs", 0, 0, NULL, "",
         "Single data directory, used when log.dirs is not set.", NOF},
        {"metadata.log.dir", NODE_CFG_STRING, NULL, 0, 0, NULL, "",
         "Directory of the metadata log (__cluster_metadata-0); default = the first of log.dirs.",
         NOF},
        {"num.recovery.threads.per.data.dir", NODE_CFG_INT, "2", AT_LEAST(1), NULL, "",
         "Accepted for compatibility.", NOF},

        /* Topic defaults. */
        {"num.partitions", NODE_CFG_INT, "1", AT_LEAST(1), NULL, "",
         "Partitions of auto-created topics and of CreateTopics without a count.",
         FLD(num_partitions)},
        {"default.replication.factor", NODE_CFG_INT, "1", 1, INT16_MAX, NULL, "",
         "Replication factor of auto-created topics and of CreateTopics without one.",
         FLD(default_replication_factor)},
        {"auto.create.topics.enable", NODE_CFG_BOOLEAN, "true", 0, 1, NULL, "",
         "Create a topic when a client asks for metadata of an unknown one.",
         FLD(auto_create_topics_enable)},
        {"min.insync.replicas", NODE_CFG_INT, "1", AT_LEAST(1), NULL, "",
         "Minimum ISR size for acks=all writes.", FLD(min_insync_replicas)},
        {"delete.topic.enable", NODE_CFG_BOOLEAN, "true", 0, 1, NULL, "", "Allow DeleteTopics.",
         FLD(delete_topic_enable)},
        {"message.max.bytes", NODE_CFG_INT, "1048588", AT_LEAST(0), NULL, "",
         "Largest record batch accepted.", FLD(message_max_bytes)},
        {"compression.type", NODE_CFG_STRING, "producer", 0, 0,
         "uncompressed,zstd,lz4,snappy,gzip,producer", "",
         "Compression of stored batches; producer = keep the producer's.", NOF},

        /* Log (ServerLogConfigs). */
        {"log.segment.bytes", NODE_CFG_INT, "1073741824", AT_LEAST(14), NULL, "",
         "Size at which a segment is rolled.", FLD(log_segment_bytes)},
        {"log.roll.hours", NODE_CFG_INT, "168", AT_LEAST(1), NULL, "",
         "Age at which a segment is rolled (used when log.roll.ms is not set).", NOF},
        {"log.roll.ms", NODE_CFG_LONG, NULL, I64, NULL, ">= 1", "Age at which a segment is rolled.",
         NOF},
        {"log.retention.hours", NODE_CFG_INT, "168", I32, NULL, "",
         "Retention time in hours (used when neither log.retention.ms nor .minutes is set).", NOF},
        {"log.retention.minutes", NODE_CFG_INT, NULL, I32, NULL, "",
         "Retention time in minutes (used when log.retention.ms is not set).", NOF},
        {"log.retention.ms", NODE_CFG_LONG, NULL, I64, NULL, "-1 (unlimited) or >= 1",
         "Retention time; the effective value must be -1 or >= 1.", NOF},
        {"log.retention.bytes", NODE_CFG_LONG, "-1", I64, NULL, "",
         "Maximum partition size before old segments are deleted; -1 = unlimited.",
         FLD(log_retention_bytes)},
        {"log.retention.check.interval.ms", NODE_CFG_LONG, "300000", AT_LEAST64(1), NULL, "",
         "How often retention is checked.", FLD(log_retention_check_interval_ms)},
        {"log.index.interval.bytes", NODE_CFG_INT, "4096", AT_LEAST(0), NULL, "",
         "Bytes between offset-index entries.", FLD(log_index_interval_bytes)},
        {"log.index.size.max.bytes", NODE_CFG_INT, "10485760", AT_LEAST(4), NULL, "",
         "Maximum size of an offset index.", FLD(log_index_size_max_bytes)},
        {"log.flush.interval.messages", NODE_CFG_LONG, "9223372036854775807", AT_LEAST64(1), NULL,
         "", "Force an fsync after this many messages.", FLD(log_flush_interval_messages)},
        {"log.flush.interval.ms", NODE_CFG_LONG, NULL, I64, NULL, "",
         "Force an fsync after this long; unset = never (only the group commit).", NOF},
        {"log.cleanup.policy", NODE_CFG_LIST, "delete", 0, 0, "delete,compact", "",
         "Default cleanup policy.", NOF},
        {"log.cleaner.enable", NODE_CFG_BOOLEAN, "true", 0, 1, NULL, "",
         "Accepted for compatibility.", NOF},
        {"log.message.timestamp.type", NODE_CFG_STRING, "CreateTime", 0, 0,
         "CreateTime,LogAppendTime", "", "Default timestamp type of topics.", NOF},
        {"log.segment.delete.delay.ms", NODE_CFG_LONG, "60000", AT_LEAST64(0), NULL, "",
         "How long a deleted segment's file stays open for reads in flight.",
         FLD(log_segment_delete_delay_ms)},
        {"log.flush.scheduler.interval.ms", NODE_CFG_LONG, "1000", AT_LEAST64(1), NULL, "",
         "How often the log.flush.interval.ms policy is checked.",
         FLD(log_flush_scheduler_interval_ms)},
        {"log.flush.offset.checkpoint.interval.ms", NODE_CFG_INT, "60000", AT_LEAST(0), NULL, "",
         "How often recovery-point-offset-checkpoint is rewritten.", NOF},
        {"fetch.max.bytes", NODE_CFG_INT, "57671680", AT_LEAST(1024), NULL, "",
         "Largest Fetch response the broker builds (caps the request's max_bytes).",
         FLD(fetch_max_bytes)},
        {"max.incremental.fetch.session.cache.slots", NODE_CFG_INT, "1000", AT_LEAST(0), NULL, "",
         "Incremental fetch sessions (KIP-227) the broker keeps.",
         FLD(max_incremental_fetch_session_cache_slots)},

        /* Replication and internal topics. */
        {"replica.lag.time.max.ms", NODE_CFG_LONG, "30000", AT_LEAST64(1), NULL, "",
         "A follower that has not caught up for this long leaves the ISR.",
         FLD(replica_lag_time_max_ms)},
        {"unclean.leader.election.enable", NODE_CFG_BOOLEAN, "false", 0, 1, NULL, "",
         "Allow an out-of-sync replica to become leader.", FLD(unclean_leader_election_enable)},
        {"auto.leader.rebalance.enable", NODE_CFG_BOOLEAN, "true", 0, 1, NULL, "",
         "Move leadership back to preferred replicas periodically.",
         FLD(auto_leader_rebalance_enable)},
        {"offsets.topic.replication.factor", NODE_CFG_SHORT, "3", 1, INT16_MAX, NULL, "",
         "Replication factor of __consumer_offsets.", FLD(offsets_topic_replication_factor)},
        {"offsets.topic.num.partitions", NODE_CFG_INT, "50", AT_LEAST(1), NULL, "",
         "Partitions of __consumer_offsets.", FLD(offsets_topic_num_partitions)},
        {"transaction.state.log.replication.factor", NODE_CFG_SHORT, "3", 1, INT16_MAX, NULL, "",
         "Replication factor of __transaction_state.",
         FLD(transaction_state_log_replication_factor)},
        {"transaction.state.log.min.isr", NODE_CFG_INT, "2", AT_LEAST(1), NULL, "",
         "min.insync.replicas of __transaction_state.", FLD(transaction_state_log_min_isr)},
        {"transaction.state.log.num.partitions", NODE_CFG_INT, "50", AT_LEAST(1), NULL, "",
         "Partitions of __transaction_state.", FLD(transaction_state_log_num_partitions)},
        {"group.initial.rebalance.delay.ms", NODE_CFG_INT, "3000", AT_LEAST(0), NULL, "",
         "Delay of the first rebalance of an empty group.", FLD(group_initial_rebalance_delay_ms)},
        {"share.coordinator.state.topic.replication.factor", NODE_CFG_SHORT, "3", 1, INT16_MAX,
         NULL, "", "Accepted for compatibility.", NOF},
        {"share.coordinator.state.topic.min.isr", NODE_CFG_SHORT, "2", 1, INT16_MAX, NULL, "",
         "Accepted for compatibility.", NOF},

        /* Broker lifecycle. */
        {"broker.rack", NODE_CFG_STRING, NULL, 0, 0, NULL, "",
         "Rack of the broker, for rack-aware replica placement; unset = no rack.", NOF},
        {"broker.heartbeat.interval.ms", NODE_CFG_INT, "2000", AT_LEAST(1), NULL, "",
         "Interval of broker heartbeats to the controller.", FLD(broker_heartbeat_interval_ms)},
        {"broker.session.timeout.ms", NODE_CFG_INT, "9000", AT_LEAST(1), NULL, "",
         "The controller fences a broker without a heartbeat for this long.",
         FLD(broker_session_timeout_ms)},
        {"initial.broker.registration.timeout.ms", NODE_CFG_INT, "60000", AT_LEAST(1), NULL, "",
         "A broker exits if its first registration does not succeed within this time.",
         FLD(initial_broker_registration_timeout_ms)},

        /* Metadata log and snapshots. */
        {"metadata.log.segment.bytes", NODE_CFG_INT, "1073741824", AT_LEAST(12), NULL,
         ">= metadata.log.segment.min.bytes", "Segment size of the metadata log.",
         FLD(metadata_log_segment_bytes)},
        {"metadata.log.segment.min.bytes", NODE_CFG_INT, "8388608", AT_LEAST(12), NULL, "",
         "Internal: lower bound of metadata.log.segment.bytes (lower it for tests only).",
         FLD(metadata_log_segment_min_bytes)},
        {"metadata.log.segment.ms", NODE_CFG_LONG, "604800000", AT_LEAST64(1), NULL, "",
         "Age at which a metadata log segment is rolled.", FLD(metadata_log_segment_ms)},
        {"metadata.max.idle.interval.ms", NODE_CFG_INT, "500", AT_LEAST(0), NULL, "",
         "The active controller appends a NoOpRecord this often; 0 = off.",
         FLD(metadata_max_idle_interval_ms)},
        {"metadata.log.max.record.bytes.between.snapshots", NODE_CFG_LONG, "20971520",
         AT_LEAST64(1), NULL, "", "New committed bytes that trigger a snapshot.",
         FLD(metadata_snapshot_max_new_record_bytes)},
        {"metadata.log.max.snapshot.interval.ms", NODE_CFG_LONG, "3600000", AT_LEAST64(0), NULL, "",
         "Time that triggers a snapshot; 0 = off.", FLD(metadata_snapshot_max_interval_ms)},
        {"metadata.max.retention.bytes", NODE_CFG_LONG, "104857600", I64, NULL, "",
         "Size of metadata log plus snapshots before old ones are deleted.",
         FLD(metadata_max_retention_bytes)},
        {"metadata.max.retention.ms", NODE_CFG_LONG, "604800000", I64, NULL, "",
         "Age of metadata log segments and snapshots before they are deleted.",
         FLD(metadata_max_retention_ms)},

        /* Features. */
        {"unstable.feature.versions.enable", NODE_CFG_BOOLEAN, "false", 0, 1, NULL, "",
         "Allow `storage format` to use metadata versions that are not production-ready.",
         FLD(unstable_feature_versions_enable)},
        {"inter.broker.protocol.version", NODE_CFG_STRING, NULL, 0, 0, NULL,
         "a metadata.version name such as 3.9-IV0",
         "When set explicitly, the metadata.version `storage format` uses if -r is not given.",
         NOF},
        {"eligible.leader.replicas.enable", NODE_CFG_BOOLEAN, "false", 0, 1, NULL, "",
         "Accepted for compatibility (KIP-966 is not implemented).", NOF},
        {"zookeeper.metadata.migration.enable", NODE_CFG_BOOLEAN, "false", 0, 1, NULL,
         "must be false", "ZooKeeper migration is not supported.", NOF},

        /* Sluice-specific. */
        {"sluice.io.backend", NODE_CFG_STRING, "auto", 0, 0, "auto,uring,sync", "",
         "I/O backend: uring (io_uring), sync (blocking calls on the loop thread), auto = uring "
         "when the kernel allows it.",
         NOF},
        {"sluice.net.zero.copy", NODE_CFG_STRING, "auto", 0, 0, "auto,splice,sendfile,copy", "",
         "How file ranges of responses (fetched records) reach plaintext sockets: splice (file "
         "-> pipe -> socket, no user-space copy), sendfile (sync backend only; splice on uring), "
         "copy (pread + send). auto = the cheapest in CPU per byte as measured "
         "(docs/performance.md): copy on the uring backend, splice on the sync backend.",
         NOF},
        {"sluice.log.level", NODE_CFG_STRING, "info", 0, 0, "debug,info,warn,error,off", "",
         "Level of the node's log on stderr.", NOF},
};

size_t node_config_key_count(void)
{
	return SL_ARRAY_LEN(keys);
}

const struct node_config_key *node_config_key_at(size_t i)
{
	SL_ASSERT(i < SL_ARRAY_LEN(keys));
	return &keys[i];
}

const struct node_config_key *node_config_key_find(const char *name)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(keys); i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

/* ---- helpers shared with config_listeners.c -------------------------------------------- */

const char *cfg_value(const struct cfg_ctx *x, const char *key)
{
	const char *v = sl_props_get(x->props, key);
	if (v != NULL)
		return v;
	const struct node_config_key *k = node_config_key_find(key);
	SL_ASSERT(k != NULL);
	return k->default_value;
}

bool cfg_is_set(const struct cfg_ctx *x, const char *key)
{
	return sl_props_get(x->props, key) != NULL;
}

enum sl_err cfg_bad(struct cfg_ctx *x, const char *key, const char *v, size_t v_len,
                    const char *why_fmt, ...)
{
	if (x->err == NULL || x->err_len == 0)
		return SL_ECONFIG;
	char why[512];
	va_list ap;
	va_start(ap, why_fmt);
	vsnprintf(why, sizeof(why), why_fmt, ap);
	va_end(ap);
	snprintf(x->err, x->err_len, "Invalid value %.*s for configuration %s: %s", (int)v_len, v,
	         key, why);
	return SL_ECONFIG;
}

enum sl_err cfg_fail(struct cfg_ctx *x, const char *fmt, ...)
{
	if (x->err != NULL && x->err_len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(x->err, x->err_len, fmt, ap);
		va_end(ap);
	}
	return SL_ECONFIG;
}

void cfg_warn(struct cfg_ctx *x, const char *fmt, ...)
{
	if (x->w == NULL || x->w->count >= NODE_MAX_WARNINGS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->w->text[x->w->count], sizeof(x->w->text[0]), fmt, ap);
	va_end(ap);
	x->w->count++;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static struct cfg_tok trim(const char *p, size_t n)
{
	while (n > 0 && is_space(*p)) {
		p++;
		n--;
	}
	while (n > 0 && is_space(p[n - 1]))
		n--;
	return (struct cfg_tok){p, n};
}

bool cfg_next_token(const char **cursor, struct cfg_tok *out)
{
	const char *s = *cursor;
	while (*s != '\0') {
		const char *comma = strchr(s, ',');
		size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
		*out = trim(s, n);
		s += n;
		if (*s == ',')
			s++;
		if (out->n > 0) {
			*cursor = s;
			return true;
		}
	}
	*cursor = s;
	return false;
}

bool cfg_tok_eq(struct cfg_tok t, const char *s)
{
	return strlen(s) == t.n && memcmp(t.p, s, t.n) == 0;
}

bool cfg_tok_ieq(struct cfg_tok t, const char *s)
{
	return strlen(s) == t.n && strncasecmp(t.p, s, t.n) == 0;
}

bool cfg_parse_i64(const char *p, size_t n, int64_t min, int64_t max, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (p[i] == '+' || p[i] == '-')) {
		neg = p[i] == '-';
		i++;
	}
	if (i == n)
		return false;
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t v = 0;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		uint64_t d = (uint64_t)(p[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	int64_t s = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	if (s < min || s > max)
		return false;
	*out = s;
	return true;
}

/* ---- phase 1: typed keys ---------------------------------------------------------------- */

static const char *type_name(enum node_config_type t)
{
	switch (t) {
	case NODE_CFG_SHORT:
		return "SHORT";
	case NODE_CFG_INT:
		return "INT";
	case NODE_CFG_LONG:
		return "LONG";
	default:
		return "?";
	}
}

static void store_field(struct node_config *c, const struct node_config_key *k, int64_t v)
{
	if (k->offset == SIZE_MAX)
		return;
	uint8_t *f = (uint8_t *)c + k->offset;
	switch (k->width) {
	case 1: {
		bool b = v != 0;
		memcpy(f, &b, 1);
		break;
	}
	case 2: {
		SL_ASSERT(v >= INT16_MIN && v <= INT16_MAX);
		int16_t s = (int16_t)v;
		memcpy(f, &s, 2);
		break;
	}
	case 4: {
		SL_ASSERT(v >= INT32_MIN && v <= INT32_MAX);
		int32_t s = (int32_t)v;
		memcpy(f, &s, 4);
		break;
	}
	case 8:
		memcpy(f, &v, 8);
		break;
	default:
		SL_UNREACHABLE();
	}
}

static enum sl_err typed_number(struct cfg_ctx *x, const struct node_config_key *k,
                                struct cfg_tok t, int64_t *out)
{
	int64_t tmin = k->type == NODE_CFG_SHORT ? INT16_MIN
	               : k->type == NODE_CFG_INT ? INT32_MIN
	                                         : INT64_MIN;
	int64_t tmax = k->type == NODE_CFG_SHORT ? INT16_MAX
	               : k->type == NODE_CFG_INT ? INT32_MAX
	                                         : INT64_MAX;
	if (!cfg_parse_i64(t.p, t.n, tmin, tmax, out))
		return cfg_bad(x, k->name, t.p, t.n, "Not a number of type %s", type_name(k->type));
	if (*out < k->min)
		return cfg_bad(x, k->name, t.p, t.n, "Value must be at least %lld",
		               (long long)k->min);
	if (*out > k->max)
		return cfg_bad(x, k->name, t.p, t.n, "Value must be no more than %lld",
		               (long long)k->max);
	return SL_OK;
}

/* "String must be one of: a, b" (Kafka's ValidString / ValidList). */
static enum sl_err check_choice(struct cfg_ctx *x, const struct node_config_key *k,
                                struct cfg_tok t)
{
	const char *cur = k->choices;
	struct cfg_tok c;
	while (cfg_next_token(&cur, &c)) {
		if (c.n == t.n && memcmp(c.p, t.p, t.n) == 0)
			return SL_OK;
	}
	char list[256];
	size_t n = 0;
	cur = k->choices;
	while (cfg_next_token(&cur, &c) && n < sizeof(list))
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%.*s", n ? ", " : "", (int)c.n,
		                      c.p);
	return cfg_bad(x, k->name, t.p, t.n, "String must be one of: %s", list);
}

static enum sl_err typed_key(struct cfg_ctx *x, const struct node_config_key *k)
{
	const char *v = cfg_value(x, k->name);
	if (v == NULL)
		return SL_OK;
	struct cfg_tok t = trim(v, strlen(v));
	int64_t n = 0;
	switch (k->type) {
	case NODE_CFG_BOOLEAN:
		if (cfg_tok_ieq(t, "true"))
			n = 1;
		else if (!cfg_tok_ieq(t, "false"))
			return cfg_bad(x, k->name, t.p, t.n,
			               "Expected value to be either true or false");
		break;
	case NODE_CFG_SHORT:
	case NODE_CFG_INT:
	case NODE_CFG_LONG: {
		enum sl_err e = typed_number(x, k, t, &n);
		if (e != SL_OK)
			return e;
		break;
	}
	case NODE_CFG_STRING:
		return k->choices != NULL ? check_choice(x, k, t) : SL_OK;
	case NODE_CFG_LIST: {
		if (k->choices == NULL)
			return SL_OK;
		const char *cur = v;
		struct cfg_tok item;
		while (cfg_next_token(&cur, &item)) {
			enum sl_err e = check_choice(x, k, item);
			if (e != SL_OK)
				return e;
		}
		return SL_OK;
	}
	}
	store_field(x->c, k, n);
	return SL_OK;
}

/* ---- derived values ------------------------------------------------------------------- */

static int64_t value_i64(struct cfg_ctx *x, const char *key, int64_t dflt)
{
	const char *v = cfg_value(x, key);
	int64_t n = dflt;
	if (v != NULL) {
		struct cfg_tok t = trim(v, strlen(v));
		bool ok = cfg_parse_i64(t.p, t.n, INT64_MIN, INT64_MAX, &n);
		SL_ASSERT(ok); /* phase 1 checked it */
	}
	return n;
}

/* Retention, roll and flush times combine several keys (KafkaConfig.logRetentionTimeMillis,
 * logRollTimeMillis) and may be unset. */
static enum sl_err derive_times(struct cfg_ctx *x)
{
	struct node_config *c = x->c;
	int64_t ms;
	if (cfg_value(x, "log.retention.ms") != NULL)
		ms = value_i64(x, "log.retention.ms", 0);
	else if (cfg_value(x, "log.retention.minutes") != NULL)
		ms = value_i64(x, "log.retention.minutes", 0) * 60000;
	else
		ms = value_i64(x, "log.retention.hours", 168) * 3600000;
	if (ms < 0)
		ms = -1; /* Kafka: any negative value means unlimited */
	if (ms == 0)
		return cfg_fail(x, "log.retention.ms must be unlimited (-1) or, equal or greater "
		                   "than 1");
	c->log_retention_ms = ms;
	if (cfg_value(x, "log.roll.ms") != NULL)
		c->log_roll_ms = value_i64(x, "log.roll.ms", 0);
	else
		c->log_roll_ms = value_i64(x, "log.roll.hours", 168) * 3600000;
	if (c->log_roll_ms < 1)
		return cfg_fail(x, "log.roll.ms must be greater than or equal to 1");
	c->log_flush_interval_ms = value_i64(x, "log.flush.interval.ms", INT64_MAX);
	c->log_flush_offset_checkpoint_interval_ms =
	        value_i64(x, "log.flush.offset.checkpoint.interval.ms", 60000);
	return SL_OK;
}

/* compression.type and log.message.timestamp.type (choices checked by typed_key). */
static void text_keys(struct cfg_ctx *x)
{
	struct node_config *c = x->c;
	const char *v = cfg_value(x, "compression.type");
	struct cfg_tok t = trim(v != NULL ? v : "producer", strlen(v != NULL ? v : "producer"));
	snprintf(c->compression_type, sizeof(c->compression_type), "%.*s", (int)t.n, t.p);
	v = cfg_value(x, "log.message.timestamp.type");
	c->log_message_timestamp_log_append = v != NULL && strstr(v, "LogAppendTime") != NULL;
}

_Static_assert(sizeof(keys) / sizeof(keys[0]) <= NODE_MAX_SET_KEYS,
               "every key fits in node_config.set");

/* Records every key set in the file or by an override, in key-table order. */
static void record_set_keys(struct cfg_ctx *x)
{
	struct node_config *c = x->c;
	c->set_count = 0;
	for (size_t i = 0; i < SL_ARRAY_LEN(keys) && c->set_count < NODE_MAX_SET_KEYS; i++) {
		const char *v = sl_props_get(x->props, keys[i].name);
		if (v == NULL)
			continue;
		struct node_config_set *e = &c->set[c->set_count++];
		snprintf(e->name, sizeof(e->name), "%s", keys[i].name);
		snprintf(e->value, sizeof(e->value), "%s", v);
	}
}

const char *node_config_set_value(const struct node_config *c, const char *name)
{
	for (size_t i = 0; i < c->set_count; i++) {
		if (strcmp(c->set[i].name, name) == 0)
			return c->set[i].value;
	}
	return NULL;
}

static enum sl_err misc_keys(struct cfg_ctx *x)
{
	struct node_config *c = x->c;
	const char *v = cfg_value(x, "sluice.io.backend");
	/* enum io_backend {IO_BACKEND_AUTO, IO_BACKEND_URING, IO_BACKEND_SYNC} (io.h, not
	 * included: config stays free of the io layer). */
	struct cfg_tok t = trim(v, strlen(v));
	c->io_backend = cfg_tok_eq(t, "uring") ? 1 : cfg_tok_eq(t, "sync") ? 2 : 0;
	/* enum net_zero_copy {DEFAULT, SPLICE, SENDFILE, COPY} (net.h, likewise not included). */
	v = cfg_value(x, "sluice.net.zero.copy");
	t = trim(v, strlen(v));
	c->net_zero_copy = cfg_tok_eq(t, "splice")     ? 1
	                   : cfg_tok_eq(t, "sendfile") ? 2
	                   : cfg_tok_eq(t, "copy")     ? 3
	                                               : 0;
	v = cfg_value(x, "sluice.log.level");
	char level[16];
	t = trim(v, strlen(v));
	snprintf(level, sizeof(level), "%.*s", (int)SL_MIN(t.n, sizeof(level) - 1), t.p);
	if (sl_log_level_parse(level, &c->log_level) != SL_OK)
		return cfg_bad(x, "sluice.log.level", t.p, t.n, "unknown level");
	v = cfg_value(x, "inter.broker.protocol.version");
	if (v != NULL) {
		t = trim(v, strlen(v));
		if (t.n == 0 || t.n >= sizeof(c->inter_broker_protocol_version))
			return cfg_bad(x, "inter.broker.protocol.version", t.p, t.n,
			               "expected a version such as 3.9-IV0");
		memcpy(c->inter_broker_protocol_version, t.p, t.n);
	}
	if (c->metadata_log_segment_bytes < c->metadata_log_segment_min_bytes) {
		v = cfg_value(x, "metadata.log.segment.bytes");
		return cfg_bad(x, "metadata.log.segment.bytes", v, strlen(v),
		               "Value must be at least %d (metadata.log.segment.min.bytes)",
		               (int)c->metadata_log_segment_min_bytes);
	}
	return SL_OK;
}

/* ---- loading -------------------------------------------------------------------------- */

static enum sl_err apply(struct cfg_ctx *x)
{
	for (size_t i = 0; i < x->props->count; i++) {
		const char *key = x->props->items[i].key;
		if (node_config_key_find(key) == NULL)
			cfg_warn(x, "Unknown configuration key '%s' (ignored)", key);
	}
	for (size_t i = 0; i < SL_ARRAY_LEN(keys); i++) {
		enum sl_err e = typed_key(x, &keys[i]);
		if (e != SL_OK)
			return e;
	}
	enum sl_err e = derive_times(x);
	if (e == SL_OK)
		e = misc_keys(x);
	if (e == SL_OK) {
		text_keys(x);
		record_set_keys(x);
	}
	if (e == SL_OK)
		e = cfg_parse_structured(x);
	if (e == SL_OK)
		e = cfg_validate(x);
	return e;
}

static enum sl_err apply_overrides(struct sl_props *props, const struct node_override *ov,
                                   size_t count, char *err, size_t err_len)
{
	for (size_t i = 0; i < count; i++) {
		char key[256];
		size_t n = ov[i].key_len != 0 ? ov[i].key_len : strlen(ov[i].key);
		if (n == 0 || n >= sizeof(key) || ov[i].value == NULL) {
			snprintf(err, err_len, "Invalid override of '%.*s'", (int)SL_MIN(n, 64),
			         ov[i].key);
			return SL_ECONFIG;
		}
		memcpy(key, ov[i].key, n);
		key[n] = '\0';
		enum sl_err e = sl_props_set(props, key, ov[i].value);
		if (e != SL_OK) {
			snprintf(err, err_len, "Cannot apply override %s: %s", key, sl_err_msg(e));
			return e;
		}
	}
	return SL_OK;
}

enum sl_err node_config_load(const char *path, const struct node_override *overrides,
                             size_t override_count, struct node_config *out,
                             struct node_config_warnings *warnings, char *err, size_t err_len)
{
	SL_ASSERT(out != NULL);
	SL_ASSERT(err != NULL && err_len > 0);
	SL_ASSERT(overrides != NULL || override_count == 0);
	err[0] = '\0';
	if (warnings != NULL)
		warnings->count = 0;
	memset(out, 0, sizeof(*out));
	struct sl_props props = {0};
	enum sl_err e = SL_OK;
	if (path != NULL) {
		e = sl_props_load(path, &props, err, err_len);
		if (e == SL_EINVAL)
			e = SL_ECONFIG; /* syntax error; err names the file and line */
		else if (e != SL_OK && e != SL_ENOENT)
			e = SL_EIO;
	}
	if (e == SL_OK)
		e = apply_overrides(&props, overrides, override_count, err, err_len);
	if (e == SL_OK) {
		struct cfg_ctx x = {&props, out, warnings, err, err_len};
		e = apply(&x);
	}
	sl_props_free(&props);
	return e;
}

enum sl_err node_override_parse(const char *arg, struct node_override *out, char *err,
                                size_t err_len)
{
	SL_ASSERT(arg != NULL);
	SL_ASSERT(out != NULL);
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg) {
		if (err != NULL && err_len > 0)
			snprintf(err, err_len, "Invalid override '%s': expected key=value", arg);
		return SL_EINVAL;
	}
	out->key = arg;
	out->key_len = (size_t)(eq - arg);
	out->value = eq + 1;
	return SL_OK;
}

const struct node_listener *node_config_broker_listener(const struct node_config *c)
{
	SL_ASSERT(c != NULL);
	for (size_t i = 0; i < c->listener_count; i++) {
		if (!c->listeners[i].is_controller)
			return &c->listeners[i];
	}
	return NULL;
}
