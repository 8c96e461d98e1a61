/*
 * sim.c: sluice_sim, the deterministic cluster simulator for raft/core (issue 5, reliability.md
 * §3.1). Each seed runs a whole cluster (3 or 5 voters, 0-2 observers) in one thread with
 * faults, then a liveness phase; every invariant is checked after every event.
 *
 * HOW TO REPLAY A SEED
 *   A failing seed is printed as "FAIL seed 1234 [canary N]: <violation>". Replay it with
 *       build-xxx/tests/sim/sluice_sim --seed 1234 --trace            (plain seed)
 *       build-xxx/tests/sim/sluice_sim --seed 1234 --canary N --trace (a canary run)
 *   which prints every delivery, role change, truncation, crash, partition and snapshot up to
 *   the violation (add --no-fork to debug in gdb; --trace never forks). Same seed + same commit
 *   ⇒ same run (the trace hash printed at the end proves it). Add regression seeds to
 *   tests/sim/ledger.txt (one "<seed> [canary-bits]  # why" per line): every run replays the
 *   ledger first. Replay with the options the failing run used (--safety-ms, --canary-profile);
 *   a seed's meaning depends on run.c's parameter draw, so re-check the ledger when it changes.
 *
 * USAGE
 *   sluice_sim --seeds N [--start S]   run seeds S .. S+N-1 (default S = 1)
 *   sluice_sim --seed X [--trace]      run (and print) one seed
 *   sluice_sim --canaries              each RAFT_CANARY_* mutant must be caught within 200 seeds
 *   sluice_sim --check-determinism     run every seed twice and compare trace hashes
 *   --ledger FILE                      replay the seeds listed in FILE first
 *   --time-budget SEC                  stop starting new seeds after SEC seconds (wall clock)
 *   --safety-ms MS                     virtual length of the fault phase (default 120000)
 *   --canary-profile                   use the canaries' fault profile (implied by --canary)
 * Each seed runs in a forked child so that an assertion inside the core is reported as a
 * failure of that seed. Exit status 0 only when every seed passed, every canary was caught and
 * the determinism check (if asked) matched.
 */
#include "sim.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

#define CANARY_SEEDS_MAX 200u
#define CANARY_SEED_BASE 900000u

struct result {
	bool ok;
	bool core_abort; /* the child died (assertion in the core or the simulator) */
	struct sim_stats st;
	uint64_t hash;
	char why[SIM_VIOLATION_LEN];
};

struct opts {
	uint64_t seeds, start, one_seed;
	bool have_one, trace, canaries, determinism, no_fork, canary_profile;
	uint32_t canary;
	const char *ledger;
	double budget_s;
	int64_t safety_ms;
};

static struct sim_stats total;
static uint64_t failures;
/* Determinism check: the second run of a seed starts from a different heap layout, so that a
 * dependence on addresses or on uninitialised memory changes the trace hash. */
static size_t heap_perturb;

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_inline(uint64_t seed, const struct sim_run_opts *ro, struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->ok = sim_run_seed(seed, ro, &r->st, &r->hash, r->why, sizeof(r->why));
}

