"""Simulated customers for the benchmarks (numpy only), one function per model.

Every function is vectorised over customers and returns float64 arrays. Time is in
weeks for the (frequency, recency, T) models and in transaction opportunities for
BG/BB.
"""

import numpy as np

# Fader, Hardie & Lee (2005): BG/NBD on the CDNOW sample, weeks.
BGNBD_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# Fader & Hardie's Pareto/NBD estimates for the same CDNOW sample, weeks.
PNBD_PARAMS = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
# Fader, Hardie & Shang (2010): BG/BB on the donations data, per opportunity.
BGBB_PARAMS = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
# Fader, Hardie & Lee (2005, "RFM and CLV"): Gamma-Gamma spend on CDNOW, dollars.
GAMMA_GAMMA_PARAMS = {"p": 6.25, "q": 3.74, "v": 15.44}
T_RANGE = (27.0, 39.0)


def bgnbd(n, seed, r, alpha, a, b, t_range=T_RANGE, dropout_at_zero=False):
    """Draw ``n`` BG/NBD customers (MBG/NBD with ``dropout_at_zero``): (frequency, recency, T).

    lambda ~ Gamma(shape r, rate alpha), p ~ Beta(a, b), T ~ Uniform(t_range). Repeat
    purchases follow a Poisson process with rate lambda; after each repeat purchase the
    customer becomes inactive with probability p. In the MBG/NBD of Batislam, Denizel &
    Filiztekin (2007) the customer can also drop out at time 0, with probability p.

    The loop runs over the purchase index, on the shrinking set of customers who are
    still alive and inside their window.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    T = rng.uniform(*t_range, size=n)
    frequency = np.zeros(n)
    recency = np.zeros(n)

    active = np.arange(n)  # alive and last purchase inside (0, T]
    if dropout_at_zero:
        active = active[rng.random(n) >= p]
    clock = np.zeros(n)
    while active.size:
        clock[active] += rng.exponential(size=active.size) / lam[active]
        inside = clock[active] <= T[active]
        active = active[inside]
        frequency[active] += 1.0
        recency[active] = clock[active]
        survives = rng.random(active.size) >= p[active]
        active = active[survives]
    return frequency, recency, T


def mbgnbd(n, seed, r, alpha, a, b, t_range=T_RANGE):
    """MBG/NBD customers: BG/NBD with drop-out possible at time 0."""
    return bgnbd(n, seed, r, alpha, a, b, t_range, dropout_at_zero=True)


def pnbd(n, seed, r, alpha, s, beta, t_range=T_RANGE):
    """Draw ``n`` Pareto/NBD customers: (frequency, recency, T).

    lambda ~ Gamma(shape r, rate alpha), mu ~ Gamma(shape s, rate beta), lifetime
    tau ~ Exp(mu). Purchases follow a Poisson process with rate lambda on
    (0, min(tau, T)], so x ~ Poisson(lambda * min(tau, T)) and, given x, the purchase
    times are uniform on that interval: the last one is min(tau, T) * U ** (1 / x).
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    mu = rng.gamma(shape=s, scale=1.0 / beta, size=n)
    T = rng.uniform(*t_range, size=n)
    observed = np.minimum(rng.exponential(size=n) / mu, T)
    frequency = rng.poisson(lam * observed).astype(np.float64)
    u = rng.random(n)
    with np.errstate(divide="ignore"):
        recency = np.where(frequency > 0, observed * u ** (1.0 / frequency), 0.0)
    return frequency, recency, T


def bgbb(n, seed, alpha, beta, gamma, delta, n_periods=6):
    """Draw ``n`` BG/BB customers over ``n_periods`` opportunities: (frequency, recency, n).

    p ~ Beta(alpha, beta), theta ~ Beta(gamma, delta) (Fader, Hardie & Shang 2010). At
    the start of each opportunity a live customer drops out with probability theta; if
    still alive, they transact with probability p. recency is the last opportunity with
    a transaction (0 if none).
    """
    rng = np.random.default_rng(seed)
    p = rng.beta(alpha, beta, size=n)
    theta = rng.beta(gamma, delta, size=n)
    frequency = np.zeros(n)
    recency = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    for t in range(1, n_periods + 1):
        alive &= rng.random(n) >= theta
        buys = alive & (rng.random(n) < p)
        frequency += buys
        recency[buys] = t
    return frequency, recency, np.full(n, float(n_periods))


def gamma_gamma_spend(frequency, seed, p, q, v):
    """Mean spend per repeat purchase given frequency (0 where frequency is 0).

    nu ~ Gamma(shape q, rate v); each transaction ~ Gamma(shape p, rate nu), so the mean
    of x transactions is Gamma(shape p * x, rate nu * x) (Fader, Hardie & Lee 2005b).
    """
    rng = np.random.default_rng(seed)
    nu = rng.gamma(shape=q, scale=1.0 / v, size=frequency.size)
    x = np.maximum(frequency, 1.0)
    spend = rng.gamma(shape=p * x, scale=1.0 / (nu * x))
    return np.where(frequency > 0, spend, 0.0)


def to_daily(recency, T):
    """Round recency and T (weeks) to whole days, keeping recency <= T."""
    T_daily = np.round(T * 7.0) / 7.0
    recency_daily = np.minimum(np.round(recency * 7.0) / 7.0, T_daily)
    return recency_daily, T_daily


def count_unique_rows(*columns):
    """Number of distinct rows of the given equal-length columns."""
    order = np.lexsort(columns[::-1])
    new = np.zeros(order.size, dtype=bool)
    new[:1] = True
    for column in columns:
        c = column[order]
        new[1:] |= c[1:] != c[:-1]
    return int(new.sum())
