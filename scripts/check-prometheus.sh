#!/usr/bin/env bash
# A real Prometheus scrapes a real lcm on loopback: `promtool check metrics` validates the
# exposition, and the request counts Prometheus stores after known calls equal those calls.
# Installs Debian's prometheus package if it is missing (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  echo "installing prometheus (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
fi
cargo build --release --quiet
lcm=$PWD/target/release/lcm
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 300); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()' "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}
grpc_port=$(free_port); metrics_port=$(free_port); prom_port=$(free_port)
"$lcm" serve --listen "127.0.0.1:$grpc_port" --console-listen off --metrics-listen "127.0.0.1:$metrics_port" \
  --data-dir "$work/data" >"$work/lcm.log" 2>&1 &
pids+=($!)
wait_port "$grpc_port"; wait_port "$metrics_port"
export LCM_ADDR="127.0.0.1:$grpc_port" LCM_TOKEN_FILE="$work/data/admin.token"
unset LCM_TOKEN

# Known calls: 3 CreateNeed, 2 GetNeed that succeed, 1 GetNeed of a need that does not exist.
for i in 1 2 3; do
  "$lcm" needs create --requester UGA --category TRAINING --capability MEDICAL --title "Field medics $i" \
    --quantity 12 --women-quantity 4 --languages en --needed-by +120 --priority HIGH --pledge-level LEVEL_2 >/dev/null
done
"$lcm" needs get need-1 >/dev/null
"$lcm" needs get need-2 >/dev/null
if "$lcm" needs get need-999 >/dev/null 2>&1; then echo "need-999 should not exist" >&2; exit 1; fi

python3 - "$metrics_port" >"$work/exposition.txt" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10).read().decode(), end="")
PY
echo "promtool check metrics:"
promtool check metrics <"$work/exposition.txt"

cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: lcm
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YML
promtool check config "$work/prometheus.yml" >/dev/null
prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/tsdb" \
  --web.listen-address "127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
wait_port "$prom_port"

python3 - "$prom_port" <<'PY'
import json, sys, time, urllib.parse, urllib.request
port = sys.argv[1]
def query(q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    data = json.load(urllib.request.urlopen(url, timeout=5))
    assert data["status"] == "success", data
    return [(r["metric"], float(r["value"][1])) for r in data["data"]["result"]]
expected = {
    ('CreateNeed', 'OK'): 3,
    ('GetNeed', 'OK'): 2,
    ('GetNeed', 'NOT_FOUND'): 1,
}
deadline = time.time() + 60
while True:
    got = {}
    try:
        for metric, value in query('lcm_grpc_requests_total{job="lcm",service="lcm.v1.NeedService"}'):
            got[(metric["method"], metric["code"])] = value
        up = query('up{job="lcm"}')
    except Exception as e:  # Prometheus still starting
        got, up = {}, []
    if got == expected and up and up[0][1] == 1:
        break
    if time.time() > deadline:
        print(f"Prometheus stored {got} (up={up}); expected {expected}", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.5)
print("Prometheus scraped lcm: lcm_grpc_requests_total by method and code =", got)
for name in ["lcm_seats_demanded", "lcm_seats_open"]:
    value = query(name + '{job="lcm"}')
    assert value and value[0][1] == 36, (name, value)
print("lcm_seats_demanded = lcm_seats_open = 36 (three needs of 12 seats)")
PY
echo "prometheus check passed"
