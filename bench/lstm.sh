#!/usr/bin/env bash
# An LSTM layer's forward + backward pass (batch 64, 128 steps, 256 units, input 64,
# every step's output), axon beside PyTorch's nn.LSTM at 1 and 2 threads: median ms and
# axon / PyTorch's best thread setting (the issue's goal: <= 0.7).
# Usage: bench/lstm.sh [RUNS]
source "$(dirname "$0")/lib.sh"
runs=${1:-10}
build bench_lstm
best_torch=""
for threads in 1 2; do
  t=$(torch "$threads" bench/lstm_torch.py "$threads" "$runs")
  echo "$t"
  ms=$(field ms " $t")
  if [ -z "$best_torch" ] || awk "BEGIN { exit !($ms < $best_torch) }"; then best_torch=$ms; fi
done
for threads in 1 2; do
  a=$(AXON_NUM_THREADS=$threads build/bench/bench_lstm "$runs")
  echo "$a    axon / PyTorch's best = $(ratio "$(field ms " $a")" "$best_torch")"
done
