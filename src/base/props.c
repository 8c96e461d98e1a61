/*
 * props.c: Java .properties files (java.util.Properties.load semantics) as an owned list.
 *
 * Parsing follows Properties.load's LineReader and loadConvert: natural lines end at \n, \r
 * or \r\n; a line ending in an odd number of backslashes continues on the next, whose
 * leading whitespace is dropped; '#' or '!' as the first non-blank character of a logical
 * line starts a comment; the key ends at the first unescaped '=', ':' or whitespace, then
 * blanks, at most one '=' or ':' and more blanks are skipped and the rest is the value.
 * Differences from Java, on purpose: bytes are passed through as UTF-8 (Java reads ISO-8859-1
 * from streams), \uXXXX is emitted as UTF-8, and NUL characters (raw or \u0000) and unpaired
 * surrogates are errors because keys and values are C strings.
 *
 * Invariants: every item's key and value are malloc'd NUL-terminated strings; keys are
 * unique; count <= cap. Lookups are linear: property sets are small configuration files.
 */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROPS_FILE_MAX ((size_t)16 << 20)

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\f';
}

static bool is_eol(char c)
{
	return c == '\n' || c == '\r';
}

/* Advances *pos past the line terminator at *pos (\n, \r or \r\n). */
static void skip_eol(const char *t, size_t len, size_t *pos)
{
	if (t[*pos] == '\r' && *pos + 1 < len && t[*pos + 1] == '\n')
		(*pos)++;
	(*pos)++;
}

static void set_err(char *err, size_t err_len, int line, const char *reason)
{
	if (err != NULL && err_len > 0)
		snprintf(err, err_len, "line %d: %s", line, reason);
}

/* Takes ownership of key and value (freeing both on failure). */
static enum sl_err props_put(struct sl_props *p, char *key, char *value, int line)
{
	for (size_t i = 0; i < p->count; i++) {
		if (strcmp(p->items[i].key, key) == 0) {
			free(key);
			free(p->items[i].value);
			p->items[i].value = value;
			p->items[i].line = line;
			return SL_OK;
		}
	}
	if (p->count == p->cap) {
		size_t cap = p->cap < 16 ? 16 : p->cap * 2;
		struct sl_prop *items = reallocarray(p->items, cap, sizeof(*items));
		if (items == NULL) {
			free(key);
			free(value);
			return SL_ENOMEM;
		}
		p->items = items;
		p->cap = cap;
	}
	p->items[p->count++] = (struct sl_prop){.key = key, .value = value, .line = line};
	return SL_OK;
}

/* Skips blank and comment lines from *pos; false at end of input. */
static bool skip_to_content(const char *t, size_t len, size_t *pos, int *lineno)
{
	size_t p = *pos;
	for (;;) {
		while (p < len && is_blank(t[p]))
			p++;
		if (p >= len) {
			*pos = p;
			return false;
		}
		if (is_eol(t[p])) {
			skip_eol(t, len, &p);
			(*lineno)++;
			continue;
		}
		if (t[p] != '#' && t[p] != '!')
			break;
		while (p < len && !is_eol(t[p]))
			p++;
		if (p < len) {
			skip_eol(t, len, &p);
			(*lineno)++;
		}
	}
	*pos = p;
	return true;
}

/*
 * Reads the next logical line into raw (room for len bytes), continuations joined and escapes
 * left as they are. Skips blank and comment lines. Returns false at end of input.
 *
 * As in Java's LineReader, a continuation that leaves the logical line empty (a line holding
 * only a backslash) starts it anew: blank lines are skipped again and '#'/'!' starts a
 * comment. Java's one exception is kept: end of input right after a lone \n or \r that ends
 * such a line still yields the empty line (LineReader returns len 0 there, not -1).
 */
