#!/usr/bin/env bash
# client_bench.sh: the client-level benchmark of issue 4 (not a test). Starts a single-node
# Sluice (`sluice dev` on a scratch dir on the disk under test, durable: acks=all waits for
# fdatasync) and runs sluice_bench_client, which drives it and librdkafka's in-memory mock
# cluster (not durable) with librdkafka, alternating runs, and prints msgs/s, MB/s, broker CPU
# per message and latency percentiles with Sluice/mock ratios.
#
# Usage: tests/bench/client_bench.sh [build dir]   (default: build)
# Env: RUNS (3), RECORDS (500000), BENCH_DIR (default: a fresh mktemp -d under /var/tmp).
set -euo pipefail
build=${1:-build}
sluice="$build/sluice"
bench="$build/tests/bench/client/sluice_bench_client"
for f in "$sluice" "$bench"; do
  [ -x "$f" ] || { echo "missing $f (build first: scripts/build.sh)" >&2; exit 2; }
done
own_dir=0
if [ -z "${BENCH_DIR:-}" ]; then
  BENCH_DIR=$(mktemp -d /var/tmp/sluice-client-bench.XXXXXX)
  own_dir=1
fi
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$sluice" dev --dir "$BENCH_DIR/data" --port "$port" >"$BENCH_DIR/sluice.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$own_dir" = 1 ]; then rm -rf -- "$BENCH_DIR"; fi
}
trap cleanup EXIT
for _ in $(seq 100); do
  if /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
echo "sluice pid $pid on 127.0.0.1:$port, data in $BENCH_DIR (io: $(grep -o 'io.backend=[a-z]*' "$BENCH_DIR/sluice.log" | head -1))"
"$bench" --sluice "127.0.0.1:$port" --sluice-pid "$pid" --runs "${RUNS:-3}" \
  --records "${RECORDS:-500000}"
