#!/bin/sh
# Inference engine benchmark: our engine (`aether-model bench`) against ONNX Runtime
# (npm package onnxruntime-node) on the same model, in one run.
#
#   bench/onnx/run.sh [--build-dir DIR] [--iterations N] [--rounds N] [--batch N] [--no-kernels]
#   (or: make bench-engine)
#
# 1. exports the reference mixer (W=60, H=1, fixed weights) with tests/onnx/reference_mixer.py;
# 2. installs onnxruntime-node into a scratch folder under the build dir if it is not there yet
#    (npm install --ignore-scripts: the linux-x64 CPU binding ships inside the package; its
#    install script only fetches optional GPU providers);
# 3. runs, ROUNDS times alternately, `aether-model bench MODEL --batch B --iterations N` and
#    ort_bench.js (one intra-op thread, all graph optimisations; the same input window, warm-up
#    and iteration counts and min/median/p99 definitions as aether-model bench), each in its own
#    process;
# 4. prints both latencies (the best median over the rounds for each side: the machine may be
#    shared), the ratio ours/ORT, our GFLOP/s (the model's matrix-product FLOPs x batch / median)
#    against the single-core peak, and both processes' peak RSS;
# 5. unless --no-kernels: the nn_sgemm kernel table against OpenBLAS (build/bin/gemm_bench).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=build
ITERATIONS=2000
ROUNDS=3
BATCH=1
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
    --batch) BATCH=${2:?--batch needs a value}; shift 2 ;;
    --no-kernels) KERNELS=0; shift ;;
    *) die "unknown option '$1'" ;;
    esac
done
for v in "$ITERATIONS" "$ROUNDS" "$BATCH"; do
    case "$v" in '' | 0 | *[!0-9]*) die "expected a positive integer, got '$v'" ;; esac
done

case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
MODEL_TOOL=$BUILD_DIR/bin/aether-model
[ -x "$MODEL_TOOL" ] || die "$MODEL_TOOL not found: build first (make, or make bench-engine)"
"$PYTHON" -c 'import torch, onnx' 2>/dev/null ||
    die "$PYTHON cannot import torch and onnx (Debian: python3-torch python3-onnx)"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed for ONNX Runtime"

WORK=$BUILD_DIR/bench/onnx
mkdir -p "$WORK/model"

# 1. the model and its FLOP count
"$PYTHON" "$ROOT/tests/onnx/reference_mixer.py" --output-dir "$WORK/model" --window 60 --horizon 1 >/dev/null
MODEL=$WORK/model/mixer.onnx
FLOPS=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["flops"])' "$WORK/model/model.json")
PARAMS=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["parameters"])' "$WORK/model/model.json")

# 2. ONNX Runtime for node, in a scratch folder
ORT_DIR=$WORK/onnxruntime-node
ORT_PKG=$ORT_DIR/node_modules/onnxruntime-node
if [ ! -f "$ORT_PKG/package.json" ]; then
    echo "installing onnxruntime-node@$ORT_VERSION into $ORT_DIR"
    mkdir -p "$ORT_DIR"
    npm install --prefix "$ORT_DIR" --ignore-scripts --no-audit --no-fund --loglevel=error \
        "onnxruntime-node@$ORT_VERSION" >/dev/null
fi
case "$(uname -m)" in x86_64) ARCH=x64 ;; aarch64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac
ls "$ORT_PKG"/bin/napi-v*/linux/"$ARCH"/onnxruntime_binding.node >/dev/null 2>&1 ||
    die "onnxruntime-node has no linux/$ARCH binding under $ORT_PKG/bin"

