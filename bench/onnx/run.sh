#!/bin/sh
# Inference engine benchmark: our engine (`aether-model bench`) against ONNX Runtime's C API
# (build/bin/ort_c_bench over libonnxruntime from the onnxruntime-node npm package; no Node in
# the timed path) on the same models, batches and inputs, in one run.
#
#   bench/onnx/run.sh [--build-dir DIR] [--iterations N] [--rounds N] [--batches "1 8 64"]
#                     [--models "NAME ..."] [--no-kernels]
#   (or: make bench-engine)
#
# 1. writes the models: the shipped ones (models/*.onnx), the reference mixer
#    (tests/onnx/reference_mixer.py, W=60 H=1), a TinyTimeMixer at IBM's r1 size
#    (tests/onnx/tinytimemixer.py, W=512 H=96, random weights), and DLinear, PatchTST with
#    BatchNorm, a TCN and two-layer bidirectional GRU and LSTM forecasters
#    (tests/onnx/forecasters.py, W=60 H=3);
# 2. installs onnxruntime-node into a scratch folder under the build dir if it is not there yet
#    (npm install --ignore-scripts: the linux-x64 libonnxruntime ships inside the package);
# 3. for every model and batch, runs ROUNDS times alternately `aether-model bench` and
#    ort_c_bench (one intra-op and one inter-op thread, sequential, all graph optimisations; the
#    same input window, warm-up, iteration count and min/median/p99 definitions), each in its own
#    process, and keeps the best median of each side (the machine may be shared). Iterations are
#    N / batch (at least 20), so that big batches do not take minutes;
# 4. prints one table: both medians, the ratio ours/ORT, both processes' peak RSS (getrusage,
#    loading included, measured the same way in both programs); then our GFLOP/s on the
#    reference mixer against the single-core FMA throughput measured on this machine
#    (gemm_bench --peak);
# 5. unless --no-kernels: the nn_sgemm kernel table against OpenBLAS (build/bin/gemm_bench).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=build
ITERATIONS=2000
ROUNDS=3
BATCHES="1 8 64"
MODELS=""
KERNELS=1
PYTHON=${PYTHON:-/usr/bin/python3}
ORT_VERSION=${ORT_VERSION:-1.30.0}

die() {
    echo "bench/onnx/run.sh: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) BUILD_DIR=${2:?--build-dir needs a value}; shift 2 ;;
    --iterations) ITERATIONS=${2:?--iterations needs a value}; shift 2 ;;
    --rounds) ROUNDS=${2:?--rounds needs a value}; shift 2 ;;
    --batches) BATCHES=${2:?--batches needs a value}; shift 2 ;;
    --batch) BATCHES=${2:?--batch needs a value}; shift 2 ;;
    --models) MODELS=${2:?--models needs a value}; shift 2 ;;
    --no-kernels) KERNELS=0; shift ;;
    *) die "unknown option '$1'" ;;
    esac
done
for v in "$ITERATIONS" "$ROUNDS" $BATCHES; do
    case "$v" in '' | 0 | *[!0-9]*) die "expected a positive integer, got '$v'" ;; esac
done

case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
MODEL_TOOL=$BUILD_DIR/bin/aether-model
ORT_BENCH=$BUILD_DIR/bin/ort_c_bench
[ -x "$MODEL_TOOL" ] || die "$MODEL_TOOL not found: build first (make, or make bench-engine)"
[ -x "$ORT_BENCH" ] || die "$ORT_BENCH not found: build first (make, or make bench-engine)"
"$PYTHON" -c 'import torch, onnx' 2>/dev/null ||
    die "$PYTHON cannot import torch and onnx (Debian: python3-torch python3-onnx)"
command -v npm >/dev/null || die "npm is needed to fetch ONNX Runtime (onnxruntime-node)"

WORK=$BUILD_DIR/bench/onnx
mkdir -p "$WORK/models"

# 1. the models
for f in "$ROOT"/models/*.onnx; do
    [ -f "$f" ] && cp "$f" "$WORK/models/shipped-$(basename "$f")"
done
"$PYTHON" "$ROOT/tests/onnx/reference_mixer.py" --output-dir "$WORK/mixer" --window 60 --horizon 1 >/dev/null
cp "$WORK/mixer/mixer.onnx" "$WORK/models/mixer.onnx"
MIXER_FLOPS=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["flops"])' "$WORK/mixer/model.json")
"$PYTHON" "$ROOT/tests/onnx/tinytimemixer.py" --output-dir "$WORK/ttm" >/dev/null 2>&1 ||
    die "tests/onnx/tinytimemixer.py failed"
cp "$WORK/ttm/model.onnx" "$WORK/models/ttm-r1.onnx"
for family in dlinear patchtst_bn tcn gru lstm; do
    "$PYTHON" "$ROOT/tests/onnx/forecasters.py" --family "$family" --output-dir "$WORK/$family" >/dev/null 2>&1 ||
        die "tests/onnx/forecasters.py --family $family failed"
    cp "$WORK/$family/model.onnx" "$WORK/models/$family.onnx"
done
if [ -z "$MODELS" ]; then
    MODELS=$(cd "$WORK/models" && ls *.onnx | sed 's/\.onnx$//')
fi

# 2. ONNX Runtime's shared library, from the npm package
ORT_DIR=$WORK/onnxruntime-node
ORT_PKG=$ORT_DIR/node_modules/onnxruntime-node
if [ ! -f "$ORT_PKG/package.json" ]; then
    echo "installing onnxruntime-node@$ORT_VERSION into $ORT_DIR"
    mkdir -p "$ORT_DIR"
    npm install --prefix "$ORT_DIR" --ignore-scripts --no-audit --no-fund --loglevel=error \
        "onnxruntime-node@$ORT_VERSION" >/dev/null
fi
case "$(uname -m)" in x86_64) ARCH=x64 ;; aarch64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac
ORT_LIB=$(ls "$ORT_PKG"/bin/napi-v*/linux/"$ARCH"/libonnxruntime.so* 2>/dev/null | head -n 1)
[ -n "$ORT_LIB" ] || die "onnxruntime-node has no linux/$ARCH libonnxruntime under $ORT_PKG/bin"

