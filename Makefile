# nanopy: build, run, test, check, bench, release.
# Everything a target needs is installed or started by the target itself.

CARGO ?= cargo
ARGS ?=
BIN := target/debug/nanopy
RELEASE_BIN := target/release/nanopy

.PHONY: build run test lint check bench release toolchain clean

## build: debug build of the `nanopy` binary
build:
	$(CARGO) build

## run: build, then run `nanopy $(ARGS)`; without ARGS, a demo agent turn, memory and
## scheduler dry run against a local OpenAI-compatible stand-in server (no API key needed)
run: build
ifeq ($(strip $(ARGS)),)
	python3 bench/demo.py $(BIN)
else
	$(BIN) $(ARGS)
endif

## test: unit and integration tests (the fake OpenAI server runs inside the tests)
test:
	$(CARGO) test --all-targets

## lint: formatting and clippy with warnings as errors
lint: toolchain
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

## check: everything CI checks
check: lint test

## bench: size, start-up and agent-turn figures against SPEC §7, as medians with baselines
bench:
	$(CARGO) build --release
	python3 bench/bench.py $(RELEASE_BIN)

## release: the size-tuned release build
release:
	$(CARGO) build --release
	@ls -l $(RELEASE_BIN)

toolchain:
	@command -v rustfmt >/dev/null && $(CARGO) clippy --version >/dev/null 2>&1 || \
		rustup component add rustfmt clippy

clean:
	$(CARGO) clean
