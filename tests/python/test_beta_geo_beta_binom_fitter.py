"""BG/BB: published reference values, lifetimes' shapes, persistence, simulation, validation."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_values import FHL2005_PARAMS, reference

from retentionkit import BetaGeoBetaBinomFitter, NotFittedError
from retentionkit.datasets import load_donations

#: Fader, Hardie & Shang (2010), "Customer-base analysis in a discrete-time
#: noncontractual setting", Marketing Science 29(6): the BG/BB estimates and
#: log-likelihood for the donations data (11,104 donors of the 1995 cohort, six
#: annual opportunities 1996-2001).
FHS2010 = reference("bgbb_donations_fhs2010")
FHS2010_PARAMS = FHS2010["params"]
FHS2010_LOG_LIKELIHOOD = FHS2010["log_likelihood"]
DONORS = FHS2010["n_customers"]


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return load_donations()


@pytest.fixture(scope="module")
def _donations_fit(donations: pd.DataFrame) -> BetaGeoBetaBinomFitter:
    return BetaGeoBetaBinomFitter().fit(donations)


@pytest.fixture
def bbf(_donations_fit: BetaGeoBetaBinomFitter) -> BetaGeoBetaBinomFitter:
    """The donations fit, as a fresh copy so a test may change it."""
    fitter = BetaGeoBetaBinomFitter()
    fitter.__setstate__(_donations_fit.__getstate__())
    return fitter


@pytest.fixture
def histories(donations: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """The 22 donation histories as Series with customer-like labels."""
    frame = donations.set_axis([f"h{i}" for i in range(len(donations))])
    return frame["frequency"], frame["recency"], frame["periods"]


# -- an independent implementation of the formulas, as lifetimes 0.11.3 writes them --------


def _betaln(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _likelihood(params: list[float], x: int, tx: int, n: int) -> float:
    """Eq. (5) of FHS (2010)."""
    alpha, beta, gamma, delta = params
    ab, gd = _betaln(alpha, beta), _betaln(gamma, delta)
    total = math.exp(_betaln(alpha + x, beta + n - x) - ab + _betaln(gamma, delta + n) - gd)
    for i in range(n - tx):
        total += math.exp(
            _betaln(alpha + x, beta + tx - x + i) - ab + _betaln(gamma + 1, delta + tx + i) - gd
        )
    return total


def _alive(params: list[float], m: int, x: int, tx: int, n: int) -> float:
    """lifetimes' ``conditional_probability_alive``; eq. (11) of FHS (2010) for m = 1."""
    alpha, beta, gamma, delta = params
    numerator = math.exp(
        _betaln(alpha + x, beta + n - x)
        - _betaln(alpha, beta)
        + _betaln(gamma, delta + n + m)
        - _betaln(gamma, delta)
    )
    return numerator / _likelihood(params, x, tx, n)


def _expected(params: list[float], m: int, x: int, tx: int, n: int) -> float:
    """Eq. (13) of FHS (2010), in lifetimes' form (0/0 at gamma = 1)."""
    alpha, beta, gamma, delta = params
    p2 = math.exp(_betaln(alpha + x + 1, beta + n - x) - _betaln(alpha, beta))
    p3 = delta / (gamma - 1) * math.exp(math.lgamma(gamma + delta) - math.lgamma(1 + delta))
    p4 = math.exp(math.lgamma(1 + delta + n) - math.lgamma(gamma + delta + n))
    p5 = math.exp(math.lgamma(1 + delta + n + m) - math.lgamma(gamma + delta + n + m))
    return p2 * p3 * (p4 - p5) / _likelihood(params, x, tx, n)


def _fitter(params: list[float]) -> BetaGeoBetaBinomFitter:
    fitter = BetaGeoBetaBinomFitter()
    fitter.params_ = params
    return fitter


# -- reference values: Fader, Hardie & Shang (2010), Marketing Science 29(6) ---------------


def test_fit_reproduces_fhs2010_estimates(bbf: BetaGeoBetaBinomFitter) -> None:
    params = bbf.params_
    assert list(params.index) == ["alpha", "beta", "gamma", "delta"]
    for name, expected in FHS2010_PARAMS.items():
        assert params[name] == pytest.approx(expected, abs=5e-4), name


