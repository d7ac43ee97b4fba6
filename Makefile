# Thin wrapper around CMake so that a fresh clone needs only `make run` and `make test`.
#   make            build (release, with the TTM engine); the compiler's output goes to
#                   $(BUILD_DIR)/build.log and is printed only when the build fails (V=1 shows it)
#   make test       build and run every test (ctest)
#   make run        build and start aether-node with aether.toml
#   make run-cluster   a local etcd and three nodes (scripts/run-cluster, docs/cluster.md)
#   make SANITIZE=1 test   the same suite under ASan+UBSan, in build-asan/
#   make fuzz       libFuzzer targets with clang, in build-fuzz/
#   make format     clang-format every C source
#   make demo       both tiers in minutes: a synthetic day imported as history (so the forecaster
#                   has its window at once), then aether-node with the load of that day replayed
#   make demo-load PATTERN=diurnal   replay a synthetic load pattern against the demo workers
#   make bench-engine   our inference engine vs ONNX Runtime's C API on the shipped and reference models (bench/onnx)
#   make bench-scaling  controllers compared on the real traces -> docs/benchmarks.md
#   make bench-scaling-zero-shot   the same with the leave-one-out models of make -C training loo
#                       (training/out/loo), zero-shot on every trace -> docs/benchmarks-zero-shot.md
SANITIZE ?= 0
WITH_TTM ?= 1
CONFIG   ?= aether.toml
JOBS     ?= 2
PYTHON   ?= /usr/bin/python3
ifeq ($(SANITIZE),1)
BUILD_DIR ?= build-asan
BUILD_TYPE ?= Debug
else
BUILD_DIR ?= build
BUILD_TYPE ?= Release
endif

CMAKE_FLAGS = -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DAETHER_SANITIZE=$(SANITIZE) -DAETHER_WITH_TTM=$(WITH_TTM)

.PHONY: all deps configure build test run run-cluster format fuzz clean demo demo-history demo-trace \
        demo-load bench-engine bench-scaling bench-scaling-zero-shot
all: build

deps:
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null

V ?= 0
build: configure
ifeq ($(V),1)
	@cmake --build $(BUILD_DIR) -j $(JOBS)
else
	@cmake --build $(BUILD_DIR) -j $(JOBS) >$(BUILD_DIR)/build.log 2>&1 || \
	    { cat $(BUILD_DIR)/build.log; echo "make: the build failed (full output above, also in $(BUILD_DIR)/build.log)" >&2; exit 1; }
endif

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

run: build
	@if [ ! -x $(BUILD_DIR)/bin/aether-node ]; then \
	    echo "make run: aether-node is not built yet in this version"; exit 1; fi
	exec $(BUILD_DIR)/bin/aether-node --config $(CONFIG)

run-cluster: build
	exec scripts/run-cluster $(BUILD_DIR)/bin/aether-node

fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DAETHER_FUZZ=1 >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@echo "fuzzers are in build-fuzz/tests (fuzz_*)"

bench-scaling: build
	$(PYTHON) bench/scaling/run.py --sim $(BUILD_DIR)/bin/aether-sim --work $(BUILD_DIR)/bench-scaling $(BENCH_FLAGS)

LOO_MODELS ?= training/out/loo
bench-scaling-zero-shot: build
	@for f in nasa azure bitbrains; do test -f $(LOO_MODELS)/without-$$f.onnx || { \
	    echo "bench-scaling-zero-shot: no $(LOO_MODELS)/without-$$f.onnx: run make -C training loo first"; \
	    exit 1; }; done
	$(PYTHON) bench/scaling/run.py --sim $(BUILD_DIR)/bin/aether-sim --work $(BUILD_DIR)/bench-scaling-zero-shot \
	    --loo-models $(LOO_MODELS) --out docs/benchmarks-zero-shot.md \
	    --notes bench/scaling/analysis-zero-shot.md $(BENCH_FLAGS)

format:
	@find include src tools tests bench -name '*.[ch]' 2>/dev/null | xargs -r clang-format -i

bench-engine: build
	bench/onnx/run.sh --build-dir $(BUILD_DIR)

clean:
	rm -rf build build-asan build-fuzz

# Load for the demo blueprint of aether.toml: training/generate_synthetic.py writes the pattern
# (diurnal, spike, ramp, steady, mixed), aether-load replays it against the instances' ports,
# a day in LOAD_TIME_SCALE-times fast forward (288: 24 h in 5 minutes) at the pattern's rates.
PATTERN         ?= diurnal
LOAD_BASE       ?= 300
LOAD_DURATION   ?= 24h
LOAD_TIME_SCALE ?= 288
LOAD_PORTS      ?= 9100-9107
LOAD_SEED       ?= 42
LOAD_TRACE      = $(BUILD_DIR)/demo-load-$(PATTERN).csv
LOAD_COMMAND    = $(BUILD_DIR)/bin/aether-load --trace $(LOAD_TRACE) \
    --time-column timestamp --value-column invocations --time-scale $(LOAD_TIME_SCALE) \
    --ports $(LOAD_PORTS) --path /work
demo-trace: build
	@$(PYTHON) training/generate_synthetic.py --pattern $(PATTERN) --duration $(LOAD_DURATION) \
	    --base-load $(LOAD_BASE) --seed $(LOAD_SEED) --output $(LOAD_TRACE)
demo-load: demo-trace
	$(LOAD_COMMAND)

# The demo: a synthetic day of history (the same pattern and base load as the replayed load)
# imported into the data_dir of $(CONFIG), moved up to now, so the forecaster evaluates on its
# first minute; then the node runs while demo-load replays the day, and stops with it. The import
# replaces the stored minutes of the last 24 hours of blueprint demo.
demo-history: build
	@$(PYTHON) training/generate_synthetic.py --pattern $(PATTERN) --duration 24h \
	    --base-load $(LOAD_BASE) --seed $(LOAD_SEED) --output $(BUILD_DIR)/demo-history.csv
	@$(BUILD_DIR)/bin/aether-node import-history $(BUILD_DIR)/demo-history.csv --config $(CONFIG) \
	    --shift-to-now
demo: demo-history demo-trace
	@$(BUILD_DIR)/bin/aether-node --config $(CONFIG) & node=$$!; \
	trap 'kill $$node 2>/dev/null; wait $$node' EXIT INT TERM; \
	sleep 2; kill -0 $$node 2>/dev/null || exit 1; \
	$(LOAD_COMMAND) --quiet
