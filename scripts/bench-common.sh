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
