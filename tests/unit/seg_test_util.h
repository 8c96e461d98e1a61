/*
 * seg_test_util.h: the fixture shared by the segment-layer suites (test_segment.c,
 * test_recovery.c): a fresh temp directory per test and a seeded xorshift generator
 * (SLUICE_TEST_SEED overrides the suite's default seed; suites print it on failure).
 * Included by one .c file each, so the statics below are per suite.
 */
#ifndef SL_SEG_TEST_UTIL_H
#define SL_SEG_TEST_UTIL_H

#include "base.h"
#include "check_main.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static char root[64];
static uint64_t seed;
static uint64_t rng;

static inline uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* mkdtemp "/tmp/sl-test-<name>-XXXXXX" into root; seed from the environment or default. */
static inline void seg_fixture_setup(const char *name, uint64_t default_seed)
{
	snprintf(root, sizeof(root), "/tmp/sl-test-%s-XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(root));
	const char *env = getenv("SLUICE_TEST_SEED");
	seed = env ? strtoull(env, NULL, 0) : default_seed;
	rng = seed ? seed : 1;
}

static inline void seg_fixture_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

#endif
