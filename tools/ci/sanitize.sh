#!/usr/bin/env bash
# The whole Python test suite against the core built with ASan+UBSan (KF_SANITIZE=ON), and a
# leak check of the C tests (LeakSanitizer, then valgrind on the plain build).
# The Python process preloads the compiler's libasan; leak detection is off for it (CPython
# keeps memory until exit), UBSan stops at the first finding. Sanitizer reports are written to
# build/sanitize/logs/ (pytest would swallow them) and printed here.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out="$root/build/sanitize"

missing=()
for pkg in gcc cmake valgrind; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || { echo "sanitize: gcc's libasan is missing"; exit 1; }
# libstdc++ preloaded beside it: ASan intercepts __cxa_throw, and a C++ extension (matplotlib's
# kiwisolver, onnxruntime) that throws in a process where libstdc++ came later aborts ASan.
libstdcxx=$(gcc -print-file-name=libstdc++.so.6)

# 1. C tests: ASan+UBSan+LSan build (leaks are errors there), then valgrind on a plain build.
cmake -S . -B build/sanitize-core -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug -DKF_SANITIZE=ON >/dev/null
cmake --build build/sanitize-core -j 2 >/dev/null
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build/sanitize-core --output-on-failure
cmake -S . -B build/sanitize-valgrind -DCMAKE_BUILD_TYPE=Debug -DKF_SANITIZE=OFF >/dev/null
cmake --build build/sanitize-valgrind -j 2 >/dev/null
KIMI_FANN_SIMD=scalar valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
  build/sanitize-valgrind/kfann_tests >"$out-valgrind.log" 2>&1 || {
  echo "sanitize: valgrind found errors or leaks in the C tests:"; tail -60 "$out-valgrind.log"; exit 1; }
echo "sanitize: valgrind: no leaks or memory errors in the C tests"
# The thread pool's helpers and submitters under ThreadSanitizer (no data race, no lost task).
mkdir -p build/sanitize-thread
gcc -std=c11 -O1 -g -fsanitize=thread -Wall -Wextra -Werror -Icsrc/include -Icsrc/src \
  csrc/src/pool.c csrc/tests/test_pool.c csrc/tests/test_runner.c -o build/sanitize-thread/kfann_pool_tests -lpthread
TSAN_OPTIONS=halt_on_error=1 build/sanitize-thread/kfann_pool_tests
echo "sanitize: ThreadSanitizer: no data race in the thread pool"

# 2. The Python suite against the sanitized core.
mkdir -p "$out"
[ -x "$out/venv/bin/python" ] || python3 -m venv "$out/venv"
# shellcheck disable=SC1091
. "$out/venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q ".[test]" -Cbuild-dir=build/sanitize-python \
  -Ccmake.define.KF_SANITIZE=ON -Ccmake.build-type=Debug
rm -rf "$out/logs" && mkdir -p "$out/logs"
set +e
LD_PRELOAD="$libasan $libstdcxx" \
  ASAN_OPTIONS="detect_leaks=0:log_path=$out/logs/asan" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$out/logs/ubsan" \
  python -m pytest tests -q -p no:cacheprovider -p no:randomly -x
status=$?
set -e
if [ -n "$(ls "$out/logs")" ]; then
  echo "sanitize: sanitizer reports:"
  cat "$out"/logs/*
  exit 1
fi
[ "$status" -eq 0 ] || { echo "sanitize: the test suite failed under ASan+UBSan (exit $status)"; exit "$status"; }
echo "sanitize: the Python suite and the C tests pass under ASan+UBSan; no leaks"
