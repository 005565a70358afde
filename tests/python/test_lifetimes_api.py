"""The drop-in claim, machine-checked against lifetimes 0.11.3's public API.

``tests/fixtures/lifetimes_0_11_3_api.json`` lists every public name of
lifetimes 0.11.3 (fitters with their methods, ``utils``, ``plotting``,
``generate_data``, ``datasets``) with its parameters; ``scripts/lifetimes_api.py`` wrote it.
Every name there exists here, under the same module path, and accepts every
keyword lifetimes' version accepts, in lifetimes' positional order, unless it is
in ``NOT_PROVIDED`` below with the reason (the same list is in
``docs/lifetimes.md``). Entries of ``NOT_PROVIDED`` must really be absent, so the
list cannot go stale either.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
API = json.loads((ROOT / "tests" / "fixtures" / "lifetimes_0_11_3_api.json").read_text())
DOC = (ROOT / "docs" / "lifetimes.md").read_text(encoding="utf-8")

#: lifetimes module -> ours.
MODULES = {
    "lifetimes": "retentionkit",
    "lifetimes.fitters": "retentionkit.fitters",
    "lifetimes.utils": "retentionkit.utils",
    "lifetimes.plotting": "retentionkit.plotting",
    "lifetimes.generate_data": "retentionkit.generate_data",
    "lifetimes.datasets": "retentionkit.datasets",
}

_SCIPY = "options of scipy.optimize.minimize, which the core's Newton optimiser does not use"

#: What we deliberately do not provide: ``module.Name[.member][(keyword)]`` -> reason.
#: ``(**kwargs)`` stands for a catch-all of further keywords.
NOT_PROVIDED = {
    "lifetimes.BetaGeoFitter.fit(**kwargs)": _SCIPY,
    "lifetimes.ModifiedBetaGeoFitter.fit(**kwargs)": _SCIPY,
    "lifetimes.ParetoNBDFitter.fit(**kwargs)": _SCIPY,
    "lifetimes.BetaGeoBetaBinomFitter.fit(**kwargs)": _SCIPY,
    "lifetimes.GammaGammaFitter.fit(**kwargs)": _SCIPY,
    "lifetimes.fitters.BaseFitter.__init__(**kwargs)": "BaseFitter takes penalizer_coef only",
    "lifetimes.generate_data.beta_geometric_nbd_model_transactional_data": (
        "a simulated transaction log: not provided; simulate summaries with "
        "beta_geometric_nbd_model"
    ),
    "lifetimes.datasets.load_transaction_data(**kwargs)": (
        "a different data set (the CDNOW sample log), read with fixed options"
    ),
}

_PASSED_BY_NAME = ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")


def _entries() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(key, our module, attribute path, lifetimes' description) of every name."""
    out = []
    for module, names in API["modules"].items():
        for name, spec in names.items():
            out.append((f"{module}.{name}", MODULES[module], name, spec))
            if spec["type"] == "class":
                init = {"type": "method", "parameters": spec["parameters"]}
                out.append((f"{module}.{name}.__init__", MODULES[module], f"{name}.__init__", init))
                for member, mspec in spec["members"].items():
                    out.append(
                        (f"{module}.{name}.{member}", MODULES[module], f"{name}.{member}", mspec)
                    )
    return out


ENTRIES = _entries()


