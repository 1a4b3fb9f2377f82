#!/usr/bin/env bash
# axon train --report, opened by a real browser: headless Chromium loads the report,
# the DOM it built is checked (one point per epoch on each curve, classes x classes
# heat-map cells), its console must stay quiet, and a screenshot is saved.
# Skips (exit 77) only when Chromium cannot start.
# Usage: tests/report_browser_test.sh PATH_TO_AXON SCREENSHOT.png
set -u
axon=$1
screenshot=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "SKIP: no chromium (scripts/bootstrap browser installs it)"; exit 77; }
run_browser() {  # run_browser ARGS... : headless, no sandbox (tests may run as root), a scratch profile
  timeout 60 "$browser" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$work/profile" --enable-logging=stderr --v=0 "$@"
}
run_browser --dump-dom "about:blank" > /dev/null 2> "$work/start.log" || { cat "$work/start.log"; echo "SKIP: chromium does not start"; exit 77; }

# Three classes of 8x8 images (a bright row band each), 5 epochs with validation rows.
awk 'BEGIN { srand(5); printf "p0"; for (p = 1; p < 64; p++) printf ",p%d", p; print ",label";
  for (i = 0; i < 300; i++) { c = i % 3; for (p = 0; p < 64; p++) printf "%s%.3f", (p ? "," : ""), (int(p / 8) >= 2 * c && int(p / 8) < 2 * c + 3 ? 0.35 : 0.1) + 1.2 * rand(); print "," c } }' > "$work/images.csv"
cat > "$work/spec.json" <<'JSON'
{"input_shape": [64],
 "layers": [{"type": "dense", "units": 16, "activation": "relu"},
            {"type": "dense", "units": 3, "activation": "softmax"}],
 "compile": {"optimizer": {"type": "adam", "learning_rate": 0.01},
             "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}}
JSON
"$axon" train --model "$work/spec.json" --data "csv:$work/images.csv" --epochs 5 --batch-size 32 \
  --validation-split 0.2 --verbose 0 --report "$work/report.html" --out "$work/m.safetensors" > "$work/train.log" 2>&1 \
  || { cat "$work/train.log"; fail "axon train --report failed"; }

run_browser --dump-dom "file://$work/report.html" > "$work/dom.html" 2> "$work/console.log" || fail "chromium could not load the report"
points() { grep -o "class=\"point\" data-series=\"$1\"" "$work/dom.html" | wc -l; }
[ "$(points loss)" = 5 ] || fail "the loss curve has $(points loss) points, not 5"
[ "$(points val_loss)" = 5 ] || fail "the val_loss curve has $(points val_loss) points, not 5"
[ "$(points accuracy)" = 5 ] || fail "the accuracy curve has $(points accuracy) points, not 5"
cells=$(grep -o '<rect class="cell"' "$work/dom.html" | wc -l)
[ "$cells" = 9 ] || fail "the heat map has $cells cells, not 9"
grep -q 'axon train --model' "$work/dom.html" || fail "the report does not show its command"
examples=$(grep -o 'class="example"' "$work/dom.html" | wc -l)
images=$(grep -o 'src="data:image/png;base64,' "$work/dom.html" | wc -l)
[ "$examples" -gt 0 ] && [ "$images" = "$examples" ] || fail "$examples misclassified examples, $images images"
grep -q 'Finished: 5 of 5 epochs' "$work/dom.html" || fail "the report is not final"
if grep -iE 'CONSOLE|Uncaught|Refused' "$work/console.log"; then fail "the browser console reported the lines above"; fi
echo "ok: chromium renders the report: 5 points per curve, 9 heat-map cells, $images misclassified images, a quiet console"

run_browser --screenshot="$screenshot" --window-size=1200,2200 --hide-scrollbars "file://$work/report.html" \
  > /dev/null 2>> "$work/console.log" || fail "no screenshot"
[ -s "$screenshot" ] && [ "$(head -c 4 "$screenshot" | od -An -c | tr -d ' ')" = '211PNG' ] || fail "the screenshot is not a PNG"
echo "ok: screenshot at $screenshot"
