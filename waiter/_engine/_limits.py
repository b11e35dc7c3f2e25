"""Politeness towards the API: requests in flight at once, and requests per second.

The cloud limits each account's request rate. One :class:`RequestLimiter` serves every task of
a Waiter, so the configured rate holds for the whole run, however many tasks there are.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

from .._event_log import EventLog, library_log
from ._clock import Clock

__all__ = ["RequestLimiter", "Slot"]

# After a 429 the rate halves at most once per this many seconds: the answers to requests that
# were already in flight when the first 429 came say nothing new.
_DECREASE_COOLDOWN = 1.0
# Seconds without a 429 before the rate climbs again, by this share of the configured rate.
_QUIET_SPELL = 5.0
_INCREASE_SHARE = 0.1
# Never slower than this, so a run always makes progress towards its deadline.
_MIN_RATE = 0.2
# A start booked less than this far ahead goes at once. uvloop's clock counts whole
# milliseconds: a shorter wait would last a loop iteration, not what it asks for, and with a
# high rate every poll after the first of a millisecond would wait one. Starts stay booked
# 1/rate apart, so no second holds more than rate * (1 + this) + 1 of them.
_NOT_WORTH_WAITING = 1e-3


class RequestLimiter:
    """At most ``max_in_flight`` requests at once and ``rate`` request starts per second.

    Starts are spaced ``1/rate`` apart by reservation: each caller books the next free start
    time in the order it arrived, so polls are served in the order they fell due and no task
    starves, and no whole second holds more than ``rate`` + 1 starts (a thousandth more: a
    start less than a millisecond away goes at once, see ``_NOT_WORTH_WAITING``).

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
        # Places in flight: free ones, and callers waiting for one, first come first served.
        # Counted here rather than with asyncio.Semaphore: a free place is taken without a
        # coroutine of its own, on every poll.
        self._free = max_in_flight
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._clock = clock
        self._log = logger or library_log()
        self.configured_rate = rate
        self.rate = rate
        self._next_start = float("-inf")
        self._last_change = float("-inf")

    def slot(self) -> Slot:
        """``async with limiter.slot() as sent_at:``: :meth:`acquire`, and :meth:`release`
        on the way out."""
        return Slot(self)

    def take(self, now: float) -> float | None:
        """A slot at once, if a place is free and the rate lets a request start at ``now``
        (the clock's time): ``now``, which :meth:`release` gives back; else None, and
        :meth:`acquire` waits for one. The same slot acquire() would give, without a
        coroutine: most polls find one free."""
        if (
            self._free
            and not self._waiting
            and self._next_start - now < _NOT_WORTH_WAITING
            and self.rate >= self.configured_rate  # else acquire() looks for a quiet spell
        ):
            self._free -= 1
            start = self._next_start  # booked as _book() books it, without the call
            self._next_start = (start if start > now else now) + 1.0 / self.rate
            return now
        return None

    async def acquire(self, now: float | None = None) -> float:
        """Wait for a place in flight and for the next start the rate allows; the clock's
        time when it came, which is when the request may go. :meth:`release` gives it back.
        ``now``: the clock's time if the caller has just read it.

        A method pair rather than only a context manager: each poll takes a slot, and an
        ``asynccontextmanager`` costs an async generator, registered with the loop, a poll.
        """
        clock = self._clock
        if self._free and not self._waiting:
            self._free -= 1
        else:
            await self._wait_for_place()
            now = None  # time went by
        try:
            if now is None:
                now = clock.now()
            if self.rate < self.configured_rate:
                self._maybe_recover(now)
            wait = self._book(now)
            if not wait:
                return now
            await clock.sleep(wait)
            return clock.now()
        except BaseException:
            # Cancelled (the deadline, a stop) while waiting for its start: the place goes
            # back; the start it booked stays spent, which errs on the side of the rate.
            self.release()
            raise

    def _book(self, now: float) -> float:
        """Book the next start the rate allows; how long until it (0.0: go now)."""
        start = self._next_start
        if start <= now:
            self._next_start = now + 1.0 / self.rate  # an idle spell is not saved up
            return 0.0
        self._next_start = start + 1.0 / self.rate
        wait = start - now
        return wait if wait >= _NOT_WORTH_WAITING else 0.0

    def release(self) -> None:
        """Give a place back: to the first caller still waiting for one, else to the pool."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():  # else cancelled, and its caller on its way out
                waiter.set_result(None)  # handed over: it never goes through _free
                return
        self._free += 1

    async def _wait_for_place(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a place, but cancelled before it could use it
            elif waiter in self._waiting:
                # Not handed one: leave the line, so that a free place never waits behind it.
                self._waiting.remove(waiter)
            raise

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
        if now - self._last_change >= _QUIET_SPELL:
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


class Slot:
    """One request's slot, as an async context manager: the time it came, then released."""

    __slots__ = ("_limiter",)

    def __init__(self, limiter: RequestLimiter) -> None:
        self._limiter = limiter

    async def __aenter__(self) -> float:
        return await self._limiter.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._limiter.release()
