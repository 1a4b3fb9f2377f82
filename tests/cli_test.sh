#!/usr/bin/env bash
# End-to-end test of the axon CLI: train -> evaluate -> predict -> summary on a small
# CSV problem, plus exit codes (0 ok, 2 usage, 1 failure) and messages.
# Usage: tests/cli_test.sh PATH_TO_AXON
set -u
axon=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passes=0
failures=0
pass() { echo "ok: $1"; passes=$((passes + 1)); }
check() {  # check DESCRIPTION EXPECTED_CODE ACTUAL_CODE
  if [ "$2" != "$3" ]; then echo "FAIL: $1 (exit $3, expected $2)"; failures=$((failures + 1)); else pass "$1"; fi
}
# start_server ARGS...: axon serve ARGS on a free port, in the background; sets $server
# (its pid) and $port (empty if it did not start within 5 s).
start_server() {
  "$axon" serve "$@" --port 0 > "$work/serve.log" 2>&1 &
  server=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.log")
    [ -n "$port" ] && break
    sleep 0.05
  done
}
contains() {  # contains DESCRIPTION FILE TEXT
  if grep -q -- "$3" "$2"; then pass "$1"; else echo "FAIL: $1: '$3' not in:"; cat "$2"; failures=$((failures + 1)); fi
}

source "$(dirname "$0")/classifier_fixture.sh"

"$axon" --help > "$work/out" 2>&1; check "--help" 0 $?
for cmd in train evaluate predict summary serve quantize export generate; do "$axon" $cmd --help > "$work/out" 2>&1; check "$cmd --help" 0 $?; done
"$axon" --version > "$work/out" 2>&1; check "--version" 0 $?
contains "--version names the version" "$work/out" '^axon [0-9]*\.[0-9]*\.[0-9]*$'
"$axon" > "$work/out" 2>&1; check "no subcommand is a usage error" 2 $?
"$axon" bogus > "$work/out" 2>&1; check "unknown subcommand" 2 $?
"$axon" train --data fashion-mnist --out "$work/m.safetensors" > "$work/out" 2>&1; check "missing --model" 2 $?
contains "missing --model is named" "$work/out" "--model is required"
"$axon" train --model "$work/spec.json" --data "csv:$work/train.csv?label=label" --out "$work/m.safetensors" --epochs -3 > "$work/out" 2>&1
check "negative epochs" 2 $?

"$axon" train --model "$work/spec.json" --data "csv:$work/train.csv?label=label" --out "$work/m.safetensors" \
  --epochs 30 --batch-size 32 --validation-split 0.2 --verbose 2 > "$work/train.out" 2> "$work/train.err"
check "train" 0 $?
contains "train prints an epoch line" "$work/train.out" "Epoch 30/30 - 10 steps"
contains "train reports the saved file" "$work/train.err" "saved $work/m.safetensors"

# The progress bar: on a terminal one redrawn line with ETA, samples/s and the running
# metrics; off a terminal one line per epoch and no carriage returns.
/usr/bin/python3 - "$axon" "$work" > "$work/tty.out" <<'PY'
import os, pty, sys
axon, work = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(axon, [axon, "train", "--model", work + "/spec.json", "--data", "csv:" + work + "/train.csv?label=label",
                    "--out", work + "/tty.safetensors", "--epochs", "2", "--batch-size", "32", "--verbose", "1"])
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", "<CR>"))
PY
contains "on a terminal the bar is redrawn in place" "$work/tty.out" "<CR> *[0-9]*/13 \\["
contains "the bar shows the ETA" "$work/tty.out" "ETA: "
contains "the bar shows samples/s" "$work/tty.out" "[0-9] samples/s - loss: "
"$axon" train --model "$work/spec.json" --data "csv:$work/train.csv?label=label" --out "$work/pipe.safetensors" \
  --epochs 2 --batch-size 32 --verbose 1 > "$work/pipe.out" 2>&1
[ "$(grep -c '^Epoch [12]/2 - 13 steps - ' "$work/pipe.out")" = 2 ] && ! grep -q $'\r' "$work/pipe.out"
check "off a terminal: one line per epoch, no carriage returns" 0 $?

"$axon" evaluate --model "$work/m.safetensors" --data "csv:$work/train.csv?label=label" > "$work/eval.out" 2>&1
check "evaluate" 0 $?
accuracy=$(sed -n 's/.*accuracy: \([0-9.]*\).*/\1/p' "$work/eval.out" | head -1)
if awk -v a="$accuracy" 'BEGIN { exit !(a > 0.9) }'; then pass "accuracy $accuracy > 0.9"; else echo "FAIL: accuracy '$accuracy'"; cat "$work/eval.out"; failures=$((failures + 1)); fi
contains "evaluate prints a confusion matrix" "$work/eval.out" "true\\\\pred"
contains "evaluate prints a report" "$work/eval.out" "weighted avg"

