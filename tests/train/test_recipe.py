import math

import pytest

from inceptcost.train.errors import TrainError
from inceptcost.train.recipe import Recipe, load_recipe, lr_factor, recipe_from_dict


def test_default_is_the_papers_recipe():
    r = Recipe()
    assert (r.momentum, r.schedule, r.step_epochs, r.step_gamma) == (0.9, "step", 8.0, 0.96)
    assert r.crop_area == (0.08, 1.0) and r.crop_aspect == (3 / 4, 4 / 3)
    assert r.aux_weight is None  # taken from the spec (0.3 in googlenet.yaml)


def test_step_schedule_drops_4_percent_every_8_epochs():
    r, spe = Recipe(), 10
    assert lr_factor(r, 0, spe, 100) == 1.0
    assert lr_factor(r, 8 * spe - 1, spe, 100) == 1.0
    assert lr_factor(r, 8 * spe, spe, 100) == pytest.approx(0.96)
    assert lr_factor(r, 24 * spe, spe, 100) == pytest.approx(0.96**3)


def test_cosine_and_warmup():
    r = recipe_from_dict({"schedule": "cosine", "warmup_epochs": 2})
    spe, epochs = 10, 12
    assert lr_factor(r, 0, spe, epochs) == pytest.approx(1 / 20)
    assert lr_factor(r, 19, spe, epochs) == pytest.approx(1.0)
    assert lr_factor(r, 20, spe, epochs) == pytest.approx(1.0)
    assert lr_factor(r, 70, spe, epochs) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lr_factor(r, 120, spe, epochs) == pytest.approx(0.0, abs=1e-12)


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("lr: 0.1\nlabel_smothing: 0.1\n")
    with pytest.raises(TrainError, match=r"unknown key 'label_smothing'.*did you mean 'label_smoothing'"):
        load_recipe(path)


def test_recipe_file_overrides_defaults(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("lr: 0.1\nschedule: cosine\ncrop_area: [0.3, 1]\nweight_decay: 1e-4\n")
    r = load_recipe(path)
    assert (r.lr, r.schedule, r.crop_area, r.weight_decay, r.momentum) == (0.1, "cosine", (0.3, 1.0), 1e-4, 0.9)


@pytest.mark.parametrize(
    "data, pattern",
    [
        ({"schedule": "cosin"}, "did you mean 'cosine'"),
        ({"lr": -1}, "lr must be a positive"),
        ({"lr": "fast"}, "must be a number"),
        ({"crop_area": [0.5, 0.1]}, "crop_area"),
        ({"hflip": "yes"}, "true or false"),
    ],
)
def test_bad_values_are_clear_errors(data, pattern):
    with pytest.raises(TrainError, match=pattern):
        recipe_from_dict(data)


def test_recipe_file_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("- lr\n")
    with pytest.raises(TrainError, match="mapping"):
        load_recipe(path)
