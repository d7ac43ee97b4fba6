# Thin wrapper around CMake so that a fresh clone needs only `make run` and `make test`.
#   make            build (release, with the TTM engine)
#   make test       build and run every test (ctest)
#   make run        build and start aether-node with aether.toml
#   make SANITIZE=1 test   the same suite under ASan+UBSan, in build-asan/
#   make fuzz       libFuzzer targets with clang, in build-fuzz/
#   make format     clang-format every C source
#   make bench-scaling   controllers compared on the real traces -> docs/benchmarks.md
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

.PHONY: all deps configure build test run format fuzz clean bench-scaling
all: build

deps:
	@scripts/install-deps --check >/dev/null 2>&1 || scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

run: build
	@if [ ! -x $(BUILD_DIR)/bin/aether-node ]; then \
	    echo "make run: aether-node is not built yet in this version"; exit 1; fi
	exec $(BUILD_DIR)/bin/aether-node --config $(CONFIG)

fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DAETHER_FUZZ=1 >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@echo "fuzzers are in build-fuzz/bin (fuzz_*)"

bench-scaling: build
	$(PYTHON) bench/scaling/run.py --sim $(BUILD_DIR)/bin/aether-sim --work $(BUILD_DIR)/bench-scaling

format:
	@find include src tools tests bench -name '*.[ch]' 2>/dev/null | xargs -r clang-format -i

clean:
	rm -rf build build-asan build-fuzz
