"""Work that stays bounded (issue 12): Ctrl-C stops long core calls, and inputs
whose cost would be unbounded answer quickly or fail with a clear error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from retentionkit import BetaGeoBetaBinomFitter, InvalidDataError

needs_signals = pytest.mark.skipif(
    not hasattr(signal, "SIGINT") or os.name == "nt",
    reason="sending SIGINT to a subprocess needs POSIX signals",
)

# The script announces itself, then makes one core call that runs for minutes
# (a BG/BB fit over 20,000 distinct histories of 100,000 opportunities, about
# 10⁹ terms per likelihood evaluation, or P(alive) of 200,000 such histories).
SCRIPT = """
import sys
import numpy as np
from retentionkit import BetaGeoBetaBinomFitter

rng = np.random.default_rng(1)
m = 20_000 if sys.argv[1] == "fit" else 200_000
tx = rng.integers(1, 1000 if sys.argv[1] == "fit" else 90_000, size=m).astype(float)
x = np.minimum(tx, rng.integers(1, 4, size=m)).astype(float)
n = np.full(m, 100_000.0)
fitter = BetaGeoBetaBinomFitter()
if sys.argv[1] == "prediction":
    fitter.params_ = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
print("started", flush=True)
try:
    if sys.argv[1] == "fit":
        fitter.fit(x, tx, n)
    else:
        fitter.conditional_probability_alive(1, x, tx, n)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(3)
print("finished", flush=True)
"""


@needs_signals
@pytest.mark.parametrize("call", ["fit", "prediction"])
def test_ctrl_c_interrupts_a_long_core_call(call: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), call],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "started"
        time.sleep(1.5)  # well inside the call, which runs for minutes
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
        waited = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "KeyboardInterrupt" in out, (out, err)
    assert process.returncode == 3
    assert waited < 5.0, waited


def test_bgbb_with_a_billion_opportunities_fails_clearly_and_quickly() -> None:
    start = time.monotonic()
    with pytest.raises(InvalidDataError) as info:
        BetaGeoBetaBinomFitter().fit([0, 1, 2, 3, 6], [0, 1, 4, 5, 6], [1e9] * 5)
    assert time.monotonic() - start < 2.0
    err = info.value
    assert err.column == "n_periods"
    assert err.row == 0
    assert "at most 100000" in str(err)


def test_bgbb_at_the_bound_fits_in_seconds() -> None:
    start = time.monotonic()
    fitter = BetaGeoBetaBinomFitter().fit(
        [0, 1, 2, 3, 6, 40], [0, 1, 4, 5, 6, 90_000], [100_000] * 6
    )
    assert time.monotonic() - start < 20.0
    assert np.isfinite(fitter.log_likelihood_)
