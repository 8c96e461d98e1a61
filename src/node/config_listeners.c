/*
 * config_listeners.c: the structured keys of a node's configuration (process.roles, node.id,
 * directories, listeners, the protocol map, the quorum) and the cross-key KRaft rules of
 * Kafka's KafkaConfig.validateValues (3.9 / trunk-2024-10).
 *
 * Listener names are case-insensitive in Kafka (ListenerName.normalised) and are stored
 * upper-cased. Messages keep Kafka's wording where it has one, with "Invalid value <v> for
 * configuration <key>: ..." for single-key errors.
 */
#include "config_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAP_MAX 32

struct proto_map {
	size_t count;
	char name[MAP_MAX][NODE_NAME_MAX];
	enum node_security_protocol proto[MAP_MAX];
};

static const char *const proto_names[] = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};

static bool proto_parse(struct cfg_tok t, enum node_security_protocol *out)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(proto_names); i++) {
		if (cfg_tok_ieq(t, proto_names[i])) {
			*out = (enum node_security_protocol)i;
			return true;
		}
	}
	return false;
}

static void upper_copy(char *dst, struct cfg_tok t)
{
	for (size_t i = 0; i < t.n; i++)
		dst[i] = (char)toupper((unsigned char)t.p[i]);
	dst[t.n] = '\0';
}

static bool name_valid(struct cfg_tok t)
{
	if (t.n == 0 || t.n >= NODE_NAME_MAX)
		return false;
	for (size_t i = 0; i < t.n; i++) {
		unsigned char ch = (unsigned char)t.p[i];
		if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.')
			return false;
	}
	return true;
}

/* ---- roles and node id ------------------------------------------------------------------- */

static enum sl_err parse_roles(struct cfg_ctx *x)
{
	const char *v = cfg_value(x, "process.roles");
	const char *cur = v;
	struct cfg_tok t;
	unsigned roles = 0;
	while (cfg_next_token(&cur, &t)) {
		unsigned r = cfg_tok_eq(t, "broker")       ? NODE_ROLE_BROKER
		             : cfg_tok_eq(t, "controller") ? NODE_ROLE_CONTROLLER
		                                           : 0;
		if (r == 0)
			return cfg_bad(x, "process.roles", v, strlen(v),
			               "Unknown process role '%.*s' (only 'broker' and "
			               "'controller' are allowed roles)",
			               (int)t.n, t.p);
		if (roles & r)
			return cfg_fail(x, "Duplicate role names found in `process.roles`: %s", v);
		roles |= r;
	}
	if (roles == 0)
		return cfg_fail(x,
		                "Missing configuration `process.roles`: Sluice runs only in "
		                "KRaft mode; set it to broker, controller or broker,controller.");
	x->c->roles = roles;
	return SL_OK;
}

static int64_t int_value(struct cfg_ctx *x, const char *key)
{
	const char *v = cfg_value(x, key);
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	int64_t out = -1;
	bool ok = cfg_parse_i64(v, n, INT32_MIN, INT32_MAX, &out);
	SL_ASSERT(ok); /* typed phase checked it */
	return out;
}

static enum sl_err parse_node_id(struct cfg_ctx *x)
{
	bool node_set = cfg_is_set(x, "node.id");
	bool broker_set = cfg_is_set(x, "broker.id");
	int64_t node_id = int_value(x, "node.id");
	int64_t broker_id = int_value(x, "broker.id");
	if (node_set && broker_set && node_id != broker_id)
		return cfg_fail(x, "You must set `node.id` to the same value as `broker.id`.");
	const char *key = "node.id";
	if (!node_set && broker_set) {
		node_id = broker_id;
		key = "broker.id";
	}
	if (node_id < 0) {
		if (!node_set && !broker_set)
			return cfg_fail(x, "Missing configuration `node.id` which is required when "
			                   "`process.roles` is defined (i.e. when running in KRaft "
			                   "mode).");
		const char *v = cfg_value(x, key);
		return cfg_bad(x, key, v, strlen(v), "Value must be at least 0");
	}
	x->c->node_id = (int32_t)node_id;
	return SL_OK;
}

/* ---- directories ----------------------------------------------------------------------- */