static bool read_logical_line(const char *t, size_t len, size_t *pos, int *lineno, char *raw,
                              size_t *raw_len, int *start_line)
{
	size_t p = *pos;
	size_t n = 0;
	bool escaped = false; /* odd number of backslashes just before p */
	if (!skip_to_content(t, len, &p, lineno)) {
		*pos = p;
		return false;
	}
	*start_line = *lineno;
	while (p < len) {
		char c = t[p];
		if (is_eol(c)) {
			bool crlf = c == '\r' && p + 1 < len && t[p + 1] == '\n';
			skip_eol(t, len, &p);
			(*lineno)++;
			if (!escaped)
				break;
			n--; /* drop the continuation backslash and the next line's indent */
			escaped = false;
			if (n == 0 && (p < len || crlf)) {
				if (!skip_to_content(t, len, &p, lineno)) {
					*pos = p;
					return false;
				}
				*start_line = *lineno;
				continue;
			}
			while (p < len && is_blank(t[p]))
				p++;
			continue;
		}
		raw[n++] = c;
		escaped = c == '\\' ? !escaped : false;
		p++;
	}
	if (escaped)
		n--; /* a backslash at end of input continues onto nothing */
	*pos = p;
	*raw_len = n;
	return true;
}

static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Parses the 4 hex digits of a \u escape at s[0..n); -1 if malformed. */
static int32_t hex4(const char *s, size_t n)
{
	if (n < 4)
		return -1;
	int32_t v = 0;
	for (size_t i = 0; i < 4; i++) {
		char c = s[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * Decodes a \uXXXX escape (and its low-surrogate partner) starting after the "\u" at s[*i].
 * Returns the code point, or -1 with *reason set.
 */
static int32_t decode_u(const char *s, size_t n, size_t *i, const char **reason)
{
	int32_t cp = hex4(s + *i, n - *i);
	if (cp < 0) {
		*reason = "malformed \\uxxxx encoding";
		return -1;
	}
	*i += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		*reason = "unpaired surrogate in \\uxxxx escape";
		return -1;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		int32_t lo = -1;
		if (n - *i >= 6 && s[*i] == '\\' && s[*i + 1] == 'u')
			lo = hex4(s + *i + 2, n - *i - 2);
		if (lo < 0xdc00 || lo > 0xdfff) {
			*reason = "unpaired surrogate in \\uxxxx escape";
			return -1;
		}
		*i += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0) {
		*reason = "\\u0000 is not allowed";
		return -1;
	}
	return cp;
}

/* Decodes escapes of s[0..n) into a new malloc'd string; NULL with *reason on error. */
static char *decode(const char *s, size_t n, const char **reason)
{
	/* Output never outgrows input: \uXXXX (6) -> at most 3, a pair (12) -> 4. */
	char *out = malloc(n + 1);
	if (out == NULL) {
		*reason = "out of memory";
		return NULL;
	}
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		char c = s[i++];
		if (c == '\0') {
			*reason = "NUL byte in text";
			free(out);
			return NULL;
		}
		if (c != '\\' || i == n) {
			out[o++] = c;
			continue;
		}
		c = s[i++];
		switch (c) {
		case 't':
			out[o++] = '\t';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'u': {
			int32_t cp = decode_u(s, n, &i, reason);
			if (cp < 0) {
				free(out);
				return NULL;
			}
			o += utf8_put(out + o, (uint32_t)cp);
			break;
		}
		case '\0':
			*reason = "NUL byte in text";
			free(out);
			return NULL;
		default:
			out[o++] = c; /* \\ \= \: \# \! and any other char stand for themselves */
			break;
		}
	}
	SL_ASSERT(o <= n);
	out[o] = '\0';
	return out;
}

/* Splits a raw logical line into key and value (Properties.load's rules) and stores them. */
static enum sl_err parse_entry(const char *raw, size_t n, int line, struct sl_props *out, char *err,
                               size_t err_len)
{
	size_t key_len = 0;
	size_t value_start = n;
	bool has_sep = false;
	bool escaped = false;
	for (; key_len < n; key_len++) {
		char c = raw[key_len];
		if (!escaped && (c == '=' || c == ':')) {
			value_start = key_len + 1;
			has_sep = true;
			break;
		}
		if (!escaped && is_blank(c)) {
			value_start = key_len + 1;
			break;
		}
		escaped = c == '\\' ? !escaped : false;
	}
	for (; value_start < n; value_start++) {
		char c = raw[value_start];
		if (is_blank(c))
			continue;
		if (has_sep || (c != '=' && c != ':'))
			break;
		has_sep = true;
	}
	const char *reason = NULL;
	char *key = decode(raw, key_len, &reason);
	char *value = key == NULL ? NULL : decode(raw + value_start, n - value_start, &reason);
	if (value == NULL) {
		free(key);
		set_err(err, err_len, line, reason);
		return strcmp(reason, "out of memory") == 0 ? SL_ENOMEM : SL_EINVAL;
	}
	enum sl_err rc = props_put(out, key, value, line);
	if (rc != SL_OK)
		set_err(err, err_len, line, "out of memory");
	return rc;
}

enum sl_err sl_props_parse(const char *text, size_t len, struct sl_props *out, char *err,
                           size_t err_len)
{
	SL_ASSERT(out != NULL);
	SL_ASSERT(text != NULL || len == 0);
	if (err != NULL && err_len > 0)
		err[0] = '\0';
	char *raw = malloc(len + 1);
	if (raw == NULL) {
		set_err(err, err_len, 1, "out of memory");
		return SL_ENOMEM;
	}
	size_t pos = 0;
	int lineno = 1;
	enum sl_err rc = SL_OK;
	size_t raw_len;
	int start_line;
	while (rc == SL_OK &&
	       read_logical_line(text, len, &pos, &lineno, raw, &raw_len, &start_line))
		rc = parse_entry(raw, raw_len, start_line, out, err, err_len);
	free(raw);
	return rc;
}

/* Reads all of fd into a malloc'd buffer, refusing more than PROPS_FILE_MAX bytes. */
static enum sl_err read_all(int fd, char **data_out, size_t *len_out, int *errno_out)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		*errno_out = errno;
		return sl_err_from_errno(errno);
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > PROPS_FILE_MAX)
		return SL_ETOOBIG;
	size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
	char *data = malloc(cap);
	if (data == NULL)
		return SL_ENOMEM;
	size_t len = 0;
	for (;;) {
		if (len == cap) {
			if (cap > PROPS_FILE_MAX) {
				free(data);
				return SL_ETOOBIG;
			}
			size_t ncap = SL_MIN(cap * 2, PROPS_FILE_MAX + 1);
			char *ndata = realloc(data, ncap);
			if (ndata == NULL) {
				free(data);
				return SL_ENOMEM;
			}
			data = ndata;
			cap = ncap;
		}
		ssize_t r = read(fd, data + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*errno_out = errno;
			free(data);
			return sl_err_from_errno(*errno_out);
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > PROPS_FILE_MAX) {
		free(data);
		return SL_ETOOBIG;
	}
	*data_out = data;
	*len_out = len;
	return SL_OK;
}

