/*
 * checkpoints.c: Kafka's small text files, byte for byte.
 *
 *   recovery-point-offset-checkpoint, log-start-offset-checkpoint (per log dir;
 *   Kafka's OffsetCheckpointFile):   "0\n<count>\n<topic> <partition> <offset>\n"...
 *   leader-epoch-checkpoint (per partition; LeaderEpochCheckpointFile):
 *                                    "0\n<count>\n<epoch> <start offset>\n"...
 *   partition.metadata (per partition; PartitionMetadataFile):
 *                                    "version: 0\ntopic_id: <base64url uuid>\n"
 *
 * Writes go through stor_file_write_atomic (temp, fsync, rename, fsync dir). Reads never
 * trust the file: every line is bounded and parsed strictly; the count must match.
 */
#include "storage.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_MAX_BYTES (64u << 20)

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

/* Reads a whole small file, NUL-terminated. */
static enum sl_err slurp(const char *path, struct sl_buf *b, char *err, size_t err_len)
{
	sl_buf_init(b, CKPT_MAX_BYTES);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		enum sl_err e = sl_err_from_errno(errno);
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		return e;
	}
	uint8_t chunk[4096];
	size_t k;
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sl_buf_append(b, chunk, k);
	bool bad = ferror(f) != 0;
	fclose(f);
	sl_buf_put_u8(b, 0);
	if (bad || sl_buf_err(b) != SL_OK) {
		set_err(err, err_len, "%s: read failed or over %u bytes", path, CKPT_MAX_BYTES);
		sl_buf_free(b);
		return bad ? SL_EIO : SL_ETOOBIG;
	}
	b->len--;
	return SL_OK;
}

/* A line cursor over the NUL-terminated text. */
struct lines {
	char *p;
	int no;
};

static char *next_line(struct lines *l)
{
	if (*l->p == '\0')
		return NULL;
	char *line = l->p;
	char *nl = strchr(line, '\n');
	if (nl == NULL) {
		l->p += strlen(line);
	} else {
		*nl = '\0';
		l->p = nl + 1;
	}
	l->no++;
	return line;
}

static bool parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Version 0 and a count (<= max). */
static enum sl_err read_head(struct lines *l, const char *path, size_t max, size_t *count,
                             char *err, size_t err_len)
{
	char *v = next_line(l);
	int64_t n = 0;
	if (v == NULL || strcmp(v, "0") != 0) {
		set_err(err, err_len, "%s: unrecognized version", path);
		return SL_ECORRUPT;
	}
	char *c = next_line(l);
	if (c == NULL || !parse_i64(c, 0, (int64_t)max, &n)) {
		set_err(err, err_len, "%s: line 2: bad entry count", path);
		return SL_ECORRUPT;
	}
	*count = (size_t)n;
	return SL_OK;
}

enum sl_err stor_offset_checkpoint_write(const char *path, const struct stor_tp_offset *entries,
                                         size_t count, char *err, size_t err_len)
{
	struct sl_buf b;
	sl_buf_init(&b, CKPT_MAX_BYTES);
	sl_buf_printf(&b, "0\n%zu\n", count);
	for (size_t i = 0; i < count; i++)
		sl_buf_printf(&b, "%s %d %lld\n", entries[i].topic, (int)entries[i].partition,
		              (long long)entries[i].offset);
	enum sl_err e = sl_buf_err(&b);
	if (e == SL_OK)
		e = stor_file_write_atomic(path, b.data, b.len, err, err_len);
	sl_buf_free(&b);
	return e;
}

static enum sl_err parse_tp_line(char *line, struct stor_tp_offset *out)
{
	char *sp2 = strrchr(line, ' ');
	if (sp2 == NULL)
		return SL_ECORRUPT;
	*sp2 = '\0';
	char *sp1 = strrchr(line, ' ');
	if (sp1 == NULL)
		return SL_ECORRUPT;
	*sp1 = '\0';
	size_t tlen = (size_t)(sp1 - line);
	int64_t part = 0, off = 0;
	if (tlen == 0 || tlen > STOR_TOPIC_NAME_MAX || strchr(line, ' ') != NULL ||
	    !parse_i64(sp1 + 1, 0, INT32_MAX, &part) || !parse_i64(sp2 + 1, -1, INT64_MAX, &off))
		return SL_ECORRUPT;
	memcpy(out->topic, line, tlen + 1);
	out->partition = (int32_t)part;
	out->offset = off;
	return SL_OK;
}

enum sl_err stor_offset_checkpoint_read(const char *path, struct stor_tp_offset **out,
                                        size_t *count, char *err, size_t err_len)
{
	*out = NULL;
	*count = 0;
	struct sl_buf b;
	enum sl_err e = slurp(path, &b, err, err_len);
	if (e != SL_OK)
		return e;
	struct lines l = {(char *)b.data, 0};
	size_t n = 0;
	/* Every entry line takes at least 6 bytes ("t 0 0\n"): a count the file cannot hold is
	 * refused before anything is allocated for it. */
	e = read_head(&l, path, SL_MIN((size_t)10000000, b.len / 6), &n, err, err_len);
	struct stor_tp_offset *v = NULL;
	if (e == SL_OK && n > 0) {
		v = calloc(n, sizeof(*v));
		e = v == NULL ? SL_ENOMEM : SL_OK;
	}
	for (size_t i = 0; e == SL_OK && i < n; i++) {
		char *line = next_line(&l);
		if (line == NULL || parse_tp_line(line, &v[i]) != SL_OK) {
			set_err(err, err_len, "%s: line %d: malformed entry", path, l.no);
			e = SL_ECORRUPT;
		}
	}
	if (e == SL_OK && next_line(&l) != NULL) {
		set_err(err, err_len, "%s: more entries than the count %zu", path, n);
		e = SL_ECORRUPT;
	}
	sl_buf_free(&b);
	if (e != SL_OK) {
		free(v);
		return e;
	}
	*out = v;
	*count = n;
	return SL_OK;
}

