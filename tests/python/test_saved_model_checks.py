"""A saved model (file or pickle) is checked field by field when it loads.

A damaged or hand-edited model used to load and then raise ``PanicException``
(a BaseException) from the first ``*_interval`` call; now it is refused on load
with a ValueError naming the field.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Callable

import pytest

from retentionkit import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter


def _saved(fitter: BetaGeoFitter) -> dict[str, Any]:
    saved: dict[str, Any] = json.loads(fitter._model_json())
    return saved


def _edited(bgf: BetaGeoFitter, edit: Callable[[dict[str, Any]], None]) -> str:
    saved = _saved(bgf)
    edit(saved)
    return json.dumps(saved)


def _load(tmp_path: Path, text: str, encoding: str = "utf-8") -> BetaGeoFitter:
    path = tmp_path / "model.json"
    path.write_text(text, encoding=encoding)
    loaded: BetaGeoFitter = BetaGeoFitter.load_model(path)
    return loaded


def _truncate_covariance(saved: dict[str, Any]) -> None:
    saved["fit"]["covariance"] = saved["fit"]["covariance"][:3]


def test_a_truncated_covariance_is_refused_on_load(bgf: BetaGeoFitter, tmp_path: Path) -> None:
    text = _edited(bgf, _truncate_covariance)
    with pytest.raises(ValueError, match=r'"fit.covariance" has 3 entries; it must have 16'):
        _load(tmp_path, text)


def test_a_pickle_with_a_truncated_covariance_is_refused(
    bgf: BetaGeoFitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = bgf.__getstate__()
    state["model"] = _edited(bgf, _truncate_covariance)
    with monkeypatch.context() as patch:
        patch.setattr(BetaGeoFitter, "__getstate__", lambda self: state)
        forged = pickle.dumps(bgf)
    with pytest.raises(ValueError, match=r"fit\.covariance"):
        pickle.loads(forged)


def test_no_interval_call_panics_on_a_model_that_loaded(bgf: BetaGeoFitter) -> None:
    # Whatever loads must give intervals or a ValueError: never a BaseException.
    clone = pickle.loads(pickle.dumps(bgf))
    bands = clone.conditional_probability_alive_interval(2, 30.0, 39.0, n_draws=50)
    assert bands.shape == (1, 3)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["params"].update(r=float("nan")), r'"params.r" is nan'),
        (lambda s: s["params"].update(alpha=float("inf")), r'"params.alpha" is inf'),
        (lambda s: s["params"].update(a=-0.5), r'"params": a = -0.5 must be positive'),
        (lambda s: s["params"].pop("b"), r"parameter b is missing"),
        (lambda s: s["params"].update(gamma=1.0), r"gamma is not a parameter of BetaGeo"),
        (lambda s: s["params"].update(r="0.2"), r'"params": r is "0.2", not a number'),
        (lambda s: s["fit"].update(n_customers=-3.0), r'"fit.n_customers" is -3'),
        (lambda s: s["fit"].update(n_customers=0), r'"fit.n_customers" is 0'),
        (
            lambda s: s["fit"].update(log_likelihood=float("-inf")),
            r'"fit.log_likelihood" is -inf',
        ),
        (lambda s: s["fit"]["covariance"].__setitem__(5, float("nan")), r"fit.covariance\[5\]"),
        (lambda s: s["fit"]["covariance"].__setitem__(1, 7.0), r"is not symmetric"),
        (lambda s: s["fit"]["covariance"].__setitem__(0, -1.0), r"not positive definite"),
        (lambda s: s["fit"].update(penalizer_coef=-1.0), r'"fit.penalizer_coef" is -1'),
        (lambda s: s.update(version=7), r'"version" is 7'),
        (lambda s: s.update(model="ParetoNBD"), r"holds a ParetoNBD model, not BetaGeo"),
    ],
)
def test_each_field_is_checked(
    bgf: BetaGeoFitter,
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        _load(tmp_path, _edited(bgf, edit))


def test_text_that_is_not_a_json_object_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read model: the text is not JSON"):
        _load(tmp_path, '{"format": "retentionkit-model",')
    with pytest.raises(ValueError, match="expected a JSON object, got list"):
        _load(tmp_path, "[1, 2]")


def test_a_byte_order_mark_is_accepted(bgf: BetaGeoFitter, tmp_path: Path) -> None:
    loaded = _load(tmp_path, bgf._model_json(), encoding="utf-8-sig")
    assert (tmp_path / "model.json").read_bytes().startswith(b"\xef\xbb\xbf")
    assert loaded.params_.equals(bgf.params_)
    # ... and in text given to the state directly (a pickle of such text).
    state = bgf.__getstate__()
    state["model"] = "\ufeff" + state["model"]
    fitter = BetaGeoFitter.__new__(BetaGeoFitter)
    fitter.__setstate__(state)
    assert fitter.params_.equals(bgf.params_)


def test_the_time_unit_survives_the_checks(tmp_path: Path) -> None:
    fitter = ParetoNBDFitter()
    fitter.params_ = [0.55, 10.6, 0.61, 11.7]
    fitter.time_unit_ = "W"
    fitter.save_model(tmp_path / "m.json")
    assert ParetoNBDFitter.load_model(tmp_path / "m.json").time_unit_ == "W"


def test_a_model_without_fit_statistics_still_loads(tmp_path: Path) -> None:
    fitter = GammaGammaFitter()
    fitter.params_ = [6.25, 3.74, 15.44]
    fitter.save_model(tmp_path / "gg.json")
    assert GammaGammaFitter.load_model(tmp_path / "gg.json").params_.equals(fitter.params_)
