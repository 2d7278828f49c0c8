"""Small torch models for the importer's tests, loaded by `inceptcost import tests/interop/nets.py:NAME`."""

import torch
from torch import nn


class Unit(nn.Module):
    """conv + bn + relu, named like torchvision's BasicConv2d."""

    def __init__(self, cin, cout, k, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Block(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.b1 = Unit(cin, 8, 1)
        self.b2 = nn.Sequential(Unit(cin, 4, 1), Unit(4, 8, 3, padding=1))
        self.b3_1 = Unit(cin, 4, 1)
        self.b3_2a = Unit(4, 4, (1, 3), padding=(0, 1))
        self.b3_2b = Unit(4, 4, (3, 1), padding=(1, 0))
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), Unit(cin, 4, 1))

    def forward(self, x):
        y = self.b3_1(x)
        y = torch.cat([self.b3_2a(y), self.b3_2b(y)], 1)
        return torch.cat([self.b1(x), self.b2(x), y, self.pool(x)], 1)


class Net(nn.Module):
    def __init__(self, block=Block, classes=10):
        super().__init__()
        self.stem = Unit(3, 16, 3, stride=2, padding=1)
        self.block = block(16)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(28, classes)

    def forward(self, x):
        x = self.block(self.stem(x))
        x = nn.functional.adaptive_avg_pool2d(x, 1)
        return self.fc(self.drop(torch.flatten(x, 1)))


def make_net():
    return Net()


class Attention(nn.Module):
    """A tiny self-attention over the spatial positions: ops the spec language does not have."""

    def __init__(self, cin):
        super().__init__()
        self.qkv = nn.Conv2d(cin, 3 * 28, 1)

    def forward(self, x):
        q, k, v = self.qkv(x).flatten(2).chunk(3, dim=1)
        attn = torch.softmax(q.transpose(1, 2) @ k, dim=-1)
        return (v @ attn.transpose(1, 2)).reshape(x.shape[0], 28, x.shape[2], x.shape[3])


def make_attention():
    return Net(block=Attention)


class Gate(nn.Module):
    """Python control flow on a tensor's value: torch.fx cannot trace it."""

    def __init__(self, cin):
        super().__init__()
        self.conv = nn.Conv2d(cin, 28, 1)

    def forward(self, x):
        return self.conv(x) if x.sum() > 0 else -self.conv(x)


def make_gated():
    return Net(block=Gate)


class Residual(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.conv = nn.Conv2d(cin, cin, 3, padding=1)
        self.proj = nn.Conv2d(cin, 28, 1)

    def forward(self, x):
        return self.proj(x + self.conv(x))


def make_residual():
    return Net(block=Residual)
