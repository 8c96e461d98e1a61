/*
 * test_base_log.c: log line format and filtering, error tables and errno mapping, clocks,
 * and the assertion failure path (run in a forked child).
 */
#include "base.h"
#include "check_main.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- log ---- */

static int log_pipe[2];

static void log_setup(void)
{
	ck_assert_int_eq(pipe(log_pipe), 0);
	sl_log_set_fd(log_pipe[1]);
	sl_log_set_level(SL_LOG_DEBUG);
}

static void log_teardown(void)
{
	sl_log_set_fd(2);
	sl_log_set_level(SL_LOG_INFO);
	close(log_pipe[0]);
	close(log_pipe[1]);
}

/* Reads whatever has been logged so far (the pipe buffer holds it all). */
static size_t log_drain(char *out, size_t size)
{
	close(log_pipe[1]);
	size_t len = 0;
	for (;;) {
		ssize_t r = read(log_pipe[0], out + len, size - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	out[len] = '\0';
	close(log_pipe[0]);
	ck_assert_int_eq(pipe(log_pipe), 0); /* fresh pipe for later writes */
	sl_log_set_fd(log_pipe[1]);
	return len;
}

/* Checks "YYYY-MM-DDTHH:MM:SS.mmmZ " at the start of line. */
static void check_timestamp(const char *line)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
	for (size_t i = 0; i < sizeof(pattern) - 1; i++) {
		if (pattern[i] == 'd')
			ck_assert_msg(line[i] >= '0' && line[i] <= '9', "digit at %zu in '%s'", i,
			              line);
		else
			ck_assert_msg(line[i] == pattern[i], "'%c' at %zu in '%s'", pattern[i], i,
			              line);
	}
	int year = atoi(line);
	ck_assert_int_ge(year, 2020);
	ck_assert_int_lt(year, 2200);
}

START_TEST(test_log_format)
{
	char out[4096];
	sl_log_write(SL_LOG_INFO, "raft", "elected leader %d epoch %d", 3, 7);
	sl_log_write(SL_LOG_WARN, NULL, "no ctx");
	sl_log_write(SL_LOG_ERROR, "", "empty ctx %s", "x");
	SL_DEBUG("conn 5", "debug %u", 9u);
	size_t len = log_drain(out, sizeof(out));
	ck_assert_uint_gt(len, 0);
	char *lines[4];
	char *save = NULL;
	int n = 0;
	for (char *l = strtok_r(out, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		ck_assert_int_lt(n, 4);
		lines[n++] = l;
	}
	ck_assert_int_eq(n, 4);
	for (int i = 0; i < 4; i++)
		check_timestamp(lines[i]);
	ck_assert_str_eq(lines[0] + 25, "INFO [raft] elected leader 3 epoch 7");
	ck_assert_str_eq(lines[1] + 25, "WARN no ctx");
	ck_assert_str_eq(lines[2] + 25, "ERROR empty ctx x");
	ck_assert_str_eq(lines[3] + 25, "DEBUG [conn 5] debug 9");
}
END_TEST

START_TEST(test_log_level_filter)
{
	char out[4096];
	sl_log_set_level(SL_LOG_WARN);
	ck_assert_int_eq(sl_log_get_level(), SL_LOG_WARN);
	SL_DEBUG("x", "dropped debug");
	SL_INFO("x", "dropped info");
	sl_log_write(SL_LOG_INFO, "x", "dropped direct");
	SL_WARN("x", "kept warn");
	SL_ERROR("x", "kept error");
	log_drain(out, sizeof(out));
	ck_assert_ptr_null(strstr(out, "dropped"));
	ck_assert_ptr_nonnull(strstr(out, "WARN [x] kept warn\n"));
	ck_assert_ptr_nonnull(strstr(out, "ERROR [x] kept error\n"));
	sl_log_set_level(SL_LOG_OFF);
	SL_ERROR("x", "nothing at all");
	sl_log_write(SL_LOG_ERROR, "x", "nothing at all");
	ck_assert_uint_eq(log_drain(out, sizeof(out)), 0);
}
END_TEST

START_TEST(test_log_long_line_truncated)
{
	static char out[32768];
	static char big[20000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sl_log_write(SL_LOG_INFO, "big", "%s", big);
	sl_log_write(SL_LOG_INFO, "next", "after");
	size_t len = log_drain(out, sizeof(out));
	char *nl = strchr(out, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_uint_le((size_t)(nl - out) + 1, 8192);
	ck_assert_mem_eq(nl - 3, "...", 3);
	ck_assert_uint_gt(len, (size_t)(nl - out) + 1);
	ck_assert_ptr_nonnull(strstr(nl + 1, "INFO [next] after\n"));
}
END_TEST

START_TEST(test_log_one_write_per_line)
{
	/* A SOCK_SEQPACKET socket keeps write boundaries: each recv returns one write(2). */
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	sl_log_set_fd(sv[0]);
	sl_log_write(SL_LOG_INFO, "a", "first %d", 1);
	sl_log_write(SL_LOG_WARN, NULL, "second");
	sl_log_write(SL_LOG_ERROR, "c", "%s", "third");
	static const char *const tails[] = {"INFO [a] first 1\n", "WARN second\n",
	                                    "ERROR [c] third\n"};
	for (size_t i = 0; i < SL_ARRAY_LEN(tails); i++) {
		char msg[1024];
		ssize_t r = recv(sv[1], msg, sizeof(msg) - 1, MSG_DONTWAIT);
		ck_assert_int_gt(r, 0);
		msg[r] = '\0';
		ck_assert_ptr_eq(strchr(msg, '\n'),
		                 msg + r - 1); /* exactly one newline, at the end */
		ck_assert_str_eq(msg + 24 + 1, tails[i]);
	}
	char extra[16];
	ck_assert_int_lt(recv(sv[1], extra, sizeof(extra), MSG_DONTWAIT), 0);
	sl_log_set_fd(log_pipe[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_log_level_parse)
{
	enum sl_log_level l = SL_LOG_OFF;
	ck_assert_int_eq(sl_log_level_parse("debug", &l), SL_OK);
	ck_assert_int_eq(l, SL_LOG_DEBUG);
	ck_assert_int_eq(sl_log_level_parse("INFO", &l), SL_OK);
	ck_assert_int_eq(l, SL_LOG_INFO);
	ck_assert_int_eq(sl_log_level_parse("Warn", &l), SL_OK);
	ck_assert_int_eq(l, SL_LOG_WARN);
	ck_assert_int_eq(sl_log_level_parse("error", &l), SL_OK);
	ck_assert_int_eq(l, SL_LOG_ERROR);
	ck_assert_int_eq(sl_log_level_parse("OFF", &l), SL_OK);
	ck_assert_int_eq(l, SL_LOG_OFF);
	l = SL_LOG_WARN;
	ck_assert_int_eq(sl_log_level_parse("warning", &l), SL_EINVAL);
	ck_assert_int_eq(sl_log_level_parse("", &l), SL_EINVAL);
	ck_assert_int_eq(sl_log_level_parse(" info", &l), SL_EINVAL);
	ck_assert_int_eq(sl_log_level_parse("trace", &l), SL_EINVAL);
	ck_assert_int_eq(sl_log_level_parse(NULL, &l), SL_EINVAL);
	ck_assert_int_eq(l, SL_LOG_WARN); /* untouched on error */
}
END_TEST

/* ---- err ---- */

START_TEST(test_err_tables)
{
	ck_assert_int_eq(SL_OK, 0);
	ck_assert_str_eq(sl_err_name(SL_OK), "SL_OK");
	ck_assert_str_eq(sl_err_msg(SL_OK), "success");
	ck_assert_str_eq(sl_err_name(SL_EMALFORMED), "SL_EMALFORMED");
	ck_assert_str_eq(sl_err_msg(SL_EMALFORMED), "malformed input");
	ck_assert_str_eq(sl_err_name(SL_ESYS), "SL_ESYS");
	ck_assert_str_eq(sl_err_msg(SL_ENOENT), "no such file, directory or entry");
	ck_assert_str_eq(sl_err_name((enum sl_err)SL_ERR_COUNT), "SL_E?");
	ck_assert_str_eq(sl_err_name((enum sl_err) - 1), "SL_E?");
	ck_assert_str_eq(sl_err_name((enum sl_err)1000), "SL_E?");
	ck_assert_ptr_nonnull(sl_err_msg((enum sl_err)1000));
	ck_assert_ptr_nonnull(sl_err_msg((enum sl_err) - 5));
	for (int e = 0; e < SL_ERR_COUNT; e++) {
		const char *name = sl_err_name((enum sl_err)e);
		ck_assert_int_eq(strncmp(name, "SL_", 3), 0);
		ck_assert_uint_gt(strlen(sl_err_msg((enum sl_err)e)), 0);
		for (int f = 0; f < e; f++)
			ck_assert_str_ne(name, sl_err_name((enum sl_err)f));
	}
}
END_TEST

START_TEST(test_err_from_errno)
{
	static const struct {
		int errno_value;
		enum sl_err err;
	} map[] = {
	        {0, SL_OK},
	        {ENOENT, SL_ENOENT},
	        {EEXIST, SL_EEXIST},
	        {EACCES, SL_EACCES},
	        {EPERM, SL_EACCES},
	        {ENOSPC, SL_ENOSPC},
	        {ENOMEM, SL_ENOMEM},
	        {EINVAL, SL_EINVAL},
	        {EAGAIN, SL_EAGAIN},
	        {EWOULDBLOCK, SL_EAGAIN},
	        {ETIMEDOUT, SL_ETIMEDOUT},
	        {ECANCELED, SL_ECANCELED},
	        {ECONNRESET, SL_ECLOSED},
	        {EPIPE, SL_ECLOSED},
	        {EADDRINUSE, SL_EADDRINUSE},
	        {ECONNREFUSED, SL_ECONNREFUSED},
	        {EIO, SL_EIO},
	        {EMFILE, SL_ELIMIT},
	        {ENFILE, SL_ELIMIT},
	        {EBADF, SL_ESYS},
	        {EISDIR, SL_ESYS},
	        {ENOTSOCK, SL_ESYS},
	        {12345, SL_ESYS},
	        {-1, SL_ESYS},
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(map); i++)
		ck_assert_msg(sl_err_from_errno(map[i].errno_value) == map[i].err,
		              "errno %d -> %s, want %s", map[i].errno_value,
		              sl_err_name(sl_err_from_errno(map[i].errno_value)),
		              sl_err_name(map[i].err));
}
END_TEST

/* ---- clocks ---- */

START_TEST(test_clocks)
{
	int64_t a = sl_mono_ns();
	int64_t b = sl_mono_ns();
	ck_assert_int_ge(b, a);
	ck_assert_int_gt(a, 0);
	int64_t ms = sl_mono_ms();
	ck_assert_int_ge(ms, a / 1000000);
	ck_assert_int_le(ms, sl_mono_ns() / 1000000);
	/* Wall time is after 2020-01-01 and before 2200. */
	int64_t wall = sl_wall_ms();
	ck_assert_int_gt(wall, 1577836800000ll);
	ck_assert_int_lt(wall, 7258118400000ll);
	/* Monotonic time advances across a short sleep by at least the sleep. */
	int64_t t0 = sl_mono_ns();
	struct timespec ts = {0, 2000000};
	nanosleep(&ts, NULL);
	ck_assert_int_ge(sl_mono_ns() - t0, 2000000);
}
END_TEST

/* ---- assert ---- */

START_TEST(test_assert_pass)
{
	int x = 1;
	SL_ASSERT(x == 1);
	SL_DASSERT(x == 1);
	ck_assert_int_eq(x, 1);
}
END_TEST

START_TEST(test_assert_fail_aborts)
{
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		int two = 2;
		SL_ASSERT(two == 3);
		_exit(0); /* not reached */
	}
	close(fds[1]);
	char out[512];
	size_t len = 0;
	ssize_t r;
	while ((r = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(fds[0]);
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGABRT);
	char want[256];
	snprintf(want, sizeof(want), "assertion failed: two == 3 (%s:", __FILE__);
	ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "got '%s'", out);
	ck_assert_ptr_nonnull(strstr(out, ")\n"));
}
END_TEST

START_TEST(test_unreachable_aborts)
{
	SL_UNREACHABLE();
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("base_log");
	TCase *tl = tcase_create("log");
	tcase_add_checked_fixture(tl, log_setup, log_teardown);
	tcase_add_test(tl, test_log_format);
	tcase_add_test(tl, test_log_level_filter);
	tcase_add_test(tl, test_log_long_line_truncated);
	tcase_add_test(tl, test_log_one_write_per_line);
	tcase_add_test(tl, test_log_level_parse);
	suite_add_tcase(s, tl);
	TCase *te = tcase_create("err_clock_assert");
	tcase_add_test(te, test_err_tables);
	tcase_add_test(te, test_err_from_errno);
	tcase_add_test(te, test_clocks);
	tcase_add_test(te, test_assert_pass);
	tcase_add_test(te, test_assert_fail_aborts);
	tcase_add_test_raise_signal(te, test_unreachable_aborts, SIGABRT);
	suite_add_tcase(s, te);
	return s;
}
