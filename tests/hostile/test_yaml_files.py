"""Hostile YAML: every case through the spec loader (`analyze`) and the recipe loader (`train --recipe`), which
share one hardened reader. Each must be one line naming the file, exit 2, fast, nothing written."""

from __future__ import annotations

import pytest

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)

# case -> (file content, words the error line must hold)
DOCUMENTS: dict[str, tuple[str | bytes, str]] = {
    "alias bomb": (BOMB, "more than"),
    "python object tag": ("lr: !!python/object/apply:os.system ['touch MARKER']\n", "explicit YAML tag"),
    "python name tag": ("lr: !!python/name:os.system\n", "explicit YAML tag"),
    "bool tag on text": ('lr: !!bool "abc"\n', "explicit YAML tag '!!bool'"),
    "timestamp tag": ("lr: !!timestamp 2001-13-45\n", "explicit YAML tag '!!timestamp'"),
    "int tag on text": ('lr: !!int "x"\n', "explicit YAML tag"),
    "float tag": ("lr: !!float abc\n", "explicit YAML tag"),
    "binary tag": ("lr: !!binary aGVsbG8=\n", "explicit YAML tag"),
    "set tag": ("lr: !!set {a, b}\n", "explicit YAML tag"),
    "local tag": ("lr: !mine 3\n", "explicit YAML tag"),
    "tag on a mapping": ("lr: !!map {a: 1}\n", "explicit YAML tag"),
    "duplicate key": ("lr: 0.1\nmomentum: 0.9\nlr: 0.2\n", "duplicate key 'lr' (also on line 1)"),
    "duplicate after merge": ("base: &b {lr: 1}\nx:\n  <<: *b\n  lr: 2\n  lr: 3\n", "duplicate key 'lr'"),
    "deep flow nesting": ("lr: " + "[" * 5000 + "\n", "nesting deeper"),
    "deep block nesting": ("lr:\n" + "".join(" " * (2 * i) + "- \n" for i in range(100)), "nesting"),
    "huge file": ("# " + "x" * (1 << 20) + "\n", "larger than"),
    "NUL byte": (b"lr: 0.1\x00\n", "binary file"),
    "not UTF-8": (b"lr: 0.1\n# caf\xe9\n", "not UTF-8"),
    "empty": ("", "empty file"),
    "only a comment": ("# nothing\n", "only comments"),
    "syntax error": ("lr: [0.1\n", "YAML syntax error"),
    "tab indentation": ("lr:\n\t- 1\n", "YAML"),
    "5000-digit number": ("lr: " + "9" * 5000 + "\n", "too many digits"),
    "undefined alias": ("lr: *nowhere\n", "YAML"),
    "two documents": ("lr: 1\n---\nlr: 2\n", "YAML"),
    "complex key": ("? [a, b]\n: 1\n", "plain word"),
    "null key": ("~: 1\n", "plain word"),
}


@pytest.mark.parametrize("case", list(DOCUMENTS), ids=list(DOCUMENTS))
def test_spec_loader(sandbox, case):
    content, words = DOCUMENTS[case]
    path = sandbox.write("hostile.yaml", content)
    sandbox.run("analyze", path, match=words)
    assert not (sandbox.root / "MARKER").exists()


@pytest.mark.parametrize("case", list(DOCUMENTS), ids=list(DOCUMENTS))
def test_recipe_loader(sandbox, case):
    content, words = DOCUMENTS[case]
    path = sandbox.write("recipe.yaml", content)
    sandbox.run("train", sandbox.spec, "--device", "cpu", "--recipe", path, match=words)
    assert not (sandbox.root / "MARKER").exists()


