"""Writes the two models bench/onnx.sh runs, defined in PyTorch and exported by
torch.onnx.export with a dynamic batch axis: the Fashion-MNIST CNN (conv32-pool-
conv64-pool-fc128-fc10, with batch norm) and a residual CNN on 3x32x32 images.
Usage: python3 bench/onnx_models.py FOLDER"""
import os
import sys

import torch
from torch import nn


class FashionCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.head(self.features(x))


class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.a = nn.Conv2d(channels, channels, 3, padding=1)
        self.b = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(x + self.bn(self.b(torch.relu(self.a(x)))))


class ResidualCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.blocks = nn.Sequential(Block(32), nn.MaxPool2d(2), Block(32), nn.MaxPool2d(2), Block(32))
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        x = self.blocks(torch.relu(self.stem(x)))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def trained_statistics(model):
    """Batch norm statistics and scales away from their initial 0 and 1, as a trained
    model's (identical initial tensors are also written once, behind Identity nodes
    that OpenCV 4.6 cannot read)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
    return model


def main(folder):
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    for name, model, shape in [("fashion_cnn", FashionCnn(), (1, 1, 28, 28)), ("residual_cnn", ResidualCnn(), (1, 3, 32, 32))]:
        trained_statistics(model)
        torch.onnx.export(model.eval(), torch.randn(*shape), os.path.join(folder, name + ".onnx"), input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13,
                          training=torch.onnx.TrainingMode.PRESERVE)


if __name__ == "__main__":
    main(sys.argv[1])
