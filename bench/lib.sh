# Sourced by every bench/*.sh: strict mode, the repository root, the packages the
# benches need (PyTorch, wrk, the dataset), and helpers. Each bench is <name>.sh,
# driving build/bench/bench_<name> (from <name>_axon.cpp) and <name>_torch.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap bench data

# build TARGET...: a Release build of those targets.
build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build build -j "$(nproc)" --target "$@" > /dev/null
}

# torch_env THREADS COMMAND ARGS...: COMMAND (PyTorch, from Python or libtorch's C++) in
# the environment a PyTorch bench needs. Debian's torch does its GEMMs in the system
# OpenBLAS, whose threads follow OPENBLAS_NUM_THREADS, not torch.set_num_threads.
# It gets the OpenBLAS kernels axon runs (axon --version names them): where OpenBLAS
# does not know the CPU, axon picks better ones than OpenBLAS's generic fallback, and
# the comparison must not be between kernels.
torch_env() {
  local threads=$1
  shift
  if [ -z "${blas_kernels+set}" ]; then
    cmake --build build --target axon_cli > /dev/null
    blas_kernels=$(build/tools/axon --version | sed -n 's/^blas: OpenBLAS \(.*\) kernels$/\1/p')
  fi
  # The OpenMP build of OpenBLAS, the threaded one Debian's torch is made for, whatever
  # the system's BLAS alternative points to (axon itself links the serial build).
  LD_LIBRARY_PATH=/usr/lib/$(gcc -dumpmachine)/openblas-openmp \
    OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-$blas_kernels} OPENBLAS_NUM_THREADS=$threads "$@"
}

# torch THREADS SCRIPT ARGS...: a PyTorch bench from Python.
torch() {
  local threads=$1
  shift
  torch_env "$threads" /usr/bin/python3 "$@"
}

# field NAME LINE: the value of "NAME=value" in a bench's one-line report.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }

# ratio A B: A / B to two decimals.
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

# best_of LIB FIELD low|high: of the report lines in the array `runs`, the run of LIB
# (axon|torch) with the lowest (or highest) FIELD.
best_of() {
  local order=-g
  [ "$3" = high ] && order=-gr
  printf '%s\n' "${runs[@]}" | grep "^$1 " | while read -r line; do echo "$(field "$2" "$line") $line"; done | sort $order | head -1 | cut -d' ' -f2-
}
