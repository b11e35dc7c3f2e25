"""Politeness towards the API: requests in flight at once, and requests per second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ._clock import Clock

__all__ = ["RequestLimiter"]


class RequestLimiter:
    """At most ``max_in_flight`` requests at once and ``rate`` request starts per second.

    Starts are spaced ``1/rate`` apart by reservation: each caller books the next free start
    time in the order it arrived, so polls are served in the order they fell due and no task
    starves, and the spacing never lets a whole second hold more than ``rate`` + 1 starts.
    """

    def __init__(self, *, max_in_flight: int, rate: float, clock: Clock) -> None:
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._spacing = 1.0 / rate
        self._clock = clock
        self._next_start = float("-inf")

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._in_flight:
            now = self._clock.now()
            start = max(now, self._next_start)
            self._next_start = start + self._spacing
            if start > now:
                await self._clock.sleep(start - now)
            yield
