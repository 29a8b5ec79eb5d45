#!/usr/bin/env bash
# Runs examples/training_centre.py against a freshly started server with the demo loaded
# (scripts/check_centre_example.py drives it): the centre sees exactly the events of the
# arrangements it hosts, resumes after restarts with no gap and no repeat, and the outcome
# it records shows in the gender report. Installs grpcio in a private venv if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${LCM_CI_VENV:-target/ci-venv}
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import grpc, grpc_reflection, grpc_tools' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check grpcio grpcio-tools grpcio-reflection protobuf
fi
cargo build --release --quiet
"$venv/bin/python" scripts/check_centre_example.py target/release/lcm
