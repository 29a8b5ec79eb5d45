#!/usr/bin/env bash
# Alternating runs of one workload on several builds, each run on a server with a fresh
# store: on this noisy 2-core VM only runs that alternate compare two builds.
#
#   scripts/bench-alternate.sh WORKLOAD ROUNDS DIR...   # DIR holds a build's `lcm`
#   DURATION=5 CONCURRENCY=64 EXTRA="--setup-needs 10000" scripts/bench-alternate.sh approve 3 old new
#
# Prints one JSON line per run, labelled with the round and the build's directory.
set -euo pipefail
workload=$1 rounds=$2
shift 2
duration=${DURATION:-5}
concurrency=${CONCURRENCY:-64}
bin=$1 # bench-common.sh wants one
source "$(dirname "$0")/bench-common.sh"
port=$((20000 + RANDOM % 20000))
for round in $(seq 1 "$rounds"); do
  for dir in "$@"; do
    port=$((port + 1))
    data="$work/r$round-$(basename "$dir")"
    "$dir/lcm" serve --listen "127.0.0.1:$port" --console-listen off --data-dir "$data" >"$data.log" 2>&1 &
    pid=$!
    wait_port "$port"
    # shellcheck disable=SC2086 # EXTRA is a list of flags
    line=$("$dir/lcm" loadtest --addr "127.0.0.1:$port" --token "$(cat "$data/admin.token")" --json --quiet \
      --duration-s "$duration" --workload "$workload" --concurrency "$concurrency" ${EXTRA:-})
    echo "{\"round\":$round,\"build\":\"$dir\",${line#\{}"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
done
