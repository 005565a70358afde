"""Type stubs for the native module ``retentionkit._core`` (built from ``src/python/``).

The native layer is deliberately thin: it takes contiguous float64 numpy arrays of
equal length (the pandas layer broadcasts and converts), releases the GIL for all
heavy work and returns numpy arrays. Invalid input raises ``InvalidDataError``
naming the rule and the first offending row (also as attributes); a fit that does
not converge raises ``ConvergenceError``; both are ``ValueError`` subclasses.
"""

from typing import Any, Callable, Optional, Sequence, final

import numpy as np
import numpy.typing as npt

_FloatArray = npt.NDArray[np.float64]

__all__ = [
    "BetaGeoCovariatesModel",
    "BetaDiscreteWeibullCovariatesModel",
    "ShiftedBetaGeometricCovariatesModel",
    "GammaGammaCovariatesModel",
    "ModifiedBetaGeoCovariatesModel",
    "ParetoNBDCovariatesModel",
    "GGomNBDCovariatesModel",
    "__version__",
    "ConvergenceError",
    "InvalidDataError",
    "BetaGeoModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "GGomNBDModel",
    "BetaGeoBetaBinomModel",
    "GammaGammaModel",
    "customer_lifetime_value",
    "periods_per_month",
    "spend_frequency_correlation",
    "customer_lifetime_value_continuous",
    "customer_lifetime_value_interval",
    "customer_lifetime_value_interval_covariates",
    "ShiftedBetaGeometricModel",
    "BetaDiscreteWeibullModel",
    "factorize_int64",
    "summarize_transactions",
    "summarize_transactions_litt",
    "MBGCNBDkModel",
    "calibration_and_holdout",
    "_panic_for_tests",
    "TimeVaryingPanel",
    "TimeVaryingParetoNBDModel",
]

__version__: str

class ConvergenceError(ValueError):
    """The optimiser did not converge (a ValueError, as in lifetimes)."""

    reason: Optional[str]
    """"not converged" or "not identified"."""

class InvalidDataError(ValueError):
    """Input data break a validity rule (a ValueError); None where not applicable."""

    rule: Optional[str]
    row: Optional[int]
    """Zero-based position of the first offending row in the input."""
    label: Any
    """That row's index label; None for a default RangeIndex."""
    column: Optional[str]
    cohort: Optional[int]
    period: Optional[int]

# Private base classes: they do not exist at runtime (each native class has
# these members itself); they keep the stub from repeating them per class.

class _Model:
    """What every fitted model class has: parameters, fit statistics, JSON."""

    PARAM_NAMES: list[str]
    MODEL_NAME: str
    def to_json(self) -> str: ...
    @property
    def params(self) -> _FloatArray: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def log_likelihood(self) -> Optional[float]: ...
    @property
    def covariance(self) -> Optional[_FloatArray]: ...
    @property
    def iterations(self) -> Optional[int]: ...
    @property
    def converged(self) -> Optional[bool]: ...
    @property
    def n_customers(self) -> Optional[float]: ...
    @property
    def n_unique(self) -> Optional[int]: ...
    @property
    def penalizer_coef(self) -> float: ...
    @property
    def fit_warnings(self) -> list[str]: ...

class _TransactionPredictions(_Model):
    """The predictions from (x, t_x, T) of every transaction model, DERT and the intervals."""

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: _FloatArray, frequency: _FloatArray, recency: _FloatArray, T: _FloatArray
    ) -> _FloatArray: ...
    def conditional_probability_alive(
        self, frequency: _FloatArray, recency: _FloatArray, T: _FloatArray
    ) -> _FloatArray: ...
    def expected_number_of_purchases_up_to_time(self, t: _FloatArray) -> _FloatArray: ...
    def probability_of_n_purchases_up_to_time(
        self, t: _FloatArray, n: _FloatArray
    ) -> _FloatArray: ...
    def discounted_expected_residual_transactions(
        self,
        discount_rate: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
    ) -> _FloatArray:
        """DERT(delta | x, t_x, T), Fader, Hardie & Lee (2005, JMR)."""
    def conditional_expected_number_of_purchases_up_to_time_interval(
        self,
        t: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray]:
        """(estimate, lower, upper) over parameter draws."""
    def conditional_probability_alive_interval(
        self,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray]:
        """(estimate, lower, upper) over parameter draws."""
    def discounted_expected_residual_transactions_interval(
        self,
        discount_rate: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray]:
        """(estimate, lower, upper) over parameter draws."""

