#!/bin/sh
# The training pipeline in small, in three parts that ctest runs side by side:
#   make          `make -C training all` on 8 hours of data for 3 epochs, then the standalone
#                 validation of its ONNX file (PyTorch rebuilt from the file; the engine when built)
#   reproducible  the same seed gives the same CSV bytes and, trained twice, the same ONNX bytes
#   variants      missing cells, a JSON export, H = 5 and the reference mixer train and export
#   corpus        the default model's corpus without real traces (synthetic only, said so), a
#                 folder trained with a family left out, the per-step evaluation
#   corpus_real   the same with the real Azure trace (needs AETHER_TRACES; exit 77 = skip)
# Usage: test_pipeline.sh PART WORKDIR [export_onnx.py engine options...]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TRAINING="$HERE/../../training"
PY=/usr/bin/python3
PART=$1
WORK=$2
shift 2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"

fail() {
    echo "FAIL: $*"
    exit 1
}

case $PART in
make)
    # Without engine options the Makefile's validation finds build/bin/aether-model itself.
    make -s -C "$TRAINING" all OUT="$WORK/out" DURATION=8h EPOCHS=3 \
        EVAL_FLAGS="--duration 4h" >make.log 2>&1 || { cat make.log; fail "make -C training all"; }
    cat make.log
    for line in "480 samples, 11 features" "sequences (seq_len=60, horizon=1)" \
                "Model parameters:" "Epoch    3/3:" "Training complete. Best validation loss:" \
                "Wall time:" "ONNX model is valid" "File size:" "make all: wall time"; do
        grep -q "$line" make.log || fail "make all did not print '$line'"
    done
    test "$(grep -c "(seed 10" make.log)" -eq 5 || fail "evaluate.py did not cover 5 patterns"
    $PY "$TRAINING/export_onnx.py" --validate out/ttm-aether.onnx "$@" >validate.log
    cat validate.log
    grep -q "PyTorch reference rebuilt from the file" validate.log || fail "no PyTorch reference"
    if grep -q "Engine inference: SKIPPED" validate.log; then
        grep -q "^Validation incomplete" validate.log || fail "skipped check not reported"
        ! grep -q "^Validation passed!" validate.log || fail "passed claimed with a skipped check"
    else
        grep -q "matches PyTorch within" validate.log && grep -q "^Validation passed!" validate.log
    fi
    ;;
reproducible)
    gen() { $PY "$TRAINING/generate_synthetic.py" --pattern mixed --duration 4h "$@" >/dev/null; }
    gen --seed 5 --output a.csv
    gen --seed 5 --output b.csv
    cmp a.csv b.csv || fail "same seed, different CSV bytes"
    gen --seed 6 --output c.csv
    if cmp -s a.csv c.csv; then fail "different seeds, same CSV"; fi
    for run in 1 2; do
        $PY "$TRAINING/train.py" --data a.csv --epochs 2 --seed 3 --output m$run.pt >train$run.log
        $PY "$TRAINING/export_onnx.py" --model m$run.pt --output m$run.onnx "$@" >export$run.log
    done
    cmp m1.onnx m2.onnx || fail "same data and seed, different ONNX bytes"
    ;;
variants)
    $PY "$TRAINING/generate_synthetic.py" --pattern spike --duration 5h --seed 8 \
        --missing-rate 0.05 --output missing.csv >/dev/null
    $PY "$TRAINING/train.py" --data missing.csv --epochs 1 --output missing.pt >missing.log
    grep -q "missing values (carried forward" missing.log || { cat missing.log; fail "missing"; }
    # The same data as the node's JSON export (null = missing) trains too.
    $PY - missing.csv export.json <<'EOF'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
doc = {"schemaVersion": 1, "features": rows[0][1:], "blueprint": "web", "rows": [
    {"timestamp": int(r[0]), "values": [float(v) if v else None for v in r[1:]], "samples": 60}
    for r in rows[1:]]}
