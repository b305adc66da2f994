# tlbkit: two commands for a fresh machine.
#   make demo  installs missing packages, builds, runs the main job on the built-in suite
#   make test  installs missing packages, builds, runs every test
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
PROPERTY_CASES ?= 1000

.PHONY: all deps configure build demo test bench clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD_DIR)

test: build
	@cd $(BUILD_DIR) && RC_PARAMS="max_success=$(PROPERTY_CASES)" ctest --output-on-failure -j $(JOBS)

bench: build
	@$(BUILD_DIR)/bench/tlbkit_bench_pt --benchmark_counters_tabular=true

clean:
	@rm -rf $(BUILD_DIR)
