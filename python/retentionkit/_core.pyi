"""Type stubs for the native module ``retentionkit._core`` (built from ``src/python.rs``).

The native layer is deliberately thin: it takes contiguous float64 numpy arrays of
equal length (the pandas layer broadcasts and converts), releases the GIL for all
heavy work and returns numpy arrays. Invalid input raises ``ValueError`` naming
the rule and the first offending row; a fit that does not converge raises
``ConvergenceError`` (a ``ValueError`` subclass).
"""

from typing import Optional, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

__version__: str

class ConvergenceError(ValueError): ...

class BetaGeoModel:
    """BG/NBD (Fader, Hardie & Lee 2005) with parameters (r, alpha, a, b)."""

    PARAM_NAMES: list[str]
    MODEL_NAME: str
    @staticmethod
    def fit(
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        weights: Optional[FloatArray] = None,
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
    def to_json(self) -> str: ...
    @property
    def params(self) -> FloatArray: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def log_likelihood(self) -> Optional[float]: ...
    @property
    def covariance(self) -> Optional[FloatArray]: ...
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
    def log_likelihood_of(
        self,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        weights: Optional[FloatArray] = None,
    ) -> float: ...
    def individual_log_likelihood(
        self, frequency: FloatArray, recency: FloatArray, T: FloatArray
    ) -> FloatArray: ...
    def conditional_expected_number_of_purchases_up_to_time(
        self, t: FloatArray, frequency: FloatArray, recency: FloatArray, T: FloatArray
    ) -> FloatArray: ...
    def conditional_probability_alive(
        self, frequency: FloatArray, recency: FloatArray, T: FloatArray
    ) -> FloatArray: ...
    def expected_number_of_purchases_up_to_time(self, t: FloatArray) -> FloatArray: ...
    def probability_of_n_purchases_up_to_time(
        self, t: FloatArray, n: FloatArray
    ) -> FloatArray: ...
    def simulate(
        self, T: FloatArray, seed: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Draw customers: returns (frequency, recency, T, lambda, p, alive)."""
    def discounted_expected_residual_transactions(
        self,
        discount_rate: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
    ) -> FloatArray:
        """DERT(delta | x, t_x, T), Fader, Hardie & Lee (2005, JMR)."""
    def conditional_expected_number_of_purchases_up_to_time_interval(
        self,
        t: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(estimate, lower, upper) over parameter draws."""
    def conditional_probability_alive_interval(
        self,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(estimate, lower, upper) over parameter draws."""
    def discounted_expected_residual_transactions_interval(
        self,
        discount_rate: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(estimate, lower, upper) over parameter draws."""

class ModifiedBetaGeoModel:
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007) with parameters (r, alpha, a, b)."""

    PARAM_NAMES: list[str]
    MODEL_NAME: str
    @staticmethod
    def fit(
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        weights: Optional[FloatArray] = None,
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
    def to_json(self) -> str: ...
    @property
    def params(self) -> FloatArray: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def log_likelihood(self) -> Optional[float]: ...
    @property
    def covariance(self) -> Optional[FloatArray]: ...
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
    def log_likelihood_of(
        self,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        weights: Optional[FloatArray] = None,
    ) -> float: ...
    def individual_log_likelihood(
        self, frequency: FloatArray, recency: FloatArray, T: FloatArray
    ) -> FloatArray: ...
    def conditional_expected_number_of_purchases_up_to_time(
        self, t: FloatArray, frequency: FloatArray, recency: FloatArray, T: FloatArray
    ) -> FloatArray: ...
    def conditional_probability_alive(
        self, frequency: FloatArray, recency: FloatArray, T: FloatArray
    ) -> FloatArray: ...
    def expected_number_of_purchases_up_to_time(self, t: FloatArray) -> FloatArray: ...
    def probability_of_n_purchases_up_to_time(
        self, t: FloatArray, n: FloatArray
    ) -> FloatArray: ...
    def simulate(
        self, T: FloatArray, seed: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Draw customers: returns (frequency, recency, T, lambda, p, alive)."""
    def discounted_expected_residual_transactions(
        self,
        discount_rate: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
    ) -> FloatArray:
        """DERT(delta | x, t_x, T), Fader, Hardie & Lee (2005, JMR)."""
    def conditional_expected_number_of_purchases_up_to_time_interval(
        self,
        t: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(estimate, lower, upper) over parameter draws."""
    def conditional_probability_alive_interval(
        self,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(estimate, lower, upper) over parameter draws."""
    def discounted_expected_residual_transactions_interval(
        self,
        discount_rate: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(estimate, lower, upper) over parameter draws."""

class ParetoNBDModel:
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987) with parameters (r, alpha, s, beta)."""

    PARAM_NAMES: list[str]
    MODEL_NAME: str
    @staticmethod
    def fit(
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        weights: Optional[FloatArray] = None,
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
    def to_json(self) -> str: ...
    @property
    def params(self) -> FloatArray: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def log_likelihood(self) -> Optional[float]: ...
    @property
    def covariance(self) -> Optional[FloatArray]: ...
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
    def log_likelihood_of(
        self,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        weights: Optional[FloatArray] = None,
    ) -> float: ...
    def individual_log_likelihood(
        self, frequency: FloatArray, recency: FloatArray, T: FloatArray
    ) -> FloatArray: ...
    def conditional_expected_number_of_purchases_up_to_time(
        self, t: FloatArray, frequency: FloatArray, recency: FloatArray, T: FloatArray
    ) -> FloatArray: ...
    def conditional_probability_alive(
        self, frequency: FloatArray, recency: FloatArray, T: FloatArray
    ) -> FloatArray: ...
    def expected_number_of_purchases_up_to_time(self, t: FloatArray) -> FloatArray: ...
    def probability_of_n_purchases_up_to_time(
        self, t: FloatArray, n: FloatArray
    ) -> FloatArray: ...
    def simulate(
        self, T: FloatArray, seed: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Draw customers: returns (frequency, recency, T, lambda, p, alive)."""
    def discounted_expected_residual_transactions(
        self,
        discount_rate: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
    ) -> FloatArray:
        """DERT(delta | x, t_x, T), Fader, Hardie & Lee (2005, JMR)."""
    def conditional_expected_number_of_purchases_up_to_time_interval(
        self,
        t: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(estimate, lower, upper) over parameter draws."""
    def conditional_probability_alive_interval(
        self,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(estimate, lower, upper) over parameter draws."""
    def discounted_expected_residual_transactions_interval(
        self,
        discount_rate: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        T: FloatArray,
        level: float = 0.95,
        n_draws: int = 200,
        seed: int = 0,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(estimate, lower, upper) over parameter draws."""

class BetaGeoBetaBinomModel:
    """BG/BB (Fader, Hardie & Shang 2010) with parameters (alpha, beta, gamma, delta)."""

    PARAM_NAMES: list[str]
    MODEL_NAME: str
    @staticmethod
    def fit(
        frequency: FloatArray,
        recency: FloatArray,
        n_periods: FloatArray,
        weights: Optional[FloatArray] = None,
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
    def to_json(self) -> str: ...
    @property
    def params(self) -> FloatArray: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def log_likelihood(self) -> Optional[float]: ...
    @property
    def covariance(self) -> Optional[FloatArray]: ...
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
    def individual_log_likelihood(
        self, frequency: FloatArray, recency: FloatArray, n_periods: FloatArray
    ) -> FloatArray: ...
    def conditional_probability_alive(
        self,
        m_periods_in_future: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        n_periods: FloatArray,
    ) -> FloatArray:
        """P(alive at opportunity n + m | x, t_x, n), FHS (2010) eq. (11) for m = 1."""
    def conditional_expected_number_of_purchases_up_to_time(
        self,
        m_periods_in_future: FloatArray,
        frequency: FloatArray,
        recency: FloatArray,
        n_periods: FloatArray,
    ) -> FloatArray:
        """E[transactions in opportunities n+1..n+m | x, t_x, n], FHS (2010) eq. (13)."""
    def expected_number_of_transactions(self, n_periods: FloatArray) -> FloatArray:
        """E[X(n)] for a new customer, FHS (2010) eq. (8)."""
    def probability_of_n_transactions(self, x: FloatArray, n_periods: FloatArray) -> FloatArray:
        """P(X(n) = x) for a new customer, FHS (2010) eq. (7)."""
    def simulate(
        self, n_periods: FloatArray, seed: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Draw customers: returns (frequency, recency, n_periods, p, theta, alive)."""

class GammaGammaModel:
    """Gamma-Gamma spend model (Fader & Hardie 2013; Colombo & Jiang 1999) with parameters (p, q, v)."""

    PARAM_NAMES: list[str]
    MODEL_NAME: str
    @staticmethod
    def fit(
        frequency: FloatArray,
        monetary_value: FloatArray,
        weights: Optional[FloatArray] = None,
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
    def to_json(self) -> str: ...
    @property
    def params(self) -> FloatArray: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def log_likelihood(self) -> Optional[float]: ...
    @property
    def covariance(self) -> Optional[FloatArray]: ...
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
    def individual_log_likelihood(
        self, frequency: FloatArray, monetary_value: FloatArray
    ) -> FloatArray:
        """ln f(m_x | x) of each customer, Fader & Hardie (2013) eq. (1a)."""
    def conditional_expected_average_profit(
        self, frequency: FloatArray, monetary_value: FloatArray
    ) -> FloatArray:
        """E[M | x, m_x], Fader & Hardie (2013) eq. (5)."""
    def expected_average_profit(self) -> float:
        """E[M] = p v / (q - 1), Fader & Hardie (2013) eq. (4)."""
    def simulate_spend(self, frequency: FloatArray, seed: int) -> FloatArray:
        """Mean spend of customers with the given numbers of repeat transactions."""

def customer_lifetime_value(
    transaction_model: BetaGeoModel | ModifiedBetaGeoModel | ParetoNBDModel,
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,
    monetary_value: FloatArray,
    time: float = 12.0,
    discount_rate: float = 0.01,
    freq: str = "D",
) -> FloatArray:
    """Discounted expected spend over `time` months, as lifetimes' `_customer_lifetime_value`."""

def customer_lifetime_value_continuous(
    transaction_model: BetaGeoModel | ModifiedBetaGeoModel | ParetoNBDModel,
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,
    monetary_value: FloatArray,
    discount_rate: float,
) -> FloatArray:
    """Value of the whole remaining lifetime at the continuous rate per time unit: m x DERT."""

def customer_lifetime_value_interval(
    transaction_model: BetaGeoModel | ModifiedBetaGeoModel | ParetoNBDModel,
    spend_model: GammaGammaModel,
    frequency: FloatArray,
    recency: FloatArray,
    T: FloatArray,
    monetary_value: FloatArray,
    time: Optional[float] = 12.0,
    discount_rate: float = 0.01,
    freq: str = "D",
    discounting: str = "discrete",
    level: float = 0.95,
    n_draws: int = 200,
    seed: int = 0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """CLV (estimate, lower, upper) over independent draws of both models' parameters."""

def spend_frequency_correlation(
    frequency: FloatArray,
    monetary_value: FloatArray,
    weights: Optional[FloatArray] = None,
) -> float:
    """Weighted Pearson correlation of frequency and spend over the repeat customers."""

class ShiftedBetaGeometricModel:
    """sBG (Fader & Hardie 2007) with parameters (alpha, beta)."""

    PARAM_NAMES: list[str]
    MODEL_NAME: str
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
        durations: FloatArray,
        churned: npt.NDArray[np.bool_],
        weights: Optional[FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "ShiftedBetaGeometricModel":
        """Fit to per-customer (duration, churned) records."""
    @staticmethod
    def from_params(params: Sequence[float]) -> "ShiftedBetaGeometricModel": ...
    @staticmethod
    def from_json(text: str) -> "ShiftedBetaGeometricModel": ...
    def to_json(self) -> str: ...
    @property
    def params(self) -> FloatArray: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def log_likelihood(self) -> Optional[float]: ...
    @property
    def covariance(self) -> Optional[FloatArray]: ...
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
    def survival(self, t: FloatArray) -> FloatArray:
        """S(t) = P(T > t) for non-negative integer t."""
    def retention_rate(self, t: FloatArray) -> FloatArray:
        """r(t) = S(t)/S(t-1) for integer t >= 1."""
    def probability_of_churn_at(self, t: FloatArray) -> FloatArray:
        """P(T = t) for integer t >= 1."""
    def expected_lifetime(self) -> float:
        """E[T], inf when the mean does not exist."""
    def discounted_expected_lifetime(self, discount_rate: FloatArray) -> FloatArray:
        """DEL(d), Fader & Hardie (2010)."""
    def discounted_expected_residual_lifetime(
        self, n_renewals: FloatArray, discount_rate: FloatArray
    ) -> FloatArray:
        """DERL(d, n), Fader & Hardie (2010) eq. (6)."""
    def simulate(
        self, n_periods: FloatArray, seed: int
    ) -> tuple[FloatArray, npt.NDArray[np.bool_], FloatArray]:
        """Draw customers: returns (duration, churned, theta)."""

class BetaDiscreteWeibullModel:
    """BdW (Fader, Hardie, Liu, Davin & Steenburgh 2018) with parameters (alpha, beta, c)."""

    PARAM_NAMES: list[str]
    MODEL_NAME: str
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
        durations: FloatArray,
        churned: npt.NDArray[np.bool_],
        weights: Optional[FloatArray] = None,
        penalizer_coef: float = 0.0,
        initial_params: Optional[Sequence[float]] = None,
        tol: float = 1e-8,
        max_iterations: int = 200,
        verbose: bool = False,
    ) -> "BetaDiscreteWeibullModel":
        """Fit to per-customer (duration, churned) records."""
    @staticmethod
    def from_params(params: Sequence[float]) -> "BetaDiscreteWeibullModel": ...
    @staticmethod
    def from_json(text: str) -> "BetaDiscreteWeibullModel": ...
    def to_json(self) -> str: ...
    @property
    def params(self) -> FloatArray: ...
    @property
    def is_fitted(self) -> bool: ...
    @property
    def log_likelihood(self) -> Optional[float]: ...
    @property
    def covariance(self) -> Optional[FloatArray]: ...
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
    def survival(self, t: FloatArray) -> FloatArray:
        """S(t) = P(T > t) for non-negative integer t."""
    def retention_rate(self, t: FloatArray) -> FloatArray:
        """r(t) = S(t)/S(t-1) for integer t >= 1."""
    def probability_of_churn_at(self, t: FloatArray) -> FloatArray:
        """P(T = t) for integer t >= 1."""
    def expected_lifetime(self) -> float:
        """E[T], inf when the mean does not exist."""
    def discounted_expected_lifetime(self, discount_rate: FloatArray) -> FloatArray:
        """DEL(d), Fader & Hardie (2010)."""
    def discounted_expected_residual_lifetime(
        self, n_renewals: FloatArray, discount_rate: FloatArray
    ) -> FloatArray:
        """DERL(d, n), Fader & Hardie (2010) eq. (6)."""
    def simulate(
        self, n_periods: FloatArray, seed: int
    ) -> tuple[FloatArray, npt.NDArray[np.bool_], FloatArray]:
        """Draw customers: returns (duration, churned, theta)."""

# Transaction log -> customer summaries (src/python/summary.rs). Customers are
# int64 codes 0..n-1 (factorised ids), times int64 period ordinals (or any
# integer clock with ``period`` its period length).

def summarize_transactions(
    customers: npt.NDArray[np.int64],
    times: npt.NDArray[np.int64],
    observation_end: int,
    amounts: Optional[FloatArray] = None,
    period: int = 1,
    freq_multiplier: float = 1.0,
    include_first_transaction: bool = False,
) -> tuple[
    npt.NDArray[np.uintp], FloatArray, FloatArray, FloatArray, Optional[FloatArray]
]:
    """Per-customer (customer code, frequency, recency, T, monetary value or None)."""

def calibration_and_holdout(
    customers: npt.NDArray[np.int64],
    times: npt.NDArray[np.int64],
    calibration_end: int,
    observation_end: int,
    holdout: Optional[npt.NDArray[np.bool_]] = None,
    amounts: Optional[FloatArray] = None,
    period: int = 1,
    freq_multiplier: float = 1.0,
    include_first_transaction: bool = False,
) -> tuple[
    tuple[npt.NDArray[np.uintp], FloatArray, FloatArray, FloatArray, Optional[FloatArray]],
    FloatArray,
    Optional[FloatArray],
    float,
]:
    """((customer, frequency_cal, recency_cal, T_cal, monetary_value_cal or None),
    frequency_holdout, monetary_value_holdout or None, duration_holdout)."""
