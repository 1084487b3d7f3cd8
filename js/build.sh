#!/bin/sh
# Build kfann.wasm (the C core and csrc/wasm/kfann_wasm.c, wasm32-wasi with SIMD128) next to
# kimi-fann.mjs, with Debian's clang, lld and wasi-libc:
#   apt-get install clang lld-14 wasi-libc libclang-rt-14-dev-wasm32
# The build directory is $KFANN_BUILD (default ../build/wasm32-js).
set -eu
cd "$(dirname "$0")"
build=${KFANN_BUILD:-../build/wasm32-js}
cmake -S .. -B "$build" --toolchain cmake/toolchains/wasm32-wasi.cmake -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target kfann_wasm -j 2 >/dev/null
cp "$build/kfann.wasm" kfann.wasm
echo "js: built kfann.wasm ($(wc -c < kfann.wasm) bytes)"
