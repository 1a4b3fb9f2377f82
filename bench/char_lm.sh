#!/usr/bin/env bash
# The char LM's GPT and LSTM (examples/char_lm), each beside PyTorch from the same
# initial weights on the same batches: the median training step at 2 threads (goal for
# the GPT: axon <= 0.8x), the validation loss after STEPS steps (goal: within 2 %),
# greedy generation's tokens per second at context 128 (axon with and without its
# key/value cache or carried state; goal: >= 10x) and each process's peak resident
# memory. Usage: bench/char_lm.sh [STEPS]
source "$(dirname "$0")/lib.sh"
steps=${1:-100}
build bench_char_lm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for model in gpt lstm; do
  a=$(AXON_NUM_THREADS=2 build/bench/bench_char_lm "$model" "$work/init.safetensors" "$work/ids_" "$steps")
  t=$(torch 2 bench/char_lm_torch.py 2 "$model" "$work/init.safetensors" "$work/ids_" "$steps")
  echo "$a"
  echo "$t"
  echo "$model training step: axon / PyTorch = $(ratio "$(field step_ms " $a")" "$(field step_ms " $t")")"
  echo "$model validation loss after $steps steps: axon / PyTorch = $(ratio "$(field val_loss " $a")" "$(field val_loss " $t")")"
  echo "$model generation: cached / uncached = $(ratio "$(field cached_tps " $a")" "$(field uncached_tps " $a")"), axon cached / PyTorch = $(ratio "$(field cached_tps " $a")" "$(field uncached_tps " $t")")"
  echo "$model peak memory: axon / PyTorch = $(ratio "$(field rss_mb " $a")" "$(field rss_mb " $t")")"
done
