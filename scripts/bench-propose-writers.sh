#!/usr/bin/env bash
# Writers beside a long proposal (issue 18): on a store filled with `lcm bench-match`'s
# synthetic scenario (NEEDS x OFFERS, default 100 000 x 100 000), create-need at
# CONCURRENCY in flight for DURATION s alone, then again while ProposeMatches dry runs over
# every capability run back to back (see CLIENT below); prints both JSON lines and the p99
# ratio (goal <= 2).
#
#   scripts/bench-propose-writers.sh
#   NEEDS=30000 OFFERS=30000 DURATION=10 scripts/bench-propose-writers.sh
#   PROPOSALS=stored scripts/bench-propose-writers.sh   # real proposals, not dry runs
#   SERVER_LOG=/tmp/server.log ...                         # keep the server's JSON log
#   BIN_DIR=/path/to/other/build ...                       # another build's lcm
set -euo pipefail
cd "$(dirname "$0")/.."
needs=${NEEDS:-100000}
offers=${OFFERS:-100000}
duration=${DURATION:-10}
concurrency=${CONCURRENCY:-16}
# BIN_DIR=DIR runs the `lcm` in DIR (another build, for an A/B comparison) instead of
# building this checkout's.
if [[ -n ${BIN_DIR:-} ]]; then
  bin=$BIN_DIR
else
  cargo build --release --quiet
  bin=target/release
fi
source scripts/bench-common.sh
"$bin/lcm" bench-store fill --data-dir "$work/data" --needs "$needs" --offers "$offers" --synthetic-seed 1 --batch 2000 >&2
start_lcm_any "$work/data"
token=$(cat "$work/data/admin.token")
# Writers alone are measured on a settled server: after the indexes kept in memory and
# the matching view are read from the records (threads of their own after the open).
for _ in $(seq 1 1200); do
  if grep -q '"the indexes in memory are read' "$work/server.log" && grep -q '"matching view loaded' "$work/server.log"; then
    break
  fi
  sleep 0.05
done
load() { "$bin/lcm" loadtest --addr "$addr" --token "$token" --json --quiet --workload create-need \
  --concurrency "$concurrency" --duration-s "$duration"; }
alone=$(load)
echo "$alone"
# The proposals: ProposeMatches dry runs over every capability, one at a time, back to
# back, each answer received and dropped (lcm loadtest --workload dry-run). With
# CLIENT=cli they come from `lcm match propose --dry-run --json` instead, which also
# renders each 45 MB answer as JSON on the same two cores (a client's own cost). With
# PROPOSALS=stored they are real proposals (lcm loadtest --workload propose): each one
# also stores its matches, superseding the last, in one commit beside the writers.
if [[ ${PROPOSALS:-dry-run} == stored ]]; then
  "$bin/lcm" loadtest --addr "$addr" --token "$token" --json --quiet --workload propose --concurrency 1 \
    --connections 1 --duration-s $((duration + 4)) >/dev/null &
elif [[ ${CLIENT:-loadtest} == cli ]]; then
  ( while true; do "$bin/lcm" --addr "http://$addr" --token "$token" match propose --dry-run --json >/dev/null 2>&1 || true; done ) &
else
  "$bin/lcm" loadtest --addr "$addr" --token "$token" --json --quiet --workload dry-run --concurrency 1 \
    --connections 1 --duration-s $((duration + 4)) >/dev/null &
fi
loop=$!
pids+=("$loop")
sleep 2 # the first dry run is under way
beside=$(load)
kill "$loop" 2>/dev/null
proposals=$(grep -c '"matches proposed"' "$work/server.log" || true)
if [[ -n ${SERVER_LOG:-} ]]; then cp "$work/server.log" "$SERVER_LOG"; fi
echo "$beside"
python3 - "$alone" "$beside" "$proposals" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"alone_p99_us": a["p99_us"], "beside_proposals_p99_us": b["p99_us"],
                  "p99_ratio": round(b["p99_us"] / a["p99_us"], 2),
                  "alone_rps": a["throughput_rps"], "beside_rps": b["throughput_rps"],
                  "proposals_completed": int(sys.argv[3])}))
PY
