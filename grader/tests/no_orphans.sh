#!/usr/bin/env bash
# No server outlives the grader (DESIGN §6): not when the grader is
# interrupted (SIGINT, as Ctrl-C), and not when it is killed outright
# (SIGKILL: the servers' parent-death signal must take them down).
# Usage: no_orphans.sh GRADER_BINARY
set -euo pipefail
grader=$1

wait_until() {  # wait_until SECONDS COMMAND...: poll until COMMAND succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

for signal in INT KILL; do
  # many_connections keeps a server up long enough to be seen; 200 runs
  # are far more than the seconds this test waits.
  "$grader" lab01 --reference --no-build --test many_connections --runs 200 \
    --seed 1 > /dev/null 2>&1 &
  grader_pid=$!
  servers=""
  find_servers() { servers=$(pgrep -P "$grader_pid" | tr '\n' ' ') && [ -n "$servers" ]; }
  wait_until 60 find_servers ||
    { echo "FAIL: the grader never started a server"; kill -9 "$grader_pid"; exit 1; }
  kill -"$signal" "$grader_pid"
  wait "$grader_pid" 2>/dev/null || true
  gone() { for pid in $servers; do kill -0 "$pid" 2>/dev/null && return 1; done; return 0; }
  if ! wait_until 10 gone; then
    echo "FAIL: after SIG$signal to the grader, server(s) $servers still run"
    kill -9 $servers 2>/dev/null || true
    exit 1
  fi
  echo "SIG$signal: the grader's servers ($servers) are gone"
done
