"""pytest plugin: ``pytest --ffikit-leaks`` fails any test that leaks native memory.

Registered through the ``pytest11`` entry point, so installing ffikit is
enough.  The ``ffikit_tracker`` fixture gives a test its own tracker.
"""

from __future__ import annotations

import gc

import pytest

from ffikit.errors import LeakError
from ffikit.memory.tracking import track


def pytest_addoption(parser) -> None:
    group = parser.getgroup("ffikit")
    group.addoption("--ffikit-leaks", action="store_true", default=False,
                    help="fail tests whose ffikit allocations are still alive when they end")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if not item.config.getoption("ffikit_leaks", False):
        return (yield)
    with track() as tracker:
        result = yield
        gc.collect()
    leaks = tracker.leaks()
    if leaks:
        raise LeakError(f"{item.nodeid} leaked {len(leaks)} ffikit allocation(s)",
                        tracker.report())
    return result


@pytest.fixture
def ffikit_tracker():
    """A tracker active for the test's duration: assert on ``leaks()`` or ``report()``."""
    with track() as tracker:
        yield tracker