static enum sl_err parse_dirs(struct cfg_ctx *x)
{
	struct node_config *c = x->c;
	const char *key = cfg_value(x, "log.dirs") != NULL ? "log.dirs" : "log.dir";
	const char *v = cfg_value(x, key);
	const char *cur = v;
	struct cfg_tok t;
	while (cfg_next_token(&cur, &t)) {
		if (c->log_dir_count == NODE_MAX_DIRS)
			return cfg_bad(x, key, v, strlen(v), "at most %d directories are supported",
			               NODE_MAX_DIRS);
		if (t.n >= NODE_PATH_MAX)
			return cfg_bad(x, key, t.p, t.n, "path longer than %d bytes",
			               NODE_PATH_MAX - 1);
		for (size_t i = 0; i < c->log_dir_count; i++) {
			if (cfg_tok_eq(t, c->log_dirs[i]))
				return cfg_bad(x, key, v, strlen(v), "Duplicate log directory %.*s",
				               (int)t.n, t.p);
		}
		memcpy(c->log_dirs[c->log_dir_count], t.p, t.n);
		c->log_dirs[c->log_dir_count][t.n] = '\0';
		c->log_dir_count++;
	}
	if (c->log_dir_count == 0)
		return cfg_fail(x, "At least one log directory must be defined via log.dirs or "
		                   "log.dir.");
	v = cfg_value(x, "metadata.log.dir");
	if (v == NULL) {
		strcpy(c->metadata_log_dir, c->log_dirs[0]);
		return SL_OK;
	}
	cur = v;
	if (!cfg_next_token(&cur, &t) || t.n >= NODE_PATH_MAX || strchr(v, ',') != NULL)
		return cfg_bad(x, "metadata.log.dir", v, strlen(v), "expected one directory path");
	memcpy(c->metadata_log_dir, t.p, t.n);
	c->metadata_log_dir[t.n] = '\0';
	return SL_OK;
}

/* ---- protocol map and listeners -------------------------------------------------------- */

static enum sl_err parse_controller_names(struct cfg_ctx *x)
{
	struct node_config *c = x->c;
	const char *v = cfg_value(x, "controller.listener.names");
	if (v == NULL)
		return SL_OK;
	const char *cur = v;
	struct cfg_tok t;
	while (cfg_next_token(&cur, &t)) {
		if (!name_valid(t))
			return cfg_bad(x, "controller.listener.names", t.p, t.n,
			               "not a valid listener name");
		if (c->controller_listener_name_count == NODE_MAX_LISTENERS)
			return cfg_bad(x, "controller.listener.names", v, strlen(v),
			               "at most %d names are supported", NODE_MAX_LISTENERS);
		upper_copy(c->controller_listener_names[c->controller_listener_name_count++], t);
	}
	return SL_OK;
}

static bool is_controller_name(const struct node_config *c, const char *name)
{
	for (size_t i = 0; i < c->controller_listener_name_count; i++) {
		if (strcmp(c->controller_listener_names[i], name) == 0)
			return true;
	}
	return false;
}

static bool is_ssl_or_sasl(const char *name)
{
	return strcmp(name, "SSL") == 0 || strcmp(name, "SASL_SSL") == 0 ||
	       strcmp(name, "SASL_PLAINTEXT") == 0;
}

static void map_put(struct proto_map *m, const char *name, enum node_security_protocol p)
{
	for (size_t i = 0; i < m->count; i++) {
		if (strcmp(m->name[i], name) == 0) {
			m->proto[i] = p;
			return;
		}
	}
	SL_ASSERT(m->count < MAP_MAX);
	strcpy(m->name[m->count], name);
	m->proto[m->count++] = p;
}

static const enum node_security_protocol *map_get(const struct proto_map *m, const char *name)
{
	for (size_t i = 0; i < m->count; i++) {
		if (strcmp(m->name[i], name) == 0)
			return &m->proto[i];
	}
	return NULL;
}

/* Listener name of a "NAME://..." entry, upper-cased into out (which has NODE_NAME_MAX). */
static bool listener_name_of(struct cfg_tok t, char *out)
{
	const char *sep = NULL;
	for (size_t i = 0; i + 2 < t.n; i++) {
		if (memcmp(t.p + i, "://", 3) == 0) {
			sep = t.p + i;
			break;
		}
	}
	if (sep == NULL)
		return false;
	struct cfg_tok name = {t.p, (size_t)(sep - t.p)};
	if (!name_valid(name))
		return false;
	upper_copy(out, name);
	return true;
}