"$axon" predict --model "$work/m.safetensors" --input "$work/inputs.csv" --output "$work/pred.csv" > "$work/out" 2>&1
check "predict" 0 $?
[ "$(head -1 "$work/pred.csv")" = "class" ] && [ "$(wc -l < "$work/pred.csv")" = 6 ]; check "predict writes a header and 5 classes" 0 $?
# The true rule on the inputs: the model should agree on every row.
expected=$(tail -n +2 "$work/inputs.csv" | awk -F, '{ print ($1 + $2 > 0 ? 1 : 0) }' | tr -d '\n')
got=$(tail -n +2 "$work/pred.csv" | tr -d '\n')
[ "$expected" = "$got" ]; check "predictions follow x0 + x1 > 0 ($got vs $expected)" 0 $?
"$axon" predict --model "$work/m.safetensors" --input "$work/inputs.csv" --proba > "$work/proba.csv" 2>&1
check "predict --proba" 0 $?
# Preprocessing is explicit: IDX pixels are scaled by 1/255 (and predict says so);
# --rescale sets the factor for any input.
/usr/bin/python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack(">IIII", 0x803, 3, 1, 2) + bytes([230, 200, 10, 40, 255, 0]))' > "$work/pixels.idx"
printf 'x0,x1\n%.9g,%.9g\n%.9g,%.9g\n%.9g,%.9g\n' $(awk 'BEGIN { split("230 200 10 40 255 0", v, " "); for (i = 1; i <= 6; i++) printf "%.9g ", v[i] / 255 }') > "$work/pixels.csv"
"$axon" predict --model "$work/m.safetensors" --input "$work/pixels.idx" --proba > "$work/idx_pred.csv" 2> "$work/out"; check "predict an IDX file" 0 $?
contains "predict says it scales IDX pixels" "$work/out" "IDX pixels scaled by 1/255"
"$axon" predict --model "$work/m.safetensors" --input "$work/pixels.csv" --proba > "$work/csv_pred.csv" 2>&1
cmp -s "$work/idx_pred.csv" "$work/csv_pred.csv"; check "IDX pixels / 255 predict as the same values in a CSV" 0 $?
"$axon" predict --model "$work/m.safetensors" --input "$work/pixels.idx" --proba --rescale 1 > "$work/raw_pred.csv" 2> "$work/out"
check "predict --rescale 1" 0 $?
cmp -s "$work/idx_pred.csv" "$work/raw_pred.csv"; check "--rescale 1 keeps the raw pixels" 1 $?
"$axon" predict --model "$work/m.safetensors" --input "$work/inputs.csv" --proba --rescale 1/1 > "$work/same.csv" 2>&1
cmp -s "$work/same.csv" "$work/proba.csv"; check "--rescale 1/1 changes nothing" 0 $?
"$axon" predict --model "$work/m.safetensors" --input "$work/inputs.csv" --rescale 0 > "$work/out" 2>&1; check "--rescale 0 is a usage error" 2 $?
contains "probabilities have two columns" "$work/proba.csv" "^output,output_1$"

# quantize: an int8 file beside the float one, compared on the data; it predicts,
# evaluates and summarises like any model file. A failed run leaves --out alone.
"$axon" quantize --model "$work/m.safetensors" --data "csv:$work/train.csv?label=label" --out "$work/m.int8.safetensors" > "$work/quant.out" 2>&1
check "quantize" 0 $?
contains "quantize compares float32 and int8" "$work/quant.out" "^accuracy  *[0-9.]*  *[0-9.]*$"
contains "quantize reports the agreement" "$work/quant.out" "the same largest value on"
"$axon" predict --model "$work/m.int8.safetensors" --input "$work/inputs.csv" --output "$work/pred8.csv" > "$work/out" 2>&1
cmp -s "$work/pred.csv" "$work/pred8.csv"; check "the int8 model predicts the same classes" 0 $?
"$axon" summary --model "$work/m.int8.safetensors" > "$work/out" 2>&1
contains "summary names the int8 layers" "$work/out" "QuantizedDense"
echo keep > "$work/kept"
"$axon" quantize --model "$work/spec.json" --out "$work/kept" > "$work/out" 2>&1; check "quantize of a non-model file fails" 1 $?
[ "$(cat "$work/kept")" = keep ]; check "a failed quantize leaves --out alone" 0 $?

# export: an ONNX file that ONNX's checker accepts (when python3-onnx is there); the
# int8 model has no ONNX form and fails naming its layer, leaving --onnx alone.
"$axon" export --model "$work/m.safetensors" --onnx "$work/m.onnx" > "$work/out" 2>&1; check "export" 0 $?
if /usr/bin/python3 -c "import onnx" 2> /dev/null; then
  /usr/bin/python3 -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" "$work/m.onnx"
  check "the exported file passes onnx.checker" 0 $?
