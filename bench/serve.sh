#!/usr/bin/env bash
# Load test of `axon serve` with wrk: single-sample Open Inference Protocol requests
# against a served Fashion-MNIST MLP, server pinned to core 0 and the load generator to
# core 1. Prints requests/s, p50/p99 latency and errors at 1, 16, 64 and 1,000
# connections over HTTP, at 16 concurrent gRPC streams (raw_input_contents), each
# protocol's liveness call (its cost per call without a model), then a 4x
# overload (256 connections, small queue) and the recovery after it. With
# AXON_BASELINE=path/to/an/older/axon the HTTP runs are repeated against it, same run.
# Usage: bench/serve.sh [SECONDS_PER_RUN]   (default 20)
source "$(dirname "$0")/lib.sh"
seconds=${1:-20}
build axon_cli bench_grpc_load
axon=build/tools/axon
baseline=${AXON_BASELINE:-}
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2> /dev/null; wait 2> /dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/mlp.json" <<'JSON'
{"input_shape": [784],
 "layers": [{"type": "dense", "units": 256, "activation": "relu"},
            {"type": "dense", "units": 128, "activation": "relu"},
            {"type": "dense", "units": 10, "activation": "softmax"}],
 "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}}
JSON
"$axon" train --model "$work/mlp.json" --data fashion-mnist --epochs 1 --batch-size 128 --verbose 0 --out "$work/mlp.safetensors"

# One test image as the request body.
body=$(awk 'BEGIN { srand(1); printf "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,784],\"datatype\":\"FP32\",\"data\":["; for (i = 0; i < 784; i++) printf "%s%.3f", (i ? "," : ""), rand(); printf "]}]}" }')
cat > "$work/infer.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
LUA

# Below the ephemeral range (32768 and up): a port a client socket of an earlier run
# still holds (TIME_WAIT) cannot be listened on.
port=$((20000 + RANDOM % 12000))
grpc_port=$((port + 1))
ulimit -n "$(ulimit -Hn)"  # 1,000 connections on each side
start_server() {  # start_server BINARY EXTRA_FLAGS...
  local binary=$1
  shift
  AXON_NUM_THREADS=1 taskset -c 0 "$binary" serve --model "mlp=$work/mlp.safetensors" --port "$port" "$@" > "$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/health/ready" > /dev/null && return; sleep 0.1; done
  echo "server did not start:"; cat "$work/server.log"; exit 1
}
load() {  # load CONNECTIONS SECONDS -> one summary line
  taskset -c 1 wrk -t 1 -c "$1" -d "${2}s" --latency -s "$work/infer.lua" "http://127.0.0.1:$port/v2/models/mlp/infer" > "$work/wrk.out" 2>&1
  local rps p50 p99 non2xx errors
  rps=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.out")
  p50=$(awk '$1 == "50%" { print $2 }' "$work/wrk.out")
  p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.out")
  non2xx=$(awk '/Non-2xx/ { print $NF }' "$work/wrk.out")
  errors=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$work/wrk.out")
  printf '%-22s %6s %12s %10s %10s %10s %10s\n' "$3" "$1" "$rps" "$p50" "$p99" "${non2xx:-0}" "${errors:-0}"
}

printf '%-22s %6s %12s %10s %10s %10s %10s\n' run connections requests/s p50 p99 non-2xx socket-err
start_server "$axon" --grpc-port "$grpc_port"
for c in 1 16 64 1000; do load "$c" "$seconds" "steady"; done
taskset -c 1 build/bench/bench_grpc_load "127.0.0.1:$grpc_port" mlp "$seconds" 16 > "$work/grpc.out" || true
grpc_line() {  # grpc_line LABEL: the load generator's report as a row
  read -r _ streams rps p50 p99 errors < "$work/grpc.out"
  printf '%-22s %6s %12s %10s %10s %10s %10s\n' "$1" "${streams#*=}" "${rps#*=}" "${p50#*=}ms" "${p99#*=}ms" - "${errors#*=}"
}
grpc_line "grpc raw (streams)"
# Each protocol's own cost per call, no model: the liveness call at 16 connections/streams.
taskset -c 1 wrk -t 1 -c 16 -d "${seconds}s" "http://127.0.0.1:$port/v2/health/live" > "$work/wrk.out" 2>&1
printf '%-22s %6s %12s\n' "http live (no model)" 16 "$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.out")"
taskset -c 1 build/bench/bench_grpc_load "127.0.0.1:$grpc_port" mlp "$seconds" 16 live > "$work/grpc.out" || true
grpc_line "grpc live (no model)"
kill "$server"; wait "$server" 2> /dev/null || true

if [ -n "$baseline" ]; then
  start_server "$baseline"
  for c in 1 16 64 1000; do load "$c" "$seconds" "baseline"; done
  kill "$server"; wait "$server" 2> /dev/null || true
fi

# Overload: 4x the 64-connection load against a small queue; then normal load again.
start_server "$axon" --max-queue 64
load 256 "$seconds" "overload (queue 64)"
load 16 10 "after overload"
