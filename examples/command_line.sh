#!/usr/bin/env bash
# The command line from training to a routed, quantized mixture, on the bundled thyroid set.
#
#   bash examples/command_line.sh [FOLDER] [EPOCHS]
#
# Writes everything into FOLDER (default: a new temporary folder). Needs kimi-fann installed
# (the kimi-fann command, or the python that has the package: KIMI_FANN="python -m kimi_fann.cli").
set -euo pipefail

out=${1:-$(mktemp -d)}
epochs=${2:-300}
kimi_fann=${KIMI_FANN:-kimi-fann}
python=${PYTHON:-python}
mkdir -p "$out"
cd "$out"
run() { echo "\$ kimi-fann $*"; $kimi_fann "$@"; }

# FANN .data files of the bundled set (any fann_save_train file works the same way).
"$python" -c "from kimi_fann import datasets
train, test = datasets.load('thyroid')
train.save('thyroid.train'); test.save('thyroid.test')"

run info
# A 21-32-3 float network, saved in FANN's own format (libfann and fann2 read it).
run train thyroid.train --hidden 32 --epochs "$epochs" --test thyroid.test --seed 1 -o thyroid.net
run run thyroid.net thyroid.test -o float.npy
# Q8, calibrated on the training inputs; then the same network as ONNX and as 4-bit .kfn.
run quantize thyroid.net --calibration thyroid.train --bits 8 -o thyroid-q8.kfn
run convert thyroid.net thyroid.onnx
run convert thyroid.net thyroid-q4.kfn --compress q4
run analyze thyroid-q8.kfn --data thyroid.test --report analysis.json
# The float network as a teacher for four Q8 micro-experts of 21-4-3 behind a router (top 2).
run distill thyroid.net thyroid.train --experts 4 --top-k 2 --hidden 4 --epochs 100 -o experts.kfn --report distill.json
run route experts.kfn thyroid.test
run bench experts.kfn --batch-sizes 1 256
ls -l
