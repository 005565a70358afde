#!/usr/bin/env bash
# Builds the documentation site into docs/_build/html with warnings as errors (a broken
# cross-reference or a docstring that does not parse fails the build). Needs the package
# installed (pip install . or maturin develop) and docs/requirements.txt. The notebooks are
# rendered as stored; RETENTIONKIT_DOCS_EXECUTE=1 runs them during the build to show outputs.
# Usage: bash scripts/build-docs.sh [extra sphinx-build arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
"$python" -m sphinx -W --keep-going -b html docs docs/_build/html "$@"
echo "open docs/_build/html/index.html"
