/*
 * meta_props.c: <log dir>/meta.properties, Kafka's MetaProperties (metadata/.../properties/).
 *
 * Version 1 (KRaft) holds version, cluster.id, node.id and directory.id; version 0 (legacy
 * ZooKeeper mode, recognised so that `storage info` can report it) holds broker.id instead of
 * node.id. Written as Java properties text with "#" and "#<date>" comment lines (as
 * java.util.Properties.store does) and keys in sorted order, atomically.
 */
#include "storage.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void set_err(char *err, size_t err_len, const char *fmt, ...) SL_PRINTF(3, 4);
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	if (err == NULL || err_len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* Java Integer.parseInt: optional sign, decimal digits, nothing else, no overflow. */
static bool parse_i32(const char *s, int32_t *out)
{
	if (s == NULL || *s == '\0')
		return false;
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (*p == '\0')
		return false;
	for (const char *q = p; *q != '\0'; q++) {
		if (*q < '0' || *q > '9')
			return false;
	}
	errno = 0;
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

/* Fills out from a parsed property set (MetaProperties.Builder(Properties).build()). */
static enum sl_err meta_from_props(const struct sl_props *p, struct stor_meta_props *out, char *err,
                                   size_t err_len)
{
	memset(out, 0, sizeof(*out));
	out->node_id = -1;
	const char *v = sl_props_get(p, "version");
	int32_t version = 0;
	if (v != NULL && !parse_i32(v, &version)) {
		set_err(err, err_len, "Unable to read version as a number: %s", v);
		return SL_ECORRUPT;
	}
	if (version != 0 && version != 1) {
		set_err(err, err_len, "Unknown meta.properties version number %d", (int)version);
		return SL_ECORRUPT;
	}
	out->version = version;
	const char *cid = sl_props_get(p, "cluster.id");
	if (cid != NULL) {
		if (strlen(cid) >= sizeof(out->cluster_id)) {
			set_err(err, err_len, "cluster.id is longer than %d bytes",
			        (int)sizeof(out->cluster_id) - 1);
			return SL_ECORRUPT;
		}
		strcpy(out->cluster_id, cid);
		out->has_cluster_id = true;
	}
	const char *id_key = version == 0 ? "broker.id" : "node.id";
	const char *nid = sl_props_get(p, id_key);
	if (nid != NULL) {
		if (!parse_i32(nid, &out->node_id)) {
			set_err(err, err_len, "Unable to read %s as a number: %s", id_key, nid);
			return SL_ECORRUPT;
		}
		out->has_node_id = true;
	}
	const char *did = sl_props_get(p, "directory.id");
	if (did != NULL) {
		if (sl_uuid_parse(did, strlen(did), &out->directory_id) != SL_OK) {
			set_err(err, err_len, "Unable to read directory.id as a Uuid: %s", did);
			return SL_ECORRUPT;
		}
		out->has_directory_id = true;
	}
	if (version == 1 && !out->has_cluster_id) {
		set_err(err, err_len, "cluster.id was not found.");
		return SL_ECORRUPT;
	}
	if (version == 1 && !out->has_node_id) {
		set_err(err, err_len, "node.id was not found.");
		return SL_ECORRUPT;
	}
	return SL_OK;
}

/* sl_props_load's message without its "<path>: " / "cannot read <path>: " prefix. */
static const char *reason_only(const char *msg, const char *path)
{
	size_t n = strlen(path);
	if (strncmp(msg, "cannot read ", 12) == 0)
		msg += 12;
	if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

enum sl_err stor_meta_props_read(const char *dir, struct stor_meta_props *out, char *err,
                                 size_t err_len)
{
	SL_ASSERT(dir != NULL);
	SL_ASSERT(out != NULL);
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STOR_META_PROPERTIES_NAME) >=
	    sizeof(path)) {
		set_err(err, err_len, "path too long: %s", dir);
		return SL_EINVAL;
	}
	struct sl_props props = {0};
	char perr[512];
	perr[0] = '\0';
	enum sl_err e = sl_props_load(path, &props, perr, sizeof(perr));
	if (e == SL_ENOENT) {
		sl_props_free(&props);
		set_err(err, err_len, "does not exist");
		return SL_ENOENT;
	}
	if (e != SL_OK) {
		sl_props_free(&props);
		set_err(err, err_len, "%s", reason_only(perr, path));
		return e == SL_EINVAL ? SL_ECORRUPT : SL_EIO;
	}
	e = meta_from_props(&props, out, err, err_len);
	sl_props_free(&props);
	return e;
}

/* Appends s escaped as a Java properties value (Properties.saveConvert). */
static void put_escaped(struct sl_buf *b, const char *s)
{
	for (size_t i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '\\':
		case '=':
		case ':':
		case '#':
		case '!':
			sl_buf_put_u8(b, '\\');
			sl_buf_put_u8(b, c);
			break;
		case '\t':
			sl_buf_append(b, "\\t", 2);
			break;
		case '\n':
			sl_buf_append(b, "\\n", 2);
			break;
		case '\r':
			sl_buf_append(b, "\\r", 2);
			break;
		case '\f':
			sl_buf_append(b, "\\f", 2);
			break;
		case ' ':
			if (i == 0)
				sl_buf_put_u8(b, '\\');
			sl_buf_put_u8(b, ' ');
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				sl_buf_printf(b, "\\u%04X", c);
			else
				sl_buf_put_u8(b, c);
			break;
		}
	}
}

