/*
 * record_text.c: metadata records and Raft control records as one readable line each (the
 * output of `sluice metadata dump`): "<TypeName> field=value ... (vN)", field names as in
 * Kafka's JSON schemas (camelCase). Strings are printed bare unless they hold a space, a
 * quote, '=' or a non-printable byte (then quoted, with \" \\ and \xNN escapes); a null string
 * or array prints as null, arrays as [a,b,c].
 *
 * Input is untrusted (a file on disk): a bad frame, an unknown key or version, a body that
 * does not decode or leaves trailing bytes all print a "<...>" note instead of the fields.
 */
#include "metadata.h"

#include <inttypes.h>
#include <string.h>

/* Control record types (Kafka's ControlRecordType; batch.h's stor_control_type, which this
 * L1 library does not depend on). */
enum {
	CTL_LEADER_CHANGE = 2,
	CTL_SNAPSHOT_HEADER = 3,
	CTL_SNAPSHOT_FOOTER = 4,
	CTL_KRAFT_VERSION = 5,
	CTL_VOTERS = 6
};

static void put_raw_str(struct sl_buf *out, const char *p, int32_t len)
{
	bool quote = len == 0;

	if (len < 0 || p == NULL) {
		sl_buf_append(out, "null", 4);
		return;
	}
	for (int32_t i = 0; i < len && !quote; i++) {
		unsigned char c = (unsigned char)p[i];

		quote = c <= ' ' || c >= 0x7f || c == '"' || c == '\\' || c == '=';
	}
	if (!quote) {
		sl_buf_append(out, p, (size_t)len);
		return;
	}
	sl_buf_put_u8(out, '"');
	for (int32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\')
			sl_buf_printf(out, "\\%c", c);
		else if (c < ' ' || c >= 0x7f)
			sl_buf_printf(out, "\\x%02x", c);
		else
			sl_buf_put_u8(out, c);
	}
	sl_buf_put_u8(out, '"');
}

static void put_str(struct sl_buf *out, const char *key, struct wire_str s)
{
	sl_buf_printf(out, " %s=", key);
	put_raw_str(out, s.ptr, s.len);
}

static void put_int(struct sl_buf *out, const char *key, int64_t v)
{
	sl_buf_printf(out, " %s=%" PRId64, key, v);
}

static void put_bool(struct sl_buf *out, const char *key, bool v)
{
	sl_buf_printf(out, " %s=%s", key, v ? "true" : "false");
}

static void put_uuid(struct sl_buf *out, const char *key, struct sl_uuid u)
{
	char s[SL_UUID_STR_LEN + 1];

	sl_uuid_to_str(&u, s);
	sl_buf_printf(out, " %s=%s", key, s);
}

static void put_ints(struct sl_buf *out, const char *key, const int32_t *a, int32_t n)
{
	sl_buf_printf(out, " %s=", key);
	if (n < 0) {
		sl_buf_append(out, "null", 4);
		return;
	}
	sl_buf_put_u8(out, '[');
	for (int32_t i = 0; i < n; i++)
		sl_buf_printf(out, "%s%" PRId32, i ? "," : "", a[i]);
	sl_buf_put_u8(out, ']');
}

static void put_uuids(struct sl_buf *out, const char *key, const struct sl_uuid *a, int32_t n)
{
	char s[SL_UUID_STR_LEN + 1];

	sl_buf_printf(out, " %s=", key);
	if (n < 0) {
		sl_buf_append(out, "null", 4);
		return;
	}
	sl_buf_put_u8(out, '[');
	for (int32_t i = 0; i < n; i++) {
		sl_uuid_to_str(&a[i], s);
		sl_buf_printf(out, "%s%s", i ? "," : "", s);
	}
	sl_buf_put_u8(out, ']');
}

