/*
 * node_configs.c: what the node config gives the layers it wires: the broker's config
 * listing (DescribeConfigs on a BROKER resource) and the log manager's defaults.
 *
 * The listing is derived from the key table of config.c, so every key the node accepts is
 * listed exactly once, with the text the operator wrote when it was set.
 */
#include "node_int.h"

#include <stdlib.h>
#include <string.h>

static const char *type_name(enum node_config_type t)
{
	switch (t) {
	case NODE_CFG_BOOLEAN:
		return "BOOLEAN";
	case NODE_CFG_SHORT:
		return "SHORT";
	case NODE_CFG_INT:
		return "INT";
	case NODE_CFG_LONG:
		return "LONG";
	case NODE_CFG_STRING:
		return "STRING";
	case NODE_CFG_LIST:
		return "LIST";
	}
	return "STRING";
}

static int entry_cmp(const void *a, const void *b)
{
	const struct brk_config_entry *x = a, *y = b;
	return strcmp(x->name, y->name);
}

enum sl_err node_broker_configs(const struct node_config *c, struct brk_config_entry **out,
                                size_t *count)
{
	size_t n = node_config_key_count();
	struct brk_config_entry *e = calloc(n, sizeof(*e));
	if (e == NULL)
		return SL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct node_config_key *k = node_config_key_at(i);
		const char *set = node_config_set_value(c, k->name);
		bool sensitive = strstr(k->name, "password") != NULL;
		e[i] = (struct brk_config_entry){
		        .name = k->name,
		        .value = sensitive     ? NULL
		                 : set != NULL ? set
		                               : k->default_value,
		        .source = set != NULL ? NODE_CONFIG_SOURCE_STATIC_BROKER
		                              : NODE_CONFIG_SOURCE_DEFAULT,
		        .is_sensitive = sensitive,
		        .type = type_name(k->type),
		        .documentation = k->doc,
		};
	}
	qsort(e, n, sizeof(*e), entry_cmp);
	*out = e;
	*count = n;
	return SL_OK;
}

void node_log_manager_opts(const struct node_config *c, const char **dirs,
                           struct stor_log_manager_opts *o)
{
	stor_log_manager_opts_init(o);
	for (size_t i = 0; i < c->log_dir_count; i++)
		dirs[i] = c->log_dirs[i];
	o->log_dirs = dirs;
	o->log_dir_count = c->log_dir_count;
	struct stor_log_config *d = &o->defaults;
	d->segment_bytes = (uint64_t)c->log_segment_bytes;
	d->segment_ms = c->log_roll_ms;
	d->retention_ms = c->log_retention_ms;
	d->retention_bytes = c->log_retention_bytes;
	d->index_interval_bytes = (uint32_t)c->log_index_interval_bytes;
	d->flush_messages = c->log_flush_interval_messages;
	d->flush_ms = c->log_flush_interval_ms;
	d->max_message_bytes = c->message_max_bytes;
	d->log_append_time = c->log_message_timestamp_log_append;
	d->file_delete_delay_ms = c->log_segment_delete_delay_ms;
	o->retention_check_interval_ms = c->log_retention_check_interval_ms;
	o->checkpoint_interval_ms = c->log_flush_offset_checkpoint_interval_ms;
	o->flush_scheduler_interval_ms = c->log_flush_scheduler_interval_ms;
	o->start_timer = true;
}
