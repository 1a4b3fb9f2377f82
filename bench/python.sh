#!/usr/bin/env bash
# axon's Python package against axon's C++ API and PyTorch on the Fashion-MNIST MLP
# 784-256-128-10 (Adam 1e-3, batch 128), side by side in one run, all on THREADS threads
# (AXON_NUM_THREADS for axon, torch_env's OpenBLAS threads and set_num_threads for PyTorch):
#   1. s/epoch (median): axon from Python (bench/python_axon.py, a Sequential), bench_mlp
#      (the same model in C++) and PyTorch (bench/mlp_torch.py); axon-Python/C++ and /PyTorch.
#   2. the MLP as a Model subclassed in Python against the Sequential: s/epoch, the per-batch
#      cost of its Python call() in microseconds, and subclass/Sequential.
#   3. single-sample predict from Python, median us per call: axon's model.predict(x[:1],
#      batch_size=1) against PyTorch's net(torch.from_numpy(x[:1])) under no_grad
#      (bench/python_torch.py).
# Usage: bench/python.sh [EPOCHS] [THREADS]   (defaults 3 and 2)
source "$(dirname "$0")/lib.sh"
epochs=${1:-3}
threads=${2:-2}
build bench_mlp axon_python

py=$(AXON_NUM_THREADS=$threads PYTHONPATH=build/python /usr/bin/python3 bench/python_axon.py "$epochs")
cpp=$(AXON_NUM_THREADS=$threads build/bench/bench_mlp "$epochs")
torch_train=$(torch "$threads" bench/mlp_torch.py "$epochs" "$threads")
torch_predict=$(torch "$threads" bench/python_torch.py "$threads")
printf '%s\n' "$py" "$cpp" "$torch_train" "$torch_predict"

p=$(field median "$py"); c=$(field median "$cpp"); t=$(field median "$torch_train")
sub=$(field subclass_median "$py"); batches=$(field batches "$py")
pa=$(field predict_us "$py"); pt=$(field predict_us "$torch_predict")
echo
printf '%-38s %12s %12s %12s\n' "1. MLP, $epochs epochs, $threads threads" axon-Python axon-C++ PyTorch
printf '%-38s %12s %12s %12s\n' "s/epoch (median)" "$p" "$c" "$t"
printf '%-38s %12s %12s %12s\n' "test accuracy" "$(field test_accuracy "$py")" "$(field test_accuracy "$cpp")" "$(field test_accuracy "$torch_train")"
echo "axon-Python / axon-C++ = $(ratio "$p" "$c")   (goal <= 1.05)"
echo "axon-Python / PyTorch  = $(ratio "$p" "$t")   (goal <= 0.5)"
echo
printf '%-38s %12s %12s\n' "2. axon from Python" Sequential subclass
printf '%-38s %12s %12s\n' "s/epoch (median)" "$p" "$sub"
echo "subclass overhead per batch = $(awk "BEGIN { printf \"%.1f\", ($sub - $p) / $batches * 1e6 }") us ($batches batches/epoch)"
echo "subclass / Sequential = $(ratio "$sub" "$p")   (goal <= 1.5)"
echo
printf '%-38s %12s %12s\n' "3. predict, batch 1, from Python" axon PyTorch
printf '%-38s %12s %12s\n' "us per call (median of 2000)" "$pa" "$pt"
echo "axon / PyTorch = $(ratio "$pa" "$pt")   (goal <= 0.5)"