static void fmt_register(struct sl_buf *out, const struct meta_register_broker_record *r)
{
	put_int(out, "brokerId", r->broker_id);
	put_bool(out, "isMigratingZkBroker", r->is_migrating_zk_broker);
	put_uuid(out, "incarnationId", r->incarnation_id);
	put_int(out, "brokerEpoch", r->broker_epoch);
	sl_buf_append(out, " endPoints=[", 12);
	for (int32_t i = 0; i < r->end_points_count; i++) {
		const struct meta_register_broker_record_broker_endpoint *e = &r->end_points[i];

		sl_buf_printf(out, "%s{name=", i ? "," : "");
		put_raw_str(out, e->name.ptr, e->name.len);
		sl_buf_append(out, " host=", 6);
		put_raw_str(out, e->host.ptr, e->host.len);
		sl_buf_printf(out, " port=%u securityProtocol=%d}", (unsigned)e->port,
		              e->security_protocol);
	}
	sl_buf_append(out, "] features=[", 12);
	for (int32_t i = 0; i < r->features_count; i++) {
		const struct meta_register_broker_record_broker_feature *f = &r->features[i];

		sl_buf_printf(out, "%s{name=", i ? "," : "");
		put_raw_str(out, f->name.ptr, f->name.len);
		sl_buf_printf(out, " min=%d max=%d}", f->min_supported_version,
		              f->max_supported_version);
	}
	sl_buf_put_u8(out, ']');
	put_str(out, "rack", r->rack);
	put_bool(out, "fenced", r->fenced);
	put_bool(out, "inControlledShutdown", r->in_controlled_shutdown);
	put_uuids(out, "logDirs", r->log_dirs, r->log_dirs_count);
}

static void fmt_register_controller(struct sl_buf *out,
                                    const struct meta_register_controller_record *r)
{
	put_int(out, "controllerId", r->controller_id);
	put_uuid(out, "incarnationId", r->incarnation_id);
	put_bool(out, "zkMigrationReady", r->zk_migration_ready);
	sl_buf_append(out, " endPoints=[", 12);
	for (int32_t i = 0; i < r->end_points_count; i++) {
		const struct meta_register_controller_record_controller_endpoint *e =
		        &r->end_points[i];

		sl_buf_printf(out, "%s{name=", i ? "," : "");
		put_raw_str(out, e->name.ptr, e->name.len);
		sl_buf_append(out, " host=", 6);
		put_raw_str(out, e->host.ptr, e->host.len);
		sl_buf_printf(out, " port=%u securityProtocol=%d}", (unsigned)e->port,
		              e->security_protocol);
	}
	sl_buf_append(out, "] features=[", 12);
	for (int32_t i = 0; i < r->features_count; i++) {
		const struct meta_register_controller_record_controller_feature *f =
		        &r->features[i];

		sl_buf_printf(out, "%s{name=", i ? "," : "");
		put_raw_str(out, f->name.ptr, f->name.len);
		sl_buf_printf(out, " min=%d max=%d}", f->min_supported_version,
		              f->max_supported_version);
	}
	sl_buf_put_u8(out, ']');
}

static void fmt_partition(struct sl_buf *out, const struct meta_partition_record *r)
{
	put_int(out, "partitionId", r->partition_id);
	put_uuid(out, "topicId", r->topic_id);
	put_ints(out, "replicas", r->replicas, r->replicas_count);
	put_ints(out, "isr", r->isr, r->isr_count);
	put_ints(out, "removingReplicas", r->removing_replicas, r->removing_replicas_count);
	put_ints(out, "addingReplicas", r->adding_replicas, r->adding_replicas_count);
	put_int(out, "leader", r->leader);
	put_int(out, "leaderRecoveryState", r->leader_recovery_state);
	put_int(out, "leaderEpoch", r->leader_epoch);
	put_int(out, "partitionEpoch", r->partition_epoch);
	put_uuids(out, "directories", r->directories, r->directories_count);
	put_ints(out, "eligibleLeaderReplicas", r->eligible_leader_replicas,
	         r->eligible_leader_replicas_count);
	put_ints(out, "lastKnownElr", r->last_known_elr, r->last_known_elr_count);
}

