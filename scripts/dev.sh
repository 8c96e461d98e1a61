#!/usr/bin/env bash
# One command for a new user: install dependencies, build, and run a single-node cluster
# (broker + controller) on localhost:9092 with its data in ./data (formatted on first run).
# Extra arguments go to `sluice dev` (e.g. --port 19092, --dir /tmp/sluice-data).
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE_SKIP_NPM=1 ./scripts/deps.sh
./scripts/build.sh
exec ./build/sluice dev "$@"
