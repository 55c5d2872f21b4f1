# payswitch: the two commands a fresh Debian machine needs are `make demo`
# and `make test`; both install missing packages first. CMake does the
# building; this file only names the jobs.
#
#   make            optimised build in build/ (executables in build/bin)
#   make demo       build, then run the demo (scripts/demo.sh)
#   make test       sanitized build in build/test, then every test (ctest)
#   make bench      build, then the benchmarks (numbers, never pass/fail)
#   make bench-js   the codec beside a JavaScript ISO 8583 library (npm)
#   make bench-pg   the ledger beside PostgreSQL doing the same work
#   make soak       the switch's kill -9 test, SOAK_ROUNDS seeds
#   make fuzz       clang libFuzzer build in build/fuzz, each target for
#                   FUZZ_SECONDS seconds (default 60)

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += --no-print-directory
FUZZ_SECONDS ?= 60
CTEST_ARGS ?=

.PHONY: all build deps demo test bench bench-js bench-pg soak fuzz clean

all: build

deps:
	@scripts/deps.sh

# The build's own output goes to build/build.log (shown if it fails); V=1
# shows it as it happens.
build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@if [ "$(V)" = 1 ]; then cmake --build build -j $(JOBS); \
	else echo "building (build/build.log)"; \
	  cmake --build build -j $(JOBS) > build/build.log 2>&1 || \
	  { tail -50 build/build.log; exit 1; }; fi

demo: build
	@scripts/demo.sh

test: deps
	@cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Debug -DPS_SANITIZE=ON -DPS_WERROR=ON >/dev/null
	@cmake --build build/test -j $(JOBS)
	@cd build/test && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

bench: build
	@scripts/bench.sh

# Comparisons that need more than the project's packages: a JavaScript
# ISO 8583 library (node, npm) and PostgreSQL doing the ledger's work.
bench-js: build
	@scripts/bench-js.sh

bench-pg: build
	@scripts/bench-ledger-pg.sh

# The kill -9 test, many times with different seeds (the test build).
SOAK_ROUNDS ?= 20
soak: test
	@scripts/soak.sh $(SOAK_ROUNDS)

fuzz: deps
	@CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPS_FUZZ=ON >/dev/null
	@cmake --build build/fuzz -j $(JOBS)
	@scripts/fuzz.sh build/fuzz/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build
