"""`--weights`: our checkpoints and plain state dicts load by name; every bad file is one WeightsError line."""

from __future__ import annotations

import pickle

import pytest

torch = pytest.importorskip("torch")

from inceptcost import build_model, load_spec  # noqa: E402
from inceptcost.errors import WeightsError  # noqa: E402
from inceptcost.train.checkpoint import save_checkpoint  # noqa: E402
from inceptcost.train.weights import load_weights, read_state_dict  # noqa: E402


@pytest.fixture
def spec(root):
    return load_spec(root / "specs/variant.yaml")


def _fresh(spec, seed):
    torch.manual_seed(seed)
    return build_model(spec, aux=True)


def _same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_training_checkpoint_loads(spec, tmp_path):
    source = _fresh(spec, 1)
    save_checkpoint(tmp_path / "checkpoint.pt", {"model": source.state_dict(), "epoch": 3})
    target = _fresh(spec, 2)
    assert not _same(source, target)
    assert load_weights(target, tmp_path / "checkpoint.pt") == "our names"
    assert _same(source, target)


def test_a_plain_state_dict_loads_also_wrapped_or_with_ddps_prefix(spec, tmp_path):
    source = _fresh(spec, 1)
    wrapped = {"state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}
    torch.save(wrapped, tmp_path / "w.pth")
    target = _fresh(spec, 2)
    load_weights(target, tmp_path / "w.pth")
    assert _same(source, target)


def _error(spec, path) -> str:
    with pytest.raises(WeightsError) as info:
        load_weights(_fresh(spec, 0), path)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_missing_and_corrupt_files(spec, tmp_path):
    assert "no weights file here" in _error(spec, tmp_path / "absent.pth")
    (tmp_path / "junk.pth").write_bytes(b"\x00not a torch file" * 10)
    assert "not a readable torch weights file" in _error(spec, tmp_path / "junk.pth")
    torch.save(_fresh(spec, 1).state_dict(), tmp_path / "full.pth")
    data = (tmp_path / "full.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
    assert "not a readable torch weights file" in _error(spec, tmp_path / "cut.pth")
    torch.save(torch.zeros(3), tmp_path / "tensor.pth")
    assert "holds no state dict" in _error(spec, tmp_path / "tensor.pth")


class _Hostile:
    def __reduce__(self):
        import os

        return (os.system, ("touch HACKED",))


def test_a_hostile_pickle_is_refused_without_running_it(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.pth").write_bytes(pickle.dumps({"conv1.conv.weight": _Hostile()}))
    torch.save({"x": _Hostile()}, tmp_path / "evil2.pth")
    assert "not a readable torch weights file" in _error(spec, tmp_path / "evil.pth")  # not torch's format
    assert "refused: the file asks to run Python code" in _error(spec, tmp_path / "evil2.pth")
    assert "posix.system" in _error(spec, tmp_path / "evil2.pth")
    assert not (tmp_path / "HACKED").exists()


def test_mismatches_name_the_first_tensor_and_the_shapes(spec, tmp_path):
    state = _fresh(spec, 1).state_dict()
    first = next(iter(state))
    bad = dict(state)
    bad[first] = torch.zeros(3, 3)
    torch.save(bad, tmp_path / "shape.pth")
    shape = "x".join(map(str, state[first].shape))
    assert f"'{first}' is {shape} in the model but '{first}' is 3x3 in the file" in _error(spec, tmp_path / "shape.pth")
    missing = {k: v for k, v in state.items() if k != first}
    torch.save(missing, tmp_path / "missing.pth")
    assert f"the model's tensor '{first}' is not in the file" in _error(spec, tmp_path / "missing.pth")
    torch.save({**state, "extra.weight": torch.zeros(2)}, tmp_path / "extra.pth")
    assert "1 tensor(s) of the file have no place in the model, the first 'extra.weight' (2)" in _error(
        spec, tmp_path / "extra.pth"
    )


def test_export_and_bench_take_weights_and_report_bad_ones_in_one_line(cli, root, tmp_path):
    spec = load_spec(root / "specs/variant.yaml")
    torch.save(_fresh(spec, 1).state_dict(), tmp_path / "w.pth")
    out = tmp_path / "v.pt"
    result = cli(
        "export", root / "specs/variant.yaml", "--format", "torchscript", "--out", out, "--weights", tmp_path / "w.pth"
    )
    assert result.exit_code == 0, result.output
    loaded = torch.jit.load(out)
    assert torch.equal(loaded.state_dict()["conv1.conv.weight"], _fresh(spec, 1).state_dict()["conv1.conv.weight"])
    (tmp_path / "junk.pth").write_bytes(b"junk")
    for args in (
        ("export", root / "specs/variant.yaml", "--format", "torchscript", "--out", tmp_path / "x.pt"),
        ("bench", root / "specs/variant.yaml", "--device", "cpu", "--steps", "1", "--warmup", "0", "--repeats", "1"),
    ):
        result = cli(*args, "--weights", tmp_path / "junk.pth")
        assert result.exit_code == 2
        assert len(result.output.strip().splitlines()) == 1 and "junk.pth" in result.output
    assert not (tmp_path / "x.pt").exists()


def test_bench_runs_the_loaded_weights(root, tmp_path):
    from inceptcost.train.bench.runner import spec_subject

    spec = load_spec(root / "specs/googlenet-torchvision.yaml")
    source = _fresh(spec, 1)
    torch.save(source.state_dict(), tmp_path / "w.pth")  # with the aux heads' tensors
    model = spec_subject(spec, aux=False, weights=str(tmp_path / "w.pth")).make()
    assert not model.aux_names
    assert all(torch.equal(v, source.state_dict()[k]) for k, v in model.state_dict().items())


def test_read_state_dict_returns_tensors_only(spec, tmp_path):
    torch.save(_fresh(spec, 1).state_dict(), tmp_path / "w.pth")
    assert all(isinstance(v, torch.Tensor) for v in read_state_dict(tmp_path / "w.pth").values())


TINY = """
name: tiny
input: 16x16x1
classes: 10
defaults: {activation: relu, bias: true, norm: none}
layers:
  - {name: conv1, type: conv, patch: 3x3/1, out: 8}
  - {name: pool1, type: maxpool, patch: 2x2/2}
  - {name: inc, type: inception, 1x1: 4, 3x3reduce: 4, 3x3: 8, 5x5reduce: 2, 5x5: 4, poolproj: 4}
  - {name: gap, type: gap}
  - {name: linear, type: linear}
"""


def test_train_init_starts_from_the_file(write_spec, tmp_path):
    from inceptcost.train import TrainConfig, train
    from inceptcost.train.checkpoint import load_checkpoint
    from inceptcost.train.recipe import Recipe

    path = write_spec(TINY, "tiny.yaml")
    spec = load_spec(path)
    start = _fresh(spec, 5).state_dict()
    torch.save(start, tmp_path / "start.pth")
    default = _fresh(spec, 0).state_dict()  # what seed 0 would start from without --init

    def run(init, out):
        config = TrainConfig(
            spec=str(path), data="digits", epochs=1, batch_size=16, device="cpu", steps_per_epoch=1, seed=0,
            out=str(tmp_path / out), init=init, recipe=Recipe(lr=0.001),
        )  # fmt: skip
        train(config)
        return load_checkpoint(tmp_path / out / "checkpoint.pt")["model"]

    trained = run(str(tmp_path / "start.pth"), "run")

    def distance(a, b):
        return sum(float((a[k] - b[k]).abs().sum()) for k in a)

    assert distance(trained, start) < 0.1 * distance(trained, default)  # one small step away from the file's
    with pytest.raises(WeightsError, match="no weights file here"):
        run(str(tmp_path / "absent.pth"), "run2")


def test_a_classifier_of_another_size_is_one_line_or_starts_afresh_with_reset_head(write_spec, tmp_path):
    ten = load_spec(write_spec(TINY, "tiny.yaml"))
    thousand = load_spec(write_spec(TINY.replace("classes: 10", "classes: 1000"), "tiny1000.yaml"))
    file_state = _fresh(thousand, 1).state_dict()
    torch.save(file_state, tmp_path / "w.pth")
    with pytest.raises(WeightsError) as info:
        load_weights(_fresh(ten, 2), tmp_path / "w.pth")
    text = str(info.value)
    assert "\n" not in text
    # the inception row gives 4 + 8 + 4 + 4 = 20 channels to the classifier
    assert "the classifier differs in size from the file's ('linear.weight' 10x20 vs 1000x20," in text
    assert "'linear.bias' 10 vs 1000)" in text and "--reset-head" in text
    target = _fresh(ten, 2)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    label = load_weights(target, tmp_path / "w.pth", reset_head=True)
    assert label == "our names, classifier reset (linear.weight, linear.bias)"
    after = target.state_dict()
    for key, value in after.items():
        expected = before[key] if key.startswith("linear.") else file_state[key]
        assert torch.equal(value, expected), key
    # anything but the classifier still has to match: a conv of another width is refused even so
    narrow = load_spec(write_spec(TINY.replace("out: 8}", "out: 6}").replace("classes: 10", "classes: 1000"), "n.yaml"))
    torch.save(_fresh(narrow, 1).state_dict(), tmp_path / "narrow.pth")
    with pytest.raises(WeightsError, match="'conv1.conv.weight' is 8x1x3x3 in the model but"):
        load_weights(_fresh(ten, 2), tmp_path / "narrow.pth", reset_head=True)


def test_the_classifiers_are_the_last_linear_layers_of_the_net_and_of_each_aux_head(root):
    from inceptcost.train.weights import head_names

    # torchvision's GoogLeNet: fc, and fc2 in each of its aux heads (fc1 is a hidden layer)
    model = build_model(load_spec(root / "specs/googlenet-torchvision.yaml"), aux=True)
    expected = {f"{m}.{t}" for m in ("fc", "aux1.fc2", "aux2.fc2") for t in ("weight", "bias")}
    assert head_names(model) == expected


def test_train_init_from_a_1000_class_file_with_reset_head(cli, write_spec, tmp_path):
    path = write_spec(TINY, "tiny.yaml")
    thousand = load_spec(write_spec(TINY.replace("classes: 10", "classes: 1000"), "tiny1000.yaml"))
    torch.save(_fresh(thousand, 1).state_dict(), tmp_path / "w.pth")
    quick = (
        "--data",
        "synthetic:32",
        "--device",
        "cpu",
        "--epochs",
        "1",
        "--steps-per-epoch",
        "1",
        "--batch-size",
        "16",
    )
    result = cli("train", path, *quick, "--out", tmp_path / "a", "--init", tmp_path / "w.pth")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "the classifier differs in size" in result.output and "--reset-head" in result.output
    result = cli("train", path, *quick, "--out", tmp_path / "b", "--init", tmp_path / "w.pth", "--reset-head")
    assert result.exit_code == 0, result.output
    result = cli("train", path, *quick, "--out", tmp_path / "c", "--reset-head")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "--reset-head applies to the weights of --init" in result.output
