#!/usr/bin/env bash
# Side-by-side service benchmarks (issue 8): the lcm-echo baseline and lcm's workloads in
# one run, on loopback, each server on a fresh store. Prints one JSON line per run (also
# saved to $OUT, default target/bench-service.jsonl).
#
#   scripts/bench-service.sh                  # the goals' runs, 10 s each
#   BENCH_DURATION=5 ROUNDS=1 scripts/bench-service.sh
#   SCALING=1 scripts/bench-service.sh        # also get-need / create-need at 1..256 in flight
#                                             # on stores of $SCALING_STORES needs
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bins
bin=target/release
duration=${BENCH_DURATION:-10}
rounds=${ROUNDS:-3}
out=${OUT:-target/bench-service.jsonl}
source scripts/bench-common.sh
: >"$out"

run() { # run LABEL PORT TOKEN loadtest-args...
  local label=$1 port=$2 token=$3
  shift 3
  local line
  line=$("$bin/lcm" loadtest --addr "127.0.0.1:$port" --token "$token" --json --quiet --duration-s "$duration" "$@")
  line="{\"label\":\"$label\",${line#\{}"
  echo "$line" | tee -a "$out"
}

base=$((20000 + RANDOM % 20000))
echo_port=$base read_port=$((base + 1))
next_port=$((base + 2))
"$bin/lcm-echo" --listen "127.0.0.1:$echo_port" >"$work/echo.log" 2>&1 &
pids+=($!)
wait_port "$echo_port"
# Reads run on a store of their own, so the writes of the other runs do not grow it (the
# scaling runs measure store size on purpose).
start_lcm read "$read_port"
read_token=$(cat "$work/read/admin.token")

# fresh NAME [serve flags...]: a server on a new store; sets $port and $token.
fresh() {
  local name=$1
  shift
  port=$next_port
  next_port=$((next_port + 1))
  start_lcm "$name" "$port" "$@"
  token=$(cat "$work/$name/admin.token")
}
stop_last() {
  kill "${pids[-1]}"
  wait "${pids[-1]}" 2>/dev/null || true
}

# Every write run starts on a fresh store, so each round measures the same thing (a
# create-need run of 10 s adds ~100k needs; the scaling runs show what store size costs).
for round in $(seq 1 "$rounds"); do
  run "echo#$round" "$echo_port" none --workload echo --concurrency 64
  run "get-need#$round" "$read_port" "$read_token" --workload get-need --concurrency 64
  fresh "write$round"
  run "create-need#$round" "$port" "$token" --workload create-need --concurrency 64
  stop_last
  fresh "nogc$round" --no-group-commit
  run "create-need-no-group-commit#$round" "$port" "$token" --workload create-need --concurrency 64
  stop_last
done
fresh approve
run approve "$port" "$token" --workload approve --concurrency 64 --setup-needs 10000
stop_last
fresh watch
run watch "$port" "$token" --workload watch --subscribers 100 --write-rps 1000
stop_last

if [[ -n ${SCALING:-} ]]; then
  # Each store is filled once through the write path (`lcm bench-store fill`); reads run on
  # it, each write run on a fresh copy of it, so no run measures a store grown by another.
  for needs in ${SCALING_STORES:-10000 100000 1000000}; do
    "$bin/lcm" bench-store fill --data-dir "$work/filled$needs" --needs "$needs" --batch 2000 >"$work/fill$needs.json"
    echo "{\"label\":\"fill@$needs\",$(tail -c +2 "$work/fill$needs.json")" | tee -a "$out"
    for c in 1 4 16 64 256; do
      port=$next_port
      next_port=$((next_port + 1))
      start_lcm "filled$needs" "$port"
      t=$(cat "$work/filled$needs/admin.token")
      run "get-need@$needs/c$c" "$port" "$t" --workload get-need --concurrency "$c" --setup-needs "$needs"
      stop_last
      rm -rf "$work/copy"
      cp -a "$work/filled$needs" "$work/copy"
      port=$next_port
      next_port=$((next_port + 1))
      start_lcm copy "$port"
      run "create-need@$needs/c$c" "$port" "$t" --workload create-need --concurrency "$c"
      stop_last
    done
    rm -rf "$work/filled$needs" "$work/copy"
  done
fi
