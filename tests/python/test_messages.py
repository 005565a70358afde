"""Messages read like a person wrote them, and lifetimes habits around them work.

No numpy scalar reprs (``np.int64(2)``) in messages; rows named by the caller's
index label; a missing column of a transaction log named with the columns
present; a bad date pointing to ``datetime_format=``; ``utils`` exporting its
public names only; ``load_model`` on the class as well as on an instance.
"""

from __future__ import annotations

import inspect
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import retentionkit
from retentionkit import BetaGeoFitter, InvalidDataError, utils
from retentionkit._registry import MODELS
from retentionkit.utils import calibration_and_holdout_data, summary_data_from_transaction_data


def _log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": np.array([1, 1, 2, 3], dtype=np.int64),
            "date": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-02", "2024-01-09"]),
            "value": np.array([10.0, 5.0, -2.5, 7.0]),
        },
        index=pd.Index(np.array([100, 101, 102, 103], dtype=np.int64)),
    )


def test_a_core_error_names_the_index_label_as_a_person_would() -> None:
    index = pd.Index(np.array([7, 8, 9], dtype=np.int64))
    frequency = pd.Series([1.0, 2.0, 0.0], index=index)
    recency = pd.Series([1.0, 5.0, 0.0], index=index)  # row 8: recency > T
    with pytest.raises(InvalidDataError) as info:
        BetaGeoFitter().fit(frequency, recency, pd.Series([3.0, 4.0, 2.0], index=index))
    message = str(info.value)
    assert "index label 8" in message
    assert "np." not in message
    assert info.value.label == 8 and type(info.value.label) is int


def test_a_log_error_shows_plain_values() -> None:
    with pytest.raises(InvalidDataError) as info:
        summary_data_from_transaction_data(_log(), "id", "date", "value")
    message = str(info.value)
    assert "np." not in message
    assert "index label 102" in message
    assert "id=2" in message and "value=-2.5" in message


@pytest.mark.parametrize("argument", ["customer_id_col", "datetime_col", "monetary_value_col"])
def test_a_missing_column_is_named_with_the_columns_present(argument: str) -> None:
    names = {"customer_id_col": "id", "datetime_col": "date", "monetary_value_col": "value"}
    names[argument] = "amount"
    log = _log()
    log["value"] = log["value"].abs()
    for call, extra in (
        (summary_data_from_transaction_data, {}),
        (calibration_and_holdout_data, {"calibration_period_end": "2024-01-04"}),
    ):
        with pytest.raises(ValueError, match="amount") as info:
            call(
                log,
                names["customer_id_col"],
                names["datetime_col"],
                monetary_value_col=names["monetary_value_col"],
                **extra,
            )
        message = str(info.value)
        assert f"{argument}='amount' is not a column" in message
        assert "'id', 'date', 'value'" in message
        assert not isinstance(info.value, KeyError)


def test_a_bad_date_points_to_datetime_format() -> None:
    log = pd.DataFrame({"id": [1, 1], "date": ["2024-01-31", "2024-31-01"]})
    with pytest.raises(ValueError) as info:
        summary_data_from_transaction_data(log, "id", "date")
    message = str(info.value)
    assert "datetime_format=" in message
    assert "passing `format`" not in message and "format='mixed'" not in message
    with pytest.raises(ValueError, match=re.escape("datetime_format='%Y-%m-%d'")):
        summary_data_from_transaction_data(log, "id", "date", datetime_format="%Y-%m-%d")
    with pytest.raises(ValueError, match=r"observation_period_end.*datetime_format="):
        summary_data_from_transaction_data(
            log.iloc[:1], "id", "date", observation_period_end="2024-31-01"
        )


def test_utils_exports_its_public_names_only() -> None:
    public = {
        name
        for name, value in vars(utils).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == utils.__name__
    }
    assert public <= set(utils.__all__)
    assert all(not name.startswith("_") for name in utils.__all__)
    assert set(utils.__all__) - public <= {"InvalidDataError"}  # re-exported on purpose
    namespace: dict[str, object] = {}
    exec("from retentionkit.utils import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(utils.__all__)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.fitter.__name__)
def test_load_model_on_the_class_and_on_an_instance(model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fitter = model.fitter()
    fitter.params_ = [2.0] * len(fitter._param_names)  # valid for every model
    path = tmp_path / "model.json"
    fitter.save_model(path)
    from_class = model.fitter.load_model(path)
    assert type(from_class) is model.fitter
    pd.testing.assert_series_equal(from_class.params_, fitter.params_)
    into = model.fitter()
    assert into.load_model(path) is into
    pd.testing.assert_series_equal(into.params_, fitter.params_)
    again = pickle.loads(pickle.dumps(from_class))
    pd.testing.assert_series_equal(again.params_, fitter.params_)


def test_the_package_exposes_generate_data() -> None:
    data = retentionkit.generate_data.pareto_nbd_model(10.0, 0.5, 4.0, 0.6, 10.0, size=50, seed=1)
    assert list(data.columns) == [
        "frequency",
        "recency",
        "T",
        "lambda",
        "mu",
        "alive",
        "customer_id",
    ]
    again = retentionkit.generate_data.pareto_nbd_model(10.0, 0.5, 4.0, 0.6, 10.0, 50, seed=1)
    pd.testing.assert_frame_equal(data, again)
