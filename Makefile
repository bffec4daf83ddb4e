# The README's two commands: `make demo` and `make check`. Everything else is a helper.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build check check-fast check-asan check-fuzz soak demo format bench clean

all: build

deps:
	scripts/deps.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Every test: the normal build, the ASan+UBSan build of the same tests, and the fuzzers
# (scripts/check.sh: the builds and the fuzzers use the cores the tests leave idle).
check: deps
	BUILD=$(BUILD) BUILD_ASAN=$(BUILD_ASAN) BUILD_FUZZ=$(BUILD_FUZZ) JOBS=$(JOBS) scripts/check.sh
	@echo "make check: all suites passed"

check-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

check-asan:
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON >/dev/null
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS) -LE lint

check-fuzz:
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=Debug -DFUZZ=ON -DFUZZ_SECONDS=30 -DFUZZ_TIMEOUT=10 >/dev/null
	cmake --build $(BUILD_FUZZ) -j $(JOBS)
	ctest --test-dir $(BUILD_FUZZ) --output-on-failure -j $(JOBS)

# Long soaks, outside make check: the scheduler's exactly-once run at 10,000 executions,
# a database outage of two minutes (make check's lasts 30 s), the fault suite FAULT_ROUNDS
# times (recovery times: medians and maxima), the sanitized unit tests with one allocation
# failing in 200 places each, and every fuzz target for up to 10 minutes of new inputs;
# the inputs that reach new code join the corpora in tests/fuzz/corpus (to be committed),
# and scripts/fuzz-coverage reports what the corpora cover.
FAULT_ROUNDS ?= 10
soak: deps build
	FATHOM=$(CURDIR)/$(BUILD)/fathom SCHED_EXECUTIONS=10000 bats --tap tests/integration/scheduler.bats
	FATHOM=$(CURDIR)/$(BUILD)/fathom FATHOM_OUTAGE_S=120 bats --tap tests/integration/outage.bats
	FATHOM=$(CURDIR)/$(BUILD)/fathom tests/faults/rounds $(FAULT_ROUNDS)
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON >/dev/null
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	ALLOC_SAMPLES=200 ALLOC_BUDGET=600 ALLOC_SEED=$$(shuf -i 1-32767 -n 1) tests/allocfail/run $(BUILD_ASAN)
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=Debug -DFUZZ=ON -DFUZZ_SECONDS=600 -DFUZZ_TIMEOUT=10 >/dev/null
	cmake --build $(BUILD_FUZZ) -j $(JOBS)
	ctest --test-dir $(BUILD_FUZZ) --output-on-failure -j $(JOBS)
	for t in $(BUILD_FUZZ)/fuzz_*; do \
	  n=$$(basename $$t); [ -d $(BUILD_FUZZ)/fuzz-out/$$n ] || continue; \
	  $$t -merge=1 -max_len=4096 tests/fuzz/corpus/$$n $(BUILD_FUZZ)/fuzz-out/$$n 2>&1 | tail -n 1; \
	done
	scripts/fuzz-coverage build-fuzzcov $(BUILD_FUZZ)/fuzz-out

demo: deps build
	scripts/demo.sh

format:
	find src tests/unit tests/fuzz tests/diff bench -path bench/out -prune -o -name '*.[ch]' -print | \
	  xargs clang-format -i

bench: build
	bench/run
	bench/cluster_run
	bench/scale_run
	bench/engine_run
	bench/sched_run
	bench/transport_run
	bench/proxy_run
	bench/hub_run
	bench/backup_run
	bench/qmc_run
	bench/log_run
	cmake --build $(BUILD) --target rules_bench && $(BUILD)/rules_bench

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) build-fuzzcov
