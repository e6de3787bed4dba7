#!/usr/bin/env bash
# The student's workflow on a scratch copy of the repository, as DESIGN §2
# requires: `grader start lab01` makes a starter that builds, whose unit
# tests and grader run fail with messages naming the parts to write, and
# `grader diff` shows it against the reference.
# Usage: starter_builds.sh REPO_ROOT GRADER_BINARY
set -euo pipefail
repo=$1
grader=$2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/kvlab-starter.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# A checkout without build products or student copies.
tar -C "$repo" --exclude=./build --exclude=./student --exclude=./.git -cf - . |
  tar -C "$scratch" -xf -
export KVLAB_ROOT=$scratch

"$grader" start lab01 > "$scratch/start.out"
grep -q "parts for you to write" "$scratch/start.out"
if "$grader" start lab01 > /dev/null 2>&1; then
  echo "FAIL: a second 'grader start lab01' overwrote the student's copy"; exit 1
fi
grep -q 'throw kv::NotImplemented("lab01: Store::set' "$scratch/student/01-tcp-kv/store.cc"
if grep -q "insert_or_assign" "$scratch/student/01-tcp-kv/store.cc"; then
  echo "FAIL: the starter still holds the reference's Store::set"; exit 1
fi

# It builds (grader builds what it grades), and fails pointing at the stubs.
set +e
"$grader" --preset debug lab01 --test ping --seed 1 > "$scratch/grade.out" 2>&1
status=$?
set -e
cat "$scratch/grade.out"
[ "$status" -eq 1 ] || { echo "FAIL: grader exited $status on the starter, expected 1"; exit 1; }
grep -q "grading your copy student/01-tcp-kv" "$scratch/grade.out"
grep -q "not written yet: not implemented: lab01: EventLoop::run" "$scratch/grade.out"

cmake --build "$scratch/build/debug" --target student-lab01_tests > /dev/null
set +e
"$scratch/build/debug/bin/student-lab01_tests" --gtest_filter='StoreTest.*' > "$scratch/unit.out" 2>&1
status=$?
set -e
[ "$status" -ne 0 ] || { echo "FAIL: the starter's unit tests passed"; exit 1; }
grep -q "not implemented: lab01: Store::set" "$scratch/unit.out"

"$grader" diff lab01 > "$scratch/diff.out"
grep -q '^-  map_.insert_or_assign' "$scratch/diff.out"
echo "starter: builds, fails naming the parts to write, diff works"

# Lab 02 on the reference lab 01 (the student's lab 01 here is a bare
# starter): its starter builds, and the server stops at recovery, the
# first part a start reaches, naming it.
rm -rf "$scratch/student/01-tcp-kv"
"$grader" start lab02 > "$scratch/start02.out"
grep -q "parts for you to write" "$scratch/start02.out"
grep -q 'throw kv::NotImplemented("lab02: WalWriter::commit' "$scratch/student/02-wal/wal_writer.cc"
set +e
"$grader" --preset debug lab02 --test power_cut_after_ack --seed 1 > "$scratch/grade02.out" 2>&1
status=$?
set -e
cat "$scratch/grade02.out"
[ "$status" -eq 1 ] || { echo "FAIL: grader exited $status on the lab02 starter, expected 1"; exit 1; }
grep -q "grading your copy student/02-wal" "$scratch/grade02.out"
grep -q "not implemented: lab02: recover" "$scratch/grade02.out"
"$grader" diff lab02 > "$scratch/diff02.out"
grep -q '^-  writer_->append(encoded_);' "$scratch/diff02.out"
echo "lab02 starter: builds, fails naming the parts to write, diff works"

# Lab 03 on the references of labs 01 and 02: the starter builds its
# server and its client driver; the server tests fail at the request loop,
# the client tests at the first part of the library a call reaches.
rm -rf "$scratch/student/02-wal"
"$grader" start lab03 > "$scratch/start03.out"
grep -q "parts for you to write" "$scratch/start03.out"
grep -q 'throw kv::NotImplemented("lab03: exchange' "$scratch/student/03-client/client.cc"
set +e
"$grader" --preset debug lab03 --test multibulk_requests --test client_basic_calls \
  --seed 1 > "$scratch/grade03.out" 2>&1
