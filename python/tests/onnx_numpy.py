"""A plain numpy reading of ONNX files: each operator as the ONNX specification writes its
formulas (https://onnx.ai/onnx/operators/, copied into the docstrings below where they
matter), independent of axon's kernels. The tests run axon's exported files through it
where OpenCV 4.6 cannot (test_onnx.py lists why)."""
import numpy as np
import onnx
import onnx.numpy_helper


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def recurrence(op, a, x, w, r, b, initial):
    """ONNX's RNN, GRU and LSTM (layout 0): X (T, B, F), W (D, G*H, F), R (D, G*H, H),
    B (D, 2*G*H) -> Y (T, D, B, H), Y_h (D, B, H) [, Y_c]. Gates: LSTM i, o, f, c;
    GRU z, r, h; RNN one.
      LSTM: i, o, f = sigmoid(.), c~ = tanh(.), C = f C + i c~, H = o tanh(C)
      GRU:  z, r = sigmoid(.); h~ = tanh(X Wh + r (H Rh + Rbh) + Wbh) with linear_before_reset,
            tanh(X Wh + (r H) Rh + Rbh + Wbh) without; H = (1 - z) h~ + z H
      RNN:  H = tanh(X Wi + H Ri + Wbi + Rbi)"""
    steps, batch = x.shape[0], x.shape[1]
    hidden = a["hidden_size"]
    direction = a.get("direction", b"forward").decode()
    directions = ["forward", "reverse"] if direction == "bidirectional" else [direction]
    y = np.zeros((steps, len(directions), batch, hidden), np.float64)
    finals_h, finals_c = [], []
    for d, way in enumerate(directions):
        wb, rb = np.split(b[d], 2) if b is not None else (0, 0)
        h = initial[0][d] if initial[0] is not None else np.zeros((batch, hidden))
        c = initial[1][d] if len(initial) > 1 and initial[1] is not None else np.zeros((batch, hidden))
        order = range(steps) if way == "forward" else range(steps - 1, -1, -1)
        for t in order:
            xw = x[t] @ w[d].T + wb
            if op == "LSTM":
                g = xw + h @ r[d].T + rb
                i, o, f, cc = np.split(g, 4, axis=1)
                c = sigmoid(f) * c + sigmoid(i) * np.tanh(cc)
                h = sigmoid(o) * np.tanh(c)
            elif op == "GRU":
                xz, xr, xh = np.split(xw, 3, axis=1)
                rz, rr, rh = np.split(r[d], 3, axis=0)
                bz, br, bh = np.split(rb, 3) if b is not None else (0, 0, 0)
                z = sigmoid(xz + h @ rz.T + bz)
                reset = sigmoid(xr + h @ rr.T + br)
                if a.get("linear_before_reset", 0):
                    candidate = np.tanh(xh + reset * (h @ rh.T + bh))
                else:
                    candidate = np.tanh(xh + (reset * h) @ rh.T + bh)
                h = (1 - z) * candidate + z * h
            else:
                h = np.tanh(xw + h @ r[d].T + rb)
            y[t, d] = h
        finals_h.append(h)
        finals_c.append(c)
    outputs = [y, np.stack(finals_h)]
    return outputs + [np.stack(finals_c)] if op == "LSTM" else outputs


