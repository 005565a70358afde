"""The one list of models, the fitters' declared columns and the CLV's time units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import retentionkit
from retentionkit import BetaGeoBetaBinomFitter, BetaGeoFitter, GammaGammaFitter, cli, report
from retentionkit._registry import KINDS, MODELS, by_name, fitter_names, models, require
from retentionkit.datasets import load_cdnow_summary_data_with_monetary_value, load_donations
from retentionkit.fitters._discounting import FREQ_CODES, periods_per_month
from retentionkit.fitters.base import BaseFitter


def test_every_exported_fitter_is_registered_once() -> None:
    exported = {
        getattr(retentionkit, name)
        for name in retentionkit.__all__
        if isinstance(getattr(retentionkit, name), type)
        and issubclass(getattr(retentionkit, name), BaseFitter)
    }
    registered = [m.fitter for m in MODELS]
    assert len(registered) == len(set(registered))
    assert set(registered) == exported
    assert len({m.name for m in MODELS}) == len(MODELS)
    assert len({m.label for m in MODELS}) == len(MODELS)
    for m in MODELS:
        assert issubclass(m.fitter, KINDS[m.kind])


def test_the_cli_and_the_report_read_the_registry() -> None:
    expected = {
        "bgnbd": (retentionkit.BetaGeoFitter, "BG/NBD"),
        "mbgnbd": (retentionkit.ModifiedBetaGeoFitter, "MBG/NBD"),
        "pnbd": (retentionkit.ParetoNBDFitter, "Pareto/NBD"),
        "ggomnbd": (retentionkit.GompertzGammaNBDFitter, "GGom/NBD"),
    }
    assert cli.MODELS == expected
    # The report also takes the MBG/CNBD-k (it computes litt from the log).
    assert report.MODELS == {**expected, "mbgcnbd": (retentionkit.MBGCNBDkFitter, "MBG/CNBD-k")}
    assert by_name("transaction") == expected


def test_messages_name_the_fitters_of_a_kind() -> None:
    assert fitter_names("transaction") == (
        "BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter or GompertzGammaNBDFitter"
    )
    assert fitter_names("transaction", "discrete") == (
        "BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter, GompertzGammaNBDFitter or "
        "BetaGeoBetaBinomFitter"
    )
    assert fitter_names("contractual") == "ShiftedBetaGeometricFitter or BetaDiscreteWeibullFitter"
    with pytest.raises(TypeError, match=r"^this needs a BetaGeoFitter, .* got GammaGammaFitter$"):
        require(GammaGammaFitter(), "transaction", needs="this needs a")
    require(retentionkit.ModifiedBetaGeoFitter(), "transaction", needs="unused")
    with pytest.raises(ValueError, match="unknown model kind"):
        models("monetary")


def test_the_declared_columns_are_those_of_the_fitted_data() -> None:
    cdnow = load_cdnow_summary_data_with_monetary_value()
    repeat = cdnow[cdnow["frequency"] > 0]
    fitted = {
        BetaGeoFitter: BetaGeoFitter().fit(cdnow),
        GammaGammaFitter: GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"]),
        BetaGeoBetaBinomFitter: BetaGeoBetaBinomFitter().fit(load_donations()),
    }
    for fitter_class, fitter in fitted.items():
        assert fitter.data is not None
        assert set(fitter.data.columns) == {*fitter_class._columns, "weights"}
    # The history columns are what the predictions use when none is given.
    bgf = fitted[BetaGeoFitter]
    pd.testing.assert_series_equal(
        bgf.conditional_probability_alive(),
        bgf.conditional_probability_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"]),
    )


def test_a_dataframe_column_may_go_by_an_alias() -> None:
    donations = load_donations()
    assert "periods" in donations.columns and "n_periods" not in donations.columns
    bbf = BetaGeoBetaBinomFitter().fit(donations)
    assert bbf.data is not None
    np.testing.assert_array_equal(bbf.data["n_periods"], donations["periods"])
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['n_periods \(or periods\)'\]"):
        BetaGeoBetaBinomFitter().fit(donations.drop(columns="periods"))
    with pytest.raises(ValueError, match="fit needs frequency, recency and n_periods"):
        BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"])


@pytest.mark.parametrize("freq", FREQ_CODES)
def test_the_python_time_units_are_the_cores(freq: str) -> None:
    # Undiscounted over one month, the core's CLV is the expected spend times the
    # expected purchases over one month of the data's time unit.
    data = load_cdnow_summary_data_with_monetary_value()
    repeat = data[data["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    bgf = BetaGeoFitter().fit(data)
    df = data.head(20)
    f, r, T, m = (df[c] for c in ("frequency", "recency", "T", "monetary_value"))
    clv = ggf.customer_lifetime_value(bgf, f, r, T, m, time=1, discount_rate=0.0, freq=freq)
    month = periods_per_month(freq)
    expected = ggf.conditional_expected_average_profit(
        f, m
    ) * bgf.conditional_expected_number_of_purchases_up_to_time(month, f, r, T)
    np.testing.assert_allclose(clv, expected, rtol=1e-12)


def test_an_unknown_time_unit_gets_the_cores_message() -> None:
    with pytest.raises(ValueError, match=r"^freq must be one of 'H', 'D', 'W', 'M' .* got 'Y'$"):
        periods_per_month("Y")


def test_the_time_varying_fitter_has_a_kind_of_its_own() -> None:
    """Fitted on a transaction log plus a covariate table, it is registered (and
    exported at the top level as in ``retentionkit.fitters``) under a kind that the
    CLI, the report and the functions taking fitted transaction models do not take."""
    (model,) = models("time_varying")
    assert model.fitter is retentionkit.TimeVaryingParetoNBDFitter
    assert model.fitter is retentionkit.fitters.TimeVaryingParetoNBDFitter
    assert "TimeVaryingParetoNBDFitter" in retentionkit.__all__
    assert model.name not in cli.MODELS and model.name not in report.MODELS
    assert model.name not in cli.LITT_MODELS
    with pytest.raises(TypeError, match=r"got TimeVaryingParetoNBDFitter$"):
        require(retentionkit.TimeVaryingParetoNBDFitter(), "transaction", needs="this needs a")
