#!/usr/bin/env bash
# Coverage of the Python package and of the C core, measured together, reported and held to a
# floor (issue 20):
#  1. one build of the core and the extension, the core instrumented (KF_COVERAGE: gcc
#     --coverage, -O0) and its C tests built beside the extension, installed into the venv with
#     the test and analyzer extras (the analyzer's progress bars are code to measure too);
#  2. the C tests (ctest), then the Python suite once under coverage.py, branches on and every
#     Python subprocess followed (the CLI, the examples); both runs add to the same .gcda files;
#  3. one report per language: a table per file in the log (lines and branches), HTML in
#     build/coverage/html/{python,c}/index.html, JSON beside them;
#  4. the floor (tools/ci/coverage_report.py): at least 95% of the lines of the C core
#     (csrc/src, csrc/simd on the SIMD paths this CPU runs) and of the Python package (optional
#     integrations apart), no file of either below 90%.
#
#   bash tools/ci/coverage.sh                      # its own venv in build/coverage/venv
#   KF_COVERAGE_VENV=build/ci-venv bash tools/ci/coverage.sh   # reuse a venv (.ci/run's, with torch)
#
# The package is reinstalled into the venv from this build: run it after anything else that
# tests that venv's package.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out="$root/build/coverage"
venv=${KF_COVERAGE_VENV:-$out/venv}
cmake_dir="$out/cmake"
mkdir -p "$out"

missing=()
for pkg in gcc cmake libfann-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

start=$(date +%s)
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q "coverage[toml]>=7.10" "gcovr>=8"
# gcc, so that gcovr's gcov matches the compiler that wrote the notes
CC=gcc python -m pip install -q ".[test,analyzer]" -Cbuild-dir="$cmake_dir" \
  -Ccmake.define.KF_COVERAGE=ON -Ccmake.define.KF_BUILD_TESTS=ON -Ccmake.define.KF_WERROR=ON
echo "coverage: built and installed in $(($(date +%s) - start)) s"

# A clean slate: counts of earlier runs (and the build's own checks) do not count.
find "$cmake_dir" -name '*.gcda' -delete
rm -rf "$out/python-data" "$out/html" && mkdir -p "$out/python-data" "$out/html/c"

t=$(date +%s)
ctest --test-dir "$cmake_dir" --output-on-failure
echo "coverage: C tests in $(($(date +%s) - t)) s"

# The suite from outside the source tree's src/ (it imports the installed package); every process
# writes its own data file, combined below.
t=$(date +%s)
export COVERAGE_FILE="$out/python-data/.coverage"
export COVERAGE_RCFILE="$root/pyproject.toml"
python -m coverage run -m pytest tests -q -p no:cacheprovider
echo "coverage: Python suite in $(($(date +%s) - t)) s"

python -m coverage combine -q "$out/python-data"
python -m coverage json -q -o "$out/python.json"
python -m coverage html -q -d "$out/html/python" --title "kimi-fann: Python coverage"
unset COVERAGE_FILE COVERAGE_RCFILE

# The C core only: not the C tests, not the Cython extension's generated C. Counts above 2^32
# are real here (the kernels' inner loops in the cascade tests; the counters are 64-bit and
# atomic), not the gcov bug that gcovr's default threshold guards against.
gcovr --root "$root" --object-directory "$cmake_dir" \
  --filter "$root/csrc/src/" --filter "$root/csrc/simd/" \
  --exclude-unreachable-branches --gcov-suspicious-hits-threshold 0 \
  --json-summary-pretty --json-summary "$out/c.json" --json "$out/c-lines.json" \
  --html-details "$out/html/c/index.html" --html-title "kimi-fann: C core coverage" \
  "$cmake_dir"

python tools/ci/coverage_report.py --python "$out/python.json" --c "$out/c.json" --c-lines "$out/c-lines.json"
echo "coverage: HTML in $out/html/python/index.html and $out/html/c/index.html ($(($(date +%s) - start)) s in all)"
