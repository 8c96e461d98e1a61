/*
 * log.c: levelled log lines, each emitted with a single write(2) so lines from several
 * processes sharing a file do not interleave mid-line.
 *
 * Line format: "2024-05-01T12:34:56.789Z INFO [ctx] message\n". A line longer than
 * LOG_LINE_MAX is truncated and ends in "...\n". Not thread-safe: the level and fd are plain
 * globals set at start-up.
 */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192

static enum sl_log_level log_level = SL_LOG_INFO;
static int log_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};
static const char *const level_tags[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};

_Static_assert(SL_ARRAY_LEN(level_names) == SL_LOG_OFF + 1, "one name per level");

void sl_log_set_level(enum sl_log_level level)
{
	SL_ASSERT((unsigned)level <= SL_LOG_OFF);
	log_level = level;
}

enum sl_log_level sl_log_get_level(void)
{
	return log_level;
}

enum sl_err sl_log_level_parse(const char *s, enum sl_log_level *out)
{
	if (s == NULL)
		return SL_EINVAL;
	for (size_t i = 0; i < SL_ARRAY_LEN(level_names); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum sl_log_level)i;
			return SL_OK;
		}
	}
	return SL_EINVAL;
}

void sl_log_set_fd(int fd)
{
	SL_ASSERT(fd >= 0);
	log_fd = fd;
}

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 chars) into out; returns the length. */
static size_t log_format_time(char *out, size_t size)
{
	int64_t ms = sl_wall_ms();
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	if (gmtime_r(&secs, &tm) == NULL)
		return 0;
	int n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	                 (int)(ms % 1000));
	if (n < 0)
		return 0;
	return SL_MIN((size_t)n, size - 1);
}

void sl_log_vwrite(enum sl_log_level level, const char *ctx, const char *fmt, va_list ap)
{
	if (level < log_level || level >= SL_LOG_OFF)
		return;
	char line[LOG_LINE_MAX];
	size_t len = log_format_time(line, sizeof(line));
	int n;
	if (ctx != NULL && ctx[0] != '\0')
		n = snprintf(line + len, sizeof(line) - len, " %s [%s] ", level_tags[level], ctx);
	else
		n = snprintf(line + len, sizeof(line) - len, " %s ", level_tags[level]);
	if (n > 0)
		len = SL_MIN(len + (size_t)n, sizeof(line) - 1);
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n > 0)
		len += (size_t)n;
	/* Keep room for "...\n" when truncated, else for "\n". */
	if (len > sizeof(line) - 2) {
		len = sizeof(line) - 5;
		line[len++] = '.';
		line[len++] = '.';
		line[len++] = '.';
	}
	line[len++] = '\n';
	ssize_t w;
	do {
		w = write(log_fd, line, len);
	} while (w < 0 && errno == EINTR);
	/* Nowhere to report a failed log write; dropping the line is the only option. */
}

void sl_log_write(enum sl_log_level level, const char *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sl_log_vwrite(level, ctx, fmt, ap);
	va_end(ap);
}
