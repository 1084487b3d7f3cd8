#!/usr/bin/env bash
# Build the documentation with warnings as errors, in its own venv under build/.
#
#   bash tools/ci/docs.sh            # HTML into build/docs/html
#
# Installs the package and its `docs` extra (Sphinx, furo, MyST, matplotlib) into
# build/docs-venv (kept between runs), then runs Sphinx. The build itself needs no network: no
# intersphinx, and the benchmark plots are drawn from bench/baselines/*.json.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=build/docs-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
fi
# shellcheck disable=SC1091
. "$venv/bin/activate"
pip install -q ".[docs]" -Cbuild-dir=build/docs-wheel

rm -rf build/docs/html build/docs/doctrees
python -m sphinx -W --keep-going -b html -d build/docs/doctrees docs build/docs/html
echo "docs: built build/docs/html/index.html"