fi
"$axon" export --model "$work/m.int8.safetensors" --onnx "$work/kept" > "$work/out" 2>&1; check "export of an int8 model fails" 1 $?
contains "export names the layer without an ONNX form" "$work/out" "QuantizedDense"
[ "$(cat "$work/kept")" = keep ]; check "a failed export leaves --onnx alone" 0 $?
"$axon" export --model "$work/m.safetensors" --onnx "$work/m2.onnx" --opset 5 > "$work/out" 2>&1; check "export --opset 5 fails" 1 $?
# ONNX files are models too: summary, evaluate, predict and serve take the exported
# file and answer as the model file does (README's ONNX section).
"$axon" summary --model "$work/m.onnx" > "$work/out" 2>&1; check "summary of an ONNX file" 0 $?
contains "summary lists the imported Dense layers" "$work/out" "Dense"
"$axon" evaluate --model "$work/m.onnx" --data "csv:$work/train.csv?label=label" > "$work/out" 2>&1
check "evaluate of an ONNX file without --loss fails" 1 $?
contains "evaluate asks for --loss" "$work/out" "give --loss"
"$axon" evaluate --model "$work/m.onnx" --data "csv:$work/train.csv?label=label" --loss sparse_categorical_crossentropy \
  --metrics accuracy > "$work/eval_onnx.out" 2>&1
check "evaluate an ONNX file" 0 $?
contains "evaluate of the ONNX file gives the model file's accuracy" "$work/eval_onnx.out" "$(grep -o 'accuracy: [0-9.]*' "$work/eval.out" | head -1)"
"$axon" predict --model "$work/m.onnx" --input "$work/inputs.csv" --proba > "$work/onnx_proba.csv" 2>&1; check "predict from an ONNX file" 0 $?
cmp -s "$work/proba.csv" "$work/onnx_proba.csv"; check "the ONNX file predicts the model file's probabilities" 0 $?
printf 'not a protobuf' > "$work/bad.onnx"
"$axon" predict --model "$work/bad.onnx" --input "$work/inputs.csv" > "$work/out" 2>&1; check "a corrupt ONNX file fails" 1 $?
contains "a corrupt ONNX file is named" "$work/out" "bad.onnx: load_onnx: not a valid ONNX model"

"$axon" summary --model "$work/spec.json" > "$work/out" 2>&1; check "summary of a spec" 0 $?
contains "summary totals" "$work/out" "Total params: 82"
"$axon" summary --model "$work/m.safetensors" > "$work/out" 2>&1; check "summary of a model file" 0 $?

# Resume: 2 epochs with a checkpoint, then resumed to 4, equals 4 straight.
train() { "$axon" train --model "$work/spec.json" --data "csv:$work/train.csv?label=label" --verbose 0 --seed 5 "$@"; }
train --epochs 2 --checkpoint "$work/ck" --out "$work/half.safetensors" > "$work/out" 2>&1; check "train with --checkpoint" 0 $?
[ -f "$work/ck/checkpoint.safetensors" ]; check "the checkpoint exists" 0 $?
train --epochs 4 --checkpoint "$work/ck" --resume --out "$work/resumed.safetensors" > "$work/out" 2>&1; check "train --resume" 0 $?
contains "resume says where it starts" "$work/out" "resuming after epoch 2"
train --epochs 4 --out "$work/straight.safetensors" > "$work/out" 2>&1; check "train straight" 0 $?
"$axon" predict --model "$work/resumed.safetensors" --input "$work/inputs.csv" --proba > "$work/resumed.csv" 2>&1
"$axon" predict --model "$work/straight.safetensors" --input "$work/inputs.csv" --proba > "$work/straight.csv" 2>&1
cmp -s "$work/resumed.csv" "$work/straight.csv"; check "resumed and straight runs predict the same" 0 $?
train --epochs 4 --resume --out "$work/x.safetensors" > "$work/out" 2>&1; check "--resume without --checkpoint" 2 $?

# Serve the trained model on a free port and talk to it with curl; SIGTERM exits 0.
start_server --model "clf=$work/m.safetensors"
[ -n "$port" ]; check "serve starts and reports its port" 0 $?
url="http://127.0.0.1:$port"
curl -sf "$url/v2/health/ready" > "$work/out"; check "GET /v2/health/ready" 0 $?
contains "ready is true" "$work/out" '"ready":true'
curl -sf "$url/v2/models/clf" > "$work/out"; check "GET /v2/models/clf" 0 $?
contains "metadata gives the input shape" "$work/out" '"shape":\[-1,2\]'
curl -sf -H 'Content-Type: application/json' -d '{"id":"x1","inputs":[{"name":"input","shape":[2,2],"datatype":"FP32","data":[[0.9,0.8],[-0.9,-0.7]]}]}' \
  "$url/v2/models/clf/infer" > "$work/out"; check "POST infer" 0 $?
