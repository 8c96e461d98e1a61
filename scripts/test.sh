#!/usr/bin/env bash
# One command for the whole test suite on a fresh Debian 12 machine: installs dependencies,
# builds (gcc), runs unit + integration tests, rebuilds with clang + ASan+UBSan and runs the unit
# and integration tests there, checks formatting, builds the libFuzzer targets with clang and runs a short fuzz smoke.
# Prints one summary line "N passed, N failed" at the end; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
jobs=$(nproc)
log_dir=${SLUICE_TEST_LOGS:-$root/build-logs}
mkdir -p "$log_dir"
passed=0
failed=0
failures=()

step() { printf '\n==== %s ====\n' "$*"; }

# record NAME CTEST_OUTPUT_FILE RC: adds ctest's counts to the totals.
record() {
	local name=$1 out=$2 rc=$3 line p t f
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -1)
	if [ -n "$line" ]; then
		t=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
		f=$(sed -E 's/.*tests passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
		p=$((t - f))
		passed=$((passed + p))
		failed=$((failed + f))
	fi
	if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
		failures+=("$name")
		[ -n "$line" ] || failed=$((failed + 1))
	fi
}

check() { # check NAME CMD...: a single pass/fail step
	local name=$1
	shift
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

step "dependencies"
./scripts/deps.sh || { echo "dependency installation failed"; exit 1; }

step "build (gcc, RelWithDebInfo)"
if ! SLUICE_BUILD_DIR=build ./scripts/build.sh; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

step "unit tests"
ctest --test-dir build -L unit --output-on-failure -j"$jobs" 2>&1 | tee "$log_dir/unit.txt"
record unit "$log_dir/unit.txt" "${PIPESTATUS[0]}"

step "integration tests (real clients against build/sluice)"
ctest --test-dir build -L integration --output-on-failure 2>&1 | tee "$log_dir/integration.txt"
record integration "$log_dir/integration.txt" "${PIPESTATUS[0]}"

step "deterministic Raft simulation (tests/sim: 1000 seeds + ledger, canaries, determinism)"
ctest --test-dir build -L sim --output-on-failure 2>&1 | tee "$log_dir/sim.txt"
record sim "$log_dir/sim.txt" "${PIPESTATUS[0]}"
grep -hE '^(seeds run|faults|invariant checks|violations|canaries|determinism)' \
	build/Testing/Temporary/LastTest.log 2>/dev/null | head -40

step "formatting (clang-format)"
fmt_check() {
	local bad
	bad=$(git ls-files '*.c' '*.h' | xargs clang-format --dry-run 2>&1 | grep -c 'warning:' || true)
	if [ "$bad" != "0" ]; then
		git ls-files '*.c' '*.h' | xargs clang-format --dry-run 2>&1 | grep 'warning:' | head -20
		echo "clang-format: $bad differences (run clang-format -i)"
		return 1
	fi
	echo "clang-format: clean"
}
check clang-format fmt_check

step "sanitizers (clang, ASan+UBSan): build and unit tests"
# clang: its UBSan also catches pointer arithmetic on NULL, which gcc's does not.
if CC=clang SLUICE_BUILD_DIR=build-asan SLUICE_BUILD_TYPE=Debug ./scripts/build.sh -DSLUICE_SANITIZE=ON \
	-DCMAKE_C_FLAGS=-DSL_DEBUG_ASSERTS; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir build-asan -L unit --output-on-failure -j"$jobs" 2>&1 | tee "$log_dir/asan.txt"
	record asan "$log_dir/asan.txt" "${PIPESTATUS[0]}"
	step "sanitizers: integration tests against the ASan+UBSan sluice binary"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir build-asan -L integration --output-on-failure 2>&1 | tee "$log_dir/asan-integration.txt"
	record asan-integration "$log_dir/asan-integration.txt" "${PIPESTATUS[0]}"
	step "sanitizers: the Raft simulator (200 seeds + ledger)"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir build-asan -L sim --output-on-failure 2>&1 | tee "$log_dir/asan-sim.txt"
	record asan-sim "$log_dir/asan-sim.txt" "${PIPESTATUS[0]}"
else
	failed=$((failed + 1))
	failures+=("asan-build")
fi

step "fuzz smoke (clang + libFuzzer)"
fuzz_smoke() {
	CC=clang SLUICE_BUILD_DIR=build-fuzz ./scripts/build.sh -DSLUICE_FUZZ=ON -DSLUICE_TESTS=OFF || return 1
	local t ok=0 secs=${SLUICE_FUZZ_SECONDS:-45}
	for t in build-fuzz/tests/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		local name corpus
		name=$(basename "$t")
		corpus=tests/fuzz/corpus/${name#fuzz_}
		rm -rf "build-fuzz/corpus-$name" && mkdir -p "build-fuzz/corpus-$name"
		[ -d "$corpus" ] && cp "$corpus"/* "build-fuzz/corpus-$name/" 2>/dev/null
		echo "fuzzing $name for ${secs}s"
		"$t" -max_total_time="$secs" -print_final_stats=1 "build-fuzz/corpus-$name" \
			>"$log_dir/$name.txt" 2>&1 || { tail -40 "$log_dir/$name.txt"; return 1; }
		grep -E 'stat::number_of_executed_units' "$log_dir/$name.txt"
		ok=$((ok + 1))
	done
	[ "$ok" -gt 0 ] || { echo "no fuzz targets were built"; return 1; }
}
check fuzz-smoke fuzz_smoke

step "summary"
if [ "${#failures[@]}" -gt 0 ]; then
	echo "failed steps: ${failures[*]}"
fi
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "${#failures[@]}" -eq 0 ]
