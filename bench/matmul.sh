#!/usr/bin/env bash
# axon GEMM vs PyTorch GEMM on the same shapes, measured in one run. Prints GFLOP/s
# (median of 5 repetitions for axon, median of timed calls for PyTorch) and the ratio.
source "$(dirname "$0")/lib.sh"
build bench_matmul

axon=$(build/bench/bench_matmul --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null |
  awk -F, '/_median"/ { split($1, p, "/"); gsub(/[^0-9]/, "", p[2]); gsub(/[^0-9]/, "", p[3]); gsub(/[^0-9]/, "", p[4]);
                        gsub(/[^0-9]/, "", p[5]); gsub(/[^0-9]/, "", p[6]); printf "%s %s %s %s %s %.1f\n", p[2], p[3], p[4], p[5], p[6], $NF / 1e9 }')
torch=$(for t in 1 2; do torch $t bench/matmul_torch.py $t; done)

printf "%-22s %7s %12s %14s %8s\n" "shape (m x k x n)" threads "axon GFLOP/s" "torch GFLOP/s" "ratio"
join <(echo "$axon" | awk '{print $1"x"$2"x"$3(($4)?"(A^T)":"")"_"$5, $6}' | sort) \
     <(echo "$torch" | awk '{print $1"x"$2"x"$3(($4)?"(A^T)":"")"_"$5, $6}' | sort) |
  awk '{split($1, s, "_"); printf "%-22s %7s %12.1f %14.1f %8.2f\n", s[1], s[2], $2, $3, $2 / $3}'
