"""No Rust panic reaches Python as ``PanicException``.

pyo3's ``PanicException`` derives from ``BaseException``, so ``except Exception``
misses it and a server or notebook loop dies. Every long call goes through one
helper in the bindings, which turns a panic into a ``RuntimeError`` with the
panic's message; ``_core._panic_for_tests`` plants one.
"""

from __future__ import annotations

import threading

import pytest

from retentionkit import BetaGeoFitter, _core


def test_a_panic_in_the_core_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="internal error in retentionkit: planted panic"):
        _core._panic_for_tests()


def test_a_panic_in_a_parallel_loop_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match=r"planted panic at row 700 \(at src/python/errors\.rs"):
        _core._panic_for_tests(in_parallel=True)


def test_except_exception_catches_it() -> None:
    try:
        _core._panic_for_tests()
    except Exception as error:
        assert type(error) is RuntimeError
    else:
        pytest.fail("no exception")


def test_off_the_main_thread_too() -> None:
    caught: list[BaseException] = []

    def run() -> None:
        try:
            _core._panic_for_tests(in_parallel=True)
        except BaseException as error:
            caught.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert len(caught) == 1 and type(caught[0]) is RuntimeError, caught


def test_the_core_still_works_after_a_panic() -> None:
    for _ in range(3):
        with pytest.raises(RuntimeError):
            _core._panic_for_tests(in_parallel=True)
    fitter = BetaGeoFitter()
    fitter.params_ = [0.243, 4.414, 0.793, 2.426]
    p_alive = fitter.conditional_probability_alive([2.0] * 10_000, 30.43, 38.86)
    assert ((p_alive > 0) & (p_alive < 1)).all()
