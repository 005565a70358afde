#!/usr/bin/env bash
# Installs what the test suite needs: the package with its test extra (pytest,
# nbmake, hypothesis, mypy, ruff, matplotlib, dask, pyspark, maturin, and polars
# and pyarrow for the tests of polars/Arrow input), Sphinx and
# MyST-NB for the documentation (docs/requirements.txt) and, where this
# user may install Debian packages, Chromium (the report test opens the HTML in
# it) and a Java runtime for PySpark. Tests whose tool is missing skip with the
# reason, so the last two are best effort. The wheel is kept in target/test-wheel,
# where scripts/test-pandas2.sh installs it into its pandas 2 virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf target/test-wheel
pip wheel --no-deps -w target/test-wheel .
wheel=$(ls target/test-wheel/retentionkit-*.whl | head -n 1)
pip install --force-reinstall --no-deps "$wheel"
pip install "$wheel[test]"
# The documentation site's builder (tests/python/test_docs.py builds it).
pip install -r docs/requirements.txt

missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing ${missing[*]} with apt-get"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) ||
            echo "could not install ${missing[*]}: the tests that need them will skip" >&2
    else
        echo "not installing ${missing[*]} (needs root and apt-get): the tests that need them will skip" >&2
    fi
fi
