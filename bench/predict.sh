#!/usr/bin/env bash
# Single-sample (and batch-64) predict latency of the Fashion-MNIST MLP in process:
# axon at 1 and 2 threads (Google Benchmark, median of 5) beside PyTorch from Python
# at 1 thread and PyTorch's C++ API (libtorch, bench_predict_libtorch) at 1 thread, and
# the ratios of the batch-1 figures: the mean of a timed loop and the median call. Then
# batch-64 inference of the Fashion-MNIST CNN, float32 and int8, in images/s at 1 and 2
# threads, beside PyTorch's (int8: its static post-training quantization on the oneDNN
# engine, bench/predict_cnn_torch.py).
# Usage: bench/predict.sh
source "$(dirname "$0")/lib.sh"
build bench_predict bench_predict_libtorch  # lib.sh's bootstrap installs libtorch-dev

# "NAME MEAN P50" in us: the mean of a timed loop and the median of the calls timed one by one
# (this shared VM stops a CPU for 2-5 us about every 50 us, which only the mean counts).
axon=$(build/bench/bench_predict --benchmark_filter='Predict(One|Int8)' --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null |
  awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "\"p50_us\"") p50 = i }
           /_median"/ { name = $1; gsub(/"/, "", name); printf "%s %.2f %.2f\n", name, $3 / 1000, $p50 }')
torch_us=$(torch 1 bench/predict_torch.py)
# "libtorch batch:B threads:1 US us p50 P50 us" for B = 1 and 64 (its stderr: NoGradGuard and InferenceMode apart).
libtorch=$(torch_env 1 build/bench/bench_predict_libtorch 2>/dev/null)
printf '%-52s %9s %9s\n' "" "mean us" "p50 us"
echo "$axon" | awk '{ printf "axon %-47s %9.2f %9.2f\n", $1, $2, $3 }'
printf '%-52s %9s %9s\n' "torch batch:1 threads:1 (from Python)" "$torch_us" "-"
echo "$libtorch" | awk '{ printf "libtorch %-43s %9.2f %9.2f\n", $2 " " $3 " (C++)", $4, $7 }'
axon_figure() { echo "$axon" | awk -v re="$1" -v col="$2" '$1 ~ re { print $col }'; }
libtorch_figure() { echo "$libtorch" | awk -v col="$1" '$2 == "batch:1" { print $col }'; }
one=$(axon_figure '^BM_PredictOne/batch:1/threads:1/' 2)
one_int8=$(axon_figure '^BM_PredictInt8/batch:1/threads:1/' 2)
echo "batch 1, 1 thread, mean: axon / PyTorch = $(ratio "$one" "$torch_us")"
echo "batch 1, 1 thread, mean: axon / libtorch = $(ratio "$one" "$(libtorch_figure 4)")"
echo "batch 1, 1 thread, mean: axon int8 / libtorch = $(ratio "$one_int8" "$(libtorch_figure 4)")"
for threads in 1 2; do
  p50=$(axon_figure "^BM_PredictOne/batch:1/threads:$threads/" 3)
  p50_int8=$(axon_figure "^BM_PredictInt8/batch:1/threads:$threads/" 3)
  echo "batch 1, p50: axon at $threads threads / libtorch at 1 = $(ratio "$p50" "$(libtorch_figure 7)"), int8 $(ratio "$p50_int8" "$(libtorch_figure 7)")"
done

# CNN, batch 64: images/s of axon (Google Benchmark's items_per_second) and PyTorch.
cnn_axon=$(build/bench/bench_predict --benchmark_filter=Cnn --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null |
  awk -F, '/_median"/ { name = $1; gsub(/"/, "", name); split(name, p, "/"); sub(/threads:/, "", p[2]); printf "%s %s %.0f\n", p[1], p[2], $7 }')
echo
printf '%-26s %8s %14s %14s %7s\n' "CNN batch 64, images/s" threads axon PyTorch "axon/PyTorch"
for threads in 1 2; do
  cnn_torch=$(torch "$threads" bench/predict_cnn_torch.py "$threads")
  for form in fp32 int8; do
    bm=BM_CnnPredict64; [ "$form" = int8 ] && bm=BM_CnnPredict64Int8
    a=$(echo "$cnn_axon" | awk -v bm="$bm" -v t="$threads" '$1 == bm && $2 == t { print $3 }')
    t=$(field "cnn64_${form}_images_per_s" "$cnn_torch")
    printf '%-26s %8s %14s %14s %7s\n' "$form" "$threads" "$a" "$t" "$(ratio "$a" "$t")"
  done
done
