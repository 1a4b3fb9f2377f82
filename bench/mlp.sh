#!/usr/bin/env bash
# axon vs PyTorch training the Fashion-MNIST MLP, side by side in one run: seconds per
# epoch (median), test accuracy after EPOCHS epochs, peak RSS, and the ratios.
# PyTorch runs with 1 and with 2 threads; the ratio is against its better time.
# Usage: bench/mlp.sh [EPOCHS]   (default 10, the accuracy figure of DESIGN.md; >= 3 for a median)
source "$(dirname "$0")/lib.sh"
epochs=${1:-10}
build bench_mlp

runs=()
runs+=("$(AXON_NUM_THREADS=1 build/bench/bench_mlp "$epochs")")
runs+=("$(AXON_NUM_THREADS=2 build/bench/bench_mlp "$epochs")")
runs+=("$(torch 1 bench/mlp_torch.py "$epochs" 1)")
runs+=("$(torch 2 bench/mlp_torch.py "$epochs" 2)")
printf '%s\n' "${runs[@]}"

a=$(best_of axon median low); t=$(best_of torch median low)
echo
printf '%-28s %12s %12s %8s\n' "MLP 784-256-128-10, $epochs epochs" axon PyTorch ratio
printf '%-28s %12s %12s %8s\n' "s/epoch (median, best thr.)" "$(field median "$a")" "$(field median "$t")" "$(ratio "$(field median "$a")" "$(field median "$t")")"
printf '%-28s %12s %12s\n' "threads of that run" "$(field threads "$a")" "$(field threads "$t")"
printf '%-28s %12s %12s\n' "test accuracy" "$(field test_accuracy "$a")" "$(field test_accuracy "$t")"
printf '%-28s %12s %12s %8s\n' "peak RSS (MB)" "$(field peak_rss_mb "$a")" "$(field peak_rss_mb "$t")" "$(ratio "$(field peak_rss_mb "$a")" "$(field peak_rss_mb "$t")")"
