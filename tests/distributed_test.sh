#!/usr/bin/env bash
# axon train under mpirun, end to end: the same model as one process at the same global
# batch, checkpoints resumed across rank counts (2 -> 1, 1 -> 2), and a job that loses a
# rank (killed, or stopped so it hangs) ending every rank with an error in bounded time
# while the last checkpoint stays good.
# Usage: tests/distributed_test.sh PATH_TO_AXON PATH_TO_MPIRUN
set -u
axon=$1
mpirun=$2
work=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2> /dev/null; rm -rf "$work"' EXIT
passes=0
failures=0
pass() { echo "ok: $1"; passes=$((passes + 1)); }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
check() {  # check DESCRIPTION EXPECTED_CODE ACTUAL_CODE
  if [ "$2" != "$3" ]; then fail "$1 (exit $3, expected $2)"; else pass "$1"; fi
}
contains() {  # contains DESCRIPTION FILE TEXT
  if grep -q -- "$3" "$2"; then pass "$1"; else fail "$1: '$3' not in:"; cat "$2"; fi
}
# Local ranks over shared memory, one thread each; root may run them (CI containers).
mpi() {
  "$mpirun" --allow-run-as-root --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none \
    -x AXON_NUM_THREADS=1 "$@"
}
# close DESCRIPTION A.csv B.csv: every value within 1e-4 (the runs differ in float rounding only).
close() {
  if paste -d, "$2" "$3" | awk -F, 'NR > 1 { h = NF / 2; for (i = 1; i <= h; i++) { d = $i - $(i + h); if (d > 1e-4 || d < -1e-4) bad = 1 } } END { exit bad }'; then
    pass "$1"
  else
    fail "$1"; paste -d, "$2" "$3" | head -5
  fi
}
# The pid of rank R of the job started from this script (its environment names the rank).
rank_pid() {
  for pid in $(pgrep -x axon); do
    if { tr "\0" "\n" < "/proc/$pid/environ"; } 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then echo "$pid"; return; fi
  done
}

source "$(dirname "$0")/classifier_fixture.sh"
train() { "$axon" train --model "$work/spec.json" --data "csv:$work/train.csv?label=label" --seed 2 "$@"; }
train_on_2() { mpi -np 2 "$axon" train --model "$work/spec.json" --data "csv:$work/train.csv?label=label" --seed 2 "$@"; }
predict() { "$axon" predict --model "$1" --input "$work/inputs.csv" --proba > "$2"; }

train --epochs 5 --batch-size 64 --out "$work/one.safetensors" > /dev/null 2>&1; check "one process trains" 0 $?
predict "$work/one.safetensors" "$work/one.csv"

# 2 ranks x 32 = 1 process x 64. No new flag: mpirun is enough.
train_on_2 --epochs 5 --batch-size 32 --verbose 2 --out "$work/two.safetensors" > "$work/two.out" 2> "$work/two.err"
check "mpirun -np 2 axon train" 0 $?
[ "$(grep -c "Epoch 5/5" "$work/two.out")" = 1 ]; check "only rank 0 prints the epochs" 0 $?
[ "$(grep -c "saved" "$work/two.err")" = 1 ]; check "only rank 0 writes the model" 0 $?
contains "an epoch is 7 global steps of 64" "$work/two.out" "Epoch 5/5 - 7 steps"
predict "$work/two.safetensors" "$work/two.csv"
close "2 ranks x 32 predict as 1 process x 64" "$work/two.csv" "$work/one.csv"

# Checkpoints written by 2 ranks resume on 1, and the other way round.
train_on_2 --epochs 2 --batch-size 32 --checkpoint "$work/ck2" --out "$work/half.safetensors" > /dev/null 2>&1
check "2 ranks write a checkpoint" 0 $?
train --epochs 5 --batch-size 64 --checkpoint "$work/ck2" --resume --out "$work/r21.safetensors" > "$work/r21.err" 2>&1
check "1 process resumes it" 0 $?
contains "resumed after epoch 2" "$work/r21.err" "resuming after epoch 2"
predict "$work/r21.safetensors" "$work/r21.csv"
close "2 -> 1 resumed predicts as straight" "$work/r21.csv" "$work/one.csv"
train --epochs 2 --batch-size 64 --checkpoint "$work/ck1" --out "$work/half1.safetensors" > /dev/null 2>&1
train_on_2 --epochs 5 --batch-size 32 --checkpoint "$work/ck1" --resume --out "$work/r12.safetensors" > /dev/null 2> "$work/r12.err"
check "2 ranks resume 1 process's checkpoint" 0 $?
[ "$(grep -c "resuming after epoch 2" "$work/r12.err")" = 1 ]; check "rank 0 says where it resumes" 0 $?
predict "$work/r12.safetensors" "$work/r12.csv"
close "1 -> 2 resumed predicts as straight" "$work/r12.csv" "$work/one.csv"

# lose_rank SIGNAL TIMEOUT: a long run with a checkpoint every epoch and a collective
# timeout of TIMEOUT s; once a checkpoint exists, rank 1 gets SIGNAL. Sets $code
# (mpirun's exit) and $seconds (from the signal to the job's end).
lose_rank() {
  rm -rf "$work/ckf"
  AXON_COLLECTIVE_TIMEOUT=$2 mpi -np 2 -x AXON_COLLECTIVE_TIMEOUT "$axon" train --model "$work/spec.json" \
    --data "csv:$work/train.csv?label=label" --epochs 100000 --batch-size 8 --verbose 0 --checkpoint "$work/ckf" \
    --out "$work/never.safetensors" > "$work/lost.out" 2>&1 &
  local job=$! pid=""
  for _ in $(seq 200); do
    [ -f "$work/ckf/checkpoint.safetensors" ] && pid=$(rank_pid 1) && [ -n "$pid" ] && break
    sleep 0.05
  done
  [ -n "$pid" ] || { fail "the run with a checkpoint started"; kill -9 "$job"; return; }
  local start=$SECONDS
  kill "-$1" "$pid"
  wait "$job"
  code=$?
  seconds=$((SECONDS - start))
  kill -9 "$pid" 2> /dev/null
}
checkpoint_good() {  # the checkpoint left behind is whole: it loads and scores
  "$axon" evaluate --model "$work/ckf/checkpoint.safetensors" --data "csv:$work/train.csv?label=label" \
    > "$work/after.out" 2>&1
  check "$1: the last checkpoint loads and evaluates" 0 $?
}

lose_rank KILL 300
[ "$code" != 0 ]; check "a killed rank fails the job" 0 $?
[ "$seconds" -le 20 ]; check "within 20 s (took $seconds s)" 0 $?
checkpoint_good "killed rank"

lose_rank STOP 3
[ "$code" != 0 ]; check "a hung rank fails the job" 0 $?
[ "$seconds" -le 20 ]; check "within the 3 s timeout and the teardown (took $seconds s)" 0 $?
contains "the waiting rank says why" "$work/lost.out" "got no answer from the other ranks within 3 s"
checkpoint_good "hung rank"

echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