class _TransactionModel(_TransactionPredictions):
    """The (x, t_x, T) transaction models: BG/NBD, MBG/NBD, Pareto/NBD and GGom/NBD."""

    def log_likelihood_of(
        self,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        weights: Optional[_FloatArray] = None,
    ) -> float: ...
    def individual_log_likelihood(
        self, frequency: _FloatArray, recency: _FloatArray, T: _FloatArray
    ) -> _FloatArray: ...
    def simulate(
        self, T: _FloatArray, seed: int
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray]:
        """Draw customers: returns (frequency, recency, T, lambda, p, alive)."""

class _ContractualModel(_Model):
    """The contractual retention models: sBG and BdW."""

    def survival(self, t: _FloatArray) -> _FloatArray:
        """S(t) = P(T > t) for non-negative integer t."""
    def retention_rate(self, t: _FloatArray) -> _FloatArray:
        """r(t) = S(t)/S(t-1) for integer t >= 1."""
    def probability_of_churn_at(self, t: _FloatArray) -> _FloatArray:
        """P(T = t) for integer t >= 1."""
    def expected_lifetime(self) -> float:
        """E[T], inf when the mean does not exist."""
    def discounted_expected_lifetime(self, discount_rate: _FloatArray) -> _FloatArray:
        """DEL(d), Fader & Hardie (2010)."""
    def discounted_expected_residual_lifetime(
        self, n_renewals: _FloatArray, discount_rate: _FloatArray
    ) -> _FloatArray:
        """DERL(d, n), Fader & Hardie (2010) eq. (6)."""
    def simulate(
        self, n_periods: _FloatArray, seed: int
    ) -> tuple[_FloatArray, npt.NDArray[np.bool_], _FloatArray]:
        """Draw customers: returns (duration, churned, theta)."""
    # Subscriber level (issue 15).
    def subscriber_prediction(
        self, what: str, periods: _FloatArray, extra: Optional[_FloatArray] = None
    ) -> _FloatArray:
        """renewal, survival (extra = k), residual_lifetime, discounted_residual_lifetime."""
    def subscriber_prediction_interval(
        self,
        what: str,
        periods: _FloatArray,
        extra: Optional[_FloatArray] = None,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray]: ...

@final
class BetaGeoModel(_TransactionModel):
    """BG/NBD (Fader, Hardie & Lee 2005) with parameters (r, alpha, a, b)."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "BetaGeoModel": ...
    @staticmethod
    def from_params(params: Sequence[float]) -> "BetaGeoModel": ...
    @staticmethod
    def from_json(text: str) -> "BetaGeoModel": ...

@final
class ModifiedBetaGeoModel(_TransactionModel):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007) with parameters (r, alpha, a, b)."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ModifiedBetaGeoModel": ...
    @staticmethod
    def from_params(params: Sequence[float]) -> "ModifiedBetaGeoModel": ...
    @staticmethod
    def from_json(text: str) -> "ModifiedBetaGeoModel": ...

@final
class MBGCNBDkModel(_TransactionPredictions):
    """MBG/CNBD-k (Platzer & Reutterer 2016) with parameters (r, alpha, a, b) and k."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        litt: _FloatArray,
        weights: Optional[_FloatArray] = None,
        k: Optional[float] = None,
        max_k: float = 12.0,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "MBGCNBDkModel": ...
    @staticmethod
    def from_params(params: Sequence[float], k: float = 1.0) -> "MBGCNBDkModel": ...
    @staticmethod
    def from_json(text: str) -> "MBGCNBDkModel": ...
    def with_k(self, k: float) -> "MBGCNBDkModel": ...
    @property
    def k(self) -> int: ...
    @property
    def k_profile(self) -> list[tuple[int, float]]: ...
    def individual_log_likelihood(
        self, frequency: _FloatArray, recency: _FloatArray, T: _FloatArray, litt: _FloatArray
    ) -> _FloatArray: ...
    def simulate(
        self, ages: _FloatArray, seed: int
    ) -> tuple[
        tuple[_FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray],
        _FloatArray,
    ]:
        """Draw customers: ((frequency, recency, T, lambda, p, alive), litt)."""

