"""pytest fixtures for code that uses waiter, registered under the ``pytest11`` entry point.

Opt-in: nothing happens unless a test asks for a fixture by name or carries the marker, and
importing this module loads neither aiohttp nor waiter's HTTP stack, so the plugin costs other
test suites nothing.

``fake_kps``
    The simulated KPS on a background thread with its own event loop, as a
    :class:`waiter.testing.FakeKpsServer`: ``url``, ``project_id``, ``token``, ``add_task()``,
    ``requests`` and ``settings()``. Synchronous, so it serves sync tests and tests on any
    async framework alike. It demands a fresh token per test, which ``settings()`` carries.

``waiter_testing``
    Instant waits (:func:`waiter.testing.set_testing`) for one test, switched back afterwards.

``async def`` tests
    An ``async def`` test that asks for one of these fixtures, or is marked
    ``@pytest.mark.waiter``, runs on a fresh asyncio event loop of its own, closed when it
    ends, unless another plugin (pytest-asyncio, anyio) runs it: the plugin steps aside for
    those. Async fixtures are not run by this plugin; use pytest-asyncio or anyio for them.

Added in 0.1.0.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

# The package's lazy face: its names (and aiohttp with them) load when a fixture first runs.
from .. import testing

if TYPE_CHECKING:
    from ._server import FakeKpsServer

__all__ = ["fake_kps", "pytest_configure", "pytest_pyfunc_call", "waiter_testing"]

MARKER = "waiter"
# An async test asking for one of these is one of ours: it needs a loop, and nobody else gave it.
_OUR_FIXTURES = frozenset({"fake_kps", "waiter_testing"})


@pytest.fixture
def fake_kps() -> Iterator[FakeKpsServer]:
    """A simulated KPS for this test; script tasks with ``fake_kps.add_task(id, timeline)``."""
    with testing.fake_kps_in_thread(token=f"fake-{secrets.token_hex(8)}") as server:
        yield server


@pytest.fixture
def waiter_testing() -> Iterator[None]:
    """Waits take no real time during this test (see :func:`waiter.testing.set_testing`)."""
    with testing.testing():
        yield


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: run this async def test on a fresh asyncio event loop (waiter's plugin)",
    )


# Why run async tests here rather than depend on pytest-asyncio: the example in waiter's README
# must pass with nothing but pytest installed, and pytest-asyncio's modes and loop scopes have
# changed from release to release, so pinning it would fight the version a user's project has.
# A plain hook (neither tryfirst nor trylast) runs after the async plugins that claim a test in
# this hook with tryfirst (anyio) and before pytest's own, trylast, which fails every async def
# test; pytest-asyncio hands pytest a synchronous wrapper instead, which is no coroutine
# function, so either way a test another plugin runs is left to it.
@pytest.hookimpl
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test) or not _is_ours(pyfuncitem):
        return None
    # What pytest's own hook passes: the arguments the test function names (a private field,
    # read by pytest itself and by anyio's plugin alike).
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    # A fresh loop per test, closed with its tasks, async generators and executor at the end:
    # nothing one test leaves running can reach the next.
    with asyncio.Runner() as runner:
        runner.run(test(**arguments))
    return True


def _is_ours(item: pytest.Function) -> bool:
    return item.get_closest_marker(MARKER) is not None or not _OUR_FIXTURES.isdisjoint(
        item.fixturenames
    )