static enum sl_err parse_map(struct cfg_ctx *x, struct proto_map *m)
{
	const char *key = "listener.security.protocol.map";
	const char *v = cfg_value(x, key);
	const char *cur = v;
	struct cfg_tok t;
	while (cfg_next_token(&cur, &t)) {
		const char *colon = memchr(t.p, ':', t.n);
		struct cfg_tok name = {t.p, colon ? (size_t)(colon - t.p) : 0};
		struct cfg_tok proto = {colon ? colon + 1 : t.p, colon ? t.n - name.n - 1 : 0};
		enum node_security_protocol p;
		if (colon == NULL || !name_valid(name) || !proto_parse(proto, &p))
			return cfg_bad(
			        x, key, t.p, t.n,
			        "Map entry must be of the form NAME:PROTOCOL with PROTOCOL one "
			        "of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
		if (m->count == MAP_MAX)
			return cfg_bad(x, key, v, strlen(v), "at most %d entries are supported",
			               MAP_MAX);
		char upper[NODE_NAME_MAX];
		upper_copy(upper, name);
		map_put(m, upper, p);
	}
	if (cfg_is_set(x, key))
		return SL_OK;
	/* Left at the default in KRaft mode: controller listeners implicitly use PLAINTEXT
	 * unless SSL or SASL_* is in use (KafkaConfig.effectiveListenerSecurityProtocolMap). */
	const struct node_config *c = x->c;
	for (size_t i = 0; i < c->controller_listener_name_count; i++) {
		if (is_ssl_or_sasl(c->controller_listener_names[i]))
			return SL_OK;
	}
	const char *lv = cfg_value(x, "listeners");
	cur = lv;
	while (cfg_next_token(&cur, &t)) {
		char name[NODE_NAME_MAX];
		if (listener_name_of(t, name) && is_ssl_or_sasl(name))
			return SL_OK;
	}
	for (size_t i = 0; i < c->controller_listener_name_count; i++) {
		if (map_get(m, c->controller_listener_names[i]) == NULL && m->count < MAP_MAX)
			map_put(m, c->controller_listener_names[i], NODE_SEC_PLAINTEXT);
	}
	return SL_OK;
}

static bool host_char_ok(unsigned char ch, bool bracketed)
{
	return isalnum(ch) || ch == '-' || ch == '%' || ch == '.' || ch == '_' ||
	       (bracketed && ch == ':');
}

/* "host:port" or "[v6]:port"; host copied without brackets. */
static bool parse_host_port(struct cfg_tok t, char *host, int64_t *port)
{
	const char *p = t.p;
	size_t n = t.n;
	size_t host_start, host_len, colon;
	bool bracketed = n > 0 && p[0] == '[';
	if (bracketed) {
		const char *close = memchr(p, ']', n);
		if (close == NULL)
			return false;
		host_start = 1;
		host_len = (size_t)(close - p) - 1;
		colon = (size_t)(close - p) + 1;
		if (colon >= n || p[colon] != ':' || host_len == 0)
			return false;
	} else {
		const char *last = NULL;
		for (size_t i = 0; i < n; i++) {
			if (p[i] == ':')
				last = p + i;
		}
		if (last == NULL)
			return false;
		host_start = 0;
		host_len = (size_t)(last - p);
		colon = host_len;
	}
	if (host_len >= NODE_HOST_MAX)
		return false;
	for (size_t i = 0; i < host_len; i++) {
		if (!host_char_ok((unsigned char)p[host_start + i], bracketed))
			return false;
	}
	if (!cfg_parse_i64(p + colon + 1, n - colon - 1, 0, 65535, port))
		return false;
	if (p[colon + 1] == '+' || p[colon + 1] == '-')
		return false;
	memcpy(host, p + host_start, host_len);
	host[host_len] = '\0';
	return true;
}

static bool parse_listener(struct cfg_tok t, struct node_listener *out)
{
	memset(out, 0, sizeof(*out));
	if (!listener_name_of(t, out->name))
		return false;
	size_t skip = strlen(out->name) + 3;
	struct cfg_tok hp = {t.p + skip, t.n - skip};
	int64_t port = 0;
	if (!parse_host_port(hp, out->host, &port))
		return false;
	out->port = (uint16_t)port;
	return true;
}

/* Parses a listener list into out; advertised lists need not have distinct ports. */
static enum sl_err parse_listener_list(struct cfg_ctx *x, const char *key,
                                       const struct proto_map *m, bool distinct_ports,
                                       struct node_listener *out, size_t *count)
{
	const char *v = cfg_value(x, key);
	const char *cur = v;
	struct cfg_tok t;
	*count = 0;
	while (cfg_next_token(&cur, &t)) {
		if (*count == NODE_MAX_LISTENERS)
			return cfg_bad(x, key, v, strlen(v), "at most %d listeners are supported",
			               NODE_MAX_LISTENERS);
		struct node_listener *l = &out[*count];
		if (!parse_listener(t, l))
			return cfg_bad(
			        x, key, t.p, t.n,
			        "Unable to parse %.*s to a listener: expected NAME://host:port "
			        "(IPv6 host in [brackets], empty host = all interfaces)",
			        (int)t.n, t.p);
		for (size_t i = 0; i < *count; i++) {
			if (strcmp(out[i].name, l->name) == 0)
				return cfg_bad(x, key, v, strlen(v),
				               "Each listener must have a different name");
			if (distinct_ports && l->port != 0 && out[i].port == l->port)
				return cfg_bad(x, key, v, strlen(v),
				               "Each listener must have a different port");
		}
		const enum node_security_protocol *p = map_get(m, l->name);
		if (p == NULL)
			return cfg_fail(
			        x,
			        "No security protocol defined for listener %s (%s); add it to "
			        "listener.security.protocol.map",
			        l->name, key);
		l->protocol = *p;
		l->is_controller = is_controller_name(x->c, l->name);
		(*count)++;
	}
	return SL_OK;
}

static bool has_listener(const struct node_listener *ls, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ls[i].name, name) == 0)
			return true;
	}
	return false;
}

