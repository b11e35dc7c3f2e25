"""The testing switch: instant waits for every Waiter made without a clock of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from .._engine._clock import InstantClock, default_clock, set_default_clock

__all__ = ["is_testing", "set_testing", "testing", "timeline_now"]

# One virtual clock for the whole process, never replaced: the fake servers add the time it has
# skipped to their own, and a replaced clock would make their time run backwards.
_TESTING_CLOCK = InstantClock()


def set_testing(enabled: bool = True) -> None:
    """Turn instant waits on or off, for the whole process.

    On: every :class:`waiter.Waiter` (and :func:`waiter.wait_for`) created from now on without
    an explicit ``clock`` uses one shared virtual clock that jumps over waits instead of
    sleeping. Off: they use the event loop's clock again. Waiters already made keep their clock.

    Added in 0.1.0.
    """
    set_default_clock(_TESTING_CLOCK if enabled else None)


def is_testing() -> bool:
    """Whether instant waits are on (see :func:`set_testing`).

    Added in 0.1.0.
    """
    return default_clock() is _TESTING_CLOCK


@contextmanager
def testing(enabled: bool = True) -> Iterator[None]:  # noqa: PT028 - not a test
    """:func:`set_testing` for a ``with`` block; the previous state comes back afterwards.

    Added in 0.1.0.
    """
    was = is_testing()
    set_testing(enabled)
    try:
        yield
    finally:
        set_testing(was)


# Its name starts with "test": without this, pytest would collect it from any test module that
# imports it, and call it as a test.
testing.__test__ = False  # type: ignore[attr-defined]


def timeline_now() -> float:
    """The fake servers' time: the loop's, plus whatever the testing clock has jumped over."""
    return asyncio.get_running_loop().time() + _TESTING_CLOCK.now()
