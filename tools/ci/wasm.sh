#!/usr/bin/env bash
# WebAssembly checks (issue 6), self-contained and safe to rerun; about two minutes when the
# packages are installed:
#  1. the C core for wasm32-wasi (SIMD128) with its unit tests and the golden vectors of
#     tests/golden on the scalar and SIMD128 paths, in Node.js (ctest);
#  2. the ES module js/kimi-fann.mjs reading and running the golden .kfn files in Node.js
#     (node:test) and in headless Chromium (a static page on localhost);
#  3. the Pyodide wheel, cross-built with Debian's emscripten, running tests_pyodide (numpy-free,
#     array.array buffers, SIMD128 on) inside Pyodide 0.29.5 under Node.js (tools/pyodide/check.sh).
# Build and work directories live under $KF_WASM_WORK (default build/ci-wasm in this checkout).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
work=${KF_WASM_WORK:-$root/build/ci-wasm}
mkdir -p "$work"

# Debian packages: clang/lld/wasi-libc for the core, emscripten for the Pyodide wheel, chromium.
missing=()
for pkg in clang cmake lld-14 wasi-libc libclang-rt-14-dev-wasm32 emscripten chromium unzip binutils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
node -e 'if (+process.versions.node.split(".")[0] < 18) { console.error("wasm checks: Node.js >= 18 needed"); process.exit(1); }'
export NODE_NO_WARNINGS=1

echo "== wasm32 C core: unit tests and golden vectors (scalar and SIMD128) in Node.js"
cmake -S . -B "$work/core" --toolchain cmake/toolchains/wasm32-wasi.cmake -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/core" -j 2 >/dev/null
ctest --test-dir "$work/core" --output-on-failure

echo "== js/kimi-fann.mjs in Node.js and headless Chromium"
KFANN_WASM="$work/core/kfann.wasm" node --test js/test/kfn.test.mjs js/test/browser.test.mjs

echo "== Pyodide wheel: tests_pyodide inside Pyodide"
KF_PYODIDE_WORK="$work/pyodide" bash tools/pyodide/check.sh tests_pyodide -q
echo "wasm checks: all passed in $root"
