#!/usr/bin/env bash
# Single-sample (and batch-64) predict latency of the Fashion-MNIST MLP in process:
# axon at 1 and 2 threads (Google Benchmark, median of 5) beside PyTorch from Python
# at 1 thread, and the ratio of the batch-1 figures.
# Usage: bench/predict.sh
source "$(dirname "$0")/lib.sh"
build bench_predict

axon=$(build/bench/bench_predict --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null |
  awk -F, '/_median"/ { name = $1; gsub(/"/, "", name); printf "%s %.2f\n", name, $3 / 1000 }')
torch_us=$(torch 1 bench/predict_torch.py)
echo "$axon" | awk '{ printf "axon %-45s %8.2f us\n", $1, $2 }'
echo "torch batch:1 threads:1 (from Python)                   $torch_us us"
one=$(echo "$axon" | awk '$1 ~ /batch:1\/threads:1/ { print $2 }')
echo "batch 1, 1 thread: axon / PyTorch = $(ratio "$one" "$torch_us")"