/* advertised.listeners (default = listeners). Broker-only nodes drop controller entries;
 * a controller listener not advertised explicitly is advertised as in `listeners`. */
static enum sl_err parse_advertised(struct cfg_ctx *x, const struct proto_map *m)
{
	struct node_config *c = x->c;
	if (cfg_value(x, "advertised.listeners") == NULL) {
		memcpy(c->advertised, c->listeners, sizeof(c->listeners));
		c->advertised_count = c->listener_count;
		return SL_OK;
	}
	struct node_listener tmp[NODE_MAX_LISTENERS];
	size_t n = 0;
	enum sl_err e = parse_listener_list(x, "advertised.listeners", m, false, tmp, &n);
	if (e != SL_OK)
		return e;
	bool controller = (c->roles & NODE_ROLE_CONTROLLER) != 0;
	c->advertised_count = 0;
	for (size_t i = 0; i < n; i++) {
		if (tmp[i].is_controller && !controller)
			continue;
		c->advertised[c->advertised_count++] = tmp[i];
	}
	for (size_t i = 0; controller && i < c->listener_count; i++) {
		const struct node_listener *l = &c->listeners[i];
		if (l->is_controller &&
		    !has_listener(c->advertised, c->advertised_count, l->name) &&
		    c->advertised_count < NODE_MAX_LISTENERS)
			c->advertised[c->advertised_count++] = *l;
	}
	return SL_OK;
}

static enum sl_err parse_inter_broker(struct cfg_ctx *x)
{
	struct node_config *c = x->c;
	const char *name = cfg_value(x, "inter.broker.listener.name");
	if (name != NULL && cfg_is_set(x, "security.inter.broker.protocol"))
		return cfg_fail(x, "Only one of inter.broker.listener.name and "
		                   "security.inter.broker.protocol should be set.");
	if (name == NULL)
		name = cfg_value(x, "security.inter.broker.protocol");
	const char *cur = name;
	struct cfg_tok t;
	if (!cfg_next_token(&cur, &t) || !name_valid(t))
		return cfg_bad(x, "inter.broker.listener.name", name, strlen(name),
		               "not a valid listener name");
	upper_copy(c->inter_broker_listener_name, t);
	return SL_OK;
}

/* ---- quorum --------------------------------------------------------------------------- */

