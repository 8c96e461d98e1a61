/*
 * clock.c: monotonic and wall clocks via clock_gettime. Both clocks always exist on Linux, so
 * a failure is a broken invariant and asserts.
 */
#include "base.h"

#include <time.h>

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	int rc = clock_gettime(id, &ts);
	SL_ASSERT(rc == 0);
	return (int64_t)ts.tv_sec * 1000000000 + (int64_t)ts.tv_nsec;
}

int64_t sl_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t sl_mono_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000;
}

int64_t sl_wall_ms(void)
{
	return clock_ns(CLOCK_REALTIME) / 1000000;
}
