# Sourced by the CLI tests: writes into $work a small classification problem, train.csv
# (400 rows of two features; the label is 1 when x0 + x1 > 0), inputs.csv (5 inputs clear
# of the boundary) and spec.json (an MLP for it).
awk 'BEGIN { srand(3); print "x0,x1,label"; for (i = 0; i < 400; i++) { a = rand() * 2 - 1; b = rand() * 2 - 1; print a "," b "," (a + b > 0 ? 1 : 0) } }' > "$work/train.csv"
# Inputs clear of the boundary, so the expected classes are unambiguous.
awk 'BEGIN { srand(4); print "x0,x1"; while (n < 5) { a = rand() * 2 - 1; b = rand() * 2 - 1; if (a + b > 0.3 || a + b < -0.3) { print a "," b; n++ } } }' > "$work/inputs.csv"
cat > "$work/spec.json" <<'JSON'
{"input_shape": [2],
 "layers": [{"type": "dense", "units": 16, "activation": "relu"},
            {"type": "dense", "units": 2, "activation": "softmax"}],
 "compile": {"optimizer": {"type": "adam", "learning_rate": 0.02},
             "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}}
JSON
