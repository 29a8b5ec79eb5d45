#!/usr/bin/env bash
# Matching through the API at scale (issue 18): fills a store with `lcm bench-match`'s
# synthetic scenario (`lcm bench-store fill --synthetic-seed`), serves it, and times, from
# the server's own log (the latency of each answered call, `answered` or `slow request`, so no client process start
# is counted):
#   - ProposeMatches --dry-run, cold (the first after start) and again unchanged;
#   - ProposeMatches --dry-run after one change (a new need);
#   - ExplainNeed on EXPLAINS needs spread over the store (p50, p99, max).
# Prints one JSON line (also appended to $OUT, default target/bench-api-match.jsonl).
#
#   scripts/bench-api-match.sh                 # 100 000 needs x 100 000 offers, seed 1
#   NEEDS=10000 OFFERS=10000 scripts/bench-api-match.sh
set -euo pipefail
cd "$(dirname "$0")/.."
needs=${NEEDS:-100000}
offers=${OFFERS:-100000}
seed=${SEED:-1}
explains=${EXPLAINS:-200}
out=${OUT:-target/bench-api-match.jsonl}
cargo build --release --quiet
bin=target/release
source scripts/bench-common.sh
echo "filling $needs needs x $offers offers (synthetic, seed $seed)" >&2
fill=$("$bin/lcm" bench-store fill --data-dir "$work/data" --needs "$needs" --offers "$offers" --synthetic-seed "$seed" --batch 2000)
echo "$fill" >&2
start_lcm_any "$work/data" --access-log
lcm() { "$bin/lcm" --addr "http://$addr" --token-file "$work/data/admin.token" "$@"; }
mark() { wc -l <"$work/server.log"; }
# Server-side latencies (µs) of METHOD's answers logged after line $1.
latencies() {
  python3 - "$work/server.log" "$1" "$2" <<'PY'
import json, sys
log, after, method = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i, line in enumerate(open(log, errors="replace")):
    if i < after: continue
    try: v = json.loads(line)
    except ValueError: continue
    f = v.get("fields", {})
    spans = [v.get("span", {})] + v.get("spans", [])
    if f.get("message") in ("answered", "slow request") and any(str(s.get("method", "")).endswith("/" + method) for s in spans):
        print(f["latency_us"])
PY
}
echo "proposing (cold)" >&2
# The server's log times the call; the CLI's output is not needed.
m=$(mark); lcm match propose --dry-run --json >/dev/null 2>&1 || true; cold=$(latencies "$m" ProposeMatches | tail -1)
echo "proposing (unchanged)" >&2
m=$(mark); lcm match propose --dry-run --json >/dev/null 2>&1 || true; again=$(latencies "$m" ProposeMatches | tail -1)
lcm needs create --requester UGA --category TRAINING --capability MEDICAL --title "One more need" \
  --quantity 5 --languages en --needed-by +120 --priority HIGH --pledge-level LEVEL_2 --json >/dev/null
echo "proposing (after one change)" >&2
m=$(mark); lcm match propose --dry-run --json >/dev/null 2>&1 || true; changed=$(latencies "$m" ProposeMatches | tail -1)
echo "explaining $explains needs" >&2
m=$(mark)
step=$(( needs / explains )); [[ $step -ge 1 ]] || step=1
for i in $(seq 1 "$step" "$needs" | head -n "$explains"); do lcm explain "need-$i" --json >/dev/null; done
latencies "$m" ExplainNeed >"$work/explain.us"
rss=$(awk '/VmHWM/ {print $2 * 1024}' "/proc/${pids[-1]}/status")
line=$(python3 - "$fill" "$cold" "$again" "$changed" "$work/explain.us" "$rss" <<'PY'
import json, sys
fill = json.loads(sys.argv[1])
cold, again, changed = (int(x) for x in sys.argv[2:5])
ex = sorted(int(l) for l in open(sys.argv[5]) if l.strip())
pick = lambda q: ex[min(len(ex) - 1, int(q * len(ex)))]
print(json.dumps({
    "needs": fill["needs"], "offers": fill["offers"], "seed": fill.get("seed"),
    "propose_cold_ms": cold / 1000, "propose_unchanged_ms": again / 1000,
    "propose_after_change_ms": changed / 1000,
    "after_change_share_of_cold": round(changed / cold, 3),
    "explain_calls": len(ex), "explain_p50_ms": pick(0.5) / 1000, "explain_p99_ms": pick(0.99) / 1000,
    "explain_max_ms": ex[-1] / 1000, "server_peak_rss_bytes": int(sys.argv[6]),
}))
PY
)
echo "$line" | tee -a "$out"
