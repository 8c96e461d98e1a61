#!/usr/bin/env bash
# storage_bench.sh: the storage benchmark (not a test). Measures, in one run on this machine:
#   - fio baseline: sequential 1 MiB writes with fdatasync after every 1 MiB, and sequential
#     1 MiB reads of a page-cached file (psync), each the median of RUNS;
#   - sluice_bench_storage append: group-committed appends (100 B and 1 KiB records, batches
#     of 16 KiB..1 MiB), fsyncs/s, and page-cache reads through the log;
#   - sluice_bench_storage zerocopy: broker CPU per MB sending file ranges (splice, sendfile,
#     copy) to a loopback socket;
# and prints our/fio ratios. Goal (issue 3): appends >= 80% of fio's write bandwidth for the
# same sync pattern, reads >= 80% of fio's page-cache read bandwidth.
#
# Usage: tests/bench/storage_bench.sh [path/to/sluice_bench_storage]
# Env: RUNS (5), TOTAL_MIB (256), BENCH_DIR (a directory on the disk under test; default a
# fresh mktemp -d under /var/tmp, removed afterwards).
set -euo pipefail

bench=${1:-${SLUICE_BENCH:-}}
if [ -z "$bench" ] || [ ! -x "$bench" ]; then
  echo "usage: $0 path/to/sluice_bench_storage" >&2
  exit 2
fi
command -v fio >/dev/null || { echo "fio is not installed (scripts/deps.sh)" >&2; exit 2; }
runs=${RUNS:-5}
total_mib=${TOTAL_MIB:-256}
own_dir=0
if [ -z "${BENCH_DIR:-}" ]; then
  BENCH_DIR=$(mktemp -d /var/tmp/sluice-bench.XXXXXX)
  own_dir=1
fi
cleanup() { [ "$own_dir" = 1 ] && rm -rf -- "$BENCH_DIR"; }
trap cleanup EXIT

# Median MB/s (10^6 bytes) of `runs` fio runs; prints the number.
fio_median() {
  local vals=()
  for _ in $(seq "$runs"); do
    vals+=("$(fio --output-format=json "$@" | /usr/bin/python3 -c \
      'import json,sys; j=json.load(sys.stdin)["jobs"][0]; print((j["write"]["bw_bytes"] + j["read"]["bw_bytes"]) / 1e6)')")
  done
  printf '%s\n' "${vals[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r) $(nproc) cores; dir $BENCH_DIR; median of $runs"
common=(--directory="$BENCH_DIR" --bs=1m --size="${total_mib}m" --ioengine=psync)
fio_write=$(fio_median --name=seqwrite "${common[@]}" --rw=write --fdatasync=1 --unlink=1)
fio --name=seqread "${common[@]}" --rw=read --invalidate=0 >/dev/null # lay out and cache
fio_read=$(fio_median --name=seqread "${common[@]}" --rw=read --invalidate=0)
rm -f -- "$BENCH_DIR"/seqread.*
printf 'fio  seq 1 MiB writes, fdatasync every 1 MiB: %8.0f MB/s\n' "$fio_write"
printf 'fio  seq 1 MiB reads from the page cache:     %8.0f MB/s\n' "$fio_read"
echo

out=$("$bench" append --dir "$BENCH_DIR" --runs "$runs" --total-mib "$total_mib")
echo "$out"
echo
echo "$out" | awk -v w="$fio_write" -v r="$fio_read" '
  /^[0-9]/ && $3 != "failed" {
    printf "ratio record=%-5s batch=%5s KiB  append/fio_write %5.2f  read/fio_read %5.2f\n",
      $1, $2, $4 / w, $7 / r }'
echo
"$bench" zerocopy --dir "$BENCH_DIR" --runs "$runs"
