#!/usr/bin/env bash
# The Pyodide (wasm32) wheel of kimi-fann, cross-built and tested here, offline:
#   tools/pyodide/check.sh [TESTS [pytest args...]]      (TESTS defaults to tests_pyodide)
# Cross-builds a cp313 Pyodide wheel with Debian's emscripten (emcc) through the toolchain file
# Platform/Emscripten.cmake, with CPython 3.13's headers and a pyconfig.h generated from Pyodide's
# own sysconfig, then runs TESTS inside Pyodide 0.29.5 (Python 3.13, the runtime pinned in
# package-lock.json) under Node.js, without numpy. Needs a host CPython 3.13 (PY313=...), Node.js,
# npm and network access to the Debian, npm and PyPI registries only. Work files go to
# $KF_PYODIDE_WORK (default /tmp/kimi-fann-pyodide); rerunning reuses what is there.
# The full numpy-based suite runs in cibuildwheel's Pyodide job on CI runners instead.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TESTS=${1:-tests_pyodide}; shift || true
WORK=${KF_PYODIDE_WORK:-/tmp/kimi-fann-pyodide}
mkdir -p "$WORK"

if [ -z "${PY313:-}" ]; then
  for c in python3.13 "$HOME"/.pyenv/versions/3.13*/bin/python3.13; do
    "$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { PY313=$c; break; }
  done
fi
[ -n "${PY313:-}" ] || { echo "pyodide check: needs a host CPython 3.13 (its headers stand in for Pyodide's)" >&2; exit 2; }
if ! command -v emcc >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends emscripten
fi

# The runtime (npm, pinned by the lock file) and the build and test tools (PyPI).
(cd "$HERE" && { [ -d node_modules/pyodide ] || npm ci --silent --no-audit --no-fund; })
[ -x "$WORK/venv313/bin/python" ] || "$PY313" -m venv "$WORK/venv313"
"$WORK/venv313/bin/pip" install -q scikit-build-core "cython>=3.1" cython-cmake build
mkdir -p "$WORK/wheels"
ls "$WORK"/wheels/pytest-*.whl >/dev/null 2>&1 || "$WORK/venv313/bin/pip" download -q pytest micropip==0.11.1 \
  --only-binary=:all: --python-version 3.13 --platform any -d "$WORK/wheels"

# wasm32 Python headers: CPython 3.13's, with a pyconfig.h from Pyodide's sysconfig.
INC=$("$PY313" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
if [ ! -f "$WORK/inc313/pyconfig.h.done" ]; then
  (cd "$HERE" && node dump_sysconfig.mjs "$WORK/sysconfig313.json" >/dev/null)
  rm -rf "$WORK/inc313" && cp -r "$INC" "$WORK/inc313"
  python3 "$HERE/gen_pyconfig.py" "$INC/pyconfig.h" "$WORK/sysconfig313.json" "$WORK/inc313/pyconfig.h" >/dev/null
  touch "$WORK/inc313/pyconfig.h.done"
fi
mkdir -p "$WORK/xsys"
unzip -q -o "$HERE/node_modules/pyodide/python_stdlib.zip" '_sysconfigdata__emscripten_wasm32-emscripten.py' -d "$WORK/xsys"

# Cross-build the wheel from a clean copy of the sources.
rm -rf "$WORK/proj" "$WORK"/wheels/kimi_fann-*.whl && mkdir -p "$WORK/proj"
tar -C "$ROOT" --exclude=./build --exclude=./dist --exclude=./.git --exclude=node_modules -cf - . | tar -C "$WORK/proj" -xf -
(cd "$WORK/proj" && PYTHONPATH=$WORK/xsys _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__emscripten_wasm32-emscripten \
  _PYTHON_HOST_PLATFORM=emscripten_4_0_9_wasm32 "$WORK/venv313/bin/python" -m build --wheel --no-isolation \
  -Ccmake.define.CMAKE_TOOLCHAIN_FILE="$HERE/Platform/Emscripten.cmake" \
  -Ccmake.define.Python_INCLUDE_DIR="$WORK/inc313" -Cbuild-dir=build >"$WORK/build.log" 2>&1) \
  || { tail -40 "$WORK/build.log"; exit 1; }
cp "$WORK"/proj/dist/kimi_fann-*.whl "$WORK/wheels/"
echo "pyodide check: built $(cd "$WORK/wheels" && ls kimi_fann-*.whl)"
# No x86 code in the wasm build: the extension must not mention x86 kernels or CPUID.
unzip -q -o -d "$WORK/unpacked" "$WORK"/wheels/kimi_fann-*.whl
if strings "$WORK"/unpacked/kimi_fann/_core*.so | grep -qE 'kf_kernels_avx|x86_has'; then
  echo "pyodide check: x86 kernels reached the Emscripten build" >&2; exit 1
fi
cd "$HERE" && node run_pytest.mjs "$WORK/wheels" "$ROOT" "$TESTS" "$@"