static enum sl_err parse_voters(struct cfg_ctx *x)
{
	struct node_config *c = x->c;
	const char *key = "controller.quorum.voters";
	const char *cur = cfg_value(x, key);
	struct cfg_tok t;
	while (cfg_next_token(&cur, &t)) {
		const char *at = memchr(t.p, '@', t.n);
		int64_t id = 0, port = 0;
		struct node_voter *vt = &c->voters[c->voter_count];
		if (c->voter_count == NODE_MAX_VOTERS)
			return cfg_bad(x, key, t.p, t.n, "at most %d voters are supported",
			               NODE_MAX_VOTERS);
		struct cfg_tok hp = {at ? at + 1 : t.p, at ? t.n - (size_t)(at - t.p) - 1 : 0};
		if (at == NULL || !cfg_parse_i64(t.p, (size_t)(at - t.p), 0, INT32_MAX, &id) ||
		    !parse_host_port(hp, vt->host, &port) || vt->host[0] == '\0' || port == 0)
			return cfg_bad(
			        x, key, t.p, t.n,
			        "Each entry must be {id}@{host}:{port} with id >= 0 and port "
			        "1-65535");
		if (strcmp(vt->host, "0.0.0.0") == 0)
			return cfg_bad(x, key, t.p, t.n, "Host string (0.0.0.0) is not routeable");
		for (size_t i = 0; i < c->voter_count; i++) {
			if (c->voters[i].id == id)
				return cfg_bad(x, key, t.p, t.n, "Duplicate voter id %lld",
				               (long long)id);
		}
		vt->id = (int32_t)id;
		vt->port = (uint16_t)port;
		c->voter_count++;
	}
	return SL_OK;
}

static enum sl_err parse_bootstrap_servers(struct cfg_ctx *x)
{
	struct node_config *c = x->c;
	const char *key = "controller.quorum.bootstrap.servers";
	const char *cur = cfg_value(x, key);
	struct cfg_tok t;
	while (cfg_next_token(&cur, &t)) {
		char host[NODE_HOST_MAX];
		int64_t port = 0;
		if (c->bootstrap_server_count == NODE_MAX_VOTERS)
			return cfg_bad(x, key, t.p, t.n, "at most %d servers are supported",
			               NODE_MAX_VOTERS);
		if (t.n >= NODE_HOST_MAX || !parse_host_port(t, host, &port) || host[0] == '\0' ||
		    port == 0)
			return cfg_bad(x, key, t.p, t.n,
			               "Each entry must be {host}:{port} with port 1-65535");
		memcpy(c->bootstrap_servers[c->bootstrap_server_count], t.p, t.n);
		c->bootstrap_servers[c->bootstrap_server_count][t.n] = '\0';
		c->bootstrap_server_count++;
	}
	return SL_OK;
}

static enum sl_err parse_rack(struct cfg_ctx *x)
{
	const char *key = "broker.rack";
	const char *v = cfg_value(x, key);
	size_t n = v != NULL ? strlen(v) : 0;
	if (n >= sizeof(x->c->rack))
		return cfg_bad(x, key, v, n, "at most %zu characters", sizeof(x->c->rack) - 1);
	if (n > 0)
		memcpy(x->c->rack, v, n);
	x->c->rack[n] = '\0';
	return SL_OK;
}

enum sl_err cfg_parse_structured(struct cfg_ctx *x)
{
	struct proto_map map;
	map.count = 0;
	enum sl_err e = parse_roles(x);
	if (e == SL_OK)
		e = parse_node_id(x);
	if (e == SL_OK)
		e = parse_dirs(x);
	if (e == SL_OK)
		e = parse_controller_names(x);
	if (e == SL_OK)
		e = parse_map(x, &map);
	if (e == SL_OK)
		e = parse_listener_list(x, "listeners", &map, true, x->c->listeners,
		                        &x->c->listener_count);
	if (e == SL_OK)
		e = parse_advertised(x, &map);
	if (e == SL_OK)
		e = parse_inter_broker(x);
	if (e == SL_OK)
		e = parse_voters(x);
	if (e == SL_OK)
		e = parse_bootstrap_servers(x);
	if (e == SL_OK)
		e = parse_rack(x);
	if (e != SL_OK)
		return e;
	/* Broker-only: controller listeners are not in `listeners` but must still map to a
	 * protocol, since the broker connects to them. */
	const struct node_config *c = x->c;
	for (size_t i = 0; c->roles == NODE_ROLE_BROKER && i < c->controller_listener_name_count;
	     i++) {
		if (map_get(&map, c->controller_listener_names[i]) == NULL)
			return cfg_fail(
			        x,
			        "Controller listener with name %s defined in "
			        "controller.listener.names not found in "
			        "listener.security.protocol.map (an explicit security mapping "
			        "for each controller listener is required if "
			        "listener.security.protocol.map is non-empty, or if there are "
			        "security protocols other than PLAINTEXT in use)",
			        c->controller_listener_names[i]);
	}
	return SL_OK;
}