# 3. alternate rounds
field() { # field NAME LINE: the number after NAME= in LINE
    echo "$2" | sed -n "s/.*[[:space:]]$1=\([0-9.eE+-]*\).*/\1/p"
}
ours_best=""
ort_best=""
round=1
while [ "$round" -le "$ROUNDS" ]; do
    ours_out=$("$MODEL_TOOL" bench "$MODEL" --batch "$BATCH" --iterations "$ITERATIONS") ||
        die "aether-model bench failed"
    ort_out=$(NODE_PATH=$ORT_DIR/node_modules node "$ROOT/bench/onnx/ort_bench.js" "$MODEL" \
        --batch "$BATCH" --iterations "$ITERATIONS") ||
        die "ort_bench.js failed"
    echo "round $round"
    echo "$ours_out" | sed 's/^/  aether-model  /'
    echo "$ort_out" | sed 's/^/  onnxruntime   /'
    ours_lat=$(echo "$ours_out" | grep '^latency_us ')
    ort_lat=$(echo "$ort_out" | grep '^latency_us ')
    [ -n "$ours_lat" ] || die "aether-model bench printed no latency_us line"
    ours_median=$(field median "$ours_lat")
    ort_median=$(field median "$ort_lat")
    if [ -z "$ours_best" ] || awk "BEGIN { exit !($ours_median < $(field median "$ours_best")) }"; then
        ours_best=$ours_lat
        ours_all=$ours_out
    fi
    if [ -z "$ort_best" ] || awk "BEGIN { exit !($ort_median < $(field median "$ort_best")) }"; then
        ort_best=$ort_lat
        ort_all=$ort_out
    fi
    round=$((round + 1))
done

ours_rss_kb=$(field peak_rss_kb "$(echo "$ours_all" | grep 'peak_rss_kb=' || true)")
ort_rss_kb=$(field peak_rss_kb "$(echo "$ort_all" | grep 'peak_rss_kb=' || true)")

# 4. the peak: FLOP/cycle of the CPU's vector units x the measured clock (gemm_bench --peak)
PEAK_LINE=""
if [ -x "$BUILD_DIR/bin/gemm_bench" ]; then
    PEAK_LINE=$("$BUILD_DIR/bin/gemm_bench" --peak | grep '^single-core peak' || true)
fi
PEAK=$(echo "$PEAK_LINE" | sed -n 's/.*= \([0-9.]*\) GFLOP\/s.*/\1/p')

echo
echo "reference mixer W=60 H=1: $PARAMS parameters, $FLOPS FLOP per inference (matrix products)"
echo "batch $BATCH, $ITERATIONS timed iterations (after the same warm-up), best median of $ROUNDS rounds"
awk -v ours="$(field median "$ours_best")" -v ort="$(field median "$ort_best")" \
    -v ours_min="$(field min "$ours_best")" -v ort_min="$(field min "$ort_best")" \
    -v ours_p99="$(field p99 "$ours_best")" -v ort_p99="$(field p99 "$ort_best")" \
    -v ours_rss="${ours_rss_kb:-0}" -v ort_rss="${ort_rss_kb:-0}" \
    -v flops="$FLOPS" -v batch="$BATCH" -v peak="${PEAK:-0}" -v peak_line="$PEAK_LINE" 'BEGIN {
    printf "  aether-model  median %8.1f us  min %8.1f  p99 %8.1f  peak RSS %6.1f MiB\n", ours, ours_min, ours_p99, ours_rss / 1024
    printf "  onnxruntime   median %8.1f us  min %8.1f  p99 %8.1f  peak RSS %6.1f MiB\n", ort, ort_min, ort_p99, ort_rss / 1024
    printf "ratio ours/ORT (median latency): %.2f   (goal <= 1.0, stretch <= 0.6)\n", ours / ort
    gflops = flops * batch / ours * 1e-3
    if (peak > 0)
        printf "our throughput: %.1f GFLOP/s = %.0f%% of the %s\n", gflops, 100 * gflops / peak, peak_line
    else
        printf "our throughput: %.1f GFLOP/s (single-core peak unknown on this CPU)\n", gflops
    printf "RSS goal: aether-model under 8 MiB: %s\n", (ours_rss > 0 && ours_rss < 8 * 1024) ? "met" : "NOT met"
}'

# 5. the matrix kernels alone
# Debian's OpenBLAS 0.3.21 does not know every recent CPU model and then falls back to its SSE3
# (Prescott) kernels; on an AVX-512 CPU ask for its AVX-512 ones, the fair peer.
if [ "$KERNELS" = 1 ] && [ -x "$BUILD_DIR/bin/gemm_bench" ]; then
    echo
    if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
        OPENBLAS_CORETYPE=SkylakeX
        export OPENBLAS_CORETYPE
    fi
    OPENBLAS_NUM_THREADS=1 "$BUILD_DIR/bin/gemm_bench" --batch "$BATCH" --samples 21
fi