@final
class GGomNBDModel(_TransactionModel):
    """GGom/NBD (Bemmaor & Glady 2012) with parameters (r, alpha, b, s, beta)."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "GGomNBDModel": ...
    @staticmethod
    def from_params(params: Sequence[float]) -> "GGomNBDModel": ...
    @staticmethod
    def from_json(text: str) -> "GGomNBDModel": ...
    def conditional_probability_of_n_purchases_up_to_time(
        self,
        n: _FloatArray,
        t: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
    ) -> _FloatArray: ...

@final
class ParetoNBDModel(_TransactionModel):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987) with parameters (r, alpha, s, beta)."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ParetoNBDModel": ...
    @staticmethod
    def from_params(params: Sequence[float]) -> "ParetoNBDModel": ...
    @staticmethod
    def from_json(text: str) -> "ParetoNBDModel": ...
    def conditional_probability_of_n_purchases_up_to_time(
        self,
        n: _FloatArray,
        t: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
    ) -> _FloatArray: ...

@final
class BetaGeoBetaBinomModel(_Model):
    """BG/BB (Fader, Hardie & Shang 2010) with parameters (alpha, beta, gamma, delta)."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        recency: _FloatArray,
        n_periods: _FloatArray,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "BetaGeoBetaBinomModel": ...
    @staticmethod
    def from_params(params: Sequence[float]) -> "BetaGeoBetaBinomModel": ...
    @staticmethod
    def from_json(text: str) -> "BetaGeoBetaBinomModel": ...
    def individual_log_likelihood(
        self, frequency: _FloatArray, recency: _FloatArray, n_periods: _FloatArray
    ) -> _FloatArray: ...
    def conditional_probability_alive(
        self,
        m_periods_in_future: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        n_periods: _FloatArray,
    ) -> _FloatArray:
        """P(alive at opportunity n + m | x, t_x, n), FHS (2010) eq. (11) for m = 1."""
    def conditional_expected_number_of_purchases_up_to_time(
        self,
        m_periods_in_future: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        n_periods: _FloatArray,
    ) -> _FloatArray:
        """E[transactions in opportunities n+1..n+m | x, t_x, n], FHS (2010) eq. (13)."""
    def expected_number_of_transactions(self, n_periods: _FloatArray) -> _FloatArray:
        """E[X(n)] for a new customer, FHS (2010) eq. (8)."""
    def probability_of_n_transactions(self, x: _FloatArray, n_periods: _FloatArray) -> _FloatArray:
        """P(X(n) = x) for a new customer, FHS (2010) eq. (7)."""
    def simulate(
        self, n_periods: _FloatArray, seed: int
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray]:
        """Draw customers: returns (frequency, recency, n_periods, p, theta, alive)."""

@final
class GammaGammaModel(_Model):
    """Gamma-Gamma spend model (Fader & Hardie 2013; Colombo & Jiang 1999) with parameters (p, q, v)."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        monetary_value: _FloatArray,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
        exclude_zero_frequency: bool = False,
    ) -> "GammaGammaModel": ...
    @staticmethod
    def from_params(params: Sequence[float]) -> "GammaGammaModel": ...
    @staticmethod
    def from_json(text: str) -> "GammaGammaModel": ...
    def individual_log_likelihood(
        self, frequency: _FloatArray, monetary_value: _FloatArray
    ) -> _FloatArray:
        """ln f(m_x | x) of each customer, Fader & Hardie (2013) eq. (1a)."""
    def conditional_expected_average_profit(
        self, frequency: _FloatArray, monetary_value: _FloatArray
    ) -> _FloatArray:
        """E[M | x, m_x], Fader & Hardie (2013) eq. (5)."""
    def expected_average_profit(self) -> float:
        """E[M] = p v / (q - 1), Fader & Hardie (2013) eq. (4)."""
    def simulate_spend(self, frequency: _FloatArray, seed: int) -> _FloatArray:
        """Mean spend of customers with the given numbers of repeat transactions."""

def customer_lifetime_value(
    transaction_model: BetaGeoModel
    | ModifiedBetaGeoModel
    | ParetoNBDModel
    | GGomNBDModel
    | MBGCNBDkModel,
    frequency: _FloatArray,
    recency: _FloatArray,
    T: _FloatArray,
    monetary_value: _FloatArray,
    time: float = 12.0,
    discount_rate: float = 0.01,
    freq: str = "D",
) -> _FloatArray:
    """Discounted expected spend over `time` months, as lifetimes' `_customer_lifetime_value`."""