static void fmt_partition_change(struct sl_buf *out, const struct meta_partition_change_record *r)
{
	put_int(out, "partitionId", r->partition_id);
	put_uuid(out, "topicId", r->topic_id);
	put_ints(out, "isr", r->isr, r->isr_count);
	put_int(out, "leader", r->leader);
	put_ints(out, "replicas", r->replicas, r->replicas_count);
	put_ints(out, "removingReplicas", r->removing_replicas, r->removing_replicas_count);
	put_ints(out, "addingReplicas", r->adding_replicas, r->adding_replicas_count);
	put_int(out, "leaderRecoveryState", r->leader_recovery_state);
	put_uuids(out, "directories", r->directories, r->directories_count);
	put_ints(out, "eligibleLeaderReplicas", r->eligible_leader_replicas,
	         r->eligible_leader_replicas_count);
	put_ints(out, "lastKnownElr", r->last_known_elr, r->last_known_elr_count);
}

static void fmt_config(struct sl_buf *out, const struct meta_config_record *r)
{
	const char *type = r->resource_type == META_RESOURCE_TOPIC    ? "TOPIC"
	                   : r->resource_type == META_RESOURCE_BROKER ? "BROKER"
	                   : r->resource_type == 8                    ? "BROKER_LOGGER"
	                   : r->resource_type == 16                   ? "CLIENT_METRICS"
	                   : r->resource_type == 32                   ? "GROUP"
	                                                              : "UNKNOWN";

	sl_buf_printf(out, " resourceType=%d(%s)", r->resource_type, type);
	put_str(out, "resourceName", r->resource_name);
	put_str(out, "name", r->name);
	put_str(out, "value", r->value);
}

/* Records of keys 7-25 (small ones). */
static void fmt_small(struct sl_buf *out, int16_t key, const void *rec)
{
	switch (key) {
	case META_REC_UNREGISTER_BROKER: {
		const struct meta_unregister_broker_record *r = rec;
		put_int(out, "brokerId", r->broker_id);
		put_int(out, "brokerEpoch", r->broker_epoch);
		break;
	}
	case META_REC_TOPIC: {
		const struct meta_topic_record *r = rec;
		put_str(out, "name", r->name);
		put_uuid(out, "topicId", r->topic_id);
		break;
	}
	case META_REC_FENCE_BROKER:
	case META_REC_UNFENCE_BROKER: {
		const struct meta_fence_broker_record *r = rec; /* same layout as Unfence */
		put_int(out, "id", r->id);
		put_int(out, "epoch", r->epoch);
		break;
	}
	case META_REC_REMOVE_TOPIC:
		put_uuid(out, "topicId", ((const struct meta_remove_topic_record *)rec)->topic_id);
		break;
	case META_REC_FEATURE_LEVEL: {
		const struct meta_feature_level_record *r = rec;
		put_str(out, "name", r->name);
		put_int(out, "featureLevel", r->feature_level);
		break;
	}
	case META_REC_PRODUCER_IDS: {
		const struct meta_producer_ids_record *r = rec;
		put_int(out, "brokerId", r->broker_id);
		put_int(out, "brokerEpoch", r->broker_epoch);
		put_int(out, "nextProducerId", r->next_producer_id);
		break;
	}
	case META_REC_BROKER_REGISTRATION_CHANGE: {
		const struct meta_broker_registration_change_record *r = rec;
		put_int(out, "brokerId", r->broker_id);
		put_int(out, "brokerEpoch", r->broker_epoch);
		put_int(out, "fenced", r->fenced);
		put_int(out, "inControlledShutdown", r->in_controlled_shutdown);
		put_uuids(out, "logDirs", r->log_dirs, r->log_dirs_count);
		break;
	}
	case META_REC_ZK_MIGRATION_STATE:
		put_int(out, "zkMigrationState",
		        ((const struct meta_zk_migration_state_record *)rec)->zk_migration_state);
		break;
	case META_REC_BEGIN_TRANSACTION:
		put_str(out, "name", ((const struct meta_begin_transaction_record *)rec)->name);
		break;
	case META_REC_ABORT_TRANSACTION:
		put_str(out, "reason", ((const struct meta_abort_transaction_record *)rec)->reason);
		break;
	default: /* NoOp, EndTransaction: no fields */
		break;
	}
}

