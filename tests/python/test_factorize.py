"""Integer customer ids factorised in the core give pandas' codes and summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retentionkit import _core
from retentionkit.utils import calibration_and_holdout_data, summary_data_from_transaction_data


@pytest.mark.parametrize(
    "ids",
    [
        np.array([30, 10, 30, 20, 10, -5], dtype=np.int64),  # dense range, negative id
        np.random.default_rng(1).integers(-(2**62), 2**62, 5000),  # sparse: hashed
        np.random.default_rng(2).integers(0, 300, 5000),
        np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0, 7, 0]),
    ],
)
def test_codes_and_uniques_equal_pandas(ids: np.ndarray) -> None:
    codes, uniques = _core.factorize_int64(np.ascontiguousarray(ids, dtype=np.int64))
    want_codes, want_uniques = pd.factorize(ids, sort=True)
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(uniques, want_uniques)
    assert codes.dtype == np.uint32


def _log(ids: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    days = rng.integers(0, 200, len(ids))
    return pd.DataFrame(
        {
            "id": ids,
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D"),
            "value": rng.gamma(2.0, 10.0, len(ids)),
        }
    )


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint16", "int8"])
def test_summaries_of_integer_ids_equal_those_of_the_same_ids_as_objects(dtype: str) -> None:
    ids = np.random.default_rng(4).integers(0, 120, 3000).astype(dtype)
    log = _log(ids)
    as_objects = log.assign(id=log["id"].astype(object))
    got = summary_data_from_transaction_data(log, "id", "when", "value")
    want = summary_data_from_transaction_data(as_objects, "id", "when", "value")
    assert got.index.dtype == np.dtype(dtype)
    pd.testing.assert_frame_equal(got, want, check_index_type=False)
    np.testing.assert_array_equal(got.index.to_numpy(), want.index.to_numpy().astype(dtype))
    split = calibration_and_holdout_data(log, "id", "when", "2024-05-01")
    split_objects = calibration_and_holdout_data(as_objects, "id", "when", "2024-05-01")
    pd.testing.assert_frame_equal(split, split_objects, check_index_type=False)


def test_sparse_and_string_ids() -> None:
    ids = np.random.default_rng(5).integers(-(2**60), 2**60, 50)
    log = _log(np.repeat(ids, 4))
    got = summary_data_from_transaction_data(log, "id", "when")
    assert got.index.tolist() == sorted(set(ids.tolist()))
    strings = log.assign(id="c" + log["id"].astype(str))
    named = summary_data_from_transaction_data(strings, "id", "when")
    assert len(named) == len(got)
