"""The same models as bench/char_lm_axon.cpp in PyTorch. The GPT: nn.TransformerEncoderLayer
(norm_first, batch_first, dropout 0) with a causal mask is axon's TransformerDecoderBlock
(tests/test_attention.cpp holds them equal). The LSTM: nn.LSTM, whose gate order is
Keras's (i, f, g, o), with axon's kernels transposed and its one bias as bias_ih (bias_hh
held at 0). Loads axon's initial weights and the
text's ids, trains on the same consecutive windows with Adam (axon's epsilon 1e-7), and
prints the median training step, the validation loss after, greedy generation's tokens
per second at context 128 (512 after a 127-token prompt; no cache: PyTorch 1.13's layers keep none) and the peak
resident memory. Prints "torch step_ms=.. val_loss=.. uncached_tps=.. rss_mb=..".
Usage: /usr/bin/python3 bench/char_lm_torch.py THREADS gpt|lstm INIT.safetensors IDS_PREFIX STEPS"""
import json
import resource
import statistics
import struct
import sys
import time

import numpy as np
import torch

threads, kind, init, ids_prefix, steps = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
torch.set_num_threads(threads)
CONTEXT, BATCH, D, HEADS, FF, VALIDATION = 128, 32, 128, 4, 512, 64

raw = open(init, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, body = json.loads(raw[8:8 + n]), raw[8 + n:]


def weight(name):
    info = header[name]
    b, e = info["data_offsets"]
    return torch.from_numpy(np.frombuffer(body[b:e], dtype=np.float32).reshape(info["shape"]).copy())


class Gpt(torch.nn.Module):
    def __init__(self, vocabulary):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocabulary, D)
        self.positions = torch.nn.Parameter(torch.zeros(CONTEXT, D))
        self.blocks = torch.nn.ModuleList(
            torch.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, batch_first=True, norm_first=True)
            for _ in range(2))
        self.norm = torch.nn.LayerNorm(D)
        self.out = torch.nn.Linear(D, vocabulary)

    def forward(self, ids):
        steps = ids.shape[1]
        mask = torch.triu(torch.full((steps, steps), float("-inf")), diagonal=1)
        x = self.embedding(ids) + self.positions[:steps]
        for block in self.blocks:
            x = block(x, src_mask=mask)
        return self.out(self.norm(x))


class Lstm(torch.nn.Module):
    def __init__(self, vocabulary):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocabulary, 64)
        self.lstm = torch.nn.LSTM(64, 256, batch_first=True)
        self.out = torch.nn.Linear(256, vocabulary)

    def forward(self, ids):
        return self.out(self.lstm(self.embedding(ids))[0])


def gpt_weights(model):
    model.embedding.weight.copy_(weight("layers.0.embeddings"))
    model.positions.copy_(weight("layers.1.embeddings"))
    for k, block in enumerate(model.blocks):
        p = f"layers.{2 + k}."
        a = p + "self_attention."
        block.self_attn.in_proj_weight.copy_(torch.cat([weight(a + f"{x}_kernel").T for x in ("query", "key", "value")]))
        block.self_attn.in_proj_bias.copy_(torch.cat([weight(a + f"{x}_bias") for x in ("query", "key", "value")]))
        block.self_attn.out_proj.weight.copy_(weight(a + "output_kernel").T)
        block.self_attn.out_proj.bias.copy_(weight(a + "output_bias"))
        for norm, name in ((block.norm1, "self_attention_norm"), (block.norm2, "feedforward_norm")):
            norm.weight.copy_(weight(p + name + ".gamma"))
            norm.bias.copy_(weight(p + name + ".beta"))
        for linear, name in ((block.linear1, "feedforward_intermediate"), (block.linear2, "feedforward_output")):
            linear.weight.copy_(weight(p + name + ".kernel").T)
            linear.bias.copy_(weight(p + name + ".bias"))
    model.norm.weight.copy_(weight("layers.4.gamma"))
    model.norm.bias.copy_(weight("layers.4.beta"))
    model.out.weight.copy_(weight("layers.5.kernel").T)
    model.out.bias.copy_(weight("layers.5.bias"))


def lstm_weights(model):
    model.embedding.weight.copy_(weight("layers.0.embeddings"))
    model.lstm.weight_ih_l0.copy_(weight("layers.1.kernel").T)
    model.lstm.weight_hh_l0.copy_(weight("layers.1.recurrent_kernel").T)
    model.lstm.bias_ih_l0.copy_(weight("layers.1.bias"))
    model.lstm.bias_hh_l0.zero_()
    model.lstm.bias_hh_l0.requires_grad_(False)  # one bias, as axon's: two would each take an Adam step
    model.out.weight.copy_(weight("layers.2.kernel").T)
    model.out.bias.copy_(weight("layers.2.bias"))


vocabulary = header["layers.0.embeddings"]["shape"][0]
model = Gpt(vocabulary) if kind == "gpt" else Lstm(vocabulary)
with torch.no_grad():
    (gpt_weights if kind == "gpt" else lstm_weights)(model)

train_ids = torch.from_numpy(np.load(ids_prefix + "train.npy").astype(np.int64))
val_ids = torch.from_numpy(np.load(ids_prefix + "val.npy").astype(np.int64))


def windows(sequence):  # language_model_windows(sequence, CONTEXT, CONTEXT)
    count = (len(sequence) - CONTEXT - 1) // CONTEXT + 1
    x = torch.stack([sequence[i * CONTEXT:i * CONTEXT + CONTEXT] for i in range(count)])
    y = torch.stack([sequence[i * CONTEXT + 1:i * CONTEXT + CONTEXT + 1] for i in range(count)])
    return x, y


train_x, train_y = windows(train_ids)
val_x, val_y = windows(val_ids)
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3, eps=1e-7)
loss_of = torch.nn.CrossEntropyLoss()
ms = []
for step in range(steps):
    first = (step * BATCH) % (len(train_x) - BATCH)
    start = time.perf_counter()
    optimizer.zero_grad()
    logits = model(train_x[first:first + BATCH])
    loss = loss_of(logits.reshape(-1, vocabulary), train_y[first:first + BATCH].reshape(-1))
    loss.backward()
    optimizer.step()
    ms.append((time.perf_counter() - start) * 1e3)
model.eval()
with torch.no_grad():
    val_loss = statistics.fmean(
        loss_of(model(val_x[i:i + BATCH]).reshape(-1, vocabulary), val_y[i:i + BATCH].reshape(-1)).item()
        for i in range(0, VALIDATION, BATCH))
    sequence = val_ids[:CONTEXT - 1].tolist()
    start = time.perf_counter()
    for _ in range(4 * CONTEXT):
        window = torch.tensor([sequence[-CONTEXT:]])
        sequence.append(int(model(window)[0, -1].argmax()))
    uncached = 4 * CONTEXT / (time.perf_counter() - start)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"torch model={kind} step_ms={statistics.median(ms):.1f} val_loss={val_loss:.4f} uncached_tps={uncached:.0f} rss_mb={rss:.0f}")
