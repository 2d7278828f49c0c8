"""End to end: real runs of tiny specs on digits, one and two workers, killed and resumed."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from inceptcost.train import TrainConfig, train
from inceptcost.train.checkpoint import load_checkpoint
from inceptcost.train.errors import DivergedError, TrainError
from inceptcost.train.recipe import Recipe

from .conftest import REPO, run_cli, write_tiny_spec

TIMING = {"images_per_s", "epoch_seconds"}


def read_metrics(folder):
    with open(folder / "metrics.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_a_few_epochs_on_digits_write_the_three_files_and_learn(tmp_path):
    spec = write_tiny_spec(tmp_path, norm="bn")
    out = tmp_path / "run"
    summary = train(
        TrainConfig(
            spec=str(spec),
            data="digits",
            epochs=6,
            batch_size=32,
            device="cpu",
            steps_per_epoch=20,
            out=str(out),
            recipe=Recipe(lr=0.1, crop_area=(0.5, 1.0)),
        )
    )
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "config.yaml", "metrics.csv", "summary.json"]
    rows = read_metrics(out)
    assert [int(r["epoch"]) for r in rows] == list(range(6))
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"]) - 0.2
    assert max(float(r["val_top1"]) for r in rows) > 25  # chance is 10%
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary)) and on_disk["status"] == "completed"
    # params: the analytic count of the adapted spec == the trained model's own parameter count
    model = load_checkpoint(out / "checkpoint.pt")["model"]
    main = sum(
        v.numel() for k, v in model.items() if not k.startswith("aux") and "running" not in k and "num_batches" not in k
    )
    assert summary["params"] == main and summary["params_aux"] > 0 and summary["macs"] > 0
    assert summary["best_val_top1"] == max(float(r["val_top1"]) for r in rows)
    assert summary["world_size"] == 1 and summary["epochs"] == 6
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["spec"]["input"] == [1, 16, 16] and config["recipe"]["momentum"] == 0.9
    assert config["versions"]["torch"] == str(torch.__version__)


def _final_weights(folder):
    return load_checkpoint(folder / "checkpoint.pt")["model"]


@pytest.mark.slow
def test_two_gloo_workers_match_one_worker_with_the_same_global_batch(tmp_path):
    # no dropout and no batch norm: those are per-worker by nature; crops are drawn per global batch
    spec = write_tiny_spec(tmp_path, dropout=0, norm="none")
    common = dict(spec=str(spec), data="digits", epochs=2, batch_size=32, device="cpu", steps_per_epoch=5)
    one = train(TrainConfig(**common, out=str(tmp_path / "one")))
    two = train(TrainConfig(**common, nproc=2, out=str(tmp_path / "two")))
    assert (one["world_size"], two["world_size"]) == (1, 2)
    w1, w2 = _final_weights(tmp_path / "one"), _final_weights(tmp_path / "two")
    assert w1.keys() == w2.keys()
    for k in w1:
        torch.testing.assert_close(w2[k], w1[k], atol=1e-5, rtol=0, msg=f"{k} differs")
    r1, r2 = read_metrics(tmp_path / "one"), read_metrics(tmp_path / "two")
    for a, b in zip(r1, r2, strict=True):
        for key in ("train_loss", "val_loss", "val_top1", "train_top1"):
            assert float(a[key]) == pytest.approx(float(b[key]), abs=1e-4), key


@pytest.mark.slow
def test_weights_move(tmp_path):
    """Guard for the test above: 10 steps change the weights far more than its tolerance."""
    spec = write_tiny_spec(tmp_path, dropout=0, norm="none")
    common = dict(spec=str(spec), data="digits", batch_size=32, device="cpu", steps_per_epoch=5)
    train(TrainConfig(**common, epochs=1, out=str(tmp_path / "a")))
    train(TrainConfig(**common, epochs=2, out=str(tmp_path / "b")))
    wa, wb = _final_weights(tmp_path / "a"), _final_weights(tmp_path / "b")
    assert max((wa[k] - wb[k]).abs().max().item() for k in wa) > 1e-3


def _cli_args(spec, out, *extra):
    return [
        "train",
        str(spec),
        "--device",
        "cpu",
        "--epochs",
        "2",
        "--steps-per-epoch",
        "20",
        "--batch-size",
        "32",
        "--save-every",
        "3",
        "--out",
        str(out),
        *extra,
    ]


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_equals_an_uninterrupted_run(tmp_path):
    spec = write_tiny_spec(tmp_path, dropout=0.3, norm="bn")  # dropout + BN: RNG and buffers matter
    ref = run_cli(*_cli_args(spec, tmp_path / "ref"))
    assert ref.returncode == 0, ref.stderr

    out = tmp_path / "killed"
    env_cmd = [sys.executable, "-m", "inceptcost", *_cli_args(spec, out)]
    proc = subprocess.Popen(
        env_cmd, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": ""}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    ckpt, killed_at = out / "checkpoint.pt", None
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if ckpt.exists():
            state = load_checkpoint(ckpt)
            if state["epoch"] >= 1 and state["step_in_epoch"] > 0:  # an epoch done, the next half done
                proc.send_signal(signal.SIGKILL)
                killed_at = (state["epoch"], state["step_in_epoch"])
                break
        time.sleep(0.005)
    proc.wait()
    assert killed_at is not None and proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert json.loads((out / "summary.json").read_text())["status"] == "running"

    resumed = run_cli(*_cli_args(spec, out, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stdout

    w_ref, w_res = _final_weights(tmp_path / "ref"), _final_weights(out)
    for k in w_ref:
        torch.testing.assert_close(w_res[k], w_ref[k], atol=1e-6, rtol=0, msg=f"{k} differs")
    rows_ref, rows_res = read_metrics(tmp_path / "ref"), read_metrics(out)
    assert [r["epoch"] for r in rows_res] == ["0", "1"]  # no duplicates, none missing
    for a, b in zip(rows_ref, rows_res, strict=True):
        for key in a.keys() - TIMING:
            assert float(b[key]) == pytest.approx(float(a[key]), abs=1e-6), (key, killed_at)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs"] == 2


def test_diverging_loss_stops_with_a_clear_error_and_keeps_the_good_checkpoint(tmp_path):
    spec = write_tiny_spec(tmp_path)
    out = tmp_path / "run"
    config = TrainConfig(
        spec=str(spec),
        data="digits",
        epochs=3,
        batch_size=32,
        device="cpu",
        steps_per_epoch=10,
        save_every=1,
        log_every=1,
        out=str(out),
        recipe=Recipe(lr=1e8),
    )
    with pytest.raises(DivergedError, match="NaN or infinite.*last good checkpoint"):
        train(config)
    state = load_checkpoint(out / "checkpoint.pt")
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert json.loads((out / "summary.json").read_text())["status"] == "diverged"


def test_existing_run_needs_resume_and_resume_needs_same_settings(tmp_path, tiny_spec):
    common = dict(
        spec=str(tiny_spec), data="digits", batch_size=32, device="cpu", steps_per_epoch=2, out=str(tmp_path / "run")
    )
    train(TrainConfig(**common, epochs=1))
    with pytest.raises(TrainError, match="pass resume to continue"):
        train(TrainConfig(**common, epochs=2))
    with pytest.raises(TrainError, match="seed 0 -> 1"):
        train(TrainConfig(**common, epochs=2, resume=True, seed=1))
    summary = train(TrainConfig(**common, epochs=2, resume=True))
    assert summary["epochs"] == 2


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["--gpus", "64"], "asked for 64 GPUs but only"),
        (["--device", "cpu", "--batch-size", "5000"], "larger than the training set"),
        (["--device", "cpu", "--nproc", "2", "--batch-size", "33"], "does not split evenly over 2 workers"),
        (["--device", "cpu", "--data", "digitz"], "did you mean 'digits'"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(cli, tmp_path, tiny_spec, args, pattern):
    result = cli("train", tiny_spec, "--out", tmp_path / "r", *args)
    assert result.exit_code == 2, result.output
    assert pattern in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()  # nothing written for a run that never started


@pytest.mark.slow
def test_joins_an_outer_torchrun_group(tmp_path, tiny_spec):
    out = tmp_path / "run"
    env = {"PYTHONPATH": str(REPO), "PATH": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "inceptcost",
            "train",
            str(tiny_spec),
            "--device",
            "cpu",
            "--epochs",
            "1",
            "--steps-per-epoch",
            "3",
            "--batch-size",
            "16",
            "--out",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "summary.json").read_text())["world_size"] == 2
    assert result.stdout.count("best val top-1") == 1  # only rank 0 reports


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("compile", [False, True])
def test_one_gpu_bf16_channels_last(tmp_path, tiny_spec, compile):
    summary = train(
        TrainConfig(
            spec=str(tiny_spec),
            data="digits",
            epochs=2,
            batch_size=64,
            gpus=1,
            channels_last=True,
            compile=compile,
            steps_per_epoch=5,
            out=str(tmp_path / "r"),
        )
    )
    assert summary["amp"] == "bf16" and summary["device_type"] == "cuda" and summary["images_per_s"] > 0
    state = load_checkpoint(tmp_path / "r" / "checkpoint.pt")
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_a_run_compiles_its_spec_once(tmp_path, tiny_spec, monkeypatch):
    import inceptcost
    import inceptcost.graph.compile as compile_module
    import inceptcost.graph.model.build as model_module

    calls = []
    real = compile_module.compile_graph
    for module in (inceptcost, compile_module, model_module):  # every name it is reached by
        monkeypatch.setattr(module, "compile_graph", lambda spec: calls.append(spec.name) or real(spec))
    config = TrainConfig(
        spec=str(tiny_spec), data="digits", batch_size=32, device="cpu", epochs=1, steps_per_epoch=1, out=str(tmp_path)
    )
    train(config)
    assert len(calls) == 1


@pytest.mark.slow
def test_data_that_does_not_fit_the_spec_is_said_on_one_line_and_in_the_summary(tmp_path, capsys):
    spec = write_tiny_spec(tmp_path, aux=False, dropout=0)
    spec.write_text(spec.read_text().replace("x1\n", "x3\n").replace("classes: 10", "classes: 7"))
    out = tmp_path / "run"
    summary = train(
        TrainConfig(
            spec=str(spec), data="digits", epochs=1, batch_size=32, device="cpu", steps_per_epoch=2, out=str(out)
        )
    )
    adapted = summary["adapted_to_data"]
    assert adapted["channels"] == [3, 1] and adapted["classes"] == [7, 10]  # digits: grey, 10 classes
    # by hand: conv1 (3x3, 8 out) loses 2 input channels; the classifier (20 inputs) gains 3 classes
    assert adapted["spec_params"] - summary["params"] == 3 * 3 * 8 * 2 - (20 * 3 + 3)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note: ")]
    assert lines == [adapted["note"]] and f"{summary['params']:,} params" in lines[0]
    assert json.loads((out / "summary.json").read_text())["adapted_to_data"] == adapted
