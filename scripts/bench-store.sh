#!/usr/bin/env bash
# Store-side benchmarks (issue 8): memory with 100k needs + 100k offers beside a bare
# sled::open of the same store, and recovery of a store with 1M events beside a bare open.
# Prints one JSON line per measurement (also saved to $OUT, default target/bench-store.jsonl).
#
#   scripts/bench-store.sh                     # memory and recovery
#   MEMORY_RECORDS=100000 RECOVERY_EVENTS=1000000 ROUNDS=5 scripts/bench-store.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bins
bin=target/release
records=${MEMORY_RECORDS:-100000}
events=${RECOVERY_EVENTS:-1000000}
rounds=${ROUNDS:-5}
out=${OUT:-target/bench-store.jsonl}
source scripts/bench-common.sh
: >"$out"
emit() { # emit LABEL JSON
  local line="{\"label\":\"$1\",${2#\{}"
  echo "$line" | tee -a "$out"
}
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

# Memory: serve the filled store with the default cache, read every need, read RSS.
emit "fill-memory" "$("$bin/lcm" bench-store fill --data-dir "$work/mem" --needs "$records" --offers "$records")"
port=$((20000 + RANDOM % 20000))
start_lcm mem "$port"
pid=${pids[-1]}
token=$(cat "$work/mem/admin.token")
rss_idle=$(kib "$pid" VmRSS)
# Setup lists every need (ListNeeds over the whole store); the run then reads random ones.
emit "memory-load" "$("$bin/lcm" loadtest --addr "127.0.0.1:$port" --token "$token" --json --quiet \
  --workload get-need --concurrency 64 --duration-s 20 --setup-needs "$records")"
# The gap report reads every need and offer.
"$bin/lcm" --addr "127.0.0.1:$port" --token "$token" --json report gaps >/dev/null
emit "memory-serve" "{\"needs\":$records,\"offers\":$records,\"rss_idle_bytes\":$((rss_idle * 1024)),\"rss_after_load_bytes\":$(($(kib "$pid" VmRSS) * 1024)),\"rss_peak_bytes\":$(($(kib "$pid" VmHWM) * 1024))}"
kill -TERM "$pid"
wait "$pid" || true
emit "memory-bare-open" "$("$bin/lcm" bench-store open --data-dir "$work/mem" --read-all)"
rm -rf "$work/mem"

# Recovery: a store with $events events (one per need), started alternately bare and as lcm serve.
emit "fill-recovery" "$("$bin/lcm" bench-store fill --data-dir "$work/rec" --needs "$events" --batch 2000)"
emit "recovery" "$("$bin/lcm" bench-store recovery --data-dir "$work/rec" --rounds "$rounds")"
