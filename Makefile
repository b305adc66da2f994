# tlbkit: two commands for a fresh machine.
#   make demo  installs missing packages, builds, runs the main job on the built-in suite
#   make test  installs missing packages, builds, runs every test
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
JOBS ?= $(shell nproc)
PROPERTY_CASES ?= 1000
# The sanitizer pass runs each property with fewer cases: it exists to
# catch memory and UB errors on the same code paths, which a few hundred
# random cases reach; the release pass keeps the full count.
SANITIZE_PROPERTY_CASES ?= 250

.PHONY: all deps configure build demo test test-release test-sanitize test-tsan bench clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTLBKIT_PROPERTY_CASES=$(PROPERTY_CASES) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD_DIR)

# Every test, in the release build and again under ASan + UBSan (without
# the benchmark programs and the QEMU lanes, which only the release pass
# runs: the bare-metal image and the qemu_user.* binaries are
# cross-compiled, not instrumented, so the ASan pass would only build and
# run the same code again); the concurrency tests once more under TSan.
test: test-release test-sanitize test-tsan

test-release: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The sanitizer build is -O1 with line tables only (-g1), as sanitizer
# builds usually are: it compiles about 2.5 times faster than -O2 -g (one
# heavy test source: 40 s -> 16 s), and reports still name file and line.
# The aarch64.* tests cross-compile uninstrumented code: release pass only.
SANITIZE_FLAGS = -O1 -g1 -DNDEBUG

test-sanitize: deps
	@cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLBKIT_SANITIZE=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(SANITIZE_FLAGS)" \
	  -DTLBKIT_BENCHMARKS=OFF -DTLBKIT_REAL_ISA=OFF -DTLBKIT_PROPERTY_CASES=$(SANITIZE_PROPERTY_CASES) >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS)
	@cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS) -E '^(bench_|qemu_user\.|aarch64\.)'

# The concurrency building blocks (request slots, deferred flush, ASID/VMID
# allocator) under ThreadSanitizer. Only their test binary is built.
test-tsan: deps
	@cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLBKIT_TSAN=ON >/dev/null
	@cmake --build $(TSAN_DIR) -j $(JOBS) --target concurrency_tests
	@cd $(TSAN_DIR) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ctest --output-on-failure -j $(JOBS) -R '^(RequestSlots|DeferredFlush|DeferredFreeList|AsidAllocator)'

# Interleaved repetitions put a noisy machine's slow spells on both sides
# of every ratio (docs/BENCHMARKS.md).
INTERLEAVED = --benchmark_repetitions=15 --benchmark_min_time=0.05 \
  --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true

bench: build
	@$(BUILD_DIR)/bench/tlbkit_bench_pt --benchmark_counters_tabular=true
	@$(BUILD_DIR)/bench/tlbkit_bench_planner $(INTERLEAVED)
	@$(BUILD_DIR)/bench/tlbkit_bench_sim $(INTERLEAVED)

clean:
	@rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR)