json.dump(doc, open(sys.argv[2], "w"))
EOF
    $PY "$TRAINING/train.py" --data export.json --epochs 1 --output json.pt >json.log
    grep -q "300 samples, 11 features" json.log || { cat json.log; fail "JSON export"; }
    $PY "$TRAINING/train.py" --data missing.csv --epochs 1 --horizon 5 --seq-len 30 \
        --output h5.pt >h5.log
    $PY "$TRAINING/export_onnx.py" --model h5.pt --output h5.onnx "$@" >h5-export.log
    grep -q "output \['batch', 5, 11\]" h5-export.log || { cat h5-export.log; fail "H=5"; }
    # The default model's architecture (a gated mean of simple forecasts) trains and exports,
    # and the engine's output matches PyTorch's.
    $PY "$TRAINING/train.py" --data missing.csv --epochs 1 --horizon 5 --seq-len 30 \
        --mixture last,mean3,mean10,meanW,drift1x2,drift5 --no-residual --levels "" \
        --output mix.pt >mix.log || { cat mix.log; fail "mixture training"; }
    $PY "$TRAINING/export_onnx.py" --model mix.pt --output mix.onnx "$@" >mix-export.log ||
        { cat mix-export.log; fail "mixture export"; }
    grep -q "Validation passed" mix-export.log || { cat mix-export.log; fail "mixture validation"; }
    # The shipped model's form: the mean of members trained with other seeds, one file that
    # validates against the engine, also with PyTorch rebuilt from the file alone.
    $PY "$TRAINING/train.py" --data missing.csv --epochs 1 --horizon 5 --seq-len 30 --seed 7 \
        --mixture last,mean3,mean10,meanW,drift1x2,drift5 --no-residual --levels "" \
        --output mix7.pt >mix7.log || { cat mix7.log; fail "second member"; }
    $PY "$TRAINING/export_onnx.py" --model mix.pt mix7.pt --output ens.onnx "$@" >ens.log ||
        { cat ens.log; fail "ensemble export"; }
    grep -q "aether.train_seed = 42,7" ens.log || { cat ens.log; fail "ensemble seeds"; }
    $PY "$TRAINING/export_onnx.py" --validate ens.onnx "$@" >ens-validate.log ||
        { cat ens-validate.log; fail "ensemble validation"; }
    grep -q "PyTorch reference rebuilt from the file" ens-validate.log || fail "ensemble rebuilt"
    # The spec's reference mixer still trains and exports.
    $PY "$TRAINING/train.py" --data missing.csv --epochs 1 --arch mixer --output mixer.pt >mixer.log
    grep -q "Model parameters: 123,664" mixer.log || { cat mixer.log; fail "reference mixer size"; }
    $PY "$TRAINING/export_onnx.py" --model mixer.pt --output mixer.onnx "$@" >mixer-export.log ||
        { cat mixer-export.log; fail "reference mixer export"; }
    ;;