enum sl_err stor_epoch_checkpoint_write(const char *path, const struct stor_epoch_entry *entries,
                                        size_t count, char *err, size_t err_len)
{
	struct sl_buf b;
	sl_buf_init(&b, CKPT_MAX_BYTES);
	sl_buf_printf(&b, "0\n%zu\n", count);
	for (size_t i = 0; i < count; i++)
		sl_buf_printf(&b, "%d %lld\n", (int)entries[i].epoch,
		              (long long)entries[i].start_offset);
	enum sl_err e = sl_buf_err(&b);
	if (e == SL_OK)
		e = stor_file_write_atomic(path, b.data, b.len, err, err_len);
	sl_buf_free(&b);
	return e;
}

enum sl_err stor_epoch_checkpoint_read(const char *path, struct stor_epoch_entry *out, size_t cap,
                                       size_t *count, char *err, size_t err_len)
{
	*count = 0;
	struct sl_buf b;
	enum sl_err e = slurp(path, &b, err, err_len);
	if (e != SL_OK)
		return e;
	struct lines l = {(char *)b.data, 0};
	size_t n = 0;
	e = read_head(&l, path, cap, &n, err, err_len);
	for (size_t i = 0; e == SL_OK && i < n; i++) {
		char *line = next_line(&l);
		char *sp = line == NULL ? NULL : strchr(line, ' ');
		int64_t ep = 0, off = 0;
		bool ok = sp != NULL;
		if (ok) {
			*sp = '\0';
			ok = parse_i64(line, 0, INT32_MAX, &ep) &&
			     parse_i64(sp + 1, 0, INT64_MAX, &off);
		}
		if (ok && i > 0)
			ok = ep > out[i - 1].epoch && off >= out[i - 1].start_offset;
		if (!ok) {
			set_err(err, err_len, "%s: line %d: malformed or out-of-order entry", path,
			        l.no);
			e = SL_ECORRUPT;
			break;
		}
		out[i] = (struct stor_epoch_entry){(int32_t)ep, off};
	}
	if (e == SL_OK && next_line(&l) != NULL) {
		set_err(err, err_len, "%s: more entries than the count %zu", path, n);
		e = SL_ECORRUPT;
	}
	sl_buf_free(&b);
	if (e == SL_OK)
		*count = n;
	return e;
}

enum sl_err stor_partition_metadata_write(const char *dir, const struct sl_uuid *topic_id,
                                          char *err, size_t err_len)
{
	char path[4096], id[SL_UUID_STR_LEN + 1], text[64];
	snprintf(path, sizeof(path), "%s/%s", dir, STOR_PARTITION_METADATA_NAME);
	sl_uuid_to_str(topic_id, id);
	int n = snprintf(text, sizeof(text), "version: 0\ntopic_id: %s\n", id);
	SL_ASSERT(n > 0 && (size_t)n < sizeof(text));
	return stor_file_write_atomic(path, text, (size_t)n, err, err_len);
}

enum sl_err stor_partition_metadata_read(const char *dir, struct sl_uuid *topic_id, char *err,
                                         size_t err_len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, STOR_PARTITION_METADATA_NAME);
	struct sl_buf b;
	enum sl_err e = slurp(path, &b, err, err_len);
	if (e != SL_OK)
		return e;
	struct lines l = {(char *)b.data, 0};
	char *v = next_line(&l);
	char *t = next_line(&l);
	const char *pfx = "topic_id: ";
	if (v == NULL || strcmp(v, "version: 0") != 0) {
		set_err(err, err_len, "%s: unrecognized version", path);
		e = SL_ECORRUPT;
	} else if (t == NULL || strncmp(t, pfx, strlen(pfx)) != 0 ||
	           sl_uuid_parse(t + strlen(pfx), strlen(t + strlen(pfx)), topic_id) != SL_OK) {
		set_err(err, err_len, "%s: line 2: bad topic_id", path);
		e = SL_ECORRUPT;
	}
	sl_buf_free(&b);
	return e;
}

enum sl_err stor_parse_partition_dir(const char *name, char *topic, size_t topic_len,
                                     int32_t *partition)
{
	const char *dash = strrchr(name, '-');
	if (dash == NULL || dash == name)
		return SL_EINVAL;
	size_t tlen = (size_t)(dash - name);
	int64_t p = 0;
	if (tlen > STOR_TOPIC_NAME_MAX || tlen + 1 > topic_len ||
	    !parse_i64(dash + 1, 0, INT32_MAX, &p))
		return SL_EINVAL;
	if (dash[1] == '-' || dash[1] == '\0')
		return SL_EINVAL;
	memcpy(topic, name, tlen);
	topic[tlen] = '\0';
	*partition = (int32_t)p;
	return SL_OK;
}
