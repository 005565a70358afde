#!/usr/bin/env bash
# Runs the pandas-facing part of the Python tests against pandas 2.x, in a second
# virtualenv (target/venv-pandas2) holding the wheel scripts/install-test-deps.sh
# built (target/test-wheel), so the extension is not compiled twice. The main run
# (README's test command) uses the newest pandas, 3.x; the package supports both.
# Usage: bash scripts/test-pandas2.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python}
wheel=$(ls target/test-wheel/retentionkit-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
    echo "no wheel in target/test-wheel: building one"
    "$python" -m pip wheel --no-deps -w target/test-wheel .
    wheel=$(ls target/test-wheel/retentionkit-*.whl | head -n 1)
fi
env=target/venv-pandas2
if [ ! -x "$env/bin/python" ]; then
    "$python" -m venv "$env" 2>/dev/null || {
        "$python" -m pip install -q virtualenv && "$python" -m virtualenv -q "$env"
    }
fi
"$env/bin/python" -m pip install -q --upgrade --force-reinstall --no-deps "$wheel"
"$env/bin/python" -m pip install -q "$wheel" "pandas>=2,<3" pytest hypothesis matplotlib mpmath polars pyarrow
"$env/bin/python" -c 'import pandas, retentionkit; print("pandas", pandas.__version__, "retentionkit from", retentionkit.__file__)'
# The tests of the pandas layer: summaries, errors, fitters, persistence, plots,
# targeting, the CLI, the docstring examples and the lifetimes API; not the report,
# Dask, Spark, stubs or notebooks (their extras are not installed here; -k drops
# the Dask and Spark docstring examples). About a minute. Run from tests/python so
# that the package is the installed wheel, not the source tree.
cd tests/python
exec "../../$env/bin/python" -m pytest -q -p no:cacheprovider -k "not dask and not spark" \
    test_summary.py test_errors.py test_validation.py test_fitter_contract.py \
    test_persistence.py test_beta_geo_fitter.py test_modified_beta_geo_fitter.py \
    test_pareto_nbd_fitter.py test_beta_geo_beta_binom_fitter.py test_gamma_gamma_fitter.py \
    test_contractual.py test_plotting.py test_datasets.py test_lifetimes_api.py \
    test_docstrings.py test_messages.py test_targeting.py test_model_comparison.py \
    test_dert_and_intervals.py test_simulation.py test_registry.py \
    test_docstring_examples.py test_cli.py test_covariates_fitters.py test_covariates_value.py \
    test_subscription_summary.py test_subscribers.py test_frames_polars.py "$@"
