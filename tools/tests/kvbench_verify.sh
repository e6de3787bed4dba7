#!/usr/bin/env bash
# kvbench --verify must catch a server that returns stale values and pass a
# correct one. The stale server is the grader's known bug set_keeps_first
# (SET of an existing key answers +OK but keeps the old value), built the way
# `grader selftest` builds it; the correct one is the reference lab01-server.
# Usage: kvbench_verify.sh GRADER KVBENCH BIN_DIR
set -euo pipefail
grader=$1
kvbench=$2
bin=$3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/kvbench-verify.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# Builds bug-set_keeps_first-lab01-server and checks the grader catches it.
"$grader" selftest --lab lab01 --bug set_keeps_first >"$scratch/selftest.out" 2>&1 ||
  { cat "$scratch/selftest.out"; echo "FAIL: grader selftest --bug set_keeps_first"; exit 1; }

# Starts a server on a port of its choosing and sets $port from its
# "listening on 127.0.0.1:PORT" log line. Called directly, not in $(...):
# the server must neither hold a command substitution's pipe open nor be
# lost to the cleanup trap.
start() {
  local binary=$1 log=$2
  "$binary" --listen 127.0.0.1:0 >/dev/null 2>"$log" &
  pids+=($!)
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
    if [ -n "$port" ]; then return; fi
    sleep 0.1
  done
  echo "FAIL: $binary did not start; its log:" >&2; cat "$log" >&2; exit 1
}

run_verify() {
  # A small key space and a read-heavy mix: every key is overwritten many
  # times, so a SET that keeps the old value is read back at once.
  "$kvbench" --server "127.0.0.1:$1" --verify -c 4 -P 8 -n 20000 \
    --warmup 0s --keys 64 --read-ratio 0.5 --quiet
}

start "$bin/bug-set_keeps_first-lab01-server" "$scratch/stale.log"
set +e
run_verify "$port" >"$scratch/stale.out" 2>&1
status=$?
set -e
cat "$scratch/stale.out"
[ "$status" -eq 1 ] ||
  { echo "FAIL: kvbench --verify exited $status on a stale server, expected 1"; exit 1; }
grep -qi "stale" "$scratch/stale.out" ||
  { echo "FAIL: kvbench --verify did not report stale reads"; exit 1; }

start "$bin/lab01-server" "$scratch/reference.log"
run_verify "$port" >"$scratch/reference.out" 2>&1 ||
  { cat "$scratch/reference.out"; echo "FAIL: kvbench --verify failed on the reference"; exit 1; }
echo "kvbench --verify: caught set_keeps_first, passed the reference"