contains "infer echoes the id" "$work/out" '"id":"x1"'
contains "infer returns (2, 2) probabilities" "$work/out" '"shape":\[2,2\]'
curl -sf -H 'Content-Type: application/json' -d '{"instances":[[0.9,0.8]]}' "$url/v1/models/clf:predict" > "$work/out"; check "POST :predict" 0 $?
contains "predictions come back" "$work/out" '"predictions":\[\['
code=$(curl -s -o "$work/out" -w '%{http_code}' -H 'Content-Type: application/json' -d '{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}' "$url/v2/models/clf/infer")
check "wrong feature count is a 400" 400 "$code"
contains "the 400 names both shapes" "$work/out" "shape \[1, 3\] does not match the model's \[-1, 2\]"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/models/other/ready"); check "unknown model is a 404" 404 "$code"
curl -sf "$url/metrics" > "$work/out"; check "GET /metrics" 0 $?
contains "metrics count the requests" "$work/out" 'axon_requests_total{model="clf",version="1",code="200"} 2'
kill -TERM "$server"; wait "$server"; check "serve exits 0 on SIGTERM" 0 $?
start_server --model "clf=$work/m.onnx"
body='{"inputs":[{"name":"input","shape":[2,2],"datatype":"FP32","data":[[0.9,0.8],[-0.9,-0.7]]}]}'
curl -sf -d "$body" "http://127.0.0.1:$port/v2/models/clf/infer" > "$work/onnx_infer.out"; check "serve an ONNX file" 0 $?
kill -TERM "$server"; wait "$server"
start_server --model "clf=$work/m.safetensors"
curl -sf -d "$body" "http://127.0.0.1:$port/v2/models/clf/infer" > "$work/file_infer.out"
kill -TERM "$server"; wait "$server"
cmp -s "$work/onnx_infer.out" "$work/file_infer.out"; check "the served ONNX file answers as the model file" 0 $?
# A model repository: versions, the newest served, a new version picked up by polling,
# model control behind its flag, and an access log.
mkdir -p "$work/repo/clf/1" "$work/staging"
cp "$work/m.safetensors" "$work/repo/clf/1/model.safetensors"
start_server --model-repository "$work/repo" --repository-poll-ms 100 --allow-model-control --access-log "$work/access.log"
[ -n "$port" ]; check "serve a model repository" 0 $?
url="http://127.0.0.1:$port"
body='{"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[0.9,0.8]}]}'
curl -sf -d "$body" "$url/v2/models/clf/infer" > "$work/out"; check "infer from the repository" 0 $?
contains "version 1 answers" "$work/out" '"model_version":"1"'
cp "$work/m.safetensors" "$work/staging/model.safetensors" && mv "$work/staging" "$work/repo/clf/2"
for _ in $(seq 50); do curl -sf -d "$body" "$url/v2/models/clf/infer" | grep -q '"model_version":"2"' && break; sleep 0.1; done
curl -sf -d "$body" "$url/v2/models/clf/infer" > "$work/out"
contains "a new version is served after the poll" "$work/out" '"model_version":"2"'
code=$(curl -s -o /dev/null -w '%{http_code}' -d "$body" "$url/v2/models/clf/versions/1/infer")
check "latest:1 serves version 2 only" 404 "$code"
curl -sf -X POST "$url/v2/repository/models/clf/unload" > /dev/null; check "unload with --allow-model-control" 0 $?
code=$(curl -s -o /dev/null -w '%{http_code}' -d "$body" "$url/v2/models/clf/infer"); check "an unloaded model is a 404" 404 "$code"
curl -sf -X POST "$url/v2/repository/models/clf/load" > /dev/null; check "load it again" 0 $?
contains "the access log has the requests" "$work/access.log" '"POST /v2/models/clf/infer" 200 '
contains "the server logs the swap" "$work/serve.log" 'repository: serving clf versions 2 (was 1)'
kill -TERM "$server"; wait "$server"; check "the repository server exits 0 on SIGTERM" 0 $?
"$axon" serve --model "$work/missing.safetensors" > "$work/out" 2>&1; check "serving a missing file is a usage error" 2 $?
"$axon" serve --model "$work/m.safetensors" --host 203.0.113.1 --port 0 > "$work/out" 2>&1; check "an address not of this machine fails" 1 $?

head -c 100 "$work/m.safetensors" > "$work/broken.safetensors"
"$axon" evaluate --model "$work/broken.safetensors" --data "csv:$work/train.csv?label=label" > "$work/out" 2>&1
check "a truncated model file fails" 1 $?
contains "the failure names the file" "$work/out" "broken.safetensors"
"$axon" evaluate --model "$work/m.safetensors" --data "csv:$work/missing.csv" > "$work/out" 2>&1
check "a missing data file fails" 1 $?
"$axon" evaluate --model "$work/m.safetensors" --data "parquet:x" > "$work/out" 2>&1
check "an unknown data source fails" 1 $?
contains "the unknown source is explained" "$work/out" "unknown source"

