#!/usr/bin/env bash
# axon and PyTorch from the same initial weights on the same unshuffled batches, 3
# epochs: batch losses should agree to ~6 decimals at first, then drift apart only by
# float rounding. A check that the whole model computes what PyTorch does.
source "$(dirname "$0")/lib.sh"
build bench_mlp_same_weights
init=$(mktemp --suffix=.safetensors)
trap 'rm -f "$init"' EXIT
AXON_NUM_THREADS=1 build/bench/bench_mlp_same_weights "$init" > "$init.axon"
torch 1 bench/mlp_same_weights_torch.py "$init" > "$init.torch"
paste -d '|' "$init.axon" "$init.torch" | awk -F'|' '{ printf "%-60s | %s\n", "axon:  " $1, "torch: " $2 }'
rm -f "$init.axon" "$init.torch"
