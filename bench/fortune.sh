#!/usr/bin/env bash
# examples/fortune_classifier beside PyTorch's copy of each model (bench/fortune_torch.py)
# on the same vectorized splits and settings, 2 threads: test accuracy, macro F1 and the
# seconds to train. Different initial weights: what each library reaches, not a
# same-weights check. Usage: bench/fortune.sh [EPOCHS]
source "$(dirname "$0")/lib.sh"
epochs=${1:-8}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target fortune_classifier > /dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for model in gru transformer; do
  a=$(AXON_NUM_THREADS=2 build/examples/fortune_classifier "$model" "$epochs" "$work/" | grep '^axon model=')
  t=$(torch 2 bench/fortune_torch.py 2 "$model" "$epochs" "$work/")
  echo "$a"
  echo "$t"
  echo "$model: accuracy axon / PyTorch = $(ratio "$(field accuracy " $a")" "$(field accuracy " $t")"), training time axon / PyTorch = $(ratio "$(field seconds " $a")" "$(field seconds " $t")")"
done
