#!/usr/bin/env bash
# axon vs PyTorch on the Fashion-MNIST CNN of examples/fashion_cnn, side by side in one
# run: seconds per training epoch (median), test accuracy, inference images/s at batch 1
# and 256, peak RSS, and the ratios. Each library runs with 1 and with 2 threads; each
# ratio is against PyTorch's better run. Then the per-kernel figures (bench_conv):
# convolution GFLOP/s against a 1024^3 GEMM on the same threads.
# Usage: bench/cnn.sh [EPOCHS]   (default 3: a median of 3 epochs)
source "$(dirname "$0")/lib.sh"
epochs=${1:-3}
build bench_cnn bench_conv

runs=()
runs+=("$(AXON_NUM_THREADS=1 build/bench/bench_cnn "$epochs")")
runs+=("$(AXON_NUM_THREADS=2 build/bench/bench_cnn "$epochs")")
runs+=("$(torch 1 bench/cnn_torch.py "$epochs" 1)")
runs+=("$(torch 2 bench/cnn_torch.py "$epochs" 2)")
printf '%s\n' "${runs[@]}"

row() {  # label field low|high
  local a t; a=$(best_of axon "$2" "$3"); t=$(best_of torch "$2" "$3")
  printf '%-30s %10s (%s thr) %10s (%s thr) %7.2f\n' "$1" "$(field "$2" "$a")" "$(field threads "$a")" "$(field "$2" "$t")" "$(field threads "$t")" \
    "$(ratio "$(field "$2" "$a")" "$(field "$2" "$t")")"
}
echo
printf '%-30s %19s %19s %7s\n' "CNN, batch 128, $epochs epochs" axon PyTorch ratio
row "s/epoch (median)" median low
row "inference images/s, batch 1" infer1_images_per_s high
row "inference images/s, batch 256" infer256_images_per_s high
row "peak RSS (MB)" peak_rss_mb low
printf '%-30s %19s %19s\n' "test accuracy" "$(field test_accuracy "$(best_of axon median low)")" "$(field test_accuracy "$(best_of torch median low)")"

echo
echo "Convolution kernels (median of 5), GFLOP/s and the fraction of a 1024^3 GEMM's:"
build/bench/bench_conv --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null |
  awk -F, '/_median"/ {
      name = $1; gsub(/"/, "", name); rate = $NF / 1e9
      split(name, p, "/"); for (i in p) { split(p[i], kv, ":"); arg[kv[1]] = kv[2] }
      if (name ~ /BM_GemmPeak/) { peak[arg["threads"]] = rate; next }
      ++n; c[n] = arg["c"]; hw[n] = arg["hw"]; f[n] = arg["f"]; pass[n] = arg["pass"]; t[n] = arg["threads"]; r[n] = rate
    }
    END {
      split("forward backward-data backward-weights", passes, " ")
      for (i = 1; i <= n; ++i)
        printf "  conv %2s->%2s ch, %2sx%-2s %-17s %s thr %7.1f GFLOP/s  %4.2f of GEMM (%.1f)\n", c[i], f[i], hw[i], hw[i], passes[pass[i] + 1], t[i], r[i], r[i] / peak[t[i]], peak[t[i]]
    }'
