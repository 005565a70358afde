"""BG/NBD: published reference values, input and output shapes, fit statistics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from reference_values import FHL2005_CUSTOMER, FHL2005_LOG_LIKELIHOOD, FHL2005_PARAMS

from retentionkit import BetaGeoFitter, NotFittedError

# -- reference values: Fader, Hardie & Lee (2005), Marketing Science 24(2) -------------


def test_fit_reproduces_fhl2005_estimates(bgf: BetaGeoFitter) -> None:
    params = bgf.params_
    assert list(params.index) == ["r", "alpha", "a", "b"]
    for name, expected in FHL2005_PARAMS.items():
        assert params[name] == pytest.approx(expected, abs=5e-4), name


def test_fit_reproduces_fhl2005_log_likelihood(bgf: BetaGeoFitter) -> None:
    assert bgf.log_likelihood_ == pytest.approx(FHL2005_LOG_LIKELIHOOD, abs=0.05)


def _fhl2005_customer(fitter: BetaGeoFitter) -> float:
    args = FHL2005_CUSTOMER["args"]
    assert FHL2005_CUSTOMER["quantity"] == "conditional_expected_purchases"
    return fitter.conditional_expected_number_of_purchases_up_to_time(
        args["t"], args["frequency"], args["recency"], args["T"]
    )


def test_conditional_expectation_of_fhl2005_customer(bgf: BetaGeoFitter) -> None:
    """FHL (2005), section 4: purchases of x=2, t_x=30.43, T=38.86 in the next 39 weeks."""
    value = _fhl2005_customer(bgf)
    assert isinstance(value, float)
    assert value == pytest.approx(FHL2005_CUSTOMER["value"], abs=5e-4)


def test_repr(bgf: BetaGeoFitter) -> None:
    assert repr(bgf) == (
        "<retentionkit.BetaGeoFitter: fitted with 2357 subjects, "
        "a: 0.79, alpha: 4.41, b: 2.43, r: 0.24>"
    )
    assert repr(BetaGeoFitter()) == "<retentionkit.BetaGeoFitter>"


# -- fit statistics ----------------------------------------------------------------------


def test_summary(bgf: BetaGeoFitter) -> None:
    summary = bgf.summary
    assert list(summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    assert list(summary.index) == ["r", "alpha", "a", "b"]
    se = summary["se(coef)"]
    assert (se > 0).all() and np.isfinite(se).all()
    np.testing.assert_allclose(summary["lower 95% bound"], summary["coef"] - 1.96 * se, rtol=1e-4)
    np.testing.assert_allclose(summary["upper 95% bound"], summary["coef"] + 1.96 * se, rtol=1e-4)
    np.testing.assert_allclose(se, np.sqrt(np.diag(bgf.variance_matrix_)))
    pd.testing.assert_series_equal(bgf.standard_errors_, se, check_names=False)


def test_variance_matrix_is_symmetric_positive_definite(bgf: BetaGeoFitter) -> None:
    cov = bgf.variance_matrix_
    assert list(cov.index) == list(cov.columns) == ["r", "alpha", "a", "b"]
    np.testing.assert_allclose(cov, cov.T, rtol=1e-8, atol=1e-14)
    assert (np.linalg.eigvalsh(cov.to_numpy()) > 0).all()


def test_aic_bic(bgf: BetaGeoFitter) -> None:
    ll = bgf.log_likelihood_
    assert bgf.aic == pytest.approx(2 * 4 - 2 * ll)
    assert bgf.bic == pytest.approx(4 * math.log(2357) - 2 * ll)


def test_individual_log_likelihoods_add_up(bgf: BetaGeoFitter) -> None:
    individual = bgf.individual_log_likelihood()
    assert isinstance(individual, pd.Series) and (individual < 0).all()
    assert individual.sum() == pytest.approx(bgf.log_likelihood_, rel=1e-10)


def test_data_is_kept(bgf: BetaGeoFitter, cdnow: pd.DataFrame) -> None:
    assert bgf.data is not None
    assert list(bgf.data.columns) == ["frequency", "recency", "T", "weights"]
    assert bgf.data.index.equals(cdnow.index)
    assert (bgf.data["weights"] == 1).all()


def test_weights_are_counts(cdnow: pd.DataFrame, bgf: BetaGeoFitter) -> None:
    grouped = cdnow.groupby(["frequency", "recency", "T"]).size().rename("weights").reset_index()
    weighted = BetaGeoFitter().fit(grouped)
    np.testing.assert_allclose(weighted.params_, bgf.params_, rtol=1e-5)
    assert weighted.log_likelihood_ == pytest.approx(bgf.log_likelihood_, abs=1e-6)
    assert weighted.n_customers_ == 2357
    assert weighted.bic == pytest.approx(bgf.bic)


def test_fit_accepts_a_dataframe(cdnow: pd.DataFrame, bgf: BetaGeoFitter) -> None:
    fitter = BetaGeoFitter().fit(cdnow)
    np.testing.assert_allclose(fitter.params_, bgf.params_, rtol=1e-8)
    assert fitter.data is not None and fitter.data.index.equals(cdnow.index)


def test_fit_accepts_numpy_and_lists(cdnow: pd.DataFrame, bgf: BetaGeoFitter) -> None:
    arrays = [cdnow[c].to_numpy() for c in ("frequency", "recency", "T")]
    from_numpy = BetaGeoFitter().fit(*arrays)
    from_lists = BetaGeoFitter().fit(*(a.tolist() for a in arrays), index=cdnow.index)
    np.testing.assert_allclose(from_numpy.params_, bgf.params_, rtol=1e-8)
    np.testing.assert_allclose(from_lists.params_, bgf.params_, rtol=1e-8)
    assert from_numpy.data is not None and isinstance(from_numpy.data.index, pd.RangeIndex)
    assert from_lists.data is not None and from_lists.data.index.equals(cdnow.index)


def test_fit_returns_self() -> None:
    fitter = BetaGeoFitter()
    assert fitter.fit([1, 2, 0, 5], [3.0, 4.0, 0.0, 9.0], 10.0) is fitter


def test_penalizer_shrinks_parameters(cdnow: pd.DataFrame, bgf: BetaGeoFitter) -> None:
    penalized = BetaGeoFitter(penalizer_coef=0.1).fit(cdnow)
    assert penalized.penalizer_coef == 0.1
    assert (penalized.params_**2).sum() < (bgf.params_**2).sum()


# -- input and output shapes -------------------------------------------------------------


def test_series_in_series_out(bgf: BetaGeoFitter, cdnow: pd.DataFrame) -> None:
    sample = cdnow.sample(50, random_state=1)
    f, r, T = sample["frequency"], sample["recency"], sample["T"]
    for result in (
        bgf.conditional_expected_number_of_purchases_up_to_time(10, f, r, T),
        bgf.conditional_probability_alive(f, r, T),
        bgf.individual_log_likelihood(f, r, T),
        bgf.predict(10, f, r, T),
    ):
        assert isinstance(result, pd.Series)
        assert result.index.equals(sample.index)


def test_numpy_list_and_scalar_inputs_agree(bgf: BetaGeoFitter, cdnow: pd.DataFrame) -> None:
    head = cdnow.head(20)
    f, r, T = (head[c] for c in ("frequency", "recency", "T"))
    expected = bgf.conditional_probability_alive(f, r, T)
    as_numpy = bgf.conditional_probability_alive(f.to_numpy(), r.to_numpy(), T.to_numpy())
    as_lists = bgf.conditional_probability_alive(f.tolist(), r.tolist(), T.tolist())
    assert isinstance(as_numpy, np.ndarray) and isinstance(as_lists, np.ndarray)
    np.testing.assert_array_equal(as_numpy, expected.to_numpy())
    np.testing.assert_array_equal(as_lists, expected.to_numpy())
    one = bgf.conditional_probability_alive(int(f.iloc[0]), r.iloc[0], T.iloc[0])
    assert isinstance(one, float) and one == expected.iloc[0]


def test_inputs_broadcast(bgf: BetaGeoFitter) -> None:
    t = np.array([1.0, 10.0, 100.0])
    column = bgf.conditional_expected_number_of_purchases_up_to_time(t[:, None], 2, 30.43, 38.86)
    assert column.shape == (3, 1)
    grid = bgf.conditional_expected_number_of_purchases_up_to_time(
        t[:, None], np.array([0, 1, 2]), np.array([0.0, 5.0, 30.43]), 38.86
    )
    assert grid.shape == (3, 3)
    np.testing.assert_allclose(grid[:, 2], column[:, 0])


def test_default_history_is_the_fitted_data(bgf: BetaGeoFitter, cdnow: pd.DataFrame) -> None:
    f, r, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    pd.testing.assert_series_equal(
        bgf.conditional_expected_number_of_purchases_up_to_time(39),
        bgf.conditional_expected_number_of_purchases_up_to_time(39, f, r, T),
        check_names=False,
    )
    pd.testing.assert_series_equal(
        bgf.conditional_probability_alive(),
        bgf.conditional_probability_alive(f, r, T),
        check_names=False,
    )
    with pytest.raises(ValueError, match="all of frequency, recency and T"):
        bgf.conditional_probability_alive(f)


def test_expected_purchases_and_probability_of_n_shapes(bgf: BetaGeoFitter) -> None:
    assert isinstance(bgf.expected_number_of_purchases_up_to_time(39), float)
    t = pd.Series([1.0, 10.0, 39.0], index=["a", "b", "c"])
    out = bgf.expected_number_of_purchases_up_to_time(t)
    assert isinstance(out, pd.Series) and out.index.equals(t.index)
    p = bgf.probability_of_n_purchases_up_to_time(39, np.arange(5))
    assert isinstance(p, np.ndarray) and p.shape == (5,)
    assert isinstance(bgf.probability_of_n_purchases_up_to_time(39, 2), float)


def test_series_with_different_indexes_are_refused(bgf: BetaGeoFitter) -> None:
    f = pd.Series([1.0, 2.0], index=[10, 11])
    r = pd.Series([1.0, 2.0], index=[11, 10])
    with pytest.raises(ValueError, match="different indexes"):
        bgf.conditional_probability_alive(f, r, 5.0)


# -- model properties --------------------------------------------------------------------


def test_probability_alive_is_a_probability(bgf: BetaGeoFitter) -> None:
    p = bgf.conditional_probability_alive()
    assert ((p >= 0) & (p <= 1)).all()
    assert (p[bgf.data["frequency"] == 0] == 1).all()  # type: ignore[index]


def test_expected_purchases_grow_with_time(bgf: BetaGeoFitter) -> None:
    t = np.linspace(0, 200, 101)
    population = bgf.expected_number_of_purchases_up_to_time(t)
    assert population[0] == 0
    assert (np.diff(population) >= 0).all()
    conditional = bgf.conditional_expected_number_of_purchases_up_to_time(t, 3, 20.0, 38.0)
    assert conditional[0] == 0
    assert (np.diff(conditional) >= 0).all()


def test_expected_purchases_match_the_count_distribution(bgf: BetaGeoFitter) -> None:
    n = np.arange(201)
    p = bgf.probability_of_n_purchases_up_to_time(39, n)
    assert (p >= 0).all()
    assert p.sum() == pytest.approx(1, abs=1e-4)
    mean = (n * p).sum()
    assert mean == pytest.approx(bgf.expected_number_of_purchases_up_to_time(39), rel=1e-3)


def test_probability_alive_matrix(bgf: BetaGeoFitter) -> None:
    matrix = bgf.conditional_probability_alive_matrix()
    max_frequency = int(bgf.data["frequency"].max())  # type: ignore[index]
    assert matrix.shape == (38 + 1, max_frequency + 1)  # max T of CDNOW is 38.86
    assert ((matrix >= 0) & (matrix <= 1)).all()
    assert (matrix[:, 0] == 1).all()
    assert matrix[30, 2] == pytest.approx(bgf.conditional_probability_alive(2, 30, 38))
    assert (np.diff(matrix[:, 1:], axis=0) >= 0).all()  # more recent -> more likely alive

    small = bgf.conditional_probability_alive_matrix(max_frequency=3, max_recency=5)
    assert small.shape == (6, 4)
    assert small[5, 3] == pytest.approx(bgf.conditional_probability_alive(3, 5, 5))


# -- parameters set by hand, unfitted models -----------------------------------------------


def test_params_can_be_set_by_hand(bgf: BetaGeoFitter) -> None:
    fresh = BetaGeoFitter()
    fresh.params_ = pd.Series(FHL2005_PARAMS)
    assert fresh.params_.to_dict() == FHL2005_PARAMS
    assert _fhl2005_customer(fresh) == pytest.approx(FHL2005_CUSTOMER["value"], abs=2e-3)

    by_dict, by_list = BetaGeoFitter(), BetaGeoFitter()
    by_dict.params_ = dict(reversed(list(FHL2005_PARAMS.items())))
    by_list.params_ = list(FHL2005_PARAMS.values())
    pd.testing.assert_series_equal(by_dict.params_, fresh.params_)
    pd.testing.assert_series_equal(by_list.params_, fresh.params_)
    assert repr(fresh) == "<retentionkit.BetaGeoFitter: a: 0.79, alpha: 4.41, b: 2.43, r: 0.24>"


def test_setting_params_clears_fit_statistics(bgf: BetaGeoFitter) -> None:
    bgf.params_ = bgf.params_ * 1.01
    with pytest.raises(NotFittedError):
        _ = bgf.log_likelihood_
    assert bgf.summary["se(coef)"].isna().all()


def test_bad_params_are_refused() -> None:
    fitter = BetaGeoFitter()
    with pytest.raises(ValueError, match="alpha"):
        fitter.params_ = {"r": 1.0, "a": 1.0, "b": 1.0}
    with pytest.raises(ValueError):
        fitter.params_ = [1.0, -1.0, 1.0, 1.0]
    with pytest.raises(ValueError):
        fitter.params_ = [1.0, 1.0, 1.0]


def test_unfitted_model_explains_itself() -> None:
    fitter = BetaGeoFitter()
    with pytest.raises(NotFittedError, match="fit"):
        fitter.conditional_probability_alive(1, 2, 3)
    with pytest.raises(ValueError, match="fit"):
        fitter.expected_number_of_purchases_up_to_time(1)
    with pytest.raises(AttributeError):
        _ = fitter.params_
    assert not hasattr(fitter, "params_")


# -- invalid input -----------------------------------------------------------------------

GOOD = {"frequency": [0, 1, 2, 3, 4], "recency": [0.0, 1, 2, 3, 4], "T": [5.0, 5, 5, 5, 5]}


def _with(column: str, row: int, value: float) -> dict[str, list[float]]:
    data = {k: [float(v) for v in vs] for k, vs in GOOD.items()}
    data[column][row] = value
    return data


@pytest.mark.parametrize(
    ("column", "row", "value", "rule"),
    [
        ("recency", 3, 6.0, "recency must not exceed T"),
        ("frequency", 2, -1.0, "frequency"),
        ("frequency", 4, 1.5, "integer"),
        ("recency", 1, float("nan"), "finite"),
        ("T", 2, float("inf"), "finite"),
        ("recency", 0, 2.0, "recency must be 0 when frequency is 0"),
        ("T", 1, -1.0, "T must be non-negative"),
        ("T", 1, 0.0, "frequency must be 0 when T is 0"),
        ("recency", 4, -1.0, "non-negative"),
    ],
)
def test_invalid_rows_are_named(column: str, row: int, value: float, rule: str) -> None:
    data = _with(column, row, value)
    if column == "T" and value == 0.0:
        data["recency"][row] = 0.0  # recency <= T
    with pytest.raises(ValueError, match=rule) as info:
        BetaGeoFitter().fit(**data)
    assert f"row: {row}" in str(info.value)

    fitter = BetaGeoFitter()
    fitter.params_ = FHL2005_PARAMS
    if "recency must be 0" in rule or "when T is 0" in rule:
        # Fit-only rules: predictions accept these histories, as lifetimes does.
        assert np.isfinite(fitter.conditional_probability_alive(**data)).all()
        return
    with pytest.raises(ValueError, match=f"row: {row}"):
        fitter.conditional_probability_alive(**data)


def test_invalid_row_gives_the_index_label() -> None:
    frame = pd.DataFrame(_with("recency", 3, 6.0), index=[f"c{i}" for i in range(5)])
    with pytest.raises(ValueError, match=r"row: 3.*'c3'"):
        BetaGeoFitter().fit(frame)


def test_unequal_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        BetaGeoFitter().fit([1, 2, 3], [1.0, 2.0], [5.0, 5.0, 5.0])


def test_missing_columns_and_mixed_arguments_are_refused() -> None:
    frame = pd.DataFrame(GOOD)
    with pytest.raises(ValueError, match="T"):
        BetaGeoFitter().fit(frame.drop(columns="T"))
    with pytest.raises(ValueError, match="not both"):
        BetaGeoFitter().fit(frame, frame["recency"], frame["T"])
    with pytest.raises(ValueError, match="recency and T"):
        BetaGeoFitter().fit(frame["frequency"])


def test_non_numeric_input_is_refused() -> None:
    with pytest.raises(ValueError, match="frequency"):
        BetaGeoFitter().fit(["a", "b"], [1.0, 2.0], 5.0)


def test_empty_and_bad_weights_are_refused() -> None:
    with pytest.raises(ValueError):
        BetaGeoFitter().fit([], [], [])
    with pytest.raises(ValueError, match="weights"):
        BetaGeoFitter().fit(**GOOD, weights=[1.0, 1.0, -1.0, 1.0, 1.0])
