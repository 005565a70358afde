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