def test_fit_reproduces_fhs2010_log_likelihood(bbf: BetaGeoBetaBinomFitter) -> None:
    assert bbf.log_likelihood_ == pytest.approx(FHS2010_LOG_LIKELIHOOD, abs=0.05)
    assert bbf.n_customers_ == DONORS


def test_fit_from_arrays_equals_fit_from_the_dataframe(
    bbf: BetaGeoBetaBinomFitter, donations: pd.DataFrame
) -> None:
    d = donations
    separate = BetaGeoBetaBinomFitter().fit(
        d["frequency"], d["recency"], d["periods"], weights=d["weights"]
    )
    pd.testing.assert_series_equal(separate.params_, bbf.params_, rtol=1e-10)
    renamed = BetaGeoBetaBinomFitter().fit(d.rename(columns={"periods": "n_periods"}))
    pd.testing.assert_series_equal(renamed.params_, bbf.params_, rtol=1e-10)
    scalar_n = BetaGeoBetaBinomFitter().fit(
        d["frequency"].to_numpy(), d["recency"].to_numpy(), 6, weights=d["weights"].to_numpy()
    )
    pd.testing.assert_series_equal(scalar_n.params_, bbf.params_, rtol=1e-10)


def test_weights_equal_repeated_rows(bbf: BetaGeoBetaBinomFitter, donations: pd.DataFrame) -> None:
    long = donations.loc[donations.index.repeat(donations["weights"])]
    fitted = BetaGeoBetaBinomFitter().fit(long["frequency"], long["recency"], long["periods"])
    pd.testing.assert_series_equal(fitted.params_, bbf.params_, rtol=1e-6)
    assert fitted.log_likelihood_ == pytest.approx(bbf.log_likelihood_, rel=1e-10)


def test_data_is_kept(bbf: BetaGeoBetaBinomFitter, donations: pd.DataFrame) -> None:
    assert bbf.data is not None
    assert list(bbf.data.columns) == ["frequency", "recency", "n_periods", "weights"]
    assert bbf.data.index.equals(donations.index)
    assert bbf.data["weights"].sum() == DONORS
    labelled = BetaGeoBetaBinomFitter().fit(donations, index=[f"h{i}" for i in range(22)])
    assert labelled.data is not None and labelled.data.index[0] == "h0"


def test_repr(bbf: BetaGeoBetaBinomFitter) -> None:
    assert repr(bbf) == (
        "<retentionkit.BetaGeoBetaBinomFitter: fitted with 11104 subjects, "
        "alpha: 1.20, beta: 0.75, delta: 2.78, gamma: 0.66>"
    )
    assert repr(BetaGeoBetaBinomFitter()) == "<retentionkit.BetaGeoBetaBinomFitter>"