enum sl_err sl_props_load(const char *path, struct sl_props *out, char *err, size_t err_len)
{
	SL_ASSERT(path != NULL);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (err != NULL && err_len > 0)
			snprintf(err, err_len, "cannot read %s: %s", path, strerror(e));
		return sl_err_from_errno(e);
	}
	char *data = NULL;
	size_t len = 0;
	int e = 0;
	enum sl_err rc = read_all(fd, &data, &len, &e);
	close(fd);
	if (rc != SL_OK) {
		if (err != NULL && err_len > 0) {
			const char *why = e != 0             ? strerror(e)
			                  : rc == SL_ETOOBIG ? "file larger than 16 MiB"
			                                     : sl_err_msg(rc);
			snprintf(err, err_len, "cannot read %s: %s", path, why);
		}
		return rc;
	}
	char perr[256];
	rc = sl_props_parse(data, len, out, perr, sizeof(perr));
	free(data);
	if (rc != SL_OK && err != NULL && err_len > 0)
		snprintf(err, err_len, "%s: %s", path, perr);
	return rc;
}

const char *sl_props_get(const struct sl_props *p, const char *key)
{
	for (size_t i = 0; i < p->count; i++) {
		if (strcmp(p->items[i].key, key) == 0)
			return p->items[i].value;
	}
	return NULL;
}

enum sl_err sl_props_set(struct sl_props *p, const char *key, const char *value)
{
	SL_ASSERT(key != NULL);
	SL_ASSERT(value != NULL);
	char *k = strdup(key);
	char *v = strdup(value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return SL_ENOMEM;
	}
	return props_put(p, k, v, 0);
}

void sl_props_free(struct sl_props *p)
{
	for (size_t i = 0; i < p->count; i++) {
		free(p->items[i].key);
		free(p->items[i].value);
	}
	free(p->items);
	p->items = NULL;
	p->count = 0;
	p->cap = 0;
}