/* Runs a seed in a child; a child that dies is a failed seed. */
static void run_forked(uint64_t seed, const struct sim_run_opts *ro, struct result *r)
{
	int fds[2];
	SL_ASSERT(pipe(fds) == 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	SL_ASSERT(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (heap_perturb > 0) {
			volatile char *junk = malloc(heap_perturb);
			SL_ASSERT(junk != NULL);
			for (size_t i = 0; i < heap_perturb; i += 512)
				junk[i] = (char)i;
		}
		struct result cr;
		run_inline(seed, ro, &cr);
		const char *p = (const char *)&cr;
		size_t left = sizeof(cr);
		while (left > 0) {
			ssize_t w = write(fds[1], p, left);
			if (w <= 0)
				_exit(3);
			p += w;
			left -= (size_t)w;
		}
		_exit(0);
	}
	close(fds[1]);
	memset(r, 0, sizeof(*r));
	char *p = (char *)r;
	size_t got = 0;
	while (got < sizeof(*r)) {
		ssize_t n = read(fds[0], p + got, sizeof(*r) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != sizeof(*r) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		memset(r, 0, sizeof(*r));
		r->core_abort = true;
		r->st.seeds = 1;
		snprintf(r->why, sizeof(r->why),
		         "child died (%s %d): an assertion failed; replay "
		         "with --trace",
		         WIFSIGNALED(status) ? "signal" : "exit",
		         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
}

static void run_one(const struct opts *o, uint64_t seed, const struct sim_run_opts *ro,
                    struct result *r)
{
	if (o->no_fork || ro->trace)
		run_inline(seed, ro, r);
	else
		run_forked(seed, ro, r);
}

static void add_stats(const struct sim_stats *st)
{
	total.seeds += st->seeds;
	total.events += st->events;
	for (int i = 0; i < F_KIND_COUNT; i++)
		total.faults[i] += st->faults[i];
	total.checks += st->checks;
	total.violations += st->violations;
	total.msgs += st->msgs;
	total.proposals += st->proposals;
	total.acked += st->acked;
	total.elections += st->elections;
	total.committed += st->committed;
}

/* Runs one seed (canary bits may be 0) and reports a failure. */
static bool seed_check(const struct opts *o, uint64_t seed, uint32_t canary, bool from_ledger)
{
	struct sim_run_opts ro = {.trace = o->trace,
	                          .canary = canary,
	                          .safety_ms = o->safety_ms,
	                          .canary_faults = canary != 0 || o->canary_profile};
	struct result r;
	run_one(o, seed, &ro, &r);
	add_stats(&r.st);
	if (o->trace)
		printf("seed %" PRIu64 ": %s, %" PRIu64 " events, trace hash %016" PRIx64 "\n",
		       seed, r.ok ? "ok" : "FAILED", r.st.events, r.hash);
	if (r.ok)
		return true;
	failures++;
	printf("FAIL seed %" PRIu64, seed);
	if (canary)
		printf(" canary %u", canary);
	printf(": %s\n", r.why);
	if (!from_ledger) {
		char c1[32] = "", c2[32] = "";
		if (canary) {
			snprintf(c1, sizeof(c1), " --canary %u", canary);
			snprintf(c2, sizeof(c2), " %u", canary);
		}
		printf("  NEW failing seed. Replay: sluice_sim --seed %" PRIu64 "%s --trace\n"
		       "  Add it to the ledger: echo '%" PRIu64
		       "%s  # <why>' >> tests/sim/ledger.txt\n",
		       seed, c1, seed, c2);
	}
	return false;
}

static void replay_ledger(const struct opts *o)
{
	if (o->ledger == NULL)
		return;
	FILE *f = fopen(o->ledger, "r");
	if (f == NULL) {
		printf("cannot open ledger %s\n", o->ledger);
		failures++;
		return;
	}
	char line[512];
	uint32_t n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		unsigned long long seed;
		unsigned canary = 0;
		int k = sscanf(line, "%llu %u", &seed, &canary);
		if (k < 1)
			continue;
		seed_check(o, seed, canary, true);
		n++;
	}
	fclose(f);
	printf("ledger: %u seeds replayed from %s\n", n, o->ledger);
}

static const struct {
	uint32_t bit;
	const char *name;
} canaries[] = {
        {RAFT_CANARY_VOTE_NOT_PERSISTED, "vote-not-persisted"},
        {RAFT_CANARY_HW_BEFORE_EPOCH, "hw-before-epoch"},
        {RAFT_CANARY_TRUNCATE_BELOW_HW, "truncate-below-hw"},
        {RAFT_CANARY_STALE_EPOCH_FETCH, "stale-epoch-fetch"},
        {RAFT_CANARY_LEADER_UNFLUSHED_HW, "leader-unflushed-hw"},
};

static uint32_t run_canaries(const struct opts *o)
{
	uint32_t caught = 0;
	for (size_t c = 0; c < SL_ARRAY_LEN(canaries); c++) {
		struct sim_run_opts ro = {.canary = canaries[c].bit,
		                          .safety_ms = o->safety_ms,
		                          .canary_faults = true};
		bool found = false;
		for (uint64_t i = 0; i < CANARY_SEEDS_MAX && !found; i++) {
			uint64_t seed = CANARY_SEED_BASE + c * 1000 + i;
			struct result r;
			run_one(o, seed, &ro, &r);
			add_stats(&r.st);
			total.violations -= r.st.violations; /* expected here */
			if (r.ok)
				continue;
			/* Attribute the failure to the mutant only if the seed passes without it.
			 */
			struct sim_run_opts base = ro;
			struct result b;
			base.canary = 0;
			run_one(o, seed, &base, &b);
			add_stats(&b.st);
			if (!b.ok) {
				failures++;
				printf("FAIL seed %" PRIu64
				       " (canary profile) fails without the canary "
				       "too: %s\n  replay: sluice_sim --seed %" PRIu64
				       " --canary-profile --trace\n",
				       seed, b.why, seed);
				continue;
			}
			found = true;
			printf("canary %-20s caught by seed %" PRIu64 " (%" PRIu64
			       " seeds) %s: %s\n",
			       canaries[c].name, seed, i + 1,
			       r.core_abort ? "[core assertion]" : "[simulator check]", r.why);
		}
		if (found) {
			caught++;
		} else {
			failures++;
			printf("FAIL canary %s NOT caught in %u seeds\n", canaries[c].name,
			       CANARY_SEEDS_MAX);
		}
	}
	return caught;
}

static bool check_determinism(const struct opts *o)
{
	bool same = true;
	struct sim_run_opts ro = {.safety_ms = o->safety_ms};
	for (uint64_t i = 0; i < o->seeds; i++) {
		struct result a, b;
		run_one(o, o->start + i, &ro, &a);
		heap_perturb = 4096 + (size_t)(i % 37) * 12345;
		run_one(o, o->start + i, &ro, &b);
		heap_perturb = 0;
		add_stats(&a.st);
		if (!a.ok) {
			failures++;
			printf("FAIL seed %" PRIu64 ": %s\n", o->start + i, a.why);
		}
		if (a.hash != b.hash || a.st.events != b.st.events) {
			same = false;
			failures++;
			printf("FAIL determinism: seed %" PRIu64 " hashes %016" PRIx64
			       " vs %016" PRIx64 "\n",
			       o->start + i, a.hash, b.hash);
		}
	}
	return same;
}

static void usage(void)
{
	fprintf(stderr, "usage: sluice_sim [--seeds N] [--start S] [--seed X [--canary BITS] "
	                "[--trace]] [--canaries] [--check-determinism] [--ledger FILE] "
	                "[--time-budget SEC] [--safety-ms MS] [--no-fork] [--canary-profile]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->start = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;
		if (strcmp(a, "--seeds") == 0 && v)
			o->seeds = strtoull(v, NULL, 10);
		else if (strcmp(a, "--start") == 0 && v)
			o->start = strtoull(v, NULL, 10);
		else if (strcmp(a, "--seed") == 0 && v) {
			o->one_seed = strtoull(v, NULL, 10);
			o->have_one = true;
		} else if (strcmp(a, "--canary") == 0 && v)
			o->canary = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(a, "--ledger") == 0 && v)
			o->ledger = v;
		else if (strcmp(a, "--time-budget") == 0 && v)
			o->budget_s = strtod(v, NULL);
		else if (strcmp(a, "--safety-ms") == 0 && v)
			o->safety_ms = strtoll(v, NULL, 10);
		else {
			takes = false;
			if (strcmp(a, "--trace") == 0)
				o->trace = true;
			else if (strcmp(a, "--canaries") == 0)
				o->canaries = true;
			else if (strcmp(a, "--check-determinism") == 0)
				o->determinism = true;
			else if (strcmp(a, "--no-fork") == 0)
				o->no_fork = true;
			else if (strcmp(a, "--canary-profile") == 0)
				o->canary_profile = true;
			else
				usage();
		}
		if (takes)
			i++;
	}
}

static void print_summary(double secs, uint32_t canaries_caught, int determinism)
{
	printf("seeds run:          %" PRIu64 " (%.1f s, %.1f seeds/s)\n", total.seeds, secs,
	       secs > 0 ? (double)total.seeds / secs : 0.0);
	printf("events:             %" PRIu64 " (%" PRIu64 " messages)\n", total.events,
	       total.msgs);
	printf("elections:          %" PRIu64 "\n", total.elections);
	printf("proposals:          %" PRIu64 " (%" PRIu64 " acked), committed records %" PRIu64
	       "\n",
	       total.proposals, total.acked, total.committed);
	printf("faults injected:   ");
	for (int i = 0; i < F_KIND_COUNT; i++)
		printf(" %s=%" PRIu64, sim_fault_names[i], total.faults[i]);
	printf("\ninvariant checks:   %" PRIu64 "\n", total.checks);
	printf("violations:         %" PRIu64 "\n", total.violations);
	if (canaries_caught != UINT32_MAX)
		printf("canaries caught:    %u of %zu\n", canaries_caught, SL_ARRAY_LEN(canaries));
	if (determinism >= 0)
		printf("determinism:        %s\n", determinism ? "same hashes" : "MISMATCH");
	printf("result:             %s (%" PRIu64 " failures)\n", failures ? "FAIL" : "PASS",
	       failures);
}

int main(int argc, char **argv)
{
	struct opts o;
	parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	double t0 = wall_s();
	uint32_t caught = UINT32_MAX;
	int det = -1;
	replay_ledger(&o);
	if (o.have_one) {
		seed_check(&o, o.one_seed, o.canary, false);
	} else if (o.canaries) {
		caught = run_canaries(&o);
	} else if (o.determinism) {
		if (o.seeds == 0)
			o.seeds = 20;
		det = check_determinism(&o) ? 1 : 0;
		printf("determinism: %" PRIu64 " seeds run twice\n", o.seeds);
	} else {
		if (o.seeds == 0 && o.ledger == NULL)
			usage();
		for (uint64_t i = 0; i < o.seeds; i++) {
			if (o.budget_s > 0 && wall_s() - t0 > o.budget_s) {
				printf("time budget of %.0f s reached after %" PRIu64 " seeds\n",
				       o.budget_s, i);
				break;
			}
			seed_check(&o, o.start + i, o.canary, false);
		}
	}
	print_summary(wall_s() - t0, caught, det);
	return failures ? 1 : 0;
}