corpus)
    $PY "$TRAINING/build_corpus.py" --out corpus --traces "$WORK/no-traces" --synthetic-days 1 \
        --synthetic-variants 1 >corpus.log || { cat corpus.log; fail "build_corpus.py"; }
    cat corpus.log
    grep -q "SYNTHETIC ONLY" corpus.log || fail "a synthetic-only corpus is not said so"
    test "$(ls corpus/synthetic-*.csv | wc -l)" -eq 5 || fail "not one series per pattern"
    $PY -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(m["real_traces"] or
len(m["files"]) != 5)' corpus/manifest.json || fail "manifest"
    $PY "$TRAINING/build_corpus.py" --out corpus2 --traces "$WORK/no-traces" --synthetic-days 1 \
        --synthetic-variants 1 >/dev/null
    for f in corpus/*.csv; do cmp "$f" "corpus2/${f#corpus/}" || fail "same seed, other $f"; done
    # Different patterns and parameters: no two series alike.
    test "$(md5sum corpus/*.csv | cut -d' ' -f1 | sort -u | wc -l)" -eq 5 || fail "duplicates"
    # --vary-fleet: a series the simulator replays keeps its load and gets another fleet's
    # features (needs the simulator: AETHER_SIM, set by ctest when it is built).
    if [ -n "${AETHER_SIM:-}" ]; then
        for v in reactive vary; do
            $PY "$TRAINING/build_corpus.py" --out "levels-$v" --traces "$WORK/no-traces" \
                --sim "$AETHER_SIM" --synthetic-days 1 --synthetic-variants 1 --wandering-levels 2 \
                $(test $v = vary && echo --vary-fleet) >levels.log ||
                { cat levels.log; fail "build_corpus.py --wandering-levels 2 ($v)"; }
        done
        $PY - levels-reactive levels-vary <<'EOF' || fail "--vary-fleet"
import csv, json, sys
plain, varied = sys.argv[1:3]
m = json.load(open(f"{varied}/manifest.json"))
assert m["vary_fleet"] is True and json.load(open(f"{plain}/manifest.json"))["vary_fleet"] is False
for k in range(2):
    name = f"synthetic-wanderlevel-{k}.csv"
    x, y = (list(csv.DictReader(open(f"{d}/{name}"))) for d in (plain, varied))
    assert [r["invocations"] for r in x] == [r["invocations"] for r in y], f"{name}: load moved"
    changed = sum(r["cpu_usage"] != s["cpu_usage"] for r, s in zip(x, y))
    assert changed > len(x) // 10, f"{name}: cpu changed in {changed} of {len(x)} minutes only"
    what = next(f["what"] for f in m["files"] if f["file"] == name)
    assert "replayed under the HPA at 0." in what, what
for f in m["files"]:
    if "wanderlevel" not in f["file"]:  # generated directly, not replayed: the same bytes
        assert open(f"{plain}/{f['file']}").read() == open(f"{varied}/{f['file']}").read()
print("vary-fleet: load kept, cpu of another fleet")
EOF
    else
        echo "note: AETHER_SIM unset, --vary-fleet not checked"
    fi
    $PY "$TRAINING/train.py" --data corpus --exclude synthetic-steady,synthetic-ramp \
        --windows-per-series 300 --seq-len 40 --horizon 5 --epochs 1 --output c.pt >c.log ||
        { cat c.log; fail "train.py on a folder"; }
    cat c.log
    grep -q "(3 series)" c.log || fail "--exclude did not leave 2 of 5 series out"
    grep -q "Training: 720, Validation: 180" c.log || fail "--windows-per-series 300 per series"
    $PY "$TRAINING/evaluate_steps.py" --model c.pt --data corpus/synthetic-steady-0.csv >e.log ||
        test $? -eq 1 || { cat e.log; fail "evaluate_steps.py"; }
    cat e.log
    test "$(grep -c "step [1-5]: MAE model" e.log)" -eq 5 || fail "not 5 steps scored"
    grep -q "^Goal" e.log || fail "no verdict"
    # The upper-quantile check: a head trained on the other series, every method swept and
    # compared at equal coverage on the left-out one.
    $PY "$TRAINING/evaluate_upper.py" --model "$TRAINING/../models/ttm-aether.onnx" \
        --corpus corpus --exclude synthetic-steady --data corpus/synthetic-steady-0.csv \
        --windows-per-series 100 --epochs 2 >u.log || { cat u.log; fail "evaluate_upper.py"; }
    cat u.log
    grep -q "trained on 4 series (excluded: synthetic-steady)" u.log || fail "head corpus"
    for m in ring ring-scaled head head+ring head-x-ring select; do
        test "$(grep -c "^| synthetic | [0-9]* | $m | " u.log)" -eq 7 || fail "$m: not 7 points"
        grep -q "^| synthetic | $m | [0-9.na]* | [0-9.na]* |$" u.log || fail "$m: no width"
    done
    ;;
corpus_real)
    TRACES=${AETHER_TRACES:-}
    if [ -z "$TRACES" ] || [ ! -f "$TRACES/azure_functions_2019_500fn_8h_total_1min.csv" ]; then
        echo "SKIP: the shared traces are absent (AETHER_TRACES='$TRACES')"
        exit 77
    fi
    $PY "$TRAINING/build_corpus.py" --out corpus --test test --traces "$TRACES" --only azure \
        --synthetic-days 1 --synthetic-variants 1 --augmentations 1 >corpus.log ||
        { cat corpus.log; fail "build_corpus.py with the Azure trace"; }
    cat corpus.log
    ! grep -q "SYNTHETIC ONLY" corpus.log || fail "real traces present, said synthetic only"
    # The training part is the first 70% of the 480 minutes, the test part the rest; the
    # augmented copies are time-stretched, so their length differs.
    test "$(($(wc -l <corpus/azure-train.csv) - 1))" -eq 336 || fail "training part != 336 min"
    test "$(($(wc -l <test/azure-test.csv) - 1))" -eq 144 || fail "test part != 144 minutes"
    test "$(ls corpus/azure-aug*.csv | wc -l)" -eq 3 || fail "Azure gets 3 augmented copies"
    last_train=$(tail -n 1 corpus/azure-train.csv | cut -d, -f1)
    first_test=$(sed -n 2p test/azure-test.csv | cut -d, -f1)
    test "$first_test" -gt "$last_train" || fail "test part overlaps the training part"
    for f in corpus/azure-aug*.csv; do
        ! cmp -s "$f" corpus/azure-train.csv || fail "$f is not augmented"
    done
    ;;
*)
    fail "unknown part '$PART' (make, reproducible, variants, corpus, corpus_real)"
    ;;
esac
echo "pipeline $PART: OK"
