"""Golden values for tests/test_losses.cpp: each loss and its gradient in float64 PyTorch.

Run with Debian's python3-torch: /usr/bin/python3 tests/golden/losses.py
"""
import torch
torch.set_printoptions(precision=17)
d = torch.float64
pred = torch.tensor([[0.2, -1.5], [2.0, 0.7], [-0.3, 1.1]], dtype=d, requires_grad=True)
target = torch.tensor([[0.0, -1.0], [0.5, 2.0], [0.3, 0.0]], dtype=d)
def report(name, loss, p):
    loss.backward()
    print(name, repr(loss.item()), [repr(v) for v in p.grad.flatten().tolist()])
    p.grad = None
report("mse", torch.nn.functional.mse_loss(pred, target), pred)
report("mae", torch.nn.functional.l1_loss(pred, target), pred)
report("huber1", torch.nn.functional.huber_loss(pred, target, delta=1.0), pred)
report("huber05", torch.nn.functional.huber_loss(pred, target, delta=0.5), pred)
probs = torch.tensor([[0.9], [0.2], [0.6], [0.45]], dtype=d, requires_grad=True)
t = torch.tensor([[1.0], [0.0], [0.0], [1.0]], dtype=d)
report("bce", torch.nn.functional.binary_cross_entropy(probs, t), probs)
logits = torch.tensor([[2.0], [-1.0], [0.3], [-0.2]], dtype=d, requires_grad=True)
report("bce_logits", torch.nn.functional.binary_cross_entropy_with_logits(logits, t), logits)
P = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25]], dtype=d, requires_grad=True)
onehot = torch.tensor([[1.0, 0, 0], [0, 0, 1.0], [0, 1.0, 0]], dtype=d)
report("cce", -(onehot * torch.log(P)).sum(1).mean(), P)
L = torch.tensor([[1.0, -0.5, 0.3], [0.2, 0.1, 2.0], [-1.0, 0.0, 1.5]], dtype=d, requires_grad=True)
soft = torch.tensor([[0.8, 0.1, 0.1], [0, 0.5, 0.5], [0.2, 0.3, 0.5]], dtype=d)
report("cce_logits_soft", -(soft * torch.log_softmax(L, 1)).sum(1).mean(), L)
labels = torch.tensor([0, 2, 1])
report("scce", torch.nn.functional.nll_loss(torch.log(P), labels), P)
report("scce_logits", torch.nn.functional.cross_entropy(L, labels), L)
report("cce_normalized", -(onehot * torch.log(P / P.sum(1, keepdim=True))).sum(1).mean(), P)
big = torch.tensor([[1000.0], [-1000.0], [1e4], [-1e4]], dtype=d, requires_grad=True)
tb = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=d)
report("bce_logits_extreme", torch.nn.functional.binary_cross_entropy_with_logits(big, tb), big)