def customer_lifetime_value_continuous(
    transaction_model: BetaGeoModel
    | ModifiedBetaGeoModel
    | ParetoNBDModel
    | GGomNBDModel
    | MBGCNBDkModel,
    frequency: _FloatArray,
    recency: _FloatArray,
    T: _FloatArray,
    monetary_value: _FloatArray,
    discount_rate: float,
) -> _FloatArray:
    """Value of the whole remaining lifetime at the continuous rate per time unit: m x DERT."""

def customer_lifetime_value_interval(
    transaction_model: BetaGeoModel
    | ModifiedBetaGeoModel
    | ParetoNBDModel
    | GGomNBDModel
    | MBGCNBDkModel,
    spend_model: GammaGammaModel,
    frequency: _FloatArray,
    recency: _FloatArray,
    T: _FloatArray,
    monetary_value: _FloatArray,
    time: Optional[float] = 12.0,
    discount_rate: float = 0.01,
    freq: str = "D",
    discounting: str = "discrete",
    level: float = 0.95,
    n_draws: int = 200,
    seed: int = 0,
) -> tuple[_FloatArray, _FloatArray, _FloatArray]:
    """CLV (estimate, lower, upper) over independent draws of both models' parameters."""

def periods_per_month(freq: str) -> float:
    """Time units per month of the ``freq`` code (the CLV's factor table)."""

def spend_frequency_correlation(
    frequency: _FloatArray,
    monetary_value: _FloatArray,
    weights: Optional[_FloatArray] = None,
) -> float:
    """Weighted Pearson correlation of frequency and spend over the repeat customers."""

