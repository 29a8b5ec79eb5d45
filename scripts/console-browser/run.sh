#!/usr/bin/env bash
# The console's browser suite: for each language, a fresh `lcm serve --demo` on free
# loopback ports, then walk.mjs in Debian's headless Chromium. Needs chromium and node
# (`.ci/run` installs them) and target/release/lcm. Screenshots: target/console-screens/.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
bin=${LCM_BIN:-$root/target/release/lcm}
[ -x "$bin" ] || { echo "no $bin: run cargo build --release first" >&2; exit 1; }
[ -d node_modules/playwright-core ] && [ -d node_modules/axe-core ] || npm ci --no-audit --no-fund --loglevel=error
screens=$root/target/console-screens
rm -rf "$screens"
mkdir -p "$screens"
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
for lang in en fr; do
  grpc=$(free_port); web=$(free_port)
  "$bin" serve --demo --listen "127.0.0.1:$grpc" --console-listen "127.0.0.1:$web" --data-dir "$work/$lang" \
    >"$work/$lang.banner" 2>"$work/$lang.log" &
  pid=$!
  for _ in $(seq 1 300); do grep -q "Web console:" "$work/$lang.banner" 2>/dev/null && break; sleep 0.1; done
  grep -q "Web console:" "$work/$lang.banner" || { cat "$work/$lang.log" >&2; echo "the server did not start" >&2; exit 1; }
  LCM_LANG=$lang CONSOLE_URL="http://127.0.0.1:$web" GRPC_ADDR="127.0.0.1:$grpc" LCM_BIN="$bin" \
    SCREENS="$screens" BANNER="$work/$lang.banner" node walk.mjs
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
echo "console browser suite passed (screenshots in $screens)"