RECIPES: dict[str, tuple[str, str]] = {
    "a list": ("- lr: 0.1\n", "must be a mapping"),
    "a scalar": ("0.1\n", "must be a mapping"),
    "unknown key": ("lrr: 0.1\n", "did you mean 'lr'"),
    "negative aux_weight": ("aux_weight: -0.3\n", "aux_weight must be >= 0"),
    "min_lr_ratio above 1": ("min_lr_ratio: 2\n", "min_lr_ratio must be in [0, 1]"),
    "negative min_lr_ratio": ("min_lr_ratio: -0.5\n", "min_lr_ratio must be in [0, 1]"),
    "NaN weight decay": ("weight_decay: .nan\n", "weight_decay must be a finite number"),
    "inf weight decay": ("weight_decay: .inf\n", "weight_decay must be a finite number"),
    "NaN grad clip": ("grad_clip: .nan\n", "grad_clip must be a finite number"),
    "inf grad clip": ("grad_clip: .inf\n", "grad_clip must be a finite number"),
    "NaN warm-up": ("warmup_epochs: .nan\n", "warmup_epochs must be a finite number"),
    "inf warm-up": ("warmup_epochs: .inf\n", "warmup_epochs must be a finite number"),
    "NaN lr as text": ("lr: nan\n", "lr must be a finite number"),
    "1e999 lr as text": ("lr: 1e999\n", "lr must be a finite number"),
    "NaN momentum": ("momentum: .nan\n", "momentum must be a finite number"),
    "huge int lr": ("lr: " + "9" * 400 + "\n", "too large"),
    "text lr": ("lr: fast\n", "must be a number"),
    "bool lr": ("lr: true\n", "must be a number"),
    "crop_area of text": ("crop_area: [a, b]\n", "list of two numbers"),
    "crop_area of three": ("crop_area: [0.1, 0.5, 1]\n", "list of two numbers"),
    "inf crop_area": ("crop_area: [0.1, .inf]\n", "finite number"),
    "schedule typo": ("schedule: cosin\n", "did you mean 'cosine'"),
    "schedule number": ("schedule: 3\n", "must be a string"),
    "hflip text": ("hflip: maybe\n", "true or false"),
}


@pytest.mark.parametrize("case", list(RECIPES), ids=list(RECIPES))
def test_recipe_values(sandbox, case):
    content, words = RECIPES[case]
    path = sandbox.write("recipe.yaml", content)
    sandbox.run("train", sandbox.spec, "--device", "cpu", "--recipe", path, match=words)


def test_merge_key_then_override_is_yaml_not_a_duplicate(tmp_path):
    from inceptcost.spec.yamlsafe import load_yaml

    path = tmp_path / "m.yaml"
    path.write_text("base: &b {lr: 1, momentum: 0.5}\nx:\n  <<: *b\n  lr: 2\ny: {<<: [{a: 1}, {a: 2, b: 3}]}\n")
    data, _ = load_yaml(path)
    assert data["x"] == {"lr": 2, "momentum": 0.5}
    assert data["y"] == {"a": 1, "b": 3}  # YAML: the first mapping in a merge list wins


def test_a_recipe_with_a_merge_key_loads(tmp_path):
    from inceptcost.train.recipe import load_recipe

    path = tmp_path / "r.yaml"
    path.write_text("defaults: &d {lr: 0.1}\n")
    with pytest.raises(Exception, match="unknown key 'defaults'"):
        load_recipe(path)
    path.write_text("<<: {lr: 0.1, momentum: 0.5}\nlr: 0.2\n")
    recipe = load_recipe(path)
    assert (recipe.lr, recipe.momentum) == (0.2, 0.5)


def test_the_loader_is_reusable_for_other_kinds_of_file(tmp_path):
    """Device profiles use the same reader: the error class and the file's kind are the caller's."""
    from inceptcost.errors import InceptcostError, SpecError
    from inceptcost.spec.yamlsafe import load_yaml

    class ProfileError(InceptcostError):
        pass

    path = tmp_path / "p.yaml"
    path.write_text("peak: !!python/name:os.system\n")
    with pytest.raises(ProfileError, match="p.yaml:1: explicit YAML tag") as err:
        load_yaml(path, kind="profile", error=ProfileError)
    assert not isinstance(err.value, SpecError)
    (tmp_path / "d").mkdir()
    with pytest.raises(ProfileError, match="is a directory, not a profile file"):
        load_yaml(tmp_path / "d", kind="profile", error=ProfileError)
