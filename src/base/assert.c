/*
 * assert.c: the failure path of SL_ASSERT. Prints one line to stderr and aborts, so a core
 * dump or the sanitizer report shows the failing frame.
 */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>

noreturn void sl_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "assertion failed: %s (%s:%d)\n", expr, file, line);
	fflush(stderr);
	abort();
}
