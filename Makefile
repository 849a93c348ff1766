# Makefile - a thin wrapper around CMake so that `make`, `make test`,
# `make run` and `make install` just work.
#
#   make            build the library, the CLI, tests and benchmarks (build/)
#   make test       build, then run every test with ctest (data made from the
#                   repository into build/testdata; nothing else needed)
#   make conformance TESTDATA=DIR   the tests again on llama.cpp's own data
#                   (default TESTDATA=../shared/testdata)
#   make run        build, then generate from the default model
#   make install    install to PREFIX (default /usr/local), under DESTDIR if set
#   make asan       build and test with AddressSanitizer + UBSan (build-asan/)
#   make tsan       build and test with ThreadSanitizer (build-tsan/)
#   make fuzz       build the libFuzzer targets with clang and run each FUZZ_SECONDS
#   make bench MODELS="a.gguf ..."   our speed beside llama.cpp's (bench/compare.sh)
#   make clean      remove the build directories

BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure
FUZZ_SECONDS ?= 60
TSAN_TESTS ?= test_core_threads|test_tensor_threadpool|test_core_plugins|test_model_batch
PROMPT ?= Once upon a time
TESTDATA ?= ../shared/testdata

.PHONY: all build test conformance run install asan tsan fuzz bench clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest $(CTEST_FLAGS) -j $(JOBS) -LE conformance

conformance: build
	cd $(BUILD) && INF_TESTDATA="$(abspath $(TESTDATA))" ctest $(CTEST_FLAGS) -j $(JOBS) -L conformance

# The build's progress goes to stderr, so that stdout holds the story alone.
run:
	@$(MAKE) --no-print-directory build >&2
	@$(BUILD)/infer run "$(PROMPT)" --max-tokens 64

install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

asan:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DINF_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest $(CTEST_FLAGS) -j $(JOBS) -LE conformance $(ASAN_CTEST_FLAGS)

tsan:
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINF_TSAN=ON $(CMAKE_FLAGS)
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest $(CTEST_FLAGS) -R '$(TSAN_TESTS)'

fuzz:
	bash fuzz/run.sh $(FUZZ_SECONDS)

bench: build
	@test -n "$(MODELS)" || { echo 'usage: make bench MODELS="a.gguf b.gguf" [THREADS=2]'; exit 2; }
	bash bench/compare.sh -t $(or $(THREADS),2) $(MODELS)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
