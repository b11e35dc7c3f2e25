"""pytest fixtures for code that uses waiter, registered under the ``pytest11`` entry point.

Opt-in: nothing happens unless a test asks for a fixture by name, and importing this module
loads neither aiohttp nor waiter's HTTP stack, so the plugin costs other test suites nothing.

``fake_kps``
    The simulated KPS on a background thread with its own event loop, as a
    :class:`waiter.testing.FakeKpsServer`: ``url``, ``project_id``, ``token``, ``add_task()``,
    ``requests`` and ``settings()``. Synchronous, so it serves sync tests and tests on any
    async framework alike. It demands a fresh token per test, which ``settings()`` carries.

``waiter_testing``
    Instant waits (:func:`waiter.testing.set_testing`) for one test, switched back afterwards.

Added in 0.1.0.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

# The package's lazy face: its names (and aiohttp with them) load when a fixture first runs.
from .. import testing

if TYPE_CHECKING:
    from ._server import FakeKpsServer

__all__ = ["fake_kps", "waiter_testing"]


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
