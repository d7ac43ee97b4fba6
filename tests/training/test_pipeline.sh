#!/bin/sh
# The whole training pipeline in small: generate a short series, train a few epochs, export to
# ONNX, validate the file on its own (PyTorch rebuilt from the file, the engine when built), and
# compare with persistence. Also checks that the generator and training are reproducible: the
# same seed gives the same CSV bytes and the same ONNX bytes.
# Usage: test_pipeline.sh WORKDIR [export_onnx.py engine options...]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TRAINING="$HERE/../../training"
PY=/usr/bin/python3
WORK=$1
shift
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"

$PY "$TRAINING/generate_synthetic.py" --pattern mixed --duration 8h --seed 5 --output a.csv
$PY "$TRAINING/generate_synthetic.py" --pattern mixed --duration 8h --seed 5 --output b.csv
cmp a.csv b.csv || { echo "FAIL: same seed, different CSV bytes"; exit 1; }
$PY "$TRAINING/generate_synthetic.py" --pattern mixed --duration 8h --seed 6 --output c.csv
if cmp -s a.csv c.csv; then echo "FAIL: different seeds, same CSV"; exit 1; fi

# Missing cells and a JSON export must train as well as the plain CSV.
$PY "$TRAINING/generate_synthetic.py" --pattern spike --duration 6h --seed 8 --missing-rate 0.05 \
    --output missing.csv
$PY "$TRAINING/train.py" --data missing.csv --epochs 1 --seed 3 --output missing.pt >train-missing.log
grep -q "missing values (carried forward" train-missing.log || { cat train-missing.log; exit 1; }

for run in 1 2; do
    $PY "$TRAINING/train.py" --data a.csv --epochs 3 --seed 3 --output m$run.pt >train$run.log
    $PY "$TRAINING/export_onnx.py" --model m$run.pt --output m$run.onnx "$@" >export$run.log
done
cat train1.log export1.log
for line in "480 samples, 11 features" "sequences (seq_len=60, horizon=1)" "Model parameters:" \
            "Epoch    3/3:" "Training complete. Best validation loss:" "Wall time:"; do
    grep -q "$line" train1.log || { echo "FAIL: train.py did not print '$line'"; exit 1; }
done
cmp m1.onnx m2.onnx || { echo "FAIL: same data and seed, different ONNX bytes"; exit 1; }

# Standalone validation, PyTorch rebuilt from the ONNX file alone.
$PY "$TRAINING/export_onnx.py" --validate m1.onnx "$@" >validate.log
cat validate.log
grep -q "PyTorch reference rebuilt from the file" validate.log
if grep -q "Engine inference: SKIPPED" validate.log; then
    grep -q "Validation incomplete" validate.log
else
    grep -q "matches PyTorch within" validate.log && grep -q "^Validation passed!" validate.log
fi

# H = 5, and the per-pattern comparison runs (a 3-epoch model need not beat persistence).
$PY "$TRAINING/train.py" --data a.csv --epochs 1 --horizon 5 --seq-len 30 --output h5.pt >h5.log
$PY "$TRAINING/export_onnx.py" --model h5.pt --output h5.onnx "$@" >h5-export.log
grep -q "output \['batch', 5, 11\]" h5-export.log || { cat h5-export.log; exit 1; }
# evaluate.py exits 1 when the model does not beat persistence everywhere; 2 is an error.
status=0
$PY "$TRAINING/evaluate.py" --model m1.pt --duration 4h >evaluate.log || status=$?
cat evaluate.log
test $status -le 1 && test "$(grep -c "(seed 10" evaluate.log)" -eq 5
echo "pipeline: OK"
