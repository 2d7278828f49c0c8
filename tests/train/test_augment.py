import math

import torch

from inceptcost.train import augment
from inceptcost.train.recipe import Recipe


def test_crop_parameters_follow_the_papers_ranges():
    r = Recipe()
    p = augment.sample_params(4000, r, torch.Generator().manual_seed(1))
    w, h, cx, cy = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    area, aspect = w * h, w / h
    cropped = area < 1 - 1e-9  # the fallback takes the whole image
    assert cropped.float().mean() > 0.9
    assert area.min() >= 0.08 - 1e-9 and area.max() <= 1 + 1e-9
    assert aspect[cropped].min() >= 3 / 4 - 1e-9 and aspect[cropped].max() <= 4 / 3 + 1e-9
    assert ((cx.abs() + w) <= 1 + 1e-9).all() and ((cy.abs() + h) <= 1 + 1e-9).all()  # inside the image
    # spread over the whole range (large areas with extreme aspects fall outside and are redrawn)
    assert (area < 0.2).float().mean() > 0.1 and (area > 0.8).float().mean() > 0.05
    colour = p[:, 5:8]
    assert colour.min() >= 0.6 - 1e-9 and colour.max() <= 1.4 + 1e-9 and colour.std() > 0.1


def test_same_step_same_crops_whatever_the_worker_count():
    r = Recipe()
    full = augment.sample_params(8, r, augment.step_generator(3, 1, 5))
    again = augment.sample_params(8, r, augment.step_generator(3, 1, 5))
    other_step = augment.sample_params(8, r, augment.step_generator(3, 1, 6))
    assert torch.equal(full, again) and not torch.equal(full, other_step)


def test_train_batch_shapes_range_and_identity():
    x = torch.randint(0, 256, (5, 3, 8, 8), dtype=torch.uint8)
    mean, std = torch.zeros(3), torch.ones(3)
    ident = augment.train_batch(x, augment.no_augment_params(5), (8, 8), mean, std)
    assert torch.allclose(ident, x.float() / 255, atol=1e-5)  # identity crop, same size: the image itself
    out = augment.train_batch(
        x, augment.sample_params(5, Recipe(), torch.Generator().manual_seed(0)), (32, 24), mean, std
    )
    assert out.shape == (5, 3, 32, 24) and out.min() >= 0 and out.max() <= 1
    ev = augment.eval_batch(x, (16, 16), mean, std)
    assert ev.shape == (5, 3, 16, 16)
    assert math.isclose(ev.mean().item(), (x.float() / 255).mean().item(), abs_tol=0.02)


def test_hflip_only_when_asked():
    p = augment.sample_params(200, Recipe(), torch.Generator().manual_seed(0))
    assert (p[:, 4] == 1).all()
    p = augment.sample_params(200, Recipe(hflip=True), torch.Generator().manual_seed(0))
    assert 50 < (p[:, 4] == -1).sum() < 150
