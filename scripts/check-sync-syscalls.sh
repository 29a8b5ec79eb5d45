#!/usr/bin/env bash
# Power-loss check from the syscall record (issue 14). Builds lcm, starts `lcm serve`
# under `strace -f -ttt` on a fresh data directory on loopback, drives it with `lcm` CLI
# writes at every size limit (values far above sled's blob threshold) while recording the wall-clock
# time of each request and acknowledgement, then checks the trace with
# scripts/check_sync_syscalls.py: every file under the data directory written before an
# acknowledgement was fsync'ed or fdatasync'ed after its last write and before that
# acknowledgement (sled's log, which sled's flusher thread also writes once a second: the
# answer was released by a sync after the request's own writes; see that script), and every directory
# that gained an entry (create, rename, mkdir, link) was fsync'ed after that and before it
# (a removal needs no sync first: a power cut can only undo it), and that sled created no
# blob file at all (lcm keeps every value and page under sled's blob threshold). Prints
# PASS or FAIL with each violation; exits non-zero on FAIL.
#
# Environment: LCM_SYNC_WRITES (needs and offers each, default 40), LCM_SYNC_KEEP=1 keeps
# the trace and data directory for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v strace >/dev/null 2>&1; then
  echo "installing strace"
  if [[ $(id -u) -eq 0 ]]; then sudo=; else sudo=sudo; fi
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq strace >/dev/null
fi
python3 scripts/check_sync_syscalls.py selftest
cargo build --release --quiet
work=$(mktemp -d)
data=$work/data
trace=$work/trace
mkdir -p "$data"
strace -f -ttt -qq -s 0 -o "$trace" \
  -e trace=open,openat,creat,close,dup,dup2,dup3,fcntl,write,pwrite64,writev,pwritev,pwritev2,ftruncate,fallocate,fsync,fdatasync,sync,syncfs,sync_file_range,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,rmdir,link,linkat \
  ./target/release/lcm serve --listen 127.0.0.1:0 --console-listen off --data-dir "$data" --log-format json \
  >"$work/server.out" 2>"$work/server.log" &
pid=$!
# strace waits for its tracee: stop the server itself (strace's child), then strace ends.
stop_server() {
  local child
  child=$(pgrep -P $pid || true)
  if [[ -n $child ]]; then kill -TERM $child 2>/dev/null || true; fi
  wait $pid 2>/dev/null || true
}
cleanup() {
  stop_server
  wait $pid 2>/dev/null || true
  if [[ ${LCM_SYNC_KEEP:-} == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
addr=
for _ in $(seq 1 300); do
  addr=$(python3 -c '
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        v = json.loads(line)
    except ValueError:
        continue
    f = v.get("fields", v)
    if f.get("message") == "serving":
        print(f.get("addr", ""))
        break
' "$work/server.log")
  [[ -n $addr ]] && break
  sleep 0.1
done
if [[ -z $addr ]]; then
  echo "FAIL: lcm serve did not start under strace" >&2
  tail -20 "$work/server.log" >&2
  exit 1
fi
# The thread that lands writes (named by lcm): its blob files are held to the strict rule.
server=$(pgrep -P $pid)
lander=
for task in /proc/$server/task/*; do
  if [[ $(cat "$task/comm" 2>/dev/null) == lcm-lander ]]; then lander=$(basename "$task"); fi
done
if [[ -z $lander ]]; then
  echo "FAIL: no lcm-lander thread in the server" >&2
  exit 1
fi
python3 scripts/check_sync_syscalls.py drive --lcm ./target/release/lcm --addr "http://$addr" \
  --token-file "$data/admin.token" --acks "$work/acks" --writes "${LCM_SYNC_WRITES:-40}"
stop_server
# lcm stores long values in pieces so that sled writes no blob file at all (docs/STORAGE.md):
# any blob file created is a failure, whether or not it was synced in time.
python3 scripts/check_sync_syscalls.py check --trace "$trace" --acks "$work/acks" --data-dir "$data" \
  --max-blob-files 0 --landing-tids "$lander"
