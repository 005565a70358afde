"""Each fitter's method docstrings describe its own model, and their formulas are right.

The (x, t_x, T) fitters share their method bodies (TransactionFitter); the
docstrings are templates filled from each model's table. Here: every templated
method of every fitter names its model and its parameters and no other model's;
the bodies stay shared; and the formulas written in the MBG/NBD and Pareto/NBD
docstrings (derived there, not copied from BG/NBD) agree with the core.
"""

from __future__ import annotations

import inspect
import math
import pydoc
import re

import numpy as np
import pytest

from retentionkit import (
    BetaGeoFitter,
    GompertzGammaNBDFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from retentionkit.fitters.transaction_fitter import TransactionFitter

METHODS = (
    "fit",
    "conditional_expected_number_of_purchases_up_to_time",
    "predict",
    "conditional_probability_alive",
    "expected_number_of_purchases_up_to_time",
    "probability_of_n_purchases_up_to_time",
    "individual_log_likelihood",
    "discounted_expected_residual_transactions",
    "generate_new_data",
)

# Model name (as a regex: BG/NBD is not the end of MBG/NBD), what its docstrings
# must contain, and what belongs to another model and must not appear.
MODELS = {
    BetaGeoFitter: (r"(?<!M)BG/NBD", [r"a, b", r"\alpha"], [r"\beta", "b + x + 1", "s - 1"]),
    ModifiedBetaGeoFitter: (r"MBG/NBD", [r"a, b", r"\alpha"], [r"\beta", "b + x - 1", "s - 1"]),
    ParetoNBDFitter: (r"Pareto/NBD", [r"s, \beta", r"\alpha"], ["a, b", "Beta", "b + x"]),
    GompertzGammaNBDFitter: (r"GGom/NBD", [r"s, \beta", r"\alpha"], ["B(a", "b + x", "s - 1"]),
}
NAMES = [r"(?<!M)BG/NBD", r"MBG/NBD", r"Pareto/NBD", r"GGom/NBD"]
TUPLES = {
    BetaGeoFitter: "(r, alpha, a, b)",
    ModifiedBetaGeoFitter: "(r, alpha, a, b)",
    ParetoNBDFitter: "(r, alpha, s, beta)",
    GompertzGammaNBDFitter: "(r, alpha, b, s, beta)",
}


@pytest.mark.parametrize("fitter", list(MODELS), ids=lambda f: f.__name__)
@pytest.mark.parametrize("method", METHODS)
def test_docstring_names_its_own_model_only(fitter: type, method: str) -> None:
    doc = inspect.getdoc(getattr(fitter, method))
    assert doc is not None
    own, needed, foreign = MODELS[fitter]
    assert re.search(own, doc), f"{fitter.__name__}.{method} does not name its model"
    for other in NAMES:
        if other != own:
            assert not re.search(other, doc), f"{fitter.__name__}.{method} names {other}"
    if method not in ("generate_new_data", "discounted_expected_residual_transactions"):
        for text in needed:
            assert text in doc, f"{fitter.__name__}.{method} lacks {text!r}"
    for text in foreign:
        assert text not in doc, f"{fitter.__name__}.{method} shows {text!r}"
    assert "$" not in doc, "an unfilled template field"


@pytest.mark.parametrize("fitter", list(MODELS), ids=lambda f: f.__name__)
def test_help_of_fit_shows_the_parameters(fitter: type) -> None:
    text = pydoc.render_doc(fitter.fit, renderer=pydoc.plaintext)
    assert TUPLES[fitter] in text
    for other in set(TUPLES.values()) - {TUPLES[fitter]}:
        assert other not in text


@pytest.mark.parametrize("fitter", list(MODELS), ids=lambda f: f.__name__)
def test_the_bodies_are_shared(fitter: type) -> None:
    for method in METHODS:
        if method == "fit" and fitter is ParetoNBDFitter:
            continue  # its own signature (lifetimes' keywords), same routine inside
        ours = getattr(fitter, method)
        assert ours.__code__ is getattr(TransactionFitter, method).__code__
        assert inspect.signature(ours) == inspect.signature(getattr(TransactionFitter, method))
    assert fitter.predict is fitter.conditional_expected_number_of_purchases_up_to_time


# -- the formulas in the docstrings, evaluated independently ---------------------------------

mpmath = pytest.importorskip("mpmath", reason="needs mpmath (test extra) to evaluate formulas")

R, ALPHA, A, B = 0.243, 4.414, 0.793, 2.426
S, BETA = 0.606, 11.668


def _nbd(n: int, r: float, alpha: float, t: float) -> float:
    """Gamma(r + n) / (Gamma(r) n!) (alpha / (alpha + t))^r (t / (alpha + t))^n."""
    log = (
        math.lgamma(r + n)
        - math.lgamma(r)
        - math.lgamma(n + 1)
        + r * math.log(alpha / (alpha + t))
        + n * math.log(t / (alpha + t))
    )
    return math.exp(log)


def _beta_ratio(a1: float, b1: float) -> float:
    return float(mpmath.beta(a1, b1) / mpmath.beta(A, B))


def _hyp2f1(a: float, b: float, c: float, z: float) -> float:
    return float(mpmath.hyp2f1(a, b, c, z))


def _quad(f, lo: float, hi: float) -> float:  # type: ignore[no-untyped-def]
    with mpmath.workdps(30):
        return float(mpmath.quad(f, [lo, hi]))


def test_mbgnbd_docstring_formulas() -> None:
    m = ModifiedBetaGeoFitter()
    m.params_ = [R, ALPHA, A, B]
    for t in (0.5, 10.0, 39.0):
        z = t / (ALPHA + t)
        expected = B / (A - 1) * (1 - (ALPHA / (ALPHA + t)) ** R * _hyp2f1(R, B + 1, A + B, z))
        assert m.expected_number_of_purchases_up_to_time(t) == pytest.approx(expected, rel=1e-9)
        pmf = [
            _beta_ratio(A, B + n + 1) * _nbd(n, R, ALPHA, t)
            + _beta_ratio(A + 1, B + n) * (1 - sum(_nbd(j, R, ALPHA, t) for j in range(n)))
            for n in range(6)
        ]
        core = [m.probability_of_n_purchases_up_to_time(t, n) for n in range(6)]
        np.testing.assert_allclose(core, pmf, rtol=1e-9)
    x, tx, T, t = 3.0, 20.0, 38.0, 39.0
    ratio = ((ALPHA + T) / (ALPHA + tx)) ** (R + x)
    alive = 1 / (1 + A / (B + x) * ratio)
    assert m.conditional_probability_alive(x, tx, T) == pytest.approx(alive, rel=1e-9)
    z = t / (ALPHA + T + t)
    head = (A + B + x) / (A - 1)
    tail = ((ALPHA + T) / (ALPHA + T + t)) ** (R + x) * _hyp2f1(R + x, B + x + 1, A + B + x, z)
    conditional = head * (1 - tail) * alive
    got = m.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
    assert got == pytest.approx(conditional, rel=1e-8)


def test_pareto_nbd_docstring_formulas() -> None:
    m = ParetoNBDFitter()
    m.params_ = [R, ALPHA, S, BETA]
    for t in (0.5, 10.0, 39.0):
        expected = R * BETA / (ALPHA * (S - 1)) * (1 - (BETA / (BETA + t)) ** (S - 1))
        assert m.expected_number_of_purchases_up_to_time(t) == pytest.approx(expected, rel=1e-9)
        for n in range(4):
            alive_term = _nbd(n, R, ALPHA, t) * (BETA / (BETA + t)) ** S
            dead_term = _quad(
                lambda tau, n=n: (
                    S
                    * BETA**S
                    / (BETA + tau) ** (S + 1)
                    * mpmath.gamma(R + n)
                    / (mpmath.gamma(R) * mpmath.factorial(n))
                    * (ALPHA / (ALPHA + tau)) ** R
                    * (tau / (ALPHA + tau)) ** n
                ),
                0,
                t,
            )
            got = m.probability_of_n_purchases_up_to_time(t, n)
            assert got == pytest.approx(alive_term + dead_term, rel=1e-8)
    x, tx, T, t = 3.0, 20.0, 38.0, 39.0
    integral = _quad(lambda tau: (ALPHA + tau) ** -(R + x) * (BETA + tau) ** -(S + 1), tx, T)
    c = math.exp(math.lgamma(R + x) - math.lgamma(R)) * ALPHA**R * BETA**S
    e1 = (ALPHA + T) ** -(R + x) * (BETA + T) ** -S
    likelihood = c * (e1 + S * integral)
    assert math.exp(m.individual_log_likelihood(x, tx, T)) == pytest.approx(likelihood, rel=1e-9)
    alive = c * e1 / likelihood
    assert m.conditional_probability_alive(x, tx, T) == pytest.approx(alive, rel=1e-9)
    conditional = (
        (R + x)
        * (BETA + T)
        / ((ALPHA + T) * (S - 1))
        * (1 - ((BETA + T) / (BETA + T + t)) ** (S - 1))
        * alive
    )
    got = m.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
    assert got == pytest.approx(conditional, rel=1e-9)
