"""Simulated customers at given parameters, as ``lifetimes.generate_data`` offers.

Each function builds the model's fitter at the given parameters and calls its
``generate_new_data`` (the simulation runs in the Rust core), so the columns are
those of ``lifetimes``. Unlike ``lifetimes``, which draws from numpy's global
random state, each function takes a ``seed`` (keyword only): the same seed gives
the same customers; without one, a fresh seed is drawn.

``lifetimes``' ``beta_geometric_nbd_model_transactional_data`` (a simulated
transaction log) is not offered; see ``docs/lifetimes.md``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._validation import ArrayLike
from .fitters import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)

__all__ = [
    "beta_geometric_beta_binom_model",
    "beta_geometric_nbd_model",
    "modified_beta_geometric_nbd_model",
    "pareto_nbd_model",
]


def _simulate(fitter: Any, params: list[float], **kwargs: Any) -> pd.DataFrame:
    fitter.params_ = params
    data: pd.DataFrame = fitter.generate_new_data(**kwargs)
    return data


def beta_geometric_nbd_model(
    T: ArrayLike,
    r: float,
    alpha: float,
    a: float,
    b: float,
    size: int = 1,
    *,
    seed: int | None = None,
) -> pd.DataFrame:
    """Customers simulated from BG/NBD with parameters ``(r, alpha, a, b)``.

    See :meth:`retentionkit.BetaGeoFitter.generate_new_data`.

    Parameters
    ----------
    T : float or array_like
        Observation length of each customer (an array gives one per customer).
    r, alpha, a, b : float
        The BG/NBD parameters.
    size : int, default 1
        Number of customers when ``T`` is a scalar.
    seed : int, optional
        Seed of the core's random generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency``, ``recency``, ``T``, ``lambda``, ``p``, ``alive``,
        ``customer_id``.
    """
    return _simulate(BetaGeoFitter(), [r, alpha, a, b], size=size, seed=seed, T=T)


def modified_beta_geometric_nbd_model(
    T: ArrayLike,
    r: float,
    alpha: float,
    a: float,
    b: float,
    size: int = 1,
    *,
    seed: int | None = None,
) -> pd.DataFrame:
    """Customers simulated from MBG/NBD with parameters ``(r, alpha, a, b)``.

    See :meth:`retentionkit.ModifiedBetaGeoFitter.generate_new_data`; the
    arguments and columns are those of :func:`beta_geometric_nbd_model`.
    """
    return _simulate(ModifiedBetaGeoFitter(), [r, alpha, a, b], size=size, seed=seed, T=T)


def pareto_nbd_model(
    T: ArrayLike,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    size: int = 1,
    *,
    seed: int | None = None,
) -> pd.DataFrame:
    """Customers simulated from Pareto/NBD with parameters ``(r, alpha, s, beta)``.

    See :meth:`retentionkit.ParetoNBDFitter.generate_new_data`.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency``, ``recency``, ``T``, ``lambda``, ``mu``, ``alive``,
        ``customer_id``.
    """
    return _simulate(ParetoNBDFitter(), [r, alpha, s, beta], size=size, seed=seed, T=T)


def beta_geometric_beta_binom_model(
    N: ArrayLike,
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
    size: int = 1,
    *,
    seed: int | None = None,
) -> pd.DataFrame:
    """Customers simulated from BG/BB with parameters ``(alpha, beta, gamma, delta)``.

    See :meth:`retentionkit.BetaGeoBetaBinomFitter.generate_new_data`.

    Parameters
    ----------
    N : int or array_like
        Number of transaction opportunities of each customer.
    alpha, beta, gamma, delta : float
        The BG/BB parameters.
    size : int, default 1
        Number of customers when ``N`` is a scalar.
    seed : int, optional
        Seed of the core's random generator.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency``, ``recency``, ``n_periods``, ``p``, ``theta``,
        ``alive``, ``customer_id``.
    """
    return _simulate(
        BetaGeoBetaBinomFitter(),
        [alpha, beta, gamma, delta],
        size=size,
        seed=seed,
        n_periods=N,
    )
