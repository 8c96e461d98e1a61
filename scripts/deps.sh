#!/usr/bin/env bash
# Installs everything Sluice needs to build and test on Debian 12.
# Idempotent and quiet when everything is already present.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config python3 clang clang-format libclang-rt-14-dev
  liburing-dev libssl-dev libzstd-dev liblz4-dev zlib1g-dev libsnappy-dev check
  kcat librdkafka-dev python3-confluent-kafka python3-kafka
  python3-snappy python3-lz4 python3-zstandard procps fio iproute2 nftables
)
# Node.js and npm: use what is there; Debian's packages only when they are absent.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >/dev/null
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# kafkajs for the integration tests (npm registry), kept inside the repo's tests folder.
if [ "${SLUICE_SKIP_NPM:-0}" != "1" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  need_npm=0
  for m in kafkajs kafkajs-snappy kafkajs-lz4; do
    [ -d "$here/tests/integration/node_modules/$m" ] || need_npm=1
  done
  if [ "$need_npm" = 1 ]; then
    echo "deps: installing kafkajs and its codecs (npm)"
    (cd "$here/tests/integration" && npm install --no-audit --no-fund --no-package-lock --silent >/dev/null)
  fi
fi
