#!/usr/bin/env bash
# Training on a busy machine: the Fashion-MNIST MLP (full epochs) and CNN (a prefix of
# the training set) at 2 threads, quiet and then beside one single-threaded busy
# process that this script starts and stops itself, for axon and PyTorch. Prints the
# seconds per epoch (median) of each and the busy / quiet slowdown.
# The first line is the floor that the scheduler sets (two_loops below): about 1.5x.
# Usage: bench/contention.sh [MLP_EPOCHS] [CNN_IMAGES]   (defaults 3 and 12000)
source "$(dirname "$0")/lib.sh"
mlp_epochs=${1:-3}
cnn_images=${2:-12000}
build bench_mlp bench_cnn

busy_pid=""
busy_start() {
  sh -c 'while :; do :; done' &
  busy_pid=$!
}
busy_stop() {
  [ -n "$busy_pid" ] && kill "$busy_pid" 2> /dev/null && wait "$busy_pid" 2> /dev/null || true
  busy_pid=""
}
trap busy_stop EXIT

# run LABEL COMMAND...: the median s/epoch of the command's one-line report.
median_of() { field median "$("$@")"; }
mlp_axon() { AXON_NUM_THREADS=2 build/bench/bench_mlp "$mlp_epochs"; }
mlp_torch() { torch 2 bench/mlp_torch.py "$mlp_epochs" 2; }
cnn_axon() { AXON_NUM_THREADS=2 build/bench/bench_cnn 3 0 "$cnn_images"; }
cnn_torch() { torch 2 bench/cnn_torch.py 3 2 0 "$cnn_images"; }

# The floor: two independent single-threaded loops (no barrier, nothing shared), in
# seconds, the median of 3. Linux shares 2 CPUs evenly among the 3 runnable threads,
# so any 2-thread job gets 4/3 of a CPU beside the busy process: 1.5x, not 1.33x.
two_loops() {
  local times=() start a b
  for run in 1 2 3; do
    start=$(date +%s.%N)
    awk 'BEGIN { for (i = 0; i < 1e8; ++i) s += i }' & a=$!
    awk 'BEGIN { for (i = 0; i < 1e8; ++i) s += i }' & b=$!
    wait "$a" "$b"
    times+=("$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')")
  done
  echo "two_loops median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)"
}

printf '%-34s %10s %10s %9s\n' "2 threads, s/epoch (median)" quiet busy "busy/quiet"
for bench in two_loops mlp_axon mlp_torch cnn_axon cnn_torch; do
  quiet=$(median_of $bench)
  busy_start
  busy=$(median_of $bench)
  busy_stop
  printf '%-34s %10s %10s %9s\n' "$bench" "$quiet" "$busy" "$(ratio "$busy" "$quiet")"
done
