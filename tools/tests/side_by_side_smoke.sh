#!/usr/bin/env bash
# tools/side-by-side end to end, with cells short enough for CI: it prints
# both tables (16 rows, their ratios) and leaves no server behind.
# Nothing is asserted about speed. Usage: side_by_side_smoke.sh REPO_ROOT BUILD_DIR
set -euo pipefail
root=$1
build=$2
out=$(mktemp "${TMPDIR:-/tmp}/side-by-side-smoke.XXXXXX")
trap 'rm -f "$out"' EXIT

"$root/tools/side-by-side" --build-dir "$build" --duration 300ms --warmup 100ms \
  >"$out" 2>&1 || { cat "$out"; echo "FAIL: side-by-side exited non-zero"; exit 1; }
cat "$out"
# 12 closed-loop rows and 4 open-loop rows, each with its three ratios.
rows=$(grep -cE '^(SET|GET) +[0-9]+ +[0-9]+ \| +[0-9]+ +[0-9.]+ +[0-9.]+ \| +[0-9]+ +[0-9.]+ +[0-9.]+ \|( +([0-9.]+|n/a)){3}$' "$out")
[ "$rows" -eq 16 ] || { echo "FAIL: expected 16 table rows, got $rows"; exit 1; }
# Every server it started was on a port it chose and ran from build/ or as
# redis-server with --save ''; none may outlive it.
if pgrep -f "$build/bin/lab01-server --listen 127.0.0.1:" >/dev/null ||
   pgrep -f "redis-server.*--save" >/dev/null; then
  echo "FAIL: a server started by side-by-side is still running"; exit 1
fi
echo "side-by-side: full table, nothing left running"
