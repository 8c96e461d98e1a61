/*
 * api_table.c: the broker's API table, the single source of truth for both dispatch and the
 * ranges ApiVersions advertises, so the two cannot drift apart.
 *
 * Invariant (checked at start-up by brk_api_table_check): each entry's [min, max] lies inside
 * the wire definitions' range for its key, and keys are unique.
 *
 * Versions: old versions stay (kraft.md §7.3: kafka-python 2.0.2 probes with ApiVersions v0
 * and Metadata v0; librdkafka needs min 0 advertised for feature detection).
 */
#include "brk_int.h"

static const struct brk_api brk_api_table[] = {
        {0, 0, 11, BRK_ON_BROKER, brk_handle_produce},
        {1, 0, 16, BRK_ON_BROKER | BRK_ON_CONTROLLER, brk_handle_fetch},
        {2, 0, 9, BRK_ON_BROKER, brk_handle_list_offsets},
        {3, 0, 12, BRK_ON_BROKER, brk_handle_metadata},
        {10, 0, 4, BRK_ON_BROKER, brk_handle_find_coordinator},
        {18, 0, 4, BRK_ON_BROKER | BRK_ON_CONTROLLER, brk_handle_api_versions},
        {19, 0, 7, BRK_ON_BROKER, brk_handle_create_topics},
        {20, 0, 6, BRK_ON_BROKER, brk_handle_delete_topics},
        {21, 0, 2, BRK_ON_BROKER, brk_handle_delete_records},
        {23, 0, 4, BRK_ON_BROKER, brk_handle_offset_for_leader_epoch},
        {32, 0, 4, BRK_ON_BROKER, brk_handle_describe_configs},
        {33, 0, 2, BRK_ON_BROKER, brk_handle_alter_configs},
        {35, 0, 4, BRK_ON_BROKER, brk_handle_describe_log_dirs},
        {37, 0, 3, BRK_ON_BROKER, brk_handle_create_partitions},
        {44, 0, 1, BRK_ON_BROKER, brk_handle_incremental_alter_configs},
        {52, 0, 2, BRK_ON_CONTROLLER, brk_handle_raft},
        {53, 0, 1, BRK_ON_CONTROLLER, brk_handle_raft},
        {54, 0, 1, BRK_ON_CONTROLLER, brk_handle_raft},
        {55, 0, 2, BRK_ON_BROKER | BRK_ON_CONTROLLER, brk_handle_raft},
        {58, 0, 0, BRK_ON_CONTROLLER, brk_handle_envelope},
        {59, 0, 1, BRK_ON_CONTROLLER, brk_handle_raft},
        {60, 0, 1, BRK_ON_BROKER, brk_handle_describe_cluster},
        {62, 0, 4, BRK_ON_CONTROLLER, brk_handle_broker_registration},
        {63, 0, 1, BRK_ON_CONTROLLER, brk_handle_broker_heartbeat},
        {64, 0, 0, BRK_ON_BROKER | BRK_ON_CONTROLLER, brk_handle_unregister_broker},
        {70, 0, 0, BRK_ON_CONTROLLER, brk_handle_controller_registration},
};

const struct brk_api *brk_api_find(int16_t api_key)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(brk_api_table); i++) {
		if (brk_api_table[i].api_key == api_key)
			return &brk_api_table[i];
	}
	return NULL;
}

void brk_api_table_check(void)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(brk_api_table); i++) {
		const struct brk_api *a = &brk_api_table[i];
		const struct wire_api_info *info = wire_api_info(a->api_key);
		SL_ASSERT(info != NULL);
		SL_ASSERT(a->min_version >= info->min_version);
		SL_ASSERT(a->max_version <= info->max_version);
		SL_ASSERT(a->min_version <= a->max_version);
		SL_ASSERT(a->handler != NULL);
		SL_ASSERT(a->listeners != 0);
		SL_ASSERT(brk_api_find(a->api_key) == a);
	}
}

size_t brk_api_ranges(bool controller_listener, struct brk_api_range *out, size_t cap)
{
	unsigned want = controller_listener ? BRK_ON_CONTROLLER : BRK_ON_BROKER;
	size_t n = 0;
	for (size_t i = 0; i < SL_ARRAY_LEN(brk_api_table); i++) {
		const struct brk_api *a = &brk_api_table[i];
		if ((a->listeners & want) == 0)
			continue;
		if (n < cap) {
			out[n].api_key = a->api_key;
			out[n].min_version = a->min_version;
			out[n].max_version = a->max_version;
		}
		n++;
	}
	return n;
}
