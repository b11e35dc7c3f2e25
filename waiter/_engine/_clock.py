"""Time as the engine sees it: injectable, so tests can assert exact waits.

``waiter.testing.set_testing(True)`` swaps the default for :class:`InstantClock`, so waits in
users' own test suites take no time while deadlines and timelines still move on.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

__all__ = ["Clock", "InstantClock", "LoopClock", "default_clock", "set_default_clock"]


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The running event loop's clock: what asyncio's own timers use."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class InstantClock:
    """Virtual time that jumps instead of sleeping.

    A sleep moves the clock to where that sleep would have ended (never backwards), then
    yields once. Concurrent sleepers therefore advance time to the latest of their ends, not to
    the sum, which keeps deadlines roughly honest when many tasks wait at once.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        wakes_at = self._now + seconds
        await asyncio.sleep(0)  # let the other sleepers of this moment start from the same time
        self._now = max(self._now, wakes_at)


_default: Clock | None = None


def default_clock() -> Clock:
    """The clock a Waiter uses when none is given."""
    return _default or LoopClock()


def set_default_clock(clock: Clock | None) -> None:
    global _default  # noqa: PLW0603 - one process-wide switch, like stamina's set_testing
    _default = clock