# A CNN: 6x6 images (36 pixel columns) holding a vertical (class 0) or horizontal (class 1)
# bar, with flips and shifts for augmentation. The spec's (1, 6, 6) input takes the CSV's
# 36 columns reshaped; a second spec takes (36,) and reshapes inside the model.
awk 'BEGIN { srand(7); for (p = 0; p < 36; p++) printf "p%d,", p; print "label";
  for (i = 0; i < 300; i++) { c = i % 2; k = 1 + int(rand() * 4);
    for (y = 0; y < 6; y++) for (x = 0; x < 6; x++) printf "%.2f,", ((c == 0 && x == k) || (c == 1 && y == k)) ? 1 : rand() * 0.2;
    print c } }' > "$work/bars.csv"
cut -d, -f1-36 "$work/bars.csv" > "$work/bars_inputs.csv"
cat > "$work/cnn.json" <<'JSON'
{"input_shape": [1, 6, 6],
 "layers": [{"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
            {"type": "max_pool2d"},
            {"type": "flatten"},
            {"type": "dense", "units": 2, "activation": "softmax"}],
 "compile": {"optimizer": {"type": "adam", "learning_rate": 0.03}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
 "augment": [{"type": "random_flip"}, {"type": "random_translation", "pixels": 1}]}
JSON
cat > "$work/cnn_flat.json" <<'JSON'
{"input_shape": [36],
 "layers": [{"type": "reshape", "target_shape": [1, 6, 6]},
            {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
            {"type": "max_pool2d"},
            {"type": "flatten"},
            {"type": "dense", "units": 2, "activation": "softmax"}],
 "compile": {"optimizer": {"type": "adam", "learning_rate": 0.03}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}}
JSON
cnn() { "$axon" train --model "$work/cnn.json" --data "csv:$work/bars.csv?label=label" --verbose 0 --seed 2 --batch-size 16 "$@"; }
cnn --epochs 2 --checkpoint "$work/cnn_ck" --out "$work/cnn_half.safetensors" > "$work/out" 2>&1; check "train a CNN with a checkpoint" 0 $?
cnn --epochs 6 --checkpoint "$work/cnn_ck" --resume --out "$work/cnn.safetensors" > "$work/out" 2>&1; check "resume the CNN" 0 $?
cnn --epochs 6 --out "$work/cnn_straight.safetensors" > "$work/out" 2>&1; check "train the CNN straight" 0 $?
"$axon" predict --model "$work/cnn.safetensors" --input "$work/bars_inputs.csv" --proba > "$work/cnn_resumed.csv" 2>&1
"$axon" predict --model "$work/cnn_straight.safetensors" --input "$work/bars_inputs.csv" --proba > "$work/cnn_straight.csv" 2>&1
cmp -s "$work/cnn_resumed.csv" "$work/cnn_straight.csv"; check "resumed and straight CNN runs (augmented) predict the same" 0 $?
"$axon" evaluate --model "$work/cnn.safetensors" --data "csv:$work/bars.csv?label=label" > "$work/out" 2>&1; check "evaluate the CNN" 0 $?
accuracy=$(sed -n 's/.*accuracy: \([0-9.]*\).*/\1/p' "$work/out" | head -1)
if awk -v a="$accuracy" 'BEGIN { exit !(a > 0.95) }'; then pass "CNN accuracy $accuracy > 0.95"; else echo "FAIL: CNN accuracy '$accuracy'"; cat "$work/out"; failures=$((failures + 1)); fi
"$axon" summary --model "$work/cnn.safetensors" > "$work/out" 2>&1; check "summary of the CNN" 0 $?
contains "the summary shows the conv output" "$work/out" "(None, 4, 6, 6)"
contains "the summary shows the pooled output" "$work/out" "(None, 4, 3, 3)"
"$axon" train --model "$work/cnn_flat.json" --data "csv:$work/bars.csv?label=label" --verbose 0 --epochs 4 --out "$work/cnn_flat.safetensors" > "$work/out" 2>&1
check "train a CNN that reshapes flat input" 0 $?
sed 's/"compile"/"augment": [{"type": "random_flip"}], "compile"/' "$work/cnn_flat.json" > "$work/cnn_flat_flip.json"
"$axon" train --model "$work/cnn_flat_flip.json" --data "csv:$work/bars.csv?label=label" --out "$work/x.safetensors" > "$work/out" 2>&1
check "flipping flat input fails" 1 $?
contains "the failure says flips need images" "$work/out" "random_flip needs images (channels, height, width) per example, got (36,)"
sed 's/"pixels": 1/"pixels": -1/' "$work/cnn.json" > "$work/cnn_bad.json"
"$axon" train --model "$work/cnn_bad.json" --data "csv:$work/bars.csv?label=label" --out "$work/x.safetensors" > "$work/out" 2>&1
check "a bad augment list fails" 1 $?
contains "the bad augment field is named" "$work/out" "augment\[1\].pixels: expected an integer >= 0, got -1"

start_server --model "img=$work/cnn.safetensors" --model "flat=$work/cnn_flat.safetensors"
[ -n "$port" ]; check "serve the CNNs" 0 $?
url="http://127.0.0.1:$port"
bar=$(awk 'BEGIN { for (y = 0; y < 6; y++) for (x = 0; x < 6; x++) printf "%s%s", (y || x ? "," : ""), (y == 2 ? 1 : 0) }')
curl -sf "$url/v2/models/img" > "$work/out"; check "CNN metadata" 0 $?
contains "the CNN takes [-1, 1, 6, 6]" "$work/out" '"shape":\[-1,1,6,6\]'
curl -sf -H 'Content-Type: application/json' -d "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,6,6],\"datatype\":\"FP32\",\"data\":[$bar]}]}" \
  "$url/v2/models/img/infer" > "$work/out"; check "infer on a (1, 1, 6, 6) image" 0 $?
p1=$(sed -n 's/.*"data":\[[^,]*,\([^]]*\)\].*/\1/p' "$work/out")
if awk -v p="$p1" 'BEGIN { exit !(p > 0.5) }'; then pass "a horizontal bar is class 1 (p = $p1)"; else echo "FAIL: p(class 1) '$p1'"; cat "$work/out"; failures=$((failures + 1)); fi
curl -sf -H 'Content-Type: application/json' -d "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,36],\"datatype\":\"FP32\",\"data\":[$bar]}]}" \
  "$url/v2/models/flat/infer" > "$work/out"; check "infer on a flat (1, 36) image through the reshape" 0 $?
code=$(curl -s -o "$work/out" -w '%{http_code}' -H 'Content-Type: application/json' -d "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,36],\"datatype\":\"FP32\",\"data\":[$bar]}]}" "$url/v2/models/img/infer")
check "a flat image for the (1, 6, 6) model is a 400" 400 "$code"
contains "the 400 names both shapes" "$work/out" "shape \[1, 36\] does not match the model's \[-1, 1, 6, 6\]"
kill -TERM "$server"; wait "$server"; check "the CNN server exits 0 on SIGTERM" 0 $?

# A model file written before the open layer set (axon.format_version 1) still loads
# and predicts what it predicted then.
fixtures=$(dirname "$0")/fixtures
"$axon" predict --model "$fixtures/format1_cnn.safetensors" --input "$fixtures/format1_cnn_inputs.npy" --proba > "$work/format1.csv"
check "a format-1 model file still predicts" 0 $?
if cmp -s "$work/format1.csv" "$fixtures/format1_cnn_predictions.csv"; then pass "its predictions are the ones saved with it"
else echo "FAIL: format-1 predictions differ"; diff "$work/format1.csv" "$fixtures/format1_cnn_predictions.csv"; failures=$((failures + 1)); fi

# A functional model of two inputs (a shared layer, a residual connection) and two
# outputs, from a spec: train, evaluate, summary, serve with named inputs.
cat > "$work/functional.json" <<'JSON'
{"type": "functional",
 "inputs": [{"name": "a", "shape": [4]}, {"name": "b", "shape": [4]}],
 "layers": [{"type": "dense", "name": "shared", "units": 8, "activation": "relu", "seed": 1},
            {"type": "add", "name": "sum"},
            {"type": "dense", "name": "inner", "units": 8, "activation": "relu", "seed": 2},
            {"type": "add", "name": "residual"},
            {"type": "dense", "name": "label", "units": 2, "activation": "softmax", "seed": 3},
            {"type": "dense", "name": "value", "units": 1, "seed": 4}],
 "nodes": [{"layer": "shared", "inputs": ["a"]}, {"layer": "shared", "inputs": ["b"]},
           {"layer": "sum", "inputs": ["shared", "shared@1"]},
           {"layer": "inner", "inputs": ["sum"]}, {"layer": "residual", "inputs": ["sum", "inner"]},
           {"layer": "label", "inputs": ["residual"]}, {"layer": "value", "inputs": ["residual"]}],
 "outputs": ["label", "value"],
 "compile": {"optimizer": {"type": "adam", "learning_rate": 0.01},
             "loss": ["sparse_categorical_crossentropy", "mse"], "metrics": [["accuracy"], []]}}
JSON
# NPY files from the standard library alone: label = (sum(a + b) > 0), value = sum(a + b).
python3 - "$work" <<'PY'
import random, struct, sys
def save(path, rows, cols):
    shape = f"({len(rows)}, {cols})" if cols else f"({len(rows)},)"
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        for row in rows: f.write(struct.pack("<%df" % len(row), *row))
random.seed(5)
a = [[random.uniform(-1, 1) for _ in range(4)] for _ in range(256)]
b = [[random.uniform(-1, 1) for _ in range(4)] for _ in range(256)]
total = [sum(x) + sum(y) for x, y in zip(a, b)]
save(sys.argv[1] + "/a.npy", a, 4); save(sys.argv[1] + "/b.npy", b, 4)
save(sys.argv[1] + "/label.npy", [[float(t > 0)] for t in total], 0)
save(sys.argv[1] + "/value.npy", [[t] for t in total], 1)
PY
data="npy:$work/a.npy+$work/b.npy,$work/label.npy+$work/value.npy"
"$axon" train --model "$work/functional.json" --data "$data" --epochs 30 --batch-size 32 --out "$work/functional.safetensors" --verbose 0 2> "$work/err"
check "train a two-input, two-output functional spec" 0 $?
"$axon" evaluate --model "$work/functional.safetensors" --data "$data" > "$work/out"; check "evaluate it" 0 $?
contains "evaluate reports each output's loss" "$work/out" "value_loss: "
if awk '{ for (i = 1; i <= NF; i++) if ($i == "label_accuracy:") exit !($(i + 1) > 0.9) }' "$work/out"; then pass "the label head learned (accuracy > 0.9)"
else echo "FAIL: label accuracy:"; cat "$work/out"; failures=$((failures + 1)); fi
"$axon" summary --model "$work/functional.safetensors" > "$work/out"; check "summary of a functional model file" 0 $?
contains "summary has a connected-to column" "$work/out" "Connected to"
contains "summary shows the shared layer's second call" "$work/out" "shared@1 (Dense)"
contains "summary shows what the residual add reads" "$work/out" "sum, inner"
"$axon" predict --model "$work/functional.safetensors" --input "$work/a.npy+$work/b.npy" > "$work/out" 2> "$work/err"
check "predict refuses two outputs for one CSV" 1 $?
contains "and says why" "$work/err" "the model has 2 outputs"
start_server --model two=$work/functional.safetensors
url="http://127.0.0.1:$port"
curl -sf "$url/v2/models/two" > "$work/out"; check "functional model metadata" 0 $?
contains "metadata names both inputs" "$work/out" '"inputs":\[{"datatype":"FP32","name":"a","shape":\[-1,4\]},{"datatype":"FP32","name":"b"'
curl -sf -H 'Content-Type: application/json' -d '{"inputs":[{"name":"b","shape":[1,4],"datatype":"FP32","data":[0.5,0.5,0.5,0.5]},
  {"name":"a","shape":[1,4],"datatype":"FP32","data":[0.5,0.5,0.5,0.5]}],"outputs":[{"name":"value"}]}' "$url/v2/models/two/infer" > "$work/out"
check "infer with two named inputs" 0 $?
contains "only the output asked for comes back" "$work/out" '"outputs":\[{"data":\[[^]]*\],"datatype":"FP32","name":"value","shape":\[1,1\]}\]'
kill -TERM "$server"; wait "$server"; check "the functional server exits 0 on SIGTERM" 0 $?
# A layer type this program never registered (a user's layer lives in the user's own
# program): the CLI refuses the spec naming the type.
echo '{"input_shape": [3], "layers": [{"type": "scale_shift", "power": 2}]}' > "$work/custom.json"
"$axon" summary --model "$work/custom.json" > "$work/out" 2> "$work/err"; check "an unregistered layer type is refused" 1 $?
contains "naming the type" "$work/err" 'layers\[0\].type: expected a registered type (.*), got "scale_shift"'

# Hostile files and failed runs (issue 17).
mkfifo "$work/fifo"
timeout 10 "$axon" predict --model "$work/fifo" --input "$work/inputs.csv" > "$work/out" 2>&1
check "a FIFO as --model fails at once" 1 $?
contains "the FIFO is named" "$work/out" "fifo: not a regular file"
mkfifo "$work/fifo.csv" "$work/fifo.json"
timeout 10 "$axon" predict --model "$work/m.safetensors" --input "$work/fifo.csv" > "$work/out" 2>&1
check "a FIFO as --input fails at once" 1 $?
timeout 10 "$axon" summary --model "$work/fifo.json" > "$work/out" 2>&1
check "a FIFO as a spec fails at once" 1 $?
timeout 10 "$axon" train --model "$work/spec.json" --data "csv:/dev/zero" --out "$work/x.safetensors" > "$work/out" 2>&1
check "csv:/dev/zero fails at once" 1 $?
contains "/dev/zero is not a regular file" "$work/out" "read_csv: /dev/zero: not a regular file"
"$axon" train --model "$work/spec.json" --data "csv:$work/train.csv?label=label" --batch-size 9223372036854775807 --epochs 1 \
  --verbose 2 --out "$work/huge_batch.safetensors" > "$work/out" 2>&1
check "--batch-size 2^63-1 trains" 0 $?
contains "a huge batch is one step of every row" "$work/out" "Epoch 1/1 - 1 steps"

"$axon" predict --model "$work/m.safetensors" --input "$work/inputs.csv" --output /dev/full > "$work/out" 2>&1
check "predict --output /dev/full fails" 1 $?
contains "the write failure is explained" "$work/out" "/dev/full: write failed"
"$axon" predict --model "$work/m.safetensors" --input "$work/inputs.csv" > /dev/full 2> "$work/out"
check "predict to a full standard output fails" 1 $?

sed 's/"learning_rate": 0.02/"learning_rate": 1e308/' "$work/spec.json" > "$work/diverge.json"
train --epochs 2 --checkpoint "$work/nan_ck" --out "$work/good.safetensors" > "$work/out" 2>&1; check "train 2 good epochs" 0 $?
cp "$work/nan_ck/checkpoint.safetensors" "$work/good_ck.safetensors"
"$axon" train --model "$work/diverge.json" --data "csv:$work/train.csv?label=label" --verbose 0 --seed 5 --epochs 4 \
  --checkpoint "$work/nan_ck" --resume --out "$work/nan.safetensors" > "$work/out" 2>&1
check "a diverged run fails" 1 $?
contains "the divergence is explained" "$work/out" "training diverged: the loss is"
[ ! -e "$work/nan.safetensors" ]; check "a diverged run writes no --out" 0 $?
cmp -s "$work/nan_ck/checkpoint.safetensors" "$work/good_ck.safetensors"; check "the last good checkpoint is kept" 0 $?
"$axon" train --model "$work/diverge.json" --data "csv:$work/train.csv?label=label" --verbose 0 --epochs 1 --allow-nan \
  --out "$work/nan.safetensors" > "$work/out" 2>&1
check "--allow-nan trains on" 0 $?
ls -a "$work/nan_ck" | grep -q 'tmp-'; check "no temp files are left in the checkpoint folder" 1 $?

"$axon" train --model "$work/spec.json" --data "csv:$work/train.csv?label=label" --verbose 2 --out "$work/no/such/dir/m.safetensors" > "$work/out" 2>&1
check "an --out in a missing folder fails" 1 $?
contains "the --out failure names the folder" "$work/out" "does not exist"
grep -q "Epoch" "$work/out"; check "it fails before training" 1 $?

python3 - "$work" <<'PY'
import struct, sys
def npy(path, values, shape):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join("%d," % d for d in shape)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack("<%df" % len(values), *values))
npy(sys.argv[1] + "/x_nan.npy", [0.5, float("nan")] * 20, (20, 2))
npy(sys.argv[1] + "/y.npy", [0, 1] * 10, (20,))
PY
"$axon" train --model "$work/spec.json" --data "npy:$work/x_nan.npy,$work/y.npy" --out "$work/x.safetensors" > "$work/out" 2>&1
check "NaN training data fails" 1 $?
contains "the NaN data is explained" "$work/out" "20 of 40 values are NaN or infinite (the first in row 1)"