@final
class ShiftedBetaGeometricModel(_ContractualModel):
    """sBG (Fader & Hardie 2007) with parameters (alpha, beta)."""

    @staticmethod
    def fit_cohorts(
        cohorts: Sequence[Sequence[float]],
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ShiftedBetaGeometricModel":
        """Fit to cohorts' survivor counts (customers active at the start of periods 0..k)."""
    @staticmethod
    def fit_durations(
        durations: _FloatArray,
        churned: npt.NDArray[np.bool_],
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ShiftedBetaGeometricModel":
        """Fit to per-customer (duration, churned) records."""
    @staticmethod
    def fit_subscribers(
        periods: _FloatArray,
        churned: npt.NDArray[np.bool_],
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ShiftedBetaGeometricModel":
        """Fit to per-subscriber (periods, churned); active subscribers may have 0."""
    @staticmethod
    def from_params(params: Sequence[float]) -> "ShiftedBetaGeometricModel": ...
    @staticmethod
    def from_json(text: str) -> "ShiftedBetaGeometricModel": ...

@final
class BetaDiscreteWeibullModel(_ContractualModel):
    """BdW (Fader, Hardie, Liu, Davin & Steenburgh 2018) with parameters (alpha, beta, c)."""

    @staticmethod
    def fit_cohorts(
        cohorts: Sequence[Sequence[float]],
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "BetaDiscreteWeibullModel":
        """Fit to cohorts' survivor counts (customers active at the start of periods 0..k)."""
    @staticmethod
    def fit_durations(
        durations: _FloatArray,
        churned: npt.NDArray[np.bool_],
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "BetaDiscreteWeibullModel":
        """Fit to per-customer (duration, churned) records."""
    @staticmethod
    def fit_subscribers(
        periods: _FloatArray,
        churned: npt.NDArray[np.bool_],
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "BetaDiscreteWeibullModel":
        """Fit to per-subscriber (periods, churned); active subscribers may have 0."""
    @staticmethod
    def from_params(params: Sequence[float]) -> "BetaDiscreteWeibullModel": ...
    @staticmethod
    def from_json(text: str) -> "BetaDiscreteWeibullModel": ...

# Transaction log -> customer summaries (src/python/summary.rs). Customers are
# int64 codes 0..n-1 (factorised ids), times int64 period ordinals (or any
# integer clock with ``period`` its period length).

def factorize_int64(
    ids: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """Dense codes of the ids in sorted id order, and the distinct ids (increasing)."""

def summarize_transactions(
    customers: npt.NDArray[np.uint32] | npt.NDArray[np.int64],
    times: npt.NDArray[np.int64],
    observation_end: int,
    amounts: Optional[_FloatArray] = None,
    period: int = 1,
    freq_multiplier: float = 1.0,
    include_first_transaction: bool = False,
) -> tuple[npt.NDArray[np.uintp], _FloatArray, _FloatArray, _FloatArray, Optional[_FloatArray]]:
    """Per-customer (customer code, frequency, recency, T, monetary value or None)."""

def summarize_transactions_litt(
    customers: npt.NDArray[np.uint32] | npt.NDArray[np.int64],
    times: npt.NDArray[np.int64],
    observation_end: int,
    amounts: Optional[_FloatArray] = None,
    period: int = 1,
    freq_multiplier: float = 1.0,
    include_first_transaction: bool = False,
) -> tuple[
    tuple[npt.NDArray[np.uintp], _FloatArray, _FloatArray, _FloatArray, Optional[_FloatArray]],
    _FloatArray,
]:
    """summarize_transactions plus litt, the sum of the logs of the inter-purchase times."""

def calibration_and_holdout(
    customers: npt.NDArray[np.uint32] | npt.NDArray[np.int64],
    times: npt.NDArray[np.int64],
    calibration_end: int,
    observation_end: int,
    holdout: Optional[npt.NDArray[np.bool_]] = None,
    amounts: Optional[_FloatArray] = None,
    period: int = 1,
    freq_multiplier: float = 1.0,
    include_first_transaction: bool = False,
) -> tuple[
    tuple[npt.NDArray[np.uintp], _FloatArray, _FloatArray, _FloatArray, Optional[_FloatArray]],
    _FloatArray,
    Optional[_FloatArray],
    float,
]:
    """((customer, frequency_cal, recency_cal, T_cal, monetary_value_cal or None),
    frequency_holdout, monetary_value_holdout or None, duration_holdout)."""

class _CovariateModelBase:
    """The surface every model with time-invariant covariates shares."""

    MODEL_NAME: str
    PROCESSES: list[str]
    BASE_PARAM_NAMES: list[str]
    def to_json(self) -> str: ...
    @property
    def params(self) -> _FloatArray: ...
    @property
    def param_names(self) -> list[str]: ...
    @property
    def columns(self) -> list[str]: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def log_likelihood(self) -> Optional[float]: ...
    @property
    def covariance(self) -> Optional[_FloatArray]: ...
    @property
    def iterations(self) -> Optional[int]: ...
    @property
    def converged(self) -> Optional[bool]: ...
    @property
    def n_customers(self) -> Optional[float]: ...
    @property
    def fit_warnings(self) -> list[str]: ...
    @staticmethod
    def coefficient_names_of(
        columns: Sequence[str], by_process: Sequence[Sequence[int]], shared: Sequence[int]
    ) -> list[str]: ...

class _CovariateModel(_CovariateModelBase):
    """A transaction model with time-invariant covariates (retentionkit.models.covariates)."""

    @staticmethod
    def partial_sums(
        params: Sequence[float],
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        weights: Optional[_FloatArray] = None,
        order: int = 2,
    ) -> tuple[float, _FloatArray, _FloatArray]: ...
    def conditional_probability_alive(
        self,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
    ) -> _FloatArray: ...
    def conditional_expected_number_of_purchases_up_to_time(
        self,
        t: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
    ) -> _FloatArray: ...
    def expected_number_of_purchases_up_to_time(
        self, t: _FloatArray, covariates: _FloatArray
    ) -> _FloatArray: ...
    def probability_of_n_purchases_up_to_time(
        self, t: _FloatArray, n: _FloatArray, covariates: _FloatArray
    ) -> _FloatArray: ...
    def individual_log_likelihood(
        self,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
    ) -> _FloatArray: ...
    def discounted_expected_residual_transactions(
        self,
        discount_rate: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
    ) -> _FloatArray: ...
    def customer_lifetime_value(
        self,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        monetary_value: _FloatArray,
        covariates: _FloatArray,
        time: float = 12.0,
        discount_rate: float = 0.01,
        freq: str = "D",
    ) -> _FloatArray: ...
    def customer_lifetime_value_continuous(
        self,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        monetary_value: _FloatArray,
        covariates: _FloatArray,
        discount_rate: float,
    ) -> _FloatArray: ...
    def simulate(
        self, T: _FloatArray, covariates: _FloatArray, seed: int
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray]: ...
    def conditional_expected_number_of_purchases_up_to_time_interval(
        self,
        t: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray]: ...
    def conditional_probability_alive_interval(
        self,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray]: ...
    def discounted_expected_residual_transactions_interval(
        self,
        discount_rate: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray]: ...

@final
class ParetoNBDCovariatesModel(_CovariateModel):
    """Pareto/NBD with time-invariant covariates: alpha_i = alpha exp(-purchase'z_i), beta_i = beta exp(-dropout'z_i)."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        penalties: Optional[Sequence[float]] = None,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ParetoNBDCovariatesModel": ...
    @staticmethod
    def from_params(
        params: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
    ) -> "ParetoNBDCovariatesModel": ...
    @staticmethod
    def from_json(text: str) -> "ParetoNBDCovariatesModel": ...
    @staticmethod
    def fit_partitioned(
        sums: Callable[[_FloatArray, int], tuple[float, _FloatArray, _FloatArray]],
        start: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        n_customers: float,
        n_rows: int,
        penalties: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ParetoNBDCovariatesModel": ...
    def conditional_probability_of_n_purchases_up_to_time(
        self,
        n: _FloatArray,
        t: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
    ) -> _FloatArray: ...

@final
class GGomNBDCovariatesModel(_CovariateModel):
    """GGom/NBD with time-invariant covariates: alpha_i = alpha exp(-purchase'z_i), beta_i = beta exp(-dropout'z_i)."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        penalties: Optional[Sequence[float]] = None,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "GGomNBDCovariatesModel": ...
    @staticmethod
    def from_params(
        params: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
    ) -> "GGomNBDCovariatesModel": ...
    @staticmethod
    def from_json(text: str) -> "GGomNBDCovariatesModel": ...
    @staticmethod
    def fit_partitioned(
        sums: Callable[[_FloatArray, int], tuple[float, _FloatArray, _FloatArray]],
        start: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        n_customers: float,
        n_rows: int,
        penalties: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "GGomNBDCovariatesModel": ...
    def conditional_probability_of_n_purchases_up_to_time(
        self,
        n: _FloatArray,
        t: _FloatArray,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
    ) -> _FloatArray: ...

@final
class BetaGeoCovariatesModel(_CovariateModel):
    """BG/NBD with time-invariant covariates: alpha_i = alpha exp(-purchase'z_i), a_i = a exp(dropout_a'z_i), b_i = b exp(dropout_b'z_i)."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        penalties: Optional[Sequence[float]] = None,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "BetaGeoCovariatesModel": ...
    @staticmethod
    def from_params(
        params: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
    ) -> "BetaGeoCovariatesModel": ...
    @staticmethod
    def from_json(text: str) -> "BetaGeoCovariatesModel": ...
    @staticmethod
    def fit_partitioned(
        sums: Callable[[_FloatArray, int], tuple[float, _FloatArray, _FloatArray]],
        start: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        n_customers: float,
        n_rows: int,
        penalties: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "BetaGeoCovariatesModel": ...

@final
class ModifiedBetaGeoCovariatesModel(_CovariateModel):
    """MBG/NBD with time-invariant covariates: alpha_i = alpha exp(-purchase'z_i), a_i = a exp(dropout_a'z_i), b_i = b exp(dropout_b'z_i)."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        covariates: _FloatArray,
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        penalties: Optional[Sequence[float]] = None,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ModifiedBetaGeoCovariatesModel": ...
    @staticmethod
    def from_params(
        params: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
    ) -> "ModifiedBetaGeoCovariatesModel": ...
    @staticmethod
    def from_json(text: str) -> "ModifiedBetaGeoCovariatesModel": ...
    @staticmethod
    def fit_partitioned(
        sums: Callable[[_FloatArray, int], tuple[float, _FloatArray, _FloatArray]],
        start: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        n_customers: float,
        n_rows: int,
        penalties: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ModifiedBetaGeoCovariatesModel": ...

@final
class GammaGammaCovariatesModel(_CovariateModelBase):
    """Gamma-Gamma spend with time-invariant covariates: nu_i = nu exp(-spend'z_i), i.e. v_i = v exp(spend'z_i); a positive coefficient raises expected spend."""

    @staticmethod
    def fit(
        frequency: _FloatArray,
        monetary_value: _FloatArray,
        covariates: _FloatArray,
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        penalties: Optional[Sequence[float]] = None,
        weights: Optional[_FloatArray] = None,
        exclude_zero: bool = False,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "GammaGammaCovariatesModel": ...
    @staticmethod
    def from_params(
        params: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
    ) -> "GammaGammaCovariatesModel": ...
    @staticmethod
    def from_json(text: str) -> "GammaGammaCovariatesModel": ...
    def conditional_expected_average_profit(
        self, frequency: _FloatArray, monetary_value: _FloatArray, covariates: _FloatArray
    ) -> _FloatArray: ...
    def expected_average_profit(self, covariates: _FloatArray) -> _FloatArray: ...
    def individual_log_likelihood(
        self, frequency: _FloatArray, monetary_value: _FloatArray, covariates: _FloatArray
    ) -> _FloatArray: ...

def customer_lifetime_value_interval_covariates(
    transaction_model: BetaGeoModel
    | ModifiedBetaGeoModel
    | ParetoNBDModel
    | BetaGeoCovariatesModel
    | ModifiedBetaGeoCovariatesModel
    | ParetoNBDCovariatesModel
    | GGomNBDModel
    | GGomNBDCovariatesModel,
    spend_model: GammaGammaModel | GammaGammaCovariatesModel,
    frequency: _FloatArray,
    recency: _FloatArray,
    T: _FloatArray,
    monetary_value: _FloatArray,
    transaction_covariates: Optional[_FloatArray] = None,
    spend_covariates: Optional[_FloatArray] = None,
    time: Optional[float] = 12.0,
    discount_rate: float = 0.01,
    freq: str = "D",
    discounting: str = "discrete",
    level: float = 0.95,
    n_draws: int = 200,
    seed: int = 0,
) -> tuple[_FloatArray, _FloatArray, _FloatArray]:
    """CLV (estimate, lower, upper) with either model's covariates (one row per customer)."""

# -- subscriber-level contractual models with covariates (issue 15) ---------------

class _SubscriberCovariateModel(_CovariateModelBase):
    """sBG / BdW per subscriber with covariates: alpha_i = alpha exp(alpha'z_i),
    beta_i = beta exp(beta'z_i)."""

    def subscriber_prediction(
        self,
        what: str,
        periods: _FloatArray,
        extra: Optional[_FloatArray],
        covariates: _FloatArray,
    ) -> _FloatArray: ...
    def subscriber_prediction_interval(
        self,
        what: str,
        periods: _FloatArray,
        extra: Optional[_FloatArray],
        covariates: _FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray]: ...
    def survival(self, t: _FloatArray, covariates: _FloatArray) -> _FloatArray: ...
    def retention_rate(self, t: _FloatArray, covariates: _FloatArray) -> _FloatArray: ...
    def simulate(
        self, n_periods: _FloatArray, covariates: _FloatArray, seed: int
    ) -> tuple[_FloatArray, npt.NDArray[np.bool_], _FloatArray]: ...

@final
class ShiftedBetaGeometricCovariatesModel(_SubscriberCovariateModel):
    @staticmethod
    def fit(
        periods: _FloatArray,
        churned: npt.NDArray[np.bool_],
        covariates: _FloatArray,
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        penalties: Optional[Sequence[float]] = None,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ShiftedBetaGeometricCovariatesModel": ...
    @staticmethod
    def from_params(
        params: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
    ) -> "ShiftedBetaGeometricCovariatesModel": ...
    @staticmethod
    def from_json(text: str) -> "ShiftedBetaGeometricCovariatesModel": ...

@final
class BetaDiscreteWeibullCovariatesModel(_SubscriberCovariateModel):
    @staticmethod
    def fit(
        periods: _FloatArray,
        churned: npt.NDArray[np.bool_],
        covariates: _FloatArray,
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        penalties: Optional[Sequence[float]] = None,
        weights: Optional[_FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "BetaDiscreteWeibullCovariatesModel": ...
    @staticmethod
    def from_params(
        params: Sequence[float],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
    ) -> "BetaDiscreteWeibullCovariatesModel": ...
    @staticmethod
    def from_json(text: str) -> "BetaDiscreteWeibullCovariatesModel": ...

def _panic_for_tests(in_parallel: bool = False) -> None:
    """Panics inside the core (a test hook, not API): raises RuntimeError."""

# -- Pareto/NBD with time-varying covariates (issue 14) ------------------------------

@final
class TimeVaryingPanel:
    """Histories with one row of covariates per customer and period, validated once."""

    def __new__(
        cls,
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        purchase_sums: _FloatArray,
        first_period_start: _FloatArray,
        period_counts: npt.NDArray[np.int64],
        covariates: _FloatArray,
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        penalties: Optional[Sequence[float]] = None,
    ) -> "TimeVaryingPanel": ...
    @staticmethod
    def from_columns(
        frequency: _FloatArray,
        recency: _FloatArray,
        T: _FloatArray,
        purchase_sums: _FloatArray,
        first_period_start: _FloatArray,
        period_counts: npt.NDArray[np.int64],
        column_values: Sequence[_FloatArray],
        rows: Optional[npt.NDArray[np.int64]],
        columns: Sequence[str],
        by_process: Sequence[Sequence[int]],
        shared: Sequence[int],
        penalties: Optional[Sequence[float]] = None,
    ) -> "TimeVaryingPanel": ...
    @property
    def covariates(self) -> _FloatArray: ...
    @property
    def coefficient_names(self) -> list[str]: ...
    def __len__(self) -> int: ...

@final
class TimeVaryingParetoNBDModel:
    """Pareto/NBD with time-varying covariates (Bachmann, Meierer & Naef 2021)."""

    MODEL_NAME: str
    BASE_PARAM_NAMES: list[str]
    PARAM_NAMES: list[str]
    @staticmethod
    def fit(
        panel: TimeVaryingPanel,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "TimeVaryingParetoNBDModel": ...
    @staticmethod
    def from_params(params: dict[str, float]) -> "TimeVaryingParetoNBDModel": ...
    @staticmethod
    def from_json(text: str) -> "TimeVaryingParetoNBDModel": ...
    def to_json(self) -> str: ...
    @property
    def params(self) -> _FloatArray: ...
    @property
    def param_names(self) -> list[str]: ...
    @property
    def columns(self) -> list[str]: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def log_likelihood(self) -> Optional[float]: ...
    @property
    def covariance(self) -> Optional[_FloatArray]: ...
    @property
    def iterations(self) -> Optional[int]: ...
    @property
    def converged(self) -> Optional[bool]: ...
    @property
    def n_customers(self) -> Optional[float]: ...
    @property
    def penalizer_coef(self) -> float: ...
    def individual_log_likelihood(self, panel: TimeVaryingPanel) -> _FloatArray: ...
    def log_likelihood_of(self, panel: TimeVaryingPanel) -> float: ...
    def conditional_probability_alive(self, panel: TimeVaryingPanel) -> _FloatArray: ...
    def conditional_expected_number_of_purchases_up_to_time(
        self, panel: TimeVaryingPanel, t: float
    ) -> _FloatArray: ...
    def discounted_expected_conditional_transactions(
        self, panel: TimeVaryingPanel, t: float, discount_rate: float
    ) -> _FloatArray: ...
    def simulate(
        self,
        first_period_start: _FloatArray,
        period_counts: npt.NDArray[np.int64],
        covariates: _FloatArray,
        T: _FloatArray,
        seed: int,
    ) -> tuple[_FloatArray, _FloatArray, _FloatArray, _FloatArray, _FloatArray]: ...
