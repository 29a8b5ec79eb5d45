#!/usr/bin/env bash
# Starts a fresh server on loopback and runs ../shared/conformance/check_contract.py
# against it through gRPC reflection; arguments (e.g. --with-2026-12) go to the checker
# (LCM_CONTRACT_CHECKER overrides its path, e.g. from a git worktree). Installs grpcio in
# a private venv if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
checker=${LCM_CONTRACT_CHECKER:-../shared/conformance/check_contract.py}
if [[ ! -f $checker ]]; then
  echo "no $checker here; skipping the contract check" >&2
  exit 0
fi
venv=${LCM_CI_VENV:-target/ci-venv}
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import grpc, grpc_reflection' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check grpcio grpcio-reflection protobuf
fi
cargo build --release --quiet
data=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
./target/release/lcm serve --listen "127.0.0.1:$port" --console-listen off --data-dir "$data" >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  if "$venv/bin/python" - "$port" <<'PY' 2>/dev/null; then break; fi
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
PY
  sleep 0.1
done
# Extra arguments (e.g. --with-2026-12) go to the checker.
"$venv/bin/python" "$checker" "$@" "127.0.0.1:$port"
kill -TERM $pid
wait $pid
echo "server shut down cleanly"
