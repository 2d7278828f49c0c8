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
    """An identity shortcut around one conv."""

    def __init__(self, cin):
        super().__init__()
        self.conv = nn.Conv2d(cin, cin, 3, padding=1)
        self.proj = nn.Conv2d(cin, 28, 1)

    def forward(self, x):
        return self.proj(x + self.conv(x))


def make_residual():
    return Net(block=Residual)


class Basic(nn.Module):
    """torchvision's BasicBlock: conv1/bn1 and conv2/bn2 as siblings, a downsample projection, `out += identity`."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Scaled(nn.Module):
    """timm's Block35: branches concatenated, a linear 1x1 up, `out * scale + x`, then a ReLU."""

    def __init__(self, cin):
        super().__init__()
        self.b0 = Unit(cin, 4, 1)
        self.b1 = nn.Sequential(Unit(cin, 4, 1), Unit(4, 4, 3, padding=1))
        self.up = nn.Conv2d(8, cin, 1)
        self.scale = 0.17

    def forward(self, x):
        out = self.up(torch.cat([self.b0(x), self.b1(x)], 1))
        return torch.relu(out * self.scale + x)


class Pre(nn.Module):
    """Xception's middle flow: a standalone ReLU first, a depthwise-separable conv, no activation after the add."""

    def __init__(self, cin):
        super().__init__()
        self.rep = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
            nn.Conv2d(cin, cin, 1),
            nn.BatchNorm2d(cin),
        )

    def forward(self, x):
        return x + self.rep(x)


class ResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(Basic(8, 8, 1), Basic(8, 16, 2))
        self.block = Scaled(16)
        self.pre = Pre(16)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.pre(self.block(self.layer1(self.relu(self.bn1(self.conv1(x))))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def make_resnet():
    return ResNet()


class Offset(nn.Module):
    """A learned tensor added to the activations (as a ViT's position embedding): no residual block."""

    def __init__(self, cin):
        super().__init__()
        self.offset = nn.Parameter(torch.zeros(1, cin, 1, 1))
        self.proj = nn.Conv2d(cin, 28, 1)

    def forward(self, x):
        return self.proj(x + self.offset)


def make_offset():
    return Net(block=Offset)


class Twice(nn.Module):
    """Two scaled terms: `a * 0.5 + b * 0.5` has no single body to scale."""

    def __init__(self, cin):
        super().__init__()
        self.a = nn.Conv2d(cin, 28, 1)
        self.b = nn.Conv2d(cin, 28, 3, padding=1)

    def forward(self, x):
        return self.a(x) * 0.5 + self.b(x) * 0.5


def make_twice():
    return Net(block=Twice)