def test_summary_and_information_criteria(bbf: BetaGeoBetaBinomFitter) -> None:
    summary = bbf.summary
    assert list(summary.index) == ["alpha", "beta", "gamma", "delta"]
    assert list(summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    se = summary["se(coef)"]
    assert (se > 0).all() and np.isfinite(se).all()
    cov = bbf.variance_matrix_.to_numpy()
    np.testing.assert_allclose(cov, cov.T, rtol=1e-8, atol=1e-14)
    assert (np.linalg.eigvalsh(cov) > 0).all()
    ll = bbf.log_likelihood_
    assert bbf.aic == pytest.approx(2 * 4 - 2 * ll)
    assert bbf.bic == pytest.approx(4 * math.log(DONORS) - 2 * ll)


def test_individual_log_likelihoods_add_up(bbf: BetaGeoBetaBinomFitter) -> None:
    assert bbf.data is not None
    individual = bbf.individual_log_likelihood()
    assert isinstance(individual, pd.Series) and (individual < 0).all()
    weighted = (individual * bbf.data["weights"]).sum()
    assert weighted == pytest.approx(bbf.log_likelihood_, rel=1e-10)


def test_not_fitted() -> None:
    fitter = BetaGeoBetaBinomFitter()
    with pytest.raises(NotFittedError, match="fit"):
        fitter.conditional_probability_alive(1, 1, 1, 6)
    fitter.params_ = FHS2010_PARAMS
    with pytest.raises(NotFittedError, match="after fit"):
        _ = fitter.log_likelihood_
    with pytest.raises(NotFittedError):
        fitter.expected_number_of_transactions_in_first_n_periods(6)


# -- predictions: formulas and lifetimes' shapes ------------------------------------------


def test_predictions_match_the_formulas(
    bbf: BetaGeoBetaBinomFitter, donations: pd.DataFrame
) -> None:
    params = list(bbf.params_)
    d = donations
    for m in (0, 1, 5):
        alive = bbf.conditional_probability_alive(m, d["frequency"], d["recency"], d["periods"])
        expected = bbf.conditional_expected_number_of_purchases_up_to_time(
            m, d["frequency"], d["recency"], d["periods"]
        )
        for i, (x, tx, n) in enumerate(zip(d["frequency"], d["recency"], d["periods"])):
            assert alive.iloc[i] == pytest.approx(_alive(params, m, x, tx, n), rel=1e-9)
            assert expected.iloc[i] == pytest.approx(
                _expected(params, m, x, tx, n), rel=1e-9, abs=1e-15
            )


def test_series_in_series_out(
    bbf: BetaGeoBetaBinomFitter, histories: tuple[pd.Series, pd.Series, pd.Series]
) -> None:
    f, r, n = histories
    for result in (
        bbf.conditional_probability_alive(1, f, r, n),
        bbf.conditional_expected_number_of_purchases_up_to_time(5, f, r, n),
        bbf.individual_log_likelihood(f, r, n),
    ):
        assert isinstance(result, pd.Series)
        assert result.index.equals(f.index)
    arrays = bbf.conditional_probability_alive(1, f.to_numpy(), r.to_numpy(), n.to_numpy())
    assert isinstance(arrays, np.ndarray) and arrays.shape == (22,)
    scalar = bbf.conditional_probability_alive(1, 6, 6, 6)
    assert isinstance(scalar, float)
    # FHS (2010): a donor who gave in every year is very likely alive next year.
    assert scalar > 0.9


def test_predictions_default_to_the_fitted_data(bbf: BetaGeoBetaBinomFitter) -> None:
    assert bbf.data is not None
    d = bbf.data
    pd.testing.assert_series_equal(
        bbf.conditional_probability_alive(1),
        bbf.conditional_probability_alive(1, d["frequency"], d["recency"], d["n_periods"]),
    )
    assert bbf.predict(5).index.equals(d.index)
    with pytest.raises(ValueError, match="all of frequency, recency and n_periods"):
        bbf.conditional_probability_alive(1, d["frequency"])


def test_probability_alive_is_in_unit_interval(
    bbf: BetaGeoBetaBinomFitter, histories: tuple[pd.Series, pd.Series, pd.Series]
) -> None:
    f, r, n = histories
    for m in (0, 1, 2, 10, 100):
        p = bbf.conditional_probability_alive(m, f, r, n)
        assert ((p >= 0) & (p <= 1)).all()
    # Alive later is less likely: each opportunity is another drop-out draw.
    curve = bbf.conditional_probability_alive(np.arange(20), 2, 3, 6)
    assert (np.diff(curve) < 0).all()


def test_expectation_grows_with_the_horizon(
    bbf: BetaGeoBetaBinomFitter, histories: tuple[pd.Series, pd.Series, pd.Series]
) -> None:
    f, r, n = histories
    previous = bbf.conditional_expected_number_of_purchases_up_to_time(0, f, r, n)
    assert (previous == 0).all()
    for m in range(1, 30):
        current = bbf.conditional_expected_number_of_purchases_up_to_time(m, f, r, n)
        assert (current > previous).all()
        # At most one transaction per opportunity.
        assert (current - previous <= 1).all()
        previous = current


def test_expected_number_of_transactions_in_first_n_periods(
    bbf: BetaGeoBetaBinomFitter, donations: pd.DataFrame
) -> None:
    table = bbf.expected_number_of_transactions_in_first_n_periods(6)
    assert list(table.columns) == ["model"]
    assert table.index.name == "frequency"
    assert table.index.tolist() == list(range(7))
    assert table["model"].sum() == pytest.approx(DONORS, rel=1e-10)
    # FHS (2010), figure 3: the model tracks the observed distribution closely.
    observed = donations.groupby("frequency")["weights"].sum()
    np.testing.assert_allclose(table["model"], observed, rtol=0.1)
    # Its mean is E[X(n)], eq. (8).
    mean = (table.index.to_numpy() * table["model"]).sum() / DONORS
    assert mean == pytest.approx(bbf.expected_number_of_purchases_up_to_time(6), rel=1e-10)
    assert bbf.expected_number_of_transactions_in_first_n_periods(0)["model"].tolist() == [
        pytest.approx(DONORS)
    ]
    for bad in (-1, 2.5):
        with pytest.raises(ValueError, match="non-negative integer"):
            bbf.expected_number_of_transactions_in_first_n_periods(bad)  # type: ignore[arg-type]


def test_probability_of_n_purchases(bbf: BetaGeoBetaBinomFitter) -> None:
    probabilities = bbf.probability_of_n_purchases_up_to_time(6, np.arange(8))
    assert isinstance(probabilities, np.ndarray)
    assert probabilities.sum() == pytest.approx(1.0, rel=1e-12)
    assert probabilities[7] == 0.0


@settings(max_examples=100, deadline=None)
@given(
    st.floats(min_value=0.1, max_value=10.0),
    st.floats(min_value=0.1, max_value=10.0),
    st.floats(min_value=0.1, max_value=5.0).filter(lambda g: abs(g - 1) > 0.05),
    st.floats(min_value=0.1, max_value=10.0),
    st.integers(min_value=1, max_value=30).flatmap(
        lambda n: st.tuples(st.integers(0, n), st.integers(0, n), st.just(n))
    ),
)
def test_properties_over_random_parameters(
    alpha: float, beta: float, gamma: float, delta: float, history: tuple[int, int, int]
) -> None:
    a, b, n = history
    x, tx = min(a, b), max(a, b)
    if x == 0:
        tx = 0
    params = [alpha, beta, gamma, delta]
    fitter = _fitter(params)
    m = np.arange(6)
    alive = fitter.conditional_probability_alive(m, x, tx, n)
    assert ((alive >= 0) & (alive <= 1)).all()
    np.testing.assert_allclose(alive, [_alive(params, k, x, tx, n) for k in m], rtol=1e-8)
    expected = fitter.conditional_expected_number_of_purchases_up_to_time(m, x, tx, n)
    assert expected[0] == 0 and (np.diff(expected) >= 0).all()
    np.testing.assert_allclose(
        expected, [_expected(params, k, x, tx, n) for k in m], rtol=1e-7, atol=1e-14
    )


# -- persistence ------------------------------------------------------------------------------


def _predictions(fitter: BetaGeoBetaBinomFitter, d: pd.DataFrame) -> np.ndarray:
    f, r, n = d["frequency"], d["recency"], d["periods"]
    return np.column_stack(
        [
            fitter.conditional_expected_number_of_purchases_up_to_time(5, f, r, n),
            fitter.conditional_probability_alive(1, f, r, n),
        ]
    )


def test_save_and_load_roundtrip(
    bbf: BetaGeoBetaBinomFitter, donations: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "bgbb.json"
    bbf.save_model(path)
    json.loads(path.read_text())
    loaded = BetaGeoBetaBinomFitter().load_model(path)
    assert isinstance(loaded, BetaGeoBetaBinomFitter)
    pd.testing.assert_series_equal(loaded.params_, bbf.params_)
    np.testing.assert_array_equal(_predictions(loaded, donations), _predictions(bbf, donations))
    assert loaded.log_likelihood_ == bbf.log_likelihood_
    pd.testing.assert_frame_equal(loaded.summary, bbf.summary)
    assert repr(loaded) == repr(bbf)
    assert loaded.data is None
    # The fit statistics travel with the model, so the table works without data.
    pd.testing.assert_frame_equal(
        loaded.expected_number_of_transactions_in_first_n_periods(6),
        bbf.expected_number_of_transactions_in_first_n_periods(6),
    )


def test_pickle_roundtrip(bbf: BetaGeoBetaBinomFitter, donations: pd.DataFrame) -> None:
    clone = pickle.loads(pickle.dumps(bbf))
    np.testing.assert_array_equal(_predictions(clone, donations), _predictions(bbf, donations))
    assert clone.log_likelihood_ == bbf.log_likelihood_
    assert clone.data is not None and bbf.data is not None
    pd.testing.assert_frame_equal(clone.data, bbf.data)


def test_loading_another_model_is_refused(tmp_path: Path) -> None:
    from retentionkit import BetaGeoFitter

    other = BetaGeoFitter()
    other.params_ = FHL2005_PARAMS
    other.save_model(tmp_path / "bgnbd.json")
    with pytest.raises(ValueError):
        BetaGeoBetaBinomFitter().load_model(tmp_path / "bgnbd.json")


# -- simulation ---------------------------------------------------------------------------------

COLUMNS = ["frequency", "recency", "n_periods", "p", "theta", "alive", "customer_id"]


def test_generate_new_data_shape() -> None:
    truth = _fitter(list(FHS2010_PARAMS.values()))
    df = truth.generate_new_data(size=500, seed=1, n_periods=6)
    assert list(df.columns) == COLUMNS
    assert len(df) == 500
    assert (df["n_periods"] == 6).all()
    assert df["customer_id"].tolist() == list(range(500))
    assert df["alive"].dtype == bool
    assert ((df["frequency"] <= df["recency"]) & (df["recency"] <= df["n_periods"])).all()
    assert (df.loc[df["frequency"] == 0, "recency"] == 0).all()
    assert ((df["p"] > 0) & (df["p"] < 1) & (df["theta"] > 0) & (df["theta"] < 1)).all()
    np.testing.assert_array_equal(df["frequency"], np.round(df["frequency"]))
    with pytest.raises(ValueError, match="give n_periods"):
        truth.generate_new_data(size=3)


def test_generate_new_data_is_reproducible() -> None:
    truth = _fitter(list(FHS2010_PARAMS.values()))
    a = truth.generate_new_data(size=200, seed=42, n_periods=6)
    b = truth.generate_new_data(size=200, seed=42, n_periods=6)
    c = truth.generate_new_data(size=200, seed=43, n_periods=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_generate_new_data_takes_an_array_of_n_periods() -> None:
    truth = _fitter(list(FHS2010_PARAMS.values()))
    periods = np.array([1.0, 5.0, 12.0])
    df = truth.generate_new_data(n_periods=periods, seed=0)
    assert df["n_periods"].tolist() == periods.tolist()
    with pytest.raises(ValueError, match="size"):
        truth.generate_new_data(size=5, n_periods=periods)
    with pytest.raises(ValueError, match="non-negative integer"):
        truth.generate_new_data(size=2, n_periods=2.5)


def test_generate_new_data_defaults_to_the_fitted_periods(bbf: BetaGeoBetaBinomFitter) -> None:
    df = bbf.generate_new_data(size=100, seed=3)
    assert len(df) == 100 and (df["n_periods"] == 6).all()
    sample = bbf.generate_new_data(n_periods=np.repeat([4.0, 10.0], [3000, 1000]), seed=4)
    mixed = BetaGeoBetaBinomFitter().fit(sample)
    periods = mixed.generate_new_data(size=4000, seed=5)["n_periods"]
    assert set(periods) == {4.0, 10.0}
    assert (periods == 4).mean() == pytest.approx(0.75, abs=0.03)  # in proportion to weights
    pd.testing.assert_frame_equal(
        mixed.generate_new_data(size=50, seed=9), mixed.generate_new_data(size=50, seed=9)
    )


def test_simulated_alive_share_matches_probability_alive_at_n() -> None:
    """``alive`` is alive at opportunity n, i.e. P(alive) with m_periods_in_future = 0."""
    truth = _fitter(list(FHS2010_PARAMS.values()))
    df = truth.generate_new_data(size=40_000, seed=11, n_periods=6)
    p = truth.conditional_probability_alive(0, df["frequency"], df["recency"], df["n_periods"])
    share, predicted = df["alive"].mean(), p.mean()
    assert abs(share - predicted) < 4 * math.sqrt(predicted * (1 - predicted) / len(df))


@pytest.mark.slow
def test_fit_recovers_simulated_parameters() -> None:
    """50k customers with 6 opportunities, as in the donations data: estimates within 4 s.e."""
    truth = _fitter(list(FHS2010_PARAMS.values()))
    data = truth.generate_new_data(size=50_000, seed=2010, n_periods=6)
    fitted = BetaGeoBetaBinomFitter().fit(data["frequency"], data["recency"], data["n_periods"])
    z = (fitted.params_ - truth.params_) / fitted.standard_errors_
    assert (z.abs() < 4).all(), z.to_dict()


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "recency", "n_periods", "rule"),
    [
        ([0, 3], [0, 2], [6, 6], "frequency must not exceed recency"),
        ([0, 2], [0, 7], [6, 6], "recency must not exceed n_periods"),
        ([0, 1.5], [0, 2], [6, 6], "integers"),
        ([0, 1], [0, 2.5], [6, 6], "integers"),
        ([0, 1], [0, 2], [6, 6.5], "integers"),
        ([0, 1], [0, 0], [6, 6], "recency must be 0 when frequency is 0|frequency must not"),
        ([0, 1], [0, 1], [6, -1], "n_periods must be non-negative"),
        ([0, -1], [0, 0], [6, 6], "non-negative"),
    ],
)
def test_bad_input_names_the_row(
    frequency: list[float], recency: list[float], n_periods: list[float], rule: str
) -> None:
    labels = ["alice", "bob"]
    f = pd.Series(frequency, index=labels)
    r = pd.Series(recency, index=labels)
    n = pd.Series(n_periods, index=labels)
    with pytest.raises(ValueError, match=rule) as info:
        BetaGeoBetaBinomFitter().fit(f, r, n)
    assert "row: 1" in str(info.value) and "'bob'" in str(info.value)
    fitter = _fitter(list(FHS2010_PARAMS.values()))
    for predict in (
        lambda: fitter.conditional_probability_alive(1, f, r, n),
        lambda: fitter.conditional_expected_number_of_purchases_up_to_time(1, f, r, n),
        lambda: fitter.individual_log_likelihood(f, r, n),
    ):
        with pytest.raises(ValueError, match="row: 1") as info:
            predict()
        assert "'bob'" in str(info.value)


def test_bad_horizon_and_weights_name_the_row() -> None:
    fitter = _fitter(list(FHS2010_PARAMS.values()))
    with pytest.raises(ValueError, match="row: 1"):
        fitter.conditional_probability_alive([1, 0.5], 1, 1, 6)
    with pytest.raises(ValueError, match="row: 2"):
        fitter.conditional_expected_number_of_purchases_up_to_time([1, 2, -1], 1, 1, 6)
    with pytest.raises(ValueError, match=r"weights.*row: 1"):
        BetaGeoBetaBinomFitter().fit([0, 1], [0, 1], 6, weights=[1, -1])


def test_bad_calls() -> None:
    with pytest.raises(ValueError, match="n_periods"):
        BetaGeoBetaBinomFitter().fit([0, 1], [0, 1])
    with pytest.raises(ValueError, match="lacks"):
        BetaGeoBetaBinomFitter().fit(pd.DataFrame({"frequency": [0], "recency": [0]}))
    with pytest.raises(ValueError, match="not both"):
        BetaGeoBetaBinomFitter().fit(load_donations(), [0])
    with pytest.raises(ValueError, match=r"4 values|expected 4"):
        BetaGeoBetaBinomFitter().params_ = [1.0, 2.0]
