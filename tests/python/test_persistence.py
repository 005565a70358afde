"""Saving, loading and pickling a fitter keep its predictions exactly."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retentionkit import BetaGeoFitter


def _predictions(fitter: BetaGeoFitter, cdnow: pd.DataFrame) -> np.ndarray:
    f, r, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    return np.column_stack(
        [
            fitter.conditional_expected_number_of_purchases_up_to_time(39, f, r, T),
            fitter.conditional_probability_alive(f, r, T),
        ]
    )


def test_save_and_load_roundtrip(bgf: BetaGeoFitter, cdnow: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "bgnbd.json"
    bgf.save_model(path)
    json.loads(path.read_text())  # plain JSON, readable from Rust too
    loaded = BetaGeoFitter().load_model(path)
    assert isinstance(loaded, BetaGeoFitter)
    pd.testing.assert_series_equal(loaded.params_, bgf.params_)
    np.testing.assert_array_equal(_predictions(loaded, cdnow), _predictions(bgf, cdnow))
    assert loaded.log_likelihood_ == bgf.log_likelihood_
    pd.testing.assert_frame_equal(loaded.summary, bgf.summary)
    assert loaded.bic == bgf.bic
    assert repr(loaded) == repr(bgf)
    assert loaded.data is None  # the file holds the model, not the data


def test_load_model_updates_self(bgf: BetaGeoFitter, tmp_path: Path) -> None:
    path = tmp_path / "bgnbd.json"
    bgf.save_model(str(path))
    fitter = BetaGeoFitter()
    fitter.load_model(str(path))
    pd.testing.assert_series_equal(fitter.params_, bgf.params_)


def test_save_keeps_the_penalizer(cdnow: pd.DataFrame, tmp_path: Path) -> None:
    fitter = BetaGeoFitter(penalizer_coef=0.01).fit(cdnow)
    fitter.save_model(tmp_path / "m.json")
    assert BetaGeoFitter().load_model(tmp_path / "m.json").penalizer_coef == 0.01


def test_pickle_roundtrip(bgf: BetaGeoFitter, cdnow: pd.DataFrame) -> None:
    clone = pickle.loads(pickle.dumps(bgf))
    np.testing.assert_array_equal(_predictions(clone, cdnow), _predictions(bgf, cdnow))
    assert clone.log_likelihood_ == bgf.log_likelihood_
    assert clone.data is not None and bgf.data is not None
    pd.testing.assert_frame_equal(clone.data, bgf.data)
    pd.testing.assert_series_equal(
        clone.conditional_expected_number_of_purchases_up_to_time(10),
        bgf.conditional_expected_number_of_purchases_up_to_time(10),
    )


def test_pickle_of_unfitted_and_hand_set_fitters() -> None:
    empty = pickle.loads(pickle.dumps(BetaGeoFitter(penalizer_coef=0.5)))
    assert empty.penalizer_coef == 0.5 and repr(empty) == "<retentionkit.BetaGeoFitter>"
    fitter = BetaGeoFitter()
    fitter.params_ = [0.25, 4.0, 0.8, 2.5]
    clone = pickle.loads(pickle.dumps(fitter))
    pd.testing.assert_series_equal(clone.params_, fitter.params_)


def test_loading_garbage_is_a_value_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"not": "a model"}')
    with pytest.raises(ValueError):
        BetaGeoFitter().load_model(path)


def test_saving_an_unfitted_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fit"):
        BetaGeoFitter().save_model(tmp_path / "m.json")
