"""Gamma-Gamma (Fader & Hardie 2013) and customer lifetime value through the Python layer.

Reference values: the note's CDNOW estimates, and lifetimes 0.11.3's
``GammaGammaFitter`` (fit, ``conditional_expected_average_profit`` and
``customer_lifetime_value``) on the same data, pinned; tests/gamma_gamma.rs and
tests/clv.rs pin the same numbers in Rust.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reference_values import clv_cdnow_lifetimes, params, reference

from retentionkit import (
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    NotFittedError,
    ParetoNBDFitter,
    spend_frequency_correlation,
)
from retentionkit.datasets import load_cdnow_summary_data_with_monetary_value

FH2013 = reference("gamma_gamma_cdnow_fh2013")
LIFETIMES = reference("gamma_gamma_cdnow_lifetimes")
LIFETIMES_GG = LIFETIMES["params"]
LIFETIMES_BG = params("bgnbd_cdnow_lifetimes")
LIFETIMES_MBG = params("mbgnbd_cdnow_lifetimes")
LIFETIMES_PNBD = params("pnbd_cdnow_lifetimes")
#: lifetimes' conditional_expected_average_profit at its own fit, by customer ID.
LIFETIMES_PROFIT = {
    customer: case["value"]
    for case in LIFETIMES["predictions"].values()
    for customer in case["customer_ids"]
}
# ggf.customer_lifetime_value(model, f, r, T, m, time, discount_rate, freq) on all 2357
# customers: values of CLV_TABLE["customer_ids"] and the sum.
CLV_TABLE = clv_cdnow_lifetimes()
CLV_MODELS = {
    "bgnbd_cdnow_lifetimes": "bg",
    "mbgnbd_cdnow_lifetimes": "mbg",
    "pnbd_cdnow_lifetimes": "pnbd",
}
IDS = CLV_TABLE["customer_ids"]
LIFETIMES_CLV = {
    (CLV_MODELS[case["transaction_model"]], case["time"], case["discount_rate"], case["freq"]): (
        case["values"],
        case["sum"],
    )
    for case in CLV_TABLE["cases"]
}


@pytest.fixture(scope="module")
def cdnow_money() -> pd.DataFrame:
    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def returning(cdnow_money: pd.DataFrame) -> pd.DataFrame:
    return cdnow_money[cdnow_money["frequency"] > 0]


@pytest.fixture(scope="module")
def ggf(returning: pd.DataFrame) -> GammaGammaFitter:
    return GammaGammaFitter().fit(returning["frequency"], returning["monetary_value"])


def _pinned(fitter_class: type, params: dict[str, float]):  # type: ignore[no-untyped-def]
    fitter = fitter_class()
    fitter.params_ = pd.Series(params)
    return fitter


def test_cdnow_fit_matches_the_note_and_lifetimes(ggf: GammaGammaFitter) -> None:
    # Fader & Hardie (2013): p = 6.25, q = 3.74, gamma = 15.44. The likelihood's maximum
    # is at gamma = 15.4477 (lifetimes agrees); the note's solver stopped 0.008 short.
    published = FH2013["params"]
    np.testing.assert_allclose(ggf.params_[["p", "q"]], [published["p"], published["q"]], atol=5e-3)
    assert ggf.params_["v"] == pytest.approx(published["v"], abs=1e-2)
    expected = pd.Series(LIFETIMES_GG)
    np.testing.assert_allclose(ggf.params_[expected.index], expected, rtol=1e-5)
    n = FH2013["n_customers"]
    assert ggf.log_likelihood_ / n == pytest.approx(
        LIFETIMES["log_likelihood_per_customer"], rel=1e-9
    )
    assert ggf.n_customers_ == n
    assert list(ggf.summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    assert (ggf.standard_errors_ > 0).all()
    assert repr(ggf).startswith("<retentionkit.GammaGammaFitter: fitted with 946 subjects, p: 6.25")


def test_conditional_expected_average_profit(
    ggf: GammaGammaFitter, cdnow_money: pd.DataFrame
) -> None:
    pinned = _pinned(GammaGammaFitter, LIFETIMES_GG)
    profit = pinned.conditional_expected_average_profit(
        cdnow_money["frequency"], cdnow_money["monetary_value"]
    )
    assert isinstance(profit, pd.Series)
    assert profit.index.equals(cdnow_money.index)
    assert sorted(LIFETIMES_PROFIT) == [1, 2, 3, 18, 100, 1000, 2357]
    np.testing.assert_allclose(
        profit.loc[list(LIFETIMES_PROFIT)], list(LIFETIMES_PROFIT.values()), rtol=1e-12
    )
    # Customers without repeat purchases get the population mean p v / (q - 1).
    assert profit.loc[3] == pytest.approx(pinned.expected_average_profit(), rel=1e-14)
    # Defaults to the fitted data; scalars in, float out.
    fitted = ggf.conditional_expected_average_profit()
    assert isinstance(fitted, pd.Series) and len(fitted) == 946
    assert isinstance(pinned.conditional_expected_average_profit(2, 22.35), float)


def test_q_at_most_one_is_an_error() -> None:
    fitter = _pinned(GammaGammaFitter, {"p": 2.0, "q": 0.9, "v": 3.0})
    with pytest.raises(ValueError, match="q"):
        fitter.conditional_expected_average_profit(1, 5.0)
    with pytest.raises(ValueError, match="q > 1"):
        fitter.expected_average_profit()


@pytest.mark.parametrize(
    ("model", "fitter_class", "params"),
    [
        ("bg", BetaGeoFitter, LIFETIMES_BG),
        ("mbg", ModifiedBetaGeoFitter, LIFETIMES_MBG),
        ("pnbd", ParetoNBDFitter, LIFETIMES_PNBD),
    ],
)
def test_customer_lifetime_value_matches_lifetimes(
    cdnow_money: pd.DataFrame, model: str, fitter_class: type, params: dict[str, float]
) -> None:
    gg = _pinned(GammaGammaFitter, LIFETIMES_GG)
    transactions = _pinned(fitter_class, params)
    df = cdnow_money
    cases = [(key, value) for key, value in LIFETIMES_CLV.items() if key[0] == model]
    assert cases
    for (_, time, discount_rate, freq), (expected, expected_sum) in cases:
        clv = gg.customer_lifetime_value(
            transactions,
            df["frequency"],
            df["recency"],
            df["T"],
            df["monetary_value"],
            time=time,
            discount_rate=discount_rate,
            freq=freq,
        )
        assert isinstance(clv, pd.Series) and clv.name == "clv"
        assert clv.index.equals(df.index)
        np.testing.assert_allclose(clv.loc[IDS], expected, rtol=1e-8)
        assert clv.sum() == pytest.approx(expected_sum, rel=1e-8)


def test_customer_lifetime_value_defaults_and_linearity(
    ggf: GammaGammaFitter, cdnow_money: pd.DataFrame
) -> None:
    bg = _pinned(BetaGeoFitter, LIFETIMES_BG)
    df = cdnow_money.iloc[:50]
    f, r, T, m = df["frequency"], df["recency"], df["T"], df["monetary_value"]
    default = ggf.customer_lifetime_value(bg, f, r, T, m)
    explicit = ggf.customer_lifetime_value(bg, f, r, T, m, time=12, discount_rate=0.01, freq="D")
    pd.testing.assert_series_equal(default, explicit)
    # Linear in the expected spend: doubling every customer's spend (x > 0) and the
    # population mean (v) doubles the value.
    doubled = _pinned(GammaGammaFitter, {**ggf.params_.to_dict(), "v": 2 * ggf.params_["v"]})
    np.testing.assert_allclose(
        doubled.customer_lifetime_value(bg, f, r, T, 2 * m), 2 * default, rtol=1e-12
    )
    # Numpy in, numpy out.
    arr = ggf.customer_lifetime_value(bg, f.to_numpy(), r.to_numpy(), T.to_numpy(), m.to_numpy())
    np.testing.assert_array_equal(arr, default.to_numpy())


def test_customer_lifetime_value_rejects_bad_input(
    ggf: GammaGammaFitter, cdnow_money: pd.DataFrame
) -> None:
    bg = _pinned(BetaGeoFitter, LIFETIMES_BG)
    df = cdnow_money.iloc[:5]
    f, r, T, m = df["frequency"], df["recency"], df["T"], df["monetary_value"]
    with pytest.raises(ValueError, match="freq"):
        ggf.customer_lifetime_value(bg, f, r, T, m, freq="Y")
    with pytest.raises(TypeError, match="BetaGeoFitter"):
        ggf.customer_lifetime_value(object(), f, r, T, m)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="discount_rate"):
        ggf.customer_lifetime_value(bg, f, r, T, m, discount_rate=-1.0)
    with pytest.raises(NotFittedError):
        ggf.customer_lifetime_value(BetaGeoFitter(), f, r, T, m)
    bad = m.copy()
    bad.iloc[1] = -3.0  # customer 2 has a repeat purchase
    with pytest.raises(ValueError, match=r"monetary_value must be positive.*row: 1.*label 2"):
        ggf.customer_lifetime_value(bg, f, r, T, bad)


def test_bad_spend_names_the_row(returning: pd.DataFrame) -> None:
    bad = returning["monetary_value"].copy()
    label = bad.index[3]
    bad.iloc[3] = 0.0
    # The label's repr may be numpy's (np.int64(7)).
    with pytest.raises(ValueError, match=rf"row: 3.*index label (np\.int64\()?{label}\b"):
        GammaGammaFitter().fit(returning["frequency"], bad)
    with pytest.raises(ValueError, match="must be positive"):
        GammaGammaFitter().fit([1, 2], [5.0, -1.0])
    with pytest.raises(ValueError, match="non-negative integer"):
        GammaGammaFitter().fit([1.5, 2], [5.0, 1.0])


def test_zero_frequency_is_rejected_or_explicitly_excluded(
    cdnow_money: pd.DataFrame, ggf: GammaGammaFitter
) -> None:
    f, m = cdnow_money["frequency"], cdnow_money["monetary_value"]
    with pytest.raises(ValueError, match="repeat customers only"):
        GammaGammaFitter().fit(f, m)
    excluded = GammaGammaFitter().fit(f, m, exclude_zero_frequency=True)
    np.testing.assert_allclose(excluded.params_, ggf.params_, rtol=1e-10)
    assert excluded.n_customers_ == 946
    assert excluded.data is not None and len(excluded.data) == 2357


def test_weights_and_index(returning: pd.DataFrame, ggf: GammaGammaFitter) -> None:
    grouped = (
        returning.groupby(["frequency", "monetary_value"]).size().rename("weights").reset_index()
    )
    weighted = GammaGammaFitter().fit(
        grouped["frequency"], grouped["monetary_value"], weights=grouped["weights"]
    )
    np.testing.assert_allclose(weighted.params_, ggf.params_, rtol=1e-8)
    assert weighted.n_customers_ == 946
    assert ggf.data is not None
    assert list(ggf.data.columns) == ["monetary_value", "frequency", "weights"]
    assert ggf.data.index.equals(returning.index)
    custom = GammaGammaFitter().fit(
        returning["frequency"].to_numpy(),
        returning["monetary_value"].to_numpy(),
        index=returning.index,
    )
    assert custom.data is not None and custom.data.index.equals(returning.index)


def test_q_constraint(returning: pd.DataFrame) -> None:
    constrained = GammaGammaFitter().fit(
        returning["frequency"], returning["monetary_value"], q_constraint=True
    )
    assert constrained.params_["q"] > 1
    # Heavy-tailed spend: the estimate has q <= 1, which the constraint refuses.
    rng = np.random.default_rng(3)
    x = rng.integers(1, 6, size=3000).astype(float)
    truth = _pinned(GammaGammaFitter, {"p": 2.0, "q": 0.7, "v": 5.0})
    m = truth._core().simulate_spend(x, 11)
    unconstrained = GammaGammaFitter().fit(x, m)
    assert unconstrained.params_["q"] < 1
    with pytest.raises(ValueError, match="q_constraint"):
        GammaGammaFitter().fit(x, m, q_constraint=True)


def test_simulate_then_refit() -> None:
    truth = _pinned(GammaGammaFitter, LIFETIMES_GG)
    x = np.tile(np.arange(1.0, 8.0), 5000)
    m = truth._core().simulate_spend(x, 42)
    fitted = GammaGammaFitter().fit(x, m)
    z = (fitted.params_ - truth.params_) / fitted.standard_errors_
    assert (z.abs() < 4).all(), z


def test_spend_frequency_correlation(cdnow_money: pd.DataFrame) -> None:
    f, m = cdnow_money["frequency"], cdnow_money["monetary_value"]
    repeat = cdnow_money[f > 0]
    expected = np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1]
    assert spend_frequency_correlation(f, m) == pytest.approx(expected, rel=1e-12)
    assert spend_frequency_correlation(f, m) == pytest.approx(
        LIFETIMES["spend_frequency_correlation"], rel=1e-12
    )
    assert np.isnan(spend_frequency_correlation([1, 1, 0], [2.0, 3.0, 0.0]))
    weighted = spend_frequency_correlation([1, 2], [3.0, 5.0], weights=[2, 1])
    assert weighted == pytest.approx(spend_frequency_correlation([1, 1, 2], [3.0, 3.0, 5.0]))
    with pytest.raises(ValueError, match="row: 1"):
        spend_frequency_correlation([1, 2], [3.0, -5.0])


def test_individual_log_likelihood_sums_to_the_fit(ggf: GammaGammaFitter) -> None:
    ll = ggf.individual_log_likelihood()
    assert isinstance(ll, pd.Series) and len(ll) == 946
    assert ll.sum() == pytest.approx(ggf.log_likelihood_, rel=1e-10)


def test_save_load_and_pickle(ggf: GammaGammaFitter, tmp_path: Path) -> None:
    path = tmp_path / "gg.json"
    ggf.save_model(path)
    loaded = GammaGammaFitter().load_model(path)
    pd.testing.assert_series_equal(loaded.params_, ggf.params_)
    assert loaded.log_likelihood_ == ggf.log_likelihood_
    pd.testing.assert_frame_equal(loaded.summary, ggf.summary)
    with pytest.raises(ValueError, match="GammaGamma"):
        BetaGeoFitter().load_model(path)
    clone = pickle.loads(pickle.dumps(ggf))
    pd.testing.assert_series_equal(clone.params_, ggf.params_)
    assert clone.data is not None and ggf.data is not None
    pd.testing.assert_frame_equal(clone.data, ggf.data)
    pd.testing.assert_series_equal(
        clone.conditional_expected_average_profit(), ggf.conditional_expected_average_profit()
    )


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        GammaGammaFitter().conditional_expected_average_profit([1], [2.0])
    with pytest.raises(ValueError, match="no fitted data"):
        _pinned(GammaGammaFitter, LIFETIMES_GG).conditional_expected_average_profit()
