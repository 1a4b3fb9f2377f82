#!/usr/bin/env bash
# axon and PyTorch from the same initial weights on the same unshuffled batches, 3
# epochs: batch losses should agree to ~6 decimals at first, then drift apart only by
# float rounding. A check that the whole model computes what PyTorch does.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap bench data
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target bench_mlp_same_weights > /dev/null
init=$(mktemp --suffix=.safetensors)
trap 'rm -f "$init"' EXIT
AXON_NUM_THREADS=1 build/bench/bench_mlp_same_weights "$init" > "$init.axon"
OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/mlp_same_weights.py "$init" > "$init.torch"
paste -d '|' "$init.axon" "$init.torch" | awk -F'|' '{ printf "%-60s | %s\n", "axon:  " $1, "torch: " $2 }'
rm -f "$init.axon" "$init.torch"
