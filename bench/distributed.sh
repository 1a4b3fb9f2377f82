#!/usr/bin/env bash
# Data-parallel training on this machine, in one run:
# 1. CNN throughput (images/s, median epoch): 1 rank x 1 thread, 1 rank x 2 threads and
#    2 ranks x 1 thread (each rank bound to its core), the same global batch of 128;
# 2. the allreduce of the CNN's gradient buckets as training issues them, with and
#    without copying the gradients in, against plain MPI_Allreduce of the same sizes;
# 3. unless QUICK=1: test accuracy of the full Fashion-MNIST MLP (10 epochs) and CNN
#    (3 epochs) on 1 process and on 2 ranks.
# Usage: bench/distributed.sh [IMAGES]   (images per throughput epoch, default 12800)
source "$(dirname "$0")/lib.sh"
images=${1:-12800}
build bench_distributed
mpi() { mpirun --allow-run-as-root --bind-to core --mca btl self,vader -x AXON_NUM_THREADS=1 "$@"; }
bench=build/bench/bench_distributed

echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
one1=$(AXON_NUM_THREADS=1 $bench train cnn 3 "$images")
one2=$(AXON_NUM_THREADS=2 $bench train cnn 3 "$images")
two1=$(mpi -np 2 $bench train cnn 3 "$images")
printf '%s\n' "$one1" "$one2" "$two1"
reduce=$(mpi -np 2 $bench allreduce)
echo "$reduce"

echo
printf '%-44s %12s\n' "CNN, global batch 128, $images images/epoch" "images/s"
printf '%-44s %12s\n' "1 rank x 1 thread" "$(field images_per_s "$one1")"
printf '%-44s %12s\n' "1 rank x 2 threads" "$(field images_per_s "$one2")"
printf '%-44s %12s\n' "2 ranks x 1 thread" "$(field images_per_s "$two1")"
printf '%-44s %12s  (goal >= 1.80)\n' "2x1 / 1x1" "$(ratio "$(field images_per_s "$two1")" "$(field images_per_s "$one1")")"
printf '%-44s %12s\n' "2x1 / 1x2" "$(ratio "$(field images_per_s "$two1")" "$(field images_per_s "$one2")")"
bus() { field "$1" "$reduce"; }
printf '%-44s %12s\n' "bus GB/s: the buckets' sums (comm. thread)" "$(bus thread_busbw_gbps)"
printf '%-44s %12s\n' "bus GB/s: same sizes, plain MPI_Allreduce" "$(bus mpi_busbw_gbps)"
printf '%-44s %12s  (goal >= 0.90)\n' "sums / plain" "$(ratio "$(bus thread_busbw_gbps)" "$(bus mpi_busbw_gbps)")"
printf '%-44s %12s\n' "bus GB/s: a step's buckets with their copies" "$(bus buckets_busbw_gbps)"
printf '%-44s %12s\n' "with copies / plain" "$(ratio "$(bus buckets_busbw_gbps)" "$(bus mpi_busbw_gbps)")"

[ "${QUICK:-0}" = 1 ] && exit 0
echo
printf '%-44s %12s %12s\n' "test accuracy, full Fashion-MNIST" "1 process" "2 ranks"
for run in "mlp 10" "cnn 3"; do
  set -- $run
  alone=$(AXON_NUM_THREADS=2 $bench train "$1" "$2" 60000)
  ranks=$(mpi -np 2 $bench train "$1" "$2" 60000)
  echo "$alone" >&2
  echo "$ranks" >&2
  printf '%-44s %12s %12s\n' "$1, $2 epochs" "$(field test_accuracy "$alone")" "$(field test_accuracy "$ranks")"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
