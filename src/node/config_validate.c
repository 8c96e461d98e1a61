/*
 * config_validate.c: the cross-key KRaft rules of Kafka's KafkaConfig.validateValues, run
 * after every key has been parsed. Each rule fails with one sentence naming the keys
 * involved (Kafka's wording where it has one).
 */
#include "config_int.h"

#include <stdio.h>
#include <string.h>

static bool voters_contain(const struct node_config *c, int32_t id)
{
	for (size_t i = 0; i < c->voter_count; i++) {
		if (c->voters[i].id == id)
			return true;
	}
	return false;
}

/* "{1, 2, 3}" */
static void voter_ids(const struct node_config *c, char *out, size_t out_len)
{
	size_t n = (size_t)snprintf(out, out_len, "{");
	for (size_t i = 0; i < c->voter_count && n < out_len; i++)
		n += (size_t)snprintf(out + n, out_len - n, "%s%d", i ? ", " : "",
		                      (int)c->voters[i].id);
	if (n < out_len)
		snprintf(out + n, out_len - n, "}");
}

/* Comma-joined listener names, optionally only the non-controller ones. */
static void names(const struct node_listener *ls, size_t count, bool brokers_only, char *out,
                  size_t out_len)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < count && n < out_len; i++) {
		if (brokers_only && ls[i].is_controller)
			continue;
		n += (size_t)snprintf(out + n, out_len - n, "%s%s", n ? "," : "", ls[i].name);
	}
}

static bool listed(const struct node_listener *ls, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(ls[i].name, name) == 0)
			return true;
	}
	return false;
}

static enum sl_err validate_controller(struct cfg_ctx *x)
{
	const struct node_config *c = x->c;
	char ids[512];
	if (c->voter_count > 0 && !voters_contain(c, c->node_id)) {
		voter_ids(c, ids, sizeof(ids));
		return cfg_fail(x,
		                "If process.roles contains the 'controller' role, the node id %d "
		                "must be included in the set of voters controller.quorum.voters=%s",
		                (int)c->node_id, ids);
	}
	if (c->controller_listener_name_count == 0)
		return cfg_fail(x, "controller.listener.names must contain at least one value "
		                   "appearing in the 'listeners' configuration when running the "
		                   "KRaft controller role");
	for (size_t i = 0; i < c->controller_listener_name_count; i++) {
		if (!listed(c->listeners, c->listener_count, c->controller_listener_names[i]))
			return cfg_fail(x,
			                "controller.listener.names must only contain values "
			                "appearing in the 'listeners' configuration when running "
			                "the KRaft controller role");
	}
	if (c->roles == NODE_ROLE_CONTROLLER) {
		for (size_t i = 0; i < c->listener_count; i++) {
			if (!c->listeners[i].is_controller)
				return cfg_fail(
				        x, "The listeners config must only contain KRaft "
				           "controller listeners from controller.listener.names "
				           "when process.roles=controller");
		}
	}
	return SL_OK;
}

static enum sl_err validate_broker_only(struct cfg_ctx *x)
{
	const struct node_config *c = x->c;
	char ids[512];
	if (voters_contain(c, c->node_id)) {
		voter_ids(c, ids, sizeof(ids));
		return cfg_fail(x,
		                "If process.roles contains just the 'broker' role, the node id %d "
		                "must not be included in the set of voters "
		                "controller.quorum.voters=%s",
		                (int)c->node_id, ids);
	}
	if (c->controller_listener_name_count == 0)
		return cfg_fail(x, "controller.listener.names must contain at least one value when "
		                   "running KRaft with just the broker role");
	for (size_t i = 0; i < c->listener_count; i++) {
		if (c->listeners[i].is_controller)
			return cfg_fail(x,
			                "controller.listener.names must not contain a value "
			                "appearing in the 'listeners' configuration when running "
			                "KRaft with just the broker role");
	}
	if (c->controller_listener_name_count > 1)
		cfg_warn(x,
		         "controller.listener.names has multiple entries; only the first (%s) will "
		         "be used since process.roles=broker",
		         c->controller_listener_names[0]);
	return SL_OK;
}

static enum sl_err validate_advertised(struct cfg_ctx *x)
{
	const struct node_config *c = x->c;
	char found[1024], valid[1024];
	for (size_t i = 0; i < c->advertised_count; i++) {
		if (strcmp(c->advertised[i].host, "0.0.0.0") == 0)
			return cfg_fail(x, "advertised.listeners cannot use the nonroutable "
			                   "meta-address 0.0.0.0. Use a routable IP address.");
	}
	for (size_t i = 0; i < c->advertised_count; i++) {
		if (!listed(c->listeners, c->listener_count, c->advertised[i].name)) {
			names(c->advertised, c->advertised_count, false, found, sizeof(found));
			names(c->listeners, c->listener_count, false, valid, sizeof(valid));
			return cfg_fail(x,
			                "advertised.listeners listener names must be equal to or a "
			                "subset of the ones defined in listeners. Found %s. The "
			                "valid options based on the current configuration are %s",
			                found, valid);
		}
	}
	if ((c->roles & NODE_ROLE_BROKER) == 0)
		return SL_OK;
	names(c->advertised, c->advertised_count, true, valid, sizeof(valid));
	if (valid[0] == '\0')
		return cfg_fail(x, "There must be at least one broker advertised listener. Perhaps "
		                   "all listeners appear in controller.listener.names?");
	for (size_t i = 0; i < c->advertised_count; i++) {
		if (!c->advertised[i].is_controller &&
		    strcmp(c->advertised[i].name, c->inter_broker_listener_name) == 0)
			return SL_OK;
	}
	return cfg_fail(x,
	                "inter.broker.listener.name must be a listener name defined in "
	                "advertised.listeners. The valid options based on currently configured "
	                "listeners are %s",
	                valid);
}

enum sl_err cfg_validate(struct cfg_ctx *x)
{
	const struct node_config *c = x->c;
	const char *v = cfg_value(x, "control.plane.listener.name");
	if (v != NULL)
		return cfg_fail(x, "control.plane.listener.name is not supported in KRaft mode.");
	v = cfg_value(x, "zookeeper.metadata.migration.enable");
	if (strcasestr(v, "true") != NULL) /* typed phase: v is a boolean */
		return cfg_bad(x, "zookeeper.metadata.migration.enable", v, strlen(v),
		               "ZooKeeper migration is not supported");
	if (c->voter_count == 0 && c->bootstrap_server_count == 0)
		return cfg_fail(x, "If using process.roles, either controller.quorum.voters or "
		                   "controller.quorum.bootstrap.servers must contain the set of "
		                   "bootstrap controllers or controller.quorum.voters must contain "
		                   "a parseable set of controllers.");
	enum sl_err e = (c->roles & NODE_ROLE_CONTROLLER) ? validate_controller(x)
	                                                  : validate_broker_only(x);
	if (e != SL_OK)
		return e;
	return validate_advertised(x);
}
