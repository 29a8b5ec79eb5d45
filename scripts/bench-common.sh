# Sourced by the bench scripts: a scratch directory, servers started in it, and cleanup.
# Expects $bin (the directory of the release binaries).
work=$(mktemp -d -p "${TMPDIR:-/tmp}" lcm-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# wait_port PORT: until something listens on 127.0.0.1:PORT (at most a minute).
wait_port() {
  for _ in $(seq 1 1200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# start_lcm NAME PORT [serve flags...]: a server on $work/NAME (its admin token in
# $work/NAME/admin.token); its pid is the last of $pids.
start_lcm() {
  local name=$1 port=$2
  shift 2
  "$bin/lcm" serve --listen "127.0.0.1:$port" --console-listen off --data-dir "$work/$name" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
}

# start_lcm_any DATA_DIR [serve flags...]: a server on DATA_DIR listening on a port of the
# system's choice, logging JSON to $work/server.log; sets $addr from its `serving` line and
# appends its pid to $pids.
start_lcm_any() {
  local data=$1
  shift
  "$bin/lcm" serve --listen 127.0.0.1:0 --console-listen off --data-dir "$data" --log-format json "$@" \
    >"$work/server.out" 2>"$work/server.log" &
  pids+=($!)
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
    [[ -n $addr ]] && return 0
    sleep 0.1
  done
  echo "lcm serve did not start" >&2
  tail -5 "$work/server.log" >&2
  return 1
}