def _resolve(module: str, path: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in path.split("."):
        if not hasattr(obj, part):
            return None
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(("key", "module", "path", "spec"), ENTRIES, ids=[e[0] for e in ENTRIES])
def test_every_lifetimes_name_exists_and_takes_its_keywords(
    key: str, module: str, path: str, spec: dict[str, Any]
) -> None:
    ours = _resolve(module, path)
    if key in NOT_PROVIDED:
        assert ours is None, f"{key} exists now: remove it from NOT_PROVIDED and the docs"
        return
    assert ours is not None, f"lifetimes has {key}; retentionkit.{path} is missing"
    if spec["type"] == "property":
        assert isinstance(
            inspect.getattr_static(_resolve(module, path.split(".")[0]), path.split(".")[1]),
            property,
        )
        return
    if spec["type"] == "class" or "parameters" not in spec:
        return  # a class's constructor is checked as its entry ``.__init__``
    params = inspect.signature(ours).parameters
    theirs = spec["parameters"]
    for p in theirs:
        name = p["name"]
        omitted = NOT_PROVIDED.get(f"{key}({name})")
        if p["kind"] == "VAR_POSITIONAL":
            continue  # lifetimes' BaseFitter(*args): nothing a caller names
        if p["kind"] == "VAR_KEYWORD":
            omitted = NOT_PROVIDED.get(f"{key}(**{name})")
            catch_all = any(q.kind is inspect.Parameter.VAR_KEYWORD for q in params.values())
            assert catch_all != bool(omitted), (
                f"{key}: **{name} is {'listed as not provided' if omitted else 'missing'}"
            )
            continue
        if omitted:
            assert name not in params, f"{key}({name}) exists now: update NOT_PROVIDED"
            continue
        assert name in params, f"{key} does not accept lifetimes' keyword {name!r}"
        assert params[name].kind.name in _PASSED_BY_NAME, f"{key}: {name} cannot be passed by name"
    # lifetimes' positional order, up to the first keyword we do not provide.
    positional = []
    for p in theirs:
        if p["kind"] != "POSITIONAL_OR_KEYWORD" or f"{key}({p['name']})" in NOT_PROVIDED:
            break
        positional.append(p["name"])
    ours_positional = [
        n for n, q in params.items() if n != "self" and q.kind.name == "POSITIONAL_OR_KEYWORD"
    ]
    assert ours_positional[: len(positional)] == positional, (
        f"{key}: lifetimes' positional order is {positional}, ours {ours_positional}"
    )


def test_the_reasons_are_in_the_docs() -> None:
    """Each name we do not provide is named in docs/lifetimes.md."""
    for key in NOT_PROVIDED:
        name = re.sub(r"\(\*\*kwargs\)$", "", key).split(".")[-1]
        name = re.sub(r"^(\w+)\((\w+)\)$", r"\2", name)
        if name in ("fit", "__init__"):
            continue  # the **kwargs rows: one paragraph covers them
        assert name in DOC, f"docs/lifetimes.md does not mention {name} ({key})"


def test_every_lifetimes_name_is_in_the_docs() -> None:
    for module, names in API["modules"].items():
        for name, spec in names.items():
            assert f"`{name}`" in DOC, f"docs/lifetimes.md does not list {module}.{name}"
            for member in spec.get("members", {}):
                assert f"`{member}`" in DOC, f"docs/lifetimes.md does not list {name}.{member}"


def test_keywords_without_effect_change_nothing(cdnow: Any, tmp_path: Path) -> None:
    """lifetimes' optimiser keywords are accepted and give the same fit."""
    from retentionkit import BetaGeoFitter, ParetoNBDFitter

    data = cdnow.iloc[:600]
    plain = ParetoNBDFitter().fit(data["frequency"], data["recency"], data["T"])
    other = ParetoNBDFitter().fit(
        data["frequency"],
        data["recency"],
        data["T"],
        iterative_fitting=3,
        fit_method="BFGS",
        maxiter=5,
    )
    assert other.params_.to_dict() == plain.params_.to_dict()
    # lifetimes' positional order: weights, iterative_fitting, initial_params.
    positional = ParetoNBDFitter().fit(data["frequency"], data["recency"], data["T"], None, 2)
    assert positional.params_.to_dict() == plain.params_.to_dict()

    path = tmp_path / "model.json"
    plain.save_model(path, save_data=False, save_generate_data_method=False, values_to_save=[None])
    assert ParetoNBDFitter.load_model(path).params_.to_dict() == plain.params_.to_dict()
    bgf = BetaGeoFitter().fit(data)
    bgf.save_model(path, True, True, None)
    assert BetaGeoFitter().load_model(path).params_.to_dict() == bgf.params_.to_dict()
