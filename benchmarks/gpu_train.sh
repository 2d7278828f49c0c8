#!/usr/bin/env bash
# One GPU session for the trainer's figures: images/s of `--gpus 1` with bf16 + channels_last, and three specs
# of different cost trained on the harder offline set (digits-clutter) for the cost-versus-accuracy picture.
# Usage (repo root, on a CUDA machine): bash benchmarks/gpu_train.sh [EPOCHS]   -> reports/runs/gpu-*
set -uo pipefail
EPOCHS=${1:-20}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
run() { echo "== inceptcost train $*"; timeout 240 python -m inceptcost train "$@" 2>&1 | tail -n 4; }
nvidia-smi -L
run specs/variant.yaml --data synthetic:16384 --gpus 1 --channels-last --epochs 2 --batch-size 256 --out reports/runs/gpu-synth-variant
run specs/googlenet.yaml --data synthetic:8192 --gpus 1 --channels-last --epochs 2 --batch-size 128 --out reports/runs/gpu-synth-googlenet
for spec in reports/training/specs/variant-narrow.yaml specs/variant.yaml reports/training/specs/variant-wide.yaml; do
  name=$(basename "$spec" .yaml)
  run "$spec" --data digits-clutter --gpus 1 --channels-last --epochs "$EPOCHS" --batch-size 128 --out "reports/runs/gpu-clutter-$name"
done
python - <<'PY'
import json, pathlib
for p in sorted(pathlib.Path("reports/runs").glob("gpu-*/summary.json")):
    s = json.loads(p.read_text())
    print(f"{p.parent.name:28s} params {s.get('params'):>9,} MACs {s.get('macs'):>13,} best top-1 {s.get('best_val_top1')} "
          f"img/s {s.get('images_per_s')} s {s.get('total_seconds')} device {s.get('device')}")
PY
if [ -n "${OUT:-}" ]; then tar czf "$OUT/gpu-runs.tgz" --exclude=checkpoint.pt reports/runs/gpu-*; fi
