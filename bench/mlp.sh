#!/usr/bin/env bash
# axon vs PyTorch training the Fashion-MNIST MLP, side by side in one run: seconds per
# epoch (median), test accuracy after EPOCHS epochs, peak RSS, and the ratios.
# PyTorch runs with 1 and with 2 threads; the ratio is against its better time.
# Usage: bench/mlp.sh [EPOCHS]   (default 10, the accuracy figure of DESIGN.md; >= 3 for a median)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-10}
scripts/bootstrap bench data
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target bench_mlp > /dev/null

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }
runs=()
runs+=("$(AXON_NUM_THREADS=1 build/bench/bench_mlp "$epochs")")
runs+=("$(AXON_NUM_THREADS=2 build/bench/bench_mlp "$epochs")")
# Debian's torch does its GEMMs in the system OpenBLAS, whose threads follow
# OPENBLAS_NUM_THREADS rather than torch.set_num_threads.
runs+=("$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/mlp_torch.py "$epochs" 1)")
runs+=("$(OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/mlp_torch.py "$epochs" 2)")
printf '%s\n' "${runs[@]}"

best_of() {  # the run of $1 (axon|torch) with the lowest median
  printf '%s\n' "${runs[@]}" | grep "^$1 " | while read -r line; do echo "$(field median "$line") $line"; done | sort -g | head -1 | cut -d' ' -f2-; }
a=$(best_of axon); t=$(best_of torch)
echo
printf '%-28s %12s %12s %8s\n' "MLP 784-256-128-10, $epochs epochs" axon PyTorch ratio
printf '%-28s %12s %12s %8.2f\n' "s/epoch (median, best thr.)" "$(field median "$a")" "$(field median "$t")" \
  "$(awk "BEGIN { print $(field median "$a") / $(field median "$t") }")"
printf '%-28s %12s %12s\n' "threads of that run" "$(field threads "$a")" "$(field threads "$t")"
printf '%-28s %12s %12s\n' "test accuracy" "$(field test_accuracy "$a")" "$(field test_accuracy "$t")"
printf '%-28s %12s %12s %8.2f\n' "peak RSS (MB)" "$(field peak_rss_mb "$a")" "$(field peak_rss_mb "$t")" \
  "$(awk "BEGIN { print $(field peak_rss_mb "$a") / $(field peak_rss_mb "$t") }")"