def slice_of(data, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * data.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        index[ax] = slice(int(s), int(e), int(st))
    return data[tuple(index)]


def run(proto, inputs):
    """Runs the graph on {input name: array}; returns the outputs in the graph's order."""
    values = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    values.update(inputs)
    values[""] = None
    for node in proto.graph.node:
        a = {attr.name: onnx.helper.get_attribute_value(attr) for attr in node.attribute}
        ins = [values[i] for i in node.input]
        op = node.op_type
        if op == "Conv" and ins[1].ndim == 4:  # 2-D: (N, C, H, W) * (F, C, kh, kw), a sum over the taps
            pads, strides = a.get("pads", [0, 0, 0, 0]), a.get("strides", [1, 1])
            dilations, w = a.get("dilations", [1, 1]), ins[1]
            data = np.pad(ins[0], ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
            size = [(data.shape[2 + i] - dilations[i] * (w.shape[2 + i] - 1) - 1) // strides[i] + 1 for i in (0, 1)]
            out = np.zeros((data.shape[0], w.shape[0], size[0], size[1]))
            for i in range(w.shape[2]):
                for j in range(w.shape[3]):
                    rows = slice(i * dilations[0], i * dilations[0] + strides[0] * (size[0] - 1) + 1, strides[0])
                    cols = slice(j * dilations[1], j * dilations[1] + strides[1] * (size[1] - 1) + 1, strides[1])
                    out += np.einsum("nchw,fc->nfhw", data[:, :, rows, cols], w[:, :, i, j])
            outs = [out + (ins[2][None, :, None, None] if len(ins) > 2 else 0)]
        elif op == "Conv":  # 1-D: (N, C, L) * (F, C, k)
            data, w = np.pad(ins[0], ((0, 0), (0, 0), (a["pads"][0], a["pads"][1]))), ins[1]
            s, d, k = a["strides"][0], a["dilations"][0], w.shape[2]
            length = (data.shape[2] - d * (k - 1) - 1) // s + 1
            out = np.stack([np.einsum("nck,fck->nf", data[:, :, t * s:t * s + d * (k - 1) + 1:d], w)
                            for t in range(length)], axis=2)
            outs = [out + (ins[2][None, :, None] if len(ins) > 2 else 0)]
        elif op in ("RNN", "GRU", "LSTM"):
            initial = ins[5:7] if len(ins) > 5 else [None]
            outs = recurrence(op, a, ins[0], ins[1], ins[2], ins[3] if len(ins) > 3 else None, initial)
        elif op == "Elu":
            outs = [np.where(ins[0] > 0, ins[0], a["alpha"] * (np.exp(ins[0]) - 1))]
        elif op == "Flatten":
            outs = [ins[0].reshape(ins[0].shape[0], -1)]
        elif op == "Reshape":
            outs = [ins[0].reshape([ins[0].shape[i] if v == 0 else v for i, v in enumerate(ins[1])])]
        elif op == "Transpose":
            outs = [np.transpose(ins[0], a["perm"])]
        elif op == "Slice":
            outs = [slice_of(*ins)]
        elif op == "Split":
            outs = np.split(ins[0], len(node.output), axis=a.get("axis", 0))
        elif op == "Concat":
            outs = [np.concatenate(ins, axis=a["axis"])]
        elif op == "Gather":
            outs = [np.take(ins[0], ins[1], axis=a.get("axis", 0))]
        elif op == "Cast":
            outs = [ins[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])]
        elif op == "Softmax":
            e = np.exp(ins[0] - ins[0].max(axis=a.get("axis", -1), keepdims=True))
            outs = [e / e.sum(axis=a.get("axis", -1), keepdims=True)]
        elif op == "LayerNormalization":  # over the last axis
            mean = ins[0].mean(axis=-1, keepdims=True)
            variance = ((ins[0] - mean) ** 2).mean(axis=-1, keepdims=True)
            outs = [(ins[0] - mean) / np.sqrt(variance + a.get("epsilon", 1e-5)) * ins[1] + ins[2]]
        elif op in ("ReduceMean", "ReduceMax"):
            f = np.mean if op == "ReduceMean" else np.max
            outs = [f(ins[0], axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))]
        elif op in ("MatMul", "Add", "Sub", "Mul", "Div"):
            f = {"MatMul": np.matmul, "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op]
            outs = [f(ins[0], ins[1])]
        elif op in ("Relu", "Tanh", "Sigmoid", "Sqrt", "Identity"):
            f = {"Relu": lambda v: np.maximum(v, 0), "Tanh": np.tanh, "Sigmoid": sigmoid, "Sqrt": np.sqrt,
                 "Identity": lambda v: v}[op]
            outs = [f(ins[0])]
        else:
            raise NotImplementedError(op)
        for name, out in zip(node.output, outs):
            values[name] = out if out.dtype.kind in "iu" else out.astype(np.float32)
    return [values[o.name] for o in proto.graph.output]
