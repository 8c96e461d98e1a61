/*
 * checkpoint_file.c: crash-safe whole-file writes and checkpoint files (a sequence of
 * RecordBatch v2: bootstrap.checkpoint and KRaft snapshots, Kafka's BatchFileWriter /
 * FileRawSnapshotWriter).
 *
 * A file is written to `<path>.tmp`, fsynced, renamed over `<path>` and the directory is
 * fsynced, so after a crash the final name holds either the old or the new complete file.
 * A failed fsync is reported, never retried.
 */
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BYTES 4096

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

/* The directory part of path ("." when there is no slash). */
static void parent_dir(const char *path, char *out, size_t out_len)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		snprintf(out, out_len, ".");
	} else if (slash == path) {
		snprintf(out, out_len, "/");
	} else {
		snprintf(out, out_len, "%.*s", (int)(slash - path), path);
	}
}

enum sl_err stor_dir_fsync(const char *dir)
{
	SL_ASSERT(dir != NULL);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sl_err_from_errno(errno);
	enum sl_err e = SL_OK;
	if (fsync(fd) != 0)
		e = sl_err_from_errno(errno);
	close(fd);
	return e;
}

static enum sl_err write_all(int fd, const uint8_t *p, size_t len, int *errno_out)
{
	while (len > 0) {
		ssize_t k = write(fd, p, len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			*errno_out = errno;
			return sl_err_from_errno(errno);
		}
		p += k;
		len -= (size_t)k;
	}
	return SL_OK;
}

/* Writes and fsyncs the temp file; on failure err names the step. */
static enum sl_err write_tmp(const char *tmp, const void *data, size_t len, char *err,
                             size_t err_len)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int en = errno;
		set_err(err, err_len, "cannot create %s: %s", tmp, strerror(en));
		return sl_err_from_errno(en);
	}
	int en = 0;
	enum sl_err e = write_all(fd, data, len, &en);
	if (e != SL_OK) {
		set_err(err, err_len, "cannot write %s: %s", tmp, strerror(en));
	} else if (fsync(fd) != 0) {
		en = errno;
		e = sl_err_from_errno(en);
		set_err(err, err_len, "fsync of %s failed: %s", tmp, strerror(en));
	}
	if (close(fd) != 0 && e == SL_OK) {
		en = errno;
		e = sl_err_from_errno(en);
		set_err(err, err_len, "close of %s failed: %s", tmp, strerror(en));
	}
	return e;
}

enum sl_err stor_file_write_atomic(const char *path, const void *data, size_t len, char *err,
                                   size_t err_len)
{
	SL_ASSERT(path != NULL);
	SL_ASSERT(data != NULL || len == 0);
	char tmp[PATH_BYTES];
	char dir[PATH_BYTES];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		set_err(err, err_len, "path too long: %s", path);
		return SL_EINVAL;
	}
	enum sl_err e = write_tmp(tmp, data, len, err, err_len);
	if (e != SL_OK) {
		unlink(tmp);
		return e;
	}
	if (rename(tmp, path) != 0) {
		int en = errno;
		set_err(err, err_len, "cannot rename %s to %s: %s", tmp, path, strerror(en));
		unlink(tmp);
		return sl_err_from_errno(en);
	}
	parent_dir(path, dir, sizeof(dir));
	e = stor_dir_fsync(dir);
	if (e != SL_OK)
		set_err(err, err_len, "fsync of directory %s failed: %s", dir, sl_err_msg(e));
	return e;
}

enum sl_err stor_mkdirs(const char *dir, char *err, size_t err_len)
{
	SL_ASSERT(dir != NULL);
	char buf[PATH_BYTES];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof(buf)) {
		set_err(err, err_len, "invalid directory path '%s'", dir);
		return SL_EINVAL;
	}
	memcpy(buf, dir, n + 1);
	/* Create each prefix ending before a '/', then the whole path. */
	for (size_t i = 1; i <= n; i++) {
		if (i < n && buf[i] != '/')
			continue;
		char saved = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
			int en = errno;
			set_err(err, err_len, "cannot create directory %s: %s", buf, strerror(en));
			return sl_err_from_errno(en);
		}
		struct stat st;
		if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
			set_err(err, err_len, "%s exists and is not a directory", buf);
			return SL_EEXIST;
		}
		buf[i] = saved;
	}
	return SL_OK;
}

/* SL_OK if p[0..len) is a sequence of valid batches; else *bad_at is the first bad byte. */
static enum sl_err batches_check(const uint8_t *p, size_t len, size_t *bad_at)
{
	size_t pos = 0;
	while (pos < len) {
		struct stor_batch_view v;
		size_t used = 0;
		enum sl_err e = stor_batch_parse(p + pos, len - pos, &v, &used);
		if (e != SL_OK) {
			*bad_at = pos;
			return e;
		}
		pos += used;
	}
	return SL_OK;
}

enum sl_err stor_checkpoint_write(const char *path, const uint8_t *batches, size_t len, char *err,
                                  size_t err_len)
{
	SL_ASSERT(path != NULL);
	size_t bad_at = 0;
	if (batches_check(batches, len, &bad_at) != SL_OK) {
		set_err(err, err_len, "refusing to write %s: invalid batch at byte %zu", path,
		        bad_at);
		return SL_EINVAL;
	}
	return stor_file_write_atomic(path, batches, len, err, err_len);
}

static enum sl_err read_file(const char *path, struct sl_buf *out, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int en = errno;
		set_err(err, err_len, "cannot open %s: %s", path, strerror(en));
		return sl_err_from_errno(en);
	}
	enum sl_err e = SL_OK;
	for (;;) {
		uint8_t chunk[16384];
		ssize_t k = read(fd, chunk, sizeof(chunk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int en = errno;
			set_err(err, err_len, "cannot read %s: %s", path, strerror(en));
			e = SL_EIO;
			break;
		}
		if (k == 0)
			break;
		sl_buf_append(out, chunk, (size_t)k);
		if (out->failed) {
			set_err(err, err_len, "%s is larger than %zu bytes", path, out->max_bytes);
			e = SL_ETOOBIG;
			break;
		}
	}
	close(fd);
	return e;
}

enum sl_err stor_checkpoint_read(const char *path, struct sl_buf *out, char *err, size_t err_len)
{
	SL_ASSERT(path != NULL);
	SL_ASSERT(out != NULL);
	size_t start = out->len;
	enum sl_err e = read_file(path, out, err, err_len);
	if (e != SL_OK)
		return e;
	size_t bad_at = 0;
	/* An empty file may leave out->data NULL, and NULL + 0 is undefined. */
	const uint8_t *file = out->len > start ? out->data + start : NULL;
	e = batches_check(file, out->len - start, &bad_at);
	if (e != SL_OK) {
		set_err(err, err_len, "%s: invalid batch at byte %zu (%s)", path, bad_at,
		        sl_err_msg(e));
		return SL_ECORRUPT;
	}
	return SL_OK;
}
