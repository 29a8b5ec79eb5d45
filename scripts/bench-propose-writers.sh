#!/usr/bin/env bash
# Writers beside a long proposal (issue 18): on a store filled with `lcm bench-match`'s
# synthetic scenario (NEEDS x OFFERS, default 100 000 x 100 000), create-need at
# CONCURRENCY in flight for DURATION s alone, then again while ProposeMatches dry runs run
# back to back; prints both JSON lines and the p99 ratio (goal <= 2).
#
#   scripts/bench-propose-writers.sh
#   NEEDS=30000 OFFERS=30000 DURATION=10 scripts/bench-propose-writers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
needs=${NEEDS:-100000}
offers=${OFFERS:-100000}
duration=${DURATION:-10}
concurrency=${CONCURRENCY:-16}
cargo build --release --quiet
bin=target/release/lcm
work=$(mktemp -d)
cleanup() {
  [[ -n ${loop:-} ]] && kill "$loop" 2>/dev/null
  [[ -n ${server:-} ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" bench-store fill --data-dir "$work/data" --needs "$needs" --offers "$offers" --synthetic-seed 1 --batch 2000 >&2
"$bin" serve --listen 127.0.0.1:0 --console-listen off --data-dir "$work/data" --log-format json \
  >"$work/server.out" 2>"$work/server.log" &
server=$!
addr=
for _ in $(seq 1 600); do
  addr=$(python3 -c '
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try: v = json.loads(line)
    except ValueError: continue
    f = v.get("fields", v)
    if f.get("message") == "serving": print(f.get("addr", "")); break
' "$work/server.log")
  [[ -n $addr ]] && break
  sleep 0.1
done
[[ -n $addr ]] || { echo "lcm serve did not start" >&2; exit 1; }
token=$(cat "$work/data/admin.token")
load() { "$bin" loadtest --addr "$addr" --token "$token" --json --quiet --workload create-need \
  --concurrency "$concurrency" --duration-s "$duration"; }
alone=$(load)
echo "$alone"
( while true; do "$bin" --addr "http://$addr" --token "$token" match propose --dry-run --json >/dev/null 2>&1 || true; done ) &
loop=$!
sleep 2 # the first dry run is under way
beside=$(load)
kill "$loop" 2>/dev/null; loop=
proposals=$(grep -c '"matches proposed"' "$work/server.log" || true)
echo "$beside"
python3 - "$alone" "$beside" "$proposals" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"alone_p99_us": a["p99_us"], "beside_proposals_p99_us": b["p99_us"],
                  "p99_ratio": round(b["p99_us"] / a["p99_us"], 2),
                  "alone_rps": a["throughput_rps"], "beside_rps": b["throughput_rps"],
                  "dry_runs_completed": int(sys.argv[3])}))
PY
