"""pytest plugin: ``pytest --ffikit-leaks`` fails any test that leaks native memory.

Registered through the ``pytest11`` entry point, so installing ffikit is
enough.  The ``ffikit_tracker`` fixture gives a test its own tracker.
"""

from __future__ import annotations

import faulthandler
import gc
import sys
import traceback

import pytest

from ffikit.errors import LeakError
from ffikit.memory.tracking import track


def pytest_configure(config) -> None:
    """A C crash in a test names the call (``import ffikit`` itself leaves faulthandler alone;
    this is ``ffikit.enable_faulthandler()``, which this layer cannot import)."""
    from ffikit.backends.compiled import report_crashes

    if not faulthandler.is_enabled() and sys.stderr is not None:
        try:
            faulthandler.enable()
        except (AttributeError, ValueError, OSError):  # stderr without a file descriptor
            return
    report_crashes()  # the compiled backend names the C function a fatal signal hit


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
        # The test's own lines first (where each leak was allocated), then the summary;
        # none of this plugin's frames.
        stacks = "\n".join(
            f"leaked allocation {i} of {len(leaks)} ({leak.size} bytes), allocated at:\n"
            + _from_the_test(leak.stack, str(item.path))
            for i, leak in enumerate(leaks, 1))
        error = LeakError(f"{item.nodeid} leaked {len(leaks)} ffikit allocation(s)",
                          tracker.report())
        pytest.fail(f"{stacks}\n{type(error).__module__}.{type(error).__name__}: {error}",
                    pytrace=False)
    return result


def _from_the_test(stack, test_file: str) -> str:
    """The allocation's traceback from the test function inward (pytest's frames dropped)."""
    frames = list(stack)
    start = next((i for i, f in enumerate(frames) if f.filename == test_file), 0)
    return "".join(traceback.StackSummary.from_list(frames[start:]).format()).rstrip()


@pytest.fixture
def ffikit_tracker():
    """A tracker active for the test's duration: assert on ``leaks()`` or ``report()``."""
    with track() as tracker:
        yield tracker
