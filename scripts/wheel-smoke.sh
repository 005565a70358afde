#!/usr/bin/env bash
# Installs the abi3 wheel where no Rust toolchain can be found and uses it there (issue 17):
# a fresh virtualenv (target/venv-smoke, no system site-packages), a PATH without any
# directory holding cargo, rustc or rustup, the wheel's dependencies from PyPI as binary
# wheels only (nothing may be compiled), then: import, a BG/NBD fit on the bundled CDNOW
# data, `retentionkit fit --output`, `retentionkit --version`.
#
# The wheel is the one scripts/install-test-deps.sh built (target/test-wheel, a release
# build through maturin's PEP 517 backend, the same as `maturin build --release`), so CI
# compiles the extension once; without it, or with --rebuild, it is built here. With maturin
# installed it also builds the sdist and checks what it holds (no compiling).
# Usage: bash scripts/wheel-smoke.sh [--rebuild]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${PYTHON:-python}
version=$(awk -F'"' '/^\[package\]/{p=1} p && /^version *=/{print $2; exit}' Cargo.toml)

wheel=$(ls target/test-wheel/retentionkit-"$version"-*.whl 2>/dev/null | head -n 1 || true)
if [ "${1:-}" = "--rebuild" ] || [ -z "$wheel" ]; then
    rm -rf target/smoke-wheel
    if command -v maturin >/dev/null 2>&1; then
        maturin build --release --out target/smoke-wheel
    else
        "$python" -m pip wheel --no-deps -w target/smoke-wheel .
    fi
    wheel=$(ls target/smoke-wheel/retentionkit-"$version"-*.whl | head -n 1)
fi
wheel=$root/$wheel
echo "wheel: $wheel"
case "$(basename "$wheel")" in
    *-cp39-abi3-*.whl) ;;
    *) echo "not an abi3 wheel for Python >= 3.9: $(basename "$wheel")" >&2; exit 1 ;;
esac

# PATH without cargo, rustc or rustup; the virtualenv's python is called by its full path.
clean_path=
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
    [ -n "$d" ] || continue
    if [ -e "$d/cargo" ] || [ -e "$d/rustc" ] || [ -e "$d/rustup" ]; then
        echo "dropped from PATH: $d"
        continue
    fi
    clean_path=${clean_path:+$clean_path:}$d
done

env=$root/target/venv-smoke
rm -rf "$env"
"$python" -m venv "$env" 2>/dev/null || {
    "$python" -m pip install -q virtualenv && "$python" -m virtualenv -q "$env"
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" # not the source tree: the package must come from the wheel

env -u CARGO_HOME -u RUSTUP_HOME -u CARGO -u RUSTC PATH="$env/bin:$clean_path" \
    WHEEL="$wheel" VERSION="$version" bash -euo pipefail -c '
if command -v cargo >/dev/null 2>&1 || command -v rustc >/dev/null 2>&1; then
    echo "cargo or rustc is still on PATH ($(command -v cargo rustc))" >&2
    exit 1
fi
echo "no cargo or rustc on PATH"
python=$(command -v python) # the virtualenv is first on PATH
"$python" -m pip install -q --only-binary=:all: "$WHEEL"
"$python" - <<EOF
import os
import retentionkit
from retentionkit import BetaGeoFitter, _core
from retentionkit.datasets import load_cdnow_summary

assert "site-packages" in retentionkit.__file__, retentionkit.__file__
assert _core.__file__.endswith(".abi3.so") or _core.__file__.endswith(".pyd"), _core.__file__
assert retentionkit.__version__ == "$VERSION", retentionkit.__version__
data = load_cdnow_summary()
bgf = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
assert abs(bgf.log_likelihood_ - (-9582.43)) < 0.01, bgf.log_likelihood_
print("fit on CDNOW from the wheel:", retentionkit.__file__)
print(bgf.summary)
EOF
retentionkit fit --output predictions.csv
echo "predictions.csv: $(($(wc -l < predictions.csv) - 1)) customers"
test "$(wc -l < predictions.csv)" -eq 2358
test "$(retentionkit --version)" = "retentionkit $VERSION"
retentionkit --version
'

# The sdist: what building from source needs (a Rust toolchain; maturin runs cargo).
cd "$root"
if command -v maturin >/dev/null 2>&1; then
    rm -rf target/smoke-sdist
    maturin sdist --out target/smoke-sdist >/dev/null
    sdist=$(ls target/smoke-sdist/retentionkit-"$version".tar.gz)
    listing=$(tar -tzf "$sdist")
    for needed in pyproject.toml Cargo.toml Cargo.lock LICENSE README.md src/lib.rs \
        python/retentionkit/__init__.py python/retentionkit/_core.pyi \
        python/retentionkit/py.typed python/retentionkit/datasets/data/cdnow_customers_summary.csv; do
        grep -qx "retentionkit-$version/$needed" <<<"$listing" || {
            echo "the sdist lacks $needed" >&2
            exit 1
        }
    done
    if grep -qE "^retentionkit-$version/(tests|bench|notebooks)/" <<<"$listing"; then
        echo "the sdist holds tests, benchmarks or notebooks" >&2
        exit 1
    fi
    echo "sdist: $sdist ($(wc -l <<<"$listing") files)"
else
    echo "maturin is not installed: the sdist is not checked"
fi
echo "wheel smoke test passed"