status=$?
set -e
cat "$scratch/grade03.out"
[ "$status" -eq 1 ] || { echo "FAIL: grader exited $status on the lab03 starter, expected 1"; exit 1; }
grep -q "grading your copy student/03-client" "$scratch/grade03.out"
grep -q "not implemented: lab03: serve_requests" "$scratch/grade03.out"
grep -q "ping(): not implemented: lab03: Pipeline::add" "$scratch/grade03.out"
"$grader" diff lab03 > "$scratch/diff03.out"
grep -q '^-  fd_.reset();' "$scratch/diff03.out"
echo "lab03 starter: builds, fails naming the parts to write, diff works"

# Lab 04 on the references of labs 01-03: the starter builds; the first
# follower to connect reaches the leader's plan_sync, which names itself.
rm -rf "$scratch/student/03-client"
"$grader" start lab04 > "$scratch/start04.out"
grep -q "parts for you to write" "$scratch/start04.out"
grep -q 'throw kv::NotImplemented("lab04: plan_sync' "$scratch/student/04-leader-follower/position.cc"
set +e
"$grader" --preset debug lab04 --test follower_gets_writes --seed 1 > "$scratch/grade04.out" 2>&1
status=$?
set -e
cat "$scratch/grade04.out"
[ "$status" -eq 1 ] || { echo "FAIL: grader exited $status on the lab04 starter, expected 1"; exit 1; }
grep -q "grading your copy student/04-leader-follower" "$scratch/grade04.out"
grep -q "not implemented: lab04: plan_sync" "$scratch/grade04.out"
"$grader" diff lab04 > "$scratch/diff04.out"
grep -q '^-  uint64_t shared_until = 0;' "$scratch/diff04.out"
echo "lab04 starter: builds, fails naming the parts to write, diff works"

# Lab 05's core: the starter builds; its unit tests fail at the first part
# a cluster reaches (part A's tick), naming it, and so does every test of
# the core suite (lab05-sim), each naming the part it grades.
rm -rf "$scratch/student/04-leader-follower"
"$grader" start lab05 > "$scratch/start05.out"
grep -q "parts for you to write" "$scratch/start05.out"
for part in "Part A" "Part B" "Part C" "Part D"; do
  grep -q "lab05: $part" "$scratch/student/05-raft/raft_core.cc" ||
    { echo "FAIL: no region of lab05 $part in the starter"; exit 1; }
done
if grep -q "return rv.last_log_term() > log_.last_term();" "$scratch/student/05-raft/raft_core.cc"; then
  echo "FAIL: the lab05 starter still holds the reference's vote check"; exit 1
fi
cmake --build "$scratch/build/debug" --target student-lab05_tests > /dev/null
set +e
"$scratch/build/debug/bin/student-lab05_tests" > "$scratch/unit05.out" 2>&1
status=$?
set -e
[ "$status" -ne 0 ] || { echo "FAIL: the lab05 starter's unit tests passed"; exit 1; }
grep -q "not implemented: lab05: Part A: tick" "$scratch/unit05.out"
# The core suite on the starter: every test fails, naming its part and the
# first stub it reached.
set +e
"$grader" --preset debug lab05 --quick --seed 1 > "$scratch/grade05.out" 2>&1
status=$?
set -e
tail -n 20 "$scratch/grade05.out"
[ "$status" -eq 1 ] || { echo "FAIL: grader exited $status on the lab05 starter, expected 1"; exit 1; }
grep -q "grading your copy student/05-raft" "$scratch/grade05.out"
grep -q "lab05: 0 passed" "$scratch/grade05.out" ||
  { echo "FAIL: a lab05 core test passed on the starter"; exit 1; }
for part in A B C D; do
  grep -q "(a part $part test) the core threw: not implemented: lab05: Part A: tick" \
    "$scratch/grade05.out" ||
    { echo "FAIL: no part $part test named its stub"; exit 1; }
done
"$grader" diff lab05 > "$scratch/diff05.out"
grep -q '^-  return rv.last_log_index() >= log_.last_index();' "$scratch/diff05.out"
echo "lab05 starter: builds, unit tests and core suite fail naming the parts, diff works"