# A character language model from a spec holding its vocabulary: trained on "abcd"
# repeated (each step's label the next character), it continues a prompt with the cache
# and without, alike.
cat > "$work/chars.json" <<'JSON'
{"input_shape": [8],
 "layers": [{"type": "text_vectorization", "split": "character", "standardize": "none", "vocabulary": ["a", "b", "c", "d"]},
            {"type": "embedding", "input_dim": 6, "output_dim": 8, "seed": 1},
            {"type": "positional_embedding", "sequence_length": 8, "seed": 2},
            {"type": "transformer_decoder_block", "num_heads": 2, "intermediate_dim": 16, "seed": 3},
            {"type": "dense", "units": 6, "activation": "softmax", "seed": 4}],
 "compile": {"optimizer": {"type": "adam", "learning_rate": 0.02}, "loss": "sparse_categorical_crossentropy"}}
JSON
python3 - "$work" <<'PY'
import struct, sys
def npy(path, rows):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 8), }" % len(rows)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        for row in rows: f.write(struct.pack("<8f", *row))
ids = [2 + i % 4 for i in range(200)]  # a b c d a b ... as ids 2..5
npy(sys.argv[1] + "/chars_x.npy", [ids[i:i + 8] for i in range(64)])
npy(sys.argv[1] + "/chars_y.npy", [ids[i + 1:i + 9] for i in range(64)])
PY
"$axon" train --model "$work/chars.json" --data "npy:$work/chars_x.npy,$work/chars_y.npy" --epochs 40 --batch-size 16 \
  --out "$work/chars.safetensors" --verbose 0 > "$work/out" 2>&1; check "train a character model with its vocabulary" 0 $?
"$axon" generate --model "$work/chars.safetensors" --prompt "bcd" --tokens 9 --temperature 0 > "$work/gen" 2> "$work/err"
check "generate" 0 $?
contains "it continues the pattern" "$work/gen" "^bcdabcdabcda$"
contains "it reports its speed" "$work/err" "tokens/s (cached)"
"$axon" generate --model "$work/chars.safetensors" --prompt "bcd" --tokens 9 --temperature 0 --no-cache > "$work/gen2" 2> "$work/err"
if cmp -s "$work/gen" "$work/gen2"; then pass "without the cache, the same text"; else echo "FAIL: cached and uncached differ"; failures=$((failures + 1)); fi
"$axon" generate --model "$work/functional.safetensors" --prompt "x" > "$work/out" 2>&1; check "generate needs a text model" 1 $?
contains "and says so" "$work/out" "holds no TextVectorization"

echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
