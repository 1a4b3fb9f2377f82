#!/usr/bin/env bash
# Causal self-attention forward + backward (batch 32, 4 heads of 32) at 128, 256 and 512
# steps: axon's fused op in its plain form (probabilities kept) and tiled (online
# softmax, FlashAttention's memory), beside PyTorch's matmul-softmax-matmul, 2 threads.
# Median ms and axon / PyTorch. Usage: bench/attention.sh [RUNS]
source "$(dirname "$0")/lib.sh"
runs=${1:-30}
build bench_attention
for steps in 128 256 512; do
  t=$(torch 2 bench/attention_torch.py 2 "$steps" "$runs")
  echo "$t"
  for form in plain tiled; do
    a=$(AXON_NUM_THREADS=2 build/bench/bench_attention "$form" "$steps" "$runs")
    echo "$a    axon / PyTorch = $(ratio "$(field ms " $a")" "$(field ms " $t")")"
  done
done