static void fmt_any(struct sl_buf *out, int16_t key, const void *rec)
{
	switch (key) {
	case META_REC_REGISTER_BROKER:
		fmt_register(out, rec);
		break;
	case META_REC_PARTITION:
		fmt_partition(out, rec);
		break;
	case META_REC_PARTITION_CHANGE:
		fmt_partition_change(out, rec);
		break;
	case META_REC_CONFIG:
		fmt_config(out, rec);
		break;
	case META_REC_REGISTER_CONTROLLER:
		fmt_register_controller(out, rec);
		break;
	default:
		fmt_small(out, key, rec);
		break;
	}
}

void meta_record_format(struct sl_buf *out, const uint8_t *value, size_t len,
                        struct sl_arena *arena)
{
	struct wire_reader r;
	const struct meta_record_info *info;
	int16_t key, version;
	void *rec;
	enum sl_err e;

	if (value == NULL) {
		sl_buf_printf(out, "<null record value>");
		return;
	}
	wire_reader_init(&r, value, len, arena);
	if (meta_frame_get(&r, &key, &version) != SL_OK) {
		sl_buf_printf(out, "<malformed frame header, %zu bytes>", len);
		return;
	}
	info = meta_record_info(key);
	if (info == NULL) {
		sl_buf_printf(out, "<unknown record type %d v%d, %zu bytes>", key, version, len);
		return;
	}
	rec = sl_arena_calloc(arena, 1, meta_record_struct_size(key));
	if (rec == NULL) {
		sl_buf_printf(out, "%s(v%d) <out of memory>", info->name, version);
		return;
	}
	e = meta_record_decode_any(&r, key, version, rec);
	if (e == SL_OK && !wire_reader_done(&r))
		e = SL_EMALFORMED;
	if (e != SL_OK) {
		sl_buf_printf(out, "%s(v%d) <%s, %zu bytes>", info->name, version,
		              e == SL_EUNSUPPORTED ? "unsupported version" : "malformed body", len);
		return;
	}
	sl_buf_printf(out, "%s", info->name);
	fmt_any(out, key, rec);
	sl_buf_printf(out, " (v%d)", version);
}

/* ---- control records ---------------------------------------------------------------------- */

static void fmt_lc_voters(struct sl_buf *out, const char *key,
                          const struct wire_leader_change_message_voter *v, int32_t n,
                          int16_t version)
{
	char s[SL_UUID_STR_LEN + 1];

	sl_buf_printf(out, " %s=[", key);
	for (int32_t i = 0; i < n; i++) {
		sl_buf_printf(out, "%s%" PRId32, i ? "," : "", v[i].voter_id);
		if (version >= 1) {
			sl_uuid_to_str(&v[i].voter_directory_id, s);
			sl_buf_printf(out, ":%s", s);
		}
	}
	sl_buf_put_u8(out, ']');
}

static void fmt_voters(struct sl_buf *out, const struct wire_voters_record *vr)
{
	char s[SL_UUID_STR_LEN + 1];

	put_int(out, "version", vr->version);
	sl_buf_append(out, " voters=[", 9);
	for (int32_t i = 0; i < vr->voters_count; i++) {
		const struct wire_voters_record_voter *v = &vr->voters[i];

		sl_uuid_to_str(&v->voter_directory_id, s);
		sl_buf_printf(out, "%s{voterId=%" PRId32 " voterDirectoryId=%s endpoints=[",
		              i ? "," : "", v->voter_id, s);
		for (int32_t k = 0; k < v->endpoints_count; k++) {
			sl_buf_printf(out, "%s", k ? "," : "");
			put_raw_str(out, v->endpoints[k].name.ptr, v->endpoints[k].name.len);
			sl_buf_put_u8(out, '@');
			put_raw_str(out, v->endpoints[k].host.ptr, v->endpoints[k].host.len);
			sl_buf_printf(out, ":%u", (unsigned)v->endpoints[k].port);
		}
		sl_buf_printf(out, "] kraftVersionFeature=%d-%d}",
		              v->kraft_version_feature.min_supported_version,
		              v->kraft_version_feature.max_supported_version);
	}
	sl_buf_put_u8(out, ']');
}

