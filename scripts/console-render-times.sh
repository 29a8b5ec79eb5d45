#!/usr/bin/env bash
# Server-side render time of each console page on the demo store: starts a fresh
# `lcm serve --demo` (console logs at debug), signs in as the Secretariat with curl,
# proposes and approves nothing, requests each page N times (default 30), and prints the
# median and maximum `latency_us` the console logged per page (middleware to response,
# i.e. the service calls plus rendering, without the network).
# With FILL=100000 the store is instead filled with that many needs (and as many offers)
# by `lcm bench-store fill`, and the list pages are measured on it.
# Usage: [FILL=NEEDS] scripts/console-render-times.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-30}
bin=target/release/lcm
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
grpc=$(port); web=$(port)
demo=--demo
if [ -n "${FILL:-}" ]; then
  "$bin" bench-store fill --data-dir "$work/data" --needs "$FILL" --offers "$FILL" >/dev/null
  demo=
fi
LCM_LOG=lcm=debug "$bin" serve $demo --log-format json --listen "127.0.0.1:$grpc" --console-listen "127.0.0.1:$web" \
  --data-dir "$work/data" >"$work/banner" 2>"$work/log" &
pid=$!
for _ in $(seq 1 600); do grep -q "Web console:" "$work/banner" 2>/dev/null && break; sleep 0.1; done
token=$(cat "$work/data/admin.token")
[ -n "$demo" ] && LCM_ADDR="127.0.0.1:$grpc" LCM_TOKEN="$token" "$bin" match propose >/dev/null
url="http://127.0.0.1:$web"
nonce=$(curl -s -D - -o /dev/null "$url/login" | sed -n 's/^set-cookie: lcm_login=\([^;]*\).*/\1/ip' | tr -d '\r')
session=$(curl -s -D - -o /dev/null -b "lcm_login=$nonce" --data-urlencode "csrf=$nonce" --data-urlencode "token=$token" "$url/login" \
  | sed -n 's/^set-cookie: lcm_session=\([^;]*\).*/\1/ip' | tr -d '\r')
pages=(/ /needs /needs/need-3 /offers /offers/offer-4 /matches /arrangements /reports/gaps /reports/gender
  /reports/deconfliction /events /principals)
[ -n "$demo" ] || pages=(/needs /needs/need-3 /offers /offers/offer-4)
for _ in $(seq 1 "$n"); do
  for p in "${pages[@]}"; do curl -s -o /dev/null -b "lcm_session=$session" "$url$p"; done
done
sleep 0.5
python3 - "$work/log" "${pages[@]}" <<'PY'
import json, statistics, sys
log, pages = sys.argv[1], sys.argv[2:]
times = {p: [] for p in pages}
for line in open(log):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    f = e.get("fields", {})
    if f.get("message") == "console" and f.get("method") == "GET" and f.get("path") in times and f.get("status") == 200:
        times[f["path"]].append(f["latency_us"] / 1000)
print(f"{'page':28} {'n':>4} {'median ms':>10} {'max ms':>8}")
for p, t in times.items():
    if t:
        print(f"{p:28} {len(t):4} {statistics.median(t):10.2f} {max(t):8.2f}")
PY
