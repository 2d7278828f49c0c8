"""Batch augmentation on the training device: random-resized crop + photometric distortion.

The random numbers are drawn for the whole *global* batch from a generator keyed by
(seed, epoch, step) and each worker takes its own rows, so a sample gets the same crop whatever the
number of workers, and a resumed run draws the same crops as an uninterrupted one.
Only the few parameters per image are drawn on the CPU; the pixels never leave the device.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from inceptcost.train.recipe import Recipe

# Columns of the parameter table: crop width, height, centre x, centre y (normalized coordinates),
# horizontal flip sign, brightness, contrast, saturation factors.
N_PARAMS = 8


def step_generator(seed: int, epoch: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed(((seed * 1_000_003 + epoch) * 1_000_003 + step) % (1 << 64))


def sample_params(n: int, recipe: Recipe, gen: torch.Generator) -> torch.Tensor:
    """(n, 8) float64 table of crop and colour parameters, torchvision's RandomResizedCrop rule."""
    tries = 10
    area = torch.empty(n, tries, dtype=torch.float64).uniform_(*recipe.crop_area, generator=gen)
    log_r = torch.empty(n, tries, dtype=torch.float64).uniform_(
        math.log(recipe.crop_aspect[0]), math.log(recipe.crop_aspect[1]), generator=gen
    )
    ratio = log_r.exp()
    w, h = (area * ratio).sqrt(), (area / ratio).sqrt()
    ok = (w <= 1) & (h <= 1)
    first = ok.to(torch.int8).argmax(dim=1, keepdim=True)  # first valid try; none valid -> whole image
    w = torch.where(ok.any(1), w.gather(1, first)[:, 0], torch.ones(n, dtype=torch.float64))
    h = torch.where(ok.any(1), h.gather(1, first)[:, 0], torch.ones(n, dtype=torch.float64))
    u = torch.rand(n, 2, dtype=torch.float64, generator=gen)
    cx, cy = (2 * u[:, 0] - 1) * (1 - w), (2 * u[:, 1] - 1) * (1 - h)
    flip = torch.rand(n, dtype=torch.float64, generator=gen) < 0.5
    sign = torch.where(flip & recipe.hflip, -1.0, 1.0).to(torch.float64)
    jitter = torch.rand(n, 3, dtype=torch.float64, generator=gen) * 2 - 1
    strength = torch.tensor([recipe.brightness, recipe.contrast, recipe.saturation], dtype=torch.float64)
    colour = 1 + jitter * strength
    return torch.cat([torch.stack([w, h, cx, cy, sign], 1), colour], 1)


def train_batch(
    x: torch.Tensor, params: torch.Tensor, size: tuple[int, int], mean: torch.Tensor, std: torch.Tensor
) -> torch.Tensor:
    """uint8 (n, C, h, w) on the device -> normalized float (n, C, *size), augmented."""
    n, c = x.shape[:2]
    p = params.to(device=x.device, dtype=torch.float32, non_blocking=True)
    theta = torch.zeros(n, 2, 3, device=x.device)
    theta[:, 0, 0] = p[:, 0] * p[:, 4]
    theta[:, 0, 2] = p[:, 2]
    theta[:, 1, 1] = p[:, 1]
    theta[:, 1, 2] = p[:, 3]
    grid = F.affine_grid(theta, [n, c, *size], align_corners=False)
    img = F.grid_sample(x.float().div_(255), grid, mode="bilinear", padding_mode="border", align_corners=False)
    img = img * p[:, 5].view(n, 1, 1, 1)  # brightness
    gray = _gray(img)
    img = (img - gray.mean(dim=(2, 3), keepdim=True)) * p[:, 6].view(n, 1, 1, 1) + gray.mean(
        dim=(2, 3), keepdim=True
    )  # contrast
    if c == 3:
        gray = _gray(img)
        img = (img - gray) * p[:, 7].view(n, 1, 1, 1) + gray  # saturation
    return _normalize(img.clamp_(0, 1), mean, std)


def eval_batch(x: torch.Tensor, size: tuple[int, int], mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """The whole image resized to the input size: no crop, no distortion."""
    img = x.float().div_(255)
    if tuple(img.shape[2:]) != tuple(size):
        shrink = img.shape[2] > size[0] or img.shape[3] > size[1]
        img = F.interpolate(img, size=size, mode="bilinear", align_corners=False, antialias=shrink)
    return _normalize(img.clamp_(0, 1), mean, std)


def _gray(img: torch.Tensor) -> torch.Tensor:
    if img.shape[1] != 3:
        return img.mean(dim=1, keepdim=True)
    w = img.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (img * w).sum(dim=1, keepdim=True)


def _normalize(img: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return (img - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


def no_augment_params(n: int) -> torch.Tensor:
    """Whole image, no flip, no colour change: for recipes with augment: false."""
    p = torch.zeros(n, N_PARAMS, dtype=torch.float64)
    p[:, [0, 1, 4, 5, 6, 7]] = 1
    return p