# 3. alternate rounds, per model and batch
field() { # field NAME LINE: the number after NAME= in LINE
    echo "$2" | sed -n "s/.*[[:space:]]$1=\([0-9.eE+-]*\).*/\1/p"
}
best_median() { # best_median CURRENT_BEST NEW: the smaller (CURRENT_BEST may be empty)
    if [ -z "$1" ] || awk "BEGIN { exit !($2 < $1) }"; then echo "$2"; else echo "$1"; fi
}
TABLE=$WORK/results.txt
: >"$TABLE"
echo "onnxruntime: $ORT_LIB"
for name in $MODELS; do
    model=$WORK/models/$name.onnx
    [ -f "$model" ] || die "no model $model"
    window=$("$MODEL_TOOL" validate "$model" | sed -n 's/^  Input: input float\[?, \([0-9]*\), 11\]$/\1/p')
    [ -n "$window" ] || die "$model: cannot read its window from aether-model validate"
    for batch in $BATCHES; do
        iters=$((ITERATIONS / batch))
        [ "$iters" -ge 20 ] || iters=20
        ours=""
        ort=""
        ours_rss=0
        ort_rss=0
        round=1
        while [ "$round" -le "$ROUNDS" ]; do
            o=$("$MODEL_TOOL" bench "$model" --batch "$batch" --iterations "$iters") ||
                die "aether-model bench $model --batch $batch failed"
            r=$("$ORT_BENCH" "$ORT_LIB" "$model" --window "$window" --batch "$batch" --iterations "$iters") ||
                die "ort_c_bench $model --batch $batch failed"
            ours=$(best_median "$ours" "$(field median "$(echo "$o" | grep '^latency_us ')")")
            ort=$(best_median "$ort" "$(field median "$(echo "$r" | grep '^latency_us ')")")
            ours_rss=$(field peak_rss_kb "$(echo "$o" | grep 'peak_rss_kb=')")
            ort_rss=$(field peak_rss_kb "$(echo "$r" | grep 'peak_rss_kb=')")
            round=$((round + 1))
        done
        echo "$name $batch $ours $ort $ours_rss $ort_rss $iters" >>"$TABLE"
        echo "  $name batch $batch: ours $ours us, ORT $ort us"
    done
done

# 4. the table, and the mixer's throughput against the measured peak
PEAK_LINE=""
if [ -x "$BUILD_DIR/bin/gemm_bench" ]; then
    PEAK_LINE=$("$BUILD_DIR/bin/gemm_bench" --peak | grep '^single-core peak' || true)
fi
PEAK=$(echo "$PEAK_LINE" | sed -n 's/.*= \([0-9.]*\) GFLOP\/s.*/\1/p')
echo
echo "best median of $ROUNDS alternating rounds, $ITERATIONS / batch timed iterations (at least 20)"
awk -v flops="$MIXER_FLOPS" -v peak="${PEAK:-0}" -v peak_line="$PEAK_LINE" '
BEGIN {
    printf "%-24s %5s %12s %12s %8s %10s %10s\n", "model", "batch", "ours us", "ORT-C us", "ours/ORT", "ours MiB", "ORT MiB"
}
{
    printf "%-24s %5d %12.1f %12.1f %8.2f %10.1f %10.1f\n", $1, $2, $3, $4, $3 / $4, $5 / 1024, $6 / 1024
    if ($1 == "mixer" && $2 == 1) mixer_us = $3
}
END {
    if (mixer_us > 0 && peak > 0)
        printf "reference mixer, batch 1: %.1f GFLOP/s = %.0f%% of the %s\n", flops / mixer_us * 1e-3, 100 * flops / mixer_us * 1e-3 / peak, peak_line
}' "$TABLE"

# 5. the matrix kernels alone
# Debian's OpenBLAS 0.3.21 does not know every recent CPU model and then falls back to its SSE3
# (Prescott) kernels; on an AVX-512 CPU ask for its AVX-512 ones, the fair peer.
if [ "$KERNELS" = 1 ] && [ -x "$BUILD_DIR/bin/gemm_bench" ]; then
    echo
    if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
        OPENBLAS_CORETYPE=SkylakeX
        export OPENBLAS_CORETYPE
    fi
    OPENBLAS_NUM_THREADS=1 "$BUILD_DIR/bin/gemm_bench" --batch 1 --samples 21
fi
