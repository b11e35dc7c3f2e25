"""Politeness towards the API: requests in flight at once, and requests per second.

The cloud limits each account's request rate. One :class:`RequestLimiter` serves every task of
a Waiter, so the configured rate holds for the whole run, however many tasks there are.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .._event_log import EventLog, library_log
from ._clock import Clock

__all__ = ["RequestLimiter"]

# After a 429 the rate halves at most once per this many seconds: the answers to requests that
# were already in flight when the first 429 came say nothing new.
_DECREASE_COOLDOWN = 1.0
# Seconds without a 429 before the rate climbs again, by this share of the configured rate.
_QUIET_SPELL = 5.0
_INCREASE_SHARE = 0.1
# Never slower than this, so a run always makes progress towards its deadline.
_MIN_RATE = 0.2


class RequestLimiter:
    """At most ``max_in_flight`` requests at once and ``rate`` request starts per second.

    Starts are spaced ``1/rate`` apart by reservation: each caller books the next free start
    time in the order it arrived, so polls are served in the order they fell due and no task
    starves, and no whole second holds more than ``rate`` + 1 starts.

    On throttling (429) the rate halves; after a quiet spell it climbs back by a tenth of the
    configured rate at a time, never above it (additive increase, multiplicative decrease).
    """

    def __init__(
        self,
        *,
        max_in_flight: int,
        rate: float,
        clock: Clock,
        logger: EventLog | None = None,
    ) -> None:
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._clock = clock
        self._log = logger or library_log()
        self.configured_rate = rate
        self.rate = rate
        self._next_start = float("-inf")
        self._last_change = float("-inf")

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._in_flight:
            now = self._clock.now()
            self._maybe_recover(now)
            start = max(now, self._next_start)
            self._next_start = start + 1.0 / self.rate
            if start > now:
                await self._clock.sleep(start - now)
            yield

    def throttled(self, sent_at: float) -> None:
        """The API answered 429 to a request sent at ``sent_at``: halve the rate.

        Only a request sent at the current rate is evidence against it, and a burst of 429s
        counts once.
        """
        now = self._clock.now()
        if sent_at <= self._last_change or now - self._last_change < _DECREASE_COOLDOWN:
            return
        if self.rate > _MIN_RATE:
            self._change(max(self.rate / 2, _MIN_RATE), now, "throttled by the API (429)")

    def _maybe_recover(self, now: float) -> None:
        if self.rate < self.configured_rate and now - self._last_change >= _QUIET_SPELL:
            step = self.configured_rate * _INCREASE_SHARE
            self._change(min(self.rate + step, self.configured_rate), now, "quiet spell")

    def _change(self, rate: float, now: float, reason: str) -> None:
        self._log.info(
            "rate_changed",
            rate=round(rate, 3),
            previous=round(self.rate, 3),
            configured=self.configured_rate,
            reason=reason,
        )
        self.rate = rate
        self._last_change = now