static void put_date_comment(struct sl_buf *b)
{
	time_t now = time(NULL);
	struct tm tm;
	char date[96];
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a %b %d %H:%M:%S %Z %Y", &tm) == 0)
		snprintf(date, sizeof(date), "%lld", (long long)now);
	sl_buf_printf(b, "#\n#%s\n", date);
}

enum sl_err stor_meta_props_write(const char *dir, const struct stor_meta_props *mp, char *err,
                                  size_t err_len)
{
	SL_ASSERT(dir != NULL);
	SL_ASSERT(mp != NULL);
	if ((mp->version != 0 && mp->version != 1) ||
	    (mp->version == 1 && (!mp->has_cluster_id || !mp->has_node_id))) {
		set_err(err, err_len, "invalid meta.properties contents for %s", dir);
		return SL_EINVAL;
	}
	char path[4096];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STOR_META_PROPERTIES_NAME) >=
	    sizeof(path)) {
		set_err(err, err_len, "path too long: %s", dir);
		return SL_EINVAL;
	}
	struct sl_buf b;
	sl_buf_init(&b, 64 * 1024);
	put_date_comment(&b);
	/* Sorted: broker.id, cluster.id, directory.id, node.id, version. */
	if (mp->version == 0 && mp->has_node_id)
		sl_buf_printf(&b, "broker.id=%d\n", (int)mp->node_id);
	if (mp->has_cluster_id) {
		sl_buf_append(&b, "cluster.id=", 11);
		put_escaped(&b, mp->cluster_id);
		sl_buf_put_u8(&b, '\n');
	}
	if (mp->has_directory_id) {
		char u[SL_UUID_STR_LEN + 1];
		sl_uuid_to_str(&mp->directory_id, u);
		sl_buf_printf(&b, "directory.id=%s\n", u);
	}
	if (mp->version == 1)
		sl_buf_printf(&b, "node.id=%d\n", (int)mp->node_id);
	sl_buf_printf(&b, "version=%d\n", mp->version);
	enum sl_err e = sl_buf_err(&b);
	if (e != SL_OK)
		set_err(err, err_len, "out of memory writing %s", path);
	else
		e = stor_file_write_atomic(path, b.data, b.len, err, err_len);
	sl_buf_free(&b);
	return e;
}

void stor_meta_props_describe(const struct stor_meta_props *mp, char *out, size_t out_len)
{
	SL_ASSERT(mp != NULL);
	if (out == NULL || out_len == 0)
		return;
	size_t n = 0;
	out[0] = '\0';
#define DESCRIBE_PUT(...)                                                    \
	do {                                                                 \
		if (n < out_len) {                                           \
			int k = snprintf(out + n, out_len - n, __VA_ARGS__); \
			n += k > 0 ? (size_t)k : 0;                          \
		}                                                            \
	} while (0)
	const char *sep = "";
	DESCRIBE_PUT("{");
	if (mp->version == 0 && mp->has_node_id) {
		DESCRIBE_PUT("broker.id=%d", (int)mp->node_id);
		sep = ", ";
	}
	if (mp->has_cluster_id) {
		DESCRIBE_PUT("%scluster.id=%s", sep, mp->cluster_id);
		sep = ", ";
	}
	if (mp->has_directory_id) {
		char u[SL_UUID_STR_LEN + 1];
		sl_uuid_to_str(&mp->directory_id, u);
		DESCRIBE_PUT("%sdirectory.id=%s", sep, u);
		sep = ", ";
	}
	if (mp->version == 1 && mp->has_node_id) {
		DESCRIBE_PUT("%snode.id=%d", sep, (int)mp->node_id);
		sep = ", ";
	}
	DESCRIBE_PUT("%sversion=%d}", sep, mp->version);
#undef DESCRIBE_PUT
}
