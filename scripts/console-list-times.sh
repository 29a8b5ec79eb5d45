#!/usr/bin/env bash
# The console's pages on a large store (issue 16: lists ≤ 200 ms at 100 000 needs, paged).
# Fills a store with `lcm bench-store fill` (the synthetic scenario of bench-api-match.sh),
# serves it with the console on a free loopback port, signs in as the admin with curl, and
# requests each page once ("first": a sorted list then builds its order, the overview
# its figures) and then N times (default 20) with `curl -w '%{time_total}'` (the whole
# request over loopback: service calls, rendering, transfer). Prints the first time and
# the median, 90th percentile and maximum of the N others per page, in milliseconds.
# With PROPOSE=1 (the default) it first runs `lcm match propose` on the store and approves
# match-1 … match-40, so the matches and arrangements pages have something to page through.
# Usage: [NEEDS=100000] [OFFERS=$NEEDS] [SEED=1] [DATA=dir-to-reuse] [PROPOSE=0|1] scripts/console-list-times.sh [N]
# DATA: a store already filled by this script (or by the fill command below) is reused
# (it is copied first: serving a store may change it).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
needs=${NEEDS:-100000}
offers=${OFFERS:-$needs}
seed=${SEED:-1}
bin=${LCM_BIN:-target/release/lcm}
[ -x "$bin" ] || { echo "no $bin: run cargo build --release first" >&2; exit 1; }
work=$(mktemp -d -p "${TMPDIR:-/tmp}" lcm-console-times.XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${DATA:-}" ]; then
  cp -r "$DATA" "$work/data"
else
  echo "filling $needs needs x $offers offers (synthetic, seed $seed)" >&2
  "$bin" bench-store fill --data-dir "$work/data" --needs "$needs" --offers "$offers" --synthetic-seed "$seed" \
    --batch 2000 >&2
fi
"$bin" serve --listen 127.0.0.1:0 --console-listen 127.0.0.1:0 --data-dir "$work/data" --log-format json \
  >"$work/banner" 2>"$work/log" &
pid=$!
url=
for _ in $(seq 1 600); do
  url=$(sed -n 's/.*Web console: \(http[^ ]*\).*/\1/p' "$work/banner" 2>/dev/null | head -1)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { tail -5 "$work/log" >&2; echo "the server did not start" >&2; exit 1; }
url=${url%/}
token=$(cat "$work/data/admin.token")
grpc=$(python3 -c '
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try: v = json.loads(line)
    except ValueError: continue
    f = v.get("fields", v)
    if f.get("message") == "serving": print(f.get("addr", "")); break
' "$work/log")
if [ "${PROPOSE:-1}" = 1 ]; then
  # Matches and arrangements to list: one proposal run, then the first 40 approved.
  echo "proposing matches on the filled store" >&2
  LCM_ADDR=$grpc LCM_TOKEN=$token "$bin" match propose >/dev/null
  for i in $(seq 1 40); do LCM_ADDR=$grpc LCM_TOKEN=$token "$bin" match approve "match-$i" >/dev/null 2>&1 || true; done
fi
nonce=$(curl -s -D - -o /dev/null "$url/login" | sed -n 's/^set-cookie: lcm_login=\([^;]*\).*/\1/ip' | tr -d '\r')
session=$(curl -s -D - -o /dev/null -b "lcm_login=$nonce" --data-urlencode "csrf=$nonce" --data-urlencode "token=$token" \
  "$url/login" | sed -n 's/^set-cookie: lcm_session=\([^;]*\).*/\1/ip' | tr -d '\r')
[ -n "$session" ] || { echo "sign-in failed" >&2; exit 1; }
get() { curl -s -b "lcm_session=$session" "$url$1"; }
# A requester that has needs in this store (need-1's), for the filtered pages.
rq=$(get /needs/need-1 | sed -n 's/.*<dt>Requester<\/dt><dd>\([A-Z]\{3\}\)<\/dd>.*/\1/p' | head -1)
[ -n "$rq" ] || { echo "need-1 has no requester shown" >&2; exit 1; }
# A later page: follow the needs list's "next" link 40 times (page 41, from need 1 001).
later=/needs
for _ in $(seq 1 40); do
  next=$(get "$later" | sed -n 's/.*<a href="\(\/needs?[^"]*page_token=[^"]*\)" rel="next".*/\1/p' | sed 's/&amp;/\&/g')
  [ -n "$next" ] || break
  later=$next
done
[ "$later" != /needs ] || { echo "the needs list has no next page" >&2; exit 1; }
# The third page of proposals, the same way.
mlater=/matches?state=1
for _ in 1 2; do
  next=$(get "$mlater" | sed -n 's/.*<a href="\(\/matches?[^"]*page_token=[^"]*\)" rel="next".*/\1/p' | sed 's/&amp;/\&/g')
  [ -n "$next" ] && mlater=$next
done
pages=(
  /
  /needs
  "$later"
  "/needs?capability=4"
  "/needs?requester=$rq&state=1"
  "/needs?sort=needed_by"
  "/needs?sort=title&page=2000"
  "/needs?sort=-quantity&capability=2"
  "/needs?requester=$rq&sort=-needed_by&page=3"
  /offers
  "/offers?capability=4&state=1"
  "/offers?sort=-capacity&page=40"
  /matches
  "$mlater"
  /arrangements
  "/arrangements?status=1"
  /needs/need-50000
  /reports/gaps
)
printf '%-46s %8s %4s %9s %8s %8s\n' page 'first ms' n 'median ms' 'p90 ms' 'max ms'
for p in "${pages[@]}"; do
  read -r code first < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -b "lcm_session=$session" "$url$p")
  [ "$code" = 200 ] || { echo "$p answered $code" >&2; exit 1; }
  echo "$first" >"$work/first"
  for _ in $(seq 1 "$n"); do
    curl -s -o /dev/null -w '%{time_total}\n' -b "lcm_session=$session" "$url$p"
  done >"$work/times"
  python3 - "$p" "$work/times" "$work/first" <<'PY'
import statistics, sys
page, path = sys.argv[1], sys.argv[2]
first = float(open(sys.argv[3]).read()) * 1000
t = sorted(float(x) * 1000 for x in open(path) if x.strip())
p90 = t[min(len(t) - 1, int(round(0.9 * (len(t) - 1))))]
shown = page if len(page) <= 46 else page[:43] + "..."
print(f"{shown:46} {first:8.1f} {len(t):4} {statistics.median(t):9.1f} {p90:8.1f} {max(t):8.1f}")
PY
done
