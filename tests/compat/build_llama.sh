#!/usr/bin/env bash
# Builds llama.cpp's server once, from the llama.cpp sources vendored in llama-cpp-python's
# PyPI sdist, into a cache outside the clone (CI starts from a fresh clone each time; a
# machine that built it once reuses it). No -march=native: these machines advertise AVX-512
# and AMX variants a process may not use, and a native build dies with SIGILL at its first
# inference; AVX2, FMA and F16C are on. Prints the server's path.
# Usage: build_llama.sh VERSION CACHE_DIR
set -euo pipefail
version=$1
cache=$2/llama-$version
server=$cache/llama_cpp_python-$version/vendor/llama.cpp/build/bin/llama-server
if [ ! -x "$server" ]; then
  command -v cmake >/dev/null || { apt-get update -qq && apt-get install -y -qq cmake >&2; }
  mkdir -p "$cache"
  pip download --no-deps --no-binary :all: -q "llama-cpp-python==$version" -d "$cache" >&2
  tar xzf "$cache/llama_cpp_python-$version.tar.gz" -C "$cache"
  source=$cache/llama_cpp_python-$version/vendor/llama.cpp
  cmake -S "$source" -B "$source/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
    -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DBUILD_SHARED_LIBS=OFF >&2
  cmake --build "$source/build" --target llama-server -j "$(nproc)" >&2
fi
echo "$server"
