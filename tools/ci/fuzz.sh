#!/usr/bin/env bash
# Smoke fuzzing of every parser (FANN .net float and fixed, .data, .kfn, safetensors when the
# converter exists) with atheris, about 12 s each. The core is built with clang, libFuzzer's
# coverage instrumentation (-fsanitize=fuzzer-no-link) and ASan+UBSan (KF_SANITIZE), so the
# fuzzer is guided by C coverage as well as by the Python code's, and memory errors and
# undefined behaviour in C are findings. A longer run: FUZZ_SECONDS=600 tools/ci/fuzz.sh, or
# FUZZ_TARGETS="kfn" FUZZ_SECONDS=3600 tools/ci/fuzz.sh. The corpus grows in build/fuzz/corpus/
# (kept between runs); findings are written to build/fuzz/artifacts/ and fail the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out="$root/build/fuzz"
seconds=${FUZZ_SECONDS:-12}
targets=${FUZZ_TARGETS:-"net fixed data kfn safetensors"}

# clang's ASan runtime and libFuzzer archives come in libclang-rt-14-dev, which a fresh machine's
# clang does not pull in.
if ! command -v clang >/dev/null || [ ! -f "$(clang -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.asan-x86_64.a" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    clang libclang-rt-14-dev
fi
# One preloaded library with clang's ASan runtime and libFuzzer (without its main): the
# instrumented core then reports its coverage to the libFuzzer that atheris drives. Preloading
# the ASan runtime alone would capture the coverage callbacks and leave the fuzzer blind.
rt=$(clang -print-resource-dir)/lib/linux
mkdir -p "$out"
asan_rt="$out/asan_with_fuzzer.so"
if [ ! -f "$asan_rt" ]; then
  rm -rf "$out/rt" && mkdir -p "$out/rt/asan" "$out/rt/fuzzer"
  (cd "$out/rt/asan" && ar x "$rt/libclang_rt.asan-x86_64.a" && rm -f asan_preinit.cpp.o \
    && ar x "$rt/libclang_rt.asan_cxx-x86_64.a")
  (cd "$out/rt/fuzzer" && ar x "$rt/libclang_rt.fuzzer_no_main-x86_64.a")
  clang++ -shared -o "$asan_rt" "$out"/rt/asan/*.o "$out"/rt/fuzzer/*.o -lpthread -ldl -lrt
fi

if [ ! -x "$out/venv/bin/python" ]; then
  python3 -m venv "$out/venv"
fi
# shellcheck disable=SC1091
. "$out/venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q numpy atheris
# -O1 with assertions (a Debug build adds no level of its own): clang at -O3 with the sanitizers
# and the coverage instrumentation takes minutes on the SIMD files' unrolled register tiles.
CC=clang CFLAGS="-fsanitize=fuzzer-no-link -O1" python -m pip install -q . \
  -Cbuild-dir=build/fuzz-core -Ccmake.define.KF_SANITIZE=ON -Ccmake.define.KF_WERROR=OFF -Ccmake.build-type=Debug

cd "$out"  # never import the source tree's package
rm -rf seeds artifacts && mkdir -p artifacts corpus
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# the instrumented core needs the sanitizer runtime loaded first, also to write the seeds
LD_PRELOAD="$asan_rt" python "$root/fuzz/make_seeds.py" seeds
status=0
for target in $targets; do
  mkdir -p "corpus/$target"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536
        -artifact_prefix="$out/artifacts/$target-" "corpus/$target")
  [ -d "seeds/$target" ] && args+=("seeds/$target")
  [ -f "seeds/$target.dict" ] && args=(-dict="seeds/$target.dict" "${args[@]}")
  start=$(date +%s)
  if LD_PRELOAD="$asan_rt" python "$root/fuzz/fuzz_loaders.py" "$target" "${args[@]}" >"$target.log" 2>&1; then
    echo "fuzz: $target: $(grep -Eo 'Done [0-9]+ runs' "$target.log" || grep -m1 'skipped' "$target.log"), $(($(date +%s) - start)) s, corpus $(ls "corpus/$target" | wc -l) files"
  else
    status=1
    echo "fuzz: $target FAILED; the log's end:"
    grep -v '^INFO: Instrumenting' "$target.log" | tail -40
  fi
done
if [ "$status" -ne 0 ] || [ -n "$(ls artifacts)" ]; then
  echo "fuzz: findings in $out/artifacts: turn each into a test in tests/test_malformed.py"
  exit 1
fi
echo "fuzz: no findings"
