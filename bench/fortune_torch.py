"""PyTorch's copy of examples/fortune_classifier's models, trained on the same vectorized
splits (written by the example) with the same settings: Adam 2e-3, batch 32, the same
epochs. Not the same initial weights: this compares what each library reaches.
- gru: Embedding(V, 64) -> bidirectional GRU(32) over each entry's real words
  (pack_padded_sequence, axon's mask) -> the two final states -> Dropout(0.3) -> Linear(5).
- transformer: Embedding(V, 64) + learned positions -> nn.TransformerEncoderLayer(64, 4,
  128, dropout 0.1, norm_first) with a key padding mask -> mean over the real words ->
  Dropout(0.3) -> Linear(5).
Prints "torch model=K accuracy=.. macro_f1=.. seconds=..".
Usage: /usr/bin/python3 bench/fortune_torch.py THREADS gru|transformer EPOCHS PREFIX"""
import sys
import time

import numpy as np
import torch

threads, kind, epochs, prefix = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(threads)
torch.manual_seed(11)
x_train = torch.from_numpy(np.load(prefix + "x_train.npy").astype(np.int64))
y_train = torch.from_numpy(np.load(prefix + "y_train.npy").astype(np.int64))
x_test = torch.from_numpy(np.load(prefix + "x_test.npy").astype(np.int64))
y_test = torch.from_numpy(np.load(prefix + "y_test.npy").astype(np.int64))
vocabulary, steps, classes = int(max(x_train.max(), x_test.max())) + 1, x_train.shape[1], 5


class Gru(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocabulary, 64)
        self.gru = torch.nn.GRU(64, 32, batch_first=True, bidirectional=True)
        self.dropout = torch.nn.Dropout(0.3)
        self.out = torch.nn.Linear(64, classes)

    def forward(self, ids):
        lengths = (ids != 0).sum(1).clamp(min=1)
        packed = torch.nn.utils.rnn.pack_padded_sequence(self.embedding(ids), lengths, batch_first=True,
                                                         enforce_sorted=False)
        _, h = self.gru(packed)
        return self.out(self.dropout(torch.cat([h[0], h[1]], 1)))


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocabulary, 64)
        self.positions = torch.nn.Parameter(torch.randn(steps, 64) * 0.05)
        self.block = torch.nn.TransformerEncoderLayer(64, 4, 128, dropout=0.1, batch_first=True, norm_first=True)
        self.dropout = torch.nn.Dropout(0.3)
        self.out = torch.nn.Linear(64, classes)

    def forward(self, ids):
        padding = ids == 0
        h = self.block(self.embedding(ids) + self.positions, src_key_padding_mask=padding)
        real = (~padding).unsqueeze(-1).float()
        pooled = (h * real).sum(1) / real.sum(1).clamp(min=1)
        return self.out(self.dropout(pooled))


model = Gru() if kind == "gru" else Encoder()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3, eps=1e-7)
loss_of = torch.nn.CrossEntropyLoss()
start = time.perf_counter()
for epoch in range(epochs):
    model.train()
    order = torch.randperm(len(x_train))
    for i in range(0, len(order), 32):
        batch = order[i:i + 32]
        optimizer.zero_grad()
        loss_of(model(x_train[batch]), y_train[batch]).backward()
        optimizer.step()
seconds = time.perf_counter() - start
model.eval()
with torch.no_grad():
    predicted = model(x_test).argmax(1).numpy()
truth = y_test.numpy()
f1 = []
for c in range(classes):
    tp = np.sum((predicted == c) & (truth == c))
    precision = tp / max(np.sum(predicted == c), 1)
    recall = tp / max(np.sum(truth == c), 1)
    f1.append(0 if tp == 0 else 2 * precision * recall / (precision + recall))
print(f"torch model={kind} accuracy={np.mean(predicted == truth):.4f} macro_f1={np.mean(f1):.4f} seconds={seconds:.1f}")
