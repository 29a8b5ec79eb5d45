#!/usr/bin/env bash
# Two stored proposals one after the other on a fresh 100k x 100k store: each request's time
# (the server's slow-request line), the phases of the staging, the disk written.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/release}
d=$(mktemp -d -p "${TMPDIR:-/tmp}" lcm-propose.XXXXXX)
"$bin/lcm" bench-store fill --data-dir "$d/data" --needs 100000 --offers 100000 --synthetic-seed 1 --batch 2000 >/dev/null 2>&1
"$bin/lcm" serve --listen 127.0.0.1:50077 --console-listen off --data-dir "$d/data" --log-format json 2>"$d/server.log" >/dev/null &
pid=$!
for _ in $(seq 1 600); do grep -q '"serving"' "$d/server.log" && break; sleep 0.1; done
token=$(cat "$d/data/admin.token")
before=$(du -sb "$d/data" | cut -f1)
for i in 1 2; do
  w0=$(awk '/^write_bytes/ {print $2}' /proc/$pid/io)
  "$bin/lcm" loadtest --addr 127.0.0.1:50077 --token "$token" --json --quiet --workload propose --concurrency 1 --connections 1 --duration-s 1 >/dev/null 2>&1 || true
  w1=$(awk '/^write_bytes/ {print $2}' /proc/$pid/io)
  echo "proposal $i: disk written $(( (w1 - w0) / 1000000 )) MB"
done
after=$(du -sb "$d/data" | cut -f1)
echo "store $((before/1000000)) -> $((after/1000000)) MB"
grep -h '"proposal staged"\|ProposeMatches' "$d/server.log" | grep -h 'proposal staged\|slow request' | python3 -c '
import json,sys
for l in sys.stdin:
    v=json.loads(l); f=v["fields"]; f.pop("message",None); print(v["timestamp"][11:23], f)'
kill $pid; wait $pid 2>/dev/null || true
rm -rf "$d"
