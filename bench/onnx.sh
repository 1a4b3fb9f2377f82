#!/usr/bin/env bash
# Inference of models defined in PyTorch and imported from ONNX files (the Fashion CNN
# with batch norm and a residual CNN, bench/onnx_models.py): axon's load_onnx beside
# OpenCV's dnn module on the same file, batch 1 and 64, 1 and 2 threads, median ms of
# a forward pass and the ratio axon / OpenCV (goal: <= 1).
# Usage: bench/onnx.sh
source "$(dirname "$0")/lib.sh"
build bench_onnx
folder=build/bench_onnx_models
/usr/bin/python3 bench/onnx_models.py "$folder" 2> /dev/null

printf '%-18s %5s %7s %10s %10s %12s\n' model batch threads "axon ms" "OpenCV ms" "axon/OpenCV"
for model in fashion_cnn residual_cnn; do
  for batch in 1 64; do
    for threads in 1 2; do
      a=$(AXON_NUM_THREADS=$threads build/bench/bench_onnx "$folder/$model.onnx" "$batch")
      o=$(/usr/bin/python3 bench/onnx_opencv.py "$folder/$model.onnx" "$batch" "$threads")
      printf '%-18s %5s %7s %10s %10s %12s\n' "$model" "$batch" "$threads" "$(field ms "$a")" "$(field ms "$o")" \
        "$(ratio "$(field ms "$a")" "$(field ms "$o")")"
    done
  done
done
