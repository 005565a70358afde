"""The native Gamma-Gamma model with spend covariates
(``retentionkit._core.GammaGammaCovariatesModel``): the zero-coefficient
identity with the plain model, the direction of the coefficient, recovery from
simulated data, persistence and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from retentionkit import GammaGammaFitter, InvalidDataError, _core
from retentionkit.datasets import load_cdnow_summary_data_with_monetary_value

COLUMNS = ["vip"]
BY_PROCESS = [[0]]


def _repeat_customers() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = load_cdnow_summary_data_with_monetary_value()
    data = data[data["frequency"] > 0]
    x = data["frequency"].to_numpy(float)
    m = data["monetary_value"].to_numpy(float)
    z = np.ascontiguousarray((data[["T"]].to_numpy(float) - 30.0) / 10.0)
    return x, m, z


def test_zero_coefficients_are_the_plain_model() -> None:
    x, m, z = _repeat_customers()
    plain = GammaGammaFitter().fit(x, m)
    p, q, v = plain.params_[["p", "q", "v"]]
    model = _core.GammaGammaCovariatesModel.from_params([p, q, v, 0.0], ["t"], BY_PROCESS, [])
    ours = model.individual_log_likelihood(x, m, z).sum()
    assert ours == pytest.approx(plain.log_likelihood_, rel=1e-12)
    expected = model.conditional_expected_average_profit(x, m, z)
    np.testing.assert_allclose(
        expected, np.asarray(plain.conditional_expected_average_profit(x, m)), rtol=1e-12
    )
    fitted = _core.GammaGammaCovariatesModel.fit(x, m, z, ["t"], BY_PROCESS, [])
    assert fitted.param_names == ["p", "q", "v", "spend:t"]
    assert fitted.log_likelihood >= plain.log_likelihood_ - 1e-6


def test_a_positive_coefficient_raises_expected_spend() -> None:
    model = _core.GammaGammaCovariatesModel.from_params(
        [6.25, 3.74, 15.44, 0.5], COLUMNS, BY_PROCESS, []
    )
    new = model.expected_average_profit(np.array([[0.0], [1.0]]))
    assert new[1] / new[0] == pytest.approx(np.exp(0.5), rel=1e-12)


def test_simulated_coefficient_is_recovered_and_saved() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    z = rng.integers(0, 2, size=(n, 1)).astype(float)
    x = rng.integers(1, 8, size=n).astype(float)
    p, q, v, gamma = 6.0, 4.0, 15.0, 0.4
    nu = rng.gamma(q, 1.0 / (v * np.exp(gamma * z[:, 0])))
    m = rng.gamma(p * x, 1.0 / (nu * x))
    fitted = _core.GammaGammaCovariatesModel.fit(x, m, z, COLUMNS, BY_PROCESS, [])
    se = np.sqrt(np.diag(fitted.covariance))
    assert abs(fitted.params[3] - gamma) < 4 * se[3]
    again = _core.GammaGammaCovariatesModel.from_json(fitted.to_json())
    np.testing.assert_array_equal(again.params, fitted.params)
    assert again.param_names == fitted.param_names


def test_bad_input_names_the_problem() -> None:
    x, m, z = _repeat_customers()
    z_bad = z.copy()
    z_bad[3, 0] = np.nan
    with pytest.raises(InvalidDataError, match="covariates must be finite"):
        _core.GammaGammaCovariatesModel.fit(x, m, z_bad, ["t"], BY_PROCESS, [])
    with pytest.raises(ValueError, match="covariates"):
        _core.GammaGammaCovariatesModel.fit(x, m, z[:-1], ["t"], BY_PROCESS, [])
    x0 = np.concatenate([[0.0], x])
    m0 = np.concatenate([[0.0], m])
    z0 = np.vstack([[0.0], z])
    with pytest.raises(InvalidDataError):
        _core.GammaGammaCovariatesModel.fit(x0, m0, z0, ["t"], BY_PROCESS, [])
    fitted = _core.GammaGammaCovariatesModel.fit(
        x0, m0, z0, ["t"], BY_PROCESS, [], exclude_zero=True
    )
    assert fitted.n_customers == len(x)
