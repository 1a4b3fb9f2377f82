#!/usr/bin/env python3
"""Golden values for tests/test_optimizers.cpp and tests/test_losses.cpp.

Computed with PyTorch in float64. Run with the Debian interpreter that has torch:
    /usr/bin/python3 tests/golden/optimizers_and_losses.py
and paste the printed C++ initialisers into the tests. The inputs here must match
the inputs written in the tests.
"""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
EPS = 1e-7  # Keras's probability clipping, as axon


def cxx(values):
    return "{" + ", ".join(f"{v:.17g}" for v in torch.as_tensor(values).flatten().tolist()) + "}"


# ---- Optimizers: loss = sum(k * (w - c)^2) on w of shape (3,), 4 steps ----------------
W0, C, K = [0.5, -1.2, 2.0], [1.0, 0.3, -0.7], [0.5, 2.0, 3.0]
STEPS = 4


def trajectory(name, make):
    w = torch.tensor(W0, requires_grad=True)
    opt = make([w])
    rows = []
    for _ in range(STEPS):
        opt.zero_grad()
        (torch.tensor(K) * (w - torch.tensor(C)) ** 2).sum().backward()
        opt.step()
        rows.append(cxx(w.detach()))
    print(f"// {name}\n{{" + ",\n ".join(rows) + "}\n")


print("// ===== optimizers: parameter after each of 4 steps =====")
trajectory("SGD(0.1, 0, false)", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.0, dampening=0, nesterov=False))
trajectory("SGD(0.05, 0.9, false)", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0, nesterov=False))
trajectory("SGD(0.05, 0.9, true)", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0, nesterov=True))
trajectory("Adam(0.1, 0.8, 0.95, 1e-3)", lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.8, 0.95), eps=1e-3, weight_decay=0))
trajectory("AdamW(0.1, 0.05, 0.85, 0.99, 1e-8)",
           lambda p: torch.optim.AdamW(p, lr=0.1, betas=(0.85, 0.99), eps=1e-8, weight_decay=0.05))
trajectory("RMSprop(0.05, 0.8, 0, 1e-2)",
           lambda p: torch.optim.RMSprop(p, lr=0.05, alpha=0.8, eps=1e-2, momentum=0.0, centered=False, weight_decay=0))
trajectory("RMSprop(0.05, 0.8, 0.7, 1e-2)",
           lambda p: torch.optim.RMSprop(p, lr=0.05, alpha=0.8, eps=1e-2, momentum=0.7, centered=False, weight_decay=0))
trajectory("Adagrad(0.3, 0.2, 1e-2)",
           lambda p: torch.optim.Adagrad(p, lr=0.3, lr_decay=0, weight_decay=0, initial_accumulator_value=0.2, eps=1e-2))


# ---- Losses: value and gradient w.r.t. the prediction --------------------------------
def golden(name, fn, pred, target):
    p = torch.tensor(pred, requires_grad=True)
    loss = fn(p, torch.tensor(target))
    loss.backward()
    print(f"// {name}\nloss {loss.item():.17g}\ngrad {cxx(p.grad)}\n")


def clip(p):
    return torch.clamp(p, EPS, 1 - EPS)


def bce_prob(p, t):
    p = clip(p)
    return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()


def cce_prob(p, t):  # Keras: rows normalised to sum 1, then clipped
    return -(t * torch.log(clip(p / p.sum(-1, keepdim=True)))).sum(-1).mean()


def sparse_prob(p, labels):  # axon (like tf.keras): clipped, not normalised
    return -torch.log(clip(p)).gather(1, labels.long().view(-1, 1)).mean()


print("// ===== losses =====")
REG_PRED = [[0.3, -1.2, 2.5], [0.0, 0.8, -0.4], [1.7, -0.6, 0.9], [-2.2, 0.1, 1.4]]
REG_TARGET = [[0.5, -0.4, 0.1], [0.6, 1.0, -0.5], [1.5, -1.9, 3.0], [-0.3, 0.75, 1.0]]
golden("mean_squared_error", F.mse_loss, REG_PRED, REG_TARGET)
golden("mean_absolute_error", F.l1_loss, REG_PRED, REG_TARGET)
golden("huber delta 1", lambda p, t: F.huber_loss(p, t, delta=1.0), REG_PRED, REG_TARGET)
golden("huber delta 0.5", lambda p, t: F.huber_loss(p, t, delta=0.5), REG_PRED, REG_TARGET)

BIN_PRED = [[0.9, 0.2], [0.35, 0.6], [0.05, 0.75]]
BIN_TARGET = [[1.0, 0.0], [0.3, 1.0], [0.0, 0.8]]
golden("binary_crossentropy probabilities", bce_prob, BIN_PRED, BIN_TARGET)
golden("binary_crossentropy probabilities 0 and 1", bce_prob, [[0.0, 1.0], [1.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]])
BIN_LOGITS = [[2.3, -0.7], [0.0, 1.1], [-3.2, 0.4]]
golden("binary_crossentropy logits", F.binary_cross_entropy_with_logits, BIN_LOGITS, BIN_TARGET)
golden("binary_crossentropy huge logits", F.binary_cross_entropy_with_logits,
       [[1000.0, -1000.0], [1e4, -1e4]], [[0.0, 1.0], [1.0, 0.25]])

CAT_PROB = [[0.7, 0.2, 0.1], [0.1, 0.3, 0.5], [0.25, 0.25, 0.6]]  # rows 2, 3 do not sum to 1
CAT_TARGET = [[1.0, 0.0, 0.0], [0.0, 0.2, 0.8], [0.0, 1.0, 0.0]]
golden("categorical_crossentropy probabilities", cce_prob, CAT_PROB, CAT_TARGET)
CAT_LOGITS = [[1.5, -0.3, 0.2], [0.0, 2.2, -1.1], [-0.5, 0.4, 3.0]]
golden("categorical_crossentropy logits", lambda p, t: -(t * F.log_softmax(p, -1)).sum(-1).mean(), CAT_LOGITS, CAT_TARGET)

SPARSE_PROB = [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.15, 0.6], [0.0, 1.0, 0.0]]
SPARSE_LABELS = [0.0, 2.0, 1.0, 0.0]
golden("sparse_categorical_crossentropy probabilities", sparse_prob, SPARSE_PROB, SPARSE_LABELS)
golden("sparse_categorical_crossentropy logits", lambda p, t: F.cross_entropy(p, t.long()),
       [[1.5, -0.3, 0.2], [0.0, 2.2, -1.1], [-0.5, 0.4, 3.0], [0.3, 0.3, -0.9]], SPARSE_LABELS)
golden("sparse_categorical_crossentropy huge logits", lambda p, t: F.cross_entropy(p, t.long()),
       [[1000.0, -1000.0, 0.0], [1e4, -1e4, 0.0], [-1000.0, 1000.0, 5.0]], [1.0, 0.0, 1.0])
