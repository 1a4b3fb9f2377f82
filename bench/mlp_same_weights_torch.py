"""PyTorch half of bench/mlp_same_weights.sh: loads axon's initial weights (a safetensors
file, read with struct + json) and trains on the same unshuffled batches."""
import gzip, json, struct, sys

import numpy as np
import torch
torch.set_num_threads(1)
D = "/usr/share/datasets/fashion-mnist"
def idx(n, o):
    return np.frombuffer(gzip.open(f"{D}/{n}").read(), dtype=np.uint8, offset=o)
xt = torch.from_numpy(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255)
yt = torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
xs = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255)
ys = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n]); body = raw[8 + n:]
def t(name):
    info = h[name]; b, e = info["data_offsets"]
    return torch.from_numpy(np.frombuffer(body[b:e], dtype=np.float32).reshape(info["shape"]).copy())
model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
with torch.no_grad():
    for i, layer in enumerate([0, 2, 4]):
        model[layer].weight.copy_(t(f"layers.{i}.kernel").T)
        model[layer].bias.copy_(t(f"layers.{i}.bias"))
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
lf = torch.nn.CrossEntropyLoss()
for e in range(3):
    total = 0; count = 0
    for b, i in enumerate(range(0, 60000, 128)):
        xb, yb = xt[i:i+128], yt[i:i+128]
        opt.zero_grad(); loss = lf(model(xb), yb); loss.backward(); opt.step()
        total += loss.item() * len(xb); count += len(xb)
        if b < 3 or b == 468: print(f"batch {b} running loss {total / count:.6f}")
    with torch.no_grad():
        acc = (model(xs).argmax(1) == ys).float().mean().item()
        print(f"epoch {e+1} test loss: {lf(model(xs), ys).item():.4f} - accuracy: {acc:.4f}")