/* Decodes the control message of type into its struct and prints it; SL_* on bad bytes. */
static enum sl_err fmt_control(struct sl_buf *out, int16_t type, struct wire_reader *r)
{
	enum sl_err e = SL_EUNSUPPORTED;

	if (type == CTL_LEADER_CHANGE) {
		struct wire_leader_change_message m;
		int16_t v;

		/* The message's own version field says how it was written (0 or 1). */
		if (r->end - r->p < 2)
			return SL_EMALFORMED;
		v = (int16_t)sl_load_be16(r->p);
		if (v < 0 || v > 1)
			return SL_EUNSUPPORTED;
		e = wire_leader_change_message_decode(r, v, &m);
		if (e == SL_OK) {
			sl_buf_printf(out, "LeaderChange version=%d leaderId=%" PRId32, m.version,
			              m.leader_id);
			fmt_lc_voters(out, "voters", m.voters, m.voters_count, v);
			fmt_lc_voters(out, "grantingVoters", m.granting_voters,
			              m.granting_voters_count, v);
		}
	} else if (type == CTL_SNAPSHOT_HEADER) {
		struct wire_snapshot_header_record m;

		e = wire_snapshot_header_record_decode(r, 0, &m);
		if (e == SL_OK)
			sl_buf_printf(
			        out, "SnapshotHeader version=%d lastContainedLogTimestamp=%" PRId64,
			        m.version, m.last_contained_log_timestamp);
	} else if (type == CTL_SNAPSHOT_FOOTER) {
		struct wire_snapshot_footer_record m;

		e = wire_snapshot_footer_record_decode(r, 0, &m);
		if (e == SL_OK)
			sl_buf_printf(out, "SnapshotFooter version=%d", m.version);
	} else if (type == CTL_KRAFT_VERSION) {
		struct wire_kraft_version_record m;

		e = wire_kraft_version_record_decode(r, 0, &m);
		if (e == SL_OK)
			sl_buf_printf(out, "KRaftVersion version=%d kraftVersion=%d", m.version,
			              m.kraft_version);
	} else if (type == CTL_VOTERS) {
		struct wire_voters_record m;

		e = wire_voters_record_decode(r, 0, &m);
		if (e == SL_OK) {
			sl_buf_printf(out, "Voters");
			fmt_voters(out, &m);
		}
	}
	return e;
}

void meta_control_record_format(struct sl_buf *out, int16_t type, const uint8_t *value, size_t len,
                                struct sl_arena *arena)
{
	static const char *const names[] = {"Abort",          "Commit",         "LeaderChange",
	                                    "SnapshotHeader", "SnapshotFooter", "KRaftVersion",
	                                    "Voters"};
	struct wire_reader r;
	size_t before = out->len;
	enum sl_err e;

	if (type < CTL_LEADER_CHANGE || type > CTL_VOTERS) {
		if (type >= 0 && type <= 1)
			sl_buf_printf(out, "%s marker (%zu bytes)", names[type], len);
		else
			sl_buf_printf(out, "<unknown control record type %d, %zu bytes>", type,
			              len);
		return;
	}
	if (value == NULL) {
		sl_buf_printf(out, "%s <null value>", names[type]);
		return;
	}
	wire_reader_init(&r, value, len, arena);
	e = fmt_control(out, type, &r);
	if (e == SL_OK && !wire_reader_done(&r))
		e = SL_EMALFORMED;
	if (e != SL_OK) {
		out->len = before;
		sl_buf_printf(out, "%s <%s, %zu bytes>", names[type],
		              e == SL_EUNSUPPORTED ? "unsupported version" : "malformed body", len);
	}
}
